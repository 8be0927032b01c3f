-- +goose Up
-- JSON array of formatting spans over the text; NULL when it is plain.
ALTER TABLE broadcasts ADD COLUMN format TEXT;

-- +goose Down
ALTER TABLE broadcasts DROP COLUMN format;
