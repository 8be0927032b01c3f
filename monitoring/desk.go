package monitoring

import (
	"context"
	"fmt"
	"slices"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// DeskLine is a scheduled survey as an upper level follows it in its
// subtree: the newest run covering the org, if any, and how many of the
// org's subtree answered it.
type DeskLine struct {
	Org    storage.Org
	Survey surveys.Survey
	// Newest is nil when the survey never ran over Org.
	Newest          *storage.SurveyRun
	Total, Answered int
}

// Desk lists, for each upper-level org in which the actor follows the
// monitoring, each scheduled survey with its newest run in that subtree:
// what they may start now or follow. Primaries have no desk.
func (s *Service) Desk(ctx context.Context, by access.Actor) ([]DeskLine, error) {
	managed := DeskOrgs(by)
	if len(managed) == 0 {
		return nil, nil
	}
	runs, err := s.store.SurveyRuns(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list survey runs: %w", err)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return nil, err
	}
	var out []DeskLine
	for _, org := range managed {
		for _, sv := range s.surveys {
			if len(sv.Schedules) == 0 {
				continue
			}
			line := DeskLine{Org: org, Survey: sv}
			newest, err := s.runCovering(ctx, orgs, runs, sv.ID, org, false)
			if err != nil {
				return nil, err
			}
			if newest != nil {
				p, err := s.progress(ctx, orgs, *newest, org)
				if err != nil {
					return nil, err
				}
				line.Newest, line.Total, line.Answered = newest, p.Total, p.Answered
			}
			out = append(out, line)
		}
	}
	return out, nil
}

// DeskOrgs are the upper-level orgs in which the actor follows the
// monitoring, the roots of the subtrees whose surveys they start and
// follow; primaries have no desk.
func DeskOrgs(by access.Actor) []storage.Org {
	var out []storage.Org
	for _, org := range by.Orgs(access.ActMonitoring) {
		if org.Level != storage.LevelPrimary {
			out = append(out, org)
		}
	}
	return out
}

// Progress is where a run stands in an org's subtree.
type Progress struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	// Org is the subtree counted.
	Org             storage.Org
	Total, Answered int
	// Waiting are the orgs of the subtree that have not answered, in the
	// run's order.
	Waiting []storage.Org
	// Targets are all the orgs of the subtree asked, in the run's order,
	// with where each stands.
	Targets []TargetState
}

// Status counts a run's answers in the subtree of an upper-level org the
// actor follows the monitoring of, and names those still waiting. orgID 0
// is the first such org of the actor's that the run concerns. A run
// opened neither over the org nor within its subtree is refused
// (access.ErrForbidden): nobody follows a run sideways.
func (s *Service) Status(ctx context.Context, by access.Actor, runID, orgID int64) (Progress, error) {
	run, err := s.store.SurveyRun(ctx, runID)
	if err != nil {
		return Progress{}, fmt.Errorf("load survey run: %w", err)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return Progress{}, err
	}
	root, err := orgs.org(ctx, s.store, run.OrgID)
	if err != nil {
		return Progress{}, fmt.Errorf("load survey root: %w", err)
	}
	var org storage.Org
	if orgID == 0 {
		for _, o := range DeskOrgs(by) {
			if concerns(root, o) {
				org = o
				break
			}
		}
		if org.ID == 0 {
			return Progress{}, fmt.Errorf("follow survey run %d: %w", runID, access.ErrForbidden)
		}
	} else if org, err = s.deskOrg(ctx, by, orgID); err != nil {
		return Progress{}, err
	}
	if !concerns(root, org) {
		return Progress{}, fmt.Errorf("follow survey run %d in org %d: %w", runID, org.ID, access.ErrForbidden)
	}
	if _, ok := s.Survey(run.SurveyID); !ok {
		return Progress{}, fmt.Errorf("survey %q of run %d: %w", run.SurveyID, runID, storage.ErrNotFound)
	}
	return s.progress(ctx, orgs, run, org)
}

// concerns reports whether a run surveying root's subtree concerns org's:
// it was opened over org (from above) or within its subtree.
func concerns(root, org storage.Org) bool { return root.Contains(org) || org.Contains(root) }

// RunsPerPage is how many runs a page of a survey's runs lists.
const RunsPerPage = 20

// RunsFor lists, newest first, the runs of a survey that concern the
// subtree of an upper-level org the actor follows (opened over it or
// within it), each counted within that subtree: a page of RunsPerPage
// (page counts from 0), more when older ones follow.
func (s *Service) RunsFor(ctx context.Context, by access.Actor, surveyID string, orgID int64, page int) (runs []Progress, more bool, err error) {
	org, err := s.deskOrg(ctx, by, orgID)
	if err != nil {
		return nil, false, err
	}
	if _, ok := s.Survey(surveyID); !ok {
		return nil, false, fmt.Errorf("survey %q: %w", surveyID, ErrNoSurvey)
	}
	all, err := s.store.SurveyRuns(ctx, surveyID)
	if err != nil {
		return nil, false, fmt.Errorf("list runs: %w", err)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return nil, false, err
	}
	var mine []storage.SurveyRun
	for _, run := range all {
		root, err := orgs.org(ctx, s.store, run.OrgID)
		if err != nil {
			return nil, false, fmt.Errorf("load survey root: %w", err)
		}
		if concerns(root, org) {
			mine = append(mine, run)
		}
	}
	from := min(max(page, 0)*RunsPerPage, len(mine))
	to := min(from+RunsPerPage, len(mine))
	for _, run := range mine[from:to] {
		p, err := s.progress(ctx, orgs, run, org)
		if err != nil {
			return nil, false, err
		}
		runs = append(runs, p)
	}
	return runs, to < len(mine), nil
}

