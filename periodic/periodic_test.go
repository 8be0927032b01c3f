package periodic

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// logs collects a runner's log lines from its loops' goroutines.
type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count counts the lines containing every part.
func (l *logs) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for line := range strings.SplitSeq(l.b.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newRunner returns a runner on the bubble's clock with its logs.
func newRunner() (*Runner, *logs) {
	out := &logs{}
	return NewRunner(prometheus.NewRegistry(), time.Now, slog.New(slog.NewTextHandler(out, nil))), out
}

// value reads a metric of the runner by name and labels, as /metrics shows it.
func (r *Runner) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.lastOK, r.rounds)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return 0
}

func (r *Runner) count(t *testing.T, loop, outcome string) int {
	return int(r.value(t, "unionhub_loop_rounds_total", map[string]string{"loop": loop, "outcome": outcome}))
}

// script is a round that plays one step per call and then succeeds; it
// counts the calls.
type script struct {
	mu    sync.Mutex
	calls int
	steps []func(ctx context.Context) error
}

func (s *script) round(ctx context.Context) error {
	s.mu.Lock()
	i := s.calls
	s.calls++
	s.mu.Unlock()
	if i < len(s.steps) {
		return s.steps[i](ctx)
	}
	return nil
}

func (s *script) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func hang(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func TestFailedRoundsDoNotStopTheLoop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		step    func(ctx context.Context) error
		outcome string
		logged  string
	}{
		{"a round hanging on a call is cut by its timeout", hang, outcomeTimeout, "round cut at its 10s timeout: context deadline exceeded"},
		{"a panicking round", func(context.Context) error { panic("nil map") }, outcomePanic, "round panicked: nil map"},
		{"a round returning an error", func(context.Context) error { return errors.New("list orgs: broken") }, outcomeError, "list orgs: broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r, out := newRunner()
				s := &script{steps: []func(context.Context) error{tt.step}}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() {
					defer close(done)
					r.Run(ctx, Loop{Name: "jobs", Every: time.Minute, Timeout: 10 * time.Second, Round: s.round})
				}()
				time.Sleep(time.Minute + time.Second)
				synctest.Wait()
				if s.n() != 2 || r.count(t, "jobs", tt.outcome) != 1 || r.count(t, "jobs", outcomeOK) != 1 {
					t.Fatalf("%d rounds, %d %s and %d ok; want the failed round, then a good one\n%s",
						s.n(), r.count(t, "jobs", tt.outcome), tt.outcome, r.count(t, "jobs", outcomeOK), out)
				}
				if out.count("periodic round failed", "loop=jobs", "outcome="+tt.outcome, tt.logged) != 1 ||
					out.count("periodic loop recovered", "loop=jobs", "failed_rounds=1") != 1 {
					t.Fatalf("logs lack the failure or the recovery:\n%s", out)
				}
				if got := r.value(t, "unionhub_loop_last_success_timestamp_seconds", map[string]string{"loop": "jobs"}); got != float64(time.Now().Add(-time.Second).Unix()) {
					t.Fatalf("last success %v, want the second round's time %v", got, time.Now().Add(-time.Second).Unix())
				}
				cancel()
				<-done
			})
		})
	}
}

func TestStaleWhileRoundsFailAndFreshAfter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r, out := newRunner()
		failing := func(context.Context) error { return errors.New("database down") }
		s := &script{}
		for range 10 {
			s.steps = append(s.steps, failing)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go r.Run(ctx, Loop{Name: "jobs", Every: 20 * time.Second, Timeout: 5 * time.Second, Round: s.round})
		go r.Run(ctx, Loop{Name: "progress", Every: time.Second, Timeout: time.Second, Round: func(context.Context) error { return nil }})

		// Failures are logged at once, then at most once a minute: at 0 s
		// and 60 s of the rounds at 0, 20, 40 and 60 s.
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if n := out.count("periodic round failed", "loop=jobs"); n != 1 || len(r.Stale()) != 0 {
			t.Fatalf("%d failure lines and stale %v after 59 s, want 1 and none:\n%s", n, r.Stale(), out)
		}
		// Three intervals and a timeout (65 s) without a success make it stale.
		time.Sleep(7 * time.Second)
		synctest.Wait()
		if st := r.Stale(); !slices.Equal(st, []string{"jobs"}) {
			t.Fatalf("stale %v after 66 s, want [jobs]", st)
		}
		if n := out.count("periodic round failed", "loop=jobs", "failed_rounds=4"); n != 1 || out.count("periodic round failed") != 2 {
			t.Fatalf("want a second failure line, for the fourth round:\n%s", out)
		}
		// The eleventh round (at 200 s) succeeds.
		time.Sleep(135 * time.Second)
		synctest.Wait()
		if st := r.Stale(); len(st) != 0 || s.n() != 11 {
			t.Fatalf("stale %v after %d rounds, want none after the 11th succeeded", st, s.n())
		}
		if out.count("periodic loop recovered", "loop=jobs", "failed_rounds=10") != 1 || out.count("periodic round failed") != 4 {
			t.Fatalf("want failures logged at 0, 60, 120 and 180 s, then the recovery:\n%s", out)
		}
	})
}

func TestRoundIgnoringItsTimeoutIsReportedAndWaitedFor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r, out := newRunner()
		release := make(chan struct{})
		var running, most int
		var mu sync.Mutex
		round := func(context.Context) error {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			<-release // deaf to its context
			return nil
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go r.Run(ctx, Loop{Name: "escalations", Every: time.Second, Timeout: 10 * time.Second, Round: round})
		time.Sleep(19 * time.Second)
		synctest.Wait()
		if out.count("overran its timeout") != 0 {
			t.Fatalf("an overrun logged before twice the timeout:\n%s", out)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if out.count("periodic round overran its timeout", "loop=escalations", "timeout=10s") != 1 {
			t.Fatalf("no overrun line after twice the timeout:\n%s", out)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := r.Stale(); !slices.Equal(st, []string{"escalations"}) {
			t.Fatalf("stale %v while the round hangs, want [escalations]", st)
		}
		close(release)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if most != 1 || len(r.Stale()) != 0 {
			t.Fatalf("%d rounds at once, stale %v; want one at a time and fresh after", most, r.Stale())
		}
	})
}

// TestStopLetsTheRunningRoundFinish: a stop arriving mid-round does not cut
// the round (a notice on its way would look unsent and go again after the
// restart); Run returns once the round is done, and starts no other.
func TestStopLetsTheRunningRoundFinish(t *testing.T) {
	t.Parallel()
	r, _ := newRunner()
	ctx, stop := context.WithCancel(context.Background())
	inside, finish := make(chan struct{}), make(chan struct{})
	var rounds atomic.Int32
	var cut atomic.Bool
	returned := make(chan struct{})
	go func() {
		r.Run(ctx, Loop{Name: "notices", Every: time.Millisecond, Timeout: time.Minute, Round: func(ctx context.Context) error {
			if rounds.Add(1) == 1 {
				close(inside)
				<-finish
				cut.Store(ctx.Err() != nil)
			}
			return nil
		}})
		close(returned)
	}()
	<-inside
	stop()
	select {
	case <-returned:
		t.Fatal("Run returned while its round was still running")
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	<-returned
	if cut.Load() {
		t.Fatal("the stop cut the running round's context")
	}
	if n := rounds.Load(); n != 1 {
		t.Fatalf("%d rounds ran, want only the one under way", n)
	}
}
