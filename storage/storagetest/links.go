package storagetest

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// linkFixture is a sent broadcast to three members of P1 and one of P2,
// by delivery.
func (x *suite) linkFixture() (storage.Broadcast, map[string]storage.Delivery, map[string]storage.Org) {
	x.t.Helper()
	o := x.tree()
	x.invite("P1-member", o["P1"].ID, storage.RoleMember, 0)
	x.invite("P2-member", o["P2"].ID, storage.RoleMember, 0)
	people := map[string]storage.Person{}
	for _, ext := range []string{"71001", "71002", "71003"} {
		people[ext], _ = x.register(ext, o["P1"].ID, storage.RoleMember, "P1-member")
	}
	people["72001"], _ = x.register("72001", o["P2"].ID, storage.RoleMember, "P2-member")
	b := x.newBroadcast(o["U"].ID, storage.ModeDirect, storage.Audience{Private: true})
	_, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{o["P1"], o["P2"]}}, T0)
	x.must(err)
	byChat := map[string]storage.Delivery{}
	for _, d := range x.claimAll(T0) {
		byChat[d.ChatID] = d
	}
	if len(byChat) != 4 {
		x.t.Fatalf("%d deliveries, want 4", len(byChat))
	}
	return b, byChat, o
}

func testLinkOpens(x *suite) {
	b, ds, o := x.linkFixture()
	d := ds["71001"]
	target, err := x.s.LinkTarget(x.ctx, d.ID)
	x.must(err)
	if want := (storage.LinkTarget{DeliveryID: d.ID, BroadcastID: b.ID, OrgID: o["P1"].ID, Platform: storage.Telegram}); target != want {
		x.t.Errorf("LinkTarget = %+v, want %+v", target, want)
	}
	_, err = x.s.LinkTarget(x.ctx, 987654321)
	x.wantErr(err, storage.ErrNotFound)
	if id, err := x.s.DeliveryIDTo(x.ctx, b.ID, storage.Telegram, "71001"); err != nil || id != d.ID {
		x.t.Errorf("DeliveryIDTo = %d, %v; want %d", id, err, d.ID)
	}
	_, err = x.s.DeliveryIDTo(x.ctx, b.ID, storage.VK, "71001")
	x.wantErr(err, storage.ErrNotFound)

	open := func(chat string, link int, at time.Time) bool {
		x.t.Helper()
		fresh, err := x.s.RecordLinkOpen(x.ctx, ds[chat].ID, link, at)
		x.must(err)
		return fresh
	}
	// One recipient opens the first link twice, the second once and
	// shares; another opens the first; one in P2 shares.
	steps := []struct {
		chat string
		link int
		want bool
	}{
		{"71001", 0, true}, {"71001", 0, false}, {"71001", 1, true}, {"71001", storage.LinkShare, true},
		{"71002", 0, true}, {"72001", storage.LinkShare, true}, {"72001", storage.LinkShare, false},
	}
	for i, s := range steps {
		if got := open(s.chat, s.link, T0.Add(time.Duration(i)*time.Hour)); got != s.want {
			x.t.Errorf("step %d: %s opens link %d: fresh %v, want %v", i, s.chat, s.link, got, s.want)
		}
	}
	if fresh, err := x.s.RecordLinkOpen(x.ctx, 987654321, 0, T0); err != nil || fresh {
		x.t.Errorf("an open of a delivery that is not there: %v, %v; want nothing recorded", fresh, err)
	}
	want := []storage.LinkOpenCount{
		{BroadcastID: b.ID, OrgID: o["P1"].ID, Opens: 3, Shares: 1},
		{BroadcastID: b.ID, OrgID: o["P2"].ID, Opens: 0, Shares: 1},
	}
	x.wantLinkCounts(b.ID, want, "before pruning")

	// Who opened what before 2.5 h goes (hours 0 and 2: the second open of
	// the first link was none); the counts stay the same, and a second
	// open of a pruned link counts again, as the mark is gone.
	n, err := x.s.PruneLinkOpens(x.ctx, T0.Add(150*time.Minute))
	x.must(err)
	if n != 2 {
		x.t.Errorf("pruned %d opens, want 2", n)
	}
	x.wantLinkCounts(b.ID, want, "after pruning")
	n, err = x.s.PruneLinkOpens(x.ctx, T0.Add(150*time.Minute))
	x.must(err)
	if n != 0 {
		x.t.Errorf("pruned %d opens the second time, want none", n)
	}
	if !open("71001", 0, T0.Add(10*time.Hour)) {
		x.t.Error("an open after its mark was pruned is not recorded")
	}
	want[0].Opens = 4
	x.wantLinkCounts(b.ID, want, "after an open of a pruned link")
}

