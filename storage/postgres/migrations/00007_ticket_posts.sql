-- +goose Up
-- Messages about a ticket that carry its buttons, so that they lose them
-- once the ticket is closed: responders' cards (shown again with the
-- outcome) and messages whose text must stay as sent (answers to the
-- member, follow-ups to responders).
CREATE TABLE ticket_posts (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('card', 'desk', 'keep')),
    lang       TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id, message_id)
);
CREATE INDEX ticket_posts_ticket_id_idx ON ticket_posts (ticket_id);

-- +goose Down
DROP TABLE ticket_posts;
