package monitoring_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// TestWhoAnswersForAnOrg: the run's roles held in exactly that org, for an
// org the run asks, while the run takes answers.
func TestWhoAnswersForAnOrg(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	schoolIW := f.person("school", storage.RoleInfoworker)
	schoolChair := f.person("school", storage.RoleChair)
	activist := f.person("school", storage.RoleActivist)
	gymIW := f.person("gym", storage.RoleInfoworker)
	eduChair := f.person("edu", storage.RoleChair)
	clinicIW := f.person("clinic", storage.RoleInfoworker)
	run := f.open()
	school, clinic := f.org["school"].ID, f.org["clinic"].ID
	for _, tt := range []struct {
		name  string
		by    access.Actor
		run   int64
		org   int64
		wants error
	}{
		{"the information worker", f.actor(schoolIW), run.ID, school, nil},
		{"the chair", f.actor(schoolChair), run.ID, school, nil},
		{"an activist", f.actor(activist), run.ID, school, access.ErrForbidden},
		{"another primary's responder", f.actor(gymIW), run.ID, school, access.ErrForbidden},
		{"the branch above", f.actor(eduChair), run.ID, school, access.ErrForbidden},
		{"an org the run does not ask", f.actor(clinicIW), run.ID, clinic, access.ErrForbidden},
		{"nobody", access.Actor{}, run.ID, school, access.ErrForbidden},
		{"no such run", f.actor(schoolIW), 99999, school, storage.ErrNotFound},
	} {
		if _, err := f.svc.Open(f.ctx, tt.by, tt.run, tt.org); !errors.Is(err, tt.wants) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wants)
		}
	}
	// A form never opened carries no rights.
	if _, err := f.svc.Answer(f.ctx, monitoring.Form{Run: run, Survey: f.sv, Org: f.org["school"]}, "board", "да"); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a forged form: %v", err)
	}
	if _, err := f.svc.Submit(f.ctx, monitoring.Form{Run: run, Survey: f.sv, Org: f.org["school"]}); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a forged submission: %v", err)
	}

	// Closed at the deadline, or by the round after it: nothing is taken.
	form := must(f.svc.Open(f.ctx, f.actor(schoolIW), run.ID, school))(t)
	f.advance(run.Deadline.Sub(f.clock()) + time.Second)
	if _, err := f.svc.Open(f.ctx, f.actor(schoolIW), run.ID, school); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("open past the deadline: %v", err)
	}
	if _, err := f.svc.Answer(f.ctx, form, "board", "да"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("a late answer: %v", err)
	}
	if got := must(f.db.SurveyAnswers(f.ctx, run.ID, school))(t); len(got) != 0 {
		t.Errorf("a late answer was saved: %+v", got)
	}
	f.round()
	if _, err := f.svc.Open(f.ctx, f.actor(schoolIW), run.ID, school); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("open a closed run: %v", err)
	}
}

