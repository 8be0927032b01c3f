package surveys

import (
	"math"
	"slices"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	// The budget answers go through ParseAnswer, as typed with a decimal comma.
	budget := func(input string) string {
		v, err := ParseAnswer(qBudget, input)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type want struct {
		value   float64
		known   bool
		pass    bool
		target  float64 // 0: the default
		missing []string
	}
	tests := []struct {
		name    string
		facts   Facts
		targets map[string]float64
		norm    string
		want    want
	}{
		{"one copy for 40 members", Facts{Level: storage.LevelPrimary, Members: 40, Answers: map[string]string{IndSolidarnost: "1"}},
			nil, NormSolidarnost, want{value: 2.5, known: true, pass: true}},
		{"one copy for 100 members", Facts{Members: 100, Answers: map[string]string{IndSolidarnost: "1"}},
			nil, NormSolidarnost, want{value: 1, known: true, pass: true}},
		{"no copies", Facts{Level: storage.LevelPrimary, Members: 40, Answers: map[string]string{IndSolidarnost: "0"}},
			nil, NormSolidarnost, want{known: true}},
		{"copies unanswered", Facts{Level: storage.LevelPrimary, Members: 40},
			nil, NormSolidarnost, want{}},
		{"no members", Facts{Answers: map[string]string{IndSolidarnost: "3"}},
			nil, NormSolidarnost, want{}},
		{"members answer overrides", Facts{Members: 40, Answers: map[string]string{IndSolidarnost: "1", IndMembers: "200"}},
			nil, NormSolidarnost, want{value: 0.5, known: true}},

		{"budget 4.9", Facts{Answers: map[string]string{IndBudgetShare: budget("4,9")}}, nil, NormBudget, want{value: 4.9, known: true}},
		{"budget 5", Facts{Answers: map[string]string{IndBudgetShare: budget("5 %")}}, nil, NormBudget, want{value: 5, known: true, pass: true}},
		{"budget target 7", Facts{Answers: map[string]string{IndBudgetShare: budget("5")}},
			map[string]float64{NormBudget: 7}, NormBudget, want{value: 5, known: true, target: 7}},
		{"budget 7.5 of target 7", Facts{Answers: map[string]string{IndBudgetShare: budget("7,5")}},
			map[string]float64{NormBudget: 7}, NormBudget, want{value: 7.5, known: true, pass: true, target: 7}},
		{"budget unanswered", Facts{}, nil, NormBudget, want{}},

		{"board 3 of 3", Facts{BoardWeeks: 3, BoardAnswered: 3, BoardUpdated: 3}, nil, NormBoard, want{value: 100, known: true, pass: true}},
		{"board 2 of 3", Facts{BoardWeeks: 3, BoardAnswered: 3, BoardUpdated: 2}, nil, NormBoard, want{value: 200.0 / 3, known: true}},
		{"an unanswered week counts once one is answered", Facts{BoardWeeks: 3, BoardAnswered: 1, BoardUpdated: 1}, nil, NormBoard,
			want{value: 100.0 / 3, known: true}},
		{"answered weeks beat the survey", Facts{BoardWeeks: 4, BoardAnswered: 4, BoardUpdated: 3, Answers: map[string]string{IndBoardWeekly: Yes}},
			nil, NormBoard, want{value: 75, known: true}},
		{"no week answered: the survey counts", Facts{BoardWeeks: 5, Answers: map[string]string{IndBoard: Yes, IndBoardWeekly: Yes}},
			nil, NormBoard, want{value: 100, known: true, pass: true}},
		{"weeks reminded, never answered, no survey", Facts{BoardWeeks: 5}, nil, NormBoard, want{known: true}},
		{"board survey yes", Facts{Answers: map[string]string{IndBoard: Yes, IndBoardWeekly: Yes}}, nil, NormBoard, want{value: 100, known: true, pass: true}},
		{"board survey no", Facts{Answers: map[string]string{IndBoard: Yes, IndBoardWeekly: No}}, nil, NormBoard, want{known: true}},
		{"no board at all", Facts{Answers: map[string]string{IndBoard: No}}, nil, NormBoard, want{known: true}},
		{"board unknown", Facts{}, nil, NormBoard, want{}},

		{"infoworker named", Facts{Answers: map[string]string{IndInfoworker: Yes}}, nil, NormInfoworker, want{value: 1, known: true, pass: true}},
		{"infoworker missing", Facts{Answers: map[string]string{IndInfoworker: No}}, nil, NormInfoworker, want{known: true}},
		{"infoworker unanswered", Facts{}, nil, NormInfoworker, want{}},

		{"primary channels", Facts{Level: storage.LevelPrimary, Members: 40, Answers: map[string]string{IndEmailList: Yes, IndChats: Yes, IndSocialPage: No}},
			nil, NormChannels, want{value: 100, known: true, pass: true}},
		{"primary without chats", Facts{Level: storage.LevelPrimary, Members: 40, Answers: map[string]string{IndEmailList: Yes, IndChats: No}},
			nil, NormChannels, want{value: 50, known: true, missing: []string{IndChats}}},
		{"branch 1200 without social page", Facts{Level: storage.LevelBranch, Members: 1200, Answers: map[string]string{IndEmailList: Yes, IndChats: Yes, IndSocialPage: No, IndWebsite: No}},
			nil, NormChannels, want{value: 200.0 / 3, known: true, missing: []string{IndSocialPage}}},
		{"branch 1000 needs no page", Facts{Level: storage.LevelBranch, Members: 1000, Answers: map[string]string{IndEmailList: Yes, IndChats: Yes}},
			nil, NormChannels, want{value: 100, known: true, pass: true}},
		{"union 6000 website unanswered", Facts{Level: storage.LevelUnion, Members: 6000, Answers: map[string]string{IndEmailList: Yes, IndChats: Yes, IndSocialPage: Yes}},
			nil, NormChannels, want{value: 75, known: true, missing: []string{IndWebsite}}},
		{"members answer raises the bar", Facts{Level: storage.LevelBranch, Members: 900, Answers: map[string]string{IndMembers: "1500", IndEmailList: Yes, IndChats: Yes}},
			nil, NormChannels, want{value: 200.0 / 3, known: true, missing: []string{IndSocialPage}}},
		{"channels unanswered", Facts{Level: storage.LevelBranch, Members: 1200}, nil, NormChannels,
			want{missing: []string{IndEmailList, IndChats, IndSocialPage}}},
		{"channels target 50", Facts{Level: storage.LevelPrimary, Answers: map[string]string{IndEmailList: Yes, IndChats: No}},
			map[string]float64{NormChannels: 50}, NormChannels, want{value: 50, known: true, pass: true, target: 50, missing: []string{IndChats}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results := Evaluate(tc.facts, tc.targets)
			if got := norms(results); !slices.Equal(got, Norms) {
				t.Fatalf("norms = %v, want %v", got, Norms)
			}
			r := results[slices.Index(Norms, tc.norm)]
			w := tc.want
			if w.target == 0 {
				w.target = DefaultTargets[tc.norm]
			}
			if math.Abs(r.Value-w.value) > 1e-9 || r.Known != w.known || r.Pass != w.pass || r.Target != w.target || !slices.Equal(r.Missing, w.missing) {
				t.Errorf("%s = %+v, want %+v", tc.norm, r, w)
			}
		})
	}
}

func norms(rs []Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Norm
	}
	return out
}

func TestIndicatorsComplete(t *testing.T) {
	t.Parallel()
	if len(Indicators) != len(indicatorTypes) {
		t.Fatalf("%d indicators, %d with types", len(Indicators), len(indicatorTypes))
	}
	for _, ind := range Indicators {
		if indicatorTypes[ind] == "" {
			t.Errorf("indicator %q has no type", ind)
		}
	}
	for _, n := range Norms {
		if _, ok := DefaultTargets[n]; !ok {
			t.Errorf("norm %q has no default target", n)
		}
	}
}
