package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/bot/vk"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/console"
	"github.com/unionhub/unionhub/handlers"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/periodic"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// Timeouts of the serve loop.
const (
	updateTimeout   = time.Minute
	shutdownTimeout = 30 * time.Second
	dedupeKeep      = 48 * time.Hour
	chatLockTTL     = time.Minute
)

// progressInterval is how often senders' progress messages are refreshed.
const progressInterval = 2 * time.Second

// ratesOf keeps the limits that pace (a zero rate means unpaced).
func ratesOf(rs map[bot.Platform]storage.Rate) map[bot.Platform]storage.Rate {
	out := map[bot.Platform]storage.Rate{}
	for p, r := range rs {
		if r.PerPeriod > 0 {
			out[p] = r
		}
	}
	return out
}

// Webhook paths on UNIONHUB_HTTP_ADDR.
const (
	vkCallbackPath      = "/vk/callback"
	telegramWebhookPath = "/telegram/webhook"
)

// intake is a platform adapter seen from serve.
type intake interface {
	bot.Sender
	Run(ctx context.Context, sink bot.Sink) error
}

func (a *app) serve(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usageError{"serve takes no arguments"}
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	defs, err := a.surveys()
	if err != nil {
		return err
	}
	if err := checkScheduleOrgs(ctx, db, defs); err != nil {
		return err
	}
	state, err := a.openState(ctx)
	if err != nil {
		return err
	}
	defer state.Close()
	catalog, err := locales.Load()
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg)
	// Loops' liveness counts in real time: a test that moves the hub's
	// clock by days must not make every loop look stale.
	loops := periodic.NewRunner(reg, time.Now, a.logger.With("component", "periodic"))

	senders := map[bot.Platform]bot.Sender{}
	raw := map[bot.Platform]bot.Sender{} // the engine paces itself, in the bulk class
	// The adapters download the files members sent, for the console.
	files := map[storage.Platform]hotline.FileSource{}
	var intakes []intake
	// UNIONHUB_HTTP_ADDR serves the webhooks at their paths and the
	// console at every other.
	web := http.NewServeMux()
	var mountWebhooks []func(bot.Sink)
	links := handlers.Links{Console: a.cfg.PublicURL}
	if a.cfg.TelegramToken != "" {
		tg, err := telegram.New(ctx, telegram.Config{
			Token: a.cfg.TelegramToken, APIURL: a.cfg.TelegramAPIURL,
			WebhookURL: a.cfg.TelegramWebhookURL, WebhookSecret: a.cfg.TelegramWebhookSecret,
			Logger: a.logger.With("platform", "telegram"), Metrics: metrics,
		})
		if err != nil {
			return fmt.Errorf("start telegram: %w", err)
		}
		senders[bot.Telegram], links.TelegramBot = bot.Throttle(tg, state, string(bot.Telegram), a.cfg.TelegramRate), tg.Username()
		raw[bot.Telegram] = tg
		files[storage.Telegram] = tg
		intakes = append(intakes, tg)
		if a.cfg.TelegramWebhookURL != "" {
			mountWebhooks = append(mountWebhooks, func(sink bot.Sink) {
				web.Handle("POST "+webhookPath(a.cfg.TelegramWebhookURL), tg.WebhookHandler(sink))
			})
		}
	}
	if a.cfg.VKToken != "" {
		v, err := vk.New(ctx, vk.Config{
			Token: a.cfg.VKToken, GroupID: a.cfg.VKGroupID, APIURL: a.cfg.VKAPIURL,
			CallbackConfirmation: a.cfg.VKCallbackConfirmation, CallbackSecret: a.cfg.VKCallbackSecret,
			Logger: a.logger.With("platform", "vk"), Metrics: metrics, Positions: state,
		})
		if err != nil {
			return fmt.Errorf("start vk: %w", err)
		}
		links.VKGroup = a.cfg.VKGroupScreenName
		if links.VKGroup == "" {
			links.VKGroup = v.ScreenName()
		}
		senders[bot.VK] = bot.Throttle(v, state, string(bot.VK), a.cfg.VKRate)
		raw[bot.VK] = v
		files[storage.VK] = v
		intakes = append(intakes, v)
		if a.cfg.VKCallbackConfirmation != "" {
			mountWebhooks = append(mountWebhooks, func(sink bot.Sink) {
				web.Handle("POST "+vkCallbackPath, v.CallbackHandler(sink))
			})
		}
	}

	// Short links keep leading where they did after tracking is turned
	// off; only new news go out with them while it is on.
	tracker := news.NewTracker(news.TrackerConfig{Store: db, BaseURL: a.cfg.PublicURL, Clock: a.clock, Logger: a.logger.With("component", "links"),
		Share: func(p storage.Platform, text string) string { return handlers.ShareLink(bot.Platform(p), links, text) }})
	var newsLinks *news.Tracker
	if a.cfg.LinkTracking {
		newsLinks = tracker
	}
	settings := hotline.DefaultSettings()
	if a.cfg.HotlineFile != "" {
		if settings, err = hotline.LoadSettings(a.cfg.HotlineFile); err != nil {
			return usageError{fmt.Sprintf("UNIONHUB_HOTLINE_FILE: %v", err)}
		}
	}
	signIn := a.signIn(db, catalog)
	deps := handlers.Deps{
		Store: db, State: state, Catalog: catalog, Senders: senders, Links: links,
		HotlineSettings: settings, Surveys: defs, SignIn: signIn, Tracker: newsLinks, Clock: a.clock, Logger: a.logger,
	}
	notifier := handlers.NewNotifier(deps)
	deps.Membership = membership.New(membership.Config{Store: db, State: state, Notifier: notifier, Clock: a.clock, Logger: a.logger})
	deps.Orgs = orgs.New(orgs.Config{Store: db, Clock: a.clock, Logger: a.logger})
	deps.Hotline = hotline.New(hotline.Config{Store: db, Notifier: notifier, Settings: settings, Files: files, Clock: a.clock, Logger: a.logger})
	deps.Monitoring = monitoring.New(monitoring.Config{Store: db, Locker: state, Notifier: notifier, Surveys: defs, ContactBaseCron: a.cfg.ContactBaseCron, Clock: a.clock, Logger: a.logger})
	// The engine composes each delivery with the notifier that news tells
	// the relaying levels' notes.
	engine := broadcast.New(broadcast.Config{
		Lease:       a.cfg.BroadcastLease,
		Rates:       ratesOf(map[bot.Platform]storage.Rate{bot.Telegram: a.cfg.TelegramRate, bot.VK: a.cfg.VKRate}),
		PrivateRate: ratesOf(map[bot.Platform]storage.Rate{bot.Telegram: a.cfg.TelegramChatRate}),
		GroupRate:   ratesOf(map[bot.Platform]storage.Rate{bot.Telegram: a.cfg.TelegramGroupRate}),
		Store:       db, Platforms: raw, Limiter: state, Compose: notifier.ComposeDelivery, Clock: a.clock, Logger: a.logger.With("component", "broadcast"),
	})
	deps.News = news.New(news.Config{Store: db, Locker: state, Notifier: notifier, Engine: engine, BuildLease: a.cfg.BroadcastLease, Clock: a.clock, Logger: a.logger})
	engine.OnFinish = deps.News.BroadcastFinished
	hub := handlers.New(deps)
	var router *bot.Router
	router = hub.Router(
		bot.Recover(),
		// Admit before logging: a duplicate is neither logged nor counted as
		// handled. The sender's conversation comes in the same trip.
		bot.Admit(state, a.logger, dedupeKeep, chatLockTTL, handlers.ConversationKey),
		bot.Logging(a.logger, metrics, func(c string) bool { return router.Has(c) }),
	)
	dispatcher := bot.NewDispatcher(router.Handler(), a.cfg.Workers, updateTimeout)
	for _, mount := range mountWebhooks {
		mount(dispatcher)
	}
	staff, err := console.New(console.Config{
		SignIn: signIn, Store: db, Limiter: state, Catalog: catalog,
		Membership: deps.Membership, Hotline: deps.Hotline, Orgs: deps.Orgs, News: deps.News, Monitoring: deps.Monitoring,
		Links: tracker, CountOpens: a.cfg.LinkTracking,
		PublicURL: a.cfg.PublicURL, TrustedProxies: a.cfg.TrustedProxies,
		Messengers: console.Messengers{Telegram: a.cfg.TelegramToken != "", VK: a.cfg.VKToken != ""},
		InviteLinks: func(code string) []console.InviteLink {
			return []console.InviteLink{{Platform: storage.Telegram, URL: links.Telegram(code)}, {Platform: storage.VK, URL: links.VK(code)}}
		},
		Clock: a.clock, Logger: a.logger.With("component", "console"),
	})
	if err != nil {
		dispatcher.Close()
		return err
	}
	web.Handle("/", staff)

	admin, err := a.listen(ctx, a.cfg.AdminAddr, adminHandler(reg, db, state, loops))
	if err != nil {
		dispatcher.Close()
		return err
	}
	hooks, err := a.listen(ctx, a.cfg.HTTPAddr, web)
	if err != nil {
		dispatcher.Close()
		_ = admin.Close()
		return err
	}
	// The console's open event streams would hold the shutdown up.
	hooks.RegisterOnShutdown(staff.EndStreams)
	if !a.cfg.Platforms() {
		a.logger.InfoContext(ctx, "no messenger configured: set TELEGRAM_TOKEN for Telegram, and VK_TOKEN with VK_GROUP_ID for VK; the console runs meanwhile",
			"console", a.cfg.PublicURL)
	}
	a.offerAdminLink(ctx, signIn)

	// Background work runs as one group: the intakes, the periodic loops
	// and the broadcast engine start together; an intake that fails stops
	// serve, and on the way out they all stop together.
	servicesCtx, stopServices := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServices()
	services, servicesCtx := errgroup.WithContext(servicesCtx)
	waitBuilds := deps.News.ServeBuilds(servicesCtx)
	for _, in := range intakes {
		services.Go(func() error {
			if err := in.Run(servicesCtx, dispatcher); err != nil {
				return fmt.Errorf("%s intake: %w", in.Platform(), err)
			}
			return nil
		})
	}
	for _, l := range hub.Loops(a.cfg.EscalationInterval, progressInterval) {
		services.Go(func() error { loops.Run(servicesCtx, l); return nil })
	}
	services.Go(func() error { engine.Run(servicesCtx); return nil })
	services.Go(func() error { waitBuilds(); return nil })
	a.logger.InfoContext(ctx, "serving", "platforms", len(intakes), "workers", a.cfg.Workers, "console", a.cfg.PublicURL)

	select {
	case <-ctx.Done():
	case <-servicesCtx.Done(): // an intake failed
	}
	// Stop taking updates, let those in flight finish, then close.
	a.logger.Info("stopping: no new updates, finishing those in flight")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hooks.Shutdown(shutdownCtx); err != nil {
		a.logger.Warn("web server shutdown", "err", err)
	}
	stopServices()
	failure := services.Wait()
	dispatcher.Close()
	if err := admin.Shutdown(shutdownCtx); err != nil {
		a.logger.Warn("admin server shutdown", "err", err)
	}
	a.logger.Info("stopped")
	return failure
}

