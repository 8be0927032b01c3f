package telegram_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func refusedCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
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
			if labels["platform"] == "telegram" && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Requests without the secret are counted, and logged once per interval
// with counts only, whatever they carry.
func TestWebhookRefusalsAreCountedNotLogged(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	logs := &lockedBuffer{}
	reg := prometheus.NewRegistry()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	cfg := telegram.Config{
		Token: platformtest.TelegramToken, APIURL: f.URL(),
		WebhookURL: "https://hub.example.org/telegram", WebhookSecret: hookSecret,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: bot.NewMetrics(reg),
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	}
	a := newAdapter(t, cfg)
	sink := &recordingSink{}
	srv := httptest.NewServer(a.WebhookHandler(sink))
	t.Cleanup(srv.Close)

	forge := func(secret string) {
		body := `{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"` + strings.Repeat("a", 64<<10) + `"}}`
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %.10q: status %d, want 401", secret, resp.StatusCode)
		}
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() { forge(strings.Repeat("x", i%300)) })
	}
	wg.Wait()
	if n := refusedCount(t, reg, bot.RefusedSecret); n != 200 {
		t.Fatalf("refusals counted: %v, want 200", n)
	}
	if out := logs.String(); strings.Count(out, "\n") != 1 || len(out) > 512 || strings.Contains(out, "aaaa") || strings.Contains(out, "xxxx") {
		t.Fatalf("log for 200 forged requests, want one short line without their content:\n%.2000s", out)
	}

	mu.Lock()
	now = now.Add(bot.RefusalLogInterval)
	mu.Unlock()
	forge("")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var last struct {
		Level    string         `json:"level"`
		Refused  int            `json:"refused"`
		ByReason map[string]int `json:"by_reason"`
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &last) != nil || last.Level != "WARN" ||
		last.Refused != 200 || last.ByReason[bot.RefusedSecret] != 200 {
		t.Fatalf("after the interval, lines:\n%s", logs.String())
	}
	if len(sink.got()) != 0 {
		t.Fatal("a forged update reached the core")
	}
}
