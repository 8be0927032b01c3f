package broadcast_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/bot/vk"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// pgBroadcast is a Postgres store with members 1..n on one platform (the
// member's number is their account id) and a direct broadcast to all of
// them in private, ready to send.
type pgBroadcast struct {
	dsn string
	db  *sqlstore.DB
	id  int64
	n   int
}

func newPGBroadcast(t *testing.T, p storage.Platform, n int) pgBroadcast {
	t.Helper()
	ctx := context.Background()
	dsn := storagetest.PostgresDSN(t)
	db := openPG(t, dsn)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	union := storagetest.SeedPostgres(t, db, dsn, storagetest.BenchTree{Branches: 2, Primaries: 10, Members: n, OnVK: p == storage.VK})
	b, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: union.ID, Text: "Новость", Mode: storage.ModeDirect,
		Status: storage.BroadcastScheduled, Audience: storage.Audience{Private: true}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if built, err := db.BuildOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{union}, Subtree: true}, time.Now()); err != nil || built != n {
		t.Fatalf("outbox of %d rows, %v; want %d", built, err, n)
	}
	if _, err := db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastScheduled, storage.BroadcastSending, time.Now()); err != nil {
		t.Fatal(err)
	}
	return pgBroadcast{dsn: dsn, db: db, id: b.ID, n: n}
}

