package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// errStop stops a build from its Progress, as a crash would.
var errStop = errors.New("stopped by the test")

// scheduled stores a broadcast that waits to be started.
func (x *suite) scheduled(orgID int64, a storage.Audience) storage.Broadcast {
	x.t.Helper()
	b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: orgID, Text: "news", Mode: storage.ModeDirect, Audience: a,
		Status: storage.BroadcastScheduled, CreatedAt: T0})
	x.must(err)
	return b
}

// recipients claims every due delivery of broadcast id and renders them as
// recipient strings, sorted.
func (x *suite) recipients(id int64, now time.Time) []string {
	x.t.Helper()
	var out []string
	for _, d := range x.claimAll(now) {
		if d.BroadcastID == id {
			out = append(out, recipient(d.OrgID, d.PersonID, d.Platform, d.ChatID, d.Priority))
		}
	}
	slices.Sort(out)
	return out
}

func (x *suite) due(now time.Time, id int64) bool {
	x.t.Helper()
	due, err := x.s.DueBroadcasts(x.ctx, now)
	x.must(err)
	return slices.ContainsFunc(due, func(b storage.Broadcast) bool { return b.ID == id })
}

func (x *suite) finished(at time.Time, id int64) bool {
	x.t.Helper()
	done, err := x.s.FinishBroadcasts(x.ctx, at)
	x.must(err)
	return slices.ContainsFunc(done, func(b storage.Broadcast) bool { return b.ID == id })
}

// testStreamOutbox: a broadcast its owner builds reaches whom BuildOutbox
// reaches, its chunks committed as they go; it is not done while it is
// being built, even with nothing queued; a build stopped midway resumes
// after its last chunk, adding nobody twice.
func testStreamOutbox(x *suite) {
	o, _ := x.audienceFixture()
	a := storage.Audience{Private: true, Chats: true}
	scope := storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}
	ref := x.newBroadcast(o["U"].ID, storage.ModeDirect, a)
	want, err := x.s.BuildOutbox(x.ctx, ref, scope, T0)
	x.must(err)
	wantRows := x.recipients(ref.ID, T0)

	b := x.scheduled(o["U"].ID, a)
	started, err := x.s.StartBuild(x.ctx, b.ID, "r1", T0, T0.Add(time.Minute))
	x.must(err)
	if started.Status != storage.BroadcastSending || !started.Building || started.StartedAt == nil || !started.StartedAt.Equal(T0) {
		x.t.Fatalf("started %+v: want sending, building, started at T0", started)
	}
	if got, err := x.s.Broadcast(x.ctx, b.ID); err != nil || !got.Building {
		x.t.Fatalf("read back %+v, %v: want building", got, err)
	}
	if x.finished(T0, b.ID) {
		x.t.Fatal("a broadcast being built, with nothing queued yet, was finished")
	}

	// Stopped after its first chunk (people), then resumed by its owner.
	var first []int
	n1, err := x.s.StreamOutbox(x.ctx, started, scope, storage.OutboxStream{At: T0, Owner: "r1", Progress: func(created int) error {
		first = append(first, created)
		return errStop
	}})
	if !errors.Is(err, errStop) || len(first) != 1 || n1 != first[0] || n1 == 0 || n1 >= want {
		x.t.Fatalf("stopped build created %d (progress %v), %v: want part of %d and errStop", n1, first, err, want)
	}
	var seen []int
	n2, err := x.s.StreamOutbox(x.ctx, started, scope, storage.OutboxStream{At: T0, Owner: "r1", Progress: func(created int) error {
		seen = append(seen, created)
		return nil
	}})
	x.must(err)
	if n1+n2 != want || len(seen) == 0 || seen[len(seen)-1] != n2 || !slices.IsSorted(seen) {
		x.t.Fatalf("resumed build created %d after %d (progress %v), want %d in all", n2, n1, seen, want)
	}
	if again, err := x.s.StreamOutbox(x.ctx, started, scope, storage.OutboxStream{At: T0, Owner: "r1"}); err != nil || again != 0 {
		x.t.Errorf("a third build created %d, %v; want 0", again, err)
	}
	if x.finished(T0, b.ID) {
		x.t.Fatal("a broadcast being built was finished")
	}
	x.must(x.s.EndBuild(x.ctx, b.ID, "r1"))
	if got, err := x.s.Broadcast(x.ctx, b.ID); err != nil || got.Building || got.Status != storage.BroadcastSending {
		x.t.Fatalf("after EndBuild %+v, %v: want sending, not building", got, err)
	}
	x.wantErr(x.s.EndBuild(x.ctx, b.ID, "r1"), storage.ErrConflict)

	ds := x.claimAll(T0)
	var got []string
	var results []storage.DeliveryResult
	for _, d := range ds {
		results = append(results, storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent})
		if d.BroadcastID == b.ID {
			got = append(got, recipient(d.OrgID, d.PersonID, d.Platform, d.ChatID, d.Priority))
		}
	}
	slices.Sort(got)
	if !reflect.DeepEqual(got, wantRows) {
		x.t.Errorf("streamed\n%v\nwant what BuildOutbox built\n%v", got, wantRows)
	}
	x.must(x.s.CompleteDeliveries(x.ctx, "inspector", results, T0))
	if !x.finished(T0, b.ID) {
		x.t.Error("a built broadcast with everything sent was not finished")
	}

	_, err = x.s.StreamOutbox(x.ctx, b, scope, storage.OutboxStream{At: T0})
	if err == nil {
		x.t.Error("a stream without an owner succeeded")
	}
}

