package monitoring_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// wednesday is 10:00 on Sakhalin, over a fortnight after the check
// survey's monthly fire time: its schedule fires nothing on its own.
func wednesday(t *testing.T) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2026, 3, 18, 10, 0, 0, 0, loc)
}

// surveyNotes lists the survey notices among what was told, as
// "kind person org n".
func surveyNotes(told []told) []string {
	var out []string
	for _, n := range told {
		if n.kind != "board" {
			out = append(out, fmt.Sprintf("%s %d %s %d", n.kind, n.person, n.org, n.n))
		}
	}
	slices.Sort(out)
	return out
}

func want(lines ...string) []string {
	slices.Sort(lines)
	return lines
}

// TestInvitationsRemindersAndTheClose follows a run: every responder of
// every primary asked is invited once, reminders go after two and five
// days to the orgs that have not confirmed, and at the deadline the run
// closes and the result readers hear how many answered, once.
func TestInvitationsRemindersAndTheClose(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	schoolIW := f.person("school", storage.RoleInfoworker)
	schoolChair := f.person("school", storage.RoleChair)
	gymIW := f.person("gym", storage.RoleInfoworker)
	f.person("school", storage.RoleActivist) // not a responder
	eduChair := f.person("edu", storage.RoleChair)
	f.person("clinic", storage.RoleInfoworker) // not asked: another branch
	run := f.open()
	if run.Deadline.In(f.loc).Format("2006-01-02 15:04:05") != "2026-03-28 23:59:59" {
		t.Fatalf("deadline %v", run.Deadline.In(f.loc))
	}

	f.round()
	if got, w := surveyNotes(f.notes.take()), want(
		fmt.Sprintf("invite %d school 1", schoolIW.ID), fmt.Sprintf("invite %d school 1", schoolChair.ID),
		fmt.Sprintf("invite %d gym 1", gymIW.ID)); !slices.Equal(got, w) {
		t.Fatalf("first round told %q, want %q", got, w)
	}
	f.round()
	if got := surveyNotes(f.notes.take()); len(got) != 0 {
		t.Fatalf("a second round told %q again", got)
	}

	form := must(f.svc.Open(f.ctx, f.actor(schoolIW), run.ID, f.org["school"].ID))(t)
	form = must(f.svc.Answer(f.ctx, form, "board", "нет"))(t)
	must(f.svc.Submit(f.ctx, form))(t)

	f.advance(2 * 24 * time.Hour)
	f.round()
	if got, w := surveyNotes(f.notes.take()), want(fmt.Sprintf("invite %d gym 2", gymIW.ID)); !slices.Equal(got, w) {
		t.Fatalf("after two days told %q, want %q", got, w)
	}
	f.advance(3 * 24 * time.Hour)
	f.round()
	if got, w := surveyNotes(f.notes.take()), want(fmt.Sprintf("invite %d gym 3", gymIW.ID)); !slices.Equal(got, w) {
		t.Fatalf("after five days told %q, want %q", got, w)
	}

	f.advance(run.Deadline.Sub(f.clock()) - time.Second)
	f.round()
	if got := surveyNotes(f.notes.take()); len(got) != 0 {
		t.Fatalf("a second before the deadline told %q", got)
	}
	f.advance(time.Second)
	f.round()
	if got, w := surveyNotes(f.notes.take()), want(fmt.Sprintf("closed %d edu 1", eduChair.ID)); !slices.Equal(got, w) {
		t.Fatalf("past the deadline told %q, want %q", got, w)
	}
	f.round()
	if got := surveyNotes(f.notes.take()); len(got) != 0 {
		t.Fatalf("a closed run told %q again", got)
	}
	if r := must(f.db.SurveyRun(f.ctx, run.ID))(t); r.Status != storage.RunClosed {
		t.Fatalf("run %+v, want it closed", r)
	}
	states := must(f.svc.Runs(f.ctx, "check"))(t)
	if len(states) != 1 || states[0].Answered() != 1 || len(states[0].Targets) != 2 {
		t.Fatalf("runs %+v, want one with 1 of 2 answered", states)
	}
}

