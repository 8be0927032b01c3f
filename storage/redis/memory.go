package redis

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Memory is storage.State in process memory for a single replica; TTLs
// and rates count on the injected clock.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	// rates holds each rate key's theoretical arrival time (GCRA).
	rates  map[string]time.Time
	writes int
	turns  turns
}

var _ storage.State = (*Memory)(nil)

type entry struct {
	value   []byte
	expires time.Time // zero: never
}

// sweepEvery is how many writes pass between removals of expired entries.
const sweepEvery = 1024

// NewMemory returns an empty state; now is the clock (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, entries: map[string]entry{}, rates: map[string]time.Time{}}
}

// get returns the live entry under key; the caller holds mu.
func (m *Memory) get(key string, now time.Time) (entry, bool) {
	e, ok := m.entries[key]
	if ok && !e.expires.IsZero() && !now.Before(e.expires) {
		delete(m.entries, key)
		return entry{}, false
	}
	return e, ok
}

// set stores value under key for ttl (0: forever); the caller holds mu.
func (m *Memory) set(key string, value []byte, ttl time.Duration, now time.Time) {
	e := entry{value: bytes.Clone(value)}
	if e.value == nil {
		e.value = []byte{}
	}
	if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	m.entries[key] = e
	if m.writes++; m.writes%sweepEvery == 0 {
		for k := range m.entries {
			m.get(k, now)
		}
	}
}

// Claim marks key as being processed for ttl (0: until Release or Done).
func (m *Memory) Claim(_ context.Context, key string, ttl time.Duration) (storage.ClaimResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	e, ok := m.get(claimNS+key, now)
	switch {
	case !ok:
		m.set(claimNS+key, []byte(claimBusy), ttl, now)
		return storage.ClaimNew, nil
	case string(e.value) == claimDone:
		return storage.ClaimDone, nil
	}
	return storage.ClaimBusy, nil
}

// Done marks key as finished and keeps the mark for ttl (0: forever).
func (m *Memory) Done(_ context.Context, key string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(claimNS+key, []byte(claimDone), ttl, m.now())
	return nil
}

// Release forgets a claim.
func (m *Memory) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, claimNS+key)
	return nil
}

// Load reads the value under key; ok is false when there is none.
func (m *Memory) Load(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.get(valueNS+key, m.now())
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(e.value), true, nil
}

// Save stores a copy of value under key for ttl (0: forever).
func (m *Memory) Save(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(valueNS+key, value, ttl, m.now())
	return nil
}

// Delete removes the value under key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, valueNS+key)
	return nil
}

// Lock waits until key is free or ctx ends, then holds it for at most ttl.
func (m *Memory) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lock %s: ttl must be positive", key)
	}
	token, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	full := lockNS + key
	err = retry(ctx, func() (bool, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		now := m.now()
		if _, held := m.get(full, now); held {
			return false, nil
		}
		m.set(full, []byte(token), ttl, now)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return func(context.Context) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if e, held := m.get(full, m.now()); !held || string(e.value) != token {
			return fmt.Errorf("unlock: %w", ErrLockLost)
		}
		delete(m.entries, full)
		return nil
	}, nil
}

// Snapshot copies the live keys and their values, named as the Client
// names them after its prefix (claim:, value:, lock:, rate:), a rate's value
// being its theoretical arrival time: what the process keeps right now, for
// inspection. Expired entries are dropped on the way.
func (m *Memory) Snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	out := map[string]string{}
	for k := range m.entries {
		if e, ok := m.get(k, now); ok {
			out[k] = string(e.value)
		}
	}
	for k, tat := range m.rates {
		if !tat.After(now) {
			delete(m.rates, k)
			continue
		}
		out[k] = tat.Format(time.RFC3339Nano)
	}
	return out
}

// Ping always succeeds: the state is in this process.
func (m *Memory) Ping(context.Context) error { return nil }

// Close does nothing: there is nothing to release.
func (m *Memory) Close() error { return nil }
