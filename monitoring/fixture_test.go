package monitoring_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/surveys"
)

// tree: the union, two branches, two primaries under the first and one
// under the second, all on Sakhalin.
var tree = []storage.OrgInput{
	{Code: "union", Name: "Союз", Level: storage.LevelUnion, MemberCount: 5000},
	{Code: "edu", Name: "Образование", ParentCode: "union", Level: storage.LevelBranch, MemberCount: 900},
	{Code: "school", Name: "Школа № 5", ParentCode: "edu", Level: storage.LevelPrimary, MemberCount: 86},
	{Code: "gym", Name: "Гимназия № 1", ParentCode: "edu", Level: storage.LevelPrimary, MemberCount: 112},
	{Code: "health", Name: "Здравоохранение", ParentCode: "union", Level: storage.LevelBranch, MemberCount: 700},
	{Code: "clinic", Name: "Поликлиника № 4", ParentCode: "health", Level: storage.LevelPrimary, MemberCount: 210},
}

// checkSurvey asks the primaries of edu three questions, one behind a
// skip rule, with reminders after two and five days; the chairs and
// information workers of edu read the results.
const checkSurvey = `id: check
title: {ru: Проверка}
questions:
  - {id: board, type: yes_no, required: true, indicator: board, text: {ru: "Есть ли стенд?"}}
  - {id: weekly, type: yes_no, required: true, indicator: board_weekly, if: {question: board, equals: "yes"}, text: {ru: "Обновляется еженедельно?"}}
  - {id: copies, type: number, integer: true, min: 0, indicator: solidarnost_copies, text: {ru: "Сколько экземпляров?"}}
  - {id: note, type: text, max_len: 10, text: {ru: "Комментарий"}}
schedules:
  - {name: monthly, cron: "0 10 1 * *", org: edu, levels: [primary], roles: [infoworker, chair], deadline: 10d, reminders: [2d, 5d], results: [chair, infoworker]}
`

// told is one thing monitoring asked the notifier to tell one person.
type told struct {
	kind   string // invite, closed, board or contacts
	person int64
	run    int64
	org    string
	n      int  // the notice's number (invite), or how many answered (closed)
	again  bool // a board reminder asked for with "remind me tomorrow"
	week   time.Time
	year   int // a contact base's
}

// notes records what monitoring asked to tell whom; people in deaf are not
// reached, those in broken are not reached and the platform fails.
type notes struct {
	mu     sync.Mutex
	deaf   map[int64]bool
	broken map[int64]bool
	told   []told
}

func (n *notes) add(t told) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.told = append(n.told, t)
	if n.broken[t.person] {
		return false, errors.New("502 Bad Gateway")
	}
	return !n.deaf[t.person], nil
}

func (n *notes) InviteToSurvey(_ context.Context, to storage.Contact, s monitoring.SurveyNotice) (bool, error) {
	return n.add(told{kind: "invite", person: to.Person.ID, run: s.Run.ID, org: s.Org.Code, n: s.N})
}

func (n *notes) TellSurveyClosed(_ context.Context, to storage.Contact, c monitoring.SurveyClosed) (bool, error) {
	return n.add(told{kind: "closed", person: to.Person.ID, run: c.Run.ID, org: c.Root.Code, n: c.Answered})
}

func (n *notes) AskBoard(_ context.Context, to storage.Contact, q monitoring.BoardQuestion) (bool, error) {
	return n.add(told{kind: "board", person: to.Person.ID, org: q.Org.Code, again: q.Again, week: q.Week})
}

func (n *notes) SendContactBase(_ context.Context, to storage.Contact, f monitoring.ContactBaseFile) (bool, error) {
	if len(f.Table) != f.People+1 {
		return false, fmt.Errorf("contact base of %d rows for %d people", len(f.Table), f.People)
	}
	return n.add(told{kind: "contacts", person: to.Person.ID, org: f.Org.Code, n: f.People, year: f.Year})
}

