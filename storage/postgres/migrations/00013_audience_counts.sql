-- +goose Up
-- A draft's audience is counted from counters the database keeps as people
-- register, block the bot and leave, so that the composer shows the Union's
-- 100,000 people without reading them all. A person reaches the audience of
-- an org and role when they hold that role there (active) and have an
-- account that does not block the bot.
--
-- person_reach: per person, their unblocked accounts and active
-- memberships. A person with two memberships or more is counted once per
-- membership in org_reach; the count takes them off again.
CREATE TABLE person_reach (
    person_id   BIGINT PRIMARY KEY,
    accounts    INTEGER NOT NULL,
    memberships INTEGER NOT NULL
);
CREATE INDEX person_reach_multi_idx ON person_reach (person_id) WHERE memberships > 1 AND accounts > 0;

-- org_reach: per org and role, the people holding it who can be reached.
CREATE TABLE org_reach (
    org_id BIGINT NOT NULL,
    role   TEXT NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (org_id, role)
);

INSERT INTO person_reach (person_id, accounts, memberships)
SELECT p.id,
    (SELECT COUNT(*) FROM accounts a WHERE a.person_id = p.id AND a.blocked_at IS NULL),
    (SELECT COUNT(*) FROM memberships m WHERE m.person_id = p.id AND m.status = 'active')
FROM people p;
DELETE FROM person_reach WHERE accounts = 0 AND memberships = 0;
INSERT INTO org_reach (org_id, role, people)
SELECT m.org_id, m.role, COUNT(*) FROM memberships m JOIN person_reach p ON p.person_id = m.person_id AND p.accounts > 0
WHERE m.status = 'active' GROUP BY m.org_id, m.role;

-- Every change takes the person's row first (the upsert locks it) and reads
-- the other table in a statement of its own, after the lock: a concurrent
-- change of the same person waits, and the next statement sees what it
-- committed, so no change is counted twice or missed. Rows are taken in key
-- order so that bulk writers do not deadlock.

-- +goose StatementBegin
-- reach_memberships adds (delta 1) or takes off (delta -1) active
-- memberships, given as parallel arrays: the people's counts, then the
-- orgs' for the people who can be reached.
CREATE FUNCTION reach_memberships(persons BIGINT[], orgs BIGINT[], roles TEXT[], delta INTEGER)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO person_reach AS p (person_id, accounts, memberships)
    SELECT c.person_id, 0, delta * COUNT(*) FROM unnest(persons) AS c(person_id)
    GROUP BY c.person_id ORDER BY c.person_id
    ON CONFLICT (person_id) DO UPDATE SET memberships = p.memberships + EXCLUDED.memberships;

    INSERT INTO org_reach AS r (org_id, role, people)
    SELECT c.org_id, c.role, delta * COUNT(*) FROM unnest(persons, orgs, roles) AS c(person_id, org_id, role)
    JOIN person_reach p ON p.person_id = c.person_id AND p.accounts > 0
    GROUP BY c.org_id, c.role ORDER BY c.org_id, c.role
    ON CONFLICT (org_id, role) DO UPDATE SET people = r.people + EXCLUDED.people;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- reach_accounts adds (delta 1) or takes off (delta -1) the unblocked
-- accounts of persons (one entry per account); a person who becomes
-- reachable, or no longer is, moves the counts of their memberships' orgs.
CREATE FUNCTION reach_accounts(persons BIGINT[], delta INTEGER) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    reached BIGINT[];
    lost    BIGINT[];
