package signin_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

var tree = []storage.OrgInput{
	{Code: "union", Name: "Союз", Level: storage.LevelUnion},
	{Code: "edu", Name: "Образование", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "school", Name: "Школа № 5", ParentCode: "edu", Level: storage.LevelPrimary},
}

// clock stands still until the test moves it.
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

type fixture struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	db    *sqlstore.DB
	clock *clock
	svc   *signin.Service
}

// newFixture opens a fresh SQLite file; withTree imports the tree.
func newFixture(t *testing.T, withTree bool) *fixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	f := &fixture{t: t, ctx: ctx, dir: dir, db: db, clock: c,
		svc: signin.New(signin.Config{Store: db, BaseURL: "https://hub.example.org/", StaffName: "Аппарат Союза", Clock: c.Now})}
	if withTree {
		f.importTree()
	}
	return f
}

func (f *fixture) importTree() {
	f.t.Helper()
	if _, err := f.db.ImportOrgs(f.ctx, tree, f.clock.Now()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) org(code string) storage.Org {
	f.t.Helper()
	o, err := f.db.OrgByCode(f.ctx, code)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

// person registers someone on Telegram with role in org, in force.
func (f *fixture) person(ext, org string, role storage.Role) access.Actor {
	f.t.Helper()
	code := "inv-" + ext
	if err := f.db.CreateInvite(f.ctx, storage.Invite{Code: code, OrgID: f.org(org).ID, Role: role, CreatedAt: f.clock.Now()}); err != nil {
		f.t.Fatal(err)
	}
	p, _, err := f.db.Register(f.ctx, storage.Registration{Platform: storage.Telegram, ExternalID: ext, FullName: "Person " + ext,
		Locale: "ru", OrgID: f.org(org).ID, Role: role, InviteCode: code, At: f.clock.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	ms, err := f.db.Memberships(f.ctx, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return access.NewActor(p.ID, ms)
}

// signIn issues a link for by and uses it.
func (f *fixture) signIn(by access.Actor) signin.Session {
	f.t.Helper()
	l, err := f.svc.Issue(f.ctx, by)
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := f.svc.SignIn(f.ctx, l.Token, "192.0.2.1")
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// endMemberships ends a person's roles the way the records would show it.
func (f *fixture) endMemberships(personID int64) {
	f.t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, sqlite.FileName))
	if err != nil {
		f.t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(f.ctx, "UPDATE memberships SET status = 'ended' WHERE person_id = ?", personID); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) wantEnded(secret, reason string) {
	f.t.Helper()
	_, err := f.svc.Resume(f.ctx, secret)
	var ended *signin.EndedError
	if !errors.As(err, &ended) || ended.Reason != reason {
		f.t.Fatalf("Resume: %v, want the session ended (%s)", err, reason)
	}
}

func TestIssueOnlyToStaff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	tests := []struct {
		name string
		by   access.Actor
		ok   bool
	}{
		{"chair", f.person("1", "school", storage.RoleChair), true},
		{"information worker", f.person("2", "edu", storage.RoleInfoworker), true},
		{"admin", f.person("3", "union", storage.RoleAdmin), true},
		{"activist", f.person("4", "school", storage.RoleActivist), false},
		{"member", f.person("5", "school", storage.RoleMember), false},
		{"nobody", access.Actor{}, false},
	}
	for _, tt := range tests {
		l, err := f.svc.Issue(f.ctx, tt.by)
		if !tt.ok {
			if !errors.Is(err, access.ErrForbidden) {
				t.Errorf("%s: Issue = %v, want forbidden", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if l.URL != "https://hub.example.org/signin/"+l.Token || len(l.Token) != 43 || l.PersonID != tt.by.PersonID ||
			!l.ExpiresAt.Equal(f.clock.Now().Add(10*time.Minute)) {
			t.Errorf("%s: link %+v", tt.name, l)
		}
		// The store never holds the token itself.
		if _, err := f.db.SignInLink(f.ctx, l.Token); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: the token is stored as it is: %v", tt.name, err)
		}
	}
	entries, err := f.db.Audit(f.ctx, storage.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].Action != signin.AuditLinkIssued || entries[0].PersonID != tests[2].by.PersonID {
		t.Errorf("audit %+v, want the three links issued", entries)
	}
}

func TestALinkIsSpentOnceAndOnlyBySigningIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	chair := f.person("1", "school", storage.RoleChair)
	l, err := f.svc.Issue(f.ctx, chair)
	if err != nil {
		t.Fatal(err)
	}
	// Previews (a messenger's link preview, the GET page) spend nothing.
	for range 3 {
		p, err := f.svc.Preview(f.ctx, l.Token)
		if err != nil || p.Name != "Person 1" || p.GrantAdmin {
			t.Fatalf("preview %+v, %v", p, err)
		}
	}
	s, err := f.svc.SignIn(f.ctx, l.Token, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.PersonID != chair.PersonID || s.Setup || !s.Actor.Staff() || len(s.Secret) != 43 || s.Secret == l.Token {
		t.Errorf("session %+v", s)
	}
	if _, err := f.svc.SignIn(f.ctx, l.Token, "192.0.2.1"); !errors.Is(err, storage.ErrLinkUsed) {
		t.Errorf("a second use: %v, want used", err)
	}
	if _, err := f.svc.Preview(f.ctx, l.Token); !errors.Is(err, storage.ErrLinkUsed) {
		t.Errorf("a preview after use: %v, want used", err)
	}

	late, err := f.svc.Issue(f.ctx, chair)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	for _, try := range []func() error{
		func() error { _, err := f.svc.Preview(f.ctx, late.Token); return err },
		func() error { _, err := f.svc.SignIn(f.ctx, late.Token, ""); return err },
	} {
		if err := try(); !errors.Is(err, storage.ErrLinkExpired) {
			t.Errorf("a link ten minutes old: %v, want expired", err)
		}
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 43), strings.Repeat("!", 43), l.Token + "x"} {
		if _, err := f.svc.SignIn(f.ctx, bad, ""); !errors.Is(err, signin.ErrLinkUnknown) {
			t.Errorf("token %q: %v, want unknown", bad, err)
		}
	}
	entries, err := f.db.Audit(f.ctx, storage.AuditQuery{PersonID: chair.PersonID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[1].Action != signin.AuditSignIn || entries[1].IP != "192.0.2.1" {
		t.Errorf("audit %+v, want two links issued and one sign-in", entries)
	}
}

func TestRacingUsesOfOneLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	l, err := f.svc.Issue(f.ctx, f.person("1", "school", storage.RoleChair))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { _, errs[i] = f.svc.SignIn(f.ctx, l.Token, "") })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrLinkUsed):
			t.Errorf("a losing use: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d sessions from one link, want 1", won)
	}
}

func TestALinkOfSomeoneNoLongerStaffIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	chair := f.person("1", "school", storage.RoleChair)
	l, err := f.svc.Issue(f.ctx, chair)
	if err != nil {
		t.Fatal(err)
	}
	f.endMemberships(chair.PersonID)
	if _, err := f.svc.Preview(f.ctx, l.Token); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("preview: %v, want forbidden", err)
	}
	if _, err := f.svc.SignIn(f.ctx, l.Token, ""); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("sign-in: %v, want forbidden", err)
	}
}

func TestSessionsEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		after  func(f *fixture, s signin.Session)
		reason string
	}{
		{"signed out", func(f *fixture, s signin.Session) {
			if err := f.svc.SignOut(f.ctx, s.Secret, "192.0.2.2"); err != nil {
				f.t.Fatal(err)
			}
		}, signin.EndSignedOut},
		{"idle for 12 hours", func(f *fixture, _ signin.Session) { f.clock.Advance(12 * time.Hour) }, signin.EndIdle},
		{"seven days old, however active", func(f *fixture, s signin.Session) {
			end := s.CreatedAt.Add(signin.MaxAge)
			for f.clock.Now().Add(11 * time.Hour).Before(end) {
				f.clock.Advance(11 * time.Hour)
				if _, err := f.svc.Resume(f.ctx, s.Secret); err != nil {
					f.t.Fatalf("an active session ended early: %v", err)
				}
			}
			f.clock.Advance(end.Sub(f.clock.Now()))
		}, signin.EndExpired},
		{"the person erased", func(f *fixture, s signin.Session) {
			if err := f.db.Forget(f.ctx, s.PersonID, f.clock.Now()); err != nil {
				f.t.Fatal(err)
			}
		}, signin.EndErased},
		{"the role lost", func(f *fixture, s signin.Session) { f.endMemberships(s.PersonID) }, signin.EndRoleLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, true)
			s := f.signIn(f.person("1", "school", storage.RoleChair))
			if _, err := f.svc.Resume(f.ctx, s.Secret); err != nil {
				t.Fatal(err)
			}
			tt.after(f, s)
			f.wantEnded(s.Secret, tt.reason)
			// Ended stays ended, whatever changes after.
			f.clock.Advance(time.Minute)
			f.wantEnded(s.Secret, tt.reason)
		})
	}
}

func TestResumeIsOneReadMostly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	s := f.signIn(f.person("1", "school", storage.RoleChair))
	f.clock.Advance(time.Minute)
	got, err := f.svc.Resume(f.ctx, s.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeenAt.Equal(s.LastSeenAt) {
		t.Errorf("a request a minute later moved the idle clock: %v", got.LastSeenAt)
	}
	f.clock.Advance(5 * time.Minute)
	if got, err = f.svc.Resume(f.ctx, s.Secret); err != nil || !got.LastSeenAt.Equal(f.clock.Now()) {
		t.Errorf("six minutes later the idle clock reads %v (%v), want now", got.LastSeenAt, err)
	}
	for _, bad := range []string{"", "nonsense", strings.Repeat("A", 43)} {
		f.wantEnded(bad, signin.EndUnknown)
	}
}

