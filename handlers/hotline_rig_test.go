package handlers_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// The hot line's fine-grained cases on the fast rig; the end-to-end tests in
// cmd/unionhub walk the same flows once over the platform fakes.

// hotlinePlatforms runs f on Telegram and on VK, each on its own rig.
func hotlinePlatforms(t *testing.T, f func(t *testing.T, r *chatRig, plat bot.Platform)) {
	t.Helper()
	for _, plat := range []bot.Platform{bot.Telegram, bot.VK} {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			f(t, newChatRig(t), plat)
		})
	}
}

// askHotline walks c through /ask with a question sent at once, and returns
// the ticket's number.
func askHotline(c *chatter, topic, question string) int64 {
	c.r.t.Helper()
	c.say("/ask")
	c.press(c.expect("Выберите тему вопроса"), topic)
	c.expect("Опишите вопрос")
	c.say(question)
	c.press(c.expect("Вопрос записан"), "Отправить")
	return ticketNumber(c, c.expect("Вопрос принят, №"))
}

// ticketNumber reads "№ N" from m.
func ticketNumber(c *chatter, m *shown) int64 {
	c.r.t.Helper()
	var id int64
	if i := strings.Index(m.text, "№"); i < 0 {
		c.r.t.Fatalf("no number in %q", m.text)
	} else if _, err := fmt.Sscanf(m.text[i:], "№ %d", &id); err != nil {
		c.r.t.Fatalf("no number in %q", m.text)
	}
	return id
}

// ticket loads a ticket as stored.
func (r *chatRig) ticket(id int64) storage.Ticket {
	r.t.Helper()
	tk, err := r.store.Ticket(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return tk
}

// personID is the person behind a chatter.
func (c *chatter) personID() int64 {
	c.r.t.Helper()
	p, err := c.r.store.PersonByAccount(c.r.ctx, storage.Platform(c.platform), c.user.ID)
	if err != nil {
		c.r.t.Fatal(err)
	}
	return p.ID
}

// quiet fails the test if c got anything new.
func (c *chatter) quiet() {
	c.r.t.Helper()
	for _, m := range c.messages() {
		if c.seen[m.id] != m.text {
			c.r.t.Fatalf("%s %s got %q", c.platform, c.user.ID, m.text)
		}
	}
}

func TestHotlineTakeRaceOneWinsTheOtherIsToldWho(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		school := r.person(plat, 301, "Ольга")
		school.register(r.invite("edu-school-5", storage.RoleChair), "Первая Ольга")
		branch := r.person(plat, 302, "Инна")
		branch.register(r.invite("edu", storage.RoleChair), "Второва Инна") // an upper level may take it too
		member := r.person(plat, 303, "Лиза")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Членова Лиза")
		id := askHotline(member, "Условия", "Холодно в кабинетах")
		cardA := school.expect(fmt.Sprintf("Новое обращение № %d", id))
		branch.say("/tickets")
		branch.press(branch.expect("1 открытое обращение"), fmt.Sprintf("Открыть № %d", id))
		cardB := branch.expect(fmt.Sprintf("Обращение № %d", id), "Холодно в кабинетах")

		if notice := school.press(cardA, "Взять"); notice != "" {
			t.Fatalf("the winner's take was answered %q", notice)
		}
		school.expect("взял(а) Первая Ольга")
		if notice := branch.press(cardB, "Взять"); notice != fmt.Sprintf("Обращение № %d уже взял(а) Первая Ольга.", id) {
			t.Fatalf("the loser was told %q", notice)
		}
		if tk := r.ticket(id); tk.Status != storage.TicketTaken || tk.AssigneeID != school.personID() {
			t.Fatalf("after the race: %+v", tk)
		}
		// The loser's card still offers what an upper level may do.
		if now := branch.current(cardB); !strings.Contains(strings.Join(now.labels(), " "), "Передать выше") {
			t.Fatalf("the loser's card lost its buttons: %v", now.labels())
		}
	})
}

