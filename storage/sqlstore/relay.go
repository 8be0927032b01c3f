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

const relayCols = "broadcast_id, org_id, received_at, relayed_at, action, note, reminded_at"

func relayDest(r *storage.RelayStep) []any {
	return []any{&r.BroadcastID, &r.OrgID, timeCol{&r.ReceivedAt}, nullTimeCol{&r.RelayedAt}, &r.Action, &r.Note, nullTimeCol{&r.RemindedAt}}
}

func validRelayAction(a storage.RelayAction) bool {
	switch a {
	case storage.RelayPublished, storage.RelayNoted, storage.RelaySkipped, storage.RelayAuto:
		return true
	}
	return false
}

// AddRelaySteps records in one statement that orgs received a relayed
// item; a step already recorded stays as it is.
func (db *DB) AddRelaySteps(ctx context.Context, steps []storage.RelayStep) error {
	if len(steps) == 0 {
		return nil
	}
	rows := make([]string, len(steps))
	args := make([]any, 0, 7*len(steps))
	for i, s := range steps {
		if s.Action != "" && !validRelayAction(s.Action) {
			return fmt.Errorf("add relay steps: unknown action %q", s.Action)
		}
		rows[i] = "(" + placeholders(7) + ")"
		args = append(args, s.BroadcastID, s.OrgID, db.d.t(s.ReceivedAt), db.d.tp(s.RelayedAt), s.Action, s.Note, db.d.tp(s.RemindedAt))
	}
	_, err := db.conn().exec(ctx, "INSERT INTO relay_steps ("+relayCols+") VALUES "+strings.Join(rows, ", ")+
		" ON CONFLICT (broadcast_id, org_id) DO NOTHING", args...)
	if err != nil {
		return fmt.Errorf("add relay steps: %w", db.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// RelaySteps lists a broadcast's steps in the order the orgs received it.
func (db *DB) RelaySteps(ctx context.Context, broadcastID int64) ([]storage.RelayStep, error) {
	out, err := queryAll(ctx, db.conn(), relayDest, "SELECT "+relayCols+" FROM relay_steps WHERE broadcast_id = ? ORDER BY received_at, org_id",
		broadcastID)
	if err != nil {
		return nil, fmt.Errorf("list relay steps of broadcast %d: %w", broadcastID, err)
	}
	return out, nil
}

// CompleteRelayStep records an org's action on a relayed item. The UPDATE
// is guarded on the step being pending, so of two racing actions (a person
// and the deadline sweep) exactly one wins; the other gets ErrAlreadyDecided.
func (db *DB) CompleteRelayStep(ctx context.Context, broadcastID, orgID int64, action storage.RelayAction, note string, at time.Time) (storage.RelayStep, error) {
	if !validRelayAction(action) {
		return storage.RelayStep{}, fmt.Errorf("complete relay step: unknown action %q", action)
	}
	c := db.conn()
	var s storage.RelayStep
	err := c.row(ctx, "UPDATE relay_steps SET action = ?, note = ?, relayed_at = ? WHERE broadcast_id = ? AND org_id = ? AND action = '' RETURNING "+relayCols,
		action, note, c.d.t(at), broadcastID, orgID).Scan(relayDest(&s)...)
	if errors.Is(err, sql.ErrNoRows) {
		var cur storage.RelayAction
		err = c.row(ctx, "SELECT action FROM relay_steps WHERE broadcast_id = ? AND org_id = ?", broadcastID, orgID).Scan(&cur)
		if err == nil {
			err = fmt.Errorf("relay step is %s: %w", cur, storage.ErrAlreadyDecided)
		}
	}
	if err != nil {
		return storage.RelayStep{}, fmt.Errorf("complete relay step of broadcast %d at org %d: %w", broadcastID, orgID, notFound(err))
	}
	db.logger.InfoContext(ctx, "relay step completed", "broadcast", broadcastID, "org", orgID, "action", action)
	return s, nil
}

// PendingRelaySteps lists the steps no org has acted on, of broadcasts
// still sending, the one received first first.
func (db *DB) PendingRelaySteps(ctx context.Context) ([]storage.RelayStep, error) {
	out, err := queryAll(ctx, db.conn(), relayDest, `SELECT r.broadcast_id, r.org_id, r.received_at, r.relayed_at, r.action, r.note, r.reminded_at
		FROM relay_steps r JOIN broadcasts b ON b.id = r.broadcast_id
		WHERE r.action = '' AND b.status = ? ORDER BY r.received_at, r.broadcast_id, r.org_id`, storage.BroadcastSending)
	if err != nil {
		return nil, fmt.Errorf("list pending relay steps: %w", err)
	}
	return out, nil
}

// MarkRelayReminded notes when an org was last reminded of a step.
func (db *DB) MarkRelayReminded(ctx context.Context, broadcastID, orgID int64, at time.Time) error {
	err := db.conn().execOne(ctx, "UPDATE relay_steps SET reminded_at = ? WHERE broadcast_id = ? AND org_id = ?", db.d.t(at), broadcastID, orgID)
	if err != nil {
		return fmt.Errorf("mark relay step of broadcast %d at org %d reminded: %w", broadcastID, orgID, err)
	}
	return nil
}
