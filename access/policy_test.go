package access

import (
	"testing"

	"github.com/unionhub/unionhub/storage"
)

func TestAllowedFollowsTheTreeDownOnly(t *testing.T) {
	t.Parallel()
	// union(1) ─ edu(2) ─ school(4)
	//          └ health(3) ─ hospital(5)
	union := storage.Org{ID: 1, Path: "/1/"}
	edu := storage.Org{ID: 2, Path: "/1/2/"}
	health := storage.Org{ID: 3, Path: "/1/3/"}
	school := storage.Org{ID: 4, Path: "/1/2/4/"}
	hospital := storage.Org{ID: 5, Path: "/1/3/5/"}
	// A sibling whose path shares a prefix of digits must not be taken for a child.
	edu2 := storage.Org{ID: 22, Path: "/1/22/"}
	targets := map[string]storage.Org{"union": union, "edu": edu, "health": health, "school": school, "hospital": hospital, "edu2": edu2}

	tests := []struct {
		role    storage.Role
		status  storage.MembershipStatus
		at      storage.Org
		allowed []string // targets the holder may act on, for every action
	}{
		{storage.RoleChair, storage.StatusActive, edu, []string{"edu", "school"}},
		{storage.RoleInfoworker, storage.StatusActive, edu, []string{"edu", "school"}},
		{storage.RoleChair, storage.StatusActive, union, []string{"union", "edu", "health", "school", "hospital", "edu2"}},
		{storage.RoleChair, storage.StatusActive, school, []string{"school"}},
		{storage.RoleActivist, storage.StatusActive, edu, nil},
		{storage.RoleMember, storage.StatusActive, union, nil},
		{storage.RoleSupporter, storage.StatusActive, union, nil},
		{storage.RoleChair, storage.StatusPending, edu, nil},
		{storage.RoleChair, storage.StatusEnded, edu, nil},
		{storage.RoleChair, storage.StatusRejected, union, nil},
		{storage.RoleAdmin, storage.StatusActive, union, []string{"union", "edu", "health", "school", "hospital", "edu2"}},
		{storage.RoleAdmin, storage.StatusEnded, union, nil},
	}
	for _, act := range []Action{ActApprove, ActBindChat, ActConsole} {
		for _, tt := range tests {
			ms := []storage.Membership{{Role: tt.role, Status: tt.status, Org: tt.at}}
			for name, target := range targets {
				want := false
				for _, a := range tt.allowed {
					want = want || a == name
				}
				if got := Allowed(ms, act, target); got != want {
					t.Errorf("%s: %s (%s) at %s on %s = %v, want %v", act, tt.role, tt.status, tt.at.Path, name, got, want)
				}
			}
		}
	}
	// The Union's staff may do everything, on the whole tree.
	for act := range rolesFor {
		if !Allowed([]storage.Membership{{Role: storage.RoleAdmin, Status: storage.StatusActive, Org: union}}, act, hospital) {
			t.Errorf("admin of the union may not %s on a primary", act)
		}
	}
	if Allowed(nil, ActApprove, school) {
		t.Error("no memberships allowed an action")
	}
	if Allowed([]storage.Membership{{Role: storage.RoleChair, Status: storage.StatusActive, Org: edu}}, Action("delete_everything"), school) {
		t.Error("an unknown action was allowed")
	}
}

func TestManagedOrgs(t *testing.T) {
	t.Parallel()
	edu := storage.Org{ID: 2, Path: "/1/2/"}
	school := storage.Org{ID: 4, Path: "/1/2/4/"}
	ms := []storage.Membership{
		{Role: storage.RoleMember, Status: storage.StatusActive, Org: school},
		{Role: storage.RoleChair, Status: storage.StatusActive, Org: edu},
		{Role: storage.RoleInfoworker, Status: storage.StatusActive, Org: edu},
		{Role: storage.RoleChair, Status: storage.StatusPending, Org: school},
	}
	got := ManagedOrgs(ms, ActBindChat)
	if len(got) != 1 || got[0].ID != edu.ID {
		t.Fatalf("ManagedOrgs = %+v, want edu once", got)
	}
	if !NewActor(1, ms).Staff() || NewActor(2, ms[:1]).Staff() || NewActor(3, ms[3:]).Staff() {
		t.Error("Staff: want a chair and an information worker in force, never a member or a pending chair")
	}
}