func TestHotlineHandUpWithNobodyAboveStaysThenReachesTheUnion(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		// The polyclinic has nobody: its questions go to the branch.
		chair := r.person(plat, 311, "Ольга")
		chair.register(r.invite("health", storage.RoleChair), "Здравова Ольга")
		member := r.person(plat, 312, "Игорь")
		member.register(r.invite("health-polyclinic-4", storage.RoleMember), "Врачев Игорь")
		id := askHotline(member, "Зарплата", "Не оплатили дежурство")
		card := chair.expect(fmt.Sprintf("Новое обращение № %d", id))
		branch := r.ticket(id).LevelOrgID

		if notice := chair.press(card, "Передать выше"); notice != fmt.Sprintf("Выше пока никто не подключён к боту: № %d остаётся у вас.", id) {
			t.Fatalf("hand-up to nobody was answered %q", notice)
		}
		if tk := r.ticket(id); tk.LevelOrgID != branch || tk.Status != storage.TicketOpen {
			t.Fatalf("the ticket moved with nobody above: %+v", tk)
		}
		member.quiet()

		staff := r.person(plat, 313, "Алла")
		staff.register(r.invite("union", storage.RoleAdmin), "Союзная Алла")
		chair.press(card, "Передать выше")
		chair.expect(fmt.Sprintf("Обращение № %d передано: «Сахалинский областной союз", id))
		member.expect(fmt.Sprintf("Ваш вопрос № %d передан: «Сахалинский областной союз", id))
		top := staff.expect(fmt.Sprintf("Обращение № %d передано вам снизу", id), "Не оплатили дежурство", "Врачев Игорь")
		if notice := staff.press(top, "Передать выше"); notice != "Выше передавать некому: это верхний уровень." {
			t.Fatalf("hand-up from the top was answered %q", notice)
		}
		if tk := r.ticket(id); tk.Escalations != 0 || tk.LevelOrgID == branch {
			t.Fatalf("after hand-up: %+v", tk)
		}
	})
}

func TestHotlineOverdueWithNobodyAboveStaysAndAsksAgain(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	chair := r.person(bot.VK, 321, "Ирина")
	chair.register(r.invite("edu-school-5", storage.RoleChair), "Директорова Ирина")
	member := r.person(bot.Telegram, 322, "Пётр")
	member.register(r.invite("edu-school-5", storage.RoleMember), "Членов Пётр")
	id := askHotline(member, "Зарплата", "Задерживают отпускные")
	chair.expect(fmt.Sprintf("Новое обращение № %d", id))
	due := r.ticket(id).DueAt

	r.clock.Advance(due.Sub(r.clock.Now()) - time.Minute)
	if err := r.hub.Escalate(r.ctx); err != nil {
		t.Fatal(err)
	}
	chair.quiet()
	r.clock.Advance(time.Minute)
	if err := r.hub.Escalate(r.ctx); err != nil {
		t.Fatal(err)
	}
	again := chair.expect(fmt.Sprintf("Обращение № %d всё ещё без ответа, а выше передать некому", id), "Задерживают отпускные")
	member.quiet()
	if tk := r.ticket(id); tk.Escalations != 0 || !tk.DueAt.After(due) {
		t.Fatalf("an overdue ticket with nobody above: %+v", tk)
	}
	// Answered, it is never swept again.
	chair.press(again, "Ответить")
	chair.expect("Напишите ответ")
	chair.say("Разберёмся.")
	chair.expect("отправлен участнику")
	r.clock.Advance(30 * 24 * time.Hour)
	if err := r.hub.Escalate(r.ctx); err != nil {
		t.Fatal(err)
	}
	chair.quiet()
	member.expect("Ответ на ваш вопрос", "Разберёмся.")
	member.quiet()
}

func TestHotlineFollowUpWindow(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 331, "Мария")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария")
		member := r.person(plat, 332, "Анна")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")
		id := askHotline(member, "Зарплата", "Почему не начислили надбавку?")
		chair.expect(fmt.Sprintf("Новое обращение № %d", id))

		member.say("Забыла написать: с сентября")
		member.say("и за октябрь тоже") // joins the text waiting for the choice
		choice := member.expect(fmt.Sprintf("У вас открыт вопрос № %d. Куда отправить", id))
		chair.quiet()
		member.press(choice, fmt.Sprintf("Добавить к № %d", id))
		member.expect(fmt.Sprintf("Дополнение к № %d отправлено", id), "30 минут")
		chair.expect(fmt.Sprintf("Дополнение к обращению № %d от Кузнецова Анна", id), "с сентября\nи за октябрь тоже")

		// Within the window texts join without asking; each keeps it open.
		for _, text := range []string{"Листок пришлю позже", "Вот ещё деталь"} {
			r.clock.Advance(20 * time.Minute)
			member.say(text)
			member.expect(fmt.Sprintf("Дополнение к № %d отправлено", id))
			chair.expect(fmt.Sprintf("Дополнение к обращению № %d", id), text)
		}
		// Past the window a text asks again.
		r.clock.Advance(31 * time.Minute)
		member.say("А это уже потом")
		member.expect(fmt.Sprintf("У вас открыт вопрос № %d. Куда отправить", id))
		chair.quiet()
		if msgs, err := r.store.TicketMessages(r.ctx, id); err != nil || len(msgs) != 4 {
			t.Fatalf("the thread has %d messages (%v), want the question and three follow-ups", len(msgs), err)
		}
	})
}

