package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// cbSurvey prefixes the buttons of survey conversations and of the survey
// desk.
const cbSurvey = "srv"

// surveyAction is what a survey button does.
type surveyAction string

// Actions of the survey conversation's buttons; those from surveyChoose on
// are about one question.
const (
	surveyGo       surveyAction = "go" // the invitation's button: the answers so far, or the first question
	surveyContinue surveyAction = "c"  // the first question not answered yet
	surveyConfirm  surveyAction = "ok"
	surveyChange   surveyAction = "e" // from the first question, to correct
	surveyChoose   surveyAction = "a" // a yes/no or single choice: Value
	surveyToggle   surveyAction = "t" // tick or untick option number Value of a multiple choice
	surveyDone     surveyAction = "d" // a multiple choice made
	surveySkip     surveyAction = "s" // skip an optional question
	surveyKeep     surveyAction = "k" // keep the answer given
	surveyBack     surveyAction = "b" // to the question before
)

// surveyButton is a button of an org's survey form:
// "srv:ACTION:RUN:ORG[:QUESTION[:VALUE]]". A button of a question still
// answers that question, even after a restart or days later.
type surveyButton struct {
	Action          surveyAction
	RunID, OrgID    int64
	Question, Value string
}

func (b surveyButton) data() string {
	f := []string{string(b.Action), idData(b.RunID), idData(b.OrgID)}
	if b.Question != "" {
		f = append(f, b.Question)
		if b.Value != "" {
			f = append(f, b.Value)
		}
	}
	return joinData(cbSurvey, f...)
}

func parseSurveyButton(data string) (surveyButton, bool) {
	for n := 3; n <= 5; n++ {
		f, ok := fieldsOf(data, cbSurvey, n)
		if !ok {
			continue
		}
		b := surveyButton{Action: surveyAction(f[0])}
		switch b.Action {
		case surveyGo, surveyContinue, surveyConfirm, surveyChange:
			ok = n == 3
		case surveyChoose, surveyToggle, surveyDone, surveySkip, surveyKeep, surveyBack:
			ok = n > 3 && f[3] != ""
		default:
			ok = false
		}
		var okRun, okOrg bool
		b.RunID, okRun = idField(f[1])
		b.OrgID, okOrg = idField(f[2])
		if n > 3 {
			b.Question = f[3]
		}
		if n > 4 {
			b.Value = f[4]
		}
		return b, ok && okRun && okOrg
	}
	return surveyButton{}, false
}

// openForm opens the org's answers to a run for the person; ok is false
// when they were already told why not.
func (h *Hub) openForm(ctx context.Context, s *session, runID, orgID int64) (monitoring.Form, bool, error) {
	if s.person == nil {
		return monitoring.Form{}, false, s.notice(ctx, "error.stale_button")
	}
	act, err := s.actor(ctx)
	if err != nil {
		return monitoring.Form{}, false, err
	}
	f, err := h.Monitoring.Open(ctx, act, runID, orgID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return f, false, s.notice(ctx, "error.stale_button")
	case errors.Is(err, storage.ErrClosed):
		return f, false, h.surveyClosed(ctx, s)
	case errors.Is(err, access.ErrForbidden):
		return f, false, s.notice(ctx, "error.not_allowed")
	case err != nil:
		return f, false, err
	}
	return f, true, nil
}

func (h *Hub) surveyClosed(ctx context.Context, s *session) error {
	if c, err := s.conversation(ctx); err == nil && c.Flow == flowSurvey {
		if err := s.endConversation(ctx); err != nil {
			return err
		}
	}
	return s.reply(ctx, s.t("survey.closed"), s.mainMenu(ctx))
}

