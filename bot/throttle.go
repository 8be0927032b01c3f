package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// maxRateLimitRetries bounds how often one call waits out a platform's 429.
const maxRateLimitRetries = 3

// throttled paces a platform's new messages and waits out the platform's
// "too many requests" before trying again.
type throttled struct {
	Sender
	limiter storage.RateLimiter
	key     string
	rate    storage.Rate // zero: no pacing, only 429s are waited out
}

// Throttle wraps s so that new messages stay under r on key, shared with the
// broadcast engine's bulk sends (which yield to these), and any call refused
// for its rate is retried after the wait the platform asked for, as long as
// ctx allows. Edits and button answers are not paced: the platforms'
// message limits are about new messages.
func Throttle(s Sender, l storage.RateLimiter, key string, r storage.Rate) Sender {
	return &throttled{Sender: s, limiter: l, key: key, rate: r}
}

func (t *throttled) Send(ctx context.Context, m Message) (Sent, error) {
	if t.rate.PerPeriod > 0 && m.Pace == nil {
		// A message of several calls (a file and a long text, an upload)
		// paces each of them.
		m.Pace = func(ctx context.Context) error { return t.wait(ctx, true) }
	}
	var sent Sent
	err := t.call(ctx, true, func() error {
		var err error
		sent, err = t.Sender.Send(ctx, m)
		return err
	})
	return sent, err
}

func (t *throttled) Edit(ctx context.Context, s Sent, m Message) error {
	return t.call(ctx, false, func() error { return t.Sender.Edit(ctx, s, m) })
}

func (t *throttled) EditKeyboard(ctx context.Context, s Sent, kb Keyboard) error {
	return t.call(ctx, false, func() error { return t.Sender.EditKeyboard(ctx, s, kb) })
}

func (t *throttled) AnswerCallback(ctx context.Context, u *Update, text string) error {
	return t.call(ctx, false, func() error { return t.Sender.AnswerCallback(ctx, u, text) })
}

func (t *throttled) call(ctx context.Context, paced bool, do func() error) error {
	for attempt := 0; ; attempt++ {
		if err := t.wait(ctx, paced); err != nil {
			return err
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

// wait takes a turn under the rate of a paced call.
func (t *throttled) wait(ctx context.Context, paced bool) error {
	if !paced || t.rate.PerPeriod <= 0 {
		return nil
	}
	// With the shared limiter away (Redis restarting) an answer still goes:
	// the platform's own 429 is the backstop.
	if err := t.limiter.Wait(ctx, t.key, t.rate, false); err != nil && ctx.Err() != nil {
		return fmt.Errorf("wait for rate limit: %w", err)
	}
	return nil
}
