-- +goose Up
-- Keys the hub makes for itself and keeps across replicas: the first
-- replica to store one wins. The short links of news are signed with
-- "links", so that nobody counts an open by typing a link.
CREATE TABLE hub_keys (
    name TEXT PRIMARY KEY,
    key  BYTEA NOT NULL
);
-- A recipient opening a link of a delivered news item (link, by its order
-- in the text) or its Share button (link -1), once per delivery and link,
-- counted in link_open_counts as it comes. Rows older than 90 days go, and
-- an erased person's at once; the counts stay.
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

-- What each finished broadcast reached in each organisation, written
-- when it finishes: the reach and engagement indicators read these few
-- rows, not the outbox. Audience leaves out the cancelled rows.
CREATE TABLE broadcast_reach (
    broadcast_id BIGINT NOT NULL,
    org_id       BIGINT NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    audience     BIGINT NOT NULL,
    delivered    BIGINT NOT NULL,
    PRIMARY KEY (broadcast_id, org_id)
);
CREATE INDEX broadcast_reach_finished_at_idx ON broadcast_reach (finished_at);
-- The broadcasts finished before this version.
INSERT INTO broadcast_reach (broadcast_id, org_id, finished_at, audience, delivered)
SELECT d.broadcast_id, d.org_id, b.finished_at,
       SUM(CASE WHEN d.status <> 'cancelled' THEN 1 ELSE 0 END), SUM(CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END)
FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
WHERE b.status = 'done' AND b.finished_at IS NOT NULL
GROUP BY d.broadcast_id, d.org_id, b.finished_at;

-- +goose Down
DROP TABLE broadcast_reach;
DROP TABLE link_open_counts;
DROP TABLE link_opens;
DROP TABLE hub_keys;
