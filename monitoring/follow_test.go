package monitoring_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// codes names orgs by code.
func codes(orgs []storage.Org) []string {
	var out []string
	for _, o := range orgs {
		out = append(out, o.Code)
	}
	return out
}

// TestScopesAreTheSubtreesUpperLevels: a report may be read of one's own
// orgs and the upper levels below them, never sideways or up.
func TestScopesAreTheSubtreesUpperLevels(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t))
	for _, tt := range []struct {
		name string
		by   access.Actor
		want []string
	}{
		{"the union's staff", f.actor(f.person("union", storage.RoleAdmin)), []string{"union", "edu", "health"}},
		{"a branch's information worker", f.actor(f.person("edu", storage.RoleInfoworker)), []string{"edu"}},
		{"a primary's chair", f.actor(f.person("school", storage.RoleChair)), []string{"school"}},
		{"a member", f.actor(f.person("school", storage.RoleMember)), nil},
	} {
		got := codes(must(f.svc.Scopes(f.ctx, tt.by))(t))
		slices.Sort(got)
		slices.Sort(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: scopes %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestTargetsForAndSetTargetFor: an org's chair (or one above) sets its
// targets, which hold below it; whoever reads its monitoring sees the
// target in force for each norm and where it comes from.
func TestTargetsForAndSetTargetFor(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t))
	eduChair := f.actor(f.person("edu", storage.RoleChair))
	eduIW := f.actor(f.person("edu", storage.RoleInfoworker))
	healthChair := f.actor(f.person("health", storage.RoleChair))
	admin := f.actor(f.person("union", storage.RoleAdmin))

	for _, tt := range []struct {
		name  string
		by    access.Actor
		code  string
		value float64
		wants error
	}{
		{"an information worker", eduIW, "edu", 7, access.ErrForbidden},
		{"sideways", healthChair, "edu", 7, access.ErrForbidden},
		{"up", eduChair, "union", 7, access.ErrForbidden},
		{"nobody", access.Actor{}, "edu", 7, access.ErrForbidden},
		{"no such org", eduChair, "nope", 7, storage.ErrNotFound},
		{"a negative value", eduChair, "edu", -1, monitoring.ErrInvalid},
	} {
		if _, _, err := f.svc.SetTargetFor(f.ctx, tt.by, tt.code, "2026", surveys.NormBudget, tt.value); !errors.Is(err, tt.wants) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wants)
		}
	}
	if got := must(f.svc.Targets(f.ctx, "2026"))(t); len(got) != 0 {
		t.Fatalf("refused targets were kept: %+v", got)
	}
	set := func(by access.Actor, code, norm string, v float64) {
		t.Helper()
		if _, _, err := f.svc.SetTargetFor(f.ctx, by, code, "2026", norm, v); err != nil {
			t.Fatal(err)
		}
	}
	set(eduChair, "edu", surveys.NormBudget, 7)
	set(eduChair, "school", surveys.NormBudget, 9)
	set(admin, "union", surveys.NormSolidarnost, 2)
	set(eduChair, "edu", "reach_percent", 80) // an observed indicator, which has no default

	sheet := must(f.svc.TargetsFor(f.ctx, eduIW, "gym", "2026", 0))(t)
	if sheet.CanSet || sheet.Org.Code != "gym" || len(sheet.Norms) != len(surveys.Norms)+len(monitoring.ObservedIndicators) {
		t.Fatalf("gym's sheet for an information worker %+v", sheet)
	}
	for _, n := range sheet.Norms {
		from := ""
		if n.From != nil {
			from = n.From.Code
		}
		want := map[string]struct {
			value float64
			from  string
		}{surveys.NormBudget: {7, "edu"}, surveys.NormSolidarnost: {2, "union"}, "reach_percent": {80, "edu"}}[n.Norm]
		if want.from == "" {
			want.value = surveys.DefaultTargets[n.Norm]
		}
		_, observed := monitoring.ObservedIndicatorNamed(n.Norm)
		if n.Value != want.value || from != want.from || n.Default != surveys.DefaultTargets[n.Norm] ||
			n.Observed != observed || n.None != (observed && want.from == "") {
			t.Errorf("gym's %s: %+v, want %v from %q", n.Norm, n, want.value, want.from)
		}
	}
	edu := must(f.svc.TargetsFor(f.ctx, eduChair, "edu", "2026", 0))(t)
	if !edu.CanSet || len(edu.Below) != 1 || edu.Below[0].Org.Code != "school" || edu.Below[0].Target.Value != 9 || edu.More {
		t.Errorf("edu's sheet for its chair %+v, want school's own target below", edu)
	}
	if later := must(f.svc.TargetsFor(f.ctx, eduChair, "edu", "2026", 1))(t); len(later.Below) != 0 {
		t.Errorf("the second page lists %+v", later.Below)
	}
	if other := must(f.svc.TargetsFor(f.ctx, eduChair, "edu", "2027", 0))(t); other.Norms[2].From != nil || len(other.Below) != 0 {
		t.Errorf("another year has targets %+v", other)
	}
	for _, tt := range []struct {
		name         string
		by           access.Actor
		code, period string
		wants        error
	}{
		{"sideways", healthChair, "school", "2026", access.ErrForbidden},
		{"up", eduIW, "union", "2026", access.ErrForbidden},
		{"no such org", eduIW, "nope", "2026", storage.ErrNotFound},
		{"no such period", eduIW, "edu", "26", monitoring.ErrInvalid},
	} {
		if _, err := f.svc.TargetsFor(f.ctx, tt.by, tt.code, tt.period, 0); !errors.Is(err, tt.wants) {
			t.Errorf("targets, %s: %v, want %v", tt.name, err, tt.wants)
		}
	}
}

