-- +goose Up
CREATE TABLE broadcasts (
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
    status              TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled')),
    created_at          TEXT NOT NULL,
    scheduled_at        TEXT,
    started_at          TEXT,
    finished_at         TEXT,
    relay_deadline      TEXT,
    -- The sender's live progress message, if any.
    progress_platform   TEXT,
    progress_chat_id    TEXT,
    progress_message_id TEXT
) STRICT;
CREATE INDEX broadcasts_org_id_created_at_idx ON broadcasts (org_id, created_at);
CREATE INDEX broadcasts_status_scheduled_at_idx ON broadcasts (status, scheduled_at);
CREATE INDEX broadcasts_author_id_idx ON broadcasts (author_id);

-- The outbox: one row per recipient per broadcast, written before any send.
-- No foreign keys: rows come only from BuildOutbox's join of existing rows,
-- none of which is ever deleted, and the checks slow the bulk insert.
CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL,
    org_id       INTEGER NOT NULL,
    -- NULL for a group chat, and once the person is forgotten.
    person_id    INTEGER,
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unreachable', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at      TEXT NOT NULL,
    claimed_by   TEXT NOT NULL DEFAULT '',
    lease_until  TEXT,
    message_id   TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL,
    UNIQUE (broadcast_id, platform, chat_id)
) STRICT;
-- Claims walk this in order: status, then priority and id, stopping at the limit.
CREATE INDEX deliveries_claim_idx ON deliveries (status, priority, id);
CREATE INDEX deliveries_broadcast_id_status_idx ON deliveries (broadcast_id, status);
CREATE INDEX deliveries_person_id_idx ON deliveries (person_id);

CREATE TABLE relay_steps (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
    org_id       INTEGER NOT NULL REFERENCES orgs (id),
    received_at  TEXT NOT NULL,
    relayed_at   TEXT,
    -- '' while the org has not acted.
    action       TEXT NOT NULL DEFAULT '' CHECK (action IN ('', 'published', 'noted', 'skipped', 'auto')),
    note         TEXT NOT NULL DEFAULT '',
    reminded_at  TEXT,
    PRIMARY KEY (broadcast_id, org_id)
) STRICT;
CREATE INDEX relay_steps_action_received_at_idx ON relay_steps (action, received_at);

CREATE TABLE suggestions (
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
    broadcast_id INTEGER REFERENCES broadcasts (id),
    created_at   TEXT NOT NULL,
    decided_at   TEXT
) STRICT;
CREATE INDEX suggestions_at_org_id_status_idx ON suggestions (at_org_id, status, created_at);
CREATE INDEX suggestions_author_id_idx ON suggestions (author_id);

-- +goose Down
DROP TABLE suggestions;
DROP TABLE relay_steps;
DROP TABLE deliveries;
DROP TABLE broadcasts;
