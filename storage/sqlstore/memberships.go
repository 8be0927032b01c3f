package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const membershipSelect = "SELECT m.id, m.person_id, m.role, m.status, m.created_at, m.decided_by, m.decided_at, " + orgCols +
	" FROM memberships m JOIN orgs o ON o.id = m.org_id "

func membershipDest(m *storage.Membership) []any {
	return append([]any{&m.ID, &m.PersonID, &m.Role, &m.Status, timeCol{&m.CreatedAt}, idCol{&m.DecidedBy}, nullTimeCol{&m.DecidedAt}},
		orgDest(&m.Org)...)
}

func (c conn) membership(ctx context.Context, id int64) (storage.Membership, error) {
	var m storage.Membership
	if err := c.row(ctx, membershipSelect+"WHERE m.id = ?", id).Scan(membershipDest(&m)...); err != nil {
		return storage.Membership{}, fmt.Errorf("membership %d: %w", id, notFound(err))
	}
	return m, nil
}

// Membership finds a membership with its org.
func (db *DB) Membership(ctx context.Context, id int64) (storage.Membership, error) {
	m, err := db.conn().membership(ctx, id)
	if err != nil {
		return storage.Membership{}, fmt.Errorf("get membership: %w", err)
	}
	return m, nil
}

// Memberships lists a person's memberships of any status with their orgs, oldest first.
func (db *DB) Memberships(ctx context.Context, personID int64) ([]storage.Membership, error) {
	return db.memberships(ctx, "WHERE m.person_id = ? ORDER BY m.id", personID)
}

// PendingMemberships lists the registrations waiting for a decision in the
// subtree of under, oldest first.
func (db *DB) PendingMemberships(ctx context.Context, under storage.Org) ([]storage.Membership, error) {
	if under.Path == "" {
		return nil, fmt.Errorf("list pending memberships: org %d has no path", under.ID)
	}
	return db.memberships(ctx, "WHERE m.status = ? AND o.path LIKE ? ORDER BY m.created_at, m.id", storage.StatusPending, under.Path+"%")
}

