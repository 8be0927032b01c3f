package broadcast_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/bot/vk"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

var quiet = slog.New(slog.DiscardHandler)

// world is a store with a small tree and n members on one platform.
type world struct {
	db      *sqlstore.DB
	union   storage.Org
	members []string // the members' platform ids
}

func newWorld(t *testing.T, p storage.Platform, n int) world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	in := []storage.OrgInput{{Code: "u", Name: "Union", Level: storage.LevelUnion, Source: "t:1"}}
	for i := range 5 {
		in = append(in, storage.OrgInput{Code: fmt.Sprint("p", i), Name: fmt.Sprint("Primary ", i), ParentCode: "u", Level: storage.LevelPrimary, Source: "t"})
	}
	if _, err := db.ImportOrgs(ctx, in, time.Now()); err != nil {
		t.Fatal(err)
	}
	w := world{db: db}
	w.union, _ = db.OrgByCode(ctx, "u")
	for i := range n {
		org, _ := db.OrgByCode(ctx, fmt.Sprint("p", i%5))
		code := fmt.Sprint("inv", i)
		if err := db.CreateInvite(ctx, storage.Invite{Code: code, OrgID: org.ID, Role: storage.RoleMember, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		id := strconv.Itoa(500000 + i)
		if _, _, err := db.Register(ctx, storage.Registration{Platform: p, ExternalID: id, FullName: "M" + id, Locale: "ru",
			OrgID: org.ID, Role: storage.RoleMember, InviteCode: code, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		w.members = append(w.members, id)
	}
	return w
}

// broadcast builds the outbox of a direct broadcast to everyone.
func (w world) broadcast(t *testing.T) storage.Broadcast {
	t.Helper()
	ctx := context.Background()
	b, err := w.db.CreateBroadcast(ctx, storage.Broadcast{OrgID: w.union.ID, Text: "Новость для всех", Mode: storage.ModeDirect,
		Status: storage.BroadcastScheduled, Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.BuildOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{w.union}, Subtree: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if b, err = w.db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastScheduled, storage.BroadcastSending, time.Now()); err != nil {
		t.Fatal(err)
	}
	return b
}

func compose(_ context.Context, b storage.Broadcast, _ storage.Delivery) bot.Message {
	return bot.Message{Text: b.Text}
}

// runUntilDone runs the engine until the broadcast is done.
func runUntilDone(t *testing.T, e *broadcast.Engine, db *sqlstore.DB, id int64) {
	t.Helper()
	done := make(chan struct{})
	e.OnFinish = func(_ context.Context, b storage.Broadcast) {
		if b.ID == id {
			close(done)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { e.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		counts, _ := db.DeliveryCounts(context.Background(), id)
		t.Fatalf("broadcast %d not done after 60 s: %+v", id, counts)
	}
}

func counts(t *testing.T, db *sqlstore.DB, id int64) map[storage.DeliveryStatus]int {
	t.Helper()
	cs, err := db.DeliveryCounts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[storage.DeliveryStatus]int{}
	for _, c := range cs {
		out[c.Status] += c.Count
	}
	return out
}

func TestTelegramEveryReachableRecipientGetsOneMessageDespiteFaults(t *testing.T) {
	t.Parallel()
	const n = 120
	w := newWorld(t, storage.Telegram, n)
	f := platformtest.NewTelegram(t)
	var ids []int64
	for _, m := range w.members {
		id, _ := strconv.ParseInt(m, 10, 64)
		ids = append(ids, id)
	}
	f.Meet(ids...)
	blocked := map[int64]bool{ids[3]: true, ids[50]: true, ids[99]: true}
	for id := range blocked {
		f.Block(id)
	}
	f.FailRandomly("sendMessage", 7, 500)    // every 7th call: a 5xx
	f.FailNext("sendMessage", 2, 429, "", 1) // and a 429 with retry_after 1 s
	a, err := telegram.New(context.Background(), telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	b := w.broadcast(t)
	e := broadcast.New(broadcast.Config{Lease: 5 * time.Second, Idle: 20 * time.Millisecond, Backoff: 50 * time.Millisecond, Store: w.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: a}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
	runUntilDone(t, e, w.db, b.ID)

	for _, id := range ids {
		want := 1
		if blocked[id] {
			want = 0
		}
		if got := f.SentCount(id); got != want {
			t.Fatalf("member %d got %d messages, want %d", id, got, want)
		}
	}
	c := counts(t, w.db, b.ID)
	if c[storage.DeliverySent] != n-len(blocked) || c[storage.DeliveryUnreachable] != len(blocked) || c[storage.DeliveryQueued]+c[storage.DeliverySending]+c[storage.DeliveryFailed] != 0 {
		t.Fatalf("outbox after the broadcast: %v", c)
	}
	accounts, err := w.db.Accounts(context.Background(), personOf(t, w.db, storage.Telegram, strconv.FormatInt(ids[3], 10)))
	if err != nil || accounts[0].BlockedAt == nil {
		t.Fatalf("a member who blocked the bot is not marked: %+v, %v", accounts, err)
	}
}

func personOf(t *testing.T, db *sqlstore.DB, p storage.Platform, id string) int64 {
	t.Helper()
	person, err := db.PersonByAccount(context.Background(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	return person.ID
}

func TestVKSendsOneCallPerHundredAndNeverTwice(t *testing.T) {
	t.Parallel()
	const n = 250
	w := newWorld(t, storage.VK, n)
	f := platformtest.NewVK(t)
	var ids []int
	for _, m := range w.members {
		id, _ := strconv.Atoi(m)
		ids = append(ids, id)
	}
	f.Meet(ids...)
	f.Block(ids[10])
	f.FailRandomly("messages.send", 3, 10) // every third call: an internal server error
	a, err := vk.New(context.Background(), vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	b := w.broadcast(t)
	e := broadcast.New(broadcast.Config{Lease: 5 * time.Second, Idle: 20 * time.Millisecond, Backoff: 50 * time.Millisecond, Store: w.db, Platforms: map[bot.Platform]bot.Sender{bot.VK: a}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
	runUntilDone(t, e, w.db, b.ID)
	for i, id := range ids {
		want := 1
		if i == 10 {
			want = 0
		}
		if got := f.SentCount(id); got != want {
			t.Fatalf("member %d got %d messages, want %d", id, got, want)
		}
	}
	if calls := f.Calls("messages.send"); calls > 3*4+2 {
		t.Fatalf("%d messages.send calls for %d people: they should go 100 at a time", calls, n)
	}
	if c := counts(t, w.db, b.ID); c[storage.DeliverySent] != n-1 || c[storage.DeliveryUnreachable] != 1 {
		t.Fatalf("outbox after the broadcast: %v", c)
	}
}

func TestEngineKeepsUnderTheLimitsAndGivesWayToAnswers(t *testing.T) {
	t.Parallel()
	const n = 60
	w := newWorld(t, storage.Telegram, n)
	f := platformtest.NewTelegram(t)
	var ids []int64
	for _, m := range w.members {
		id, _ := strconv.ParseInt(m, 10, 64)
		ids = append(ids, id)
	}
	f.Meet(append(ids, 42)...)
	// The bulk keeps 20/s; an answer may go on top of it (that is how it
	// goes first), so the platform here allows one more.
	f.EnforceLimits(platformtest.TGLimits{PerSecond: 21})
	a, err := telegram.New(context.Background(), telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	limiter := redis.NewMemory(nil)
	rate := storage.Rate{PerPeriod: 20, Period: time.Second, Burst: 20}
	b := w.broadcast(t)
	e := broadcast.New(broadcast.Config{Idle: 20 * time.Millisecond, Rates: map[bot.Platform]storage.Rate{bot.Telegram: rate}, Store: w.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: a}, Limiter: limiter, Compose: compose, Logger: quiet})
	// An answer to a member while the broadcast runs does not wait behind it.
	answer := bot.Throttle(a, limiter, string(bot.Telegram), rate)
	go func() {
		time.Sleep(time.Second)
		start := time.Now()
		if _, err := answer.Send(context.Background(), bot.Message{ChatID: "42", Text: "Ответ на вопрос"}); err != nil {
			t.Errorf("answer: %v", err)
		}
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("an answer waited %s behind the broadcast", took)
		}
	}()
	start := time.Now()
	runUntilDone(t, e, w.db, b.ID)
	if f.TooManyCount() != 0 {
		t.Fatalf("the engine provoked %d 429s", f.TooManyCount())
	}
	if took := time.Since(start); took < 2500*time.Millisecond {
		t.Fatalf("%d messages at 20/s took %s: the limit was not kept", n+1, took)
	}
	if f.SentCount(42) != 1 {
		t.Fatal("the answer was not sent")
	}
}

// TestVKBulkSendsEachLanguageItsOwnMessage: rows whose composed messages
// differ (here by the recipient's language) never share a call, and rows
// that compose the same still go 100 at a time.
func TestVKBulkSendsEachLanguageItsOwnMessage(t *testing.T) {
	t.Parallel()
	const n = 150
	w := newWorld(t, storage.VK, n)
	ctx := context.Background()
	english := map[int]bool{}
	en := "en"
	var ids []int
	for i, m := range w.members {
		id, _ := strconv.Atoi(m)
		ids = append(ids, id)
		if i%3 == 0 {
			english[id] = true
			if _, err := w.db.UpdateProfile(ctx, personOf(t, w.db, storage.VK, m), storage.ProfilePatch{Locale: &en}); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := platformtest.NewVK(t)
	f.Meet(ids...)
	a, err := vk.New(ctx, vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	inLanguage := func(_ context.Context, b storage.Broadcast, d storage.Delivery) bot.Message {
		return bot.Message{Text: b.Text + " [" + d.Locale + "]"}
	}
	b := w.broadcast(t)
	e := broadcast.New(broadcast.Config{Lease: 5 * time.Second, Idle: 20 * time.Millisecond, Store: w.db, Platforms: map[bot.Platform]bot.Sender{bot.VK: a}, Limiter: redis.NewMemory(nil), Compose: inLanguage, Logger: quiet})
	runUntilDone(t, e, w.db, b.ID)
	for _, id := range ids {
		want := b.Text + " [ru]"
		if english[id] {
			want = b.Text + " [en]"
		}
		got := f.Messages(id)
		if len(got) != 1 || got[0].Text != want {
			t.Fatalf("member %d got %+v, want one %q", id, got, want)
		}
	}
	// The 100 Russian rows in one call, the 50 English in another.
	if calls := f.Calls("messages.send"); calls != 2 {
		t.Fatalf("%d messages.send calls for %d people in two languages, want 2", calls, n)
	}
}
