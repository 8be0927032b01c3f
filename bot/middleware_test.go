package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
)

var quiet = slog.New(slog.DiscardHandler)

func TestAdmitHandlesEachUpdateOnce(t *testing.T) {
	t.Parallel()
	state := redis.NewMemory(nil)
	calls := 0
	fail := true
	h := Admit(state, quiet, time.Hour, time.Minute, nil)(func(context.Context, *Update) error {
		calls++
		if fail {
			return errors.New("database down")
		}
		return nil
	})
	u := &Update{Platform: Telegram, ID: "42", Chat: Chat{ID: "7"}}
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
	if err := h(ctx, &Update{Platform: VK, ID: "42", Chat: Chat{ID: "7"}}); err != nil || calls != 3 {
		t.Fatalf("the same id on another platform was taken for a duplicate: calls %d", calls)
	}
	if _, err := state.Claim(ctx, "update:telegram:43", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := h(ctx, &Update{Platform: Telegram, ID: "43", Chat: Chat{ID: "7"}}); !errors.Is(err, ErrInFlight) || calls != 3 {
		t.Fatalf("an update in flight elsewhere: err %v, calls %d", err, calls)
	}
	// The chat's lock was given back every time: another update gets in.
	if err := h(ctx, &Update{Platform: Telegram, ID: "44", Chat: Chat{ID: "7"}}); err != nil || calls != 4 {
		t.Fatalf("the chat stayed locked: err %v, calls %d", err, calls)
	}
}

func TestAdmitHandsTheHandlerWhatItRead(t *testing.T) {
	t.Parallel()
	state := redis.NewMemory(nil)
	ctx := context.Background()
	if err := state.Save(ctx, "conv:telegram:7", []byte("step"), time.Hour); err != nil {
		t.Fatal(err)
	}
	read := func(u *Update) string { return "conv:" + string(u.Platform) + ":" + u.From.ID }
	var got []string
	h := Admit(state, quiet, time.Hour, time.Minute, read)(func(ctx context.Context, u *Update) error {
		v, found, ok := AdmittedValue(ctx, read(u))
		got = append(got, fmt.Sprintf("%s:%s:%v:%v", u.From.ID, v, found, ok))
		if _, _, ok := AdmittedValue(ctx, "conv:other"); ok {
			t.Error("a value was handed over under a key it was not read from")
		}
		return nil
	})
	for i, from := range []string{"7", "8"} {
		if err := h(ctx, &Update{Platform: Telegram, ID: strconv.Itoa(i), Chat: Chat{ID: from}, From: User{ID: from}}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"7:step:true:true", "8::false:true"}; !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// brokenState is a state store whose server is down.
type brokenState struct{ storage.State }

var errDown = errors.New("connection refused")

func (brokenState) Admit(context.Context, storage.Admission) (storage.Admitted, error) {
	return storage.Admitted{}, errDown
}

func (brokenState) Lock(context.Context, string, time.Duration) (func(context.Context) error, error) {
	return nil, errDown
}

func TestAdmitFailsOpen(t *testing.T) {
	t.Parallel()
	calls := 0
	h := Admit(brokenState{}, quiet, time.Hour, time.Minute, nil)(func(context.Context, *Update) error {
		calls++
		return nil
	})
	for _, u := range []*Update{{Platform: Telegram, ID: "1"}, {Platform: Telegram}} {
		if err := h(context.Background(), u); err != nil {
			t.Fatalf("with the state store down the update was not handled: err %v", err)
		}
	}
	if calls != 2 {
		t.Fatalf("calls %d, want 2", calls)
	}
}

func TestAdmitSerialisesAChat(t *testing.T) {
	t.Parallel()
	state := redis.NewMemory(nil)
	inside := make(chan struct{})
	release := make(chan struct{})
	h := Admit(state, quiet, time.Hour, time.Minute, nil)(func(_ context.Context, u *Update) error {
		if u.Text == "first" {
			close(inside)
			<-release
		}
		return nil
	})
	go func() {
		_ = h(context.Background(), &Update{Platform: Telegram, ID: "1", Chat: Chat{ID: "7"}, Text: "first"})
	}()
	<-inside
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h(ctx, &Update{Platform: Telegram, ID: "2", Chat: Chat{ID: "7"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second update of a locked chat ran: %v", err)
	}
	if err := h(context.Background(), &Update{Platform: Telegram, ID: "3", Chat: Chat{ID: "8"}}); err != nil {
		t.Fatalf("another chat waited for the lock: %v", err)
	}
	close(release)
}

// answerRecorder is a Sender that records the answers to presses.
type answerRecorder struct {
	Sender
	mu      sync.Mutex
	answers []string
}

func (r *answerRecorder) AnswerCallback(_ context.Context, _ *Update, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, text)
	return nil
}

func TestAnswerPressesAnswersEveryPressOnce(t *testing.T) {
	t.Parallel()
	failed := errors.New("handler failed")
	for _, tc := range []struct {
		name    string
		press   bool
		handler func(ctx context.Context, s Sender, u *Update) error
		want    []string
		wantErr error
	}{
		{"handler says nothing", true, func(context.Context, Sender, *Update) error { return nil }, []string{""}, nil},
		{"handler gives a notice", true, func(ctx context.Context, s Sender, u *Update) error {
			return Answer(ctx, s, u, "Saved")
		}, []string{"Saved"}, nil},
		{"handler answers twice", true, func(ctx context.Context, s Sender, u *Update) error {
			if err := Answer(ctx, s, u, "first"); err != nil {
				return err
			}
			return Answer(ctx, s, u, "second")
		}, []string{"first"}, nil},
		{"handler fails", true, func(context.Context, Sender, *Update) error { return failed }, []string{""}, failed},
		{"not a press", false, func(context.Context, Sender, *Update) error { return nil }, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &answerRecorder{}
			mw := AnswerPresses(func(Platform) (Sender, bool) { return rec, true }, quiet)
			h := mw(func(ctx context.Context, u *Update) error { return tc.handler(ctx, rec, u) })
			u := &Update{Platform: Telegram, ID: "1"}
			if tc.press {
				u.Callback = &Callback{ID: "q1", Data: "x:1"}
			}
			if err := h(context.Background(), u); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !slices.Equal(rec.answers, tc.want) {
				t.Fatalf("answers = %q, want %q", rec.answers, tc.want)
			}
		})
	}
}
