package storagetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// quarterly is a run of a quarterly survey of U's chairs and information
// workers, fired at T0 and due a week later.
func quarterly(o map[string]storage.Org) storage.SurveyRun {
	return storage.SurveyRun{SurveyID: "quarterly", Job: "survey:quarterly", FiredFor: T0, OrgID: o["U"].ID,
		Roles: []storage.Role{storage.RoleChair, storage.RoleInfoworker}, OpenedAt: T0, Deadline: T0.AddDate(0, 0, 7)}
}

// openRun opens run with P1 and P2 as its targets.
func (x *suite) openRun(o map[string]storage.Org, run storage.SurveyRun) storage.SurveyRun {
	x.t.Helper()
	r, created, err := x.s.OpenSurveyRun(x.ctx, run, []int64{o["P1"].ID, o["P2"].ID})
	x.must(err)
	if !created {
		x.t.Fatalf("run %s for %v existed already", run.Job, run.FiredFor)
	}
	return r
}

func (x *suite) answer(runID, orgID int64, question, value string, personID int64, at time.Time) error {
	return x.s.SaveSurveyAnswer(x.ctx, storage.SurveyAnswer{RunID: runID, OrgID: orgID, QuestionID: question, Value: value, PersonID: personID, At: at})
}

func (x *suite) target(runID, orgID int64) storage.SurveyTarget {
	x.t.Helper()
	t, err := x.s.SurveyTarget(x.ctx, runID, orgID)
	x.must(err)
	return t
}

