package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
)

// countWith counts the messages of a chat containing text.
func countWith(c *chat, text string) int {
	n := 0
	for _, m := range c.list() {
		if strings.Contains(m.text, text) {
			n++
		}
	}
	return n
}

// serveReplicaIn runs one more `serve` in this process, on the rig's
// environment and clock with addresses of its own, until the test ends.
func serveReplicaIn(t *testing.T, r *rig) (hooks string) {
	t.Helper()
	admin, hooks := freeAddr(t), freeAddr(t)
	getenv := func(k string) string {
		switch k {
		case "UNIONHUB_ADMIN_ADDR":
			return admin
		case "UNIONHUB_HTTP_ADDR":
			return hooks
		}
		return r.getenv(k)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, []string{"serve"}, getenv, logs, logs, r.clock.Now) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("replica exited with %d", code)
		}
		if t.Failed() {
			t.Logf("replica %s logs:\n%s", admin, logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + admin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return hooks
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not healthy:\n%s", logs.String())
		}
	}
}

// TestTwoReplicasSendEachSurveyNoticeAndBoardReminderOnce runs two hubs on
// one Postgres and Redis with one clock: the survey fires once, each
// invitation and reminder reaches each responder once, and so do the
// weekly notice-board reminder, its "remind me tomorrow" and the closing
// summary. On VK the platform would drop a repeat by random_id, so the
// Telegram side is the one that would show a double send.
func TestTwoReplicasSendEachSurveyNoticeAndBoardReminderOnce(t *testing.T) {
	t.Parallel()
	r := surveyRig(t, onPostgres, map[string]string{"monthly.yaml": monthlySurvey})
	var mu sync.Mutex
	var hooks []string
	lb := fanOut(t, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), hooks...) })
	for k, v := range map[string]string{
		"UNIONHUB_ESCALATION_INTERVAL": "20ms", // two replicas' rounds meet often
		"TELEGRAM_WEBHOOK_URL":         lb.URL + "/telegram/webhook",
		"TELEGRAM_WEBHOOK_SECRET":      "jobs-secret",
		"VK_CALLBACK_CONFIRMATION":     "jobs-confirm",
		"VK_CALLBACK_SECRET":           "jobs-vk-secret",
	} {
		r.setenv(k, v)
	}
	fire := untilMonthlyFire(r)
	for range 2 {
		h := serveReplicaIn(t, r)
		mu.Lock()
		hooks = append(hooks, h)
		mu.Unlock()
	}
	r.vk.SetCallback(lb.URL+"/vk/callback", "jobs-vk-secret")

	school := r.person(storage.Telegram, 3301, "Школа")
	register(t, school, r.invite("edu-school-5", "infoworker"), "Школьная Ирина")
	gym := r.person(storage.VK, 3302, "Гимназия")
	register(t, gym, r.invite("edu-gymnasium-1", "infoworker"), "Гимназистова Ольга")
	people := []person{school, gym}
	branch := r.person(storage.Telegram, 3303, "Обком")
	register(t, branch, r.invite("edu", "infoworker"), "Обкомова Нина")

	r.clock.Advance(2 * time.Minute)
	for _, p := range people {
		p.dm().expect("Опрос «Ежемесячная проверка»")
	}
	r.clock.Advance(2 * 24 * time.Hour)
	for _, p := range people {
		p.dm().expect("Напоминание: опрос")
	}
	r.clock.Advance(3 * 24 * time.Hour)
	for _, p := range people {
		p.dm().expect("Напоминание: опрос")
	}
	// The next Monday, 10:01: the weekly reminder.
	at := r.clock.Now().In(sakhalin)
	monday := time.Date(at.Year(), at.Month(), at.Day()+(8-int(at.Weekday()))%7, 10, 1, 0, 0, sakhalin)
	if !monday.After(at) {
		monday = monday.AddDate(0, 0, 7)
	}
	r.clock.Advance(monday.Sub(at))
	for _, p := range people {
		// "Remind me tomorrow" is asked again once, by one replica.
		p.press(p.dm().expect("Обновите, пожалуйста, профсоюзный стенд", "(с "+monday.Format("02.01.2006")+")"), "Напомнить завтра")
		p.dm().expect("напомним завтра")
	}
	r.clock.Advance(24*time.Hour + time.Minute)
	for _, p := range people {
		p.dm().expect("Напоминаем: профсоюзный стенд")
	}
	// The deadline (10 days from the 1st) closes the run once.
	if left := fire.AddDate(0, 0, 10).Sub(r.clock.Now()); left > 0 {
		r.clock.Advance(left + time.Minute)
	}
	branch.dm().expect("закрыт: ответили 0 из")
	time.Sleep(500 * time.Millisecond) // many rounds of both replicas
	if n := countWith(branch.dm(), "закрыт: ответили"); n != 1 {
		t.Fatalf("the branch was told %d times that the survey closed", n)
	}
	for _, p := range people {
		c := p.dm()
		if n, m, k := countWith(c, "Опрос «Ежемесячная проверка»"), countWith(c, "Напоминание: опрос"), countWith(c, "Напоминаем: профсоюзный стенд"); n != 1 || m != 2 || k != 1 {
			t.Fatalf("%s got %d invitations, %d reminders and %d snoozed board reminders; want 1, 2 and 1", p.platform(), n, m, k)
		}
		weeks := map[string]int{} // a board reminder names its week
		for _, m := range c.list() {
			if strings.Contains(m.text, "Обновите, пожалуйста") {
				weeks[m.text]++
			}
		}
		for text, n := range weeks {
			if n != 1 {
				t.Fatalf("%s got %d times %q", p.platform(), n, text)
			}
		}
	}
	jobs := r.mustRun("jobs")
	if !strings.Contains(jobs, "survey:annual:monthly") || strings.Contains(jobs, "running since") {
		t.Fatalf("jobs:\n%s", jobs)
	}
}

