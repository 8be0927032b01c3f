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

// News, the relay and suggestions on the fast rig, on both platforms, with
// the engine run in-process (deliverNews); the end-to-end tests in
// cmd/unionhub walk the same flows over the platform fakes with the engine
// of serve.

// unionName is the root of the rig's tree; the others' names are with the
// monitoring journeys.
const unionName = "Сахалинский областной союз организаций профсоюзов"

// newsCrew is who publishes and who reads news in the rig's tree: the
// information workers of the union and of edu, a member of the school, an
// activist of the gymnasium, a member of the polyclinic. Health and the
// primaries have nobody who publishes.
type newsCrew struct {
	union, edu, member, activist, nurse *chatter
}

func newNewsCrew(r *chatRig, plat bot.Platform) newsCrew {
	c := newsCrew{union: r.person(plat, 201, "Инна"), edu: r.person(plat, 202, "Ева"), member: r.person(plat, 203, "Мария"),
		activist: r.person(plat, 204, "Антон"), nurse: r.person(plat, 205, "Вера")}
	c.union.register(r.invite("union", storage.RoleInfoworker), "Союзная Инна")
	c.edu.register(r.invite("edu", storage.RoleInfoworker), "Обкомова Ева")
	c.member.register(r.invite("edu-school-5", storage.RoleMember), "Учителева Мария")
	c.activist.register(r.invite("edu-gymnasium-1", storage.RoleActivist), "Активистов Антон")
	c.nurse.register(r.invite("health-polyclinic-4", storage.RoleMember), "Врачева Вера")
	return c
}

// composeNews walks c through /news up to the settings screen.
func composeNews(c *chatter, text string) *shown {
	c.r.t.Helper()
	c.say("/news")
	c.expect("Напишите новость")
	c.say(text)
	return c.expect("Новость организации «", "Получ")
}

// sendNow presses Send on the settings and returns the progress message and
// the broadcast's number.
func sendNow(c *chatter, settings *shown) (*shown, int64) {
	c.r.t.Helper()
	c.press(settings, "Отправить сейчас")
	progress := c.expect("📤 Рассылка №", "началась")
	return progress, ticketNumber(c, progress)
}

// mustContain fails the test unless text has every part.
func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("%s %q: no %q", what, text, p)
		}
	}
}