func TestHotlineTextBesideAQuestionBecomesANewOneOrNothing(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 341, "Мария")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария")
		member := r.person(plat, 342, "Анна")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")
		first := askHotline(member, "Зарплата", "Почему не начислили надбавку?")
		chair.expect(fmt.Sprintf("Новое обращение № %d", first))

		for _, word := range []string{"меню", "Menu", "НАЧАТЬ", "start!"} {
			member.say(word)
			member.expect("Главное меню")
		}
		member.say("А ещё в кабинете холодно")
		member.press(member.expect("Куда отправить"), "Это новый вопрос")
		member.press(member.expect("Выберите тему вопроса"), "Условия")
		member.press(member.expect("Вопрос записан"), "Настроить и проверить")
		member.press(member.expect("Проверьте обращение", "А ещё в кабинете холодно"), "Отправить")
		second := ticketNumber(member, member.expect("Вопрос принят, №"))
		chair.expect(fmt.Sprintf("Новое обращение № %d", second), "холодно")

		member.say("неважно")
		choice := member.expect("У вас несколько открытых вопросов")
		if labels := strings.Join(choice.labels(), "|"); !strings.Contains(labels, fmt.Sprintf("№ %d", first)) || !strings.Contains(labels, fmt.Sprintf("№ %d", second)) {
			t.Fatalf("the choice offers %s", labels)
		}
		member.press(choice, "Отмена")
		member.expect("Сообщение никуда не отправлено")
		chair.quiet()
		// The spent choice does nothing.
		if notice := member.press(choice, "Это новый вопрос"); notice != "Эта кнопка уже не действует." {
			t.Fatalf("a spent choice was answered %q", notice)
		}
		for _, id := range []int64{first, second} {
			if msgs, err := r.store.TicketMessages(r.ctx, id); err != nil || len(msgs) != 1 {
				t.Fatalf("ticket %d has %d messages, %v", id, len(msgs), err)
			}
		}
	})
}

func TestHotlineRatingWithACommentOrWithout(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 351, "Мария")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария")
		member := r.person(plat, 352, "Анна")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")

		first := askHotline(member, "Зарплата", "Первый вопрос")
		card := chair.expect(fmt.Sprintf("Новое обращение № %d", first))
		if notice := chair.press(card, "Закрыть"); notice != fmt.Sprintf("Обращение № %d закрыто.", first) {
			t.Fatalf("closing was answered %q", notice)
		}
		rate := member.expect(fmt.Sprintf("Обращение № %d закрыто. Оцените", first))
		// Only a closed ticket's own member rates, with 1 to 5 stars.
		if notice := member.pressData(rate, fmt.Sprintf("tk:rate:%d:6", first)); notice != "Эта кнопка уже не действует." {
			t.Fatalf("six stars were answered %q", notice)
		}
		if notice := chair.pressData(card, fmt.Sprintf("tk:rate:%d:1", first)); notice != "У вас нет прав на это действие." {
			t.Fatalf("the chair's rating was answered %q", notice)
		}
		member.press(rate, "4★")
		member.expect(fmt.Sprintf("Спасибо за оценку 4 по обращению № %d", first))
		member.say("Долго, но помогли")
		member.expect("Спасибо! Это помогает")
		if tk := r.ticket(first); tk.Rating != 4 || tk.RatingComment != "Долго, но помогли" {
			t.Fatalf("rated %d %q", tk.Rating, tk.RatingComment)
		}

		second := askHotline(member, "Зарплата", "Второй вопрос")
		chair.press(chair.expect(fmt.Sprintf("Новое обращение № %d", second)), "Закрыть")
		member.press(member.expect(fmt.Sprintf("Обращение № %d закрыто. Оцените", second)), "5★")
		member.press(member.expect("Спасибо за оценку 5"), "Без комментария")
		member.expect("Спасибо! Это помогает")
		member.say("просто текст") // no comment waits any more
		member.expect("Главное меню")
		if tk := r.ticket(second); tk.Rating != 5 || tk.RatingComment != "" {
			t.Fatalf("rated %d %q", tk.Rating, tk.RatingComment)
		}
	})
}

