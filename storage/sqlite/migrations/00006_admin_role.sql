-- +goose Up
-- The Union's staff hold the admin role in the root organisation. SQLite
-- cannot change a CHECK constraint: the two tables are rebuilt (nothing
-- references them).
CREATE TABLE memberships_new (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    role       TEXT NOT NULL CHECK (role IN ('member', 'activist', 'infoworker', 'chair', 'admin')),
    status     TEXT NOT NULL CHECK (status IN ('pending', 'active', 'rejected', 'ended')),
    created_at TEXT NOT NULL,
    decided_by INTEGER REFERENCES people (id),
    decided_at TEXT,
    UNIQUE (person_id, org_id, role)
) STRICT;
INSERT INTO memberships_new SELECT id, person_id, org_id, role, status, created_at, decided_by, decided_at FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE INDEX memberships_org_id_status_idx ON memberships (org_id, status);

CREATE TABLE invites_new (
    code       TEXT PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    role       TEXT NOT NULL CHECK (role IN ('member', 'activist', 'infoworker', 'chair', 'admin')),
    max_uses   INTEGER NOT NULL DEFAULT 0 CHECK (max_uses >= 0),
    uses       INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    expires_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
) STRICT;
INSERT INTO invites_new SELECT code, org_id, role, max_uses, uses, expires_at, revoked_at, created_at FROM invites;
DROP TABLE invites;
ALTER TABLE invites_new RENAME TO invites;
CREATE INDEX invites_org_id_created_at_idx ON invites (org_id, created_at);

-- +goose Down
DELETE FROM memberships WHERE role = 'admin';
DELETE FROM invites WHERE role = 'admin';
