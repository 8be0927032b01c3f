package storagetest

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const (
	// farLease keeps a claimed row claimed for the rest of a test.
	farLease = 24 * time.Hour
	// completeChunk is more than a store is likely to write in one statement.
	completeChunk = 1000
)

// newBroadcast stores a sending broadcast of org.
func (x *suite) newBroadcast(orgID int64, mode storage.BroadcastMode, a storage.Audience) storage.Broadcast {
	x.t.Helper()
	b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: orgID, Text: "news", Mode: mode, Audience: a,
		Status: storage.BroadcastSending, CreatedAt: T0})
	x.must(err)
	return b
}

// claimAll claims every due delivery at now for a far lease.
func (x *suite) claimAll(now time.Time) []storage.Delivery {
	x.t.Helper()
	ds, err := x.s.ClaimDeliveries(x.ctx, "inspector", 100000, now, now.Add(farLease))
	x.must(err)
	return ds
}

func (x *suite) counts(broadcastID int64) map[storage.DeliveryStatus]int {
	x.t.Helper()
	cs, err := x.s.DeliveryCounts(x.ctx, broadcastID)
	x.must(err)
	out := map[storage.DeliveryStatus]int{}
	for _, c := range cs {
		out[c.Status] += c.Count
	}
	return out
}

func (x *suite) bind(pl storage.Platform, chatID string, orgID int64, desk bool) {
	x.t.Helper()
	x.must(x.s.BindChat(x.ctx, storage.ChatBinding{Platform: pl, ChatID: chatID, OrgID: orgID, Title: "chat " + chatID, Desk: desk, BoundAt: T0}))
}

// audienceFixture registers people and binds chats across the tree:
//
//	a1 activist P1; m1 member P1; m2 member P2; m3 member B11; c1 chair B1;
//	pend pending in P1; blk member P1 who blocked the bot; gone, forgotten;
//	multi (P1) seen last on VK; multi2 (P1) whose newer VK account is blocked;
//	both: member of P1 and activist of P2; dual: member and activist of P1.
//
// Chats: P1 "-1001", P1 desk "-1002", B2 "-1003", B11 on VK "2000000001".
func (x *suite) audienceFixture() (map[string]storage.Org, map[string]storage.Person) {
	x.t.Helper()
	o := x.tree()
	for _, inv := range []struct {
		org  string
		role storage.Role
	}{{"P1", storage.RoleMember}, {"P1", storage.RoleActivist}, {"P2", storage.RoleMember}, {"P2", storage.RoleActivist},
		{"B11", storage.RoleMember}, {"B1", storage.RoleChair}} {
		x.invite(inv.org+"-"+string(inv.role), o[inv.org].ID, inv.role, 0)
	}
	people := map[string]storage.Person{}
	reg := func(ext, org string, role storage.Role, invite bool) {
		code := ""
		if invite {
			code = org + "-" + string(role)
		}
		people[ext], _ = x.register(ext, o[org].ID, role, code)
	}
	reg("a1", "P1", storage.RoleActivist, true)
	reg("m1", "P1", storage.RoleMember, true)
	reg("m2", "P2", storage.RoleMember, true)
	reg("m3", "B11", storage.RoleMember, true)
	reg("c1", "B1", storage.RoleChair, true)
	reg("pend", "P1", storage.RoleMember, false)
	reg("blk", "P1", storage.RoleMember, true)
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "blk", T0.Add(time.Minute)))
	reg("gone", "P2", storage.RoleMember, true)
	x.must(x.s.Forget(x.ctx, people["gone"].ID, T0))
	link := func(ext, vk string) {
		x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "link-" + ext, PersonID: people[ext].ID, ExpiresAt: T0.Add(time.Hour)}))
		_, err := x.s.UseLinkCode(x.ctx, "link-"+ext, storage.VK, vk, T0.Add(time.Minute))
		x.must(err)
	}
	reg("multi", "P1", storage.RoleMember, true)
	link("multi", "vk-multi")
	reg("multi2", "P1", storage.RoleMember, true)
	link("multi2", "vk-multi2")
	x.must(x.s.MarkBlocked(x.ctx, storage.VK, "vk-multi2", T0.Add(2*time.Minute)))
	reg("both", "P1", storage.RoleMember, true)
	_, err := x.s.JoinByInvite(x.ctx, people["both"].ID, "P2-activist", T0)
	x.must(err)
	reg("dual", "P1", storage.RoleMember, true)
	_, err = x.s.JoinByInvite(x.ctx, people["dual"].ID, "P1-activist", T0)
	x.must(err)

	x.bind(storage.Telegram, "-1001", o["P1"].ID, false)
	x.bind(storage.Telegram, "-1002", o["P1"].ID, true)
	x.bind(storage.Telegram, "-1003", o["B2"].ID, false)
	x.bind(storage.VK, "2000000001", o["B11"].ID, false)
	return o, people
}

// recipient renders a delivery as "org/person/platform/chat/priority".
func recipient(orgID, personID int64, pl storage.Platform, chat string, prio int) string {
	return fmt.Sprintf("%d/%d/%s/%s/%d", orgID, personID, pl, chat, prio)
}

