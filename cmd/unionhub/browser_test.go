package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's headless Chromium (scripts/services.sh
// installs it) against a running serve. Under CI a missing browser fails
// them; elsewhere they are skipped.

// chromiumPath is where Debian's chromium package puts the browser;
// UNIONHUB_CHROMIUM names another.
func chromiumPath() string {
	if p := os.Getenv("UNIONHUB_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// artefactsDir is where the browser tests leave their screenshots:
// UNIONHUB_TEST_ARTEFACTS, or artefacts/ at the repository's root.
func artefactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("UNIONHUB_TEST_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("make the artefacts folder: %v", err)
	}
	return dir
}

// chrome starts a headless Chromium for the test, with its own profile,
// closed when the test ends. lang is the browser's language.
func chrome(t *testing.T, lang string) context.Context {
	t.Helper()
	path := chromiumPath()
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s (scripts/services.sh installs it): %v", path, err)
		}
		t.Skipf("no Chromium at %s: %v", path, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", lang),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so that a broken install fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// inBrowser runs browser actions with a deadline, failing the test with
// what the page shows when one does not complete.
func inBrowser(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := browse(ctx, chromedp.Steps(actions...)); err != nil {
		url, _ := browse(ctx, chromedp.Location())
		text, _ := browse(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nat %s the page shows:\n%s", what, err, url, text)
	}
}

// browse runs one action with a deadline; the browser itself lives as
// long as ctx.
func browse[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	step, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chromedp.Run(step, a)
}

// pageText is what the page shows.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := browse(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return text
}

// expectPage fails unless the page shows every one of want.
func expectPage(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	text := pageText(t, ctx)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("the page does not show %q:\n%s", w, text)
		}
	}
}

// screenshot saves the whole page as artefacts/<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := browse(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("take a screenshot: %v", err)
	}
	path := filepath.Join(artefactsDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save the screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
}
