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
	"slices"
	"sync"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// Store is what the engine needs of the records.
type Store interface {
	Broadcast(ctx context.Context, id int64) (storage.Broadcast, error)
	ClaimDeliveries(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]storage.Delivery, error)
	RenewDeliveries(ctx context.Context, worker string, ids []int64, leaseUntil time.Time) ([]int64, error)
	CompleteDeliveries(ctx context.Context, worker string, results []storage.DeliveryResult, at time.Time) error
	FinishBroadcasts(ctx context.Context, at time.Time) ([]storage.Broadcast, error)
	MarkBlocked(ctx context.Context, p storage.Platform, externalID string, at time.Time) error
	// A broadcast's file: what it is, its bytes for the first delivery on
	// each platform, and each platform's reference to it.
	NewsFile(ctx context.Context, id int64) (storage.NewsFile, error)
	NewsFileData(ctx context.Context, id int64) ([]byte, error)
	FileRef(ctx context.Context, broadcastID int64, p storage.Platform) (string, error)
	SetFileRef(ctx context.Context, broadcastID int64, p storage.Platform, ref string) (string, error)
}

// Config tunes the engine; zero fields take the defaults.
type Config struct {
	// Store keeps the outbox; Platforms send, one sender per platform;
	// Limiter is the rate limit shared with the other replicas and the
	// replies; Compose builds each delivery's message.
	Store     Store
	Platforms map[bot.Platform]bot.Sender
	Limiter   storage.RateLimiter
	Compose   Compose
	// Clock and Logger default to time.Now and slog.Default.
	Clock  func() time.Time
	Logger *slog.Logger
	// Batch is how many deliveries one claim takes.
	Batch int
	// Senders is how many sends run at once per platform and batch
	// (DefaultSenders).
	Senders int
	// Pipeline is how many batches are in hand at once (DefaultPipeline):
	// one is claimed and recorded while another is being sent.
	Pipeline int
	// Lease is how long a claim holds before another worker may take the
	// rows over: how long the rows of a crashed replica wait. A live engine
	// renews it every Lease/4 until it has recorded the outcomes.
	Lease time.Duration
	// Drain is how long a stopping engine keeps trying to record what it
	// sent while the database does not answer.
	Drain time.Duration
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
	if c.Pipeline <= 0 {
		c.Pipeline = DefaultPipeline
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 10 * time.Second
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
type Compose func(ctx context.Context, b storage.Broadcast, d storage.Delivery) bot.Message

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
	// inHand are the rows the engine's loops hold: a loop may reclaim the
	// expired lease of one a sibling still holds (the database was away
	// longer than the lease), and must leave it to that sibling.
	inHand map[int64]bool

	files files
}

// New returns an engine.
func New(cfg Config) *Engine {
	cfg.defaults()
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Engine{
		cfg: cfg, store: cfg.Store, senders: cfg.Platforms, limiter: cfg.Limiter, compose: cfg.Compose, clock: cfg.Clock, logger: cfg.Logger,
		worker: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b)),
		kick:   make(chan struct{}, 1), pausedTo: map[bot.Platform]time.Time{}, cache: map[int64]cached{}, inHand: map[int64]bool{},
	}
}

// Kick wakes the engine early: an outbox was just built.
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; then the batches in hand stop as Step
// says. Config.Pipeline batches are in hand at once, each claimed, sent
// and recorded by its own loop, so that the senders never wait for a
// claim or for the slowest send of the batch before.
func (e *Engine) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range e.cfg.Pipeline {
		wg.Go(func() { e.loop(ctx) })
	}
	wg.Wait()
}

