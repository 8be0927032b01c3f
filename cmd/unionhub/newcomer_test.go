package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage/sqlite"
)

// TestNewcomerFollowsTheReadme runs the built binary the way the README's
// quick start does on a fresh clone: no UNIONHUB_DATA_DIR (so ./data), no
// DATABASE_URL, no REDIS_URL, commands run from the directory that holds
// examples/.
func TestNewcomerFollowsTheReadme(t *testing.T) {
	t.Parallel()
	bin := hubBinary(t)
	wd := t.TempDir()
	example, err := os.ReadFile("../../examples/orgs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(wd, "examples"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(wd, "examples", "orgs.yaml"), example, 0o600); err != nil {
		t.Fatal(err)
	}
	tg := platformtest.NewTelegram(t)
	admin := freeAddr(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"TELEGRAM_TOKEN=" + platformtest.TelegramToken, "TELEGRAM_API_URL=" + tg.URL(),
		"UNIONHUB_HTTP_ADDR=" + freeAddr(t), "UNIONHUB_ADMIN_ADDR=" + admin,
	}
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = wd, env
		return cmd
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := command(args...).CombinedOutput()
		if err != nil {
			t.Fatalf("unionhub %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	if out := cli("org", "import", "examples/orgs.yaml"); !strings.Contains(out, "imported examples/orgs.yaml:") || !strings.Contains(out, "0 updated") {
		t.Fatalf("org import printed:\n%s", out)
	}
	if out := cli("org", "list"); !strings.Contains(out, "union  Сахалинский областной союз") || !strings.Contains(out, "  edu  ") {
		t.Fatalf("org list printed:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(wd, "data", sqlite.FileName)); err != nil {
		t.Fatalf("the database is not in ./data of the working directory: %v", err)
	}

	logs := &syncBuffer{}
	serve := command("serve")
	serve.Stdout, serve.Stderr = logs, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Kill() // a no-op once it stopped
		if t.Failed() {
			t.Logf("serve logs:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited before becoming healthy: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve not healthy after 30 s")
		}
	}

	p := newTGPerson(t, tg, 4242, "Новичок")
	p.start()
	p.dm().expect("Выберите вашу организацию", "Сахалинский областной союз")

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve stopped with %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}
