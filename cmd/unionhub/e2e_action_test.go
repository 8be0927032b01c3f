package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// TestActionOverThePlatforms sends an action to a primary organisation's
// members over the Telegram and VK fakes: the chair composes it, the
// members answer yes, no, yes (one changing her mind on the way), the
// running hub reminds those who said yes the day and the hour before and
// asks them afterwards, and the counts show in the author's progress
// message and in `report action`.
func TestActionOverThePlatforms(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			r.setenv("UNIONHUB_ESCALATION_INTERVAL", "50ms")
			r.importExample()
			r.serve()
			chair, maria, petr, anna := r.person(plat, 3101, "Оля"), r.person(plat, 3102, "Мария"), r.person(plat, 3103, "Пётр"), r.person(plat, 3104, "Анна")
			register(t, chair, r.invite("edu-school-5", "chair"), "Школьная Оля")
			register(t, maria, r.invite("edu-school-5", "member"), "Учителева Мария")
			register(t, petr, r.invite("edu-school-5", "member"), "Учителев Пётр")
			register(t, anna, r.invite("edu-school-5", "activist"), "Активистова Анна")

			sakhalin := time.FixedZone("Sakhalin", 11*3600)
			local := r.clock.Now().In(sakhalin)
			start := time.Date(local.Year(), local.Month(), local.Day()+3, 18, 0, 0, 0, sakhalin)
			when := start.Format("02.01.2006 15:04")

			settings := compose(t, chair, "Приглашаем на профсоюзное собрание.")
			chair.press(settings, "Добавить акцию")
			chair.press(chair.dm().expect("Какая акция?"), "Очная")
			chair.dm().expect("Напишите название акции")
			chair.say("Собрание коллектива")
			chair.dm().expect("Когда акция?")
			chair.say(when)
			chair.dm().expect("Где проходит?")
			chair.say("Актовый зал")
			settings = chair.dm().expect("К новости приложена акция", "🕒 "+when)
			chair.press(settings, "Отправить сейчас")
			progress := chair.dm().expect("Рассылка №")
			id := broadcastIDOf(t, progress)

			copies := map[person]botMsg{}
			for _, p := range []person{maria, petr, anna} {
				m := p.dm().expect("профсоюзное собрание", "📅 Акция: Собрание коллектива", "🕒 "+when, "📍 Актовый зал")
				if !m.hasButton("Участвую") || !m.hasButton("Не смогу") {
					t.Fatalf("%s's copy has buttons %v", p.id(), m.buttons)
				}
				copies[p] = m
			}
			if !copies[anna].hasButton("Поделиться") {
				t.Fatalf("the activist's copy lost its share link: %v", copies[anna].buttons)
			}
			if n := maria.notice(maria.press(copies[maria], "Участвую")); !strings.Contains(n, "Записали: вы участвуете") {
				t.Fatalf("the yes was answered %q", n)
			}
			petr.notice(petr.press(copies[petr], "Не смогу"))
			for _, label := range []string{"Участвую", "Не смогу", "Участвую"} {
				anna.notice(anna.press(copies[anna], label)) // each answered before the next
			}
			chair.dm().expect(fmt.Sprintf("Рассылка № %d завершена", id), "Акция: участвуют 2, не смогут 1, были 0.")

			// Reminders the day and the hour before, to those who said yes.
			r.clock.Advance(start.Add(-24*time.Hour + time.Minute).Sub(r.clock.Now()))
			for _, p := range []person{maria, anna} {
				p.dm().expect("Напоминаем: вы собирались участвовать", "Собрание коллектива")
			}
			r.clock.Advance(start.Add(-30 * time.Minute).Sub(r.clock.Now()))
			for _, p := range []person{maria, anna} {
				p.dm().expect("Через час начинается", "Собрание коллектива")
			}
			// After it: were you there?
			r.clock.Advance(start.Add(news.FollowUpAfter + time.Minute).Sub(r.clock.Now()))
			maria.press(maria.dm().expect("Вы были на акции «Собрание коллектива»"), "Да")
			anna.press(anna.dm().expect("Вы были на акции «Собрание коллектива»"), "Нет")
			chair.dm().expect("Акция: участвуют 2, не смогут 1, были 1.")
			petr.dm().quiet(200 * time.Millisecond)
			for _, p := range []person{maria, anna} {
				for _, text := range []string{"Напоминаем: вы собирались", "Через час начинается", "Вы были на акции"} {
					n := 0
					for _, m := range p.dm().list() {
						if strings.Contains(m.text, text) {
							n++
						}
					}
					if n != 1 {
						t.Fatalf("%s got %q %d times", p.id(), text, n)
					}
				}
			}

			out := r.mustRun("report", "action", fmt.Sprint(id), "--format", "json")
			var rep news.ActionReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Total != (news.ActionTally{Yes: 2, No: 1, Attended: 1}) ||
				len(rep.ByOrg) != 1 || rep.ByOrg[0].Code != "edu-school-5" || rep.Kind != storage.ActionMeeting {
				t.Fatalf("report %s (%v)", out, err)
			}
			// The participation indicator of the month it took place in.
			out = r.mustRun("report", "monitoring", "--org", "edu-school-5", "--period", start.Format("2006-01"), "--format", "json")
			var mon struct {
				Observed struct {
					Actions       int `json:"actions"`
					JoinedOffline int `json:"joined_offline"`
					JoinedOnline  int `json:"joined_online"`
					Attended      int `json:"attended"`
				} `json:"observed"`
			}
			if err := json.Unmarshal([]byte(out), &mon); err != nil || mon.Observed.Actions != 1 || mon.Observed.JoinedOffline != 2 ||
				mon.Observed.JoinedOnline != 0 || mon.Observed.Attended != 1 {
				t.Fatalf("monitoring %+v (%v) from %s", mon.Observed, err, out)
			}
			table := r.mustRun("report", "action", fmt.Sprint(id))
			for _, part := range []string{"Собрание коллектива", when, "edu-school-5", "ППО МАОУ СОШ № 5"} {
				if !strings.Contains(table, part) {
					t.Fatalf("the table has no %q:\n%s", part, table)
				}
			}
		})
	}
}
