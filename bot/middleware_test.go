package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestDedupeHandlesEachUpdateOnce(t *testing.T) {
	t.Parallel()
	state := redis.NewMemory(nil)
	calls := 0
	fail := true
	h := Dedupe(state, quiet, time.Hour)(func(context.Context, *Update) error {
		calls++
		if fail {
			return errors.New("database down")
		}
		return nil
	})
	u := &Update{Platform: Telegram, ID: "42"}
	ctx := context.Background()
	if err := h(ctx, u); err == nil {
		t.Fatal("the handler's failure was swallowed")
	}
	fail = false
	if err := h(ctx, u); err != nil || calls != 2 {
		t.Fatalf("a failed update was not released for its retry: err %v, calls %d", err, calls)
	}
	if err := h(ctx, u); err != nil || calls != 2 {
		t.Fatalf("a handled update was handled again: err %v, calls %d", err, calls)
	}
	if err := h(ctx, &Update{Platform: VK, ID: "42"}); err != nil || calls != 3 {
		t.Fatalf("the same id on another platform was taken for a duplicate: calls %d", calls)
	}
	if _, err := state.Claim(ctx, "update:telegram:43", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := h(ctx, &Update{Platform: Telegram, ID: "43"}); !errors.Is(err, ErrInFlight) || calls != 3 {
		t.Fatalf("an update in flight elsewhere: err %v, calls %d", err, calls)
	}
}

// brokenState is a state store whose server is down.
type brokenState struct{ storage.State }

var errDown = errors.New("connection refused")

func (brokenState) Claim(context.Context, string, time.Duration) (storage.ClaimResult, error) {
	return 0, errDown
}

func (brokenState) Lock(context.Context, string, time.Duration) (func(context.Context) error, error) {
	return nil, errDown
}

func TestDedupeAndChatLockFailOpen(t *testing.T) {
	t.Parallel()
	calls := 0
	h := Dedupe(brokenState{}, quiet, time.Hour)(ChatLock(brokenState{}, quiet, time.Minute)(func(context.Context, *Update) error {
		calls++
		return nil
	}))
	if err := h(context.Background(), &Update{Platform: Telegram, ID: "1"}); err != nil || calls != 1 {
		t.Fatalf("with the state store down the update was not handled: err %v, calls %d", err, calls)
	}
}

func TestChatLockSerialisesAChat(t *testing.T) {
	t.Parallel()
	state := redis.NewMemory(nil)
	inside := make(chan struct{})
	release := make(chan struct{})
	h := ChatLock(state, quiet, time.Minute)(func(_ context.Context, u *Update) error {
		if u.Text == "first" {
			close(inside)
			<-release
		}
		return nil
	})
	go func() { _ = h(context.Background(), &Update{Platform: Telegram, Chat: Chat{ID: "7"}, Text: "first"}) }()
	<-inside
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h(ctx, &Update{Platform: Telegram, Chat: Chat{ID: "7"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second update of a locked chat ran: %v", err)
	}
	if err := h(context.Background(), &Update{Platform: Telegram, Chat: Chat{ID: "8"}}); err != nil {
		t.Fatalf("another chat waited for the lock: %v", err)
	}
	close(release)
}