func TestHotlineForgedAndStaleButtonsChangeNothing(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 361, "Лидия")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Портова Лидия")
		member := r.person(plat, 362, "Иван")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Докеров Иван")
		other := r.person(plat, 363, "Олег")
		other.register(r.invite("edu-gymnasium-1", storage.RoleMember), "Чужаков Олег")
		sibling := r.person(plat, 364, "Рая")
		sibling.register(r.invite("edu-gymnasium-1", storage.RoleChair), "Соседова Рая")
		id := askHotline(member, "Занятость", "Сокращают ставку")
		chair.expect(fmt.Sprintf("Новое обращение № %d", id))

		at := func(c *chatter) *shown { m := c.messages(); return &m[len(m)-1] }
		for _, tt := range []struct {
			who  *chatter
			data string
			want string
		}{
			{other, fmt.Sprintf("tk:follow:%d", id), "У вас нет прав на это действие."},
			{other, fmt.Sprintf("tk:done:%d", id), "У вас нет прав на это действие."},
			{other, fmt.Sprintf("tk:view:%d", id), "У вас нет прав на это действие."},
			{other, fmt.Sprintf("txt:add:%d", id), "Эта кнопка уже не действует."}, // no text waits
			{member, fmt.Sprintf("tk:take:%d", id), "У вас нет прав на это действие."},
			{sibling, fmt.Sprintf("tk:take:%d", id), "У вас нет прав на это действие."},
			{sibling, fmt.Sprintf("tk:reply:%d", id), "У вас нет прав на это действие."},
			{sibling, fmt.Sprintf("tk:up:%d", id), "У вас нет прав на это действие."},
			{sibling, fmt.Sprintf("tk:close:%d", id), "У вас нет прав на это действие."},
			{sibling, fmt.Sprintf("tk:show:%d", id), "У вас нет прав на это действие."},
			{chair, fmt.Sprintf("tk:take:%d", id+100), "Эта кнопка уже не действует."},
			{chair, "tk:take:x", "Эта кнопка уже не действует."},
			{chair, fmt.Sprintf("tk:burn:%d", id), "Эта кнопка уже не действует."},
			{chair, "ask:send:confirm", "Эта кнопка уже не действует."},
			{chair, "rsp:set:1:1:*", "У вас нет прав на это действие."},
		} {
			if got := tt.who.pressData(at(tt.who), tt.data); got != tt.want {
				t.Errorf("%s pressing %q was answered %q, want %q", tt.who.user.FirstName, tt.data, got, tt.want)
			}
		}
		if tk := r.ticket(id); tk.Status != storage.TicketOpen || tk.AssigneeID != 0 {
			t.Fatalf("forged buttons changed the ticket: %+v", tk)
		}
		if msgs, err := r.store.TicketMessages(r.ctx, id); err != nil || len(msgs) != 1 {
			t.Fatalf("forged buttons changed the thread: %d messages, %v", len(msgs), err)
		}
		// A step of /ask the conversation has left does nothing.
		member.say("/ask")
		topics := member.expect("Выберите тему вопроса")
		member.press(topics, "Зарплата")
		member.expect("Опишите вопрос")
		if notice := member.press(topics, "Условия"); notice != "Эта кнопка уже не действует." {
			t.Fatalf("an earlier step's topic was answered %q", notice)
		}
	})
}

