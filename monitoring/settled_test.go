package monitoring_test

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// counting counts the reads a report makes of what settles.
type counting struct {
	monitoring.Store
	mu              sync.Mutex
	answers, boards int
}

func (c *counting) RunAnswers(ctx context.Context, runID int64, questions []string) ([]storage.SurveyAnswer, error) {
	c.mu.Lock()
	c.answers++
	c.mu.Unlock()
	return c.Store.RunAnswers(ctx, runID, questions)
}

func (c *counting) BoardTallies(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.BoardTally, error) {
	c.mu.Lock()
	c.boards++
	c.mu.Unlock()
	return c.Store.BoardTallies(ctx, under, from, to)
}

func (c *counting) reads() (answers, boards int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, b := c.answers, c.boards
	c.answers, c.boards = 0, 0
	return a, b
}

// TestReportReadsSettledHistoryOnce: the answers of a run past its
// deadline and the board checks of months whose weeks are over are read
// once; what may still change is read for every report, so a report
// always shows it.
func TestReportReadsSettledHistoryOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, wednesday(t), checkSurvey)
	store := &counting{Store: f.db}
	svc := monitoring.New(monitoring.Config{Store: store, Surveys: []surveys.Survey{f.sv}, Clock: f.clock, Logger: slog.New(slog.DiscardHandler)})
	chair := f.person("school", storage.RoleChair)
	school := f.org["school"].ID

	// Last year's run, answered and closed; this year's, open and answered.
	lastYear := time.Date(2025, 5, 1, 10, 0, 0, 0, f.loc)
	old, _, err := svc.OpenRun(f.ctx, f.sv, f.sv.Schedules[0], "last-year", lastYear)
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := svc.OpenRun(f.ctx, f.sv, f.sv.Schedules[0], "this-year", f.clock().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []storage.SurveyRun{old, run} {
		at := r.FiredFor.Add(time.Hour)
		if err := f.db.SaveSurveyAnswer(f.ctx, storage.SurveyAnswer{RunID: r.ID, OrgID: school, QuestionID: "copies", Value: "1", At: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SubmitSurvey(f.ctx, r.ID, school, chair.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	// Board weeks: two in January (settled), this week (open), one of
	// them unanswered.
	for _, week := range []time.Time{time.Date(2026, 1, 12, 10, 0, 0, 0, f.loc), time.Date(2026, 1, 19, 10, 0, 0, 0, f.loc),
		f.clock().Add(-time.Hour)} {
		if _, err := f.db.ClaimBoardCheck(f.ctx, school, week, week); err != nil {
			t.Fatal(err)
		}
		if week.Month() == time.January && week.Day() == 12 {
			if _, err := f.db.AnswerBoardCheck(f.ctx, school, week, storage.BoardUpdated, chair.ID, week.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	p, err := monitoring.ParsePeriod("2026", f.loc)
	if err != nil {
		t.Fatal(err)
	}
	report := func() monitoring.Report {
		t.Helper()
		r, err := svc.Report(f.ctx, f.org["edu"], p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	board := func(r monitoring.Report) surveys.Result {
		t.Helper()
		for _, o := range r.Orgs {
			if o.Code == "school" {
				return o.Results[3]
			}
		}
		t.Fatalf("no school in %+v", r.Orgs)
		return surveys.Result{}
	}
	first := report()
	if answers, boards := store.reads(); answers != 2 || boards != 15 {
		t.Errorf("the first report read answers %d times, board checks %d times; want both runs, and the 12 months of last year, the two settled of this and one for March on", answers, boards)
	}
	if b := board(first); !b.Known || int(b.Value) != 33 || first.Orgs[0].PrevPassed < 0 {
		t.Fatalf("the school's board %+v (1 of 3 weeks updated), surveyed last year: %v", b, first.Orgs[0].PrevPassed)
	}
	second := report()
	if answers, boards := store.reads(); answers != 1 || boards != 1 {
		t.Errorf("the second report read answers %d times, board checks %d times; want this year's open run and the month on", answers, boards)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("the report changed with nothing new:\n%+v\n%+v", first, second)
	}
	// This week's answer shows at once.
	if _, err := f.db.AnswerBoardCheck(f.ctx, school, f.clock().Add(-time.Hour), storage.BoardUpdated, chair.ID, f.clock()); err != nil {
		t.Fatal(err)
	}
	if b := board(report()); int(b.Value) != 66 {
		t.Errorf("after this week's answer the board is %+v, want 2 of 3 weeks", b)
	}
}
