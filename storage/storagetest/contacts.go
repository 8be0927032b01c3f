package storagetest

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

func testContactBase(x *suite) {
	o := x.tree()
	empty, err := x.s.ContactBase(x.ctx, o["B1"])
	x.must(err)
	if len(empty) != 0 {
		x.t.Fatalf("contact base of an empty tree: %+v", empty)
	}
	for _, inv := range []struct {
		code string
		org  string
		role storage.Role
	}{
		{"u-chair", "U", storage.RoleChair}, {"b1-chair", "B1", storage.RoleChair}, {"b1-info", "B1", storage.RoleInfoworker},
		{"b1-act", "B1", storage.RoleActivist}, {"b11-info", "B11", storage.RoleInfoworker}, {"p1-act", "P1", storage.RoleActivist},
		{"p1-member", "P1", storage.RoleMember}, {"b2-chair", "B2", storage.RoleChair}, {"p2-act", "P2", storage.RoleActivist},
	} {
		x.invite(inv.code, o[inv.org].ID, inv.role, 0)
	}
	// named registers someone by invite and gives them a name.
	named := func(ext, org string, role storage.Role, invite, name string) storage.Person {
		x.t.Helper()
		p, _ := x.register(ext, o[org].ID, role, invite)
		p, err := x.s.UpdateProfile(x.ctx, p.ID, storage.ProfilePatch{FullName: &name})
		x.must(err)
		return p
	}
	join := func(p storage.Person, code string) {
		x.t.Helper()
		_, err := x.s.JoinByInvite(x.ctx, p.ID, code, T0)
		x.must(err)
	}

	// In B1's subtree: a chair who is also its information worker and an
	// activist of P2 sideways, an activist, an information worker of B11
	// with a personal address and a VK account, and two activists of P1
	// whose names sort differently by bytes and by the Russian alphabet.
	chair := named("30001", "B1", storage.RoleChair, "b1-chair", "Яковлева Ирина")
	join(chair, "b1-info")
	join(chair, "p2-act")
	act, _ := x.register("30002", o["B1"].ID, storage.RoleActivist, "b1-act")
	reg := registration("30003", o["B11"].ID, storage.RoleInfoworker, "b11-info")
	reg.PersonalEmail = "home@mail.example"
	reg.Consents = append(reg.Consents, storage.Consent{OrgID: o["B11"].ID, Kind: storage.ConsentPersonalEmail, Version: "v1", Locale: "ru", Accepted: true})
	info, _, err := x.s.Register(x.ctx, reg)
	x.must(err)
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "lc-30003", PersonID: info.ID, ExpiresAt: T0.Add(time.Hour)}))
	_, err = x.s.UseLinkCode(x.ctx, "lc-30003", storage.VK, "vk30003", T0.Add(time.Minute))
	x.must(err)
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "30003", T0.Add(2*time.Minute)))
	boris := named("30004", "P1", storage.RoleActivist, "p1-act", "Борисов Олег")
	anton := named("30005", "P1", storage.RoleActivist, "p1-act", "антонов Пётр")

	// Left out: a member, a pending and a rejected activist, an erased
	// activist, and the leaders above and beside B1.
	x.register("30006", o["P1"].ID, storage.RoleMember, "p1-member")
	x.register("30007", o["P1"].ID, storage.RoleActivist, "")
	_, rejected := x.register("30008", o["B11"].ID, storage.RoleActivist, "")
	_, err = x.s.DecideMembership(x.ctx, rejected.ID, false, chair.ID, T0)
	x.must(err)
	gone, _ := x.register("30009", o["P1"].ID, storage.RoleActivist, "p1-act")
	x.must(x.s.Forget(x.ctx, gone.ID, T0.Add(time.Hour)))
	top, _ := x.register("30010", o["U"].ID, storage.RoleChair, "u-chair")
	side, _ := x.register("30011", o["B2"].ID, storage.RoleChair, "b2-chair")

	info, err = x.s.Person(x.ctx, info.ID)
	x.must(err)
	type row struct {
		org    string
		role   storage.Role
		person storage.Person
	}
	check := func(under string, want []row) []storage.ContactRow {
		x.t.Helper()
		got, err := x.s.ContactBase(x.ctx, o[under])
		x.must(err)
		var gotS, wantS []string
		for _, r := range got {
			gotS = append(gotS, fmt.Sprintf("%s/%s/%d", r.Org.Code, r.Role, r.Person.ID))
		}
		for _, r := range want {
			wantS = append(wantS, fmt.Sprintf("%s/%s/%d", r.org, r.role, r.person.ID))
		}
		if strings.Join(gotS, " ") != strings.Join(wantS, " ") {
			x.t.Fatalf("contact base of %s:\n got %v\nwant %v", under, gotS, wantS)
		}
		for i, r := range got {
			if !reflect.DeepEqual(r.Org, o[want[i].org]) || !reflect.DeepEqual(r.Person, want[i].person) {
				x.t.Errorf("row %d of %s: %+v, want org %+v, person %+v", i, under, r, o[want[i].org], want[i].person)
			}
			if len(r.Accounts) == 0 {
				x.t.Errorf("row %d of %s has no accounts", i, under)
			}
		}
		return got
	}

	got := check("B1", []row{
		{"B1", storage.RoleChair, chair}, {"B1", storage.RoleInfoworker, chair}, {"B1", storage.RoleActivist, act},
		{"B11", storage.RoleInfoworker, info},
		{"P1", storage.RoleActivist, anton}, {"P1", storage.RoleActivist, boris},
	})
	if want := []storage.Account{{Platform: storage.Telegram, ExternalID: "30001", PersonID: chair.ID, LastSeenAt: T0}}; !reflect.DeepEqual(got[0].Accounts, want) {
		x.t.Errorf("chair's accounts %+v, want %+v", got[0].Accounts, want)
	}
	blocked := T0.Add(2 * time.Minute)
	wantInfo := []storage.Account{
		{Platform: storage.VK, ExternalID: "vk30003", PersonID: info.ID, LastSeenAt: T0.Add(time.Minute)},
		{Platform: storage.Telegram, ExternalID: "30003", PersonID: info.ID, LastSeenAt: T0, BlockedAt: &blocked},
	}
	if !reflect.DeepEqual(got[3].Accounts, wantInfo) {
		x.t.Errorf("infoworker's accounts %+v, want %+v (VK seen last first, the block kept)", got[3].Accounts, wantInfo)
	}
	for i, r := range got {
		if want := map[int64]string{info.ID: "home@mail.example"}[r.Person.ID]; r.Person.PersonalEmail != want {
			x.t.Errorf("row %d: personal e-mail %q, want %q", i, r.Person.PersonalEmail, want)
		}
	}
	// Rows of one person do not share their accounts' storage.
	got[0].Accounts[0].ExternalID = "changed"
	if got[1].Accounts[0].ExternalID != "30001" {
		x.t.Error("rows of one person share their accounts")
	}

	check("U", []row{
		{"U", storage.RoleChair, top},
		{"B1", storage.RoleChair, chair}, {"B1", storage.RoleInfoworker, chair}, {"B1", storage.RoleActivist, act},
		{"B11", storage.RoleInfoworker, info},
		{"P1", storage.RoleActivist, anton}, {"P1", storage.RoleActivist, boris},
		{"B2", storage.RoleChair, side},
		{"P2", storage.RoleActivist, chair},
	})
	check("B2", []row{{"B2", storage.RoleChair, side}, {"P2", storage.RoleActivist, chair}})
	check("P1", []row{{"P1", storage.RoleActivist, anton}, {"P1", storage.RoleActivist, boris}})
}
