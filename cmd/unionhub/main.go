// Command unionhub is the trade-union communication hub: one binary that
// serves the Telegram and VK bots and administers the organisation tree.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // org time zones must resolve in a minimal container

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `unionhub — the trade-union communication hub

Usage:
  unionhub serve                         run the bots (Telegram, VK or both)
  unionhub migrate                       apply database migrations
  unionhub org import FILE               load the organisation tree (YAML or CSV)
  unionhub org list                      print the organisation tree
  unionhub invite ORG --role ROLE [--uses N] [--expires 30d|never] [--out DIR]
                                         create an invite link and its QR codes
  unionhub invite list ORG               list an organisation's invites
  unionhub invite revoke CODE            revoke an invite
  unionhub report hotline --org CODE [--from 2026-01-01] [--to 2027-01-01] [--format table|csv|json]
                                         hot-line figures of an organisation's subtree
  unionhub report broadcast ID [--format table|csv|json]
                                         how far a broadcast got
  unionhub report monitoring --org CODE [--period 2026] [--format table|csv|json]
                                         the programme's indicators of a subtree, worst first
  unionhub survey list                   the surveys and their schedules
  unionhub survey run ID [--org CODE]    open a survey now (the running hub invites)
  unionhub survey status ID              runs of a survey and who answered
  unionhub jobs                          scheduled jobs: next run, last run, outcome
  unionhub target set --org CODE --period 2026 --norm NORM --value N
                                         an organisation's own target for a norm
  unionhub target list --period 2026     the targets set for a period
  unionhub export contacts --org CODE [--format csv|xlsx] [--out FILE]
                                         the contact base of activists and leaders of a subtree
  unionhub config                        print the effective configuration (secrets redacted)
  unionhub healthcheck                   exit 0 when the running hub's /healthz answers ok

Configuration comes from the environment; see README.md.
`

// app is what every subcommand gets.
type app struct {
	cfg    Config
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
	clock  func() time.Time
}

func (a *app) printf(format string, args ...any) { fmt.Fprintf(a.stdout, format, args...) }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return run(ctx, args, getenv, stdout, stderr, time.Now)
}

// run is Main with the clock injected, so tests can move time.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clock func() time.Time) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cfg, err := LoadConfig(getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if args[0] == "config" {
		// Printed even when invalid: it is the tool to find what is wrong.
		cfg.Print(func(format string, a ...any) { fmt.Fprintf(stdout, format, a...) })
	}
	if err != nil {
		fmt.Fprintf(stderr, "unionhub: configuration: %v\n", err)
		return exitUsage
	}
	a := &app{cfg: cfg, getenv: getenv, stdout: stdout, stderr: stderr, logger: newLogger(cfg, stderr), clock: clock}
	var cmd func(ctx context.Context, args []string) error
	switch args[0] {
	case "serve":
		cmd = a.serve
	case "migrate":
		cmd = a.migrate
	case "org":
		cmd = a.org
	case "invite":
		cmd = a.invite
	case "report":
		cmd = a.report
	case "export":
		cmd = a.export
	case "survey":
		cmd = a.survey
	case "jobs":
		cmd = a.jobs
	case "target":
		cmd = a.target
	case "config":
		cmd = func(context.Context, []string) error { return nil } // printed above
	case "healthcheck":
		cmd = a.healthcheck
	default:
		fmt.Fprintf(stderr, "unionhub: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if err := cmd(ctx, args[1:]); err != nil {
		fmt.Fprintf(stderr, "unionhub %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFail
	}
	return exitOK
}

// orgByCode loads the organisation a command names; an unknown code is a
// mistake on the command line.
func orgByCode(ctx context.Context, st storage.OrgStore, code string) (storage.Org, error) {
	org, err := st.OrgByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return org, usageError{fmt.Sprintf("no organisation with code %q (see unionhub org list)", code)}
	}
	if err != nil {
		return org, fmt.Errorf("load org %q: %w", code, err)
	}
	return org, nil
}

// checkFormat accepts the output formats of reports.
func checkFormat(format string) error {
	if format != "table" && format != "csv" && format != "json" {
		return usageError{fmt.Sprintf("--format %q: use table, csv or json", format)}
	}
	return nil
}

// writeJSON prints v as indented JSON.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openStore opens Postgres when DATABASE_URL is set, else the embedded file.
func (a *app) openStore(ctx context.Context) (*sqlstore.DB, error) {
	if a.cfg.DatabaseURL != "" {
		return postgres.Open(ctx, a.cfg.DatabaseURL, a.logger)
	}
	return sqlite.Open(ctx, a.cfg.DataDir, a.logger)
}

// openMigrated opens the store and brings its schema up to date; a schema
// newer than this binary is refused.
func (a *app) openMigrated(ctx context.Context) (*sqlstore.DB, error) {
	db, err := a.openStore(ctx)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		if errors.Is(err, storage.ErrSchemaTooNew) {
			return nil, fmt.Errorf("%w: upgrade unionhub before running it against this database", err)
		}
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// openState opens Redis when REDIS_URL is set, else in-process state.
func (a *app) openState(ctx context.Context) (storage.State, error) {
	if a.cfg.RedisURL == "" {
		return redis.NewMemory(time.Now), nil
	}
	st, err := redis.Open(ctx, a.cfg.RedisURL, a.cfg.RedisPrefix)
	if err != nil {
		return nil, fmt.Errorf("open redis: %w", err)
	}
	return st, nil
}

func (a *app) migrate(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usageError{"migrate takes no arguments"}
	}
	db, err := a.openStore(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	current, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	a.printf("applied %d migrations; schema version %d\n", n, current)
	return nil
}

// healthcheck asks the running hub's admin endpoint, for container probes
// on an image without curl.
func (a *app) healthcheck(ctx context.Context, _ []string) error {
	host, port, _ := net.SplitHostPort(a.cfg.AdminAddr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask /healthz: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("unhealthy: %s %s", resp.Status, body)
	}
	a.printf("ok\n")
	return nil
}
