package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// admitSlowly is Admit as separate calls: the claim, a wait for the chat's
// lock, the read. It is what both states do when the chat is busy, and what
// the in-process state always does.
func admitSlowly(ctx context.Context, s storage.State, a storage.Admission) (storage.Admitted, error) {
	res, err := s.Claim(ctx, a.Claim, a.ClaimTTL)
	if err != nil || res != storage.ClaimNew {
		return storage.Admitted{Result: res}, err
	}
	unlock, err := s.Lock(ctx, a.Lock, a.LockTTL)
	if err != nil {
		// Give the claim back: a retry of the update must find it free.
		return storage.Admitted{}, errors.Join(fmt.Errorf("admit: %w", err), s.Release(context.WithoutCancel(ctx), a.Claim))
	}
	out := storage.Admitted{Result: storage.ClaimNew}
	if a.Read != "" {
		if out.Value, out.Found, err = s.Load(ctx, a.Read); err != nil {
			return storage.Admitted{}, errors.Join(fmt.Errorf("admit: %w", err),
				unlock(context.WithoutCancel(ctx)), s.Release(context.WithoutCancel(ctx), a.Claim))
		}
	}
	out.Leave = func(ctx context.Context, done bool, keep time.Duration) error {
		var err error
		if done {
			err = s.Done(ctx, a.Claim, keep)
		} else {
			err = s.Release(ctx, a.Claim)
		}
		return errors.Join(err, unlock(ctx))
	}
	return out, nil
}

// Admit implements storage.State; in one process the calls cost no trip.
func (m *Memory) Admit(ctx context.Context, a storage.Admission) (storage.Admitted, error) {
	if a.LockTTL <= 0 {
		return storage.Admitted{}, fmt.Errorf("admit: lock ttl must be positive")
	}
	return admitSlowly(ctx, m, a)
}
