package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// monthlySurvey replaces the built-in annual survey with a short monthly
// one for the primaries of the education branch.
const monthlySurvey = `id: annual
title: {ru: "Ежемесячная проверка", en: "Monthly check"}
questions:
  - id: named
    type: yes_no
    required: true
    indicator: infoworker
    text: {ru: "Назначен ли информационный работник?"}
  - id: copies
    type: number
    required: true
    min: 0
    integer: true
    indicator: solidarnost_copies
    text: {ru: "Сколько экземпляров «Солидарности» выписано?"}
  - id: budget
    type: number
    required: true
    min: 0
    max: 100
    unit: {ru: "%"}
    indicator: budget_share
    text: {ru: "Какая доля бюджета идёт на информработу?"}
  - id: email
    type: yes_no
    required: true
    indicator: email_list
    text: {ru: "Есть ли рассылка по электронной почте?"}
  - id: chats
    type: yes_no
    required: true
    indicator: chats
    text: {ru: "Есть ли чаты членов профсоюза?"}
  - id: why
    type: text
    max_len: 200
    if: {question: chats, equals: "no"}
    text: {ru: "Почему нет чатов?"}
schedules:
  - name: monthly
    cron: "0 10 1 * *"
    org: edu
    levels: [primary]
    roles: [infoworker, chair]
    deadline: 10d
    reminders: [2d, 5d]
    results: [chair, infoworker]
`

// sakhalin is the example tree's time zone.
var sakhalin = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Sakhalin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// surveyRig is a hub on backend with the example tree, the survey files
// given (name to YAML) and rounds of scheduled work every 50 ms; it is not
// serving yet.
func surveyRig(t *testing.T, b backend, files map[string]string) *rig {
	t.Helper()
	r := newRig(t, b)
	if len(files) > 0 {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r.setenv("UNIONHUB_SURVEYS_DIR", dir)
	}
	r.setenv("UNIONHUB_ESCALATION_INTERVAL", "50ms")
	r.importExample()
	return r
}

// untilMonthlyFire moves the rig's clock to a minute before the monthly
// survey's next firing (the 1st, 10:00 on Sakhalin) and returns that time.
func untilMonthlyFire(r *rig) time.Time {
	now := r.clock.Now().In(sakhalin)
	fire := time.Date(now.Year(), now.Month()+1, 1, 10, 0, 0, 0, sakhalin)
	r.clock.Advance(fire.Add(-time.Minute).Sub(now))
	return fire
}

// keepToSummary presses Keep on each question until the summary comes.
func keepToSummary(t *testing.T, p person, title string) botMsg {
	t.Helper()
	for i := 0; ; i++ {
		m := p.dm().expect(title)
		if strings.Contains(m.text, "Проверьте ответы") {
			return m
		}
		if i > 20 {
			t.Fatalf("no summary after %d questions", i)
		}
		p.press(m, "Оставить")
	}
}

// monitoringRig is a hub on Postgres with the monthly survey, its clock a
// minute before the survey's next firing.
func monitoringRig(t *testing.T) (*rig, time.Time) {
	t.Helper()
	r := surveyRig(t, onPostgres, map[string]string{"monthly.yaml": monthlySurvey})
	fire := untilMonthlyFire(r)
	r.serve()
	return r, fire
}

// answerNumber types a refused answer and checks the explanation.
func refused(t *testing.T, p person, answer, why string) {
	t.Helper()
	p.say(answer)
	p.dm().expect(why)
}

