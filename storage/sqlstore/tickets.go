package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const ticketCols = "id, person_id, org_id, level_org_id, topic, share_name, keep_text, status, assignee_id, " +
	"created_at, due_at, first_response_at, closed_at, escalations, rating, rating_comment"

func ticketDest(t *storage.Ticket) []any {
	return []any{&t.ID, idCol{&t.PersonID}, &t.OrgID, &t.LevelOrgID, &t.Topic, &t.ShareName, &t.KeepText, &t.Status,
		idCol{&t.AssigneeID}, timeCol{&t.CreatedAt}, timeCol{&t.DueAt}, nullTimeCol{&t.FirstResponseAt},
		nullTimeCol{&t.ClosedAt}, &t.Escalations, &t.Rating, &t.RatingComment}
}

const messageCols = "id, ticket_id, author_id, from_member, text, attachments, at"

func messageDest(m *storage.TicketMessage) []any {
	return []any{&m.ID, &m.TicketID, idCol{&m.AuthorID}, &m.FromMember, &m.Text, attachmentsCol{&m.Attachments}, timeCol{&m.At}}
}

func validStatus(s storage.TicketStatus) bool {
	return s == storage.TicketOpen || s == storage.TicketTaken || s == storage.TicketClosed
}

// CreateTicket commits a ticket and its first message in one transaction.
// Status defaults to open; the first message is the member's, by the ticket's
// person and at its creation time unless set.
func (db *DB) CreateTicket(ctx context.Context, t storage.Ticket, first storage.TicketMessage) (storage.Ticket, error) {
	if t.Status == "" {
		t.Status = storage.TicketOpen
	}
	if t.OrgID == 0 || t.LevelOrgID == 0 || !validStatus(t.Status) {
		return storage.Ticket{}, fmt.Errorf("create ticket: incomplete ticket (org %d, level org %d, status %q)",
			t.OrgID, t.LevelOrgID, t.Status)
	}
	first.FromMember = true
	if first.AuthorID == 0 {
		first.AuthorID = t.PersonID
	}
	if first.At.IsZero() {
		first.At = t.CreatedAt
	}
	var out storage.Ticket
	err := db.inTx(ctx, func(c conn) error {
		err := c.row(ctx, "INSERT INTO tickets ("+strings.TrimPrefix(ticketCols, "id, ")+") VALUES ("+placeholders(15)+") RETURNING "+ticketCols,
			nullID(t.PersonID), t.OrgID, t.LevelOrgID, t.Topic, t.ShareName, t.KeepText, t.Status, nullID(t.AssigneeID),
			c.d.t(t.CreatedAt), c.d.t(t.DueAt), c.d.tp(t.FirstResponseAt), c.d.tp(t.ClosedAt), t.Escalations, t.Rating, t.RatingComment).
			Scan(ticketDest(&out)...)
		if err != nil {
			return fmt.Errorf("insert ticket: %w", c.d.classify(err, storage.ErrConflict))
		}
		first.TicketID = out.ID
		return c.insertMessage(ctx, first)
	})
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	db.logger.InfoContext(ctx, "ticket created", "ticket", out.ID, "person", out.PersonID,
		"org", out.OrgID, "level", out.LevelOrgID)
	return out, nil
}

