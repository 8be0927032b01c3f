package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionhub/unionhub/periodic"
)

// ping is a dependency that answers err.
type ping struct{ err error }

func (p ping) Ping(context.Context) error { return p.err }

// TestHealthzDegradedWhileALoopIsStale runs the jobs loop on the bubble's
// clock with rounds that fail until the test lets them succeed: /healthz
// answers ok, then degraded once no round has succeeded for three
// intervals and a timeout, then ok again after a good round. A dependency
// down is reported first.
func TestHealthzDegradedWhileALoopIsStale(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		loops := periodic.NewRunner(reg, time.Now, slog.New(slog.DiscardHandler))
		var failing atomic.Bool
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go loops.Run(ctx, periodic.Loop{Name: "jobs", Every: time.Minute, Timeout: 10 * time.Second, Round: func(context.Context) error {
			if failing.Load() {
				return errors.New("list orgs: connection refused")
			}
			return nil
		}})
		healthz := func(db error) (int, string) {
			rec := httptest.NewRecorder()
			adminHandler(reg, ping{db}, ping{}, loops).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
			return rec.Code, rec.Body.String()
		}
		check := func(when string, db error, code int, body string) {
			t.Helper()
			synctest.Wait()
			if c, b := healthz(db); c != code || b != body {
				t.Fatalf("%s: healthz %d %q, want %d %q", when, c, b, code, body)
			}
		}

		check("at the start", nil, http.StatusOK, "ok\n")
		failing.Store(true)
		time.Sleep(3*time.Minute + 10*time.Second) // the last good round was at 0 s
		check("three intervals and a timeout after the last good round", nil, http.StatusOK, "ok\n")
		time.Sleep(time.Second)
		check("a second later", nil, http.StatusServiceUnavailable, "degraded: jobs round stale\n")
		check("with the database down too", errors.New("refused"), http.StatusServiceUnavailable, "database unavailable\n")
		failing.Store(false)
		time.Sleep(time.Minute)
		check("after a good round", nil, http.StatusOK, "ok\n")
	})
}
