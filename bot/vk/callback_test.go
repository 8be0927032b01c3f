package vk_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/vk"
)

// lockedBuffer is a log destination handlers write to concurrently.
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

// movableClock is a clock a test moves.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movableClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// callbackRig serves a callback-mode adapter whose logs, metrics and clock
// the test reads and moves.
type callbackRig struct {
	url   string
	sink  *testSink
	logs  *lockedBuffer
	reg   *prometheus.Registry
	clock *movableClock
}

func newCallbackRig(t *testing.T) callbackRig {
	t.Helper()
	f := platformtest.NewVK(t)
	r := callbackRig{sink: newSink(), logs: &lockedBuffer{}, reg: prometheus.NewRegistry(),
		clock: &movableClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}}
	a, err := vk.New(t.Context(), vk.Config{
		Token: platformtest.VKToken, APIURL: f.APIURL(),
		CallbackConfirmation: testConfirmation, CallbackSecret: testSecret,
		Logger: slog.New(slog.NewJSONHandler(r.logs, nil)), Metrics: bot.NewMetrics(r.reg), Clock: r.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.CallbackHandler(r.sink))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// post sends body; chunked hides its length from the server.
func (r callbackRig) post(t *testing.T, body []byte, chunked bool) (int, string) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // not a type whose length the client knows
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if chunked != (req.ContentLength <= 0) {
		t.Fatalf("chunked %v but the request length is %d", chunked, req.ContentLength)
	}
	return resp.StatusCode, strings.TrimSpace(string(answer))
}

func (r callbackRig) refused(t *testing.T, reason string) float64 {
	t.Helper()
	families, err := r.reg.Gather()
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
			if labels["platform"] == "vk" && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// callbackEvent is a message_new event; kind replaces its type.
func callbackEvent(id, secret, kind string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": kind, "group_id": platformtest.VKGroupID, "event_id": id, "v": "5.199", "secret": secret,
		"object": map[string]any{"message": map[string]any{"from_id": 501, "peer_id": 501, "text": "hi", "conversation_message_id": 1}},
	})
	return b
}

// padded fills an event with trailing spaces, which JSON allows, to size.
func padded(event []byte, size int) []byte {
	return append(event, bytes.Repeat([]byte(" "), size-len(event))...)
}

func TestCallbackBodyLimits(t *testing.T) {
	t.Parallel()
	r := newCallbackRig(t)
	limit := vk.MaxCallbackBody
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		status  int
		answer  string
		reason  string // counted refusal
	}{
		{"limit bytes", padded(callbackEvent("e1", testSecret, "message_new"), limit), false, http.StatusOK, "ok", ""},
		{"limit bytes chunked", padded(callbackEvent("e2", testSecret, "message_new"), limit), true, http.StatusOK, "ok", ""},
		{"limit+1 bytes", padded(callbackEvent("e3", testSecret, "message_new"), limit+1), false, http.StatusRequestEntityTooLarge, "", bot.RefusedTooLarge},
		{"limit+1 bytes chunked", padded(callbackEvent("e4", testSecret, "message_new"), limit+1), true, http.StatusRequestEntityTooLarge, "", bot.RefusedTooLarge},
		{"trailing JSON", append(callbackEvent("e5", testSecret, "message_new"), `{"type":"message_new"}`...), false, http.StatusBadRequest, "", bot.RefusedMalformed},
		{"trailing garbage", append(callbackEvent("e6", testSecret, "message_new"), `x`...), true, http.StatusBadRequest, "", bot.RefusedMalformed},
		{"two events", append(callbackEvent("e7", testSecret, "message_new"), callbackEvent("e8", testSecret, "message_new")...), false, http.StatusBadRequest, "", bot.RefusedMalformed},
		{"cut short", callbackEvent("e9", testSecret, "message_new")[:40], false, http.StatusBadRequest, "", bot.RefusedMalformed},
	}
	for _, tt := range tests {
		before := r.refused(t, tt.reason)
		status, answer := r.post(t, tt.body, tt.chunked)
		if status != tt.status || (tt.answer != "" && answer != tt.answer) {
			t.Errorf("%s: %d %q, want %d %q", tt.name, status, answer, tt.status, tt.answer)
		}
		if tt.reason != "" && r.refused(t, tt.reason) != before+1 {
			t.Errorf("%s: refusal %q not counted", tt.name, tt.reason)
		}
	}
	// Only the two events within the limit reached the core.
	for _, id := range []string{"e1", "e2"} {
		if u := r.sink.next(t); u.ID != id {
			t.Fatalf("delivered %q, want %q", u.ID, id)
		}
	}
	r.sink.none(t, 50*time.Millisecond)
}

