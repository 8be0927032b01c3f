-- +goose Up
-- The console's inbox lists a responder's tickets a page at a time, newest
-- first, filtered by status. A small subtree's page is read from this index
-- in each of its orgs, already in order within each status; a large one
-- walks the tickets by number (the primary key) and stops at a page.
CREATE INDEX tickets_inbox_idx ON tickets (org_id, status, id);
-- "Taken by me" reads a responder's tickets by number.
CREATE INDEX tickets_assignee_id_idx ON tickets (assignee_id, id);

-- +goose Down
DROP INDEX tickets_assignee_id_idx;
DROP INDEX tickets_inbox_idx;