func testBuildOutbox(x *suite) {
	o, p := x.audienceFixture()
	tg, vk := storage.Telegram, storage.VK
	person := func(ext, org string, prio int) string {
		pl, chat := tg, ext
		switch ext {
		case "multi":
			pl, chat = vk, "vk-multi"
		}
		return recipient(o[org].ID, p[ext].ID, pl, chat, prio)
	}
	chat := func(pl storage.Platform, id, org string) string {
		return recipient(o[org].ID, 0, pl, id, storage.PriorityChat)
	}
	act, mem := storage.PriorityActivist, storage.PriorityMember
	// "both" counts once, in the lower of their orgs, with the role held there.
	bothTree := person("both", "P1", mem)
	if o["P2"].ID < o["P1"].ID {
		bothTree = person("both", "P2", act)
	}
	tree := []storage.Org{o["U"]}
	tests := []struct {
		name  string
		a     storage.Audience
		scope storage.OutboxScope
		want  []string
	}{
		{"whole tree", storage.Audience{Private: true, Chats: true}, storage.OutboxScope{Orgs: tree, Subtree: true}, []string{
			person("a1", "P1", act), person("m1", "P1", mem), person("m2", "P2", mem), person("m3", "B11", mem),
			person("c1", "B1", mem), person("multi", "P1", mem), person("multi2", "P1", mem), bothTree, person("dual", "P1", act),
			chat(tg, "-1001", "P1"), chat(tg, "-1003", "B2"), chat(vk, "2000000001", "B11"),
		}},
		{"activists in private", storage.Audience{Roles: []storage.Role{storage.RoleActivist}, Private: true},
			storage.OutboxScope{Orgs: tree, Subtree: true}, []string{
				person("a1", "P1", act), person("both", "P2", act), person("dual", "P1", act),
			}},
		{"leaders and chats", storage.Audience{Roles: []storage.Role{storage.RoleInfoworker, storage.RoleChair}, Private: true, Chats: true},
			storage.OutboxScope{Orgs: tree, Subtree: true}, []string{
				person("c1", "B1", mem), chat(tg, "-1001", "P1"), chat(tg, "-1003", "B2"), chat(vk, "2000000001", "B11"),
			}},
		{"chosen child", storage.Audience{OrgIDs: []int64{o["B1"].ID}, Private: true, Chats: true},
			storage.OutboxScope{Orgs: tree, Subtree: true}, []string{
				person("a1", "P1", act), person("m1", "P1", mem), person("m3", "B11", mem), person("c1", "B1", mem),
				person("multi", "P1", mem), person("multi2", "P1", mem), person("both", "P1", mem), person("dual", "P1", act),
				chat(tg, "-1001", "P1"), chat(vk, "2000000001", "B11"),
			}},
		{"chosen orgs outside the scope", storage.Audience{OrgIDs: []int64{o["B2"].ID}, Private: true, Chats: true},
			storage.OutboxScope{Orgs: []storage.Org{o["B1"]}, Subtree: true}, nil},
		{"relay level P2", storage.Audience{Private: true, Chats: true}, storage.OutboxScope{Orgs: []storage.Org{o["P2"]}}, []string{
			person("m2", "P2", mem), person("both", "P2", act),
		}},
		{"relay level B2 is only its chat", storage.Audience{Private: true, Chats: true}, storage.OutboxScope{Orgs: []storage.Org{o["B2"]}}, []string{
			chat(tg, "-1003", "B2"),
		}},
		{"relay levels B1 and B11", storage.Audience{Private: true, Chats: true}, storage.OutboxScope{Orgs: []storage.Org{o["B1"], o["B11"]}}, []string{
			person("c1", "B1", mem), person("m3", "B11", mem), chat(vk, "2000000001", "B11"),
		}},
		{"chats only", storage.Audience{Chats: true}, storage.OutboxScope{Orgs: []storage.Org{o["B1"]}, Subtree: true}, []string{
			chat(tg, "-1001", "P1"), chat(vk, "2000000001", "B11"),
		}},
		{"private only", storage.Audience{Private: true}, storage.OutboxScope{Orgs: []storage.Org{o["P1"]}}, []string{
			person("a1", "P1", act), person("m1", "P1", mem), person("multi", "P1", mem), person("multi2", "P1", mem),
			person("both", "P1", mem), person("dual", "P1", act),
		}},
		{"nowhere", storage.Audience{}, storage.OutboxScope{Orgs: tree, Subtree: true}, nil},
	}
	at := T0.Add(time.Hour)
	for _, tt := range tests {
		b := x.newBroadcast(o["U"].ID, storage.ModeDirect, tt.a)
		people, chats, err := x.s.CountAudience(x.ctx, b, tt.scope)
		x.must(err)
		n, err := x.s.BuildOutbox(x.ctx, b, tt.scope, at)
		x.must(err)
		if again, err := x.s.BuildOutbox(x.ctx, b, tt.scope, at); err != nil || again != 0 {
			x.t.Errorf("%s: second build created %d, %v; want 0", tt.name, again, err)
		}
		var got []string
		for _, d := range x.claimAll(at) {
			if d.BroadcastID != b.ID || !d.NextAt.Equal(at) || d.Attempts != 1 || d.Status != storage.DeliverySending {
				x.t.Errorf("%s: delivery %+v", tt.name, d)
			}
			got = append(got, recipient(d.OrgID, d.PersonID, d.Platform, d.ChatID, d.Priority))
		}
		sort.Strings(got)
		want := slices.Clone(tt.want)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			x.t.Errorf("%s: built\n%v\nwant\n%v", tt.name, got, want)
		}
		if n != len(want) || people+chats != n {
			x.t.Errorf("%s: built %d, counted %d people and %d chats; want %d rows", tt.name, n, people, chats, len(want))
		}
		wantChats := 0
		for _, r := range want {
			if strings.Split(r, "/")[1] == "0" {
				wantChats++
			}
		}
		if chats != wantChats {
			x.t.Errorf("%s: counted %d chats, want %d", tt.name, chats, wantChats)
		}
	}

	// The author, who wrote the item, is neither counted nor sent it.
	leaders := storage.Audience{Roles: []storage.Role{storage.RoleInfoworker, storage.RoleChair}, Private: true}
	byChair, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: p["c1"].ID, OrgID: o["B1"].ID, Text: "news",
		Mode: storage.ModeDirect, Audience: leaders, Status: storage.BroadcastSending, CreatedAt: T0})
	x.must(err)
	if people, _, err := x.s.CountAudience(x.ctx, byChair, storage.OutboxScope{Orgs: tree, Subtree: true}); err != nil || people != 0 {
		x.t.Errorf("the author was counted: %d people, %v", people, err)
	}
	if n, err := x.s.BuildOutbox(x.ctx, byChair, storage.OutboxScope{Orgs: tree, Subtree: true}, at); err != nil || n != 0 {
		x.t.Errorf("the author got their own item: %d deliveries, %v", n, err)
	}

	// A relay level publishing after the whole tree got it adds nobody twice.
	b := x.newBroadcast(o["U"].ID, storage.ModeRelay, storage.Audience{Private: true, Chats: true})
	first, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{o["P1"]}}, at)
	x.must(err)
	more, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: tree, Subtree: true}, at)
	x.must(err)
	if first != 7 || more != 12-7 {
		x.t.Errorf("relay builds created %d then %d, want 7 then 5", first, more)
	}

	_, err = x.s.BuildOutbox(x.ctx, storage.Broadcast{ID: 987654}, storage.OutboxScope{Orgs: tree}, at)
	x.wantErr(err, storage.ErrNotFound)
	if _, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{}, at); err == nil {
		x.t.Error("a build without a scope succeeded")
	}
	_, err = x.s.CancelBroadcast(x.ctx, b.ID, at)
	x.must(err)
	_, err = x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: tree, Subtree: true}, at)
	x.wantErr(err, storage.ErrConflict)
}

// chatsOutbox binds n chats to org and builds a direct broadcast to them.
func (x *suite) chatsOutbox(org storage.Org, n int, at time.Time) storage.Broadcast {
	x.t.Helper()
	for i := range n {
		x.bind(storage.Telegram, fmt.Sprint(-5000-i), org.ID, false)
	}
	b := x.newBroadcast(org.ID, storage.ModeDirect, storage.Audience{Chats: true})
	built, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}, Subtree: true}, at)
	x.must(err)
	if built != n {
		x.t.Fatalf("built %d deliveries, want %d", built, n)
	}
	return b
}

func testClaimOrder(x *suite) {
	o, p := x.audienceFixture()
	en := "en"
	_, err := x.s.UpdateProfile(x.ctx, p["m1"].ID, storage.ProfilePatch{Locale: &en})
	x.must(err)
	b := x.newBroadcast(o["U"].ID, storage.ModeDirect, storage.Audience{Private: true, Chats: true})
	_, err = x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}, T0)
	x.must(err)
	if ds, err := x.s.ClaimDeliveries(x.ctx, "w", 5, T0.Add(-time.Second), T0.Add(time.Minute)); err != nil || len(ds) != 0 {
		x.t.Fatalf("claimed %d rows before they are due, %v", len(ds), err)
	}
	var got []storage.Delivery
	for {
		ds, err := x.s.ClaimDeliveries(x.ctx, "w", 2, T0, T0.Add(time.Minute))
		x.must(err)
		if len(ds) == 0 {
			break
		}
		if len(ds) > 2 {
			x.t.Fatalf("claimed %d rows, asked for 2", len(ds))
		}
		got = append(got, ds...)
	}
	if len(got) != 12 {
		x.t.Fatalf("claimed %d rows, want 12", len(got))
	}
	if !slices.IsSortedFunc(got, func(a, b storage.Delivery) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	}) {
		x.t.Errorf("claim order is not by priority, then id: %+v", got)
	}
	if got[0].Priority != storage.PriorityActivist || got[len(got)-1].Priority != storage.PriorityChat {
		x.t.Errorf("first %+v, last %+v; want activists first, chats last", got[0], got[len(got)-1])
	}
	// Each row carries its recipient's language as it is now; a chat has none.
	for _, d := range got {
		want := "ru"
		switch d.PersonID {
		case 0:
			want = ""
		case p["m1"].ID:
			want = "en"
		}
		if d.Locale != want {
			x.t.Errorf("delivery to person %d in chat %s claimed with locale %q, want %q", d.PersonID, d.ChatID, d.Locale, want)
		}
	}
	if ds, err := x.s.ClaimDeliveries(x.ctx, "w", 0, T0, T0.Add(time.Minute)); err != nil || len(ds) != 0 {
		x.t.Errorf("a claim of 0 rows: %d, %v", len(ds), err)
	}
}