// testBuildExclusive: of replicas starting one broadcast at once exactly one
// builds it; another takes it over only once the lease ran out, and then the
// first can neither add rows nor end or fail the build.
func testBuildExclusive(x *suite) {
	o, _ := x.audienceFixture()
	a := storage.Audience{Private: true, Chats: true}
	scope := storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}
	b := x.scheduled(o["U"].ID, a)
	lease := T0.Add(time.Minute)

	var (
		mu      sync.Mutex
		winners []string
		wg      sync.WaitGroup
	)
	for i := range 8 {
		wg.Go(func() {
			owner := fmt.Sprint("r", i)
			_, err := x.s.StartBuild(x.ctx, b.ID, owner, T0, lease)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, owner)
				mu.Unlock()
			case !errors.Is(err, storage.ErrConflict):
				x.t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		x.t.Fatalf("%d replicas started the build (%v), want 1", len(winners), winners)
	}
	first := winners[0]
	if _, err := x.s.StartBuild(x.ctx, b.ID, "late", T0.Add(30*time.Second), T0.Add(90*time.Second)); !errors.Is(err, storage.ErrConflict) {
		x.t.Fatalf("a second builder started while the lease runs: %v", err)
	}
	if x.due(T0.Add(30*time.Second), b.ID) || !x.due(lease, b.ID) {
		x.t.Fatal("a build must be due for the timers once its lease ran out, not before")
	}
	x.must(x.s.RenewBuild(x.ctx, b.ID, first, T0.Add(2*time.Minute)))
	if x.due(lease, b.ID) {
		x.t.Fatal("a renewed build is due for the timers")
	}

	// The first builder dies after a chunk; the lease runs out; another resumes.
	n1, err := x.s.StreamOutbox(x.ctx, b, scope, storage.OutboxStream{At: T0, Owner: first, Progress: func(int) error { return errStop }})
	if !errors.Is(err, errStop) {
		x.t.Fatalf("stopped build: %d, %v", n1, err)
	}
	taken, err := x.s.StartBuild(x.ctx, b.ID, "late", T0.Add(2*time.Minute), T0.Add(3*time.Minute))
	x.must(err)
	if !taken.Building || taken.Status != storage.BroadcastSending || !taken.StartedAt.Equal(T0) {
		x.t.Fatalf("taken over %+v: want the same start, still building", taken)
	}
	x.wantErr(x.s.RenewBuild(x.ctx, b.ID, first, T0.Add(5*time.Minute)), storage.ErrConflict)
	_, err = x.s.StreamOutbox(x.ctx, b, scope, storage.OutboxStream{At: T0, Owner: first})
	x.wantErr(err, storage.ErrConflict)
	x.wantErr(x.s.EndBuild(x.ctx, b.ID, first), storage.ErrConflict)
	_, err = x.s.FailBuild(x.ctx, b.ID, first, T0)
	x.wantErr(err, storage.ErrConflict)

	n2, err := x.s.StreamOutbox(x.ctx, b, scope, storage.OutboxStream{At: T0, Owner: "late"})
	x.must(err)
	x.must(x.s.EndBuild(x.ctx, b.ID, "late"))
	if people, chats, err := x.s.CountAudience(x.ctx, b, scope); err != nil || n1+n2 != people+chats {
		x.t.Errorf("built %d then %d, want %d people and %d chats (%v)", n1, n2, people, chats, err)
	}
	if _, err := x.s.StartBuild(x.ctx, b.ID, "again", T0.Add(time.Hour), T0.Add(2*time.Hour)); !errors.Is(err, storage.ErrConflict) || x.due(T0.Add(time.Hour), b.ID) {
		x.t.Errorf("a built broadcast could be started again: %v", err)
	}

	// Cancelling stops the build: its next chunk finds it so.
	c := x.scheduled(o["U"].ID, a)
	_, err = x.s.StartBuild(x.ctx, c.ID, "r1", T0, lease)
	x.must(err)
	_, err = x.s.CancelBroadcast(x.ctx, c.ID, T0)
	x.must(err)
	_, err = x.s.StreamOutbox(x.ctx, c, scope, storage.OutboxStream{At: T0, Owner: "r1"})
	x.wantErr(err, storage.ErrConflict)
	if got, err := x.s.Broadcast(x.ctx, c.ID); err != nil || got.Building || got.Status != storage.BroadcastCancelled {
		x.t.Errorf("cancelled while building: %+v, %v", got, err)
	}

	_, err = x.s.StartBuild(x.ctx, 987654, "r1", T0, lease)
	x.wantErr(err, storage.ErrNotFound)
	if _, err := x.s.StartBuild(x.ctx, c.ID, "", T0, lease); err == nil {
		x.t.Error("a build without an owner started")
	}
}

