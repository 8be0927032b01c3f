package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const surveyRunCols = "id, survey_id, job, fired_for, org_id, roles, opened_at, deadline, status, closed_at"

func surveyRunDest(r *storage.SurveyRun) []any {
	return []any{&r.ID, &r.SurveyID, &r.Job, timeCol{&r.FiredFor}, &r.OrgID, rolesCol{&r.Roles}, timeCol{&r.OpenedAt},
		timeCol{&r.Deadline}, &r.Status, nullTimeCol{&r.ClosedAt}}
}

const surveyTargetCols = "run_id, org_id, reminders_sent, submitted_by, submitted_at, updated_at, noticed_at"

func surveyTargetDest(t *storage.SurveyTarget) []any {
	return []any{&t.RunID, &t.OrgID, &t.RemindersSent, idCol{&t.SubmittedBy}, nullTimeCol{&t.SubmittedAt}, timeCol{&t.UpdatedAt},
		nullTimeCol{&t.NoticedAt}}
}

const surveyAnswerCols = "run_id, org_id, question_id, value, person_id, at"

func surveyAnswerDest(a *storage.SurveyAnswer) []any {
	return []any{&a.RunID, &a.OrgID, &a.QuestionID, &a.Value, idCol{&a.PersonID}, timeCol{&a.At}}
}

const boardCheckCols = "org_id, week, reminded_at, answer, answered_by, answered_at, snoozed_until"

func boardCheckDest(b *storage.BoardCheck) []any {
	return []any{&b.OrgID, timeCol{&b.Week}, timeCol{&b.RemindedAt}, &b.Answer, idCol{&b.AnsweredBy}, nullTimeCol{&b.AnsweredAt},
		nullTimeCol{&b.SnoozedUntil}}
}

const targetCols = "org_id, period, indicator, value"

func targetDest(t *storage.Target) []any {
	return []any{&t.OrgID, &t.Period, &t.Indicator, &t.Value}
}

const jobRunCols = "job, fired_for, started_at, outcome, finished_at"

func jobRunDest(j *storage.JobRun) []any {
	return []any{&j.Job, timeCol{&j.FiredFor}, timeCol{&j.StartedAt}, &j.Outcome, nullTimeCol{&j.FinishedAt}}
}

// rolesCol scans comma-joined roles; "" is none.
type rolesCol struct{ dst *[]storage.Role }

func (c rolesCol) Scan(src any) error {
	var s sql.NullString
	if err := s.Scan(src); err != nil {
		return err
	}
	*c.dst = nil
	if s.String == "" {
		return nil
	}
	for r := range strings.SplitSeq(s.String, ",") {
		*c.dst = append(*c.dst, storage.Role(r))
	}
	return nil
}

func joinRoles(roles []storage.Role) (string, error) {
	parts := make([]string, len(roles))
	for i, r := range roles {
		if !r.Valid() {
			return "", fmt.Errorf("unknown role %q", r)
		}
		parts[i] = string(r)
	}
	return strings.Join(parts, ","), nil
}

// targetRowsPerInsert keeps a run's target insert under both databases'
// limits on bound parameters.
const targetRowsPerInsert = 1000

// OpenSurveyRun creates the run and its targets in one transaction, once
// per (Job, FiredFor): the unique key decides between replicas, and the
// loser gets the winner's run and false.
func (db *DB) OpenSurveyRun(ctx context.Context, run storage.SurveyRun, orgIDs []int64) (storage.SurveyRun, bool, error) {
	if run.SurveyID == "" || run.Job == "" || run.OrgID == 0 || run.FiredFor.IsZero() || run.Deadline.IsZero() {
		return storage.SurveyRun{}, false, fmt.Errorf("open survey run: incomplete run (survey %q, job %q, org %d, fired for %v, deadline %v)",
			run.SurveyID, run.Job, run.OrgID, run.FiredFor, run.Deadline)
	}
	roles, err := joinRoles(run.Roles)
	if err != nil {
		return storage.SurveyRun{}, false, fmt.Errorf("open survey run: %w", err)
	}
	ids := slices.Clone(orgIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)

	var (
		out     storage.SurveyRun
		created bool
	)
	err = db.inTx(ctx, func(c conn) error {
		err := c.row(ctx, "INSERT INTO survey_runs ("+strings.TrimPrefix(surveyRunCols, "id, ")+") VALUES ("+placeholders(9)+
			") ON CONFLICT (job, fired_for) DO NOTHING RETURNING "+surveyRunCols,
			run.SurveyID, run.Job, c.d.t(run.FiredFor), run.OrgID, roles, c.d.t(run.OpenedAt), c.d.t(run.Deadline),
			storage.RunOpen, nil).Scan(surveyRunDest(&out)...)
		if errors.Is(err, sql.ErrNoRows) {
			err = c.row(ctx, "SELECT "+surveyRunCols+" FROM survey_runs WHERE job = ? AND fired_for = ?",
				run.Job, c.d.t(run.FiredFor)).Scan(surveyRunDest(&out)...)
			if err != nil {
				return fmt.Errorf("read the existing run: %w", err)
			}
			return nil
		}
		if err != nil {
			return c.d.classify(err, storage.ErrConflict)
		}
		created = true
		for chunk := range slices.Chunk(ids, targetRowsPerInsert) {
			args := make([]any, 0, 3*len(chunk))
			for _, id := range chunk {
				args = append(args, out.ID, id, c.d.t(run.OpenedAt))
			}
			_, err := c.exec(ctx, "INSERT INTO survey_targets (run_id, org_id, updated_at) VALUES "+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)), ", "), args...)
			if err != nil {
				return fmt.Errorf("add targets: %w", c.d.classify(err, storage.ErrConflict))
			}
		}
		return nil
	})
	if err != nil {
		return storage.SurveyRun{}, false, fmt.Errorf("open survey run of job %s for %v: %w", run.Job, run.FiredFor, err)
	}
	if created {
		db.logger.InfoContext(ctx, "survey run opened", "run", out.ID, "survey", out.SurveyID, "job", out.Job,
			"org", out.OrgID, "targets", len(ids))
	}
	return out, created, nil
}