func TestMonthlySurveyFiresIsAnsweredRemindedClosedAndReported(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r, fire := monitoringRig(t)
			school := r.person(plat, 3101, "Школа")
			register(t, school, r.invite("edu-school-5", "infoworker"), "Школьная Ирина")
			gym := r.person(plat, 3102, "Гимназия")
			register(t, gym, r.invite("edu-gymnasium-1", "infoworker"), "Гимназистова Ольга")
			garden := r.person(plat, 3103, "Садик")
			register(t, garden, r.invite("edu-kindergarten-17", "infoworker"), "Садовая Вера")
			branch := r.person(plat, 3104, "Обком")
			register(t, branch, r.invite("edu", "infoworker"), "Обкомова Нина")
			gymChair := r.person(plat, 3105, "Председатель")
			register(t, gymChair, r.invite("edu-gymnasium-1", "chair"), "Председателева Анна")

			r.clock.Advance(2 * time.Minute) // the 1st, 10:01
			invite := "Опрос «Ежемесячная проверка» для организации"
			sc := school.dm()
			// Every question counts, also the one a skip rule may leave out,
			// and the deadline is the end of the window's last day.
			lastDay := time.Date(fire.Year(), fire.Month(), 11, 23, 59, 0, 0, sakhalin)
			school.press(sc.expect(invite, "СОШ № 5", "до 6 вопросов", "Ответьте до "+lastDay.Format("02.01.2006 15:04")+"."), "Отвечать")
			school.press(sc.expect("Вопрос 1 из 6", "Назначен ли"), "Да")
			whole := sc.expect("Вопрос 2 из 6", "Солидарности", "Напишите целое число.")
			if strings.Contains(whole.text, "12,5") {
				t.Fatalf("a whole-number question offers a fraction: %q", whole.text)
			}
			refused(t, school, "abc", "Это не число. Напишите целое число цифрами, например 12.")
			refused(t, school, "1e9", "Это не число")
			refused(t, school, "-5", "не меньше 0")
			refused(t, school, "2,5", "целое число")
			school.say("1")
			sc.expect("Вопрос 3 из 6", "можно с запятой: 12,5", "Единица: %")
			refused(t, school, "120", "не больше 100")
			school.say("12,5")
			school.press(sc.expect("Вопрос 4 из 6"), "Да")
			school.press(sc.expect("Вопрос 5 из 6", "чаты"), "Да")
			summary := sc.expect("Проверьте ответы", "12,5%")
			school.press(summary, "Подтвердить")
			sc.expect("Спасибо! Ответы организации «ППО МАОУ СОШ № 5")

			// The gymnasium answers two questions, the hub restarts, and it
			// goes on where it stopped.
			gc := gym.dm()
			start := gc.expect(invite, "Гимназия № 1")
			gym.press(start, "Отвечать")
			gym.press(gc.expect("Вопрос 1 из 6"), "Да")
			gc.expect("Вопрос 2 из 6")
			gym.say("1")
			gc.expect("Вопрос 3 из 6")
			if code := r.stop(); code != exitOK {
				t.Fatalf("serve exited with %d", code)
			}
			r.serve()
			gym.say("4,9")
			back := gc.expect("Вопрос 4 из 6")
			gym.press(back, "Назад") // look at the previous answer again
			gym.press(gc.expect("Вопрос 3 из 6", "Сейчас: 4,9%"), "Оставить")
			gym.press(gc.expect("Вопрос 4 из 6"), "Да")
			gym.press(gc.expect("Вопрос 5 из 6"), "Нет") // a "no" asks why
			gc.expect("Вопрос 6 из 6", "Почему нет чатов")
			refused(t, gym, strings.Repeat("я", 201), "не больше 200 символов")
			gym.say("Коллектив против чатов 🙂")
			gym.press(gc.expect("Проверьте ответы", "Коллектив против чатов"), "Подтвердить")
			gc.expect("Спасибо!")
			// /surveys leads back to the answers given: nothing is asked twice.
			gym.say("/surveys")
			gym.press(gc.expect("Открытые опросы", "ответы отправлены"), "1. Ежемесячная")
			gc.expect("Проверьте ответы", "Коллектив против чатов")

			// The gymnasium's chair answers for the same org: they see its
			// answers and correct the budget share.
			cc := gymChair.dm()
			gymChair.press(cc.expect(invite, "Гимназия № 1"), "Отвечать")
			gymChair.press(cc.expect("Проверьте ответы", "4,9%", "Коллектив против чатов"), "Исправить")
			gymChair.press(cc.expect("Вопрос 1 из 6", "Сейчас: Да"), "Оставить")
			gymChair.press(cc.expect("Вопрос 2 из 6", "Сейчас: 1"), "Оставить")
			cc.expect("Вопрос 3 из 6", "Сейчас: 4,9%")
			gymChair.say("5")
			gymChair.press(cc.expect("Вопрос 4 из 6"), "Оставить")
			gymChair.press(cc.expect("Вопрос 5 из 6", "Сейчас: Нет"), "Оставить")
			gymChair.press(cc.expect("Вопрос 6 из 6"), "Оставить")
			gymChair.press(cc.expect("Проверьте ответы", "5%"), "Подтвердить")
			cc.expect("Спасибо!")

			// The kindergarten never answers: reminded after 2 and 5 days,
			// the others are not.
			kc := garden.dm()
			kindergartenStart := kc.expect(invite, "Детский сад № 17")
			r.clock.Advance(2 * 24 * time.Hour)
			kc.expect("Напоминание: опрос «Ежемесячная проверка»")
			r.clock.Advance(3 * 24 * time.Hour)
			reminder := kc.expect("Напоминание: опрос «Ежемесячная проверка»")
			garden.press(kindergartenStart, "Отвечать")
			kc.expect("Вопрос 1 из 6")
			time.Sleep(200 * time.Millisecond)
			if n := countWith(sc, "Напоминание"); n != 0 {
				t.Fatalf("the school answered and still got %d reminders", n)
			}

			// It stays open to the last minute of its last day...
			r.clock.Advance(lastDay.Sub(r.clock.Now()))
			garden.say("/surveys")
			kc.expect("Открытые опросы", "ждёт ответа")
			// ...and the deadline closes it: the branch hears how many
			// answered, an old button changes nothing.
			r.clock.Advance(time.Minute)
			branch.dm().expect("Опрос «Ежемесячная проверка» по организации «Областная организация профсоюза работников образования» закрыт: ответили 2 из")
			garden.say("да") // too late: nothing is saved
			kc.expect("уже закрыт")
			garden.press(reminder, "Отвечать")
			kc.expect("уже закрыт")

			period := fmt.Sprint(fire.Year())
			out := r.mustRun("report", "monitoring", "--org", "edu", "--period", period, "--format", "json")
			var rep struct {
				Surveyed, Answered int
				Orgs               []struct {
					Code     string
					Answered bool
					Results  []struct {
						Norm        string
						Value       float64
						Known, Pass bool
						Missing     []string
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			results := map[string]map[string]string{}
			var order []string
			for _, o := range rep.Orgs {
				order = append(order, o.Code)
				results[o.Code] = map[string]string{}
				for _, res := range o.Results {
					v := "no data"
					if res.Known {
						v = fmt.Sprintf("fail %g", res.Value)
						if res.Pass {
							v = fmt.Sprintf("pass %g", res.Value)
						}
					}
					results[o.Code][res.Norm] = v
				}
			}
			want := map[string]map[string]string{
				"edu-school-5": {"infoworker": "pass 1", "solidarnost_per_100": "pass 1.1627906976744187",
					"budget_share": "pass 12.5", "channels": "pass 100", "board_weekly": "fail 0"},
				"edu-gymnasium-1": {"infoworker": "pass 1", "solidarnost_per_100": "fail 0.8928571428571429",
					"budget_share": "pass 5", "channels": "fail 50"},
				"edu-kindergarten-17": {"infoworker": "no data", "solidarnost_per_100": "no data",
					"budget_share": "no data", "channels": "no data"},
			}
			for code, norms := range want {
				for norm, v := range norms {
					if results[code][norm] != v {
						t.Errorf("%s %s: %q, want %q\n%s", code, norm, results[code][norm], v, out)
					}
				}
			}
			if rep.Answered != 2 || rep.Surveyed < 3 {
				t.Errorf("answered %d of %d", rep.Answered, rep.Surveyed)
			}
			if pos := indexOf(order, "edu-kindergarten-17"); pos > indexOf(order, "edu-gymnasium-1") || indexOf(order, "edu-gymnasium-1") > indexOf(order, "edu-school-5") {
				t.Errorf("not worst first: %v", order)
			}
			table := r.mustRun("report", "monitoring", "--org", "edu", "--period", period)
			csvOut := r.mustRun("report", "monitoring", "--org", "edu", "--period", period, "--format", "csv")
			for _, s := range []string{table, csvOut} {
				if !strings.Contains(s, "edu-gymnasium-1") || !strings.Contains(s, "fail (chats)") {
					t.Errorf("report lacks the gymnasium's missing chats:\n%s", s)
				}
			}
			if !strings.Contains(table, "response_rate") {
				t.Errorf("table without the response rate:\n%s", table)
			}
			// Nobody sees sideways: the school's report holds only the school.
			if out := r.mustRun("report", "monitoring", "--org", "edu-school-5", "--period", period, "--format", "csv"); strings.Contains(out, "gymnasium") {
				t.Errorf("school report shows another org:\n%s", out)
			}

			// In the bot: a summary for the branch, with a chart.
			branch.say("/monitoring")
			branch.dm().expect("Мониторинг информационной работы", "Ответили на опрос: 2 из")
			waitChart(t, r, plat, branch)
			school.say("/monitoring") // an information worker of a primary sees their own org
			sc.expect("Мониторинг информационной работы", "СОШ № 5")
			branch.say("/monitoring edu-gymnasium-1 " + period)
			branch.dm().expect("Мониторинг информационной работы: «ППО МБОУ Гимназия № 1", period)
			school.say("/monitoring edu") // never upwards
			sc.expect("Не понял «edu»")

			status := r.mustRun("survey", "status", "annual")
			if !strings.Contains(status, "closed") || !regexp.MustCompile(`edu-kindergarten-17 +waiting +3`).MatchString(status) {
				t.Errorf("survey status:\n%s", status)
			}
			jobs := r.mustRun("jobs")
			if !strings.Contains(jobs, "survey:annual:monthly") || !strings.Contains(jobs, "ok") || !strings.Contains(jobs, "board Asia/Sakhalin") {
				t.Errorf("jobs:\n%s", jobs)
			}

			// A newer run the school has not answered yet does not hide
			// the answers it gave.
			r.mustRun("survey", "run", "annual", "--org", "edu")
			out = r.mustRun("report", "monitoring", "--org", "edu", "--period", period, "--format", "csv")
			if !regexp.MustCompile(`(?m)^edu-school-5,[^,]*,86,true,4,`).MatchString(out) {
				t.Errorf("after a newer run the school's answers are gone:\n%s", out)
			}
		})
	}
}

