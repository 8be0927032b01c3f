// Package broadcast delivers news to many people at once from a durable
// outbox: workers claim batches of recipients, send them as fast as each
// platform allows and record every outcome, so a restart resumes where the
// last process stopped and nobody is lost.
package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// Store is what the engine needs of the records.
type Store interface {
	Broadcast(ctx context.Context, id int64) (storage.Broadcast, error)
	ClaimDeliveries(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]storage.Delivery, error)
	CompleteDeliveries(ctx context.Context, results []storage.DeliveryResult, at time.Time) error
	FinishBroadcasts(ctx context.Context, at time.Time) ([]storage.Broadcast, error)
	MarkBlocked(ctx context.Context, p storage.Platform, externalID string, at time.Time) error
}

// Config tunes the engine; zero fields take the defaults.
type Config struct {
	// Batch is how many deliveries one claim takes.
	Batch int
	// Senders is how many sends run at once per platform (DefaultSenders).
	Senders int
	// Lease is how long a claim holds before another worker may take the
	// rows over: how long the rows of a crashed replica wait.
	Lease time.Duration
	// Idle is the wait between empty claims.
	Idle time.Duration
	// MaxAttempts bounds retries of a delivery that fails for other reasons
	// than the platform's rate limit.
	MaxAttempts int
	// Backoff is the first wait after a failure; it doubles with each attempt.
	Backoff time.Duration
	// Rates are the platforms' overall sending limits; a platform without
	// one is not paced (a test server, or paid broadcasts).
	Rates map[bot.Platform]storage.Rate
	// ChatRates limit sends to one chat: private chats and groups.
	PrivateRate, GroupRate map[bot.Platform]storage.Rate
}