func runIDs(rs []storage.SurveyRun) []int64 {
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testSurveyRunOnce(x *suite) {
	o := x.tree()
	in := quarterly(o)
	// A non-UTC time must come back as the same instant in UTC.
	in.FiredFor = T0.In(time.FixedZone("SAKT", 11*3600))
	run, created, err := x.s.OpenSurveyRun(x.ctx, in, []int64{o["P2"].ID, o["P1"].ID, o["P2"].ID})
	x.must(err)
	want := quarterly(o)
	want.ID, want.Status = run.ID, storage.RunOpen
	if !created || run.ID == 0 || !reflect.DeepEqual(run, want) {
		x.t.Errorf("opened %+v (created %v), want %+v", run, created, want)
	}
	// A replica or a catch-up fires the same slot again, a bit later.
	again := quarterly(o)
	again.OpenedAt = T0.Add(time.Minute)
	got, created, err := x.s.OpenSurveyRun(x.ctx, again, []int64{o["B1"].ID})
	x.must(err)
	if created || !reflect.DeepEqual(got, run) {
		x.t.Errorf("second open: %+v (created %v), want the first run and false", got, created)
	}
	stored, err := x.s.SurveyRun(x.ctx, run.ID)
	x.must(err)
	if !reflect.DeepEqual(stored, run) {
		x.t.Errorf("SurveyRun = %+v, want %+v", stored, run)
	}
	_, err = x.s.SurveyRun(x.ctx, run.ID+1000)
	x.wantErr(err, storage.ErrNotFound)

	targets, err := x.s.SurveyTargets(x.ctx, run.ID)
	x.must(err)
	wantTargets := []storage.SurveyTarget{{RunID: run.ID, OrgID: o["P1"].ID, UpdatedAt: T0}, {RunID: run.ID, OrgID: o["P2"].ID, UpdatedAt: T0}}
	slices.SortFunc(wantTargets, func(a, b storage.SurveyTarget) int { return int(a.OrgID - b.OrgID) })
	if !reflect.DeepEqual(targets, wantTargets) {
		x.t.Errorf("targets %+v, want P1 and P2 once each, untouched", targets)
	}
	if t, want := x.target(run.ID, o["P2"].ID), (storage.SurveyTarget{RunID: run.ID, OrgID: o["P2"].ID, UpdatedAt: T0}); !reflect.DeepEqual(t, want) {
		x.t.Errorf("SurveyTarget(P2) = %+v, want %+v", t, want)
	}
	_, err = x.s.SurveyTarget(x.ctx, run.ID, o["B1"].ID)
	x.wantErr(err, storage.ErrNotFound)

	// Another firing, with no roles, and another survey.
	next := quarterly(o)
	next.FiredFor, next.OpenedAt, next.Roles = T0.AddDate(0, 3, 0), T0.AddDate(0, 3, 0), nil
	later := x.openRun(o, next)
	if later.Roles != nil {
		x.t.Errorf("roles %v, want none", later.Roles)
	}
	other := quarterly(o)
	other.SurveyID, other.Job, other.OpenedAt = "yearly", "survey:yearly", T0.Add(time.Hour)
	yearly := x.openRun(o, other)

	runs, err := x.s.SurveyRuns(x.ctx, "quarterly")
	x.must(err)
	if ids := runIDs(runs); !slices.Equal(ids, []int64{later.ID, run.ID}) {
		x.t.Errorf("quarterly runs %v, want %v newest first", ids, []int64{later.ID, run.ID})
	}
	runs, err = x.s.SurveyRuns(x.ctx, "")
	x.must(err)
	if ids := runIDs(runs); !slices.Equal(ids, []int64{later.ID, yearly.ID, run.ID}) {
		x.t.Errorf("all runs %v, want %v", ids, []int64{later.ID, yearly.ID, run.ID})
	}
	runs, err = x.s.OpenSurveyRuns(x.ctx)
	x.must(err)
	if ids := runIDs(runs); !slices.Equal(ids, []int64{run.ID, yearly.ID, later.ID}) {
		x.t.Errorf("open runs %v, want %v oldest first", ids, []int64{run.ID, yearly.ID, later.ID})
	}

	// A target that is no org leaves no run behind.
	bad := quarterly(o)
	bad.Job = "survey:bad"
	_, _, err = x.s.OpenSurveyRun(x.ctx, bad, []int64{o["P1"].ID, 987654})
	x.wantErr(err, storage.ErrNotFound)
	if runs, err := x.s.SurveyRuns(x.ctx, ""); err != nil || len(runs) != 3 {
		x.t.Errorf("after a failed open: %d runs, %v; want 3", len(runs), err)
	}
}

func testSurveyRunConcurrent(x *suite) {
	o := x.tree()
	const n = 8
	runs := make([]storage.SurveyRun, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			runs[i], created[i], errs[i] = x.s.OpenSurveyRun(x.ctx, quarterly(o), []int64{o["P1"].ID, o["P2"].ID, o["B2"].ID})
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		x.must(errs[i])
		if created[i] {
			winners++
		}
		if runs[i].ID != runs[0].ID || runs[i].ID == 0 {
			x.t.Errorf("caller %d got run %d, caller 0 run %d", i, runs[i].ID, runs[0].ID)
		}
	}
	if winners != 1 {
		x.t.Errorf("%d of %d concurrent opens created the run, want 1", winners, n)
	}
	all, err := x.s.SurveyRuns(x.ctx, "")
	x.must(err)
	targets, err := x.s.SurveyTargets(x.ctx, runs[0].ID)
	x.must(err)
	if len(all) != 1 || len(targets) != 3 {
		x.t.Errorf("%d runs with %d targets, want 1 with 3", len(all), len(targets))
	}
}

func testSurveyAnswers(x *suite) {
	o := x.tree()
	p, _ := x.register("51001", o["P1"].ID, storage.RoleChair, "")
	q, _ := x.register("51002", o["P1"].ID, storage.RoleInfoworker, "")
	run := x.openRun(o, quarterly(o))
	p1 := o["P1"].ID

	x.must(x.answer(run.ID, p1, "members", "40", p.ID, T0.Add(time.Hour)))
	x.must(x.answer(run.ID, p1, "events", "3 🎉", p.ID, T0.Add(time.Hour)))
	// A correction by someone else replaces the answer.
	x.must(x.answer(run.ID, p1, "members", "41", q.ID, T0.Add(2*time.Hour)))
	got, err := x.s.SurveyAnswers(x.ctx, run.ID, p1)
	x.must(err)
	want := []storage.SurveyAnswer{
		{RunID: run.ID, OrgID: p1, QuestionID: "events", Value: "3 🎉", PersonID: p.ID, At: T0.Add(time.Hour)},
		{RunID: run.ID, OrgID: p1, QuestionID: "members", Value: "41", PersonID: q.ID, At: T0.Add(2 * time.Hour)},
	}
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("answers %+v, want %+v", got, want)
	}
	if t := x.target(run.ID, p1); !t.UpdatedAt.Equal(T0.Add(2*time.Hour)) || t.SubmittedAt != nil {
		x.t.Errorf("target after answers %+v, want updated at the last answer, unsubmitted", t)
	}
	if got, err := x.s.SurveyAnswers(x.ctx, run.ID, o["P2"].ID); err != nil || len(got) != 0 {
		x.t.Errorf("P2's answers %+v, %v; want none", got, err)
	}

	// Not a target, no such run.
	x.wantErr(x.answer(run.ID, o["B1"].ID, "members", "1", p.ID, T0.Add(time.Hour)), storage.ErrNotFound)
	x.wantErr(x.answer(run.ID+1000, p1, "members", "1", p.ID, T0.Add(time.Hour)), storage.ErrNotFound)

	// At the deadline the run takes nothing more, even while still open.
	x.wantErr(x.answer(run.ID, p1, "members", "99", p.ID, run.Deadline), storage.ErrClosed)
	x.must(x.answer(run.ID, o["P2"].ID, "members", "90", 0, run.Deadline.Add(-time.Microsecond)))

	// A closed run takes nothing, before its deadline too.
	closed, err := x.s.CloseSurveyRun(x.ctx, run.ID, T0.Add(4*time.Hour))
	x.must(err)
	if !closed {
		x.t.Fatal("closing the open run: false")
	}
	x.wantErr(x.answer(run.ID, p1, "members", "99", p.ID, T0.Add(5*time.Hour)), storage.ErrClosed)
	if got, err := x.s.SurveyAnswers(x.ctx, run.ID, p1); err != nil || !reflect.DeepEqual(got, want) {
		x.t.Errorf("after refused answers: %+v, %v; want %+v", got, err, want)
	}
	if got, err := x.s.SurveyAnswers(x.ctx, run.ID, o["P2"].ID); err != nil || len(got) != 1 || got[0].PersonID != 0 {
		x.t.Errorf("P2's anonymous answer %+v, %v", got, err)
	}
	// Every org's answers at once, by org then question.
	all, err := x.s.RunAnswers(x.ctx, run.ID, nil)
	x.must(err)
	wantAll := []storage.SurveyAnswer{{RunID: run.ID, OrgID: p1, QuestionID: "events", Value: "3 🎉"},
		{RunID: run.ID, OrgID: p1, QuestionID: "members", Value: "41"}, {RunID: run.ID, OrgID: o["P2"].ID, QuestionID: "members", Value: "90"}}
	if p1 > o["P2"].ID {
		wantAll = append(wantAll[2:], wantAll[:2]...)
	}
	if !reflect.DeepEqual(all, wantAll) {
		x.t.Errorf("run answers\n got %+v\nwant %+v", all, wantAll)
	}
	if none, err := x.s.RunAnswers(x.ctx, run.ID+1000, nil); err != nil || len(none) != 0 {
		x.t.Errorf("answers of no run: %+v, %v", none, err)
	}
	// Only the questions asked for; none asked, none given.
	if some, err := x.s.RunAnswers(x.ctx, run.ID, []string{"members", "elsewhere"}); err != nil || !reflect.DeepEqual(some, []storage.SurveyAnswer{wantAll[1], wantAll[2]}) {
		x.t.Errorf("the members answers %+v, %v", some, err)
	}
	if none, err := x.s.RunAnswers(x.ctx, run.ID, []string{}); err != nil || len(none) != 0 {
		x.t.Errorf("answers to no question %+v, %v", none, err)
	}
}

