package redis_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/storagetest"
)

func TestClient(t *testing.T) {
	t.Parallel()
	storagetest.RunState(t, func(t *testing.T) storage.State {
		url, prefix := storagetest.RedisURL(t)
		c, err := redis.Open(t.Context(), url, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		})
		return c
	})
}

func TestMemory(t *testing.T) {
	t.Parallel()
	storagetest.RunState(t, func(t *testing.T) storage.State { return redis.NewMemory(nil) })
}

// Two clients with different prefixes on one Redis do not see each other.
func TestClientPrefixIsolates(t *testing.T) {
	t.Parallel()
	url, prefix := storagetest.RedisURL(t)
	a, err := redis.Open(t.Context(), url, prefix+"a:")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := redis.Open(t.Context(), url, prefix+"b:")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if r, err := a.Claim(t.Context(), "k", time.Minute); err != nil || r != storage.ClaimNew {
		t.Fatalf("a: %v, %v", r, err)
	}
	if r, err := b.Claim(t.Context(), "k", time.Minute); err != nil || r != storage.ClaimNew {
		t.Fatalf("b sees a's claim: %v, %v", r, err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections.
	if _, err := redis.Open(ctx, "redis://127.0.0.1:1/0", "x:"); err == nil {
		t.Fatal("Open of an unreachable Redis succeeded")
	}
	if _, err := redis.Open(ctx, "http://nope", "x:"); err == nil {
		t.Fatal("Open of a non-redis URL succeeded")
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryHonoursItsClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := &fakeClock{now: storagetest.T0}
	m := redis.NewMemory(clock.Now)

	if r, _ := m.Claim(ctx, "u", time.Hour); r != storage.ClaimNew {
		t.Fatalf("first claim %v", r)
	}
	if err := m.Save(ctx, "v", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(ctx, "forever", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	unlock, err := m.Lock(ctx, "l", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Hour - time.Nanosecond)
	if r, _ := m.Claim(ctx, "u", time.Hour); r != storage.ClaimBusy {
		t.Errorf("claim before its ttl: %v", r)
	}
	if _, ok, _ := m.Load(ctx, "v"); !ok {
		t.Error("value gone before its ttl")
	}

	clock.Advance(time.Nanosecond)
	if r, _ := m.Claim(ctx, "u", time.Hour); r != storage.ClaimNew {
		t.Errorf("claim after its ttl: %v", r)
	}
	if _, ok, _ := m.Load(ctx, "v"); ok {
		t.Error("value still there after its ttl")
	}
	if _, ok, _ := m.Load(ctx, "forever"); !ok {
		t.Error("a value without ttl expired")
	}
	next, err := m.Lock(ctx, "l", time.Hour)
	if err != nil {
		t.Fatalf("lock after the holder's ttl: %v", err)
	}
	if err := unlock(ctx); !errors.Is(err, redis.ErrLockLost) {
		t.Errorf("stale unlock: %v, want ErrLockLost", err)
	}
	if err := next(ctx); err != nil {
		t.Error(err)
	}
}

func TestLockNeedsTTL(t *testing.T) {
	t.Parallel()
	if _, err := redis.NewMemory(nil).Lock(t.Context(), "l", 0); err == nil {
		t.Error("Lock without ttl succeeded")
	}
}

func TestClientLimiter(t *testing.T) {
	t.Parallel()
	storagetest.RunLimiter(t, func(t *testing.T) storage.RateLimiter {
		url, prefix := storagetest.RedisURL(t)
		c, err := redis.Open(t.Context(), url, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		})
		return c
	})
}

func TestMemoryLimiter(t *testing.T) {
	t.Parallel()
	storagetest.RunLimiter(t, func(t *testing.T) storage.RateLimiter { return redis.NewMemory(nil) })
}

// Two replicas on one Redis share a key's rate.
func TestClientLimiterShared(t *testing.T) {
	t.Parallel()
	url, prefix := storagetest.RedisURL(t)
	a, err := redis.Open(t.Context(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := redis.Open(t.Context(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := storage.Rate{PerPeriod: 1, Period: time.Minute, Burst: 1}
	if err := a.Wait(t.Context(), "bot", r, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, "bot", r, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the second replica was let through: %v", err)
	}
}

// The Memory's GCRA counts on its clock: with the clock still, a spent key
// stays spent; moved by one interval, it lets one call through.
func TestMemoryRateHonoursItsClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := &fakeClock{now: storagetest.T0}
	m := redis.NewMemory(clock.Now)
	r := storage.Rate{PerPeriod: 10, Period: time.Second, Burst: 3}
	for range r.Burst {
		if err := m.Wait(ctx, "k", r, false); err != nil {
			t.Fatal(err)
		}
	}
	spent := func() bool {
		ok, _, err := m.Allow(ctx, "k", r)
		if err != nil {
			t.Fatal(err)
		}
		return !ok
	}
	if !spent() {
		t.Fatal("a call beyond the burst went through with the clock still")
	}
	clock.Advance(100 * time.Millisecond)
	if spent() {
		t.Fatal("no call went through one interval later")
	}
	if !spent() {
		t.Fatal("two calls went through in one interval")
	}
}

// A snapshot shows every live key under its namespace and nothing expired.
func TestMemorySnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := &fakeClock{now: storagetest.T0}
	m := redis.NewMemory(clock.Now)
	if _, err := m.Claim(ctx, "update:1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(ctx, "conv:telegram:7", []byte(`{"step":"name"}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock(ctx, "chat:telegram:7", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(ctx, "telegram:chat:7", storage.Rate{PerPeriod: 1, Period: time.Second, Burst: 1}, true); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"claim:update:1":        "busy",
		"value:conv:telegram:7": `{"step":"name"}`,
		"rate:telegram:chat:7":  storagetest.T0.Add(time.Second).Format(time.RFC3339Nano),
	}
	got := m.Snapshot()
	if lock := got["lock:chat:telegram:7"]; lock == "" {
		t.Errorf("snapshot %v has no lock", got)
	}
	delete(got, "lock:chat:telegram:7")
	if !maps.Equal(got, want) {
		t.Errorf("snapshot %v, want %v and the lock", got, want)
	}

	// The lock and the rate are gone a second later, the rest an hour later.
	clock.Advance(time.Second)
	delete(want, "rate:telegram:chat:7")
	if got := m.Snapshot(); !maps.Equal(got, want) {
		t.Errorf("a second later %v, want %v", got, want)
	}
	clock.Advance(time.Hour)
	if got := m.Snapshot(); len(got) != 0 {
		t.Errorf("an hour later %v, want nothing", got)
	}
}
