// Package surveys holds the programme's monitoring surveys: their questions,
// skip rules and schedules read from YAML files, the rules for accepting an
// answer, and the evaluation of the programme's norms from the answers.
// It is pure: no database, no network, no clock.
package surveys

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Type is the kind of answer a question takes.
type Type string

// Question types.
const (
	YesNo    Type = "yes_no"
	Number   Type = "number"
	Single   Type = "single"
	Multi    Type = "multi"
	FreeText Type = "text"
	Date     Type = "date"
)

var types = []Type{YesNo, Number, Single, Multi, FreeText, Date}

// Stored values of a yes_no answer.
const (
	Yes = "yes"
	No  = "no"
)

// Text is a text per language ("ru", "en").
type Text map[string]string

// T returns the text in lang, falling back to Russian, then to any language.
func (t Text) T(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	if s := t["ru"]; s != "" {
		return s
	}
	// Sorted so that the fallback does not change from call to call.
	langs := make([]string, 0, len(t))
	for l, s := range t {
		if s != "" {
			langs = append(langs, l)
		}
	}
	if len(langs) == 0 {
		return ""
	}
	sort.Strings(langs)
	return t[langs[0]]
}

// Option is one choice of a single or multi question.
type Option struct {
	ID   string
	Text Text
}

// Condition asks a question only if the answer to Question equals Equals
// (yes_no: "yes"/"no"; single: an option id; multi: the option id is among
// the chosen).
type Condition struct {
	Question string
	Equals   string
}

// Question is one question of a survey.
type Question struct {
	ID       string
	Type     Type
	Text     Text
	Required bool
	Min, Max *float64 // number bounds (inclusive), optional
	Unit     Text     // number unit, optional ("экз.", "%")
	// Integer refuses fractions, for counts such as members or copies.
	Integer bool
	Options []Option // single/multi
	MaxLen  int      // text: max characters (runes); DefaultMaxLen when 0 in the file
	If      *Condition
	// Indicator is which indicator this answer feeds, "" none; one of Indicators.
	Indicator string
}

// Option returns the option with the given id.
func (q Question) Option(id string) (Option, bool) {
	for _, o := range q.Options {
		if o.ID == id {
			return o, true
		}
	}
	return Option{}, false
}

// Schedule is when a survey is sent, to whom, and for how long it stays open.
type Schedule struct {
	// Name is unique within the survey, default "default"; see JobName.
	Name string
	// Cron is a standard 5-field spec, interpreted in the org's time zone by the caller.
	Cron string
	// Org is the code of the subtree root the audience is taken from ("" = the
	// tree's first root org, the Union).
	Org string
	// OrgLine is the line of Org in the survey's Source, for a code found
	// missing from the tree only once the database is open.
	OrgLine int
	// Levels answer the survey (default [primary]).
	Levels []storage.Level
	// Roles answer for an org (default [infoworker, chair]).
	Roles []storage.Role
	// Deadline is the answer window from firing.
	Deadline time.Duration
	// Reminders go, after firing, to those not finished; each < Deadline, increasing.
	Reminders []time.Duration
	// Results lists who sees the results (default [chair, infoworker]).
	Results []storage.Role
}

// Survey is one survey file.
type Survey struct {
	ID        string
	Title     Text
	Questions []Question
	Schedules []Schedule
	Source    string // file name

	line int // of the id, for duplicate reports across files
}

// JobName is the scheduler's name of a survey's schedule.
func JobName(surveyID, schedule string) string {
	return "survey:" + surveyID + ":" + schedule
}

// ParseJobName splits a JobName; ok is false for other jobs.
func ParseJobName(job string) (surveyID, schedule string, ok bool) {
	rest, found := strings.CutPrefix(job, "survey:")
	if !found {
		return "", "", false
	}
	surveyID, schedule, ok = strings.Cut(rest, ":")
	if !ok || surveyID == "" || schedule == "" {
		return "", "", false
	}
	return surveyID, schedule, true
}