// ScheduleLine is a survey's schedule with the org whose subtree it
// surveys.
type ScheduleLine struct {
	Survey   surveys.Survey
	Schedule surveys.Schedule
	Root     storage.Org
}

// Schedules lists the deployment's survey schedules that concern the
// actor's organisations (surveying over them or within their subtrees),
// in the surveys' order.
func (s *Service) Schedules(ctx context.Context, by access.Actor) ([]ScheduleLine, error) {
	mine := by.Orgs(access.ActMonitoring)
	if len(mine) == 0 {
		return nil, nil
	}
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	var out []ScheduleLine
	for _, sv := range s.surveys {
		for _, sc := range sv.Schedules {
			root, ok := scheduleRoot(orgs, sc)
			if ok && slices.ContainsFunc(mine, func(o storage.Org) bool { return concerns(root, o) }) {
				out = append(out, ScheduleLine{Survey: sv, Schedule: sc, Root: root})
			}
		}
	}
	return out, nil
}

// AnswerSheet is an organisation's answers to a run, as who follows its
// monitoring reads them.
type AnswerSheet struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	Org    storage.Org
	Target storage.SurveyTarget
	// Answers are by question id; "" is a question skipped.
	Answers map[string]string
}

// AnswersOf reads an org's answers to a run, confirmed or not yet, for an
// actor who follows the monitoring of the org (access.ErrForbidden
// sideways or up). storage.ErrNotFound: no such run or org, a survey no
// longer defined, or an org the run did not ask.
func (s *Service) AnswersOf(ctx context.Context, by access.Actor, runID, orgID int64) (AnswerSheet, error) {
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return AnswerSheet{}, fmt.Errorf("load org: %w", err)
	}
	if by.PersonID == 0 || !by.Can(access.ActMonitoring, org) {
		return AnswerSheet{}, fmt.Errorf("read the answers of org %d: %w", orgID, access.ErrForbidden)
	}
	run, err := s.store.SurveyRun(ctx, runID)
	if err != nil {
		return AnswerSheet{}, fmt.Errorf("load survey run: %w", err)
	}
	sv, ok := s.Survey(run.SurveyID)
	if !ok {
		return AnswerSheet{}, fmt.Errorf("survey %q of run %d: %w", run.SurveyID, runID, storage.ErrNotFound)
	}
	target, err := s.store.SurveyTarget(ctx, runID, orgID)
	if err != nil {
		return AnswerSheet{}, fmt.Errorf("load survey target: %w", err)
	}
	list, err := s.store.SurveyAnswers(ctx, runID, orgID)
	if err != nil {
		return AnswerSheet{}, fmt.Errorf("load survey answers: %w", err)
	}
	answers := make(map[string]string, len(list))
	for _, a := range list {
		answers[a.QuestionID] = a.Value
	}
	return AnswerSheet{Run: run, Survey: sv, Org: org, Target: target, Answers: answers}, nil
}

// runCovering finds the newest run of a survey (open ones only, if asked)
// whose surveyed subtree holds org: the org's own or one from above.
func (s *Service) runCovering(ctx context.Context, orgs orgIndex, runs []storage.SurveyRun, surveyID string, org storage.Org, openOnly bool) (*storage.SurveyRun, error) {
	var best *storage.SurveyRun
	for k := range runs {
		run := runs[k]
		if run.SurveyID != surveyID || (openOnly && run.Status != storage.RunOpen) || (best != nil && !run.FiredFor.After(best.FiredFor)) {
			continue
		}
		root, err := orgs.org(ctx, s.store, run.OrgID)
		if err != nil {
			return nil, fmt.Errorf("load survey root: %w", err)
		}
		if root.Contains(org) {
			best = &runs[k]
		}
	}
	return best, nil
}

// progress counts a run's targets in org's subtree and those that
// answered, and lists those still waiting.
func (s *Service) progress(ctx context.Context, orgs orgIndex, run storage.SurveyRun, org storage.Org) (Progress, error) {
	sv, _ := s.Survey(run.SurveyID)
	p := Progress{Run: run, Survey: sv, Org: org}
	targets, err := s.store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return p, fmt.Errorf("list targets: %w", err)
	}
	for _, t := range targets {
		o, err := orgs.org(ctx, s.store, t.OrgID)
		if err != nil {
			return p, fmt.Errorf("load surveyed org: %w", err)
		}
		if !org.Contains(o) {
			continue
		}
		p.Targets = append(p.Targets, TargetState{Org: o, SurveyTarget: t})
		p.Total++
		if t.SubmittedAt != nil {
			p.Answered++
		} else {
			p.Waiting = append(p.Waiting, o)
		}
	}
	return p, nil
}
