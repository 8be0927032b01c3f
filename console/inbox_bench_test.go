package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// unlimited lets every request through: the benchmark measures pages,
// not the rate limits.
type unlimited struct{}

func (unlimited) Wait(context.Context, string, storage.Rate, bool) error { return nil }
func (unlimited) Allow(context.Context, string, storage.Rate) (bool, time.Duration, error) {
	return true, 0, nil
}

// BenchmarkInboxPages renders the inbox's pages over the programme's scale
// on PostgreSQL, in process (no network): 1,000 primaries, 100,000 members
// and a question from each (two thirds unclosed), for the Union's admin, a
// branch's chair and a primary's chair. It reports the 99th percentile,
// which the issue bounds at 100 ms:
//
//	go test ./console -run '^$' -bench InboxPages -benchtime 200x
func BenchmarkInboxPages(b *testing.B) {
	ctx := context.Background()
	dsn := storagetest.PostgresDSN(b)
	quiet := slog.New(slog.DiscardHandler)
	db, err := postgres.Open(ctx, dsn, quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	tree := storagetest.ProgrammeScale
	storagetest.SeedPostgres(b, db, dsn, tree)
	now := time.Now()
	storagetest.SeedTickets(b, dsn, tree, now)
	catalog, err := locales.Load()
	if err != nil {
		b.Fatal(err)
	}
	svc := signin.New(signin.Config{Store: db, BaseURL: "http://console.test", StaffName: "Аппарат Союза", Logger: quiet})
	con, err := New(Config{SignIn: svc, Store: db, Limiter: unlimited{}, Catalog: catalog,
		Membership: membership.New(membership.Config{Store: db, State: redis.NewMemory(time.Now), Logger: quiet}),
		Hotline:    hotline.New(hotline.Config{Store: db, Notifier: newHotlineNotes(), Logger: quiet}),
		PublicURL:  "http://console.test", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	org := func(code string) storage.Org {
		o, err := db.OrgByCode(ctx, code)
		if err != nil {
			b.Fatal(err)
		}
		return o
	}
	// session signs in a new person with role in org and returns the cookie.
	session := func(code string, role storage.Role) *http.Cookie {
		o := org(code)
		inv := "bench-" + code
		if err := db.CreateInvite(ctx, storage.Invite{Code: inv, OrgID: o.ID, Role: role, CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
		p, _, err := db.Register(ctx, storage.Registration{Platform: storage.Telegram, ExternalID: "bench-" + code, FullName: "Bench " + code,
			Locale: "ru", OrgID: o.ID, Role: role, InviteCode: inv, At: now})
		if err != nil {
			b.Fatal(err)
		}
		ms, err := db.Memberships(ctx, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		l, err := svc.Issue(ctx, access.NewActor(p.ID, ms))
		if err != nil {
			b.Fatal(err)
		}
		s, err := svc.SignIn(ctx, l.Token, "192.0.2.1")
		if err != nil {
			b.Fatal(err)
		}
		return &http.Cookie{Name: con.sessionCookie(), Value: s.Secret}
	}
	admin, branch, primary := session("U", storage.RoleAdmin), session("B3", storage.RoleChair), session("P3-7", storage.RoleChair)
	one := fmt.Sprint(tree.Members / 2)
	for _, bc := range []struct {
		name, path string
		as         *http.Cookie
	}{
		{"home", "/", admin},
		{"union", "/inbox", admin},
		{"union-older", "/inbox?after=" + one, admin},
		{"union-closed", "/inbox?status=closed", admin},
		{"union-overdue", "/inbox?overdue=1", admin},
		{"union-topic", "/inbox?topic=legal&status=all", admin},
		{"union-mine", "/inbox?mine=1", admin},
		{"union-branch", fmt.Sprintf("/inbox?org=%d", org("B3").ID), admin},
		{"union-question", "/inbox/" + one, admin},
		{"branch", "/inbox", branch},
		{"primary", "/inbox", primary},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://console.test"+bc.path, nil)
				req.RemoteAddr = "192.0.2.1:40000"
				req.AddCookie(bc.as)
				w := httptest.NewRecorder()
				start := time.Now()
				con.ServeHTTP(w, req)
				took = append(took, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d\n%s", bc.path, w.Code, w.Body)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