// onSurveyButton takes every button of a survey and of the survey desk. A
// closed run refuses them all and changes nothing.
func (h *Hub) onSurveyButton(ctx context.Context, s *session) error {
	data := s.u.Callback.Data
	if b, ok := parseRunNowButton(data); ok {
		return h.onRunNowButton(ctx, s, b)
	}
	if b, ok := parseRunStatusButton(data); ok {
		return h.onRunStatusButton(ctx, s, b)
	}
	b, ok := parseSurveyButton(data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	f, ok, err := h.openForm(ctx, s, b.RunID, b.OrgID)
	if err != nil || !ok {
		return err
	}
	switch b.Action {
	case surveyGo:
		// Answers given so far, by this person or another responder of
		// the org, are shown first: one set of answers per org.
		if len(f.Answers) == 0 {
			if q, ok := f.Survey.Next(f.Answers, -1, true); ok {
				return h.askSurvey(ctx, s, f, q, nil)
			}
		}
		return h.surveySummary(ctx, s, f)
	case surveyContinue:
		if q, ok := f.Survey.Next(f.Answers, -1, true); ok {
			return h.askSurvey(ctx, s, f, q, nil)
		}
		return h.surveySummary(ctx, s, f)
	case surveyConfirm:
		return h.submitSurvey(ctx, s, f)
	case surveyChange:
		if q, ok := f.Survey.Next(f.Answers, -1, false); ok {
			return h.askSurvey(ctx, s, f, q, nil)
		}
		return s.notice(ctx, "error.stale_button")
	}
	q, ok := f.Survey.Question(b.Question)
	if !ok || !f.Survey.Applies(q, f.Answers) {
		return s.notice(ctx, "error.stale_button")
	}
	switch b.Action {
	case surveyChoose:
		if q.Type != surveys.YesNo && q.Type != surveys.Single {
			return s.notice(ctx, "error.stale_button")
		}
		next, err := h.Monitoring.Answer(ctx, f, q.ID, b.Value)
		var refused *surveys.AnswerError
		if errors.As(err, &refused) {
			return s.notice(ctx, "error.stale_button")
		}
		return h.answered(ctx, s, next, q, err)
	case surveyToggle:
		return h.toggleOption(ctx, s, f, q, b.Value)
	case surveyDone:
		c, err := s.conversation(ctx)
		if err != nil {
			return err
		}
		chosen := f.Answers[q.ID]
		if c.Flow == flowSurvey && c.SurveyRun == f.Run.ID && c.OrgID == f.Org.ID && c.Question == q.ID {
			chosen = strings.Join(c.Selected, ",")
		}
		next, err := h.Monitoring.Answer(ctx, f, q.ID, chosen)
		var refused *surveys.AnswerError
		if errors.As(err, &refused) {
			return s.notice(ctx, "survey.err.choose")
		}
		return h.answered(ctx, s, next, q, err)
	case surveySkip:
		next, err := h.Monitoring.Skip(ctx, f, q.ID)
		if errors.Is(err, monitoring.ErrRequired) {
			return s.notice(ctx, "survey.required")
		}
		return h.answered(ctx, s, next, q, err)
	case surveyKeep:
		return h.nextSurveyQuestion(ctx, s, f, q)
	default: // surveyBack
		prev, ok := f.Survey.Prev(f.Answers, f.Survey.Index(q.ID))
		if !ok {
			return s.notice(ctx, "error.stale_button")
		}
		return h.askSurvey(ctx, s, f, prev, nil)
	}
}

// surveyText takes a typed answer to the current question.
func (h *Hub) surveyText(ctx context.Context, s *session, c *conversation) error {
	f, ok, err := h.openForm(ctx, s, c.SurveyRun, c.OrgID)
	if err != nil || !ok {
		if err == nil { // refused and told why: typed text no longer goes here
			err = s.endConversation(ctx)
		}
		return err
	}
	q, ok := f.Survey.Question(c.Question)
	if !ok {
		return h.surveySummary(ctx, s, f)
	}
	if !f.Survey.Applies(q, f.Answers) {
		// Another responder's answer made this question moot meanwhile.
		return h.nextSurveyQuestion(ctx, s, f, q)
	}
	if len(s.u.Attachments) > 0 {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("input.media")})
	}
	next, err := h.Monitoring.Answer(ctx, f, q.ID, s.u.Text)
	var refused *surveys.AnswerError
	if errors.As(err, &refused) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.answerError(refused)})
	}
	return h.answered(ctx, s, next, q, err)
}