// Forged events are counted, and logged once per interval with counts only:
// 200 of them with a 64 KB type add one short line, not 200 long ones.
func TestCallbackRefusalsAreCountedNotLogged(t *testing.T) {
	t.Parallel()
	r := newCallbackRig(t)
	huge := strings.Repeat("a", 64<<10)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			body := callbackEvent(fmt.Sprint("forged", i), "wrong-"+huge[:i], huge)
			if i%10 == 0 {
				body = padded(body, vk.MaxCallbackBody+1)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url, bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if want := map[bool]int{true: http.StatusRequestEntityTooLarge, false: http.StatusForbidden}[i%10 == 0]; resp.StatusCode != want {
				t.Errorf("forged event %d: status %d, want %d", i, resp.StatusCode, want)
			}
		})
	}
	wg.Wait()
	if s, l := r.refused(t, bot.RefusedSecret), r.refused(t, bot.RefusedTooLarge); s != 180 || l != 20 {
		t.Fatalf("refusals counted: secret %v, too_large %v; want 180, 20", s, l)
	}
	logs := r.logs.String()
	if n := strings.Count(logs, "\n"); n != 1 || len(logs) > 512 || strings.Contains(logs, "aaaa") || strings.Contains(logs, "forged") {
		t.Fatalf("%d log lines of %d bytes for 200 forged events, want one short line without their content:\n%.2000s", n, len(logs), logs)
	}

	r.clock.add(bot.RefusalLogInterval)
	if status, _ := r.post(t, callbackEvent("late", "wrong", "message_new"), false); status != http.StatusForbidden {
		t.Fatalf("late forged event: status %d", status)
	}
	lines := strings.Split(strings.TrimSpace(r.logs.String()), "\n")
	var last struct {
		Refused  int            `json:"refused"`
		ByReason map[string]int `json:"by_reason"`
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &last) != nil || last.Refused != 200 ||
		last.ByReason[bot.RefusedSecret]+last.ByReason[bot.RefusedTooLarge] != 200 {
		t.Fatalf("after the interval, lines:\n%s", r.logs.String())
	}
	r.sink.none(t, 10*time.Millisecond)
}

// Bodies whose secret is not checked yet hold at most CallbackBudget bytes:
// past it a request is refused before its body is read.
func TestCallbackBudgetBoundsUncheckedBodies(t *testing.T) {
	t.Parallel()
	r := newCallbackRig(t)
	addr := strings.TrimPrefix(r.url, "http://")
	holders := vk.CallbackBudget / vk.MaxCallbackBody
	body := padded(callbackEvent("slow", "wrong", "message_new"), vk.MaxCallbackBody)
	var conns []net.Conn
	for range holders {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// The headers and half the body: the handler waits for the rest.
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", addr, len(body))
		if _, err := c.Write(body[:len(body)/2]); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// Once every holder's handler runs, the budget is spent: a small event
	// is refused as busy, without its body being read.
	small := callbackEvent("small", "wrong", "message_new")
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _ := r.post(t, small, false)
		if status == http.StatusServiceUnavailable {
			break
		}
		if status != http.StatusForbidden || time.Now().After(deadline) {
			t.Fatalf("with the budget held: status %d, want 503 once the holders are read", status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r.refused(t, bot.RefusedBusy) < 1 {
		t.Fatal("the busy refusal was not counted")
	}
	for _, c := range conns {
		if _, err := c.Write(body[len(body)/2:]); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a holder's forged event: status %d, want 403", resp.StatusCode)
		}
	}
	// The budget is given back.
	if status, answer := r.post(t, callbackEvent("real", testSecret, "message_new"), false); status != http.StatusOK || answer != "ok" {
		t.Fatalf("after the holders: %d %q", status, answer)
	}
	if u := r.sink.next(t); u.ID != "real" {
		t.Fatalf("delivered %q", u.ID)
	}
}