// TestContactsFor: the contact base of a subtree goes to who sees its
// people, never sideways or up.
func TestContactsFor(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t))
	eduIW := f.actor(f.person("edu", storage.RoleInfoworker))
	f.person("school", storage.RoleChair)
	f.person("clinic", storage.RoleChair)
	org, contacts, err := f.svc.ContactsFor(f.ctx, eduIW, "edu")
	if err != nil || org.Code != "edu" {
		t.Fatalf("edu's contacts: %s, %v", org.Code, err)
	}
	var at []string
	for _, c := range contacts {
		at = append(at, c.Org.Code)
	}
	slices.Sort(at)
	if !slices.Equal(at, []string{"edu", "school"}) {
		t.Errorf("edu's contact base lists people of %q", at)
	}
	for _, tt := range []struct {
		name  string
		by    access.Actor
		code  string
		wants error
	}{
		{"sideways", f.actor(f.person("health", storage.RoleChair)), "edu", access.ErrForbidden},
		{"up", eduIW, "union", access.ErrForbidden},
		{"an activist", f.actor(f.person("edu", storage.RoleActivist)), "edu", access.ErrForbidden},
		{"nobody", access.Actor{}, "edu", access.ErrForbidden},
		{"no such org", eduIW, "nope", storage.ErrNotFound},
	} {
		if _, got, err := f.svc.ContactsFor(f.ctx, tt.by, tt.code); !errors.Is(err, tt.wants) || got != nil {
			t.Errorf("%s: %d contacts, %v; want %v", tt.name, len(got), err, tt.wants)
		}
	}
}

