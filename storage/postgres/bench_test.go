package postgres_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// The benchmark tree: the 100,000 members in 1,000 primaries.
var (
	benchMembers   = storagetest.ProgrammeScale.Members
	benchPrimaries = storagetest.ProgrammeScale.Primaries
)

// benchStore opens a migrated store on a fresh schema seeded at the
// programme's scale.
func benchStore(b *testing.B) (*sqlstore.DB, *sql.DB, storage.Org) {
	b.Helper()
	dsn := storagetest.PostgresDSN(b)
	db := open(b, dsn)
	if _, err := db.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	u := storagetest.SeedPostgres(b, db, dsn, storagetest.ProgrammeScale)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	return db, raw, u
}

// newOutbox empties the outbox and builds a direct broadcast to the whole tree.
func newOutbox(b *testing.B, db *sqlstore.DB, raw *sql.DB, u storage.Org) (storage.Broadcast, int) {
	b.Helper()
	ctx := b.Context()
	if _, err := raw.ExecContext(ctx, "TRUNCATE deliveries"); err != nil {
		b.Fatal(err)
	}
	bc, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Mode: storage.ModeDirect, Status: storage.BroadcastSending,
		Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: storagetest.T0})
	if err != nil {
		b.Fatal(err)
	}
	n, err := db.BuildOutbox(ctx, bc, storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}, storagetest.T0)
	if err != nil {
		b.Fatal(err)
	}
	return bc, n
}

// BenchmarkBuildOutbox times building the outbox of a broadcast to the
// whole tree: 100,000 members and 1,000 chats.
func BenchmarkBuildOutbox(b *testing.B) {
	db, raw, u := benchStore(b)
	ctx := b.Context()
	scope := storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}
	var rows int
	for b.Loop() {
		b.StopTimer()
		bc, _ := newOutbox(b, db, raw, u)
		if _, err := raw.ExecContext(ctx, "TRUNCATE deliveries"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := db.BuildOutbox(ctx, bc, scope, storagetest.T0)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	if rows != benchMembers+benchPrimaries {
		b.Fatalf("built %d rows, want %d", rows, benchMembers+benchPrimaries)
	}
	b.ReportMetric(float64(rows), "rows/op")
}

// BenchmarkClaimComplete times one worker's round: claim 500 deliveries,
// record 500 as sent.
func BenchmarkClaimComplete(b *testing.B) {
	const batch = 500
	db, raw, u := benchStore(b)
	ctx := b.Context()
	newOutbox(b, db, raw, u)
	now := storagetest.T0.Add(time.Minute)
	results := make([]storage.DeliveryResult, 0, batch)
	b.ResetTimer()
	for b.Loop() {
		ds, err := db.ClaimDeliveries(ctx, "bench", batch, now, now.Add(time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) < batch {
			b.StopTimer()
			newOutbox(b, db, raw, u)
			b.StartTimer()
			if ds, err = db.ClaimDeliveries(ctx, "bench", batch, now, now.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
		results = results[:0]
		for _, d := range ds {
			results = append(results, storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: fmt.Sprint(d.ID)})
		}
		if err := db.CompleteDeliveries(ctx, "bench", results, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
