package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// cbSurvey prefixes the buttons of survey conversations:
// srv:ACTION:RUN:ORG[:QUESTION[:VALUE]].
const cbSurvey = "srv"

// manualJob prefixes the job of a run started by hand rather than by its
// schedule; the fire time keeps such runs apart.
const manualJob = "manual:"

// ManualJob names the run of a survey started by hand at now.
func ManualJob(surveyID, schedule string, now time.Time) string {
	return manualJob + surveys.JobName(surveyID, schedule) + "@" + strconv.FormatInt(now.Unix(), 10)
}

// survey returns the definition of a survey by id.
func (h *Hub) survey(id string) (surveys.Survey, bool) {
	for _, sv := range h.Surveys {
		if sv.ID == id {
			return sv, true
		}
	}
	return surveys.Survey{}, false
}

// runSchedule finds the schedule a run was opened for.
func (h *Hub) runSchedule(run storage.SurveyRun) (surveys.Survey, surveys.Schedule, bool) {
	sv, ok := h.survey(run.SurveyID)
	if !ok {
		return sv, surveys.Schedule{}, false
	}
	_, name, _ := surveys.ParseJobName(strings.TrimPrefix(run.Job, manualJob))
	if name, _, _ = strings.Cut(name, "@"); name == "" && len(sv.Schedules) > 0 {
		name = sv.Schedules[0].Name
	}
	for _, sc := range sv.Schedules {
		if sc.Name == name {
			return sv, sc, true
		}
	}
	return sv, surveys.Schedule{}, false
}

// OpenSurvey opens a run of sv for the orgs sc surveys, once per job and
// fire time; the follow-up round then invites their responders. The answer
// window counts from the fire time, so a caught-up run closes when it would
// have.
func (h *Hub) OpenSurvey(ctx context.Context, sv surveys.Survey, sc surveys.Schedule, job string, firedFor time.Time) (storage.SurveyRun, bool, error) {
	orgs, err := h.Store.Orgs(ctx)
	if err != nil {
		return storage.SurveyRun{}, false, fmt.Errorf("list orgs: %w", err)
	}
	root, ok := scheduleRoot(orgs, sc)
	if !ok {
		return storage.SurveyRun{}, false, fmt.Errorf("open survey %s: no organisation %q", sv.ID, sc.Org)
	}
	var targets []int64
	for _, o := range orgs {
		if slices.Contains(sc.Levels, o.Level) && root.Contains(o) {
			targets = append(targets, o.ID)
		}
	}
	run := storage.SurveyRun{
		SurveyID: sv.ID, Job: job, FiredFor: firedFor, OrgID: root.ID, Roles: sc.Roles,
		OpenedAt: h.Clock(), Deadline: firedFor.Add(sc.Deadline), Status: storage.RunOpen,
	}
	run, created, err := h.Store.OpenSurveyRun(ctx, run, targets)
	if err != nil {
		return run, false, fmt.Errorf("open survey %s: %w", sv.ID, err)
	}
	return run, created, nil
}

