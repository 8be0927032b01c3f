package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// seeded opens a migrated store with tree seeded as `org import` and
// registrations leave it: no statistics but the orgs'.
func seeded(t *testing.T, tree storagetest.BenchTree) (*sqlstore.DB, *sql.DB, storage.Org) {
	t.Helper()
	dsn := storagetest.PostgresDSN(t)
	db := open(t, dsn)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	tree.AsImported = true
	u := storagetest.SeedPostgres(t, db, dsn, tree)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw, u
}

// TestOutboxRightAfterImport builds the outbox of 30,000 members in 1,000
// primaries right after the import, nothing analysed but the orgs: the
// recipient query that estimated 5 orgs for 1,011 and looped over the
// picked members for every member took minutes here. Every chunk and the
// count must finish within the default statement timeout.
func TestOutboxRightAfterImport(t *testing.T) {
	t.Parallel()
	tree := storagetest.BenchTree{Branches: 10, Primaries: 1000, Members: 30000}
	db, _, u := seeded(t, tree)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	scope := storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Text: "news", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: storagetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	people, chats, err := db.CountAudience(ctx, b, scope)
	if err != nil || people != tree.Members || chats != tree.Primaries {
		t.Fatalf("counted %d people and %d chats (%v), want %d and %d", people, chats, err, tree.Members, tree.Primaries)
	}
	if _, err := db.StartBuild(ctx, b.ID, "r1", storagetest.T0, storagetest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	chunks := 0
	n, err := db.StreamOutbox(ctx, b, scope, storage.OutboxStream{At: storagetest.T0, Owner: "r1",
		Progress: func(int) error { chunks++; return nil }})
	if err != nil || n != people+chats {
		t.Fatalf("streamed %d rows (%v), want %d", n, err, people+chats)
	}
	if chunks < 3 {
		t.Errorf("built in %d chunks: the first is too big to leave at once", chunks)
	}
	// A relay level publishing for the whole tree after it adds nobody.
	if again, err := db.BuildOutbox(ctx, b, scope, storagetest.T0); err != nil || again != 0 {
		t.Errorf("a second build created %d, %v", again, err)
	}
}

// TestStreamOutboxResumesAfterTheLastChunk stops a build of 100,000
// members, in two lanes, once they are apart, as a crash would, and has
// another replica take it over: it adds the people between the first
// lane's end and the furthest chunk skipping who is there, the rest
// afresh, and nobody twice (a row added twice would break the outbox's
// unique key and fail the build).
func TestStreamOutboxResumesAfterTheLastChunk(t *testing.T) {
	t.Parallel()
	tree := storagetest.BenchTree{Branches: 10, Primaries: 100, Members: 100000}
	db, raw, u := seeded(t, tree)
	ctx := t.Context()
	scope := storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Text: "news", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: storagetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartBuild(ctx, b.ID, "dies", storagetest.T0, storagetest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// It dies once the second lane committed a chunk ahead of the first.
	stop := errors.New("crash")
	first, err := db.StreamOutbox(ctx, b, scope, storage.OutboxStream{At: storagetest.T0, Owner: "dies", Progress: func(int) error {
		var ahead bool
		if err := raw.QueryRowContext(ctx, "SELECT COALESCE(build_cursor < build_mark, false) FROM broadcasts WHERE id = $1", b.ID).Scan(&ahead); err != nil {
			return err
		}
		if ahead {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) || first == 0 || first >= tree.Members {
		t.Fatalf("the first builder created %d (%v), want part of the people, the lanes apart", first, err)
	}
	later := storagetest.T0.Add(time.Minute)
	if _, err := db.StartBuild(ctx, b.ID, "takes over", later, later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	rest, err := db.StreamOutbox(ctx, b, scope, storage.OutboxStream{At: later, Owner: "takes over"})
	if err != nil || first+rest != tree.Members+tree.Primaries {
		t.Fatalf("built %d then %d (%v), want %d in all", first, rest, err, tree.Members+tree.Primaries)
	}
	var rows, people int
	if err := raw.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT person_id) FROM deliveries WHERE broadcast_id = $1", b.ID).Scan(&rows, &people); err != nil {
		t.Fatal(err)
	}
	if rows != first+rest || people != tree.Members {
		t.Errorf("%d rows for %d people, want %d for %d", rows, people, first+rest, tree.Members)
	}
}

// TestBulkStatementsTimeOut holds locks that block an outbox chunk and an
// audience count: each stops at the statement timeout with ErrTimeout; the
// server stops the statement itself, so nothing runs on without a client.
func TestBulkStatementsTimeOut(t *testing.T) {
	t.Parallel()
	db, raw, u := seeded(t, storagetest.BenchTree{Branches: 2, Primaries: 4, Members: 100})
	ctx := t.Context()
	if err := db.SetStatementTimeout(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	scope := storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Text: "news", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: storagetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartBuild(ctx, b.ID, "r1", storagetest.T0, storagetest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	hold := func(lock string) func() {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
		}
	}
	release := hold("LOCK TABLE deliveries IN SHARE MODE")
	_, err = db.StreamOutbox(ctx, b, scope, storage.OutboxStream{At: storagetest.T0, Owner: "r1"})
	release()
	var pgErr *pgconn.PgError
	if !errors.Is(err, storage.ErrTimeout) || !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("a blocked chunk returned %v, want ErrTimeout from the server's statement timeout", err)
	}
	release = hold("LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE")
	_, _, err = db.CountAudience(ctx, b, scope)
	release()
	if !errors.Is(err, storage.ErrTimeout) {
		t.Fatalf("a blocked count returned %v, want ErrTimeout", err)
	}
	if n, err := db.StreamOutbox(ctx, b, scope, storage.OutboxStream{At: storagetest.T0, Owner: "r1"}); err != nil || n != 104 {
		t.Fatalf("the build once unblocked created %d, %v; want 104", n, err)
	}
}

// TestSendingAFreshOutboxReadsByKey claims and records an outbox of
// 20,000 rows as the engine does (500 a claim, 100 outcomes a write) right
// after its build, no statistics on it. Without them the planner took the
// queued rows for a few hundred and sorted all of them on every claim, and
// found the rows of each write through the partial index of leased rows,
// whose bitmap scan visited an entry of every row sent so far, or through
// every row being sent: both grew with the rows sent, quadratic over a
// broadcast. Read by key, the claims
// and writes fetch a few rows per row sent, and the leased rows' index is
// left to the reclaim of expired leases.
func TestSendingAFreshOutboxReadsByKey(t *testing.T) {
	t.Parallel()
	tree := storagetest.BenchTree{Branches: 10, Primaries: 100, Members: 20000}
	dsn := storagetest.PostgresDSN(t)
	db := open(t, dsn)
	ctx := t.Context()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tree.AsImported = true
	u := storagetest.SeedPostgres(t, db, dsn, tree)
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Text: "news", Mode: storage.ModeDirect,
		Status: storage.BroadcastSending, Audience: storage.Audience{Private: true}, CreatedAt: storagetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.BuildOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}, storagetest.T0)
	if err != nil || n != tree.Members {
		t.Fatalf("built %d rows (%v), want %d", n, err, tree.Members)
	}
	sent := 0
	for at := storagetest.T0; ; at = at.Add(time.Millisecond) {
		batch, err := db.ClaimDeliveries(ctx, "w1", 500, at, at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for start := 0; start < len(batch); start += 100 {
			var rs []storage.DeliveryResult
			for _, d := range batch[start:min(len(batch), start+100)] {
				rs = append(rs, storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: "1"})
			}
			if err := db.CompleteDeliveries(ctx, "w1", rs, at); err != nil {
				t.Fatal(err)
			}
			sent += len(rs)
		}
	}
	if sent != n {
		t.Fatalf("sent %d of %d", sent, n)
	}
	// A backend reports what its scans read when it ends.
	db.Close()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// What the scans of each index yielded, and the live rows they led to.
	var leased, fetched int
	for deadline := time.Now().Add(10 * time.Second); fetched == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no statistics of the deliveries reported within 10 s")
		}
		err := raw.QueryRowContext(ctx, `SELECT
				(SELECT idx_tup_read FROM pg_stat_user_indexes WHERE schemaname = current_schema() AND indexrelname = 'deliveries_leased_idx'),
				(SELECT idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'deliveries')`).Scan(&leased, &fetched)
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("leased index entries read %d, rows fetched through indexes %d", leased, fetched)
	if leased > n {
		t.Errorf("the leased rows' index yielded %d entries to send %d rows, want at most %d", leased, n, n)
	}
	if fetched > 3*n {
		t.Errorf("index scans fetched %d rows to send %d, want at most %d", fetched, n, 3*n)
	}
}