// checkScheduleOrgs refuses survey schedules naming an organisation the
// tree does not have, each at its file:line: such a schedule would only
// fail every time it fires.
func checkScheduleOrgs(ctx context.Context, st storage.OrgStore, defs []surveys.Survey) error {
	orgs, err := st.Orgs(ctx)
	if err != nil {
		return fmt.Errorf("check survey schedules: list orgs: %w", err)
	}
	known := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		known[o.Code] = true
	}
	var bad []string
	for _, sv := range defs {
		for _, sc := range sv.Schedules {
			if sc.Org != "" && !known[sc.Org] {
				bad = append(bad, fmt.Sprintf("%s:%d: schedule %q: org %q is not in the organisation tree (see unionhub org list)",
					sv.Source, sc.OrgLine, sc.Name, sc.Org))
			}
		}
	}
	if len(bad) > 0 {
		return usageError{"UNIONHUB_SURVEYS_DIR: " + strings.Join(bad, "\n")}
	}
	return nil
}

// webhookPath is the path part of the public webhook URL, which a reverse
// proxy forwards unchanged.
func webhookPath(public string) string {
	if u, err := url.Parse(public); err == nil && u.Path != "" && u.Path != "/" {
		return u.Path
	}
	return telegramWebhookPath
}

// httpLimits bound what the clients of a server may hold: the time to send
// the headers, the whole request, to take the answer and to idle between
// requests, the size of the headers, and the connections open at once.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
	maxConns                      int
}

