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

const suggestionCols = "id, author_id, from_org_id, at_org_id, kind, text, attachments, status, solidarity, reason, broadcast_id, created_at, decided_at"

func suggestionDest(s *storage.Suggestion) []any {
	return []any{&s.ID, idCol{&s.AuthorID}, &s.FromOrgID, &s.AtOrgID, &s.Kind, &s.Text, attachmentsCol{&s.Attachments}, &s.Status,
		&s.Solidarity, &s.Reason, idCol{&s.BroadcastID}, timeCol{&s.CreatedAt}, nullTimeCol{&s.DecidedAt}}
}

func (c conn) suggestion(ctx context.Context, id int64) (storage.Suggestion, error) {
	var s storage.Suggestion
	if err := c.row(ctx, "SELECT "+suggestionCols+" FROM suggestions WHERE id = ?", id).Scan(suggestionDest(&s)...); err != nil {
		return storage.Suggestion{}, fmt.Errorf("suggestion %d: %w", id, notFound(err))
	}
	return s, nil
}

// CreateSuggestion stores news or a call sent up the tree, pending.
func (db *DB) CreateSuggestion(ctx context.Context, s storage.Suggestion) (storage.Suggestion, error) {
	if s.FromOrgID == 0 || s.AtOrgID == 0 || (s.Kind != storage.SuggestNews && s.Kind != storage.SuggestCall) {
		return storage.Suggestion{}, fmt.Errorf("create suggestion: incomplete suggestion (from org %d, at org %d, kind %q)",
			s.FromOrgID, s.AtOrgID, s.Kind)
	}
	atts, err := marshalAttachments(s.Attachments)
	if err != nil {
		return storage.Suggestion{}, fmt.Errorf("create suggestion: %w", err)
	}
	c := db.conn()
	var out storage.Suggestion
	err = c.row(ctx, "INSERT INTO suggestions ("+strings.TrimPrefix(suggestionCols, "id, ")+") VALUES ("+placeholders(12)+") RETURNING "+suggestionCols,
		nullID(s.AuthorID), s.FromOrgID, s.AtOrgID, s.Kind, s.Text, atts, storage.SuggestionPending, s.Solidarity, "", nil,
		c.d.t(s.CreatedAt), nil).Scan(suggestionDest(&out)...)
	if err != nil {
		return storage.Suggestion{}, fmt.Errorf("create suggestion: %w", c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "suggestion created", "suggestion", out.ID, "author", out.AuthorID, "from", out.FromOrgID,
		"at_org", out.AtOrgID, "kind", out.Kind, "solidarity", out.Solidarity)
	return out, nil
}

// Suggestion finds a suggestion by id.
func (db *DB) Suggestion(ctx context.Context, id int64) (storage.Suggestion, error) {
	s, err := db.conn().suggestion(ctx, id)
	if err != nil {
		return storage.Suggestion{}, fmt.Errorf("get suggestion: %w", err)
	}
	return s, nil
}

// PassSuggestionUp moves a pending suggestion from one org to another,
// guarded on where it is, so two passes or a pass and a decision never both win.
func (db *DB) PassSuggestionUp(ctx context.Context, id, fromOrgID, toOrgID int64) (storage.Suggestion, error) {
	c := db.conn()
	var s storage.Suggestion
	err := c.row(ctx, "UPDATE suggestions SET at_org_id = ? WHERE id = ? AND at_org_id = ? AND status = ? RETURNING "+suggestionCols,
		toOrgID, id, fromOrgID, storage.SuggestionPending).Scan(suggestionDest(&s)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.notPendingAt(ctx, id, fromOrgID)
	}
	if err != nil {
		return storage.Suggestion{}, fmt.Errorf("pass suggestion %d to org %d: %w", id, toOrgID, c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "suggestion passed up", "suggestion", id, "from", fromOrgID, "to", toOrgID)
	return s, nil
}

// DecideSuggestion publishes or declines a suggestion pending at atOrgID.
func (db *DB) DecideSuggestion(ctx context.Context, id, atOrgID int64, status storage.SuggestionStatus, reason string, broadcastID int64, at time.Time) (storage.Suggestion, error) {
	if status != storage.SuggestionPublished && status != storage.SuggestionDeclined {
		return storage.Suggestion{}, fmt.Errorf("decide suggestion %d: %q is no decision", id, status)
	}
	c := db.conn()
	var s storage.Suggestion
	err := c.row(ctx, `UPDATE suggestions SET status = ?, reason = ?, broadcast_id = ?, decided_at = ?
		WHERE id = ? AND at_org_id = ? AND status = ? RETURNING `+suggestionCols,
		status, reason, nullID(broadcastID), c.d.t(at), id, atOrgID, storage.SuggestionPending).Scan(suggestionDest(&s)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = c.notPendingAt(ctx, id, atOrgID)
	}
	if err != nil {
		return storage.Suggestion{}, fmt.Errorf("decide suggestion %d: %w", id, c.d.classify(err, storage.ErrConflict))
	}
	db.logger.InfoContext(ctx, "suggestion decided", "suggestion", id, "org", atOrgID, "status", status, "broadcast", broadcastID)
	return s, nil
}

// notPendingAt explains a guarded UPDATE of a suggestion that touched
// nothing: it is unknown (ErrNotFound) or decided or elsewhere (ErrConflict).
func (c conn) notPendingAt(ctx context.Context, id, orgID int64) error {
	s, err := c.suggestion(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("suggestion %d is %s at org %d, not pending at org %d: %w", id, s.Status, s.AtOrgID, orgID, storage.ErrConflict)
}

// Suggestions lists the suggestions pending at an org or below it, oldest
// first. The subtree is read from the stored path of the org.
func (db *DB) Suggestions(ctx context.Context, underOrgID int64) ([]storage.Suggestion, error) {
	out, err := queryAll(ctx, db.conn(), suggestionDest, "SELECT "+suggestionCols+` FROM suggestions
		WHERE status = ? AND at_org_id IN (SELECT o.id FROM orgs o JOIN orgs u ON o.path LIKE (u.path || '%') WHERE u.id = ?)
		ORDER BY created_at, id`, storage.SuggestionPending, underOrgID)
	if err != nil {
		return nil, fmt.Errorf("list suggestions under org %d: %w", underOrgID, err)
	}
	return out, nil
}