func TestHotlinePressesOnAClosedTicket(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 371, "Мария")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария")
		deputy := r.person(plat, 372, "Вера")
		deputy.register(r.invite("edu", storage.RoleChair), "Обкомова Вера")
		member := r.person(plat, 373, "Анна")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")
		id := askHotline(member, "Зарплата", "Почему не начислили надбавку?")
		card := chair.expect(fmt.Sprintf("Новое обращение № %d", id))
		chair.press(card, "Ответить")
		chair.expect("Напишите ответ")
		chair.say("Начислят в октябре.")
		answer := member.expect("Ответ на ваш вопрос", "Сидорова Мария, председатель")
		deputy.say("/tickets")
		deputy.press(deputy.expect("1 открытое обращение"), fmt.Sprintf("Открыть № %d", id))
		deputyCard := deputy.expect(fmt.Sprintf("Обращение № %d", id))

		member.press(answer, "Вопрос решён")
		member.expect("Оцените")
		chair.expect(fmt.Sprintf("Участник отметил обращение № %d как решённое", id))
		// Every card shows it closed and lost its buttons.
		for _, c := range []struct {
			who *chatter
			m   *shown
		}{{chair, card}, {deputy, deputyCard}} {
			if now := c.who.current(c.m); !strings.Contains(now.text, fmt.Sprintf("✅ Обращение № %d закрыто", id)) || len(now.kb) != 0 {
				t.Fatalf("%s's card after closing: %q with %v", c.who.user.FirstName, now.text, now.labels())
			}
		}
		// Buttons an older client still shows are answered and spent.
		for _, action := range []string{"take", "reply", "up", "close"} {
			if notice := chair.pressData(card, fmt.Sprintf("tk:%s:%d", action, id)); notice != fmt.Sprintf("Обращение № %d уже закрыто.", id) {
				t.Errorf("%s on a closed ticket was answered %q", action, notice)
			}
		}
		if notice := member.pressData(answer, fmt.Sprintf("tk:done:%d", id)); notice != fmt.Sprintf("Обращение № %d уже закрыто.", id) {
			t.Errorf("solving again was answered %q", notice)
		}
		member.pressData(answer, fmt.Sprintf("tk:follow:%d", id))
		member.expect(fmt.Sprintf("Обращение № %d закрыто. Если вопрос остался — задайте новый.", id))
		if now := member.current(answer); now.text != answer.text || len(now.kb) != 0 {
			t.Fatalf("the member's answer became %q with %v", now.text, now.labels())
		}
		// The closed ticket can still be shown to a responder.
		chair.pressData(card, fmt.Sprintf("tk:show:%d", id))
		chair.expect(fmt.Sprintf("Обращение № %d", id), "Почему не начислили надбавку?")
		if tk := r.ticket(id); tk.Status != storage.TicketClosed || tk.AssigneeID != chair.personID() {
			t.Fatalf("after the presses: %+v", tk)
		}
	})
}

