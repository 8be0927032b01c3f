-- +goose Up
ALTER TABLE chat_bindings ADD COLUMN desk INTEGER NOT NULL DEFAULT 0 CHECK (desk IN (0, 1));

CREATE TABLE tickets (
    -- AUTOINCREMENT: the number members see is never reused.
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL once the member is forgotten.
    person_id         INTEGER REFERENCES people (id),
    org_id            INTEGER NOT NULL REFERENCES orgs (id),
    level_org_id      INTEGER NOT NULL REFERENCES orgs (id),
    topic             TEXT NOT NULL,
    share_name        INTEGER NOT NULL CHECK (share_name IN (0, 1)),
    keep_text         INTEGER NOT NULL CHECK (keep_text IN (0, 1)),
    status            TEXT NOT NULL CHECK (status IN ('open', 'taken', 'closed')),
    assignee_id       INTEGER REFERENCES people (id),
    created_at        TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    first_response_at TEXT,
    closed_at         TEXT,
    escalations       INTEGER NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    rating            INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    rating_comment    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX tickets_person_id_idx ON tickets (person_id, created_at);
CREATE INDEX tickets_overdue_idx ON tickets (status, first_response_at, due_at);
CREATE INDEX tickets_level_org_id_idx ON tickets (level_org_id, status);
CREATE INDEX tickets_org_id_created_at_idx ON tickets (org_id, created_at);

CREATE TABLE ticket_messages (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    author_id   INTEGER REFERENCES people (id),
    from_member INTEGER NOT NULL CHECK (from_member IN (0, 1)),
    text        TEXT NOT NULL,
    -- JSON array of attachments; NULL when there are none.
    attachments TEXT,
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX ticket_messages_ticket_id_at_idx ON ticket_messages (ticket_id, at);
CREATE INDEX ticket_messages_author_id_idx ON ticket_messages (author_id);

CREATE TABLE responders (
    person_id INTEGER NOT NULL REFERENCES people (id),
    org_id    INTEGER NOT NULL REFERENCES orgs (id),
    -- '' answers every topic.
    topic     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, org_id, topic)
) STRICT;
CREATE INDEX responders_org_id_idx ON responders (org_id);

CREATE TABLE desk_posts (
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, message_id)
) STRICT;
CREATE INDEX desk_posts_ticket_id_idx ON desk_posts (ticket_id);

-- +goose Down
DROP TABLE desk_posts;
DROP TABLE responders;
DROP TABLE ticket_messages;
DROP TABLE tickets;
ALTER TABLE chat_bindings DROP COLUMN desk;
