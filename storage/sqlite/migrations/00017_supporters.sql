-- +goose Up
-- Supporters: people registered through an organisation's public invite who
-- are not (yet) members. SQLite cannot change a CHECK constraint: the two
-- tables are rebuilt, and the reach triggers of migration 00013 (which name
-- memberships) are dropped first and made again on the new table; the
-- counters they keep are unchanged by a copy.
DROP TRIGGER accounts_added_reach;
DROP TRIGGER accounts_joined_reach;
DROP TRIGGER accounts_removed_reach;
DROP TRIGGER accounts_left_reach;
DROP TRIGGER memberships_added_reach;
DROP TRIGGER memberships_joined_reach;
DROP TRIGGER memberships_removed_reach;
DROP TRIGGER memberships_left_reach;

CREATE TABLE memberships_new (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people (id),
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    role       TEXT NOT NULL CHECK (role IN ('supporter', 'member', 'activist', 'infoworker', 'chair', 'admin')),
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
    role       TEXT NOT NULL CHECK (role IN ('supporter', 'member', 'activist', 'infoworker', 'chair', 'admin')),
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

-- An active membership ends or starts: the person's count, then the org's
-- when the person can be reached.
-- +goose StatementBegin
CREATE TRIGGER memberships_left_reach AFTER UPDATE OF person_id, org_id, role, status ON memberships
WHEN OLD.status = 'active' AND (OLD.person_id <> NEW.person_id OR OLD.org_id <> NEW.org_id OR OLD.role <> NEW.role
    OR OLD.status <> NEW.status)
BEGIN
    UPDATE person_reach SET memberships = memberships - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1 WHERE org_id = OLD.org_id AND role = OLD.role
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts > 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_removed_reach AFTER DELETE ON memberships WHEN OLD.status = 'active'
BEGIN
    UPDATE person_reach SET memberships = memberships - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1 WHERE org_id = OLD.org_id AND role = OLD.role
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts > 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_joined_reach AFTER UPDATE OF person_id, org_id, role, status ON memberships
WHEN NEW.status = 'active' AND (OLD.person_id <> NEW.person_id OR OLD.org_id <> NEW.org_id OR OLD.role <> NEW.role
    OR OLD.status <> NEW.status)
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 0, 1)
        ON CONFLICT (person_id) DO UPDATE SET memberships = memberships + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT NEW.org_id, NEW.role, 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts > 0
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_added_reach AFTER INSERT ON memberships WHEN NEW.status = 'active'
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 0, 1)
        ON CONFLICT (person_id) DO UPDATE SET memberships = memberships + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT NEW.org_id, NEW.role, 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts > 0
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd

-- An unblocked account goes or comes: the person's count, then, when that
-- was their last or first, the orgs of their active memberships.
-- +goose StatementBegin
CREATE TRIGGER accounts_left_reach AFTER UPDATE OF person_id, blocked_at ON accounts
WHEN OLD.blocked_at IS NULL AND (OLD.person_id <> NEW.person_id OR NEW.blocked_at IS NOT NULL)
BEGIN
    UPDATE person_reach SET accounts = accounts - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1
        WHERE (org_id, role) IN (SELECT org_id, role FROM memberships WHERE person_id = OLD.person_id AND status = 'active')
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts = 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_removed_reach AFTER DELETE ON accounts WHEN OLD.blocked_at IS NULL
BEGIN
    UPDATE person_reach SET accounts = accounts - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1
        WHERE (org_id, role) IN (SELECT org_id, role FROM memberships WHERE person_id = OLD.person_id AND status = 'active')
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts = 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_joined_reach AFTER UPDATE OF person_id, blocked_at ON accounts
WHEN NEW.blocked_at IS NULL AND (OLD.person_id <> NEW.person_id OR OLD.blocked_at IS NOT NULL)
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 1, 0)
        ON CONFLICT (person_id) DO UPDATE SET accounts = accounts + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT org_id, role, 1 FROM memberships WHERE person_id = NEW.person_id AND status = 'active'
            AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts = 1)
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_added_reach AFTER INSERT ON accounts WHEN NEW.blocked_at IS NULL
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 1, 0)
        ON CONFLICT (person_id) DO UPDATE SET accounts = accounts + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT org_id, role, 1 FROM memberships WHERE person_id = NEW.person_id AND status = 'active'
            AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts = 1)
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd
-- +goose Down
DELETE FROM memberships WHERE role = 'supporter';
DELETE FROM invites WHERE role = 'supporter';
DROP TRIGGER accounts_added_reach;
DROP TRIGGER accounts_joined_reach;
DROP TRIGGER accounts_removed_reach;
DROP TRIGGER accounts_left_reach;
DROP TRIGGER memberships_added_reach;
DROP TRIGGER memberships_joined_reach;
DROP TRIGGER memberships_removed_reach;
DROP TRIGGER memberships_left_reach;

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