func openPG(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tally counts, per member, the messages an engine handed the platform,
// whatever the platform then did with them: VK drops a repeated random_id,
// so its own count cannot show that the engine sent twice.
type tally struct {
	mu     sync.Mutex
	sent   map[int]int
	total  int
	onSent func(total int) // called after each send with the running total
}

func newTally() *tally { return &tally{sent: map[int]int{}} }

func (t *tally) add(chats ...string) {
	t.mu.Lock()
	for _, c := range chats {
		id, _ := strconv.Atoi(c)
		t.sent[id]++
	}
	t.total += len(chats)
	total, hook := t.total, t.onSent
	t.mu.Unlock()
	if hook != nil {
		hook(total)
	}
}

func (t *tally) count(member int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent[member]
}

func (t *tally) sum() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// countedTelegram counts what the engine sends one by one.
type countedTelegram struct {
	*telegram.Adapter
	tally *tally
}

func (c countedTelegram) Send(ctx context.Context, m bot.Message) (bot.Sent, error) {
	s, err := c.Adapter.Send(ctx, m)
	if err == nil {
		c.tally.add(m.ChatID)
	}
	return s, err
}

// countedVK counts what the engine sends 100 at a time.
type countedVK struct {
	*vk.Adapter
	tally *tally
}

func (c countedVK) SendBulk(ctx context.Context, chats []string, m bot.Message) ([]bot.BulkResult, error) {
	res, err := c.Adapter.SendBulk(ctx, chats, m)
	if err == nil {
		for _, r := range res {
			if r.Err == nil {
				c.tally.add(r.ChatID)
			}
		}
	}
	return res, err
}

// fakePlatform is a fake server that knows members 1..n, and delivered
// tells how many messages reached a member there.
type fakePlatform struct {
	delivered func(member int) int
	newSender func(t *testing.T, tl *tally) bot.Sender
}

func newFakePlatform(t *testing.T, p storage.Platform, n int) fakePlatform {
	t.Helper()
	if p == storage.VK {
		f := platformtest.NewVK(t)
		ids := make([]int, n)
		for i := range ids {
			ids[i] = i + 1
		}
		f.Meet(ids...)
		return fakePlatform{delivered: f.SentCount, newSender: func(t *testing.T, tl *tally) bot.Sender {
			a, err := vk.New(context.Background(), vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL(), Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			return countedVK{Adapter: a, tally: tl}
		}}
	}
	f := platformtest.NewTelegram(t)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	f.Meet(ids...)
	return fakePlatform{delivered: func(m int) int { return f.SentCount(int64(m)) }, newSender: func(t *testing.T, tl *tally) bot.Sender {
		a, err := telegram.New(context.Background(), telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return countedTelegram{Adapter: a, tally: tl}
	}}
}

// watchedStore is a store whose writes of a batch (outcomes and leases)
// can be made to fail as if the database were away, and which counts the
// writes that failed, forced or not.
type watchedStore struct {
	*sqlstore.DB
	down    atomic.Bool
	refused atomic.Int64
	// lost counts rows a renewal found taken over by another worker.
	lost atomic.Int64
	// onFailure is called after each failed write with the count so far.
	onFailure func(n int64)
	// onClaim sees every batch claimed.
	onClaim func([]storage.Delivery)
	// retired makes every claim come back empty: the replica only
	// finishes what it holds.
	retired atomic.Bool
}

var errDown = errors.New("connection refused (the test took the database away)")

func (s *watchedStore) fail(err error) error {
	if err == nil && s.down.Load() {
		err = errDown
	}
	if err != nil {
		n := s.refused.Add(1)
		if s.onFailure != nil {
			s.onFailure(n)
		}
	}
	return err
}

func (s *watchedStore) ClaimDeliveries(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]storage.Delivery, error) {
	if s.retired.Load() {
		return nil, nil
	}
	ds, err := s.DB.ClaimDeliveries(ctx, worker, n, now, leaseUntil)
	if err == nil && s.onClaim != nil {
		s.onClaim(ds)
	}
	return ds, err
}

func (s *watchedStore) RenewDeliveries(ctx context.Context, worker string, ids []int64, leaseUntil time.Time) ([]int64, error) {
	if s.down.Load() {
		return nil, s.fail(nil)
	}
	kept, err := s.DB.RenewDeliveries(ctx, worker, ids, leaseUntil)
	if err != nil {
		return nil, s.fail(err)
	}
	s.lost.Add(int64(len(ids) - len(kept)))
	return kept, nil
}

func (s *watchedStore) CompleteDeliveries(ctx context.Context, worker string, results []storage.DeliveryResult, at time.Time) error {
	if s.down.Load() {
		return s.fail(nil)
	}
	return s.fail(s.DB.CompleteDeliveries(ctx, worker, results, at))
}

// started is an engine running until the test ends or stop is called.
type started struct {
	cancel  context.CancelFunc
	stopped chan struct{}
}

func start(t *testing.T, e *broadcast.Engine) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{cancel: cancel, stopped: make(chan struct{})}
	go func() {
		e.Run(ctx)
		close(s.stopped)
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *started) stop() {
	s.cancel()
	<-s.stopped
}

// whenFinished tells when broadcast id is done, whichever of engines
// finishes it; call it before the engines start.
func whenFinished(id int64, engines ...*broadcast.Engine) <-chan struct{} {
	done := make(chan struct{})
	var once sync.Once
	for _, e := range engines {
		e.OnFinish = func(_ context.Context, b storage.Broadcast) {
			if b.ID == id {
				once.Do(func() { close(done) })
			}
		}
	}
	return done
}

func waitFinished(t *testing.T, pb pgBroadcast, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatalf("broadcast not done after 90 s: %v", counts(t, pb.db, pb.id))
	}
}

// everyoneOnce checks that each member got the item exactly once from the
// engines and on the platform, and that the outbox recorded it.
func everyoneOnce(t *testing.T, pb pgBroadcast, f fakePlatform, tallies ...*tally) {
	t.Helper()
	twice := 0
	for m := 1; m <= pb.n; m++ {
		sent := 0
		for _, tl := range tallies {
			sent += tl.count(m)
		}
		if sent != 1 || f.delivered(m) != 1 {
			if twice++; twice <= 5 {
				t.Errorf("member %d: sent %d times, %d delivered; want once", m, sent, f.delivered(m))
			}
		}
	}
	if twice > 0 {
		t.Fatalf("%d of %d members were not sent the item exactly once", twice, pb.n)
	}
	if c := counts(t, pb.db, pb.id); c[storage.DeliverySent] != pb.n || len(c) != 1 {
		t.Fatalf("outbox after the broadcast: %v, want all %d sent", c, pb.n)
	}
}

var platforms = []storage.Platform{storage.Telegram, storage.VK}

// TestDatabaseCutMidSendSendsNobodyTwice takes PostgreSQL away for 3 s,
// through a proxy that drops its connections and refuses new ones, while a
// broadcast of 3,000 people is being sent, with a lease of 1 s: an engine
// that let go of outcomes it could not record would send those people again
// when the lease ends.
func TestDatabaseCutMidSendSendsNobodyTwice(t *testing.T) {
	t.Parallel()
	for _, p := range platforms {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			const n = 3000
			pb := newPGBroadcast(t, p, n)
			f := newFakePlatform(t, p, n)
			proxy := storagetest.NewPostgresProxy(t, pb.dsn)
			store := &watchedStore{DB: openPG(t, proxy.DSN())}
			tl := newTally()
			var cut sync.Once
			restored := make(chan struct{})
			tl.onSent = func(total int) {
				// A third in, and within a batch of 500.
				if total < n/3+150 {
					return
				}
				cut.Do(func() {
					proxy.Cut()
					go func() {
						time.Sleep(3 * time.Second)
						proxy.Restore()
						close(restored)
					}()
				})
			}
			e := broadcast.New(broadcast.Config{Lease: time.Second, Idle: 20 * time.Millisecond, Store: store, Platforms: map[bot.Platform]bot.Sender{bot.Platform(p): f.newSender(t, tl)}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
			done := whenFinished(pb.id, e)
			start(t, e)
			waitFinished(t, pb, done)
			<-restored
			if proxy.Dropped() == 0 || store.refused.Load() == 0 {
				t.Fatalf("the cut was not felt: %d connections dropped, %d writes failed", proxy.Dropped(), store.refused.Load())
			}
			everyoneOnce(t, pb, f, tl)
			t.Logf("%s: %d connections dropped, %d writes of outcomes or leases failed", p, proxy.Dropped(), store.refused.Load())
		})
	}
}

// TestEngineKeepsOutcomesTheDatabaseRefused fails every write of outcomes
// and leases 20 times in a row, a third into the broadcast, for longer than
// the lease: the engine keeps what it sent and records it when the
// database takes it again.
func TestEngineKeepsOutcomesTheDatabaseRefused(t *testing.T) {
	t.Parallel()
	for _, p := range platforms {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			const n, refusals = 1500, 20
			pb := newPGBroadcast(t, p, n)
			f := newFakePlatform(t, p, n)
			store := &watchedStore{DB: pb.db}
			store.onFailure = func(refused int64) {
				if refused >= refusals {
					store.down.Store(false)
				}
			}
			tl := newTally()
			var once sync.Once
			tl.onSent = func(total int) {
				if total >= n/3 {
					once.Do(func() { store.down.Store(true) })
				}
			}
			e := broadcast.New(broadcast.Config{Lease: 300 * time.Millisecond, Idle: 20 * time.Millisecond, Store: store, Platforms: map[bot.Platform]bot.Sender{bot.Platform(p): f.newSender(t, tl)}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
			done := whenFinished(pb.id, e)
			start(t, e)
			waitFinished(t, pb, done)
			if got := store.refused.Load(); got < refusals {
				t.Fatalf("%d writes refused, want %d", got, refusals)
			}
			everyoneOnce(t, pb, f, tl)
		})
	}
}

// tgRate paces the engines of a test at per people a second together.
func tgRate(per int) map[bot.Platform]storage.Rate {
	return map[bot.Platform]storage.Rate{bot.Telegram: {PerPeriod: per, Period: time.Second, Burst: per}}
}

// TestEngineHoldsItsLeaseWhileSending has one replica claim a batch that
// takes three times its lease to send, and another wait beside it: the
// first renews its lease, so the second never takes the rows over.
func TestEngineHoldsItsLeaseWhileSending(t *testing.T) {
	t.Parallel()
	const n = 300
	pb := newPGBroadcast(t, storage.Telegram, n)
	f := newFakePlatform(t, storage.Telegram, n)
	limiter := redis.NewMemory(nil)
	first, second := newTally(), newTally()
	firstSent := make(chan struct{})
	var once sync.Once
	first.onSent = func(int) { once.Do(func() { close(firstSent) }) }
	// Sending takes 6 s at 50/s, three leases of 2 s: the lease must be
	// renewed, and a renewal late by a second on a loaded machine still
	// holds it.
	a := broadcast.New(broadcast.Config{Batch: n, Lease: 2 * time.Second, Idle: 20 * time.Millisecond, Rates: tgRate(50), Store: pb.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, first)}, Limiter: limiter, Compose: compose, Logger: quiet})
	b := broadcast.New(broadcast.Config{Lease: 2 * time.Second, Idle: 20 * time.Millisecond, Rates: tgRate(50), Store: pb.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, second)}, Limiter: limiter, Compose: compose, Logger: quiet})
	done := whenFinished(pb.id, a, b)
	start(t, a)
	<-firstSent
	start(t, b)
	waitFinished(t, pb, done)
	everyoneOnce(t, pb, f, first, second)
	if second.sum() != 0 {
		t.Fatalf("the second replica sent %d of the rows the first held", second.sum())
	}
}