// waitChart waits for a PNG chart in p's private chat.
func waitChart(t *testing.T, r *rig, plat storage.Platform, p person) {
	t.Helper()
	id, err := strconv.Atoi(p.id())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var uploads [][]byte
		if plat == storage.VK {
			for _, m := range r.vk.Messages(id) {
				uploads = append(uploads, m.Upload)
			}
		} else {
			for _, m := range r.tg.Messages(int64(id)) {
				uploads = append(uploads, m.Upload)
			}
		}
		for _, u := range uploads {
			if _, err := png.Decode(bytes.NewReader(u)); len(u) > 0 && err == nil {
				return
			}
		}
	}
	t.Fatal("no chart arrived")
}

func mustOrg(t *testing.T, r *rig, code string) storage.Org {
	t.Helper()
	o, err := r.store().OrgByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// boardRoundDone waits until job has run and every board job that started
// has finished.
func boardRoundDone(t *testing.T, r *rig, job string) {
	t.Helper()
	db := r.store()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		runs, err := db.LastJobRuns(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ran, running := false, false
		for _, run := range runs {
			if !strings.HasPrefix(run.Job, "board ") {
				continue
			}
			running = running || run.FinishedAt == nil
			ran = ran || (run.Job == job && run.FinishedAt != nil)
		}
		if ran && !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the board job %q did not run: %+v", job, runs)
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func TestWeeklyBoardReminderOverThreeWeeks(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := surveyRig(t, onPostgres, nil)
			now := r.clock.Now().In(sakhalin)
			monday := time.Date(now.Year(), now.Month(), now.Day()+(8-int(now.Weekday()))%7, 10, 0, 0, 0, sakhalin)
			if !monday.After(now) {
				monday = monday.AddDate(0, 0, 7)
			}
			r.clock.Advance(monday.Add(-time.Minute).Sub(now))
			r.serve()
			// Last Monday's reminder, missed while the hub was down, goes at
			// start to nobody; a person registered while that round still
			// runs would get it, so let it end first.
			boardRoundDone(t, r, "board Asia/Sakhalin 0 10 * * 1")
			iw := r.person(plat, 3201, "Стенд")
			register(t, iw, r.invite("edu-school-5", "infoworker"), "Стендова Алла")
			c := iw.dm()

			// Week 1: updated.
			r.clock.Advance(2 * time.Minute)
			week1 := c.expect("Обновите, пожалуйста, профсоюзный стенд организации «ППО МАОУ СОШ № 5")
			iw.press(week1, "Обновили")
			c.expect("Записано: стенд организации «ППО МАОУ СОШ № 5", "обновлён")
			// The school moves its reminder to Wednesdays: not asked again this week.
			orgs, err := os.ReadFile("../../examples/orgs.yaml")
			if err != nil {
				t.Fatal(err)
			}
			moved := strings.Replace(string(orgs), "    members: 86\n", "    members: 86\n    board_reminder: \"0 10 * * 3\"\n", 1)
			file := filepath.Join(t.TempDir(), "orgs.yaml")
			if err := os.WriteFile(file, []byte(moved), 0o600); err != nil || moved == string(orgs) {
				t.Fatalf("write the moved schedule (%v)", err)
			}
			r.mustRun("org", "import", file)
			r.clock.Advance(2 * 24 * time.Hour) // Wednesday 10:01
			c.quiet(300 * time.Millisecond)
			r.importExample() // and back to Mondays

			// Week 2: remind me tomorrow, then: we have no board.
			r.clock.Advance(7 * 24 * time.Hour)
			iw.press(c.expect("Обновите, пожалуйста, профсоюзный стенд"), "Напомнить завтра")
			c.expect("напомним завтра")
			c.quiet(200 * time.Millisecond)
			r.clock.Advance(24*time.Hour + time.Minute)
			iw.press(c.expect("Напоминаем: профсоюзный стенд"), "Напомнить завтра") // twice in one week
			c.expect("напомним завтра")
			r.clock.Advance(24*time.Hour + time.Minute)
			again := c.expect("Напоминаем: профсоюзный стенд")
			if plat == storage.Telegram { // an upper level cannot answer for the primary
				edu, school := r.person(plat, 3202, "Обком"), mustOrg(t, r, "edu-school-5")
				register(t, edu, r.invite("edu", "infoworker"), "Обкомова Нина")
				data := fmt.Sprintf("brd:u:%d:%d", school.ID, monday.Unix()+7*24*3600)
				if n := edu.notice(edu.pressData(again, data)); !strings.Contains(n, "нет прав") {
					t.Fatalf("a branch answered for a primary's board: %q", n)
				}
			}
			iw.press(again, "нет стенда")
			c.expect("нет профсоюзного стенда")

			// Week 3: silence; once week 4 has begun its button is too late.
			r.clock.Advance(monday.AddDate(0, 0, 14).Add(time.Minute).Sub(r.clock.Now()))
			week3 := c.expect("Обновите, пожалуйста, профсоюзный стенд")
			r.clock.Advance(6 * 24 * time.Hour) // Sunday: tomorrow is another week
			if n := iw.notice(iw.press(week3, "Напомнить завтра")); !strings.Contains(n, "ответьте, пожалуйста, сейчас") {
				t.Fatalf("a snooze past the week's end answered %q", n)
			}
			r.clock.Advance(24 * time.Hour)
			c.expect("Обновите, пожалуйста, профсоюзный стенд") // week 4
			iw.press(week3, "Обновили")
			c.expect("Эта неделя уже прошла")

			db := r.store()
			school, err := db.OrgByCode(context.Background(), "edu-school-5")
			if err != nil {
				t.Fatal(err)
			}
			checks, err := db.BoardChecks(context.Background(), school, monday.AddDate(0, 0, -7), monday.AddDate(0, 0, 22))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ch := range checks {
				got = append(got, fmt.Sprintf("%s:%s", ch.Week.In(sakhalin).Format("01-02"), ch.Answer))
			}
			w := func(d int) string { return monday.AddDate(0, 0, d).Format("01-02") }
			want := []string{w(0) + ":updated", w(7) + ":no_board", w(14) + ":", w(21) + ":"}
			if len(checks) < 4 || strings.Join(got[len(got)-4:], " ") != strings.Join(want, " ") {
				t.Fatalf("board checks %v, want ... %v", got, want)
			}
			if !checks[len(checks)-4].Compliant() || checks[len(checks)-3].Compliant() {
				t.Fatalf("compliance of weeks 1 and 2 wrong: %+v", checks)
			}
			// The month of week 1 in the report: the weeks observed in it,
			// of which only week 1 was updated.
			period := monday.Format("2006-01")
			from := time.Date(monday.Year(), monday.Month(), 1, 0, 0, 0, 0, sakhalin)
			weeks, updated := 0, 0
			for _, ch := range checks {
				if !ch.Week.Before(from) && ch.Week.Before(from.AddDate(0, 1, 0)) {
					weeks++
					if ch.Compliant() {
						updated++
					}
				}
			}
			out := r.mustRun("report", "monitoring", "--org", "edu-school-5", "--period", period, "--format", "csv")
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("report (%v):\n%s", err, out)
			}
			result := "fail"
			if updated == weeks {
				result = "pass"
			}
			col := indexOf(rows[0], "board_weekly_value")
			if col < 0 || rows[1][col] != strconv.FormatFloat(100*float64(updated)/float64(weeks), 'f', -1, 64) || rows[1][col+2] != result {
				t.Fatalf("board over %d weeks with %d updated, report:\n%s", weeks, updated, out)
			}
		})
	}
}

