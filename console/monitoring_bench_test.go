package console

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
	"github.com/unionhub/unionhub/surveys"
)

// pageP99Limit is the issue's bound on every console page.
const pageP99Limit = 100 * time.Millisecond

// BenchmarkConsoleMonitoringPages opens each monitoring and survey page
// of the console as the Union's staff over the programme's scale (1,000
// primaries under 10 branches that answered the built-in survey this
// year and last, nine in ten confirming, with a year and a half of weekly
// board checks), one request after another on PostgreSQL, and reports
// each page's p50 and p99; a page's p99 over 100 ms fails:
//
//	go test ./console -run '^$' -bench ConsoleMonitoringPages -benchtime 100x
func BenchmarkConsoleMonitoringPages(b *testing.B) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	dsn := storagetest.PostgresDSN(b)
	db, err := postgres.Open(ctx, dsn, quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	tree := storagetest.ProgrammeScale
	tree.Members = 10 * tree.Primaries // an activist in each primary for the contact base
	union := storagetest.SeedPostgres(b, db, dsn, tree)
	sakhalin, err := time.LoadLocation(union.TimeZone)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, sakhalin)
	clock := func() time.Time { return now }
	sv := surveys.Builtin()[0]
	svc := monitoring.New(monitoring.Config{Store: db, Surveys: []surveys.Survey{sv}, Clock: clock, Logger: quiet})
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	// Last year's run is closed; this year's takes answers still.
	var run storage.SurveyRun
	for _, fired := range []time.Time{time.Date(2025, 1, 15, 10, 0, 0, 0, sakhalin), time.Date(2026, 6, 1, 10, 0, 0, 0, sakhalin)} {
		if run, _, err = svc.OpenRun(ctx, sv, sv.Schedules[0], fmt.Sprint("bench-", fired.Year()), fired); err != nil {
			b.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO survey_answers (run_id, org_id, question_id, value, at)
				SELECT t.run_id, t.org_id, a.q, a.v, $2 FROM survey_targets t CROSS JOIN (VALUES ('infoworker', 'yes'),
					('infoworker_trained', 'yes'), ('board', 'yes'), ('board_weekly', 'yes'), ('solidarnost', '1'),
					('budget_share', '4.5'), ('email_list', 'yes'), ('chats', 'no'), ('comments', 'Всё по плану')) a(q, v)
				WHERE t.run_id = $1`,
			`UPDATE survey_targets SET submitted_at = $2 WHERE run_id = $1 AND org_id % 10 <> 0`,
		} {
			if _, err := raw.ExecContext(ctx, q, run.ID, fired.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := db.CloseSurveyRun(ctx, run.ID-1, time.Date(2025, 3, 1, 0, 0, 0, 0, sakhalin)); err != nil {
		b.Fatal(err)
	}
	// Weekly board checks from the start of last year to now, a third of
	// them unanswered.
	if _, err := raw.ExecContext(ctx, `INSERT INTO board_checks (org_id, week, reminded_at, answer, answered_at)
		SELECT o.id, w, w, CASE WHEN (o.id + n) % 3 = 0 THEN '' ELSE 'updated' END,
			CASE WHEN (o.id + n) % 3 = 0 THEN NULL ELSE w + interval '1 hour' END
		FROM orgs o CROSS JOIN generate_series(0, 75) n CROSS JOIN LATERAL (SELECT $1::timestamptz + n * interval '7 days' AS w) x
		WHERE o.level = 'primary'`, time.Date(2025, 1, 6, 10, 0, 0, 0, sakhalin)); err != nil {
		b.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, "ANALYZE survey_targets, survey_answers, board_checks"); err != nil {
		b.Fatal(err)
	}

	admin := benchAdmin(b, db, union, now)
	catalog, err := locales.Load()
	if err != nil {
		b.Fatal(err)
	}
	signIn := signin.New(signin.Config{Store: db, BaseURL: "http://console.test", StaffName: "Аппарат Союза", Clock: clock})
	con, err := New(Config{
		SignIn: signIn, Store: db, Limiter: unlimited{}, Catalog: catalog,
		Membership: membership.New(membership.Config{Store: db, Clock: clock, Logger: quiet}),
		Hotline:    hotline.New(hotline.Config{Store: db, Clock: clock, Logger: quiet}),
		Orgs:       orgs.New(orgs.Config{Store: db, Clock: clock, Logger: quiet}),
		News:       news.New(news.Config{Store: db, Clock: clock, Logger: quiet}),
		Monitoring: svc, PublicURL: "http://console.test", Clock: clock, Logger: quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	link, err := signIn.Issue(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	con.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "http://console.test"+signin.LinkPath+link.Token, nil))
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cookies) == 0 {
		b.Fatalf("sign in: %d", w.Code)
	}
	silent := int64(0)
	targets, err := db.SurveyTargets(ctx, run.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range targets {
		if t.SubmittedAt == nil {
			silent = t.OrgID
			break
		}
	}

	// Pages in the order a browser asks for them: a report's charts come
	// right after it. The files downloaded are measured too, and bound by
	// nothing but patience.
	for _, page := range []struct {
		name, path, shows string
		file              bool
	}{
		{"report", "/monitoring", "Ответили 909 из 1010", false},
		{"report-last-page", "/monitoring?org=U&period=2026&page=25", "Страница 25 из 26", false},
		{"norms-chart", "/monitoring/norms.png?org=U&period=2026", "PNG", false},
		{"orgs-chart", "/monitoring/orgs.png?org=U&period=2026&page=3", "PNG", false},
		{"report-csv", "/monitoring.csv?org=U&period=2026", "budget_share_value", true},
		{"targets", "/monitoring/targets?org=U&period=2026", "Целевые значения", false},
		{"contacts-xlsx", "/contacts.xlsx?org=U", "PK", true},
		{"surveys", "/surveys", "ответили 909 из 1010", false},
		{"runs", fmt.Sprintf("/surveys/%s?org=%d", sv.ID, union.ID), "909 из 1010", false},
		{"run", fmt.Sprintf("/surveys/runs/%d", run.ID), "Не ответили", false},
		{"run-answered-page", fmt.Sprintf("/surveys/runs/%d?show=answered&page=10", run.ID), "Страница 10 из 19", false},
		{"answers", fmt.Sprintf("/surveys/runs/%d/orgs/%d", run.ID, silent), "ответы ещё не подтверждены", false},
	} {
		b.Run(page.name, func(b *testing.B) {
			get := func() *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodGet, "http://console.test"+page.path, nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				con.ServeHTTP(w, r)
				return w
			}
			if w := get(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), page.shows) {
				b.Fatalf("%s: %d, no %q in\n%.2000s", page.path, w.Code, page.shows, w.Body)
			}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				get()
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			if p99 > pageP99Limit && !page.file {
				b.Errorf("%s: p99 %v over %v", page.path, p99, pageP99Limit)
			}
		})
	}
}

// benchAdmin registers the Union's staff person.
func benchAdmin(b *testing.B, db *sqlstore.DB, union storage.Org, at time.Time) access.Actor {
	b.Helper()
	ctx := context.Background()
	inv := storage.Invite{Code: "bench-admin", OrgID: union.ID, Role: storage.RoleAdmin, CreatedAt: at}
	if err := db.CreateInvite(ctx, inv); err != nil {
		b.Fatal(err)
	}
	p, _, err := db.Register(ctx, storage.Registration{Platform: storage.Telegram, ExternalID: "bench-admin", FullName: "Аппарат",
		Locale: "ru", OrgID: union.ID, Role: storage.RoleAdmin, InviteCode: inv.Code, At: at})
	if err != nil {
		b.Fatal(err)
	}
	ms, err := db.Memberships(ctx, p.ID)
	if err != nil {
		b.Fatal(err)
	}
	return access.NewActor(p.ID, ms)
}
