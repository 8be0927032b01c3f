package broadcast_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/bot/vk"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// BenchmarkEngine delivers a broadcast built for the programme's scale on
// Postgres, with limits shared through Redis, and reports deliveries per
// second, the share of the platform's cap reached and the 429s provoked.
//
//	go test ./broadcast -run '^$' -bench Engine -benchtime 1x -timeout 60m
func BenchmarkEngine(b *testing.B) {
	cases := []struct {
		name    string
		vk      bool
		members int
		cap     storage.Rate // the platform's limit, enforced by the fake; zero: none
	}{
		{"telegram-no-limit", false, 100000, storage.Rate{}},
		{"vk-no-limit", true, 100000, storage.Rate{}},
		// Telegram's paid-broadcast cap; at the default 30/s the same run takes an hour.
		{"telegram-at-1000/s", false, 30000, storage.Rate{PerPeriod: 1000, Period: time.Second, Burst: 1000}},
		{"vk-at-20-calls/s", true, 100000, storage.Rate{PerPeriod: 20, Period: time.Second, Burst: 20}},
		// Three minutes at each platform's default cap.
		{"telegram-at-30/s-3min", false, 30 * 180, storage.Rate{PerPeriod: 30, Period: time.Second, Burst: 30}},
		{"vk-at-20-calls/s-3min", true, 20 * 100 * 180, storage.Rate{PerPeriod: 20, Period: time.Second, Burst: 20}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				benchEngine(b, c.vk, c.members, c.cap)
			}
		})
	}
}

func benchEngine(b *testing.B, onVK bool, members int, limit storage.Rate) {
	b.StopTimer()
	ctx := context.Background()
	dsn := storagetest.PostgresDSN(b)
	db, err := postgres.Open(ctx, dsn, quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	tree := storagetest.BenchTree{Branches: 10, Primaries: 1000, Members: members, OnVK: onVK}
	union := storagetest.SeedPostgres(b, db, dsn, tree)
	url, prefix := storagetest.RedisURL(b)
	limiter, err := redis.Open(ctx, url, prefix)
	if err != nil {
		b.Fatal(err)
	}
	defer limiter.Close()

	var sent atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	senders := map[bot.Platform]bot.Sender{}
	rates := map[bot.Platform]storage.Rate{}
	var tooMany func() int
	if onVK {
		f := platformtest.NewVK(b)
		ids := make([]int, members)
		for i := range ids {
			ids[i] = i + 1
		}
		f.Meet(ids...)
		f.OnSent(func(platformtest.VKMessage, time.Time) { sent.Add(1) })
		if limit.PerPeriod > 0 {
			f.EnforceLimits(limit.PerPeriod)
			rates[bot.VK] = limit
		}
		a, err := vk.New(ctx, vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL(), HTTPClient: client, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		senders[bot.VK], tooMany = a, f.TooManyCount
	} else {
		f := platformtest.NewTelegram(b)
		ids := make([]int64, members)
		for i := range ids {
			ids[i] = int64(i + 1)
		}
		f.Meet(ids...)
		f.OnSent(func(platformtest.TGMessage, time.Time) { sent.Add(1) })
		if limit.PerPeriod > 0 {
			f.EnforceLimits(platformtest.TGLimits{PerSecond: limit.PerPeriod})
			rates[bot.Telegram] = limit
		}
		a, err := telegram.New(ctx, telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), HTTPClient: client, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		senders[bot.Telegram], tooMany = a, f.TooManyCount
	}
	bc, err := db.CreateBroadcast(ctx, storage.Broadcast{OrgID: union.ID, Text: "Новость", Mode: storage.ModeDirect,
		Status: storage.BroadcastScheduled, Audience: storage.Audience{Private: true}, CreatedAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n, err := db.BuildOutbox(ctx, bc, storage.OutboxScope{Orgs: []storage.Org{union}, Subtree: true}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	built := time.Since(start)
	if _, err := db.SetBroadcastStatus(ctx, bc.ID, storage.BroadcastScheduled, storage.BroadcastSending, time.Now()); err != nil {
		b.Fatal(err)
	}
	e := broadcast.New(broadcast.Config{Idle: 10 * time.Millisecond, Senders: 64, Rates: rates, Store: db, Platforms: senders, Limiter: limiter, Compose: func(_ context.Context, b storage.Broadcast, _ storage.Delivery) bot.Message {
		return bot.Message{Text: b.Text}
	}, Logger: quiet})
	done := make(chan struct{})
	e.OnFinish = func(_ context.Context, f storage.Broadcast) {
		if f.ID == bc.ID {
			close(done)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	b.StartTimer()
	start = time.Now()
	go e.Run(runCtx)
	select {
	case <-done:
	case <-time.After(20 * time.Minute):
		b.Fatalf("%d of %d delivered in 20 minutes", sent.Load(), n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if int(sent.Load()) != n {
		b.Fatalf("delivered %d of %d", sent.Load(), n)
	}
	rate := float64(n) / elapsed.Seconds()
	b.ReportMetric(built.Seconds(), "outbox-s")
	b.ReportMetric(rate, "deliveries/s")
	if limit.PerPeriod > 0 {
		capacity := float64(limit.PerPeriod) / limit.Period.Seconds()
		if onVK {
			capacity *= 100 // one call takes 100 people
		}
		b.ReportMetric(100*rate/capacity, "%-of-cap")
	}
	b.ReportMetric(float64(tooMany()), "429s")
	b.ReportMetric(0, "ns/op")
}
