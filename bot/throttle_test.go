package bot

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
)

// flakySender fails its first calls with a platform rate limit.
type flakySender struct {
	mu       sync.Mutex
	limited  int
	calls    []time.Time
	retryFor time.Duration
}

func (f *flakySender) Platform() Platform { return Telegram }

func (f *flakySender) Send(context.Context, Message) (Sent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, time.Now())
	if f.limited > 0 {
		f.limited--
		return Sent{}, &RateLimitError{RetryAfter: f.retryFor}
	}
	return Sent{MessageID: "1"}, nil
}

func (f *flakySender) Edit(ctx context.Context, _ Sent, m Message) error {
	_, err := f.Send(ctx, m)
	return err
}

func (f *flakySender) EditKeyboard(ctx context.Context, _ Sent, _ Keyboard) error {
	_, err := f.Send(ctx, Message{})
	return err
}

func (f *flakySender) AnswerCallback(ctx context.Context, _ *Update, _ string) error {
	_, err := f.Send(ctx, Message{})
	return err
}

func TestThrottleWaitsOutARateLimit(t *testing.T) {
	t.Parallel()
	f := &flakySender{limited: 2, retryFor: 50 * time.Millisecond}
	s := Throttle(f, redis.NewMemory(nil), "telegram", storage.Rate{})
	start := time.Now()
	if _, err := s.Send(context.Background(), Message{Text: "x"}); err != nil {
		t.Fatalf("send after two 429s: %v", err)
	}
	if len(f.calls) != 3 || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("%d calls in %s: want 3 calls, waiting retry_after between them", len(f.calls), time.Since(start))
	}
}

func TestThrottleGivesUpWhenTheWaitOutlastsTheContext(t *testing.T) {
	t.Parallel()
	f := &flakySender{limited: 1, retryFor: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := Throttle(f, redis.NewMemory(nil), "telegram", storage.Rate{}).Edit(ctx, Sent{}, Message{})
	var limited *RateLimitError
	if !errors.As(err, &limited) || len(f.calls) != 1 {
		t.Fatalf("err %v after %d calls: want the rate limit error at once", err, len(f.calls))
	}
}

func TestThrottleKeepsNewMessagesUnderTheRate(t *testing.T) {
	t.Parallel()
	f := &flakySender{}
	s := Throttle(f, redis.NewMemory(nil), "telegram", storage.Rate{PerPeriod: 20, Period: time.Second, Burst: 20})
	for range 30 {
		if _, err := s.Send(context.Background(), Message{}); err != nil {
			t.Fatal(err)
		}
	}
	// A burst of 20, then 10 more at 20/s: at least 450 ms in all.
	if took := f.calls[len(f.calls)-1].Sub(f.calls[0]); took < 450*time.Millisecond {
		t.Fatalf("30 messages took %s, faster than 20/s allows", took)
	}
	// Button answers are not messages: they are not paced.
	start := time.Now()
	for range 100 {
		if err := s.AnswerCallback(context.Background(), &Update{}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("100 button answers took %s: they were paced", took)
	}
}

// threeCalls sends every message in three calls to the platform.
type threeCalls struct{ flakySender }

func (s *threeCalls) Send(ctx context.Context, m Message) (Sent, error) {
	turns := TurnsOf(m)
	for range 3 {
		if err := turns.Next(ctx); err != nil {
			return Sent{}, err
		}
	}
	return Sent{MessageID: "1"}, nil
}

// countedLimiter counts the turns taken.
type countedLimiter struct {
	storage.RateLimiter
	mu    sync.Mutex
	turns int
}

func (l *countedLimiter) Wait(ctx context.Context, key string, r storage.Rate, bulk bool) error {
	l.mu.Lock()
	l.turns++
	l.mu.Unlock()
	return l.RateLimiter.Wait(ctx, key, r, bulk)
}

// A message of several calls takes a turn for each.
func TestThrottlePacesEveryCallOfAMessage(t *testing.T) {
	t.Parallel()
	l := &countedLimiter{RateLimiter: redis.NewMemory(nil)}
	s := Throttle(&threeCalls{}, l, "vk", storage.Rate{PerPeriod: 20, Period: time.Second, Burst: 20})
	if _, err := s.Send(context.Background(), Message{}); err != nil {
		t.Fatal(err)
	}
	if l.turns != 3 {
		t.Fatalf("%d turns for a message of three calls, want 3", l.turns)
	}
}
