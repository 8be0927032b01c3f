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

// throttled paces a platform's calls under its documented rate and waits
// out the platform's "too many requests" before trying again.
type throttled struct {
	Sender
	limiter *rate.Limiter
}

// Throttle wraps s so that its calls stay under perSecond and a rate-limit
// refusal is retried after the wait the platform asked for, as long as ctx
// allows. Delivery of bulk news shares these limits through the outbox.
func Throttle(s Sender, perSecond float64) Sender {
	return &throttled{Sender: s, limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))}
}

func (t *throttled) Send(ctx context.Context, m Message) (Sent, error) {
	var sent Sent
	err := t.call(ctx, func() error {
		var err error
		sent, err = t.Sender.Send(ctx, m)
		return err
	})
	return sent, err
}

func (t *throttled) Edit(ctx context.Context, s Sent, m Message) error {
	return t.call(ctx, func() error { return t.Sender.Edit(ctx, s, m) })
}

func (t *throttled) AnswerCallback(ctx context.Context, u *Update, text string) error {
	return t.call(ctx, func() error { return t.Sender.AnswerCallback(ctx, u, text) })
}

func (t *throttled) call(ctx context.Context, do func() error) error {
	for attempt := 0; ; attempt++ {
		if err := t.limiter.Wait(ctx); err != nil {
			return fmt.Errorf("wait for rate limit: %w", err)
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