func testClaimConcurrently(x *suite) {
	o := x.tree()
	const rows, workers = 120, 8
	x.chatsOutbox(o["P1"], rows, T0)
	var (
		mu     sync.Mutex
		claims = map[int64]int{}
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for {
				ds, err := x.s.ClaimDeliveries(x.ctx, fmt.Sprint("worker-", w), 7, T0, T0.Add(time.Minute))
				if err != nil {
					x.t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					claims[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claims) != rows {
		x.t.Errorf("%d rows claimed, want %d", len(claims), rows)
	}
	for id, n := range claims {
		if n != 1 {
			x.t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
}

func testLeaseExpiry(x *suite) {
	o := x.tree()
	b := x.chatsOutbox(o["P1"], 3, T0)
	lease := T0.Add(time.Minute)
	first, err := x.s.ClaimDeliveries(x.ctx, "dead", 2, T0, lease)
	x.must(err)
	if len(first) != 2 {
		x.t.Fatalf("claimed %d, want 2", len(first))
	}
	// Before the lease runs out only the third row is there to claim.
	if ds, err := x.s.ClaimDeliveries(x.ctx, "live", 10, lease.Add(-time.Second), lease.Add(time.Hour)); err != nil || len(ds) != 1 {
		x.t.Fatalf("claim within the lease: %+v, %v; want the one unclaimed row", ds, err)
	}
	again, err := x.s.ClaimDeliveries(x.ctx, "live", 10, lease.Add(time.Second), lease.Add(time.Hour))
	x.must(err)
	if len(again) != 2 || again[0].ID != first[0].ID || again[1].ID != first[1].ID || again[0].Attempts != 2 {
		x.t.Fatalf("reclaimed %+v, want the dead worker's rows on their second attempt", again)
	}
	if c := x.counts(b.ID); c[storage.DeliverySending] != 3 {
		x.t.Errorf("counts %v, want 3 sending", c)
	}
	// The first worker comes back: its rows are no longer its own to renew
	// or to record, even with a result the row could take.
	ids := []int64{first[0].ID, first[1].ID}
	if renewed, err := x.s.RenewDeliveries(x.ctx, "dead", ids, lease.Add(time.Hour)); err != nil || len(renewed) != 0 {
		x.t.Fatalf("the first worker renewed %v, %v; want nothing, the rows were taken over", renewed, err)
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "dead", []storage.DeliveryResult{
		{ID: first[0].ID, Status: storage.DeliveryQueued, Error: "late", NextAt: lease},
		{ID: first[1].ID, Status: storage.DeliverySent, MessageID: "late"},
	}, lease.Add(2*time.Second)))
	if c := x.counts(b.ID); c[storage.DeliverySending] != 3 {
		x.t.Fatalf("counts %v after a late result of the first worker, want 3 still sending", c)
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "live", []storage.DeliveryResult{
		{ID: first[0].ID, Status: storage.DeliverySent, MessageID: "m1"},
		{ID: first[1].ID, Status: storage.DeliverySent, MessageID: "m2"},
	}, lease.Add(3*time.Second)))
	if c := x.counts(b.ID); c[storage.DeliverySent] != 2 || c[storage.DeliverySending] != 1 {
		x.t.Errorf("counts %v after the second worker's results, want 2 sent", c)
	}
}

func testRenewDeliveries(x *suite) {
	o := x.tree()
	b := x.chatsOutbox(o["P1"], 4, T0)
	lease := T0.Add(time.Minute)
	mine, err := x.s.ClaimDeliveries(x.ctx, "w", 3, T0, lease)
	x.must(err)
	if len(mine) != 3 {
		x.t.Fatalf("claimed %d, want 3", len(mine))
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{{ID: mine[2].ID, Status: storage.DeliverySent}}, T0))
	other, err := x.s.ClaimDeliveries(x.ctx, "other", 10, T0, lease)
	x.must(err)
	if len(other) != 1 {
		x.t.Fatalf("the other worker claimed %d, want 1", len(other))
	}
	// Renewed even after the lease ran out, as long as nobody took the rows:
	// neither a recorded row, another worker's, nor an unknown one is.
	ids := []int64{mine[0].ID, mine[1].ID, mine[2].ID, other[0].ID, 987654}
	renewed, err := x.s.RenewDeliveries(x.ctx, "w", ids, lease.Add(time.Hour))
	x.must(err)
	if want := []int64{mine[0].ID, mine[1].ID}; !reflect.DeepEqual(renewed, want) {
		x.t.Fatalf("renewed %v, want %v", renewed, want)
	}
	if ds, err := x.s.ClaimDeliveries(x.ctx, "thief", 10, lease.Add(time.Minute), lease.Add(2*time.Hour)); err != nil ||
		len(ds) != 1 || ds[0].ID != other[0].ID {
		x.t.Fatalf("claimed %+v, %v after the first lease; want only the row not renewed", ds, err)
	}
	if ds, err := x.s.ClaimDeliveries(x.ctx, "thief", 10, lease.Add(time.Hour+time.Second), lease.Add(2*time.Hour)); err != nil || len(ds) != 2 {
		x.t.Fatalf("claimed %+v, %v after the renewed lease; want the two rows", ds, err)
	}
	if renewed, err := x.s.RenewDeliveries(x.ctx, "w", nil, lease); err != nil || len(renewed) != 0 {
		x.t.Errorf("renewing nothing: %v, %v", renewed, err)
	}
	if c := x.counts(b.ID); c[storage.DeliverySending] != 3 || c[storage.DeliverySent] != 1 {
		x.t.Errorf("counts %v, want 3 sending and 1 sent", c)
	}
}

func testCompleteDeliveries(x *suite) {
	o := x.tree()
	b := x.chatsOutbox(o["P1"], 5, T0)
	ds, err := x.s.ClaimDeliveries(x.ctx, "w", 4, T0, T0.Add(time.Minute))
	x.must(err)
	if len(ds) != 4 {
		x.t.Fatalf("claimed %d, want 4", len(ds))
	}
	retryAt := T0.Add(5 * time.Minute)
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{
		{ID: ds[0].ID, Status: storage.DeliverySent, MessageID: "m1"},
		{ID: ds[1].ID, Status: storage.DeliveryQueued, Error: "429 Too Many Requests", NextAt: retryAt},
		{ID: ds[2].ID, Status: storage.DeliveryFailed, Error: "500 after 5 attempts"},
		{ID: ds[3].ID, Status: storage.DeliveryUnreachable, Error: "bot was blocked"},
	}, T0.Add(time.Second)))
	want := map[storage.DeliveryStatus]int{storage.DeliverySent: 1, storage.DeliveryQueued: 2, storage.DeliveryFailed: 1, storage.DeliveryUnreachable: 1}
	if c := x.counts(b.ID); !reflect.DeepEqual(c, want) {
		x.t.Errorf("counts %v, want %v", c, want)
	}
	// Only rows still being sent change: a late or repeated result does not.
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{
		{ID: ds[0].ID, Status: storage.DeliveryFailed, Error: "late"},
		{ID: ds[1].ID, Status: storage.DeliverySent, MessageID: "m2"},
		{ID: 987654, Status: storage.DeliverySent},
	}, T0.Add(2*time.Second)))
	if c := x.counts(b.ID); !reflect.DeepEqual(c, want) {
		x.t.Errorf("counts after late results %v, want %v", c, want)
	}
	if err := x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{{ID: ds[0].ID, Status: storage.DeliverySending}}, T0); err == nil {
		x.t.Error("a result of status sending was accepted")
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "w", nil, T0))

	// The retry waits for its time; the untouched row does not.
	due, err := x.s.ClaimDeliveries(x.ctx, "w", 10, T0.Add(time.Minute), T0.Add(farLease))
	x.must(err)
	if len(due) != 1 || due[0].ID == ds[1].ID {
		x.t.Fatalf("claimed %+v before the retry time, want only the fifth row", due)
	}
	retried, err := x.s.ClaimDeliveries(x.ctx, "w", 10, retryAt, retryAt.Add(time.Minute))
	x.must(err)
	if len(retried) != 1 || retried[0].ID != ds[1].ID || retried[0].Attempts != 2 || !retried[0].NextAt.Equal(retryAt) ||
		retried[0].Error != "429 Too Many Requests" {
		x.t.Fatalf("retried %+v", retried)
	}

	// A big batch goes through in one call.
	big := x.chatsOutboxAt(o["P2"], completeChunk+200, T0)
	claimed, err := x.s.ClaimDeliveries(x.ctx, "w", 2000, T0, T0.Add(time.Minute))
	x.must(err)
	results := make([]storage.DeliveryResult, len(claimed))
	for i, d := range claimed {
		results[i] = storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: fmt.Sprint(i)}
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "w", results, T0.Add(time.Second)))
	if c := x.counts(big.ID); c[storage.DeliverySent] != completeChunk+200 || len(c) != 1 {
		x.t.Errorf("counts after a batch of %d: %v", completeChunk+200, c)
	}
}

