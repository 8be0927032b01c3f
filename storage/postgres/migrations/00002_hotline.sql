-- +goose Up
ALTER TABLE chat_bindings ADD COLUMN desk BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE tickets (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL once the member is forgotten.
    person_id         BIGINT REFERENCES people (id),
    org_id            BIGINT NOT NULL REFERENCES orgs (id),
    level_org_id      BIGINT NOT NULL REFERENCES orgs (id),
    topic             TEXT NOT NULL,
    share_name        BOOLEAN NOT NULL,
    keep_text         BOOLEAN NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'taken', 'closed')),
    assignee_id       BIGINT REFERENCES people (id),
    created_at        TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    escalations       INTEGER NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    rating            INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    rating_comment    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tickets_person_id_idx ON tickets (person_id, created_at);
CREATE INDEX tickets_overdue_idx ON tickets (status, first_response_at, due_at);
CREATE INDEX tickets_level_org_id_idx ON tickets (level_org_id, status);
CREATE INDEX tickets_org_id_created_at_idx ON tickets (org_id, created_at);

CREATE TABLE ticket_messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    author_id   BIGINT REFERENCES people (id),
    from_member BOOLEAN NOT NULL,
    text        TEXT NOT NULL,
    -- JSON array of attachments; NULL when there are none.
    attachments TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_messages_ticket_id_at_idx ON ticket_messages (ticket_id, at);
CREATE INDEX ticket_messages_author_id_idx ON ticket_messages (author_id);

CREATE TABLE responders (
    person_id BIGINT NOT NULL REFERENCES people (id),
    org_id    BIGINT NOT NULL REFERENCES orgs (id),
    -- '' answers every topic.
    topic     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, org_id, topic)
);
CREATE INDEX responders_org_id_idx ON responders (org_id);

CREATE TABLE desk_posts (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, message_id)
);
CREATE INDEX desk_posts_ticket_id_idx ON desk_posts (ticket_id);

-- +goose Down
DROP TABLE desk_posts;
DROP TABLE responders;
DROP TABLE ticket_messages;
DROP TABLE tickets;
ALTER TABLE chat_bindings DROP COLUMN desk;