// loop steps until ctx ends, resting Idle (or until a kick) when there
// was nothing to do.
func (e *Engine) loop(ctx context.Context) {
	for ctx.Err() == nil {
		worked, err := e.Step(ctx)
		if err != nil {
			e.logger.ErrorContext(ctx, "broadcast step", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if worked {
			// There may be more: wake a resting loop to claim it.
			e.Kick()
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
// reports whether there was anything to do. Once ctx ends no new send
// starts: the rows not sent are given back and what was sent is recorded.
func (e *Engine) Step(ctx context.Context) (bool, error) {
	now := e.clock()
	batch, err := e.store.ClaimDeliveries(ctx, e.worker, e.cfg.Batch, now, now.Add(e.cfg.Lease))
	if err != nil {
		return false, fmt.Errorf("claim deliveries: %w", err)
	}
	batch = e.take(batch)
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
	defer e.putDown(batch)
	h := newHold(batch)
	// Senders block once flushSize outcomes wait behind the one being
	// written: that, not the batch, bounds what a crash forgets, and it
	// stops the sends while the database does not take the outcomes.
	results := make(chan storage.DeliveryResult, flushSize)
	go func() {
		e.send(ctx, batch, h, results)
		close(results)
	}()
	return true, e.record(ctx, h, results)
}

// take keeps the rows of a claim that no loop of the engine holds yet and
// marks them held. The others stay claimed by this worker, as they were:
// the sibling that holds them sends and records them.
func (e *Engine) take(batch []storage.Delivery) []storage.Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.DeleteFunc(batch, func(d storage.Delivery) bool {
		if e.inHand[d.ID] {
			return true
		}
		e.inHand[d.ID] = true
		return false
	})
}

// putDown forgets the rows of a batch whose outcomes are recorded or given
// up.
func (e *Engine) putDown(batch []storage.Delivery) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range batch {
		delete(e.inHand, d.ID)
	}
}

// record writes the outcomes of a batch every flushEvery or flushSize and
// renews the lease of the rows not yet recorded every Lease/4. It keeps
// outcomes the database did not take and tries again (flush): they are
// given up only Config.Drain after ctx ended.
func (e *Engine) record(ctx context.Context, h *hold, results <-chan storage.DeliveryResult) error {
	db, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(e.cfg.Drain, cancel) })
	defer func() {
		stopDrain()
		cancel()
	}()
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	renew := time.NewTicker(max(e.cfg.Lease/4, time.Millisecond))
	defer renew.Stop()
	buf := make([]storage.DeliveryResult, 0, flushSize)
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return e.flush(db, h, buf)
			}
			if buf = append(buf, r); len(buf) < flushSize {
				continue
			}
		case <-tick.C:
		case <-renew.C:
			// A failure here is retried at the next tick or flush.
			if err := e.renew(db, h); err != nil {
				e.logger.WarnContext(ctx, "renew broadcast lease", "worker", e.worker, "err", err)
			}
			continue
		}
		if err := e.flush(db, h, buf); err != nil {
			for range results {
				// The process is stopping: let the senders finish.
			}
			return err
		}
		buf = buf[:0]
	}
}

// flush records buf, trying again with backoff while the database does
// not answer. Before each new try it renews the lease of the rows it holds,
// which keeps them from other workers and tells which were taken over while
// the lease could not be renewed: their outcomes are dropped, the other
// worker sends and records them. It fails only once db ends.
func (e *Engine) flush(db context.Context, h *hold, buf []storage.DeliveryResult) error {
	var err error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := min(flushEvery<<min(attempt-1, 8), e.cfg.Lease/8, maxFlushWait)
			timer := time.NewTimer(wait)
			select {
			case <-db.Done():
				timer.Stop()
				return fmt.Errorf("record %d outcomes: gave up after %d tries: %w", len(buf), attempt, err)
			case <-timer.C:
			}
			if err = e.renew(db, h); err != nil {
				e.logTry(db, attempt+1, len(buf), err)
				continue
			}
		}
		if buf = h.ours(buf); len(buf) == 0 {
			return nil
		}
		cctx, cancel := context.WithTimeout(db, e.storeTimeout())
		err = e.store.CompleteDeliveries(cctx, e.worker, buf, e.clock())
		cancel()
		if err == nil {
			h.recorded(buf)
			if attempt > 0 {
				e.logger.InfoContext(db, "outcomes recorded after the database came back", "worker", e.worker, "outcomes", len(buf), "tries", attempt+1)
			}
			return nil
		}
		e.logTry(db, attempt+1, len(buf), err)
	}
}