// serverLimits hold for the webhook and admin servers. Webhook bodies are
// small and sent at once; an answer waits for the update to be handled.
// Telegram opens up to 40 connections to a webhook.
var serverLimits = httpLimits{
	readHeader:     5 * time.Second,
	read:           20 * time.Second,
	write:          updateTimeout + 15*time.Second,
	idle:           time.Minute,
	maxHeaderBytes: 64 << 10,
	maxConns:       128,
}

// listen starts an HTTP server within serverLimits; the listener is open
// when it returns, so a failure to bind is reported at once.
func (a *app) listen(ctx context.Context, addr string, h http.Handler) (*http.Server, error) {
	return a.listenWith(ctx, addr, h, serverLimits)
}

// listenWith is listen within limits; the server's Addr is the bound address.
func (a *app) listenWith(ctx context.Context, addr string, h http.Handler, limits httpLimits) (*http.Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Addr:              ln.Addr().String(),
		Handler:           h,
		ReadHeaderTimeout: limits.readHeader,
		ReadTimeout:       limits.read,
		WriteTimeout:      limits.write,
		IdleTimeout:       limits.idle,
		MaxHeaderBytes:    limits.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn), // JSON lines, not log.Printf text
	}
	limited := newLimitListener(ln, limits.maxConns)
	srv.ConnState = limited.trackState
	go func() {
		if err := srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server", "addr", addr, "err", err)
		}
	}()
	return srv, nil
}

