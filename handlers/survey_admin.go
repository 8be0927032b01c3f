package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// maxWaitingListed bounds the orgs named in a run's status; the CLI lists all.
const maxWaitingListed = 20

// surveyDesk lists, for information workers and chairs of upper levels, each
// survey with its newest run in their subtree, and offers to start one now
// or see who has not answered.
func (h *Hub) surveyDesk(ctx context.Context, s *session, ms []storage.Membership) (string, bot.Keyboard, error) {
	var text strings.Builder
	var kb bot.Keyboard
	runs, err := h.Store.SurveyRuns(ctx, "")
	if err != nil {
		return "", nil, fmt.Errorf("list survey runs: %w", err)
	}
	for _, org := range storage.ManagedOrgs(ms, storage.ActMonitoring) {
		if org.Level == storage.LevelPrimary {
			continue
		}
		for i, sv := range h.Surveys {
			if len(sv.Schedules) == 0 {
				continue
			}
			line := s.t("survey.desk_never", "Title", sv.Title.T(s.lang), "Org", org.Name)
			newest, err := h.runCovering(ctx, runs, sv.ID, org, false)
			if err != nil {
				return "", nil, err
			}
			if newest != nil {
				total, answered, _, err := h.subtreeProgress(ctx, *newest, org)
				if err != nil {
					return "", nil, err
				}
				line = s.plural("survey.desk_run", total, "Title", sv.Title.T(s.lang), "Org", org.Name,
					"Opened", newest.FiredFor.In(zone(org)).Format(scheduleLayout), "Answered", answered)
			}
			text.WriteString("\n" + line)
			row := []bot.Button{{Text: s.t("survey.button_run"), Data: fmt.Sprintf("%s:run:%d:%d", cbSurvey, i, org.ID)}}
			if newest != nil {
				row = append(row, bot.Button{Text: s.t("survey.button_status"), Data: fmt.Sprintf("%s:st:%d:%d", cbSurvey, newest.ID, org.ID)})
			}
			kb = append(kb, row)
		}
	}
	return text.String(), kb, nil
}

// deskOrg loads the org of a desk button and checks the presser may follow
// its surveys.
func (h *Hub) deskOrg(ctx context.Context, s *session, orgID int64) (storage.Org, bool, error) {
	org, err := h.cachedOrg(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return org, false, s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return org, false, err
	}
	ms, err := s.activeRoles(ctx)
	if err != nil {
		return org, false, err
	}
	if s.person == nil || !storage.Allowed(ms, storage.ActMonitoring, org) || org.Level == storage.LevelPrimary {
		return org, false, s.notice(ctx, "error.not_allowed")
	}
	return org, true, nil
}

// onSurveyDeskButton starts a survey now for the presser's subtree, or
// shows who has not answered a run.
func (h *Hub) onSurveyDeskButton(ctx context.Context, s *session, action string, first, orgID int64) error {
	org, ok, err := h.deskOrg(ctx, s, orgID)
	if err != nil || !ok {
		return err
	}
	if action == "st" {
		return h.runStatus(ctx, s, first, org)
	}
	if first < 0 || first >= int64(len(h.Surveys)) || len(h.Surveys[first].Schedules) == 0 {
		return s.notice(ctx, "error.stale_button")
	}
	sv := h.Surveys[first]
	open, err := h.Store.OpenSurveyRuns(ctx)
	if err != nil {
		return fmt.Errorf("list open survey runs: %w", err)
	}
	// A run open over this subtree, the org's own or one from above, is
	// followed rather than doubled: nobody answers the same survey twice.
	if run, err := h.runCovering(ctx, open, sv.ID, org, true); err != nil || run != nil {
		if err != nil {
			return err
		}
		return h.runStatus(ctx, s, run.ID, org)
	}
	sc := sv.Schedules[0]
	sc.Org = org.Code
	now := h.Clock()
	run, _, err := h.OpenSurvey(ctx, sv, sc, ManualJob(sv.ID, sc.Name, now), now)
	if err != nil {
		return err
	}
	targets, err := h.Store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("list targets: %w", err)
	}
	h.Logger.InfoContext(ctx, "survey started from the bot", "run", run.ID, "org_id", org.ID, "person_id", s.person.ID)
	return s.reply(ctx, s.plural("survey.started", len(targets), "Title", sv.Title.T(s.lang), "Org", org.Name,
		"Deadline", run.Deadline.In(zone(org)).Format(scheduleLayout)), nil)
}

// runStatus counts a run's answers in org's subtree and names those
// still waiting.
func (h *Hub) runStatus(ctx context.Context, s *session, runID int64, org storage.Org) error {
	run, err := h.Store.SurveyRun(ctx, runID)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load survey run: %w", err)
	}
	sv, ok := h.survey(run.SurveyID)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	total, answered, waiting, err := h.subtreeProgress(ctx, run, org)
	if err != nil {
		return err
	}
	text := s.plural("survey.status", total, "Title", sv.Title.T(s.lang), "Org", org.Name, "Answered", answered,
		"Deadline", run.Deadline.In(zone(org)).Format(scheduleLayout))
	if run.Status == storage.RunClosed {
		text += "\n" + s.t("survey.status_closed")
	}
	if len(waiting) > 0 {
		text += "\n" + s.t("survey.waiting") + "\n" + strings.Join(waiting, "\n")
	}
	return s.reply(ctx, text, nil)
}

// runCovering finds the newest run of a survey (open ones only, if asked)
// whose surveyed subtree holds org: the org's own or one from above.
func (h *Hub) runCovering(ctx context.Context, runs []storage.SurveyRun, surveyID string, org storage.Org, openOnly bool) (*storage.SurveyRun, error) {
	var best *storage.SurveyRun
	for k := range runs {
		run := runs[k]
		if run.SurveyID != surveyID || (openOnly && run.Status != storage.RunOpen) || (best != nil && !run.FiredFor.After(best.FiredFor)) {
			continue
		}
		root, err := h.cachedOrg(ctx, run.OrgID)
		if err != nil {
			return nil, fmt.Errorf("load survey root: %w", err)
		}
		if root.Contains(org) {
			best = &runs[k]
		}
	}
	return best, nil
}

// subtreeProgress counts a run's targets in org's subtree and those that
// answered, and names the first ones still waiting.
func (h *Hub) subtreeProgress(ctx context.Context, run storage.SurveyRun, org storage.Org) (total, answered int, waiting []string, err error) {
	targets, err := h.Store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("list targets: %w", err)
	}
	for _, t := range targets {
		o, err := h.cachedOrg(ctx, t.OrgID)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("load surveyed org: %w", err)
		}
		if !org.Contains(o) {
			continue
		}
		total++
		if t.SubmittedAt != nil {
			answered++
		} else if len(waiting) < maxWaitingListed {
			waiting = append(waiting, "• "+o.Name)
		}
	}
	return total, answered, waiting, nil
}

// parseDeskButton reads srv:run:SURVEY:ORG and srv:st:RUN:ORG.
func parseDeskButton(parts []string) (action string, first, orgID int64, ok bool) {
	if len(parts) != 4 || (parts[1] != "run" && parts[1] != "st") {
		return "", 0, 0, false
	}
	first, err1 := strconv.ParseInt(parts[2], 10, 64)
	orgID, err2 := strconv.ParseInt(parts[3], 10, 64)
	return parts[1], first, orgID, err1 == nil && err2 == nil
}