// TestAliveKeepsNoSessionAlive: a page that watches for news checks its
// session on every poll without being the person's activity, so the
// session still ends when they are away, and Alive tells it.
func TestAliveKeepsNoSessionAlive(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	s := f.signIn(f.person("1", "school", storage.RoleChair))
	for range 12 {
		f.clock.Advance(59 * time.Minute)
		got, err := f.svc.Alive(f.ctx, s.Secret)
		if err != nil || got.PersonID != s.PersonID || len(got.Actor.Roles) != 1 {
			t.Fatalf("Alive: %+v, %v", got, err)
		}
		if !got.LastSeenAt.Equal(s.LastSeenAt) {
			t.Fatalf("Alive moved the idle clock to %v", got.LastSeenAt)
		}
	}
	f.clock.Advance(12 * time.Minute)
	_, err := f.svc.Alive(f.ctx, s.Secret)
	var ended *signin.EndedError
	if !errors.As(err, &ended) || ended.Reason != signin.EndIdle {
		t.Fatalf("Alive after 12 idle hours: %v, want the session ended (idle)", err)
	}
	f.wantEnded(s.Secret, signin.EndIdle)
}

func TestTheFirstAdminLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	if has, err := f.svc.HasAdmin(f.ctx); err != nil || has {
		t.Fatalf("an empty database has an admin: %v, %v", has, err)
	}
	l, err := f.svc.AdminLink(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !l.GrantAdmin || l.PersonID != 0 {
		t.Fatalf("the first admin link %+v", l)
	}
	if p, err := f.svc.Preview(f.ctx, l.Token); err != nil || p.Name != "Аппарат Союза" || !p.GrantAdmin {
		t.Fatalf("preview %+v, %v", p, err)
	}
	// With no tree yet: a setup session.
	s, err := f.svc.SignIn(f.ctx, l.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Setup || s.Actor.Staff() || s.Person.FullName != "Аппарат Союза" {
		t.Fatalf("session on an empty database %+v", s)
	}
	if accs, err := f.db.Accounts(f.ctx, s.PersonID); err != nil || len(accs) != 0 {
		t.Errorf("the staff person's accounts %+v, %v", accs, err)
	}
	if s, err = f.svc.Resume(f.ctx, s.Secret); err != nil || !s.Setup {
		t.Fatalf("setup session resumed: %+v, %v", s, err)
	}

	// Once the tree is loaded, the staff person is the Union's admin.
	f.importTree()
	s, err = f.svc.Resume(f.ctx, s.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if s.Setup || !s.Actor.Can(access.ActApprove, f.org("school")) || s.GrantAdmin {
		t.Fatalf("session after the tree arrived %+v", s)
	}
	if has, err := f.svc.HasAdmin(f.ctx); err != nil || !has {
		t.Fatalf("no admin after the grant: %v", err)
	}
	entries, err := f.db.Audit(f.ctx, storage.AuditQuery{PersonID: s.PersonID, Limit: 10})
	if err != nil || len(entries) != 2 || entries[0].Action != signin.AuditAdminGranted || entries[0].OrgID != f.org("union").ID ||
		entries[1].Action != signin.AuditSignIn {
		t.Errorf("audit %+v, %v; want the sign-in, then the grant", entries, err)
	}
	// The next admin link signs the same staff person in, granting nothing.
	next, err := f.svc.AdminLink(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.GrantAdmin || next.PersonID != s.PersonID {
		t.Errorf("the next admin link %+v, want one for person %d", next, s.PersonID)
	}
	again, err := f.svc.SignIn(f.ctx, next.Token, "")
	if err != nil || again.PersonID != s.PersonID || again.Setup {
		t.Errorf("signing in with it: %+v, %v", again, err)
	}
}

func TestAdminLinkWithATreeSignsInAnAdmin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	// No admin yet: the link makes the staff person one on first use.
	l, err := f.svc.AdminLink(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.svc.SignIn(f.ctx, l.Token, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Setup || !s.Actor.Can(access.ActPublish, f.org("union")) {
		t.Fatalf("session %+v", s)
	}
	// An unused link changes nothing: printing one at every start is safe.
	g := newFixture(t, true)
	if _, err := g.svc.AdminLink(g.ctx); err != nil {
		t.Fatal(err)
	}
	if has, err := g.svc.HasAdmin(g.ctx); err != nil || has {
		t.Errorf("an unused admin link made an admin: %v, %v", has, err)
	}
	// An admin invited through the bot is whom the link is for.
	admin := g.person("7", "union", storage.RoleAdmin)
	l, err = g.svc.AdminLink(g.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.GrantAdmin || l.PersonID != admin.PersonID {
		t.Errorf("link %+v, want one for the admin %d", l, admin.PersonID)
	}
}
