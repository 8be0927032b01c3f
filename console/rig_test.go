package console

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/surveys"
)

// The console's tests call its handler in-process (no listener): a real
// SQLite file, the in-process state with the rate limits on a clock that
// stands still until the test moves it.

var tree = []storage.OrgInput{
	{Code: "union", Name: "Союз", Level: storage.LevelUnion},
	{Code: "edu", Name: "Образование", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "school", Name: "Школа № 5", ParentCode: "edu", Level: storage.LevelPrimary},
	{Code: "health", Name: "Здравоохранение", ParentCode: "union", Level: storage.LevelBranch},
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rig is one console under test.
type rig struct {
	t       *testing.T
	ctx     context.Context
	dir     string
	db      *sqlstore.DB
	clock   *clock
	signIn  *signin.Service
	console *Console
	told    *toldNotifier
	news    *newsNotes    // what news told people
	heard   *hotlineNotes // what the hot line told people
	surveys *surveyNotes  // whom monitoring invited and reminded
}

type rigOption struct {
	publicURL string
	noTree    bool
	groups    []func(c *Console) pageGroup
	files     map[storage.Platform]hotline.FileSource // the hot line's downloads
}

func newRig(t *testing.T, opts ...func(o *rigOption)) *rig {
	t.Helper()
	o := rigOption{publicURL: "http://console.test", groups: pageGroups}
	for _, f := range opts {
		f(&o)
	}
	ctx := t.Context()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(ctx, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	told := &toldNotifier{}
	state := redis.NewMemory(c.Now)
	notes := &newsNotes{}
	heard := newHotlineNotes()
	invited := &surveyNotes{}
	svc := signin.New(signin.Config{Store: db, BaseURL: o.publicURL, StaffName: "Аппарат Союза", Clock: c.Now})
	con, err := newConsole(Config{
		SignIn: svc, Store: db, Limiter: state, Catalog: catalog,
		Membership: membership.New(membership.Config{Store: db, State: state, Notifier: told, Clock: c.Now, Logger: quiet}),
		Hotline:    hotline.New(hotline.Config{Store: db, Notifier: heard, Files: o.files, Clock: c.Now, Logger: quiet}),
		Orgs:       orgs.New(orgs.Config{Store: db, Clock: c.Now, Logger: quiet}),
		News:       news.New(news.Config{Store: db, Notifier: notes, Clock: c.Now, Logger: quiet}),
		Monitoring: monitoring.New(monitoring.Config{Store: db, Notifier: invited, Surveys: []surveys.Survey{testSurvey(t)}, Clock: c.Now, Logger: quiet}),
		PublicURL:  o.publicURL, Messengers: Messengers{Telegram: true}, InviteLinks: testInviteLinks, Clock: c.Now, Logger: quiet,
	}, o.groups)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, ctx: ctx, dir: dir, db: db, clock: c, signIn: svc, console: con, told: told, news: notes, heard: heard, surveys: invited}
	if !o.noTree {
		r.importTree()
	}
	return r
}

func (r *rig) importTree() {
	r.t.Helper()
	if _, err := r.db.ImportOrgs(r.ctx, tree, r.clock.Now()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) org(code string) storage.Org {
	r.t.Helper()
	o, err := r.db.OrgByCode(r.ctx, code)
	if err != nil {
		r.t.Fatal(err)
	}
	return o
}

// nextAccount numbers the test people's messenger accounts.
var nextAccount atomic.Int64

// person registers someone with role in org, in force (pending without
// an invite when role is "").
func (r *rig) person(name, org string, role storage.Role) access.Actor {
	r.t.Helper()
	ext := strconv.FormatInt(nextAccount.Add(1), 10)
	reg := storage.Registration{Platform: storage.Telegram, ExternalID: ext, FullName: name, Locale: "ru",
		OrgID: r.org(org).ID, Role: role, At: r.clock.Now()}
	if role == "" {
		reg.Role = storage.RoleMember
	} else {
		reg.InviteCode = "inv-" + ext
		if err := r.db.CreateInvite(r.ctx, storage.Invite{Code: reg.InviteCode, OrgID: reg.OrgID, Role: role, CreatedAt: r.clock.Now()}); err != nil {
			r.t.Fatal(err)
		}
	}
	p, _, err := r.db.Register(r.ctx, reg)
	if err != nil {
		r.t.Fatal(err)
	}
	ms, err := r.db.Memberships(r.ctx, p.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return access.NewActor(p.ID, ms)
}

// link issues a sign-in link for by and returns its path.
func (r *rig) link(by access.Actor) string {
	r.t.Helper()
	l, err := r.signIn.Issue(r.ctx, by)
	if err != nil {
		r.t.Fatal(err)
	}
	return signin.LinkPath + l.Token
}

// endMemberships ends a person's roles the way the records would show it.
func (r *rig) endMemberships(personID int64) {
	r.t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(r.dir, sqlite.FileName))
	if err != nil {
		r.t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(r.ctx, "UPDATE memberships SET status = 'ended' WHERE person_id = ?", personID); err != nil {
		r.t.Fatal(err)
	}
}

// browser is a browser: its address and its cookies.
type browser struct {
	r       *rig
	ip      string
	cookies map[string]*http.Cookie
}

func (r *rig) browser(ip string) *browser {
	return &browser{r: r, ip: ip, cookies: map[string]*http.Cookie{}}
}

// do sends a request as this browser and keeps the cookies it is given;
// headers are name, value pairs.
func (b *browser) do(method, target string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	b.r.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequestWithContext(b.r.ctx, method, "http://console.test"+target, body)
	req.RemoteAddr = b.ip + ":40000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.r.console.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

func (b *browser) get(target string, headers ...string) *httptest.ResponseRecorder {
	return b.do(http.MethodGet, target, nil, headers...)
}

// post sends a form, with the session's CSRF token unless the form has one.
func (b *browser) post(target string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	return b.do(http.MethodPost, target, form, headers...)
}

// signIn opens a session for by.
func (b *browser) signIn(by access.Actor) {
	b.r.t.Helper()
	if w := b.post(b.r.link(by), nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		b.r.t.Fatalf("sign-in: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the browser's session, read from a page as a
// person's browser would.
func (b *browser) csrf() string {
	b.r.t.Helper()
	w := b.get("/")
	m := csrfInput.FindStringSubmatch(w.Body.String())
	if m == nil {
		b.r.t.Fatalf("no CSRF field on the home page (%d):\n%s", w.Code, w.Body)
	}
	return m[1]
}

// want checks a response's status and that its body holds every part.
func want(t *testing.T, w *httptest.ResponseRecorder, status int, parts ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body:\n%s", w.Code, status, w.Body)
	}
	for _, p := range parts {
		if !strings.Contains(w.Body.String(), p) {
			t.Fatalf("no %q in the %d page:\n%s", p, w.Code, w.Body)
		}
	}
}