// TestEngineLeavesRowsTakenOverWhileTheDatabaseWasAway keeps the database
// away from one replica until its lease ran out and another replica took its
// rows over: when the database comes back, the first learns that from the
// renewal and sends none of the rows it had not sent yet, so only what it
// had sent and not recorded goes twice, as after a crash.
func TestEngineLeavesRowsTakenOverWhileTheDatabaseWasAway(t *testing.T) {
	t.Parallel()
	const n, senders = 600, 2
	pb := newPGBroadcast(t, storage.Telegram, n)
	f := newFakePlatform(t, storage.Telegram, n)
	limiter := redis.NewMemory(nil)
	first, second := newTally(), newTally()
	cut := &watchedStore{DB: pb.db}
	var down sync.Once
	first.onSent = func(total int) {
		if total >= 50 {
			down.Do(func() { cut.down.Store(true) })
		}
	}
	refused := make(chan struct{})
	var refusedOnce sync.Once
	cut.onFailure = func(int64) { refusedOnce.Do(func() { close(refused) }) }
	other := &watchedStore{DB: pb.db}
	var takenOver atomic.Int64
	other.onClaim = func(ds []storage.Delivery) {
		for _, d := range ds {
			if d.Attempts > 1 {
				takenOver.Add(1)
				// The first replica claims nothing more: with leases of
				// 500 ms on a loaded machine, its later claims could be
				// taken over too and blur what this test counts.
				cut.retired.Store(true)
				cut.down.Store(false) // the database comes back once the rows were taken
			}
		}
	}
	a := broadcast.New(broadcast.Config{Batch: n, Senders: senders, Lease: 500 * time.Millisecond, Idle: 20 * time.Millisecond, Rates: tgRate(200), Store: cut, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, first)}, Limiter: limiter, Compose: compose, Logger: quiet})
	// The second replica's lease is long: a renewal late on a loaded
	// machine must not hand its rows back to the first one.
	b := broadcast.New(broadcast.Config{Lease: time.Minute, Idle: 20 * time.Millisecond, Rates: tgRate(200), Store: other, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, second)}, Limiter: limiter, Compose: compose, Logger: quiet})
	done := whenFinished(pb.id, a, b)
	start(t, a)
	<-refused
	start(t, b)
	waitFinished(t, pb, done)

	if takenOver.Load() == 0 || cut.lost.Load() == 0 {
		t.Fatalf("%d rows taken over, %d found lost by the first replica: the scenario did not happen", takenOver.Load(), cut.lost.Load())
	}
	twice, bound := 0, broadcast.DuplicateBound(senders, broadcast.DefaultPipeline)
	for m := 1; m <= n; m++ {
		got := first.count(m) + second.count(m)
		if got == 0 || got > 2 || f.delivered(m) != got {
			t.Fatalf("member %d: sent %d times, %d delivered", m, got, f.delivered(m))
		}
		twice += got - 1
	}
	t.Logf("%d rows taken over, %d sent twice (bound %d)", takenOver.Load(), twice, bound)
	if twice > bound {
		t.Fatalf("%d members got the item twice, more than the %d the first replica can hold unrecorded", twice, bound)
	}
	if c := counts(t, pb.db, pb.id); c[storage.DeliverySent] != n || len(c) != 1 {
		t.Fatalf("outbox after the broadcast: %v, want all %d sent", c, n)
	}
}

