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

// Dedupe handles each platform update once, across replicas sharing state.
// A failed update is released so that the platform's retry can process it.
// If the state store is down it fails open: a rare duplicate beats a loss.
func Dedupe(state storage.State, logger *slog.Logger, keep time.Duration) Middleware {
	const processing = 2 * time.Minute
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error {
			if u.ID == "" {
				return next(ctx, u)
			}
			key := "update:" + string(u.Platform) + ":" + u.ID
			res, err := state.Claim(ctx, key, processing)
			if err != nil {
				logger.WarnContext(ctx, "dedupe unavailable, handling anyway", "update", u.ID, "err", err)
				return next(ctx, u)
			}
			switch res {
			case storage.ClaimDone:
				return nil
			case storage.ClaimBusy:
				return ErrInFlight
			}
			// The handler may have used up ctx; the claim must be settled anyway.
			settle := context.WithoutCancel(ctx)
			if err := next(ctx, u); err != nil {
				if relErr := state.Release(settle, key); relErr != nil {
					logger.WarnContext(ctx, "release update claim", "update", u.ID, "err", relErr)
				}
				return err
			}
			if err := state.Done(settle, key, keep); err != nil {
				logger.WarnContext(ctx, "mark update done", "update", u.ID, "err", err)
			}
			return nil
		}
	}
}

// ChatLock serialises a chat's updates across replicas; within one process
// the dispatcher already keeps them in order. If the lock store is down it
// fails open, like Dedupe: the handler then reports what it cannot do.
func ChatLock(locker storage.Locker, logger *slog.Logger, ttl time.Duration) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, u *Update) error {
			unlock, err := locker.Lock(ctx, "chat:"+u.ChatKey(), ttl)
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
	}
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
