package storagetest

import (
	"slices"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// testSupporters walks a supporter's life in the store: registered by a
// public (supporter) invite, never over a member, asking to join, made a
// member by an approval, and how audiences and coverage see them.
func testSupporters(x *suite) {
	o := x.tree()
	x.invite("pub-p1", o["P1"].ID, storage.RoleSupporter, 0)
	x.invite("pub-p2", o["P2"].ID, storage.RoleSupporter, 0)
	x.invite("mem-p1", o["P1"].ID, storage.RoleMember, 0)
	member, _ := x.register("60001", o["P1"].ID, storage.RoleMember, "mem-p1")
	sup, sm := x.register("60002", o["P1"].ID, storage.RoleSupporter, "pub-p1")
	if sm.Role != storage.RoleSupporter || sm.Status != storage.StatusActive {
		x.t.Fatalf("registered by a public invite: %+v", sm)
	}
	other, _ := x.register("60003", o["P2"].ID, storage.RoleSupporter, "pub-p2")

	// A member opening the public invite stays a member: nothing is added,
	// the invite is not used.
	m, err := x.s.JoinByInvite(x.ctx, member.ID, "pub-p1", T0.Add(time.Minute))
	x.must(err)
	if m.Role != storage.RoleMember || m.Status != storage.StatusActive {
		x.t.Errorf("a member opening the public invite got %+v, want their member role", m)
	}
	if inv, err := x.s.Invite(x.ctx, "pub-p1"); err != nil || inv.Uses != 1 {
		x.t.Errorf("public invite: %+v, %v; want 1 use (the supporter's)", inv, err)
	}
	if ms, err := x.s.Memberships(x.ctx, member.ID); err != nil || len(ms) != 1 {
		x.t.Errorf("member's memberships: %+v, %v; want the one", ms, err)
	}

	// Coverage tells supporters from members.
	reach, err := x.s.ReachableMemberships(x.ctx, o["U"], T0.Add(time.Hour))
	x.must(err)
	slices.SortFunc(reach, func(a, b storage.Reach) int { return int(a.PersonID - b.PersonID) })
	want := []storage.Reach{{PersonID: member.ID, OrgID: o["P1"].ID}, {PersonID: sup.ID, OrgID: o["P1"].ID, Supporter: true},
		{PersonID: other.ID, OrgID: o["P2"].ID, Supporter: true}}
	if !slices.Equal(reach, want) {
		x.t.Errorf("reachable: %+v, want %+v", reach, want)
	}

	// News reaches supporters only when public; counted as built.
	scope := storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}
	for _, tt := range []struct {
		name string
		a    storage.Audience
		want int
	}{
		{"ordinary news", storage.Audience{Private: true}, 1},
		{"public news", storage.Audience{Private: true, Public: true}, 3},
		{"public news to P1", storage.Audience{Private: true, Public: true, OrgIDs: []int64{o["P1"].ID}}, 2},
		{"activists only", storage.Audience{Private: true, Roles: []storage.Role{storage.RoleActivist}}, 0},
	} {
		b := x.newBroadcast(o["U"].ID, storage.ModeDirect, tt.a)
		people, _, err := x.s.CountAudience(x.ctx, b, scope)
		x.must(err)
		built, err := x.s.BuildOutbox(x.ctx, b, scope, T0.Add(time.Hour))
		x.must(err)
		if people != tt.want || built != tt.want {
			x.t.Errorf("%s: counted %d, built %d, want %d", tt.name, people, built, tt.want)
		}
		if got, err := x.s.Broadcast(x.ctx, b.ID); err != nil || got.Audience.Public != tt.a.Public {
			x.t.Errorf("%s: stored audience %+v, %v", tt.name, got.Audience, err)
		}
	}
	_, err = x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["U"].ID, Text: "news", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true, Roles: []storage.Role{storage.RoleSupporter}}, CreatedAt: T0})
	if err == nil {
		x.t.Error("a broadcast naming the supporter role was stored; supporters come with Public")
	}

	// Asking to join: only a supporter, once at a time.
	_, err = x.s.ApplyToJoin(x.ctx, member.ID, o["P1"].ID, T0.Add(time.Hour))
	x.wantErr(err, storage.ErrConflict)
	_, err = x.s.ApplyToJoin(x.ctx, sup.ID, o["P2"].ID, T0.Add(time.Hour))
	x.wantErr(err, storage.ErrConflict)
	req, err := x.s.ApplyToJoin(x.ctx, sup.ID, o["P1"].ID, T0.Add(time.Hour))
	x.must(err)
	if req.Role != storage.RoleMember || req.Status != storage.StatusPending || req.PersonID != sup.ID || req.Org.ID != o["P1"].ID {
		x.t.Errorf("request: %+v", req)
	}
	_, err = x.s.ApplyToJoin(x.ctx, sup.ID, o["P1"].ID, T0.Add(2*time.Hour))
	x.wantErr(err, storage.ErrConflict)
	pending, err := x.s.PendingMemberships(x.ctx, o["B1"])
	x.must(err)
	if len(pending) != 1 || pending[0].ID != req.ID {
		x.t.Errorf("pending under B1: %+v, want the request", pending)
	}

	// A rejection leaves the supporter as they were; they may ask again.
	if _, err := x.s.DecideMembership(x.ctx, req.ID, false, member.ID, T0.Add(2*time.Hour)); err != nil {
		x.t.Fatal(err)
	}
	x.wantRoles(sup.ID, map[storage.Role]storage.MembershipStatus{storage.RoleSupporter: storage.StatusActive, storage.RoleMember: storage.StatusRejected})
	again, err := x.s.ApplyToJoin(x.ctx, sup.ID, o["P1"].ID, T0.Add(3*time.Hour))
	x.must(err)
	if again.ID != req.ID || again.Status != storage.StatusPending || again.DecidedAt != nil {
		x.t.Errorf("asked again: %+v, want the same row pending", again)
	}

	// The approval makes them a member and ends the supporter role.
	approved, err := x.s.DecideMembership(x.ctx, again.ID, true, member.ID, T0.Add(4*time.Hour))
	x.must(err)
	if approved.Status != storage.StatusActive || approved.Role != storage.RoleMember {
		x.t.Errorf("approved: %+v", approved)
	}
	x.wantRoles(sup.ID, map[storage.Role]storage.MembershipStatus{storage.RoleSupporter: storage.StatusEnded, storage.RoleMember: storage.StatusActive})
	b := x.newBroadcast(o["U"].ID, storage.ModeDirect, storage.Audience{Private: true})
	if people, _, err := x.s.CountAudience(x.ctx, b, scope); err != nil || people != 2 {
		x.t.Errorf("ordinary news after the approval: %d, %v; want 2", people, err)
	}

	// A member invite also ends the supporter role in its org.
	x.invite("mem-p2", o["P2"].ID, storage.RoleMember, 0)
	_, err = x.s.JoinByInvite(x.ctx, other.ID, "mem-p2", T0.Add(5*time.Hour))
	x.must(err)
	x.wantRoles(other.ID, map[storage.Role]storage.MembershipStatus{storage.RoleSupporter: storage.StatusEnded, storage.RoleMember: storage.StatusActive})
}

// wantRoles checks a person's roles and their statuses, all orgs together.
func (x *suite) wantRoles(personID int64, want map[storage.Role]storage.MembershipStatus) {
	x.t.Helper()
	ms, err := x.s.Memberships(x.ctx, personID)
	x.must(err)
	got := map[storage.Role]storage.MembershipStatus{}
	for _, m := range ms {
		got[m.Role] = m.Status
	}
	if len(got) != len(want) || len(ms) != len(want) {
		x.t.Errorf("person %d holds %v, want %v", personID, got, want)
		return
	}
	for r, st := range want {
		if got[r] != st {
			x.t.Errorf("person %d holds %v, want %v", personID, got, want)
			return
		}
	}
}
