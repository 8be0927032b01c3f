package monitoring_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

func TestContactBasesGoUpOnceAYearAcrossReplicas(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, time.Date(2027, 1, 15, 9, 59, 0, 0, loc))
	admin := f.person("union", storage.RoleAdmin)
	eduIW := f.person("edu", storage.RoleInfoworker)
	f.person("edu", storage.RoleChair)
	healthChair := f.person("health", storage.RoleChair)
	f.person("school", storage.RoleActivist)
	f.person("school", storage.RoleChair)
	f.person("clinic", storage.RoleChair)
	// gym has nobody: it has no contact base to send.

	jobs, err := f.svc.Jobs(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(jobs, func(j monitoring.Job) bool { return j.Name == "contact base up" })
	if i < 0 {
		t.Fatalf("no yearly contact base job among %d jobs", len(jobs))
	}
	if next, want := jobs[i].Next(f.clock()), time.Date(2027, 1, 15, 10, 0, 0, 0, loc); !next.Equal(want) {
		t.Errorf("next send %v, want %v", next, want)
	}

	contacts := func() map[string]int {
		seen := map[string]int{}
		for _, n := range f.notes.take() {
			if n.kind == "contacts" {
				seen[fmt.Sprintf("%s %d→%d %d", n.org, n.year, n.person, n.n)]++
			}
		}
		return seen
	}
	round := func(replicas int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, replicas)
		for r := range replicas {
			svc := f.svc
			if r > 0 {
				svc = f.service(nil)
			}
			wg.Go(func() { errs[r] = svc.JobsRound(f.ctx) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}

	round(1)
	if got := contacts(); len(got) != 0 {
		t.Fatalf("before the date: %v", got)
	}
	f.advance(time.Minute)
	round(2)
	// Each org's base once, to its parent's information worker, else its
	// chair, else the Union's staff; the edu chair gets nothing, as edu
	// has an information worker.
	want := map[string]int{
		fmt.Sprintf("school 2027→%d 2", eduIW.ID):       1,
		fmt.Sprintf("clinic 2027→%d 1", healthChair.ID): 1,
		fmt.Sprintf("edu 2027→%d 4", admin.ID):          1, // edu's two and school's two
		fmt.Sprintf("health 2027→%d 2", admin.ID):       1,
	}
	if got := contacts(); !maps.Equal(got, want) {
		t.Errorf("sent %v, want %v", got, want)
	}
	f.advance(time.Hour)
	round(2)
	if got := contacts(); len(got) != 0 {
		t.Errorf("a later round sent again: %v", got)
	}
	// Every send reached someone and is recorded: no org of the year may be
	// claimed again; gym, with nothing to send, may.
	for code, claimable := range map[string]bool{"school": false, "clinic": false, "edu": false, "health": false, "gym": true} {
		ok, err := f.db.ClaimContactBaseSend(f.ctx, f.org[code].ID, 2027, f.clock(), f.clock())
		if err != nil || ok != claimable {
			t.Errorf("%s after the send: claim %v, %v; want %v", code, ok, err, claimable)
		}
	}
}

func TestAContactBaseThatReachedNobodyIsNotRecorded(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, time.Date(2027, 1, 16, 8, 0, 0, 0, loc)) // a day late: caught up
	admin := f.person("union", storage.RoleAdmin)
	f.person("edu", storage.RoleChair)
	iw := f.person("edu", storage.RoleInfoworker)
	f.person("school", storage.RoleChair)
	f.notes.deaf[admin.ID] = true // the Union's staff blocked the bot
	if err := f.svc.JobsRound(f.ctx); err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, n := range f.notes.take() {
		if n.kind == "contacts" {
			sent = append(sent, fmt.Sprintf("%s→%d", n.org, n.person))
		}
	}
	slices.Sort(sent)
	if want := []string{fmt.Sprintf("edu→%d", admin.ID), fmt.Sprintf("school→%d", iw.ID)}; !slices.Equal(sent, want) {
		t.Errorf("tried %v, want %v", sent, want)
	}
	for code, claimable := range map[string]bool{"school": false, "edu": true} {
		ok, err := f.db.ClaimContactBaseSend(f.ctx, f.org[code].ID, 2027, f.clock(), f.clock())
		if err != nil || ok != claimable {
			t.Errorf("%s: claim %v, %v; want %v (sent: not claimable; reached nobody: claimable)", code, ok, err, claimable)
		}
	}
}
