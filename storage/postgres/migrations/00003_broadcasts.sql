-- +goose Up
CREATE TABLE broadcasts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL once the author is forgotten.
    author_id           BIGINT REFERENCES people (id),
    org_id              BIGINT NOT NULL REFERENCES orgs (id),
    text                TEXT NOT NULL,
    -- JSON array of attachments; NULL when there are none.
    attachments         TEXT,
    mode                TEXT NOT NULL CHECK (mode IN ('direct', 'relay')),
    -- JSON {"org_ids": [...], "roles": [...], "private": bool, "chats": bool}.
    audience            TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled')),
    created_at          TIMESTAMPTZ NOT NULL,
    scheduled_at        TIMESTAMPTZ,
    started_at          TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,
    relay_deadline      TIMESTAMPTZ,
    -- The sender's live progress message, if any.
    progress_platform   TEXT,
    progress_chat_id    TEXT,
    progress_message_id TEXT
);
CREATE INDEX broadcasts_org_id_created_at_idx ON broadcasts (org_id, created_at);
CREATE INDEX broadcasts_status_scheduled_at_idx ON broadcasts (status, scheduled_at);
CREATE INDEX broadcasts_author_id_idx ON broadcasts (author_id);

-- The outbox: one row per recipient per broadcast, written before any send.
-- No foreign keys: rows come only from BuildOutbox's join of existing rows,
-- none of which is ever deleted, and the checks took 40 % of a 100,000-row build.
CREATE TABLE deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    broadcast_id BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    -- NULL for a group chat, and once the person is forgotten.
    person_id    BIGINT,
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unreachable', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_at      TIMESTAMPTZ NOT NULL,
    claimed_by   TEXT NOT NULL DEFAULT '',
    lease_until  TIMESTAMPTZ,
    message_id   TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (broadcast_id, platform, chat_id)
);
-- Claims walk the queued rows in order and stop at the limit; rows done
-- leave the partial indexes, which stay as small as the work left.
CREATE INDEX deliveries_queued_idx ON deliveries (priority, id) WHERE status = 'queued';
CREATE INDEX deliveries_leased_idx ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_broadcast_id_status_idx ON deliveries (broadcast_id, status);
CREATE INDEX deliveries_person_id_idx ON deliveries (person_id);

CREATE TABLE relay_steps (
    broadcast_id BIGINT NOT NULL REFERENCES broadcasts (id),
    org_id       BIGINT NOT NULL REFERENCES orgs (id),
    received_at  TIMESTAMPTZ NOT NULL,
    relayed_at   TIMESTAMPTZ,
    -- '' while the org has not acted.
    action       TEXT NOT NULL DEFAULT '' CHECK (action IN ('', 'published', 'noted', 'skipped', 'auto')),
    note         TEXT NOT NULL DEFAULT '',
    reminded_at  TIMESTAMPTZ,
    PRIMARY KEY (broadcast_id, org_id)
);
CREATE INDEX relay_steps_action_received_at_idx ON relay_steps (action, received_at);

CREATE TABLE suggestions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL once the author is forgotten.
    author_id    BIGINT REFERENCES people (id),
    from_org_id  BIGINT NOT NULL REFERENCES orgs (id),
    at_org_id    BIGINT NOT NULL REFERENCES orgs (id),
    kind         TEXT NOT NULL CHECK (kind IN ('news', 'call')),
    text         TEXT NOT NULL,
    -- JSON array of attachments; NULL when there are none.
    attachments  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'published', 'declined')),
    solidarity   BOOLEAN NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    broadcast_id BIGINT REFERENCES broadcasts (id),
    created_at   TIMESTAMPTZ NOT NULL,
    decided_at   TIMESTAMPTZ
);
CREATE INDEX suggestions_at_org_id_status_idx ON suggestions (at_org_id, status, created_at);
CREATE INDEX suggestions_author_id_idx ON suggestions (author_id);

-- +goose Down
DROP TABLE suggestions;
DROP TABLE relay_steps;
DROP TABLE deliveries;
DROP TABLE broadcasts;
