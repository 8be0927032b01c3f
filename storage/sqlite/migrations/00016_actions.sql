-- +goose Up
-- A news item may carry an action its recipients join: a meeting at a
-- place, an online action or a signature at a link, at a time.
ALTER TABLE broadcasts ADD COLUMN action_kind TEXT CHECK (action_kind IN ('meeting', 'online', 'signature'));
ALTER TABLE broadcasts ADD COLUMN action_title TEXT;
ALTER TABLE broadcasts ADD COLUMN action_at TEXT;
ALTER TABLE broadcasts ADD COLUMN action_place TEXT;
CREATE INDEX broadcasts_action_at_idx ON broadcasts (action_at) WHERE action_at IS NOT NULL;

-- One answer per person and action; a notice column is set when the
-- notice is claimed, so that two replicas never both send it.
CREATE TABLE action_answers (
    id               INTEGER PRIMARY KEY,
    broadcast_id     INTEGER NOT NULL REFERENCES broadcasts (id),
    -- NULL once the person is forgotten; the answer stays for the counts.
    person_id        INTEGER REFERENCES people (id),
    org_id           INTEGER NOT NULL REFERENCES orgs (id),
    answer           TEXT NOT NULL CHECK (answer IN ('yes', 'no', 'signed')),
    answered_at      TEXT NOT NULL,
    attended         INTEGER CHECK (attended IN (0, 1)),
    day_notice_at    TEXT,
    hour_notice_at   TEXT,
    followup_at      TEXT,
    UNIQUE (broadcast_id, person_id)
) STRICT;
CREATE INDEX action_answers_person_id_idx ON action_answers (person_id);
CREATE INDEX action_answers_org_id_idx ON action_answers (org_id);

-- +goose Down
DROP TABLE action_answers;
DROP INDEX broadcasts_action_at_idx;
ALTER TABLE broadcasts DROP COLUMN action_place;
ALTER TABLE broadcasts DROP COLUMN action_at;
ALTER TABLE broadcasts DROP COLUMN action_title;
ALTER TABLE broadcasts DROP COLUMN action_kind;