func (x *suite) wantLinkCounts(id int64, want []storage.LinkOpenCount, when string) {
	x.t.Helper()
	got, err := x.s.LinkOpenCounts(x.ctx, id)
	x.must(err)
	if len(got) != len(want) {
		x.t.Fatalf("%s: counts %+v, want %+v", when, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			x.t.Errorf("%s: counts %+v, want %+v", when, got, want)
		}
	}
}

// testForgetLinkOpens: a forgotten recipient's opens stay as counts only.
func testForgetLinkOpens(x *suite) {
	b, ds, o := x.linkFixture()
	for _, chat := range []string{"71001", "71002"} {
		_, err := x.s.RecordLinkOpen(x.ctx, ds[chat].ID, 0, T0)
		x.must(err)
	}
	p, err := x.s.PersonByAccount(x.ctx, storage.Telegram, "71001")
	x.must(err)
	x.must(x.s.Forget(x.ctx, p.ID, T0.Add(time.Hour)))
	x.wantLinkCounts(b.ID, []storage.LinkOpenCount{{BroadcastID: b.ID, OrgID: o["P1"].ID, Opens: 2}}, "after forgetting one")
	// Their mark is gone: nothing ties an open to their delivery any more.
	if fresh, err := x.s.RecordLinkOpen(x.ctx, ds["71002"].ID, 0, T0); err != nil || fresh {
		x.t.Errorf("the other recipient's mark: fresh %v, %v; want it kept", fresh, err)
	}
	n, err := x.s.PruneLinkOpens(x.ctx, T0.Add(time.Hour))
	x.must(err)
	if n != 1 {
		x.t.Errorf("pruned %d opens after the forgetting, want the other recipient's one", n)
	}
}

func testHubKey(x *suite) {
	first, err := x.s.HubKey(x.ctx, "links", []byte("first key"))
	x.must(err)
	second, err := x.s.HubKey(x.ctx, "links", []byte("second key"))
	x.must(err)
	other, err := x.s.HubKey(x.ctx, "other", []byte("other key"))
	x.must(err)
	if !bytes.Equal(first, []byte("first key")) || !bytes.Equal(second, first) || !bytes.Equal(other, []byte("other key")) {
		x.t.Errorf("keys %q, %q, %q; want the first stored kept under its name", first, second, other)
	}
}

// testNewsReach: a finished broadcast's tallies and its opens, folded or
// not, by org of a subtree and period.
func testNewsReach(x *suite) {
	b, ds, o := x.linkFixture()
	var results []storage.DeliveryResult
	for chat, d := range ds {
		st := storage.DeliverySent
		if chat == "71003" {
			st = storage.DeliveryFailed
		}
		results = append(results, storage.DeliveryResult{ID: d.ID, Status: st, MessageID: "m"})
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "inspector", results, T0))
	for _, open := range []struct {
		chat string
		link int
	}{{"71001", 0}, {"71001", storage.LinkShare}, {"72001", 0}} {
		_, err := x.s.RecordLinkOpen(x.ctx, ds[open.chat].ID, open.link, T0)
		x.must(err)
	}
	// An item still sending counts nowhere yet.
	x.wantReach(o["U"], T0, T0.Add(24*time.Hour), nil, "before it finished")
	finished, err := x.s.FinishBroadcasts(x.ctx, T0.Add(time.Hour))
	x.must(err)
	if len(finished) != 1 || finished[0].ID != b.ID {
		x.t.Fatalf("finished %+v, want broadcast %d", finished, b.ID)
	}
	// Who opened what so far goes, as after 90 days: the opens still
	// count, and so does a later one.
	_, err = x.s.PruneLinkOpens(x.ctx, T0.Add(time.Second))
	x.must(err)
	_, err = x.s.RecordLinkOpen(x.ctx, ds["71002"].ID, 0, T0.Add(2*time.Hour))
	x.must(err)
	want := []storage.NewsReach{
		{OrgID: o["P1"].ID, Audience: 3, Delivered: 2, Opens: 2, Shares: 1},
		{OrgID: o["P2"].ID, Audience: 1, Delivered: 1, Opens: 1},
	}
	x.wantReach(o["U"], T0, T0.Add(24*time.Hour), want, "over the union")
	x.wantReach(o["B1"], T0, T0.Add(24*time.Hour), want[:1], "over the branch")
	x.wantReach(o["U"], T0.Add(2*time.Hour), T0.Add(24*time.Hour), nil, "in a period after it finished")
}

func (x *suite) wantReach(under storage.Org, from, to time.Time, want []storage.NewsReach, when string) {
	x.t.Helper()
	got, err := x.s.NewsReachUnder(x.ctx, under, from, to)
	x.must(err)
	slices.SortFunc(got, func(a, b storage.NewsReach) int { return cmp.Compare(a.OrgID, b.OrgID) })
	slices.SortFunc(want, func(a, b storage.NewsReach) int { return cmp.Compare(a.OrgID, b.OrgID) })
	if !slices.Equal(got, want) {
		x.t.Errorf("%s: reach %+v, want %+v", when, got, want)
	}
}