func testSubmitSurvey(x *suite) {
	o := x.tree()
	p, _ := x.register("52001", o["P1"].ID, storage.RoleChair, "")
	q, _ := x.register("52002", o["P1"].ID, storage.RoleInfoworker, "")
	run := x.openRun(o, quarterly(o))
	p1 := o["P1"].ID
	x.must(x.answer(run.ID, p1, "members", "40", p.ID, T0.Add(time.Hour)))

	first := T0.Add(2 * time.Hour)
	t, err := x.s.SubmitSurvey(x.ctx, run.ID, p1, p.ID, first)
	x.must(err)
	want := storage.SurveyTarget{RunID: run.ID, OrgID: p1, SubmittedBy: p.ID, SubmittedAt: &first, UpdatedAt: first}
	if !reflect.DeepEqual(t, want) {
		x.t.Errorf("submitted %+v, want %+v", t, want)
	}
	// A correction and a second confirmation keep the first submission.
	x.must(x.answer(run.ID, p1, "members", "41", q.ID, T0.Add(3*time.Hour)))
	second := T0.Add(4 * time.Hour)
	t, err = x.s.SubmitSurvey(x.ctx, run.ID, p1, q.ID, second)
	x.must(err)
	want.UpdatedAt = second
	if !reflect.DeepEqual(t, want) {
		x.t.Errorf("resubmitted %+v, want %+v", t, want)
	}
	if stored := x.target(run.ID, p1); !reflect.DeepEqual(stored, want) {
		x.t.Errorf("stored target %+v, want %+v", stored, want)
	}

	// A correction that leaves a required answer missing withdraws the
	// submission; confirming again submits anew.
	third := T0.Add(5 * time.Hour)
	reopened, err := x.s.ReopenSurvey(x.ctx, run.ID, p1, third)
	x.must(err)
	if stored := x.target(run.ID, p1); !reopened || stored.SubmittedAt != nil || stored.SubmittedBy != 0 || !stored.UpdatedAt.Equal(third) {
		x.t.Errorf("reopened %v, target %+v", reopened, stored)
	}
	if reopened, err = x.s.ReopenSurvey(x.ctx, run.ID, p1, third); err != nil || reopened {
		x.t.Errorf("reopening an unsubmitted org: %v, %v", reopened, err)
	}
	if t, err = x.s.SubmitSurvey(x.ctx, run.ID, p1, q.ID, third.Add(time.Hour)); err != nil || t.SubmittedBy != q.ID {
		x.t.Errorf("submitted again %+v, %v", t, err)
	}
	_, err = x.s.ReopenSurvey(x.ctx, run.ID, p1, run.Deadline)
	x.wantErr(err, storage.ErrClosed)

	_, err = x.s.SubmitSurvey(x.ctx, run.ID, o["B1"].ID, p.ID, second)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.SubmitSurvey(x.ctx, run.ID, o["P2"].ID, p.ID, run.Deadline)
	x.wantErr(err, storage.ErrClosed)
	if stored := x.target(run.ID, o["P2"].ID); stored.SubmittedAt != nil {
		x.t.Errorf("a late submission was recorded: %+v", stored)
	}
}