// chatsOutboxAt is chatsOutbox with chat ids of the org's own.
func (x *suite) chatsOutboxAt(org storage.Org, n int, at time.Time) storage.Broadcast {
	x.t.Helper()
	for i := range n {
		x.bind(storage.VK, fmt.Sprint(org.ID, "-", i), org.ID, false)
	}
	b := x.newBroadcast(org.ID, storage.ModeDirect, storage.Audience{Chats: true})
	built, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}}, at)
	x.must(err)
	if built != n {
		x.t.Fatalf("built %d deliveries, want %d", built, n)
	}
	return b
}

func testFinishBroadcasts(x *suite) {
	o := x.tree()
	direct := x.chatsOutbox(o["P1"], 2, T0)
	empty := x.newBroadcast(o["P2"].ID, storage.ModeDirect, storage.Audience{Chats: true})
	relay := x.newBroadcast(o["U"].ID, storage.ModeRelay, storage.Audience{Private: true})
	x.must(x.s.AddRelaySteps(x.ctx, []storage.RelayStep{{BroadcastID: relay.ID, OrgID: o["B1"].ID, ReceivedAt: T0}}))
	scheduled, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["U"].ID, Mode: storage.ModeDirect, CreatedAt: T0})
	x.must(err)

	at := T0.Add(time.Hour)
	done, err := x.s.FinishBroadcasts(x.ctx, at)
	x.must(err)
	if len(done) != 1 || done[0].ID != empty.ID || done[0].Status != storage.BroadcastDone || done[0].FinishedAt == nil || !done[0].FinishedAt.Equal(at) {
		x.t.Fatalf("finished %+v, want only the broadcast with nothing to send", done)
	}
	ds, err := x.s.ClaimDeliveries(x.ctx, "w", 10, T0, T0.Add(time.Minute))
	x.must(err)
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{{ID: ds[0].ID, Status: storage.DeliverySent}}, T0))
	if done, err := x.s.FinishBroadcasts(x.ctx, at); err != nil || len(done) != 0 {
		x.t.Fatalf("finished %+v, %v while a row is being sent", done, err)
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{{ID: ds[1].ID, Status: storage.DeliveryFailed}}, T0))
	_, err = x.s.CompleteRelayStep(x.ctx, relay.ID, o["B1"].ID, storage.RelayPublished, "", T0)
	x.must(err)

	// Of replicas finishing at once, each broadcast goes to exactly one.
	var (
		mu  sync.Mutex
		got []int64
		wg  sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			done, err := x.s.FinishBroadcasts(x.ctx, at)
			if err != nil {
				x.t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, b := range done {
				got = append(got, b.ID)
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	if want := []int64{direct.ID, relay.ID}; !reflect.DeepEqual(got, want) {
		x.t.Errorf("finished %v, want %v once each", got, want)
	}
	if b, err := x.s.Broadcast(x.ctx, scheduled.ID); err != nil || b.Status != storage.BroadcastScheduled {
		x.t.Errorf("a scheduled broadcast: %+v, %v", b, err)
	}
}

func testCancelBroadcast(x *suite) {
	o := x.tree()
	b := x.chatsOutbox(o["P1"], 5, T0)
	ds, err := x.s.ClaimDeliveries(x.ctx, "w", 2, T0, T0.Add(time.Minute))
	x.must(err)
	at := T0.Add(time.Second)
	n, err := x.s.CancelBroadcast(x.ctx, b.ID, at)
	x.must(err)
	if n != 3 {
		x.t.Errorf("cancelled %d deliveries, want the 3 queued", n)
	}
	got, err := x.s.Broadcast(x.ctx, b.ID)
	x.must(err)
	if got.Status != storage.BroadcastCancelled || got.FinishedAt == nil || !got.FinishedAt.Equal(at) {
		x.t.Errorf("cancelled broadcast %+v", got)
	}
	if more := x.claimAll(T0.Add(30 * time.Second)); len(more) != 0 {
		x.t.Errorf("claimed %d rows of a cancelled broadcast", len(more))
	}
	// Rows being sent may finish; a retry of one is cancelled, not queued.
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{
		{ID: ds[0].ID, Status: storage.DeliverySent, MessageID: "1"},
		{ID: ds[1].ID, Status: storage.DeliveryQueued, NextAt: T0},
	}, at))
	if c, want := x.counts(b.ID), map[storage.DeliveryStatus]int{storage.DeliverySent: 1, storage.DeliveryCancelled: 4}; !reflect.DeepEqual(c, want) {
		x.t.Errorf("counts %v, want %v", c, want)
	}
	_, err = x.s.CancelBroadcast(x.ctx, b.ID, at)
	x.wantErr(err, storage.ErrConflict)
	_, err = x.s.CancelBroadcast(x.ctx, 987654, at)
	x.wantErr(err, storage.ErrNotFound)

	scheduled, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["U"].ID, Mode: storage.ModeDirect, CreatedAt: T0})
	x.must(err)
	if n, err := x.s.CancelBroadcast(x.ctx, scheduled.ID, at); err != nil || n != 0 {
		x.t.Errorf("cancel of a scheduled broadcast: %d, %v", n, err)
	}
	if done, err := x.s.FinishBroadcasts(x.ctx, at); err != nil || len(done) != 0 {
		x.t.Errorf("finished cancelled broadcasts: %+v, %v", done, err)
	}
}