// TestANoticeThatReachedNobody: a notice the platform failed to deliver
// to anyone is given back and sent again by the next round; one that
// reached nobody because nobody can be reached counts as sent.
func TestANoticeThatReachedNobody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		register   bool
		deaf       bool
		broken     bool
		sentAfter1 int // the school's notices counted after the first round
		again      bool
	}{
		{name: "nobody to ask", sentAfter1: 1},
		{name: "everyone blocked the bot", register: true, deaf: true, sentAfter1: 1},
		{name: "the platform fails", register: true, broken: true, sentAfter1: 0, again: true},
		{name: "delivered", register: true, sentAfter1: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, wednesday(t), checkSurvey)
			var iw storage.Person
			if tt.register {
				iw = f.person("school", storage.RoleInfoworker)
				f.notes.deaf[iw.ID], f.notes.broken[iw.ID] = tt.deaf, tt.broken
			}
			run := f.open()
			if err := f.svc.JobsRound(f.ctx); (err != nil) != tt.broken {
				t.Fatalf("round: %v, want an error: %v", err, tt.broken)
			}
			if n := f.target(run, "school").RemindersSent; n != tt.sentAfter1 {
				t.Fatalf("%d notices counted, want %d", n, tt.sentAfter1)
			}
			f.notes.take()
			f.notes.broken[iw.ID] = false
			f.round()
			got := surveyNotes(f.notes.take())
			if w := fmt.Sprintf("invite %d school 1", iw.ID); tt.again != slices.Contains(got, w) {
				t.Fatalf("the next round told %q; want the invitation again: %v", got, tt.again)
			}
			if n := f.target(run, "school").RemindersSent; n != 1 {
				t.Fatalf("%d notices counted after the next round, want 1", n)
			}
		})
	}
}