func testSurveyReminders(x *suite) {
	o := x.tree()
	p, _ := x.register("53001", o["P1"].ID, storage.RoleChair, "")
	run := x.openRun(o, quarterly(o))
	p1, p2 := o["P1"].ID, o["P2"].ID
	claim := func(orgID int64, n int) bool {
		x.t.Helper()
		ok, err := x.s.ClaimSurveyReminder(x.ctx, run.ID, orgID, n, T0.Add(time.Duration(n)*time.Minute))
		x.must(err)
		return ok
	}
	if claim(p1, 2) {
		x.t.Error("reminder 2 claimed before reminder 1")
	}
	if !claim(p1, 1) || claim(p1, 1) {
		x.t.Error("reminder 1 must be claimed exactly once")
	}
	if !claim(p1, 2) || claim(p1, 2) || claim(p1, 1) {
		x.t.Error("reminder 2 must be claimed exactly once, and 1 never again")
	}
	if t := x.target(run.ID, p1); t.RemindersSent != 2 || t.NoticedAt == nil || !t.NoticedAt.Equal(T0.Add(2*time.Minute)) {
		x.t.Errorf("reminders sent %d at %v, want 2 at T0+2m", t.RemindersSent, t.NoticedAt)
	}
	if t := x.target(run.ID, p2); t.NoticedAt != nil {
		x.t.Errorf("an org never told was told at %v", t.NoticedAt)
	}
	// A reminder that reached nobody is given back and claimed again; an
	// older one cannot be given back.
	released, err := x.s.ReleaseSurveyReminder(x.ctx, run.ID, p1, 1)
	x.must(err)
	if released {
		x.t.Error("reminder 1 released while 2 is the last claimed")
	}
	if released, err = x.s.ReleaseSurveyReminder(x.ctx, run.ID, p1, 2); err != nil || !released {
		x.t.Fatalf("release reminder 2: %v, %v", released, err)
	}
	if t := x.target(run.ID, p1); t.RemindersSent != 1 || t.NoticedAt != nil {
		x.t.Errorf("after the release: %d sent, told at %v; want 1, not told", t.RemindersSent, t.NoticedAt)
	}
	if !claim(p1, 2) {
		x.t.Error("a released reminder could not be claimed again")
	}
	if claim(o["B1"].ID, 1) {
		x.t.Error("a reminder claimed for an org that is no target")
	}

	// Replicas claiming reminder 3 at once: one sends it.
	const n = 8
	won := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { won[i], errs[i] = x.s.ClaimSurveyReminder(x.ctx, run.ID, p1, 3, T0) })
	}
	wg.Wait()
	winners := 0
	for i := range n {
		x.must(errs[i])
		if won[i] {
			winners++
		}
	}
	if winners != 1 {
		x.t.Errorf("%d of %d concurrent claims of reminder 3 won, want 1", winners, n)
	}

	_, err = x.s.SubmitSurvey(x.ctx, run.ID, p1, p.ID, T0.Add(time.Hour))
	x.must(err)
	if claim(p1, 4) {
		x.t.Error("a reminder claimed after the org submitted")
	}
	closed, err := x.s.CloseSurveyRun(x.ctx, run.ID, T0.Add(2*time.Hour))
	x.must(err)
	if !closed || claim(p2, 1) {
		x.t.Error("a reminder claimed after the run closed")
	}
	_, err = x.s.ClaimSurveyReminder(x.ctx, run.ID, p2, 0, T0)
	if err == nil {
		x.t.Error("reminder 0 accepted; reminders count from 1")
	}
}

func testCloseSurveyRun(x *suite) {
	o := x.tree()
	run := x.openRun(o, quarterly(o))
	at := T0.AddDate(0, 0, 7)
	closed, err := x.s.CloseSurveyRun(x.ctx, run.ID, at)
	x.must(err)
	if !closed {
		x.t.Error("closing the open run: false")
	}
	closed, err = x.s.CloseSurveyRun(x.ctx, run.ID, at.Add(time.Hour))
	x.must(err)
	if closed {
		x.t.Error("closing a closed run again: true")
	}
	got, err := x.s.SurveyRun(x.ctx, run.ID)
	x.must(err)
	if got.Status != storage.RunClosed || got.ClosedAt == nil || !got.ClosedAt.Equal(at) {
		x.t.Errorf("closed run %+v, want closed at %v", got, at)
	}
	if open, err := x.s.OpenSurveyRuns(x.ctx); err != nil || len(open) != 0 {
		x.t.Errorf("open runs %v, %v; want none", runIDs(open), err)
	}
	_, err = x.s.CloseSurveyRun(x.ctx, run.ID+1000, at)
	x.wantErr(err, storage.ErrNotFound)
}