// TestMissedSurveyRunIsCaughtUpOnceOnStart stops the hub over the survey's
// fire time: the next start opens the run and invites once, and further
// restarts do not open it again.
func TestMissedSurveyRunIsCaughtUpOnceOnStart(t *testing.T) {
	t.Parallel()
	r, _ := monitoringRig(t)
	school := r.person(storage.Telegram, 3401, "Школа")
	register(t, school, r.invite("edu-school-5", "infoworker"), "Школьная Ирина")
	if code := r.stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
	r.clock.Advance(6 * 24 * time.Hour) // down over the 1st, 10:00 and both reminders' times
	// Telegram fails the first attempts: the invitation that reached nobody
	// is sent again by a later round.
	r.tg.FailNext("sendMessage", 3, 502, "Bad Gateway", 0)
	r.serve()
	school.dm().expect("Опрос «Ежемесячная проверка»")
	for range 2 {
		if code := r.stop(); code != exitOK {
			t.Fatalf("serve exited with %d", code)
		}
		r.serve()
	}
	time.Sleep(300 * time.Millisecond)
	if n, m := countWith(school.dm(), "Опрос «Ежемесячная проверка»"), countWith(school.dm(), "Напоминание"); n != 1 || m != 0 {
		t.Fatalf("%d invitations and %d reminders after three starts, want 1 and 0: reminders count from the invitation", n, m)
	}
	runs, err := r.store().SurveyRuns(context.Background(), "annual")
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v (%v), want one", runs, err)
	}
	// Past the deadline a missed run is not caught up: nobody could answer it.
	if code := r.stop(); code != exitOK {
		t.Fatalf("serve exited with %d", code)
	}
	r.clock.Advance(40 * 24 * time.Hour) // over the next 1st and its whole window
	r.serve()
	time.Sleep(300 * time.Millisecond)
	if runs, err := r.store().SurveyRuns(context.Background(), "annual"); err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v (%v): a run whose deadline passed while down was opened", runs, err)
	}
}

