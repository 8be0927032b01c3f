package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Recover turns a panic in a handler into an error, so one bad update never
// takes the process down.
func Recover() Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("handle update: panic: %v\n%s", p, debug.Stack())
				}
			}()
			return next(ctx, u)
		}
	}
}

// Admit lets each platform update in once, and a chat's updates one at a
// time across replicas (within one process the dispatcher already keeps them
// in order): the update's claim and its chat's lock are taken in one trip
// to the state store, with the value read names (the sender's conversation),
// and given back in one. A failed update is released so that the
// platform's retry can process it; a duplicate is neither handled nor
// counted. If the state store is down it fails open: a rare duplicate beats
// a loss, and the handler reports what it cannot do.
func Admit(state storage.State, logger *slog.Logger, keep, lockTTL time.Duration, read func(u *Update) string) Middleware {
	const processing = 2 * time.Minute
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error {
			a := storage.Admission{Claim: "update:" + string(u.Platform) + ":" + u.ID, ClaimTTL: processing,
				Lock: "chat:" + u.ChatKey(), LockTTL: lockTTL}
			if read != nil {
				a.Read = read(u)
			}
			if u.ID == "" {
				// Nothing to tell a duplicate by: only the chat's turn.
				return lockChat(ctx, state, logger, a, u, next)
			}
			in, err := state.Admit(ctx, a)
			switch {
			case err != nil && ctx.Err() != nil:
				return fmt.Errorf("admit update: %w", ctx.Err())
			case err != nil:
				logger.WarnContext(ctx, "state unavailable, handling the update anyway", "update", u.ID, "chat", u.Chat.ID, "err", err)
				return next(ctx, u)
			case in.Result == storage.ClaimDone:
				return nil
			case in.Result == storage.ClaimBusy:
				return ErrInFlight
			}
			if a.Read != "" {
				ctx = context.WithValue(ctx, readKey{}, read1{key: a.Read, value: in.Value, found: in.Found})
			}
			// The handler may have used up ctx; the claim must be settled anyway.
			settle := context.WithoutCancel(ctx)
			err = next(ctx, u)
			if leaveErr := in.Leave(settle, err == nil, keep); leaveErr != nil {
				logger.WarnContext(ctx, "settle update", "update", u.ID, "chat", u.Chat.ID, "err", leaveErr)
			}
			return err
		}
	}
}

// lockChat runs an update that has no id in its chat's turn.
func lockChat(ctx context.Context, state storage.State, logger *slog.Logger, a storage.Admission, u *Update, next HandlerFunc) error {
	unlock, err := state.Lock(ctx, a.Lock, a.LockTTL)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("lock chat: %w", ctx.Err())
	case err != nil:
		logger.WarnContext(ctx, "chat lock unavailable, handling anyway", "chat", u.Chat.ID, "err", err)
		return next(ctx, u)
	}
	defer func() {
		if err := unlock(context.WithoutCancel(ctx)); err != nil {
			logger.WarnContext(ctx, "unlock chat", "chat", u.Chat.ID, "err", err)
		}
	}()
	return next(ctx, u)
}

type readKey struct{}

// read1 is a value Admit read for the update.
type read1 struct {
	key   string
	value []byte
	found bool
}

// AdmittedValue returns the value Admit read under key for this update;
// ok is false when it read none there, and the caller reads it itself.
func AdmittedValue(ctx context.Context, key string) (value []byte, found, ok bool) {
	r, ok := ctx.Value(readKey{}).(read1)
	if !ok || r.key != key {
		return nil, false, false
	}
	return r.value, r.found, true
}

// Logging logs each update by ids only (never names or texts) and counts it.
// A command is logged by name only when known says it is one of ours: what
// follows a slash may be anything a person typed.
func Logging(logger *slog.Logger, m *Metrics, known func(command string) bool) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error {
			start := time.Now()
			err := next(ctx, u)
			took := time.Since(start)
			kind := updateKind(u)
			outcome, level := "ok", slog.LevelDebug
			if err != nil {
				outcome, level = "error", slog.LevelError
			}
			m.observe(u.Platform, kind, outcome, took)
			attrs := []any{"platform", u.Platform, "update", u.ID, "chat", u.Chat.ID, "user", u.From.ID,
				"kind", kind, "command", commandLabel(u.Command, known), "duration", took}
			if err != nil {
				attrs = append(attrs, "err", err)
			}
			logger.Log(ctx, level, "update handled", attrs...)
			return err
		}
	}
}

func commandLabel(command string, known func(string) bool) string {
	switch {
	case command == "":
		return ""
	case known(command):
		return command
	}
	return "unknown"
}

func updateKind(u *Update) string {
	switch {
	case u.Callback != nil:
		return "button"
	case u.Command != "":
		return "command"
	default:
		return "message"
	}
}
