package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const broadcastCols = "id, author_id, org_id, text, format, attachments, mode, audience, status, created_at, scheduled_at, " +
	"started_at, finished_at, relay_deadline, progress_platform, progress_chat_id, progress_message_id"

// broadcastRow is a broadcast as scanned: the progress message is three
// nullable columns that become one optional DeskPost.
type broadcastRow struct {
	b                           storage.Broadcast
	platform, chatID, messageID sql.NullString
}

func broadcastDest(r *broadcastRow) []any {
	b := &r.b
	return []any{&b.ID, idCol{&b.AuthorID}, &b.OrgID, &b.Text, spansCol{&b.Format}, attachmentsCol{&b.Attachments}, &b.Mode, audienceCol{&b.Audience},
		&b.Status, timeCol{&b.CreatedAt}, nullTimeCol{&b.ScheduledAt}, nullTimeCol{&b.StartedAt}, nullTimeCol{&b.FinishedAt},
		nullTimeCol{&b.RelayDeadline}, &r.platform, &r.chatID, &r.messageID}
}

func (r broadcastRow) broadcast() storage.Broadcast {
	b := r.b
	if r.platform.Valid {
		b.Progress = &storage.DeskPost{Platform: storage.Platform(r.platform.String), ChatID: r.chatID.String, MessageID: r.messageID.String}
	}
	return b
}

func (c conn) broadcastsWhere(ctx context.Context, query string, args ...any) ([]storage.Broadcast, error) {
	rows, err := queryAll(ctx, c, broadcastDest, query, args...)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Broadcast, len(rows))
	for i, r := range rows {
		out[i] = r.broadcast()
	}
	return out, nil
}

// scanBroadcast reads the single broadcast a query returns.
func (c conn) scanBroadcast(ctx context.Context, query string, args ...any) (storage.Broadcast, error) {
	var r broadcastRow
	if err := c.row(ctx, query, args...).Scan(broadcastDest(&r)...); err != nil {
		return storage.Broadcast{}, err
	}
	return r.broadcast(), nil
}

func (c conn) broadcast(ctx context.Context, id int64) (storage.Broadcast, error) {
	b, err := c.scanBroadcast(ctx, "SELECT "+broadcastCols+" FROM broadcasts WHERE id = ?", id)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("broadcast %d: %w", id, notFound(err))
	}
	return b, nil
}

func validBroadcastStatus(s storage.BroadcastStatus) bool {
	switch s {
	case storage.BroadcastScheduled, storage.BroadcastSending, storage.BroadcastDone, storage.BroadcastCancelled:
		return true
	}
	return false
}

// CreateBroadcast stores a new broadcast; its status defaults to scheduled,
// so that nothing finishes it before its outbox is built.
func (db *DB) CreateBroadcast(ctx context.Context, b storage.Broadcast) (storage.Broadcast, error) {
	if b.Status == "" {
		b.Status = storage.BroadcastScheduled
	}
	if b.OrgID == 0 || (b.Mode != storage.ModeDirect && b.Mode != storage.ModeRelay) || !validBroadcastStatus(b.Status) {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: incomplete broadcast (org %d, mode %q, status %q)", b.OrgID, b.Mode, b.Status)
	}
	for _, r := range b.Audience.Roles {
		if !r.Valid() {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: unknown role %q", r)
		}
	}
	format, err := marshalSpans(b.Text, b.Format)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
	}
	atts, err := marshalAttachments(b.Attachments)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
	}
	aud, err := marshalAudience(b.Audience)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
	}
	var pl, chat, msg any
	if p := b.Progress; p != nil {
		pl, chat, msg = p.Platform, p.ChatID, p.MessageID
	}
	c := db.conn()
	out, err := c.scanBroadcast(ctx, "INSERT INTO broadcasts ("+strings.TrimPrefix(broadcastCols, "id, ")+") VALUES ("+placeholders(16)+
		") RETURNING "+broadcastCols,
		nullID(b.AuthorID), b.OrgID, b.Text, format, atts, b.Mode, aud, b.Status, c.d.t(b.CreatedAt), c.d.tp(b.ScheduledAt),
		c.d.tp(b.StartedAt), c.d.tp(b.FinishedAt), c.d.tp(b.RelayDeadline), pl, chat, msg)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "broadcast created", "broadcast_id", out.ID, "org_id", out.OrgID, "author_id", out.AuthorID,
		"mode", out.Mode, "status", out.Status)
	return out, nil
}