func testBroadcastRoundTrip(x *suite) {
	o := x.tree()
	author, _ := x.register("40001", o["B1"].ID, storage.RoleInfoworker, "")
	when, deadline := T0.Add(time.Hour), T0.Add(48*time.Hour)
	in := storage.Broadcast{AuthorID: author.ID, OrgID: o["B1"].ID, Text: "<b>Собрание</b> 📣 — مرحبا",
		Format:      []storage.Span{{Kind: storage.SpanBold, Offset: 3, Length: 7}, {Kind: storage.SpanLink, Offset: 15, Length: 2, URL: "https://t.me/union"}},
		Attachments: []storage.Attachment{{Platform: storage.Telegram, Kind: "document", FileID: "BQAC", Name: "повестка.pdf"}},
		Mode:        storage.ModeRelay,
		Audience:    storage.Audience{OrgIDs: []int64{o["B11"].ID}, Roles: []storage.Role{storage.RoleActivist, storage.RoleChair}, Private: true},
		CreatedAt:   T0.In(time.FixedZone("SAKT", 11*3600)), ScheduledAt: &when, RelayDeadline: &deadline,
		Progress:  &storage.DeskPost{Platform: storage.Telegram, ChatID: "40001", MessageID: "7"},
		FromOrgID: o["P1"].ID}
	got, err := x.s.CreateBroadcast(x.ctx, in)
	x.must(err)
	want := in
	want.ID, want.Status, want.CreatedAt = got.ID, storage.BroadcastScheduled, T0
	if got.ID == 0 || !reflect.DeepEqual(got, want) {
		x.t.Errorf("created\n%+v\nwant\n%+v", got, want)
	}
	if stored, err := x.s.Broadcast(x.ctx, got.ID); err != nil || !reflect.DeepEqual(stored, want) {
		x.t.Errorf("Broadcast = %+v, %v", stored, err)
	}
	for _, bad := range [][]storage.Span{
		{{Kind: storage.SpanBold, Offset: 20, Length: 10}}, // past the end
		{{Kind: "mention", Offset: 0, Length: 1}},
		{{Kind: storage.SpanLink, Offset: 0, Length: 1, URL: "ftp://x"}},
	} {
		if _, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["B1"].ID, Text: "Собрание", Format: bad, Mode: storage.ModeDirect, CreatedAt: T0}); err == nil {
			x.t.Errorf("a broadcast with format %+v was stored", bad)
		}
	}
	plain, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["B1"].ID, Mode: storage.ModeDirect, CreatedAt: T0.Add(time.Minute)})
	x.must(err)
	if plain.AuthorID != 0 || plain.FromOrgID != 0 || plain.Format != nil || plain.Progress != nil || plain.Attachments != nil || plain.ScheduledAt != nil || plain.Audience.OrgIDs != nil {
		x.t.Errorf("a bare broadcast read back %+v", plain)
	}
	x.must(x.s.SetBroadcastProgress(x.ctx, plain.ID, storage.DeskPost{Platform: storage.VK, ChatID: "1", MessageID: "2"}))
	if b, err := x.s.Broadcast(x.ctx, plain.ID); err != nil || b.Progress == nil || *b.Progress != (storage.DeskPost{Platform: storage.VK, ChatID: "1", MessageID: "2"}) {
		x.t.Errorf("progress %+v, %v", b.Progress, err)
	}
	x.wantErr(x.s.SetBroadcastProgress(x.ctx, 987654, storage.DeskPost{Platform: storage.VK, ChatID: "1", MessageID: "2"}), storage.ErrNotFound)
	_, err = x.s.Broadcast(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: 987654, Mode: storage.ModeDirect, CreatedAt: T0})
	x.wantErr(err, storage.ErrNotFound)
	for _, bad := range []storage.Broadcast{
		{OrgID: o["B1"].ID, CreatedAt: T0},
		{OrgID: o["B1"].ID, Mode: storage.ModeDirect, Audience: storage.Audience{Roles: []storage.Role{"boss"}}},
		{OrgID: o["B1"].ID, Mode: storage.ModeDirect, Status: "lost"},
	} {
		if _, err := x.s.CreateBroadcast(x.ctx, bad); err == nil {
			x.t.Errorf("created %+v", bad)
		}
	}

	x.newBroadcast(o["B2"].ID, storage.ModeDirect, storage.Audience{})
	list, err := x.s.Broadcasts(x.ctx, o["B1"].ID, 10)
	x.must(err)
	if len(list) != 2 || list[0].ID != plain.ID || list[1].ID != got.ID {
		x.t.Errorf("broadcasts of B1 %+v, want newest first", list)
	}
	if list, err := x.s.Broadcasts(x.ctx, o["B1"].ID, 1); err != nil || len(list) != 1 || list[0].ID != plain.ID {
		x.t.Errorf("limited list %+v, %v", list, err)
	}
	if _, err := x.s.Broadcasts(x.ctx, o["B1"].ID, 0); err == nil {
		x.t.Error("a list without a limit succeeded")
	}
}

func testBroadcastStatus(x *suite) {
	o := x.tree()
	now := T0.Add(time.Hour)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	create := func(at *time.Time, status storage.BroadcastStatus) storage.Broadcast {
		b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["U"].ID, Mode: storage.ModeDirect, Status: status, CreatedAt: T0, ScheduledAt: at})
		x.must(err)
		return b
	}
	atOnce, due, notYet := create(nil, ""), create(&earlier, ""), create(&later, "")
	create(&earlier, storage.BroadcastSending)
	list, err := x.s.DueBroadcasts(x.ctx, now)
	x.must(err)
	if len(list) != 2 || list[0].ID != atOnce.ID || list[1].ID != due.ID {
		x.t.Errorf("due %+v, want the one without a time, then the one due", list)
	}
	if list, err := x.s.DueBroadcasts(x.ctx, later); err != nil || len(list) != 3 || list[2].ID != notYet.ID {
		x.t.Errorf("due later %+v, %v", list, err)
	}

	b, err := x.s.SetBroadcastStatus(x.ctx, due.ID, storage.BroadcastScheduled, storage.BroadcastSending, now)
	x.must(err)
	if b.Status != storage.BroadcastSending || b.StartedAt == nil || !b.StartedAt.Equal(now) || b.FinishedAt != nil {
		x.t.Errorf("started %+v", b)
	}
	_, err = x.s.SetBroadcastStatus(x.ctx, due.ID, storage.BroadcastScheduled, storage.BroadcastSending, later)
	x.wantErr(err, storage.ErrConflict)
	b, err = x.s.SetBroadcastStatus(x.ctx, due.ID, storage.BroadcastSending, storage.BroadcastDone, later)
	x.must(err)
	if b.Status != storage.BroadcastDone || !b.StartedAt.Equal(now) || b.FinishedAt == nil || !b.FinishedAt.Equal(later) {
		x.t.Errorf("done %+v", b)
	}
	_, err = x.s.SetBroadcastStatus(x.ctx, 987654, storage.BroadcastScheduled, storage.BroadcastSending, now)
	x.wantErr(err, storage.ErrNotFound)
	if _, err := x.s.SetBroadcastStatus(x.ctx, atOnce.ID, storage.BroadcastScheduled, "flying", now); err == nil {
		x.t.Error("an unknown status was set")
	}

	// Cancelling through a status change drops the queued rows too.
	sending := x.chatsOutbox(o["P2"], 2, T0)
	_, err = x.s.SetBroadcastStatus(x.ctx, sending.ID, storage.BroadcastSending, storage.BroadcastCancelled, now)
	x.must(err)
	if c := x.counts(sending.ID); c[storage.DeliveryCancelled] != 2 {
		x.t.Errorf("counts after a cancel by status %v", c)
	}
}

