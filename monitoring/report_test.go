package monitoring_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/surveys"
)

// reportSurvey asks for the budget share and copies of «Солидарность».
const reportSurvey = `id: check
title: {ru: Проверка}
questions:
  - {id: budget, type: number, required: true, min: 0, max: 100, indicator: budget_share, text: {ru: Бюджет}}
  - {id: copies, type: number, required: true, min: 0, indicator: solidarnost_copies, text: {ru: Экземпляры}}
schedules:
  - {name: yearly, cron: "0 10 15 1 *", org: B, levels: [primary], roles: [infoworker], deadline: 30d}
`

// TestMonitoringReportTrendTargetsAndOrder answers a survey in two years
// and checks the report's values, the trend against the previous year, a
// target set above the orgs, the response rate and the worst-first order.
func TestMonitoringReportTrendTargetsAndOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 15, 1, 0, 0, 0, time.UTC)
	if _, err := db.ImportOrgs(ctx, []storage.OrgInput{
		{Code: "U", Name: "Union", Level: storage.LevelUnion, MemberCount: 5000, Source: "t:1"},
		{Code: "B", Name: "Branch", ParentCode: "U", Level: storage.LevelBranch, MemberCount: 900, Source: "t:2"},
		{Code: "A1", Name: "Alpha", ParentCode: "B", Level: storage.LevelPrimary, MemberCount: 200, Source: "t:3"},
		{Code: "A2", Name: "Beta", ParentCode: "B", Level: storage.LevelPrimary, MemberCount: 100, Source: "t:4"},
		{Code: "A3", Name: "Gamma", ParentCode: "B", Level: storage.LevelPrimary, MemberCount: 50, Source: "t:5"},
	}, t0); err != nil {
		t.Fatal(err)
	}
	org := func(code string) storage.Org {
		o, err := db.OrgByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	sv, err := surveys.Parse("check.yaml", []byte(reportSurvey))
	if err != nil {
		t.Fatal(err)
	}
	svc := monitoring.New(monitoring.Config{Store: db, Surveys: []surveys.Survey{sv}, Clock: func() time.Time { return t0 }})
	answer := func(year int, code string, values map[string]string) {
		t.Helper()
		fire := time.Date(year, 1, 15, 1, 0, 0, 0, time.UTC)
		run, _, err := svc.OpenRun(ctx, sv, sv.Schedules[0], "test", fire)
		if err != nil {
			t.Fatal(err)
		}
		for q, v := range values {
			if err := db.SaveSurveyAnswer(ctx, storage.SurveyAnswer{RunID: run.ID, OrgID: org(code).ID, QuestionID: q, Value: v, At: fire.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SubmitSurvey(ctx, run.ID, org(code).ID, 0, fire.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	answer(2025, "A1", map[string]string{"budget": "4", "copies": "1"}) // 0.5 per 100: fail
	answer(2026, "A1", map[string]string{"budget": "6", "copies": "2"}) // 1 per 100: pass
	answer(2026, "A2", map[string]string{"budget": "8", "copies": "3"})
	// The branch raises its own budget target for 2026 to 7 %.
	if err := db.SetTarget(ctx, storage.Target{OrgID: org("B").ID, Period: "2026", Indicator: surveys.NormBudget, Value: 7}); err != nil {
		t.Fatal(err)
	}
	p, err := monitoring.ParsePeriod("2026", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Report(ctx, org("B"), p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Surveyed != 3 || r.Answered != 2 || r.ResponseRate != 66.7 || r.Previous != "2025" || r.PrevResponseRate != 33.3 || r.PrevSurveyed != 3 {
		t.Fatalf("surveyed %d, answered %d, rate %v, previous %s at %v", r.Surveyed, r.Answered, r.ResponseRate, r.Previous, r.PrevResponseRate)
	}
	type got struct {
		code       string
		budget     string
		solidarity string
		prevPassed int
	}
	show := func(res surveys.Result) string {
		switch {
		case !res.Known:
			return "no data"
		case res.Pass:
			return "pass"
		}
		return "fail"
	}
	var rows []got
	for _, o := range r.Orgs {
		g := got{code: o.Code, prevPassed: o.PrevPassed}
		for _, res := range o.Results {
			switch res.Norm {
			case surveys.NormBudget:
				g.budget = show(res)
				if res.Known && res.Target != 7 {
					t.Errorf("%s budget target %v, want the branch's 7", o.Code, res.Target)
				}
			case surveys.NormSolidarnost:
				g.solidarity = show(res)
			}
		}
		rows = append(rows, g)
	}
	want := []got{ // worst first
		{code: "A3", budget: "no data", solidarity: "no data", prevPassed: 0},
		{code: "A1", budget: "fail", solidarity: "pass", prevPassed: 0},
		{code: "A2", budget: "pass", solidarity: "pass", prevPassed: 0}, // asked in 2025, silent
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	for _, n := range r.Norms {
		if n.Norm == surveys.NormSolidarnost && (n.Passed != 2 || n.NoData != 1 || n.PrevFailed != 1 || n.PrevPassed != 0 || n.PrevNoData != 2) {
			t.Errorf("solidarity summary %+v", n)
		}
		if share, ok := n.Share(); n.Norm == surveys.NormSolidarnost && (!ok || int(share) != 66) {
			t.Errorf("solidarity met by %v %% (%v), want 2 of 3", share, ok)
		}
		if share, ok := n.PrevShare(); n.Norm == surveys.NormSolidarnost && (!ok || share != 0) {
			t.Errorf("solidarity met before by %v %% (%v), want none of 3", share, ok)
		}
	}
}

// TestReportRights: a person reads the monitoring of their organisations
// and those below, never sideways or up; the period defaults to this year
// in the org's zone.
func TestReportRights(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	eduIW := f.actor(f.person("edu", storage.RoleInfoworker))
	schoolChair := f.actor(f.person("school", storage.RoleChair))
	for _, tt := range []struct {
		name  string
		by    access.Actor
		code  string
		wants error
	}{
		{"below", eduIW, "school", nil},
		{"their own", schoolChair, "school", nil},
		{"up", schoolChair, "edu", access.ErrForbidden},
		{"sideways", eduIW, "clinic", access.ErrForbidden},
		{"nobody", access.Actor{}, "school", access.ErrForbidden},
		{"no such org", eduIW, "nope", storage.ErrNotFound},
	} {
		if _, err := f.svc.ReportOrg(f.ctx, tt.by, tt.code); !errors.Is(err, tt.wants) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wants)
		}
		if tt.wants == access.ErrForbidden {
			if _, err := f.svc.ReportFor(f.ctx, tt.by, f.org[tt.code], ""); !errors.Is(err, access.ErrForbidden) {
				t.Errorf("report %s: %v", tt.name, err)
			}
		}
	}
	r := must(f.svc.ReportFor(f.ctx, eduIW, f.org["edu"], ""))(t)
	if r.Period != "2026" || r.Previous != "2025" || r.Org != "edu" {
		t.Fatalf("report %+v, want this year's of edu", r)
	}
	if r := must(f.svc.ReportFor(f.ctx, eduIW, f.org["school"], "2026-03"))(t); r.Period != "2026-03" || r.Previous != "2026-02" {
		t.Fatalf("report of a month %+v", r)
	}
	var bad *monitoring.InvalidError
	if _, err := f.svc.ReportFor(f.ctx, eduIW, f.org["edu"], "2026-13"); !errors.As(err, &bad) || bad.Field != "period" {
		t.Fatalf("a month that is none: %v", err)
	}
}

// TestSetTarget: a target is set for a known norm, a period and a value
// from 0, on an org of the tree, and listed beside the default.
func TestSetTarget(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t))
	for _, tt := range []struct {
		name, code, period, norm string
		value                    float64
		field                    string // of the InvalidError; "" for ErrNotFound
	}{
		{"a period that is none", "edu", "26", surveys.NormBudget, 7, "period"},
		{"an unknown norm", "edu", "2026", "happiness", 7, "norm"},
		{"a negative value", "edu", "2026", surveys.NormBudget, -1, "value"},
		{"not a number", "edu", "2026", surveys.NormBudget, math.NaN(), "value"},
		{"an unknown org", "nope", "2026", surveys.NormBudget, 7, ""},
	} {
		_, _, err := f.svc.SetTarget(f.ctx, tt.code, tt.period, tt.norm, tt.value)
		var bad *monitoring.InvalidError
		switch {
		case tt.field == "" && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("%s: %v, want not found", tt.name, err)
		case tt.field != "" && (!errors.As(err, &bad) || bad.Field != tt.field || !errors.Is(err, monitoring.ErrInvalid)):
			t.Errorf("%s: %v, want %s refused", tt.name, err, tt.field)
		}
	}
	if got := must(f.svc.Targets(f.ctx, "2026"))(t); len(got) != 0 {
		t.Fatalf("refused targets were kept: %+v", got)
	}
	tg, org, err := f.svc.SetTarget(f.ctx, "edu", "2026", surveys.NormBudget, 7)
	if err != nil || org.Code != "edu" || tg.Value != 7 {
		t.Fatalf("set %+v for %s: %v", tg, org.Code, err)
	}
	list := must(f.svc.Targets(f.ctx, "2026"))(t)
	if len(list) != 1 || list[0].Org.Code != "edu" || list[0].Target.Indicator != surveys.NormBudget || list[0].Default != surveys.DefaultTargets[surveys.NormBudget] {
		t.Fatalf("targets %+v", list)
	}
}
