package redis

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// TestBulkWaitersAskOneAtATime has 16 senders of one process share a bulk
// schedule of 500 calls a second: in their turn they ask for about two
// slots each (one told to wait, one taken), where without the queue each
// slot was asked for by every sender still waiting.
func TestBulkWaitersAskOneAtATime(t *testing.T) {
	t.Parallel()
	const senders, each = 16, 10
	m := NewMemory(time.Now)
	r := storage.Rate{PerPeriod: 500, Period: time.Second, Burst: 1, CatchUp: 20 * time.Millisecond}
	var asked atomic.Int64
	take := func() (bool, time.Duration, error) {
		asked.Add(1)
		ok, wait := m.take(rateNS+"bulk", r, callBulk)
		return ok, wait, nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for range each {
				if err := waitTurn(ctx, r, time.Now, m.turns.queue("bulk", true), take); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if calls, most := asked.Load(), int64(3*senders*each); calls > most {
		t.Errorf("%d senders asked %d times for %d slots, want at most %d", senders, calls, senders*each, most)
	}
	m.turns.mu.Lock()
	defer m.turns.mu.Unlock()
	if len(m.turns.byKey) != 0 {
		t.Errorf("%d queues left behind, want none", len(m.turns.byKey))
	}
}