// TestTwoReplicasFireEachJobOnce runs the jobs round on two services over
// the same records at once, on a Monday within the monthly schedule's
// window: one run is opened, and each person hears each notice once.
func TestTwoReplicasFireEachJobOnce(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, time.Date(2026, 3, 2, 10, 5, 0, 0, loc), checkSurvey)
	iw := f.person("school", storage.RoleInfoworker)
	clinic := f.person("clinic", storage.RoleChair)
	jobs := must(f.svc.Jobs(f.ctx))(t)
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	if w := []string{"board Asia/Sakhalin 0 10 * * 1", "contact base up", "survey:check:monthly"}; !slices.Equal(names, w) {
		t.Fatalf("jobs %q, want %q", names, w)
	}
	other := f.service(f.svc.Surveys())
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, svc := range []*monitoring.Service{f.svc, other} {
		wg.Go(func() { errs[i] = svc.JobsRound(f.ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if runs := must(f.db.SurveyRuns(f.ctx, "check"))(t); len(runs) != 1 || runs[0].Job != "survey:check:monthly" {
		t.Fatalf("runs %+v, want one of the schedule", runs)
	}
	seen := map[string]int{}
	for _, n := range f.notes.take() {
		seen[fmt.Sprintf("%s %d %s %d", n.kind, n.person, n.org, n.n)]++
	}
	w := map[string]int{
		fmt.Sprintf("invite %d school 1", iw.ID):    1,
		fmt.Sprintf("board %d school 0", iw.ID):     1,
		fmt.Sprintf("board %d clinic 0", clinic.ID): 1,
	}
	if fmt.Sprint(seen) != fmt.Sprint(w) {
		t.Fatalf("told %v, want %v", seen, w)
	}
	states := must(f.svc.JobStates(f.ctx))(t)
	for _, s := range states {
		if s.Name == "contact base up" {
			// Its date, 15 January, is not in this round's window.
			if s.Last != nil {
				t.Errorf("job %s ran out of season: %+v", s.Name, s.Last)
			}
			continue
		}
		if s.Last == nil || s.Last.Outcome != "ok" {
			t.Fatalf("job %s last run %+v, want ok", s.Name, s.Last)
		}
	}
}

// TestRunNowFollowsWhatIsOpen: an upper level starts a survey for its
// subtree and sees who has not answered; pressing again, or under a run
// from above, starts nothing new; a primary and a sideways org may not.
func TestRunNowFollowsWhatIsOpen(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	eduIW := f.actor(f.person("edu", storage.RoleInfoworker))
	unionAdmin := f.actor(f.person("union", storage.RoleAdmin))
	schoolIW := f.actor(f.person("school", storage.RoleInfoworker))
	healthChair := f.actor(f.person("health", storage.RoleChair))
	edu := f.org["edu"].ID

	if lines := must(f.svc.Desk(f.ctx, eduIW))(t); len(lines) != 1 || lines[0].Newest != nil || lines[0].Org.Code != "edu" {
		t.Fatalf("desk before any run %+v", lines)
	}
	first := must(f.svc.RunNow(f.ctx, eduIW, "check", edu))(t)
	if !first.New || first.Targets != 2 || first.Org.Code != "edu" {
		t.Fatalf("started %+v, want a new run over the two primaries of edu", first)
	}
	again := must(f.svc.RunNow(f.ctx, eduIW, "check", edu))(t)
	if again.New || again.Run.ID != first.Run.ID {
		t.Fatalf("pressed again %+v, want the open run %d", again, first.Run.ID)
	}
	p := must(f.svc.Status(f.ctx, eduIW, first.Run.ID, edu))(t)
	var waiting []string
	for _, o := range p.Waiting {
		waiting = append(waiting, o.Code)
	}
	if p.Total != 2 || p.Answered != 0 || !slices.Equal(waiting, []string{"school", "gym"}) {
		t.Fatalf("status %d of %d, waiting %q", p.Answered, p.Total, waiting)
	}

	f.advance(time.Minute)
	union := must(f.svc.RunNow(f.ctx, unionAdmin, "check", f.org["union"].ID))(t)
	if !union.New || union.Targets != 3 {
		t.Fatalf("the union's run %+v, want a new one over every primary", union)
	}
	covered := must(f.svc.RunNow(f.ctx, eduIW, "check", edu))(t)
	if covered.New || covered.Run.ID != union.Run.ID {
		t.Fatalf("under the union's run %+v, want it followed", covered)
	}
	lines := must(f.svc.Desk(f.ctx, eduIW))(t)
	if len(lines) != 1 || lines[0].Newest == nil || lines[0].Newest.ID != union.Run.ID || lines[0].Total != 2 {
		t.Fatalf("desk %+v, want the union's run counted over edu's two primaries", lines)
	}
	if lines := must(f.svc.Desk(f.ctx, schoolIW))(t); len(lines) != 0 {
		t.Fatalf("a primary's desk %+v", lines)
	}

	for _, tt := range []struct {
		name  string
		by    access.Actor
		sv    string
		org   int64
		wants error
	}{
		{"a primary", schoolIW, "check", f.org["school"].ID, access.ErrForbidden},
		{"sideways", healthChair, "check", edu, access.ErrForbidden},
		{"nobody", access.Actor{}, "check", edu, access.ErrForbidden},
		{"no such survey", eduIW, "nope", edu, monitoring.ErrNoSurvey},
		{"no such org", eduIW, "check", 99999, storage.ErrNotFound},
	} {
		if _, err := f.svc.RunNow(f.ctx, tt.by, tt.sv, tt.org); !errors.Is(err, tt.wants) {
			t.Errorf("run now, %s: %v, want %v", tt.name, err, tt.wants)
		}
		if _, err := f.svc.Status(f.ctx, tt.by, first.Run.ID, tt.org); tt.wants != monitoring.ErrNoSurvey && !errors.Is(err, tt.wants) {
			t.Errorf("status, %s: %v, want %v", tt.name, err, tt.wants)
		}
	}
	if _, err := f.svc.Status(f.ctx, eduIW, 99999, edu); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("status of no run: %v", err)
	}
	if runs := must(f.db.SurveyRuns(f.ctx, "check"))(t); len(runs) != 2 {
		t.Fatalf("%d runs, want the edu's and the union's", len(runs))
	}
}

// TestStartRunFromTheCommandLine opens runs as the operator does.
func TestStartRunFromTheCommandLine(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey, `id: bare
title: {ru: Без расписания}
questions:
  - {id: q, type: yes_no, text: {ru: "Вопрос?"}}
`)
	st := must(f.svc.StartRun(f.ctx, "check", "school"))(t)
	if !st.New || st.Targets != 1 || st.Org.Code != "school" {
		t.Fatalf("started %+v, want the school alone", st)
	}
	f.advance(time.Second) // a run started by hand is named by its second
	if st := must(f.svc.StartRun(f.ctx, "check", ""))(t); st.Targets != 2 || st.Org.Code != "edu" {
		t.Fatalf("started %+v, want the schedule's edu", st)
	}
	for _, tt := range []struct {
		sv, org string
		wants   error
	}{
		{"nope", "", monitoring.ErrNoSurvey},
		{"bare", "", monitoring.ErrNoSchedule},
		{"check", "nope", storage.ErrNotFound},
	} {
		if _, err := f.svc.StartRun(f.ctx, tt.sv, tt.org); !errors.Is(err, tt.wants) {
			t.Errorf("start %s under %q: %v, want %v", tt.sv, tt.org, err, tt.wants)
		}
	}
}
