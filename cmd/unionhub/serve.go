package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/bot/vk"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/handlers"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
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
	if !a.cfg.Platforms() {
		return usageError{"no messenger configured: set TELEGRAM_TOKEN for Telegram, and/or VK_TOKEN with VK_GROUP_ID for VK (see README.md)"}
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
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

	senders := map[bot.Platform]bot.Sender{}
	raw := map[bot.Platform]bot.Sender{} // the engine paces itself, in the bulk class
	var intakes []intake
	webhooks := http.NewServeMux()
	var mountWebhooks []func(bot.Sink)
	links := handlers.Links{}
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
		intakes = append(intakes, tg)
		if a.cfg.TelegramWebhookURL != "" {
			mountWebhooks = append(mountWebhooks, func(sink bot.Sink) {
				webhooks.Handle("POST "+webhookPath(a.cfg.TelegramWebhookURL), tg.WebhookHandler(sink))
			})
		}
	}
	if a.cfg.VKToken != "" {
		v, err := vk.New(ctx, vk.Config{
			Token: a.cfg.VKToken, GroupID: a.cfg.VKGroupID, APIURL: a.cfg.VKAPIURL,
			CallbackConfirmation: a.cfg.VKCallbackConfirmation, CallbackSecret: a.cfg.VKCallbackSecret,
			Logger: a.logger.With("platform", "vk"), Metrics: metrics,
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
		intakes = append(intakes, v)
		if a.cfg.VKCallbackConfirmation != "" {
			mountWebhooks = append(mountWebhooks, func(sink bot.Sink) {
				webhooks.Handle("POST "+vkCallbackPath, v.CallbackHandler(sink))
			})
		}
	}

	hotline := handlers.DefaultHotlineConfig()
	if a.cfg.HotlineFile != "" {
		if hotline, err = handlers.LoadHotlineConfig(a.cfg.HotlineFile); err != nil {
			return usageError{fmt.Sprintf("UNIONHUB_HOTLINE_FILE: %v", err)}
		}
	}
	defs, err := a.surveys()
	if err != nil {
		return err
	}
	hub := handlers.New(handlers.Deps{
		Store: db, State: state, Catalog: catalog, Senders: senders, Links: links,
		Hotline: hotline, Surveys: defs, Clock: a.clock, Logger: a.logger,
	})
	engine := broadcast.New(broadcast.Config{
		Lease:       a.cfg.BroadcastLease,
		Rates:       ratesOf(map[bot.Platform]storage.Rate{bot.Telegram: a.cfg.TelegramRate, bot.VK: a.cfg.VKRate}),
		PrivateRate: ratesOf(map[bot.Platform]storage.Rate{bot.Telegram: a.cfg.TelegramChatRate}),
		GroupRate:   ratesOf(map[bot.Platform]storage.Rate{bot.Telegram: a.cfg.TelegramGroupRate}),
	}, db, raw, state, hub.ComposeDelivery, a.clock, a.logger.With("component", "broadcast"))
	engine.OnFinish = hub.OnBroadcastFinished
	hub.Broadcaster = engine
	var router *bot.Router
	router = hub.Router(
		bot.Recover(),
		// Dedupe before logging: a duplicate is neither logged nor counted as handled.
		bot.Dedupe(state, a.logger, dedupeKeep),
		bot.Logging(a.logger, metrics, func(c string) bool { return router.Has(c) }),
		bot.ChatLock(state, a.logger, chatLockTTL),
	)
	dispatcher := bot.NewDispatcher(router.Handler(), a.cfg.Workers, updateTimeout)
	for _, mount := range mountWebhooks {
		mount(dispatcher)
	}

	admin, err := a.listen(ctx, a.cfg.AdminAddr, adminHandler(reg, db, state))
	if err != nil {
		dispatcher.Close()
		return err
	}
	var hooks *http.Server
	if len(mountWebhooks) > 0 {
		if hooks, err = a.listen(ctx, a.cfg.HTTPAddr, webhooks); err != nil {
			dispatcher.Close()
			_ = admin.Close()
			return err
		}
	}

	intakeCtx, stopIntake := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	runErr := make(chan error, len(intakes))
	for _, in := range intakes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := in.Run(intakeCtx, dispatcher); err != nil {
				runErr <- fmt.Errorf("%s intake: %w", in.Platform(), err)
			}
		}()
	}
	for _, run := range []func(context.Context){
		func(ctx context.Context) { hub.RunEscalations(ctx, a.cfg.EscalationInterval) },
		func(ctx context.Context) { hub.RunBroadcastTimers(ctx, a.cfg.EscalationInterval) },
		func(ctx context.Context) { hub.RunJobs(ctx, a.cfg.EscalationInterval) },
		func(ctx context.Context) { hub.RunProgress(ctx, progressInterval) },
		engine.Run,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(intakeCtx)
		}()
	}
	a.logger.InfoContext(ctx, "serving", "platforms", len(intakes), "workers", a.cfg.Workers)

	var failure error
	select {
	case <-ctx.Done():
	case failure = <-runErr:
	}
	// Stop taking updates, let those in flight finish, then close.
	a.logger.Info("stopping: no new updates, finishing those in flight")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if hooks != nil {
		if err := hooks.Shutdown(shutdownCtx); err != nil {
			a.logger.Warn("webhook server shutdown", "err", err)
		}
	}
	stopIntake()
	wg.Wait()
	dispatcher.Close()
	if err := admin.Shutdown(shutdownCtx); err != nil {
		a.logger.Warn("admin server shutdown", "err", err)
	}
	a.logger.Info("stopped")
	return failure
}

// webhookPath is the path part of the public webhook URL, which a reverse
// proxy forwards unchanged.
func webhookPath(public string) string {
	if u, err := url.Parse(public); err == nil && u.Path != "" && u.Path != "/" {
		return u.Path
	}
	return telegramWebhookPath
}

// listen starts an HTTP server; the listener is open when it returns, so
// a failure to bind is reported at once.
func (a *app) listen(ctx context.Context, addr string, h http.Handler) (*http.Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("http server", "addr", addr, "err", err)
		}
	}()
	return srv, nil
}

// pinger is a dependency whose health /healthz reports.
type pinger interface {
	Ping(ctx context.Context) error
}

func adminHandler(reg *prometheus.Registry, db storage.Store, state storage.State) http.Handler {
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
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return mux
}