func TestHotlineAnswerToABlockedMemberIsKeptAndMarked(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	chair := r.person(bot.Telegram, 381, "Лидия")
	chair.register(r.invite("edu-school-5", storage.RoleChair), "Портова Лидия")
	member := r.person(bot.VK, 382, "Иван")
	member.register(r.invite("edu-school-5", storage.RoleMember), "Докеров Иван")
	id := askHotline(member, "Занятость", "Сокращают ставку")
	chair.press(chair.expect(fmt.Sprintf("Новое обращение № %d", id)), "Ответить")
	chair.expect("Напишите ответ")
	if err := r.store.MarkBlocked(r.ctx, storage.VK, member.user.ID, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	chair.say("Ответ, который не дойдёт сразу")
	chair.expect(fmt.Sprintf("Ответ по № %d сохранён, но доставить его не удалось", id))
	member.quiet()
	if msgs, err := r.store.TicketMessages(r.ctx, id); err != nil || len(msgs) != 2 {
		t.Fatalf("the undelivered answer was not kept: %d messages, %v", len(msgs), err)
	}
	chair.say("/tickets")
	chair.expect(fmt.Sprintf("№ %d", id), "участник недоступен")
	// Writing again unblocks: the answer waits in /my.
	member.say("/my")
	member.press(member.expect("Ваше 1 обращение", "есть ответ"), fmt.Sprintf("Открыть № %d", id))
	member.expect("Вы: Сокращают ставку", "Ответ: Ответ, который не дойдёт сразу")
}

func TestHotlineAnswerCrossesPlatformsWithItsSignature(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	chair := r.person(bot.Telegram, 391, "Тамара")
	chair.register(r.invite("edu-gymnasium-1", storage.RoleChair), "Гимназова Тамара")
	member := r.person(bot.VK, 392, "Илья")
	member.register(r.invite("edu-gymnasium-1", storage.RoleMember), "Вконтактов Илья")
	id := askHotline(member, "льготы", "Положена ли компенсация за путёвку?")
	chair.press(chair.expect(fmt.Sprintf("Новое обращение № %d", id), "Вконтактов Илья"), "Ответить")
	chair.expect("Напишите ответ")
	chair.say("Да, подайте заявление до конца месяца.")
	member.expect("Гимназова Тамара, председатель, «ППО МБОУ Гимназия № 1", "подайте заявление")
	chair.expect("отправлен участнику")
}

func TestHotlineRespondersScreenNamesWhoAnswersATopic(t *testing.T) {
	t.Parallel()
	hotlinePlatforms(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 401, "Ольга")
		chair.register(r.invite("health", storage.RoleChair), "Здравова Ольга")
		lawyer := r.person(plat, 402, "Ирина")
		lawyer.register(r.invite("health", storage.RoleActivist), "Законова Ирина")
		member := r.person(plat, 403, "Игорь")
		member.register(r.invite("health-polyclinic-4", storage.RoleMember), "Врачев Игорь")

		chair.say("/responders")
		chair.press(chair.expect("Ответственные за горячую линию организации «Областная организация профсоюза работников здравоохранения»", "Пока никого."), "Назначить")
		pick := chair.expect("Кого назначить ответственным")
		chair.press(pick, numberOf(t, pick, "Законова Ирина"))
		chair.press(chair.expect("На какие темы будет отвечать Законова Ирина"), "Юридическая помощь")
		list := chair.expect("1. Законова Ирина — Юридическая помощь")

		legal := askHotline(member, "Юридическая", "Можно ли отказаться от сверхурочной работы?")
		lawyer.expect(fmt.Sprintf("Новое обращение № %d", legal), "Врачев Игорь")
		chair.expect(fmt.Sprintf("Новое обращение № %d", legal)) // the chair always answers too
		wages := askHotline(member, "Зарплата", "Не оплатили дежурство")
		chair.expect(fmt.Sprintf("Новое обращение № %d", wages))
		lawyer.quiet() // not the lawyer's topic

		// Someone who may not change responders cannot, even with a forged button.
		if notice := lawyer.pressData(list, list.kb[0][0].Data); notice != "У вас нет прав на это действие." {
			t.Fatalf("a forged removal was answered %q", notice)
		}
		chair.press(list, "✖ 1")
		chair.expect("Пока никого.")
		third := askHotline(member, "Юридическая", "И ещё про отпуск")
		chair.expect(fmt.Sprintf("Новое обращение № %d", third))
		lawyer.quiet()
		// Removed twice (an older screen): the button is spent.
		if notice := chair.press(list, "✖ 1"); notice != "Эта кнопка уже не действует." {
			t.Fatalf("removing twice was answered %q", notice)
		}
	})
}

// numberOf is the label of the numbered button for name in a picker.
func numberOf(t *testing.T, m *shown, name string) string {
	t.Helper()
	for _, line := range strings.Split(m.text, "\n") {
		if n, rest, ok := strings.Cut(line, ". "); ok && strings.TrimSpace(rest) == name {
			if _, err := strconv.Atoi(n); err == nil {
				return n
			}
		}
	}
	t.Fatalf("no %q in %q", name, m.text)
	return ""
}

func TestHotlineStatsForChairsAndInformationWorkers(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	chair := r.person(bot.Telegram, 411, "Мария")
	chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария")
	info := r.person(bot.VK, 412, "Дарья")
	info.register(r.invite("edu", storage.RoleInfoworker), "Инфова Дарья")
	activist := r.person(bot.VK, 413, "Артём")
	activist.register(r.invite("edu", storage.RoleActivist), "Активов Артём")
	member := r.person(bot.Telegram, 414, "Анна")
	member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")
	id := askHotline(member, "Зарплата", "Вопрос")
	r.clock.Advance(90 * time.Minute)
	chair.press(chair.expect(fmt.Sprintf("Новое обращение № %d", id)), "Ответить")
	chair.expect("Напишите ответ")
	chair.say("Ответ")
	member.press(member.expect("Ответ на ваш вопрос"), "Вопрос решён")
	member.press(member.expect("Оцените"), "3★")
	askHotline(member, "Охрана труда", "Второй вопрос")
	r.clock.Advance(time.Minute)

	info.say("/stats")
	info.expect("«Областная организация профсоюза работников образования», 30 дней: 2 обращения",
		"медиана 1 ч 30 мин", "Без ответа сейчас: 1", "Средняя оценка: 3.0 (оценок: 1)", "• Зарплата: 1", "• Охрана труда: 1")
	activist.say("/stats")
	activist.expect("У вас нет прав на это действие.")
}