// SurveyRun finds a run by id.
func (db *DB) SurveyRun(ctx context.Context, id int64) (storage.SurveyRun, error) {
	var r storage.SurveyRun
	err := db.conn().row(ctx, "SELECT "+surveyRunCols+" FROM survey_runs WHERE id = ?", id).Scan(surveyRunDest(&r)...)
	if err != nil {
		return storage.SurveyRun{}, fmt.Errorf("get survey run %d: %w", id, notFound(err))
	}
	return r, nil
}

// SurveyRuns lists the runs of a survey ("" for all), the last opened first.
func (db *DB) SurveyRuns(ctx context.Context, surveyID string) ([]storage.SurveyRun, error) {
	var (
		out []storage.SurveyRun
		err error
	)
	if surveyID == "" {
		out, err = queryAll(ctx, db.conn(), surveyRunDest, "SELECT "+surveyRunCols+" FROM survey_runs ORDER BY opened_at DESC, id DESC")
	} else {
		out, err = queryAll(ctx, db.conn(), surveyRunDest, "SELECT "+surveyRunCols+
			" FROM survey_runs WHERE survey_id = ? ORDER BY opened_at DESC, id DESC", surveyID)
	}
	if err != nil {
		return nil, fmt.Errorf("list survey runs of %q: %w", surveyID, err)
	}
	return out, nil
}

// OpenSurveyRuns lists the runs still open, the first opened first.
func (db *DB) OpenSurveyRuns(ctx context.Context) ([]storage.SurveyRun, error) {
	// 'open' is literal so that the partial index serves the query.
	out, err := queryAll(ctx, db.conn(), surveyRunDest, "SELECT "+surveyRunCols+
		" FROM survey_runs WHERE status = 'open' ORDER BY opened_at, id")
	if err != nil {
		return nil, fmt.Errorf("list open survey runs: %w", err)
	}
	return out, nil
}

