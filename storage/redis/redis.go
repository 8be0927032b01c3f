// Package redis keeps storage.State in Redis, shared by every replica, and
// in process memory (Memory) when the deployment has no Redis.
package redis

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/unionhub/unionhub/storage"
)

// ErrLockLost is returned by an unlock whose lock expired, and perhaps went
// to someone else, before the unlock.
var ErrLockLost = errors.New("lock expired before unlock")

// Key namespaces, so that a claim, a value and a lock on one key never collide.
const (
	claimNS = "claim:"
	valueNS = "value:"
	lockNS  = "lock:"
)

// Claim values.
const (
	claimBusy = "busy"
	claimDone = "done"
)

// Client is storage.State on Redis. Every key carries the prefix, so that
// deployments and tests can share one Redis.
type Client struct {
	rdb    *goredis.Client
	prefix string
	turns  turns
}

var _ storage.State = (*Client)(nil)

// Open connects to the Redis at url (redis:// or rediss://) and pings it.
func Open(ctx context.Context, url, prefix string) (*Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("open redis: %w", err)
	}
	rdb := goredis.NewClient(opts)
	c := &Client{rdb: rdb, prefix: prefix}
	if err := c.Ping(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open redis: %w", err), c.rdb.Close())
	}
	return c, nil
}

// RouteLogs sends the lines go-redis writes about its connections, such as
// each failed dial while Redis is down, to logger at WARN instead of as
// plain text on stderr, which would break a JSON log. go-redis has one
// logger per process, so this holds for every client.
func RouteLogs(logger *slog.Logger) {
	goredis.SetLogger(slogPrinter{logger})
}

// slogPrinter is go-redis's Logging on slog.
type slogPrinter struct{ logger *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, args ...any) {
	p.logger.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, args...))
}

// claimScript marks a key busy unless it is taken: 0 new, 1 busy, 2 done.
var claimScript = goredis.NewScript(`
local ok
if tonumber(ARGV[1]) > 0 then
	ok = redis.call('SET', KEYS[1], 'busy', 'NX', 'PX', ARGV[1])
else
	ok = redis.call('SET', KEYS[1], 'busy', 'NX')
end
if ok then return 0 end
if redis.call('GET', KEYS[1]) == 'done' then return 2 end
return 1`)

// unlockScript deletes a lock only while it still holds the caller's token.
var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Claim marks key as being processed for ttl (0: until Release or Done).
func (c *Client) Claim(ctx context.Context, key string, ttl time.Duration) (storage.ClaimResult, error) {
	n, err := claimScript.Run(ctx, c.rdb, []string{c.prefix + claimNS + key}, ttl.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	switch n {
	case 0:
		return storage.ClaimNew, nil
	case 2:
		return storage.ClaimDone, nil
	}
	return storage.ClaimBusy, nil
}

// Done marks key as finished and keeps the mark for ttl (0: forever).
func (c *Client) Done(ctx context.Context, key string, ttl time.Duration) error {
	if err := c.rdb.Set(ctx, c.prefix+claimNS+key, claimDone, positive(ttl)).Err(); err != nil {
		return fmt.Errorf("mark done: %w", err)
	}
	return nil
}

// Release forgets a claim.
func (c *Client) Release(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+claimNS+key).Err(); err != nil {
		return fmt.Errorf("release claim: %w", err)
	}
	return nil
}

// Load reads the value under key; ok is false when there is none.
func (c *Client) Load(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.rdb.Get(ctx, c.prefix+valueNS+key).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("load value: %w", err)
	}
	return v, true, nil
}

// Save stores value under key for ttl (0: forever).
func (c *Client) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := c.rdb.Set(ctx, c.prefix+valueNS+key, value, positive(ttl)).Err(); err != nil {
		return fmt.Errorf("save value: %w", err)
	}
	return nil
}

// Delete removes the value under key.
func (c *Client) Delete(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+valueNS+key).Err(); err != nil {
		return fmt.Errorf("delete value: %w", err)
	}
	return nil
}

// Lock waits until key is free or ctx ends, then holds it for at most ttl.
func (c *Client) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lock %s: ttl must be positive", key)
	}
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	full := c.prefix + lockNS + key
	err = retry(ctx, func() (bool, error) {
		return c.rdb.SetNX(ctx, full, token, ttl).Result()
	})
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func(ctx context.Context) error {
		n, err := unlockScript.Run(ctx, c.rdb, []string{full}, token).Int()
		switch {
		case err != nil:
			return fmt.Errorf("unlock: %w", err)
		case n == 0:
			return fmt.Errorf("unlock: %w", ErrLockLost)
		}
		return nil
	}, nil
}

