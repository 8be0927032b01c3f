package monitoring

import (
	"context"
	"sync"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// ObservedSnapshot is what the hub observed of a subtree in a period and
// the one before, as of At.
type ObservedSnapshot struct {
	Now, Before Observed
	At          time.Time
}

// Snapshots live this long before a page asks for a new one, and at most
// this many are kept.
const (
	SnapshotFresh  = 10 * time.Minute
	snapshotAtMost = 64
	// snapshotTimeout bounds one computation in the background.
	snapshotTimeout = 2 * time.Minute
)

// snapshots keep the observed indicators the console shows: reading a
// year of the Union's records takes half a second, a page has 100 ms.
type snapshots struct {
	mu      sync.Mutex
	byKey   map[snapshotKey]ObservedSnapshot
	running map[snapshotKey]bool
}

type snapshotKey struct {
	org    int64
	period string
}

// ObservedSnapshotFor is the latest snapshot of what the hub observed of
// org's subtree in period (empty: this year) and the one before, for a
// page that cannot wait: a snapshot missing or older than SnapshotFresh is
// computed anew in the background, and ok is false until the first is
// there. The rights are those of ReportFor.
func (s *Service) ObservedSnapshotFor(ctx context.Context, by access.Actor, org storage.Org, period string) (snap ObservedSnapshot, ok bool, err error) {
	p, err := s.periodFor(by, org, period)
	if err != nil {
		return snap, false, err
	}
	k := snapshotKey{org: org.ID, period: p.Name}
	now := s.clock()
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	snap, ok = s.snaps.byKey[k]
	if (!ok || now.Sub(snap.At) >= SnapshotFresh) && !s.snaps.running[k] {
		s.snaps.running[k] = true
		go s.takeSnapshot(context.WithoutCancel(ctx), k, org, p)
	}
	return snap, ok, nil
}

// takeSnapshot computes a snapshot and keeps it, making room by dropping
// the oldest.
func (s *Service) takeSnapshot(ctx context.Context, k snapshotKey, org storage.Org, p Period) {
	ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	at := s.clock()
	r, err := s.report(ctx, org, p, true)
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	delete(s.snaps.running, k)
	if err != nil {
		s.logger.WarnContext(ctx, "observe the indicators for the console", "org", org.ID, "period", p.Name, "err", err)
		return
	}
	if len(s.snaps.byKey) >= snapshotAtMost {
		var oldest snapshotKey
		first := true
		for key, e := range s.snaps.byKey {
			if first || e.At.Before(s.snaps.byKey[oldest].At) {
				oldest, first = key, false
			}
		}
		delete(s.snaps.byKey, oldest)
	}
	snap := ObservedSnapshot{At: at}
	if r.Observed != nil {
		snap.Now = *r.Observed
	}
	if r.PrevObserved != nil {
		snap.Before = *r.PrevObserved
	}
	s.snaps.byKey[k] = snap
}
