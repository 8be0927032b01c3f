package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// BenchmarkConsolePages renders every page of the staff console at the
// programme's scale: 1,000 primaries under 10 branches, 100,000 members
// and 100,000 hot-line questions in PostgreSQL as the import and the
// bot leave them (no ANALYZE), served by the built binary with Redis.
// It signs in as the Union's staff, a branch chair and a primary's chair,
// walks the links each sees (two clicks deep, three of each kind of
// page), asks each page 30 times, and reports the worst page's 99th
// percentile; every page's figure is in the log (-v).
//
//	go test ./cmd/unionhub -run '^$' -bench ConsolePages -benchtime 1x -timeout 30m -v
func BenchmarkConsolePages(b *testing.B) {
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
	storagetest.SeedPostgres(b, db, dsn, tree)
	seedQuestions(b, dsn)
	// Person 1 is the Union's staff, 2 chairs the first branch, 3 the
	// first primary (of the persons seeded as members there).
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`INSERT INTO memberships (person_id, org_id, role, status, created_at)
			SELECT 1, id, 'admin', 'active', now() FROM orgs WHERE code = 'U'`,
		`INSERT INTO memberships (person_id, org_id, role, status, created_at)
			SELECT 2, id, 'chair', 'active', now() FROM orgs WHERE code = 'B0'`,
		`INSERT INTO memberships (person_id, org_id, role, status, created_at)
			SELECT 3, id, 'chair', 'active', now() FROM orgs WHERE code = 'P0-0'`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	redisURL, prefix := storagetest.RedisURL(b)
	rep := startReplica(b, map[string]string{
		"DATABASE_URL": dsn, "REDIS_URL": redisURL, "UNIONHUB_REDIS_PREFIX": prefix, "UNIONHUB_LOG_LEVEL": "warn",
		// Each request comes from its own address, so that the per-address
		// limit measures nothing here.
		"UNIONHUB_TRUSTED_PROXIES": "127.0.0.1",
	})
	base := "http://" + rep.hooks
	links := signin.New(signin.Config{Store: db, BaseURL: base})

	for range b.N {
		worst := time.Duration(0)
		for _, who := range []struct {
			name   string
			person int64
		}{{"admin", 1}, {"branch chair", 2}, {"primary chair", 3}} {
			ms, err := db.Memberships(ctx, who.person)
			if err != nil {
				b.Fatal(err)
			}
			s := newBenchSessions(b, base, links, access.NewActor(who.person, ms))
			for _, page := range s.crawl(b) {
				p99 := s.p99(b, page, 30)
				b.Logf("%-14s %-50s p99 %6.1f ms", who.name, page, float64(p99.Microseconds())/1000)
				worst = max(worst, p99)
			}
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-page-p99-ms")
		b.ReportMetric(0, "ns/op")
	}
}

// seedQuestions gives every seeded member a question at their primary,
// a third of them open, a third taken, a third closed, each with the
// member's message, over the last 5,000 minutes: numbered by the time
// they came, as the bot numbers them, and analysed as autovacuum leaves
// them.
func seedQuestions(b testing.TB, dsn string) {
	b.Helper()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`INSERT INTO tickets (person_id, org_id, level_org_id, topic, share_name, keep_text, status, created_at, due_at,
				first_response_at, closed_at)
			SELECT m.person_id, m.org_id, m.org_id,
				(ARRAY['wages','employment','conditions','safety','benefits','legal','other'])[1 + m.person_id % 7],
				true, true,
				CASE m.person_id % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'taken' ELSE 'closed' END,
				now() - (m.person_id % 5000) * interval '1 minute',
				now() - (m.person_id % 5000) * interval '1 minute' + interval '1 day',
				CASE WHEN m.person_id % 3 <> 0 THEN now() END,
				CASE WHEN m.person_id % 3 = 2 THEN now() END
			FROM memberships m WHERE m.role IN ('member', 'activist')
			-- Questions are numbered as they come, from every org in turn.
			ORDER BY m.person_id % 5000 DESC, m.person_id`,
		`INSERT INTO ticket_messages (ticket_id, author_id, from_member, text, at)
			SELECT id, person_id, true, 'Вопрос о зарплате № ' || id, created_at FROM tickets`,
		// The bot writes questions one at a time over months, and autovacuum
		// analyses a table each time it grows by a tenth: in service these
		// tables always have statistics, unlike those an import has just
		// filled, which stay as the import leaves them.
		`ANALYZE tickets, ticket_messages`,
	} {
		if _, err := raw.ExecContext(context.Background(), q); err != nil {
			b.Fatalf("seed questions: %v", err)
		}
	}
}

