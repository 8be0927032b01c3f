package membership_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

// tree: the union, two branches, a primary organisation under each.
var tree = []storage.OrgInput{
	{Code: "union", Name: "Союз", Level: storage.LevelUnion},
	{Code: "edu", Name: "Образование", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "school", Name: "Школа № 5", ParentCode: "edu", Level: storage.LevelPrimary},
	{Code: "fish", Name: "Рыбное хозяйство", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "kurilsky", Name: "Курильский рыбак", ParentCode: "fish", Level: storage.LevelPrimary},
}

// asked is a leader shown an application.
type asked struct {
	leader, membership int64
}

// notes records what membership asked to tell whom; leaders in deaf are
// not reached.
type notes struct {
	mu    sync.Mutex
	deaf  map[int64]bool
	asked []asked
	told  []membership.Decision
	// toldOn are the accounts each decision was told on.
	toldOn [][]storage.Account
}

func (n *notes) AskToDecide(_ context.Context, leader storage.Contact, app membership.Application) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.asked = append(n.asked, asked{leader: leader.Person.ID, membership: app.Membership.ID})
	return !n.deaf[leader.Person.ID], nil
}

func (n *notes) TellDecision(_ context.Context, d membership.Decision, accounts []storage.Account) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.told = append(n.told, d)
	n.toldOn = append(n.toldOn, accounts)
	return len(accounts) > 0, nil
}

// spyStore records the refusals, which no read of the store returns.
type spyStore struct {
	*sqlstore.DB
	mu       sync.Mutex
	refusals []storage.Consent
}

func (s *spyStore) RecordRefusal(ctx context.Context, c storage.Consent) error {
	s.mu.Lock()
	s.refusals = append(s.refusals, c)
	s.mu.Unlock()
	return s.DB.RecordRefusal(ctx, c)
}

// fixture is one service on a fresh SQLite file with tree imported.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *spyStore
	state *redis.Memory
	notes *notes
	svc   *membership.Service
	now   time.Time
	org   map[string]storage.Org
	ids   int
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(ctx, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: &spyStore{DB: db}, notes: &notes{deaf: map[int64]bool{}},
		now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), org: map[string]storage.Org{}}
	if _, err := db.ImportOrgs(ctx, tree, f.now); err != nil {
		t.Fatal(err)
	}
	for _, o := range tree {
		if f.org[o.Code], err = db.OrgByCode(ctx, o.Code); err != nil {
			t.Fatal(err)
		}
	}
	f.state = redis.NewMemory(f.clock)
	f.svc = membership.New(membership.Config{Store: f.db, State: f.state, Notifier: f.notes, Clock: f.clock, Logger: quiet})
	return f
}

func (f *fixture) clock() time.Time { return f.now }

// account returns a new Telegram account.
func (f *fixture) account() membership.Account {
	f.ids++
	return membership.Account{Platform: storage.Telegram, ExternalID: strconv.Itoa(1000 + f.ids)}
}

// invite stores an invite into org for role.
func (f *fixture) invite(org string, role storage.Role, edit func(*storage.Invite)) string {
	f.t.Helper()
	f.ids++
	inv := storage.Invite{Code: "invite" + strconv.Itoa(f.ids), OrgID: f.org[org].ID, Role: role, CreatedAt: f.now}
	if edit != nil {
		edit(&inv)
	}
	if err := f.db.CreateInvite(f.ctx, inv); err != nil {
		f.t.Fatal(err)
	}
	return inv.Code
}

// form is a registration with a name and the consent.
func (f *fixture) form(name string) membership.Form {
	return membership.Form{Account: f.account(), FullName: name, Locale: "ru", ConsentVersion: "v1", ConsentAt: f.now}
}

// join registers someone by invite into org with role.
func (f *fixture) join(org string, role storage.Role, name string) (storage.Person, access.Actor) {
	f.t.Helper()
	form := f.form(name)
	form.OrgID, form.Role, form.InviteCode = f.org[org].ID, role, f.invite(org, role, nil)
	app, err := f.svc.Register(f.ctx, form)
	if err != nil {
		f.t.Fatal(err)
	}
	return app.Applicant, f.actor(app.Applicant.ID)
}

