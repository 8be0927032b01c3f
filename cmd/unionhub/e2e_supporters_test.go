package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// TestSupporterEndToEnd walks a supporter's way over the platform fakes, on
// both platforms and both databases: the public invite the CLI prints
// registers them with consent and name; public news reaches them and other
// news does not; the observed report counts them beside coverage; "I want
// to join" (for one of the two organisations they support) reaches the
// chair, whose Approve makes them a member.
func TestSupporterEndToEnd(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 3301, "Председатель")
		member := r.person(plat, 3302, "Учитель")
		fan := r.person(plat, 3303, "Сторонник")
		register(t, chair, r.invite("edu-school-5", "chair"), "Председателева Ольга")
		register(t, member, r.invite("edu-school-5", "member"), "Учителева Мария")
		public := r.invite("edu-school-5", "supporter")
		if list := r.mustRun("invite", "list", "edu-school-5"); !strings.Contains(list, public+"  supporter   used 0 times, no limit, never expires") {
			t.Fatalf("the public invite is not unlimited and lasting:\n%s", list)
		}

		fan.openInvite(public)
		fan.press(fan.dm().expect("как сторонник", "Согласие на обработку"), "Согласен")
		fan.dm().expect("фамилию, имя")
		fan.say("Сторонников Пётр")
		summary := fan.dm().expect("Проверьте", "сторонник профсоюза")
		if strings.Contains(summary.text, "Должность") {
			t.Fatalf("a supporter was asked more than a name: %q", summary.text)
		}
		fan.press(summary, "Всё верно")
		if done := fan.dm().expect("вы зарегистрированы", "сторонник профсоюза"); !done.hasButton("Хочу вступить") {
			t.Fatalf("supporter's menu: %+v", done.buttons)
		}

		settings := compose(t, chair, "Собрание членов профсоюза в пятницу")
		if !strings.Contains(settings.text, "Открытая: нет") || !strings.Contains(settings.text, "Получит 1 человек.") {
			t.Fatalf("members-only settings %q", settings.text)
		}
		chair.press(settings, "Отправить сейчас")
		member.dm().expect("Собрание членов профсоюза")
		settings = compose(t, chair, "День открытых дверей профсоюза")
		chair.press(settings, "Открытая новость")
		settings = chair.dm().expect("Открытая: да", "Получат 2 человека.")
		chair.press(settings, "Отправить сейчас")
		member.dm().expect("День открытых дверей")
		fan.dm().expect("День открытых дверей")
		for _, m := range fan.dm().list() {
			if strings.Contains(m.text, "Собрание членов профсоюза") {
				t.Fatalf("a supporter got news for members: %q", m.text)
			}
		}

		r.clock.Advance(time.Minute)
		var rep struct {
			Observed struct {
				Reachable  int `json:"reachable"`
				Supporters int `json:"supporters_reachable"`
			} `json:"observed"`
		}
		out := r.mustRun("report", "monitoring", "--org", "edu-school-5", "--format", "json")
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Observed.Reachable != 2 || rep.Observed.Supporters != 1 {
			t.Fatalf("observed %+v (%v) from %s: want the chair and the member, one supporter beside", rep.Observed, err, out)
		}

		// A supporter of two organisations chooses which to join.
		fan.openInvite(r.invite("edu-gymnasium-1", "supporter"))
		fan.dm().expect("Готово", "сторонник профсоюза")
		fan.say("/menu")
		fan.press(fan.dm().expect("Главное меню"), "Хочу вступить")
		choose := fan.dm().expect("В какую организацию вы хотите вступить?")
		fan.press(choose, pickNumber(t, choose, "СОШ № 5"))
		fan.dm().expect("Заявка на вступление", "СОШ № 5", "отправлена")
		card := chair.dm().expect("Сторонник организации", "Сторонников Пётр")
		chair.press(card, "Принять")
		chair.dm().expect("Заявка одобрена", "Сторонников Пётр")
		fan.dm().expect("одобрена. Добро пожаловать!")
		// A member of the school now, still a supporter of the gymnasium.
		fan.say("/menu")
		if menu := fan.dm().expect("Главное меню"); !menu.hasButton("Хочу вступить") || !menu.hasButton("Предложить новость") {
			t.Fatalf("a new member's menu: %+v", menu.buttons)
		}
	})
}