// TestAnswersCorrectionsAndConfirmation: answers are checked and saved as
// given, skip rules and required questions hold, one set of answers per
// org whoever gives them, and a correction that opens a required question
// withdraws the confirmation until the org confirms again.
func TestAnswersCorrectionsAndConfirmation(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	iw := f.person("school", storage.RoleInfoworker)
	chair := f.person("school", storage.RoleChair)
	run := f.open()
	school := f.org["school"].ID
	form := must(f.svc.Open(f.ctx, f.actor(iw), run.ID, school))(t)

	var refused *surveys.AnswerError
	if _, err := f.svc.Answer(f.ctx, form, "copies", "2,5"); !errors.As(err, &refused) || refused.Key != surveys.ErrInteger {
		t.Fatalf("a fraction for a count: %v", err)
	}
	for _, tt := range []struct {
		question string
		skip     bool
		wants    error
	}{
		{"weekly", false, monitoring.ErrNotAsked}, // opened only by a board
		{"nope", false, monitoring.ErrNotAsked},
		{"board", true, monitoring.ErrRequired},
	} {
		var err error
		if tt.skip {
			_, err = f.svc.Skip(f.ctx, form, tt.question)
		} else {
			_, err = f.svc.Answer(f.ctx, form, tt.question, "да")
		}
		if !errors.Is(err, tt.wants) {
			t.Errorf("%s (skip %v): %v, want %v", tt.question, tt.skip, err, tt.wants)
		}
	}
	form = must(f.svc.Skip(f.ctx, form, "note"))(t)
	form = must(f.svc.Answer(f.ctx, form, "copies", " 3 "))(t)
	var missing *monitoring.MissingError
	if _, err := f.svc.Submit(f.ctx, form); !errors.As(err, &missing) || !slices.Equal(missing.Questions, []string{"board"}) {
		t.Fatalf("confirm without the board: %v", err)
	}
	form = must(f.svc.Answer(f.ctx, form, "board", "нет"))(t)
	if form.Answers["board"] != surveys.No || form.Answers["copies"] != "3" || form.Answers["note"] != "" {
		t.Fatalf("answers %v", form.Answers)
	}
	must(f.svc.Submit(f.ctx, form))(t)
	if tg := f.target(run, "school"); tg.SubmittedAt == nil || tg.SubmittedBy != iw.ID {
		t.Fatalf("target %+v, want confirmed by the information worker", tg)
	}

	// The chair opens the same answers and corrects the board: the
	// weekly question it opens is required, so the org no longer counts
	// as answered.
	byChair := must(f.svc.Open(f.ctx, f.actor(chair), run.ID, school))(t)
	if byChair.Answers["copies"] != "3" || byChair.Target.SubmittedAt == nil {
		t.Fatalf("the chair sees %v, %+v", byChair.Answers, byChair.Target)
	}
	byChair = must(f.svc.Answer(f.ctx, byChair, "board", "да"))(t)
	if byChair.Target.SubmittedAt != nil || f.target(run, "school").SubmittedAt != nil {
		t.Fatal("a correction leaving a required question open still counts as answered")
	}
	if _, err := f.svc.Submit(f.ctx, byChair); !errors.As(err, &missing) || !slices.Equal(missing.Questions, []string{"weekly"}) {
		t.Fatalf("confirm without the weekly question: %v", err)
	}
	byChair = must(f.svc.Answer(f.ctx, byChair, "weekly", "yes"))(t)
	byChair = must(f.svc.Submit(f.ctx, byChair))(t)
	if byChair.Target.SubmittedAt == nil || f.target(run, "school").SubmittedAt == nil {
		t.Fatal("the corrected answers were not confirmed")
	}
	given := map[string]int64{}
	for _, a := range must(f.db.SurveyAnswers(f.ctx, run.ID, school))(t) {
		given[a.QuestionID] = a.PersonID
	}
	if given["board"] != chair.ID || given["copies"] != iw.ID || given["weekly"] != chair.ID {
		t.Fatalf("answers given by %v", given)
	}
	// A correction that leaves nothing required open keeps the confirmation.
	byChair = must(f.svc.Answer(f.ctx, byChair, "copies", "4"))(t)
	if byChair.Target.SubmittedAt == nil || f.target(run, "school").SubmittedAt == nil {
		t.Fatal("a harmless correction withdrew the confirmation")
	}
}

// TestAssignments lists the open runs a person answers, once per org.
func TestAssignments(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	p := f.person("school", storage.RoleInfoworker, "school", string(storage.RoleChair), "gym", string(storage.RoleChair))
	eduIW := f.person("edu", storage.RoleInfoworker)
	run := f.open()
	form := must(f.svc.Open(f.ctx, f.actor(p), run.ID, f.org["gym"].ID))(t)
	form = must(f.svc.Answer(f.ctx, form, "board", "нет"))(t)
	must(f.svc.Submit(f.ctx, form))(t)
	list := must(f.svc.Assignments(f.ctx, f.actor(p)))(t)
	var got []string
	for _, a := range list {
		got = append(got, a.Org.Code+map[bool]string{true: " answered", false: " open"}[a.Submitted])
	}
	if !slices.Equal(got, []string{"school open", "gym answered"}) {
		t.Fatalf("assignments %q", got)
	}
	if list := must(f.svc.Assignments(f.ctx, f.actor(eduIW)))(t); len(list) != 0 {
		t.Fatalf("the branch answers %+v", list)
	}
	f.advance(run.Deadline.Sub(f.clock()) + time.Second)
	if list := must(f.svc.Assignments(f.ctx, f.actor(p)))(t); len(list) != 0 {
		t.Fatalf("past the deadline %+v", list)
	}
}