-- An active membership ends or starts: the person's count, then the org's
-- when the person can be reached.
-- +goose StatementBegin
CREATE TRIGGER memberships_left_reach AFTER UPDATE OF person_id, org_id, role, status ON memberships
WHEN OLD.status = 'active' AND (OLD.person_id <> NEW.person_id OR OLD.org_id <> NEW.org_id OR OLD.role <> NEW.role
    OR OLD.status <> NEW.status)
BEGIN
    UPDATE person_reach SET memberships = memberships - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1 WHERE org_id = OLD.org_id AND role = OLD.role
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts > 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_removed_reach AFTER DELETE ON memberships WHEN OLD.status = 'active'
BEGIN
    UPDATE person_reach SET memberships = memberships - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1 WHERE org_id = OLD.org_id AND role = OLD.role
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts > 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_joined_reach AFTER UPDATE OF person_id, org_id, role, status ON memberships
WHEN NEW.status = 'active' AND (OLD.person_id <> NEW.person_id OR OLD.org_id <> NEW.org_id OR OLD.role <> NEW.role
    OR OLD.status <> NEW.status)
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 0, 1)
        ON CONFLICT (person_id) DO UPDATE SET memberships = memberships + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT NEW.org_id, NEW.role, 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts > 0
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER memberships_added_reach AFTER INSERT ON memberships WHEN NEW.status = 'active'
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 0, 1)
        ON CONFLICT (person_id) DO UPDATE SET memberships = memberships + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT NEW.org_id, NEW.role, 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts > 0
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd

-- An unblocked account goes or comes: the person's count, then, when that
-- was their last or first, the orgs of their active memberships.
-- +goose StatementBegin
CREATE TRIGGER accounts_left_reach AFTER UPDATE OF person_id, blocked_at ON accounts
WHEN OLD.blocked_at IS NULL AND (OLD.person_id <> NEW.person_id OR NEW.blocked_at IS NOT NULL)
BEGIN
    UPDATE person_reach SET accounts = accounts - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1
        WHERE (org_id, role) IN (SELECT org_id, role FROM memberships WHERE person_id = OLD.person_id AND status = 'active')
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts = 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_removed_reach AFTER DELETE ON accounts WHEN OLD.blocked_at IS NULL
BEGIN
    UPDATE person_reach SET accounts = accounts - 1 WHERE person_id = OLD.person_id;
    UPDATE org_reach SET people = people - 1
        WHERE (org_id, role) IN (SELECT org_id, role FROM memberships WHERE person_id = OLD.person_id AND status = 'active')
        AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = OLD.person_id AND accounts = 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_joined_reach AFTER UPDATE OF person_id, blocked_at ON accounts
WHEN NEW.blocked_at IS NULL AND (OLD.person_id <> NEW.person_id OR OLD.blocked_at IS NOT NULL)
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 1, 0)
        ON CONFLICT (person_id) DO UPDATE SET accounts = accounts + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT org_id, role, 1 FROM memberships WHERE person_id = NEW.person_id AND status = 'active'
            AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts = 1)
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_added_reach AFTER INSERT ON accounts WHEN NEW.blocked_at IS NULL
BEGIN
    INSERT INTO person_reach (person_id, accounts, memberships) VALUES (NEW.person_id, 1, 0)
        ON CONFLICT (person_id) DO UPDATE SET accounts = accounts + 1;
    INSERT INTO org_reach (org_id, role, people)
        SELECT org_id, role, 1 FROM memberships WHERE person_id = NEW.person_id AND status = 'active'
            AND EXISTS (SELECT 1 FROM person_reach WHERE person_id = NEW.person_id AND accounts = 1)
        ON CONFLICT (org_id, role) DO UPDATE SET people = people + 1;
END;
-- +goose StatementEnd
