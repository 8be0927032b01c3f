package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/unionhub/unionhub/storage"
)

const (
	personCols = "p.id, p.full_name, p.position, p.work_email, p.personal_email, p.locale, p.created_at, p.erased_at"
	// personFields is personCols for a RETURNING clause, which takes no table alias.
	personFields = "id, full_name, position, work_email, personal_email, locale, created_at, erased_at"
)

func personDest(p *storage.Person) []any {
	return []any{&p.ID, &p.FullName, &p.Position, &p.WorkEmail, &p.PersonalEmail, &p.Locale, timeCol{&p.CreatedAt}, nullTimeCol{&p.ErasedAt}}
}

const accountCols = "a.platform, a.external_id, a.person_id, a.last_seen_at, a.blocked_at"

func accountDest(a *storage.Account) []any {
	return []any{&a.Platform, &a.ExternalID, &a.PersonID, timeCol{&a.LastSeenAt}, nullTimeCol{&a.BlockedAt}}
}

// Register commits a whole registration in one transaction.
func (db *DB) Register(ctx context.Context, reg storage.Registration) (storage.Person, storage.Membership, error) {
	if !reg.Platform.Valid() || reg.ExternalID == "" || !reg.Role.Valid() || reg.OrgID == 0 {
		return storage.Person{}, storage.Membership{}, fmt.Errorf("register: incomplete registration (platform %q, role %q, org %d)",
			reg.Platform, reg.Role, reg.OrgID)
	}
	var (
		p storage.Person
		m storage.Membership
	)
	err := db.inTx(ctx, func(c conn) error {
		var taken int
		err := c.row(ctx, "SELECT 1 FROM accounts WHERE platform = ? AND external_id = ?", reg.Platform, reg.ExternalID).Scan(&taken)
		switch {
		case err == nil:
			return storage.ErrAlreadyRegistered
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("check account: %w", err)
		}

		status := storage.StatusPending
		if reg.InviteCode != "" {
			inv, err := c.consumeInvite(ctx, reg.InviteCode, reg.At)
			if err != nil {
				return err
			}
			if inv.OrgID != reg.OrgID || inv.Role != reg.Role {
				return fmt.Errorf("invite is for another org or role: %w", storage.ErrConflict)
			}
			status = storage.StatusActive
		}

		err = c.row(ctx, `INSERT INTO people (full_name, position, work_email, personal_email, locale, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			reg.FullName, reg.Position, reg.WorkEmail, reg.PersonalEmail, reg.Locale, c.d.t(reg.At)).Scan(&p.ID)
		if err != nil {
			return fmt.Errorf("insert person: %w", err)
		}
		_, err = c.exec(ctx, "INSERT INTO accounts (platform, external_id, person_id, last_seen_at) VALUES (?, ?, ?, ?)",
			reg.Platform, reg.ExternalID, p.ID, c.d.t(reg.At))
		if err != nil {
			return fmt.Errorf("insert account: %w", c.d.classify(err, storage.ErrAlreadyRegistered))
		}
		for _, cons := range reg.Consents {
			cons.PersonID = p.ID
			if cons.At.IsZero() {
				cons.At = reg.At
			}
			if err := c.insertConsent(ctx, cons); err != nil {
				return err
			}
		}
		var mid int64
		err = c.row(ctx, "INSERT INTO memberships (person_id, org_id, role, status, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			p.ID, reg.OrgID, reg.Role, status, c.d.t(reg.At)).Scan(&mid)
		if err != nil {
			return fmt.Errorf("insert membership: %w", c.d.classify(err, storage.ErrConflict))
		}
		if p, err = c.person(ctx, p.ID); err != nil {
			return err
		}
		m, err = c.membership(ctx, mid)
		return err
	})
	if err != nil {
		return storage.Person{}, storage.Membership{}, fmt.Errorf("register: %w", err)
	}
	db.logger.InfoContext(ctx, "person registered", "person", p.ID, "org", m.Org.ID, "membership", m.ID, "status", m.Status)
	return p, m, nil
}

// JoinByInvite gives a registered person the invite's role, active at once.
func (db *DB) JoinByInvite(ctx context.Context, personID int64, code string, at time.Time) (storage.Membership, error) {
	var m storage.Membership
	err := db.inTx(ctx, func(c conn) error {
		// Locking the person makes two joins of the same person take turns.
		var erased bool
		err := c.row(ctx, "SELECT erased_at IS NOT NULL FROM people WHERE id = ?"+c.d.ForUpdate, personID).Scan(&erased)
		if err != nil {
			return fmt.Errorf("person %d: %w", personID, notFound(err))
		}
		if erased {
			return fmt.Errorf("person %d is erased: %w", personID, storage.ErrNotFound)
		}
		inv, err := c.invite(ctx, code)
		if err != nil {
			return err
		}
		var mid int64
		if inv.Role == storage.RoleSupporter {
			// Nobody is demoted: someone active in the org keeps what they hold.
			err = c.row(ctx, "SELECT id FROM memberships WHERE person_id = ? AND org_id = ? AND status = ? ORDER BY role = ? LIMIT 1",
				personID, inv.OrgID, storage.StatusActive, storage.RoleSupporter).Scan(&mid)
		} else {
			err = c.row(ctx, "SELECT id FROM memberships WHERE person_id = ? AND org_id = ? AND role = ? AND status = ?",
				personID, inv.OrgID, inv.Role, storage.StatusActive).Scan(&mid)
		}
		switch {
		case err == nil:
			m, err = c.membership(ctx, mid)
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find membership: %w", err)
		}
		if inv, err = c.consumeInvite(ctx, code, at); err != nil {
			return err
		}
		err = c.row(ctx, `INSERT INTO memberships (person_id, org_id, role, status, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (person_id, org_id, role) DO UPDATE SET status = excluded.status, decided_by = NULL, decided_at = NULL
			RETURNING id`, personID, inv.OrgID, inv.Role, storage.StatusActive, c.d.t(at)).Scan(&mid)
		if err != nil {
			return fmt.Errorf("upsert membership: %w", err)
		}
		if inv.Role != storage.RoleSupporter {
			if err := c.endSupporter(ctx, personID, inv.OrgID, 0, at); err != nil {
				return err
			}
		}
		m, err = c.membership(ctx, mid)
		return err
	})
	if err != nil {
		return storage.Membership{}, fmt.Errorf("join by invite: %w", err)
	}
	return m, nil
}

// RecordRefusal stores a declined consent without any person.
func (db *DB) RecordRefusal(ctx context.Context, cons storage.Consent) error {
	cons.PersonID = 0
	cons.Accepted = false
	if err := db.conn().insertConsent(ctx, cons); err != nil {
		return fmt.Errorf("record refusal: %w", err)
	}
	return nil
}

// RecordConsent stores a registered person's consent decision.
func (db *DB) RecordConsent(ctx context.Context, cons storage.Consent) error {
	if cons.PersonID == 0 {
		return errors.New("record consent: no person")
	}
	if err := db.conn().insertConsent(ctx, cons); err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return nil
}

func (c conn) insertConsent(ctx context.Context, cons storage.Consent) error {
	_, err := c.exec(ctx, "INSERT INTO consents (person_id, org_id, kind, version, locale, accepted, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		nullID(cons.PersonID), nullID(cons.OrgID), cons.Kind, cons.Version, cons.Locale, cons.Accepted, c.d.t(cons.At))
	if err != nil {
		return fmt.Errorf("insert consent: %w", c.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// Consents lists a person's consent decisions, oldest first.
func (db *DB) Consents(ctx context.Context, personID int64) ([]storage.Consent, error) {
	consentDest := func(c *storage.Consent) []any {
		return []any{idCol{&c.PersonID}, idCol{&c.OrgID}, &c.Kind, &c.Version, &c.Locale, &c.Accepted, timeCol{&c.At}}
	}
	out, err := queryAll(ctx, db.conn(), consentDest, `SELECT person_id, org_id, kind, version, locale, accepted, at
		FROM consents WHERE person_id = ? ORDER BY at, id`, personID)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	return out, nil
}

// Person finds a person by id, erased ones included.
func (db *DB) Person(ctx context.Context, id int64) (storage.Person, error) {
	p, err := db.conn().person(ctx, id)
	if err != nil {
		return storage.Person{}, fmt.Errorf("get person: %w", err)
	}
	return p, nil
}

func (c conn) person(ctx context.Context, id int64) (storage.Person, error) {
	var p storage.Person
	err := c.row(ctx, "SELECT "+personCols+" FROM people p WHERE p.id = ?", id).Scan(personDest(&p)...)
	if err != nil {
		return storage.Person{}, fmt.Errorf("person %d: %w", id, notFound(err))
	}
	return p, nil
}

// PersonByAccount finds the person behind a platform account.
func (db *DB) PersonByAccount(ctx context.Context, pl storage.Platform, externalID string) (storage.Person, error) {
	var p storage.Person
	err := db.conn().row(ctx, "SELECT "+personCols+` FROM people p JOIN accounts a ON a.person_id = p.id
		WHERE a.platform = ? AND a.external_id = ?`, pl, externalID).Scan(personDest(&p)...)
	if err != nil {
		return storage.Person{}, fmt.Errorf("get person by account: %w", notFound(err))
	}
	return p, nil
}

// Caller finds the person behind a platform account, with the account and
// whether another of their accounts was seen later, in one statement.
func (db *DB) Caller(ctx context.Context, pl storage.Platform, externalID string) (storage.Caller, error) {
	var c storage.Caller
	var later int
	err := db.conn().row(ctx, "SELECT "+personCols+", "+accountCols+`,
		(SELECT COUNT(*) FROM accounts b WHERE b.person_id = a.person_id AND b.last_seen_at > a.last_seen_at)
		FROM people p JOIN accounts a ON a.person_id = p.id
		WHERE a.platform = ? AND a.external_id = ?`, pl, externalID).Scan(append(append(personDest(&c.Person), accountDest(&c.Account)...), &later)...)
	if err != nil {
		return storage.Caller{}, fmt.Errorf("get caller: %w", notFound(err))
	}
	c.SeenLast = later == 0
	return c, nil
}

// UpdateProfile applies the patch's fields to a person who is not erased.
func (db *DB) UpdateProfile(ctx context.Context, personID int64, patch storage.ProfilePatch) (storage.Person, error) {
	var (
		sets []string
		args []any
	)
	for _, f := range []struct {
		col string
		val *string
	}{
		{"full_name", patch.FullName},
		{"position", patch.Position},
		{"work_email", patch.WorkEmail},
		{"personal_email", patch.PersonalEmail},
		{"locale", patch.Locale},
	} {
		if f.val != nil {
			sets = append(sets, f.col+" = ?")
			args = append(args, *f.val)
		}
	}
	// An empty patch still checks that the person can be updated.
	if len(sets) == 0 {
		sets = append(sets, "full_name = full_name")
	}
	c := db.conn()
	var p storage.Person
	err := c.row(ctx, "UPDATE people SET "+strings.Join(sets, ", ")+" WHERE id = ? AND erased_at IS NULL RETURNING "+personFields,
		append(args, personID)...).Scan(personDest(&p)...)
	if err != nil {
		return storage.Person{}, fmt.Errorf("update profile of person %d: %w", personID, notFound(err))
	}
	return p, nil
}

// Forget erases a person's personal data, accounts and link codes, ends
// their memberships and unlinks their tickets, news, deliveries, survey
// answers and board answers; the rows stay for the anonymous aggregates.
func (db *DB) Forget(ctx context.Context, personID int64, at time.Time) error {
	err := db.inTx(ctx, func(c conn) error {
		// Read before erasing: kept texts are scrubbed of what it says.
		p, err := c.person(ctx, personID)
		if err != nil {
			return fmt.Errorf("erase person: %w", err)
		}
		err = c.execOne(ctx, `UPDATE people SET full_name = '', position = '', work_email = '', personal_email = '', locale = '',
			erased_at = COALESCE(erased_at, ?) WHERE id = ?`, c.d.t(at), personID)
		if err != nil {
			return fmt.Errorf("erase person %d: %w", personID, err)
		}
		// Link codes go first: a concurrent UseLinkCode holds its code's row,
		// so this waits for it and the account it adds is deleted below.
		if _, err := c.exec(ctx, "DELETE FROM link_codes WHERE person_id = ?", personID); err != nil {
			return fmt.Errorf("delete link codes: %w", err)
		}
		// Posts in the person's chats name their messenger ids: they go
		// with the accounts.
		_, err = c.exec(ctx, `DELETE FROM ticket_posts WHERE EXISTS (SELECT 1 FROM accounts a
			WHERE a.person_id = ? AND a.platform = ticket_posts.platform AND a.external_id = ticket_posts.chat_id)`, personID)
		if err != nil {
			return fmt.Errorf("delete ticket posts: %w", err)
		}
		if err := c.forgetProgress(ctx, personID); err != nil {
			return err
		}
		if _, err := c.exec(ctx, "DELETE FROM accounts WHERE person_id = ?", personID); err != nil {
			return fmt.Errorf("delete accounts: %w", err)
		}
		_, err = c.exec(ctx, "UPDATE memberships SET status = ? WHERE person_id = ? AND status IN (?, ?)",
			storage.StatusEnded, personID, storage.StatusPending, storage.StatusActive)
		if err != nil {
			return fmt.Errorf("end memberships: %w", err)
		}
		if err := c.forgetTickets(ctx, p, at); err != nil {
			return err
		}
		if err := c.forgetMonitoring(ctx, personID); err != nil {
			return err
		}
		if err := c.forgetConsole(ctx, personID, at); err != nil {
			return err
		}
		return c.forgetBroadcasts(ctx, personID, at)
	})
	if err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	db.logger.InfoContext(ctx, "person forgotten", "person", personID)
	return nil
}

// forgetTickets unlinks a person from the hot line: their tickets and every
// message they wrote lose the link, the threads of their tickets lose their
// texts, attachments and rating comment unless they allowed KeepText, the
// texts that stay lose the person's name and e-mail addresses, they stop
// being a responder and the tickets they had taken are open again. Topics,
// times and ratings stay for the stats.
func (c conn) forgetTickets(ctx context.Context, p storage.Person, at time.Time) error {
	personID := p.ID
	_, err := c.exec(ctx, `UPDATE ticket_messages SET text = '', attachments = NULL
		WHERE ticket_id IN (SELECT id FROM tickets WHERE person_id = ? AND keep_text = ?)`, personID, false)
	if err != nil {
		return fmt.Errorf("erase ticket texts: %w", err)
	}
	if err := c.scrubKeptTexts(ctx, p); err != nil {
		return err
	}
	_, err = c.exec(ctx, `UPDATE ticket_messages SET author_id = NULL
		WHERE author_id = ? OR (from_member = ? AND ticket_id IN (SELECT id FROM tickets WHERE person_id = ?))`,
		personID, true, personID)
	if err != nil {
		return fmt.Errorf("unlink ticket messages: %w", err)
	}
	_, err = c.exec(ctx, "UPDATE tickets SET rating_comment = '' WHERE person_id = ? AND keep_text = ?", personID, false)
	if err != nil {
		return fmt.Errorf("erase rating comments: %w", err)
	}
	// Nobody is left to answer: the member's unclosed questions are withdrawn.
	_, err = c.exec(ctx, "UPDATE tickets SET status = ?, closed_at = ? WHERE person_id = ? AND status <> ?",
		storage.TicketClosed, c.d.t(at), personID, storage.TicketClosed)
	if err != nil {
		return fmt.Errorf("close tickets: %w", err)
	}
	if _, err := c.exec(ctx, "UPDATE tickets SET person_id = NULL WHERE person_id = ?", personID); err != nil {
		return fmt.Errorf("unlink tickets: %w", err)
	}
	if _, err := c.exec(ctx, "DELETE FROM responders WHERE person_id = ?", personID); err != nil {
		return fmt.Errorf("remove responder: %w", err)
	}
	// Tickets they had taken go back to the open pool for someone else.
	_, err = c.exec(ctx, "UPDATE tickets SET status = ?, assignee_id = NULL WHERE assignee_id = ? AND status = ?",
		storage.TicketOpen, personID, storage.TicketTaken)
	if err != nil {
		return fmt.Errorf("reopen taken tickets: %w", err)
	}
	return nil
}

// erasedMark stands in a kept text where the name or an e-mail address of
// a forgotten person was.
const erasedMark = "***"

// minScrubRunes is the shortest value scrubbed from kept texts: a shorter
// one names nobody and would be found inside other words.
const minScrubRunes = 3

// scrubKeptTexts takes a person's name and e-mail addresses, as registered,
// out of the ticket texts that outlive them: their own threads kept with
// KeepText, which they allowed to keep anonymously, and the replies they
// wrote in other members' threads. It runs while the tickets and messages
// are still linked to them.
func (c conn) scrubKeptTexts(ctx context.Context, p storage.Person) error {
	for _, v := range []string{p.FullName, p.WorkEmail, p.PersonalEmail} {
		if utf8.RuneCountInString(v) < minScrubRunes {
			continue
		}
		_, err := c.exec(ctx, `UPDATE ticket_messages SET text = REPLACE(text, ?, ?)
			WHERE (author_id = ? OR ticket_id IN (SELECT id FROM tickets WHERE person_id = ?)) AND REPLACE(text, ?, '') <> text`,
			v, erasedMark, p.ID, p.ID, v)
		if err != nil {
			return fmt.Errorf("scrub ticket texts: %w", err)
		}
		_, err = c.exec(ctx, `UPDATE tickets SET rating_comment = REPLACE(rating_comment, ?, ?)
			WHERE person_id = ? AND REPLACE(rating_comment, ?, '') <> rating_comment`, v, erasedMark, p.ID, v)
		if err != nil {
			return fmt.Errorf("scrub rating comments: %w", err)
		}
	}
	return nil
}

// Accounts lists a person's accounts, the most recently seen first.
func (db *DB) Accounts(ctx context.Context, personID int64) ([]storage.Account, error) {
	out, err := queryAll(ctx, db.conn(), accountDest, "SELECT "+accountCols+" FROM accounts a WHERE a.person_id = ? ORDER BY a.last_seen_at DESC, a.platform, a.external_id", personID)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// TouchAccount notes that the person wrote: they are seen and not blocking.
func (db *DB) TouchAccount(ctx context.Context, pl storage.Platform, externalID string, at time.Time) error {
	// A late or retried update must not move the time back or clear a block
	// recorded after it.
	res, err := db.conn().exec(ctx, `UPDATE accounts SET last_seen_at = ?, blocked_at = NULL
		WHERE platform = ? AND external_id = ? AND last_seen_at <= ? AND (blocked_at IS NULL OR blocked_at <= ?)`,
		db.d.t(at), pl, externalID, db.d.t(at), db.d.t(at))
	if err != nil {
		return fmt.Errorf("touch account: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("touch account: %w", err)
	} else if n == 0 {
		var one int
		err := db.conn().row(ctx, "SELECT 1 FROM accounts WHERE platform = ? AND external_id = ?", pl, externalID).Scan(&one)
		if err != nil {
			return fmt.Errorf("touch account: %w", notFound(err))
		}
	}
	return nil
}

// MarkBlocked notes that the person blocked the bot.
func (db *DB) MarkBlocked(ctx context.Context, pl storage.Platform, externalID string, at time.Time) error {
	err := db.conn().execOne(ctx, "UPDATE accounts SET blocked_at = ? WHERE platform = ? AND external_id = ?",
		db.d.t(at), pl, externalID)
	if err != nil {
		return fmt.Errorf("mark account blocked: %w", err)
	}
	return nil
}

// CreateLinkCode stores a code; a taken one is ErrConflict, an unknown person ErrNotFound.
func (db *DB) CreateLinkCode(ctx context.Context, lc storage.LinkCode) error {
	if lc.Code == "" {
		return errors.New("create link code: empty code")
	}
	_, err := db.conn().exec(ctx, "INSERT INTO link_codes (code, person_id, expires_at) VALUES (?, ?, ?)",
		lc.Code, lc.PersonID, db.d.t(lc.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create link code: %w", db.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// UseLinkCode attaches the account to the code's person and burns the code.
func (db *DB) UseLinkCode(ctx context.Context, code string, pl storage.Platform, externalID string, at time.Time) (storage.Person, error) {
	if !pl.Valid() || externalID == "" {
		return storage.Person{}, fmt.Errorf("use link code: invalid account %q", pl)
	}
	var p storage.Person
	err := db.inTx(ctx, func(c conn) error {
		var personID int64
		err := c.row(ctx, `SELECT lc.person_id FROM link_codes lc JOIN people p ON p.id = lc.person_id
			WHERE lc.code = ? AND lc.expires_at > ? AND p.erased_at IS NULL`+c.d.ForUpdate, code, c.d.t(at)).Scan(&personID)
		if err != nil {
			return fmt.Errorf("find code: %w", notFound(err))
		}
		var owner int64
		err = c.row(ctx, "SELECT person_id FROM accounts WHERE platform = ? AND external_id = ?", pl, externalID).Scan(&owner)
		switch {
		case err == nil && owner != personID:
			return storage.ErrAlreadyRegistered
		case errors.Is(err, sql.ErrNoRows):
			_, err = c.exec(ctx, "INSERT INTO accounts (platform, external_id, person_id, last_seen_at) VALUES (?, ?, ?, ?)",
				pl, externalID, personID, c.d.t(at))
			if err != nil {
				return fmt.Errorf("insert account: %w", c.d.classify(err, storage.ErrAlreadyRegistered))
			}
		case err != nil:
			return fmt.Errorf("find account: %w", err)
		}
		if _, err := c.exec(ctx, "DELETE FROM link_codes WHERE code = ?", code); err != nil {
			return fmt.Errorf("burn code: %w", err)
		}
		p, err = c.person(ctx, personID)
		return err
	})
	if err != nil {
		return storage.Person{}, fmt.Errorf("use link code: %w", err)
	}
	db.logger.InfoContext(ctx, "account linked", "person", p.ID, "platform", pl)
	return p, nil
}
