package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// BenchmarkOutbox times a broadcast from the Union to everyone (people in
// private and the primaries' chats) as "Send" runs it: the audience count
// of the settings screen, then the streamed build, with an engine that
// claims as soon as the first chunk is committed. It runs at 100,000 and
// 1,000,000 members, on data as `org import` and registrations leave it
// (stats=none: only the orgs analysed, by the import) and after ANALYZE
// (stats=fresh), and reports:
//
//	count-ms     CountAudience for the whole tree
//	first-row-ms from the start of the build to the first delivery claimed
//	build-s      from the start of the build to its end (every row committed)
//
//	go test ./storage/postgres -run '^$' -bench Outbox -benchtime 1x -timeout 30m
func BenchmarkOutbox(b *testing.B) {
	for _, members := range []int{100_000, 1_000_000} {
		for _, asImported := range []bool{true, false} {
			stats := "fresh"
			if asImported {
				stats = "none"
			}
			b.Run(fmt.Sprintf("members=%d/stats=%s", members, stats), func(b *testing.B) {
				benchOutbox(b, storagetest.BenchTree{Branches: 10, Primaries: 1000, Members: members, AlsoVK: true, AsImported: asImported})
			})
		}
	}
}

func benchOutbox(b *testing.B, tree storagetest.BenchTree) {
	dsn := storagetest.PostgresDSN(b)
	db := open(b, dsn)
	ctx := b.Context()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	u := storagetest.SeedPostgres(b, db, dsn, tree)
	scope := storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}
	want := tree.Members + tree.Primaries
	var count, first, build time.Duration
	for b.Loop() {
		b.StopTimer()
		bc, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Text: "news", Mode: storage.ModeDirect,
			Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: storagetest.T0})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		people, chats, err := db.CountAudience(ctx, bc, scope)
		if err != nil || people+chats != want {
			b.Fatalf("counted %d people and %d chats, want %d in all (%v)", people, chats, want, err)
		}
		count += time.Since(start)

		start = time.Now()
		kick := make(chan struct{})
		claimed := make(chan time.Duration, 1)
		go func() { // the engine: woken by the first chunk, it claims at once
			<-kick
			now := time.Now()
			ds, err := db.ClaimDeliveries(ctx, "bench", 1, now, now.Add(time.Hour))
			if err != nil || len(ds) != 1 {
				b.Errorf("claimed %d deliveries after the first chunk (%v)", len(ds), err)
			}
			claimed <- time.Since(start)
		}()
		if _, err := db.StartBuild(ctx, bc.ID, "bench", storagetest.T0, storagetest.T0.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		kicked := false
		n, err := db.StreamOutbox(ctx, bc, scope, storage.OutboxStream{At: storagetest.T0, Owner: "bench", Progress: func(created int) error {
			if created > 0 && !kicked {
				kicked = true
				close(kick)
			}
			return nil
		}})
		if err == nil {
			err = db.EndBuild(ctx, bc.ID, "bench")
		}
		if err != nil || n != want {
			b.Fatalf("built %d rows, want %d (%v)", n, want, err)
		}
		build += time.Since(start)
		first += <-claimed
	}
	ops := time.Duration(b.N)
	b.ReportMetric(float64((count / ops).Milliseconds()), "count-ms")
	b.ReportMetric(float64((first / ops).Milliseconds()), "first-row-ms")
	b.ReportMetric((build / ops).Seconds(), "build-s")
	b.ReportMetric(0, "ns/op")
}
