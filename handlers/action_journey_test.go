package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// actionRound runs the action notices' round.
func (r *chatRig) actionRound() {
	r.t.Helper()
	if err := r.hub.News.ActionRound(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

// actionReport is the action report of broadcast id.
func (r *chatRig) actionReport(id int64) (news.ActionReport, error) {
	b, err := r.store.Broadcast(r.ctx, id)
	if err != nil {
		return news.ActionReport{}, err
	}
	return news.BuildActionReport(r.ctx, r.store, b)
}

// progressRound runs the progress messages' round.
func (r *chatRig) progressRound() {
	r.t.Helper()
	if err := r.hub.News.ProgressRound(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

func TestActionJourneyOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 301, "Оля")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Школьная Оля")
		maria, petr, anna := r.person(plat, 302, "Мария"), r.person(plat, 303, "Пётр"), r.person(plat, 304, "Анна")
		for _, p := range []*chatter{maria, petr, anna} {
			p.register(r.invite("edu-school-5", storage.RoleMember), "Учитель "+p.user.FirstName)
		}
		nurse := r.person(plat, 305, "Вера")
		nurse.register(r.invite("health-polyclinic-4", storage.RoleMember), "Врачева Вера")

		// Composing: the action in four short steps, bad input refused.
		settings := composeNews(chair, "Профсоюзное собрание: обсудим коллективный договор.")
		mustContain(t, "the settings", settings.text, "Акции нет", "Получат 3 человека.")
		chair.press(settings, "Добавить акцию")
		kinds := chair.expect("Какая акция?")
		chair.press(kinds, "Очная")
		chair.expect("Напишите название акции")
		chair.say("   ")
		chair.expect("Пустой ответ")
		chair.say("Собрание коллектива")
		chair.expect("Когда акция?")
		for _, bad := range []string{"завтра вечером", "01.03.2026 18:00", "05.03.2028 18:00"} {
			chair.say(bad)
			chair.expect("Не понял время")
		}
		chair.say("05.03.2026 18:00")
		chair.expect("Где проходит?")
		chair.say("Актовый зал, 2 этаж")
		settings = chair.expect("К новости приложена акция", "📅 Акция: Собрание коллектива", "🕒 05.03.2026 18:00", "📍 Актовый зал, 2 этаж")
		if !settings.hasButton("Убрать акцию") {
			t.Fatalf("the settings with an action: %v", settings.labels())
		}
		progress, id := sendNow(chair, settings)

		// Delivery: each member gets the item, the card and the answers.
		r.deliverNews()
		copies := map[*chatter]*shown{}
		for _, p := range []*chatter{maria, petr, anna} {
			m := p.expect("коллективный договор", "📅 Акция: Собрание коллектива\n🕒 05.03.2026 18:00\n📍 Актовый зал, 2 этаж")
			if got := m.labels(); len(got) != 2 || got[0] != "Участвую" || got[1] != "Не смогу" {
				t.Fatalf("%s's copy has buttons %v", p.user.FirstName, got)
			}
			copies[p] = m
		}
		if nurse.count("коллективный договор") != 0 {
			t.Fatal("the item reached another organisation")
		}

		// Answers: yes; no; yes, no, yes again; each marked on the message.
		if n := maria.press(copies[maria], "Участвую"); n != "Записали: вы участвуете. Напомним накануне и за час." {
			t.Fatalf("the yes was answered %q", n)
		}
		if got := maria.current(copies[maria]).labels(); got[0] != "✅ Участвую" || got[1] != "Не смогу" {
			t.Fatalf("Maria's buttons after yes: %v", got)
		}
		if n := petr.press(copies[petr], "Не смогу"); n != "Записали: вы не сможете." {
			t.Fatalf("the no was answered %q", n)
		}
		for _, label := range []string{"Участвую", "Не смогу", "Участвую"} {
			anna.press(copies[anna], label)
		}
		if got := anna.current(copies[anna]).labels(); got[0] != "✅ Участвую" || got[1] != "Не смогу" {
			t.Fatalf("Anna's buttons after changing her mind: %v", got)
		}
		// Forged presses change nothing: someone the item did not reach, a
		// signature's answer to a meeting, an unknown item.
		for _, forged := range []struct {
			who  *chatter
			data string
		}{
			{nurse, fmt.Sprintf("ac:yes:%d", id)},
			{petr, fmt.Sprintf("ac:sign:%d", id)},
			{petr, fmt.Sprintf("ac:yes:%d", id+100)},
			{petr, fmt.Sprintf("ac:was:%d", id)},
			{petr, "ac:yes:x"},
		} {
			if n := forged.who.pressData(copies[petr], forged.data); n != stalePress {
				t.Fatalf("forged %q answered %q", forged.data, n)
			}
		}
		r.progressRound()
		mustContain(t, "the author's progress", chair.current(progress).text, fmt.Sprintf("Рассылка № %d завершена", id),
			"Акция: участвуют 2, не смогут 1, были 0.")

		// Reminders: the day before and the hour before, once each, to
		// those who said yes; two rounds each time, as two replicas.
		reminded := func(want int, parts ...string) {
			t.Helper()
			r.actionRound()
			r.actionRound()
			for _, p := range []*chatter{maria, anna} {
				if n := p.count(parts[0]); n != want {
					t.Fatalf("%s got %q %d times, want %d", p.user.FirstName, parts[0], n, want)
				}
			}
			if n := petr.count(parts[0]); n != 0 {
				t.Fatalf("Petr, who said no, got %q", parts[0])
			}
		}
		start := time.Date(2026, 3, 5, 18, 0, 0, 0, r.clock.Now().Location())
		r.clock.Advance(start.Add(-24*time.Hour - time.Minute).Sub(r.clock.Now()))
		reminded(0, "Напоминаем: вы собирались участвовать")
		r.clock.Advance(time.Minute)
		reminded(1, "Напоминаем: вы собирались участвовать")
		mustContain(t, "the day's reminder", maria.last().text, "📅 Акция: Собрание коллектива", "🕒 05.03.2026 18:00", "📍 Актовый зал, 2 этаж")
		r.clock.Advance(22 * time.Hour)
		reminded(0, "Через час начинается")
		r.clock.Advance(time.Hour)
		reminded(1, "Через час начинается")

		// After it: "were you there?", and the answers no longer change.
		r.clock.Advance(start.Add(news.FollowUpAfter - time.Minute).Sub(r.clock.Now()))
		reminded(0, "Вы были на акции")
		r.clock.Advance(time.Minute)
		if n := petr.press(copies[petr], "Участвую"); n != "Акция уже прошла — ответ не изменить." {
			t.Fatalf("a late answer was answered %q", n)
		}
		reminded(1, "Вы были на акции «Собрание коллектива» (05.03.2026 18:00)?")
		asked := maria.expect("Вы были на акции")
		if got := asked.labels(); len(got) != 2 || got[0] != "Да" || got[1] != "Нет" {
			t.Fatalf("the question's buttons: %v", got)
		}
		if n := maria.press(asked, "Да"); n != "Спасибо! Записали: вы были." {
			t.Fatalf("the yes after was answered %q", n)
		}
		if got := maria.current(asked).labels(); got[0] != "✅ Да" {
			t.Fatalf("Maria's answer is not marked: %v", got)
		}
		anna.press(anna.expect("Вы были на акции"), "Нет")

		// The counts: in the progress and in the report, by organisation.
		r.progressRound()
		mustContain(t, "the author's progress", chair.current(progress).text, "Акция: участвуют 2, не смогут 1, были 1.")
		rep, err := r.actionReport(id)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total != (news.ActionTally{Yes: 2, No: 1, Attended: 1}) || len(rep.ByOrg) != 1 || rep.ByOrg[0].Code != "edu-school-5" {
			t.Fatalf("report %+v", rep)
		}
	})
}

func TestRelayedActionOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		settings := composeNews(c.union, "Всероссийская онлайн-акция в поддержку индексации зарплат.")
		c.union.press(settings, "Как")
		settings = c.union.expect("по цепочке")
		c.union.press(settings, "Добавить акцию")
		c.union.press(c.union.expect("Какая акция?"), "Онлайн")
		c.union.expect("Напишите название акции")
		c.union.say("Эфир с председателем")
		c.union.expect("Когда акция?")
		c.union.say("10.03 19:00")
		c.union.expect("Пришлите ссылку")
		c.union.say("в группе ВК")
		c.union.expect("Это не ссылка")
		c.union.say("https://vk.com/video-1_2")
		_, id := sendNow(c.union, c.union.expect("📅 Онлайн-акция: Эфир с председателем", "🕒 10.03.2026 19:00", "🔗 https://vk.com/video-1_2"))

		// The branch is offered the item with its action, and publishes it.
		offer := c.edu.expect(fmt.Sprintf("Новость № %d", id), "📅 Онлайн-акция: Эфир с председателем")
		r.deliverNews()
		c.edu.press(offer, "Опубликовать")
		r.deliverNews()

		// Every copy down the tree carries the same answers.
		copies := map[*chatter]*shown{}
		for _, p := range []*chatter{c.nurse, c.member, c.activist, c.edu} {
			m := p.expect("индексации зарплат", "🔗 https://vk.com/video-1_2")
			if !m.hasButton("Участвую") || !m.hasButton("Не смогу") {
				t.Fatalf("%s's relayed copy has buttons %v", p.user.FirstName, m.labels())
			}
			copies[p] = m
		}
		c.nurse.press(copies[c.nurse], "Участвую")
		c.member.press(copies[c.member], "Участвую")
		c.edu.press(copies[c.edu], "Не смогу")
		// The activist keeps the share link beside the marked answer.
		c.activist.press(copies[c.activist], "Не смогу")
		if got := c.activist.current(copies[c.activist]); !got.hasButton("✅ Не смогу") || !got.hasButton("Поделиться") {
			t.Fatalf("the activist's buttons after answering: %v", got.labels())
		}

		rep, err := r.actionReport(id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]news.ActionTally{}
		for _, o := range rep.ByOrg {
			got[o.Code] = o.ActionTally
		}
		want := map[string]news.ActionTally{
			"union": {Yes: 2, No: 2}, "edu": {Yes: 1, No: 2}, "edu-school-5": {Yes: 1}, "edu-gymnasium-1": {No: 1},
			"health": {Yes: 1}, "health-polyclinic-4": {Yes: 1},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || rep.ByOrg[0].Code != "union" || rep.Total != (news.ActionTally{Yes: 2, No: 2}) {
			t.Fatalf("report by org %v (first %q), want %v", got, rep.ByOrg[0].Code, want)
		}
	})
}

func TestActionThatOverflowsTheMessageIsRefusedOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 311, "Оля")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Школьная Оля")
		settings := composeNews(chair, strings.Repeat("Текст ", (news.MaxText-200)/6))
		chair.press(settings, "Добавить акцию")
		chair.press(chair.expect("Какая акция?"), "Онлайн")
		chair.expect("Напишите название акции")
		chair.say("Эфир")
		chair.expect("Когда акция?")
		chair.say("10.03 19:00")
		chair.expect("Пришлите ссылку")
		chair.say("https://example.org/" + strings.Repeat("x", 100))
		chair.expect("не поместится в одно сообщение")
		chair.say("https://example.org/live")
		chair.expect("К новости приложена акция", "🔗 https://example.org/live")
	})
}
