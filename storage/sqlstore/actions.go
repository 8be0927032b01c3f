package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const actionReplyCols = "broadcast_id, person_id, org_id, answer, answered_at, attended"

func actionReplyDest(r *storage.ActionReply) []any {
	return []any{&r.BroadcastID, idCol{&r.PersonID}, &r.OrgID, &r.Answer, timeCol{&r.AnsweredAt}, nullBoolCol{&r.Attended}}
}

// nullBoolCol scans an optional boolean; NULL is nil.
type nullBoolCol struct{ dst **bool }

func (c nullBoolCol) Scan(src any) error {
	var b sql.NullBool
	if err := b.Scan(src); err != nil {
		return err
	}
	*c.dst = nil
	if b.Valid {
		v := b.Bool
		*c.dst = &v
	}
	return nil
}

// trueCol scans an optional boolean; NULL is false.
type trueCol struct{ dst *bool }

func (c trueCol) Scan(src any) error {
	var b sql.NullBool
	if err := b.Scan(src); err != nil {
		return err
	}
	*c.dst = b.Valid && b.Bool
	return nil
}

// AnswerAction records a person's answer to the action of a broadcast they
// received, as a member of the organisation their delivery was for; a
// second answer replaces the first (its time only when it changed).
// Someone the broadcast did not reach gets ErrNotFound.
func (db *DB) AnswerAction(ctx context.Context, broadcastID, personID int64, answer storage.ActionAnswer, at time.Time) (storage.ActionReply, error) {
	if !answer.Valid() || personID == 0 {
		return storage.ActionReply{}, fmt.Errorf("answer action: bad answer %q of person %d", answer, personID)
	}
	var out storage.ActionReply
	err := db.inTx(ctx, func(c conn) error {
		var orgID int64
		err := c.row(ctx, "SELECT org_id FROM deliveries WHERE broadcast_id = ? AND person_id = ? ORDER BY id LIMIT 1",
			broadcastID, personID).Scan(&orgID)
		if err != nil {
			return notFound(err)
		}
		return c.row(ctx, `INSERT INTO action_answers (broadcast_id, person_id, org_id, answer, answered_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (broadcast_id, person_id) DO UPDATE SET
				answered_at = CASE WHEN action_answers.answer = excluded.answer THEN action_answers.answered_at ELSE excluded.answered_at END,
				answer = excluded.answer
			RETURNING `+actionReplyCols, broadcastID, personID, orgID, answer, c.d.t(at)).Scan(actionReplyDest(&out)...)
	})
	if err != nil {
		return storage.ActionReply{}, fmt.Errorf("answer action of broadcast %d: %w", broadcastID, err)
	}
	return out, nil
}

// SetAttended records whether a person who said yes was there, once they
// were asked; anyone else gets ErrNotFound.
func (db *DB) SetAttended(ctx context.Context, broadcastID, personID int64, attended bool) (storage.ActionReply, error) {
	var out storage.ActionReply
	err := db.conn().row(ctx, `UPDATE action_answers SET attended = ?
		WHERE broadcast_id = ? AND person_id = ? AND answer = ? AND followup_at IS NOT NULL
		RETURNING `+actionReplyCols, attended, broadcastID, personID, storage.AnswerYes).Scan(actionReplyDest(&out)...)
	if err != nil {
		return storage.ActionReply{}, fmt.Errorf("set attended: %w", notFound(err))
	}
	return out, nil
}

// ActionCounts counts the answers to a broadcast's action by the
// organisation each person answered as a member of.
func (db *DB) ActionCounts(ctx context.Context, broadcastID int64) ([]storage.ActionCount, error) {
	out, err := queryAll(ctx, db.conn(), func(n *storage.ActionCount) []any { return []any{&n.OrgID, &n.Yes, &n.No, &n.Attended, &n.Signed} },
		`SELECT org_id,
			COALESCE(SUM(CASE WHEN answer = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN answer = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN answer = ? AND attended = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN answer = ? THEN 1 ELSE 0 END), 0)
		FROM action_answers WHERE broadcast_id = ? GROUP BY org_id ORDER BY org_id`,
		storage.AnswerYes, storage.AnswerNo, storage.AnswerYes, true, storage.AnswerSigned, broadcastID)
	if err != nil {
		return nil, fmt.Errorf("count action answers of broadcast %d: %w", broadcastID, err)
	}
	return out, nil
}

// noticeColumn is the column that records a notice as claimed.
func noticeColumn(n storage.ActionNotice) (string, bool) {
	switch n {
	case storage.NoticeDayBefore:
		return "day_notice_at", true
	case storage.NoticeHourBefore:
		return "hour_notice_at", true
	case storage.NoticeFollowUp:
		return "followup_at", true
	}
	return "", false
}

// ClaimActionNotices claims notice for the people who said yes to a
// meeting or an online action taking place after from and by to, of a
// broadcast neither cancelled nor failed, who have not had it, and
// returns their answers. A claim is made once across replicas.
func (db *DB) ClaimActionNotices(ctx context.Context, notice storage.ActionNotice, from, to, at time.Time) ([]storage.ActionReply, error) {
	col, ok := noticeColumn(notice)
	if !ok {
		return nil, fmt.Errorf("claim action notices: unknown notice %q", notice)
	}
	c := db.conn()
	out, err := queryAll(ctx, c, actionReplyDest, "UPDATE action_answers SET "+col+" = ? WHERE "+col+` IS NULL AND answer = ? AND person_id IS NOT NULL
			AND broadcast_id IN (SELECT id FROM broadcasts WHERE action_kind IN (?, ?) AND action_at > ? AND action_at <= ?
				AND status NOT IN (?, ?))
		RETURNING `+actionReplyCols,
		c.d.t(at), storage.AnswerYes, storage.ActionMeeting, storage.ActionOnline, c.d.t(from), c.d.t(to),
		storage.BroadcastCancelled, storage.BroadcastFailed)
	if err != nil {
		return nil, fmt.Errorf("claim action notices: %w", err)
	}
	return out, nil
}

// forgetActions unlinks a person from their answers, which stay,
// anonymous, for the counts.
func (c conn) forgetActions(ctx context.Context, personID int64) error {
	if _, err := c.exec(ctx, "UPDATE action_answers SET person_id = NULL WHERE person_id = ?", personID); err != nil {
		return fmt.Errorf("unlink action answers: %w", err)
	}
	return nil
}

// ActionJoins reads the subtree's actions of a period with those who
// joined them.
func (db *DB) ActionJoins(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.ActionJoin, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("list action joins: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	out, err := queryAll(ctx, c, func(j *storage.ActionJoin) []any {
		return []any{&j.BroadcastID, &j.OrgID, &j.Kind, idCol{&j.Person}, trueCol{&j.Attended}}
	}, `SELECT b.id, b.org_id, b.action_kind, COALESCE(a.person_id, -a.id), a.attended
		FROM broadcasts b JOIN orgs o ON o.id = b.org_id
		LEFT JOIN action_answers a ON a.broadcast_id = b.id AND a.answer IN (?, ?)
		WHERE `+pathPrefix(under.Path)+` AND b.action_at >= ? AND b.action_at < ? AND b.status NOT IN (?, ?)`,
		storage.AnswerYes, storage.AnswerSigned, c.d.t(from), c.d.t(to), storage.BroadcastCancelled, storage.BroadcastFailed)
	if err != nil {
		return nil, fmt.Errorf("list action joins under org %d: %w", under.ID, err)
	}
	return out, nil
}
