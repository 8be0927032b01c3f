package sqlite_test

import (
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	_ "time/tzdata" // org time zones must load on machines without zoneinfo

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
)

func open(t *testing.T, dir string) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), dir, slog.New(slog.DiscardHandler))
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
		db := open(t, t.TempDir())
		if _, err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestOpenCreatesDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db := open(t, dir)
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&^0o750 != 0 {
		t.Errorf("data dir mode %v, want at most 0750", perm)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
}

// The default UNIONHUB_DATA_DIR is ./data: a path relative to the working
// directory opens, migrates and lands there.
func TestOpenRelativeDataDir(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	for _, dir := range []string{"data", "./data2", "nested/../data3", "../" + filepath.Base(wd) + "/data4"} {
		t.Run(dir, func(t *testing.T) {
			db := open(t, dir)
			if _, err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate in %q: %v", dir, err)
			}
			if _, err := os.Stat(filepath.Join(wd, dir, sqlite.FileName)); err != nil {
				t.Errorf("database file not under the working directory: %v", err)
			}
		})
	}
}

// Characters with a meaning in a URI stay part of the directory's name.
func TestOpenDataDirWithURICharacters(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a b#c?d%20e&f=g")
	db := open(t, dir)
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	db := open(t, t.TempDir())
	current, latest, err := db.SchemaVersion(t.Context())
	if err != nil || current != 0 || latest < 1 {
		t.Fatalf("fresh file: version %d of %d, %v", current, latest, err)
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

// The data survives closing and reopening the file.
func TestReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	in := []storage.OrgInput{{Code: "U", Name: "Union", Level: storage.LevelUnion, Source: "u.yaml:1"}}
	if _, err := db.ImportOrgs(t.Context(), in, storagetest.T0); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir)
	if applied, err := db.Migrate(t.Context()); err != nil || applied != 0 {
		t.Fatalf("Migrate after reopen applied %d, %v", applied, err)
	}
	u, err := db.OrgByCode(t.Context(), "U")
	if err != nil || !u.UpdatedAt.Equal(storagetest.T0) {
		t.Fatalf("org after reopen: %+v, %v", u, err)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := open(t, dir)
	_, latest, err := db.SchemaVersion(t.Context()) // creates the version table
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", latest+1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(t.Context()); !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("Migrate on a newer schema: %v, want ErrSchemaTooNew", err)
	}
	var n int
	if err := raw.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_master WHERE name = 'orgs'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("Migrate refused but still created tables")
	}
}
