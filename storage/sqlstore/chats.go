package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

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
	db.logger.InfoContext(ctx, "chat bound", "platform", b.Platform, "chat", b.ChatID, "org", b.OrgID, "desk", b.Desk, "bound_by", b.BoundBy)
	return nil
}

// UnbindChat detaches a chat.
func (db *DB) UnbindChat(ctx context.Context, p storage.Platform, chatID string) error {
	if err := db.conn().execOne(ctx, "DELETE FROM chat_bindings WHERE platform = ? AND chat_id = ?", p, chatID); err != nil {
		return fmt.Errorf("unbind chat: %w", err)
	}
	db.logger.InfoContext(ctx, "chat unbound", "platform", p, "chat", chatID)
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

// BoundChats lists the chats bound to the orgs of under's subtree, desks
// included, by org path, platform, title and chat id; sorted here, as
// ContactBase is, so that both databases order titles alike.
func (db *DB) BoundChats(ctx context.Context, under storage.Org) ([]storage.ChatBinding, error) {
	if under.Path == "" {
		return nil, fmt.Errorf("bound chats: org %d has no path", under.ID)
	}
	type pathChat struct {
		path string
		b    storage.ChatBinding
	}
	dest := func(r *pathChat) []any { return append([]any{&r.path}, chatDest(&r.b)...) }
	rows, err := queryAll(ctx, db.conn(), dest, `SELECT o.path, c.platform, c.chat_id, c.org_id, c.title, c.desk, c.bound_by, c.bound_at
		FROM chat_bindings c JOIN orgs o ON o.id = c.org_id WHERE o.path LIKE ?`, under.Path+"%")
	if err != nil {
		return nil, fmt.Errorf("bound chats of org %d: %w", under.ID, err)
	}
	coll := collate.New(language.Russian, collate.IgnoreCase)
	slices.SortFunc(rows, func(a, b pathChat) int {
		return cmp.Or(
			strings.Compare(a.path, b.path),
			strings.Compare(string(a.b.Platform), string(b.b.Platform)),
			coll.CompareString(a.b.Title, b.b.Title),
			strings.Compare(a.b.ChatID, b.b.ChatID),
		)
	})
	out := make([]storage.ChatBinding, len(rows))
	for i, r := range rows {
		out[i] = r.b
	}
	return out, nil
}
