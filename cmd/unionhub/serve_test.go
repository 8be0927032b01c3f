package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testLimits are serverLimits shortened so that a test sees them act.
var testLimits = httpLimits{
	readHeader:     200 * time.Millisecond,
	read:           300 * time.Millisecond,
	write:          time.Second,
	idle:           300 * time.Millisecond,
	maxHeaderBytes: 4 << 10,
	maxConns:       8,
}

// startServer serves h within limits until the test ends.
func startServer(t *testing.T, h http.Handler, limits httpLimits) string {
	t.Helper()
	a := &app{logger: slog.New(slog.NewJSONHandler(t.Output(), nil))}
	srv, err := a.listenWith(t.Context(), "127.0.0.1:0", h, limits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.Addr
}

// readsBody is a webhook handler's first step: it reads the whole body.
var readsBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, "ok")
})

// closedByServer reads from c until the server closes it; a safety net far
// above the limits keeps a broken server from hanging the test.
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept the connection open")
	}
}

func TestWebhookServerCutsSlowClients(t *testing.T) {
	t.Parallel()
	addr := startServer(t, readsBody, testLimits)
	cases := []struct {
		name  string
		write func(c net.Conn)
	}{
		{"slow body", func(c net.Conn) {
			fmt.Fprintf(c, "POST /vk/callback HTTP/1.1\r\nHost: hub\r\nContent-Length: 1000\r\n\r\n{\"type\":")
		}},
		{"slow headers", func(c net.Conn) { fmt.Fprintf(c, "POST /vk/callback HTTP/1.1\r\nHost: hub\r\n") }},
		{"nothing sent", func(net.Conn) {}},
		{"idle after a request", func(c net.Conn) {
			fmt.Fprintf(c, "POST /vk/callback HTTP/1.1\r\nHost: hub\r\nContent-Length: 2\r\n\r\n{}")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("idle after a request: the request itself failed: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// As many as the server takes at once: each must be let go.
			conns := make([]net.Conn, testLimits.maxConns)
			for i := range conns {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				tc.write(c)
				conns[i] = c
			}
			for _, c := range conns {
				closedByServer(t, c)
			}
		})
	}
}

func TestWebhookServerRefusesLargeHeaders(t *testing.T) {
	t.Parallel()
	addr := startServer(t, readsBody, testLimits)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/telegram/webhook", strings.NewReader("{}"))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", strings.Repeat("s", 2*testLimits.maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

// capped starts a server that takes two connections at once, opens both with
// hold, and starts a request on a third connection; it returns the holders
// and the third request's outcome.
func capped(t *testing.T, hold func(c net.Conn)) ([]net.Conn, <-chan error) {
	t.Helper()
	limits := testLimits
	limits.readHeader, limits.read, limits.idle, limits.maxConns = time.Minute, time.Minute, time.Minute, 2
	addr := startServer(t, readsBody, limits)
	var holders []net.Conn
	for range limits.maxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		hold(c)
		holders = append(holders, c)
	}
	done := make(chan error, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+"/", strings.NewReader("{}"))
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	return holders, done
}

func TestWebhookServerCapsBusyConnections(t *testing.T) {
	t.Parallel()
	// Both holders are in the middle of a request: neither may be cut.
	holders, done := capped(t, func(c net.Conn) {
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: hub\r\nContent-Length: 1000\r\n\r\n{")
	})
	select {
	case err := <-done:
		t.Fatalf("a third connection was served while two were busy (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	holders[0].Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting connection was not served after one closed")
	}
}

func TestWebhookServerClosesIdleConnectionsForWaitingOnes(t *testing.T) {
	t.Parallel()
	// Both holders were served and keep their connections for later, as a
	// browser or a platform's pool does.
	holders, done := capped(t, func(c net.Conn) {
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: hub\r\nContent-Length: 2\r\n\r\n{}")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("holder: %v", err)
		}
	})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting connection stayed unserved while two idle ones held the slots")
	}
	closed := 0
	for _, c := range holders {
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d idle connections closed to make room for one, want 1", closed)
	}
}

// The server's own complaints go through slog, never as plain text to stderr.
func TestWebhookServerLogsThroughSlog(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	a := &app{logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	srv, err := a.listenWith(t.Context(), "127.0.0.1:0", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("handler broke")
	}), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if resp, err := http.Get("http://" + srv.Addr + "/"); err == nil {
		resp.Body.Close()
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "handler broke"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server's panic report did not reach slog")
		}
	}
	if !strings.HasPrefix(logs.String(), `{"time":`) {
		t.Fatalf("not a JSON line: %.300s", logs.String())
	}
}

