package hotline_test

import (
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func TestEscalationClimbsToWhoeverCanAnswer(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	school := b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	id := b.ask(member, "wages").Ticket.ID
	answered := b.ask(member, "safety").Ticket.ID
	if _, err := b.svc.Answer(b.ctx, school, answered, hotline.Message{Text: "Done."}, "r"); err != nil {
		t.Fatal(err)
	}
	due := b.ticket(id).DueAt

	// Not due yet: nothing moves.
	b.heard.take()
	b.now = due.Add(-time.Minute)
	mustDo(b, b.svc.Escalate(b.ctx))
	if es := b.heard.take(); len(es) != 0 {
		t.Fatalf("a sweep before the deadline told %+v", es)
	}

	// Due, nobody above: it stays, its deadline moves, its chair is shown it again.
	b.now = due
	mustDo(b, b.svc.Escalate(b.ctx))
	tk := b.ticket(id)
	if tk.LevelOrgID != b.org["school"].ID || tk.Escalations != 0 || !tk.DueAt.After(due) {
		t.Fatalf("overdue with nobody above: %+v", tk)
	}
	es := b.heard.take()
	if len(es) != 1 || es[0].kind != "waiting" || es[0].reason != hotline.ReasonStillWaiting || !sameIDs(es[0].to, school.PersonID) {
		t.Fatalf("overdue with nobody above told %+v", es)
	}

	// The branch's chair joins: at the next deadline it climbs to them.
	branch := b.person("edu", storage.RoleChair)
	b.now = tk.DueAt
	mustDo(b, b.svc.Escalate(b.ctx))
	tk = b.ticket(id)
	if tk.LevelOrgID != b.org["edu"].ID || tk.Escalations != 1 || tk.Status != storage.TicketOpen {
		t.Fatalf("escalated: %+v", tk)
	}
	es = b.heard.take()
	if strings.Join(kinds(es), ",") != "overdue,moved,waiting" ||
		!sameIDs(es[0].to, school.PersonID) || es[0].org != b.org["edu"].ID ||
		es[1].extra != "true" || !sameIDs(es[1].to, member.PersonID) ||
		es[2].reason != hotline.ReasonEscalated || !sameIDs(es[2].to, branch.PersonID) {
		t.Fatalf("escalation told %+v", es)
	}
	// A second sweep at the same moment finds nothing; the answered ticket
	// never moved.
	mustDo(b, b.svc.Escalate(b.ctx))
	if es := b.heard.take(); len(es) != 0 {
		t.Fatalf("a second sweep told %+v", es)
	}
	if tk := b.ticket(answered); tk.LevelOrgID != b.org["school"].ID || tk.Escalations != 0 {
		t.Fatalf("an answered ticket was swept: %+v", tk)
	}
}
