// Package sqlstore implements storage.Store over database/sql, once for both
// Postgres and SQLite: queries are written with ? placeholders and a small
// Dialect covers what differs.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/unionhub/unionhub/storage"
)

// Violation classifies a driver error that breaks a constraint.
type Violation int

// Constraint violations the store maps to domain errors.
const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
)

// Dialect is what differs between the SQL databases the store runs on.
type Dialect struct {
	Name  string        // for logs
	Goose goose.Dialect // how goose keeps its version table
	// Numbered turns ? into $1, $2... before a query runs.
	Numbered bool
	// ForUpdate ends a SELECT that locks its rows inside a transaction; empty
	// where write transactions already exclude each other.
	ForUpdate string
	// SkipLocked ends the SELECT of a claim so that concurrent claimers pass
	// over each other's rows; empty where writers exclude each other anyway.
	SkipLocked string
	// AmongIDs matches id against the ids a subquery picks, as a format
	// with one %s: "= ANY(ARRAY(%s))" makes Postgres run the subquery once
	// and fetch the rows by key, where IN would leave that to its estimates.
	AmongIDs string
	// TimeType is the SQL type times are stored as, for casts of parameters
	// whose type the database cannot infer (in a VALUES list).
	TimeType string
	// LockOrgs runs first in an import transaction so that imports serialise;
	// empty where write transactions already exclude each other.
	LockOrgs string
	// TextTime stores times as fixed-width UTC text, which sorts and compares
	// like the times themselves.
	TextTime bool
	// Lanes is how many transactions of one outbox build write at once:
	// 1 (or 0) where writers exclude each other anyway.
	Lanes int
	// ILike is the case-insensitive LIKE: ILIKE in Postgres; SQLite's LIKE
	// folds ASCII only, which the embedded default accepts.
	ILike string
	// Lateral joins a correlated subquery (LATERAL), which the database
	// runs once per outer row: a plan that no estimate can change. Without
	// it the database only ever joins in nested loops anyway.
	Lateral bool
	// StatementTimeout, with the time limit in milliseconds as its one
	// parameter, makes the database itself stop the statements of the
	// transaction that run longer; empty where a cancelled context does.
	StatementTimeout string
	// TimedOut tells whether err is the database stopping a statement at
	// the StatementTimeout.
	TimedOut func(err error) bool
	// WeekLater is a stored time seven days on, comparable with stored
	// times to the microsecond, as a format of the column: %[1]s.
	WeekLater string
	// OrderedClaim, run first in a claim's transaction, makes the database
	// take the oldest queued rows by walking the claim index in its order,
	// whatever its estimates: an outbox written a moment ago has no
	// statistics, and the planner that takes its million rows for a few
	// hundred sorts them all on every claim. Empty where the index is the
	// only plan anyway.
	OrderedClaim string
	// AnalyzeOrgs refreshes the planner's statistics of the org tree after
	// an import; empty where nothing needs them.
	AnalyzeOrgs string
	// Classify tells which constraint, if any, err violates.
	Classify func(err error) Violation
}

// Config is what New needs besides the connection pool.
type Config struct {
	Dialect Dialect
	// Migrations holds the goose .sql files at its root.
	Migrations fs.FS
	// Locker keeps two processes from migrating at once; nil when the
	// database has a single writer anyway.
	Locker lock.SessionLocker
	Logger *slog.Logger
}

// DefaultStatementTimeout bounds the statements that read or write in bulk
// (an outbox chunk, an audience count) unless SetStatementTimeout says
// otherwise.
const DefaultStatementTimeout = 30 * time.Second

// DB is the store. Its methods are safe for concurrent use.
type DB struct {
	db      *sql.DB
	d       Dialect
	migrate *goose.Provider
	logger  *slog.Logger
	// stmtTimeout bounds each bulk transaction: see bounded.
	stmtTimeout atomic.Int64
}

var _ storage.Store = (*DB)(nil)

// New wraps an open pool; the caller hands its ownership to the DB.
func New(db *sql.DB, cfg Config) (*DB, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(logger.With("component", "migrate")),
	}
	if cfg.Locker != nil {
		opts = append(opts, goose.WithSessionLocker(cfg.Locker))
	}
	p, err := goose.NewProvider(cfg.Dialect.Goose, db, cfg.Migrations, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	out := &DB{db: db, d: cfg.Dialect, migrate: p, logger: logger}
	out.stmtTimeout.Store(int64(DefaultStatementTimeout))
	return out, nil
}

