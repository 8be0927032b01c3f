package hotline_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func TestOnlyThoseWhoMayAnswerActOnATicket(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	outsiders := map[string]access.Actor{
		"the member":                  member,
		"nobody":                      {},
		"a sibling school's chair":    b.person("gymnasium", storage.RoleChair),
		"a sibling branch's chair":    b.person("health", storage.RoleChair),
		"an information worker above": b.person("edu", storage.RoleInfoworker),
	}
	for name, by := range outsiders {
		_, err := b.svc.TicketToAnswer(b.ctx, by, id)
		is(t, name+" sees", err, access.ErrForbidden)
		_, err = b.svc.Take(b.ctx, by, id)
		is(t, name+" takes", err, access.ErrForbidden)
		_, err = b.svc.BeginAnswer(b.ctx, by, id)
		is(t, name+" begins an answer", err, access.ErrForbidden)
		_, err = b.svc.Answer(b.ctx, by, id, hotline.Message{Text: "x"}, "r")
		is(t, name+" answers", err, access.ErrForbidden)
		_, err = b.svc.HandUp(b.ctx, by, id)
		is(t, name+" hands up", err, access.ErrForbidden)
		_, err = b.svc.Close(b.ctx, by, id)
		is(t, name+" closes", err, access.ErrForbidden)
	}
	_, err := b.svc.Take(b.ctx, chair, 999)
	is(t, "a missing ticket", err, storage.ErrNotFound)
	if tk := b.ticket(id); tk.Status != storage.TicketOpen || tk.AssigneeID != 0 || tk.FirstResponseAt != nil {
		t.Fatalf("refused actions changed the ticket: %+v", tk)
	}
	// Upper levels may take their subtree's questions at any time.
	for _, by := range []access.Actor{b.person("edu", storage.RoleChair), b.person("union", storage.RoleAdmin), chair} {
		if _, err := b.svc.TicketToAnswer(b.ctx, by, id); err != nil {
			t.Errorf("person %d may not see the ticket: %v", by.PersonID, err)
		}
	}
}

func TestTwoTakesOneWinsTheOtherIsToldWho(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	school := b.person("school", storage.RoleChair)
	branch := b.person("edu", storage.RoleChair)
	id := b.ask(b.person("school", storage.RoleMember), "wages").Ticket.ID
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, by := range []access.Actor{school, branch} {
		wg.Go(func() { _, errs[i] = b.svc.Take(b.ctx, by, id) })
	}
	wg.Wait()
	tk := b.ticket(id)
	winner, loser := 0, 1
	if tk.AssigneeID == branch.PersonID {
		winner, loser = 1, 0
	}
	var taken *hotline.TakenError
	if errs[winner] != nil || !errors.As(errs[loser], &taken) || !errors.Is(errs[loser], storage.ErrAlreadyTaken) {
		t.Fatalf("race: %v", errs)
	}
	if tk.Status != storage.TicketTaken || taken.By != tk.AssigneeID {
		t.Fatalf("the loser was told %d took it; the ticket %+v", taken.By, tk)
	}
	// Beginning an answer leaves a taken ticket with its taker.
	if _, err := b.svc.BeginAnswer(b.ctx, []access.Actor{school, branch}[loser], id); err != nil {
		t.Fatal(err)
	}
	if b.ticket(id).AssigneeID != tk.AssigneeID {
		t.Fatal("beginning an answer took the ticket from its taker")
	}
}

func TestAnswerTellsTheTruthAboutDelivery(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	if _, err := b.svc.BeginAnswer(b.ctx, chair, id); err != nil {
		t.Fatal(err)
	}
	if tk := b.ticket(id); tk.AssigneeID != chair.PersonID || tk.Status != storage.TicketTaken {
		t.Fatalf("a reply began on an open ticket did not take it: %+v", tk)
	}
	b.heard.take()
	tests := []struct {
		name        string
		unreachable bool
		fail        error
		reached     bool
	}{
		{"delivered", false, nil, true},
		{"the member blocked the bot", true, nil, false},
		{"the messenger failed", false, errors.New("messenger down"), false},
	}
	for i, tt := range tests {
		b.heard.unreachable[member.PersonID], b.heard.fail = tt.unreachable, tt.fail
		reached, err := b.svc.Answer(b.ctx, chair, id, hotline.Message{Text: "Paid in October."}, "tg:"+tt.name)
		if err != nil || reached != tt.reached {
			t.Fatalf("%s: reached %v, %v; want %v", tt.name, reached, err, tt.reached)
		}
		es := b.heard.take()
		if len(es) != 1 || es[0].kind != "answered" || !strings.Contains(es[0].extra, "|chair@School 5|Paid in October.|tg:"+tt.name) {
			t.Fatalf("%s: told %+v", tt.name, es)
		}
		// Kept whatever happened to the delivery: it shows in the thread.
		if _, msgs, err := b.svc.Thread(b.ctx, member, id); err != nil || len(msgs) != i+2 {
			t.Fatalf("%s: thread of %d, %v", tt.name, len(msgs), err)
		}
	}
	b.heard.fail = nil
	if tk := b.ticket(id); tk.FirstResponseAt == nil {
		t.Fatal("an answer set no first response")
	}
	_, err := b.svc.Answer(b.ctx, chair, id, hotline.Message{}, "r")
	is(t, "an empty answer", err, hotline.ErrInvalid)
	if _, err := b.svc.Close(b.ctx, chair, id); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Answer(b.ctx, chair, id, hotline.Message{Text: "Late"}, "r")
	is(t, "an answer to a closed ticket", err, storage.ErrTicketClosed)
}

