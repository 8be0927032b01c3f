// Package sqlite opens the store on an embedded SQLite file (pure Go, no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/unionhub/unionhub/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "unionhub.db"

// Dialect is SQLite's flavour of the shared SQL. Write transactions begin
// IMMEDIATE, so they already exclude each other: no row or table locks.
var Dialect = sqlstore.Dialect{
	Name:     "sqlite",
	Goose:    goose.DialectSQLite3,
	TextTime: true,
	TimeType: "TEXT",
	AmongIDs: "IN (%s)",
	Classify: classify,
	ILike:    "LIKE",
	// The stored text with its date moved on: strftime keeps only
	// milliseconds, so the fraction and zone are the stored ones.
	WeekLater: "strftime('%%Y-%%m-%%dT%%H:%%M:%%S', %[1]s, '+7 days') || substr(%[1]s, 20)",
}

func classify(err error) sqlstore.Violation {
	var sqlErr *sqlite.Error
	if !errors.As(err, &sqlErr) {
		return sqlstore.NoViolation
	}
	switch sqlErr.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.UniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.NoViolation
}

// Open opens (creating it and its directory if needed) the database file in
// dataDir, which may be relative to the working directory. It does not
// migrate: call Migrate.
func Open(ctx context.Context, dataDir string, logger *slog.Logger) (*sqlstore.DB, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite: create data dir: %w", err)
	}
	dsn, err := fileURI(dataDir)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite: %w", err), db.Close())
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite: %w", err), db.Close())
	}
	store, err := sqlstore.New(db, sqlstore.Config{Dialect: Dialect, Migrations: sub, Logger: logger})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open sqlite: %w", err), db.Close())
	}
	return store, nil
}

// fileURI is the SQLite URI of the database file in dataDir with the
// connection's settings. The path is made absolute: a relative one would put
// its first directory in the URI's authority ("file://data/..."), which
// SQLite refuses.
func fileURI(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, FileName))
	if err != nil {
		return "", fmt.Errorf("resolve data dir: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(5000)")
	// Writers take the write lock at BEGIN, so two never deadlock upgrading a read lock.
	q.Set("_txlock", "immediate")
	return (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String(), nil
}
