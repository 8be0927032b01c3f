package handlers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// maxWaitingListed bounds the orgs named in a run's status; the CLI lists all.
const maxWaitingListed = 20

// runNowButton starts survey number Survey (its place in the deployment's
// list) now for the subtree of an org: "srv:run:SURVEY:ORG".
type runNowButton struct {
	Survey int
	OrgID  int64
}

func (b runNowButton) data() string {
	return joinData(cbSurvey, "run", strconv.Itoa(b.Survey), idData(b.OrgID))
}

func parseRunNowButton(data string) (runNowButton, bool) {
	f, ok := fieldsOf(data, cbSurvey, 3)
	if !ok || f[0] != "run" {
		return runNowButton{}, false
	}
	i, err := strconv.Atoi(f[1])
	id, okOrg := idField(f[2])
	return runNowButton{Survey: i, OrgID: id}, err == nil && i >= 0 && okOrg
}

// runStatusButton shows who in an org's subtree has not answered a run:
// "srv:st:RUN:ORG".
type runStatusButton struct {
	RunID, OrgID int64
}

func (b runStatusButton) data() string {
	return joinData(cbSurvey, "st", idData(b.RunID), idData(b.OrgID))
}

func parseRunStatusButton(data string) (runStatusButton, bool) {
	f, ok := fieldsOf(data, cbSurvey, 3)
	if !ok || f[0] != "st" {
		return runStatusButton{}, false
	}
	run, okRun := idField(f[1])
	org, okOrg := idField(f[2])
	return runStatusButton{RunID: run, OrgID: org}, okRun && okOrg
}

// surveyDesk lists, for information workers and chairs of upper levels, each
// survey with its newest run in their subtree, and offers to start one now
// or see who has not answered.
func (h *Hub) surveyDesk(ctx context.Context, s *session, act access.Actor) (string, bot.Keyboard, error) {
	lines, err := h.Monitoring.Desk(ctx, act)
	if err != nil {
		return "", nil, err
	}
	place := map[string]int{}
	for i, sv := range h.Monitoring.Surveys() {
		place[sv.ID] = i
	}
	var text strings.Builder
	var kb bot.Keyboard
	for _, l := range lines {
		title := l.Survey.Title.T(s.lang)
		line := s.t("survey.desk_never", "Title", title, "Org", l.Org.Name)
		if l.Newest != nil {
			line = s.plural("survey.desk_run", l.Total, "Title", title, "Org", l.Org.Name,
				"Opened", l.Newest.FiredFor.In(zone(l.Org)).Format(scheduleLayout), "Answered", l.Answered)
		}
		text.WriteString("\n" + line)
		row := []bot.Button{{Text: s.t("survey.button_run"), Data: runNowButton{Survey: place[l.Survey.ID], OrgID: l.Org.ID}.data()}}
		if l.Newest != nil {
			row = append(row, bot.Button{Text: s.t("survey.button_status"), Data: runStatusButton{RunID: l.Newest.ID, OrgID: l.Org.ID}.data()})
		}
		kb = append(kb, row)
	}
	return text.String(), kb, nil
}

// deskRefusal tells the presser of a desk button why nothing happened, or
// returns the error.
func deskRefusal(ctx context.Context, s *session, err error) error {
	switch {
	case errors.Is(err, access.ErrForbidden):
		return s.notice(ctx, "error.not_allowed")
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, monitoring.ErrNoSurvey), errors.Is(err, monitoring.ErrNoSchedule):
		return s.notice(ctx, "error.stale_button")
	}
	return err
}

// onRunNowButton starts a survey now for the presser's subtree, or shows
// the run already open over it.
func (h *Hub) onRunNowButton(ctx context.Context, s *session, b runNowButton) error {
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	id := ""
	if defs := h.Monitoring.Surveys(); b.Survey < len(defs) {
		id = defs[b.Survey].ID
	}
	st, err := h.Monitoring.RunNow(ctx, act, id, b.OrgID)
	if err != nil {
		return deskRefusal(ctx, s, err)
	}
	if !st.New {
		return h.runStatus(ctx, s, act, st.Run.ID, st.Org.ID)
	}
	return s.reply(ctx, s.plural("survey.started", st.Targets, "Title", st.Survey.Title.T(s.lang), "Org", st.Org.Name,
		"Deadline", st.Run.Deadline.In(zone(st.Org)).Format(scheduleLayout)), nil)
}

// onRunStatusButton shows who has not answered a run.
func (h *Hub) onRunStatusButton(ctx context.Context, s *session, b runStatusButton) error {
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	return h.runStatus(ctx, s, act, b.RunID, b.OrgID)
}

// runStatus counts a run's answers in org's subtree and names the first of
// those still waiting.
func (h *Hub) runStatus(ctx context.Context, s *session, act access.Actor, runID, orgID int64) error {
	p, err := h.Monitoring.Status(ctx, act, runID, orgID)
	if err != nil {
		return deskRefusal(ctx, s, err)
	}
	text := s.plural("survey.status", p.Total, "Title", p.Survey.Title.T(s.lang), "Org", p.Org.Name, "Answered", p.Answered,
		"Deadline", p.Run.Deadline.In(zone(p.Org)).Format(scheduleLayout))
	if p.Run.Status == storage.RunClosed {
		text += "\n" + s.t("survey.status_closed")
	}
	if len(p.Waiting) > 0 {
		text += "\n" + s.t("survey.waiting")
		for _, o := range p.Waiting[:min(len(p.Waiting), maxWaitingListed)] {
			text += "\n• " + o.Name
		}
	}
	return s.reply(ctx, text, nil)
}
