package monitoring

import (
	"context"
	"fmt"

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
	var managed []storage.Org
	for _, org := range by.Orgs(access.ActMonitoring) {
		if org.Level != storage.LevelPrimary {
			managed = append(managed, org)
		}
	}
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
}

// Status counts a run's answers in the subtree of an upper-level org the
// actor follows the monitoring of, and names those still waiting.
func (s *Service) Status(ctx context.Context, by access.Actor, runID, orgID int64) (Progress, error) {
	org, err := s.deskOrg(ctx, by, orgID)
	if err != nil {
		return Progress{}, err
	}
	run, err := s.store.SurveyRun(ctx, runID)
	if err != nil {
		return Progress{}, fmt.Errorf("load survey run: %w", err)
	}
	if _, ok := s.Survey(run.SurveyID); !ok {
		return Progress{}, fmt.Errorf("survey %q of run %d: %w", run.SurveyID, runID, storage.ErrNotFound)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return Progress{}, err
	}
	return s.progress(ctx, orgs, run, org)
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
		p.Total++
		if t.SubmittedAt != nil {
			p.Answered++
		} else {
			p.Waiting = append(p.Waiting, o)
		}
	}
	return p, nil
}
