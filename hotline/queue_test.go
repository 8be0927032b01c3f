package hotline_test

import (
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

func TestQueueListsWhatEachMayAnswer(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	school := b.person("school", storage.RoleChair)
	branch := b.person("edu", storage.RoleChair)
	lawyer := b.person("edu", storage.RoleActivist)
	mustDo(b, b.svc.NameResponder(b.ctx, branch, storage.Responder{PersonID: lawyer.PersonID, OrgID: b.org["edu"].ID, Topic: "legal"}))
	teacher := b.person("school", storage.RoleMember)
	pupil := b.person("gymnasium", storage.RoleMember)
	nurse := b.person("clinic", storage.RoleMember)
	wages := b.ask(teacher, "wages").Ticket.ID
	legal := b.ask(pupil, "legal").Ticket.ID
	b.ask(nurse, "wages") // another branch
	closed := b.ask(teacher, "safety").Ticket.ID
	if _, err := b.svc.Close(b.ctx, school, closed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		by   access.Actor
		want []int64
	}{
		{"the school's chair", school, []int64{wages}},
		{"the branch's chair", branch, []int64{wages, legal}},
		{"the branch's lawyer, for legal help", lawyer, []int64{legal}},
	}
	for _, tt := range tests {
		got, err := b.svc.Queue(b.ctx, tt.by)
		var ids []int64
		for _, tk := range got {
			ids = append(ids, tk.ID)
		}
		if err != nil || !sameIDs(ids, tt.want...) {
			t.Errorf("%s: queue %v, %v; want %v", tt.name, ids, err, tt.want)
		}
	}
	_, err := b.svc.Queue(b.ctx, teacher)
	is(t, "a member's queue", err, access.ErrForbidden)
	if roots, err := b.svc.AnswerRoots(b.ctx, lawyer); err != nil || len(roots) != 1 || roots[0].Code != "edu" {
		t.Fatalf("the lawyer answers under %+v, %v", roots, err)
	}

	tk := b.ticket(wages)
	if ok, err := b.svc.MemberReachable(b.ctx, tk); err != nil || !ok {
		t.Fatalf("reachable %v, %v", ok, err)
	}
	b.heard.serves[storage.Telegram] = false
	if ok, _ := b.svc.MemberReachable(b.ctx, tk); ok {
		t.Fatal("a member on a platform nobody serves is reachable")
	}
	b.heard.serves[storage.Telegram] = true
	accounts, err := b.store.Accounts(b.ctx, teacher.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	mustDo(b, b.store.MarkBlocked(b.ctx, storage.Telegram, accounts[0].ExternalID, b.now))
	if ok, _ := b.svc.MemberReachable(b.ctx, tk); ok {
		t.Fatal("a member who blocked the bot is reachable")
	}
}
