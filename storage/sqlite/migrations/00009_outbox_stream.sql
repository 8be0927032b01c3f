-- +goose Up
-- Outbox builds take a chunk of people (a range of person ids) from each
-- organisation of the scope by this index.
CREATE INDEX memberships_org_id_status_person_id_idx ON memberships (org_id, status, person_id);
DROP INDEX memberships_org_id_status_idx;

-- A broadcast whose outbox could not be built has failed. While its outbox
-- is being built, build_owner holds it until build_until (renewed as it
-- goes); the people up to build_cursor are in, and nobody above build_mark.
-- SQLite cannot change a CHECK constraint: broadcasts is rebuilt, and with
-- it the two tables that reference it, which point at the new table first
-- and follow it when it takes the old name.
CREATE TABLE broadcasts_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL once the author is forgotten.
    author_id           INTEGER REFERENCES people (id),
    org_id              INTEGER NOT NULL REFERENCES orgs (id),
    text                TEXT NOT NULL,
    -- JSON array of attachments; NULL when there are none.
    attachments         TEXT,
    mode                TEXT NOT NULL CHECK (mode IN ('direct', 'relay')),
    -- JSON {"org_ids": [...], "roles": [...], "private": bool, "chats": bool}.
    audience            TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled', 'failed')),
    created_at          TEXT NOT NULL,
    scheduled_at        TEXT,
    started_at          TEXT,
    finished_at         TEXT,
    relay_deadline      TEXT,
    -- The sender's live progress message, if any.
    progress_platform   TEXT,
    progress_chat_id    TEXT,
    progress_message_id TEXT,
    -- JSON array of formatting spans over the text; NULL when it is plain.
    format              TEXT,
    -- An item published from a suggestion: the organisation it came from.
    from_org_id         INTEGER REFERENCES orgs (id),
    build_owner         TEXT NOT NULL DEFAULT '',
    build_until         TEXT,
    build_cursor        INTEGER,
    build_mark          INTEGER
) STRICT;
INSERT INTO broadcasts_new (id, author_id, org_id, text, attachments, mode, audience, status, created_at, scheduled_at,
    started_at, finished_at, relay_deadline, progress_platform, progress_chat_id, progress_message_id, format, from_org_id)
SELECT id, author_id, org_id, text, attachments, mode, audience, status, created_at, scheduled_at,
    started_at, finished_at, relay_deadline, progress_platform, progress_chat_id, progress_message_id, format, from_org_id FROM broadcasts;

CREATE TABLE relay_steps_new (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts_new (id),
    org_id       INTEGER NOT NULL REFERENCES orgs (id),
    received_at  TEXT NOT NULL,
    relayed_at   TEXT,
    -- '' while the org has not acted.
    action       TEXT NOT NULL DEFAULT '' CHECK (action IN ('', 'published', 'noted', 'skipped', 'auto')),
    note         TEXT NOT NULL DEFAULT '',
    reminded_at  TEXT,
    PRIMARY KEY (broadcast_id, org_id)
) STRICT;
INSERT INTO relay_steps_new SELECT broadcast_id, org_id, received_at, relayed_at, action, note, reminded_at FROM relay_steps;

CREATE TABLE suggestions_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL once the author is forgotten.
    author_id    INTEGER REFERENCES people (id),
    from_org_id  INTEGER NOT NULL REFERENCES orgs (id),
    at_org_id    INTEGER NOT NULL REFERENCES orgs (id),
    kind         TEXT NOT NULL CHECK (kind IN ('news', 'call')),
    text         TEXT NOT NULL,
    -- JSON array of attachments; NULL when there are none.
    attachments  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'published', 'declined')),
    solidarity   INTEGER NOT NULL CHECK (solidarity IN (0, 1)),
    reason       TEXT NOT NULL DEFAULT '',
    broadcast_id INTEGER REFERENCES broadcasts_new (id),
    created_at   TEXT NOT NULL,
    decided_at   TEXT
) STRICT;
INSERT INTO suggestions_new SELECT id, author_id, from_org_id, at_org_id, kind, text, attachments, status, solidarity,
    reason, broadcast_id, created_at, decided_at FROM suggestions;

DROP TABLE suggestions;
DROP TABLE relay_steps;
DROP TABLE broadcasts;
ALTER TABLE broadcasts_new RENAME TO broadcasts;
ALTER TABLE relay_steps_new RENAME TO relay_steps;
ALTER TABLE suggestions_new RENAME TO suggestions;
CREATE INDEX broadcasts_org_id_created_at_idx ON broadcasts (org_id, created_at);
CREATE INDEX broadcasts_status_scheduled_at_idx ON broadcasts (status, scheduled_at);
CREATE INDEX broadcasts_author_id_idx ON broadcasts (author_id);
CREATE INDEX relay_steps_action_received_at_idx ON relay_steps (action, received_at);
CREATE INDEX suggestions_at_org_id_status_idx ON suggestions (at_org_id, status, created_at);
CREATE INDEX suggestions_author_id_idx ON suggestions (author_id);

-- +goose Down
UPDATE broadcasts SET status = 'cancelled' WHERE status = 'failed';
ALTER TABLE broadcasts DROP COLUMN build_mark;
ALTER TABLE broadcasts DROP COLUMN build_cursor;
ALTER TABLE broadcasts DROP COLUMN build_until;
ALTER TABLE broadcasts DROP COLUMN build_owner;
CREATE INDEX memberships_org_id_status_idx ON memberships (org_id, status);
DROP INDEX memberships_org_id_status_person_id_idx;
