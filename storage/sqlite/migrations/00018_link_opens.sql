-- +goose Up
-- Keys the hub makes for itself and keeps across replicas: the first
-- replica to store one wins. The short links of news are signed with
-- "links", so that nobody counts an open by typing a link.
CREATE TABLE hub_keys (
    name TEXT PRIMARY KEY,
    key  BLOB NOT NULL
) STRICT;
-- A recipient opening a link of a delivered news item (link, by its order
-- in the text) or its Share button (link -1), once per delivery and link.
-- Rows older than 90 days fold into link_open_counts; an erased person's
-- fold at once.
CREATE TABLE link_opens (
    delivery_id  INTEGER NOT NULL,
    link         INTEGER NOT NULL,
    broadcast_id INTEGER NOT NULL,
    org_id       INTEGER NOT NULL,
    opened_at    TEXT NOT NULL,
    PRIMARY KEY (delivery_id, link)
) STRICT;
CREATE INDEX link_opens_opened_at_idx ON link_opens (opened_at);
CREATE INDEX link_opens_broadcast_id_idx ON link_opens (broadcast_id);
CREATE TABLE link_open_counts (
    broadcast_id INTEGER NOT NULL,
    org_id       INTEGER NOT NULL,
    opens        INTEGER NOT NULL,
    shares       INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, org_id)
) STRICT;

-- +goose Down
DROP TABLE link_open_counts;
DROP TABLE link_opens;
DROP TABLE hub_keys;