// TestUpperLevelStartsAndFollowsASurveyInTheBot has a branch's information
// worker start the annual survey for their branch from /surveys and see who
// has not answered; a primary's information worker may not.
func TestUpperLevelStartsAndFollowsASurveyInTheBot(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := surveyRig(t, onSQLite, nil)
			r.serve()
			branch := r.person(plat, 3501, "Обком")
			register(t, branch, r.invite("edu", "infoworker"), "Обкомова Нина")
			school := r.person(plat, 3502, "Школа")
			register(t, school, r.invite("edu-school-5", "infoworker"), "Школьная Ирина")
			bc, sc := branch.dm(), school.dm()

			branch.say("/surveys")
			desk := bc.expect("Опросы вашей структуры", "Ежегодный мониторинг информационной работы — «Областная организация профсоюза работников образования»: ещё не проводился")
			branch.press(desk, "Провести сейчас")
			bc.expect("Опрос «Ежегодный мониторинг информационной работы» по организации «Областная организация профсоюза работников образования» начат")
			sc.expect("Опрос «Ежегодный мониторинг информационной работы» для организации «ППО МАОУ СОШ № 5")

			// Pressing again starts nothing new: it shows the open run.
			branch.say("/surveys")
			again := bc.expect("Опросы вашей структуры", "ответили 0 из")
			branch.press(again, "Провести сейчас")
			status := bc.expect("ответили 0 из", "Ещё не ответили:", "ППО МАОУ СОШ № 5")
			if !strings.Contains(status.text, "СОШ № 2 г. Корсакова") || strings.Contains(status.text, "здравоохранения") {
				t.Fatalf("the status must list the whole branch and nothing beside it: %q", status.text)
			}
			if out := r.mustRun("survey", "status", "annual"); strings.Count(out, "open") != 1 {
				t.Fatalf("one open run expected:\n%s", out)
			}

			// A primary's information worker has no desk and cannot forge one.
			school.say("/surveys")
			list := sc.expect("Открытые опросы", "ждёт ответа")
			if list.hasButton("Провести сейчас") {
				t.Fatal("a primary was offered to start surveys")
			}
			if plat == storage.Telegram { // VK sends only the payloads of buttons it showed
				edu, err := r.store().OrgByCode(context.Background(), "edu")
				if err != nil {
					t.Fatal(err)
				}
				for _, data := range []string{fmt.Sprintf("srv:run:0:%d", edu.ID), fmt.Sprintf("srv:st:1:%d", edu.ID)} {
					if n := school.notice(school.pressData(list, data)); !strings.Contains(n, "нет прав") {
						t.Fatalf("forged %s answered %q", data, n)
					}
				}
			}
		})
	}
}