func testDeliveryCounts(x *suite) {
	o, _ := x.audienceFixture()
	b := x.newBroadcast(o["U"].ID, storage.ModeDirect, storage.Audience{Private: true, Chats: true})
	_, err := x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}, T0)
	x.must(err)
	ds, err := x.s.ClaimDeliveries(x.ctx, "w", 1, T0, T0.Add(time.Minute))
	x.must(err)
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{{ID: ds[0].ID, Status: storage.DeliverySent}}, T0))
	cs, err := x.s.DeliveryCounts(x.ctx, b.ID)
	x.must(err)
	got := map[string]int{}
	for _, c := range cs {
		got[fmt.Sprint(c.OrgID, "/", c.Status)] = c.Count
	}
	// "both" counts in the lower of P1 and P2.
	p1, p2 := 7, 1
	if o["P2"].ID < o["P1"].ID {
		p1, p2 = 6, 2
	}
	want := map[string]int{}
	for org, n := range map[int64]int{o["P1"].ID: p1, o["P2"].ID: p2, o["B11"].ID: 2, o["B1"].ID: 1, o["B2"].ID: 1} {
		want[fmt.Sprint(org, "/queued")] = n
	}
	want[fmt.Sprint(ds[0].OrgID, "/queued")]--
	want[fmt.Sprint(ds[0].OrgID, "/sent")] = 1
	if ds[0].Priority != storage.PriorityActivist || !reflect.DeepEqual(got, want) {
		x.t.Errorf("counts %v, want %v", got, want)
	}
	if cs, err := x.s.DeliveryCounts(x.ctx, 987654); err != nil || len(cs) != 0 {
		x.t.Errorf("counts of an unknown broadcast: %+v, %v", cs, err)
	}
}

