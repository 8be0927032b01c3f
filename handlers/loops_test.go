package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/periodic"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/surveys"
)

// testClock is a hub clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeSender is a Telegram that delivers unless refuse says otherwise.
type fakeSender struct {
	refuse func(ctx context.Context, m bot.Message) error // nil: deliver everything

	mu        sync.Mutex
	sent      []bot.Message
	delivered chan bot.Message
}

func newFakeSender(refuse func(ctx context.Context, m bot.Message) error) *fakeSender {
	return &fakeSender{refuse: refuse, delivered: make(chan bot.Message, 100)}
}

func (f *fakeSender) Platform() bot.Platform { return bot.Telegram }

func (f *fakeSender) Send(ctx context.Context, m bot.Message) (bot.Sent, error) {
	if f.refuse != nil {
		if err := f.refuse(ctx, m); err != nil {
			return bot.Sent{}, err
		}
	}
	f.mu.Lock()
	f.sent = append(f.sent, m)
	n := len(f.sent)
	f.mu.Unlock()
	f.delivered <- m
	return bot.Sent{ChatID: m.ChatID, MessageID: strconv.Itoa(n)}, nil
}

func (f *fakeSender) Edit(context.Context, bot.Sent, bot.Message) error { return nil }

func (f *fakeSender) EditKeyboard(context.Context, bot.Sent, bot.Keyboard) error { return nil }

func (f *fakeSender) AnswerCallback(context.Context, *bot.Update, string) error { return nil }

// keys lists the keys of the messages delivered.
func (f *fakeSender) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		out = append(out, m.Key)
	}
	return out
}

// await waits up to 10 s for a delivered message containing text.
func (f *fakeSender) await(t *testing.T, text string) bot.Message {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-f.delivered:
			if strings.Contains(m.Text, text) {
				return m
			}
		case <-timeout:
			t.Fatalf("no message with %q delivered; delivered: %v", text, f.keys())
		}
	}
}

// roundRig is a hub on a fresh SQLite database with the tree U > P (a
// primary on Sakhalin), the test's clock and a fake Telegram.
type roundRig struct {
	t     *testing.T
	db    *sqlstore.DB
	hub   *Hub
	clock *testClock
	org   map[string]storage.Org
}

func newRoundRig(t *testing.T, sender bot.Sender, defs []surveys.Survey, now time.Time) *roundRig {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportOrgs(ctx, []storage.OrgInput{
		{Code: "U", Name: "Союз", Level: storage.LevelUnion, MemberCount: 1000, Source: "t:1"},
		{Code: "P", Name: "ППО Школа", ParentCode: "U", Level: storage.LevelPrimary, MemberCount: 50, Source: "t:2"},
	}, now); err != nil {
		t.Fatal(err)
	}
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: now}
	r := &roundRig{t: t, db: db, clock: clock, org: map[string]storage.Org{}}
	r.hub = New(Deps{
		Store: db, State: redis.NewMemory(clock.Now), Catalog: catalog, Surveys: defs,
		Senders: map[bot.Platform]bot.Sender{bot.Telegram: sender}, Clock: clock.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	for _, code := range []string{"U", "P"} {
		if r.org[code], err = db.OrgByCode(ctx, code); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// chair registers the chair of the org code on Telegram as ext.
func (r *roundRig) chair(code, ext string) {
	r.t.Helper()
	ctx, now := context.Background(), r.clock.Now()
	inv := storage.Invite{Code: "invite-" + ext, OrgID: r.org[code].ID, Role: storage.RoleChair, MaxUses: 1, CreatedAt: now}
	if err := r.db.CreateInvite(ctx, inv); err != nil {
		r.t.Fatal(err)
	}
	_, _, err := r.db.Register(ctx, storage.Registration{
		Platform: storage.Telegram, ExternalID: ext, FullName: "Председатель " + ext, Locale: "ru",
		OrgID: r.org[code].ID, Role: storage.RoleChair, InviteCode: inv.Code, At: now,
		Consents: []storage.Consent{{OrgID: r.org[code].ID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "ru", Accepted: true, At: now}},
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// mondayMorning is 10:05 on a Monday on Sakhalin, just after the default
// weekly board reminder.
func mondayMorning(t *testing.T) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2027, 3, 8, 10, 5, 0, 0, loc)
}

// chairSurvey asks the chair of the primary P one question.
const chairSurvey = `id: check
title: {ru: Проверка}
questions:
  - {id: named, type: yes_no, required: true, indicator: infoworker, text: {ru: "Назначен ли информационный работник?"}}
schedules:
  - {name: yearly, cron: "0 10 15 1 *", org: P, levels: [primary], roles: [chair], deadline: 30d}
`

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestJobsRoundCutByItsTimeoutLosesNoNotice runs the hub's jobs loop with
// a platform whose first send hangs: the round is cut by its timeout and
// says so, the next round invites to the open survey, and the weekly board
// job the cut interrupted is finished once its run counts as abandoned.
// Each notice arrives once.
func TestJobsRoundCutByItsTimeoutLosesNoNotice(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	hung := false
	sender := newFakeSender(func(ctx context.Context, m bot.Message) error {
		mu.Lock()
		first := !hung
		hung = true
		mu.Unlock()
		if first { // a call that never answers, as on a dead connection
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	sv, err := surveys.Parse("check.yaml", []byte(chairSurvey))
	if err != nil {
		t.Fatal(err)
	}
	now := mondayMorning(t).Add(2 * 24 * time.Hour) // Wednesday: the week's board job is due
	r := newRoundRig(t, sender, []surveys.Survey{sv}, now)
	r.chair("P", "502")
	ctx, cancel := context.WithCancel(context.Background())
	if _, _, err := r.hub.Monitoring.OpenRun(ctx, sv, sv.Schedules[0], monitoring.ManualJob(sv.ID, sv.Schedules[0].Name, now), now); err != nil {
		t.Fatal(err)
	}

	logs := &logBuffer{}
	runner := periodic.NewRunner(prometheus.NewRegistry(), time.Now, slog.New(slog.NewTextHandler(logs, nil)))
	var jobs periodic.Loop
	for _, l := range r.hub.Loops(10*time.Millisecond, time.Second) {
		if l.Name == "jobs" {
			jobs = l
		}
	}
	if jobs.Timeout >= monitoring.RoundLock || jobs.Timeout <= 0 {
		t.Fatalf("jobs round timeout %v must be positive and end before its lock (%v)", jobs.Timeout, monitoring.RoundLock)
	}
	jobs.Timeout = 300 * time.Millisecond
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		runner.Run(ctx, jobs)
	}()
	defer func() { cancel(); <-stopped }()

	sender.await(t, "Опрос «Проверка» для организации «ППО Школа»")
	if !strings.Contains(logs.String(), "outcome=timeout") {
		t.Fatalf("the cut round was not logged:\n%s", logs)
	}
	r.clock.Advance(monitoring.RoundLock + time.Second) // the cut job run counts as abandoned
	sender.await(t, "профсоюзный стенд организации «ППО Школа")
	cancel()
	<-stopped

	seen := map[string]int{}
	for _, k := range sender.keys() {
		seen[k]++
	}
	if len(seen) != 2 {
		t.Fatalf("delivered %v; want the invitation and the board reminder", sender.keys())
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", k, n)
		}
	}
	runs, err := r.db.LastJobRuns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range runs {
		if strings.HasPrefix(run.Job, "board ") && run.Outcome != "ok" {
			t.Fatalf("board job run %+v, want it finished ok", run)
		}
	}
}