// Broadcast finds a broadcast by id.
func (db *DB) Broadcast(ctx context.Context, id int64) (storage.Broadcast, error) {
	b, err := db.conn().broadcast(ctx, id)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("get broadcast: %w", err)
	}
	return b, nil
}

// Broadcasts lists the broadcasts sent by an org, newest first, at most limit.
func (db *DB) Broadcasts(ctx context.Context, orgID int64, limit int) ([]storage.Broadcast, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list broadcasts of org %d: limit %d is not positive", orgID, limit)
	}
	bs, err := db.conn().broadcastsWhere(ctx, "SELECT "+broadcastCols+" FROM broadcasts WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
		orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list broadcasts of org %d: %w", orgID, err)
	}
	return bs, nil
}

// recipientsSQL returns the WITH clause whose last table, recipients, holds
// whom a broadcast reaches within scope: (org_id, person_id, platform,
// chat_id, priority), person_id NULL for a group chat. BuildOutbox inserts
// it and CountAudience counts it, so the preview is what gets sent. ok is
// false when the audience takes neither people nor chats.
func recipientsSQL(a storage.Audience, scope storage.OutboxScope, chosen []storage.Org) (query string, args []any, ok bool, err error) {
	if len(scope.Orgs) == 0 {
		return "", nil, false, errors.New("no organisation in scope")
	}
	if !a.Private && !a.Chats {
		return "", nil, false, nil
	}
	var b strings.Builder
	// Subtrees are path prefixes given as constants, so that the planner can
	// estimate them: a prefix taken from a joined row looks like a handful of
	// orgs to it, and a nested loop over 30,000 members took minutes.
	b.WriteString("WITH scope AS (SELECT o.id FROM orgs o WHERE ")
	if scope.Subtree {
		b.WriteString(pathPrefixes("o.path", len(scope.Orgs)))
		for _, o := range scope.Orgs {
			args = append(args, o.Path+"%")
		}
	} else {
		b.WriteString("o.id IN (" + placeholders(len(scope.Orgs)) + ")")
		for _, o := range scope.Orgs {
			args = append(args, o.ID)
		}
	}
	if len(a.OrgIDs) > 0 {
		if len(chosen) == 0 {
			b.WriteString(" AND false")
		} else {
			b.WriteString(" AND " + pathPrefixes("o.path", len(chosen)))
			for _, o := range chosen {
				args = append(args, o.Path+"%")
			}
		}
	}
	b.WriteString(")")

	var parts []string
	if a.Private {
		// One membership per person: the lowest org id, an activist role first.
		b.WriteString(`, picked AS (
			SELECT m.person_id, m.org_id, m.role,
				ROW_NUMBER() OVER (PARTITION BY m.person_id ORDER BY m.org_id, CASE WHEN m.role = ? THEN 0 ELSE 1 END) AS n
			FROM memberships m
			JOIN scope s ON s.id = m.org_id
			JOIN people p ON p.id = m.person_id
			WHERE m.status = ? AND p.erased_at IS NULL`)
		args = append(args, storage.RoleActivist, storage.StatusActive)
		if len(a.Roles) > 0 {
			b.WriteString(" AND m.role IN (" + placeholders(len(a.Roles)) + ")")
			for _, r := range a.Roles {
				args = append(args, r)
			}
		}
		// One account per person: the one seen last that does not block the bot.
		// A join, not IN (subquery): the planner may loop over an IN per row.
		b.WriteString(`), reach AS (
			SELECT a.person_id, a.platform, a.external_id,
				ROW_NUMBER() OVER (PARTITION BY a.person_id ORDER BY a.last_seen_at DESC, a.platform, a.external_id) AS n
			FROM accounts a JOIN picked pk ON pk.person_id = a.person_id AND pk.n = 1
			WHERE a.blocked_at IS NULL)`)
		parts = append(parts, fmt.Sprintf(`SELECT m.org_id, m.person_id, a.platform, a.external_id AS chat_id,
				CASE WHEN m.role = ? THEN %d ELSE %d END AS priority
			FROM picked m JOIN reach a ON a.person_id = m.person_id AND a.n = 1
			WHERE m.n = 1`, storage.PriorityActivist, storage.PriorityMember))
	}
	var tail []any
	if a.Private {
		tail = append(tail, storage.RoleActivist)
	}
	if a.Chats {
		parts = append(parts, fmt.Sprintf(`SELECT c.org_id, CAST(NULL AS BIGINT), c.platform, c.chat_id, %d
			FROM chat_bindings c JOIN scope s ON s.id = c.org_id WHERE c.desk = ?`, storage.PriorityChat))
		tail = append(tail, false)
	}
	b.WriteString(", recipients (org_id, person_id, platform, chat_id, priority) AS (" + strings.Join(parts, " UNION ALL ") + ") ")
	return b.String(), append(args, tail...), true, nil
}

