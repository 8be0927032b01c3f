package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/handlers"
	"github.com/unionhub/unionhub/storage/storagetest"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	// A full run must press every button route on both platforms; with the
	// per-test check that each press is answered once, no route can leave a
	// press spinning unnoticed.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		routes := handlers.New(handlers.Deps{}).Router().Callbacks()
		if missing := routesPressed.unpressed(routes); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: no test presses the button routes %v\n", missing)
			code = 1
		}
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hubBinary builds the binary the way `make build` and the Dockerfile do.
func hubBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "unionhub-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "unionhub")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// replica is one `unionhub serve` process.
type replica struct {
	cmd   *exec.Cmd
	admin string
	hooks string // UNIONHUB_HTTP_ADDR
	logs  *syncBuffer
	done  chan error
}

func startReplica(t testing.TB, env map[string]string) *replica {
	t.Helper()
	// Another process may bind a port freeAddr found free before the
	// replica does: start again on new ones.
	for attempt := 1; ; attempt++ {
		rep, err := tryReplica(t, env)
		if err == nil {
			return rep
		}
		if !strings.Contains(err.Error(), "address already in use") || attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("replica start %d: %v", attempt, err)
	}
}

// tryReplica starts a replica on free ports and waits until it is healthy,
// or says why it exited.
func tryReplica(t testing.TB, env map[string]string) (*replica, error) {
	t.Helper()
	rep := &replica{admin: freeAddr(t), hooks: freeAddr(t), logs: &syncBuffer{}, done: make(chan error, 1)}
	rep.cmd = exec.Command(hubBinary(t), "serve")
	rep.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "UNIONHUB_ADMIN_ADDR=" + rep.admin, "UNIONHUB_HTTP_ADDR=" + rep.hooks}
	for k, v := range env {
		rep.cmd.Env = append(rep.cmd.Env, k+"="+v)
	}
	rep.cmd.Stdout, rep.cmd.Stderr = rep.logs, rep.logs
	if err := rep.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		err := rep.cmd.Wait()
		exited <- err
		rep.done <- err
	}()
	t.Cleanup(func() {
		_ = rep.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("replica %s logs:\n%s", rep.admin, rep.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("replica exited (%v):\n%s", err, rep.logs.String())
		default:
		}
		if resp, err := http.Get("http://" + rep.admin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return rep, nil
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not healthy:\n%s", rep.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// handledUpdates sums the updates this replica handled, from its metrics.
func (rep *replica) handledUpdates(t *testing.T) int {
	t.Helper()
	resp, err := http.Get("http://" + rep.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "unionhub_updates_total{") && strings.Contains(line, `outcome="ok"`) {
			n, err := strconv.Atoi(line[strings.LastIndex(line, " ")+1:])
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			total += n
		}
	}
	return total
}

// stop sends SIGTERM and expects a clean exit.
func (rep *replica) stop(t *testing.T) {
	t.Helper()
	if err := rep.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-rep.done:
		if err != nil {
			t.Fatalf("replica exited with %v:\n%s", err, rep.logs.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("replica did not stop on SIGTERM")
	}
	if !strings.Contains(rep.logs.String(), `"msg":"stopped"`) {
		t.Fatalf("replica did not log a clean stop:\n%s", rep.logs.String())
	}
}

// fanOut delivers every webhook request to all replicas at once: the worst
// case of a retry racing the first delivery. It answers like the best replica.
func fanOut(t *testing.T, targets func() []string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var wg sync.WaitGroup
		var mu sync.Mutex
		best, bestBody := http.StatusServiceUnavailable, []byte(nil)
		for _, target := range targets() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, "http://"+target+r.URL.Path, bytes.NewReader(body))
				req.Header = r.Header.Clone()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == http.StatusOK {
					best, bestBody = http.StatusOK, body
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		w.WriteHeader(best)
		_, _ = w.Write(bestBody) // VK wants the "ok" back
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTwoReplicasHandleEachUpdateOnce(t *testing.T) {
	t.Parallel()
	tg := platformtest.NewTelegram(t)
	vk := platformtest.NewVK(t)
	redisURL, prefix := storagetest.RedisURL(t)
	var mu sync.Mutex
	var hooks []string
	lb := fanOut(t, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), hooks...) })
	env := map[string]string{
		"TELEGRAM_TOKEN":           platformtest.TelegramToken,
		"TELEGRAM_API_URL":         tg.URL(),
		"TELEGRAM_WEBHOOK_URL":     lb.URL + "/telegram/webhook",
		"TELEGRAM_WEBHOOK_SECRET":  "replicas-secret",
		"VK_TOKEN":                 platformtest.VKToken,
		"VK_GROUP_ID":              strconv.Itoa(platformtest.VKGroupID),
		"VK_API_URL":               vk.APIURL(),
		"VK_CALLBACK_CONFIRMATION": "replicas-confirm",
		"VK_CALLBACK_SECRET":       "replicas-vk-secret",
		"DATABASE_URL":             storagetest.PostgresDSN(t),
		"REDIS_URL":                redisURL,
		"UNIONHUB_REDIS_PREFIX":    prefix,
		"UNIONHUB_LOG_LEVEL":       "debug",
	}
	cli := &rig{t: t, env: env, clock: &fakeClock{}}
	cli.importExample()
	code := cli.invite("energy-island", "member")

	var reps []*replica
	for range 2 {
		rep := startReplica(t, env)
		reps = append(reps, rep)
		mu.Lock()
		hooks = append(hooks, rep.hooks)
		mu.Unlock()
	}

	vk.SetCallback(lb.URL+"/vk/callback", "replicas-vk-secret")

	// On each platform ten people at once, and one registration whose steps
	// land on either replica.
	const askers = 10
	var wg sync.WaitGroup
	for i := range askers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			p := newTGPerson(t, tg, int64(1600+i), "Реплика")
			p.say("/help")
			p.dm().expect("Это бот профсоюза")
		}()
		go func() {
			defer wg.Done()
			p := newVKPerson(t, vk, 1600+i, "Реплика")
			p.say("/help")
			p.dm().expect("Это бот профсоюза")
		}()
	}
	register(t, newTGPerson(t, tg, 1700, "Регина"), code, "Регина Реплика")
	register(t, newVKPerson(t, vk, 1700, "Регина"), cli.invite("energy-island", "member"), "Регина Вконтакте")
	wg.Wait()
	time.Sleep(300 * time.Millisecond)
	for i := range askers {
		if n, m := len(tg.Messages(int64(1600+i))), len(vk.Messages(1600+i)); n != 1 || m != 1 {
			t.Fatalf("person %d got %d Telegram and %d VK replies to one /help each", i, n, m)
		}
	}
	const registrationUpdates = 7 // invite, consent, name, three skips, confirm
	const total = 2 * (askers + registrationUpdates)
	// Updates are counted as their handlers return, just after the replies.
	handled := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		handled = 0
		for _, rep := range reps {
			handled += rep.handledUpdates(t)
		}
		if handled >= total {
			break
		}
	}
	if handled != total {
		t.Fatalf("replicas handled %d updates in all, want %d: each update exactly once", handled, total)
	}
	for _, d := range tg.WebhookDeliveries() {
		if d.Status != http.StatusOK {
			t.Fatalf("a webhook delivery was answered %d", d.Status)
		}
	}
	for _, d := range vk.CallbackDeliveries() {
		if d.Status != http.StatusOK || d.Body != "ok" {
			t.Fatalf("a callback delivery was answered %d %q", d.Status, d.Body)
		}
	}
	for _, rep := range reps {
		rep.stop(t)
	}
}
