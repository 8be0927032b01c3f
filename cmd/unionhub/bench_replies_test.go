package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// Rates the reply benchmark offers, in updates per second, and how long
// each is held.
var (
	replyRates    = []int{200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000, 2400, 2800, 3200, 3600, 4000}
	replyStep     = 4 * time.Second
	replyP99Limit = 50 * time.Millisecond
	// The warm-up before the first step.
	replyWarmUpRate = 200
	replyWarmUp     = 2 * time.Second
)

// BenchmarkWebhookReplies finds the knee of the reply path: registered
// members' "/profile" POSTed to the webhook as Telegram does (with the
// secret), at rising rates, each answered by a message that arrives back at
// the fake Telegram server. For each rate it reports p50 and p99 from the
// POST to the answer's arrival; "knee-updates/s" is the highest rate whose
// p99 stays within 50 ms, after a 2 s warm-up at 200/s that is reported on
// its own. "hub" is the built binary on PostgreSQL and Redis;
// "bare" is go-telegram/bot echoing on the same load, the floor the hub is
// measured against. Everything shares this machine's cores.
//
//	go test ./cmd/unionhub -run '^$' -bench WebhookReplies -benchtime 1x
func BenchmarkWebhookReplies(b *testing.B) {
	b.Run("hub", func(b *testing.B) {
		for range b.N {
			benchReplies(b, startReplyHub)
		}
	})
	b.Run("bare", func(b *testing.B) {
		for range b.N {
			benchReplies(b, startBareEcho)
		}
	})
}

// members who write to the bot in the benchmark.
const replyMembers = 4000

// replyTarget is a webhook under load: its URL and secret.
type replyTarget struct {
	url, secret string
	// answersFirst: the webhook answers the POST before handling the update
	// (go-telegram/bot's own handler queues it), so past the knee a reply
	// may still be on its way when the client gives up, and counts as that
	// late. The hub answers after handling: a missing reply is a failure.
	answersFirst bool
}

