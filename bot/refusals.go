package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Reasons a webhook endpoint refuses a request before it knows who sent it.
const (
	RefusedSecret    = "secret"    // no or a wrong secret (or, on VK, another community)
	RefusedTooLarge  = "too_large" // the body exceeds the endpoint's limit
	RefusedMalformed = "malformed" // the body cannot be read or is not one JSON value
	RefusedBusy      = "busy"      // too many unauthenticated bodies are being read at once
)

// RefusalLogInterval is how often at most a webhook endpoint logs the
// requests it refused.
const RefusalLogInterval = time.Minute

// Refusals reports the requests a webhook endpoint refused before it could
// tell who sent them. Anyone can send those, so each is only counted in the
// metrics, and a log line, carrying counts and nothing the sender chose, is
// written at most once per interval: forged requests cannot flood the log.
type Refusals struct {
	platform Platform
	metrics  *Metrics
	logger   *slog.Logger
	every    time.Duration
	now      func() time.Time

	mu     sync.Mutex
	quiet  time.Time      // no line before this
	counts map[string]int // refusals by reason since the last line
}

// NewRefusals reports p's refusals to metrics (which may be nil) and to
// logger, one line per every at most.
func NewRefusals(p Platform, metrics *Metrics, logger *slog.Logger, every time.Duration, now func() time.Time) *Refusals {
	return &Refusals{platform: p, metrics: metrics, logger: logger, every: every, now: now, counts: map[string]int{}}
}

// Refuse counts one refused request; reason is one of the Refused* constants.
func (r *Refusals) Refuse(ctx context.Context, reason string) {
	r.metrics.CountRefused(r.platform, reason)
	r.mu.Lock()
	r.counts[reason]++
	now := r.now()
	if now.Before(r.quiet) {
		r.mu.Unlock()
		return
	}
	r.quiet = now.Add(r.every)
	counts := r.counts
	r.counts = map[string]int{}
	r.mu.Unlock()

	total := 0
	var byReason []any
	for _, reason := range []string{RefusedSecret, RefusedTooLarge, RefusedMalformed, RefusedBusy} {
		if n := counts[reason]; n > 0 {
			byReason = append(byReason, reason, n)
			total += n
		}
	}
	r.logger.WarnContext(ctx, "webhook requests refused since the last such line",
		"refused", total, slog.Group("by_reason", byReason...), "next_line_after", r.every.String())
}
