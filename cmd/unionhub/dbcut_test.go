package main

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// TestDatabaseCutMidBroadcastSendsNobodyTwice takes PostgreSQL away from
// `serve` for 3 s, through a proxy that drops its connections and refuses
// new ones, a third into a broadcast to 3,000 Telegram members, with a
// lease of 2 s: the replica keeps what it sent, records it when the
// database is back, and nobody gets the news twice. (On VK the platform
// drops repeats by random_id, so only the engine can show them: the
// broadcast package's test counts its sends.)
func TestDatabaseCutMidBroadcastSendsNobodyTwice(t *testing.T) {
	t.Parallel()
	const members = 3000
	bb := newBigBroadcast(t, storage.Telegram, storagetest.BenchTree{Branches: 10, Primaries: 100, Members: members})
	proxy := storagetest.NewPostgresProxy(t, bb.env["DATABASE_URL"])
	env := maps.Clone(bb.env)
	env["DATABASE_URL"] = proxy.DSN()
	startReplica(t, env)
	bb.send(t)
	for deadline := time.Now().Add(60 * time.Second); bb.sent.Load() < members/3; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d sent in a minute", bb.sent.Load())
		}
	}
	proxy.Cut()
	atCut := bb.sent.Load()
	time.Sleep(3 * time.Second)
	proxy.Restore()
	bb.waitAll(t, 120*time.Second)
	// Wait until the outbox has everyone too: a replica that let go of
	// what it could not record would send it again only after the lease.
	want := fmt.Sprintf("delivered,%d", members)
	report := bb.cli.mustRun("report", "broadcast", "1", "--format", "csv")
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(report, want) || !strings.Contains(report, "queued,0"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("report a minute after everyone was reached:\n%s", report)
		}
		report = bb.cli.mustRun("report", "broadcast", "1", "--format", "csv")
	}
	twice := 0
	for id := 1; id <= members; id++ {
		if n := bb.count(id); n != 1 {
			if twice++; twice <= 5 {
				t.Errorf("member %d got the news %d times", id, n)
			}
		}
	}
	t.Logf("cut after %d sends, %d connections dropped", atCut, proxy.Dropped())
	if proxy.Dropped() == 0 || atCut >= members {
		t.Fatalf("the cut missed the broadcast: %d connections dropped, %d of %d sent", proxy.Dropped(), atCut, members)
	}
	if twice > 0 {
		t.Fatalf("%d members did not get the news exactly once", twice)
	}
}
