package hotline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

// bed is a hot-line service on a fresh SQLite file with a small tree:
//
//	union ─ edu ─ school, gymnasium
//	      └ health ─ clinic
type bed struct {
	t     *testing.T
	ctx   context.Context
	store *sqlstore.DB
	heard *recorder
	now   time.Time
	svc   *hotline.Service
	org   map[string]storage.Org
	n     int
}

var tree = []storage.OrgInput{
	{Code: "union", Name: "Union", Level: storage.LevelUnion},
	{Code: "edu", Name: "Education", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "health", Name: "Health", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "school", Name: "School 5", ParentCode: "edu", Level: storage.LevelPrimary},
	{Code: "gymnasium", Name: "Gymnasium 1", ParentCode: "edu", Level: storage.LevelPrimary},
	{Code: "clinic", Name: "Clinic 4", ParentCode: "health", Level: storage.LevelPrimary},
}

// monday is Monday 2 March 2026, 10:00 in Sakhalin: within working hours.
var monday = time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("Sakhalin", 11*3600))

// newBed starts a service with the default settings, or with yaml.
func newBed(t *testing.T, yaml string) *bed {
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
	if _, err := db.ImportOrgs(ctx, tree, monday); err != nil {
		t.Fatal(err)
	}
	settings := hotline.DefaultSettings()
	if yaml != "" {
		if settings, err = hotline.ParseSettings("test.yaml", strings.NewReader(yaml)); err != nil {
			t.Fatal(err)
		}
	}
	b := &bed{t: t, ctx: ctx, store: db, heard: newRecorder(), now: monday, org: map[string]storage.Org{}}
	b.svc = hotline.New(hotline.Config{Store: db, Notifier: b.heard, Settings: settings, Clock: func() time.Time { return b.now }, Logger: quiet})
	orgs, err := db.Orgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		b.org[o.Code] = o
	}
	return b
}

// person registers someone with role in org, on Telegram, and returns them
// acting with the roles in force.
func (b *bed) person(org string, role storage.Role) access.Actor {
	b.t.Helper()
	b.n++
	code := fmt.Sprintf("invite%d", b.n)
	if err := b.store.CreateInvite(b.ctx, storage.Invite{Code: code, OrgID: b.org[org].ID, Role: role, CreatedAt: b.now}); err != nil {
		b.t.Fatal(err)
	}
	p, _, err := b.store.Register(b.ctx, storage.Registration{Platform: storage.Telegram, ExternalID: fmt.Sprint(1000 + b.n),
		FullName: fmt.Sprintf("Person %d", b.n), Locale: "ru", OrgID: b.org[org].ID, Role: role, InviteCode: code, At: b.now,
		Consents: []storage.Consent{{OrgID: b.org[org].ID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "ru", Accepted: true, At: b.now}}})
	if err != nil {
		b.t.Fatal(err)
	}
	return b.actor(p.ID)
}

// actor is a person with the memberships they hold now.
func (b *bed) actor(personID int64) access.Actor {
	b.t.Helper()
	ms, err := b.store.Memberships(b.ctx, personID)
	if err != nil {
		b.t.Fatal(err)
	}
	return access.NewActor(personID, ms)
}

// ask asks a wages question from the member's first organisation.
func (b *bed) ask(member access.Actor, topic string) hotline.Asked {
	b.t.Helper()
	asked, err := b.svc.Ask(b.ctx, member, hotline.Question{OrgID: member.Roles[0].Org.ID, Topic: topic, Message: hotline.Message{Text: "Why was the bonus not paid?"}})
	if err != nil {
		b.t.Fatal(err)
	}
	return asked
}

func (b *bed) ticket(id int64) storage.Ticket {
	b.t.Helper()
	t, err := b.store.Ticket(b.ctx, id)
	if err != nil {
		b.t.Fatal(err)
	}
	return t
}

// event is something the service told the notifier.
type event struct {
	kind   string // the Notifier method
	ticket int64
	reason hotline.Reason
	to     []int64 // the people told, or the member's org for member notices
	desk   bool
	org    int64 // where the ticket went, for Overdue and Moved
	extra  string
}

