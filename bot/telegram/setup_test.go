package telegram_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
)

var (
	anna  = platformtest.TGUser{ID: 1001, FirstName: "Anna", LastName: "Petrova", Username: "anna_p", LanguageCode: "ru"}
	boris = platformtest.TGUser{ID: 2002, FirstName: "Boris"}
	union = platformtest.TGGroup{ID: -1001234567890, Title: "Union board"}
)

// recordingSink records what the adapter hands over; the next fail
// deliveries report a handler error.
type recordingSink struct {
	mu      sync.Mutex
	updates []bot.Update
	fail    int
	delay   time.Duration
}

func (s *recordingSink) Deliver(_ context.Context, u bot.Update) <-chan error {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, u)
	res := make(chan error, 1)
	if s.fail > 0 {
		s.fail--
		res <- errors.New("handler failed")
	} else {
		res <- nil
	}
	return res
}

func (s *recordingSink) got() []bot.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Update(nil), s.updates...)
}

func testConfig(t *testing.T, f *platformtest.Telegram) telegram.Config {
	return telegram.Config{
		Token:       platformtest.TelegramToken,
		APIURL:      f.URL(),
		PollTimeout: time.Second,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func newAdapter(t *testing.T, cfg telegram.Config) *telegram.Adapter {
	t.Helper()
	a, err := telegram.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}
	return a
}

// run starts a.Run and returns a stop function that cancels it and checks
// that it returns nil promptly; the test's cleanup stops it too.
func run(t *testing.T, a *telegram.Adapter, sink bot.Sink) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, sink) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return within 5s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