func testRelaySteps(x *suite) {
	o := x.tree()
	b := x.newBroadcast(o["U"].ID, storage.ModeRelay, storage.Audience{Private: true, Chats: true})
	other := x.newBroadcast(o["U"].ID, storage.ModeRelay, storage.Audience{Private: true})
	x.must(x.s.AddRelaySteps(x.ctx, []storage.RelayStep{
		{BroadcastID: b.ID, OrgID: o["B2"].ID, ReceivedAt: T0.Add(time.Minute)},
		{BroadcastID: b.ID, OrgID: o["B1"].ID, ReceivedAt: T0.Add(time.Minute)},
		{BroadcastID: other.ID, OrgID: o["B1"].ID, ReceivedAt: T0},
	}))
	// Again, as a retried relay would: nothing changes.
	x.must(x.s.AddRelaySteps(x.ctx, []storage.RelayStep{{BroadcastID: b.ID, OrgID: o["B1"].ID, ReceivedAt: T0.Add(time.Hour)}}))
	x.must(x.s.AddRelaySteps(x.ctx, nil))
	steps, err := x.s.RelaySteps(x.ctx, b.ID)
	x.must(err)
	lo, hi := o["B1"].ID, o["B2"].ID
	if hi < lo {
		lo, hi = hi, lo
	}
	want := []storage.RelayStep{{BroadcastID: b.ID, OrgID: lo, ReceivedAt: T0.Add(time.Minute)}, {BroadcastID: b.ID, OrgID: hi, ReceivedAt: T0.Add(time.Minute)}}
	if !reflect.DeepEqual(steps, want) {
		x.t.Errorf("steps %+v, want %+v", steps, want)
	}
	x.wantErr(x.s.AddRelaySteps(x.ctx, []storage.RelayStep{{BroadcastID: 987654, OrgID: lo, ReceivedAt: T0}}), storage.ErrNotFound)

	pending, err := x.s.PendingRelaySteps(x.ctx)
	x.must(err)
	if len(pending) != 3 || pending[0].BroadcastID != other.ID || pending[1].OrgID != lo || pending[2].OrgID != hi {
		x.t.Errorf("pending %+v, want the oldest first", pending)
	}
	at := T0.Add(2 * time.Hour)
	x.must(x.s.MarkRelayReminded(x.ctx, b.ID, o["B1"].ID, at))
	x.wantErr(x.s.MarkRelayReminded(x.ctx, b.ID, o["P1"].ID, at), storage.ErrNotFound)

	s, err := x.s.CompleteRelayStep(x.ctx, b.ID, o["B1"].ID, storage.RelayNoted, "от себя: приходите 🙏", at)
	x.must(err)
	wantStep := storage.RelayStep{BroadcastID: b.ID, OrgID: o["B1"].ID, ReceivedAt: T0.Add(time.Minute), RelayedAt: &at,
		Action: storage.RelayNoted, Note: "от себя: приходите 🙏", RemindedAt: &at}
	if !reflect.DeepEqual(s, wantStep) {
		x.t.Errorf("completed %+v, want %+v", s, wantStep)
	}
	_, err = x.s.CompleteRelayStep(x.ctx, b.ID, o["B1"].ID, storage.RelayAuto, "", at)
	x.wantErr(err, storage.ErrAlreadyDecided)
	_, err = x.s.CompleteRelayStep(x.ctx, b.ID, o["P1"].ID, storage.RelayPublished, "", at)
	x.wantErr(err, storage.ErrNotFound)
	if _, err := x.s.CompleteRelayStep(x.ctx, b.ID, o["B2"].ID, "", "", at); err == nil {
		x.t.Error("a step was completed without an action")
	}

	// Of a person and the deadline sweep acting at once, exactly one wins.
	var (
		mu  sync.Mutex
		won int
		wg  sync.WaitGroup
	)
	for _, a := range []storage.RelayAction{storage.RelayPublished, storage.RelayAuto, storage.RelaySkipped} {
		wg.Go(func() {
			_, err := x.s.CompleteRelayStep(x.ctx, b.ID, o["B2"].ID, a, "", at)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrAlreadyDecided):
				x.t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		x.t.Errorf("%d racing actions won, want 1", won)
	}

	// Only broadcasts still sending have pending steps.
	_, err = x.s.CancelBroadcast(x.ctx, other.ID, at)
	x.must(err)
	if pending, err := x.s.PendingRelaySteps(x.ctx); err != nil || len(pending) != 0 {
		x.t.Errorf("pending after all acted or were cancelled: %+v, %v", pending, err)
	}
}

func testSuggestions(x *suite) {
	o := x.tree()
	author, _ := x.register("41001", o["P1"].ID, storage.RoleMember, "")
	atts := []storage.Attachment{{Platform: storage.VK, Kind: "photo", FileID: "photo1_2_abc"}}
	in := storage.Suggestion{AuthorID: author.ID, FromOrgID: o["P1"].ID, AtOrgID: o["B11"].ID, Kind: storage.SuggestCall,
		Text: "Забастовка на заводе ✊", Attachments: atts, Solidarity: true, Status: storage.SuggestionDeclined, CreatedAt: T0}
	s, err := x.s.CreateSuggestion(x.ctx, in)
	x.must(err)
	want := in
	want.ID, want.Status = s.ID, storage.SuggestionPending
	if s.ID == 0 || !reflect.DeepEqual(s, want) {
		x.t.Errorf("created %+v, want %+v", s, want)
	}
	if got, err := x.s.Suggestion(x.ctx, s.ID); err != nil || !reflect.DeepEqual(got, want) {
		x.t.Errorf("Suggestion = %+v, %v", got, err)
	}
	news, err := x.s.CreateSuggestion(x.ctx, storage.Suggestion{AuthorID: author.ID, FromOrgID: o["P1"].ID, AtOrgID: o["B11"].ID,
		Kind: storage.SuggestNews, Text: "news", CreatedAt: T0.Add(time.Minute)})
	x.must(err)
	if list, err := x.s.Suggestions(x.ctx, o["B11"].ID); err != nil || len(list) != 2 || list[0].ID != s.ID || list[1].ID != news.ID {
		x.t.Errorf("pending at B11 %+v, %v; want oldest first", list, err)
	}
	// Those above see what waits below them; those below or beside do not.
	if list, err := x.s.Suggestions(x.ctx, o["U"].ID); err != nil || len(list) != 2 {
		x.t.Errorf("pending under U %+v, %v; want both", list, err)
	}
	for _, other := range []string{"P1", "B2"} {
		if list, err := x.s.Suggestions(x.ctx, o[other].ID); err != nil || len(list) != 0 {
			x.t.Errorf("pending under %s %+v, %v; want none", other, list, err)
		}
	}
	if _, err := x.s.CreateSuggestion(x.ctx, storage.Suggestion{FromOrgID: o["P1"].ID, AtOrgID: o["B11"].ID, Kind: "rumour"}); err == nil {
		x.t.Error("a suggestion of an unknown kind was created")
	}
	_, err = x.s.CreateSuggestion(x.ctx, storage.Suggestion{FromOrgID: o["P1"].ID, AtOrgID: 987654, Kind: storage.SuggestNews, CreatedAt: T0})
	x.wantErr(err, storage.ErrNotFound)

	up, err := x.s.PassSuggestionUp(x.ctx, s.ID, o["B11"].ID, o["B1"].ID)
	x.must(err)
	if up.AtOrgID != o["B1"].ID || up.Status != storage.SuggestionPending {
		x.t.Errorf("passed up %+v", up)
	}
	_, err = x.s.PassSuggestionUp(x.ctx, s.ID, o["B11"].ID, o["B1"].ID)
	x.wantErr(err, storage.ErrConflict)
	_, err = x.s.PassSuggestionUp(x.ctx, 987654, o["B11"].ID, o["B1"].ID)
	x.wantErr(err, storage.ErrNotFound)
	if list, err := x.s.Suggestions(x.ctx, o["B11"].ID); err != nil || len(list) != 1 || list[0].ID != news.ID {
		x.t.Errorf("pending at B11 after the pass %+v, %v", list, err)
	}

	// Deciding where it no longer is fails; where it is, once.
	_, err = x.s.DecideSuggestion(x.ctx, s.ID, o["B11"].ID, storage.SuggestionDeclined, "", 0, T0)
	x.wantErr(err, storage.ErrConflict)
	b := x.newBroadcast(o["B1"].ID, storage.ModeDirect, storage.Audience{Private: true})
	at := T0.Add(time.Hour)
	pub, err := x.s.DecideSuggestion(x.ctx, s.ID, o["B1"].ID, storage.SuggestionPublished, "", b.ID, at)
	x.must(err)
	if pub.Status != storage.SuggestionPublished || pub.BroadcastID != b.ID || pub.DecidedAt == nil || !pub.DecidedAt.Equal(at) {
		x.t.Errorf("published %+v", pub)
	}
	_, err = x.s.DecideSuggestion(x.ctx, s.ID, o["B1"].ID, storage.SuggestionDeclined, "late", 0, at)
	x.wantErr(err, storage.ErrConflict)
	_, err = x.s.PassSuggestionUp(x.ctx, s.ID, o["B1"].ID, o["U"].ID)
	x.wantErr(err, storage.ErrConflict)
	if _, err := x.s.DecideSuggestion(x.ctx, news.ID, o["B11"].ID, storage.SuggestionPending, "", 0, at); err == nil {
		x.t.Error("pending was accepted as a decision")
	}
	dec, err := x.s.DecideSuggestion(x.ctx, news.ID, o["B11"].ID, storage.SuggestionDeclined, "не по теме", 0, at)
	x.must(err)
	if dec.Status != storage.SuggestionDeclined || dec.Reason != "не по теме" || dec.BroadcastID != 0 {
		x.t.Errorf("declined %+v", dec)
	}
	_, err = x.s.DecideSuggestion(x.ctx, 987654, o["B11"].ID, storage.SuggestionDeclined, "", 0, at)
	x.wantErr(err, storage.ErrNotFound)
	if list, err := x.s.Suggestions(x.ctx, o["B11"].ID); err != nil || len(list) != 0 {
		x.t.Errorf("pending after decisions %+v, %v", list, err)
	}
}

func testForgetBroadcasts(x *suite) {
	o := x.tree()
	x.invite("P1-member", o["P1"].ID, storage.RoleMember, 0)
	p, _ := x.register("42001", o["P1"].ID, storage.RoleMember, "P1-member")
	other, _ := x.register("42002", o["P1"].ID, storage.RoleMember, "P1-member")
	mine, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: p.ID, OrgID: o["P1"].ID, Mode: storage.ModeDirect, Text: "mine",
		Status: storage.BroadcastSending, CreatedAt: T0})
	x.must(err)
	// The progress of a broadcast is shown in its author's chat; the chat of
	// one started by someone else is an account of p's all the same.
	x.must(x.s.SetBroadcastProgress(x.ctx, mine.ID, storage.DeskPost{Platform: storage.Telegram, ChatID: "42001", MessageID: "7"}))
	shown, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: other.ID, OrgID: o["P1"].ID, Mode: storage.ModeDirect, Text: "shown",
		Status: storage.BroadcastSending, CreatedAt: T0})
	x.must(err)
	x.must(x.s.SetBroadcastProgress(x.ctx, shown.ID, storage.DeskPost{Platform: storage.Telegram, ChatID: "42001", MessageID: "8"}))
	theirProgress := storage.DeskPost{Platform: storage.Telegram, ChatID: "42002", MessageID: "9"}
	kept, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: other.ID, OrgID: o["P1"].ID, Mode: storage.ModeDirect, Text: "theirs",
		Status: storage.BroadcastSending, CreatedAt: T0})
	x.must(err)
	x.must(x.s.SetBroadcastProgress(x.ctx, kept.ID, theirProgress))

	photo := []storage.Attachment{{Platform: storage.Telegram, Kind: "photo", FileID: "AgAC"}}
	suggest := func(author storage.Person) storage.Suggestion {
		s, err := x.s.CreateSuggestion(x.ctx, storage.Suggestion{AuthorID: author.ID, FromOrgID: o["P1"].ID, AtOrgID: o["B11"].ID,
			Kind: storage.SuggestCall, Solidarity: true, Text: author.FullName + ", +7 914 765-43-21", Attachments: photo, CreatedAt: T0})
		x.must(err)
		return s
	}
	pending, published, declined, theirs := suggest(p), suggest(p), suggest(p), suggest(other)
	_, err = x.s.DecideSuggestion(x.ctx, published.ID, o["B11"].ID, storage.SuggestionPublished, "", mine.ID, T0)
	x.must(err)
	_, err = x.s.DecideSuggestion(x.ctx, declined.ID, o["B11"].ID, storage.SuggestionDeclined, "not now, "+p.FullName, 0, T0)
	x.must(err)

	// Two broadcasts reach p: one already sent, one still queued.
	sent := x.newBroadcast(o["P1"].ID, storage.ModeDirect, storage.Audience{Private: true})
	scope := storage.OutboxScope{Orgs: []storage.Org{o["P1"]}}
	_, err = x.s.BuildOutbox(x.ctx, sent, scope, T0)
	x.must(err)
	claimed := x.claimAll(T0)
	var results []storage.DeliveryResult
	for _, d := range claimed {
		results = append(results, storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: "m"})
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "inspector", results, T0))
	queued := x.newBroadcast(o["P1"].ID, storage.ModeDirect, storage.Audience{Private: true})
	_, err = x.s.BuildOutbox(x.ctx, queued, scope, T0)
	x.must(err)

	at := T0.Add(time.Hour)
	x.must(x.s.Forget(x.ctx, p.ID, at))

	if b, err := x.s.Broadcast(x.ctx, mine.ID); err != nil || b.AuthorID != 0 || b.Text != "mine" || b.Progress != nil {
		x.t.Errorf("the forgotten author's broadcast %+v, %v; want it kept, unsigned, without the progress in their chat", b, err)
	}
	if b, err := x.s.Broadcast(x.ctx, shown.ID); err != nil || b.AuthorID != other.ID || b.Progress != nil {
		x.t.Errorf("a broadcast with its progress in the forgotten person's chat %+v, %v; want the progress gone", b, err)
	}
	if b, err := x.s.Broadcast(x.ctx, kept.ID); err != nil || b.Progress == nil || *b.Progress != theirProgress {
		x.t.Errorf("another author's broadcast %+v, %v; want its progress kept", b, err)
	}
	// The suggestions stay for the counts, without a word of what they said.
	for _, tt := range []struct {
		name   string
		id     int64
		status storage.SuggestionStatus
		at     time.Time
	}{
		{"pending", pending.ID, storage.SuggestionDeclined, at},
		{"published", published.ID, storage.SuggestionPublished, T0},
		{"declined", declined.ID, storage.SuggestionDeclined, T0},
	} {
		s, err := x.s.Suggestion(x.ctx, tt.id)
		if err != nil || s.AuthorID != 0 || s.Text != "" || s.Attachments != nil || s.Reason != "" || s.Status != tt.status ||
			s.Kind != storage.SuggestCall || !s.Solidarity || s.FromOrgID != o["P1"].ID || s.DecidedAt == nil || !s.DecidedAt.Equal(tt.at) {
			x.t.Errorf("a %s suggestion of a forgotten author %+v, %v; want it anonymous, %s at %v", tt.name, s, err, tt.status, tt.at)
		}
	}
	if s, err := x.s.Suggestion(x.ctx, published.ID); err != nil || s.BroadcastID != mine.ID {
		x.t.Errorf("a published suggestion of a forgotten author %+v, %v; want its broadcast kept", s, err)
	}
	if s, err := x.s.Suggestion(x.ctx, theirs.ID); err != nil || s.AuthorID != other.ID || s.Status != storage.SuggestionPending ||
		s.Text != other.FullName+", +7 914 765-43-21" || len(s.Attachments) != 1 {
		x.t.Errorf("another author's suggestion %+v, %v", s, err)
	}
	if c, want := x.counts(sent.ID), map[storage.DeliveryStatus]int{storage.DeliverySent: 2}; !reflect.DeepEqual(c, want) {
		x.t.Errorf("sent counts %v, want %v kept", c, want)
	}
	if c, want := x.counts(queued.ID), map[storage.DeliveryStatus]int{storage.DeliveryQueued: 1, storage.DeliveryCancelled: 1}; !reflect.DeepEqual(c, want) {
		x.t.Errorf("queued counts %v, want %v", c, want)
	}
	left := x.claimAll(at)
	if len(left) != 1 || left[0].PersonID != other.ID {
		x.t.Fatalf("claimable after Forget %+v, want only the other member", left)
	}
	// The forgotten account is no recipient any more, nor does it block a
	// new one: registered again, the person gets the item.
	again, _ := x.register("42001", o["P1"].ID, storage.RoleMember, "P1-member")
	if n, err := x.s.BuildOutbox(x.ctx, queued, scope, at); err != nil || n != 1 {
		x.t.Errorf("rebuild after re-registration created %d, %v; want the new person", n, err)
	}
	if ds := x.claimAll(at); len(ds) != 1 || ds[0].PersonID != again.ID || ds[0].ChatID != "42001" {
		x.t.Errorf("claimed %+v, want the re-registered person", ds)
	}
}

