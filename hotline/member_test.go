package hotline_test

import (
	"strings"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func TestFollowUpGoesToTheTakerElseToTheLevel(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	helper := b.person("school", storage.RoleActivist)
	mustDo(b, b.svc.NameResponder(b.ctx, chair, storage.Responder{PersonID: helper.PersonID, OrgID: b.org["school"].ID}))
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	follow := func(text string) []event {
		t.Helper()
		b.heard.take()
		if err := b.svc.FollowUp(b.ctx, member, id, hotline.Message{Text: text}, "vk:"+text); err != nil {
			t.Fatal(err)
		}
		return b.heard.take()
	}

	// Nobody took it: everyone who answers at its level.
	if es := follow("one"); len(es) != 1 || es[0].kind != "followup" || !sameIDs(es[0].to, chair.PersonID, helper.PersonID) || !strings.HasSuffix(es[0].extra, "|one") {
		t.Fatalf("an untaken ticket's follow-up told %+v", es)
	}
	// The helper took it: only the helper.
	if _, err := b.svc.Take(b.ctx, helper, id); err != nil {
		t.Fatal(err)
	}
	if es := follow("two"); len(es) != 1 || !sameIDs(es[0].to, helper.PersonID) {
		t.Fatalf("a taken ticket's follow-up told %+v", es)
	}
	// The helper cannot be reached: the level after all.
	b.heard.unreachable[helper.PersonID] = true
	if es := follow("three"); len(es) != 2 || !sameIDs(es[0].to, helper.PersonID) || !sameIDs(es[1].to, chair.PersonID, helper.PersonID) {
		t.Fatalf("an unreachable taker's follow-up told %+v", es)
	}
	b.heard.unreachable[helper.PersonID] = false
	// The helper is no longer named: they lost the right, the level gets it.
	mustDo(b, b.svc.RemoveResponder(b.ctx, chair, storage.Responder{PersonID: helper.PersonID, OrgID: b.org["school"].ID}))
	if es := follow("four"); len(es) != 1 || !sameIDs(es[0].to, chair.PersonID) {
		t.Fatalf("a follow-up after the taker lost the right told %+v", es)
	}
	if _, msgs, err := b.svc.Thread(b.ctx, member, id); err != nil || len(msgs) != 5 || !msgs[4].FromMember {
		t.Fatalf("thread %+v, %v", msgs, err)
	}

	err := b.svc.FollowUp(b.ctx, b.person("school", storage.RoleMember), id, hotline.Message{Text: "not mine"}, "r")
	is(t, "someone else's follow-up", err, access.ErrForbidden)
	_, err = b.svc.BeginFollowUp(b.ctx, chair, id)
	is(t, "a chair's follow-up", err, access.ErrForbidden)
	if _, err := b.svc.Close(b.ctx, chair, id); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.BeginFollowUp(b.ctx, member, id)
	is(t, "a follow-up begun on a closed ticket", err, storage.ErrTicketClosed)
	err = b.svc.FollowUp(b.ctx, member, id, hotline.Message{Text: "late"}, "r")
	is(t, "a follow-up to a closed ticket", err, storage.ErrTicketClosed)
}

func TestSolveAndRate(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	if _, err := b.svc.Take(b.ctx, chair, id); err != nil {
		t.Fatal(err)
	}
	err := b.svc.Rate(b.ctx, member, id, 5, "")
	is(t, "rating an open ticket", err, hotline.ErrStillOpen)
	_, err = b.svc.Solve(b.ctx, chair, id)
	is(t, "solving someone else's ticket", err, access.ErrForbidden)
	b.heard.take()
	if _, err := b.svc.Solve(b.ctx, member, id); err != nil {
		t.Fatal(err)
	}
	es := b.heard.take()
	if strings.Join(kinds(es), ",") != "closed,solved,rating" || !sameIDs(es[1].to, chair.PersonID) {
		t.Fatalf("solve told %+v", es)
	}
	for _, tt := range []struct {
		name    string
		by      access.Actor
		stars   int
		comment string
		want    error
	}{
		{"no stars", member, 0, "", hotline.ErrInvalid},
		{"six stars", member, 6, "", hotline.ErrInvalid},
		{"a comment too long", member, 4, strings.Repeat("ы", hotline.MaxComment+1), hotline.ErrInvalid},
		{"by the chair", chair, 5, "", access.ErrForbidden},
	} {
		is(t, tt.name, b.svc.Rate(b.ctx, tt.by, id, tt.stars, tt.comment), tt.want)
	}
	mustDo(b, b.svc.Rate(b.ctx, member, id, 4, ""))
	mustDo(b, b.svc.Rate(b.ctx, member, id, 4, strings.Repeat("ы", hotline.MaxComment)))
	if tk := b.ticket(id); tk.Rating != 4 || len([]rune(tk.RatingComment)) != hotline.MaxComment {
		t.Fatalf("rated %d with %d characters", tk.Rating, len([]rune(tk.RatingComment)))
	}
	// Solving a ticket nobody took tells no responder.
	id = b.ask(member, "wages").Ticket.ID
	b.heard.take()
	if _, err := b.svc.Solve(b.ctx, member, id); err != nil {
		t.Fatal(err)
	}
	if es := b.heard.take(); strings.Join(kinds(es), ",") != "closed,rating" {
		t.Fatalf("solving an untaken ticket told %+v", es)
	}
}

func TestMembersListsAndThreads(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	first := b.ask(member, "wages").Ticket.ID
	second := b.ask(member, "safety").Ticket.ID
	if _, err := b.svc.Close(b.ctx, chair, first); err != nil {
		t.Fatal(err)
	}
	mine, err := b.svc.Mine(b.ctx, member)
	if err != nil || len(mine) != 2 || mine[0].ID != second {
		t.Fatalf("mine %+v, %v; want both, newest first", mine, err)
	}
	open, err := b.svc.MineOpen(b.ctx, member)
	if err != nil || len(open) != 1 || open[0].ID != second {
		t.Fatalf("open %+v, %v", open, err)
	}
	if _, _, err := b.svc.Thread(b.ctx, chair, second); err == nil {
		t.Fatal("a chair read a member's thread as theirs")
	}
	if tk, msgs, err := b.svc.Thread(b.ctx, member, second); err != nil || tk.ID != second || len(msgs) != 1 || msgs[0].Text != "Why was the bonus not paid?" {
		t.Fatalf("thread %+v %+v, %v", tk, msgs, err)
	}
}
