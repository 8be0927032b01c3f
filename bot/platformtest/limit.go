package platformtest

import "time"

// window is a sliding-window limit: at most n events in any span of length
// per. It keeps the times of the last n admitted events in a ring, so that
// a check costs O(1) whatever the rate.
type window struct {
	per   time.Duration
	base  time.Time       // times are kept as offsets from it, monotonic
	times []time.Duration // ring of the last admitted events, oldest at next once full
	next  int
}

func newWindow(n int, per time.Duration, base time.Time) *window {
	return &window{per: per, base: base, times: make([]time.Duration, 0, n)}
}

// wait returns how long from now until one more event fits, 0 when it fits now.
func (w *window) wait(now time.Time) time.Duration {
	if len(w.times) < cap(w.times) {
		return 0
	}
	return max(w.times[w.next]+w.per-now.Sub(w.base), 0)
}

// add records an event at now; the caller checked wait first.
func (w *window) add(now time.Time) {
	at := now.Sub(w.base)
	if len(w.times) < cap(w.times) {
		w.times = append(w.times, at)
		return
	}
	w.times[w.next] = at
	w.next = (w.next + 1) % len(w.times)
}

// everyNth fails every n-th call, deterministically, counting from when it
// was set.
type everyNth struct {
	every int
	calls int
	code  int
}

// hit counts a call and reports whether it is one to fail.
func (e *everyNth) hit() bool {
	if e == nil || e.every <= 0 {
		return false
	}
	e.calls++
	return e.calls%e.every == 0
}