// logTry logs a failed try to record outcomes: the first ones, then ever
// more rarely while the database stays away.
func (e *Engine) logTry(ctx context.Context, try, outcomes int, err error) {
	if try&(try-1) == 0 {
		e.logger.WarnContext(ctx, "record broadcast outcomes: keeping them to try again", "worker", e.worker, "outcomes", outcomes, "try", try, "err", err)
	}
}

// renew extends the lease of the rows h holds and marks those another
// worker took over.
func (e *Engine) renew(ctx context.Context, h *hold) error {
	ids := h.heldIDs()
	if len(ids) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, e.storeTimeout())
	defer cancel()
	kept, err := e.store.RenewDeliveries(rctx, e.worker, ids, e.clock().Add(e.cfg.Lease))
	if err != nil {
		return err
	}
	if lost := h.keep(ids, kept); lost > 0 {
		e.logger.WarnContext(ctx, "deliveries taken over by another worker after the lease ran out", "worker", e.worker, "deliveries", lost)
	}
	return nil
}

// storeTimeout bounds one write of the recorder, so that a database that
// stopped answering on an open connection is tried again on a new one.
func (e *Engine) storeTimeout() time.Duration { return max(e.cfg.Lease/2, time.Second) }

// maxFlushWait caps the wait between tries to record outcomes, so that the
// lease is renewed soon after the database comes back.
const maxFlushWait = 2 * time.Second

// hold is what a Step holds of its batch: the rows claimed and not yet
// recorded, and those another worker took over after the lease ran out.
type hold struct {
	mu   sync.Mutex
	held map[int64]bool
	lost map[int64]bool
}

func newHold(batch []storage.Delivery) *hold {
	h := &hold{held: make(map[int64]bool, len(batch)), lost: map[int64]bool{}}
	for _, d := range batch {
		h.held[d.ID] = true
	}
	return h
}

// taken reports whether another worker took the row over: it is no longer
// ours to send.
func (h *hold) taken(id int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost[id]
}