// TestStoppingEngineRecordsWhatItSentAndGivesBackTheRest stops a replica
// midway through a batch: it sends nothing more, records what it sent and
// gives back the rest at once, for another replica to finish.
func TestStoppingEngineRecordsWhatItSentAndGivesBackTheRest(t *testing.T) {
	t.Parallel()
	const n = 300
	pb := newPGBroadcast(t, storage.Telegram, n)
	f := newFakePlatform(t, storage.Telegram, n)
	first, second := newTally(), newTally()
	halfway := make(chan struct{})
	var once sync.Once
	first.onSent = func(total int) {
		if total >= 50 {
			once.Do(func() { close(halfway) })
		}
	}
	a := broadcast.New(broadcast.Config{Batch: n, Lease: time.Hour, Idle: 20 * time.Millisecond, Rates: tgRate(100), Store: pb.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, first)}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
	run := start(t, a)
	<-halfway
	run.stop()

	c := counts(t, pb.db, pb.id)
	if c[storage.DeliverySent] != first.sum() || c[storage.DeliveryQueued] != n-first.sum() || len(c) != 2 {
		t.Fatalf("outbox after a stop with %d sent: %v; want them sent and the rest queued", first.sum(), c)
	}
	// The rest is due at once, though the lease was an hour.
	b := broadcast.New(broadcast.Config{Idle: 20 * time.Millisecond, Store: pb.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, second)}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
	done := whenFinished(pb.id, b)
	start(t, b)
	waitFinished(t, pb, done)
	everyoneOnce(t, pb, f, first, second)
}

