package surveys

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// header takes lines 1-3, so the first question starts on line 4.
const header = "id: t\ntitle: {ru: Т}\nquestions:\n"

// q1 is a valid question on lines 4-6.
const q1 = "  - id: q1\n    type: yes_no\n    text: {ru: А}\n"

func TestParseRejects(t *testing.T) {
	t.Parallel()
	q2 := func(extra string) string { // lines 7-9, then extra from line 10
		return "  - id: q2\n    type: yes_no\n    text: {ru: Б}\n" + extra
	}
	single := "  - id: q1\n    type: single\n    text: {ru: А}\n    options:\n" +
		"      - {id: a, text: {ru: A}}\n      - {id: b, text: {ru: B}}\n" // lines 4-9
	sched := func(lines string) string { return header + q1 + "schedules:\n" + lines } // schedule from line 8
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", "", "x.yaml:1: empty file"},
		{"syntax", "id: [\n", "x.yaml:1: did not find expected node content"},
		{"unclosed quote", "id: t\ntitle: \"abc\n", "x.yaml:2: found unexpected end of stream"},
		{"two documents", header + q1 + "---\nid: u\n", "x.yaml:7: a second document"},
		{"not a mapping", "- a\n", "x.yaml:1: a survey must be a mapping"},
		{"unknown survey field", "id: t\ntitle: {ru: Т}\ncolour: red\nquestions:\n" + q1, `x.yaml:3: unknown field "colour" in a survey`},
		{"field twice", "id: t\nid: u\ntitle: {ru: Т}\nquestions:\n" + q1, `x.yaml:2: field "id" is given twice`},
		{"unknown question field", header + q1 + "    colour: red\n", `x.yaml:7: question "q1": unknown field "colour" in a question`},
		{"missing survey id", "title: {ru: Т}\nquestions:\n" + q1, "x.yaml:1: missing survey id"},
		{"bad survey id", "id: Annual Survey\ntitle: {ru: Т}\nquestions:\n" + q1, `x.yaml:1: survey id "Annual Survey" must be 1 to 40 characters`},
		{"long survey id", "id: " + strings.Repeat("a", 41) + "\ntitle: {ru: Т}\nquestions:\n" + q1, "x.yaml:1: survey id"},
		{"no questions", "id: t\ntitle: {ru: Т}\n", "x.yaml:1: no questions"},
		{"empty questions", header[:len(header)-1] + " []\n", "x.yaml:3: no questions"},
		{"questions not a list", "id: t\ntitle: {ru: Т}\nquestions: q1\n", "x.yaml:3: questions must be a list"},
		{"missing title", "id: t\nquestions:\n" + q1, "x.yaml:1: missing title"},
		{"title without ru", "id: t\ntitle: {en: T}\nquestions:\n" + q1, "x.yaml:2: title needs a ru text"},
		{"text without ru", header + "  - id: q1\n    type: yes_no\n    text: {en: A}\n", `x.yaml:6: question "q1": text needs a ru text`},
		{"empty ru", header + "  - id: q1\n    type: yes_no\n    text: {ru: \"  \"}\n", `x.yaml:6: question "q1": text.ru is empty`},
		{"text not a mapping", header + "  - id: q1\n    type: yes_no\n    text: А\n", `x.yaml:6: question "q1": text must be a mapping of language to text`},
		{"bad language", header + "  - id: q1\n    type: yes_no\n    text: {ru: А, Russian: B}\n", `x.yaml:6: question "q1": text: "Russian" is not a language code`},
		{"missing text", header + "  - id: q1\n    type: yes_no\n", `x.yaml:4: question "q1": missing text`},
		{"missing question id", header + "  - type: yes_no\n    text: {ru: А}\n", "x.yaml:4: question 1: missing id"},
		{"bad question id", header + "  - id: Q 1\n    type: yes_no\n    text: {ru: А}\n", `x.yaml:4: question 1: id "Q 1" must be`},
		{"duplicate question id", header + q1 + q1, `x.yaml:7: duplicate question id "q1" (also at line 4)`},
		{"unknown type", header + "  - id: q3\n    type: slider\n    text: {ru: А}\n", `x.yaml:5: question "q3": unknown type "slider"`},
		{"missing type", header + "  - id: q1\n    text: {ru: А}\n", `x.yaml:4: question "q1": missing type`},
		{"required not bool", header + q1 + "    required: maybe\n", `x.yaml:7: question "q1": required must be true or false`},
		{"options missing", header + "  - id: q1\n    type: single\n    text: {ru: А}\n", `x.yaml:4: question "q1": a single question needs options`},
		{"options missing multi", header + "  - id: q1\n    type: multi\n    text: {ru: А}\n", `x.yaml:4: question "q1": a multi question needs options`},
		{"options on yes_no", header + q1 + "    options: [{id: a, text: {ru: A}}, {id: b, text: {ru: B}}]\n", `x.yaml:7: question "q1": options is only for single, multi questions, not yes_no`},
		{"one option", header + "  - id: q1\n    type: single\n    text: {ru: А}\n    options: [{id: a, text: {ru: A}}]\n", `x.yaml:7: question "q1": 1 options: between 2 and 6`},
		{"seven options", header + "  - id: q1\n    type: multi\n    text: {ru: А}\n    options: [{id: a, text: {ru: A}}, {id: b, text: {ru: B}}, {id: c, text: {ru: C}}, {id: d, text: {ru: D}}, {id: e, text: {ru: E}}, {id: f, text: {ru: F}}, {id: g, text: {ru: G}}]\n", `x.yaml:7: question "q1": 7 options: between 2 and 6`},
		{"duplicate option id", header + "  - id: q1\n    type: single\n    text: {ru: А}\n    options:\n      - {id: a, text: {ru: A}}\n      - {id: a, text: {ru: B}}\n",
			`x.yaml:9: question "q1": option "a": duplicate option id (also at line 8)`},
		{"numeric option id", header + "  - id: q1\n    type: single\n    text: {ru: А}\n    options:\n      - {id: a, text: {ru: A}}\n      - {id: 2, text: {ru: B}}\n",
			`x.yaml:9: question "q1": option "2": an option id needs a letter`},
		{"option text too long", header + "  - id: q1\n    type: single\n    text: {ru: А}\n    options:\n      - {id: a, text: {ru: A}}\n      - {id: b, text: {ru: " + strings.Repeat("ж", 41) + "}}\n",
			`x.yaml:9: question "q1": option "b": text.ru is longer than 40 characters`},
		{"unknown option field", header + "  - id: q1\n    type: single\n    text: {ru: А}\n    options:\n      - {id: a, text: {ru: A}, value: 1}\n      - {id: b, text: {ru: B}}\n",
			`x.yaml:8: question "q1": option "a": unknown field "value" in an option`},
		{"min > max", header + "  - id: q1\n    type: number\n    text: {ru: А}\n    min: 10\n    max: 5\n", `x.yaml:7: question "q1": min 10 is greater than max 5`},
		{"min not a number", header + "  - id: q1\n    type: number\n    text: {ru: А}\n    min: ten\n", `x.yaml:7: question "q1": min must be a number`},
		{"min infinite", header + "  - id: q1\n    type: number\n    text: {ru: А}\n    min: .inf\n", `x.yaml:7: question "q1": min must be a number`},
		{"min on yes_no", header + q1 + "    min: 1\n", `x.yaml:7: question "q1": min is only for number questions, not yes_no`},
		{"unit on text", header + "  - id: q1\n    type: text\n    text: {ru: А}\n    unit: {ru: шт.}\n", `x.yaml:7: question "q1": unit is only for number questions`},
		{"max_len on yes_no", header + q1 + "    max_len: 10\n", `x.yaml:7: question "q1": max_len is only for text questions`},
		{"max_len zero", header + "  - id: q1\n    type: text\n    text: {ru: А}\n    max_len: 0\n", `x.yaml:7: question "q1": max_len must be a whole number from 1 to 4000`},
		{"max_len huge", header + "  - id: q1\n    type: text\n    text: {ru: А}\n    max_len: 5000\n", `x.yaml:7: question "q1": max_len must be`},
		{"skip to missing question", header + q1 + q2("    if: {question: nope, equals: \"yes\"}\n"), `x.yaml:10: question "q2": if: unknown question "nope"`},
		{"skip to later question", header + q1 + "    if: {question: q2, equals: \"yes\"}\n" + q2(""), `x.yaml:7: question "q1": if: question "q2" is not earlier`},
		{"skip to itself", header + q1 + "    if: {question: q1, equals: \"yes\"}\n", `x.yaml:7: question "q1": if: question "q1" is not earlier`},
		{"skip without equals", header + q1 + q2("    if: {question: q1}\n"), `x.yaml:10: question "q2": if: missing equals`},
		{"unknown if field", header + q1 + q2("    if: {question: q1, equals: \"yes\", not: true}\n"), `x.yaml:10: question "q2": unknown field "not" in if`},
		{"equals not yes/no", header + q1 + q2("    if: {question: q1, equals: maybe}\n"), `x.yaml:10: question "q2": if: equals "maybe" must be yes or no`},
		{"equals bool", header + q1 + q2("    if: {question: q1, equals: true}\n"), `if: equals "true" must be yes or no`},
		{"equals not an option", header + single +
			"  - id: q2\n    type: yes_no\n    text: {ru: Б}\n    if: {question: q1, equals: c}\n", `x.yaml:13: question "q2": if: equals "c" is not an option of question "q1"`},
		{"condition on a number", header + "  - id: q1\n    type: number\n    text: {ru: А}\n" + q2("    if: {question: q1, equals: \"5\"}\n"),
			`x.yaml:10: question "q2": if: question "q1" is number; a condition needs a yes_no, single or multi question`},
		{"unknown indicator", header + q1 + "    indicator: happiness\n", `x.yaml:7: question "q1": unknown indicator "happiness"`},
		{"yes_no indicator on number", header + "  - id: q1\n    type: number\n    text: {ru: А}\n    indicator: chats\n", `x.yaml:7: question "q1": indicator "chats" needs a yes_no question, not number`},
		{"number indicator on yes_no", header + q1 + "    indicator: budget_share\n", `x.yaml:7: question "q1": indicator "budget_share" needs a number question, not yes_no`},
		{"indicator twice", header + q1 + "    indicator: chats\n" + "  - id: q2\n    type: yes_no\n    text: {ru: Б}\n    indicator: chats\n",
			`x.yaml:8: question "q2": indicator "chats" is already fed by question "q1"`},
		{"invalid cron", sched("  - cron: \"61 10 * * *\"\n    deadline: 30d\n"), `x.yaml:8: schedule "default": invalid cron "61 10 * * *"`},
		{"cron with seconds", sched("  - cron: \"0 0 10 * * *\"\n    deadline: 30d\n"), `x.yaml:8: schedule "default": cron "0 0 10 * * *" must have 5 fields`},
		{"cron with a time zone", sched("  - cron: \"TZ=UTC 0 10 * * *\"\n    deadline: 30d\n"), `x.yaml:8: schedule "default": cron`},
		{"cron descriptor", sched("  - cron: \"@every 1h\"\n    deadline: 30d\n"), `x.yaml:8: schedule "default": cron "@every 1h" must have 5 fields`},
		{"missing cron", sched("  - deadline: 30d\n"), `x.yaml:8: schedule "default": missing cron`},
		{"bad schedule name", sched("  - name: Main Run\n    cron: \"0 10 * * *\"\n    deadline: 30d\n"), `x.yaml:8: schedule: name "Main Run" must be`},
		{"duplicate schedule", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n  - cron: \"0 11 * * *\"\n    deadline: 30d\n"), `x.yaml:10: duplicate schedule name "default" (also at line 8)`},
		{"unknown schedule field", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    when: now\n"), `x.yaml:10: schedule "default": unknown field "when" in a schedule`},
		{"bad duration", sched("  - cron: \"0 10 * * *\"\n    deadline: 2w\n"), `x.yaml:9: schedule "default": deadline: bad duration "2w"`},
		{"negative duration", sched("  - cron: \"0 10 * * *\"\n    deadline: -1d\n"), `x.yaml:9: schedule "default": deadline: bad duration "-1d"`},
		{"zero deadline", sched("  - cron: \"0 10 * * *\"\n    deadline: 0d\n"), `x.yaml:9: schedule "default": deadline "0d" must be longer than zero`},
		{"deadline of years", sched("  - cron: \"0 10 * * *\"\n    deadline: 400d\n"), `x.yaml:9: schedule "default": deadline "400d" is longer than a year`},
		{"missing deadline", sched("  - cron: \"0 10 * * *\"\n"), `x.yaml:8: schedule "default": missing deadline`},
		{"reminder at deadline", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    reminders: [7d, 30d]\n"), `x.yaml:10: schedule "default": reminder 30d is not before the deadline 30d`},
		{"reminders not increasing", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    reminders:\n      - 7d\n      - 5d\n"), `x.yaml:12: schedule "default": reminder 5d does not come after the one before it`},
		{"bad reminder", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    reminders: [soon]\n"), `x.yaml:10: schedule "default": reminder: bad duration "soon"`},
		{"unknown role", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    roles: [chair, boss]\n"), `x.yaml:10: schedule "default": roles: unknown "boss"`},
		{"supporters answer no survey", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    roles: [member, supporter]\n"), `x.yaml:10: schedule "default": roles: unknown "supporter"`},
		{"unknown result role", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    results: [everyone]\n"), `x.yaml:10: schedule "default": results: unknown "everyone"`},
		{"unknown level", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    levels: [district]\n"), `x.yaml:10: schedule "default": levels: unknown "district"`},
		{"empty levels", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    levels: []\n"), `x.yaml:10: schedule "default": levels: at least one is needed`},
		{"level twice", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    levels: [primary, primary]\n"), `x.yaml:10: schedule "default": levels: "primary" is listed twice`},
		{"bad org", sched("  - cron: \"0 10 * * *\"\n    deadline: 30d\n    org: \"a b\"\n"), `x.yaml:10: schedule "default": org "a b" is not an org code`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("x.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\nlacks %q", err, tc.want)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	t.Parallel()
	in := header + "  - id: q1\n    type: slider\n    text: {ru: А}\n    min: 1\n" +
		"  - id: q2\n    type: yes_no\n    text: {en: B}\n    options: [{id: a, text: {ru: A}}, {id: b, text: {ru: B}}]\n"
	_, err := Parse("x.yaml", []byte(in))
	if err == nil {
		t.Fatal("Parse accepted two broken questions")
	}
	for _, want := range []string{`x.yaml:5: question "q1": unknown type "slider"`, `x.yaml:10: question "q2": text needs a ru text`, `x.yaml:11: question "q2": options is only`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error\n%v\nlacks %q", err, want)
		}
	}
	// An unknown type is one problem, not one more per field.
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("%d problems reported, want 3:\n%v", n, err)
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	s, err := Parse("x.yaml", []byte(header+q1+"  - id: c\n    type: text\n    text: {ru: К}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "t" || s.Source != "x.yaml" || s.Title.T("en") != "Т" || len(s.Schedules) != 0 {
		t.Errorf("survey = %+v", s)
	}
	if q, _ := s.Question("c"); q.MaxLen != DefaultMaxLen {
		t.Errorf("MaxLen = %d, want %d", q.MaxLen, DefaultMaxLen)
	}
	// Anchors let two questions share their options.
	in := header + "  - {id: s1, type: single, text: {ru: А}, options: &opts [{id: a, text: {ru: A}}, {id: b, text: {ru: B}}]}\n" +
		"  - {id: s2, type: multi, text: {ru: Б}, options: *opts, if: {question: s1, equals: b}}\n"
	s, err = Parse("x.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Question("s2"); len(q.Options) != 2 || q.Options[1].ID != "b" {
		t.Errorf("s2 options = %+v", q.Options)
	}
	// YAML 1.1 read an unquoted yes as true; yaml.v3 keeps it a string.
	s, err = Parse("x.yaml", []byte(header+q1+"  - {id: q2, type: yes_no, text: {ru: Б}, if: {question: q1, equals: yes}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q, _ := s.Question("q2"); q.If == nil || *q.If != (Condition{Question: "q1", Equals: Yes}) {
		t.Errorf("If = %+v", q.If)
	}
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	in := header + q1 + "schedules:\n  - cron: \" 0  10 * * 1\"\n    deadline: 1d12h\n    reminders: [90m, 1d]\n" +
		"  - name: branches\n    cron: \"0 9 1 */3 *\"\n    org: edu.branch\n    levels: [branch]\n    roles: [chair]\n    deadline: 14d\n    results: [chair]\n"
	s, err := Parse("x.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Schedule{{
		Name: DefaultSchedule, Cron: "0 10 * * 1",
		Levels:    []storage.Level{storage.LevelPrimary},
		Roles:     []storage.Role{storage.RoleInfoworker, storage.RoleChair},
		Results:   []storage.Role{storage.RoleChair, storage.RoleInfoworker},
		Deadline:  36 * time.Hour,
		Reminders: []time.Duration{90 * time.Minute, 24 * time.Hour},
	}, {
		Name: "branches", Cron: "0 9 1 */3 *", Org: "edu.branch", OrgLine: 13,
		Levels:   []storage.Level{storage.LevelBranch},
		Roles:    []storage.Role{storage.RoleChair},
		Results:  []storage.Role{storage.RoleChair},
		Deadline: 14 * 24 * time.Hour,
	}}
	if len(s.Schedules) != len(want) {
		t.Fatalf("schedules = %+v", s.Schedules)
	}
	for i, sc := range s.Schedules {
		w := want[i]
		if sc.Name != w.Name || sc.Cron != w.Cron || sc.Org != w.Org || sc.Deadline != w.Deadline ||
			!slices.Equal(sc.Levels, w.Levels) || !slices.Equal(sc.Roles, w.Roles) ||
			!slices.Equal(sc.Results, w.Results) || !slices.Equal(sc.Reminders, w.Reminders) || sc.OrgLine != w.OrgLine {
			t.Errorf("schedule %d = %+v, want %+v", i, sc, w)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"14d", 14 * 24 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1d12h", 36 * time.Hour, true},
		{" 2d ", 48 * time.Hour, true},
		{"d", 0, false},
		{"2w", 0, false},
		{"+1d", 0, false},
		{"1d-2h", 0, false},
		{"1dd", 0, false},
		{"", 0, false},
		{"14", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	all := Builtin()
	i := slices.IndexFunc(all, func(s Survey) bool { return s.ID == "annual" })
	if i < 0 {
		t.Fatalf("no annual survey among %d builtin", len(all))
	}
	s := all[i]
	fed := map[string]bool{}
	for _, q := range s.Questions {
		if q.Indicator != "" {
			fed[q.Indicator] = true
		}
		if q.Text["ru"] == "" || q.Text["en"] == "" {
			t.Errorf("question %q lacks a ru or en text", q.ID)
		}
		for _, o := range q.Options {
			if o.Text["ru"] == "" || o.Text["en"] == "" {
				t.Errorf("question %q option %q lacks a ru or en text", q.ID, o.ID)
			}
		}
	}
	for _, ind := range Indicators {
		if !fed[ind] {
			t.Errorf("no question of the annual survey feeds indicator %q", ind)
		}
	}
	if len(s.Schedules) != 1 {
		t.Fatalf("schedules = %+v", s.Schedules)
	}
	sc := s.Schedules[0]
	if sc.Name != "default" || sc.Cron != "0 10 15 1 *" || sc.Org != "" || sc.Deadline != 30*24*time.Hour ||
		!slices.Equal(sc.Levels, []storage.Level{storage.LevelPrimary, storage.LevelBranch}) ||
		!slices.Equal(sc.Roles, []storage.Role{storage.RoleInfoworker, storage.RoleChair}) ||
		!slices.Equal(sc.Results, []storage.Role{storage.RoleChair, storage.RoleInfoworker}) ||
		!slices.Equal(sc.Reminders, []time.Duration{7 * 24 * time.Hour, 20 * 24 * time.Hour}) {
		t.Errorf("schedule = %+v", sc)
	}
	if JobName(s.ID, sc.Name) != "survey:annual:default" {
		t.Errorf("JobName = %q", JobName(s.ID, sc.Name))
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func ids(all []Survey) []string {
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.ID
	}
	return out
}

func TestLoad(t *testing.T) {
	t.Parallel()
	builtin := ids(Builtin())

	t.Run("no dir", func(t *testing.T) {
		t.Parallel()
		got, err := Load("")
		if err != nil || !slices.Equal(ids(got), builtin) {
			t.Errorf(`Load("") = %v, %v; want builtin %v`, ids(got), err, builtin)
		}
	})

	t.Run("missing dir", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "missing")
		if got, err := Load(dir); err == nil || !strings.Contains(err.Error(), "read survey dir") {
			t.Errorf("Load(%q) = %v, %v; want a read error", dir, ids(got), err)
		}
	})

	t.Run("override and add", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		own := writeFile(t, dir, "annual.yml", "id: annual\ntitle: {ru: Наш}\nquestions:\n"+q1)
		writeFile(t, dir, "extra.yaml", "id: a_extra\ntitle: {ru: Ещё}\nquestions:\n"+q1)
		writeFile(t, dir, "notes.txt", "not a survey")
		writeFile(t, dir, ".annual.yaml.swp.yaml", "broken: [")
		if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
			t.Fatal(err)
		}
		got, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"a_extra", "annual"}
		if !slices.Equal(ids(got), want) {
			t.Fatalf("ids = %v, want %v", ids(got), want)
		}
		if got[1].Source != own || got[1].Title.T("ru") != "Наш" || len(got[1].Questions) != 1 {
			t.Errorf("annual = %+v, want the file's", got[1])
		}
	})

	t.Run("duplicate ids", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		a := writeFile(t, dir, "a.yaml", "# first\nid: same\ntitle: {ru: А}\nquestions:\n"+q1)
		b := writeFile(t, dir, "b.yml", "id: same\ntitle: {ru: Б}\nquestions:\n"+q1)
		_, err := Load(dir)
		want := b + `:1: survey id "same" is also used at ` + a + ":2"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load = %v, want %q", err, want)
		}
	})

	t.Run("broken file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		p := writeFile(t, dir, "bad.yaml", header+"  - id: q3\n    type: slider\n    text: {ru: А}\n")
		_, err := Load(dir)
		if want := p + `:5: question "q3": unknown type "slider"`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load = %v, want %q", err, want)
		}
	})

	t.Run("not a directory", func(t *testing.T) {
		t.Parallel()
		file := writeFile(t, t.TempDir(), "file", "")
		if _, err := Load(file); err == nil || !strings.Contains(err.Error(), "read survey dir") {
			t.Errorf("Load(file) = %v, want a read error", err)
		}
	})
}

// TestExampleSurveysLoad keeps the shipped example valid.
func TestExampleSurveysLoad(t *testing.T) {
	t.Parallel()
	defs, err := Load("../examples/surveys")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sv := range defs {
		ids = append(ids, sv.ID)
	}
	if len(defs) != 2 || ids[0] != "annual" || ids[1] != "quarterly" {
		t.Fatalf("loaded %v, want the built-in annual survey and the example", ids)
	}
}