// testFailBuild: a failed build marks the broadcast failed and cancels what
// it queued, also what a worker gives back afterwards.
func testFailBuild(x *suite) {
	o, _ := x.audienceFixture()
	a := storage.Audience{Private: true, Chats: true}
	scope := storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}
	b := x.scheduled(o["U"].ID, a)
	_, err := x.s.StartBuild(x.ctx, b.ID, "r1", T0, T0.Add(time.Minute))
	x.must(err)
	n, err := x.s.StreamOutbox(x.ctx, b, scope, storage.OutboxStream{At: T0, Owner: "r1", Progress: func(int) error { return errStop }})
	if !errors.Is(err, errStop) || n < 2 {
		x.t.Fatalf("stopped build created %d, %v", n, err)
	}
	claimed, err := x.s.ClaimDeliveries(x.ctx, "w", 1, T0, T0.Add(time.Minute))
	x.must(err)
	if len(claimed) != 1 {
		x.t.Fatalf("claimed %d rows", len(claimed))
	}
	at := T0.Add(time.Second)
	cancelled, err := x.s.FailBuild(x.ctx, b.ID, "r1", at)
	x.must(err)
	if cancelled != n-1 {
		x.t.Errorf("failing cancelled %d deliveries, want the %d queued", cancelled, n-1)
	}
	got, err := x.s.Broadcast(x.ctx, b.ID)
	x.must(err)
	if got.Status != storage.BroadcastFailed || got.Building || got.FinishedAt == nil || !got.FinishedAt.Equal(at) {
		x.t.Errorf("failed broadcast %+v", got)
	}
	// The row being sent comes back for a retry: it is cancelled instead.
	x.must(x.s.CompleteDeliveries(x.ctx, "w", []storage.DeliveryResult{{ID: claimed[0].ID, Status: storage.DeliveryQueued, NextAt: T0}}, at))
	if rows := x.recipients(b.ID, at); len(rows) != 0 {
		x.t.Errorf("rows of a failed broadcast were claimed: %v", rows)
	}
	if c := x.counts(b.ID); c[storage.DeliveryCancelled] != n || len(c) != 1 {
		x.t.Errorf("counts of a failed broadcast %v, want %d cancelled", c, n)
	}
	_, err = x.s.FailBuild(x.ctx, b.ID, "r1", at)
	x.wantErr(err, storage.ErrConflict)
	if x.finished(at, b.ID) || x.due(at, b.ID) {
		x.t.Error("a failed broadcast was finished or due")
	}
}

// bigTree is a union of 9 branches of 110 primaries: 1,000 organisations,
// a branch more than a scope lists one by one.
func bigTree() []storage.OrgInput {
	in := []storage.OrgInput{{Code: "U", Name: "Union", Level: storage.LevelUnion, Source: "big:1"}}
	for br := range 9 {
		in = append(in, storage.OrgInput{Code: fmt.Sprint("B", br), Name: fmt.Sprint("Branch ", br), ParentCode: "U",
			Level: storage.LevelBranch, Source: "big"})
		for p := range 110 {
			in = append(in, storage.OrgInput{Code: fmt.Sprint("P", br, "-", p), Name: fmt.Sprint("Primary ", br, "-", p),
				ParentCode: fmt.Sprint("B", br), Level: storage.LevelPrimary, Source: "big"})
		}
	}
	return in
}