func testBoardChecks(x *suite) {
	o := x.tree()
	p, _ := x.register("54001", o["P1"].ID, storage.RoleChair, "")
	week := T0
	ok, err := x.s.ClaimBoardCheck(x.ctx, o["P1"].ID, week, T0.Add(time.Second))
	x.must(err)
	again, err := x.s.ClaimBoardCheck(x.ctx, o["P1"].ID, week, T0.Add(time.Minute))
	x.must(err)
	if !ok || again {
		x.t.Errorf("claims of one week: %v then %v, want true then false", ok, again)
	}
	_, err = x.s.ClaimBoardCheck(x.ctx, 987654, week, T0)
	x.wantErr(err, storage.ErrNotFound)

	// A reminder that reached nobody gives its check back: the week is not
	// observed, and a later reminder of it may claim it again. An answered
	// check stays.
	earlier := week.AddDate(0, 0, -7)
	if ok, err := x.s.ClaimBoardCheck(x.ctx, o["P2"].ID, earlier, earlier); err != nil || !ok {
		x.t.Fatalf("claim: %v, %v", ok, err)
	}
	released, err := x.s.ReleaseBoardCheck(x.ctx, o["P2"].ID, earlier)
	x.must(err)
	again, err = x.s.ReleaseBoardCheck(x.ctx, o["P2"].ID, earlier)
	x.must(err)
	if !released || again {
		x.t.Errorf("releases of one check: %v then %v, want true then false", released, again)
	}
	if cs, err := x.s.BoardChecks(x.ctx, o["P2"], time.Time{}, time.Time{}); err != nil || len(cs) != 0 {
		x.t.Errorf("checks after the release: %+v, %v; want none", cs, err)
	}
	if ok, err := x.s.ClaimBoardCheck(x.ctx, o["P2"].ID, earlier, earlier.Add(time.Hour)); err != nil || !ok {
		x.t.Errorf("claim after the release: %v, %v; want a new check", ok, err)
	}
	_, err = x.s.AnswerBoardCheck(x.ctx, o["P2"].ID, earlier, storage.BoardUpdated, p.ID, earlier.Add(2*time.Hour))
	x.must(err)
	if released, err := x.s.ReleaseBoardCheck(x.ctx, o["P2"].ID, earlier); err != nil || released {
		x.t.Errorf("release of an answered check: %v, %v; want false", released, err)
	}
	if cs, err := x.s.BoardChecks(x.ctx, o["P2"], earlier, week); err != nil || len(cs) != 1 || cs[0].Answer != storage.BoardUpdated {
		x.t.Errorf("the answered check after a release: %+v, %v", cs, err)
	}

	// Snoozed, then answered: the answer drops the snooze.
	x.must(x.s.SnoozeBoardCheck(x.ctx, o["P1"].ID, week, T0.AddDate(0, 0, 1)))
	at := T0.Add(26 * time.Hour)
	_, err = x.s.AnswerBoardCheck(x.ctx, o["P1"].ID, week, storage.BoardNone, p.ID, T0.Add(25*time.Hour))
	x.must(err)
	got, err := x.s.AnswerBoardCheck(x.ctx, o["P1"].ID, week, storage.BoardUpdated, p.ID, at)
	x.must(err)
	want := storage.BoardCheck{OrgID: o["P1"].ID, Week: week, RemindedAt: T0.Add(time.Second), Answer: storage.BoardUpdated,
		AnsweredBy: p.ID, AnsweredAt: &at}
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("answered %+v, want %+v", got, want)
	}
	if !got.Compliant() {
		x.t.Error("updated within its week, yet not compliant")
	}
	// An answered check is not snoozed.
	x.must(x.s.SnoozeBoardCheck(x.ctx, o["P1"].ID, week, T0.AddDate(0, 0, 2)))
	if due, err := x.s.ClaimDueBoardSnoozes(x.ctx, T0.AddDate(0, 0, 30)); err != nil || len(due) != 0 {
		x.t.Errorf("due snoozes %+v, %v; want none", due, err)
	}
	_, err = x.s.AnswerBoardCheck(x.ctx, o["P2"].ID, week, storage.BoardUpdated, p.ID, at)
	x.wantErr(err, storage.ErrNotFound)
	x.wantErr(x.s.SnoozeBoardCheck(x.ctx, o["P2"].ID, week, at), storage.ErrNotFound)
	_, err = x.s.AnswerBoardCheck(x.ctx, o["P1"].ID, week, "maybe", p.ID, at)
	if err == nil {
		x.t.Error("an unknown answer was accepted")
	}

	// Compliance: the answer must be "updated" and come within seven days.
	next := week.AddDate(0, 0, 7)
	for _, code := range []string{"P1", "P2", "B11", "B2"} {
		_, err := x.s.ClaimBoardCheck(x.ctx, o[code].ID, next, next)
		x.must(err)
	}
	late, err := x.s.AnswerBoardCheck(x.ctx, o["P1"].ID, next, storage.BoardUpdated, p.ID, next.AddDate(0, 0, 7))
	x.must(err)
	none, err := x.s.AnswerBoardCheck(x.ctx, o["P2"].ID, next, storage.BoardNone, 0, next.Add(time.Hour))
	x.must(err)
	if late.Compliant() || none.Compliant() || (storage.BoardCheck{Week: next}).Compliant() {
		x.t.Error("a late, a no-board or a missing answer counted as compliant")
	}
	if none.AnsweredBy != 0 {
		x.t.Errorf("anonymous answer by %d", none.AnsweredBy)
	}

	// Subtree and period.
	list := func(under string, from, to time.Time) string {
		x.t.Helper()
		cs, err := x.s.BoardChecks(x.ctx, o[under], from, to)
		x.must(err)
		var s string
		for _, c := range cs {
			for code, org := range o {
				if org.ID == c.OrgID {
					s += fmt.Sprintf("%s@%d ", code, int(c.Week.Sub(week).Hours()/24))
				}
			}
		}
		return s
	}
	for _, tt := range []struct {
		under    string
		from, to time.Time
		want     string
	}{
		{"U", week, next.AddDate(0, 0, 7), "P1@0 " + ordered(o, next, "P1", "P2", "B11", "B2")},
		{"B1", time.Time{}, time.Time{}, "P1@0 " + ordered(o, next, "P1", "B11")},
		{"B2", week, next, ""},
		{"B2", next, next.Add(time.Microsecond), ordered(o, next, "P2", "B2")},
		{"P1", week.Add(time.Microsecond), time.Time{}, "P1@7 "},
		{"B11", week, next, "P1@0 "},
	} {
		if got := list(tt.under, tt.from, tt.to); got != tt.want {
			x.t.Errorf("checks under %s in [%v, %v): %q, want %q", tt.under, tt.from, tt.to, got, tt.want)
		}
	}

	// The counts judge as Compliant does: P1's late answer, at the very
	// end of its week, is answered but not updated; B11's, a microsecond
	// before, is both.
	_, err = x.s.AnswerBoardCheck(x.ctx, o["B11"].ID, next, storage.BoardUpdated, p.ID, next.AddDate(0, 0, 7).Add(-time.Microsecond))
	x.must(err)
	tally := func(codes ...string) []storage.BoardTally {
		counts := map[string]storage.BoardTally{"P1": {Weeks: 2, Answered: 2, Updated: 1}, "P2": {Weeks: 2, Answered: 2, Updated: 1},
			"P2 this week": {Weeks: 1, Answered: 1}, "B11": {Weeks: 1, Answered: 1, Updated: 1}, "B2": {Weeks: 1}}
		var out []storage.BoardTally
		for _, c := range codes {
			t := counts[c]
			c, _, _ = strings.Cut(c, " ")
			t.OrgID = o[c].ID
			out = append(out, t)
		}
		slices.SortFunc(out, func(a, b storage.BoardTally) int { return int(a.OrgID - b.OrgID) })
		return out
	}
	for _, tt := range []struct {
		under    string
		from, to time.Time
		want     []storage.BoardTally
	}{
		{"U", earlier, next.AddDate(0, 0, 7), tally("P1", "P2", "B11", "B2")},
		{"B11", time.Time{}, time.Time{}, tally("P1", "B11")},
		{"B2", week, time.Time{}, tally("P2 this week", "B2")},
		{"B2", week, next, nil},
	} {
		got, err := x.s.BoardTallies(x.ctx, o[tt.under], tt.from, tt.to)
		x.must(err)
		if !reflect.DeepEqual(got, tt.want) {
			x.t.Errorf("tallies under %s in [%v, %v):\n got %+v\nwant %+v", tt.under, tt.from, tt.to, got, tt.want)
		}
	}
}

