package news_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
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

// told is one thing news asked the notifier to tell one person.
type told struct {
	kind      string // relay, note, suggestion, decided, progress or failed
	person    int64
	broadcast int64
	org       string // the level offered, noted or shown
	reminder  bool   // a relay reminder
	decide    bool   // a suggestion shown with its decisions
	published bool   // a decision: published, else declined
	reason    string
	note      string
	// rows is how many deliveries the noted level had when its note came.
	rows   int
	status storage.BroadcastStatus // of a progress message
	final  bool
	report news.Report
	item   news.Suggested
	file   string // the name of the file a relay offer says goes with the item
	notice storage.ActionNotice
}

// recorder records what news asked to tell whom.
type recorder struct {
	db  *sqlstore.DB
	mu  sync.Mutex
	all []told
}

func (r *recorder) add(t told) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, t)
}

// take returns what was told since the last take, and forgets it.
func (r *recorder) take() []told {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.all
	r.all = nil
	return out
}

func (r *recorder) OfferRelay(_ context.Context, to storage.Contact, o news.RelayOffer) (bool, error) {
	t := told{kind: "relay", person: to.Person.ID, broadcast: o.Broadcast.ID, org: o.Level.Code, reminder: o.Reminder}
	if o.File != nil {
		t.file = o.File.Name
	}
	r.add(t)
	return true, nil
}

func (r *recorder) RelayNoted(broadcastID, orgID int64, note string) {
	rows := 0
	counts, err := r.db.DeliveryCounts(context.Background(), broadcastID)
	if err != nil {
		panic(err)
	}
	for _, c := range counts {
		if c.OrgID == orgID {
			rows += c.Count
		}
	}
	o, err := r.db.Org(context.Background(), orgID)
	if err != nil {
		panic(err)
	}
	r.add(told{kind: "note", broadcast: broadcastID, org: o.Code, note: note, rows: rows})
}

func (r *recorder) OfferSuggestion(_ context.Context, to storage.Contact, o news.SuggestionOffer) (bool, error) {
	r.add(told{kind: "suggestion", person: to.Person.ID, org: o.Level.Code, decide: o.Decide, item: o.Item})
	return true, nil
}

func (r *recorder) SuggestionDecided(_ context.Context, d news.Decision) (bool, error) {
	r.add(told{kind: "decided", person: d.Suggestion.AuthorID, org: d.At.Code, published: d.Published, reason: d.Reason})
	return true, nil
}

func (r *recorder) ShowProgress(_ context.Context, p news.Progress) error {
	r.add(told{kind: "progress", person: p.Broadcast.AuthorID, broadcast: p.Broadcast.ID, status: p.Broadcast.Status, final: p.Final, report: p.Report})
	return nil
}

func (r *recorder) BroadcastFailed(_ context.Context, b storage.Broadcast) (bool, error) {
	r.add(told{kind: "failed", person: b.AuthorID, broadcast: b.ID})
	return true, nil
}

func (r *recorder) ActionNotice(_ context.Context, n news.ActionNote) (bool, error) {
	r.add(told{kind: "action", person: n.PersonID, broadcast: n.Broadcast.ID, org: n.Sender.Code, notice: n.Notice})
	return true, nil
}

// engine counts the kicks news gives the delivery engine.
type engine struct{ kicks atomic.Int32 }

func (e *engine) Kick() { e.kicks.Add(1) }

// failingStore is the store with an outbox that cannot be streamed.
type failingStore struct{ *sqlstore.DB }

func (f failingStore) StreamOutbox(context.Context, storage.Broadcast, storage.OutboxScope, storage.OutboxStream) (int, error) {
	return 0, errors.New("statement timeout")
}

// fixture is one service on a fresh SQLite file with tree imported, its
// clock at 10:00 on a Monday on Sakhalin, which the test moves.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *sqlstore.DB
	state  *redis.Memory
	told   *recorder
	engine *engine
	svc    *news.Service
	org    map[string]storage.Org

	mu  sync.Mutex
	now time.Time
	ids int
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, db: db, told: &recorder{db: db}, engine: &engine{}, org: map[string]storage.Org{},
		now: time.Date(2026, 3, 2, 10, 0, 0, 0, loc)}
	if _, err := db.ImportOrgs(ctx, tree, f.now); err != nil {
		t.Fatal(err)
	}
	for _, o := range tree {
		if f.org[o.Code], err = db.OrgByCode(ctx, o.Code); err != nil {
			t.Fatal(err)
		}
	}
	f.state = redis.NewMemory(f.clock)
	f.svc = f.service(db)
	return f
}

// service is another service (a replica) over st.
func (f *fixture) service(st news.Store) *news.Service {
	return news.New(news.Config{Store: st, Locker: f.state, Notifier: f.told, Engine: f.engine,
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

// rows counts a broadcast's deliveries by the code of their org and status.
func (f *fixture) rows(broadcastID int64) map[string]map[storage.DeliveryStatus]int {
	f.t.Helper()
	counts, err := f.db.DeliveryCounts(f.ctx, broadcastID)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]map[storage.DeliveryStatus]int{}
	for _, c := range counts {
		for code, o := range f.org {
			if o.ID == c.OrgID {
				if out[code] == nil {
					out[code] = map[storage.DeliveryStatus]int{}
				}
				out[code][c.Status] += c.Count
			}
		}
	}
	return out
}

// queued counts a broadcast's queued deliveries in the orgs of codes.
func (f *fixture) queued(broadcastID int64, codes ...string) int {
	f.t.Helper()
	rows, n := f.rows(broadcastID), 0
	for _, code := range codes {
		n += rows[code][storage.DeliveryQueued]
	}
	return n
}

// broadcast loads a broadcast.
func (f *fixture) broadcast(id int64) storage.Broadcast {
	f.t.Helper()
	b, err := f.db.Broadcast(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// round runs the timers round and fails the test on an error.
func (f *fixture) round() {
	f.t.Helper()
	if err := f.svc.TimersRound(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// kinds lists the kinds of what was told, in order.
func kinds(ts []told) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.kind)
	}
	return out
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