// surveyFollowUps closes runs at their deadline and invites, then reminds,
// the responders of every org that has not submitted yet. Each notice is
// claimed in the database first, so replicas never repeat one.
func (h *Hub) surveyFollowUps(ctx context.Context, now time.Time) error {
	runs, err := h.Store.OpenSurveyRuns(ctx)
	if err != nil {
		return fmt.Errorf("list open survey runs: %w", err)
	}
	var errs []error
	for _, run := range runs {
		sv, sc, ok := h.runSchedule(run)
		if !now.Before(run.Deadline) {
			errs = append(errs, h.closeSurvey(ctx, run, sv, ok))
			continue
		}
		if !ok {
			continue
		}
		targets, err := h.Store.SurveyTargets(ctx, run.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("list targets of run %d: %w", run.ID, err))
			continue
		}
		// Reminders count from the invitation: a run caught up late does
		// not pour its overdue reminders on people at once.
		due := 1
		for _, r := range sc.Reminders {
			if !now.Before(run.OpenedAt.Add(r)) {
				due++
			}
		}
		for _, t := range targets {
			if t.SubmittedAt != nil || t.RemindersSent >= due {
				continue
			}
			n := t.RemindersSent + 1
			claimed, err := h.Store.ClaimSurveyReminder(ctx, run.ID, t.OrgID, n)
			if err != nil {
				errs = append(errs, fmt.Errorf("claim survey notice: %w", err))
				continue
			}
			if !claimed {
				continue
			}
			reached, err := h.inviteToSurvey(ctx, run, sv, t.OrgID, n)
			if err != nil && !reached {
				// Nobody got it: give it back for the next round.
				if _, relErr := h.Store.ReleaseSurveyReminder(ctx, run.ID, t.OrgID, n); relErr != nil {
					err = errors.Join(err, fmt.Errorf("release survey notice: %w", relErr))
				}
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// inviteToSurvey sends notice n (1: the invitation, then reminders) to the
// people who answer for org, and reports whether anyone received it.
func (h *Hub) inviteToSurvey(ctx context.Context, run storage.SurveyRun, sv surveys.Survey, orgID int64, n int) (bool, error) {
	org, err := h.cachedOrg(ctx, orgID)
	if err != nil {
		return false, fmt.Errorf("load surveyed org: %w", err)
	}
	people, err := h.Store.Leaders(ctx, orgID, run.Roles)
	if err != nil {
		return false, fmt.Errorf("list survey responders: %w", err)
	}
	reached := false
	key := "survey.invite"
	if n > 1 {
		key = "survey.reminder"
	}
	asked := 0 // as the conversation will count them at the start
	for _, q := range sv.Questions {
		if sv.Applies(q, nil) {
			asked++
		}
	}
	var errs []error
	for _, p := range people {
		got, err := h.notify(ctx, fmt.Sprintf("survey:%d:%d:%d", run.ID, orgID, n), p.Accounts, locales.Normalize(p.Person.Locale), func(lang string) bot.Message {
			return bot.Message{
				Text: h.Catalog.Plural(lang, key, asked, "Title", sv.Title.T(lang), "Org", org.Name,
					"Deadline", run.Deadline.In(zone(org)).Format(scheduleLayout)),
				Keyboard: bot.Keyboard{{{Text: h.Catalog.T(lang, "survey.button_start"), Data: fmt.Sprintf("%s:go:%d:%d", cbSurvey, run.ID, orgID)}}},
			}
		})
		reached = reached || got
		if err != nil {
			errs = append(errs, fmt.Errorf("invite person %d to survey run %d: %w", p.Person.ID, run.ID, err))
		}
	}
	return reached, errors.Join(errs...)
}

// closeSurvey closes a run at its deadline and tells who sees the results
// how many answered.
func (h *Hub) closeSurvey(ctx context.Context, run storage.SurveyRun, sv surveys.Survey, known bool) error {
	closed, err := h.Store.CloseSurveyRun(ctx, run.ID, h.Clock())
	if err != nil || !closed || !known {
		if err != nil {
			return fmt.Errorf("close survey run %d: %w", run.ID, err)
		}
		return nil
	}
	_, sc, _ := h.runSchedule(run)
	targets, err := h.Store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("list targets of run %d: %w", run.ID, err)
	}
	answered := 0
	for _, t := range targets {
		if t.SubmittedAt != nil {
			answered++
		}
	}
	root, err := h.cachedOrg(ctx, run.OrgID)
	if err != nil {
		return fmt.Errorf("load survey root: %w", err)
	}
	people, err := h.Store.Leaders(ctx, run.OrgID, sc.Results)
	if err != nil {
		return fmt.Errorf("list result readers: %w", err)
	}
	var errs []error
	for _, p := range people {
		if _, err := h.notify(ctx, fmt.Sprintf("survey:%d:closed", run.ID), p.Accounts, locales.Normalize(p.Person.Locale), func(lang string) bot.Message {
			return bot.Message{Text: h.Catalog.Plural(lang, "survey.closed_summary", len(targets), "Title", sv.Title.T(lang), "Org", root.Name, "Answered", answered)}
		}); err != nil {
			errs = append(errs, fmt.Errorf("tell person %d survey run %d closed: %w", p.Person.ID, run.ID, err))
		}
	}
	return errors.Join(errs...)
}

// surveyPlace is the run, org and survey a button or conversation is about,
// checked against the person's rights and the run's deadline.
type surveyPlace struct {
	run    storage.SurveyRun
	sv     surveys.Survey
	org    storage.Org
	target storage.SurveyTarget
}

// place loads and checks a survey place; ok is false when the person was
// already told why not.
func (h *Hub) place(ctx context.Context, s *session, runID, orgID int64) (surveyPlace, bool, error) {
	var p surveyPlace
	run, err := h.Store.SurveyRun(ctx, runID)
	if errors.Is(err, storage.ErrNotFound) {
		return p, false, s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return p, false, fmt.Errorf("load survey run: %w", err)
	}
	sv, ok := h.survey(run.SurveyID)
	if !ok || s.person == nil {
		return p, false, s.notice(ctx, "error.stale_button")
	}
	if run.Status != storage.RunOpen || !h.Clock().Before(run.Deadline) {
		return p, false, h.surveyClosed(ctx, s)
	}
	ms, err := s.activeRoles(ctx)
	if err != nil {
		return p, false, err
	}
	allowed := false
	for _, m := range ms {
		allowed = allowed || (m.Org.ID == orgID && slices.Contains(run.Roles, m.Role))
	}
	target, err := h.Store.SurveyTarget(ctx, runID, orgID)
	if errors.Is(err, storage.ErrNotFound) || !allowed {
		return p, false, s.notice(ctx, "error.not_allowed")
	} else if err != nil {
		return p, false, fmt.Errorf("load survey target: %w", err)
	}
	org, err := h.cachedOrg(ctx, orgID)
	if err != nil {
		return p, false, err
	}
	return surveyPlace{run: run, sv: sv, org: org, target: target}, true, nil
}

func (h *Hub) surveyClosed(ctx context.Context, s *session) error {
	if c, err := s.conversation(ctx); err == nil && c.Flow == flowSurvey {
		if err := s.endConversation(ctx); err != nil {
			return err
		}
	}
	return s.reply(ctx, s.t("survey.closed"), s.mainMenu())
}

// answers loads an org's answers by question id.
func (h *Hub) answers(ctx context.Context, p surveyPlace) (map[string]string, error) {
	list, err := h.Store.SurveyAnswers(ctx, p.run.ID, p.org.ID)
	if err != nil {
		return nil, fmt.Errorf("load survey answers: %w", err)
	}
	out := make(map[string]string, len(list))
	for _, a := range list {
		out[a.QuestionID] = a.Value
	}
	return out, nil
}

// onSurveyButton takes every button of a survey. A button of a question
// still answers that question, even after a restart or days later; a
// closed run refuses them all and changes nothing.
func (h *Hub) onSurveyButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if action, first, orgID, ok := parseDeskButton(parts); ok {
		return h.onSurveyDeskButton(ctx, s, action, first, orgID)
	}
	if len(parts) < 4 {
		return s.notice(ctx, "error.stale_button")
	}
	runID, err1 := strconv.ParseInt(parts[2], 10, 64)
	orgID, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return s.notice(ctx, "error.stale_button")
	}
	p, ok, err := h.place(ctx, s, runID, orgID)
	if err != nil || !ok {
		return err
	}
	answers, err := h.answers(ctx, p)
	if err != nil {
		return err
	}
	action := parts[1]
	switch action {
	case "go":
		// Answers given so far, by this person or another responder of
		// the org, are shown first: one set of answers per org.
		if len(answers) == 0 {
			if q, ok := p.sv.Next(answers, -1, true); ok {
				return h.askSurvey(ctx, s, p, q, answers, nil)
			}
		}
		return h.surveySummary(ctx, s, p, answers)
	case "c": // continue with the first question not answered yet
		if q, ok := p.sv.Next(answers, -1, true); ok {
			return h.askSurvey(ctx, s, p, q, answers, nil)
		}
		return h.surveySummary(ctx, s, p, answers)
	case "ok":
		return h.submitSurvey(ctx, s, p, answers)
	case "e":
		if q, ok := p.sv.Next(answers, -1, false); ok {
			return h.askSurvey(ctx, s, p, q, answers, nil)
		}
		return s.notice(ctx, "error.stale_button")
	}
	if len(parts) < 5 {
		return s.notice(ctx, "error.stale_button")
	}
	q, ok := p.sv.Question(parts[4])
	if !ok || !p.sv.Applies(q, answers) {
		return s.notice(ctx, "error.stale_button")
	}
	value := ""
	if len(parts) > 5 {
		value = parts[5]
	}
	switch action {
	case "a": // a yes/no or single choice
		v, err := surveys.ParseAnswer(q, value)
		if err != nil || (q.Type != surveys.YesNo && q.Type != surveys.Single) {
			return s.notice(ctx, "error.stale_button")
		}
		return h.saveSurveyAnswer(ctx, s, p, q, v, answers)
	case "t": // toggle an option of a multiple choice
		return h.toggleOption(ctx, s, p, q, value, answers)
	case "d": // multiple choice done
		c, err := s.conversation(ctx)
		if err != nil {
			return err
		}
		chosen := ""
		if c.Flow == flowSurvey && c.SurveyRun == p.run.ID && c.OrgID == p.org.ID && c.Question == q.ID {
			chosen = strings.Join(c.Selected, ",")
		} else {
			chosen = answers[q.ID]
		}
		v, err := surveys.ParseAnswer(q, chosen)
		if err != nil {
			return s.notice(ctx, "survey.err.choose")
		}
		return h.saveSurveyAnswer(ctx, s, p, q, v, answers)
	case "s": // skip an optional question
		if q.Required {
			return s.notice(ctx, "survey.required")
		}
		return h.saveSurveyAnswer(ctx, s, p, q, "", answers)
	case "k": // keep the answer given
		return h.nextSurveyQuestion(ctx, s, p, q, answers)
	case "b":
		prev, ok := p.sv.Prev(answers, p.sv.Index(q.ID))
		if !ok {
			return s.notice(ctx, "error.stale_button")
		}
		return h.askSurvey(ctx, s, p, prev, answers, nil)
	}
	return s.notice(ctx, "error.stale_button")
}

