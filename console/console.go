// Package console is the staff front end: server-rendered pages in the
// browser (html/template, a little progressive JavaScript, every asset
// embedded) over the same use cases and the same rights as the bot. Staff
// sign in with one-time links (package signin); every request is checked
// again: its session, its person's staff role, its rate, and for a change,
// its origin and CSRF token.
//
// The console is built from page groups, one file each (home.go,
// signin.go...): a method of *Console returning its routes and its
// entries in the navigation, listed in pageGroups (routes.go). See
// routes.go for how to add one.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
)

// Store is what the console's own pages read and write in the records;
// the rest goes through the domains' use cases.
type Store interface {
	// Suggestions lists the pending suggestions at an org or below it.
	Suggestions(ctx context.Context, underOrgID int64) ([]storage.Suggestion, error)
	// AddAudit records what staff did.
	AddAudit(ctx context.Context, a storage.AuditEntry) error
	// Audit lists the entries q selects, newest first.
	Audit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEntry, error)
	// Org, OrgByCode and Person name what the audit log refers to.
	Org(ctx context.Context, id int64) (storage.Org, error)
	OrgByCode(ctx context.Context, code string) (storage.Org, error)
	Person(ctx context.Context, id int64) (storage.Person, error)
}

// Messengers says which platforms the deployment serves.
type Messengers struct {
	Telegram, VK bool
}

// Config is what the console needs.
type Config struct {
	SignIn  *signin.Service
	Store   Store
	Limiter storage.RateLimiter
	Catalog *locales.Catalog
	// The domains' use cases the pages call.
	Membership *membership.Service
	Hotline    *hotline.Service
	Orgs       *orgs.Service
	News       *news.Service
	Monitoring *monitoring.Service
	// Links, when set, serves the short links of news at /l/; CountOpens
	// counts their opens (tracking on).
	Links      *news.Tracker
	CountOpens bool
	// PublicURL is the console's address as browsers see it; https makes
	// the cookies Secure and turns on HSTS.
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client; from anyone else it is ignored.
	TrustedProxies []netip.Prefix
	Messengers     Messengers
	// InviteLinks are an invite's links to the bot on each messenger; a
	// messenger whose bot name is unknown gives an empty URL.
	InviteLinks func(code string) []InviteLink
	Clock       func() time.Time
	Logger      *slog.Logger
}

// Console is the staff console as an http.Handler.
type Console struct {
	cfg     Config
	secure  bool
	pages   map[string]*pageTemplate
	nav     []NavItem
	handler http.Handler
	logger  *slog.Logger
	clock   func() time.Time
	// streams counts the event streams open; stop ends them all.
	streams  atomic.Int64
	stop     chan struct{}
	stopOnce sync.Once
}

// New builds the console: its routes, its templates (a broken template
// fails here, not on a request) and its middleware.
func New(cfg Config) (*Console, error) { return newConsole(cfg, pageGroups) }

// newConsole is New with the page groups given.
func newConsole(cfg Config, groups []func(c *Console) pageGroup) (*Console, error) {
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("console: public URL %q is not an http(s) URL", cfg.PublicURL)
	}
	c := &Console{cfg: cfg, secure: u.Scheme == "https", logger: cfg.Logger, clock: cfg.Clock, stop: make(chan struct{})}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, group := range groups {
		g := group(c)
		for _, rt := range g.Routes {
			mux.Handle(rt.Pattern, c.route(rt))
		}
		c.nav = append(c.nav, g.Nav...)
	}
	mux.Handle("/", c.route(Route{Pattern: "/", Public: true, Handle: func(http.ResponseWriter, *Request) error {
		return errNotFound
	}}))
	// The outermost layer runs first: every response carries the headers,
	// every request counts against its address's limit, and a change from
	// another site is refused before a handler sees it.
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, c.request(r), &pageError{status: http.StatusForbidden, key: "console.error_cross_site"})
	}))
	c.handler = c.headers(c.recoverPanics(c.limitIP(cop.Handler(mux))))
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// EndStreams ends the event streams open pages hold, and any opened
// later: a server shutting down waits for its requests, and a stream would
// keep it waiting. The browsers open them again at the next server.
func (c *Console) EndStreams() { c.stopOnce.Do(func() { close(c.stop) }) }