// TestFollowingRunsSchedulesAndAnswers: an upper level follows the runs
// that concern its subtree, each counted within it, reads its orgs'
// answers, and never sees a run opened sideways.
func TestFollowingRunsSchedulesAndAnswers(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	eduChair := f.actor(f.person("edu", storage.RoleChair))
	healthChair := f.actor(f.person("health", storage.RoleChair))
	schoolIW := f.person("school", storage.RoleInfoworker)
	admin := f.actor(f.person("union", storage.RoleAdmin))
	edu, health := f.org["edu"].ID, f.org["health"].ID

	own := must(f.svc.RunNow(f.ctx, eduChair, "check", edu))(t)
	f.advance(time.Minute)
	union := must(f.svc.RunNow(f.ctx, admin, "check", f.org["union"].ID))(t)

	runs := func(by access.Actor, org int64) []string {
		t.Helper()
		list, more := must2(f.svc.RunsFor(f.ctx, by, "check", org, 0))(t)
		if more {
			t.Errorf("more runs than a page")
		}
		var out []string
		for _, p := range list {
			out = append(out, fmt.Sprintf("%d in %s: %d", p.Run.ID, p.Org.Code, p.Total))
		}
		return out
	}
	if got, w := runs(eduChair, edu), []string{fmt.Sprintf("%d in edu: 2", union.Run.ID), fmt.Sprintf("%d in edu: 2", own.Run.ID)}; !slices.Equal(got, w) {
		t.Errorf("edu's runs %q, want %q: the union's, then its own, newest first, each over its 2 primaries", got, w)
	}
	if got, w := runs(healthChair, health), []string{fmt.Sprintf("%d in health: 1", union.Run.ID)}; !slices.Equal(got, w) {
		t.Errorf("health's runs %q, want %q: the union's alone, over its clinic", got, w)
	}
	if list, more := must2(f.svc.RunsFor(f.ctx, eduChair, "check", edu, 1))(t); len(list) != 0 || more {
		t.Errorf("a page past the runs: %d, %v", len(list), more)
	}
	if _, _, err := f.svc.RunsFor(f.ctx, eduChair, "nope", edu, 0); !errors.Is(err, monitoring.ErrNoSurvey) {
		t.Errorf("runs of no survey: %v", err)
	}
	if _, _, err := f.svc.RunsFor(f.ctx, healthChair, "check", edu, 0); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("runs sideways: %v", err)
	}

	// Status: a run of edu's own is not health's to follow, by either org.
	for _, org := range []int64{health, 0} {
		if _, err := f.svc.Status(f.ctx, healthChair, own.Run.ID, org); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("health follows edu's run in %d: %v", org, err)
		}
	}
	if p := must(f.svc.Status(f.ctx, admin, own.Run.ID, 0))(t); p.Org.Code != "union" || p.Total != 2 || len(p.Targets) != 2 {
		t.Errorf("the union follows edu's run as %+v", p)
	}
	if p := must(f.svc.Status(f.ctx, healthChair, union.Run.ID, 0))(t); p.Org.Code != "health" || p.Total != 1 || p.Targets[0].Org.Code != "clinic" {
		t.Errorf("health follows the union's run as %+v", p)
	}

	// Schedules: edu's schedule concerns edu, what is above and below it.
	for _, tt := range []struct {
		name string
		by   access.Actor
		want int
	}{{"edu", eduChair, 1}, {"the union", admin, 1}, {"a primary of edu", f.actor(schoolIW), 1}, {"health", healthChair, 0}} {
		lines := must(f.svc.Schedules(f.ctx, tt.by))(t)
		if len(lines) != tt.want || (tt.want == 1 && (lines[0].Root.Code != "edu" || lines[0].Schedule.Name != "monthly")) {
			t.Errorf("%s has %d schedules, want %d", tt.name, len(lines), tt.want)
		}
	}

	// Answers: the school's, confirmed or not, to whoever reads its
	// monitoring.
	school := f.org["school"].ID
	if err := f.db.SaveSurveyAnswer(f.ctx, storage.SurveyAnswer{RunID: own.Run.ID, OrgID: school, QuestionID: "board",
		Value: surveys.Yes, PersonID: schoolIW.ID, At: f.clock()}); err != nil {
		t.Fatal(err)
	}
	for _, by := range []access.Actor{eduChair, admin, f.actor(schoolIW)} {
		sheet := must(f.svc.AnswersOf(f.ctx, by, own.Run.ID, school))(t)
		if sheet.Answers["board"] != surveys.Yes || sheet.Org.Code != "school" || sheet.Survey.ID != "check" || sheet.Target.SubmittedAt != nil {
			t.Errorf("the school's answers %+v", sheet)
		}
	}
	for _, tt := range []struct {
		name     string
		by       access.Actor
		run, org int64
		wants    error
	}{
		{"sideways", healthChair, own.Run.ID, school, access.ErrForbidden},
		{"an org not asked", admin, own.Run.ID, f.org["clinic"].ID, storage.ErrNotFound},
		{"no such run", eduChair, 99999, school, storage.ErrNotFound},
		{"nobody", access.Actor{}, own.Run.ID, school, access.ErrForbidden},
	} {
		if _, err := f.svc.AnswersOf(f.ctx, tt.by, tt.run, tt.org); !errors.Is(err, tt.wants) {
			t.Errorf("answers, %s: %v, want %v", tt.name, err, tt.wants)
		}
	}
}

