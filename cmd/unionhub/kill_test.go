package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// killedMembers is the size of the broadcast killed midway.
const killedMembers = 10000

// duplicateBound is the most a crash can send twice on Telegram with the
// engine as `serve` configures it.
var duplicateBound = broadcast.DuplicateBound(broadcast.DefaultSenders, broadcast.DefaultPipeline)

// TestKillNineMidBroadcastLosesNobody kills `serve` with SIGKILL in the
// middle of a 10,000-recipient broadcast, starts it again and checks that
// everyone got the news: on Telegram with at most duplicateBound twice, on
// VK never twice (random_id).
func TestKillNineMidBroadcastLosesNobody(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			bb := newBigBroadcast(t, plat, storagetest.BenchTree{Branches: 10, Primaries: 100, Members: killedMembers})
			first := startReplica(t, bb.env)
			bb.send(t)
			for deadline := time.Now().Add(60 * time.Second); bb.sent.Load() < killedMembers/3; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("only %d sent in a minute", bb.sent.Load())
				}
			}
			if err := first.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
				t.Fatal(err)
			}
			if err := <-first.done; err == nil {
				t.Fatal("the killed replica exited as if stopped cleanly")
			}
			atKill := bb.sent.Load()

			startReplica(t, bb.env)
			bb.waitAll(t, 120*time.Second)
			twice := 0
			for id := 1; id <= killedMembers; id++ {
				twice += bb.count(id) - 1
			}
			limit := duplicateBound
			if plat == storage.VK {
				limit = 0
			}
			t.Logf("%s: killed after %d sends; everyone reached; %d sent twice (bound %d)", plat, atKill, twice, limit)
			if twice > limit {
				t.Fatalf("%d members got the news twice, more than the bound %d", twice, limit)
			}
			// The platform can have everyone before the database does: on VK
			// the killed replica's last sends are only recorded when the new
			// one reclaims them after the lease, and the platform drops the
			// repeats by random_id.
			want := fmt.Sprintf("delivered,%d", killedMembers)
			report := bb.cli.mustRun("report", "broadcast", "1", "--format", "csv")
			for deadline := time.Now().Add(60 * time.Second); !strings.Contains(report, want) || !strings.Contains(report, "queued,0"); time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("report a minute after everyone was reached:\n%s", report)
				}
				report = bb.cli.mustRun("report", "broadcast", "1", "--format", "csv")
			}
		})
	}
}
