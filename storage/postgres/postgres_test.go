package postgres_test

import (
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	_ "time/tzdata" // org time zones must load on machines without zoneinfo

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
)

func open(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	t.Parallel()
	storagetest.RunStore(t, func(t *testing.T) storage.Store {
		db := open(t, storagetest.PostgresDSN(t))
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t, storagetest.PostgresDSN(t))
	current, latest, err := db.SchemaVersion(t.Context())
	if err != nil || current != 0 || latest < 1 {
		t.Fatalf("fresh schema: version %d of %d, %v", current, latest, err)
	}
	applied, err := db.Migrate(t.Context())
	if err != nil || applied < 1 {
		t.Fatalf("first Migrate applied %d, %v", applied, err)
	}
	applied, err = db.Migrate(t.Context())
	if err != nil || applied != 0 {
		t.Fatalf("second Migrate applied %d, %v; want 0", applied, err)
	}
	if current, latest, err = db.SchemaVersion(t.Context()); err != nil || current != latest {
		t.Fatalf("after Migrate: version %d of %d, %v", current, latest, err)
	}
}

// Two replicas starting together: the advisory lock lets one migrate, the
// other finds nothing left to do.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := storagetest.PostgresDSN(t)
	dbs := []*sqlstore.DB{open(t, dsn), open(t, dsn)}
	applied := make([]int, len(dbs))
	errs := make([]error, len(dbs))
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { applied[i], errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	// Versions may skip a number (a branch's migration merged later), so
	// the files are counted, not the newest version.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	if err := errors.Join(errs...); err != nil || applied[0]+applied[1] != len(files) {
		t.Fatalf("concurrent Migrate applied %v (want %d in all), errors %v", applied, len(files), err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := storagetest.PostgresDSN(t)
	db := open(t, dsn)
	_, latest, err := db.SchemaVersion(t.Context()) // creates the version table
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)", latest+1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(t.Context()); !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("Migrate on a newer schema: %v, want ErrSchemaTooNew", err)
	}
	var orgs sql.NullString
	if err := raw.QueryRowContext(t.Context(), "SELECT to_regclass('orgs')::text").Scan(&orgs); err != nil {
		t.Fatal(err)
	}
	if orgs.Valid {
		t.Fatal("Migrate refused but still created tables")
	}
}