func TestCanAnswerFollowsTheTreeAndTheTopic(t *testing.T) {
	t.Parallel()
	union := storage.Org{ID: 1, Path: "/1/"}
	edu := storage.Org{ID: 2, Path: "/1/2/"}
	health := storage.Org{ID: 3, Path: "/1/3/"}
	school := storage.Org{ID: 4, Path: "/1/2/4/"}
	orgOf := map[int64]storage.Org{1: union, 2: edu, 3: health, 4: school}
	active := func(role storage.Role, at storage.Org) storage.Membership {
		return storage.Membership{Role: role, Status: storage.StatusActive, Org: at}
	}
	tests := []struct {
		name  string
		ms    []storage.Membership
		rs    []storage.Responder
		topic string
		want  bool
	}{
		{"chair of the member's org", []storage.Membership{active(storage.RoleChair, school)}, nil, "wages", true},
		{"chair above", []storage.Membership{active(storage.RoleChair, union)}, nil, "wages", true},
		{"chair of a sibling branch", []storage.Membership{active(storage.RoleChair, health)}, nil, "wages", false},
		{"information worker is not a responder by role", []storage.Membership{active(storage.RoleInfoworker, school)}, nil, "wages", false},
		{"pending chair", []storage.Membership{{Role: storage.RoleChair, Status: storage.StatusPending, Org: school}}, nil, "wages", false},
		{"named for all topics", []storage.Membership{active(storage.RoleActivist, edu)}, []storage.Responder{{OrgID: 2}}, "wages", true},
		{"named for this topic", []storage.Membership{active(storage.RoleMember, edu)}, []storage.Responder{{OrgID: 2, Topic: "legal"}}, "legal", true},
		{"named for another topic", []storage.Membership{active(storage.RoleMember, edu)}, []storage.Responder{{OrgID: 2, Topic: "legal"}}, "wages", false},
		{"named but no longer a member there", []storage.Membership{active(storage.RoleMember, health)}, []storage.Responder{{OrgID: 2}}, "wages", false},
		{"named in a sibling branch", []storage.Membership{active(storage.RoleMember, health)}, []storage.Responder{{OrgID: 3}}, "wages", false},
		{"named below the member's org", []storage.Membership{active(storage.RoleMember, school)}, []storage.Responder{{OrgID: 4}}, "wages", true},
	}
	for _, tt := range tests {
		if got := CanAnswer(tt.ms, tt.rs, orgOf, school, tt.topic); got != tt.want {
			t.Errorf("%s: CanAnswer = %v, want %v", tt.name, got, tt.want)
		}
	}
	if AsksTicket(0, storage.Ticket{}) || !AsksTicket(7, storage.Ticket{PersonID: 7}) || AsksTicket(7, storage.Ticket{PersonID: 8}) {
		t.Error("AsksTicket gets the asker wrong")
	}
}

func TestActorKeepsTheRolesInForce(t *testing.T) {
	t.Parallel()
	union := storage.Org{ID: 1, Path: "/1/"}
	edu := storage.Org{ID: 2, Path: "/1/2/"}
	a := NewActor(7, []storage.Membership{
		{Role: storage.RoleChair, Status: storage.StatusEnded, Org: union},
		{Role: storage.RoleInfoworker, Status: storage.StatusActive, Org: edu},
	})
	if a.PersonID != 7 || len(a.Roles) != 1 || a.Can(ActPublish, union) || !a.Can(ActPublish, edu) {
		t.Fatalf("actor %+v", a)
	}
	if orgs := a.Orgs(ActPublish); len(orgs) != 1 || orgs[0].ID != edu.ID {
		t.Fatalf("orgs %+v", orgs)
	}
	if a.Can(ActAnswerTicket, edu) {
		t.Fatal("an information worker may answer tickets")
	}
}

