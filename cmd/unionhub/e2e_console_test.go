package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// signInLink finds a console sign-in link and its token in a text.
var signInLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/signin/([A-Za-z0-9_-]{43})`)

// browser is an HTTP client with a cookie jar, as a person's browser.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// page sends a request and returns the final status and body.
func page(t *testing.T, c *http.Client, method, target string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// serveApart runs `serve` on the rig's environment with its standard
// output and standard error apart, until the returned stop is called; it
// waits until serve logs "serving", which it does once its listeners are
// up and the first sign-in link, if any, is printed.
func serveApart(t *testing.T, r *rig) (stdout, stderr *syncBuffer, stop func() int) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, r.getenv, stdout, stderr, r.clock.Now, r.opts...) }()
	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(40 * time.Second):
			t.Fatal("serve did not stop within 40 s")
			return exitFail
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(stderr.String(), `"msg":"serving"`) {
			return stdout, stderr, stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before serving:\n%s", code, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not serving after 20 s:\n%s", stderr)
		}
	}
}

// jsonLines splits a log into its JSON lines and the rest.
func jsonLines(t *testing.T, log string) (entries []map[string]any, other []string) {
	t.Helper()
	for line := range strings.SplitSeq(log, "\n") {
		var e map[string]any
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &e) == nil:
			entries = append(entries, e)
		default:
			other = append(other, line)
		}
	}
	return entries, other
}

// TestServeWithNothingConfigured runs `serve` as the README's first
// command does: no token, no DATABASE_URL, no REDIS_URL. It runs the
// console, prints the admin sign-in link on the terminal and never into
// the structured log, and says which tokens to set.
func TestServeWithNothingConfigured(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite, withoutRedis())
	for _, k := range []string{"TELEGRAM_TOKEN", "VK_TOKEN", "VK_GROUP_ID"} {
		r.setenv(k, "")
	}
	stdout, stderr, stop := serveApart(t, r)
	link := signInLink.FindStringSubmatch(stderr.String())
	if link == nil {
		t.Fatalf("no sign-in link on standard error:\n%s", stderr)
	}
	if !strings.HasPrefix(link[0], "http://"+r.getenv("UNIONHUB_HTTP_ADDR")+"/signin/") {
		t.Errorf("the link %s is not on UNIONHUB_HTTP_ADDR", link[0])
	}
	entries, other := jsonLines(t, stderr.String())
	printed := 0
	for _, line := range other {
		if strings.Contains(line, link[1]) {
			printed++
		}
	}
	if printed != 1 || strings.Contains(stdout.String(), link[1]) {
		t.Errorf("the link printed %d times outside the log, want once on standard error; stdout:\n%s", printed, stdout)
	}
	told := false
	for _, e := range entries {
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), link[1]) {
			t.Errorf("the structured log holds the token: %s", raw)
		}
		msg, _ := e["msg"].(string)
		told = told || (e["level"] == "INFO" && strings.Contains(msg, "TELEGRAM_TOKEN") && strings.Contains(msg, "VK_TOKEN"))
	}
	if !told {
		t.Errorf("no info line says which tokens to set:\n%s", stderr)
	}

	base := "http://" + r.getenv("UNIONHUB_HTTP_ADDR")
	b := browser(t)
	if status, body := page(t, b, http.MethodGet, base+"/"); status != http.StatusOK || !strings.Contains(body, "Вход в пульт") {
		t.Fatalf("the console without a session: %d\n%s", status, body)
	}
	if status, body := page(t, b, http.MethodGet, link[0]); status != http.StatusOK || !strings.Contains(body, "Войти как Аппарат Союза") {
		t.Fatalf("the link: %d\n%s", status, body)
	}
	status, body := page(t, b, http.MethodPost, link[0])
	if status != http.StatusOK || !strings.Contains(body, "Загрузите структуру Союза") || !strings.Contains(body, "TELEGRAM_TOKEN") ||
		!strings.Contains(body, "VK_TOKEN") {
		t.Fatalf("after signing in on an empty database: %d\n%s", status, body)
	}
	// The tree loaded, the staff are the Union's admin.
	r.importExample()
	if status, body := page(t, b, http.MethodGet, base+"/"); status != http.StatusOK || !strings.Contains(body, "сотрудник аппарата Союза") {
		t.Fatalf("after loading the tree: %d\n%s", status, body)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}

	// With an admin, a start prints no link.
	_, stderr, stop = serveApart(t, r)
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
	if strings.Contains(stderr.String(), "/signin/") {
		t.Errorf("a start with an admin printed a link:\n%s", stderr)
	}
	// The CLI prints one for the admin there is.
	out := r.mustRun("console", "link", "--admin")
	if m := signInLink.FindStringSubmatch(out); m == nil || strings.Contains(out, "Nobody holds the admin role") {
		t.Errorf("console link --admin printed:\n%s", out)
	}
}

// TestStaffSignInFromTheBot: a chair asks the bot for the console, gets a
// link, opens it in a browser and sees their dashboard; the link works
// once and no log holds it.
func TestStaffSignInFromTheBot(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			r.importExample()
			r.serve()
			chair := r.person(plat, 7001, "Анна")
			register(t, chair, r.invite("edu-school-5", "chair"), "Иванова Анна Петровна")
			member := r.person(plat, 7002, "Пётр")
			register(t, member, r.invite("edu-school-5", "member"), "Петров Пётр")

			member.say("/console")
			member.dm().expect("нет прав")
			chair.say("/console")
			m := chair.dm().expect("Ссылка для входа в пульт")
			link := signInLink.FindStringSubmatch(m.text)
			if link == nil {
				t.Fatalf("no link in %q", m.text)
			}
			b := browser(t)
			if status, body := page(t, b, http.MethodGet, link[0]); status != http.StatusOK || !strings.Contains(body, "Войти как Иванова Анна Петровна") {
				t.Fatalf("the link: %d\n%s", status, body)
			}
			status, body := page(t, b, http.MethodPost, link[0])
			if status != http.StatusOK || !strings.Contains(body, "Здравствуйте, Иванова Анна Петровна!") ||
				!strings.Contains(body, "председатель</strong> — ППО МАОУ СОШ № 5") {
				t.Fatalf("the dashboard: %d\n%s", status, body)
			}
			u, _ := url.Parse(link[0])
			if cookies := b.Jar.Cookies(u); len(cookies) != 1 || cookies[0].Name != "unionhub_session" {
				t.Errorf("the browser holds %v", cookies)
			}
			// Spent: another browser cannot use it.
			if status, _ := page(t, browser(t), http.MethodPost, link[0]); status != http.StatusGone {
				t.Errorf("a second use: %d, want 410", status)
			}
			if strings.Contains(r.logs.String(), link[1]) {
				t.Error("the logs hold the sign-in token")
			}
			entries, err := r.store().Audit(t.Context(), storage.AuditQuery{PersonID: personOf(t, r.store(), chair).ID, Limit: 10})
			if err != nil || len(entries) != 2 || entries[0].Action != "signin" || entries[0].IP != "127.0.0.1" {
				t.Errorf("audit %+v, %v; want the link and the sign-in from 127.0.0.1", entries, err)
			}
		})
	}
}