// deskChat is a group chat bound as a hot-line desk, read through a chatter
// whose id is the group's.
type deskChat struct {
	view  *chatter
	title string
}

func (r *chatRig) deskChat(p bot.Platform, id, title string) *deskChat {
	return &deskChat{view: &chatter{r: r, platform: p, user: bot.User{ID: id}, seen: map[string]string{}}, title: title}
}

// deliver hands from's update in the group to the hub.
func (d *deskChat) deliver(from *chatter, u *bot.Update) {
	r := d.view.r
	r.t.Helper()
	r.updates++
	u.Platform, u.ID, u.From, u.At = from.platform, strconv.Itoa(r.updates), from.user, r.clock.Now()
	u.Chat = bot.Chat{ID: d.view.user.ID, Kind: bot.ChatGroup, Title: d.title}
	if err := r.handle(r.ctx, u); err != nil {
		r.t.Fatalf("group %s: handling %+v: %v", d.view.user.ID, u, err)
	}
}

func (d *deskChat) say(from *chatter, text string) {
	d.view.r.t.Helper()
	u := &bot.Update{Text: text}
	u.Command, u.Args = bot.ParseCommand(text)
	d.deliver(from, u)
}

func (d *deskChat) reply(from *chatter, to *shown, text string) {
	d.view.r.t.Helper()
	d.deliver(from, &bot.Update{Text: text, ReplyTo: to.id})
}

// press presses a button of a group message as from, and returns the notice.
func (d *deskChat) press(from *chatter, m *shown, label string) string {
	r := d.view.r
	r.t.Helper()
	for _, row := range m.kb {
		for _, b := range row {
			if strings.Contains(b.Text, label) {
				id := fmt.Sprintf("press-%d", r.updates+1)
				d.deliver(from, &bot.Update{Callback: &bot.Callback{ID: id, Data: b.Data, MessageID: m.id}})
				s := r.senders[d.view.platform]
				s.mu.Lock()
				defer s.mu.Unlock()
				if answers := s.answers[id]; len(answers) > 0 {
					return answers[0]
				}
				return ""
			}
		}
	}
	r.t.Fatalf("no button %q on %q", label, m.text)
	return ""
}