// ordered lists codes' checks of week as BoardChecks orders them: by org id.
func ordered(o map[string]storage.Org, week time.Time, codes ...string) string {
	slices.SortFunc(codes, func(a, b string) int { return int(o[a].ID - o[b].ID) })
	var s string
	for _, c := range codes {
		s += fmt.Sprintf("%s@%d ", c, int(week.Sub(T0).Hours()/24))
	}
	return s
}

func testBoardSnoozes(x *suite) {
	o := x.tree()
	now := T0.AddDate(0, 1, 0)
	type key struct {
		org  int64
		week time.Time
	}
	want := map[key]time.Time{}
	for i := range 4 {
		week := T0.AddDate(0, 0, 7*i)
		for code, org := range o {
			_, err := x.s.ClaimBoardCheck(x.ctx, org.ID, week, week)
			x.must(err)
			if code == "U" && i == 3 {
				x.must(x.s.SnoozeBoardCheck(x.ctx, org.ID, week, now.Add(time.Microsecond))) // not due yet
				continue
			}
			until := week.AddDate(0, 0, 1)
			x.must(x.s.SnoozeBoardCheck(x.ctx, org.ID, week, until))
			want[key{org.ID, week}] = until
		}
	}

	const n = 8
	got := make([][]storage.BoardCheck, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = x.s.ClaimDueBoardSnoozes(x.ctx, now) })
	}
	wg.Wait()
	seen := map[key]int{}
	for i := range n {
		x.must(errs[i])
		for _, c := range got[i] {
			k := key{c.OrgID, c.Week}
			seen[k]++
			if u, ok := want[k]; !ok || c.SnoozedUntil == nil || !c.SnoozedUntil.Equal(u) {
				x.t.Errorf("claimed %+v, want one of the due snoozes with its time", c)
			}
		}
	}
	for k := range want {
		if seen[k] != 1 {
			x.t.Errorf("snooze of org %d, week %v claimed %d times, want once", k.org, k.week, seen[k])
		}
	}
	if len(seen) != len(want) {
		x.t.Errorf("%d snoozes claimed, want %d", len(seen), len(want))
	}
	if due, err := x.s.ClaimDueBoardSnoozes(x.ctx, now); err != nil || len(due) != 0 {
		x.t.Errorf("claimed again: %d, %v; want none", len(due), err)
	}
	checks, err := x.s.BoardChecks(x.ctx, o["U"], time.Time{}, time.Time{})
	x.must(err)
	for _, c := range checks {
		if _, claimed := want[key{c.OrgID, c.Week}]; claimed == (c.SnoozedUntil != nil) {
			x.t.Errorf("check %+v: a claimed snooze must be cleared, the one not due kept", c)
		}
	}
	due, err := x.s.ClaimDueBoardSnoozes(x.ctx, now.Add(time.Microsecond))
	x.must(err)
	if len(due) != 1 || due[0].OrgID != o["U"].ID {
		x.t.Errorf("later claim %+v, want U's last snooze", due)
	}
}

func testTargets(x *suite) {
	o := x.tree()
	x.must(x.s.SetTarget(x.ctx, storage.Target{OrgID: o["P1"].ID, Period: "2026", Indicator: "meetings", Value: 4}))
	x.must(x.s.SetTarget(x.ctx, storage.Target{OrgID: o["B1"].ID, Period: "2026", Indicator: "coverage", Value: 0.75}))
	x.must(x.s.SetTarget(x.ctx, storage.Target{OrgID: o["P1"].ID, Period: "2026", Indicator: "meetings", Value: 6.5}))
	x.must(x.s.SetTarget(x.ctx, storage.Target{OrgID: o["P1"].ID, Period: "2027", Indicator: "meetings", Value: 8}))
	got, err := x.s.Targets(x.ctx, "2026")
	x.must(err)
	want := []storage.Target{
		{OrgID: o["P1"].ID, Period: "2026", Indicator: "meetings", Value: 6.5},
		{OrgID: o["B1"].ID, Period: "2026", Indicator: "coverage", Value: 0.75},
	}
	slices.SortFunc(want, func(a, b storage.Target) int { return int(a.OrgID - b.OrgID) })
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("targets of 2026 %+v, want %+v", got, want)
	}
	if got, err := x.s.Targets(x.ctx, "2030"); err != nil || len(got) != 0 {
		x.t.Errorf("targets of 2030 %+v, %v; want none", got, err)
	}
	x.wantErr(x.s.SetTarget(x.ctx, storage.Target{OrgID: 987654, Period: "2026", Indicator: "meetings", Value: 1}), storage.ErrNotFound)
}

