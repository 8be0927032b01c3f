package news

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// buildLogEvery spaces the log lines of a long build.
const buildLogEvery = 10 * time.Second

// outboxBuilds runs the outbox builds of this process past the update or
// round that started them, for as long as ServeBuilds runs.
type outboxBuilds struct {
	once  sync.Once
	owner string // this process as a builder

	mu  sync.Mutex
	ctx context.Context // ServeBuilds' context while it runs
	wg  sync.WaitGroup
}

// id names this process as the holder of builds.
func (o *outboxBuilds) id() string {
	o.once.Do(func() {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	})
	return o.owner
}

// serve lets builds go on in the background under ctx; stop waits for them
// to end once ctx has.
func (o *outboxBuilds) serve(ctx context.Context) (stop func()) {
	o.mu.Lock()
	o.ctx = ctx
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		o.ctx = nil
		o.mu.Unlock()
		o.wg.Wait()
	}
}

// run runs fn in the background while ServeBuilds runs; otherwise in the
// caller, to the end.
func (o *outboxBuilds) run(ctx context.Context, fn func(ctx context.Context)) {
	o.mu.Lock()
	bg := o.ctx
	if bg != nil {
		o.wg.Add(1)
	}
	o.mu.Unlock()
	if bg == nil {
		fn(ctx)
		return
	}
	go func() {
		defer o.wg.Done()
		fn(bg)
	}()
}

// ServeBuilds lets outbox builds go on in the background, past the update
// or round that started them, until ctx ends; wait blocks until then and
// until they have stopped (each gives its lease up, for another replica to
// resume it). Without it a build runs to its end in its caller.
func (s *Service) ServeBuilds(ctx context.Context) (wait func()) {
	stop := s.builds.serve(ctx)
	return func() {
		<-ctx.Done()
		stop()
	}
}

// launch starts a scheduled broadcast, or takes over the build of one
// whose builder died: it holds the build, builds the outbox (the whole
// audience, streamed in chunks, or in relay mode the sender's own people
// and a relay step for each organisation one level down) and returns once
// the first recipients are committed, so that the sender may be told.
// The rest is built in the background. A build held elsewhere, or over,
// is left alone.
func (s *Service) launch(ctx context.Context, b storage.Broadcast) error {
	now := s.clock()
	b, err := s.store.StartBuild(ctx, b.ID, s.builds.id(), now, now.Add(s.lease))
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start broadcast: %w", err)
	}
	first := make(chan error, 1)
	s.builds.run(ctx, func(ctx context.Context) { s.build(ctx, b, first) })
	select {
	case err := <-first:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// build builds b's outbox while holding its build, and tells first (once)
// when the first recipients are committed or the build ended.
func (s *Service) build(ctx context.Context, b storage.Broadcast, first chan<- error) {
	var once sync.Once
	ready := func(err error) { once.Do(func() { first <- err }) }
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopHold := s.holdBuild(ctx, b.ID, cancel)
	defer stopHold()

	started := s.clock()
	created, children, err := s.buildLevel(ctx, b, started, ready)
	if err == nil {
		err = s.store.EndBuild(ctx, b.ID, s.builds.id())
	}
	if err == nil {
		s.logger.InfoContext(ctx, "outbox built", "broadcast", b.ID, "created", created, "took", s.clock().Sub(started))
		s.kick()
		ready(nil)
		if err := s.offerLevel(ctx, b, children); err != nil {
			s.logger.WarnContext(ctx, "offer relay", "broadcast", b.ID, "err", err)
		}
		return
	}
	switch {
	case ctx.Err() != nil:
		// Stopping, or the build was taken over: not a failure. A stopping
		// process gives its lease up, so that another replica resumes now.
		if cause := context.Cause(ctx); !errors.Is(cause, storage.ErrConflict) {
			s.releaseBuild(ctx, b.ID)
		}
		s.logger.InfoContext(ctx, "outbox build stopped", "broadcast", b.ID, "created", created, "cause", context.Cause(ctx))
		ready(context.Cause(ctx))
	case errors.Is(err, storage.ErrConflict):
		s.logger.InfoContext(ctx, "outbox build ended early", "broadcast", b.ID, "created", created, "err", err)
		ready(nil)
	default:
		s.failBuild(ctx, b, created, err)
		ready(ErrBuildFailed)
	}
}

// buildLevel builds what b reaches at once: in direct mode the whole
// audience, streamed; in relay mode the sender's own people and chats and
// the relay steps of the orgs below, which it returns to be offered once
// the build is recorded.
func (s *Service) buildLevel(ctx context.Context, b storage.Broadcast, at time.Time, ready func(error)) (int, []storage.Org, error) {
	org, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return 0, nil, fmt.Errorf("load org: %w", err)
	}
	if b.Mode == storage.ModeRelay {
		children, err := s.prepareLevel(ctx, b, org)
		return 0, children, err
	}
	logged := at
	created, err := s.store.StreamOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}, Subtree: true}, storage.OutboxStream{
		At: at, Owner: s.builds.id(),
		Progress: func(created int) error {
			s.kick()
			if created > 0 {
				ready(nil)
			}
			if now := s.clock(); now.Sub(logged) >= buildLogEvery {
				logged = now
				s.logger.InfoContext(ctx, "outbox building", "broadcast", b.ID, "created", created, "for", now.Sub(at))
			}
			return nil
		},
	})
	if err != nil {
		return created, nil, fmt.Errorf("build outbox: %w", err)
	}
	return created, nil, nil
}

// holdBuild renews this process's lease on a broadcast's build every third
// of it until stop; a lease found lost cancels the build with ErrConflict.
func (s *Service) holdBuild(ctx context.Context, id int64, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(s.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				err := s.store.RenewBuild(ctx, id, s.builds.id(), s.clock().Add(s.lease))
				if errors.Is(err, storage.ErrConflict) {
					cancel(err)
					return
				}
				if err != nil && ctx.Err() == nil {
					s.logger.WarnContext(ctx, "renew outbox build", "broadcast", id, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// releaseBuild gives up this process's lease at once.
func (s *Service) releaseBuild(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.store.RenewBuild(ctx, id, s.builds.id(), s.clock()); err != nil {
		s.logger.WarnContext(ctx, "release outbox build", "broadcast", id, "err", err)
	}
}

// failBuild marks a broadcast whose outbox could not be built as failed and
// tells its author. When even that fails, the build is left to its lease:
// another replica takes it over and tries again.
func (s *Service) failBuild(ctx context.Context, b storage.Broadcast, created int, cause error) {
	s.logger.ErrorContext(ctx, "outbox build failed", "broadcast", b.ID, "created", created,
		"timeout", errors.Is(cause, storage.ErrTimeout), "err", cause)
	n, err := s.store.FailBuild(ctx, b.ID, s.builds.id(), s.clock())
	if err != nil {
		s.logger.ErrorContext(ctx, "mark broadcast failed", "broadcast", b.ID, "err", err)
		return
	}
	s.logger.InfoContext(ctx, "broadcast failed", "broadcast", b.ID, "deliveries_cancelled", n)
	s.progress.remove(b.ID)
	if err := s.showProgress(ctx, b.ID, true); err != nil {
		s.logger.WarnContext(ctx, "show final progress", "broadcast", b.ID, "err", err)
	}
	if b.AuthorID == 0 {
		return
	}
	if _, err := s.notifier.BroadcastFailed(ctx, b); err != nil {
		s.logger.ErrorContext(ctx, "tell author of a failed broadcast", "broadcast", b.ID, "err", err)
	}
}
