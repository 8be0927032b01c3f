package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// Config is the effective configuration, read from the environment.
type Config struct {
	TelegramToken         string
	TelegramAPIURL        string
	TelegramWebhookURL    string
	TelegramWebhookSecret string
	TelegramBotUsername   string

	VKToken                string
	VKGroupID              int
	VKAPIURL               string
	VKCallbackConfirmation string
	VKCallbackSecret       string
	VKGroupScreenName      string

	DatabaseURL string
	RedisURL    string
	RedisPrefix string
	DataDir     string
	HTTPAddr    string
	AdminAddr   string
	LogLevel    string
	LogFormat   string
	Workers     int

	// PublicURL is the console's address as browsers see it;
	// TrustedProxies the reverse proxies whose X-Forwarded-For it believes.
	PublicURL      string
	TrustedProxies []netip.Prefix
	// LinkTracking sends the web links of news through short links under
	// PublicURL and counts their opens: on unless turned off, and only
	// with a PublicURL given, as members' phones cannot open localhost.
	LinkTracking bool

	HotlineFile        string
	SurveysDir         string
	ContactBaseCron    string
	EscalationInterval time.Duration
	BroadcastLease     time.Duration
	StatementTimeout   time.Duration
	TelegramRate       storage.Rate
	TelegramChatRate   storage.Rate
	TelegramGroupRate  storage.Rate
	VKRate             storage.Rate
}

// setting describes one environment variable: the README's config table is
// generated from the same list (see TestREADMEListsEverySetting).
type setting struct {
	name, def, doc string
	secret         bool // also read from NAME_FILE; never printed
	field          func(c *Config) *string
}

