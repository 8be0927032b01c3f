package sqlstore

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/storage"
)

// BindChat attaches a chat to an org, replacing an earlier binding.
func (db *DB) BindChat(ctx context.Context, b storage.ChatBinding) error {
	if !b.Platform.Valid() || b.ChatID == "" {
		return fmt.Errorf("bind chat: invalid chat %q", b.Platform)
	}
	_, err := db.conn().exec(ctx, `INSERT INTO chat_bindings (platform, chat_id, org_id, title, desk, bound_by, bound_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform, chat_id) DO UPDATE SET org_id = excluded.org_id, title = excluded.title,
			desk = excluded.desk, bound_by = excluded.bound_by, bound_at = excluded.bound_at`,
		b.Platform, b.ChatID, b.OrgID, b.Title, b.Desk, nullID(b.BoundBy), db.d.t(b.BoundAt))
	if err != nil {
		return fmt.Errorf("bind chat to org %d: %w", b.OrgID, db.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "chat bound", "platform", b.Platform, "chat_id", b.ChatID, "org_id", b.OrgID, "desk", b.Desk, "bound_by", b.BoundBy)
	return nil
}

// UnbindChat detaches a chat.
func (db *DB) UnbindChat(ctx context.Context, p storage.Platform, chatID string) error {
	if err := db.conn().execOne(ctx, "DELETE FROM chat_bindings WHERE platform = ? AND chat_id = ?", p, chatID); err != nil {
		return fmt.Errorf("unbind chat: %w", err)
	}
	db.logger.InfoContext(ctx, "chat unbound", "platform", p, "chat_id", chatID)
	return nil
}

const chatCols = "platform, chat_id, org_id, title, desk, bound_by, bound_at"

func chatDest(b *storage.ChatBinding) []any {
	return []any{&b.Platform, &b.ChatID, &b.OrgID, &b.Title, &b.Desk, idCol{&b.BoundBy}, timeCol{&b.BoundAt}}
}

// ChatBinding finds the org a chat is bound to.
func (db *DB) ChatBinding(ctx context.Context, p storage.Platform, chatID string) (storage.ChatBinding, error) {
	var b storage.ChatBinding
	err := db.conn().row(ctx, "SELECT "+chatCols+" FROM chat_bindings WHERE platform = ? AND chat_id = ?", p, chatID).
		Scan(chatDest(&b)...)
	if err != nil {
		return storage.ChatBinding{}, fmt.Errorf("get chat binding: %w", notFound(err))
	}
	return b, nil
}

// DeskOf finds the chat an org uses as its hot-line desk; of several, the
// most recently bound wins.
func (db *DB) DeskOf(ctx context.Context, orgID int64) (storage.ChatBinding, error) {
	var b storage.ChatBinding
	err := db.conn().row(ctx, "SELECT "+chatCols+` FROM chat_bindings WHERE org_id = ? AND desk = ?
		ORDER BY bound_at DESC, platform, chat_id LIMIT 1`, orgID, true).Scan(chatDest(&b)...)
	if err != nil {
		return storage.ChatBinding{}, fmt.Errorf("get desk of org %d: %w", orgID, notFound(err))
	}
	return b, nil
}