// testAudienceCountFollowsChanges: the count, which is read from counters
// the database keeps, equals what a build reaches after each change that
// moves someone in or out of an audience: registering, a second role or
// org, approval and rejection, blocking and unblocking the bot on one of
// two accounts, linking an account, and being forgotten. The author
// counts nowhere, whichever of their roles the audience picks.
func testAudienceCountFollowsChanges(x *suite) {
	o, p := x.audienceFixture()
	at := T0.Add(time.Hour)
	activists := []storage.Role{storage.RoleActivist}
	audiences := []struct {
		name  string
		a     storage.Audience
		scope storage.OutboxScope
	}{
		{"everyone", storage.Audience{Private: true}, storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}},
		{"activists", storage.Audience{Private: true, Roles: activists}, storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}},
		{"members and activists of B1", storage.Audience{Private: true, Roles: []storage.Role{storage.RoleMember, storage.RoleActivist}},
			storage.OutboxScope{Orgs: []storage.Org{o["B1"]}, Subtree: true}},
		{"chosen P2", storage.Audience{Private: true, OrgIDs: []int64{o["P2"].ID}}, storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}},
		{"P1 alone", storage.Audience{Private: true}, storage.OutboxScope{Orgs: []storage.Org{o["P1"]}}},
	}
	check := func(change string) {
		x.t.Helper()
		for _, au := range audiences {
			for _, author := range []int64{0, p["both"].ID} {
				b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{AuthorID: author, OrgID: o["U"].ID, Text: "news",
					Mode: storage.ModeDirect, Audience: au.a, Status: storage.BroadcastSending, CreatedAt: T0})
				x.must(err)
				people, _, err := x.s.CountAudience(x.ctx, b, au.scope)
				x.must(err)
				built, err := x.s.BuildOutbox(x.ctx, b, au.scope, at)
				x.must(err)
				if people != built {
					x.t.Errorf("after %s: %s (author %d): counted %d, the build reached %d", change, au.name, author, people, built)
				}
			}
		}
	}
	check("the fixture")

	np, _ := x.register("new", o["P2"].ID, storage.RoleMember, "P2-member")
	check("a registration")
	_, err := x.s.JoinByInvite(x.ctx, np.ID, "P1-activist", T0)
	x.must(err)
	check("a second org")
	_, err = x.s.JoinByInvite(x.ctx, p["both"].ID, "P1-activist", T0)
	x.must(err)
	check("the author's third role")

	pending, err := x.s.PendingMemberships(x.ctx, o["U"])
	x.must(err)
	if len(pending) == 0 {
		x.t.Fatal("the fixture has nobody pending")
	}
	_, err = x.s.DecideMembership(x.ctx, pending[0].ID, true, p["c1"].ID, T0)
	x.must(err)
	check("an approval")
	_, rejected := x.register("rejected", o["P2"].ID, storage.RoleMember, "")
	_, err = x.s.DecideMembership(x.ctx, rejected.ID, false, p["c1"].ID, T0)
	x.must(err)
	check("a rejection")

	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "link-new", PersonID: np.ID, ExpiresAt: T0.Add(time.Hour)}))
	_, err = x.s.UseLinkCode(x.ctx, "link-new", storage.VK, "vk-new", T0.Add(time.Minute))
	x.must(err)
	check("a second account")
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "new", T0.Add(2*time.Minute)))
	check("one of two accounts blocked")
	x.must(x.s.MarkBlocked(x.ctx, storage.VK, "vk-new", T0.Add(2*time.Minute)))
	check("both accounts blocked")
	x.must(x.s.TouchAccount(x.ctx, storage.VK, "vk-new", T0.Add(3*time.Minute)))
	check("one account unblocked")
	x.must(x.s.TouchAccount(x.ctx, storage.VK, "vk-new", T0.Add(4*time.Minute)))
	check("an unblocked account touched again")
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "both", T0.Add(2*time.Minute)))
	check("the author blocked the bot")
	x.must(x.s.TouchAccount(x.ctx, storage.Telegram, "both", T0.Add(3*time.Minute)))
	check("the author back")

	x.must(x.s.Forget(x.ctx, np.ID, T0.Add(5*time.Minute)))
	check("a person forgotten")
	x.must(x.s.Forget(x.ctx, p["dual"].ID, T0.Add(5*time.Minute)))
	check("an activist and member forgotten")
}