func (c *Config) defaults() {
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Senders <= 0 {
		c.Senders = DefaultSenders
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Idle <= 0 {
		c.Idle = 500 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
}

// Compose builds the message a delivery sends: the engine knows neither
// languages nor keyboards, the conversations do.
type Compose func(b storage.Broadcast, d storage.Delivery) bot.Message

// Engine sends the outbox.
type Engine struct {
	cfg     Config
	store   Store
	senders map[bot.Platform]bot.Sender
	limiter storage.RateLimiter
	compose Compose
	clock   func() time.Time
	logger  *slog.Logger
	worker  string
	// OnFinish is told about broadcasts that have nothing left to send.
	OnFinish func(ctx context.Context, b storage.Broadcast)

	kick chan struct{}

	mu       sync.Mutex
	pausedTo map[bot.Platform]time.Time // a 429 slows the whole bot
	cache    map[int64]cached
}

// New returns an engine; a nil clock or logger gets a default.
func New(cfg Config, store Store, senders map[bot.Platform]bot.Sender, limiter storage.RateLimiter, compose Compose, clock func() time.Time, logger *slog.Logger) *Engine {
	cfg.defaults()
	if clock == nil {
		clock = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Engine{
		cfg: cfg, store: store, senders: senders, limiter: limiter, compose: compose, clock: clock, logger: logger,
		worker: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b)),
		kick:   make(chan struct{}, 1), pausedTo: map[bot.Platform]time.Time{}, cache: map[int64]cached{},
	}
}

// Kick wakes the engine early: an outbox was just built.
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; a batch already claimed is finished first.
func (e *Engine) Run(ctx context.Context) {
	for {
		worked, err := e.Step(context.WithoutCancel(ctx))
		if err != nil {
			e.logger.ErrorContext(ctx, "broadcast step", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if worked {
			continue
		}
		timer := time.NewTimer(e.cfg.Idle)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-e.kick:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// Step claims one batch, sends it and records the outcomes as they come,
// a few at a time, so that progress shows and a crash repeats little; it
// reports whether there was anything to do.
func (e *Engine) Step(ctx context.Context) (bool, error) {
	now := e.clock()
	batch, err := e.store.ClaimDeliveries(ctx, e.worker, e.cfg.Batch, now, now.Add(e.cfg.Lease))
	if err != nil {
		return false, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(batch) == 0 {
		finished, err := e.store.FinishBroadcasts(ctx, now)
		if err != nil {
			return false, fmt.Errorf("finish broadcasts: %w", err)
		}
		for _, b := range finished {
			e.forget(b.ID)
			if e.OnFinish != nil {
				e.OnFinish(ctx, b)
			}
		}
		return false, nil
	}
	// Senders block once flushSize outcomes wait behind the one being
	// written: that, not the batch, bounds what a crash forgets.
	results := make(chan storage.DeliveryResult, flushSize)
	go func() {
		e.send(ctx, batch, results)
		close(results)
	}()
	var errs []error
	flush := func(buf []storage.DeliveryResult) []storage.DeliveryResult {
		if len(buf) == 0 {
			return buf
		}
		if err := e.store.CompleteDeliveries(ctx, buf, e.clock()); err != nil {
			// The rows stay leased and are taken again when the lease ends.
			errs = append(errs, fmt.Errorf("complete deliveries: %w", err))
		}
		return buf[:0]
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	buf := make([]storage.DeliveryResult, 0, flushSize)
	for {
		select {
		case r, ok := <-results:
			if !ok {
				flush(buf)
				return true, errors.Join(errs...)
			}
			if buf = append(buf, r); len(buf) >= flushSize {
				buf = flush(buf)
			}
		case <-tick.C:
			buf = flush(buf)
		}
	}
}

// Outcomes are recorded every flushEvery or flushSize results, whichever
// comes first. The most a crash can send twice on Telegram is what it had
// not recorded: flushSize being written, flushSize waiting in the channel
// and one send in flight per sender (DuplicateBound).
const (
	flushEvery = 250 * time.Millisecond
	flushSize  = 100
)

// DefaultSenders is enough parallel sends to saturate a platform's overall
// limit over a link with tens of milliseconds of latency.
const DefaultSenders = 32

// DuplicateBound is the most recipients a crash can make the next claim send
// to again on a platform without idempotency keys (Telegram).
func DuplicateBound(senders int) int { return 2*flushSize + senders }

// send delivers a batch: VK in calls of up to 100 peers, others one by one,
// each platform with its own senders; every outcome goes to out.
func (e *Engine) send(ctx context.Context, batch []storage.Delivery, out chan<- storage.DeliveryResult) {
	byPlatform := map[bot.Platform][]storage.Delivery{}
	for _, d := range batch {
		byPlatform[bot.Platform(d.Platform)] = append(byPlatform[bot.Platform(d.Platform)], d)
	}
	var wg sync.WaitGroup
	for p, rows := range byPlatform {
		sender, ok := e.senders[p]
		if !ok {
			// Not served by this process: leave it for one that is.
			for _, d := range rows {
				out <- e.retry(d, errors.New("platform not configured here"), e.cfg.Lease)
			}
			continue
		}
		if bulk, ok := sender.(bot.BulkSender); ok && bulk.MaxBulk() > 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.sendBulk(ctx, p, bulk, rows, out)
			}()
			continue
		}
		jobs := make(chan storage.Delivery)
		for range min(e.cfg.Senders, len(rows)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range jobs {
					out <- e.sendOne(ctx, p, sender, d)
				}
			}()
		}
		go func() {
			for _, d := range rows {
				jobs <- d
			}
			close(jobs)
		}()
	}
	wg.Wait()
}

// sendOne sends one delivery after its turn under the limits.
func (e *Engine) sendOne(ctx context.Context, p bot.Platform, sender bot.Sender, d storage.Delivery) storage.DeliveryResult {
	if err := e.pace(ctx, p, d); err != nil {
		return e.retry(d, err, time.Second)
	}
	b, err := e.broadcast(ctx, d.BroadcastID)
	if err != nil {
		return e.retry(d, err, time.Second)
	}
	if b.Status == storage.BroadcastCancelled {
		return e.retry(d, errCancelled, 0) // the store cancels a retry of a cancelled broadcast
	}
	m := e.compose(b, d)
	m.ChatID, m.Key = d.ChatID, deliveryKey(b.ID)
	sent, err := sender.Send(ctx, m)
	if err != nil {
		return e.outcome(ctx, p, d, err)
	}
	return storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: sent.MessageID}
}

// sendBulk sends VK rows of one broadcast and the same message in calls of
// up to MaxBulk peers: 100 recipients for one of the 20 calls a second.
func (e *Engine) sendBulk(ctx context.Context, p bot.Platform, bulk bot.BulkSender, rows []storage.Delivery, out chan<- storage.DeliveryResult) {
	type group struct {
		b    storage.Broadcast
		m    bot.Message
		rows []storage.Delivery
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, d := range rows {
		b, err := e.broadcast(ctx, d.BroadcastID)
		if err != nil {
			out <- e.retry(d, err, time.Second)
			continue
		}
		m := e.compose(b, d)
		// Rows with the same message share a call.
		k := fmt.Sprintf("%d|%s|%v", b.ID, m.Text, m.Keyboard)
		g, ok := byKey[k]
		if !ok {
			g = &group{b: b, m: m}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.rows = append(g.rows, d)
	}
	for _, g := range groups {
		for start := 0; start < len(g.rows); start += bulk.MaxBulk() {
			chunk := g.rows[start:min(len(g.rows), start+bulk.MaxBulk())]
			err := e.pace(ctx, p, storage.Delivery{})
			if err == nil {
				if b, berr := e.broadcast(ctx, g.b.ID); berr == nil && b.Status == storage.BroadcastCancelled {
					err = errCancelled
				}
			}
			if err != nil {
				for _, d := range chunk {
					out <- e.retry(d, err, 0)
				}
				continue
			}
			chats := make([]string, len(chunk))
			for j, d := range chunk {
				chats[j] = d.ChatID
			}
			m := g.m
			m.Key = deliveryKey(g.b.ID)
			res, err := bulk.SendBulk(ctx, chats, m)
			for j, d := range chunk {
				switch {
				case err != nil:
					out <- e.outcome(ctx, p, d, err)
				case j < len(res) && res[j].Err != nil:
					out <- e.outcome(ctx, p, d, res[j].Err)
				case j < len(res):
					out <- storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: res[j].MessageID}
				default:
					out <- e.retry(d, errors.New("no result for peer"), time.Second)
				}
			}
		}
	}
}

// errCancelled stops the sends of a broadcast its sender stopped.
var errCancelled = errors.New("broadcast cancelled")

// deliveryKey is one key per broadcast: VK drops a repeated random_id to
// the same peer, so a row sent twice after a crash arrives once.
func deliveryKey(broadcastID int64) string { return fmt.Sprintf("broadcast:%d", broadcastID) }

// pace waits for the platform's overall limit (bulk class: answers to
// members go first) and, for a chat, the chat's own limit; it also waits out
// a pause a 429 imposed on the whole bot.
func (e *Engine) pace(ctx context.Context, p bot.Platform, d storage.Delivery) error {
	e.mu.Lock()
	until := e.pausedTo[p]
	e.mu.Unlock()
	if wait := until.Sub(e.clock()); wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	if r, ok := e.cfg.Rates[p]; ok {
		if err := e.limiter.Wait(ctx, string(p), underCap(r), true); err != nil {
			return fmt.Errorf("wait for %s limit: %w", p, err)
		}
	}
	if d.ChatID == "" {
		return nil
	}
	rates := e.cfg.PrivateRate
	if d.PersonID == 0 {
		rates = e.cfg.GroupRate
	}
	if r, ok := rates[p]; ok {
		if err := e.limiter.Wait(ctx, string(p)+":chat:"+d.ChatID, underCap(r), true); err != nil {
			return fmt.Errorf("wait for chat limit: %w", err)
		}
	}
	return nil
}

// capMargin is how far under a configured limit the bulk keeps: the
// platforms count in sliding windows on their own clocks, and requests
// arrive with jitter, so pacing exactly at the cap would earn the odd 429.
const capMargin = 0.98

// underCap paces the bulk capMargin under a limit, with a small burst that
// fits in the margin: a burst of one makes many senders queue for the exact
// instant each is due, and that loses more than the margin.
func underCap(r storage.Rate) storage.Rate {
	r.Period = time.Duration(float64(r.Period) / capMargin)
	r.BulkBurst = max(1, int(float64(r.PerPeriod)*(1-capMargin)/2))
	return r
}

// outcome turns a send error into what happens to the delivery.
func (e *Engine) outcome(ctx context.Context, p bot.Platform, d storage.Delivery, err error) storage.DeliveryResult {
	var limited *bot.RateLimitError
	switch {
	case errors.As(err, &limited):
		e.mu.Lock()
		if until := e.clock().Add(limited.RetryAfter); until.After(e.pausedTo[p]) {
			e.pausedTo[p] = until
		}
		e.mu.Unlock()
		r := e.retry(d, err, limited.RetryAfter)
		r.Status = storage.DeliveryQueued // a 429 is not the delivery's fault: it never fails for it
		return r
	case errors.Is(err, bot.ErrBlocked), errors.Is(err, bot.ErrChatGone):
		if d.PersonID != 0 && errors.Is(err, bot.ErrBlocked) {
			if err := e.store.MarkBlocked(ctx, storage.Platform(p), d.ChatID, e.clock()); err != nil && !errors.Is(err, storage.ErrNotFound) {
				e.logger.WarnContext(ctx, "mark blocked", "delivery", d.ID, "err", err)
			}
		}
		return storage.DeliveryResult{ID: d.ID, Status: storage.DeliveryUnreachable, Error: err.Error()}
	}
	return e.retry(d, err, e.cfg.Backoff<<min(d.Attempts, 8))
}

// retry queues a delivery again after wait, or fails it once its attempts
// are spent.
func (e *Engine) retry(d storage.Delivery, err error, wait time.Duration) storage.DeliveryResult {
	r := storage.DeliveryResult{ID: d.ID, Status: storage.DeliveryQueued, Error: err.Error(), NextAt: e.clock().Add(wait)}
	var limited *bot.RateLimitError
	if d.Attempts >= e.cfg.MaxAttempts && !errors.As(err, &limited) {
		r.Status = storage.DeliveryFailed
	}
	return r
}

// broadcast reads a broadcast at most every cacheFor while it is being
// sent: often enough to see a Stop within a second, rarely enough to cost
// nothing per message.
func (e *Engine) broadcast(ctx context.Context, id int64) (storage.Broadcast, error) {
	e.mu.Lock()
	c, ok := e.cache[id]
	e.mu.Unlock()
	if ok && e.clock().Before(c.until) {
		return c.b, nil
	}
	b, err := e.store.Broadcast(ctx, id)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("load broadcast: %w", err)
	}
	e.mu.Lock()
	e.cache[id] = cached{b: b, until: e.clock().Add(cacheFor)}
	e.mu.Unlock()
	return b, nil
}

// cacheFor is how long a broadcast read stays fresh.
const cacheFor = time.Second

type cached struct {
	b     storage.Broadcast
	until time.Time
}

func (e *Engine) forget(id int64) {
	e.mu.Lock()
	delete(e.cache, id)
	e.mu.Unlock()
}
