package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// HubKey returns the key stored under name, storing fresh when there is none.
func (db *DB) HubKey(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	c := db.conn()
	if _, err := c.exec(ctx, "INSERT INTO hub_keys (name, key) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, fresh); err != nil {
		return nil, fmt.Errorf("store key %q: %w", name, err)
	}
	var key []byte
	if err := c.row(ctx, "SELECT key FROM hub_keys WHERE name = ?", name).Scan(&key); err != nil {
		return nil, fmt.Errorf("read key %q: %w", name, err)
	}
	return key, nil
}

// DeliveryIDTo finds the delivery of a broadcast to a chat.
func (db *DB) DeliveryIDTo(ctx context.Context, broadcastID int64, p storage.Platform, chatID string) (int64, error) {
	var id int64
	err := db.conn().row(ctx, "SELECT id FROM deliveries WHERE broadcast_id = ? AND platform = ? AND chat_id = ?", broadcastID, p, chatID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find the delivery of broadcast %d to %s %s: %w", broadcastID, p, chatID, storage.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("find the delivery of broadcast %d to %s %s: %w", broadcastID, p, chatID, err)
	}
	return id, nil
}

// LinkTarget finds the delivery a short link was made for.
func (db *DB) LinkTarget(ctx context.Context, deliveryID int64) (storage.LinkTarget, error) {
	t := storage.LinkTarget{DeliveryID: deliveryID}
	err := db.conn().row(ctx, "SELECT broadcast_id, org_id, platform FROM deliveries WHERE id = ?", deliveryID).
		Scan(&t.BroadcastID, &t.OrgID, &t.Platform)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("find delivery %d: %w", deliveryID, storage.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("find delivery %d: %w", deliveryID, err)
	}
	return t, nil
}

// RecordLinkOpen records a delivery's recipient opening a link, once, and
// counts it in the same transaction.
func (db *DB) RecordLinkOpen(ctx context.Context, deliveryID int64, link int, at time.Time) (bool, error) {
	fresh := false
	err := db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `INSERT INTO link_opens (delivery_id, link, broadcast_id, org_id, opened_at)
			SELECT id, ?, broadcast_id, org_id, ? FROM deliveries WHERE id = ?
			ON CONFLICT (delivery_id, link) DO NOTHING`, link, c.d.t(at), deliveryID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		fresh = true
		opens, shares := 1, 0
		if link == storage.LinkShare {
			opens, shares = 0, 1
		}
		_, err = c.exec(ctx, `INSERT INTO link_open_counts (broadcast_id, org_id, opens, shares)
			SELECT broadcast_id, org_id, ?, ? FROM deliveries WHERE id = ?
			ON CONFLICT (broadcast_id, org_id) DO UPDATE SET opens = link_open_counts.opens + excluded.opens,
				shares = link_open_counts.shares + excluded.shares`, opens, shares, deliveryID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record open of link %d of delivery %d: %w", link, deliveryID, err)
	}
	return fresh, nil
}

// PruneLinkOpens deletes who opened what before before; the counts stay.
func (db *DB) PruneLinkOpens(ctx context.Context, before time.Time) (int, error) {
	c := db.conn()
	res, err := c.exec(ctx, "DELETE FROM link_opens WHERE opened_at < ?", c.d.t(before))
	if err != nil {
		return 0, fmt.Errorf("prune link opens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune link opens: %w", err)
	}
	return int(n), nil
}

// forgetLinkOpens deletes which links a person opened; the counts stay,
// anonymous. It runs before the deliveries lose the person.
func (c conn) forgetLinkOpens(ctx context.Context, personID int64) error {
	if _, err := c.exec(ctx, "DELETE FROM link_opens WHERE delivery_id IN (SELECT id FROM deliveries WHERE person_id = ?)", personID); err != nil {
		return fmt.Errorf("forget link opens: %w", err)
	}
	return nil
}

// LinkOpenCounts counts a broadcast's opens by org.
func (db *DB) LinkOpenCounts(ctx context.Context, broadcastID int64) ([]storage.LinkOpenCount, error) {
	dest := func(n *storage.LinkOpenCount) []any { return []any{&n.BroadcastID, &n.OrgID, &n.Opens, &n.Shares} }
	out, err := queryAll(ctx, db.conn(), dest, `SELECT broadcast_id, org_id, opens, shares FROM link_open_counts
		WHERE broadcast_id = ? ORDER BY org_id`, broadcastID)
	if err != nil {
		return nil, fmt.Errorf("count link opens of broadcast %d: %w", broadcastID, err)
	}
	return out, nil
}
