package surveys

import (
	"maps"
	"slices"
	"testing"
)

// navSurvey: q2 only after q1=yes, q3 only after q2=yes (a chain), q4
// optional, q6 only when y is among q5's choices.
const navYAML = `id: nav
title: {ru: Навигация}
questions:
  - {id: q1, type: yes_no, required: true, text: {ru: Один}, indicator: infoworker}
  - {id: q2, type: yes_no, required: true, text: {ru: Два}, if: {question: q1, equals: "yes"}, indicator: infoworker_trained}
  - id: q3
    type: single
    required: true
    text: {ru: Три}
    if: {question: q2, equals: "yes"}
    options: [{id: a, text: {ru: А}}, {id: b, text: {ru: Б}}]
  - {id: q4, type: number, text: {ru: Четыре}, indicator: members}
  - id: q5
    type: multi
    required: true
    text: {ru: Пять}
    options: [{id: x, text: {ru: Икс}}, {id: y, text: {ru: Игрек}}]
  - {id: q6, type: text, required: true, text: {ru: Шесть}, if: {question: q5, equals: "y"}}
`

func navSurvey(t *testing.T) Survey {
	t.Helper()
	s, err := Parse("nav.yaml", []byte(navYAML))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestApplies(t *testing.T) {
	t.Parallel()
	s := navSurvey(t)
	tests := []struct {
		q       string
		answers map[string]string
		want    bool
	}{
		{"q1", nil, true},
		{"q2", nil, false},
		{"q2", map[string]string{"q1": Yes}, true},
		{"q2", map[string]string{"q1": No}, false},
		{"q3", map[string]string{"q1": Yes, "q2": Yes}, true},
		// q1 changed to no: q2's stale yes no longer opens q3.
		{"q3", map[string]string{"q1": No, "q2": Yes}, false},
		{"q3", map[string]string{"q1": Yes, "q2": ""}, false},
		{"q6", map[string]string{"q5": "x,y"}, true},
		{"q6", map[string]string{"q5": "x"}, false},
	}
	for _, tc := range tests {
		q, _ := s.Question(tc.q)
		if got := s.Applies(q, tc.answers); got != tc.want {
			t.Errorf("Applies(%s, %v) = %v, want %v", tc.q, tc.answers, got, tc.want)
		}
	}
}

func TestNextPrev(t *testing.T) {
	t.Parallel()
	s := navSurvey(t)
	type step struct {
		answers        map[string]string
		pos            int
		onlyUnanswered bool
		want           string // "" for none
	}
	next := []step{
		{nil, -1, false, "q1"},
		{map[string]string{"q1": No}, s.Index("q1"), false, "q4"},
		{map[string]string{"q1": Yes}, s.Index("q1"), false, "q2"},
		{map[string]string{"q1": Yes, "q2": Yes, "q3": "a"}, -1, true, "q4"},
		// q4 skipped: stored empty, not asked again on resume.
		{map[string]string{"q1": Yes, "q2": Yes, "q3": "a", "q4": ""}, -1, true, "q5"},
		{map[string]string{"q1": No, "q4": "3", "q5": "x"}, -1, true, ""},
		{map[string]string{"q5": "y"}, s.Index("q5"), false, "q6"},
		{map[string]string{"q5": "x"}, s.Index("q5"), false, ""},
		{nil, -5, false, "q1"},
	}
	for _, tc := range next {
		q, ok := s.Next(tc.answers, tc.pos, tc.onlyUnanswered)
		if q.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("Next(%v, %d, %v) = %q, %v; want %q", tc.answers, tc.pos, tc.onlyUnanswered, q.ID, ok, tc.want)
		}
	}
	prev := []step{
		{map[string]string{"q1": No}, s.Index("q4"), false, "q1"},
		{map[string]string{"q1": Yes, "q2": Yes}, s.Index("q4"), false, "q3"},
		{nil, 0, false, ""},
		{map[string]string{"q5": "x"}, 100, false, "q5"},
	}
	for _, tc := range prev {
		q, ok := s.Prev(tc.answers, tc.pos)
		if q.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("Prev(%v, %d) = %q, %v; want %q", tc.answers, tc.pos, q.ID, ok, tc.want)
		}
	}
}

