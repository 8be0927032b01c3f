// Package postgres opens the store on PostgreSQL through pgx.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/unionhub/unionhub/storage/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's flavour of the shared SQL.
var Dialect = sqlstore.Dialect{
	Name:      "postgres",
	Goose:     goose.DialectPostgres,
	Numbered:  true,
	ForUpdate: " FOR UPDATE",
	// Replicas claiming outbox rows at once each take different rows.
	SkipLocked: " FOR UPDATE SKIP LOCKED",
	AmongIDs:   "= ANY(ARRAY(%s))",
	TimeType:   "TIMESTAMPTZ",
	// Readers and the foreign-key checks of other writes go on; a second
	// import waits for the first to commit.
	LockOrgs:  "LOCK TABLE orgs IN SHARE ROW EXCLUSIVE MODE",
	Lateral:   true,
	ILike:     "ILIKE",
	WeekLater: "(%[1]s + interval '7 days')",
	// An outbox build keeps two cores busy.
	Lanes: 2,
	// SET LOCAL takes no parameters; set_config(..., true) is the same.
	StatementTimeout: "SELECT set_config('statement_timeout', ?, true)",
	TimedOut:         timedOut,
	OrderedClaim:     "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)",
	// An import changes the tree at once; autovacuum may come much later.
	AnalyzeOrgs: "ANALYZE orgs",
	Classify:    classify,
}

// timedOut reports the server cancelling a statement (statement_timeout).
func timedOut(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "57014"
}

func classify(err error) sqlstore.Violation {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return sqlstore.NoViolation
	}
	switch pgErr.Code {
	case "23505":
		return sqlstore.UniqueViolation
	case "23503":
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.NoViolation
}

// idleConns is how many connections stay open between queries: as many as
// the broadcast engine's parallel senders.
const idleConns = 32

// Open connects to the database at dsn. It does not migrate: call Migrate.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*sqlstore.DB, error) {
	db, err := openDB(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// With database/sql's default of two idle connections, most parallel
	// queries would each start a new server process.
	db.SetMaxIdleConns(idleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	locker, err := migrationLocker(ctx, db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open postgres: %w", err), db.Close())
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open postgres: %w", err), db.Close())
	}
	store, err := sqlstore.New(db, sqlstore.Config{Dialect: Dialect, Migrations: sub, Locker: locker, Logger: logger})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open postgres: %w", err), db.Close())
	}
	return store, nil
}

// migrationLocker returns an advisory session lock keyed by the schema, so
// that replicas sharing a schema migrate one at a time while separate
// schemas (one per test) do not wait for each other.
func migrationLocker(ctx context.Context, db *sql.DB) (lock.SessionLocker, error) {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("read current schema: %w", err)
	}
	if !schema.Valid {
		return nil, errors.New("no schema of the search_path exists")
	}
	h := fnv.New64a()
	h.Write([]byte("unionhub migrate " + schema.String))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		lock.WithLockTimeout(1, 600), // a migration may take minutes on a big table
	)
	if err != nil {
		return nil, fmt.Errorf("create migration lock: %w", err)
	}
	return locker, nil
}