// Question returns the question with the given id.
func (s Survey) Question(id string) (Question, bool) {
	if i := s.Index(id); i >= 0 {
		return s.Questions[i], true
	}
	return Question{}, false
}

// Index returns the position of question id, -1 if none.
func (s Survey) Index(id string) int {
	return slices.IndexFunc(s.Questions, func(q Question) bool { return q.ID == id })
}

// Applies reports whether q is asked given the answers so far (question id ->
// stored value). A question whose condition refers to a question that does not
// apply itself does not apply either, so a changed answer hides a whole chain.
func (s Survey) Applies(q Question, answers map[string]string) bool {
	// Parse lets conditions refer only to earlier questions, so this ends;
	// the bound guards against hand-built surveys with a cycle.
	for range len(s.Questions) + 1 {
		if q.If == nil {
			return true
		}
		ref, ok := s.Question(q.If.Question)
		if !ok || !matches(ref, answers[ref.ID], q.If.Equals) {
			return false
		}
		q = ref
	}
	return false
}

func matches(ref Question, value, equals string) bool {
	if value == "" {
		return false
	}
	if ref.Type == Multi {
		return slices.Contains(strings.Split(value, ","), equals)
	}
	return value == equals
}

// Next returns the first question after position after (-1 = from the start)
// that applies and, if onlyUnanswered, has no answer yet; ok is false when
// none is left. A question counts as answered when its id is in answers, even
// with an empty value: store "" for a skipped optional question so that a
// resumed survey does not ask it again.
func (s Survey) Next(answers map[string]string, after int, onlyUnanswered bool) (Question, bool) {
	for i := max(after+1, 0); i < len(s.Questions); i++ {
		q := s.Questions[i]
		if !s.Applies(q, answers) {
			continue
		}
		if _, answered := answers[q.ID]; onlyUnanswered && answered {
			continue
		}
		return q, true
	}
	return Question{}, false
}

// Prev returns the applicable question before position before, ok=false at the start.
func (s Survey) Prev(answers map[string]string, before int) (Question, bool) {
	for i := min(before, len(s.Questions)) - 1; i >= 0; i-- {
		if q := s.Questions[i]; s.Applies(q, answers) {
			return q, true
		}
	}
	return Question{}, false
}

// Missing lists the ids of required applicable questions without a non-empty answer.
func (s Survey) Missing(answers map[string]string) []string {
	var ids []string
	for _, q := range s.Questions {
		if q.Required && answers[q.ID] == "" && s.Applies(q, answers) {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

// Relevant returns the non-empty answers of the questions that apply: answers
// left behind by a changed earlier answer are dropped, so they never reach a report.
func (s Survey) Relevant(answers map[string]string) map[string]string {
	out := map[string]string{}
	for _, q := range s.Questions {
		if v := answers[q.ID]; v != "" && s.Applies(q, answers) {
			out[q.ID] = v
		}
	}
	return out
}

// IndicatorQuestions are the ids of the questions IndicatorAnswers reads,
// in the survey's order: those that feed an indicator, and those their
// skip rules depend on, however far back.
func (s Survey) IndicatorQuestions() []string {
	needed := map[string]bool{}
	for _, q := range s.Questions {
		if q.Indicator == "" {
			continue
		}
		// A question marked already had its chain walked, or closes a
		// hand-built cycle.
		for !needed[q.ID] {
			needed[q.ID] = true
			if q.If == nil {
				break
			}
			ref, ok := s.Question(q.If.Question)
			if !ok {
				break
			}
			q = ref
		}
	}
	var ids []string
	for _, q := range s.Questions {
		if needed[q.ID] {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

// IndicatorAnswers maps the relevant answers onto the indicators their
// questions feed: the Facts.Answers of Evaluate.
func (s Survey) IndicatorAnswers(answers map[string]string) map[string]string {
	out := map[string]string{}
	rel := s.Relevant(answers)
	for _, q := range s.Questions {
		if v := rel[q.ID]; v != "" && q.Indicator != "" {
			out[q.Indicator] = v
		}
	}
	return out
}