func TestHandUpGoesWhereSomeoneCanAnswerOrNowhere(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	school := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	b.heard.take()

	// Nobody above in the bot: the ticket stays, nobody is told.
	_, err := b.svc.HandUp(b.ctx, school, id)
	is(t, "hand up to nobody", err, hotline.ErrNobodyAbove)
	if tk := b.ticket(id); tk.LevelOrgID != b.org["school"].ID {
		t.Fatalf("the ticket moved to org %d with nobody there", tk.LevelOrgID)
	}
	if es := b.heard.take(); len(es) != 0 {
		t.Fatalf("hand-up to nobody told %+v", es)
	}

	// The Union's staff join: it goes over the empty branch to them.
	staff := b.person("union", storage.RoleAdmin)
	to, err := b.svc.HandUp(b.ctx, school, id)
	if err != nil || to.Code != "union" {
		t.Fatalf("handed up to %s, %v", to.Code, err)
	}
	tk := b.ticket(id)
	if tk.LevelOrgID != b.org["union"].ID || tk.Status != storage.TicketOpen || tk.Escalations != 0 || !tk.DueAt.After(monday) {
		t.Fatalf("after hand-up: %+v", tk)
	}
	es := b.heard.take()
	if got := kinds(es); strings.Join(got, ",") != "waiting,moved" ||
		es[0].reason != hotline.ReasonHandedUp || !sameIDs(es[0].to, staff.PersonID) ||
		es[1].org != b.org["union"].ID || es[1].extra != "false" || !sameIDs(es[1].to, member.PersonID) {
		t.Fatalf("hand-up told %+v", es)
	}
	_, err = b.svc.HandUp(b.ctx, staff, id)
	is(t, "hand up from the top", err, hotline.ErrTopLevel)
	if _, err := b.svc.Close(b.ctx, staff, id); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.HandUp(b.ctx, staff, id)
	is(t, "hand up a closed ticket", err, storage.ErrTicketClosed)
}

func TestCloseSpendsTheTicketAndAsksForARating(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	b.heard.take()
	closed, err := b.svc.Close(b.ctx, chair, id)
	if err != nil || closed.Status != storage.TicketClosed || closed.ClosedAt == nil {
		t.Fatalf("closed %+v, %v", closed, err)
	}
	if es := b.heard.take(); strings.Join(kinds(es), ",") != "closed,rating" || es[0].extra != string(storage.TicketClosed) || !sameIDs(es[1].to, member.PersonID) {
		t.Fatalf("close told %+v", es)
	}
	for name, call := range map[string]func() error{
		"close again": func() error { _, err := b.svc.Close(b.ctx, chair, id); return err },
		"take":        func() error { _, err := b.svc.Take(b.ctx, chair, id); return err },
		"reply":       func() error { _, err := b.svc.BeginAnswer(b.ctx, chair, id); return err },
		"solve":       func() error { _, err := b.svc.Solve(b.ctx, member, id); return err },
	} {
		is(t, name, call(), storage.ErrTicketClosed)
	}
	if es := b.heard.take(); len(es) != 0 {
		t.Fatalf("refused presses on a closed ticket told %+v", es)
	}
	// A closed ticket can still be shown to those who may answer it.
	if _, err := b.svc.TicketToAnswer(b.ctx, chair, id); err != nil {
		t.Fatal(err)
	}
	// The rating request failing is the close's error, after the close.
	id = b.ask(member, "wages").Ticket.ID
	b.heard.fail = errors.New("messenger down")
	if closed, err := b.svc.Close(b.ctx, chair, id); err == nil || closed.Status != storage.TicketClosed {
		t.Fatalf("close with a failing rating request: %+v, %v", closed, err)
	}
}