// TestStoppingEngineGivesUpOnAnAbsentDatabase stops a replica while the
// database refuses its writes: it returns after Drain instead of waiting
// for the database, and the outcomes it could not record are sent again by
// the next replica after the lease, as after a crash.
func TestStoppingEngineGivesUpOnAnAbsentDatabase(t *testing.T) {
	t.Parallel()
	const n, senders = 300, 2
	pb := newPGBroadcast(t, storage.Telegram, n)
	f := newFakePlatform(t, storage.Telegram, n)
	first, second := newTally(), newTally()
	store := &watchedStore{DB: pb.db}
	refused := make(chan struct{})
	var once, down sync.Once
	store.onFailure = func(int64) { once.Do(func() { close(refused) }) }
	first.onSent = func(total int) {
		if total >= 50 {
			down.Do(func() { store.down.Store(true) })
		}
	}
	a := broadcast.New(broadcast.Config{Batch: n, Senders: senders, Lease: 500 * time.Millisecond, Drain: 300 * time.Millisecond,
		Idle: 20 * time.Millisecond, Rates: tgRate(100), Store: store, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, first)}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
	run := start(t, a)
	<-refused
	run.cancel()
	select {
	case <-run.stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("a stopping engine still waits for the database after 30 s")
	}

	b := broadcast.New(broadcast.Config{Lease: 500 * time.Millisecond, Idle: 20 * time.Millisecond, Store: pb.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: f.newSender(t, second)}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
	done := whenFinished(pb.id, b)
	start(t, b)
	waitFinished(t, pb, done)
	twice, bound := 0, broadcast.DuplicateBound(senders, broadcast.DefaultPipeline)
	for m := 1; m <= n; m++ {
		got := first.count(m) + second.count(m)
		if got == 0 || got > 2 {
			t.Fatalf("member %d: sent %d times", m, got)
		}
		twice += got - 1
	}
	if twice > bound {
		t.Fatalf("%d members got the item twice, more than the bound %d", twice, bound)
	}
	if c := counts(t, pb.db, pb.id); c[storage.DeliverySent] != n || len(c) != 1 {
		t.Fatalf("outbox after the broadcast: %v, want all %d sent", c, n)
	}
}
