package news_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// relayCrew is who takes part in a relayed item from the union: the edu
// branch has an information worker and a chair, the school a chair, the
// gymnasium and the health branch nobody who publishes.
type relayCrew struct {
	author, eduInfo, eduChair, schoolChair storage.Person
	b                                      storage.Broadcast
}

// relay sends a relayed item from the union and forgets what that told.
func (f *fixture) relay() relayCrew {
	f.t.Helper()
	c := relayCrew{
		author:      f.person("union", storage.RoleInfoworker),
		eduInfo:     f.person("edu", storage.RoleInfoworker),
		eduChair:    f.person("edu", storage.RoleChair),
		schoolChair: f.person("school", storage.RoleChair),
	}
	f.people()
	by := f.actor(c.author)
	c.b = must(f.svc.Create(f.ctx, by, news.Draft{OrgID: f.org["union"].ID, Text: "Семинар", Relay: true}, nil))(f.t)
	if err := f.svc.Start(f.ctx, by, c.b); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// steps are the actions of a broadcast's relay steps by org code, "" while
// pending.
func (f *fixture) steps(broadcastID int64) map[string]storage.RelayAction {
	f.t.Helper()
	steps, err := f.db.RelaySteps(f.ctx, broadcastID)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]storage.RelayAction{}
	for _, st := range steps {
		for code, o := range f.org {
			if o.ID == st.OrgID {
				out[code] = st.Action
			}
		}
	}
	return out
}

func TestRelayOffersEachLevelAndPublishesWhereNobodyCanAct(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.relay()
	// Edu's information worker is asked, not its chair; health, with
	// nobody to ask, publishes at once, and so does its clinic below.
	got := f.told.take()
	if len(got) != 1 || got[0].kind != "relay" || got[0].person != c.eduInfo.ID || got[0].org != "edu" || got[0].reminder {
		t.Fatalf("told %+v: want the offer to edu's information worker only", got)
	}
	steps := f.steps(c.b.ID)
	if steps["edu"] != "" || steps["health"] != storage.RelayAuto || steps["clinic"] != storage.RelayAuto || len(steps) != 3 {
		t.Fatalf("steps %v", steps)
	}
	if f.queued(c.b.ID, "clinic") != 1 || f.queued(c.b.ID, "edu", "school", "gym") != 0 {
		t.Fatalf("rows %v: want the clinic's member only", f.rows(c.b.ID))
	}
}

func TestRelayDecisions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action storage.RelayAction
		note   string
		// rows queued in edu (its information worker and chair), the school
		// (two members and the chair, who is offered it only) and the
		// gymnasium (its activist; nobody there decides, so it is published).
		edu, school, gym int
		offered          bool // the school's chair is offered it
	}{
		{storage.RelayPublished, "", 2, 0, 1, true},
		{storage.RelayNoted, "Для всех школ.", 2, 0, 1, true},
		{storage.RelaySkipped, "", 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			c := f.relay()
			f.told.take()
			org, err := f.svc.Relay(f.ctx, f.actor(c.eduChair), c.b.ID, f.org["edu"].ID, tt.action, tt.note)
			if err != nil || org.Code != "edu" {
				t.Fatalf("relay: %s, %v", org.Code, err)
			}
			if got := f.steps(c.b.ID)["edu"]; got != tt.action {
				t.Fatalf("edu's step %q", got)
			}
			rows := f.rows(c.b.ID)
			if rows["edu"][storage.DeliveryQueued] != tt.edu || rows["school"][storage.DeliveryQueued] != tt.school || rows["gym"][storage.DeliveryQueued] != tt.gym {
				t.Fatalf("rows %v", rows)
			}
			got := f.told.take()
			var offered, noted bool
			for _, x := range got {
				switch {
				case x.kind == "relay" && x.org == "school" && x.person == c.schoolChair.ID:
					offered = true
				case x.kind == "note" && x.org == "edu" && x.note == tt.note:
					// The note is known before any of edu's deliveries.
					noted = x.rows == 0
				default:
					t.Errorf("told %+v", x)
				}
			}
			if offered != tt.offered || noted != (tt.note != "") {
				t.Fatalf("told %+v: offered %v, noted before the rows %v", got, offered, noted)
			}
			// One decision counts.
			if _, err := f.svc.Relay(f.ctx, f.actor(c.eduInfo), c.b.ID, f.org["edu"].ID, storage.RelayPublished, ""); !errors.Is(err, storage.ErrAlreadyDecided) {
				t.Fatalf("second decision: %v", err)
			}
		})
	}
}

func TestRelayRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.relay()
	member := f.person("school", storage.RoleMember)
	edu := f.org["edu"].ID
	tests := []struct {
		name   string
		by     access.Actor
		b, org int64
		action storage.RelayAction
		note   string
		err    error
	}{
		{"a member", f.actor(member), c.b.ID, edu, storage.RelayPublished, "", access.ErrForbidden},
		{"the school's chair, for the branch", f.actor(c.schoolChair), c.b.ID, edu, storage.RelayPublished, "", access.ErrForbidden},
		{"no such broadcast", f.actor(c.eduChair), 999, edu, storage.RelayPublished, "", storage.ErrNotFound},
		{"an empty note", f.actor(c.eduChair), c.b.ID, edu, storage.RelayNoted, " ", news.ErrInvalid},
		{"a note too long", f.actor(c.eduChair), c.b.ID, edu, storage.RelayNoted, strings.Repeat("я", news.MaxNote+1), news.ErrInvalid},
		{"the deadline's action", f.actor(c.eduChair), c.b.ID, edu, storage.RelayAuto, "", news.ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := f.svc.Relay(f.ctx, tt.by, tt.b, tt.org, tt.action, tt.note); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
	}
	if got := f.steps(c.b.ID)["edu"]; got != "" {
		t.Fatalf("a refusal decided edu's step: %q", got)
	}
	if _, err := f.svc.Stop(f.ctx, f.actor(c.author), c.b.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.RelayLevel(f.ctx, f.actor(c.eduChair), c.b.ID, edu); !errors.Is(err, news.ErrCancelled) {
		t.Fatalf("level of a stopped broadcast: %v", err)
	}
	if _, err := f.svc.Relay(f.ctx, f.actor(c.eduChair), c.b.ID, edu, storage.RelayPublished, ""); !errors.Is(err, news.ErrCancelled) {
		t.Fatalf("relaying a stopped broadcast: %v", err)
	}
}

func TestRelayRemindsHalfwayAndPublishesAtTheDeadline(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.relay()
	f.told.take()
	f.advance(news.RelayPeriod / 2)
	f.round()
	if got := f.told.take(); len(got) != 0 {
		t.Fatalf("reminded at half the period exactly: %+v", got)
	}
	f.advance(time.Minute)
	f.round()
	got := f.told.take()
	if len(got) != 1 || got[0].kind != "relay" || !got[0].reminder || got[0].person != c.eduInfo.ID {
		t.Fatalf("told %+v: want one reminder to edu's information worker", got)
	}
	f.round()
	if got := f.told.take(); len(got) != 0 {
		t.Fatalf("reminded twice: %+v", got)
	}
	f.advance(news.RelayPeriod / 2)
	f.round()
	if steps := f.steps(c.b.ID); steps["edu"] != storage.RelayAuto || steps["gym"] != storage.RelayAuto || steps["school"] != "" {
		t.Fatalf("at the deadline: %v", steps)
	}
	if got := f.told.take(); len(got) != 1 || got[0].org != "school" || got[0].reminder {
		t.Fatalf("told %+v: want the school offered it", got)
	}
	// The school got it at the deadline, past which nobody waits: its
	// members and its chair get it.
	f.round()
	if steps := f.steps(c.b.ID); steps["school"] != storage.RelayAuto || f.queued(c.b.ID, "school") != 3 {
		t.Fatalf("after the deadline: %v, rows %v", steps, f.rows(c.b.ID))
	}
}