// pathPrefixes is "(col LIKE ? OR …)" for n path prefixes.
func pathPrefixes(col string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = col + " LIKE ?"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// resolvePaths reads the stored paths of the scope's orgs and of the
// audience's chosen orgs, so that a stale Org value selects the tree as it is.
func (c conn) resolvePaths(ctx context.Context, a storage.Audience, scope storage.OutboxScope) (storage.OutboxScope, []storage.Org, error) {
	ids := make([]int64, len(scope.Orgs))
	for i, o := range scope.Orgs {
		ids[i] = o.ID
	}
	fresh, err := c.orgsByID(ctx, ids)
	if err != nil {
		return scope, nil, err
	}
	if len(fresh) != len(ids) {
		return scope, nil, fmt.Errorf("an organisation of the scope: %w", storage.ErrNotFound)
	}
	scope.Orgs = fresh
	var chosen []storage.Org
	if len(a.OrgIDs) > 0 {
		if chosen, err = c.orgsByID(ctx, a.OrgIDs); err != nil {
			return scope, nil, err
		}
	}
	return scope, chosen, nil
}

func (c conn) orgsByID(ctx context.Context, ids []int64) ([]storage.Org, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	os, err := c.orgs(ctx, "WHERE o.id IN ("+placeholders(len(ids))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("read org paths: %w", err)
	}
	return os, nil
}

// CountAudience counts whom BuildOutbox would reach now: people and chats.
func (db *DB) CountAudience(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope) (people, chats int, err error) {
	c := db.conn()
	scope, chosen, err := c.resolvePaths(ctx, b.Audience, scope)
	if err != nil {
		return 0, 0, fmt.Errorf("count audience of broadcast %d: %w", b.ID, err)
	}
	with, args, ok, err := recipientsSQL(b.Audience, scope, chosen)
	if err != nil {
		return 0, 0, fmt.Errorf("count audience of broadcast %d: %w", b.ID, err)
	}
	if !ok {
		return 0, 0, nil
	}
	err = c.row(ctx, with+"SELECT COUNT(person_id), COUNT(*) - COUNT(person_id) FROM recipients", args...).Scan(&people, &chats)
	if err != nil {
		return 0, 0, fmt.Errorf("count audience of broadcast %d: %w", b.ID, err)
	}
	return people, chats, nil
}

// BuildOutbox inserts the recipients of b within scope as queued deliveries
// in one statement; recipients already there are skipped. A broadcast that
// is done or cancelled gets none: ErrConflict.
func (db *DB) BuildOutbox(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope, at time.Time) (int, error) {
	c := db.conn()
	scope, chosen, err := c.resolvePaths(ctx, b.Audience, scope)
	if err != nil {
		return 0, fmt.Errorf("build outbox of broadcast %d: %w", b.ID, err)
	}
	with, args, ok, err := recipientsSQL(b.Audience, scope, chosen)
	if err != nil {
		return 0, fmt.Errorf("build outbox of broadcast %d: %w", b.ID, err)
	}
	cur, err := c.broadcast(ctx, b.ID)
	if err != nil {
		return 0, fmt.Errorf("build outbox: %w", err)
	}
	if cur.Status != storage.BroadcastScheduled && cur.Status != storage.BroadcastSending {
		return 0, fmt.Errorf("build outbox of broadcast %d (%s): %w", b.ID, cur.Status, storage.ErrConflict)
	}
	if !ok {
		return 0, nil
	}
	// A cancel that commits meanwhile leaves rows queued; claims cancel them.
	tt := c.d.TimeType
	res, err := c.exec(ctx, with+`INSERT INTO deliveries (broadcast_id, org_id, person_id, platform, chat_id, priority, status, attempts, next_at, updated_at)
		SELECT CAST(? AS BIGINT), org_id, person_id, platform, chat_id, priority, ?, 0, CAST(? AS `+tt+`), CAST(? AS `+tt+`)
		FROM recipients WHERE true
		ON CONFLICT (broadcast_id, platform, chat_id) DO NOTHING`,
		append(args, b.ID, storage.DeliveryQueued, c.d.t(at), c.d.t(at))...)
	if err != nil {
		return 0, fmt.Errorf("build outbox of broadcast %d: %w", b.ID, c.d.classify(err, storage.ErrConflict))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("build outbox of broadcast %d: %w", b.ID, err)
	}
	db.logger.InfoContext(ctx, "outbox built", "broadcast_id", b.ID, "orgs", len(scope.Orgs), "subtree", scope.Subtree, "created", n)
	return int(n), nil
}

// SetBroadcastStatus moves a broadcast from one status to another. Moving
// to sending notes the start, to done or cancelled the end; cancelling also
// cancels the queued deliveries.
func (db *DB) SetBroadcastStatus(ctx context.Context, id int64, from, to storage.BroadcastStatus, at time.Time) (storage.Broadcast, error) {
	if !validBroadcastStatus(from) || !validBroadcastStatus(to) {
		return storage.Broadcast{}, fmt.Errorf("set broadcast status: unknown status %q or %q", from, to)
	}
	var b storage.Broadcast
	err := db.inTx(ctx, func(c conn) error {
		var err error
		if b, err = c.moveBroadcast(ctx, id, []storage.BroadcastStatus{from}, to, at); err != nil {
			return err
		}
		if to == storage.BroadcastCancelled {
			_, err = c.cancelDeliveries(ctx, id, at)
		}
		return err
	})
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("set broadcast status: %w", err)
	}
	db.logger.InfoContext(ctx, "broadcast status set", "broadcast_id", id, "from", from, "to", to)
	return b, nil
}

