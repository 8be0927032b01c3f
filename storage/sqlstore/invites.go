package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const inviteCols = "code, org_id, role, max_uses, uses, expires_at, revoked_at, created_at"

func inviteDest(i *storage.Invite) []any {
	return []any{&i.Code, &i.OrgID, &i.Role, &i.MaxUses, &i.Uses, nullTimeCol{&i.ExpiresAt}, nullTimeCol{&i.RevokedAt}, timeCol{&i.CreatedAt}}
}

// CreateInvite stores a new invite; a taken code is ErrConflict, an unknown org ErrNotFound.
func (db *DB) CreateInvite(ctx context.Context, inv storage.Invite) error {
	if inv.Code == "" || !inv.Role.Valid() || inv.MaxUses < 0 || inv.Uses < 0 {
		return fmt.Errorf("create invite: invalid code, role %q or uses", inv.Role)
	}
	_, err := db.conn().exec(ctx, "INSERT INTO invites ("+inviteCols+") VALUES ("+placeholders(8)+")",
		inv.Code, inv.OrgID, inv.Role, inv.MaxUses, inv.Uses, db.d.tp(inv.ExpiresAt), db.d.tp(inv.RevokedAt), db.d.t(inv.CreatedAt))
	if err != nil {
		return fmt.Errorf("create invite: %w", db.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// Invite finds an invite by code.
func (db *DB) Invite(ctx context.Context, code string) (storage.Invite, error) {
	inv, err := db.conn().invite(ctx, code)
	if err != nil {
		return storage.Invite{}, fmt.Errorf("get invite: %w", err)
	}
	return inv, nil
}

func (c conn) invite(ctx context.Context, code string) (storage.Invite, error) {
	var inv storage.Invite
	err := c.row(ctx, "SELECT "+inviteCols+" FROM invites WHERE code = ?", code).Scan(inviteDest(&inv)...)
	return inv, notFound(err)
}

// RevokeInvite stops an invite; revoking twice keeps the first time.
func (db *DB) RevokeInvite(ctx context.Context, code string, at time.Time) error {
	err := db.conn().execOne(ctx, "UPDATE invites SET revoked_at = COALESCE(revoked_at, ?) WHERE code = ?", db.d.t(at), code)
	if err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	}
	return nil
}

// Invites lists the invites of an org, newest first.
func (db *DB) Invites(ctx context.Context, orgID int64) ([]storage.Invite, error) {
	invs, err := queryAll(ctx, db.conn(), inviteDest, "SELECT "+inviteCols+" FROM invites WHERE org_id = ? ORDER BY created_at DESC, code", orgID)
	if err != nil {
		return nil, fmt.Errorf("list invites of org %d: %w", orgID, err)
	}
	return invs, nil
}

// consumeInvite takes one use of an invite at at, or says why it cannot. The
// guarded UPDATE lets exactly one of two racing consumers take the last use.
func (c conn) consumeInvite(ctx context.Context, code string, at time.Time) (storage.Invite, error) {
	now := c.d.t(at)
	res, err := c.exec(ctx, `UPDATE invites SET uses = uses + 1
		WHERE code = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
		AND (max_uses = 0 OR uses < max_uses)`, code, now)
	if err != nil {
		return storage.Invite{}, fmt.Errorf("consume invite: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return storage.Invite{}, fmt.Errorf("consume invite: %w", err)
	}
	inv, err := c.invite(ctx, code)
	if err != nil {
		return storage.Invite{}, fmt.Errorf("consume invite: %w", err)
	}
	if n == 1 {
		return inv, nil
	}
	if err := inv.Usable(at); err != nil {
		return storage.Invite{}, fmt.Errorf("consume invite: %w", err)
	}
	// The invite changed between the UPDATE and the read.
	return storage.Invite{}, fmt.Errorf("consume invite: %w", storage.ErrConflict)
}