func TestHotlineDeskOnTheRig(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	chair := r.person(bot.Telegram, 421, "Елена")
	chair.register(r.invite("health-polyclinic-4", storage.RoleChair), "Врачева Елена")
	nurse := r.person(bot.Telegram, 422, "Алла")
	nurse.register(r.invite("health-polyclinic-4", storage.RoleMember), "Сестрова Алла")
	desk := r.deskChat(bot.Telegram, "-77", "Профком поликлиники")
	desk.say(nurse, "/desk")
	desk.view.expect("только председатель")
	desk.say(chair, "/desk nosuchorg")
	desk.view.expect("nosuchorg")
	desk.say(chair, "/desk")
	desk.view.expect("рабочий чат горячей линии организации «ППО ГБУЗ «Городская поликлиника № 4»")
	desk.say(nurse, "просто болтовня в чате") // the bot stays quiet in groups
	desk.view.quiet()

	id := askHotline(nurse, "Охрана труда", "Не выдали средства защиты")
	card := desk.view.expect(fmt.Sprintf("Новое обращение № %d", id), "Не выдали средства защиты", "имя видит взявший")
	if labels := strings.Join(card.labels(), "|"); strings.Contains(labels, "Ответить") || strings.Contains(card.text, "Сестрова") {
		t.Fatalf("a desk card offers a private reply or names the member: %q %s", card.text, labels)
	}
	chair.quiet() // the desk answers for the org, not its chair in private
	if notice := desk.press(chair, card, "Взять"); notice != fmt.Sprintf("Обращение № %d с именем участника отправлено вам в личные сообщения.", id) {
		t.Fatalf("take in the desk was answered %q", notice)
	}
	chair.expect(fmt.Sprintf("Обращение № %d", id), "От: Сестрова Алла")
	card = desk.view.expect("взял(а) Врачева Елена")

	desk.reply(nurse, card, "Это я сама себе")
	desk.view.expect("Отвечать на обращения может только")
	desk.reply(chair, card, "Выдадим завтра утром, приходите к завхозу.")
	nurse.expect("Ответ на ваш вопрос", "Врачева Елена, председатель", "Выдадим завтра утром")
	desk.view.expect(fmt.Sprintf("Ответ по № %d отправлен участнику", id))

	// A follow-up goes to whoever took the question, in private.
	nurse.say("А перчатки тоже?")
	nurse.press(nurse.expect("Куда отправить"), fmt.Sprintf("Добавить к № %d", id))
	chair.expect(fmt.Sprintf("Дополнение к обращению № %d от Сестрова Алла", id), "перчатки")
	desk.view.quiet()
	if notice := desk.press(chair, card, "Закрыть"); notice != fmt.Sprintf("Обращение № %d закрыто.", id) {
		t.Fatalf("closing in the desk was answered %q", notice)
	}
	if now := desk.view.current(card); !strings.Contains(now.text, "закрыто") || len(now.kb) != 0 || strings.Contains(now.text, "Сестрова") {
		t.Fatalf("the desk card after closing: %q with %v", now.text, now.labels())
	}
	chair.expect(fmt.Sprintf("✅ Обращение № %d закрыто", id), "От: Сестрова Алла") // the private card, with the name

	// A follow-up to a question nobody took comes to the desk, nameless, and
	// a reply to it takes the question and answers.
	second := askHotline(nurse, "Зарплата", "Не оплатили ночные")
	desk.view.expect(fmt.Sprintf("Новое обращение № %d", second))
	nurse.say("За два месяца")
	nurse.press(nurse.expect("Куда отправить"), fmt.Sprintf("Добавить к № %d", second))
	follow := desk.view.expect(fmt.Sprintf("Дополнение к обращению № %d от участник (имя видит взявший обращение)", second), "За два месяца")
	chair.quiet()
	desk.reply(chair, follow, "Проверим табель.")
	nurse.expect("Проверим табель.")
	if tk := r.ticket(second); tk.Status != storage.TicketTaken || tk.AssigneeID != chair.personID() {
		t.Fatalf("a reply to a desk follow-up did not take the question: %+v", tk)
	}
	if tk := r.ticket(id); tk.Status != storage.TicketClosed || tk.AssigneeID != chair.personID() || tk.FirstResponseAt == nil {
		t.Fatalf("after the desk: %+v", tk)
	}
}

// TestHotlineTicketsListsTheOldestAndCountsTheRest: /tickets shows the
// oldest questions first and says how many more wait; over a large tree
// it stops counting and says so.
func TestHotlineTicketsListsTheOldestAndCountsTheRest(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	chair := r.person(bot.Telegram, 421, "Нина")
	chair.register(r.invite("edu-school-5", storage.RoleChair), "Школова Нина")
	member := r.person(bot.Telegram, 422, "Пётр")
	member.register(r.invite("edu-school-5", storage.RoleMember), "Петров Пётр")
	school, err := r.store.OrgByCode(r.ctx, "edu-school-5")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(n int) []int64 {
		var ids []int64
		for range n {
			now := r.clock.Now()
			tk, err := r.store.CreateTicket(r.ctx, storage.Ticket{PersonID: member.personID(), OrgID: school.ID, LevelOrgID: school.ID,
				Topic: "wages", CreatedAt: now, DueAt: now.Add(time.Hour)}, storage.TicketMessage{Text: "?"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		return ids
	}
	ids := ask(22)
	chair.say("/tickets")
	m := chair.expect("22 открытых обращения:", "…и ещё 2.")
	if !strings.Contains(m.text, fmt.Sprintf("№ %d ", ids[0])) || !strings.Contains(m.text, fmt.Sprintf("№ %d ", ids[19])) ||
		strings.Contains(m.text, fmt.Sprintf("№ %d ", ids[20])) {
		t.Fatalf("the list does not hold the 20 oldest:\n%s", m.text)
	}
	ask(1000)
	chair.say("/tickets")
	m = chair.expect("Открытых обращений больше 1000. Самые давние 20:")
	if strings.Contains(m.text, "…и ещё") || !strings.Contains(m.text, fmt.Sprintf("№ %d ", ids[0])) {
		t.Fatalf("over a thousand:\n%s", m.text)
	}
}