// CancelBroadcast stops a scheduled or sending broadcast and cancels its
// queued deliveries; rows being sent may still finish.
func (db *DB) CancelBroadcast(ctx context.Context, id int64, at time.Time) (int, error) {
	var n int
	err := db.inTx(ctx, func(c conn) error {
		_, err := c.moveBroadcast(ctx, id, []storage.BroadcastStatus{storage.BroadcastScheduled, storage.BroadcastSending},
			storage.BroadcastCancelled, at)
		if err != nil {
			return err
		}
		n, err = c.cancelDeliveries(ctx, id, at)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cancel broadcast: %w", err)
	}
	db.logger.InfoContext(ctx, "broadcast cancelled", "broadcast_id", id, "deliveries_cancelled", n)
	return n, nil
}

// moveBroadcast is the guarded status change: a broadcast in none of from
// gives ErrConflict, an unknown one ErrNotFound.
func (c conn) moveBroadcast(ctx context.Context, id int64, from []storage.BroadcastStatus, to storage.BroadcastStatus, at time.Time) (storage.Broadcast, error) {
	set := "status = ?"
	args := []any{to}
	switch to {
	case storage.BroadcastSending:
		set += ", started_at = COALESCE(started_at, ?)"
		args = append(args, c.d.t(at))
	case storage.BroadcastDone, storage.BroadcastCancelled:
		set += ", finished_at = COALESCE(finished_at, ?)"
		args = append(args, c.d.t(at))
	}
	args = append(args, id)
	for _, s := range from {
		args = append(args, s)
	}
	b, err := c.scanBroadcast(ctx, "UPDATE broadcasts SET "+set+" WHERE id = ? AND status IN ("+placeholders(len(from))+") RETURNING "+broadcastCols, args...)
	if errors.Is(err, sql.ErrNoRows) {
		cur, err := c.broadcast(ctx, id)
		if err != nil {
			return storage.Broadcast{}, err
		}
		return storage.Broadcast{}, fmt.Errorf("broadcast %d is %s, not %v: %w", id, cur.Status, from, storage.ErrConflict)
	}
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("update broadcast %d: %w", id, err)
	}
	return b, nil
}

