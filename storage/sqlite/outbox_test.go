package sqlite_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// TestBulkStatementsTimeOut holds the database's write lock from another
// connection: SQLite has no statement timeout, so the context's deadline
// must stop an outbox chunk, with ErrTimeout.
func TestBulkStatementsTimeOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := open(t, dir)
	ctx := t.Context()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportOrgs(ctx, []storage.OrgInput{{Code: "U", Name: "Union", Level: storage.LevelUnion, Source: "t:1"}}, storagetest.T0); err != nil {
		t.Fatal(err)
	}
	u, err := db.OrgByCode(ctx, "U")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetStatementTimeout(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: u.ID, Text: "news", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: storagetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StartBuild(ctx, b.ID, "r1", storagetest.T0, storagetest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE orgs SET name = name"); err != nil { // takes the write lock
		t.Fatal(err)
	}
	start := time.Now()
	_, err = db.StreamOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{u}, Subtree: true}, storage.OutboxStream{At: storagetest.T0, Owner: "r1"})
	t.Logf("stopped after %v: %v", time.Since(start), err)
	if rerr := tx.Rollback(); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, storage.ErrTimeout) {
		t.Fatalf("a blocked chunk returned %v, want ErrTimeout", err)
	}
}