func (db *DB) memberships(ctx context.Context, where string, args ...any) ([]storage.Membership, error) {
	ms, err := queryAll(ctx, db.conn(), membershipDest, membershipSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return ms, nil
}

// DecideMembership approves or rejects a pending membership. The guarded
// UPDATE lets exactly one of two racing decisions win.
func (db *DB) DecideMembership(ctx context.Context, id int64, approve bool, deciderID int64, at time.Time) (storage.Membership, error) {
	status := storage.StatusRejected
	if approve {
		status = storage.StatusActive
	}
	err := db.inTx(ctx, func(c conn) error {
		err := c.execOne(ctx, "UPDATE memberships SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = ?",
			status, nullID(deciderID), db.d.t(at), id, storage.StatusPending)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("decide membership %d: %w", id, db.d.classify(err, storage.ErrConflict))
		}
		cur, merr := c.membership(ctx, id)
		switch {
		case merr != nil:
			return fmt.Errorf("decide membership: %w", merr)
		case err != nil:
			return fmt.Errorf("decide membership %d (%s): %w", id, cur.Status, storage.ErrAlreadyDecided)
		}
		if approve && cur.Role != storage.RoleSupporter {
			if err := c.endSupporter(ctx, cur.PersonID, cur.Org.ID, deciderID, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return storage.Membership{}, err
	}
	m, err := db.conn().membership(ctx, id)
	if err != nil {
		return storage.Membership{}, fmt.Errorf("decide membership: %w", err)
	}
	db.logger.InfoContext(ctx, "membership decided", "membership", id, "status", status, "decided_by", deciderID)
	return m, nil
}

// endSupporter ends the person's supporter role in org, if they hold one:
// a member is not a supporter too.
func (c conn) endSupporter(ctx context.Context, personID, orgID, deciderID int64, at time.Time) error {
	_, err := c.exec(ctx, "UPDATE memberships SET status = ?, decided_by = ?, decided_at = ? WHERE person_id = ? AND org_id = ? AND role = ? AND status = ?",
		storage.StatusEnded, nullID(deciderID), c.d.t(at), personID, orgID, storage.RoleSupporter, storage.StatusActive)
	if err != nil {
		return fmt.Errorf("end supporter role: %w", err)
	}
	return nil
}

// ApplyToJoin asks, for an active supporter of org, to become a member:
// a pending member membership, made again over a rejected or ended one.
func (db *DB) ApplyToJoin(ctx context.Context, personID, orgID int64, at time.Time) (storage.Membership, error) {
	var m storage.Membership
	err := db.inTx(ctx, func(c conn) error {
		// Locking the person makes two requests of the same person take turns.
		var erased bool
		err := c.row(ctx, "SELECT erased_at IS NOT NULL FROM people WHERE id = ?"+c.d.ForUpdate, personID).Scan(&erased)
		if err != nil {
			return fmt.Errorf("person %d: %w", personID, notFound(err))
		}
		if erased {
			return fmt.Errorf("person %d is erased: %w", personID, storage.ErrNotFound)
		}
		var supporter, member int
		err = c.row(ctx, `SELECT COALESCE(SUM(CASE WHEN role = ? AND status = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN role <> ? AND status IN (?, ?) THEN 1 ELSE 0 END), 0)
			FROM memberships WHERE person_id = ? AND org_id = ?`,
			storage.RoleSupporter, storage.StatusActive, storage.RoleSupporter, storage.StatusActive, storage.StatusPending,
			personID, orgID).Scan(&supporter, &member)
		if err != nil {
			return fmt.Errorf("read roles: %w", err)
		}
		if supporter == 0 || member > 0 {
			return fmt.Errorf("person %d in org %d (supporter %d, member or pending %d): %w", personID, orgID, supporter, member, storage.ErrConflict)
		}
		var id int64
		err = c.row(ctx, `INSERT INTO memberships (person_id, org_id, role, status, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (person_id, org_id, role) DO UPDATE SET status = excluded.status, created_at = excluded.created_at,
				decided_by = NULL, decided_at = NULL
			RETURNING id`, personID, orgID, storage.RoleMember, storage.StatusPending, c.d.t(at)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert membership: %w", err)
		}
		m, err = c.membership(ctx, id)
		return err
	})
	if err != nil {
		return storage.Membership{}, fmt.Errorf("apply to join org %d: %w", orgID, err)
	}
	db.logger.InfoContext(ctx, "membership requested", "membership", m.ID, "org", orgID)
	return m, nil
}

// Leaders lists the people who are active chairs or information workers of
// exactly orgID, each once, with their accounts.
func (db *DB) Leaders(ctx context.Context, orgID int64, roles []storage.Role) ([]storage.Contact, error) {
	if len(roles) == 0 {
		return nil, nil
	}
	args := []any{orgID, storage.StatusActive}
	for _, r := range roles {
		args = append(args, r)
	}
	rows, err := db.conn().query(ctx, "SELECT "+personCols+", "+accountCols+` FROM people p
		LEFT JOIN accounts a ON a.person_id = p.id
		WHERE p.erased_at IS NULL AND EXISTS (
			SELECT 1 FROM memberships m
			WHERE m.person_id = p.id AND m.org_id = ? AND m.status = ? AND m.role IN (?`+strings.Repeat(", ?", len(roles)-1)+`))
		ORDER BY p.id, a.last_seen_at DESC, a.platform, a.external_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list leaders of org %d: %w", orgID, err)
	}
	defer rows.Close()
	var out []storage.Contact
	for rows.Next() {
		var (
			p      storage.Person
			a      storage.Account
			pl, ex sql.NullString
			pid    sql.NullInt64
		)
		dest := append(personDest(&p), &pl, &ex, &pid, nullableTime{timeCol{&a.LastSeenAt}}, nullTimeCol{&a.BlockedAt})
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("list leaders of org %d: %w", orgID, err)
		}
		if len(out) == 0 || out[len(out)-1].Person.ID != p.ID {
			out = append(out, storage.Contact{Person: p})
		}
		if pl.Valid {
			a.Platform, a.ExternalID, a.PersonID = storage.Platform(pl.String), ex.String, pid.Int64
			last := &out[len(out)-1]
			last.Accounts = append(last.Accounts, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list leaders of org %d: %w", orgID, err)
	}
	return out, nil
}

// nullableTime scans a time column of an outer join, where NULL means no row.
type nullableTime struct{ timeCol }

func (c nullableTime) Scan(src any) error {
	if src == nil {
		return nil
	}
	return c.timeCol.Scan(src)
}
