package bot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// refusedCount reads unionhub_webhook_refused_total for p and reason.
func refusedCount(t *testing.T, reg *prometheus.Registry, p Platform, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != "unionhub_webhook_refused_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == string(p) && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestRefusalsCountEachAndLogOncePerInterval(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := NewRefusals(VK, NewMetrics(reg), slog.New(slog.NewJSONHandler(&logs, nil)), time.Minute, clock)

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			reason := RefusedSecret
			if i%4 == 0 {
				reason = RefusedTooLarge
			}
			r.Refuse(t.Context(), reason)
		})
	}
	wg.Wait()
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Fatalf("%d log lines for 40 refusals within the interval, want 1:\n%s", n, logs.String())
	}
	if s, l := refusedCount(t, reg, VK, RefusedSecret), refusedCount(t, reg, VK, RefusedTooLarge); s != 30 || l != 10 {
		t.Fatalf("counted secret %v, too_large %v; want 30, 10", s, l)
	}

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	r.Refuse(t.Context(), RefusedMalformed)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines after the interval, want 2:\n%s", len(lines), logs.String())
	}
	var first, second struct {
		Level    string         `json:"level"`
		Refused  int            `json:"refused"`
		ByReason map[string]int `json:"by_reason"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	// The first line reports the first refusal; the second, the 39 held
	// back and the new one.
	if first.Level != "WARN" || first.Refused != 1 {
		t.Fatalf("first line %+v", first)
	}
	if second.Refused != 40 || second.ByReason[RefusedSecret]+second.ByReason[RefusedTooLarge] != 39 || second.ByReason[RefusedMalformed] != 1 {
		t.Fatalf("second line %+v", second)
	}
}
