package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// BenchmarkServeFirstMessage has the Union's information worker press
// "Send now" for a news item to every member (in private) through the built
// `serve` binary on Postgres and Redis, the members seeded as `org import`
// and registrations leave them (no statistics but the orgs'), the engine
// paced at Telegram's default 30 messages/s. It reports the time from the
// press to the first member's message at the fake, and to the whole outbox
// being built while the engine sends.
//
//	go test ./cmd/unionhub -run '^$' -bench ServeFirstMessage -benchtime 1x -timeout 30m
func BenchmarkServeFirstMessage(b *testing.B) {
	for _, members := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint("members=", members), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				bb := newBigBroadcast(b, storage.Telegram, storagetest.BenchTree{Branches: 10, Primaries: 1000, Members: members, AsImported: true})
				delete(bb.env, "TELEGRAM_RATE") // paced as in production: the build, not the sending, is measured
				startReplica(b, bb.env)
				db, err := postgres.Open(b.Context(), bb.env["DATABASE_URL"], nil)
				if err != nil {
					b.Fatal(err)
				}
				register(b, bb.editor, bb.cli.invite("U", "infoworker"), "Редакторова Ева")
				settings := compose(b, bb.editor, "Срочно: профсоюз объявляет сбор подписей.")
				bb.editor.press(settings, "Куда")
				confirm := bb.editor.dm().expect("только в личные сообщения")
				before := bb.sent.Load()
				b.StartTimer()
				start := time.Now()
				bb.editor.press(confirm, "Отправить сейчас")
				for bb.sent.Load() == before {
					if time.Since(start) > time.Minute {
						b.Fatal("no message in a minute")
					}
					time.Sleep(time.Millisecond)
				}
				first := time.Since(start)
				for {
					bc, err := db.Broadcast(b.Context(), 1)
					if err != nil {
						b.Fatal(err)
					}
					if bc.Status != storage.BroadcastSending && bc.Status != storage.BroadcastDone {
						b.Fatalf("broadcast %s", bc.Status)
					}
					if !bc.Building {
						break
					}
					if time.Since(start) > 10*time.Minute {
						b.Fatal("outbox not built in 10 minutes")
					}
					time.Sleep(10 * time.Millisecond)
				}
				built := time.Since(start)
				b.StopTimer()
				db.Close()
				b.ReportMetric(float64(first.Milliseconds()), "first-message-ms")
				b.ReportMetric(built.Seconds(), "built-s")
				b.ReportMetric(float64(bb.sent.Load()-before), "sent-by-then")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}