// recorder is a Notifier that keeps what it was told. People in unreachable
// get nothing; a platform missing from serves is not talked to.
type recorder struct {
	mu          sync.Mutex
	events      []event
	serves      map[storage.Platform]bool
	unreachable map[int64]bool
	fail        error // returned by every delivery once set
}

func newRecorder() *recorder {
	return &recorder{serves: map[storage.Platform]bool{storage.Telegram: true, storage.VK: true}, unreachable: map[int64]bool{}}
}

func (r *recorder) add(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// take returns the events so far and forgets them.
func (r *recorder) take() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func people(to hotline.Recipients) []int64 {
	var ids []int64
	for _, c := range to.People {
		ids = append(ids, c.Person.ID)
	}
	return ids
}

// reaches reports whether any of to gets a message.
func (r *recorder) reaches(to hotline.Recipients) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if to.Desk != nil {
		return true
	}
	for _, c := range to.People {
		if !r.unreachable[c.Person.ID] {
			return true
		}
	}
	return false
}

func (r *recorder) member(t storage.Ticket) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.unreachable[t.PersonID]
}

func (r *recorder) Serves(p storage.Platform) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.serves[p]
}

func (r *recorder) TicketWaiting(_ context.Context, w hotline.Waiting) error {
	r.add(event{kind: "waiting", ticket: w.Ticket.ID, reason: w.Reason, to: people(w.To), desk: w.To.Desk != nil, org: w.Level.ID})
	return r.fail
}

func (r *recorder) TicketOverdue(_ context.Context, o hotline.Overdue) error {
	r.add(event{kind: "overdue", ticket: o.Ticket.ID, to: people(o.Remind), desk: o.Remind.Desk != nil, org: o.To.ID})
	return r.fail
}

func (r *recorder) TicketMoved(_ context.Context, m hotline.Moved) (bool, error) {
	r.add(event{kind: "moved", ticket: m.Ticket.ID, to: []int64{m.Ticket.PersonID}, org: m.To.ID, extra: fmt.Sprint(m.Escalated)})
	return r.member(m.Ticket), r.fail
}

func (r *recorder) TicketAnswered(_ context.Context, a hotline.Answered) (bool, error) {
	as := ""
	if a.As != nil {
		as = string(a.As.Role) + "@" + a.As.Org.Name
	}
	r.add(event{kind: "answered", ticket: a.Ticket.ID, to: []int64{a.Ticket.PersonID}, extra: a.Responder.FullName + "|" + as + "|" + a.Text + "|" + a.Ref})
	if r.fail != nil {
		return false, r.fail
	}
	return r.member(a.Ticket), nil
}

func (r *recorder) FollowUpAdded(_ context.Context, f hotline.FollowUp) (bool, error) {
	r.add(event{kind: "followup", ticket: f.Ticket.ID, to: people(f.To), desk: f.To.Desk != nil, extra: f.Member.FullName + "|" + f.Text})
	if r.fail != nil {
		return false, r.fail
	}
	return r.reaches(f.To), nil
}

func (r *recorder) TicketClosed(_ context.Context, t storage.Ticket) {
	r.add(event{kind: "closed", ticket: t.ID, extra: string(t.Status)})
}

func (r *recorder) TicketSolved(_ context.Context, t storage.Ticket, responderID int64) (bool, error) {
	r.add(event{kind: "solved", ticket: t.ID, to: []int64{responderID}})
	return true, r.fail
}

func (r *recorder) RatingWanted(_ context.Context, t storage.Ticket) (bool, error) {
	r.add(event{kind: "rating", ticket: t.ID, to: []int64{t.PersonID}})
	return r.member(t), r.fail
}

// kinds lists the kinds of events, in order.
func kinds(es []event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.kind)
	}
	return out
}

func sameIDs(got []int64, want ...int64) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// is fails the test unless err is (or wraps) want.
func is(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}
