package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// BenchmarkHotlineAskToNotify measures the hot line's busiest path: a
// member's "Send" press arriving at the fake Telegram server, through long
// polling, the dispatcher, the ticket commit in Postgres and routing, to the
// chair's notification arriving back at the server. Each op is one question
// from a distinct member; every member is first brought to the confirm step,
// untimed. "paced" offers 200 questions/s, "burst" offers them all at once.
//
//	go test ./cmd/unionhub -run '^$' -bench HotlineAskToNotify -benchtime 1000x
func BenchmarkHotlineAskToNotify(b *testing.B) {
	for _, mode := range []struct {
		name string
		rate float64 // questions per second offered; 0 = all at once
	}{{"paced-200", 200}, {"burst", 0}} {
		b.Run(mode.name, func(b *testing.B) { benchAsk(b, mode.rate) })
	}
}

func benchAsk(b *testing.B, rate float64) {
	r := newRig(b, onPostgres)
	r.setenv("VK_TOKEN", "")
	r.setenv("UNIONHUB_LOG_LEVEL", "warn")
	// The fake server has no limits: measure the hub, not the pacing (see README).
	r.setenv("TELEGRAM_RATE", "0")
	r.importExample()
	r.serve()
	chair := newTGPerson(b, r.tg, 1, "Председатель")
	register(b, chair, r.invite("edu-school-5", "chair"), "Председатель Бенчмарка")

	// Members registered straight in the store: the benchmark is about asking.
	db := r.store()
	ctx := context.Background()
	code := r.invite("edu-school-5", "member")
	school, err := db.OrgByCode(ctx, "edu-school-5")
	if err != nil {
		b.Fatal(err)
	}
	members := make([]*tgPerson, b.N)
	for i := range members {
		id := 100000 + i
		if _, _, err := db.Register(ctx, storage.Registration{
			Platform: storage.Telegram, ExternalID: strconv.Itoa(id), FullName: "Участник " + strconv.Itoa(id),
			Locale: "ru", OrgID: school.ID, Role: storage.RoleMember, InviteCode: code, At: time.Now(),
		}); err != nil {
			b.Fatal(err)
		}
		members[i] = newTGPerson(b, r.tg, int64(id), "Участник")
	}

	// Bring everyone to the confirm step, a step at a time for all at once.
	step := func(act func(p *tgPerson), want string) []botMsg {
		for _, p := range members {
			act(p)
		}
		out := make([]botMsg, len(members))
		for i, p := range members {
			out[i] = p.chat.expect(want)
		}
		return out
	}
	prompts := step(func(p *tgPerson) { p.say("/ask") }, "Выберите тему вопроса")
	i := 0
	step(func(p *tgPerson) { p.press(prompts[i], "Зарплата"); i++ }, "Опишите вопрос")
	prompts = step(func(p *tgPerson) { p.say("Когда проиндексируют зарплату?") }, "Вопрос записан")
	i = 0
	confirms := step(func(p *tgPerson) { p.press(prompts[i], "Настроить и проверить"); i++ }, "Проверьте обращение")

	var mu sync.Mutex
	sentAt := make(map[string]time.Time, b.N)
	latencies := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	r.tg.OnSent(func(m platformtest.TGMessage, at time.Time) {
		if m.ChatID != 1 || !strings.Contains(m.Text, "Новое обращение") {
			return
		}
		from := m.Text[strings.Index(m.Text, "От: ")+len("От: "):]
		from = from[:strings.Index(from, " («")]
		mu.Lock()
		defer mu.Unlock()
		latencies = append(latencies, at.Sub(sentAt[from]))
		if len(latencies) == b.N {
			close(done)
		}
	})

	b.ResetTimer()
	start := time.Now()
	for i, p := range members {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		mu.Lock()
		sentAt["Участник "+p.id()] = time.Now()
		mu.Unlock()
		p.press(confirms[i], "Отправить")
	}
	select {
	case <-done:
	case <-time.After(2*time.Minute + time.Duration(float64(b.N)/max(rate, 1)*float64(time.Second))):
		b.Fatalf("only %d of %d notifications arrived", len(latencies), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "questions/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // wall time per op says nothing here; the three above do
	if n, err := db.FindTickets(ctx, storage.TicketQuery{Under: school}); err != nil || len(n) != b.N {
		b.Fatalf("%d tickets committed, want %d (%v)", len(n), b.N, err)
	}
}

// BenchmarkServeBroadcast sends one news item from the Union to 100,000
// members in 1,000 primaries through the built `serve` binary on Postgres
// and Redis, against a fake platform without limits, and reports the
// deliveries per second and the peak resident memory of the process.
//
//	go test ./cmd/unionhub -run '^$' -bench ServeBroadcast -benchtime 1x -timeout 30m
func BenchmarkServeBroadcast(b *testing.B) {
	for _, plat := range platforms {
		b.Run(string(plat), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				bb := newBigBroadcast(b, plat, storagetest.BenchTree{Branches: 10, Primaries: 1000, Members: 100000})
				rep := startReplica(b, bb.env)
				b.StartTimer()
				start := time.Now()
				bb.send(b)
				bb.waitAll(b, 20*time.Minute)
				elapsed := time.Since(start)
				b.StopTimer()
				b.ReportMetric(float64(bb.members)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(peakRSS(b, rep.cmd.Process.Pid), "peak-RSS-MiB")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}