func benchReplies(b *testing.B, start func(b *testing.B, f *platformtest.Telegram) replyTarget) {
	b.StopTimer()
	f := platformtest.NewTelegram(b)
	ids := make([]int64, replyMembers)
	for i := range ids {
		ids[i] = int64(100000 + i)
	}
	f.Meet(ids...)
	sentAt := newArrivals()
	f.OnSent(func(m platformtest.TGMessage, at time.Time) { sentAt.arrive(m.ChatID, at) })
	target := start(b, f)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}

	load := &replyLoad{b: b, target: target, client: client, ids: ids, arrivals: sentAt}
	// A replica's first second pays for cold connections and caches (a new
	// PostgreSQL backend parses its first statements in tens of
	// milliseconds): reported on its own, not held against the knee.
	if lat := load.offer(replyWarmUpRate, replyWarmUp); len(lat) > 0 {
		b.Logf("warm-up %5d/s for %v: p50 %7.2f ms, p99 %7.2f ms", replyWarmUpRate, replyWarmUp,
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	}
	knee := 0
	b.StartTimer()
	for _, rate := range replyRates {
		begin := time.Now()
		lat := load.offer(rate, replyStep)
		took := time.Since(begin)
		if len(lat) == 0 {
			b.Fatalf("no answers at %d/s", rate)
		}
		p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
		b.Logf("offered %5d/s: achieved %7.1f/s, p50 %7.2f ms, p99 %7.2f ms", rate, float64(len(lat))/took.Seconds(), ms(p50), ms(p99))
		if p99 > replyP99Limit {
			break
		}
		knee = rate
	}
	b.StopTimer()
	b.ReportMetric(float64(knee), "knee-updates/s")
	b.ReportMetric(0, "ns/op")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// replyLoad offers "/profile" updates to a webhook, each from the next
// member in turn.
type replyLoad struct {
	b        *testing.B
	target   replyTarget
	client   *http.Client
	ids      []int64
	arrivals *arrivals
	next     int
}

// offer posts updates at rate for d on an absolute schedule (a late tick is
// caught up, not lost) and returns each one's latency from the POST to its
// answer's arrival, sorted.
func (l *replyLoad) offer(rate int, d time.Duration) []time.Duration {
	n := rate * int(d/time.Millisecond) / 1000
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.Second / time.Duration(rate)
	begin := time.Now()
	for i := range n {
		if d := time.Until(begin.Add(time.Duration(i) * tick)); d > 0 {
			time.Sleep(d)
		}
		chat := l.ids[l.next%len(l.ids)]
		l.next++
		wg.Add(1)
		go func(update int) {
			defer wg.Done()
			sent := time.Now()
			wait := l.arrivals.expect(chat)
			if err := postUpdate(l.client, l.target, update, chat); err != nil {
				// Past the knee the backlog outgrows the client's patience, or
				// a connection kept for later is closed for a waiting one just
				// as the client sends on it (the platform retries either): the
				// update counts as answered as late as the client waits.
				var refused *webhookRefusal
				if errors.As(err, &refused) {
					l.b.Errorf("post update: %v", err)
					return
				}
				mu.Lock()
				lat = append(lat, l.client.Timeout)
				mu.Unlock()
				return
			}
			select {
			case at := <-wait:
				mu.Lock()
				lat = append(lat, at.Sub(sent))
				mu.Unlock()
			case <-time.After(l.client.Timeout):
				if !l.target.answersFirst {
					l.b.Errorf("no answer to chat %d within 10 s", chat)
					return
				}
				mu.Lock()
				lat = append(lat, l.client.Timeout)
				mu.Unlock()
			}
		}(l.next)
	}
	wg.Wait()
	slices.Sort(lat)
	return lat
}

// arrivals hands each chat's next answer to whoever waits for it.
type arrivals struct {
	mu      sync.Mutex
	waiting map[int64][]chan time.Time
}

func newArrivals() *arrivals { return &arrivals{waiting: map[int64][]chan time.Time{}} }

func (a *arrivals) expect(chat int64) <-chan time.Time {
	ch := make(chan time.Time, 1)
	a.mu.Lock()
	a.waiting[chat] = append(a.waiting[chat], ch)
	a.mu.Unlock()
	return ch
}

func (a *arrivals) arrive(chat int64, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if q := a.waiting[chat]; len(q) > 0 {
		q[0] <- at
		a.waiting[chat] = q[1:]
	}
}

// postUpdate sends a "/profile" message from chat as Telegram's webhook
// request does.
func postUpdate(c *http.Client, t replyTarget, update int, chat int64) error {
	body, err := json.Marshal(map[string]any{
		"update_id": update,
		"message": map[string]any{
			"message_id": update, "date": time.Now().Unix(), "text": "/profile",
			"from":     map[string]any{"id": chat, "is_bot": false, "first_name": "Участник", "language_code": "ru"},
			"chat":     map[string]any{"id": chat, "type": "private", "first_name": "Участник"},
			"entities": []map[string]any{{"type": "bot_command", "offset": 0, "length": 8}},
		},
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", t.secret)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &webhookRefusal{status: resp.StatusCode}
	}
	return nil
}

// webhookRefusal is a webhook's answer other than 200: the hub refused or
// failed an update, which no load excuses.
type webhookRefusal struct{ status int }

func (r *webhookRefusal) Error() string { return fmt.Sprintf("webhook answered %d", r.status) }

// startReplyHub runs the built binary in webhook mode on PostgreSQL and
// Redis with every member registered, unpaced: the hub is measured, not
// Telegram's limits.
func startReplyHub(b *testing.B, f *platformtest.Telegram) replyTarget {
	b.Helper()
	ctx := context.Background()
	dsn := storagetest.PostgresDSN(b)
	db, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ImportOrgs(ctx, []storage.OrgInput{{Code: "U", Name: "Союз", Level: storage.LevelUnion}}, time.Now()); err != nil {
		b.Fatal(err)
	}
	union, err := db.OrgByCode(ctx, "U")
	if err != nil {
		b.Fatal(err)
	}
	for i := range replyMembers {
		if _, _, err := db.Register(ctx, storage.Registration{
			Platform: storage.Telegram, ExternalID: strconv.Itoa(100000 + i), FullName: "Участник " + strconv.Itoa(i),
			Locale: "ru", OrgID: union.ID, Role: storage.RoleMember, At: time.Now(),
		}); err != nil {
			b.Fatal(err)
		}
	}
	redisURL, prefix := storagetest.RedisURL(b)
	hooks := freeAddr(b)
	startReplica(b, map[string]string{
		"DATABASE_URL": dsn, "REDIS_URL": redisURL, "UNIONHUB_REDIS_PREFIX": prefix, "UNIONHUB_LOG_LEVEL": "warn",
		"TELEGRAM_TOKEN": platformtest.TelegramToken, "TELEGRAM_API_URL": f.URL(), "TELEGRAM_RATE": "0",
		"TELEGRAM_WEBHOOK_URL": "http://" + hooks + "/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": "bench-secret",
		"UNIONHUB_HTTP_ADDR": hooks,
	})
	return replyTarget{url: "http://" + hooks + "/telegram/webhook", secret: "bench-secret"}
}

// startBareEcho runs go-telegram/bot's own webhook handler answering every
// message with a message, in this process: nothing of the hub.
func startBareEcho(b *testing.B, f *platformtest.Telegram) replyTarget {
	b.Helper()
	var failed atomic.Int64
	echo, err := tgbot.New(platformtest.TelegramToken, tgbot.WithServerURL(f.URL()), tgbot.WithSkipGetMe(),
		tgbot.WithWebhookSecretToken("bench-secret"),
		tgbot.WithDefaultHandler(func(ctx context.Context, bt *tgbot.Bot, u *models.Update) {
			if u.Message == nil {
				return
			}
			// Past its knee the library's queued handlers run late and their
			// sends may fail: the reply never arrives and counts as late.
			if _, err := bt.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "Профиль"}); err != nil {
				failed.Add(1)
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go echo.StartWebhook(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: echo.WebhookHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() {
		cancel()
		_ = srv.Close()
		if n := failed.Load(); n > 0 {
			b.Logf("the echo failed to send %d replies past its knee", n)
		}
	})
	return replyTarget{url: "http://" + ln.Addr().String() + "/", secret: "bench-secret", answersFirst: true}
}
