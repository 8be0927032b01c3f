-- +goose Up
-- An item published from a suggestion: the organisation it came from,
-- named above its text in each recipient's language. NULL for an
-- organisation's own news.
ALTER TABLE broadcasts ADD COLUMN from_org_id BIGINT REFERENCES orgs (id);

-- +goose Down
ALTER TABLE broadcasts DROP COLUMN from_org_id;
