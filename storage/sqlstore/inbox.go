package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/storage"
)

// maxInbox bounds a page of the inbox.
const maxInbox = 1000

// validPath accepts a stored org path, "/1/7/42/": digits between slashes,
// so that it is safe as a LIKE prefix.
func validPath(p string) bool {
	if len(p) < 3 || p[0] != '/' || p[len(p)-1] != '/' || strings.Contains(p, "//") {
		return false
	}
	return strings.Trim(p, "/0123456789") == ""
}

// pathPrefix is the condition that org o lies in the subtree at path, a
// validPath. The path is written into the statement rather than passed as
// an argument: a prepared statement's generic plan, which the server
// switches to after a few runs, would estimate any prefix to hold a few
// orgs, and for the Union's whole tree walk every org's tickets.
func pathPrefix(path string) string {
	return "o.path LIKE '" + path + "%'"
}

// scopeFilter is the condition that a ticket (t) of a member of org (o)
// falls in one of scopes.
func scopeFilter(scopes []storage.AnswerScope) (string, []any, error) {
	if len(scopes) == 0 {
		return "", nil, errors.New("no scope")
	}
	var parts []string
	var args []any
	for _, s := range scopes {
		if !validPath(s.Path) {
			return "", nil, fmt.Errorf("scope path %q", s.Path)
		}
		if s.Topic == "" {
			parts = append(parts, pathPrefix(s.Path))
			continue
		}
		parts, args = append(parts, "("+pathPrefix(s.Path)+" AND t.topic = ?)"), append(args, s.Topic)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, nil
}

// inboxFrom is the FROM and WHERE of q, with its arguments.
func (db *DB) inboxFrom(q storage.InboxQuery) (string, []any, error) {
	scope, args, err := scopeFilter(q.Scopes)
	if err != nil {
		return "", nil, err
	}
	where := []string{scope}
	if q.Under != "" {
		if !validPath(q.Under) {
			return "", nil, fmt.Errorf("under path %q", q.Under)
		}
		where = append(where, pathPrefix(q.Under))
	}
	if len(q.Statuses) > 0 {
		where = append(where, "t.status IN ("+placeholders(len(q.Statuses))+")")
		for _, s := range q.Statuses {
			args = append(args, s)
		}
	}
	if q.Topic != "" {
		where, args = append(where, "t.topic = ?"), append(args, q.Topic)
	}
	if !q.OverdueAt.IsZero() {
		where = append(where, "t.status <> ? AND t.first_response_at IS NULL AND t.due_at <= ?")
		args = append(args, storage.TicketClosed, db.d.t(q.OverdueAt))
	}
	if q.AssigneeID != 0 {
		where, args = append(where, "t.assignee_id = ?"), append(args, q.AssigneeID)
	}
	return " FROM tickets t JOIN orgs o ON o.id = t.org_id WHERE " + strings.Join(where, " AND "), args, nil
}

// InboxTickets lists a page of the tickets q selects, by number: newest
// first, or oldest first.
func (db *DB) InboxTickets(ctx context.Context, q storage.InboxQuery) ([]storage.InboxTicket, error) {
	if q.Limit <= 0 || q.Limit > maxInbox {
		return nil, fmt.Errorf("list inbox: limit %d is not 1 to %d", q.Limit, maxInbox)
	}
	from, args, err := db.inboxFrom(q)
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	order, past := " ORDER BY t.id DESC", " AND t.id < ?"
	if q.Oldest {
		order, past = " ORDER BY t.id", " AND t.id > ?"
	}
	if q.After != 0 {
		from, args = from+past, append(args, q.After)
	}
	cols := "t." + strings.ReplaceAll(ticketCols, ", ", ", t.") + ", " + orgCols
	dest := func(t *storage.InboxTicket) []any { return append(ticketDest(&t.Ticket), orgDest(&t.Org)...) }
	ts, err := queryAll(ctx, db.conn(), dest, "SELECT "+cols+from+order+" LIMIT ?", append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	return ts, nil
}

// CountInbox counts the tickets q selects, up to q.Limit.
func (db *DB) CountInbox(ctx context.Context, q storage.InboxQuery) (int, error) {
	if q.Limit <= 0 {
		return 0, fmt.Errorf("count inbox: limit %d", q.Limit)
	}
	from, args, err := db.inboxFrom(q)
	if err != nil {
		return 0, fmt.Errorf("count inbox: %w", err)
	}
	var n int
	if err := db.conn().row(ctx, "SELECT COUNT(*) FROM (SELECT 1"+from+" LIMIT ?) c", append(args, q.Limit)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count inbox: %w", err)
	}
	return n, nil
}

// InboxEvents lists the members' messages after afterID on the tickets in
// scopes, oldest first.
func (db *DB) InboxEvents(ctx context.Context, scopes []storage.AnswerScope, afterID int64, limit int) ([]storage.InboxEvent, error) {
	if limit <= 0 || limit > maxInbox {
		return nil, fmt.Errorf("list inbox events: limit %d is not 1 to %d", limit, maxInbox)
	}
	scope, args, err := scopeFilter(scopes)
	if err != nil {
		return nil, fmt.Errorf("list inbox events: %w", err)
	}
	q := `SELECT m.id, m.ticket_id, NOT EXISTS (SELECT 1 FROM ticket_messages e WHERE e.ticket_id = m.ticket_id AND e.id < m.id)
		FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id JOIN orgs o ON o.id = t.org_id
		WHERE m.id > ? AND m.from_member = ? AND ` + scope + " ORDER BY m.id LIMIT ?"
	args = append([]any{afterID, true}, append(args, limit)...)
	out, err := queryAll(ctx, db.conn(), func(e *storage.InboxEvent) []any { return []any{&e.MessageID, &e.TicketID, &e.First} }, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list inbox events: %w", err)
	}
	return out, nil
}

// LastTicketMessage is the number of the newest ticket message.
func (db *DB) LastTicketMessage(ctx context.Context) (int64, error) {
	var id int64
	if err := db.conn().row(ctx, "SELECT COALESCE(MAX(id), 0) FROM ticket_messages").Scan(&id); err != nil {
		return 0, fmt.Errorf("last ticket message: %w", err)
	}
	return id, nil
}
