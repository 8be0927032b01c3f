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
	"slices"
	"strings"
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

// command is one subcommand as its usage shows it: the synopsis lines the
// top-level usage lists, and the details its own --help adds.
type command struct {
	name     string
	synopsis string
	details  string
}

var commands = []command{
	{"serve", `
  unionhub serve                         run the staff console and the bots (Telegram, VK or both)`, `
Runs the staff console on UNIONHUB_HTTP_ADDR and Telegram, VK or both,
whichever tokens are set (with none, the console alone); applies migrations
first. While nobody holds the admin role it prints a sign-in link for the
Union's staff on standard error. Stops cleanly on SIGTERM.`},
	{"migrate", `
  unionhub migrate                       apply database migrations`, ""},
	{"org", `
  unionhub org import FILE               load the organisation tree (YAML or CSV)
  unionhub org list                      print the organisation tree`, `
FILE is .yaml/.yml (an "orgs" list) or .csv (a header naming the columns)
with the fields code, name, parent, level (union, branch or primary),
members, timezone and board_reminder; see examples/orgs.yaml. Importing is
all or nothing: any bad line and nothing changes. Re-running changes nothing.`},
	{"invite", `
  unionhub invite ORG --role ROLE [--uses N] [--expires 30d|never] [--out DIR]
                                         create an invite link and its QR codes
  unionhub invite list ORG               list an organisation's invites
  unionhub invite revoke CODE            revoke an invite`, `
  --role     supporter (the organisation's public invite: people who are not
             yet members), member, activist, infoworker or chair
  --uses     how many people may register with it (default: 1 above member,
             unlimited for members and supporters)
  --expires  lifetime such as 30d, 2w, 12h or 90m, or never (default 30d;
             for supporters never)
  --out      directory for the QR code PNG files (default .)`},
	{"report", `
  unionhub report hotline --org CODE [--from 2026-01-01] [--to 2027-01-01] [--format table|csv|json]
                                         hot-line figures of an organisation's subtree
  unionhub report broadcast ID [--format table|csv|json]
                                         how far a broadcast got
  unionhub report action ID [--format table|csv|json]
                                         answers to a broadcast's action by organisation
  unionhub report monitoring --org CODE [--period 2026] [--format table|csv|json]
                                         the programme's indicators of a subtree, worst first`, `
--from is the first day and --to the day after the last (default: the year
up to today); --period is a year (2026) or a month (2026-03), default this
year. CSV cells that a spreadsheet would run as a formula get a leading '.`},
	{"survey", `
  unionhub survey list                   the surveys and their schedules
  unionhub survey run ID [--org CODE]    open a survey now (the running hub invites)
  unionhub survey status ID              runs of a survey and who answered`, ""},
	{"jobs", `
  unionhub jobs                          scheduled jobs: next run, last run, outcome`, ""},
	{"target", `
  unionhub target set --org CODE --period 2026 --norm NORM --value N
                                         an organisation's own target for a norm
                                         or an observed indicator (reach_percent...)
  unionhub target list --period 2026     the targets set for a period`, ""},
	{"export", `
  unionhub export contacts --org CODE [--format csv|xlsx] [--out FILE]
                                         the contact base of activists and leaders of a subtree`, `
--format defaults to --out's extension, else csv; xlsx needs --out. Without
--out the CSV goes to standard output.`},
	{"console", `
  unionhub console link --admin          a one-time sign-in link to the console for the Union's staff`, `
The link is valid for 10 minutes and works once. It signs in a holder of
the admin role in the root organisation; with none, it makes the console's
own staff person (no messenger account) the admin, and while no tree is
loaded yet it opens a session that may only load it.`},
	{"config", `
  unionhub config                        print the effective configuration (secrets redacted)`, ""},
	{"healthcheck", `
  unionhub healthcheck                   exit 0 when the running hub's /healthz answers ok`, ""},
}

const usageFooter = "\nConfiguration comes from the environment; see README.md.\n"

// usage is the top-level usage: every command's synopsis.
var usage = func() string {
	var b strings.Builder
	b.WriteString("unionhub — the trade-union communication hub\n\nUsage:")
	for _, c := range commands {
		b.WriteString(c.synopsis)
	}
	b.WriteString("\n" + usageFooter)
	return b.String()
}()

// commandUsage is the usage of one command, with its details.
func commandUsage(c command) string {
	text := "Usage:" + c.synopsis + "\n"
	if c.details != "" {
		text += c.details + "\n"
	}
	return text + usageFooter
}

// helpFor returns the command that args ask help for: one with -h, -help or
// --help anywhere among its arguments.
func helpFor(args []string) (command, bool) {
	if !slices.ContainsFunc(args[1:], func(s string) bool { return s == "-h" || s == "-help" || s == "--help" }) {
		return command{}, false
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return command{}, false
	}
	return commands[i], true
}

// app is what every subcommand gets.
type app struct {
	cfg    Config
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	logger *slog.Logger
	clock  func() time.Time
	// state is the in-process state serve uses when a test hands it one, to
	// look into it; nil opens what the configuration says.
	state storage.State
}

// runOption adjusts the app before a command runs, for tests.
type runOption func(a *app)

func (a *app) printf(format string, args ...any) { fmt.Fprintf(a.stdout, format, args...) }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return run(ctx, args, getenv, stdout, stderr, time.Now)
}

// run is Main with the clock injected, so tests can move time, and any
// options a test needs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clock func() time.Time, opts ...runOption) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	if args[0] == "help" && len(args) > 1 {
		args = []string{args[1], "--help"}
	}
	// Help needs no configuration: it is what one reads before configuring.
	if c, ok := helpFor(args); ok {
		fmt.Fprint(stdout, commandUsage(c))
		return exitOK
	}
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
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
	for _, o := range opts {
		o(a)
	}
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
	case "console":
		cmd = a.console
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
	var (
		db  *sqlstore.DB
		err error
	)
	if a.cfg.DatabaseURL != "" {
		db, err = postgres.Open(ctx, a.cfg.DatabaseURL, a.logger)
	} else {
		db, err = sqlite.Open(ctx, a.cfg.DataDir, a.logger)
	}
	if err != nil {
		return nil, err
	}
	if err := db.SetStatementTimeout(a.cfg.StatementTimeout); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
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
	if a.state != nil {
		return a.state, nil
	}
	if a.cfg.RedisURL == "" {
		return redis.NewMemory(time.Now), nil
	}
	redis.RouteLogs(a.logger)
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
