package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// RunLimiter runs the conformance suite for storage.RateLimiter on the real
// clock; open returns a fresh limiter for each subtest.
func RunLimiter(t *testing.T, open func(t *testing.T) storage.RateLimiter) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, l storage.RateLimiter)
	}{
		{"NeverExceeded", testRateNeverExceeded},
		{"BurstIsInteractiveOnly", testBurstIsInteractiveOnly},
		{"InteractiveFirst", testInteractiveFirst},
		{"WaitEndsWithContext", testRateWaitEndsWithContext},
		{"KeysIndependent", testRateKeysIndependent},
		{"AllowRefusesBeyondBurst", testAllowRefusesBeyondBurst},
		{"CatchUpKeepsTheSchedule", testCatchUpKeepsTheSchedule},
		{"InvalidRate", func(t *testing.T, ctx context.Context, l storage.RateLimiter) {
			for _, r := range []storage.Rate{{Period: time.Second}, {PerPeriod: 1}, {PerPeriod: -1, Period: time.Second}} {
				if err := l.Wait(ctx, "k", r, false); err == nil {
					t.Errorf("Wait under %+v succeeded", r)
				}
				if _, _, err := l.Allow(ctx, "k", r); err == nil {
					t.Errorf("Allow under %+v succeeded", r)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, t.Context(), open(t))
		})
	}
}

func wait(t *testing.T, ctx context.Context, l storage.RateLimiter, key string, r storage.Rate, bulk bool) time.Duration {
	t.Helper()
	start := time.Now()
	if err := l.Wait(ctx, key, r, bulk); err != nil {
		t.Error(err)
	}
	return time.Since(start)
}

// Over a window, the calls let through never exceed the rate plus the burst,
// however many goroutines of either kind ask, and the rate is reached.
func testRateNeverExceeded(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	r := storage.Rate{PerPeriod: 50, Period: time.Second, Burst: 5}
	const window = time.Second
	deadline := time.Now().Add(window)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for {
				err := l.Wait(wctx, "send", r, i < 4) // four bulk goroutines, two interactive
				if err != nil || time.Now().After(deadline) {
					if err != nil && !errors.Is(err, context.DeadlineExceeded) {
						t.Error(err)
					}
					return
				}
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	// GCRA lets through at most the burst at once plus one per interval.
	if n, most := int(passed.Load()), r.PerPeriod+r.Burst; n > most || n < r.PerPeriod*4/5 {
		t.Errorf("%d calls in %v under %d/s with a burst of %d; want %d to %d", n, window, r.PerPeriod, r.Burst, r.PerPeriod*4/5, most)
	}
}

// A fresh key lets the whole burst through at once for interactive calls,
// but bulk calls go one interval apart from the start.
func testBurstIsInteractiveOnly(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	r := storage.Rate{PerPeriod: 10, Period: time.Second, Burst: 5}
	start := time.Now()
	for range r.Burst {
		wait(t, ctx, l, "interactive", r, false)
	}
	if took := time.Since(start); took > 80*time.Millisecond {
		t.Errorf("a burst of %d interactive calls took %v, want no wait", r.Burst, took)
	}
	start = time.Now()
	for range 3 {
		wait(t, ctx, l, "bulk", r, true)
	}
	if took := time.Since(start); took < 180*time.Millisecond {
		t.Errorf("3 bulk calls at 10/s took %v, want at least 2 intervals", took)
	}
}

// schedulingSlack is how late a loaded machine may wake a waiter.
const schedulingSlack = 40 * time.Millisecond

// While bulk calls saturate a key, an interactive call goes first: at once
// while the burst has room, and never later than the slots bulk calls
// already hold, even when bulk calls pace on a slightly longer interval
// (as the engine's do) and the burst is small.
func testInteractiveFirst(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	tests := []struct {
		name      string
		burst     int
		bulkExtra time.Duration // added to the bulk calls' period
		within    int           // intervals an interactive call may wait
	}{
		{"burst has room", 4, 0, 1},
		{"burst of 2, bulk under the cap", 2, 15 * time.Millisecond, 2},
		{"burst of 1, bulk under the cap", 1, 15 * time.Millisecond, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := storage.Rate{PerPeriod: 20, Period: time.Second, Burst: tt.burst}
			bulkRate := r
			bulkRate.Period += tt.bulkExtra
			interval := r.Period / time.Duration(r.PerPeriod)
			key := fmt.Sprintf("send%d", i)
			bctx, stop := context.WithCancel(ctx)
			var (
				wg         sync.WaitGroup
				bulkCalls  atomic.Int64
				bulkWaited atomic.Int64
			)
			for range 8 {
				wg.Go(func() {
					for {
						start := time.Now()
						if err := l.Wait(bctx, key, bulkRate, true); err != nil {
							return
						}
						bulkWaited.Add(int64(time.Since(start)))
						bulkCalls.Add(1)
					}
				})
			}
			time.Sleep(300 * time.Millisecond) // let the bulk calls saturate the key
			var worst time.Duration
			for range 5 {
				// Bounded, so that a starved call fails the test rather than hang it.
				wctx, cancel := context.WithTimeout(ctx, time.Second)
				worst = max(worst, wait(t, wctx, l, key, r, false))
				cancel()
				time.Sleep(2 * interval)
			}
			stop()
			wg.Wait()
			calls := bulkCalls.Load()
			if calls == 0 {
				t.Fatal("no bulk call went through")
			}
			meanBulk := time.Duration(bulkWaited.Load() / calls)
			// A loaded machine (the race detector, the other packages'
			// tests) wakes a waiter late by some milliseconds: allowed on
			// top, still far from the bulk calls' queue of 8.
			limit := time.Duration(tt.within)*interval + schedulingSlack
			if worst >= limit || worst >= meanBulk || meanBulk < 2*interval {
				t.Errorf("interactive calls waited up to %v, bulk calls %v on average; want interactive under %v while bulk queue",
					worst, meanBulk, limit)
			}
		})
	}
}

