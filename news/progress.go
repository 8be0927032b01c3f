package news

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// progressWatch lists the broadcasts whose progress message this process
// keeps up to date.
type progressWatch struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (w *progressWatch) add(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ids == nil {
		w.ids = map[int64]bool{}
	}
	w.ids[id] = true
}

func (w *progressWatch) remove(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.ids, id)
}

func (w *progressWatch) list() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []int64
	for id := range w.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// KeepProgress records where the author of a broadcast they started is
// shown its progress, and keeps that message up to date from this process
// (ProgressRound) until the broadcast is over.
func (s *Service) KeepProgress(ctx context.Context, by access.Actor, b storage.Broadcast, at storage.DeskPost) error {
	if b.AuthorID != by.PersonID || by.PersonID == 0 {
		return fmt.Errorf("progress of broadcast %d: %w", b.ID, access.ErrForbidden)
	}
	if err := s.store.SetBroadcastProgress(ctx, b.ID, at); err != nil {
		return fmt.Errorf("remember progress message: %w", err)
	}
	s.progress.add(b.ID)
	return nil
}

// ProgressRound refreshes the authors' progress messages. A message that
// cannot be updated is only a warning: the broadcast itself goes on, so it
// does not fail the round.
// Broadcasts over whose action was answered meanwhile show their new
// counts, so that a thousand answers make one edit a round, not a thousand.
func (s *Service) ProgressRound(ctx context.Context) error {
	sending := s.progress.list()
	for _, id := range sending {
		if err := s.showProgress(ctx, id, false); err != nil {
			s.logger.WarnContext(ctx, "show progress", "broadcast", id, "err", err)
		}
	}
	for _, id := range s.answered.list() {
		s.answered.remove(id)
		if slices.Contains(sending, id) {
			continue
		}
		if err := s.showProgress(ctx, id, true); err != nil {
			s.logger.WarnContext(ctx, "show action counts", "broadcast", id, "err", err)
		}
	}
	return nil
}

// BroadcastFinished shows the final figures once the engine has nothing
// left to send for a broadcast.
func (s *Service) BroadcastFinished(ctx context.Context, b storage.Broadcast) {
	s.progress.remove(b.ID)
	if err := s.showProgress(ctx, b.ID, true); err != nil {
		s.logger.WarnContext(ctx, "show final progress", "broadcast", b.ID, "err", err)
	}
}

// showProgress brings the author's progress message of a broadcast, if it
// has one, up to date. A failed broadcast's figures change no more.
func (s *Service) showProgress(ctx context.Context, id int64, final bool) error {
	b, err := s.store.Broadcast(ctx, id)
	if err != nil {
		return fmt.Errorf("load broadcast: %w", err)
	}
	if b.Progress == nil {
		return nil
	}
	r, err := BuildReport(ctx, s.store, b)
	if err != nil {
		return err
	}
	if b.Status == storage.BroadcastFailed {
		s.progress.remove(b.ID)
	}
	return s.notifier.ShowProgress(ctx, Progress{Broadcast: b, Report: r, Final: final})
}
