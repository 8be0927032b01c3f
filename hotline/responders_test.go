package hotline_test

import (
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func TestRespondersAreNamedByChairsOnly(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("edu", storage.RoleChair)
	info := b.person("edu", storage.RoleInfoworker)
	activist := b.person("edu", storage.RoleActivist)
	stranger := b.person("health", storage.RoleActivist)
	edu := b.org["edu"].ID
	tests := []struct {
		name string
		by   access.Actor
		r    storage.Responder
		want error
	}{
		{"an information worker", info, storage.Responder{PersonID: activist.PersonID, OrgID: edu}, access.ErrForbidden},
		{"a chair of another org", chair, storage.Responder{PersonID: stranger.PersonID, OrgID: b.org["health"].ID}, access.ErrForbidden},
		{"someone not in the org", chair, storage.Responder{PersonID: stranger.PersonID, OrgID: edu}, storage.ErrNotFound},
		{"an unknown topic", chair, storage.Responder{PersonID: activist.PersonID, OrgID: edu, Topic: "housing"}, hotline.ErrUnknownTopic},
	}
	for _, tt := range tests {
		is(t, tt.name, b.svc.NameResponder(b.ctx, tt.by, tt.r), tt.want)
	}
	if _, rs, err := b.svc.Responders(b.ctx, chair, edu); err != nil || len(rs) != 0 {
		t.Fatalf("refused names left %+v, %v", rs, err)
	}
	r := storage.Responder{PersonID: activist.PersonID, OrgID: edu, Topic: "legal"}
	mustDo(b, b.svc.NameResponder(b.ctx, chair, r))
	mustDo(b, b.svc.NameResponder(b.ctx, chair, r)) // idempotent
	if org, rs, err := b.svc.Responders(b.ctx, chair, edu); err != nil || org.ID != edu || len(rs) != 1 || rs[0] != r {
		t.Fatalf("responders %+v, %v", rs, err)
	}
	_, _, err := b.svc.Responders(b.ctx, info, edu)
	is(t, "an information worker's list", err, access.ErrForbidden)
	if _, members, err := b.svc.Candidates(b.ctx, chair, edu); err != nil || len(members) != 3 {
		t.Fatalf("candidates %d, %v; want the org's three people", len(members), err)
	}
	is(t, "removed by an information worker", b.svc.RemoveResponder(b.ctx, info, r), access.ErrForbidden)
	mustDo(b, b.svc.RemoveResponder(b.ctx, chair, r))
	is(t, "removed twice", b.svc.RemoveResponder(b.ctx, chair, r), storage.ErrNotFound)
}

func TestDeskBindingAndReplies(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	desk := storage.ChatBinding{Platform: storage.Telegram, ChatID: "-77", OrgID: b.org["school"].ID, Title: "Desk"}
	_, err := b.svc.BindDesk(b.ctx, member, desk)
	is(t, "a member binds a desk", err, access.ErrForbidden)
	org, err := b.svc.BindDesk(b.ctx, chair, desk)
	if err != nil || org.Code != "school" {
		t.Fatalf("bound %s, %v", org.Code, err)
	}
	if got, err := b.store.DeskOf(b.ctx, org.ID); err != nil || !got.Desk || got.BoundBy != chair.PersonID || !got.BoundAt.Equal(b.now) {
		t.Fatalf("desk %+v, %v", got, err)
	}
	id := b.ask(member, "wages").Ticket.ID
	mustDo(b, b.store.AddDeskPost(b.ctx, storage.DeskPost{TicketID: id, Platform: storage.Telegram, ChatID: "-77", MessageID: "5"}))

	_, err = b.svc.DeskTicket(b.ctx, chair, storage.Telegram, "-77", "6")
	is(t, "a reply to another message", err, storage.ErrNotFound)
	_, err = b.svc.DeskTicket(b.ctx, member, storage.Telegram, "-77", "5")
	is(t, "a member's reply in the desk", err, access.ErrForbidden)
	tk, err := b.svc.DeskTicket(b.ctx, chair, storage.Telegram, "-77", "5")
	if err != nil || tk.ID != id {
		t.Fatalf("desk ticket %d, %v", tk.ID, err)
	}
	b.now = b.now.Add(time.Hour)
	reached, err := b.svc.DeskReply(b.ctx, chair, id, hotline.Message{Text: "Tomorrow."}, "tg:9")
	if err != nil || !reached {
		t.Fatalf("desk reply reached %v, %v", reached, err)
	}
	if tk := b.ticket(id); tk.Status != storage.TicketTaken || tk.AssigneeID != chair.PersonID || tk.FirstResponseAt == nil {
		t.Fatalf("a desk reply did not take and answer: %+v", tk)
	}
}

func TestStatsForWhoMayReadThem(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	info := b.person("edu", storage.RoleInfoworker)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	b.now = b.now.Add(2 * time.Hour)
	if _, err := b.svc.Answer(b.ctx, chair, id, hotline.Message{Text: "Yes."}, "r"); err != nil {
		t.Fatal(err)
	}
	r, err := b.svc.Stats(b.ctx, info, b.org["edu"])
	if err != nil || r.Tickets != 1 || r.First.Median != 2*time.Hour || len(r.ByTopic) != 1 || r.ByTopic[0].Topic != "wages" {
		t.Fatalf("stats %+v, %v", r, err)
	}
	_, err = b.svc.Stats(b.ctx, info, b.org["health"])
	is(t, "another branch's stats", err, access.ErrForbidden)
	_, err = b.svc.Stats(b.ctx, member, b.org["school"])
	is(t, "a member's stats", err, access.ErrForbidden)
	// Thirty days later the ticket has left the window.
	b.now = b.now.Add(hotline.StatsPeriod)
	if r, err := b.svc.Stats(b.ctx, chair, b.org["school"]); err != nil || r.Tickets != 0 || r.UnansweredNow != 0 {
		t.Fatalf("stats a month later %+v, %v", r, err)
	}
}