// Ping checks that Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Close closes the connections.
func (c *Client) Close() error {
	if err := c.rdb.Close(); err != nil {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}

// positive maps "no ttl" to Redis' "no expiry".
func positive(ttl time.Duration) time.Duration {
	return max(ttl, 0)
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := crand.Read(b); err != nil {
		return "", fmt.Errorf("lock token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Lock polling backoff: short at first, as most locks are held briefly.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = 100 * time.Millisecond
)

// retry calls try until it succeeds, fails, or ctx ends, waiting a growing,
// jittered pause between calls so that waiters do not retry in step.
func retry(ctx context.Context, try func() (bool, error)) error {
	wait := minBackoff
	for {
		ok, err := try()
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		}
		timer := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// admitScript claims KEYS[1] and locks KEYS[2] with the token ARGV[2], and
// reads KEYS[3] when ARGV[4] is 1: {0, value?} admitted, {1} busy, {2} done,
// {3} the chat is locked (nothing taken).
var admitScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == 'done' then return {2} end
if v then return {1} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {3} end
if tonumber(ARGV[1]) > 0 then
	redis.call('SET', KEYS[1], 'busy', 'PX', ARGV[1])
else
	redis.call('SET', KEYS[1], 'busy')
end
if ARGV[4] == '1' then
	local r = redis.call('GET', KEYS[3])
	if r then return {0, r} end
end
return {0}`)

// leaveScript marks KEYS[1] done for ARGV[2] ms (0: forever) when ARGV[1] is
// 1, else deletes it; then unlocks KEYS[2] if it still holds ARGV[3].
var leaveScript = goredis.NewScript(`
if ARGV[1] == '1' then
	if tonumber(ARGV[2]) > 0 then
		redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
	else
		redis.call('SET', KEYS[1], 'done')
	end
else
	redis.call('DEL', KEYS[1])
end
if redis.call('GET', KEYS[2]) == ARGV[3] then
	redis.call('DEL', KEYS[2])
	return 1
end
return 0`)

// Admit implements storage.State in one round trip; when the chat is
// locked by another update it claims, waits for the lock and reads, as
// separate calls.
func (c *Client) Admit(ctx context.Context, a storage.Admission) (storage.Admitted, error) {
	if a.LockTTL <= 0 {
		return storage.Admitted{}, fmt.Errorf("admit: lock ttl must be positive")
	}
	token, err := newToken()
	if err != nil {
		return storage.Admitted{}, fmt.Errorf("admit: %w", err)
	}
	claimKey, lockKey := c.prefix+claimNS+a.Claim, c.prefix+lockNS+a.Lock
	read, readFlag := claimKey, "0"
	if a.Read != "" {
		read, readFlag = c.prefix+valueNS+a.Read, "1"
	}
	res, err := admitScript.Run(ctx, c.rdb, []string{claimKey, lockKey, read},
		positive(a.ClaimTTL).Milliseconds(), token, a.LockTTL.Milliseconds(), readFlag).Slice()
	if err != nil {
		return storage.Admitted{}, fmt.Errorf("admit: %w", err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 1:
		return storage.Admitted{Result: storage.ClaimBusy}, nil
	case 2:
		return storage.Admitted{Result: storage.ClaimDone}, nil
	case 3:
		return admitSlowly(ctx, c, a)
	}
	out := storage.Admitted{Result: storage.ClaimNew}
	if len(res) > 1 {
		v, _ := res[1].(string)
		out.Value, out.Found = []byte(v), true
	}
	out.Leave = func(ctx context.Context, done bool, keep time.Duration) error {
		flag := "0"
		if done {
			flag = "1"
		}
		n, err := leaveScript.Run(ctx, c.rdb, []string{claimKey, lockKey}, flag, positive(keep).Milliseconds(), token).Int()
		switch {
		case err != nil:
			return fmt.Errorf("leave: %w", err)
		case n == 0:
			return fmt.Errorf("leave: %w", ErrLockLost)
		}
		return nil
	}
	return out, nil
}