func (c conn) insertMessage(ctx context.Context, m storage.TicketMessage) error {
	atts, err := marshalAttachments(m.Attachments)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, "INSERT INTO ticket_messages (ticket_id, author_id, from_member, text, attachments, at) VALUES (?, ?, ?, ?, ?, ?)",
		m.TicketID, nullID(m.AuthorID), m.FromMember, m.Text, atts, c.d.t(m.At))
	if err != nil {
		return fmt.Errorf("insert message: %w", c.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// Ticket finds a ticket by its number.
func (db *DB) Ticket(ctx context.Context, id int64) (storage.Ticket, error) {
	t, err := db.conn().ticket(ctx, id, false)
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("get ticket: %w", err)
	}
	return t, nil
}

// ticket reads a ticket, locking its row for the transaction when lock is set.
func (c conn) ticket(ctx context.Context, id int64, lock bool) (storage.Ticket, error) {
	q := "SELECT " + ticketCols + " FROM tickets WHERE id = ?"
	if lock {
		q += c.d.ForUpdate
	}
	var t storage.Ticket
	if err := c.row(ctx, q, id).Scan(ticketDest(&t)...); err != nil {
		return storage.Ticket{}, fmt.Errorf("ticket %d: %w", id, notFound(err))
	}
	return t, nil
}

// TicketsOf lists a member's tickets, newest first.
func (db *DB) TicketsOf(ctx context.Context, personID int64) ([]storage.Ticket, error) {
	ts, err := queryAll(ctx, db.conn(), ticketDest, "SELECT "+ticketCols+" FROM tickets WHERE person_id = ? ORDER BY created_at DESC, id DESC", personID)
	if err != nil {
		return nil, fmt.Errorf("list tickets of person %d: %w", personID, err)
	}
	return ts, nil
}

// FindTickets lists the tickets of members of q.Under's subtree, filtered by
// status and creation period, oldest first. The subtree comes from the
// stored path of q.Under, so a stale Org value still selects the tree as it is.
func (db *DB) FindTickets(ctx context.Context, q storage.TicketQuery) ([]storage.Ticket, error) {
	if q.Under.ID == 0 {
		return nil, errors.New("find tickets: no org to search under")
	}
	var b strings.Builder
	b.WriteString("SELECT " + ticketCols + ` FROM tickets WHERE org_id IN (
		SELECT o.id FROM orgs o JOIN orgs u ON o.path LIKE (u.path || '%') WHERE u.id = ?)`)
	args := []any{q.Under.ID}
	if len(q.Statuses) > 0 {
		b.WriteString(" AND status IN (" + placeholders(len(q.Statuses)) + ")")
		for _, s := range q.Statuses {
			args = append(args, s)
		}
	}
	if !q.CreatedFrom.IsZero() {
		b.WriteString(" AND created_at >= ?")
		args = append(args, db.d.t(q.CreatedFrom))
	}
	if !q.CreatedTo.IsZero() {
		b.WriteString(" AND created_at < ?")
		args = append(args, db.d.t(q.CreatedTo))
	}
	b.WriteString(" ORDER BY created_at, id")
	ts, err := queryAll(ctx, db.conn(), ticketDest, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("find tickets under org %d: %w", q.Under.ID, err)
	}
	return ts, nil
}

// AddTicketMessage adds to a ticket's thread. The ticket's row is locked
// first, so a message and a concurrent close never both succeed.
func (db *DB) AddTicketMessage(ctx context.Context, m storage.TicketMessage) (storage.Ticket, error) {
	var t storage.Ticket
	err := db.inTx(ctx, func(c conn) error {
		cur, err := c.ticket(ctx, m.TicketID, true)
		if err != nil {
			return err
		}
		if cur.Status == storage.TicketClosed {
			return fmt.Errorf("ticket %d: %w", m.TicketID, storage.ErrTicketClosed)
		}
		if err := c.insertMessage(ctx, m); err != nil {
			return err
		}
		if !m.FromMember {
			_, err := c.exec(ctx, "UPDATE tickets SET first_response_at = ? WHERE id = ? AND first_response_at IS NULL",
				c.d.t(m.At), m.TicketID)
			if err != nil {
				return fmt.Errorf("note first response: %w", err)
			}
		}
		t, err = c.ticket(ctx, m.TicketID, false)
		return err
	})
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("add ticket message: %w", err)
	}
	return t, nil
}

// TicketMessages lists a ticket's thread, oldest first.
func (db *DB) TicketMessages(ctx context.Context, ticketID int64) ([]storage.TicketMessage, error) {
	ms, err := queryAll(ctx, db.conn(), messageDest, "SELECT "+messageCols+" FROM ticket_messages WHERE ticket_id = ? ORDER BY at, id", ticketID)
	if err != nil {
		return nil, fmt.Errorf("list messages of ticket %d: %w", ticketID, err)
	}
	return ms, nil
}

