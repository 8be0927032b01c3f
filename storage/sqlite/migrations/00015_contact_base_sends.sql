-- +goose Up
-- Each year every organisation's contact base goes up to its parent's
-- information worker or chair. A row claims an org's send for a year
-- across replicas; sent_at is set once someone received the file, which
-- the programme counts towards the org's digital maturity. A claim left
-- unsent (a round cut short) is taken over once stale.
CREATE TABLE contact_base_sends (
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    year       INTEGER NOT NULL,
    claimed_at TEXT NOT NULL,
    sent_at    TEXT,
    PRIMARY KEY (org_id, year)
) STRICT;

-- +goose Down
DROP TABLE contact_base_sends;