func testRateWaitEndsWithContext(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	r := storage.Rate{PerPeriod: 1, Period: time.Minute, Burst: 1}
	wait(t, ctx, l, "slow", r, false)
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(wctx, "slow", r, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a spent key: %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("Wait returned %v after its context ended", took-50*time.Millisecond)
	}
}

func testRateKeysIndependent(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	r := storage.Rate{PerPeriod: 1, Period: time.Minute, Burst: 1}
	wait(t, ctx, l, "chat:1", r, true)
	if took := wait(t, ctx, l, "chat:2", r, true); took > 100*time.Millisecond {
		t.Errorf("a fresh key waited %v behind another", took)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(wctx, "chat:1", r, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a spent key let a call through: %v", err)
	}
}

// Allow lets the burst through at once, then refuses without waiting and
// says when to come back; the refusal takes nothing, and other keys are
// untouched. Shares the key space with Wait.
func testAllowRefusesBeyondBurst(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	r := storage.Rate{PerPeriod: 1, Period: time.Minute, Burst: 3}
	for i := range 3 {
		if ok, _, err := l.Allow(ctx, "ip:1", r); err != nil || !ok {
			t.Fatalf("call %d of the burst: %v, %v", i+1, ok, err)
		}
	}
	for range 2 {
		ok, retry, err := l.Allow(ctx, "ip:1", r)
		if err != nil || ok {
			t.Fatalf("a call beyond the burst: %v, %v", ok, err)
		}
		if retry <= 0 || retry > time.Minute {
			t.Errorf("retry after %v, want within the minute one call takes", retry)
		}
	}
	if ok, _, err := l.Allow(ctx, "ip:2", r); err != nil || !ok {
		t.Errorf("another key was refused: %v, %v", ok, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(wctx, "ip:1", r, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a key Allow spent: %v", err)
	}
}

// A bulk caller late by less than the catch-up takes the slot it missed, so
// the next slot stays where the schedule put it; one later than that starts
// the schedule afresh.
func testCatchUpKeepsTheSchedule(t *testing.T, ctx context.Context, l storage.RateLimiter) {
	r := storage.Rate{PerPeriod: 5, Period: time.Second, CatchUp: 150 * time.Millisecond} // a slot every 200 ms
	wait(t, ctx, l, "k", r, true)
	time.Sleep(300 * time.Millisecond) // the second slot was due 100 ms ago
	if took := wait(t, ctx, l, "k", r, true); took > 50*time.Millisecond {
		t.Fatalf("a caller 100 ms late waited %v, want its missed slot at once", took)
	}
	if took := wait(t, ctx, l, "k", r, true); took > 170*time.Millisecond {
		t.Errorf("the slot after a caught-up one came after %v, want it on the schedule, 100 ms on", took)
	}
	time.Sleep(600 * time.Millisecond) // the schedule is now 400 ms behind
	wait(t, ctx, l, "k", r, true)
	if took := wait(t, ctx, l, "k", r, true); took < 170*time.Millisecond {
		t.Errorf("after a gap beyond the catch-up the next call came %v on, want a whole interval", took)
	}
}
