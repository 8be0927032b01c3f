-- +goose Up
-- Keys the hub makes for itself and keeps across replicas: the first
-- replica to store one wins. The short links of news are signed with
-- "links", so that nobody counts an open by typing a link.
CREATE TABLE hub_keys (
    name TEXT PRIMARY KEY,
    key  BYTEA NOT NULL
);
-- A recipient opening a link of a delivered news item (link, by its order
-- in the text) or its Share button (link -1), once per delivery and link.
-- Rows older than 90 days fold into link_open_counts; an erased person's
-- fold at once.
CREATE TABLE link_opens (
    delivery_id  BIGINT NOT NULL,
    link         INTEGER NOT NULL,
    broadcast_id BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    opened_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (delivery_id, link)
);
CREATE INDEX link_opens_opened_at_idx ON link_opens (opened_at);
CREATE INDEX link_opens_broadcast_id_idx ON link_opens (broadcast_id);
CREATE TABLE link_open_counts (
    broadcast_id BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    opens        BIGINT NOT NULL,
    shares       BIGINT NOT NULL,
    PRIMARY KEY (broadcast_id, org_id)
);

-- +goose Down
DROP TABLE link_open_counts;
DROP TABLE link_opens;
DROP TABLE hub_keys;
