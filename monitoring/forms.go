package monitoring

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// Form is one organisation's answers to a run, as a responder of that
// organisation opened it: one set of answers per org, whoever of its
// responders gives them. Only Open makes a usable form, so holding one
// means the rights were checked.
type Form struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	Org    storage.Org
	Target storage.SurveyTarget
	// Answers are the org's answers by question id; "" is a question
	// skipped.
	Answers map[string]string
	by      access.Actor
}

// answersFor reports whether the actor answers run for org: they hold one
// of the run's roles in exactly that org.
func answersFor(by access.Actor, run storage.SurveyRun, orgID int64) bool {
	for _, m := range by.Roles {
		if m.Org.ID == orgID && slices.Contains(run.Roles, m.Role) {
			return true
		}
	}
	return false
}

// Open loads the org's answers to a run for the actor to read and change.
// storage.ErrNotFound: no such run, or its survey is no longer defined;
// storage.ErrClosed: the run is closed or past its deadline;
// access.ErrForbidden: the actor does not answer the run for org.
func (s *Service) Open(ctx context.Context, by access.Actor, runID, orgID int64) (Form, error) {
	run, err := s.store.SurveyRun(ctx, runID)
	if err != nil {
		return Form{}, fmt.Errorf("load survey run: %w", err)
	}
	sv, ok := s.Survey(run.SurveyID)
	if !ok {
		return Form{}, fmt.Errorf("survey %q of run %d: %w", run.SurveyID, runID, storage.ErrNotFound)
	}
	if run.Status != storage.RunOpen || !s.clock().Before(run.Deadline) {
		return Form{}, fmt.Errorf("open survey run %d: %w", runID, storage.ErrClosed)
	}
	if by.PersonID == 0 || !answersFor(by, run, orgID) {
		return Form{}, fmt.Errorf("answer survey run %d for org %d: %w", runID, orgID, access.ErrForbidden)
	}
	target, err := s.store.SurveyTarget(ctx, runID, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return Form{}, fmt.Errorf("org %d is not asked in survey run %d: %w", orgID, runID, access.ErrForbidden)
	}
	if err != nil {
		return Form{}, fmt.Errorf("load survey target: %w", err)
	}
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return Form{}, fmt.Errorf("load surveyed org: %w", err)
	}
	list, err := s.store.SurveyAnswers(ctx, runID, orgID)
	if err != nil {
		return Form{}, fmt.Errorf("load survey answers: %w", err)
	}
	answers := make(map[string]string, len(list))
	for _, a := range list {
		answers[a.QuestionID] = a.Value
	}
	return Form{Run: run, Survey: sv, Org: org, Target: target, Answers: answers, by: by}, nil
}

// asked finds a question the form asks now.
func (f Form) asked(questionID string) (surveys.Question, error) {
	q, ok := f.Survey.Question(questionID)
	if !ok || !f.Survey.Applies(q, f.Answers) {
		return q, fmt.Errorf("question %q of survey %s: %w", questionID, f.Survey.ID, ErrNotAsked)
	}
	return q, nil
}

// Answer saves input, typed or chosen, as the org's answer to a question,
// in place of any answer given before (by this responder or another), and
// returns the form with it. A refused input is a *surveys.AnswerError
// saying why; ErrNotAsked: the question is not asked (any more);
// storage.ErrClosed: the deadline passed, nothing is saved.
func (s *Service) Answer(ctx context.Context, f Form, questionID, input string) (Form, error) {
	q, err := f.asked(questionID)
	if err != nil {
		return f, err
	}
	v, err := surveys.ParseAnswer(q, input)
	if err != nil {
		return f, fmt.Errorf("answer %q: %w", q.ID, err)
	}
	return s.save(ctx, f, q, v)
}

// Skip leaves an optional question unanswered, in place of any answer
// given before. ErrRequired for a required one; otherwise as Answer.
func (s *Service) Skip(ctx context.Context, f Form, questionID string) (Form, error) {
	q, err := f.asked(questionID)
	if err != nil {
		return f, err
	}
	if q.Required {
		return f, fmt.Errorf("skip %q: %w", q.ID, ErrRequired)
	}
	return s.save(ctx, f, q, "")
}

// save keeps an answer as it is given, so that a survey resumes after a
// restart or a week. A confirmed org whose correction opens a required
// question is no longer counted as answered until it confirms again.
func (s *Service) save(ctx context.Context, f Form, q surveys.Question, v string) (Form, error) {
	if f.by.PersonID == 0 {
		return f, fmt.Errorf("answer survey run %d: %w", f.Run.ID, access.ErrForbidden)
	}
	now := s.clock()
	err := s.store.SaveSurveyAnswer(ctx, storage.SurveyAnswer{RunID: f.Run.ID, OrgID: f.Org.ID, QuestionID: q.ID, Value: v, PersonID: f.by.PersonID, At: now})
	if err != nil {
		return f, fmt.Errorf("save survey answer: %w", err)
	}
	f.Answers = maps.Clone(f.Answers)
	if f.Answers == nil {
		f.Answers = map[string]string{}
	}
	f.Answers[q.ID] = v
	if f.Target.SubmittedAt != nil && len(f.Survey.Missing(f.Answers)) > 0 {
		reopened, err := s.store.ReopenSurvey(ctx, f.Run.ID, f.Org.ID, now)
		if err != nil && !errors.Is(err, storage.ErrClosed) {
			return f, fmt.Errorf("reopen survey: %w", err)
		}
		if reopened {
			f.Target.SubmittedAt = nil
		}
	}
	return f, nil
}

// Submit confirms the org's answers once every required question the
// survey asks is answered: the org then counts as having answered. A
// *MissingError names what is missing; storage.ErrClosed: too late.
func (s *Service) Submit(ctx context.Context, f Form) (Form, error) {
	if f.by.PersonID == 0 {
		return f, fmt.Errorf("submit survey run %d: %w", f.Run.ID, access.ErrForbidden)
	}
	if missing := f.Survey.Missing(f.Answers); len(missing) > 0 {
		return f, fmt.Errorf("submit survey run %d: %w", f.Run.ID, &MissingError{Questions: missing})
	}
	t, err := s.store.SubmitSurvey(ctx, f.Run.ID, f.Org.ID, f.by.PersonID, s.clock())
	if err != nil {
		return f, fmt.Errorf("submit survey: %w", err)
	}
	f.Target = t
	return f, nil
}

// Assignment is an open run an organisation of the actor answers.
type Assignment struct {
	Run       storage.SurveyRun
	Survey    surveys.Survey
	Org       storage.Org
	Submitted bool
}

// Assignments lists the open runs the actor answers for one of their
// organisations, oldest first; an org the actor holds two roles in is
// listed once per run.
func (s *Service) Assignments(ctx context.Context, by access.Actor) ([]Assignment, error) {
	runs, err := s.store.OpenSurveyRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("list open survey runs: %w", err)
	}
	var out []Assignment
	now := s.clock()
	for _, run := range runs {
		sv, ok := s.Survey(run.SurveyID)
		if !ok || !now.Before(run.Deadline) {
			continue
		}
		listed := map[int64]bool{}
		for _, m := range by.Roles {
			if !slices.Contains(run.Roles, m.Role) || listed[m.Org.ID] {
				continue
			}
			listed[m.Org.ID] = true
			t, err := s.store.SurveyTarget(ctx, run.ID, m.Org.ID)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("load survey target: %w", err)
			}
			out = append(out, Assignment{Run: run, Survey: sv, Org: m.Org, Submitted: t.SubmittedAt != nil})
		}
	}
	return out, nil
}
