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
