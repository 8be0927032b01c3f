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

// broadcastFields are the columns CreateBroadcast writes; broadcastCols
// what every read returns.
const (
	broadcastFields = "author_id, org_id, text, format, attachments, mode, audience, status, created_at, scheduled_at, " +
		"started_at, finished_at, relay_deadline, progress_platform, progress_chat_id, progress_message_id, from_org_id, file_id, " +
		"action_kind, action_title, action_at, action_place"
	broadcastCols = "id, " + broadcastFields + ", build_until IS NOT NULL"
)

// broadcastRow is a broadcast as scanned: the progress message is three
// nullable columns that become one optional DeskPost.
type broadcastRow struct {
	b                           storage.Broadcast
	platform, chatID, messageID sql.NullString
	// The action is four nullable columns that become one optional Action.
	actionKind, actionTitle, actionPlace sql.NullString
	actionAt                             *time.Time
}

func broadcastDest(r *broadcastRow) []any {
	b := &r.b
	return []any{&b.ID, idCol{&b.AuthorID}, &b.OrgID, &b.Text, spansCol{&b.Format}, attachmentsCol{&b.Attachments}, &b.Mode, audienceCol{&b.Audience},
		&b.Status, timeCol{&b.CreatedAt}, nullTimeCol{&b.ScheduledAt}, nullTimeCol{&b.StartedAt}, nullTimeCol{&b.FinishedAt},
		nullTimeCol{&b.RelayDeadline}, &r.platform, &r.chatID, &r.messageID, idCol{&b.FromOrgID}, idCol{&b.FileID},
		&r.actionKind, &r.actionTitle, nullTimeCol{&r.actionAt}, &r.actionPlace, &b.Building}
}

func (r broadcastRow) broadcast() storage.Broadcast {
	b := r.b
	if r.platform.Valid {
		b.Progress = &storage.DeskPost{Platform: storage.Platform(r.platform.String), ChatID: r.chatID.String, MessageID: r.messageID.String}
	}
	if r.actionKind.Valid && r.actionAt != nil {
		b.Action = &storage.Action{Kind: storage.ActionKind(r.actionKind.String), Title: r.actionTitle.String, At: *r.actionAt,
			Place: r.actionPlace.String}
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
	case storage.BroadcastScheduled, storage.BroadcastSending, storage.BroadcastDone, storage.BroadcastCancelled, storage.BroadcastFailed:
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
		if !r.Valid() || r == storage.RoleSupporter { // supporters come with Public
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
	var kind, title, actionAt, place any
	if a := b.Action; a != nil {
		if !a.Kind.Valid() || a.At.IsZero() {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: incomplete action (kind %q, at %v)", a.Kind, a.At)
		}
		kind, title, actionAt, place = a.Kind, a.Title, c.d.t(a.At), a.Place
	}
	out, err := c.scanBroadcast(ctx, "INSERT INTO broadcasts ("+broadcastFields+") VALUES ("+placeholders(22)+
		") RETURNING "+broadcastCols,
		nullID(b.AuthorID), b.OrgID, b.Text, format, atts, b.Mode, aud, b.Status, c.d.t(b.CreatedAt), c.d.tp(b.ScheduledAt),
		c.d.tp(b.StartedAt), c.d.tp(b.FinishedAt), c.d.tp(b.RelayDeadline), pl, chat, msg, nullID(b.FromOrgID), nullID(b.FileID),
		kind, title, actionAt, place)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "broadcast created", "broadcast", out.ID, "org", out.OrgID, "author", out.AuthorID,
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

// SetBroadcastStatus moves a broadcast from one status to another. Moving
// to sending notes the start, to an end (done, cancelled, failed) the end;
// cancelling or failing also cancels the queued deliveries.
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
		if to == storage.BroadcastCancelled || to == storage.BroadcastFailed {
			_, err = c.cancelDeliveries(ctx, id, at)
		}
		return err
	})
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("set broadcast status: %w", err)
	}
	db.logger.InfoContext(ctx, "broadcast status set", "broadcast", id, "from", from, "to", to)
	return b, nil
}

