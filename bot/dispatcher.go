package bot

import (
	"context"
	"hash/fnv"
	"sync"
	"time"
)

// Sink takes updates from an adapter.
type Sink interface {
	// Deliver queues u and returns a channel that receives the handler's
	// outcome. Long-poll adapters may ignore it; webhook adapters wait on it
	// to answer the platform.
	Deliver(ctx context.Context, u Update) <-chan error
}

// Dispatcher runs handlers on a fixed set of workers. Updates of one chat
// always go to the same worker, so a chat's updates are handled in order
// while different chats proceed in parallel.
type Dispatcher struct {
	handler HandlerFunc
	timeout time.Duration
	shards  []chan job
	wg      sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

type job struct {
	update Update
	result chan error
}

var _ Sink = (*Dispatcher)(nil)

// NewDispatcher starts workers that run h with at most timeout per update.
// Handlers run under a context of their own, so that stopping the intake
// does not cut short updates already taken.
func NewDispatcher(h HandlerFunc, workers int, timeout time.Duration) *Dispatcher {
	if workers < 1 {
		workers = 1
	}
	d := &Dispatcher{handler: h, timeout: timeout, shards: make([]chan job, workers)}
	for i := range d.shards {
		d.shards[i] = make(chan job, 64)
		d.wg.Add(1)
		go d.work(d.shards[i])
	}
	return d
}

// Deliver implements Sink.
func (d *Dispatcher) Deliver(ctx context.Context, u Update) <-chan error {
	result := make(chan error, 1)
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		result <- ErrClosed
		return result
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(u.ChatKey()))
	shard, j := d.shards[h.Sum32()%uint32(len(d.shards))], job{update: u, result: result}
	// A queue with room always takes the update, even from an ending context.
	select {
	case shard <- j:
		return result
	default:
	}
	select {
	case shard <- j:
	case <-ctx.Done():
		result <- ctx.Err()
	}
	return result
}

// Close stops taking updates and waits for the queued ones to finish.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for _, s := range d.shards {
			close(s)
		}
	}
	d.mu.Unlock()
	d.wg.Wait()
}

func (d *Dispatcher) work(jobs <-chan job) {
	defer d.wg.Done()
	for j := range jobs {
		ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
		j.result <- d.handler(ctx, &j.update)
		cancel()
	}
}
