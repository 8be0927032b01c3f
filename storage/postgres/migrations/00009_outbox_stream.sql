-- +goose Up
-- Outbox builds take a chunk of people (a range of person ids) from each
-- organisation of the scope: by this index, whatever the planner knows.
CREATE INDEX memberships_org_id_status_person_id_idx ON memberships (org_id, status, person_id);
DROP INDEX memberships_org_id_status_idx;

-- A broadcast whose outbox could not be built has failed. While its outbox
-- is being built, build_owner holds it until build_until (renewed as it
-- goes); the people up to build_cursor are in, and nobody above build_mark.
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_status_check,
    ADD CONSTRAINT broadcasts_status_check CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled', 'failed')),
    ADD COLUMN build_owner TEXT NOT NULL DEFAULT '',
    ADD COLUMN build_until TIMESTAMPTZ,
    ADD COLUMN build_cursor BIGINT,
    ADD COLUMN build_mark BIGINT;

-- +goose Down
UPDATE broadcasts SET status = 'cancelled' WHERE status = 'failed';
ALTER TABLE broadcasts DROP COLUMN build_mark, DROP COLUMN build_cursor, DROP COLUMN build_until, DROP COLUMN build_owner,
    DROP CONSTRAINT broadcasts_status_check,
    ADD CONSTRAINT broadcasts_status_check CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled'));
CREATE INDEX memberships_org_id_status_idx ON memberships (org_id, status);
DROP INDEX memberships_org_id_status_person_id_idx;