// SetStatementTimeout changes how long a bulk statement (an outbox chunk,
// an audience count) may run before it is stopped with storage.ErrTimeout.
func (db *DB) SetStatementTimeout(d time.Duration) error {
	if d < time.Millisecond {
		return fmt.Errorf("set statement timeout: %s is below a millisecond", d)
	}
	db.stmtTimeout.Store(int64(d))
	return nil
}

// Migrate applies the pending migrations and returns how many it applied. It
// refuses, before touching anything, a schema newer than this binary knows.
func (db *DB) Migrate(ctx context.Context) (applied int, err error) {
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return 0, err
	}
	if current > latest {
		return 0, fmt.Errorf("migrate: version %d above %d: %w", current, latest, storage.ErrSchemaTooNew)
	}
	results, err := db.migrate.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	// A newer replica may have migrated between the check and Up's lock.
	if current, latest, err = db.SchemaVersion(ctx); err != nil {
		return len(results), err
	} else if current > latest {
		return len(results), fmt.Errorf("migrate: version %d above %d: %w", current, latest, storage.ErrSchemaTooNew)
	}
	for _, r := range results {
		db.logger.InfoContext(ctx, "migration applied", "dialect", db.d.Name,
			"version", r.Source.Version, "duration", r.Duration)
	}
	return len(results), nil
}

// SchemaVersion reports the database's schema version and the newest one
// this binary carries; it creates goose's version table when missing.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	current, latest, err = db.migrate.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	return current, latest, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.d.Name, err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.d.Name, err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries written with ? placeholders on a pool or a transaction.
type conn struct {
	q querier
	d *Dialect
}

func (db *DB) conn() conn { return conn{q: db.db, d: &db.d} }

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, c.d.rebind(query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, c.d.rebind(query), args...)
}

// queryAll runs a query and scans every row into a new T through dest.
func queryAll[T any](ctx context.Context, c conn, dest func(*T) []any, query string, args ...any) ([]T, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(dest(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (c conn) row(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, c.d.rebind(query), args...)
}

// execOne runs a statement that must touch a row; none is ErrNotFound.
func (c conn) execOne(ctx context.Context, query string, args ...any) error {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(c conn) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(conn{q: tx, d: &db.d}); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// bounded is inTx for work in bulk: the transaction must finish within the
// statement timeout. The database stops its statement at that time where
// it can (so that nothing runs on without a client), and the context
// deadline stops the rest; either way the error wraps storage.ErrTimeout.
func (db *DB) bounded(ctx context.Context, fn func(c conn) error) error {
	limit := time.Duration(db.stmtTimeout.Load())
	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := db.inTx(tctx, func(c conn) error {
		if db.d.StatementTimeout != "" {
			if _, err := c.exec(tctx, db.d.StatementTimeout, strconv.FormatInt(limit.Milliseconds(), 10)); err != nil {
				return fmt.Errorf("set statement timeout: %w", err)
			}
		}
		return fn(c)
	})
	if err != nil && ctx.Err() == nil && (errors.Is(tctx.Err(), context.DeadlineExceeded) || db.d.TimedOut != nil && db.d.TimedOut(err)) {
		return fmt.Errorf("%w (limit %s): %w", storage.ErrTimeout, limit, err)
	}
	return err
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// rebind turns ? placeholders into $n for databases that number them.
func (d *Dialect) rebind(query string) string {
	if !d.Numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// classify maps constraint violations to domain errors: a duplicate to dup,
// a missing referenced row to ErrNotFound; other errors pass unchanged.
func (d *Dialect) classify(err error, dup error) error {
	switch d.Classify(err) {
	case UniqueViolation:
		return dup
	case ForeignKeyViolation:
		return storage.ErrNotFound
	}
	return err
}

// textTimeLayout is fixed-width so that text order is time order.
const textTimeLayout = "2006-01-02T15:04:05.000000Z"

// t prepares a time for a query: UTC, at the microsecond that both databases keep.
func (d *Dialect) t(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.TextTime {
		return t.Format(textTimeLayout)
	}
	return t
}

// tp is t for an optional time; nil stays NULL.
func (d *Dialect) tp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.t(*t)
}

// id turns the zero id into NULL for optional references.
func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// timeCol scans a time column written by either dialect into UTC.
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*c.dst = v.UTC()
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("scan time from %T", src)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	*c.dst = t.UTC()
	return nil
}

// nullTimeCol scans an optional time column.
type nullTimeCol struct{ dst **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.dst = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(src); err != nil {
		return err
	}
	*c.dst = &t
	return nil
}

// idCol scans an optional reference; NULL is 0.
type idCol struct{ dst *int64 }

func (c idCol) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*c.dst = n.Int64
	return nil
}

// notFound maps sql.ErrNoRows to storage.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