// apply registers someone without an invite into org.
func (f *fixture) apply(org, name string) membership.Application {
	f.t.Helper()
	form := f.form(name)
	form.OrgID, form.Role = f.org[org].ID, storage.RoleMember
	app, err := f.svc.Register(f.ctx, form)
	if err != nil {
		f.t.Fatal(err)
	}
	return app
}

// actor is the person with their memberships as kept now.
func (f *fixture) actor(personID int64) access.Actor {
	f.t.Helper()
	ms, err := f.db.Memberships(f.ctx, personID)
	if err != nil {
		f.t.Fatal(err)
	}
	return access.NewActor(personID, ms)
}

func (f *fixture) membership(id int64) storage.Membership {
	f.t.Helper()
	m, err := f.db.Membership(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func TestRegisterByInviteKeepsThePersonAndTheirConsents(t *testing.T) {
	t.Parallel()
	f := setup(t)
	form := f.form("  Иванова Анна ")
	form.Position, form.WorkEmail, form.PersonalEmail = "Учитель", "ivanova@school5.ru", "anna@mail.ru"
	form.PersonalConsentAt = f.now.Add(time.Minute)
	form.OrgID, form.Role, form.InviteCode = f.org["school"].ID, storage.RoleActivist, f.invite("school", storage.RoleActivist, nil)
	app, err := f.svc.Register(f.ctx, form)
	if err != nil {
		t.Fatal(err)
	}
	p, m := app.Applicant, app.Membership
	if p.FullName != "Иванова Анна" || p.Position != "Учитель" || p.PersonalEmail != "anna@mail.ru" || p.Locale != "ru" {
		t.Fatalf("person %+v", p)
	}
	if m.Status != storage.StatusActive || m.Role != storage.RoleActivist || m.Org.ID != f.org["school"].ID {
		t.Fatalf("membership %+v", m)
	}
	consents, err := f.db.Consents(f.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(consents) != 2 || consents[0].Kind != storage.ConsentPersonalData || !consents[0].Accepted || consents[0].Version != "v1" ||
		consents[1].Kind != storage.ConsentPersonalEmail || !consents[1].At.Equal(form.PersonalConsentAt) {
		t.Fatalf("consents %+v", consents)
	}
	if len(f.notes.asked) != 0 {
		t.Fatalf("an invited registration asked leaders: %+v", f.notes.asked)
	}
}

func TestRegisterRefusesAndKeepsNothing(t *testing.T) {
	t.Parallel()
	past := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		edit   func(f *fixture, form *membership.Form)
		want   error
		bad    string // the *InputError's key, when refused as input
		noKeep bool
	}{
		{"a name without letters", func(_ *fixture, form *membership.Form) { form.FullName = "12345" }, nil, "input.name_letters", true},
		{"an empty name", func(_ *fixture, form *membership.Form) { form.FullName = "   " }, nil, "input.empty", true},
		{"a work address that is none", func(_ *fixture, form *membership.Form) { form.WorkEmail = "anna@" }, nil, "input.email", true},
		{"a personal address without its consent", func(_ *fixture, form *membership.Form) { form.PersonalEmail = "anna@mail.ru" }, membership.ErrConsentNeeded, "", true},
		{"an unknown invite", func(_ *fixture, form *membership.Form) { form.InviteCode = "NoSuchCode" }, storage.ErrNotFound, "", true},
		{"an expired invite", func(f *fixture, form *membership.Form) {
			form.InviteCode = f.invite("school", storage.RoleMember, func(i *storage.Invite) { i.ExpiresAt = &past })
		}, storage.ErrInviteExpired, "", true},
		{"a revoked invite", func(f *fixture, form *membership.Form) {
			form.InviteCode = f.invite("school", storage.RoleMember, func(i *storage.Invite) { i.RevokedAt = &past })
		}, storage.ErrInviteRevoked, "", true},
		{"an invite used up", func(f *fixture, form *membership.Form) {
			form.InviteCode = f.invite("school", storage.RoleMember, func(i *storage.Invite) { i.MaxUses, i.Uses = 1, 1 })
		}, storage.ErrInviteUsedUp, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			form := f.form("Петров Пётр")
			form.OrgID, form.Role, form.InviteCode = f.org["school"].ID, storage.RoleMember, f.invite("school", storage.RoleMember, nil)
			tt.edit(f, &form)
			_, err := f.svc.Register(f.ctx, form)
			var bad *membership.InputError
			switch {
			case tt.bad != "" && (!errors.As(err, &bad) || bad.Key != tt.bad):
				t.Fatalf("Register = %v, want input refused with %s", err, tt.bad)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Register = %v, want %v", err, tt.want)
			}
			if _, err := f.db.PersonByAccount(f.ctx, form.Platform, form.ExternalID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a refused registration kept the person: %v", err)
			}
		})
	}
}

func TestOpenInviteSaysWhyItCannotBeUsed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	past := f.now.Add(-time.Hour)
	tests := []struct {
		name, code string
		want       error
	}{
		{"usable", f.invite("school", storage.RoleChair, nil), nil},
		{"unknown", "NoSuchCodeXXXXXXXXXXXX", storage.ErrNotFound},
		{"expired", f.invite("school", storage.RoleMember, func(i *storage.Invite) { i.ExpiresAt = &past }), storage.ErrInviteExpired},
		{"revoked", f.invite("school", storage.RoleMember, func(i *storage.Invite) { i.RevokedAt = &past }), storage.ErrInviteRevoked},
		{"used up", f.invite("school", storage.RoleMember, func(i *storage.Invite) { i.MaxUses, i.Uses = 2, 2 }), storage.ErrInviteUsedUp},
	}
	for _, tt := range tests {
		inv, err := f.svc.OpenInvite(f.ctx, tt.code)
		if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
			t.Errorf("%s: OpenInvite = %v, want %v", tt.name, err, tt.want)
		}
		if tt.want == nil && (inv.Org.Code != "school" || inv.Invite.Role != storage.RoleChair) {
			t.Errorf("%s: invitation %+v", tt.name, inv)
		}
	}
}