// report is the broadcast report of id.
func (r *chatRig) report(id int64) news.Report {
	r.t.Helper()
	b, err := r.store.Broadcast(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	rep, err := news.BuildReport(r.ctx, r.store, b)
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

// timers runs the broadcast timers' round.
func (r *chatRig) timers() {
	r.t.Helper()
	if err := r.hub.News.TimersRound(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

// last is the newest message of c's chat.
func (c *chatter) last() *shown {
	c.r.t.Helper()
	msgs := c.messages()
	if len(msgs) == 0 {
		c.r.t.Fatalf("%s has no messages", c.user.ID)
	}
	return &msgs[len(msgs)-1]
}

func TestNewsReachesEveryoneOnceOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		group := r.group(plat, "-55", "Чат СОШ № 5")
		group.say(c.edu, "/bind edu-school-5")
		group.expect("Чат привязан")

		settings := composeNews(c.union, "Профсоюз добился индексации зарплаты на 7%!")
		// The author is not among them: they see the item as they write it.
		mustContain(t, "the settings", settings.text, "все организации «"+unionName+"» и ниже", "Получат 4 человека и 1 чат.", "Вам самим рассылка не придёт")
		progress, id := sendNow(c.union, settings)
		if !progress.hasButton("Остановить") {
			t.Fatalf("the progress message has no Stop: %v", progress.labels())
		}
		// The settings screen, its buttons spent, says what became of it.
		card := c.union.current(settings)
		mustContain(t, "the spent settings", card.text, fmt.Sprintf("Отправлено: рассылка № %d.", id), "Получат 4 человека и 1 чат.")
		if len(card.kb) != 0 {
			t.Fatalf("the sent settings keep their buttons: %v", card.labels())
		}
		if c.member.count("индексации") != 0 {
			t.Fatal("delivered before the engine ran")
		}

		r.deliverNews()
		for _, p := range []*chatter{c.member, c.edu, c.nurse} {
			m := p.expect("📰 " + unionName + "\n\nПрофсоюз добился индексации зарплаты на 7%!")
			if len(m.kb) != 0 {
				t.Fatalf("a member's copy has buttons: %v", m.labels())
			}
		}
		share := c.activist.expect("индексации зарплаты")
		link := map[bot.Platform]string{bot.Telegram: "https://t.me/share/url?url=", bot.VK: "https://vk.com/share.php?url="}[plat]
		if len(share.kb) != 1 || !strings.Contains(share.kb[0][0].Text, "Поделиться") || !strings.HasPrefix(share.kb[0][0].URL, link) {
			t.Fatalf("the activist's copy: %+v, want a share link %s…", share.kb, link)
		}
		group.expect("индексации зарплаты")
		mustContain(t, "the final progress", c.union.current(progress).text, fmt.Sprintf("✅ Рассылка № %d завершена: доставлено 5 из 5", id))
		if len(c.union.current(progress).kb) != 0 {
			t.Fatal("a finished broadcast keeps its Stop")
		}

		// Exactly once, however often the engine looks again.
		r.deliverNews()
		for _, p := range []*chatter{c.member, c.activist, c.nurse} {
			if n := p.count("индексации зарплаты"); n != 1 {
				t.Fatalf("%s got the item %d times", p.user.FirstName, n)
			}
		}
		if rep := r.report(id); rep.Audience != 5 || rep.Delivered != 5 || rep.Queued != 0 || len(rep.ByOrg) != 4 {
			t.Fatalf("report %+v", rep)
		}
	})
}

func TestNewsSettingsOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		settings := composeNews(c.union, "Собрание актива в пятницу.")
		steps := []struct {
			button string
			parts  []string
		}{
			{"Роли", []string{"Роли: только активисты", "Получит 1 человек."}},
			{"Роли", []string{"Роли: только руководители", "Получит 1 человек."}},
			{"Роли", []string{"Роли: все члены профсоюза", "Получат 4 человека."}},
			{"Куда", []string{"Куда: только в личные сообщения\n", "Получат 4 человека."}},
			{"Куда", []string{"Куда: только в чаты организаций (привязанных чатов пока нет)", "Получат 0 человек."}},
			{"Куда", []string{"Куда: в личные сообщения и в чаты организаций (привязанных чатов пока нет)"}},
			{"Как", []string{"Как: по цепочке"}},
			{"Как", []string{"Как: сразу всем"}},
		}
		for _, st := range steps {
			c.union.press(settings, st.button)
			settings = c.union.expect(st.parts...)
		}
		c.union.press(settings, "Кому")
		picker := c.union.expect("Выберите организации")
		mustContain(t, "the picker", picker.text, "▫️ "+eduName, "▫️ Областная организация профсоюза работников здравоохранения")
		c.union.pick(picker, "работников образования")
		picker = c.union.expect("✅ " + eduName)
		c.union.press(picker, "Готово")
		settings = c.union.expect("Кому: "+eduName+"\n", "Получат 3 человека.")

		// A primary has nothing below: neither choosing organisations nor
		// relaying is offered.
		chair := r.person(plat, 206, "Оля")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Школьная Оля")
		own := composeNews(chair, "Субботник.")
		mustContain(t, "a primary's settings", own.text, "Кому: члены «"+schoolName+"»", "Получит 1 человек.")
		if own.hasButton("Кому") || own.hasButton("Как") || !own.hasButton("Роли") || !own.hasButton("Куда") {
			t.Fatalf("a primary's buttons: %v", own.labels())
		}

		c.union.press(settings, "Отмена")
		c.union.expect("Рассылка отменена, черновик удалён.")
		if notice := c.union.pressData(settings, "nw:send"); notice != stalePress {
			t.Fatalf("Send after Cancel: %q", notice)
		}
		if n := c.member.count("Собрание актива"); n != 0 {
			t.Fatal("a cancelled draft was sent")
		}
	})
}

func TestNewsScheduledOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		loc, err := time.LoadLocation(storage.DefaultTimeZone)
		if err != nil {
			t.Fatal(err)
		}
		settings := composeNews(c.union, "Завтра — собрание актива.")
		c.union.press(settings, "Запланировать")
		c.union.expect("Когда отправить?")
		for _, bad := range []string{"завтра утром", "01.02.2020 10:00", r.clock.Now().AddDate(2, 0, 0).In(loc).Format("02.01.2006 15:04")} {
			c.union.say(bad)
			c.union.expect("Не понял время или оно в прошлом")
		}
		at := r.clock.Now().Add(26 * time.Hour).In(loc)
		c.union.say(at.Format("02.01 15:04"))
		c.union.expect("запланирована на " + at.Format("02.01.2006 15:04"))
		card := c.union.current(settings)
		mustContain(t, "the spent settings", card.text, "Запланировано: рассылка №", "уйдёт "+at.Format("02.01.2006 15:04"), "Получат 4 человека.")
		if len(card.kb) != 0 {
			t.Fatalf("the scheduled settings keep their buttons: %v", card.labels())
		}

		r.timers()
		r.deliverNews()
		r.clock.Advance(25 * time.Hour)
		r.timers()
		r.deliverNews()
		if c.member.count("собрание актива") != 0 {
			t.Fatal("sent before its time")
		}
		r.clock.Advance(time.Hour)
		r.timers()
		r.deliverNews()
		c.member.expect("📰 "+unionName, "собрание актива")
		c.nurse.expect("собрание актива")
	})
}

func TestNewsStoppedOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		progress, id := sendNow(c.union, composeNews(c.union, "Эта рассылка будет остановлена."))
		stop := fmt.Sprintf("nw:stop:%d", id)
		if notice := c.member.pressData(c.member.last(), stop); notice != notAllowed {
			t.Fatalf("a member's Stop: %q", notice)
		}
		c.union.press(progress, "Остановить")
		c.union.expect(fmt.Sprintf("Рассылка № %d остановлена: 4 сообщения не будут отправлены.", id))
		if notice := c.union.pressData(progress, stop); notice != fmt.Sprintf("Рассылка № %d уже завершена.", id) {
			t.Fatalf("a second Stop: %q", notice)
		}
		r.deliverNews()
		for _, p := range []*chatter{c.member, c.activist, c.edu, c.nurse} {
			if p.count("будет остановлена") != 0 {
				t.Fatalf("%s got a stopped broadcast", p.user.FirstName)
			}
		}
		if rep := r.report(id); rep.Cancelled != 4 || rep.Delivered != 0 || rep.Queued != 0 {
			t.Fatalf("report %+v", rep)
		}
		if err := r.hub.News.ProgressRound(r.ctx); err != nil {
			t.Fatal(err)
		}
		mustContain(t, "the progress", c.union.current(progress).text, fmt.Sprintf("⏹ Рассылка № %d остановлена", id))
	})
}

func TestNewsRefusalsOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		c.member.say("/news")
		c.member.expect(notAllowed)

		c.union.say("/news")
		c.union.expect("Напишите новость")
		c.union.say(strings.Repeat("я", news.MaxText+1))
		c.union.expect("Слишком длинно: не больше 3500 символов.")
		c.union.say("Собрание.")
		settings := c.union.expect("Новость организации «")
		c.union.press(settings, "Кому")
		picker := c.union.expect("Выберите организации")
		for _, data := range []string{
			fmt.Sprintf("nw:org:%d", r.org("edu-school-5").ID), // below a child, not a child
			"nw:burn", "nw:org:x", "rl:pub:999:1", "rl:pub:1", "sg:pub:999", "sg:kind:rumour",
		} {
			if notice := c.union.pressData(picker, data); notice != stalePress {
				t.Errorf("%s: %q", data, notice)
			}
		}
		// The relay's and the suggestions' buttons are for those who may
		// publish there only.
		c.union.press(picker, "Готово")
		c.union.press(c.union.expect("Кому: все организации"), "Как")
		_, id := sendNow(c.union, c.union.expect("по цепочке"))
		c.edu.expect(fmt.Sprintf("Новость № %d", id))
		c.member.say("/suggest")
		c.member.press(c.member.expect("Что вы хотите сообщить профсоюзу?"), "Новость")
		c.member.expect("Опишите")
		c.member.say("Новость школы.")
		sg := ticketNumber(c.member, c.member.expect("Отправлено, №"))
		for _, data := range []string{fmt.Sprintf("rl:pub:%d:%d", id, r.org("edu").ID), fmt.Sprintf("rl:note:%d:%d", id, r.org("edu").ID),
			fmt.Sprintf("sg:pub:%d", sg), fmt.Sprintf("sg:up:%d", sg), fmt.Sprintf("sg:no:%d", sg), fmt.Sprintf("sg:show:%d", sg)} {
			if notice := c.member.pressData(c.member.last(), data); notice != notAllowed {
				t.Errorf("a member's %s: %q", data, notice)
			}
		}
		if notice := c.union.pressData(c.union.last(), fmt.Sprintf("rl:pub:%d:%d", id+1, r.org("edu").ID)); notice != stalePress {
			t.Errorf("a relay of no broadcast: %q", notice)
		}
		c.member.say("/suggestions")
		c.member.expect(notAllowed)
	})
}

func TestRelayOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		gym := r.person(plat, 207, "Гена")
		gym.register(r.invite("edu-gymnasium-1", storage.RoleChair), "Гимназиев Гена")
		settings := composeNews(c.union, "Приглашаем на областной семинар информационных работников.")
		c.union.press(settings, "Как")
		_, id := sendNow(c.union, c.union.expect("по цепочке"))

		offer := c.edu.expect(fmt.Sprintf("Новость № %d от организации «%s» для организации «%s»", id, unionName, eduName), "семинар")
		if got := offer.labels(); len(got) != 3 {
			t.Fatalf("the offer's buttons: %v", got)
		}
		// Health has nobody who could relay: it is published there at once,
		// and in its polyclinic.
		r.deliverNews()
		c.nurse.expect("📰 " + unionName + "\n\nПриглашаем")
		if c.member.count("семинар") != 0 {
			t.Fatal("the school got it before its branch published")
		}

		c.edu.press(offer, "Добавить примечание")
		c.edu.expect("Напишите примечание для организации «" + eduName + "» — не больше 500 символов.")
		c.edu.say("Обязательно для всех школ района.")
		c.edu.expect(fmt.Sprintf("Новость № %d опубликована для организации «%s» и передана ниже.", id, eduName))
		if notice := c.edu.pressData(offer, fmt.Sprintf("rl:pub:%d:%d", id, r.org("edu").ID)); notice != "" {
			t.Fatalf("a second decision answered %q", notice)
		}
		c.edu.expect(fmt.Sprintf("По новости № %d для организации «%s» решение уже принято.", id, eduName))

		// The school, with nobody to decide, publishes with the branch's
		// note; the gymnasium's chair is asked and skips.
		skip := gym.expect(fmt.Sprintf("Новость № %d", id), "для организации «"+gymName+"»")
		gym.press(skip, "Пропустить")
		gym.expect(fmt.Sprintf("Новость № %d пропущена для организации «%s».", id, gymName))
		r.deliverNews()
		note := "✏️ «" + eduName + "»: Обязательно для всех школ района.\n\n"
		c.member.expect(note + "📰 " + unionName + "\n\nПриглашаем")
		c.edu.expect(note + "📰 " + unionName)
		if c.activist.count("семинар") != 0 || c.nurse.count("Обязательно") != 0 {
			t.Fatal("a level that skipped, or a branch without the note, got the note")
		}
		if rep := r.report(id); rep.RelaySteps != 5 || rep.Relayed != 4 {
			t.Fatalf("relay report %+v", rep)
		}
	})
}

func TestRelayTimersAndStopOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		loc, err := time.LoadLocation(storage.DefaultTimeZone)
		if err != nil {
			t.Fatal(err)
		}
		deadline := r.clock.Now().Add(news.RelayPeriod).In(loc).Format("02.01.2006 15:04")
		settings := composeNews(c.union, "Семинар в пятницу.")
		c.union.press(settings, "Как")
		_, id := sendNow(c.union, c.union.expect("по цепочке"))
		offer := c.edu.expect(fmt.Sprintf("Новость № %d", id), "до "+deadline)

		r.clock.Advance(news.RelayPeriod/2 + time.Minute)
		r.timers()
		c.edu.expect(fmt.Sprintf("⏰ Напоминание: новость № %d от организации «%s» ждёт публикации в организации «%s» до %s.", id, unionName, eduName, deadline))
		r.timers()
		if n := c.edu.count("Напоминание"); n != 1 {
			t.Fatalf("%d reminders", n)
		}
		r.clock.Advance(news.RelayPeriod / 2)
		r.timers()
		c.edu.press(offer, "Опубликовать")
		c.edu.expect(fmt.Sprintf("По новости № %d для организации «%s» решение уже принято.", id, eduName))
		r.deliverNews()
		m := c.member.expect("📰 " + unionName + "\n\nСеминар в пятницу.")
		if strings.Contains(m.text, "✏️") {
			t.Fatalf("published at the deadline with a note: %q", m.text)
		}

		// A relay stopped by its sender refuses the levels' decisions.
		settings = composeNews(c.union, "Отменённый семинар.")
		c.union.press(settings, "Как")
		progress, id := sendNow(c.union, c.union.expect("по цепочке"))
		offer = c.edu.expect(fmt.Sprintf("Новость № %d", id), "Отменённый семинар")
		c.union.press(progress, "Остановить")
		c.union.expect(fmt.Sprintf("Рассылка № %d остановлена", id))
		for _, action := range []string{"pub", "note", "skip"} {
			c.edu.pressData(offer, fmt.Sprintf("rl:%s:%d:%d", action, id, r.org("edu").ID))
			if got, want := c.edu.current(offer).text, fmt.Sprintf("Рассылка № %d остановлена отправителем.", id); got != want {
				t.Fatalf("%s on a stopped relay: %q, want %q", action, got, want)
			}
		}
		if c.edu.count("Напишите примечание") != 0 {
			t.Fatal("a stopped relay asked for a note")
		}
		steps, err := r.store.RelaySteps(r.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			if st.OrgID == r.org("edu").ID && st.Action != "" {
				t.Fatalf("a stopped relay was decided: %+v", st)
			}
		}
	})
}

func TestSuggestionsOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		c := newNewsCrew(r, plat)
		suggest := func(kind, text string) int64 {
			c.member.say("/suggest")
			c.member.press(c.member.expect("Что вы хотите сообщить профсоюзу?"), kind)
			c.member.expect("Опишите — не больше 3500 символов.")
			c.member.say(text)
			return ticketNumber(c.member, c.member.expect("Отправлено, №", "«"+eduName+"»"))
		}

		// A call for support: the branch decides, the Union sees it at once.
		id := suggest("Призыв к поддержке", "Администрация отказывается начинать переговоры.")
		card := c.edu.expect(fmt.Sprintf("✊ Призыв к поддержке № %d из организации «%s» (Учителева Мария) — для газеты «Солидарность»", id, schoolName), "переговоры")
		if got := card.labels(); len(got) != 3 {
			t.Fatalf("the branch's card: %v", got)
		}
		seen := c.union.expect(fmt.Sprintf("Призыв к поддержке № %d", id), "Солидарность")
		if len(seen.kb) != 0 {
			t.Fatalf("the Union's copy has buttons: %v", seen.labels())
		}
		c.edu.press(card, "Отклонить")
		c.edu.expect(fmt.Sprintf("Почему отклоняете № %d?", id))
		c.edu.say("Сначала обсудим на профкоме школы.")
		c.edu.expect(fmt.Sprintf("№ %d отклонён, автор получил ваш ответ.", id))
		c.member.expect(fmt.Sprintf("Ваше сообщение № %d «%s» не опубликует: Сначала обсудим на профкоме школы.", id, eduName))
		c.edu.press(card, "Опубликовать вниз")
		c.edu.expect(fmt.Sprintf("По № %d решение уже принято.", id))

		// News passed up and published down by the Union.
		id = suggest("Новость", "Наша школа выиграла конкурс «Учитель года».")
		card = c.edu.expect(fmt.Sprintf("📰 Предложена новость № %d", id), "Учитель года")
		c.edu.press(card, "Передать выше")
		c.edu.expect(fmt.Sprintf("№ %d передан выше: «%s».", id, unionName))
		card = c.union.expect(fmt.Sprintf("📰 Предложена новость № %d", id), "Учитель года")
		if !card.hasButton("Опубликовать вниз") || card.hasButton("Передать выше") || !card.hasButton("Отклонить") {
			t.Fatalf("the Union's card: %v", card.labels())
		}
		c.union.press(card, "Опубликовать вниз")
		c.union.expect(fmt.Sprintf("№ %d опубликован: рассылка №", id))
		c.member.expect(fmt.Sprintf("Ваше сообщение № %d опубликовала «%s». Спасибо!", id, unionName))
		r.deliverNews()
		c.nurse.expect("📰 " + unionName + "\n\nИз организации «" + schoolName + "»:\nНаша школа выиграла")
		c.activist.expect("Из организации «"+schoolName+"»", "Учитель года")
	})
}

func TestSuggestionsWaitingForSomeoneOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		member := r.person(plat, 301, "Мария")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Учителева Мария")
		member.say("/suggest")
		member.press(member.expect("Что вы хотите сообщить профсоюзу?"), "Новость")
		member.expect("Опишите")
		member.say("Наша школа выиграла конкурс.")
		id := ticketNumber(member, member.expect("ни в организации «"+eduName+"», ни выше пока никто не подключён"))

		edu := r.person(plat, 302, "Ева")
		edu.register(r.invite("edu", storage.RoleInfoworker), "Обкомова Ева")
		edu.say("/suggestions")
		list := edu.expect("Ждёт решения 1 предложение:", fmt.Sprintf("№ %d, новость, из организации «%s»: Наша школа", id, schoolName))
		edu.press(list, fmt.Sprintf("Открыть № %d", id))
		card := edu.expect(fmt.Sprintf("📰 Предложена новость № %d", id), "(Учителева Мария)")
		if notice := edu.press(card, "Передать выше"); notice != "Выше пока никто не подключён к боту — предложение остаётся у вас." {
			t.Fatalf("passing up to nobody: %q", notice)
		}
		edu.press(card, "Отклонить")
		edu.expect("Почему отклоняете")
		edu.say("Уже писали.")
		edu.expect("отклонён")
		edu.say("/suggestions")
		edu.expect("Предложений, ждущих решения, нет.")
	})
}
