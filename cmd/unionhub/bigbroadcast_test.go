package main

import (
	"context"
	"os"
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

// editorID is the messenger id of the information worker who sends the
// news: above the members' ids (1 to 1,000,000 at most).
const editorID = 9000001

// bigBroadcast is a Postgres tree of seeded members on one platform, the
// fake platform counting what reaches each of them, and the environment for
// `serve` replicas built like the Dockerfile's binary.
type bigBroadcast struct {
	members int
	env     map[string]string
	cli     *rig
	sent    *atomic.Int64
	count   func(id int) int // messages that reached member id (1..members)
	editor  person
}

func newBigBroadcast(tb testing.TB, plat storage.Platform, tree storagetest.BenchTree) *bigBroadcast {
	tb.Helper()
	ctx := context.Background()
	dsn := storagetest.PostgresDSN(tb)
	db, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	tree.OnVK = plat == storage.VK
	storagetest.SeedPostgres(tb, db, dsn, tree)
	redisURL, prefix := storagetest.RedisURL(tb)
	bb := &bigBroadcast{members: tree.Members, sent: &atomic.Int64{}, env: map[string]string{
		"DATABASE_URL": dsn, "REDIS_URL": redisURL, "UNIONHUB_REDIS_PREFIX": prefix,
		"UNIONHUB_LOG_LEVEL": "warn", "UNIONHUB_BROADCAST_LEASE": "2s", "UNIONHUB_ESCALATION_INTERVAL": "100ms",
		"TELEGRAM_RATE": "0", "VK_RATE": "0",
	}}
	if plat == storage.VK {
		f := platformtest.NewVK(tb)
		ids := make([]int, tree.Members)
		for i := range ids {
			ids[i] = i + 1
		}
		f.Meet(ids...)
		f.OnSent(func(platformtest.VKMessage, time.Time) { bb.sent.Add(1) })
		bb.env["VK_TOKEN"], bb.env["VK_GROUP_ID"], bb.env["VK_API_URL"] = platformtest.VKToken, strconv.Itoa(platformtest.VKGroupID), f.APIURL()
		bb.editor = newVKPerson(tb, f, editorID, "Редактор")
		bb.count = func(id int) int { return f.SentCount(id) }
	} else {
		f := platformtest.NewTelegram(tb)
		ids := make([]int64, tree.Members)
		for i := range ids {
			ids[i] = int64(i + 1)
		}
		f.Meet(ids...)
		f.OnSent(func(platformtest.TGMessage, time.Time) { bb.sent.Add(1) })
		bb.env["TELEGRAM_TOKEN"], bb.env["TELEGRAM_API_URL"] = platformtest.TelegramToken, f.URL()
		bb.editor = newTGPerson(tb, f, editorID, "Редактор")
		bb.count = func(id int) int { return f.SentCount(int64(id)) }
	}
	bb.cli = &rig{t: tb, env: bb.env, clock: &fakeClock{}}
	return bb
}

// send registers the Union's information worker and has them send a news
// item to the whole tree in private messages (the seeded chats do not exist
// on the fake); a replica must be running.
func (bb *bigBroadcast) send(tb testing.TB) {
	tb.Helper()
	register(tb, bb.editor, bb.cli.invite("U", "infoworker"), "Редакторова Ева")
	settings := compose(tb, bb.editor, "Срочно: профсоюз объявляет сбор подписей.")
	bb.editor.press(settings, "Куда")
	bb.editor.press(bb.editor.dm().expect("только в личные сообщения"), "Отправить сейчас")
}

// missing lists the members nothing reached yet.
func (bb *bigBroadcast) missing() []int {
	var out []int
	for id := 1; id <= bb.members; id++ {
		if bb.count(id) == 0 {
			out = append(out, id)
		}
	}
	return out
}

// waitAll waits until every member has the news.
func (bb *bigBroadcast) waitAll(tb testing.TB, within time.Duration) {
	tb.Helper()
	for deadline := time.Now().Add(within); len(bb.missing()) > 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d members never got the news (%d sends seen)", len(bb.missing()), bb.members, bb.sent.Load())
		}
	}
}

// peakRSS reads the most memory the process ever held resident (VmHWM), in MiB.
func peakRSS(tb testing.TB, pid int) float64 {
	tb.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				tb.Fatalf("VmHWM line %q: %v", line, err)
			}
			return float64(kib) / 1024
		}
	}
	tb.Fatal("no VmHWM in /proc status")
	return 0
}