func (c conn) cancelDeliveries(ctx context.Context, broadcastID int64, at time.Time) (int, error) {
	res, err := c.exec(ctx, "UPDATE deliveries SET status = ?, updated_at = ? WHERE broadcast_id = ? AND status = ?",
		storage.DeliveryCancelled, c.d.t(at), broadcastID, storage.DeliveryQueued)
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	return int(n), nil
}

// DueBroadcasts lists scheduled broadcasts whose time has come, those
// without a time (to start at once) included, the earliest first.
func (db *DB) DueBroadcasts(ctx context.Context, now time.Time) ([]storage.Broadcast, error) {
	bs, err := db.conn().broadcastsWhere(ctx, "SELECT "+broadcastCols+` FROM broadcasts
		WHERE status = ? AND (scheduled_at IS NULL OR scheduled_at <= ?) ORDER BY COALESCE(scheduled_at, created_at), id`,
		storage.BroadcastScheduled, db.d.t(now))
	if err != nil {
		return nil, fmt.Errorf("list due broadcasts: %w", err)
	}
	return bs, nil
}

// SetBroadcastProgress records the sender's live progress message.
func (db *DB) SetBroadcastProgress(ctx context.Context, id int64, p storage.DeskPost) error {
	if !p.Platform.Valid() || p.ChatID == "" || p.MessageID == "" {
		return fmt.Errorf("set progress of broadcast %d: invalid message %q", id, p.Platform)
	}
	err := db.conn().execOne(ctx, "UPDATE broadcasts SET progress_platform = ?, progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
		p.Platform, p.ChatID, p.MessageID, id)
	if err != nil {
		return fmt.Errorf("set progress of broadcast %d: %w", id, err)
	}
	return nil
}

const deliveryCols = "id, broadcast_id, org_id, person_id, platform, chat_id, priority, status, attempts, next_at, message_id, error"

func deliveryDest(d *storage.Delivery) []any {
	return []any{&d.ID, &d.BroadcastID, &d.OrgID, idCol{&d.PersonID}, &d.Platform, &d.ChatID, &d.Priority, &d.Status,
		&d.Attempts, timeCol{&d.NextAt}, &d.MessageID, &d.Error}
}