func testJobRuns(x *suite) {
	fired := T0.Truncate(time.Hour)
	ok, err := x.s.StartJobRun(x.ctx, "board", fired, T0)
	x.must(err)
	again, err := x.s.StartJobRun(x.ctx, "board", fired, T0.Add(time.Second))
	x.must(err)
	if !ok || again {
		x.t.Errorf("starts of one firing: %v then %v, want true then false", ok, again)
	}
	const n = 8
	won := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { won[i], errs[i] = x.s.StartJobRun(x.ctx, "board", fired.Add(time.Hour), T0) })
	}
	wg.Wait()
	if c := len(slices.DeleteFunc(won, func(w bool) bool { return !w })); c != 1 {
		x.t.Errorf("%d of %d concurrent starts won, want 1", c, n)
	}
	for _, err := range errs {
		x.must(err)
	}

	x.must(x.s.FinishJobRun(x.ctx, "board", fired, "ok", T0.Add(time.Minute)))
	_, err = x.s.StartJobRun(x.ctx, "surveys", fired, T0)
	x.must(err)
	x.must(x.s.FinishJobRun(x.ctx, "surveys", fired, "send: timeout", T0.Add(2*time.Minute)))
	x.wantErr(x.s.FinishJobRun(x.ctx, "nope", fired, "ok", T0), storage.ErrNotFound)

	got, err := x.s.LastJobRuns(x.ctx)
	x.must(err)
	done := T0.Add(2 * time.Minute)
	want := []storage.JobRun{
		{Job: "board", FiredFor: fired.Add(time.Hour), StartedAt: T0},
		{Job: "surveys", FiredFor: fired, StartedAt: T0, Outcome: "send: timeout", FinishedAt: &done},
	}
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("last job runs %+v, want %+v", got, want)
	}
}

func testForgetMonitoring(x *suite) {
	o := x.tree()
	p, _ := x.register("55001", o["P1"].ID, storage.RoleChair, "")
	other, _ := x.register("55002", o["P1"].ID, storage.RoleActivist, "")
	run := x.openRun(o, quarterly(o))
	p1 := o["P1"].ID
	x.must(x.answer(run.ID, p1, "members", "40", p.ID, T0.Add(time.Hour)))
	x.must(x.answer(run.ID, p1, "events", "2", other.ID, T0.Add(time.Hour)))
	_, err := x.s.SubmitSurvey(x.ctx, run.ID, p1, p.ID, T0.Add(2*time.Hour))
	x.must(err)
	_, err = x.s.ClaimBoardCheck(x.ctx, p1, T0, T0)
	x.must(err)
	_, err = x.s.AnswerBoardCheck(x.ctx, p1, T0, storage.BoardUpdated, p.ID, T0.Add(time.Hour))
	x.must(err)

	x.must(x.s.Forget(x.ctx, p.ID, T0.Add(3*time.Hour)))

	answers, err := x.s.SurveyAnswers(x.ctx, run.ID, p1)
	x.must(err)
	if len(answers) != 2 || answers[0].PersonID != other.ID || answers[1].PersonID != 0 || answers[1].Value != "40" {
		x.t.Errorf("answers after forget %+v, want both kept, the forgotten one's unsigned", answers)
	}
	if t := x.target(run.ID, p1); t.SubmittedBy != 0 || t.SubmittedAt == nil {
		x.t.Errorf("target after forget %+v, want still submitted, by nobody", t)
	}
	checks, err := x.s.BoardChecks(x.ctx, o["P1"], time.Time{}, time.Time{})
	x.must(err)
	if len(checks) != 1 || checks[0].AnsweredBy != 0 || !checks[0].Compliant() {
		x.t.Errorf("board checks after forget %+v, want the answer kept, unsigned", checks)
	}
	// The org can still correct and resubmit.
	x.must(x.answer(run.ID, p1, "members", "41", other.ID, T0.Add(4*time.Hour)))
	if t, err := x.s.SubmitSurvey(x.ctx, run.ID, p1, other.ID, T0.Add(4*time.Hour)); err != nil || !t.SubmittedAt.Equal(T0.Add(2*time.Hour)) {
		x.t.Errorf("resubmitted %+v, %v; want the first submission time kept", t, err)
	}
}

func testContactBaseSends(x *suite) {
	o := x.tree()
	p1, p2 := o["P1"].ID, o["P2"].ID
	claim := func(org int64, year int, at time.Time) bool {
		x.t.Helper()
		ok, err := x.s.ClaimContactBaseSend(x.ctx, org, year, at, at.Add(-time.Minute))
		x.must(err)
		return ok
	}
	if !claim(p1, 2027, T0) {
		x.t.Fatal("first claim of a year refused")
	}
	// A claim under way is not taken over; a stale one is.
	if claim(p1, 2027, T0.Add(30*time.Second)) {
		x.t.Error("a claim 30 s old was taken over")
	}
	if !claim(p1, 2027, T0.Add(2*time.Minute)) {
		x.t.Error("a stale claim was not taken over")
	}
	x.must(x.s.MarkContactBaseSent(x.ctx, p1, 2027, T0.Add(2*time.Minute)))
	if claim(p1, 2027, T0.Add(time.Hour)) {
		x.t.Error("a sent year was claimed again")
	}
	// Another year and another org are their own.
	if !claim(p1, 2028, T0.Add(time.Hour)) || !claim(p2, 2027, T0.Add(time.Hour)) {
		x.t.Error("another year or org refused")
	}
	// A released claim is claimed again at once; a sent one is not released.
	x.must(x.s.ReleaseContactBaseSend(x.ctx, p2, 2027))
	if !claim(p2, 2027, T0.Add(time.Hour+time.Second)) {
		x.t.Error("a released claim was not claimed again")
	}
	x.must(x.s.ReleaseContactBaseSend(x.ctx, p1, 2027))
	if claim(p1, 2027, T0.Add(2*time.Hour)) {
		x.t.Error("a release dropped a sent year")
	}
	x.wantErr(x.s.MarkContactBaseSent(x.ctx, o["P3"].ID, 2027, T0), storage.ErrNotFound)
	_, err := x.s.ClaimContactBaseSend(x.ctx, 987654, 2027, T0, T0)
	x.wantErr(err, storage.ErrNotFound)
}

