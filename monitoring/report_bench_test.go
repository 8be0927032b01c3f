package monitoring_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/storagetest"
	"github.com/unionhub/unionhub/surveys"
)

// BenchmarkMonitoringReport builds the annual report of the Union over the
// programme's scale (1,000 primaries and 10 branches answering the built-in
// survey, a quarter of weekly board checks each; 100,000 members, each with
// a question to the hot line; a year of weekly news from the Union, each
// opened by a tenth of the members) with the previous year for the trend
// and what the hub observed, on tables as the import and the bot leave
// them:
//
//	go test ./monitoring -run '^$' -bench MonitoringReport -benchtime 5x
func BenchmarkMonitoringReport(b *testing.B) {
	ctx := context.Background()
	dsn := storagetest.PostgresDSN(b)
	db, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	tree := storagetest.ProgrammeScale
	tree.AsImported = true
	union := storagetest.SeedPostgres(b, db, dsn, tree)
	// Members joined now, as the seed has it: the report is read now, the
	// questions came over the 70 days before.
	now := time.Now()
	storagetest.SeedTickets(b, dsn, tree, now)
	storagetest.SeedNewsReach(b, dsn, tree, now)
	sv := surveys.Builtin()[0]
	sc := sv.Schedules[0]
	svc := monitoring.New(monitoring.Config{Store: db, Surveys: []surveys.Survey{sv}, Clock: func() time.Time { return now }})
	sakhalin, err := time.LoadLocation(union.TimeZone)
	if err != nil {
		b.Fatal(err)
	}
	fire := time.Date(2026, 1, 15, 10, 0, 0, 0, sakhalin)
	run, _, err := svc.OpenRun(ctx, sv, sc, "bench", fire)
	if err != nil {
		b.Fatal(err)
	}
	targets, err := db.SurveyTargets(ctx, run.ID)
	if err != nil {
		b.Fatal(err)
	}
	answers := map[string]string{"infoworker": "yes", "infoworker_trained": "yes", "board": "yes", "board_weekly": "yes",
		"solidarnost": "1", "budget_share": "4.5", "email_list": "yes", "chats": "no"}
	for i, t := range targets {
		at := fire.Add(time.Hour)
		for qid, v := range answers {
			if _, ok := sv.Question(qid); !ok {
				b.Fatalf("the built-in survey has no question %q", qid)
			}
			if err := db.SaveSurveyAnswer(ctx, storage.SurveyAnswer{RunID: run.ID, OrgID: t.OrgID, QuestionID: qid, Value: v, At: at}); err != nil {
				b.Fatal(err)
			}
		}
		if i%10 != 0 { // every tenth org stays silent
			if _, err := db.SubmitSurvey(ctx, run.ID, t.OrgID, 0, at); err != nil {
				b.Fatal(err)
			}
		}
		for w := range 13 {
			week := fire.AddDate(0, 0, 7*w)
			if _, err := db.ClaimBoardCheck(ctx, t.OrgID, week, week); err != nil {
				b.Fatal(err)
			}
			if w%3 != 0 {
				if _, err := db.AnswerBoardCheck(ctx, t.OrgID, week, storage.BoardUpdated, 0, week.Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	p, err := monitoring.ParsePeriod(strconv.Itoa(now.In(sakhalin).Year()), sakhalin)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var r monitoring.Report
	for b.Loop() {
		if r, err = svc.ObservedReport(ctx, union, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r.Surveyed != len(targets) || r.Answered != len(targets)-len(targets)/10 {
		b.Fatalf("report of %d orgs, %d answered; want %d", r.Surveyed, r.Answered, len(targets))
	}
	if r.Observed.Reachable != tree.Members || r.Observed.Asked == 0 || r.Observed.Delivered == 0 || r.Observed.Opens == 0 {
		b.Fatalf("observed %d reachable of %d members, %d questions, %d delivered, %d opens",
			r.Observed.Reachable, tree.Members, r.Observed.Asked, r.Observed.Delivered, r.Observed.Opens)
	}
	b.ReportMetric(float64(r.Surveyed), "orgs")
}
