package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// linkKeep is how long a sign-in link is kept after it expired, and
// sessionKeep a session after its absolute end: long enough to tell "used"
// and "ended" from "unknown", then dropped; the audit log keeps the history.
const (
	linkKeep    = 24 * time.Hour
	sessionKeep = 30 * 24 * time.Hour
)

const linkCols = "token_hash, person_id, grant_admin, created_at, expires_at, used_at"

func linkDest(l *storage.SignInLink) []any {
	return []any{&l.TokenHash, idCol{&l.PersonID}, &l.GrantAdmin, timeCol{&l.CreatedAt}, timeCol{&l.ExpiresAt}, nullTimeCol{&l.UsedAt}}
}

// CreateSignInLink stores a link and drops the links long expired.
func (db *DB) CreateSignInLink(ctx context.Context, l storage.SignInLink) error {
	if l.TokenHash == "" || (l.PersonID == 0 && !l.GrantAdmin) {
		return errors.New("create sign-in link: no token hash or no person")
	}
	err := db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, "DELETE FROM console_links WHERE expires_at < ?", c.d.t(l.CreatedAt.Add(-linkKeep))); err != nil {
			return fmt.Errorf("drop old links: %w", err)
		}
		_, err := c.exec(ctx, "INSERT INTO console_links ("+linkCols+") VALUES (?, ?, ?, ?, ?, ?)",
			l.TokenHash, nullID(l.PersonID), l.GrantAdmin, c.d.t(l.CreatedAt), c.d.t(l.ExpiresAt), c.d.tp(l.UsedAt))
		if err != nil {
			return fmt.Errorf("insert link: %w", c.d.classify(err, storage.ErrConflict))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create sign-in link: %w", err)
	}
	return nil
}

// SignInLink finds a link by its token's hash.
func (db *DB) SignInLink(ctx context.Context, tokenHash string) (storage.SignInLink, error) {
	l, err := db.conn().signInLink(ctx, tokenHash, "")
	if err != nil {
		return storage.SignInLink{}, fmt.Errorf("get sign-in link: %w", err)
	}
	return l, nil
}

func (c conn) signInLink(ctx context.Context, tokenHash, lock string) (storage.SignInLink, error) {
	var l storage.SignInLink
	err := c.row(ctx, "SELECT "+linkCols+" FROM console_links WHERE token_hash = ?"+lock, tokenHash).Scan(linkDest(&l)...)
	if err != nil {
		return storage.SignInLink{}, notFound(err)
	}
	return l, nil
}

const sessionCols = "s.id_hash, s.person_id, s.grant_admin, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, s.end_reason"

func sessionDest(s *storage.ConsoleSession) []any {
	return []any{&s.IDHash, &s.PersonID, &s.GrantAdmin, timeCol{&s.CreatedAt}, timeCol{&s.LastSeenAt}, timeCol{&s.ExpiresAt},
		nullTimeCol{&s.RevokedAt}, &s.EndReason}
}