var settings = []setting{
	{"TELEGRAM_TOKEN", "", "Bot token from @BotFather; enables Telegram", true, func(c *Config) *string { return &c.TelegramToken }},
	{"TELEGRAM_API_URL", "https://api.telegram.org", "Bot API server (a self-hosted telegram-bot-api server works too)", false, func(c *Config) *string { return &c.TelegramAPIURL }},
	{"TELEGRAM_WEBHOOK_URL", "", "Public HTTPS URL of the webhook, on port 443, 80, 88 or 8443 (a self-hosted Bot API server also takes http); empty = long polling", false, func(c *Config) *string { return &c.TelegramWebhookURL }},
	{"TELEGRAM_WEBHOOK_SECRET", "", "Webhook secret_token (1-256 of A-Z a-z 0-9 _ -); required with a webhook", true, func(c *Config) *string { return &c.TelegramWebhookSecret }},
	{"TELEGRAM_RATE", "30/s", "New messages the bot sends at most, as N/s or N/m (0: unpaced, e.g. paid broadcasts or a test server)", false, nil},
	{"TELEGRAM_CHAT_RATE", "1/s", "Messages to one private chat at most (broadcasts)", false, nil},
	{"TELEGRAM_GROUP_RATE", "20/m", "Messages to one group chat at most (broadcasts)", false, nil},
	{"TELEGRAM_BOT_USERNAME", "", "Bot username for invite links printed by the CLI (serve asks getMe)", false, func(c *Config) *string { return &c.TelegramBotUsername }},
	{"VK_TOKEN", "", "Community access token with messages rights; enables VK", true, func(c *Config) *string { return &c.VKToken }},
	{"VK_GROUP_ID", "", "Community id (a positive number); required with VK_TOKEN", false, nil},
	{"VK_API_URL", "https://api.vk.ru/method/", "VK API method URL, ending with /", false, func(c *Config) *string { return &c.VKAPIURL }},
	{"VK_CALLBACK_CONFIRMATION", "", "Callback API confirmation string; set = Callback API instead of Long Poll", false, func(c *Config) *string { return &c.VKCallbackConfirmation }},
	{"VK_CALLBACK_SECRET", "", "Callback API secret key (up to 50 characters); required with the Callback API", true, func(c *Config) *string { return &c.VKCallbackSecret }},
	{"VK_RATE", "20/s", "API calls at most on the community token, as N/s or N/m (0: unpaced); one call sends to up to 100 people", false, nil},
	{"VK_GROUP_SCREEN_NAME", "", "Community short name for vk.me links; default club<VK_GROUP_ID>", false, func(c *Config) *string { return &c.VKGroupScreenName }},
	{"DATABASE_URL", "", "PostgreSQL URL; empty = embedded SQLite file in UNIONHUB_DATA_DIR", true, func(c *Config) *string { return &c.DatabaseURL }},
	{"REDIS_URL", "", "Redis URL for shared state; empty = in-process state (one replica only)", true, func(c *Config) *string { return &c.RedisURL }},
	{"UNIONHUB_REDIS_PREFIX", "unionhub:", "Prefix of every Redis key", false, func(c *Config) *string { return &c.RedisPrefix }},
	{"UNIONHUB_DATA_DIR", "./data", "Directory of the embedded database and other files", false, func(c *Config) *string { return &c.DataDir }},
	{"UNIONHUB_HTTP_ADDR", ":8080", "Listen address of the staff console and the webhook endpoints (/telegram/webhook, /vk/callback)", false, func(c *Config) *string { return &c.HTTPAddr }},
	{"UNIONHUB_PUBLIC_URL", "", "The console's address as browsers see it, which sign-in links start with; https makes its cookies Secure; default http://localhost:<port of UNIONHUB_HTTP_ADDR>", false, func(c *Config) *string { return &c.PublicURL }},
	{"UNIONHUB_LINK_TRACKING", "on", "on or off: the web links of news go through the hub's short links under UNIONHUB_PUBLIC_URL, which count each recipient's first open of each link (not preview robots'); who opened what is kept 90 days, then only counts. Works only with UNIONHUB_PUBLIC_URL set", false, nil},
	{"UNIONHUB_TRUSTED_PROXIES", "", "Reverse proxies in front of the console (comma-separated addresses or CIDR ranges) whose X-Forwarded-For names the client", false, nil},
	{"UNIONHUB_ADMIN_ADDR", "127.0.0.1:9090", "Listen address of /healthz and /metrics", false, func(c *Config) *string { return &c.AdminAddr }},
	{"UNIONHUB_LOG_LEVEL", "info", "debug, info, warn or error", false, func(c *Config) *string { return &c.LogLevel }},
	{"UNIONHUB_LOG_FORMAT", "json", "json or text", false, func(c *Config) *string { return &c.LogFormat }},
	{"UNIONHUB_WORKERS", "16", "Updates handled in parallel (one chat is always handled in order)", false, nil},
	{"UNIONHUB_HOTLINE_FILE", "", "Hot-line topics, response target, working hours and hand-up rules (YAML); empty = the programme's defaults", false, func(c *Config) *string { return &c.HotlineFile }},
	{"UNIONHUB_SURVEYS_DIR", "", "Directory of survey definitions (YAML) added to the built-in annual monitoring survey; a file with the same id replaces it; it must exist, and every org a schedule names must be in the tree", false, func(c *Config) *string { return &c.SurveysDir }},
	{"UNIONHUB_CONTACT_BASE_CRON", monitoring.DefaultContactBaseCron, "When every organisation's contact base goes up to its parent's information worker (else chair) as an XLSX file in the messenger, once a year: a cron expression in the Union's time zone; a date missed while the hub was down is caught up within 31 days", false, func(c *Config) *string { return &c.ContactBaseCron }},
	{"UNIONHUB_ESCALATION_INTERVAL", "1m", "How often overdue hot-line questions, scheduled broadcasts, silent relay levels, actions to remind of or ask about, scheduled jobs and survey reminders are looked for", false, nil},
	{"UNIONHUB_BROADCAST_LEASE", "30s", "How long a replica holds the recipients it took, and a broadcast whose recipients it lists; after a crash another takes them over then", false, nil},
	{"UNIONHUB_DB_STATEMENT_TIMEOUT", "30s", "How long a bulk database statement (a chunk of a broadcast's recipients, an audience count) may run before it is stopped and the broadcast fails", false, nil},
}

// LoadConfig reads the configuration; a secret may come from NAME_FILE.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for _, s := range settings {
		v, err := lookup(getenv, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case s.field != nil:
			*s.field(&c) = v
		case s.name == "UNIONHUB_TRUSTED_PROXIES":
			ps, err := parseProxies(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("UNIONHUB_TRUSTED_PROXIES: %w", err))
			}
			c.TrustedProxies = ps
		case s.name == "UNIONHUB_LINK_TRACKING":
			if v != "on" && v != "off" {
				errs = append(errs, fmt.Errorf("UNIONHUB_LINK_TRACKING: %q is neither on nor off", v))
			}
			c.LinkTracking = v == "on"
		case s.name == "VK_GROUP_ID" && v != "":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("VK_GROUP_ID: %q is not a positive number", v))
			}
			c.VKGroupID = n
		case s.name == "UNIONHUB_WORKERS":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1024 {
				errs = append(errs, fmt.Errorf("UNIONHUB_WORKERS: %q is not a number from 1 to 1024", v))
			}
			c.Workers = n
		case strings.HasSuffix(s.name, "_RATE"):
			r, err := parseRate(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
			}
			*map[string]*storage.Rate{"TELEGRAM_RATE": &c.TelegramRate, "TELEGRAM_CHAT_RATE": &c.TelegramChatRate,
				"TELEGRAM_GROUP_RATE": &c.TelegramGroupRate, "VK_RATE": &c.VKRate}[s.name] = r
		case s.name == "UNIONHUB_ESCALATION_INTERVAL" || s.name == "UNIONHUB_BROADCAST_LEASE" || s.name == "UNIONHUB_DB_STATEMENT_TIMEOUT":
			d, err := time.ParseDuration(v)
			if err != nil || d < 10*time.Millisecond || d > time.Hour {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration from 10ms to 1h", s.name, v))
			}
			*map[string]*time.Duration{"UNIONHUB_ESCALATION_INTERVAL": &c.EscalationInterval, "UNIONHUB_BROADCAST_LEASE": &c.BroadcastLease,
				"UNIONHUB_DB_STATEMENT_TIMEOUT": &c.StatementTimeout}[s.name] = d
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = defaultPublicURL(c.HTTPAddr)
		c.LinkTracking = false
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c, errors.Join(errs...)
}

