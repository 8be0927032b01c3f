package storagetest_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage/storagetest"
)

func TestPostgresProxyCutsAndRestores(t *testing.T) {
	t.Parallel()
	proxy := storagetest.NewPostgresProxy(t, storagetest.PostgresDSN(t))
	db, err := sql.Open("pgx", proxy.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	if err := query(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	proxy.Cut()
	if proxy.Dropped() != 1 {
		t.Errorf("%d connections dropped, want the pool's one", proxy.Dropped())
	}
	if err := query(); err == nil {
		t.Fatal("a query went through a cut proxy")
	}
	proxy.Restore()
	if err := query(); err != nil {
		t.Fatalf("after the restore: %v", err)
	}
}