// surveyText takes a typed answer to the current question.
func (h *Hub) surveyText(ctx context.Context, s *session, c *conversation) error {
	p, ok, err := h.place(ctx, s, c.SurveyRun, c.OrgID)
	if err != nil || !ok {
		if err == nil { // refused and told why: typed text no longer goes here
			err = s.endConversation(ctx)
		}
		return err
	}
	answers, err := h.answers(ctx, p)
	if err != nil {
		return err
	}
	q, ok := p.sv.Question(c.Question)
	if !ok {
		return h.surveySummary(ctx, s, p, answers)
	}
	if !p.sv.Applies(q, answers) {
		// Another responder's answer made this question moot meanwhile.
		return h.nextSurveyQuestion(ctx, s, p, q, answers)
	}
	if len(s.u.Attachments) > 0 {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("input.media")})
	}
	v, err := surveys.ParseAnswer(q, s.u.Text)
	var refused *surveys.AnswerError
	if errors.As(err, &refused) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.answerError(refused)})
	}
	if err != nil {
		return err
	}
	return h.saveSurveyAnswer(ctx, s, p, q, v, answers)
}

// answerError explains a refused answer; a limit is spoken of with plurals.
func (s *session) answerError(e *surveys.AnswerError) string {
	for i := 0; i+1 < len(e.Args); i += 2 {
		if n, ok := e.Args[i+1].(int); ok && e.Args[i] == "max" && e.Key == "survey.err.too_long" {
			return s.plural(e.Key, n)
		}
	}
	args := append([]any(nil), e.Args...)
	for i := 1; i < len(args); i += 2 {
		if bound, ok := args[i].(string); ok && s.lang == "ru" {
			args[i] = strings.Replace(bound, ".", ",", 1) // "0,5" in Russian
		}
	}
	return s.t(e.Key, args...)
}

