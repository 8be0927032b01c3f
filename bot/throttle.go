package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// maxRateLimitRetries bounds how often one call waits out a platform's 429.
const maxRateLimitRetries = 3

// throttled paces a platform's new messages under its documented rate and
// waits out the platform's "too many requests" before trying again.
type throttled struct {
	Sender
	limiter *rate.Limiter // nil: no pacing, only 429s are waited out
}

// Throttle wraps s so that new messages stay under perSecond (0: no pacing)
// and any call refused for its rate is retried after the wait the platform
// asked for, as long as ctx allows. Edits and button answers are not paced:
// the platforms' message limits are about new messages.
func Throttle(s Sender, perSecond float64) Sender {
	t := &throttled{Sender: s}
	if perSecond > 0 {
		t.limiter = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
	}
	return t
}

func (t *throttled) Send(ctx context.Context, m Message) (Sent, error) {
	var sent Sent
	err := t.call(ctx, t.limiter, func() error {
		var err error
		sent, err = t.Sender.Send(ctx, m)
		return err
	})
	return sent, err
}

func (t *throttled) Edit(ctx context.Context, s Sent, m Message) error {
	return t.call(ctx, nil, func() error { return t.Sender.Edit(ctx, s, m) })
}

func (t *throttled) AnswerCallback(ctx context.Context, u *Update, text string) error {
	return t.call(ctx, nil, func() error { return t.Sender.AnswerCallback(ctx, u, text) })
}

func (t *throttled) call(ctx context.Context, limiter *rate.Limiter, do func() error) error {
	for attempt := 0; ; attempt++ {
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				return fmt.Errorf("wait for rate limit: %w", err)
			}
		}
		err := do()
		var limited *RateLimitError
		if !errors.As(err, &limited) || attempt == maxRateLimitRetries {
			return err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < limited.RetryAfter {
			return err
		}
		timer := time.NewTimer(limited.RetryAfter)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}