// StartSession spends the link and opens the session in one transaction.
// The guarded UPDATE lets exactly one of two racing uses win.
func (db *DB) StartSession(ctx context.Context, tokenHash string, s storage.ConsoleSession, a storage.AuditEntry) (storage.ConsoleSession, error) {
	err := db.inTx(ctx, func(c conn) error {
		l, err := c.signInLink(ctx, tokenHash, c.d.ForUpdate)
		switch {
		case err != nil:
			return fmt.Errorf("link: %w", err)
		case l.UsedAt != nil:
			return storage.ErrLinkUsed
		case !s.CreatedAt.Before(l.ExpiresAt):
			return storage.ErrLinkExpired
		case l.PersonID != 0 && l.PersonID != s.PersonID:
			return fmt.Errorf("link of person %d used for person %d: %w", l.PersonID, s.PersonID, storage.ErrConflict)
		}
		if err := c.execOne(ctx, "UPDATE console_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
			c.d.t(s.CreatedAt), tokenHash); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return storage.ErrLinkUsed
			}
			return fmt.Errorf("spend link: %w", err)
		}
		if _, err := c.exec(ctx, "DELETE FROM console_sessions WHERE expires_at < ?", c.d.t(s.CreatedAt.Add(-sessionKeep))); err != nil {
			return fmt.Errorf("drop old sessions: %w", err)
		}
		s.GrantAdmin, s.RevokedAt, s.EndReason = l.GrantAdmin, nil, ""
		_, err = c.exec(ctx, `INSERT INTO console_sessions (id_hash, person_id, grant_admin, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, s.IDHash, s.PersonID, s.GrantAdmin, c.d.t(s.CreatedAt), c.d.t(s.LastSeenAt), c.d.t(s.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert session: %w", c.d.classify(err, storage.ErrConflict))
		}
		a.PersonID = s.PersonID
		return c.addAudit(ctx, a)
	})
	if err != nil {
		return storage.ConsoleSession{}, fmt.Errorf("start session: %w", err)
	}
	return s, nil
}

// SessionState reads the session, its person and their memberships in
// force in one statement: the memberships come as the rows of an outer
// join, each column coalesced so that a person without one still reads.
func (db *DB) SessionState(ctx context.Context, idHash string) (storage.SessionState, error) {
	rows, err := db.conn().query(ctx, "SELECT "+sessionCols+", "+personCols+`,
			COALESCE(m.id, 0), COALESCE(m.person_id, 0), COALESCE(m.role, ''), COALESCE(m.status, ''),
			COALESCE(m.created_at, s.created_at), m.decided_by, m.decided_at,
			COALESCE(o.id, 0), COALESCE(o.code, ''), COALESCE(o.name, ''), o.parent_id, COALESCE(o.level, ''),
			COALESCE(o.member_count, 0), COALESCE(o.time_zone, ''), COALESCE(o.path, ''), COALESCE(o.board_cron, ''),
			COALESCE(o.updated_at, s.created_at)
		FROM console_sessions s
		JOIN people p ON p.id = s.person_id
		LEFT JOIN memberships m ON m.person_id = s.person_id AND m.status = ?
		LEFT JOIN orgs o ON o.id = m.org_id
		WHERE s.id_hash = ?
		ORDER BY m.id`, storage.StatusActive, idHash)
	if err != nil {
		return storage.SessionState{}, fmt.Errorf("read session: %w", err)
	}
	defer rows.Close()
	var st storage.SessionState
	found := false
	for rows.Next() {
		var m storage.Membership
		if err := rows.Scan(append(append(sessionDest(&st.Session), personDest(&st.Person)...), membershipDest(&m)...)...); err != nil {
			return storage.SessionState{}, fmt.Errorf("read session: %w", err)
		}
		found = true
		if m.ID != 0 {
			st.Memberships = append(st.Memberships, m)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.SessionState{}, fmt.Errorf("read session: %w", err)
	}
	if !found {
		return storage.SessionState{}, fmt.Errorf("read session: %w", storage.ErrNotFound)
	}
	return st, nil
}

// TouchSession moves the session's last activity forward.
func (db *DB) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	c := db.conn()
	if err := c.execOne(ctx, "UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?",
		c.d.t(at), idHash, c.d.t(at)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// EndSession revokes a session once and records the audit entry, if any.
func (db *DB) EndSession(ctx context.Context, idHash, reason string, at time.Time, a storage.AuditEntry) error {
	err := db.inTx(ctx, func(c conn) error {
		var personID int64
		var revoked sql.NullString
		err := c.row(ctx, "SELECT person_id, revoked_at FROM console_sessions WHERE id_hash = ?"+c.d.ForUpdate, idHash).Scan(&personID, &revoked)
		if err != nil {
			return fmt.Errorf("session: %w", notFound(err))
		}
		if revoked.Valid {
			return nil
		}
		if _, err := c.exec(ctx, "UPDATE console_sessions SET revoked_at = ?, end_reason = ? WHERE id_hash = ?",
			c.d.t(at), reason, idHash); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		if a.Action == "" {
			return nil
		}
		a.PersonID = personID
		return c.addAudit(ctx, a)
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// GrantSessionAdmin makes the session's person the Union's staff, settles
// the session's promise and records it, once: of racing requests of the
// session, the first grants and the others find the role.
func (db *DB) GrantSessionAdmin(ctx context.Context, idHash string, orgID int64, at time.Time, a storage.AuditEntry) (storage.Membership, error) {
	var m storage.Membership
	granted := false
	err := db.inTx(ctx, func(c conn) error {
		var personID int64
		var promised bool
		err := c.row(ctx, "SELECT person_id, grant_admin FROM console_sessions WHERE id_hash = ?"+c.d.ForUpdate, idHash).Scan(&personID, &promised)
		if err != nil {
			return fmt.Errorf("session: %w", notFound(err))
		}
		if !promised {
			var mid int64
			err := c.row(ctx, "SELECT id FROM memberships WHERE person_id = ? AND org_id = ? AND role = ?",
				personID, orgID, storage.RoleAdmin).Scan(&mid)
			if err != nil {
				return fmt.Errorf("granted admin: %w", notFound(err))
			}
			m, err = c.membership(ctx, mid)
			return err
		}
		var mid int64
		err = c.row(ctx, `INSERT INTO memberships (person_id, org_id, role, status, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (person_id, org_id, role) DO UPDATE SET status = excluded.status
			RETURNING id`, personID, orgID, storage.RoleAdmin, storage.StatusActive, c.d.t(at)).Scan(&mid)
		if err != nil {
			return fmt.Errorf("grant admin: %w", c.d.classify(err, storage.ErrConflict))
		}
		if _, err := c.exec(ctx, "UPDATE console_sessions SET grant_admin = ? WHERE id_hash = ?", false, idHash); err != nil {
			return fmt.Errorf("settle session: %w", err)
		}
		if m, err = c.membership(ctx, mid); err != nil {
			return err
		}
		a.PersonID, a.OrgID, a.Record = personID, orgID, "membership:"+strconv.FormatInt(mid, 10)
		granted = true
		return c.addAudit(ctx, a)
	})
	if err != nil {
		return storage.Membership{}, fmt.Errorf("grant session admin: %w", err)
	}
	if granted {
		db.logger.InfoContext(ctx, "console staff made admin", "person", m.PersonID, "org", orgID, "membership", m.ID)
	}
	return m, nil
}

// ConsoleStaff finds the console's staff person or creates it; the unique
// index keeps a racing second creation from making another.
func (db *DB) ConsoleStaff(ctx context.Context, name string, at time.Time) (storage.Person, error) {
	var p storage.Person
	err := db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `INSERT INTO people (full_name, position, work_email, personal_email, locale, created_at, console_staff)
			VALUES (?, '', '', '', '', ?, ?) ON CONFLICT (console_staff) WHERE console_staff = TRUE DO NOTHING`, name, c.d.t(at), true)
		if err != nil {
			return fmt.Errorf("insert staff person: %w", err)
		}
		err = c.row(ctx, "SELECT "+personCols+" FROM people p WHERE p.console_staff = ?", true).Scan(personDest(&p)...)
		if err != nil {
			return fmt.Errorf("read staff person: %w", notFound(err))
		}
		return nil
	})
	if err != nil {
		return storage.Person{}, fmt.Errorf("console staff: %w", err)
	}
	return p, nil
}

// AddAudit records an audit entry.
func (db *DB) AddAudit(ctx context.Context, a storage.AuditEntry) error {
	if err := db.conn().addAudit(ctx, a); err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

func (c conn) addAudit(ctx context.Context, a storage.AuditEntry) error {
	if a.Action == "" {
		return errors.New("audit entry without an action")
	}
	_, err := c.exec(ctx, "INSERT INTO console_audit (at, person_id, action, org_id, record, ip) VALUES (?, ?, ?, ?, ?, ?)",
		c.d.t(a.At), nullID(a.PersonID), a.Action, nullID(a.OrgID), a.Record, a.IP)
	if err != nil {
		return fmt.Errorf("insert audit entry: %w", c.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// maxAudit bounds one page of the audit log.
const maxAudit = 1000

// Audit lists audit entries, newest first.
func (db *DB) Audit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEntry, error) {
	if q.Limit <= 0 || q.Limit > maxAudit {
		return nil, fmt.Errorf("list audit: limit %d is not 1 to %d", q.Limit, maxAudit)
	}
	query := "SELECT a.id, a.at, a.person_id, a.action, a.org_id, a.record, a.ip FROM console_audit a"
	var where []string
	var args []any
	if q.Under != nil {
		if q.Under.Path == "" {
			return nil, fmt.Errorf("list audit: org %d has no path", q.Under.ID)
		}
		query += " JOIN orgs o ON o.id = a.org_id"
		where, args = append(where, "o.path LIKE ?"), append(args, q.Under.Path+"%")
	}
	if q.PersonID != 0 {
		where, args = append(where, "a.person_id = ?"), append(args, q.PersonID)
	}
	if q.Action != "" {
		where, args = append(where, "a.action = ?"), append(args, q.Action)
	}
	if q.Before != 0 {
		where, args = append(where, "a.id < ?"), append(args, q.Before)
	}
	for i, w := range where {
		if i == 0 {
			query += " WHERE " + w
		} else {
			query += " AND " + w
		}
	}
	query += " ORDER BY a.id DESC LIMIT ?"
	args = append(args, q.Limit)
	dest := func(a *storage.AuditEntry) []any {
		return []any{&a.ID, timeCol{&a.At}, idCol{&a.PersonID}, &a.Action, idCol{&a.OrgID}, &a.Record, &a.IP}
	}
	out, err := queryAll(ctx, db.conn(), dest, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

// forgetConsole is the console's part of erasing a person: their sign-in
// links go, their sessions end, and the audit log keeps what they did
// without the addresses they did it from.
func (c conn) forgetConsole(ctx context.Context, personID int64, at time.Time) error {
	if _, err := c.exec(ctx, "DELETE FROM console_links WHERE person_id = ?", personID); err != nil {
		return fmt.Errorf("delete sign-in links: %w", err)
	}
	_, err := c.exec(ctx, "UPDATE console_sessions SET revoked_at = ?, end_reason = ? WHERE person_id = ? AND revoked_at IS NULL",
		c.d.t(at), "erased", personID)
	if err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	if _, err := c.exec(ctx, "UPDATE console_audit SET ip = '' WHERE person_id = ?", personID); err != nil {
		return fmt.Errorf("erase audit addresses: %w", err)
	}
	return nil
}