func TestServeRefusesBadSurveyConfig(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite, withoutRedis())
	r.importExample()

	missing := filepath.Join(t.TempDir(), "surveys")
	r.setenv("UNIONHUB_SURVEYS_DIR", missing)
	for _, cmd := range []string{"serve", "config"} {
		if _, errOut, code := r.run(cmd); code != exitUsage || !strings.Contains(errOut, "UNIONHUB_SURVEYS_DIR") || !strings.Contains(errOut, "does not exist") {
			t.Fatalf("%s with a missing surveys dir: exit %d, %q", cmd, code, errOut)
		}
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "quarterly.yaml")
	survey := "id: quarterly\ntitle: {ru: Квартал}\nquestions:\n  - id: q1\n    type: yes_no\n    text: {ru: Стенд есть}\n" +
		"schedules:\n  - name: branches\n    cron: \"0 9 1 */3 *\"\n    org: no-such-org\n    deadline: 14d\n" +
		"  - {name: edu, cron: \"0 9 1 */3 *\", org: edu, deadline: 14d}\n"
	if err := os.WriteFile(file, []byte(survey), 0o600); err != nil {
		t.Fatal(err)
	}
	r.setenv("UNIONHUB_SURVEYS_DIR", dir)
	_, errOut, code := r.run("serve")
	want := file + `:10: schedule "branches": org "no-such-org" is not in the organisation tree`
	if code != exitUsage || !strings.Contains(errOut, want) || strings.Contains(errOut, `"edu"`) {
		t.Fatalf("serve with a schedule naming an unknown org: exit %d, %q; want %q", code, errOut, want)
	}
	if n := r.tg.Calls("getMe"); n != 0 {
		t.Fatalf("serve reached Telegram (%d getMe) before refusing the surveys", n)
	}
}

// TestAFailedIntakeStopsServeAsOne fails Telegram's setWebhook for good:
// the intake returns, and serve stops every other service with it and
// exits with the failure, instead of running on deaf to Telegram.
func TestAFailedIntakeStopsServeAsOne(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite)
	r.setenv("TELEGRAM_WEBHOOK_URL", "http://"+r.getenv("UNIONHUB_HTTP_ADDR")+"/telegram/webhook")
	r.setenv("TELEGRAM_WEBHOOK_SECRET", "tg_webhook-Secret1")
	r.importExample()
	r.tg.FailNext("setWebhook", 1000, 401, "Unauthorized", 0)
	var out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), []string{"serve"}, r.getenv, &out, &out, r.clock.Now) }()
	select {
	case code := <-done:
		if code == exitOK || !strings.Contains(out.String(), "telegram intake") {
			t.Fatalf("serve exited %d:\n%s", code, out.String())
		}
		if !strings.Contains(out.String(), `"msg":"stopped"`) {
			t.Fatalf("serve did not stop its services in order:\n%s", out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve kept running with its Telegram intake gone:\n%s", out.String())
	}
}

// The rig starts serve again on another port when another process took the
// one freeAddr found free.
func TestRigServesOnAnotherPortWhenItsOwnIsTaken(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite, withoutRedis())
	taken := r.getenv("UNIONHUB_HTTP_ADDR")
	ln, err := net.Listen("tcp", taken)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r.serve()
	if now := r.getenv("UNIONHUB_HTTP_ADDR"); now == taken {
		t.Fatalf("serve runs on %s, which another process holds", now)
	}
	if code := r.stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
}