// CancelBroadcast stops a scheduled or sending broadcast, its build too,
// and cancels its queued deliveries; rows being sent may still finish.
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
	db.logger.InfoContext(ctx, "broadcast cancelled", "broadcast", id, "deliveries_cancelled", n)
	return n, nil
}

// moveBroadcast is the guarded status change: a broadcast in none of from
// gives ErrConflict, an unknown one ErrNotFound. A broadcast that ends is
// no longer being built: a builder's next chunk finds it so and stops.
func (c conn) moveBroadcast(ctx context.Context, id int64, from []storage.BroadcastStatus, to storage.BroadcastStatus, at time.Time) (storage.Broadcast, error) {
	set := "status = ?"
	args := []any{to}
	switch to {
	case storage.BroadcastSending:
		set += ", started_at = COALESCE(started_at, ?)"
		args = append(args, c.d.t(at))
	case storage.BroadcastDone, storage.BroadcastCancelled, storage.BroadcastFailed:
		set += ", finished_at = COALESCE(finished_at, ?), build_owner = '', build_until = NULL"
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
// without a time (to start at once) included, and those whose builder's
// lease ran out, the earliest first.
func (db *DB) DueBroadcasts(ctx context.Context, now time.Time) ([]storage.Broadcast, error) {
	bs, err := db.conn().broadcastsWhere(ctx, "SELECT "+broadcastCols+` FROM broadcasts
		WHERE (status = ? AND (scheduled_at IS NULL OR scheduled_at <= ?)) OR (status = ? AND build_until <= ?)
		ORDER BY COALESCE(scheduled_at, created_at), id`,
		storage.BroadcastScheduled, db.d.t(now), storage.BroadcastSending, db.d.t(now))
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

// deliveryCols are a claimed delivery's columns, with the recipient's
// language read as the row is claimed.
const deliveryCols = "id, broadcast_id, org_id, person_id, platform, chat_id, priority, status, attempts, next_at, message_id, error, " +
	"COALESCE((SELECT p.locale FROM people p WHERE p.id = deliveries.person_id), '')"

func deliveryDest(d *storage.Delivery) []any {
	return []any{&d.ID, &d.BroadcastID, &d.OrgID, idCol{&d.PersonID}, &d.Platform, &d.ChatID, &d.Priority, &d.Status,
		&d.Attempts, timeCol{&d.NextAt}, &d.MessageID, &d.Error, &d.Locale}
}

// ClaimDeliveries leases up to n deliveries to worker: first those whose
// lease ran out, then queued ones due by now, each lowest priority first.
// On Postgres SKIP LOCKED lets replicas claim side by side; on SQLite the
// single writer serialises them. A claimed row of a cancelled broadcast
// (queued by a retry or a build racing the cancel), or of a failed one, is
// cancelled instead.
func (db *DB) ClaimDeliveries(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]storage.Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	var expired, queued []storage.Delivery
	err := db.inTx(ctx, func(c conn) error {
		if c.d.OrderedClaim != "" {
			if _, err := c.exec(ctx, c.d.OrderedClaim); err != nil {
				return fmt.Errorf("order the claim: %w", err)
			}
		}
		// Statuses are literals so that Postgres matches its partial indexes
		// whatever plan it caches.
		claim := func(status storage.DeliveryStatus, due string, limit int) ([]storage.Delivery, error) {
			pick := "SELECT id FROM deliveries WHERE status = '" + string(status) + "' AND " + due + " <= ? ORDER BY priority, id LIMIT ?" + c.d.SkipLocked
			return queryAll(ctx, c, deliveryDest, `UPDATE deliveries SET
				status = CASE WHEN EXISTS (SELECT 1 FROM broadcasts b WHERE b.id = deliveries.broadcast_id AND b.status IN (?, ?)) THEN ? ELSE ? END,
				claimed_by = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
			WHERE id `+fmt.Sprintf(c.d.AmongIDs, pick)+` RETURNING `+deliveryCols,
				storage.BroadcastCancelled, storage.BroadcastFailed, storage.DeliveryCancelled, storage.DeliverySending,
				worker, c.d.t(leaseUntil), c.d.t(now), c.d.t(now), limit)
		}
		var err error
		if expired, err = claim(storage.DeliverySending, "lease_until", n); err != nil {
			return fmt.Errorf("reclaim expired deliveries: %w", err)
		}
		if len(expired) < n {
			if queued, err = claim(storage.DeliveryQueued, "next_at", n-len(expired)); err != nil {
				return fmt.Errorf("claim deliveries: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(append(expired, queued...), func(d storage.Delivery) bool { return d.Status != storage.DeliverySending })
	slices.SortFunc(out, func(a, b storage.Delivery) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// heldBy matches the rows a worker (its one parameter) holds: being sent
// under its claim. It is one expression so that no index matches it and
// the updates that find rows by id use the primary key whatever the
// planner's estimates: a plain status = 'sending' let Postgres, which took
// a fresh outbox's leased rows for a few dozen, scan every row being sent
// (or every leased-index entry of a row sent since the last vacuum) for
// each write of a hundred outcomes.
const heldBy = "CASE WHEN deliveries.status = '" + string(storage.DeliverySending) + "' THEN deliveries.claimed_by END = ?"

// completeChunk bounds the rows of one UPDATE, well under both databases'
// limits on parameters.
const completeChunk = 1000

// RenewDeliveries extends the lease of the rows of ids that worker still
// holds and returns their ids, in one UPDATE per chunk.
func (db *DB) RenewDeliveries(ctx context.Context, worker string, ids []int64, leaseUntil time.Time) ([]int64, error) {
	var out []int64
	c := db.conn()
	for chunk := range slices.Chunk(ids, completeChunk) {
		args := []any{c.d.t(leaseUntil), worker}
		for _, id := range chunk {
			args = append(args, id)
		}
		dest := func(id *int64) []any { return []any{id} }
		renewed, err := queryAll(ctx, c, dest, `UPDATE deliveries SET lease_until = ?
			WHERE `+heldBy+` AND id IN (`+placeholders(len(chunk))+`) RETURNING id`, args...)
		if err != nil {
			return nil, fmt.Errorf("renew %d deliveries: %w", len(ids), err)
		}
		out = append(out, renewed...)
	}
	slices.Sort(out)
	return out, nil
}

// CompleteDeliveries records a batch of results in one transaction with
// one UPDATE per chunk, each row only while worker still holds it. A retry
// of a cancelled or failed broadcast is cancelled rather than queued.
func (db *DB) CompleteDeliveries(ctx context.Context, worker string, results []storage.DeliveryResult, at time.Time) error {
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
			if err := c.completeChunk(ctx, worker, chunk, at); err != nil {
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

func (c conn) completeChunk(ctx context.Context, worker string, results []storage.DeliveryResult, at time.Time) error {
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
			status = CASE WHEN v.status = ? AND EXISTS (SELECT 1 FROM broadcasts b WHERE b.id = deliveries.broadcast_id AND b.status IN (?, ?))
				THEN ? ELSE v.status END,
			message_id = v.message_id, error = v.error, next_at = COALESCE(v.next_at, deliveries.next_at),
			lease_until = NULL, updated_at = ?
		FROM v WHERE deliveries.id = v.id AND ` + heldBy)
	args = append(args, storage.DeliveryQueued, storage.BroadcastCancelled, storage.BroadcastFailed, storage.DeliveryCancelled, c.d.t(at), worker)
	if _, err := c.exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("update %d deliveries: %w", len(results), err)
	}
	return nil
}

// FinishBroadcasts marks done the sending broadcasts whose outbox is built
// with nothing queued or being sent and, in relay mode, no org yet to act.
// Of replicas finishing at once, each broadcast is returned to exactly one.
// What each finished broadcast reached goes in the same transaction, for
// the indicators.
func (db *DB) FinishBroadcasts(ctx context.Context, at time.Time) ([]storage.Broadcast, error) {
	var bs []storage.Broadcast
	err := db.inTx(ctx, func(c conn) error {
		var err error
		bs, err = c.broadcastsWhere(ctx, `UPDATE broadcasts SET status = ?, finished_at = ?
		WHERE status = ? AND build_until IS NULL
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.broadcast_id = broadcasts.id AND d.status IN (?, ?))
			AND (mode <> ? OR NOT EXISTS (SELECT 1 FROM relay_steps r WHERE r.broadcast_id = broadcasts.id AND r.action = ''))
		RETURNING `+broadcastCols,
			storage.BroadcastDone, c.d.t(at), storage.BroadcastSending, storage.DeliveryQueued, storage.DeliverySending, storage.ModeRelay)
		if err != nil {
			return err
		}
		for _, b := range bs {
			_, err := c.exec(ctx, `INSERT INTO broadcast_reach (broadcast_id, org_id, finished_at, audience, delivered)
				SELECT broadcast_id, org_id, ?, SUM(CASE WHEN status <> ? THEN 1 ELSE 0 END), SUM(CASE WHEN status = ? THEN 1 ELSE 0 END)
				FROM deliveries WHERE broadcast_id = ? GROUP BY broadcast_id, org_id
				ON CONFLICT (broadcast_id, org_id) DO NOTHING`, c.d.t(at), storage.DeliveryCancelled, storage.DeliverySent, b.ID)
			if err != nil {
				return fmt.Errorf("count the reach of broadcast %d: %w", b.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finish broadcasts: %w", err)
	}
	slices.SortFunc(bs, func(a, b storage.Broadcast) int { return cmp.Compare(a.ID, b.ID) })
	for _, b := range bs {
		db.logger.InfoContext(ctx, "broadcast done", "broadcast", b.ID)
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

// forgetProgress drops the live progress messages in a person's chats, of
// the broadcasts they started and any other shown to one of their accounts:
// the chat id is their account. It runs while the accounts still exist.
func (c conn) forgetProgress(ctx context.Context, personID int64) error {
	_, err := c.exec(ctx, `UPDATE broadcasts SET progress_platform = NULL, progress_chat_id = NULL, progress_message_id = NULL
		WHERE author_id = ? OR EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = ?
			AND a.platform = broadcasts.progress_platform AND a.external_id = broadcasts.progress_chat_id)`, personID, personID)
	if err != nil {
		return fmt.Errorf("drop progress messages: %w", err)
	}
	return nil
}

// forgetBroadcasts unlinks a person from news: the broadcasts they wrote
// lose the link and stay, as the orgs published them, with their files
// (those no broadcast took go); the suggestions they
// wrote lose the link, their text, attachments and the reason given to them
// (which may hold a name or a phone number) and stay, anonymous, for the
// counts, the pending ones declined; their answers to actions lose the
// person and stay for the counts; their deliveries lose the person and
// the chat id (their account) but stay for the counts; queued ones are
// cancelled; the links they opened stay only as counts.
func (c conn) forgetBroadcasts(ctx context.Context, personID int64, at time.Time) error {
	if _, err := c.exec(ctx, "UPDATE broadcasts SET author_id = NULL WHERE author_id = ?", personID); err != nil {
		return fmt.Errorf("unlink broadcasts: %w", err)
	}
	if err := c.forgetActions(ctx, personID); err != nil {
		return err
	}
	if err := c.forgetNewsFiles(ctx, personID); err != nil {
		return err
	}
	_, err := c.exec(ctx, "UPDATE suggestions SET status = ?, decided_at = ? WHERE author_id = ? AND status = ?",
		storage.SuggestionDeclined, c.d.t(at), personID, storage.SuggestionPending)
	if err != nil {
		return fmt.Errorf("decline suggestions: %w", err)
	}
	_, err = c.exec(ctx, "UPDATE suggestions SET text = '', attachments = NULL, reason = '' WHERE author_id = ?", personID)
	if err != nil {
		return fmt.Errorf("erase suggestion texts: %w", err)
	}
	if _, err := c.exec(ctx, "UPDATE suggestions SET author_id = NULL WHERE author_id = ?", personID); err != nil {
		return fmt.Errorf("unlink suggestions: %w", err)
	}
	if err := c.forgetLinkOpens(ctx, personID); err != nil {
		return err
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
	Public  bool           `json:"public,omitempty"`
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
