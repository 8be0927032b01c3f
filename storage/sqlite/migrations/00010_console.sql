-- +goose Up
-- The staff console. Sign-in links and sessions keep only a SHA-256 hash
-- of their secret: the token travels once in the link, the session id
-- lives in the browser's cookie. Times are fixed-width UTC text.

-- The console's own staff person: the Union's staff, with no messenger
-- account. At most one.
ALTER TABLE people ADD COLUMN console_staff INTEGER NOT NULL DEFAULT 0 CHECK (console_staff IN (0, 1));
CREATE UNIQUE INDEX people_console_staff_idx ON people (console_staff) WHERE console_staff = TRUE;

CREATE TABLE console_links (
    token_hash  TEXT PRIMARY KEY,
    -- NULL: a link that grants the admin role to the console's staff person.
    person_id   INTEGER REFERENCES people (id),
    grant_admin INTEGER NOT NULL CHECK (grant_admin IN (0, 1)),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
) STRICT;
CREATE INDEX console_links_person_id_idx ON console_links (person_id);
CREATE INDEX console_links_expires_at_idx ON console_links (expires_at);

CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people (id),
    grant_admin  INTEGER NOT NULL CHECK (grant_admin IN (0, 1)),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    end_reason   TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX console_sessions_person_id_idx ON console_sessions (person_id);
CREATE INDEX console_sessions_expires_at_idx ON console_sessions (expires_at);

CREATE TABLE console_audit (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    person_id INTEGER REFERENCES people (id),
    action    TEXT NOT NULL,
    org_id    INTEGER REFERENCES orgs (id),
    record    TEXT NOT NULL,
    ip        TEXT NOT NULL
) STRICT;
CREATE INDEX console_audit_person_id_idx ON console_audit (person_id, id);
CREATE INDEX console_audit_org_id_idx ON console_audit (org_id, id);

-- +goose Down
DROP TABLE console_audit;
DROP TABLE console_sessions;
DROP TABLE console_links;
DROP INDEX people_console_staff_idx;
ALTER TABLE people DROP COLUMN console_staff;
