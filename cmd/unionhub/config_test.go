package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaultsAndFileSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "tg")
	if err := os.WriteFile(tokenFile, []byte("123:secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(envOf(map[string]string{"TELEGRAM_TOKEN_FILE": tokenFile, "VK_GROUP_ID": "42", "VK_TOKEN": "vk"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TelegramToken != "123:secret-token" || c.VKGroupID != 42 || c.Workers != 16 ||
		c.TelegramAPIURL != "https://api.telegram.org" || c.VKAPIURL != "https://api.vk.ru/method/" ||
		c.DataDir != "./data" || c.HTTPAddr != ":8080" || c.AdminAddr != "127.0.0.1:9090" || c.RedisPrefix != "unionhub:" {
		t.Fatalf("unexpected config %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateNamesTheBadVariable(t *testing.T) {
	t.Parallel()
	missingDir := filepath.Join(t.TempDir(), "surveys")
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "https://hub.example.org/tg"}, "TELEGRAM_WEBHOOK_SECRET"},
		{map[string]string{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "https://x/tg", "TELEGRAM_WEBHOOK_SECRET": "has space"}, "TELEGRAM_WEBHOOK_SECRET"},
		{map[string]string{"TELEGRAM_WEBHOOK_URL": "https://x/tg", "TELEGRAM_WEBHOOK_SECRET": "ok"}, "TELEGRAM_TOKEN"},
		{map[string]string{"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"},
		{map[string]string{"VK_TOKEN": "v"}, "VK_GROUP_ID"},
		{map[string]string{"VK_TOKEN": "v", "VK_GROUP_ID": "1", "VK_CALLBACK_CONFIRMATION": "abc"}, "VK_CALLBACK_SECRET"},
		{map[string]string{"VK_TOKEN": "v", "VK_GROUP_ID": "1", "VK_CALLBACK_CONFIRMATION": "abc", "VK_CALLBACK_SECRET": strings.Repeat("s", 51)}, "VK_CALLBACK_SECRET"},
		{map[string]string{"VK_API_URL": "https://api.vk.ru/method"}, "VK_API_URL"},
		{map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{map[string]string{"REDIS_URL": "http://x"}, "REDIS_URL"},
		{map[string]string{"UNIONHUB_ADMIN_ADDR": "9090"}, "UNIONHUB_ADMIN_ADDR"},
		{map[string]string{"UNIONHUB_LOG_LEVEL": "loud"}, "UNIONHUB_LOG_LEVEL"},
		{map[string]string{"UNIONHUB_LOG_FORMAT": "xml"}, "UNIONHUB_LOG_FORMAT"},
		{map[string]string{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "http://hub.example.org/tg", "TELEGRAM_WEBHOOK_SECRET": "ok"}, "TELEGRAM_WEBHOOK_URL"},
		{map[string]string{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "http://hub.example.org:443/tg", "TELEGRAM_WEBHOOK_SECRET": "ok",
			"TELEGRAM_API_URL": "https://api.telegram.org/"}, "TELEGRAM_WEBHOOK_URL"},
		{map[string]string{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "https://hub.example.org:8080/tg", "TELEGRAM_WEBHOOK_SECRET": "ok"}, "TELEGRAM_WEBHOOK_URL"},
		{map[string]string{"UNIONHUB_SURVEYS_DIR": missingDir}, "UNIONHUB_SURVEYS_DIR"},
		{map[string]string{"UNIONHUB_SURVEYS_DIR": "config_test.go"}, "UNIONHUB_SURVEYS_DIR"},
		{map[string]string{"UNIONHUB_CONTACT_BASE_CRON": "every January"}, "UNIONHUB_CONTACT_BASE_CRON"},
		{map[string]string{"UNIONHUB_PUBLIC_URL": "hub.example.org"}, "UNIONHUB_PUBLIC_URL"},
		{map[string]string{"UNIONHUB_PUBLIC_URL": "https://hub.example.org/console"}, "UNIONHUB_PUBLIC_URL"},
		{map[string]string{"UNIONHUB_PUBLIC_URL": "https://hub.example.org?x=1"}, "UNIONHUB_PUBLIC_URL"},
		{map[string]string{"UNIONHUB_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, "UNIONHUB_TRUSTED_PROXIES"},
		{map[string]string{"UNIONHUB_LINK_TRACKING": "yes"}, "UNIONHUB_LINK_TRACKING"},
	}
	for _, tt := range tests {
		c, err := LoadConfig(envOf(tt.env))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %v: error %v, want it to name %s", tt.env, err, tt.want)
		}
	}
	for _, env := range []map[string]string{
		{"VK_GROUP_ID": "-3"}, {"VK_GROUP_ID": "club1"}, {"UNIONHUB_WORKERS": "0"}, {"UNIONHUB_WORKERS": "many"},
		{"TELEGRAM_TOKEN": "a", "TELEGRAM_TOKEN_FILE": "/etc/hostname"}, {"VK_TOKEN_FILE": "/no/such/file"},
	} {
		if _, err := LoadConfig(envOf(env)); err == nil {
			t.Errorf("LoadConfig(%v) accepted it", env)
		}
	}
}

func TestLinkTrackingNeedsAnAddressPhonesCanOpen(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"UNIONHUB_PUBLIC_URL": "https://hub.example.org"}, true},
		{map[string]string{"UNIONHUB_PUBLIC_URL": "https://hub.example.org", "UNIONHUB_LINK_TRACKING": "off"}, false},
		// localhost, the default address, opens on no member's phone.
		{map[string]string{}, false},
		{map[string]string{"UNIONHUB_LINK_TRACKING": "on"}, false},
	} {
		c, err := LoadConfig(envOf(tt.env))
		if err != nil {
			t.Fatal(err)
		}
		if c.LinkTracking != tt.want {
			t.Errorf("env %v: link tracking %v, want %v", tt.env, c.LinkTracking, tt.want)
		}
	}
}