// TestJobsRoundOutwaitsAKilledReplicasLock: a replica killed in the middle
// of a jobs round leaves the round's lock in Redis for its 30 s. The
// running hub's rounds wait for it at most their 20 s and say so, and once
// it lapses a survey opened meanwhile invites. Before rounds had a timeout
// this was a minute without invitations and without a log line, while
// updates and news went on.
func TestJobsRoundOutwaitsAKilledReplicasLock(t *testing.T) {
	t.Parallel()
	r := surveyRig(t, onSQLite, nil)
	r.serve()
	chair := r.person(storage.VK, 3981, "Председатель")
	register(t, chair, r.invite("edu-school-5", "chair"), "Председателева Анна")
	ctx := context.Background()
	killed, err := redis.Open(ctx, r.getenv("REDIS_URL"), r.getenv("UNIONHUB_REDIS_PREFIX"))
	if err != nil {
		t.Fatal(err)
	}
	defer killed.Close()
	if _, err := killed.Lock(ctx, "jobs:round", 30*time.Second); err != nil { // never unlocked: its holder is gone
		t.Fatal(err)
	}
	taken := time.Now()
	r.mustRun("survey", "run", "annual", "--org", "edu-school-5")
	const invite = "Опрос «Ежегодный мониторинг информационной работы» для организации «ППО МАОУ СОШ № 5"
	for countWith(chair.dm(), invite) == 0 {
		if time.Since(taken) > 45*time.Second {
			t.Fatal("no invitation 45 s after the lock was left")
		}
		time.Sleep(50 * time.Millisecond)
	}
	failed := 0
	for line := range strings.SplitSeq(r.logs.String(), "\n") {
		if strings.Contains(line, `"msg":"periodic round failed"`) && strings.Contains(line, `"loop":"jobs"`) &&
			strings.Contains(line, `"outcome":"timeout"`) && strings.Contains(line, "lock jobs") {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d log lines of a jobs round waiting out the lock, want 1:\n%s", failed, r.logs)
	}
}
