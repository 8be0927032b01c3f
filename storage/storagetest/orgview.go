package storagetest

import (
	"fmt"
	"slices"

	"github.com/unionhub/unionhub/storage"
)

func testSearchOrgs(x *suite) {
	o := x.tree()
	codes := func(list []storage.Org) []string {
		var out []string
		for _, org := range list {
			out = append(out, org.Code)
		}
		return out
	}
	tests := []struct {
		name          string
		under         []storage.Org
		text          string
		limit, offset int
		want          []string
	}{
		{"a subtree, by name", []storage.Org{o["B1"]}, "", 10, 0, []string{"B1", "P1", "B11"}},
		{"two subtrees", []storage.Org{o["B11"], o["B2"]}, "", 10, 0, []string{"B2", "P2", "P1", "B11"}},
		{"nested subtrees once", []storage.Org{o["B1"], o["B11"]}, "", 10, 0, []string{"B1", "P1", "B11"}},
		{"by name, any case", []storage.Org{o["U"]}, "SCHOOL", 10, 0, []string{"P1"}},
		{"by code", []storage.Org{o["U"]}, "b1", 10, 0, []string{"B1", "B11"}},
		{"not sideways", []storage.Org{o["B1"]}, "hospital", 10, 0, nil},
		{"a pattern's symbols are text", []storage.Org{o["U"]}, "%", 10, 0, nil},
		{"an underscore is text", []storage.Org{o["U"]}, "_", 10, 0, nil},
		{"a page", []storage.Org{o["U"]}, "", 2, 2, []string{"P2", "P1"}},
		{"past the end", []storage.Org{o["U"]}, "", 10, 6, nil},
		{"nowhere", nil, "", 10, 0, nil},
	}
	for _, tt := range tests {
		got, err := x.s.SearchOrgs(x.ctx, tt.under, tt.text, tt.limit, tt.offset)
		x.must(err)
		if !slices.Equal(codes(got), tt.want) {
			x.t.Errorf("%s: %v, want %v", tt.name, codes(got), tt.want)
		}
	}
}

func testOrgPeople(x *suite) {
	o := x.tree()
	x.invite("p1-chair", o["P1"].ID, storage.RoleChair, 0)
	x.invite("p1-member", o["P1"].ID, storage.RoleMember, 0)
	member, _ := x.register("40001", o["P1"].ID, storage.RoleMember, "p1-member")
	chair, _ := x.register("40002", o["P1"].ID, storage.RoleChair, "p1-chair")
	pending, _ := x.register("40003", o["P1"].ID, storage.RoleMember, "")
	x.register("40004", o["B11"].ID, storage.RoleMember, "")
	x.must(x.s.RecordConsent(x.ctx, storage.Consent{PersonID: member.ID, OrgID: o["P1"].ID, Kind: storage.ConsentPersonalData,
		Version: "v2", Locale: "ru", Accepted: false, At: T0.Add(1)}))
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "40002", T0))
	gone, _ := x.register("40005", o["P1"].ID, storage.RoleMember, "p1-member")
	x.must(x.s.Forget(x.ctx, gone.ID, T0))
	// A supporter comes last, though their name comes first.
	x.invite("p1-public", o["P1"].ID, storage.RoleSupporter, 0)
	supporter, _ := x.register("40000", o["P1"].ID, storage.RoleSupporter, "p1-public")

	got, err := x.s.OrgPeople(x.ctx, o["P1"].ID, 10, 0)
	x.must(err)
	var lines []string
	for _, p := range got {
		consent := "none"
		if p.Consent != nil {
			consent = fmt.Sprintf("%s %v", p.Consent.Version, p.Consent.Accepted)
		}
		blocked := len(p.Accounts) == 1 && p.Accounts[0].BlockedAt != nil
		lines = append(lines, fmt.Sprintf("%d %s %s %s %d %v", p.Person.ID, p.Membership.Role, p.Membership.Status, consent, len(p.Accounts), blocked))
	}
	want := []string{
		fmt.Sprintf("%d chair active v1 true 1 true", chair.ID),
		fmt.Sprintf("%d member active v2 false 1 false", member.ID),
		fmt.Sprintf("%d member pending v1 true 1 false", pending.ID),
		fmt.Sprintf("%d supporter active v1 true 1 false", supporter.ID),
	}
	if !slices.Equal(lines, want) {
		x.t.Errorf("people of P1:\n%v\nwant\n%v", lines, want)
	}
	page, err := x.s.OrgPeople(x.ctx, o["P1"].ID, 1, 1)
	x.must(err)
	if len(page) != 1 || page[0].Person.ID != member.ID {
		x.t.Errorf("the second page of one: %+v", page)
	}
	if none, err := x.s.OrgPeople(x.ctx, o["P2"].ID, 10, 0); err != nil || len(none) != 0 {
		x.t.Errorf("people of an empty org: %+v, %v", none, err)
	}
}