// CloseSurveyRun closes an open run; the guard on the status lets one of
// several closers win.
func (db *DB) CloseSurveyRun(ctx context.Context, id int64, at time.Time) (bool, error) {
	c := db.conn()
	res, err := c.exec(ctx, "UPDATE survey_runs SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'", storage.RunClosed, c.d.t(at), id)
	if err != nil {
		return false, fmt.Errorf("close survey run %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("close survey run %d: %w", id, err)
	}
	if n == 0 {
		if _, err := db.SurveyRun(ctx, id); err != nil {
			return false, fmt.Errorf("close survey run: %w", err)
		}
		return false, nil
	}
	db.logger.InfoContext(ctx, "survey run closed", "run", id)
	return true, nil
}

// SurveyTargets lists the targets of a run by org id.
func (db *DB) SurveyTargets(ctx context.Context, runID int64) ([]storage.SurveyTarget, error) {
	out, err := queryAll(ctx, db.conn(), surveyTargetDest, "SELECT "+surveyTargetCols+" FROM survey_targets WHERE run_id = ? ORDER BY org_id", runID)
	if err != nil {
		return nil, fmt.Errorf("list targets of survey run %d: %w", runID, err)
	}
	return out, nil
}

// SurveyTarget finds an org's target of a run.
func (db *DB) SurveyTarget(ctx context.Context, runID, orgID int64) (storage.SurveyTarget, error) {
	var t storage.SurveyTarget
	err := db.conn().row(ctx, "SELECT "+surveyTargetCols+" FROM survey_targets WHERE run_id = ? AND org_id = ?", runID, orgID).
		Scan(surveyTargetDest(&t)...)
	if err != nil {
		return storage.SurveyTarget{}, fmt.Errorf("get target of survey run %d at org %d: %w", runID, orgID, notFound(err))
	}
	return t, nil
}

// takesAnswers fails with ErrClosed unless the run is open and at is before
// its deadline. It locks the run's row, so a concurrent close waits for the
// answer's commit and an answer after the close sees it closed.
func (c conn) takesAnswers(ctx context.Context, runID int64, at time.Time) error {
	var (
		status   storage.SurveyRunStatus
		deadline time.Time
	)
	err := c.row(ctx, "SELECT status, deadline FROM survey_runs WHERE id = ?"+c.d.ForUpdate, runID).Scan(&status, timeCol{&deadline})
	if err != nil {
		return fmt.Errorf("survey run %d: %w", runID, notFound(err))
	}
	if status != storage.RunOpen || !at.Before(deadline) {
		return fmt.Errorf("survey run %d is %s, deadline %v: %w", runID, status, deadline, storage.ErrClosed)
	}
	return nil
}

// SaveSurveyAnswer upserts an org's answer while the run takes answers.
func (db *DB) SaveSurveyAnswer(ctx context.Context, a storage.SurveyAnswer) error {
	if a.QuestionID == "" {
		return fmt.Errorf("save survey answer: no question (run %d, org %d)", a.RunID, a.OrgID)
	}
	err := db.inTx(ctx, func(c conn) error {
		if err := c.takesAnswers(ctx, a.RunID, a.At); err != nil {
			return err
		}
		err := c.execOne(ctx, "UPDATE survey_targets SET updated_at = ? WHERE run_id = ? AND org_id = ?", c.d.t(a.At), a.RunID, a.OrgID)
		if err != nil {
			return fmt.Errorf("org %d is no target: %w", a.OrgID, err)
		}
		_, err = c.exec(ctx, "INSERT INTO survey_answers ("+surveyAnswerCols+") VALUES ("+placeholders(6)+`)
			ON CONFLICT (run_id, org_id, question_id) DO UPDATE SET value = excluded.value, person_id = excluded.person_id, at = excluded.at`,
			a.RunID, a.OrgID, a.QuestionID, a.Value, nullID(a.PersonID), c.d.t(a.At))
		return c.d.classify(err, storage.ErrConflict)
	})
	if err != nil {
		return fmt.Errorf("save answer to %q of survey run %d at org %d: %w", a.QuestionID, a.RunID, a.OrgID, err)
	}
	return nil
}

// SurveyAnswers lists an org's answers to a run by question id.
func (db *DB) SurveyAnswers(ctx context.Context, runID, orgID int64) ([]storage.SurveyAnswer, error) {
	out, err := queryAll(ctx, db.conn(), surveyAnswerDest, "SELECT "+surveyAnswerCols+
		" FROM survey_answers WHERE run_id = ? AND org_id = ? ORDER BY question_id", runID, orgID)
	if err != nil {
		return nil, fmt.Errorf("list answers of survey run %d at org %d: %w", runID, orgID, err)
	}
	return out, nil
}

// RunAnswers lists every org's answers to a run, to the questions named
// (nil: all), by org and question id, without who gave them when.
func (db *DB) RunAnswers(ctx context.Context, runID int64, questions []string) ([]storage.SurveyAnswer, error) {
	query := "SELECT org_id, question_id, value FROM survey_answers WHERE run_id = ?"
	args := []any{runID}
	if questions != nil {
		// NULL matches nothing, and keeps an empty list valid SQL.
		query += " AND question_id IN (NULL" + strings.Repeat(", ?", len(questions)) + ")"
		for _, q := range questions {
			args = append(args, q)
		}
	}
	out, err := queryAll(ctx, db.conn(), func(a *storage.SurveyAnswer) []any {
		a.RunID = runID
		return []any{&a.OrgID, &a.QuestionID, &a.Value}
	}, query+" ORDER BY org_id, question_id", args...)
	if err != nil {
		return nil, fmt.Errorf("list answers of survey run %d: %w", runID, err)
	}
	return out, nil
}

// SubmitSurvey marks an org's answers confirmed while the run takes
// answers; the first submitter and time stay, later ones only touch
// updated_at.
func (db *DB) SubmitSurvey(ctx context.Context, runID, orgID, personID int64, at time.Time) (storage.SurveyTarget, error) {
	var t storage.SurveyTarget
	err := db.inTx(ctx, func(c conn) error {
		if err := c.takesAnswers(ctx, runID, at); err != nil {
			return err
		}
		// Every right-hand side reads the row as it was, so the CASE sees
		// the old submitted_at.
		err := c.row(ctx, `UPDATE survey_targets SET
				submitted_by = CASE WHEN submitted_at IS NULL THEN ? ELSE submitted_by END,
				submitted_at = COALESCE(submitted_at, ?),
				updated_at = ?
			WHERE run_id = ? AND org_id = ? RETURNING `+surveyTargetCols,
			nullID(personID), c.d.t(at), c.d.t(at), runID, orgID).Scan(surveyTargetDest(&t)...)
		if err != nil {
			return fmt.Errorf("org %d is no target: %w", orgID, notFound(err))
		}
		return nil
	})
	if err != nil {
		return storage.SurveyTarget{}, fmt.Errorf("submit survey run %d at org %d: %w", runID, orgID, err)
	}
	db.logger.InfoContext(ctx, "survey submitted", "run", runID, "org", orgID, "person", personID)
	return t, nil
}

// ReopenSurvey clears a submission, inside the run's answer window.
func (db *DB) ReopenSurvey(ctx context.Context, runID, orgID int64, at time.Time) (bool, error) {
	reopened := false
	err := db.inTx(ctx, func(c conn) error {
		if err := c.takesAnswers(ctx, runID, at); err != nil {
			return err
		}
		res, err := c.exec(ctx, `UPDATE survey_targets SET submitted_at = NULL, submitted_by = NULL, updated_at = ?
			WHERE run_id = ? AND org_id = ? AND submitted_at IS NOT NULL`, c.d.t(at), runID, orgID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		reopened = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reopen survey run %d at org %d: %w", runID, orgID, err)
	}
	return reopened, nil
}

// ClaimSurveyReminder moves the target's count from n-1 to n, guarded on
// the count, the submission and the run's status, so that of several
// replicas exactly one sends reminder n, and none after a submission or close.
func (db *DB) ClaimSurveyReminder(ctx context.Context, runID, orgID int64, n int, at time.Time) (bool, error) {
	if n < 1 {
		return false, fmt.Errorf("claim survey reminder %d: reminders count from 1", n)
	}
	c := db.conn()
	res, err := c.exec(ctx, `UPDATE survey_targets SET reminders_sent = ?, noticed_at = ?
		WHERE run_id = ? AND org_id = ? AND reminders_sent = ? AND submitted_at IS NULL
			AND EXISTS (SELECT 1 FROM survey_runs r WHERE r.id = ? AND r.status = 'open')`,
		n, c.d.t(at), runID, orgID, n-1, runID)
	if err != nil {
		return false, fmt.Errorf("claim reminder %d of survey run %d at org %d: %w", n, runID, orgID, err)
	}
	claimed, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim reminder %d of survey run %d at org %d: %w", n, runID, orgID, err)
	}
	return claimed == 1, nil
}

// ReleaseSurveyReminder undoes the claim of reminder n while it is the last.
func (db *DB) ReleaseSurveyReminder(ctx context.Context, runID, orgID int64, n int) (bool, error) {
	res, err := db.conn().exec(ctx, "UPDATE survey_targets SET reminders_sent = ?, noticed_at = NULL WHERE run_id = ? AND org_id = ? AND reminders_sent = ?",
		n-1, runID, orgID, n)
	if err != nil {
		return false, fmt.Errorf("release reminder %d of survey run %d at org %d: %w", n, runID, orgID, err)
	}
	released, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("release reminder %d of survey run %d at org %d: %w", n, runID, orgID, err)
	}
	return released == 1, nil
}

// ClaimBoardCheck creates the org's check of week; the primary key lets one
// of several replicas remind.
func (db *DB) ClaimBoardCheck(ctx context.Context, orgID int64, week, at time.Time) (bool, error) {
	c := db.conn()
	res, err := c.exec(ctx, "INSERT INTO board_checks (org_id, week, reminded_at) VALUES (?, ?, ?) ON CONFLICT (org_id, week) DO NOTHING",
		orgID, c.d.t(week), c.d.t(at))
	if err != nil {
		return false, fmt.Errorf("claim board check of org %d for %v: %w", orgID, week, c.d.classify(err, storage.ErrConflict))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim board check of org %d for %v: %w", orgID, week, err)
	}
	return n == 1, nil
}

// ReleaseBoardCheck deletes the org's check of week while nobody answered it.
func (db *DB) ReleaseBoardCheck(ctx context.Context, orgID int64, week time.Time) (bool, error) {
	c := db.conn()
	res, err := c.exec(ctx, "DELETE FROM board_checks WHERE org_id = ? AND week = ? AND answer = ''", orgID, c.d.t(week))
	if err != nil {
		return false, fmt.Errorf("release board check of org %d for %v: %w", orgID, week, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("release board check of org %d for %v: %w", orgID, week, err)
	}
	return n == 1, nil
}

// AnswerBoardCheck records an answer, replacing an earlier one, and drops a snooze.
func (db *DB) AnswerBoardCheck(ctx context.Context, orgID int64, week time.Time, a storage.BoardAnswer, personID int64, at time.Time) (storage.BoardCheck, error) {
	if a != storage.BoardUpdated && a != storage.BoardNone {
		return storage.BoardCheck{}, fmt.Errorf("answer board check: unknown answer %q", a)
	}
	c := db.conn()
	var b storage.BoardCheck
	err := c.row(ctx, "UPDATE board_checks SET answer = ?, answered_by = ?, answered_at = ?, snoozed_until = NULL WHERE org_id = ? AND week = ? RETURNING "+
		boardCheckCols, a, nullID(personID), c.d.t(at), orgID, c.d.t(week)).Scan(boardCheckDest(&b)...)
	if err != nil {
		return storage.BoardCheck{}, fmt.Errorf("answer board check of org %d for %v: %w", orgID, week, notFound(err))
	}
	db.logger.InfoContext(ctx, "board check answered", "org", orgID, "answer", a, "person", personID)
	return b, nil
}

// SnoozeBoardCheck asks for the reminder again at until; an answered check
// stays as it is.
func (db *DB) SnoozeBoardCheck(ctx context.Context, orgID int64, week, until time.Time) error {
	c := db.conn()
	res, err := c.exec(ctx, "UPDATE board_checks SET snoozed_until = ? WHERE org_id = ? AND week = ? AND answer = ''",
		c.d.t(until), orgID, c.d.t(week))
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			var one int
			err = notFound(c.row(ctx, "SELECT 1 FROM board_checks WHERE org_id = ? AND week = ?", orgID, c.d.t(week)).Scan(&one))
		}
	}
	if err != nil {
		return fmt.Errorf("snooze board check of org %d for %v: %w", orgID, week, err)
	}
	return nil
}

