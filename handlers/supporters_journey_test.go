package handlers_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// TestSupporterJourney walks a supporter's way on both platforms: the
// public invite registers them with consent and name only; public news
// reaches them and other news does not; coverage counts them beside the
// members; they ask the hot line about joining; "I want to join" reaches
// the chair, who makes them a member.
func TestSupporterJourney(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 301, "Ольга")
		member := r.person(plat, 302, "Мария")
		fan := r.person(plat, 303, "Пётр")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Председателева Ольга")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Учителева Мария")
		public := r.invite("edu-school-5", storage.RoleSupporter)

		// Consent and name, nothing else.
		fan.say("/start " + public)
		consent := fan.expect("как сторонник", "Согласие на обработку")
		fan.press(consent, "Согласен")
		fan.expect("фамилию, имя")
		fan.say("Сторонников Пётр")
		summary := fan.expect("Проверьте")
		mustContain(t, "summary", summary.text, "сторонник профсоюза", "Сторонников Пётр")
		if strings.Contains(summary.text, "Должность") || strings.Contains(summary.text, "e-mail") {
			t.Fatalf("a supporter was asked more than a name: %q", summary.text)
		}
		fan.press(summary, "Всё верно")
		done := fan.expect("вы зарегистрированы", "сторонник профсоюза")
		if !done.hasButton("Хочу вступить") || done.hasButton("Предложить новость") {
			t.Fatalf("supporter's menu: %v", done.labels())
		}
		// A member opening the public link stays a member.
		member.say("/start " + public)
		member.expect("Вы уже состоите", "член профсоюза")

		// Member rights are not theirs.
		fan.say("/suggest")
		fan.expect("Предлагать новости могут члены профсоюза")

		// News: the ordinary item skips them, the public one reaches them.
		settings := composeNews(chair, "Собрание членов профсоюза в пятницу")
		mustContain(t, "settings", settings.text, "Открытая: нет", "Получит 1 человек.")
		sendNow(chair, settings)
		r.deliverNews()
		settings = composeNews(chair, "Профсоюз добился индексации зарплаты")
		chair.press(settings, "Открытая новость")
		settings = chair.expect("Открытая: да")
		mustContain(t, "public settings", settings.text, "Получат 2 человека.")
		sendNow(chair, settings)
		r.deliverNews()
		member.expect("Собрание членов профсоюза")
		member.expect("индексации зарплаты")
		fan.expect("индексации зарплаты")
		for _, m := range fan.messages() {
			if strings.Contains(m.text, "Собрание членов профсоюза") {
				t.Fatalf("a supporter got news for members: %q", m.text)
			}
		}

		// Coverage counts the member; the supporter stands beside.
		r.clock.Advance(time.Minute)
		school, err := r.store.OrgByCode(r.ctx, "edu-school-5")
		if err != nil {
			t.Fatal(err)
		}
		period := monitoring.Period{From: r.clock.Now().AddDate(0, 0, -1), To: r.clock.Now().AddDate(0, 0, 1)}
		rep, err := r.hub.Monitoring.ObservedReport(r.ctx, school, period)
		if err != nil {
			t.Fatal(err)
		}
		if o := rep.Observed; o.Reachable != 2 || o.Supporters != 1 {
			t.Fatalf("observed %+v: want the chair and the member reached, one supporter beside", o)
		}

		// The hot line: about joining, without a topic to pick.
		fan.say("/ask")
		fan.expect("Тема: Вступление в профсоюз")
		fan.say("Сколько стоят взносы?")
		fan.press(fan.expect("Вопрос записан"), "Отправить")
		fan.expect("Вопрос принят", "ППО МАОУ СОШ № 5")
		chair.expect("Новое обращение", "Вступление в профсоюз", "Сколько стоят взносы?")

		// I want to join: the chair decides, the supporter is told.
		fan.say("/menu")
		fan.press(fan.expect("Главное меню"), "Хочу вступить")
		fan.expect("Заявка на вступление", "отправлена")
		fan.say("/join")
		fan.expect("уже отправлена и ждёт решения")
		card := chair.expect("Сторонник организации", "просит принять", "Сторонников Пётр")
		chair.press(card, "Принять")
		chair.expect("Заявка одобрена", "Сторонников Пётр")
		fan.expect("одобрена. Добро пожаловать!")
		p := fan.mustPerson()
		ms, err := r.store.Memberships(r.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !access.ActiveIn(ms, school.ID) || access.SupporterIn(ms, school.ID) {
			t.Fatalf("after the approval: %+v, want a member", ms)
		}
		fan.say("/menu")
		menu := fan.expect("Главное меню")
		if menu.hasButton("Хочу вступить") || !menu.hasButton("Предложить новость") {
			t.Fatalf("a new member's menu: %v", menu.labels())
		}
		fan.say("/join")
		fan.expect("Подать заявку на вступление может сторонник")
	})
}

// TestJoinRefusesWhatIsNotASupportersToAsk checks the bad presses around
// "I want to join": a forged organisation, a member's press, and a
// rejection that leaves the supporter a supporter.
func TestJoinRefusesWhatIsNotASupportersToAsk(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 311, "Ольга")
		member := r.person(plat, 312, "Мария")
		fan := r.person(plat, 313, "Пётр")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Председателева Ольга")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Учителева Мария")
		fan.say("/start " + r.invite("edu-school-5", storage.RoleSupporter))
		fan.press(fan.expect("как сторонник"), "Согласен")
		fan.expect("фамилию, имя")
		fan.say("Сторонников Пётр")
		fan.press(fan.expect("Проверьте"), "Всё верно")
		menu := fan.expect("вы зарегистрированы")

		gym, err := r.store.OrgByCode(r.ctx, "edu-gymnasium-1")
		if err != nil {
			t.Fatal(err)
		}
		if got := fan.pressData(menu, "join:org:"+strconv.FormatInt(gym.ID, 10)); got == "" {
			t.Error("a forged organisation to join was not refused")
		}
		member.say("/join")
		member.expect("Подать заявку на вступление может сторонник")
		pending, err := r.store.PendingMemberships(r.ctx, gym)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending in the gymnasium %+v, %v", pending, err)
		}

		// A supporter of two organisations chooses where to join.
		fan.say("/start " + r.invite("edu-gymnasium-1", storage.RoleSupporter))
		fan.expect("Готово", "сторонник профсоюза")
		fan.say("/join")
		choose := fan.expect("В какую организацию вы хотите вступить?")
		fan.pick(choose, "Гимназия № 1")
		fan.expect("Заявка на вступление", "Гимназия № 1", "отправлена")
		if pending, err := r.store.PendingMemberships(r.ctx, gym); err != nil || len(pending) != 1 {
			t.Fatalf("pending in the gymnasium %+v, %v; want the request", pending, err)
		}
		if again := fan.pressData(choose, "join:org:"+strconv.FormatInt(gym.ID, 10)); !strings.Contains(fan.expect("уже отправлена").text, "Гимназия") {
			t.Errorf("a second press on the chooser: notice %q", again)
		}

		fan.say("/join")
		fan.pick(fan.expect("В какую организацию"), "СОШ № 5")
		fan.expect("Заявка на вступление", "отправлена")
		chair.press(chair.expect("Сторонник организации"), "Отклонить")
		chair.expect("Заявка отклонена")
		fan.expect("отклонена. Вы остаётесь её сторонником")
		fan.say("/menu")
		if again := fan.expect("Главное меню"); !again.hasButton("Хочу вступить") {
			t.Fatalf("a turned-down supporter's menu: %v", again.labels())
		}
	})
}
