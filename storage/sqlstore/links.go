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

// RecordLinkOpen records a delivery's recipient opening a link, once.
func (db *DB) RecordLinkOpen(ctx context.Context, deliveryID int64, link int, at time.Time) (bool, error) {
	c := db.conn()
	res, err := c.exec(ctx, `INSERT INTO link_opens (delivery_id, link, broadcast_id, org_id, opened_at)
		SELECT id, ?, broadcast_id, org_id, ? FROM deliveries WHERE id = ?
		ON CONFLICT (delivery_id, link) DO NOTHING`, link, c.d.t(at), deliveryID)
	if err != nil {
		return false, fmt.Errorf("record open of link %d of delivery %d: %w", link, deliveryID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record open of link %d of delivery %d: %w", link, deliveryID, err)
	}
	return n == 1, nil
}

// FoldLinkOpens turns the opens before before into counts.
func (db *DB) FoldLinkOpens(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := db.inTx(ctx, func(c conn) error {
		var err error
		n, err = c.foldLinkOpens(ctx, "opened_at < ?", c.d.t(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("fold link opens: %w", err)
	}
	return n, nil
}

// foldLinkOpens adds the opens where cond holds to the counts by broadcast
// and org, deletes them and returns how many there were.
func (c conn) foldLinkOpens(ctx context.Context, cond string, args ...any) (int, error) {
	_, err := c.exec(ctx, `INSERT INTO link_open_counts (broadcast_id, org_id, opens, shares)
		SELECT broadcast_id, org_id, SUM(CASE WHEN link >= 0 THEN 1 ELSE 0 END), SUM(CASE WHEN link < 0 THEN 1 ELSE 0 END)
		FROM link_opens WHERE `+cond+` GROUP BY broadcast_id, org_id
		ON CONFLICT (broadcast_id, org_id) DO UPDATE SET opens = link_open_counts.opens + excluded.opens,
			shares = link_open_counts.shares + excluded.shares`, args...)
	if err != nil {
		return 0, fmt.Errorf("count link opens: %w", err)
	}
	res, err := c.exec(ctx, "DELETE FROM link_opens WHERE "+cond, args...)
	if err != nil {
		return 0, fmt.Errorf("delete link opens: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// forgetLinkOpens folds the opens of a person's deliveries into the
// anonymous counts: the counts stay, the marks go. It runs before the
// deliveries lose the person.
func (c conn) forgetLinkOpens(ctx context.Context, personID int64) error {
	if _, err := c.foldLinkOpens(ctx, "delivery_id IN (SELECT id FROM deliveries WHERE person_id = ?)", personID); err != nil {
		return fmt.Errorf("forget link opens: %w", err)
	}
	return nil
}

// LinkOpenCounts counts a broadcast's opens by org, folded or not.
func (db *DB) LinkOpenCounts(ctx context.Context, broadcastID int64) ([]storage.LinkOpenCount, error) {
	dest := func(n *storage.LinkOpenCount) []any { return []any{&n.OrgID, &n.Opens, &n.Shares} }
	out, err := queryAll(ctx, db.conn(), dest, `SELECT org_id, CAST(SUM(opens) AS BIGINT), CAST(SUM(shares) AS BIGINT) FROM (
			SELECT org_id, opens, shares FROM link_open_counts WHERE broadcast_id = ?
			UNION ALL
			SELECT org_id, CASE WHEN link >= 0 THEN 1 ELSE 0 END, CASE WHEN link < 0 THEN 1 ELSE 0 END
			FROM link_opens WHERE broadcast_id = ?) o
		GROUP BY org_id ORDER BY org_id`, broadcastID, broadcastID)
	if err != nil {
		return nil, fmt.Errorf("count link opens of broadcast %d: %w", broadcastID, err)
	}
	for i := range out {
		out[i].BroadcastID = broadcastID
	}
	return out, nil
}