// TestAnnualSurveyEveryQuestionType walks the built-in survey: yes/no, a
// skipped optional number, a unit typed with the number, a multiple choice
// ticked and unticked, a date refused then given, skip rules (and a changed
// answer that hides a question again), then the report.
func TestAnnualSurveyEveryQuestionType(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := surveyRig(t, onSQLite, nil)
			r.serve()
			iw := r.person(plat, 3601, "Школа")
			register(t, iw, r.invite("edu-school-5", "infoworker"), "Школьная Ирина")
			c := iw.dm()
			r.mustRun("survey", "run", "annual", "--org", "edu-school-5")
			iw.press(c.expect("Опрос «Ежегодный мониторинг информационной работы»", "до 18 вопросов"), "Отвечать")

			iw.press(c.expect("Назначен ли информационный работник"), "Да")
			iw.press(c.expect("Прошёл ли он обучение"), "Нет")
			iw.press(c.expect("Есть ли профсоюзный стенд"), "Нет") // hides "updated weekly?"
			iw.press(c.expect("Сколько сейчас членов"), "Пропустить")
			c.expect("Солидарности", "Единица: экз.")
			iw.say("3 экз.")
			iw.press(c.expect("Профсоюзный журнал"), "Да")
			iw.press(c.expect("отраслевая или областная"), "Нет")
			c.expect("доля бюджета")
			iw.say("5%")
			iw.press(c.expect("рассылка по электронной почте"), "Да")
			iw.press(c.expect("чаты в мессенджерах"), "Да")
			iw.press(c.expect("страница в социальных сетях"), "Нет")
			iw.press(c.expect("свой сайт"), "Нет")
			multi := c.expect("Какие каналы регулярно наполняются", "1. Рассылка", "5. Стенд")
			iw.press(multi, "1")
			multi = c.expect("✅ 1. Рассылка")
			iw.press(multi, "3")
			multi = c.expect("✅ 3. Соцсети")
			iw.press(multi, "✅ 3") // changed their mind
			multi = c.expect("✅ 1. Рассылка", "\n3. Соцсети")
			iw.press(multi, "Готово")
			iw.press(c.expect("информационные собрания"), "Да")
			iw.press(c.expect("квартальный план"), "Да")
			c.expect("Дата последнего собрания")
			refused(t, iw, "31.02.2026", "Это не дата")
			iw.say("15.11.2026")
			iw.press(c.expect("Комментарии и предложения"), "Пропустить")
			summary := c.expect("Проверьте ответы", "Рассылка", "15.11.2026", "5%", "3 экз.", "пропущено")
			if strings.Contains(summary.text, "обновляется не реже") || strings.Contains(summary.text, "Соцсети") {
				t.Fatalf("the summary shows a hidden question or an unticked option:\n%s", summary.text)
			}

			// No information worker after all: the training question goes.
			iw.press(summary, "Исправить")
			iw.press(c.expect("Назначен ли информационный работник", "Сейчас: Да"), "Нет")
			summary = keepToSummary(t, iw, "Ежегодный мониторинг информационной работы")
			if strings.Contains(summary.text, "обучение") {
				t.Fatalf("a question hidden by the changed answer is still in the summary:\n%s", summary.text)
			}
			iw.press(summary, "Подтвердить")
			c.expect("Спасибо! Ответы организации «ППО МАОУ СОШ № 5")

			// "There is a board" after all opens the required "updated
			// weekly?": until it is answered and confirmed the org is not
			// counted as answered.
			iw.say("/surveys")
			iw.press(c.expect("Открытые опросы", "ответы отправлены"), "1. Ежегодный")
			iw.press(c.expect("Проверьте ответы"), "Исправить")
			iw.press(c.expect("Назначен ли информационный работник", "Сейчас: Нет"), "Оставить")
			iw.press(c.expect("Есть ли профсоюзный стенд", "Сейчас: Нет"), "Да")
			c.expect("Стенд обновляется не реже раза в неделю")
			if st := r.mustRun("survey", "status", "annual"); !regexp.MustCompile(`edu-school-5 +waiting`).MatchString(st) {
				t.Fatalf("a submission with a required answer missing still counts:\n%s", st)
			}
			iw.say("/surveys")
			iw.press(c.expect("Открытые опросы", "ждёт ответа"), "1. Ежегодный")
			iw.press(c.expect("Ответы организации на сейчас", "обновляется не реже раза в неделю? — —"), "Продолжить")
			iw.press(c.expect("Стенд обновляется не реже раза в неделю"), "Нет")
			iw.press(keepToSummary(t, iw, "Ежегодный мониторинг информационной работы"), "Подтвердить")
			c.expect("Спасибо! Ответы организации «ППО МАОУ СОШ № 5")

			out := r.mustRun("report", "monitoring", "--org", "edu-school-5", "--format", "json")
			var rep struct {
				Orgs []struct {
					Code    string
					Results []struct {
						Norm        string
						Value       float64
						Known, Pass bool
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Orgs) != 1 {
				t.Fatalf("%v\n%s", err, out)
			}
			got := map[string]string{}
			for _, res := range rep.Orgs[0].Results {
				got[res.Norm] = fmt.Sprintf("%v %v %.2f", res.Known, res.Pass, res.Value)
			}
			want := map[string]string{
				"infoworker":          "true false 0.00",
				"solidarnost_per_100": "true true 3.49", // 3 copies for 86 members
				"budget_share":        "true true 5.00",
				"channels":            "true true 100.00", // a primary needs e-mail and chats
			}
			for norm, v := range want {
				if got[norm] != v {
					t.Errorf("%s: %q, want %q\n%s", norm, got[norm], v, out)
				}
			}
		})
	}
}