// TakeTicket assigns an open ticket. The row lock makes racing takers queue:
// the first finds it open and takes it, the others find it taken and get it
// back, as it is, with ErrAlreadyTaken. at is not kept: a take is no answer.
func (db *DB) TakeTicket(ctx context.Context, id, responderID int64, at time.Time) (storage.Ticket, error) {
	var t storage.Ticket
	err := db.inTx(ctx, func(c conn) error {
		cur, err := c.ticket(ctx, id, true)
		if err != nil {
			return err
		}
		switch cur.Status {
		case storage.TicketClosed:
			return fmt.Errorf("ticket %d: %w", id, storage.ErrTicketClosed)
		case storage.TicketTaken:
			t = cur
			return fmt.Errorf("ticket %d by person %d: %w", id, cur.AssigneeID, storage.ErrAlreadyTaken)
		}
		err = c.row(ctx, "UPDATE tickets SET status = ?, assignee_id = ? WHERE id = ? AND status = ? RETURNING "+ticketCols,
			storage.TicketTaken, responderID, id, storage.TicketOpen).Scan(ticketDest(&t)...)
		if err != nil {
			return fmt.Errorf("assign ticket %d: %w", id, c.d.classify(notFound(err), storage.ErrConflict))
		}
		return nil
	})
	switch {
	case errors.Is(err, storage.ErrAlreadyTaken):
		return t, fmt.Errorf("take ticket: %w", err)
	case err != nil:
		return storage.Ticket{}, fmt.Errorf("take ticket: %w", err)
	}
	db.logger.InfoContext(ctx, "ticket taken", "ticket", id, "assignee", responderID, "at", at)
	return t, nil
}

// MoveTicket hands a ticket from one level to another. The UPDATE is guarded
// on the level it leaves, so of two replicas escalating it only one moves it.
func (db *DB) MoveTicket(ctx context.Context, id, fromOrgID, toOrgID int64, due time.Time, escalated bool) (storage.Ticket, error) {
	step := 0
	if escalated {
		step = 1
	}
	c := db.conn()
	var t storage.Ticket
	err := c.row(ctx, `UPDATE tickets SET level_org_id = ?, due_at = ?, status = ?, assignee_id = NULL, escalations = escalations + ?
		WHERE id = ? AND level_org_id = ? AND status <> ? RETURNING `+ticketCols,
		toOrgID, c.d.t(due), storage.TicketOpen, step, id, fromOrgID, storage.TicketClosed).Scan(ticketDest(&t)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.unchanged(ctx, id, fmt.Sprintf("not open at org %d", fromOrgID), storage.ErrConflict)
	}
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("move ticket %d to org %d: %w", id, toOrgID, c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "ticket moved", "ticket", id, "from", fromOrgID, "to", toOrgID, "escalated", escalated)
	return t, nil
}

// EscalateTicket moves an overdue ticket up: only while it is still at
// fromOrgID, unanswered and due by now, so a reply or another sweep in
// between wins.
func (db *DB) EscalateTicket(ctx context.Context, id, fromOrgID, toOrgID int64, due, now time.Time) (storage.Ticket, error) {
	step := 0
	if toOrgID != fromOrgID {
		step = 1
	}
	c := db.conn()
	var t storage.Ticket
	err := c.row(ctx, `UPDATE tickets SET level_org_id = ?, due_at = ?, status = ?, assignee_id = NULL, escalations = escalations + ?
		WHERE id = ? AND level_org_id = ? AND status <> ? AND first_response_at IS NULL AND due_at <= ? RETURNING `+ticketCols,
		toOrgID, c.d.t(due), storage.TicketOpen, step, id, fromOrgID, storage.TicketClosed, c.d.t(now)).Scan(ticketDest(&t)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.unchanged(ctx, id, fmt.Sprintf("not overdue at org %d", fromOrgID), storage.ErrConflict)
	}
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("escalate ticket %d to org %d: %w", id, toOrgID, c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "ticket escalated", "ticket", id, "from", fromOrgID, "to", toOrgID)
	return t, nil
}

