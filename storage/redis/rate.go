package redis

import (
	"context"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

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

// gcraScript takes a slot of a GCRA schedule on Redis' own clock, shared by
// every replica. ARGV, in microseconds: the interval between slots; how far
// ahead of now the next slot may be taken; how long before its slot a
// taken call may go (the burst); how far behind now the schedule may lag
// and its slots still be taken. It returns {1, how long until the call may
// go} for a slot taken, or {0, how long to wait before asking again}.
var gcraScript = goredis.NewScript(`
local interval = tonumber(ARGV[1])
local ahead = tonumber(ARGV[2])
local lead = tonumber(ARGV[3])
local catchup = tonumber(ARGV[4])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call("GET", KEYS[1]))
if tat == nil or tat < now - catchup then
  tat = now
end
if tat - now > ahead then
  return {0, tat - now - ahead}
end
local next = tat + interval
redis.call("SET", KEYS[1], string.format("%d", next), "PX", math.floor((next - now) / 1000) + 1000)
return {1, math.max(0, tat - now - lead)}
`)

// callKind is how a call takes its slot.
type callKind int

const (
	// callNow goes at once within the burst or not at all (Allow).
	callNow callKind = iota
	// callReply waits for its slot, ahead of any bulk call.
	callReply
	// callBulk waits for its slot, one at a time.
	callBulk
)

func kindOf(bulk bool) callKind {
	if bulk {
		return callBulk
	}
	return callReply
}

// schedule is r's GCRA for a kind of call: the interval between slots, how
// far ahead of now a slot may be taken, and how long before its slot a
// call may go. A call that may not wait goes at once within its burst. A
// bulk call takes its slot up to an interval ahead and then waits for it:
// the next slot is always taken before it is due, so a caller that wakes
// late does not leave it unused. A reply may take a slot further ahead than
// bulk calls ever reach (their slightly longer interval, see the engine's
// underCap, included), so it never starves behind them: it waits at most
// for the slots bulk calls already hold.
func schedule(r storage.Rate, kind callKind) (interval, ahead, lead time.Duration) {
	interval = max(r.Period/time.Duration(r.PerPeriod), time.Microsecond)
	switch kind {
	case callBulk:
		lead = interval * time.Duration(tolerance(r, true)-1)
		return interval, lead + interval, lead
	case callReply:
		lead = interval * time.Duration(tolerance(r, false)-1)
		return interval, lead + 3*interval, lead
	default:
		lead = interval * time.Duration(tolerance(r, false)-1)
		return interval, lead, lead
	}
}

// take asks Redis for a slot under r on key: taken, the call goes after
// wait; otherwise it asks again after wait.
func (c *Client) take(ctx context.Context, key string, r storage.Rate, kind callKind) (bool, time.Duration, error) {
	interval, ahead, lead := schedule(r, kind)
	res, err := gcraScript.Run(ctx, c.rdb, []string{c.prefix + rateNS + key},
		interval.Microseconds(), ahead.Microseconds(), lead.Microseconds(), r.CatchUp.Microseconds()).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate script answered %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}

// Wait blocks until one call under r on key may go, or ctx ends. It asks
// Redis and sleeps for as long as Redis says; of this process's bulk calls
// on key, one at a time asks (see turns).
func (c *Client) Wait(ctx context.Context, key string, r storage.Rate, bulk bool) error {
	if err := checkRate(r); err != nil {
		return fmt.Errorf("wait for %s: %w", key, err)
	}
	err := waitTurn(ctx, r, time.Now, c.turns.queue(key, bulk), func() (bool, time.Duration, error) { return c.take(ctx, key, r, kindOf(bulk)) })
	if err != nil {
		return fmt.Errorf("wait for %s: %w", key, err)
	}
	return nil
}

// waitTurn takes a slot with take, sleeping as told, in its turn among the
// callers of queue. A slot slept through by more than r.CatchUp (on now) is
// given up and another taken: a call that late would crowd the next ones
// into the platform's window.
func waitTurn(ctx context.Context, r storage.Rate, now func() time.Time, queue func(context.Context) (func(), error),
	take func() (bool, time.Duration, error)) error {
	for {
		wait, err := takeInTurn(ctx, queue, take)
		if err != nil {
			return err
		}
		if wait <= 0 {
			return nil
		}
		due := now().Add(wait)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		if r.CatchUp <= 0 || now().Sub(due) <= r.CatchUp {
			return nil
		}
	}
}

// takeInTurn waits for its turn, then asks take until it grants a slot and
// says how long until the slot is due. The turn passes on once the slot is
// taken, not once it is due: the next caller may take the next slot while
// this one waits for its own.
func takeInTurn(ctx context.Context, queue func(context.Context) (func(), error), take func() (bool, time.Duration, error)) (time.Duration, error) {
	done, err := queue(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	for {
		ok, wait, err := take()
		if err != nil || ok {
			return wait, err
		}
		if err := sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}

// turns queues a process's bulk calls on each key, so that one at a time
// asks for a slot. Bulk calls take the slots one by one in any case (a
// burst of one); without the queue every waiting sender asked again at
// every slot, and 64 senders on a schedule of 1,000 a second asked Redis
// 64,000 times a second, which cost more than the sends and made them
// late. Replies do not queue: they take slots ahead of the bulk.
type turns struct {
	mu    sync.Mutex
	byKey map[string]*turn
}

type turn struct {
	token   chan struct{} // full while a caller asks
	waiting int
}

// queue returns how a call on key waits for its turn: at once unless bulk.
func (t *turns) queue(key string, bulk bool) func(context.Context) (func(), error) {
	if !bulk {
		return func(context.Context) (func(), error) { return func() {}, nil }
	}
	return func(ctx context.Context) (func(), error) {
		t.mu.Lock()
		if t.byKey == nil {
			t.byKey = map[string]*turn{}
		}
		tn := t.byKey[key]
		if tn == nil {
			tn = &turn{token: make(chan struct{}, 1)}
			t.byKey[key] = tn
		}
		tn.waiting++
		t.mu.Unlock()
		leave := func() {
			t.mu.Lock()
			if tn.waiting--; tn.waiting == 0 {
				delete(t.byKey, key)
			}
			t.mu.Unlock()
		}
		select {
		case tn.token <- struct{}{}:
			return func() {
				<-tn.token
				leave()
			}, nil
		case <-ctx.Done():
			leave()
			return nil, ctx.Err()
		}
	}
}

// Allow takes one interactive call under r on key if Redis lets it go now;
// otherwise it says how long until one may.
func (c *Client) Allow(ctx context.Context, key string, r storage.Rate) (bool, time.Duration, error) {
	if err := checkRate(r); err != nil {
		return false, 0, fmt.Errorf("allow %s: %w", key, err)
	}
	ok, wait, err := c.take(ctx, key, r, callNow)
	if err != nil {
		return false, 0, fmt.Errorf("allow %s: %w", key, err)
	}
	if ok {
		return true, 0, nil
	}
	return false, wait, nil
}

// Allow takes one interactive call under r on key if it may go now on the
// Memory's clock; otherwise it says how long until one may.
func (m *Memory) Allow(_ context.Context, key string, r storage.Rate) (bool, time.Duration, error) {
	if err := checkRate(r); err != nil {
		return false, 0, fmt.Errorf("allow %s: %w", key, err)
	}
	if ok, wait := m.take(rateNS+key, r, callNow); !ok {
		return false, wait, nil
	}
	return true, 0, nil
}

// Wait blocks until one call under r on key may go, or ctx ends: the same
// GCRA as the Client's, on the Memory's clock, sleeping in real time.
func (m *Memory) Wait(ctx context.Context, key string, r storage.Rate, bulk bool) error {
	if err := checkRate(r); err != nil {
		return fmt.Errorf("wait for %s: %w", key, err)
	}
	err := waitTurn(ctx, r, m.now, m.turns.queue(key, bulk), func() (bool, time.Duration, error) {
		ok, wait := m.take(rateNS+key, r, kindOf(bulk))
		return ok, wait, nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s: %w", key, err)
	}
	return nil
}

// take is gcraScript on the Memory's clock.
func (m *Memory) take(key string, r storage.Rate, kind callKind) (bool, time.Duration) {
	interval, ahead, lead := schedule(r, kind)
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	tat := m.rates[key]
	if tat.Before(now.Add(-r.CatchUp)) {
		tat = now
	}
	if wait := tat.Sub(now) - ahead; wait > 0 {
		return false, wait
	}
	m.rates[key] = tat.Add(interval)
	if m.writes++; m.writes%sweepEvery == 0 {
		for k, t := range m.rates {
			if !t.After(now) {
				delete(m.rates, k)
			}
		}
	}
	return true, max(0, tat.Sub(now)-lead)
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