// defaultPublicURL is the console on this machine: localhost, or the host
// the server listens on, at its port.
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// parseProxies reads comma-separated addresses and CIDR ranges.
func parseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR range", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func lookup(getenv func(string) string, s setting) (string, error) {
	v := strings.TrimSpace(getenv(s.name))
	if s.secret {
		if path := getenv(s.name + "_FILE"); path != "" {
			if v != "" {
				return "", fmt.Errorf("%s and %s_FILE are both set: keep one", s.name, s.name)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("%s_FILE: %w", s.name, err)
			}
			v = strings.TrimSpace(string(raw))
		}
	}
	if v == "" {
		v = s.def
	}
	return v, nil
}

var webhookSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Validate checks the configuration and names every bad variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	checkURL := func(name, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s: %q is not an http(s) URL", name, v)
		}
	}
	checkURL("TELEGRAM_API_URL", c.TelegramAPIURL)
	checkURL("UNIONHUB_PUBLIC_URL", c.PublicURL)
	if u, err := url.Parse(c.PublicURL); err == nil && (u.Path != "" || u.RawQuery != "" || u.Fragment != "") {
		bad("UNIONHUB_PUBLIC_URL: %q: give the scheme and host only; the console is served at the root of its host", c.PublicURL)
	}
	checkURL("TELEGRAM_WEBHOOK_URL", c.TelegramWebhookURL)
	checkURL("VK_API_URL", c.VKAPIURL)
	if c.VKAPIURL != "" && !strings.HasSuffix(c.VKAPIURL, "/") {
		bad("VK_API_URL: %q must end with /", c.VKAPIURL)
	}
	if c.TelegramWebhookURL != "" {
		checkWebhookURL(c.TelegramAPIURL, c.TelegramWebhookURL, bad)
		if c.TelegramToken == "" {
			bad("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_TOKEN is not")
		}
		if !webhookSecretPattern.MatchString(c.TelegramWebhookSecret) {
			bad("TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL, 1-256 characters of A-Z a-z 0-9 _ -")
		}
	}
	if c.VKToken != "" && c.VKGroupID == 0 {
		bad("VK_GROUP_ID: required with VK_TOKEN")
	}
	if c.VKCallbackConfirmation != "" {
		if c.VKToken == "" {
			bad("VK_CALLBACK_CONFIRMATION is set but VK_TOKEN is not")
		}
		if n := len([]rune(c.VKCallbackSecret)); n == 0 || n > 50 {
			bad("VK_CALLBACK_SECRET: required with VK_CALLBACK_CONFIRMATION, up to 50 characters")
		}
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL: not a postgres:// URL")
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("REDIS_URL: not a redis:// URL")
		}
	}
	for name, addr := range map[string]string{"UNIONHUB_HTTP_ADDR": c.HTTPAddr, "UNIONHUB_ADMIN_ADDR": c.AdminAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("%s: %q is not host:port", name, addr)
		}
	}
	if c.SurveysDir != "" {
		switch fi, err := os.Stat(c.SurveysDir); {
		case errors.Is(err, fs.ErrNotExist):
			bad("UNIONHUB_SURVEYS_DIR: %q does not exist", c.SurveysDir)
		case err != nil:
			bad("UNIONHUB_SURVEYS_DIR: %v", err)
		case !fi.IsDir():
			bad("UNIONHUB_SURVEYS_DIR: %q is not a directory", c.SurveysDir)
		}
	}
	if err := monitoring.ValidContactBaseCron(c.ContactBaseCron); err != nil {
		bad("UNIONHUB_CONTACT_BASE_CRON: %v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("UNIONHUB_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("UNIONHUB_LOG_FORMAT: %q is not json or text", c.LogFormat)
	}
	return errors.Join(errs...)
}