// limitListener serves at most n connections at once; more wait. While one
// waits, the connection idle the longest is closed to make room, once it has
// been idle for idleGrace: a client that keeps connections for later (a
// browser, a member's phone that opened a news link, a platform's pool) must
// not hold the slots that a request waiting now needs. Clients reuse the
// connection they used last, so the longest idle is the one least likely to
// be carrying a request already. Busy connections are never cut.
type limitListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	idle map[*limitConn]time.Time // since when
}

// idleGrace is how long a connection must have been idle before it is
// closed for a waiting one; the waiting one looks again every idleGrace.
const idleGrace = 100 * time.Millisecond

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{}), idle: map[*limitConn]time.Time{}}
}

// Accept takes the next connection from the kernel first, so that an idle
// one is closed only for a client that is really waiting; that client is
// then served once a slot is free.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := l.takeSlot(); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	return &limitConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
}

// takeSlot waits for a free slot, closing one idle connection at a time.
func (l *limitListener) takeSlot() error {
	look := time.NewTicker(idleGrace)
	defer look.Stop()
	for {
		select {
		case l.slots <- struct{}{}:
			return nil
		default:
		}
		if c := l.longestIdle(); c != nil {
			_ = c.Close()
		}
		select {
		case l.slots <- struct{}{}:
			return nil
		case <-look.C:
		case <-l.closed:
			return net.ErrClosed
		}
	}
}

// longestIdle takes out of the idle set the connection idle the longest, if
// it has been idle for idleGrace.
func (l *limitListener) longestIdle() *limitConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	var oldest *limitConn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	if oldest == nil || time.Since(since) < idleGrace {
		return nil
	}
	delete(l.idle, oldest)
	return oldest
}

// trackState is the server's ConnState hook: it keeps the idle connections.
func (l *limitListener) trackState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if state == http.StateIdle {
		l.idle[c] = time.Now()
		return
	}
	delete(l.idle, c)
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back when closed.
type limitConn struct {
	net.Conn
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// pinger is a dependency whose health /healthz reports.
type pinger interface {
	Ping(ctx context.Context) error
}

// staler names the periodic loops that have stopped completing rounds.
type staler interface {
	Stale() []string
}

func adminHandler(reg *prometheus.Registry, db, state pinger, loops staler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, body := http.StatusOK, "ok\n"
		for _, dep := range []struct {
			name string
			p    pinger
		}{{"database", db}, {"state", state}} {
			if err := dep.p.Ping(ctx); err != nil {
				status, body = http.StatusServiceUnavailable, dep.name+" unavailable\n"
				break
			}
		}
		if stale := loops.Stale(); status == http.StatusOK && len(stale) > 0 {
			status, body = http.StatusServiceUnavailable, "degraded: "+strings.Join(stale, ", ")+" round stale\n"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return mux
}