// saveSurveyAnswer saves an answer as it is given and moves on.
func (h *Hub) saveSurveyAnswer(ctx context.Context, s *session, p surveyPlace, q surveys.Question, v string, answers map[string]string) error {
	err := h.Store.SaveSurveyAnswer(ctx, storage.SurveyAnswer{RunID: p.run.ID, OrgID: p.org.ID, QuestionID: q.ID, Value: v, PersonID: s.person.ID, At: h.Clock()})
	if errors.Is(err, storage.ErrClosed) {
		return h.surveyClosed(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("save survey answer: %w", err)
	}
	answers[q.ID] = v
	if p.target.SubmittedAt != nil && len(p.sv.Missing(answers)) > 0 {
		// A confirmed org whose correction opened a required question is
		// no longer counted as answered until it confirms again.
		if _, err := h.Store.ReopenSurvey(ctx, p.run.ID, p.org.ID, h.Clock()); err != nil && !errors.Is(err, storage.ErrClosed) {
			return fmt.Errorf("reopen survey: %w", err)
		}
	}
	return h.nextSurveyQuestion(ctx, s, p, q, answers)
}

func (h *Hub) nextSurveyQuestion(ctx context.Context, s *session, p surveyPlace, q surveys.Question, answers map[string]string) error {
	if next, ok := p.sv.Next(answers, p.sv.Index(q.ID), false); ok {
		return h.askSurvey(ctx, s, p, next, answers, nil)
	}
	return h.surveySummary(ctx, s, p, answers)
}

// toggleOption adds or removes an option of a multiple choice; the choice
// is kept in the conversation until Done saves it.
func (h *Hub) toggleOption(ctx context.Context, s *session, p surveyPlace, q surveys.Question, value string, answers map[string]string) error {
	i, err := strconv.Atoi(value)
	if q.Type != surveys.Multi || err != nil || i < 1 || i > len(q.Options) {
		return s.notice(ctx, "error.stale_button")
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	selected := c.Selected
	if c.Flow != flowSurvey || c.SurveyRun != p.run.ID || c.OrgID != p.org.ID || c.Question != q.ID {
		selected = splitChoice(answers[q.ID])
	}
	id := q.Options[i-1].ID
	if k := slices.Index(selected, id); k >= 0 {
		selected = slices.Delete(selected, k, k+1)
	} else {
		selected = append(selected, id)
	}
	return h.askSurvey(ctx, s, p, q, answers, selected)
}

// fitKeyboard keeps the first rows that fit VK's inline keyboard: six rows
// and ten buttons in all; the list above them names everything.
func fitKeyboard(kb bot.Keyboard) bot.Keyboard {
	buttons := 0
	for i, row := range kb {
		buttons += len(row)
		if i == bot.MaxKeyboardRows || buttons > bot.MaxButtons {
			return kb[:i]
		}
	}
	return kb
}

func splitChoice(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, ",")
}

// askSurvey shows question q with its buttons and remembers it as the one a
// typed answer is for. selected is the multiple choice being made (nil: the
// saved one).
func (h *Hub) askSurvey(ctx context.Context, s *session, p surveyPlace, q surveys.Question, answers map[string]string, selected []string) error {
	if selected == nil && q.Type == surveys.Multi {
		selected = splitChoice(answers[q.ID])
	}
	// The question stays current until the deadline: a person may answer
	// it days later.
	keep := max(conversationTTL, p.run.Deadline.Sub(s.hub.Clock()))
	if err := s.saveConversationFor(ctx, &conversation{Flow: flowSurvey, Step: stepQuestion, SurveyRun: p.run.ID, OrgID: p.org.ID, Question: q.ID, Selected: selected}, keep); err != nil {
		return err
	}
	n, total := 0, 0
	for _, x := range p.sv.Questions {
		if p.sv.Applies(x, answers) {
			total++
			if x.ID == q.ID {
				n = total
			}
		}
	}
	var text strings.Builder
	text.WriteString(s.t("survey.question", "Title", p.sv.Title.T(s.lang), "Org", p.org.Name, "N", n, "Total", total))
	text.WriteString("\n\n" + q.Text.T(s.lang))
	data := func(action, value string) string {
		d := fmt.Sprintf("%s:%s:%d:%d:%s", cbSurvey, action, p.run.ID, p.org.ID, q.ID)
		if value != "" {
			d += ":" + value
		}
		return d
	}
	var kb bot.Keyboard
	switch q.Type {
	case surveys.YesNo:
		kb = bot.Keyboard{{{Text: s.t("survey.yes"), Data: data("a", surveys.Yes)}, {Text: s.t("survey.no"), Data: data("a", surveys.No)}}}
	case surveys.Single, surveys.Multi:
		action := "a"
		if q.Type == surveys.Multi {
			action = "t"
			text.WriteString("\n" + s.t("survey.hint_multi"))
		}
		var row []bot.Button
		for i, o := range q.Options {
			mark := ""
			if slices.Contains(selected, o.ID) {
				mark = "✅ "
			}
			text.WriteString(fmt.Sprintf("\n%s%d. %s", mark, i+1, o.Text.T(s.lang)))
			row = append(row, bot.Button{Text: mark + strconv.Itoa(i+1), Data: data(action, strconv.Itoa(i+1))})
			if len(row) == bot.MaxButtonsPerRow || i == len(q.Options)-1 {
				kb, row = append(kb, row), nil
			}
		}
		if q.Type == surveys.Multi {
			kb = append(kb, []bot.Button{{Text: s.t("survey.button_done"), Data: data("d", "")}})
		}
	case surveys.Number:
		text.WriteString("\n" + s.t("survey.hint_number"))
		if unit := q.Unit.T(s.lang); unit != "" {
			text.WriteString(" " + s.t("survey.hint_unit", "Unit", unit))
		}
	case surveys.Date:
		text.WriteString("\n" + s.t("survey.hint_date"))
	case surveys.FreeText:
		text.WriteString("\n" + s.plural("survey.hint_text", q.MaxLen))
	}
	if v, ok := answers[q.ID]; ok {
		shown := snippet(surveys.Display(q, v, s.lang, s.yesNo), summaryAnswerRunes)
		if v == "" {
			shown = s.t("survey.skipped")
		}
		text.WriteString("\n\n" + s.t("survey.current", "Value", shown))
	}
	var nav []bot.Button
	if _, ok := p.sv.Prev(answers, p.sv.Index(q.ID)); ok {
		nav = append(nav, bot.Button{Text: s.t("survey.button_back"), Data: data("b", "")})
	}
	if !q.Required {
		nav = append(nav, bot.Button{Text: s.t("survey.button_skip"), Data: data("s", "")})
	}
	if _, ok := answers[q.ID]; ok {
		nav = append(nav, bot.Button{Text: s.t("survey.button_keep"), Data: data("k", "")})
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	return s.reply(ctx, text.String(), kb)
}

func (s *session) yesNo(yes bool) string {
	if yes {
		return s.t("survey.yes")
	}
	return s.t("survey.no")
}

// surveySummary lists the org's answers for a last look before confirming.
func (h *Hub) surveySummary(ctx context.Context, s *session, p surveyPlace, answers map[string]string) error {
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	heading := "survey.summary"
	if _, left := p.sv.Next(answers, -1, true); left {
		heading = "survey.so_far"
	}
	// Long answers are shortened here (they are stored whole), and a long
	// survey's summary goes in several messages, the buttons under the last.
	parts := []string{s.t(heading, "Title", p.sv.Title.T(s.lang), "Org", p.org.Name)}
	for _, q := range p.sv.Questions {
		if !p.sv.Applies(q, answers) {
			continue
		}
		v, given := answers[q.ID]
		shown := s.t("survey.skipped")
		switch {
		case !given:
			shown = s.t("survey.unanswered")
		case v != "":
			shown = snippet(surveys.Display(q, v, s.lang, s.yesNo), summaryAnswerRunes)
		}
		line := "\n• " + snippet(q.Text.T(s.lang), summaryQuestionRunes) + " — " + shown
		if last := len(parts) - 1; storage.UTF16Len(parts[last]+line) > summaryMessageUnits {
			parts = append(parts, strings.TrimPrefix(line, "\n"))
		} else {
			parts[last] += line
		}
	}
	data := func(a string) string { return fmt.Sprintf("%s:%s:%d:%d", cbSurvey, a, p.run.ID, p.org.ID) }
	kb := bot.Keyboard{
		{{Text: s.t("survey.button_confirm"), Data: data("ok")}},
		{{Text: s.t("survey.button_change"), Data: data("e")}},
	}
	if _, left := p.sv.Next(answers, -1, true); left {
		kb[0][0] = bot.Button{Text: s.t("survey.button_continue"), Data: data("c")}
	}
	if len(parts) == 1 {
		return s.reply(ctx, parts[0], kb)
	}
	if err := s.reply(ctx, parts[0], nil); err != nil {
		return err
	}
	for i, part := range parts[1:] {
		m := bot.Message{ChatID: s.u.Chat.ID, Text: part}
		if i == len(parts)-2 {
			m.Keyboard = kb
		}
		if err := s.send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// Bounds of the summary: what a person needs to recognise an answer, and
// one message's text with room to spare.
const (
	summaryQuestionRunes = 150
	summaryAnswerRunes   = 300
	summaryMessageUnits  = 3500
)

// submitSurvey confirms the org's answers once every required one is given.
func (h *Hub) submitSurvey(ctx context.Context, s *session, p surveyPlace, answers map[string]string) error {
	if missing := p.sv.Missing(answers); len(missing) > 0 {
		q, _ := p.sv.Question(missing[0])
		return h.askSurvey(ctx, s, p, q, answers, nil)
	}
	_, err := h.Store.SubmitSurvey(ctx, p.run.ID, p.org.ID, s.person.ID, h.Clock())
	if errors.Is(err, storage.ErrClosed) {
		return h.surveyClosed(ctx, s)
	}
	if err != nil {
		return fmt.Errorf("submit survey: %w", err)
	}
	return s.reply(ctx, s.t("survey.thanks", "Org", p.org.Name), s.mainMenu())
}

// cmdSurveys lists the open runs the person answers for, with a button to
// each; information workers and chairs of upper levels see the surveys they
// may start and follow.
func (h *Hub) cmdSurveys(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok || err != nil {
		return err
	}
	ms, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	runs, err := h.Store.OpenSurveyRuns(ctx)
	if err != nil {
		return fmt.Errorf("list open survey runs: %w", err)
	}
	var text strings.Builder
	var kb bot.Keyboard
	now, n := h.Clock(), 0
	for _, run := range runs {
		sv, ok := h.survey(run.SurveyID)
		if !ok || !now.Before(run.Deadline) {
			continue
		}
		listed := map[int64]bool{} // a chair who is also the information worker sees it once
		for _, m := range ms {
			if !slices.Contains(run.Roles, m.Role) || listed[m.Org.ID] {
				continue
			}
			listed[m.Org.ID] = true
			t, err := h.Store.SurveyTarget(ctx, run.ID, m.Org.ID)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("load survey target: %w", err)
			}
			status := s.t("survey.status_open")
			if t.SubmittedAt != nil {
				status = s.t("survey.status_done")
			}
			n++
			text.WriteString("\n" + s.t("survey.list_item", "N", n, "Title", sv.Title.T(s.lang), "Org", m.Org.Name,
				"Deadline", run.Deadline.In(zone(m.Org)).Format(scheduleLayout), "Status", status))
			if len(kb) < bot.MaxKeyboardRows-1 {
				kb = append(kb, []bot.Button{{Text: fmt.Sprintf("%d. %s", n, sv.Title.T(s.lang)), Data: fmt.Sprintf("%s:go:%d:%d", cbSurvey, run.ID, m.Org.ID)}})
			}
		}
	}
	desk, deskKB, err := h.surveyDesk(ctx, s, ms)
	if err != nil {
		return err
	}
	var out strings.Builder
	if len(kb) == 0 {
		out.WriteString(s.t("survey.none"))
	} else {
		out.WriteString(s.t("survey.list") + text.String())
	}
	if desk != "" {
		out.WriteString("\n\n" + s.t("survey.desk") + desk)
		kb = append(kb, deskKB...)
	}
	kb = fitKeyboard(kb)
	if len(kb) == 0 {
		return s.reply(ctx, out.String(), s.mainMenu())
	}
	return s.reply(ctx, out.String(), kb)
}