// TestBranchDeskFollowsTheUnionRun: while the Union's annual survey is open
// over a branch, the branch's desk shows it and starts no second one.
func TestBranchDeskFollowsTheUnionRun(t *testing.T) {
	t.Parallel()
	r := surveyRig(t, onSQLite, nil)
	r.serve()
	branch := r.person(storage.Telegram, 3701, "Обком")
	register(t, branch, r.invite("edu", "infoworker"), "Обкомова Нина")
	r.mustRun("survey", "run", "annual") // the Union's, over every level below it
	bc := branch.dm()
	bc.expect("Опрос «Ежегодный мониторинг информационной работы» для организации «Областная организация профсоюза работников образования»")
	branch.say("/surveys")
	desk := bc.expect("Опросы вашей структуры", "ответили 0 из")
	branch.press(desk, "Провести сейчас")
	bc.expect("Ещё не ответили:", "СОШ № 5")
	if out := r.mustRun("survey", "status", "annual"); strings.Count(out, "open") != 1 {
		t.Fatalf("a second run was opened over the Union's:\n%s", out)
	}
}

// TestLongAnswersStillLetTheOrgConfirm: fourteen long text answers make a
// summary longer than one message; it is split, the answers are shortened
// in it (not in the store), and the buttons under the last part work.
func TestLongAnswersStillLetTheOrgConfirm(t *testing.T) {
	t.Parallel()
	const sections = 14
	var survey strings.Builder
	survey.WriteString("id: long\ntitle: {ru: Отчёт}\nquestions:\n")
	for i := 1; i <= sections; i++ {
		fmt.Fprintf(&survey, "  - {id: q%d, type: text, required: true, max_len: 1000, text: {ru: \"Раздел %d\"}}\n", i, i)
	}
	survey.WriteString("schedules:\n  - {cron: \"0 10 1 1 *\", org: edu-school-5, levels: [primary], roles: [infoworker], deadline: 30d}\n")
	r := surveyRig(t, onSQLite, map[string]string{"long.yaml": survey.String()})
	r.serve()
	iw := r.person(storage.VK, 3801, "Школа")
	register(t, iw, r.invite("edu-school-5", "infoworker"), "Школьная Ирина")
	c := iw.dm()
	r.mustRun("survey", "run", "long")
	iw.press(c.expect("Опрос «Отчёт»"), "Отвечать")
	long := strings.Repeat("Очень подробный ответ. ", 40) // 920 characters
	for i := 1; i <= sections; i++ {
		c.expect(fmt.Sprintf("Раздел %d\n", i), fmt.Sprintf("Вопрос %d из %d", i, sections))
		iw.say(long)
	}
	first := c.expect("Проверьте ответы", "Раздел 1 —")
	if first.hasButton("Подтвердить") || strings.Contains(first.text, "Раздел 14 —") {
		t.Fatalf("the summary was not split: %q", first.text)
	}
	last := c.expect("Раздел 14 —")
	iw.press(last, "Подтвердить")
	c.expect("Спасибо!")
	answers, err := r.store().SurveyRuns(context.Background(), "long")
	if err != nil || len(answers) != 1 {
		t.Fatal(answers, err)
	}
	stored, err := r.store().SurveyAnswers(context.Background(), answers[0].ID, mustOrg(t, r, "edu-school-5").ID)
	if err != nil || len(stored) != sections || stored[0].Value != strings.TrimSpace(long) {
		t.Fatalf("stored answers %d (%v), the first %q", len(stored), err, stored[0].Value)
	}
}

// boardSurvey replaces the annual survey with its two notice-board
// questions; its schedule fires only on 29 February.
const boardSurvey = `id: annual
title: {ru: "Проверка стенда"}
questions:
  - id: board
    type: yes_no
    required: true
    indicator: board
    text: {ru: "Есть ли профсоюзный стенд?"}
  - id: board_weekly
    type: yes_no
    required: true
    if: {question: board, equals: "yes"}
    indicator: board_weekly
    text: {ru: "Стенд обновляется не реже раза в неделю?"}
schedules:
  - name: default
    cron: "0 10 29 2 *"
    levels: [primary, branch]
    roles: [infoworker, chair]
    deadline: 1d
`