// benchSessions are signed-in browsers of one person, taken in turn so
// that no session's own rate limit is reached.
type benchSessions struct {
	base    string
	clients []*http.Client
	next    int
	forward int
}

func newBenchSessions(b *testing.B, base string, links *signin.Service, who access.Actor) *benchSessions {
	b.Helper()
	s := &benchSessions{base: base}
	for range 20 {
		l, err := links.Issue(context.Background(), who)
		if err != nil {
			b.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		s.clients = append(s.clients, c)
		s.next = len(s.clients) - 1
		resp := s.do(b, http.MethodPost, l.URL)
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("sign in: HTTP %d", resp.StatusCode)
		}
	}
	return s
}

// do sends one request from the next session and a new address; the
// caller reads the body.
func (s *benchSessions) do(b *testing.B, method, target string) *http.Response {
	b.Helper()
	c := s.clients[s.next%len(s.clients)]
	s.next++
	s.forward++
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", s.forward>>16&255, s.forward>>8&255, s.forward&255))
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	return resp
}

var hrefs = regexp.MustCompile(`href="(/[^"]*)"`)

// pageKind names a page by its path with the numbers taken out, so that
// only a few of each kind are measured.
var digits = regexp.MustCompile(`[0-9]+`)

// crawl lists the HTML pages the person reaches from the home page in up
// to two clicks, at most three of each kind.
func (s *benchSessions) crawl(b *testing.B) []string {
	b.Helper()
	seen := map[string]bool{"/": true}
	kinds := map[string]int{}
	pages := []string{"/"}
	frontier := []string{"/"}
	for depth := 0; depth < 2; depth++ {
		var found []string
		for _, p := range frontier {
			body, ok := s.html(b, p)
			if !ok {
				continue
			}
			for _, m := range hrefs.FindAllStringSubmatch(body, -1) {
				link := strings.ReplaceAll(m[1], "&amp;", "&")
				u, err := url.Parse(link)
				if err != nil || seen[link] || strings.HasPrefix(u.Path, "/assets/") || strings.HasPrefix(u.Path, "/signin") ||
					strings.HasPrefix(u.Path, "/signout") || u.Query().Has("lang") {
					continue
				}
				seen[link] = true
				kind := digits.ReplaceAllString(u.Path, "N")
				if kinds[kind] >= 3 {
					continue
				}
				if _, ok := s.html(b, link); !ok {
					continue
				}
				kinds[kind]++
				pages = append(pages, link)
				found = append(found, link)
			}
		}
		frontier = found
	}
	slices.Sort(pages)
	return pages
}

// html fetches a page, and says whether it is an HTML page (downloads,
// images and event streams are not measured here).
func (s *benchSessions) html(b *testing.B, path string) (string, bool) {
	b.Helper()
	resp := s.do(b, http.MethodGet, s.base+path)
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return "", false
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: HTTP %d\n%s", path, resp.StatusCode, body)
	}
	return string(body), true
}

// p99 asks for a page n times and returns the 99th percentile of the time
// to its last byte.
func (s *benchSessions) p99(b *testing.B, path string, n int) time.Duration {
	b.Helper()
	took := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		resp := s.do(b, http.MethodGet, s.base+path)
		_, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: HTTP %d, %v", path, resp.StatusCode, err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[(len(took)*99+99)/100-1]
}