// Request is one request as a page handler sees it.
type Request struct {
	*http.Request
	// Session is the signed-in browser: its person and their rights
	// (Session.Actor, the memberships in force). Zero on public routes.
	Session signin.Session
	// Lang is the language the page is in.
	Lang string
	// IP is the client's address.
	IP      string
	console *Console
}

// T is the text of key in the request's language.
func (rq *Request) T(key string, kv ...any) string {
	return rq.console.cfg.Catalog.T(rq.Lang, key, kv...)
}

// Plural is T with the plural form chosen by n.
func (rq *Request) Plural(key string, n int, kv ...any) string {
	return rq.console.cfg.Catalog.Plural(rq.Lang, key, n, kv...)
}

// CSRF is the token every form of the session must carry (csrfField).
func (rq *Request) CSRF() string { return csrfToken(rq.Session.Secret) }

// SignedIn reports whether the request has a session.
func (rq *Request) SignedIn() bool { return rq.Session.Secret != "" }

// Audit records in the audit log that the signed-in person did action, on
// an organisation (0: none) and a record ("ticket:17"; "": none). Every
// change the console makes is recorded this way.
func (rq *Request) Audit(action string, orgID int64, record string) error {
	err := rq.console.cfg.Store.AddAudit(rq.Context(), storage.AuditEntry{
		At: rq.console.clock(), PersonID: rq.Session.PersonID, Action: action, OrgID: orgID, Record: record, IP: rq.IP,
	})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// pageError is a failure the person is told about in a page of its own.
type pageError struct {
	status int
	key    string // the message
}

func (e *pageError) Error() string { return fmt.Sprintf("%d %s", e.status, e.key) }

// Title is the heading of the failure's page.
func (e *pageError) Title() string {
	switch e.status {
	case http.StatusUnauthorized:
		return "console.title_signed_out"
	case http.StatusForbidden:
		return "console.title_forbidden"
	case http.StatusNotFound:
		return "console.title_not_found"
	case http.StatusGone:
		return "console.title_gone"
	case http.StatusTooManyRequests:
		return "console.title_rate"
	}
	return "console.title_error"
}

// Message is the text of the failure's page.
func (e *pageError) Message() string { return e.key }

var errNotFound = &pageError{status: http.StatusNotFound, key: "console.error_not_found"}

// statusOf maps what a handler returned to the page that tells it: a
// pageError as it says, a refusal of the rights policy as 403, a missing
// record as 404, anything else as 500 (logged).
func statusOf(err error) *pageError {
	var pe *pageError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, access.ErrForbidden):
		return &pageError{status: http.StatusForbidden, key: "console.error_forbidden"}
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound
	}
	return nil
}

// request wraps r for handlers and templates, in the language the
// person chose.
func (c *Console) request(r *http.Request) *Request {
	rq := &Request{Request: r, IP: c.clientIP(r), console: c}
	rq.Lang = langOf(r, "")
	return rq
}

// fail renders the page of a failure; an unexpected one is logged and
// shown as an internal error.
func (c *Console) fail(w http.ResponseWriter, rq *Request, err error) {
	pe := statusOf(err)
	if pe == nil {
		c.logger.ErrorContext(rq.Context(), "console request failed", "method", rq.Method, "route", rq.Pattern, "err", err)
		pe = &pageError{status: http.StatusInternalServerError, key: "console.error_internal"}
	}
	c.renderError(w, rq, pe)
}

// redirect sends the browser to path on this console with 303 See Other.
func redirect(w http.ResponseWriter, rq *Request, path string) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		path = "/"
	}
	http.Redirect(w, rq.Request, path, http.StatusSeeOther)
}