func TestWhoManagesTheTree(t *testing.T) {
	t.Parallel()
	union := storage.Org{ID: 1, Path: "/1/"}
	edu := storage.Org{ID: 2, Path: "/1/2/"}
	school := storage.Org{ID: 4, Path: "/1/2/4/"}
	tests := []struct {
		role   storage.Role
		at     storage.Org
		act    Action
		target storage.Org
		want   bool
	}{
		{storage.RoleChair, edu, ActManageOrgs, school, true},
		{storage.RoleChair, school, ActManageOrgs, edu, false},
		{storage.RoleInfoworker, edu, ActManageOrgs, school, false},
		{storage.RoleActivist, school, ActManageOrgs, school, false},
		{storage.RoleAdmin, union, ActManageOrgs, school, true},
		{storage.RoleAdmin, union, ActImportTree, union, true},
		{storage.RoleChair, union, ActImportTree, union, false},
		{storage.RoleInfoworker, union, ActImportTree, union, false},
		// Targets are the elected body's: its chair enters them, for the
		// org and below; an information worker reads them only.
		{storage.RoleChair, edu, ActSetTargets, edu, true},
		{storage.RoleChair, edu, ActSetTargets, school, true},
		{storage.RoleChair, school, ActSetTargets, edu, false},
		{storage.RoleInfoworker, edu, ActSetTargets, school, false},
		{storage.RoleAdmin, union, ActSetTargets, school, true},
		// The contact base goes to whoever sees the org's people.
		{storage.RoleInfoworker, edu, ActContacts, school, true},
		{storage.RoleChair, school, ActContacts, school, true},
		{storage.RoleChair, school, ActContacts, edu, false},
		{storage.RoleActivist, edu, ActContacts, school, false},
		{storage.RoleMember, union, ActContacts, school, false},
	}
	for _, tt := range tests {
		ms := []storage.Membership{{Role: tt.role, Status: storage.StatusActive, Org: tt.at}}
		if got := Allowed(ms, tt.act, tt.target); got != tt.want {
			t.Errorf("%s at %s: %s on %s = %v, want %v", tt.role, tt.at.Path, tt.act, tt.target.Path, got, tt.want)
		}
	}
}

func TestSupporterHoldsNoMemberRights(t *testing.T) {
	t.Parallel()
	school := storage.Org{ID: 4, Path: "/1/2/4/"}
	clinic := storage.Org{ID: 5, Path: "/1/3/5/"}
	supporter := storage.Membership{Org: school, Role: storage.RoleSupporter, Status: storage.StatusActive}
	member := storage.Membership{Org: school, Role: storage.RoleMember, Status: storage.StatusActive}
	elsewhere := storage.Membership{Org: clinic, Role: storage.RoleMember, Status: storage.StatusActive}
	ended := storage.Membership{Org: school, Role: storage.RoleSupporter, Status: storage.StatusEnded}
	tests := []struct {
		name                       string
		ms                         []storage.Membership
		activeIn, supporterIn, any bool
		supported                  int
	}{
		{"a supporter", []storage.Membership{supporter}, false, true, false, 1},
		{"a supporter who is a member elsewhere", []storage.Membership{supporter, elsewhere}, false, true, true, 1},
		{"a member who also supports", []storage.Membership{supporter, member}, true, false, true, 0},
		{"an ended supporter", []storage.Membership{ended}, false, false, false, 0},
		{"a member", []storage.Membership{member}, true, false, true, 0},
	}
	for _, tt := range tests {
		if got := ActiveIn(tt.ms, school.ID); got != tt.activeIn {
			t.Errorf("%s: ActiveIn %v, want %v", tt.name, got, tt.activeIn)
		}
		if got := SupporterIn(tt.ms, school.ID); got != tt.supporterIn {
			t.Errorf("%s: SupporterIn %v, want %v", tt.name, got, tt.supporterIn)
		}
		if got := Member(tt.ms); got != tt.any {
			t.Errorf("%s: Member %v, want %v", tt.name, got, tt.any)
		}
		if got := SupportedOrgs(tt.ms); len(got) != tt.supported {
			t.Errorf("%s: SupportedOrgs %v, want %d", tt.name, got, tt.supported)
		}
		for act := range rolesFor {
			if Allowed(tt.ms[:1], act, school) && tt.ms[0].Role == storage.RoleSupporter {
				t.Errorf("%s: a supporter may %s", tt.name, act)
			}
		}
	}
}
