package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// killedMembers is the size of the broadcast killed midway.
const killedMembers = 10000

// duplicateBound is the most a crash can send twice on Telegram: results
// recorded every 100 (broadcast.flushSize) plus the 32 sends in flight
// (broadcast.Config.Senders).
const duplicateBound = 100 + 32

// TestKillNineMidBroadcastLosesNobody kills `serve` with SIGKILL in the
// middle of a 10,000-recipient broadcast, starts it again and checks that
// everyone got the news: on Telegram with at most duplicateBound twice, on
// VK never twice (random_id).
func TestKillNineMidBroadcastLosesNobody(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := storagetest.PostgresDSN(t)
			db, err := postgres.Open(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			storagetest.SeedPostgres(t, db, dsn, storagetest.BenchTree{Branches: 10, Primaries: 100, Members: killedMembers, OnVK: plat == storage.VK})
			redisURL, prefix := storagetest.RedisURL(t)
			env := map[string]string{
				"DATABASE_URL": dsn, "REDIS_URL": redisURL, "UNIONHUB_REDIS_PREFIX": prefix,
				"UNIONHUB_LOG_LEVEL": "warn", "UNIONHUB_BROADCAST_LEASE": "2s", "UNIONHUB_ESCALATION_INTERVAL": "100ms",
				"TELEGRAM_RATE": "0", "VK_RATE": "0",
			}
			var sent atomic.Int64
			var editor person
			count := func(id int) int { return 0 }
			if plat == storage.VK {
				f := platformtest.NewVK(t)
				ids := make([]int, killedMembers)
				for i := range ids {
					ids[i] = i + 1
				}
				f.Meet(ids...)
				f.OnSent(func(platformtest.VKMessage, time.Time) { sent.Add(1) })
				env["VK_TOKEN"], env["VK_GROUP_ID"], env["VK_API_URL"] = platformtest.VKToken, strconv.Itoa(platformtest.VKGroupID), f.APIURL()
				editor = newVKPerson(t, f, 900001, "Редактор")
				count = func(id int) int { return f.SentCount(id) }
			} else {
				f := platformtest.NewTelegram(t)
				ids := make([]int64, killedMembers)
				for i := range ids {
					ids[i] = int64(i + 1)
				}
				f.Meet(ids...)
				f.OnSent(func(platformtest.TGMessage, time.Time) { sent.Add(1) })
				env["TELEGRAM_TOKEN"], env["TELEGRAM_API_URL"] = platformtest.TelegramToken, f.URL()
				editor = newTGPerson(t, f, 900001, "Редактор")
				count = func(id int) int { return f.SentCount(int64(id)) }
			}
			cli := &rig{t: t, env: env, clock: &fakeClock{}}
			code := cli.invite("U", "infoworker")

			first := startReplica(t, env)
			register(t, editor, code, "Редакторова Ева")
			settings := compose(t, editor, "Срочно: профсоюз объявляет сбор подписей.")
			editor.press(settings, "Куда") // private messages only: the seeded chats do not exist on the fake
			editor.press(editor.dm().expect("только в личные сообщения"), "Отправить сейчас")
			for deadline := time.Now().Add(60 * time.Second); sent.Load() < killedMembers/3; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("only %d sent in a minute", sent.Load())
				}
			}
			if err := first.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
				t.Fatal(err)
			}
			<-first.done
			atKill := sent.Load()

			startReplica(t, env)
			missing := func() []int {
				var out []int
				for id := 1; id <= killedMembers; id++ {
					if count(id) == 0 {
						out = append(out, id)
					}
				}
				return out
			}
			for deadline := time.Now().Add(120 * time.Second); len(missing()) > 0; time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d members never got the news (killed at %d sent)", len(missing()), atKill)
				}
			}
			twice := 0
			for id := 1; id <= killedMembers; id++ {
				twice += count(id) - 1
			}
			limit := duplicateBound
			if plat == storage.VK {
				limit = 0
			}
			t.Logf("%s: killed after %d sends; everyone reached; %d sent twice (bound %d)", plat, atKill, twice, limit)
			if twice > limit {
				t.Fatalf("%d members got the news twice, more than the bound %d", twice, limit)
			}
			report := cli.mustRun("report", "broadcast", "1", "--format", "csv")
			if !strings.Contains(report, fmt.Sprintf("delivered,%d", killedMembers+1)) || !strings.Contains(report, "queued,0") {
				t.Fatalf("report after the restart:\n%s", report)
			}
		})
	}
}