BEGIN
    WITH changes AS (
        SELECT c.person_id, delta * COUNT(*) AS d FROM unnest(persons) AS c(person_id) GROUP BY c.person_id
    ), counted AS (
        INSERT INTO person_reach AS p (person_id, accounts, memberships)
        SELECT person_id, d, 0 FROM changes ORDER BY person_id
        ON CONFLICT (person_id) DO UPDATE SET accounts = p.accounts + EXCLUDED.accounts
        RETURNING p.person_id, p.accounts
    )
    SELECT array_agg(ct.person_id) FILTER (WHERE ct.accounts > 0 AND ct.accounts - ch.d <= 0),
        array_agg(ct.person_id) FILTER (WHERE ct.accounts <= 0 AND ct.accounts - ch.d > 0)
    INTO reached, lost
    FROM counted ct JOIN changes ch ON ch.person_id = ct.person_id;

    INSERT INTO org_reach AS r (org_id, role, people)
    SELECT m.org_id, m.role, SUM(CASE WHEN m.person_id = ANY (reached) THEN 1 ELSE -1 END)
    FROM memberships m
    WHERE m.status = 'active' AND (m.person_id = ANY (reached) OR m.person_id = ANY (lost))
    GROUP BY m.org_id, m.role ORDER BY m.org_id, m.role
    ON CONFLICT (org_id, role) DO UPDATE SET people = r.people + EXCLUDED.people;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION reach_memberships_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    persons BIGINT[];
    orgs    BIGINT[];
    roles   TEXT[];
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        -- Inserts of many rows at once (an import): one pass over them.
        SELECT array_agg(person_id), array_agg(org_id), array_agg(role) INTO persons, orgs, roles
        FROM added WHERE status = 'active';
        IF persons IS NOT NULL THEN
            PERFORM reach_memberships(persons, orgs, roles, 1);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
        PERFORM reach_memberships(ARRAY[OLD.person_id], ARRAY[OLD.org_id], ARRAY[OLD.role], -1);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = 'active' THEN
        PERFORM reach_memberships(ARRAY[NEW.person_id], ARRAY[NEW.org_id], ARRAY[NEW.role], 1);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION reach_accounts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    persons BIGINT[];
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        SELECT array_agg(person_id) INTO persons FROM added WHERE blocked_at IS NULL;
        IF persons IS NOT NULL THEN
            PERFORM reach_accounts(persons, 1);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.blocked_at IS NULL THEN
        PERFORM reach_accounts(ARRAY[OLD.person_id], -1);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.blocked_at IS NULL THEN
        PERFORM reach_accounts(ARRAY[NEW.person_id], 1);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER memberships_added_reach AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reach_memberships_changed();
CREATE TRIGGER memberships_changed_reach AFTER UPDATE OF person_id, org_id, role, status ON memberships
    FOR EACH ROW WHEN (OLD.person_id <> NEW.person_id OR OLD.org_id <> NEW.org_id OR OLD.role <> NEW.role
        OR OLD.status <> NEW.status)
    EXECUTE FUNCTION reach_memberships_changed();
CREATE TRIGGER memberships_removed_reach AFTER DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION reach_memberships_changed();
-- Touching an account on every update leaves it unblocked: no call.
CREATE TRIGGER accounts_added_reach AFTER INSERT ON accounts
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reach_accounts_changed();
CREATE TRIGGER accounts_changed_reach AFTER UPDATE OF person_id, blocked_at ON accounts
    FOR EACH ROW WHEN (OLD.person_id <> NEW.person_id OR (OLD.blocked_at IS NULL) <> (NEW.blocked_at IS NULL))
    EXECUTE FUNCTION reach_accounts_changed();
CREATE TRIGGER accounts_removed_reach AFTER DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION reach_accounts_changed();

-- +goose Down
DROP TRIGGER accounts_removed_reach ON accounts;
DROP TRIGGER accounts_changed_reach ON accounts;
DROP TRIGGER accounts_added_reach ON accounts;
DROP TRIGGER memberships_removed_reach ON memberships;
DROP TRIGGER memberships_changed_reach ON memberships;
DROP TRIGGER memberships_added_reach ON memberships;
DROP FUNCTION reach_accounts_changed();
DROP FUNCTION reach_memberships_changed();
DROP FUNCTION reach_accounts(BIGINT[], INTEGER);
DROP FUNCTION reach_memberships(BIGINT[], BIGINT[], TEXT[], INTEGER);
DROP TABLE org_reach;
DROP TABLE person_reach;
