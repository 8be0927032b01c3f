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

// The benchmark tree: a union, 10 branches of 100 primaries, 100 members in each.
const (
	benchBranches  = 10
	benchPrimaries = 1000
	benchMembers   = 100000
)

// benchStore opens a migrated store on a fresh schema, imports the tree and
// seeds the members with set-based SQL: every tenth an activist, every tenth
// also on VK and seen there last, one bound chat per primary.
func benchStore(b *testing.B) (*sqlstore.DB, *sql.DB, storage.Org) {
	b.Helper()
	ctx := b.Context()
	dsn := storagetest.PostgresDSN(b)
	db := open(b, dsn)
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	in := []storage.OrgInput{{Code: "U", Name: "Union", Level: storage.LevelUnion, Source: "bench"}}
	for br := range benchBranches {
		in = append(in, storage.OrgInput{Code: fmt.Sprint("B", br), Name: fmt.Sprint("Branch ", br), ParentCode: "U",
			Level: storage.LevelBranch, Source: "bench"})
		for p := range benchPrimaries / benchBranches {
			in = append(in, storage.OrgInput{Code: fmt.Sprint("P", br, "-", p), Name: fmt.Sprint("Primary ", br, "-", p),
				ParentCode: fmt.Sprint("B", br), Level: storage.LevelPrimary, Source: "bench"})
		}
	}
	if _, err := db.ImportOrgs(ctx, in, storagetest.T0); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	for _, s := range []struct {
		query string
		args  []any
	}{
		{`INSERT INTO people (full_name, position, work_email, personal_email, locale, created_at)
			SELECT 'Member ' || g, '', '', '', 'ru', now() FROM generate_series(1, $1::int) g`, []any{benchMembers}},
		{`INSERT INTO accounts (platform, external_id, person_id, last_seen_at) SELECT 'telegram', id::text, id, now() FROM people`, nil},
		{`INSERT INTO accounts (platform, external_id, person_id, last_seen_at)
			SELECT 'vk', id::text, id, now() + interval '1 minute' FROM people WHERE id % 10 = 1`, nil},
		{`INSERT INTO memberships (person_id, org_id, role, status, created_at)
			SELECT p.id, o.id, CASE WHEN p.id % 10 = 0 THEN 'activist' ELSE 'member' END, 'active', now()
			FROM people p JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM orgs WHERE level = 'primary') o
				ON o.n = p.id % $1::int`, []any{benchPrimaries}},
		{`INSERT INTO chat_bindings (platform, chat_id, org_id, title, desk, bound_at)
			SELECT 'telegram', '-' || id, id, 'Chat', false, now() FROM orgs WHERE level = 'primary'`, nil},
		{`ANALYZE`, nil},
	} {
		if _, err := raw.ExecContext(ctx, s.query, s.args...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	u, err := db.OrgByCode(ctx, "U")
	if err != nil {
		b.Fatal(err)
	}
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
		if err := db.CompleteDeliveries(ctx, results, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
