package membership_test

import (
	"errors"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

func TestSupporterAsksToJoinAndIsMadeAMember(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// The school has no leader in the bot: the request goes up to the branch.
	chair, chairAct := f.join("edu", storage.RoleChair, "Председатель обкома")
	sup, supAct := f.join("school", storage.RoleSupporter, "Сторонник")

	app, err := f.svc.AskToJoin(f.ctx, supAct, f.org["school"].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !app.Supporter || app.Membership.Role != storage.RoleMember || app.Membership.Status != storage.StatusPending {
		t.Fatalf("request %+v", app)
	}
	if len(f.notes.asked) != 1 || f.notes.asked[0] != (asked{leader: chair.ID, membership: app.Membership.ID}) {
		t.Fatalf("leaders asked: %+v, want the branch chair", f.notes.asked)
	}
	if _, err := f.svc.AskToJoin(f.ctx, f.actor(sup.ID), f.org["school"].ID); !errors.Is(err, membership.ErrAlreadyAsked) {
		t.Fatalf("second request: %v, want ErrAlreadyAsked", err)
	}

	d, err := f.svc.Decide(f.ctx, chairAct, app.Membership.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.Membership.Status != storage.StatusActive || len(f.notes.told) != 1 {
		t.Fatalf("decision %+v, told %d", d, len(f.notes.told))
	}
	now := f.actor(sup.ID)
	if !access.ActiveIn(now.Roles, f.org["school"].ID) || access.SupporterIn(now.Roles, f.org["school"].ID) || len(now.Roles) != 1 {
		t.Fatalf("after the approval: %+v, want a member only", now.Roles)
	}
	if _, err := f.svc.AskToJoin(f.ctx, now, f.org["school"].ID); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a member asking to join: %v, want ErrForbidden", err)
	}
}

func TestSupporterRejectedStaysASupporter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, chairAct := f.join("school", storage.RoleChair, "Председатель")
	sup, supAct := f.join("school", storage.RoleSupporter, "Сторонник")
	app, err := f.svc.AskToJoin(f.ctx, supAct, f.org["school"].ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.Decide(f.ctx, chairAct, app.Membership.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.Erased || !d.Supporter || d.Membership.Status != storage.StatusRejected {
		t.Fatalf("decision %+v: a supporter is not erased by a rejection", d)
	}
	again := f.actor(sup.ID)
	if !access.SupporterIn(again.Roles, f.org["school"].ID) {
		t.Fatalf("after the rejection: %+v, want still a supporter", again.Roles)
	}
	// They may ask again later.
	if _, err := f.svc.AskToJoin(f.ctx, again, f.org["school"].ID); err != nil {
		t.Fatal(err)
	}
}

func TestAskToJoinRefusesWhoIsNotASupporterThere(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, member := f.join("school", storage.RoleMember, "Член")
	_, sup := f.join("kurilsky", storage.RoleSupporter, "Сторонник")
	for _, tt := range []struct {
		name string
		by   access.Actor
		org  string
	}{
		{"a member", member, "school"},
		{"a supporter of another org", sup, "school"},
		{"nobody", access.Actor{PersonID: 999}, "school"},
	} {
		if _, err := f.svc.AskToJoin(f.ctx, tt.by, f.org[tt.org].ID); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", tt.name, err)
		}
	}
	if len(f.notes.asked) != 0 {
		t.Errorf("leaders asked %+v, want nobody", f.notes.asked)
	}
	pending, err := f.db.PendingMemberships(f.ctx, f.org["union"])
	if err != nil || len(pending) != 0 {
		t.Errorf("pending %+v, %v; want none", pending, err)
	}
}

func TestPublicInviteNeverDemotesAMember(t *testing.T) {
	t.Parallel()
	f := setup(t)
	member, act := f.join("school", storage.RoleMember, "Член")
	inv, err := f.svc.OpenInvite(f.ctx, f.invite("school", storage.RoleSupporter, nil))
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.svc.Join(f.ctx, act, inv)
	if err != nil {
		t.Fatal(err)
	}
	if m.Role != storage.RoleMember {
		t.Fatalf("joined as %s, want to stay a member", m.Role)
	}
	if after := f.actor(member.ID); len(after.Roles) != 1 || access.SupporterIn(after.Roles, f.org["school"].ID) {
		t.Fatalf("roles %+v", after.Roles)
	}
}
