package storage

import "testing"

func TestAllowedFollowsTheTreeDownOnly(t *testing.T) {
	t.Parallel()
	// union(1) ─ edu(2) ─ school(4)
	//          └ health(3) ─ hospital(5)
	union := Org{ID: 1, Path: "/1/"}
	edu := Org{ID: 2, Path: "/1/2/"}
	health := Org{ID: 3, Path: "/1/3/"}
	school := Org{ID: 4, Path: "/1/2/4/"}
	hospital := Org{ID: 5, Path: "/1/3/5/"}
	// A sibling whose path shares a prefix of digits must not be taken for a child.
	edu2 := Org{ID: 22, Path: "/1/22/"}
	targets := map[string]Org{"union": union, "edu": edu, "health": health, "school": school, "hospital": hospital, "edu2": edu2}

	tests := []struct {
		role    Role
		status  MembershipStatus
		at      Org
		allowed []string // targets the holder may act on, for every action
	}{
		{RoleChair, StatusActive, edu, []string{"edu", "school"}},
		{RoleInfoworker, StatusActive, edu, []string{"edu", "school"}},
		{RoleChair, StatusActive, union, []string{"union", "edu", "health", "school", "hospital", "edu2"}},
		{RoleChair, StatusActive, school, []string{"school"}},
		{RoleActivist, StatusActive, edu, nil},
		{RoleMember, StatusActive, union, nil},
		{RoleChair, StatusPending, edu, nil},
		{RoleChair, StatusEnded, edu, nil},
		{RoleChair, StatusRejected, union, nil},
	}
	for _, act := range []Action{ActApprove, ActBindChat} {
		for _, tt := range tests {
			ms := []Membership{{Role: tt.role, Status: tt.status, Org: tt.at}}
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
	if Allowed(nil, ActApprove, school) {
		t.Error("no memberships allowed an action")
	}
	if Allowed([]Membership{{Role: RoleChair, Status: StatusActive, Org: edu}}, Action("delete_everything"), school) {
		t.Error("an unknown action was allowed")
	}
}

func TestManagedOrgs(t *testing.T) {
	t.Parallel()
	edu := Org{ID: 2, Path: "/1/2/"}
	school := Org{ID: 4, Path: "/1/2/4/"}
	ms := []Membership{
		{Role: RoleMember, Status: StatusActive, Org: school},
		{Role: RoleChair, Status: StatusActive, Org: edu},
		{Role: RoleInfoworker, Status: StatusActive, Org: edu},
		{Role: RoleChair, Status: StatusPending, Org: school},
	}
	got := ManagedOrgs(ms, ActBindChat)
	if len(got) != 1 || got[0].ID != edu.ID {
		t.Fatalf("ManagedOrgs = %+v, want edu once", got)
	}
}

func TestCanAnswerFollowsTheTreeAndTheTopic(t *testing.T) {
	t.Parallel()
	union := Org{ID: 1, Path: "/1/"}
	edu := Org{ID: 2, Path: "/1/2/"}
	health := Org{ID: 3, Path: "/1/3/"}
	school := Org{ID: 4, Path: "/1/2/4/"}
	orgOf := map[int64]Org{1: union, 2: edu, 3: health, 4: school}
	active := func(role Role, at Org) Membership { return Membership{Role: role, Status: StatusActive, Org: at} }
	tests := []struct {
		name  string
		ms    []Membership
		rs    []Responder
		topic string
		want  bool
	}{
		{"chair of the member's org", []Membership{active(RoleChair, school)}, nil, "wages", true},
		{"chair above", []Membership{active(RoleChair, union)}, nil, "wages", true},
		{"chair of a sibling branch", []Membership{active(RoleChair, health)}, nil, "wages", false},
		{"information worker is not a responder by role", []Membership{active(RoleInfoworker, school)}, nil, "wages", false},
		{"pending chair", []Membership{{Role: RoleChair, Status: StatusPending, Org: school}}, nil, "wages", false},
		{"named for all topics", []Membership{active(RoleActivist, edu)}, []Responder{{OrgID: 2}}, "wages", true},
		{"named for this topic", []Membership{active(RoleMember, edu)}, []Responder{{OrgID: 2, Topic: "legal"}}, "legal", true},
		{"named for another topic", []Membership{active(RoleMember, edu)}, []Responder{{OrgID: 2, Topic: "legal"}}, "wages", false},
		{"named but no longer a member there", []Membership{active(RoleMember, health)}, []Responder{{OrgID: 2}}, "wages", false},
		{"named in a sibling branch", []Membership{active(RoleMember, health)}, []Responder{{OrgID: 3}}, "wages", false},
		{"named below the member's org", []Membership{active(RoleMember, school)}, []Responder{{OrgID: 4}}, "wages", true},
	}
	for _, tt := range tests {
		if got := CanAnswer(tt.ms, tt.rs, orgOf, school, tt.topic); got != tt.want {
			t.Errorf("%s: CanAnswer = %v, want %v", tt.name, got, tt.want)
		}
	}
	if AsksTicket(0, Ticket{}) || !AsksTicket(7, Ticket{PersonID: 7}) || AsksTicket(7, Ticket{PersonID: 8}) {
		t.Error("AsksTicket gets the asker wrong")
	}
}