// testOutboxAfterImport: right after importing 1,000 organisations, with
// nothing analysed, counts and builds reach the right people: the whole
// tree, a branch (told by its path), a primary (by its id) and organisations
// chosen within a branch.
func testOutboxAfterImport(x *suite) {
	_, err := x.s.ImportOrgs(x.ctx, bigTree(), T0)
	x.must(err)
	o := x.orgs()
	if len(o) != 1000 {
		x.t.Fatalf("%d orgs imported, want 1000", len(o))
	}
	// Two members in each of the first three primaries of each branch, one
	// of them an activist, and a chat bound to each of those primaries.
	members := map[string][]string{} // org code -> external ids
	for br := range 9 {
		for p := range 3 {
			code := fmt.Sprint("P", br, "-", p)
			x.invite(code+"-m", o[code].ID, storage.RoleMember, 0)
			x.invite(code+"-a", o[code].ID, storage.RoleActivist, 0)
			for i, role := range []storage.Role{storage.RoleMember, storage.RoleActivist} {
				ext := fmt.Sprint(code, "-", i)
				x.register(ext, o[code].ID, role, code+map[storage.Role]string{storage.RoleMember: "-m", storage.RoleActivist: "-a"}[role])
				members[code] = append(members[code], ext)
			}
			x.bind(storage.Telegram, "-"+code, o[code].ID, false)
		}
	}
	a := storage.Audience{Private: true, Chats: true}
	tests := []struct {
		name  string
		a     storage.Audience
		scope storage.OutboxScope
		codes []string // the primaries reached
	}{
		{"whole tree", a, storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}, nil},
		{"a branch", a, storage.OutboxScope{Orgs: []storage.Org{o["B3"]}, Subtree: true}, []string{"P3-0", "P3-1", "P3-2"}},
		{"a primary", a, storage.OutboxScope{Orgs: []storage.Org{o["P5-1"]}, Subtree: true}, []string{"P5-1"}},
		{"chosen in a branch", storage.Audience{OrgIDs: []int64{o["P4-2"].ID, o["B7"].ID}, Private: true, Chats: true},
			storage.OutboxScope{Orgs: []storage.Org{o["B4"]}, Subtree: true}, []string{"P4-2"}},
		{"chosen branches of the tree", storage.Audience{OrgIDs: []int64{o["B1"].ID, o["B2"].ID}, Private: true, Chats: true},
			storage.OutboxScope{Orgs: []storage.Org{o["U"]}, Subtree: true}, []string{"P1-0", "P1-1", "P1-2", "P2-0", "P2-1", "P2-2"}},
	}
	for _, tt := range tests {
		codes := tt.codes
		if codes == nil {
			for code := range members {
				codes = append(codes, code)
			}
		}
		var want []string
		for _, code := range codes {
			want = append(want, recipient(o[code].ID, 0, storage.Telegram, "-"+code, storage.PriorityChat))
			for i, ext := range members[code] {
				p, err := x.s.PersonByAccount(x.ctx, storage.Telegram, ext)
				x.must(err)
				want = append(want, recipient(o[code].ID, p.ID, storage.Telegram, ext, []int{storage.PriorityMember, storage.PriorityActivist}[i]))
			}
		}
		slices.Sort(want)
		b := x.scheduled(o["U"].ID, tt.a)
		people, chats, err := x.s.CountAudience(x.ctx, b, tt.scope)
		x.must(err)
		_, err = x.s.StartBuild(x.ctx, b.ID, "r1", T0, T0.Add(time.Minute))
		x.must(err)
		n, err := x.s.StreamOutbox(x.ctx, b, tt.scope, storage.OutboxStream{At: T0, Owner: "r1"})
		x.must(err)
		got := x.recipients(b.ID, T0)
		if !reflect.DeepEqual(got, want) {
			x.t.Errorf("%s: built\n%v\nwant\n%v", tt.name, got, want)
		}
		if n != len(want) || people+chats != n || chats != len(codes) {
			x.t.Errorf("%s: built %d, counted %d people and %d chats; want %d rows, %d chats", tt.name, n, people, chats, len(want), len(codes))
		}
	}
}