func TestJoinGivesARegisteredPersonTheInvitesRole(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p, act := f.join("school", storage.RoleMember, "Орлова Вера")
	inv, err := f.svc.OpenInvite(f.ctx, f.invite("fish", storage.RoleInfoworker, func(i *storage.Invite) { i.MaxUses = 1 }))
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.svc.Join(f.ctx, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	if m.PersonID != p.ID || m.Role != storage.RoleInfoworker || m.Status != storage.StatusActive || m.Org.Code != "fish" {
		t.Fatalf("joined %+v", m)
	}
	// The single use is spent: nobody else joins with it.
	_, other := f.join("school", storage.RoleMember, "Зайцев Иван")
	if _, err := f.svc.Join(f.ctx, other, inv); !errors.Is(err, storage.ErrInviteUsedUp) {
		t.Fatalf("joining with a used-up invite: %v", err)
	}
}

func TestDeclineKeepsOnlyTheRefusal(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if err := f.svc.Decline(f.ctx, membership.Refusal{OrgID: f.org["school"].ID, ConsentVersion: "v1", Locale: "en"}); err != nil {
		t.Fatal(err)
	}
	want := storage.Consent{OrgID: f.org["school"].ID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "en", At: f.now}
	if len(f.db.refusals) != 1 || f.db.refusals[0] != want {
		t.Fatalf("refusals %+v, want %+v", f.db.refusals, want)
	}
}

func TestApplicationAsksTheLeadersUpTheTree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// leaders registers leaders and returns whom the application must
		// reach, in order.
		leaders func(f *fixture) []int64
		org     string
	}{
		{"the chair and the information worker of the org", func(f *fixture) []int64 {
			chair, _ := f.join("school", storage.RoleChair, "Сидорова Мария")
			info, _ := f.join("school", storage.RoleInfoworker, "Инфова Дарья")
			f.join("school", storage.RoleActivist, "Активов Пётр")
			f.join("edu", storage.RoleChair, "Обкомова Вера")
			return []int64{chair.ID, info.ID}
		}, "school"},
		{"nobody in the org: its branch", func(f *fixture) []int64 {
			chair, _ := f.join("fish", storage.RoleChair, "Рыбакова Ирина")
			return []int64{chair.ID}
		}, "kurilsky"},
		{"nobody reachable in the org: its branch", func(f *fixture) []int64 {
			deaf, _ := f.join("kurilsky", storage.RoleChair, "Глухов Иван")
			f.notes.deaf[deaf.ID] = true
			chair, _ := f.join("fish", storage.RoleChair, "Рыбакова Ирина")
			return []int64{deaf.ID, chair.ID}
		}, "kurilsky"},
		{"nobody anywhere: kept for later", func(*fixture) []int64 { return nil }, "kurilsky"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			want := tt.leaders(f)
			app := f.apply(tt.org, "Новикова Елена")
			if app.Membership.Status != storage.StatusPending {
				t.Fatalf("a code-less registration is %s, want pending", app.Membership.Status)
			}
			var got []int64
			for _, a := range f.notes.asked {
				if a.membership != app.Membership.ID {
					t.Fatalf("asked about membership %d, want %d", a.membership, app.Membership.ID)
				}
				got = append(got, a.leader)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("asked %v, want %v", got, want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		decider func(f *fixture) access.Actor
		approve bool
		// elsewhere gives the applicant an active membership besides.
		elsewhere bool
		status    storage.MembershipStatus
		erased    bool
		want      error
	}{
		{"approved by the chair", func(f *fixture) access.Actor {
			_, a := f.join("school", storage.RoleChair, "Сидорова Мария")
			return a
		},
			true, false, storage.StatusActive, false, nil},
		{"approved by the branch's information worker", func(f *fixture) access.Actor {
			_, a := f.join("edu", storage.RoleInfoworker, "Обкомова Вера")
			return a
		}, true, false, storage.StatusActive, false, nil},
		{"rejected, belonging nowhere else: erased", func(f *fixture) access.Actor {
			_, a := f.join("school", storage.RoleChair, "Сидорова Мария")
			return a
		}, false, false, storage.StatusRejected, true, nil},
		{"rejected, a member elsewhere: kept", func(f *fixture) access.Actor {
			_, a := f.join("school", storage.RoleChair, "Сидорова Мария")
			return a
		}, false, true, storage.StatusRejected, false, nil},
		{"a member's forged approval", func(f *fixture) access.Actor {
			_, a := f.join("school", storage.RoleMember, "Кузнецов Олег")
			return a
		},
			true, false, storage.StatusPending, false, access.ErrForbidden},
		{"a chair sideways", func(f *fixture) access.Actor {
			_, a := f.join("fish", storage.RoleChair, "Рыбакова Ирина")
			return a
		},
			true, false, storage.StatusPending, false, access.ErrForbidden},
		{"nobody", func(*fixture) access.Actor { return access.Actor{} },
			false, false, storage.StatusPending, false, access.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			by := tt.decider(f)
			app := f.apply("school", "Новикова Елена")
			if tt.elsewhere {
				inv, err := f.svc.OpenInvite(f.ctx, f.invite("fish", storage.RoleMember, nil))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.svc.Join(f.ctx, access.Actor{PersonID: app.Applicant.ID}, inv); err != nil {
					t.Fatal(err)
				}
			}
			accounts, err := f.db.Accounts(f.ctx, app.Applicant.ID)
			if err != nil {
				t.Fatal(err)
			}
			d, err := f.svc.Decide(f.ctx, by, app.Membership.ID, tt.approve)
			if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
				t.Fatalf("Decide = %v, want %v", err, tt.want)
			}
			if got := f.membership(app.Membership.ID); got.Status != tt.status {
				t.Fatalf("membership is %s, want %s", got.Status, tt.status)
			}
			person, err := f.db.Person(f.ctx, app.Applicant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if (person.ErasedAt != nil) != tt.erased {
				t.Fatalf("applicant erased at %v, want erased %v", person.ErasedAt, tt.erased)
			}
			if tt.want != nil {
				if len(f.notes.told) != 0 {
					t.Fatalf("a refused decision told the applicant: %+v", f.notes.told)
				}
				return
			}
			if d.Membership.Status != tt.status || d.Erased != tt.erased || !d.Reached || d.Membership.DecidedBy != by.PersonID {
				t.Fatalf("decision %+v", d)
			}
			// Told once, on the accounts they had, even when erased since.
			if len(f.notes.told) != 1 || f.notes.told[0].Erased != tt.erased || !slices.Equal(f.notes.toldOn[0], accounts) {
				t.Fatalf("told %+v on %+v, want once on %+v", f.notes.told, f.notes.toldOn, accounts)
			}
		})
	}
}

func TestALateDecisionSaysWhoDecidedWhen(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair, first := f.join("school", storage.RoleChair, "Сидорова Мария")
	_, second := f.join("school", storage.RoleInfoworker, "Инфова Дарья")
	app := f.apply("school", "Новикова Елена")
	if _, err := f.svc.Decide(f.ctx, first, app.Membership.ID, true); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	_, err := f.svc.Decide(f.ctx, second, app.Membership.ID, false)
	var decided *membership.DecidedError
	if !errors.As(err, &decided) || !errors.Is(err, storage.ErrAlreadyDecided) {
		t.Fatalf("a late decision: %v", err)
	}
	m := decided.Membership
	if m.Status != storage.StatusActive || m.DecidedBy != chair.ID || m.DecidedAt == nil || !m.DecidedAt.Equal(f.now.Add(-time.Hour)) ||
		decided.Applicant.FullName != "Новикова Елена" {
		t.Fatalf("already decided: %+v", decided.Application)
	}
	if len(f.notes.told) != 1 {
		t.Fatalf("the applicant was told %d times", len(f.notes.told))
	}
}

func TestDecideRefusesWhatIsGone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, chair := f.join("school", storage.RoleChair, "Сидорова Мария")
	if _, err := f.svc.Decide(f.ctx, chair, 987654, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an unknown application: %v", err)
	}
	app := f.apply("school", "Новикова Елена")
	if err := f.svc.Forget(f.ctx, access.Actor{PersonID: app.Applicant.ID}); err != nil {
		t.Fatal(err)
	}
	// Erasure ends the application: it is decided, by nobody, and names
	// nobody.
	_, err := f.svc.Decide(f.ctx, chair, app.Membership.ID, true)
	var decided *membership.DecidedError
	if !errors.As(err, &decided) || decided.Applicant.ErasedAt == nil || decided.Applicant.FullName != "" ||
		decided.Membership.Status != storage.StatusEnded || decided.Membership.DecidedBy != 0 {
		t.Fatalf("an application whose applicant erased themselves: %v", err)
	}
	if got := f.membership(app.Membership.ID); got.Status != storage.StatusEnded {
		t.Fatalf("the application became %s", got.Status)
	}
}

func TestPendingListsWhatTheActorMayDecide(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, branch := f.join("edu", storage.RoleChair, "Обкомова Вера")
	_, school := f.join("school", storage.RoleInfoworker, "Инфова Дарья")
	// Two roles over the same application count it once.
	inv, err := f.svc.OpenInvite(f.ctx, f.invite("school", storage.RoleChair, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Join(f.ctx, branch, inv); err != nil {
		t.Fatal(err)
	}
	branch = f.actor(branch.PersonID)
	_, member := f.join("school", storage.RoleMember, "Кузнецов Олег")
	first := f.apply("school", "Первая Анна")
	f.apply("kurilsky", "Рыбаков Пётр")
	second := f.apply("school", "Вторая Анна")

	for name, by := range map[string]access.Actor{"branch": branch, "school": school} {
		got, err := f.svc.Pending(f.ctx, by)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		if want := []int64{first.Membership.ID, second.Membership.ID}; !slices.Equal(ids, want) {
			t.Errorf("%s: pending %v, want %v", name, ids, want)
		}
	}
	if _, err := f.svc.Pending(f.ctx, member); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a member's pending list: %v", err)
	}
}