// unchanged explains why a guarded UPDATE of ticket id touched nothing: the
// ticket is unknown (ErrNotFound) or not in the state it needed (state).
func (c conn) unchanged(ctx context.Context, id int64, why string, state error) error {
	if _, err := c.ticket(ctx, id, false); err != nil {
		return err
	}
	return fmt.Errorf("ticket %d %s: %w", id, why, state)
}

// CloseTicket closes a ticket that is not closed yet.
func (db *DB) CloseTicket(ctx context.Context, id int64, at time.Time) (storage.Ticket, error) {
	c := db.conn()
	var t storage.Ticket
	err := c.row(ctx, "UPDATE tickets SET status = ?, closed_at = ? WHERE id = ? AND status <> ? RETURNING "+ticketCols,
		storage.TicketClosed, c.d.t(at), id, storage.TicketClosed).Scan(ticketDest(&t)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.unchanged(ctx, id, "already closed", storage.ErrTicketClosed)
	}
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("close ticket: %w", err)
	}
	db.logger.InfoContext(ctx, "ticket closed", "ticket", id)
	return t, nil
}

// RateTicket stores the member's rating of a closed ticket; rating again
// replaces the earlier one.
func (db *DB) RateTicket(ctx context.Context, id int64, rating int, comment string) error {
	if rating < 1 || rating > 5 {
		return fmt.Errorf("rate ticket %d: rating %d is not 1 to 5", id, rating)
	}
	c := db.conn()
	err := c.execOne(ctx, "UPDATE tickets SET rating = ?, rating_comment = ? WHERE id = ? AND status = ?",
		rating, comment, id, storage.TicketClosed)
	if errors.Is(err, storage.ErrNotFound) {
		err = c.unchanged(ctx, id, "not closed", storage.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("rate ticket: %w", err)
	}
	return nil
}

// OverdueTickets lists unclosed tickets without a first response whose
// deadline is at or before now, the most overdue first.
func (db *DB) OverdueTickets(ctx context.Context, now time.Time) ([]storage.Ticket, error) {
	ts, err := queryAll(ctx, db.conn(), ticketDest, "SELECT "+ticketCols+` FROM tickets
		WHERE status <> ? AND first_response_at IS NULL AND due_at <= ? ORDER BY due_at, id`,
		storage.TicketClosed, db.d.t(now))
	if err != nil {
		return nil, fmt.Errorf("list overdue tickets: %w", err)
	}
	return ts, nil
}

// SetResponder names a hot-line responder; naming one twice changes nothing.
func (db *DB) SetResponder(ctx context.Context, r storage.Responder) error {
	_, err := db.conn().exec(ctx, `INSERT INTO responders (person_id, org_id, topic) VALUES (?, ?, ?)
		ON CONFLICT (person_id, org_id, topic) DO NOTHING`, r.PersonID, r.OrgID, r.Topic)
	if err != nil {
		return fmt.Errorf("set responder of org %d: %w", r.OrgID, db.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// RemoveResponder removes exactly the named responder row.
func (db *DB) RemoveResponder(ctx context.Context, r storage.Responder) error {
	err := db.conn().execOne(ctx, "DELETE FROM responders WHERE person_id = ? AND org_id = ? AND topic = ?", r.PersonID, r.OrgID, r.Topic)
	if err != nil {
		return fmt.Errorf("remove responder of org %d: %w", r.OrgID, err)
	}
	return nil
}

// Responders lists an org's named responders by person, then topic.
func (db *DB) Responders(ctx context.Context, orgID int64) ([]storage.Responder, error) {
	dest := func(r *storage.Responder) []any { return []any{&r.PersonID, &r.OrgID, &r.Topic} }
	rs, err := queryAll(ctx, db.conn(), dest, "SELECT person_id, org_id, topic FROM responders WHERE org_id = ? ORDER BY person_id, topic", orgID)
	if err != nil {
		return nil, fmt.Errorf("list responders of org %d: %w", orgID, err)
	}
	return rs, nil
}

// AddDeskPost records a ticket's message in a desk group; a message already
// recorded is ErrConflict, an unknown ticket ErrNotFound.
func (db *DB) AddDeskPost(ctx context.Context, p storage.DeskPost) error {
	if !p.Platform.Valid() || p.ChatID == "" || p.MessageID == "" {
		return fmt.Errorf("add desk post: invalid message %q", p.Platform)
	}
	_, err := db.conn().exec(ctx, "INSERT INTO desk_posts (ticket_id, platform, chat_id, message_id) VALUES (?, ?, ?, ?)",
		p.TicketID, p.Platform, p.ChatID, p.MessageID)
	if err != nil {
		return fmt.Errorf("add desk post of ticket %d: %w", p.TicketID, db.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// AddTicketPost remembers a message that carries a ticket's buttons; the
// same message twice is one post.
func (db *DB) AddTicketPost(ctx context.Context, p storage.TicketPost) error {
	if !p.Platform.Valid() || p.ChatID == "" || p.MessageID == "" {
		return fmt.Errorf("add ticket post: invalid message %q", p.Platform)
	}
	_, err := db.conn().exec(ctx, `INSERT INTO ticket_posts (ticket_id, platform, chat_id, message_id, kind, lang) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, chat_id, message_id) DO NOTHING`, p.TicketID, p.Platform, p.ChatID, p.MessageID, p.Kind, p.Lang)
	if err != nil {
		return fmt.Errorf("add post of ticket %d: %w", p.TicketID, db.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// TakeTicketPosts deletes a ticket's posts and returns them; of two callers
// at once, each post goes to one.
func (db *DB) TakeTicketPosts(ctx context.Context, ticketID int64) ([]storage.TicketPost, error) {
	out, err := queryAll(ctx, db.conn(), func(p *storage.TicketPost) []any {
		return []any{&p.TicketID, &p.Platform, &p.ChatID, &p.MessageID, &p.Kind, &p.Lang}
	}, "DELETE FROM ticket_posts WHERE ticket_id = ? RETURNING ticket_id, platform, chat_id, message_id, kind, lang", ticketID)
	if err != nil {
		return nil, fmt.Errorf("take posts of ticket %d: %w", ticketID, err)
	}
	return out, nil
}

// DeskPost finds the ticket posted as a desk group's message.
func (db *DB) DeskPost(ctx context.Context, pl storage.Platform, chatID, messageID string) (storage.DeskPost, error) {
	var p storage.DeskPost
	err := db.conn().row(ctx, "SELECT ticket_id, platform, chat_id, message_id FROM desk_posts WHERE platform = ? AND chat_id = ? AND message_id = ?",
		pl, chatID, messageID).Scan(&p.TicketID, &p.Platform, &p.ChatID, &p.MessageID)
	if err != nil {
		return storage.DeskPost{}, fmt.Errorf("get desk post: %w", notFound(err))
	}
	return p, nil
}

// attachmentJSON is an attachment as stored: its own tags keep the stored
// form apart from the Go field names.
type attachmentJSON struct {
	Platform storage.Platform `json:"platform"`
	Kind     string           `json:"kind"`
	FileID   string           `json:"file_id"`
	Name     string           `json:"name,omitempty"`
}

// marshalAttachments encodes attachments as a JSON array; none is NULL.
func marshalAttachments(atts []storage.Attachment) (any, error) {
	if len(atts) == 0 {
		return nil, nil
	}
	out := make([]attachmentJSON, len(atts))
	for i, a := range atts {
		out[i] = attachmentJSON(a)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode attachments: %w", err)
	}
	return string(b), nil
}

// attachmentsCol scans the JSON attachments column; NULL is a nil slice.
type attachmentsCol struct{ dst *[]storage.Attachment }

func (c attachmentsCol) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		*c.dst = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("scan attachments from %T", src)
	}
	var in []attachmentJSON
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("scan attachments: %w", err)
	}
	if len(in) == 0 {
		*c.dst = nil
		return nil
	}
	out := make([]storage.Attachment, len(in))
	for i, a := range in {
		out[i] = storage.Attachment(a)
	}
	*c.dst = out
	return nil
}