// ClaimDeliveries leases up to n deliveries to worker: first those whose
// lease ran out, then queued ones due by now, each lowest priority first.
// On Postgres SKIP LOCKED lets replicas claim side by side; on SQLite the
// single writer serialises them. A claimed row of a cancelled broadcast
// (queued by a retry or a build racing the cancel) is cancelled instead.
func (db *DB) ClaimDeliveries(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]storage.Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	c := db.conn()
	// Statuses are literals so that Postgres matches its partial indexes
	// whatever plan it caches.
	claim := func(status storage.DeliveryStatus, due string, limit int) ([]storage.Delivery, error) {
		pick := "SELECT id FROM deliveries WHERE status = '" + string(status) + "' AND " + due + " <= ? ORDER BY priority, id LIMIT ?" + c.d.SkipLocked
		return queryAll(ctx, c, deliveryDest, `UPDATE deliveries SET
				status = CASE WHEN EXISTS (SELECT 1 FROM broadcasts b WHERE b.id = deliveries.broadcast_id AND b.status = ?) THEN ? ELSE ? END,
				claimed_by = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id `+fmt.Sprintf(c.d.AmongIDs, pick)+` RETURNING `+deliveryCols,
			storage.BroadcastCancelled, storage.DeliveryCancelled, storage.DeliverySending,
			worker, c.d.t(leaseUntil), c.d.t(now), c.d.t(now), limit)
	}
	expired, err := claim(storage.DeliverySending, "lease_until", n)
	if err != nil {
		return nil, fmt.Errorf("reclaim expired deliveries: %w", err)
	}
	var queued []storage.Delivery
	if len(expired) < n {
		if queued, err = claim(storage.DeliveryQueued, "next_at", n-len(expired)); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	out := slices.DeleteFunc(append(expired, queued...), func(d storage.Delivery) bool { return d.Status != storage.DeliverySending })
	slices.SortFunc(out, func(a, b storage.Delivery) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// completeChunk bounds the rows of one UPDATE, well under both databases'
// limits on parameters.
const completeChunk = 1000

// CompleteDeliveries records a batch of results in one transaction with
// one UPDATE per chunk, each row only while it is still being sent. A retry
// of a cancelled broadcast is cancelled rather than queued.
func (db *DB) CompleteDeliveries(ctx context.Context, results []storage.DeliveryResult, at time.Time) error {
	for _, r := range results {
		switch r.Status {
		case storage.DeliverySent, storage.DeliveryQueued, storage.DeliveryFailed, storage.DeliveryUnreachable:
		default:
			return fmt.Errorf("complete deliveries: delivery %d cannot end %q", r.ID, r.Status)
		}
	}
	if len(results) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(c conn) error {
		for chunk := range slices.Chunk(results, completeChunk) {
			if err := c.completeChunk(ctx, chunk, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("complete deliveries: %w", err)
	}
	return nil
}

func (c conn) completeChunk(ctx context.Context, results []storage.DeliveryResult, at time.Time) error {
	tt := c.d.TimeType
	row := "(CAST(? AS BIGINT), ?, ?, ?, CAST(? AS " + tt + "))"
	var b strings.Builder
	b.WriteString("WITH v (id, status, message_id, error, next_at) AS (VALUES ")
	args := make([]any, 0, 5*len(results)+6)
	for i, r := range results {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		var next any
		if r.Status == storage.DeliveryQueued {
			next = c.d.t(r.NextAt)
			if r.NextAt.IsZero() {
				next = c.d.t(at)
			}
		}
		args = append(args, r.ID, r.Status, r.MessageID, r.Error, next)
	}
	b.WriteString(`) UPDATE deliveries SET
			status = CASE WHEN v.status = ? AND EXISTS (SELECT 1 FROM broadcasts b WHERE b.id = deliveries.broadcast_id AND b.status = ?)
				THEN ? ELSE v.status END,
			message_id = v.message_id, error = v.error, next_at = COALESCE(v.next_at, deliveries.next_at),
			lease_until = NULL, updated_at = ?
		FROM v WHERE deliveries.id = v.id AND deliveries.status = ?`)
	args = append(args, storage.DeliveryQueued, storage.BroadcastCancelled, storage.DeliveryCancelled, c.d.t(at), storage.DeliverySending)
	if _, err := c.exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("update %d deliveries: %w", len(results), err)
	}
	return nil
}

// FinishBroadcasts marks done the sending broadcasts with nothing queued or
// being sent and, in relay mode, no org yet to act. Of replicas finishing
// at once, each broadcast is returned to exactly one.
func (db *DB) FinishBroadcasts(ctx context.Context, at time.Time) ([]storage.Broadcast, error) {
	bs, err := db.conn().broadcastsWhere(ctx, `UPDATE broadcasts SET status = ?, finished_at = ?
		WHERE status = ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.broadcast_id = broadcasts.id AND d.status IN (?, ?))
			AND (mode <> ? OR NOT EXISTS (SELECT 1 FROM relay_steps r WHERE r.broadcast_id = broadcasts.id AND r.action = ''))
		RETURNING `+broadcastCols,
		storage.BroadcastDone, db.d.t(at), storage.BroadcastSending, storage.DeliveryQueued, storage.DeliverySending, storage.ModeRelay)
	if err != nil {
		return nil, fmt.Errorf("finish broadcasts: %w", err)
	}
	slices.SortFunc(bs, func(a, b storage.Broadcast) int { return cmp.Compare(a.ID, b.ID) })
	for _, b := range bs {
		db.logger.InfoContext(ctx, "broadcast done", "broadcast_id", b.ID)
	}
	return bs, nil
}

// DeliveryCounts counts a broadcast's deliveries by org and status.
func (db *DB) DeliveryCounts(ctx context.Context, broadcastID int64) ([]storage.DeliveryCount, error) {
	dest := func(n *storage.DeliveryCount) []any { return []any{&n.OrgID, &n.Status, &n.Count} }
	out, err := queryAll(ctx, db.conn(), dest, `SELECT org_id, status, COUNT(*) FROM deliveries WHERE broadcast_id = ?
		GROUP BY org_id, status ORDER BY org_id, status`, broadcastID)
	if err != nil {
		return nil, fmt.Errorf("count deliveries of broadcast %d: %w", broadcastID, err)
	}
	return out, nil
}

// forgetBroadcasts unlinks a person from news: the broadcasts and
// suggestions they wrote lose the link, their pending suggestions are
// declined, and their deliveries lose the person and the chat id (their
// account) but stay for the counts; queued ones are cancelled.
func (c conn) forgetBroadcasts(ctx context.Context, personID int64, at time.Time) error {
	if _, err := c.exec(ctx, "UPDATE broadcasts SET author_id = NULL WHERE author_id = ?", personID); err != nil {
		return fmt.Errorf("unlink broadcasts: %w", err)
	}
	_, err := c.exec(ctx, "UPDATE suggestions SET status = ?, reason = '', decided_at = ? WHERE author_id = ? AND status = ?",
		storage.SuggestionDeclined, c.d.t(at), personID, storage.SuggestionPending)
	if err != nil {
		return fmt.Errorf("decline suggestions: %w", err)
	}
	if _, err := c.exec(ctx, "UPDATE suggestions SET author_id = NULL WHERE author_id = ?", personID); err != nil {
		return fmt.Errorf("unlink suggestions: %w", err)
	}
	_, err = c.exec(ctx, `UPDATE deliveries SET status = CASE WHEN status = ? THEN ? ELSE status END,
			person_id = NULL, chat_id = 'erased:' || CAST(id AS TEXT), updated_at = ?
		WHERE person_id = ?`, storage.DeliveryQueued, storage.DeliveryCancelled, c.d.t(at), personID)
	if err != nil {
		return fmt.Errorf("unlink deliveries: %w", err)
	}
	return nil
}

// audienceJSON is an audience as stored.
type audienceJSON struct {
	OrgIDs  []int64        `json:"org_ids,omitempty"`
	Roles   []storage.Role `json:"roles,omitempty"`
	Private bool           `json:"private"`
	Chats   bool           `json:"chats"`
}

func marshalAudience(a storage.Audience) (string, error) {
	b, err := json.Marshal(audienceJSON(a))
	if err != nil {
		return "", fmt.Errorf("encode audience: %w", err)
	}
	return string(b), nil
}

// marshalSpans encodes the formatting of text, refusing spans that do not
// fit it; no formatting is NULL.
func marshalSpans(text string, spans []storage.Span) (any, error) {
	if len(spans) == 0 {
		return nil, nil
	}
	n := storage.UTF16Len(text)
	for _, s := range spans {
		if !s.Valid(n) {
			return nil, fmt.Errorf("encode format: span %+v does not fit a text of %d units", s, n)
		}
	}
	b, err := json.Marshal(spans)
	if err != nil {
		return nil, fmt.Errorf("encode format: %w", err)
	}
	return string(b), nil
}

// spansCol scans the JSON format column.
type spansCol struct{ dst *[]storage.Span }

func (c spansCol) Scan(src any) error {
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
		return fmt.Errorf("scan format from %T", src)
	}
	if err := json.Unmarshal(raw, c.dst); err != nil {
		return fmt.Errorf("scan format: %w", err)
	}
	return nil
}

// audienceCol scans the JSON audience column.
type audienceCol struct{ dst *storage.Audience }

func (c audienceCol) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("scan audience from %T", src)
	}
	var a audienceJSON
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("scan audience: %w", err)
	}
	*c.dst = storage.Audience(a)
	return nil
}