// TestBoardReminderBeforeAnyoneRegisteredLeavesTheSurveyAnswer: on a fresh
// tree the weekly board job fires while nobody is registered, so its
// reminders reach nobody and observe nothing; a chair who registers later
// answers the survey that the board is updated weekly, and the report
// passes the board norm for the org and fails it for nobody.
func TestBoardReminderBeforeAnyoneRegisteredLeavesTheSurveyAnswer(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := surveyRig(t, onSQLite, map[string]string{"board.yaml": boardSurvey})
			now := r.clock.Now().In(sakhalin)
			monday := time.Date(now.Year(), now.Month(), now.Day()+(8-int(now.Weekday()))%7, 10, 0, 0, 0, sakhalin)
			if !monday.After(now) {
				monday = monday.AddDate(0, 0, 7)
			}
			r.clock.Advance(monday.Add(-time.Minute).Sub(now))
			// One board job per time zone of the primaries: all of them must
			// have run before the checks are looked at, not the first alone.
			boardJobs := 0
			for _, line := range strings.Split(r.mustRun("jobs"), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "board ") {
					boardJobs++
				}
			}
			if boardJobs == 0 {
				t.Fatal("no board job is scheduled")
			}
			r.serve()
			r.clock.Advance(2 * time.Minute) // Monday 10:01: the board job fires
			db := r.store()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				runs, err := db.LastJobRuns(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				fired := 0
				for _, run := range runs {
					if strings.HasPrefix(run.Job, "board ") && run.FiredFor.Equal(monday) && run.FinishedAt != nil {
						fired++
					}
				}
				if fired == boardJobs {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the board jobs did not run for %v: %+v", monday, runs)
				}
			}
			edu := mustOrg(t, r, "edu")
			if checks, err := db.BoardChecks(context.Background(), edu, time.Time{}, time.Time{}); err != nil || len(checks) != 0 {
				t.Fatalf("board checks %+v (%v) of reminders that reached nobody", checks, err)
			}

			chair := r.person(plat, 3951, "Председатель")
			register(t, chair, r.invite("edu-school-5", "chair"), "Председателева Анна")
			r.mustRun("survey", "run", "annual", "--org", "edu-school-5")
			c := chair.dm()
			chair.press(c.expect("Опрос «Проверка стенда» для организации «ППО МАОУ СОШ № 5"), "Отвечать")
			chair.press(c.expect("Есть ли профсоюзный стенд"), "Да")
			chair.press(c.expect("Стенд обновляется не реже раза в неделю"), "Да")
			chair.press(c.expect("Проверьте ответы"), "Подтвердить")
			c.expect("Спасибо! Ответы организации «ППО МАОУ СОШ № 5")

			out := r.mustRun("report", "monitoring", "--org", "edu", "--period", monday.Format("2006-01"), "--format", "json")
			var rep struct {
				Norms []struct {
					Norm           string
					Passed, Failed int
				}
				Orgs []struct {
					Code    string
					Results []struct {
						Norm        string
						Value       float64
						Known, Pass bool
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			board := "absent"
			for _, o := range rep.Orgs {
				for _, res := range o.Results {
					if o.Code == "edu-school-5" && res.Norm == "board_weekly" {
						board = fmt.Sprintf("known %v, pass %v, %g", res.Known, res.Pass, res.Value)
					}
				}
			}
			if board != "known true, pass true, 100" {
				t.Fatalf("the school's board norm: %s, want passed from the survey\n%s", board, out)
			}
			for _, n := range rep.Norms {
				if n.Norm == "board_weekly" && (n.Passed != 1 || n.Failed != 0) {
					t.Fatalf("board norm over the branch: %d passed, %d failed; want 1 and 0\n%s", n.Passed, n.Failed, out)
				}
			}
		})
	}
}

// TestSurveyRunFromTheCommandLineWhileServing opens runs with `unionhub
// survey run` beside a running hub, one after another as an operator would:
// each invitation arrives, and /metrics shows when each periodic loop last
// completed a round.
func TestSurveyRunFromTheCommandLineWhileServing(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := surveyRig(t, onSQLite, nil)
			r.serve()
			chair := r.person(plat, 3961, "Председатель")
			register(t, chair, r.invite("edu-school-5", "chair"), "Председателева Анна")
			for range 3 {
				r.mustRun("survey", "run", "annual", "--org", "edu-school-5")
				chair.dm().expect("Опрос «Ежегодный мониторинг информационной работы» для организации «ППО МАОУ СОШ № 5")
			}
			resp, err := http.Get("http://" + r.getenv("UNIONHUB_ADMIN_ADDR") + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, loop := range []string{"jobs", "escalations", "broadcast_timers", "progress"} {
				m := regexp.MustCompile(`(?m)^unionhub_loop_last_success_timestamp_seconds\{loop="` + loop + `"\} (\S+)$`).FindSubmatch(body)
				if m == nil {
					t.Fatalf("no last success of the %s loop in /metrics:\n%s", loop, body)
				}
				if v, err := strconv.ParseFloat(string(m[1]), 64); err != nil || v < float64(time.Now().Add(-time.Minute).Unix()) {
					t.Fatalf("last success of the %s loop at %s, want within the last minute", loop, m[1])
				}
			}
			if code := healthz(t, r); code != http.StatusOK {
				t.Fatalf("healthz %d while every loop runs", code)
			}
		})
	}
}