// answered moves on from question q once its answer is saved, or says why
// it was not.
func (h *Hub) answered(ctx context.Context, s *session, f monitoring.Form, q surveys.Question, err error) error {
	switch {
	case errors.Is(err, storage.ErrClosed):
		return h.surveyClosed(ctx, s)
	case errors.Is(err, monitoring.ErrNotAsked):
		return s.notice(ctx, "error.stale_button")
	case err != nil:
		return err
	}
	return h.nextSurveyQuestion(ctx, s, f, q)
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

func (h *Hub) nextSurveyQuestion(ctx context.Context, s *session, f monitoring.Form, q surveys.Question) error {
	if next, ok := f.Survey.Next(f.Answers, f.Survey.Index(q.ID), false); ok {
		return h.askSurvey(ctx, s, f, next, nil)
	}
	return h.surveySummary(ctx, s, f)
}

// toggleOption adds or removes an option of a multiple choice; the choice
// is kept in the conversation until Done saves it.
func (h *Hub) toggleOption(ctx context.Context, s *session, f monitoring.Form, q surveys.Question, value string) error {
	i, err := strconv.Atoi(value)
	if q.Type != surveys.Multi || err != nil || i < 1 || i > len(q.Options) {
		return s.notice(ctx, "error.stale_button")
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	selected := c.Selected
	if c.Flow != flowSurvey || c.SurveyRun != f.Run.ID || c.OrgID != f.Org.ID || c.Question != q.ID {
		selected = splitChoice(f.Answers[q.ID])
	}
	id := q.Options[i-1].ID
	if k := slices.Index(selected, id); k >= 0 {
		selected = slices.Delete(selected, k, k+1)
	} else {
		selected = append(selected, id)
	}
	return h.askSurvey(ctx, s, f, q, selected)
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
func (h *Hub) askSurvey(ctx context.Context, s *session, f monitoring.Form, q surveys.Question, selected []string) error {
	answers := f.Answers
	if selected == nil && q.Type == surveys.Multi {
		selected = splitChoice(answers[q.ID])
	}
	// The question stays current until the deadline: a person may answer
	// it days later.
	keep := max(conversationTTL, f.Run.Deadline.Sub(s.hub.Clock()))
	if err := s.saveConversationFor(ctx, &conversation{Flow: flowSurvey, Step: stepQuestion, SurveyRun: f.Run.ID, OrgID: f.Org.ID, Question: q.ID, Selected: selected}, keep); err != nil {
		return err
	}
	// Questions are numbered by their place in the survey, those a skip
	// rule leaves out counted as passed: the total and each question's
	// number stay the same whatever is answered, for every responder.
	var text strings.Builder
	text.WriteString(s.t("survey.question", "Title", f.Survey.Title.T(s.lang), "Org", f.Org.Name, "N", f.Survey.Index(q.ID)+1, "Total", len(f.Survey.Questions)))
	text.WriteString("\n\n" + q.Text.T(s.lang))
	data := func(action surveyAction, value string) string {
		return surveyButton{Action: action, RunID: f.Run.ID, OrgID: f.Org.ID, Question: q.ID, Value: value}.data()
	}
	var kb bot.Keyboard
	switch q.Type {
	case surveys.YesNo:
		kb = bot.Keyboard{{{Text: s.t("survey.yes"), Data: data(surveyChoose, surveys.Yes)}, {Text: s.t("survey.no"), Data: data(surveyChoose, surveys.No)}}}
	case surveys.Single, surveys.Multi:
		action := surveyChoose
		if q.Type == surveys.Multi {
			action = surveyToggle
			text.WriteString("\n" + s.t("survey.hint_multi"))
		}
		var row []bot.Button
		for i, o := range q.Options {
			mark := ""
			if slices.Contains(selected, o.ID) {
				mark = "✅ "
			}
			fmt.Fprintf(&text, "\n%s%d. %s", mark, i+1, o.Text.T(s.lang))
			row = append(row, bot.Button{Text: mark + strconv.Itoa(i+1), Data: data(action, strconv.Itoa(i+1))})
			if len(row) == bot.MaxButtonsPerRow || i == len(q.Options)-1 {
				kb, row = append(kb, row), nil
			}
		}
		if q.Type == surveys.Multi {
			kb = append(kb, []bot.Button{{Text: s.t("survey.button_done"), Data: data(surveyDone, "")}})
		}
	case surveys.Number:
		hint := "survey.hint_number"
		if q.Integer {
			hint = "survey.hint_integer"
		}
		text.WriteString("\n" + s.t(hint))
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
	if _, ok := f.Survey.Prev(answers, f.Survey.Index(q.ID)); ok {
		nav = append(nav, bot.Button{Text: s.t("survey.button_back"), Data: data(surveyBack, "")})
	}
	if !q.Required {
		nav = append(nav, bot.Button{Text: s.t("survey.button_skip"), Data: data(surveySkip, "")})
	}
	if _, ok := answers[q.ID]; ok {
		nav = append(nav, bot.Button{Text: s.t("survey.button_keep"), Data: data(surveyKeep, "")})
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
func (h *Hub) surveySummary(ctx context.Context, s *session, f monitoring.Form) error {
	answers := f.Answers
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	heading := "survey.summary"
	if _, left := f.Survey.Next(answers, -1, true); left {
		heading = "survey.so_far"
	}
	// Long answers are shortened here (they are stored whole), and a long
	// survey's summary goes in several messages, the buttons under the last.
	parts := []string{s.t(heading, "Title", f.Survey.Title.T(s.lang), "Org", f.Org.Name)}
	for _, q := range f.Survey.Questions {
		if !f.Survey.Applies(q, answers) {
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
	data := func(a surveyAction) string { return surveyButton{Action: a, RunID: f.Run.ID, OrgID: f.Org.ID}.data() }
	kb := bot.Keyboard{
		{{Text: s.t("survey.button_confirm"), Data: data(surveyConfirm)}},
		{{Text: s.t("survey.button_change"), Data: data(surveyChange)}},
	}
	if _, left := f.Survey.Next(answers, -1, true); left {
		kb[0][0] = bot.Button{Text: s.t("survey.button_continue"), Data: data(surveyContinue)}
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

// submitSurvey confirms the org's answers once every required one is
// given; else it asks the first one missing.
func (h *Hub) submitSurvey(ctx context.Context, s *session, f monitoring.Form) error {
	_, err := h.Monitoring.Submit(ctx, f)
	var missing *monitoring.MissingError
	switch {
	case errors.As(err, &missing):
		q, _ := f.Survey.Question(missing.Questions[0])
		return h.askSurvey(ctx, s, f, q, nil)
	case errors.Is(err, storage.ErrClosed):
		return h.surveyClosed(ctx, s)
	case err != nil:
		return err
	}
	return s.reply(ctx, s.t("survey.thanks", "Org", f.Org.Name), s.mainMenu(ctx))
}

// cmdSurveys lists the open runs the person answers for, with a button to
// each; information workers and chairs of upper levels see the surveys they
// may start and follow.
func (h *Hub) cmdSurveys(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok || err != nil {
		return err
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	open, err := h.Monitoring.Assignments(ctx, act)
	if err != nil {
		return err
	}
	var text strings.Builder
	var kb bot.Keyboard
	for i, a := range open {
		status := s.t("survey.status_open")
		if a.Submitted {
			status = s.t("survey.status_done")
		}
		n := i + 1
		text.WriteString("\n" + s.t("survey.list_item", "N", n, "Title", a.Survey.Title.T(s.lang), "Org", a.Org.Name,
			"Deadline", a.Run.Deadline.In(zone(a.Org)).Format(scheduleLayout), "Status", status))
		if len(kb) < bot.MaxKeyboardRows-1 {
			kb = append(kb, []bot.Button{{Text: fmt.Sprintf("%d. %s", n, a.Survey.Title.T(s.lang)),
				Data: surveyButton{Action: surveyGo, RunID: a.Run.ID, OrgID: a.Org.ID}.data()}})
		}
	}
	desk, deskKB, err := h.surveyDesk(ctx, s, act)
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
		return s.reply(ctx, out.String(), s.mainMenu(ctx))
	}
	return s.reply(ctx, out.String(), kb)
}
