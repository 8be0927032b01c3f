-- +goose Up
-- Times are fixed-width UTC text ("2006-01-02T15:04:05.000000Z"), which compares like time.
CREATE TABLE orgs (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    parent_id    INTEGER REFERENCES orgs (id),
    level        TEXT NOT NULL CHECK (level IN ('union', 'branch', 'primary')),
    member_count INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    time_zone    TEXT NOT NULL,
    -- "/1/7/42/": ancestors are prefixes, so subtree queries are LIKE 'path%'.
    path         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX orgs_parent_id_idx ON orgs (parent_id);
CREATE INDEX orgs_path_idx ON orgs (path);

CREATE TABLE people (
    id             INTEGER PRIMARY KEY,
    full_name      TEXT NOT NULL,
    position       TEXT NOT NULL,
    work_email     TEXT NOT NULL,
    personal_email TEXT NOT NULL,
    locale         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    erased_at      TEXT
) STRICT;

CREATE TABLE accounts (
    platform     TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    person_id    INTEGER NOT NULL REFERENCES people (id),
    last_seen_at TEXT NOT NULL,
    blocked_at   TEXT,
    PRIMARY KEY (platform, external_id)
) STRICT;
CREATE INDEX accounts_person_id_idx ON accounts (person_id);

CREATE TABLE memberships (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    role       TEXT NOT NULL CHECK (role IN ('member', 'activist', 'infoworker', 'chair')),
    status     TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'ended')),
    created_at TEXT NOT NULL,
    decided_by INTEGER REFERENCES people (id),
    decided_at TEXT,
    UNIQUE (person_id, org_id, role)
) STRICT;
CREATE INDEX memberships_org_id_status_idx ON memberships (org_id, status);

CREATE TABLE consents (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER REFERENCES people (id),
    org_id    INTEGER REFERENCES orgs (id),
    kind      TEXT NOT NULL,
    version   TEXT NOT NULL,
    locale    TEXT NOT NULL,
    accepted  INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX consents_person_id_idx ON consents (person_id);

CREATE TABLE invites (
    code       TEXT PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    role       TEXT NOT NULL CHECK (role IN ('member', 'activist', 'infoworker', 'chair')),
    max_uses   INTEGER NOT NULL DEFAULT 0 CHECK (max_uses >= 0),
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    expires_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX invites_org_id_created_at_idx ON invites (org_id, created_at);

CREATE TABLE link_codes (
    code       TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX link_codes_person_id_idx ON link_codes (person_id);

CREATE TABLE chat_bindings (
    platform TEXT NOT NULL,
    chat_id  TEXT NOT NULL,
    org_id   INTEGER NOT NULL REFERENCES orgs (id),
    title    TEXT NOT NULL,
    bound_by INTEGER REFERENCES people (id),
    bound_at TEXT NOT NULL,
    PRIMARY KEY (platform, chat_id)
) STRICT;
CREATE INDEX chat_bindings_org_id_idx ON chat_bindings (org_id);

-- +goose Down
DROP TABLE chat_bindings;
DROP TABLE link_codes;
DROP TABLE invites;
DROP TABLE consents;
DROP TABLE memberships;
DROP TABLE accounts;
DROP TABLE people;
DROP TABLE orgs;
