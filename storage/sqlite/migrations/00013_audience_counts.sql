-- +goose Up
-- A draft's audience is counted from counters kept as people register,
-- block the bot and leave (see the PostgreSQL migration): person_reach per
-- person, org_reach per org and role. SQLite has one writer at a time, so
-- row triggers keep them exact.
CREATE TABLE person_reach (
    person_id   INTEGER PRIMARY KEY,
    accounts    INTEGER NOT NULL,
    memberships INTEGER NOT NULL
) STRICT;
CREATE INDEX person_reach_multi_idx ON person_reach (person_id) WHERE memberships > 1 AND accounts > 0;

CREATE TABLE org_reach (
    org_id INTEGER NOT NULL,
    role   TEXT NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (org_id, role)
) STRICT;

INSERT INTO person_reach (person_id, accounts, memberships)
SELECT p.id,
    (SELECT COUNT(*) FROM accounts a WHERE a.person_id = p.id AND a.blocked_at IS NULL),
    (SELECT COUNT(*) FROM memberships m WHERE m.person_id = p.id AND m.status = 'active')
FROM people p;
DELETE FROM person_reach WHERE accounts = 0 AND memberships = 0;
INSERT INTO org_reach (org_id, role, people)
SELECT m.org_id, m.role, COUNT(*) FROM memberships m JOIN person_reach p ON p.person_id = m.person_id AND p.accounts > 0
WHERE m.status = 'active' GROUP BY m.org_id, m.role;

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
DROP TRIGGER accounts_added_reach;
DROP TRIGGER accounts_joined_reach;
DROP TRIGGER accounts_removed_reach;
DROP TRIGGER accounts_left_reach;
DROP TRIGGER memberships_added_reach;
DROP TRIGGER memberships_joined_reach;
DROP TRIGGER memberships_removed_reach;
DROP TRIGGER memberships_left_reach;
DROP TABLE org_reach;
DROP TABLE person_reach;
