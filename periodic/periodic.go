// Package periodic runs recurring work in rounds: each round bounded by a
// timeout, a panic in one taken for a failed round, failures logged without
// flooding, and the time of each loop's last successful round kept for
// /metrics and /healthz, so that a stuck or failing loop never goes
// unnoticed.
package periodic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Loop is work done in rounds: one at once, then one every Every, each
// given at most Timeout.
type Loop struct {
	Name    string
	Every   time.Duration
	Timeout time.Duration
	Round   func(ctx context.Context) error
}

// staleAfter is how long a loop may go without a successful round before
// it counts as stale: three missed intervals and one round's timeout.
func (l Loop) staleAfter() time.Duration { return 3*l.Every + l.Timeout }

// logEvery is how often a loop failing round after round is logged again.
const logEvery = time.Minute

// Round outcomes, as the rounds metric labels them.
const (
	outcomeOK      = "ok"
	outcomeError   = "error"
	outcomeTimeout = "timeout"
	outcomePanic   = "panic"
)

// Runner runs loops and keeps their health.
type Runner struct {
	now    func() time.Time
	logger *slog.Logger
	lastOK *prometheus.GaugeVec
	rounds *prometheus.CounterVec

	mu    sync.Mutex
	loops map[string]*health
}

// health is where one loop stands.
type health struct {
	loop Loop
	// since is the end of the last successful round, or the loop's start.
	since    time.Time
	failures int       // rounds failed in a row
	loggedAt time.Time // when the last failure was logged
}

// NewRunner registers the loops' metrics with reg; now is the clock of
// their health and metrics, logger gets their failures.
func NewRunner(reg prometheus.Registerer, now func() time.Time, logger *slog.Logger) *Runner {
	r := &Runner{
		now:    now,
		logger: logger,
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "unionhub_loop_last_success_timestamp_seconds",
			Help: "When each periodic loop last completed a round without error (Unix time; 0 before the first).",
		}, []string{"loop"}),
		rounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unionhub_loop_rounds_total",
			Help: "Rounds of each periodic loop by outcome: ok, error, timeout or panic.",
		}, []string{"loop", "outcome"}),
		loops: map[string]*health{},
	}
	reg.MustRegister(r.lastOK, r.rounds)
	return r
}

// Run runs l's rounds until ctx ends. A round that overruns its timeout
// (work that does not heed its context) is logged and waited for: two
// rounds of a loop never run at once.
func (r *Runner) Run(ctx context.Context, l Loop) {
	r.mu.Lock()
	r.loops[l.Name] = &health{loop: l, since: r.now()}
	r.mu.Unlock()
	r.lastOK.WithLabelValues(l.Name).Set(0)
	tick := time.NewTicker(l.Every)
	defer tick.Stop()
	for {
		r.round(ctx, l)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if ctx.Err() != nil { // a tick and the stop at once: stop
				return
			}
		}
	}
}

// round runs one round and records its outcome. A stop lets the round
// finish within its timeout: cut mid-way, a notice already on its way would
// look unsent and go again after the restart.
func (r *Runner) round(ctx context.Context, l Loop) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(rctx, l.Round) }()
	var err error
	overrun := time.NewTimer(2 * l.Timeout)
	select {
	case err = <-done:
		overrun.Stop()
	case <-overrun.C:
		r.logger.ErrorContext(ctx, "periodic round overran its timeout", "loop", l.Name, "timeout", l.Timeout)
		err = <-done
	}
	if ctx.Err() != nil {
		return // stopping: an interrupted round is neither a success nor a failure
	}
	outcome := outcomeOK
	var p *panicError
	switch {
	case errors.As(err, &p):
		outcome = outcomePanic
	case err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded):
		outcome = outcomeTimeout
		err = fmt.Errorf("round cut at its %s timeout: %w", l.Timeout, err)
	case err != nil:
		outcome = outcomeError
	}
	r.rounds.WithLabelValues(l.Name, outcome).Inc()
	r.record(ctx, l.Name, outcome, err)
}

// record keeps a round's outcome and logs a failure, the first of a row at
// once and then at most every logEvery, and the recovery after failures.
func (r *Runner) record(ctx context.Context, name, outcome string, err error) {
	now := r.now()
	r.mu.Lock()
	h := r.loops[name]
	if err == nil {
		failures := h.failures
		h.since, h.failures = now, 0
		r.mu.Unlock()
		r.lastOK.WithLabelValues(name).Set(float64(now.UnixMilli()) / 1000)
		if failures > 0 {
			r.logger.InfoContext(ctx, "periodic loop recovered", "loop", name, "failed_rounds", failures)
		}
		return
	}
	h.failures++
	failures, log := h.failures, h.failures == 1 || now.Sub(h.loggedAt) >= logEvery
	if log {
		h.loggedAt = now
	}
	r.mu.Unlock()
	if log {
		r.logger.ErrorContext(ctx, "periodic round failed", "loop", name, "outcome", outcome, "failed_rounds", failures, "err", err)
	}
}

// Stale names, sorted, the loops without a successful round for three
// intervals and a timeout.
func (r *Runner) Stale() []string {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var stale []string
	for name, h := range r.loops {
		if now.Sub(h.since) > h.loop.staleAfter() {
			stale = append(stale, name)
		}
	}
	slices.Sort(stale)
	return stale
}

// panicError is a round's panic, with where it happened.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("round panicked: %v\n%s", e.value, e.stack) }

// call runs a round, turning a panic into an error.
func call(ctx context.Context, round func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return round(ctx)
}