func testObservedRecords(x *suite) {
	o := x.tree()
	p1 := x.invite("obs-p1", o["P1"].ID, storage.RoleMember, 0).Code
	a, _ := x.register("56001", o["P1"].ID, storage.RoleMember, p1)
	b, _ := x.register("56002", o["P2"].ID, storage.RoleMember, x.invite("obs-p2", o["P2"].ID, storage.RoleMember, 0).Code)
	x.register("56003", o["P1"].ID, storage.RoleMember, p1)
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "56003", T0))
	reach, err := x.s.ReachableMemberships(x.ctx, o["B1"], T0.Add(time.Second))
	x.must(err)
	if len(reach) != 1 || reach[0] != (storage.Reach{PersonID: a.ID, OrgID: o["P1"].ID}) {
		x.t.Errorf("reachable under B1: %+v; want only %d in P1 (the other blocked the bot)", reach, a.ID)
	}
	if reach, err := x.s.ReachableMemberships(x.ctx, o["B1"], T0); err != nil || len(reach) != 0 {
		x.t.Errorf("reachable before anyone joined: %+v, %v", reach, err)
	}

	answered := x.ask(a, o["P1"].ID, T0.Add(time.Hour), false)
	x.reply(answered.ID, b.ID, false, "answer", T0.Add(3*time.Hour))
	x.ask(a, o["P1"].ID, T0.Add(2*time.Hour), false)
	x.ask(b, o["P2"].ID, T0.Add(time.Hour), false)
	x.ask(a, o["P1"].ID, T0.Add(48*time.Hour), false) // after the period
	times, err := x.s.FeedbackTimes(x.ctx, o["B1"], T0, T0.Add(24*time.Hour))
	x.must(err)
	var got []string
	for _, f := range times {
		first := "-"
		if f.FirstResponseAt != nil {
			first = f.FirstResponseAt.Sub(f.CreatedAt).String()
		}
		got = append(got, fmt.Sprintf("%d %s %s %s", f.OrgID, f.CreatedAt.Sub(T0), f.DueAt.Sub(f.CreatedAt), first))
	}
	slices.Sort(got)
	want := []string{fmt.Sprintf("%d 1h0m0s 24h0m0s 2h0m0s", o["P1"].ID), fmt.Sprintf("%d 2h0m0s 24h0m0s -", o["P1"].ID)}
	if !slices.Equal(got, want) {
		x.t.Errorf("feedback times under B1: %q, want %q", got, want)
	}

	// News: what orgs of the subtree started, and the relay steps that
	// reached them, in the period.
	started := func(org string, at time.Time) int64 {
		b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o[org].ID, Text: "news", Mode: storage.ModeRelay,
			Audience: storage.Audience{Private: true}, Status: storage.BroadcastDone, CreatedAt: at, StartedAt: &at, FinishedAt: &at})
		x.must(err)
		return b.ID
	}
	inB1 := started("B1", T0.Add(time.Hour))
	started("P2", T0.Add(time.Hour))     // beside B1
	started("B11", T0.Add(48*time.Hour)) // after the period
	x.must(x.s.AddRelaySteps(x.ctx, []storage.RelayStep{{BroadcastID: inB1, OrgID: o["B11"].ID, ReceivedAt: T0.Add(time.Hour)},
		{BroadcastID: inB1, OrgID: o["P1"].ID, ReceivedAt: T0.Add(2 * time.Hour)}}))
	_, err = x.s.CompleteRelayStep(x.ctx, inB1, o["B11"].ID, storage.RelayPublished, "", T0.Add(90*time.Minute))
	x.must(err)
	starts, err := x.s.NewsStarts(x.ctx, o["B1"], T0, T0.Add(24*time.Hour))
	x.must(err)
	if len(starts) != 1 || starts[0].OrgID != o["B1"].ID || !starts[0].StartedAt.Equal(T0.Add(time.Hour)) {
		x.t.Errorf("news started under B1: %+v", starts)
	}
	steps, err := x.s.RelayStepsUnder(x.ctx, o["B11"], T0, T0.Add(24*time.Hour))
	x.must(err)
	got = nil
	for _, st := range steps {
		got = append(got, fmt.Sprintf("%d %s %v", st.OrgID, st.Action, st.RelayedAt != nil))
	}
	slices.Sort(got)
	want = []string{fmt.Sprintf("%d published true", o["B11"].ID), fmt.Sprintf("%d  false", o["P1"].ID)}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		x.t.Errorf("relay steps under B11: %q, want %q", got, want)
	}
}