// officialBotAPI is the host of Telegram's own Bot API server.
const officialBotAPI = "api.telegram.org"

// webhookPorts are the ports Telegram delivers webhooks to.
var webhookPorts = []string{"443", "80", "88", "8443"}

// checkWebhookURL holds the webhook URL to Telegram's rules: HTTPS on one of
// its ports. A self-hosted Bot API server in --local mode also takes http and
// any port, so behind one the URL only has to be http(s).
func checkWebhookURL(apiURL, hook string, bad func(format string, args ...any)) {
	api, err := url.Parse(apiURL)
	if err != nil || api.Hostname() != officialBotAPI {
		return
	}
	u, err := url.Parse(hook)
	switch {
	case err != nil || u.Host == "":
		// reported as not an http(s) URL
	case u.Scheme != "https":
		bad("TELEGRAM_WEBHOOK_URL: %q is not https: Telegram delivers webhooks over HTTPS only (put the hub behind a TLS proxy)", hook)
	case u.Port() != "" && !slices.Contains(webhookPorts, u.Port()):
		bad("TELEGRAM_WEBHOOK_URL: port %s: Telegram delivers webhooks only to ports %s", u.Port(), strings.Join(webhookPorts, ", "))
	}
}

// Platforms reports whether any messenger is configured.
func (c Config) Platforms() bool { return c.TelegramToken != "" || c.VKToken != "" }

// Print writes the effective configuration with secrets redacted.
func (c Config) Print(w func(format string, args ...any)) {
	for _, s := range settings {
		v := ""
		switch {
		case s.field != nil:
			v = *s.field(&c)
		case s.name == "VK_GROUP_ID" && c.VKGroupID != 0:
			v = strconv.Itoa(c.VKGroupID)
		case s.name == "UNIONHUB_WORKERS":
			v = strconv.Itoa(c.Workers)
		case s.name == "UNIONHUB_TRUSTED_PROXIES":
			var ps []string
			for _, p := range c.TrustedProxies {
				ps = append(ps, p.String())
			}
			v = strings.Join(ps, ",")
		case s.name == "UNIONHUB_ESCALATION_INTERVAL":
			v = c.EscalationInterval.String()
		case s.name == "UNIONHUB_BROADCAST_LEASE":
			v = c.BroadcastLease.String()
		case s.name == "UNIONHUB_DB_STATEMENT_TIMEOUT":
			v = c.StatementTimeout.String()
		case strings.HasSuffix(s.name, "_RATE"):
			v = formatRate(*map[string]*storage.Rate{"TELEGRAM_RATE": &c.TelegramRate, "TELEGRAM_CHAT_RATE": &c.TelegramChatRate,
				"TELEGRAM_GROUP_RATE": &c.TelegramGroupRate, "VK_RATE": &c.VKRate}[s.name])
		}
		if s.secret && v != "" {
			v = redact(s.name, v)
		}
		w("%s=%s\n", s.name, v)
	}
}

// redact hides a secret; a URL keeps its scheme and host so an operator can
// tell which server is configured, without the password.
func redact(name, v string) string {
	if name == "DATABASE_URL" || name == "REDIS_URL" {
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			return u.Scheme + "://***@" + u.Host + "/***"
		}
	}
	return "***"
}

// parseRate reads "30/s", "20/m" or a bare number of calls per second; 0
// means unpaced.
func parseRate(v string) (storage.Rate, error) {
	n, unit, found := strings.Cut(strings.TrimSpace(v), "/")
	period := time.Second
	if found {
		switch unit {
		case "s":
		case "m":
			period = time.Minute
		default:
			return storage.Rate{}, fmt.Errorf("%q: the unit is s or m, as in 30/s or 20/m", v)
		}
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 || count > 100000 {
		return storage.Rate{}, fmt.Errorf("%q is not a rate such as 30/s or 20/m", v)
	}
	if count == 0 {
		return storage.Rate{}, nil
	}
	// Answers to people may burst a little over the pace the bulk of a
	// broadcast keeps, which is how they go first.
	return storage.Rate{PerPeriod: count, Period: period, Burst: max(count, 2)}, nil
}

func formatRate(r storage.Rate) string {
	switch {
	case r.PerPeriod == 0:
		return "0"
	case r.Period == time.Minute:
		return strconv.Itoa(r.PerPeriod) + "/m"
	}
	return strconv.Itoa(r.PerPeriod) + "/s"
}