func (h *hold) heldIDs() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]int64, 0, len(h.held))
	for id := range h.held {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// keep marks lost the rows of ids missing from kept and returns how many.
func (h *hold) keep(ids, kept []int64) int {
	ours := make(map[int64]bool, len(kept))
	for _, id := range kept {
		ours[id] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, id := range ids {
		if !ours[id] {
			delete(h.held, id)
			h.lost[id] = true
			n++
		}
	}
	return n
}

// ours drops from rs the outcomes of rows taken over.
func (h *hold) ours(rs []storage.DeliveryResult) []storage.DeliveryResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.DeleteFunc(rs, func(r storage.DeliveryResult) bool { return h.lost[r.ID] })
}

func (h *hold) recorded(rs []storage.DeliveryResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range rs {
		delete(h.held, r.ID)
	}
}

// Outcomes are recorded every flushEvery or flushSize results, whichever
// comes first. The most a crash can send twice on Telegram is what it had
// not recorded: flushSize being written, flushSize waiting in the channel
// and one send in flight per sender (DuplicateBound). A database away for
// less than half the lease sends nobody twice (with one replica, however
// long it is away); away for longer, while another replica takes the rows
// over, it costs what a crash costs.
const (
	flushEvery = 250 * time.Millisecond
	flushSize  = 100
)

// DefaultSenders is enough parallel sends to saturate a platform's overall
// limit over a link with tens of milliseconds of latency.
const DefaultSenders = 32

// DefaultPipeline is two batches in hand: one sending while the next is
// claimed, or the one before recorded.
const DefaultPipeline = 2

// DuplicateBound is the most recipients a crash, or a database away for
// longer than the lease, can make the next claim send to again on a
// platform without idempotency keys (Telegram): for each batch in hand,
// what it had not recorded.
func DuplicateBound(senders, pipeline int) int { return pipeline * (2*flushSize + senders) }

// send delivers a batch: VK in calls of up to 100 peers, others one by one,
// each platform with its own senders; every outcome goes to out.
func (e *Engine) send(ctx context.Context, batch []storage.Delivery, h *hold, out chan<- storage.DeliveryResult) {
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
				e.sendBulk(ctx, p, sender, bulk, rows, h, out)
			}()
			continue
		}
		jobs := make(chan storage.Delivery)
		for range min(e.cfg.Senders, len(rows)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range jobs {
					out <- e.sendOne(ctx, p, sender, d, h)
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

// sendOne sends one delivery, with its broadcast's file if it has one.
func (e *Engine) sendOne(ctx context.Context, p bot.Platform, sender bot.Sender, d storage.Delivery, h *hold) storage.DeliveryResult {
	b, err := e.broadcast(context.WithoutCancel(ctx), d.BroadcastID)
	if err != nil {
		return e.retry(d, err, time.Second)
	}
	if b.FileID == 0 {
		res, _ := e.deliver(ctx, p, sender, d, h, nil, nil)
		return res
	}
	att, res, done := e.fileFor(ctx, p, sender, b, d, h)
	if done {
		return res
	}
	res, _ = e.deliver(ctx, p, sender, d, h, &att, nil)
	return res
}

// deliver sends one delivery after its turn under the limits, unless the
// engine is stopping or the row was taken over: with the file att names,
// or with up uploaded, whose reference on the platform it returns (also
// when the send failed after the upload). A send once started is not cut
// short by ctx: whether it arrived would be unknown.
func (e *Engine) deliver(ctx context.Context, p bot.Platform, sender bot.Sender, d storage.Delivery, h *hold, att *bot.Attachment, up *bot.Upload) (
	storage.DeliveryResult, string) {
	if err := e.pace(ctx, p, d); err != nil {
		if ctx.Err() != nil {
			return e.release(d), ""
		}
		return e.retry(d, err, time.Second), ""
	}
	if ctx.Err() != nil || h.taken(d.ID) {
		return e.release(d), ""
	}
	ctx = context.WithoutCancel(ctx)
	b, err := e.broadcast(ctx, d.BroadcastID)
	if err != nil {
		return e.retry(d, err, time.Second), ""
	}
	if b.Status == storage.BroadcastCancelled {
		return e.retry(d, errCancelled, 0), "" // the store cancels a retry of a cancelled broadcast
	}
	m := e.compose(ctx, b, d)
	m.ChatID, m.Key, m.Upload = d.ChatID, deliveryKey(b.ID), up
	// A file and a text too long for its caption are two messages on
	// Telegram; an upload is three calls on VK: each takes its turn.
	m.Pace = func(ctx context.Context) error { return e.pace(ctx, p, d) }
	if att != nil {
		// The file leads, so that the text is its caption where it fits.
		m.Attachments = append([]bot.Attachment{*att}, m.Attachments...)
	}
	sent, err := sender.Send(ctx, m)
	if err != nil {
		return e.outcome(ctx, p, d, err), sent.Uploaded
	}
	return storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: sent.MessageID}, sent.Uploaded
}

// sendBulk sends VK rows of one broadcast and the same message in calls of
// up to MaxBulk peers: 100 recipients for one of the 20 calls a second. A
// broadcast's file whose reference on the platform is not known yet goes
// with a row sent alone, which uploads it (fileFor).
func (e *Engine) sendBulk(ctx context.Context, p bot.Platform, sender bot.Sender, bulk bot.BulkSender, rows []storage.Delivery, h *hold,
	out chan<- storage.DeliveryResult) {
	type group struct {
		b    storage.Broadcast
		m    bot.Message
		rows []storage.Delivery
	}
	// Sends and what they read are not cut short by ctx; see sendOne.
	send := context.WithoutCancel(ctx)
	var groups []*group
	byKey := map[string]*group{}
	for _, d := range rows {
		b, err := e.broadcast(send, d.BroadcastID)
		if err != nil {
			out <- e.retry(d, err, time.Second)
			continue
		}
		m := e.compose(send, b, d)
		if b.FileID != 0 {
			att, res, done := e.fileFor(ctx, p, sender, b, d, h)
			if done {
				out <- res
				continue
			}
			m.Attachments = append([]bot.Attachment{att}, m.Attachments...)
		}
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
	// The calls go side by side, each waiting for its own slot, so that the
	// next call is already waiting when one is late or slow to return.
	type call struct {
		g    *group
		rows []storage.Delivery
	}
	var all []call
	for _, g := range groups {
		for start := 0; start < len(g.rows); start += bulk.MaxBulk() {
			all = append(all, call{g, g.rows[start:min(len(g.rows), start+bulk.MaxBulk())]})
		}
	}
	calls := make(chan call)
	go func() {
		defer close(calls)
		for _, c := range all {
			calls <- c
		}
	}()
	var wg sync.WaitGroup
	for range min(e.cfg.Senders, len(all)) {
		wg.Go(func() {
			for c := range calls {
				e.sendCall(ctx, send, p, bulk, c.g.b, c.g.m, c.rows, h, out)
			}
		})
	}
	wg.Wait()
}

// sendCall sends one VK call of bulk: the message m of broadcast b to the
// chats of chunk, after its turn under the limits.
func (e *Engine) sendCall(ctx, send context.Context, p bot.Platform, bulk bot.BulkSender, b storage.Broadcast, m bot.Message,
	chunk []storage.Delivery, h *hold, out chan<- storage.DeliveryResult) {
	err := e.pace(ctx, p, storage.Delivery{})
	if ctx.Err() != nil {
		for _, d := range chunk {
			out <- e.release(d)
		}
		return
	}
	if err == nil {
		if now, berr := e.broadcast(send, b.ID); berr == nil && now.Status == storage.BroadcastCancelled {
			err = errCancelled
		}
	}
	if err != nil {
		for _, d := range chunk {
			out <- e.retry(d, err, 0)
		}
		return
	}
	chunk = slices.DeleteFunc(slices.Clone(chunk), func(d storage.Delivery) bool { return h.taken(d.ID) })
	if len(chunk) == 0 {
		return
	}
	chats := make([]string, len(chunk))
	for j, d := range chunk {
		chats[j] = d.ChatID
	}
	m.Key = deliveryKey(b.ID)
	res, err := bulk.SendBulk(send, chats, m)
	for j, d := range chunk {
		switch {
		case err != nil:
			out <- e.outcome(send, p, d, err)
		case j < len(res) && res[j].Err != nil:
			out <- e.outcome(send, p, d, res[j].Err)
		case j < len(res):
			out <- storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: res[j].MessageID}
		default:
			out <- e.retry(d, errors.New("no result for peer"), time.Second)
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

// The bulk's pacing leaves room in each window of a limit for what moves a
// call off its slot: a sender may start up to its catch-up after its slot
// (a later one gives the slot up, see storage.Rate.CatchUp), and the
// request reaches the platform, which counts on its own clock in sliding
// windows, up to requestJitter later still. The catch-up is bulkCatchUp,
// or a quarter of an interval less the jitter when that is more: at low
// rates a slot given up costs a whole second or more, and a loaded machine
// that wakes every sender more than 6 ms late would never send.
const (
	bulkCatchUp   = 6 * time.Millisecond
	requestJitter = 9 * time.Millisecond
)

// underCap paces the bulk on an absolute schedule of r.PerPeriod slots per
// r.Period stretched by the room above, one call per slot: any window of
// r.Period then holds at most r.PerPeriod calls however they are moved
// within that room. A limit of 20 or more per second is used to 98.5 %;
// one per second to 80 %.
func underCap(r storage.Rate) storage.Rate {
	catchUp := max(bulkCatchUp, r.Period/time.Duration(r.PerPeriod)/4-requestJitter)
	r.Period += catchUp + requestJitter
	r.BulkBurst = 1
	r.CatchUp = catchUp
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

// release gives back a delivery not sent, due at once and with the error
// it had: stopping is not the delivery's failure.
func (e *Engine) release(d storage.Delivery) storage.DeliveryResult {
	return storage.DeliveryResult{ID: d.ID, Status: storage.DeliveryQueued, Error: d.Error, NextAt: e.clock()}
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
	e.files.forget(id)
}
