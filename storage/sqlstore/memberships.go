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
	c := db.conn()
	err := c.execOne(ctx, "UPDATE memberships SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = ?",
		status, nullID(deciderID), db.d.t(at), id, storage.StatusPending)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.Membership{}, fmt.Errorf("decide membership %d: %w", id, db.d.classify(err, storage.ErrConflict))
	}
	m, merr := c.membership(ctx, id)
	switch {
	case merr != nil:
		return storage.Membership{}, fmt.Errorf("decide membership: %w", merr)
	case err != nil:
		return storage.Membership{}, fmt.Errorf("decide membership %d (%s): %w", id, m.Status, storage.ErrAlreadyDecided)
	}
	db.logger.InfoContext(ctx, "membership decided", "membership", id, "status", status, "decided_by", deciderID)
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