// must2 is must for two results.
func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// TestRemindNow: an upper level reminds, at once, the orgs that have not
// answered; an org told less than a day ago is passed over, the reminder
// takes the place of the schedule's next, and the counts say who was
// reached, who has nobody in the bot and who could not be reached now.
func TestRemindNow(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	eduChair := f.actor(f.person("edu", storage.RoleChair))
	schoolIW := f.person("school", storage.RoleInfoworker)
	gymChair := f.person("gym", storage.RoleChair)
	edu := f.org["edu"].ID
	run := must(f.svc.RunNow(f.ctx, eduChair, "check", edu))(t).Run
	f.round()
	if got := surveyNotes(f.notes.take()); len(got) != 2 {
		t.Fatalf("invitations %q, want the school's and the gym's", got)
	}
	// remind presses "remind now" and says what it did.
	type counts struct{ waiting, sent, recent, nobody, failed int }
	remind := func() counts {
		t.Helper()
		r := must(f.svc.RemindNow(f.ctx, eduChair, run.ID, edu))(t)
		if r.Org.Code != "edu" || r.Run.ID != run.ID || r.Survey.ID != "check" {
			t.Fatalf("reminded %+v", r)
		}
		return counts{r.Waiting, r.Sent, r.Recent, r.Nobody, r.Failed}
	}
	if r := remind(); r != (counts{2, 0, 2, 0, 0}) || len(f.notes.take()) != 0 {
		t.Errorf("right after the invitations: %+v", r)
	}

	f.advance(25 * time.Hour)
	if _, err := f.db.SubmitSurvey(f.ctx, run.ID, f.org["school"].ID, schoolIW.ID, f.clock()); err != nil {
		t.Fatal(err)
	}
	if r := remind(); r != (counts{1, 1, 0, 0, 0}) {
		t.Errorf("a day later, the school answered: %+v", r)
	}
	if got, w := surveyNotes(f.notes.take()), want(fmt.Sprintf("invite %d gym 2", gymChair.ID)); !slices.Equal(got, w) {
		t.Errorf("told %q, want %q", got, w)
	}
	if r := remind(); r != (counts{1, 0, 1, 0, 0}) {
		t.Errorf("pressed again: %+v", r)
	}
	// The schedule's reminder after two days is the one just sent.
	f.advance(24 * time.Hour)
	f.round()
	if got := surveyNotes(f.notes.take()); len(got) != 0 {
		t.Errorf("the schedule's second notice went again: %q", got)
	}

	f.notes.broken[gymChair.ID] = true
	if r := remind(); r != (counts{1, 0, 0, 0, 1}) {
		t.Errorf("the platform failing: %+v", r)
	}
	if tg := f.target(run, "gym"); tg.RemindersSent != 2 || tg.NoticedAt != nil {
		t.Errorf("a failed reminder kept: %d sent, told at %v", tg.RemindersSent, tg.NoticedAt)
	}
	delete(f.notes.broken, gymChair.ID)
	f.notes.deaf[gymChair.ID] = true
	if r := remind(); r != (counts{1, 0, 0, 1, 0}) {
		t.Errorf("nobody in the bot: %+v", r)
	}
	f.notes.take()

	for _, tt := range []struct {
		name  string
		by    access.Actor
		org   int64
		wants error
	}{
		{"a primary", f.actor(schoolIW), f.org["school"].ID, access.ErrForbidden},
		{"sideways", f.actor(f.person("health", storage.RoleChair)), f.org["health"].ID, access.ErrForbidden},
		{"sideways, by its run", f.actor(f.person("health", storage.RoleInfoworker)), 0, access.ErrForbidden},
	} {
		if _, err := f.svc.RemindNow(f.ctx, tt.by, run.ID, tt.org); !errors.Is(err, tt.wants) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wants)
		}
	}
	f.advance(10 * 24 * time.Hour)
	if _, err := f.svc.RemindNow(f.ctx, eduChair, run.ID, edu); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("past the deadline: %v", err)
	}
	if got := f.notes.take(); len(got) != 0 {
		t.Errorf("refused reminders told %+v", got)
	}
}