// take returns what was told since the last take, and forgets it.
func (n *notes) take() []told {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.told
	n.told = nil
	return out
}

// fixture is one service on a fresh SQLite file with tree imported, its
// clock at now, which the test moves.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlstore.DB
	state *redis.Memory
	notes *notes
	svc   *monitoring.Service
	sv    surveys.Survey
	org   map[string]storage.Org
	loc   *time.Location

	mu  sync.Mutex
	now time.Time
	ids int
}

func setup(t *testing.T, now time.Time, defs ...string) *fixture {
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
	if _, err := db.ImportOrgs(ctx, tree, now); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: db, notes: &notes{deaf: map[int64]bool{}, broken: map[int64]bool{}},
		org: map[string]storage.Org{}, loc: loc, now: now}
	for _, o := range tree {
		if f.org[o.Code], err = db.OrgByCode(ctx, o.Code); err != nil {
			t.Fatal(err)
		}
	}
	var svs []surveys.Survey
	for i, d := range defs {
		sv, err := surveys.Parse("survey"+strconv.Itoa(i)+".yaml", []byte(d))
		if err != nil {
			t.Fatal(err)
		}
		svs = append(svs, sv)
	}
	if len(svs) > 0 {
		f.sv = svs[0]
	}
	f.state = redis.NewMemory(f.clock)
	f.svc = f.service(svs)
	return f
}

// service is another service (a replica) over the same records.
func (f *fixture) service(svs []surveys.Survey) *monitoring.Service {
	return monitoring.New(monitoring.Config{Store: f.db, Locker: f.state, Notifier: f.notes, Surveys: svs,
		Clock: f.clock, Logger: slog.New(slog.DiscardHandler)})
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// person registers someone by invite with role in the org of code; more
// roles join them to other orgs.
func (f *fixture) person(code string, role storage.Role, more ...string) storage.Person {
	f.t.Helper()
	f.ids++
	ext := strconv.Itoa(500 + f.ids)
	invite := func(code string, role storage.Role) string {
		inv := storage.Invite{Code: "invite-" + ext + "-" + code + "-" + string(role), OrgID: f.org[code].ID, Role: role, MaxUses: 1, CreatedAt: f.clock()}
		if err := f.db.CreateInvite(f.ctx, inv); err != nil {
			f.t.Fatal(err)
		}
		return inv.Code
	}
	p, _, err := f.db.Register(f.ctx, storage.Registration{
		Platform: storage.Telegram, ExternalID: ext, FullName: "Person " + ext, Locale: "ru",
		OrgID: f.org[code].ID, Role: role, InviteCode: invite(code, role), At: f.clock(),
		Consents: []storage.Consent{{OrgID: f.org[code].ID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "ru", Accepted: true, At: f.clock()}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(more); i += 2 {
		if _, err := f.db.JoinByInvite(f.ctx, p.ID, invite(more[i], storage.Role(more[i+1])), f.clock()); err != nil {
			f.t.Fatal(err)
		}
	}
	return p
}

// actor is the person acting with the roles they hold now.
func (f *fixture) actor(p storage.Person) access.Actor {
	f.t.Helper()
	ms, err := f.db.Memberships(f.ctx, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return access.NewActor(p.ID, ms)
}

// open opens a run of the fixture's survey's first schedule fired now.
func (f *fixture) open() storage.SurveyRun {
	f.t.Helper()
	run, created, err := f.svc.OpenRun(f.ctx, f.sv, f.sv.Schedules[0], "test", f.clock())
	if err != nil || !created {
		f.t.Fatalf("open run: created %v, %v", created, err)
	}
	return run
}

// round runs the jobs round and fails the test on an error.
func (f *fixture) round() {
	f.t.Helper()
	if err := f.svc.JobsRound(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// target loads where org code stands in run.
func (f *fixture) target(run storage.SurveyRun, code string) storage.SurveyTarget {
	f.t.Helper()
	t, err := f.db.SurveyTarget(f.ctx, run.ID, f.org[code].ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

// must returns v for a test that fails on err: must(call())(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