// ClaimDueBoardSnoozes clears the snoozes due by now and returns the checks
// with the snooze time they had. The select locks its rows and skips those
// another replica holds, so each snooze goes to one caller; SQLite's single
// writer does the same.
func (db *DB) ClaimDueBoardSnoozes(ctx context.Context, now time.Time) ([]storage.BoardCheck, error) {
	var due []storage.BoardCheck
	err := db.inTx(ctx, func(c conn) error {
		var err error
		due, err = queryAll(ctx, c, boardCheckDest, "SELECT "+boardCheckCols+
			" FROM board_checks WHERE snoozed_until IS NOT NULL AND snoozed_until <= ? ORDER BY snoozed_until, org_id, week"+c.d.SkipLocked,
			c.d.t(now))
		if err != nil {
			return err
		}
		for _, b := range due {
			if _, err := c.exec(ctx, "UPDATE board_checks SET snoozed_until = NULL WHERE org_id = ? AND week = ?", b.OrgID, c.d.t(b.Week)); err != nil {
				return fmt.Errorf("clear the snooze of org %d: %w", b.OrgID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim due board snoozes: %w", err)
	}
	return due, nil
}

// BoardChecks lists the checks of under's subtree whose week starts in
// [from, to), oldest first; a zero bound is open.
func (db *DB) BoardChecks(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.BoardCheck, error) {
	if under.Path == "" {
		return nil, fmt.Errorf("list board checks: org %d has no path", under.ID)
	}
	var b strings.Builder
	b.WriteString("SELECT " + boardCheckCols + " FROM board_checks WHERE org_id IN (SELECT o.id FROM orgs o WHERE o.path LIKE ?)")
	args := []any{under.Path + "%"}
	if !from.IsZero() {
		b.WriteString(" AND week >= ?")
		args = append(args, db.d.t(from))
	}
	if !to.IsZero() {
		b.WriteString(" AND week < ?")
		args = append(args, db.d.t(to))
	}
	b.WriteString(" ORDER BY week, org_id")
	out, err := queryAll(ctx, db.conn(), boardCheckDest, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list board checks under org %d: %w", under.ID, err)
	}
	return out, nil
}

// BoardTallies counts the checks of under's subtree whose week starts in
// [from, to) per org, by org id; a zero bound is open.
func (db *DB) BoardTallies(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.BoardTally, error) {
	if under.Path == "" {
		return nil, fmt.Errorf("count board checks: org %d has no path", under.ID)
	}
	var b strings.Builder
	b.WriteString(`SELECT org_id, COUNT(*),
			COUNT(CASE WHEN answer <> '' THEN 1 END),
			COUNT(CASE WHEN answer = 'updated' AND answered_at < ` + fmt.Sprintf(db.d.WeekLater, "week") + ` THEN 1 END)
		FROM board_checks WHERE org_id IN (SELECT o.id FROM orgs o WHERE o.path LIKE ?)`)
	args := []any{under.Path + "%"}
	if !from.IsZero() {
		b.WriteString(" AND week >= ?")
		args = append(args, db.d.t(from))
	}
	if !to.IsZero() {
		b.WriteString(" AND week < ?")
		args = append(args, db.d.t(to))
	}
	b.WriteString(" GROUP BY org_id ORDER BY org_id")
	out, err := queryAll(ctx, db.conn(), func(t *storage.BoardTally) []any {
		return []any{&t.OrgID, &t.Weeks, &t.Answered, &t.Updated}
	}, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("count board checks under org %d: %w", under.ID, err)
	}
	return out, nil
}

// SetTarget stores or replaces a target.
func (db *DB) SetTarget(ctx context.Context, t storage.Target) error {
	if t.OrgID == 0 || t.Period == "" || t.Indicator == "" || math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
		return fmt.Errorf("set target: incomplete target (org %d, period %q, indicator %q, value %v)", t.OrgID, t.Period, t.Indicator, t.Value)
	}
	c := db.conn()
	_, err := c.exec(ctx, "INSERT INTO targets ("+targetCols+") VALUES ("+placeholders(4)+
		") ON CONFLICT (org_id, period, indicator) DO UPDATE SET value = excluded.value", t.OrgID, t.Period, t.Indicator, t.Value)
	if err != nil {
		return fmt.Errorf("set target %s/%s of org %d: %w", t.Period, t.Indicator, t.OrgID, c.d.classify(err, storage.ErrConflict))
	}
	return nil
}

// Targets lists the targets of a period by org and indicator.
func (db *DB) Targets(ctx context.Context, period string) ([]storage.Target, error) {
	out, err := queryAll(ctx, db.conn(), targetDest, "SELECT "+targetCols+" FROM targets WHERE period = ? ORDER BY org_id, indicator", period)
	if err != nil {
		return nil, fmt.Errorf("list targets of %q: %w", period, err)
	}
	return out, nil
}

// StartJobRun records a job's firing; the primary key lets one replica run it.
func (db *DB) StartJobRun(ctx context.Context, job string, firedFor, at time.Time) (bool, error) {
	if job == "" {
		return false, errors.New("start job run: no job")
	}
	c := db.conn()
	res, err := c.exec(ctx, "INSERT INTO job_runs (job, fired_for, started_at) VALUES (?, ?, ?) ON CONFLICT (job, fired_for) DO NOTHING",
		job, c.d.t(firedFor), c.d.t(at))
	if err != nil {
		return false, fmt.Errorf("start job %s for %v: %w", job, firedFor, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("start job %s for %v: %w", job, firedFor, err)
	}
	return n == 1, nil
}

// FinishJobRun records the outcome of a started run.
func (db *DB) FinishJobRun(ctx context.Context, job string, firedFor time.Time, outcome string, at time.Time) error {
	if outcome == "" {
		return fmt.Errorf("finish job %s: empty outcome", job)
	}
	c := db.conn()
	err := c.execOne(ctx, "UPDATE job_runs SET outcome = ?, finished_at = ? WHERE job = ? AND fired_for = ?", outcome, c.d.t(at), job, c.d.t(firedFor))
	if err != nil {
		return fmt.Errorf("finish job %s for %v: %w", job, firedFor, err)
	}
	return nil
}

// LastJobRuns lists the run of every job with the newest fired_for, by job.
func (db *DB) LastJobRuns(ctx context.Context) ([]storage.JobRun, error) {
	out, err := queryAll(ctx, db.conn(), jobRunDest, "SELECT "+jobRunCols+
		" FROM job_runs j WHERE j.fired_for = (SELECT MAX(i.fired_for) FROM job_runs i WHERE i.job = j.job) ORDER BY j.job")
	if err != nil {
		return nil, fmt.Errorf("list last job runs: %w", err)
	}
	return out, nil
}

// forgetMonitoring unlinks a person from survey answers, submissions and
// board answers; what the orgs said stays.
func (c conn) forgetMonitoring(ctx context.Context, personID int64) error {
	for _, q := range []string{
		"UPDATE survey_answers SET person_id = NULL WHERE person_id = ?",
		"UPDATE survey_targets SET submitted_by = NULL WHERE submitted_by = ?",
		"UPDATE board_checks SET answered_by = NULL WHERE answered_by = ?",
	} {
		if _, err := c.exec(ctx, q, personID); err != nil {
			return fmt.Errorf("unlink monitoring: %w", err)
		}
	}
	return nil
}

// ClaimContactBaseSend inserts the org's claim for year, or takes over an
// unsent one claimed before staleBefore.
func (db *DB) ClaimContactBaseSend(ctx context.Context, orgID int64, year int, at, staleBefore time.Time) (bool, error) {
	c := db.conn()
	res, err := c.exec(ctx, `INSERT INTO contact_base_sends (org_id, year, claimed_at) VALUES (?, ?, ?)
		ON CONFLICT (org_id, year) DO UPDATE SET claimed_at = excluded.claimed_at
		WHERE contact_base_sends.sent_at IS NULL AND contact_base_sends.claimed_at < ?`,
		orgID, year, c.d.t(at), c.d.t(staleBefore))
	if err != nil {
		return false, fmt.Errorf("claim contact base send of org %d for %d: %w", orgID, year, c.d.classify(err, storage.ErrConflict))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim contact base send of org %d for %d: %w", orgID, year, err)
	}
	return n == 1, nil
}

// MarkContactBaseSent sets when the org's contact base of year was sent.
func (db *DB) MarkContactBaseSent(ctx context.Context, orgID int64, year int, at time.Time) error {
	c := db.conn()
	res, err := c.exec(ctx, "UPDATE contact_base_sends SET sent_at = ? WHERE org_id = ? AND year = ?", c.d.t(at), orgID, year)
	if err != nil {
		return fmt.Errorf("mark contact base of org %d sent for %d: %w", orgID, year, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("mark contact base of org %d sent for %d: %w", orgID, year, errors.Join(err, storage.ErrNotFound))
	}
	return nil
}

// ReleaseContactBaseSend deletes the org's unsent claim for year.
func (db *DB) ReleaseContactBaseSend(ctx context.Context, orgID int64, year int) error {
	if _, err := db.conn().exec(ctx, "DELETE FROM contact_base_sends WHERE org_id = ? AND year = ? AND sent_at IS NULL", orgID, year); err != nil {
		return fmt.Errorf("release contact base send of org %d for %d: %w", orgID, year, err)
	}
	return nil
}

// ReachableMemberships reads the subtree by its path, written into the
// statement (see pathPrefix), and the accounts by person.
func (db *DB) ReachableMemberships(ctx context.Context, under storage.Org, before time.Time) ([]storage.Reach, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("list reachable memberships: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	out, err := queryAll(ctx, c, func(m *storage.Reach) []any { return []any{&m.PersonID, &m.OrgID, &m.Supporter} },
		"SELECT m.person_id, m.org_id, m.role = ? FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE "+pathPrefix(under.Path)+
			` AND m.status = ? AND m.created_at < ?
			AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = m.person_id AND a.blocked_at IS NULL)`,
		storage.RoleSupporter, storage.StatusActive, c.d.t(before))
	if err != nil {
		return nil, fmt.Errorf("list reachable memberships under org %d: %w", under.ID, err)
	}
	return out, nil
}

// FeedbackTimes reads four columns of the period's questions: a year of
// the Union's is a row per question.
func (db *DB) FeedbackTimes(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.FeedbackTime, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("list feedback times: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	out, err := queryAll(ctx, c, func(f *storage.FeedbackTime) []any {
		return []any{&f.OrgID, timeCol{&f.CreatedAt}, timeCol{&f.DueAt}, nullTimeCol{&f.FirstResponseAt}}
	}, "SELECT t.org_id, t.created_at, t.due_at, t.first_response_at FROM tickets t JOIN orgs o ON o.id = t.org_id WHERE "+
		pathPrefix(under.Path)+" AND t.created_at >= ? AND t.created_at < ?", c.d.t(from), c.d.t(to))
	if err != nil {
		return nil, fmt.Errorf("list feedback times under org %d: %w", under.ID, err)
	}
	return out, nil
}

// NewsStarts reads the subtree's broadcasts by their start.
func (db *DB) NewsStarts(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.NewsStart, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("list news starts: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	out, err := queryAll(ctx, c, func(n *storage.NewsStart) []any { return []any{&n.OrgID, timeCol{&n.StartedAt}} },
		"SELECT b.org_id, b.started_at FROM broadcasts b JOIN orgs o ON o.id = b.org_id WHERE "+pathPrefix(under.Path)+
			" AND b.started_at >= ? AND b.started_at < ?", c.d.t(from), c.d.t(to))
	if err != nil {
		return nil, fmt.Errorf("list news started under org %d: %w", under.ID, err)
	}
	return out, nil
}

// MaturityUnder counts, per org of the subtree, the parts of its digital
// maturity: a correlated count each, led by the org's own index.
func (db *DB) MaturityUnder(ctx context.Context, under storage.Org, from, to, now time.Time, year int) ([]storage.Maturity, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("read maturity: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	due := to
	if now.Before(due) {
		due = now
	}
	active := storage.StatusActive
	out, err := queryAll(ctx, c, func(m *storage.Maturity) []any {
		return []any{&m.OrgID, &m.Infoworkers, &m.Responders, &m.Chats, &m.Activists, &m.WithEmail, &m.SurveysDue, &m.SurveysOnTime, &m.ContactBaseSent}
	}, `SELECT o.id,
		(SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.role = ? AND m.status = ?
			AND EXISTS (SELECT 1 FROM accounts a WHERE a.person_id = m.person_id AND a.blocked_at IS NULL)),
		(SELECT COUNT(*) FROM responders r WHERE r.org_id = o.id),
		(SELECT COUNT(*) FROM chat_bindings b WHERE b.org_id = o.id AND NOT b.desk),
		(SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id AND m.role IN (?, ?, ?) AND m.status = ?),
		(SELECT COUNT(*) FROM memberships m JOIN people p ON p.id = m.person_id
			WHERE m.org_id = o.id AND m.role IN (?, ?, ?) AND m.status = ? AND p.work_email <> ''),
		(SELECT COUNT(*) FROM survey_targets t JOIN survey_runs r ON r.id = t.run_id
			WHERE t.org_id = o.id AND r.deadline >= ? AND r.deadline < ?),
		(SELECT COUNT(*) FROM survey_targets t JOIN survey_runs r ON r.id = t.run_id
			WHERE t.org_id = o.id AND r.deadline >= ? AND r.deadline < ? AND t.submitted_at IS NOT NULL AND t.submitted_at <= r.deadline),
		EXISTS (SELECT 1 FROM contact_base_sends s WHERE s.org_id = o.id AND s.year = ? AND s.sent_at IS NOT NULL)
		FROM orgs o WHERE `+pathPrefix(under.Path)+" ORDER BY o.id",
		storage.RoleInfoworker, active,
		storage.RoleActivist, storage.RoleInfoworker, storage.RoleChair, active,
		storage.RoleActivist, storage.RoleInfoworker, storage.RoleChair, active,
		c.d.t(from), c.d.t(due), c.d.t(from), c.d.t(due), year)
	if err != nil {
		return nil, fmt.Errorf("read maturity under org %d: %w", under.ID, err)
	}
	return out, nil
}

// NewsReachUnder sums the reach tallies of the broadcasts finished in the
// period and the opens of their links, per org of the subtree.
func (db *DB) NewsReachUnder(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.NewsReach, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("sum news reach: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	reach, err := queryAll(ctx, c, func(n *storage.NewsReach) []any { return []any{&n.OrgID, &n.Audience, &n.Delivered} },
		"SELECT r.org_id, CAST(SUM(r.audience) AS BIGINT), CAST(SUM(r.delivered) AS BIGINT) FROM broadcast_reach r JOIN orgs o ON o.id = r.org_id WHERE "+
			pathPrefix(under.Path)+" AND r.finished_at >= ? AND r.finished_at < ? GROUP BY r.org_id", c.d.t(from), c.d.t(to))
	if err != nil {
		return nil, fmt.Errorf("sum news reach under org %d: %w", under.ID, err)
	}
	opens, err := queryAll(ctx, c, func(n *storage.NewsReach) []any { return []any{&n.OrgID, &n.Opens, &n.Shares} },
		`SELECT k.org_id, CAST(SUM(k.opens) AS BIGINT), CAST(SUM(k.shares) AS BIGINT)
		FROM link_open_counts k JOIN broadcasts b ON b.id = k.broadcast_id JOIN orgs o ON o.id = k.org_id
		WHERE `+pathPrefix(under.Path)+` AND b.finished_at >= ? AND b.finished_at < ? GROUP BY k.org_id`, c.d.t(from), c.d.t(to))
	if err != nil {
		return nil, fmt.Errorf("sum link opens under org %d: %w", under.ID, err)
	}
	byOrg := map[int64]int{}
	for i, r := range reach {
		byOrg[r.OrgID] = i
	}
	for _, o := range opens {
		if i, ok := byOrg[o.OrgID]; ok {
			reach[i].Opens, reach[i].Shares = o.Opens, o.Shares
			continue
		}
		reach = append(reach, o)
	}
	return reach, nil
}

// RelayStepsUnder reads the subtree's relay steps by their arrival.
func (db *DB) RelayStepsUnder(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.RelayStep, error) {
	if !validPath(under.Path) {
		return nil, fmt.Errorf("list relay steps: org %d has path %q", under.ID, under.Path)
	}
	c := db.conn()
	out, err := queryAll(ctx, c, relayDest, "SELECT r."+strings.ReplaceAll(relayCols, ", ", ", r.")+
		" FROM relay_steps r JOIN orgs o ON o.id = r.org_id WHERE "+pathPrefix(under.Path)+
		" AND r.received_at >= ? AND r.received_at < ?", c.d.t(from), c.d.t(to))
	if err != nil {
		return nil, fmt.Errorf("list relay steps under org %d: %w", under.ID, err)
	}
	return out, nil
}