func TestMissing(t *testing.T) {
	t.Parallel()
	s := navSurvey(t)
	tests := []struct {
		answers map[string]string
		want    []string
	}{
		{nil, []string{"q1", "q5"}},
		{map[string]string{"q1": Yes}, []string{"q2", "q5"}},
		{map[string]string{"q1": Yes, "q2": Yes, "q3": "a", "q5": "x,y"}, []string{"q6"}},
		// Changing q1 to no hides q2 and q3; q4 is optional.
		{map[string]string{"q1": No, "q2": Yes, "q5": "x"}, nil},
		{map[string]string{"q1": No, "q5": ""}, []string{"q5"}},
	}
	for _, tc := range tests {
		if got := s.Missing(tc.answers); !slices.Equal(got, tc.want) {
			t.Errorf("Missing(%v) = %v, want %v", tc.answers, got, tc.want)
		}
	}
}

func TestRelevantAnswers(t *testing.T) {
	t.Parallel()
	s := navSurvey(t)
	answers := map[string]string{"q1": No, "q2": Yes, "q3": "a", "q4": "", "q5": "x", "q6": "stale", "zz": "unknown"}
	if got, want := s.Relevant(answers), map[string]string{"q1": No, "q5": "x"}; !mapsEqual(got, want) {
		t.Errorf("Relevant = %v, want %v", got, want)
	}
	answers["q4"] = "40"
	if got, want := s.IndicatorAnswers(answers), map[string]string{IndInfoworker: No, IndMembers: "40"}; !mapsEqual(got, want) {
		t.Errorf("IndicatorAnswers = %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestIndicatorQuestions(t *testing.T) {
	t.Parallel()
	q := func(id, indicator, after string) Question {
		out := Question{ID: id, Type: YesNo, Indicator: indicator}
		if after != "" {
			out.If = &Condition{Question: after, Equals: Yes}
		}
		return out
	}
	s := Survey{Questions: []Question{
		q("a", "", ""), q("b", "", "a"), q("c", IndBoard, "b"), // a chain behind an indicator
		q("d", "", ""), q("e", IndChats, ""), q("f", "", "e"), // no indicator behind, none before
		q("g", IndWebsite, "c"), q("h", "", "missing"), q("i", IndPlan, "h"),
	}}
	if got, want := s.IndicatorQuestions(), []string{"a", "b", "c", "e", "g", "h", "i"}; !slices.Equal(got, want) {
		t.Errorf("indicator questions %q, want %q", got, want)
	}
	// A cycle (no file parses to one) ends.
	cycle := Survey{Questions: []Question{q("x", IndChats, "y"), q("y", "", "x")}}
	if got := cycle.IndicatorQuestions(); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("a cycle's questions %q", got)
	}
	for _, sv := range Builtin() {
		answers := map[string]string{}
		for _, q := range sv.Questions {
			answers[q.ID] = Yes
		}
		kept := map[string]string{}
		for _, id := range sv.IndicatorQuestions() {
			kept[id] = answers[id]
		}
		if got, want := sv.IndicatorAnswers(kept), sv.IndicatorAnswers(answers); !maps.Equal(got, want) {
			t.Errorf("%s: the indicator questions alone give %v, every answer %v", sv.ID, got, want)
		}
	}
}

func TestQuestionIndex(t *testing.T) {
	t.Parallel()
	s := navSurvey(t)
	if s.Index("q3") != 2 || s.Index("nope") != -1 {
		t.Errorf("Index = %d, %d", s.Index("q3"), s.Index("nope"))
	}
	if q, ok := s.Question("q4"); !ok || q.Type != Number {
		t.Errorf("Question(q4) = %+v, %v", q, ok)
	}
	if _, ok := s.Question("nope"); ok {
		t.Error("Question(nope) found")
	}
}

func TestJobName(t *testing.T) {
	t.Parallel()
	if got := JobName("annual", "default"); got != "survey:annual:default" {
		t.Errorf("JobName = %q", got)
	}
	for job, want := range map[string][2]string{
		"survey:annual:default": {"annual", "default"},
		"survey:annual":         {},
		"survey::x":             {},
		"digest:weekly":         {},
	} {
		id, name, ok := ParseJobName(job)
		if ok != (want[0] != "") || id != want[0] || name != want[1] {
			t.Errorf("ParseJobName(%q) = %q, %q, %v", job, id, name, ok)
		}
	}
}

func TestTextFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t          Text
		lang, want string
	}{
		{Text{"ru": "Да", "en": "Yes"}, "en", "Yes"},
		{Text{"ru": "Да"}, "en", "Да"},
		{Text{"ru": "Да", "en": ""}, "en", "Да"},
		{Text{"en": "Yes", "de": "Ja"}, "fr", "Ja"},
		{nil, "ru", ""},
	}
	for _, tc := range tests {
		if got := tc.t.T(tc.lang); got != tc.want {
			t.Errorf("%v.T(%s) = %q, want %q", tc.t, tc.lang, got, tc.want)
		}
	}
}