func TestConfigValidateAccepts(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "https://hub.example.org/tg", "TELEGRAM_WEBHOOK_SECRET": "ok"},
		{"TELEGRAM_TOKEN": "t", "TELEGRAM_WEBHOOK_URL": "https://hub.example.org:8443/tg", "TELEGRAM_WEBHOOK_SECRET": "ok"},
		// A self-hosted Bot API server in --local mode delivers over http to any port.
		{"TELEGRAM_TOKEN": "t", "TELEGRAM_API_URL": "http://127.0.0.1:8081", "TELEGRAM_WEBHOOK_URL": "http://hub:8080/tg", "TELEGRAM_WEBHOOK_SECRET": "ok"},
		{"UNIONHUB_SURVEYS_DIR": t.TempDir()},
		{"UNIONHUB_PUBLIC_URL": "https://hub.example.org/"},
		{"UNIONHUB_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1, ::1"},
	} {
		c, err := LoadConfig(envOf(env))
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			t.Errorf("env %v: %v", env, err)
		}
	}
}

func TestConfigPrintRedactsSecrets(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(envOf(map[string]string{
		"TELEGRAM_TOKEN": "123:very-secret", "DATABASE_URL": "postgres://hub:pa55word@db.internal:5432/hub",
		"REDIS_URL": "redis://:redispass@cache:6379/0", "VK_CALLBACK_SECRET": "vk-secret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c.Print(func(format string, args ...any) { b.WriteString(strings.TrimSpace(sprintf(format, args...)) + "\n") })
	out := b.String()
	for _, secret := range []string{"very-secret", "pa55word", "redispass", "vk-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("config output leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"TELEGRAM_TOKEN=***", "DATABASE_URL=postgres://***@db.internal:5432/***", "UNIONHUB_WORKERS=16"} {
		if !strings.Contains(out, want) {
			t.Errorf("config output lacks %q:\n%s", want, out)
		}
	}
}

func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(readme), "`"+s.name+"`") {
			t.Errorf("README.md does not document %s", s.name)
		}
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestConfigConsoleAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "http://localhost:8080"},
		{map[string]string{"UNIONHUB_HTTP_ADDR": "0.0.0.0:9000"}, "http://localhost:9000"},
		{map[string]string{"UNIONHUB_HTTP_ADDR": "[::]:9000"}, "http://localhost:9000"},
		{map[string]string{"UNIONHUB_HTTP_ADDR": "127.0.0.1:8181"}, "http://127.0.0.1:8181"},
		{map[string]string{"UNIONHUB_HTTP_ADDR": "[::1]:8181"}, "http://[::1]:8181"},
		{map[string]string{"UNIONHUB_PUBLIC_URL": "https://hub.example.org/"}, "https://hub.example.org"},
	}
	for _, tt := range tests {
		c, err := LoadConfig(envOf(tt.env))
		if err != nil || c.PublicURL != tt.want {
			t.Errorf("env %v: console at %q (%v), want %q", tt.env, c.PublicURL, err, tt.want)
		}
	}
	c, err := LoadConfig(envOf(map[string]string{"UNIONHUB_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, ::ffff:198.51.100.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(c.TrustedProxies); got != "[10.0.0.0/8 192.0.2.7/32 198.51.100.1/32]" {
		t.Errorf("trusted proxies %s", got)
	}
	var b strings.Builder
	c.Print(func(format string, args ...any) { b.WriteString(sprintf(format, args...)) })
	if !strings.Contains(b.String(), "UNIONHUB_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7/32,198.51.100.1/32\n") ||
		!strings.Contains(b.String(), "UNIONHUB_PUBLIC_URL=http://localhost:8080\n") {
		t.Errorf("config output:\n%s", b.String())
	}
}
