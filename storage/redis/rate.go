package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/unionhub/unionhub/storage"
)

// rateNS namespaces the limiters' keys.
const rateNS = "rate:"

// tolerance is how many calls may go at once under r: the whole burst for
// an interactive call, one for a bulk call. Both kinds share one key, so a
// bulk call waits while interactive ones use the burst, and the rate
// itself is never exceeded by more than the burst.
func tolerance(r storage.Rate, bulk bool) int {
	if bulk {
		return max(1, r.BulkBurst)
	}
	if r.Burst < 1 {
		return 1
	}
	return r.Burst
}

func checkRate(r storage.Rate) error {
	if r.PerPeriod <= 0 || r.Period <= 0 {
		return fmt.Errorf("rate %d per %v is not positive", r.PerPeriod, r.Period)
	}
	return nil
}

// Wait blocks until one call under r on key may go, or ctx ends. It asks
// Redis (GCRA on Redis' own clock, shared by every replica) and sleeps for
// as long as Redis says before asking again.
func (c *Client) Wait(ctx context.Context, key string, r storage.Rate, bulk bool) error {
	if err := checkRate(r); err != nil {
		return fmt.Errorf("wait for %s: %w", key, err)
	}
	limit := redis_rate.Limit{Rate: r.PerPeriod, Period: r.Period, Burst: tolerance(r, bulk)}
	full := c.prefix + rateNS + key
	for {
		res, err := c.limiter.AllowN(ctx, full, limit, 1)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", key, err)
		}
		if res.Allowed > 0 {
			return nil
		}
		if err := sleep(ctx, res.RetryAfter); err != nil {
			return fmt.Errorf("wait for %s: %w", key, err)
		}
	}
}

// Wait blocks until one call under r on key may go, or ctx ends: the same
// GCRA as the Client's, on the Memory's clock, sleeping in real time.
func (m *Memory) Wait(ctx context.Context, key string, r storage.Rate, bulk bool) error {
	if err := checkRate(r); err != nil {
		return fmt.Errorf("wait for %s: %w", key, err)
	}
	interval := max(r.Period/time.Duration(r.PerPeriod), 1)
	// A call may go while the theoretical arrival time is at most this far ahead.
	ahead := interval * time.Duration(tolerance(r, bulk)-1)
	for {
		wait := m.allow(rateNS+key, interval, ahead)
		if wait <= 0 {
			return nil
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("wait for %s: %w", key, err)
		}
	}
}

// allow takes a slot on key and returns 0, or returns how long to wait.
func (m *Memory) allow(key string, interval, ahead time.Duration) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	tat := m.rates[key]
	if tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - ahead; wait > 0 {
		return wait
	}
	m.rates[key] = tat.Add(interval)
	if m.writes++; m.writes%sweepEvery == 0 {
		for k, t := range m.rates {
			if !t.After(now) {
				delete(m.rates, k)
			}
		}
	}
	return 0
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
