package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// ask walks p through /ask with one question and no attachments, and
// returns the ticket number the bot gave.
func ask(t *testing.T, p person, topic, question string) int64 {
	t.Helper()
	c := p.dm()
	p.say("/ask")
	p.press(c.expect("Выберите тему вопроса"), topic)
	c.expect("Опишите вопрос")
	p.say(question)
	// The question can go at once, named to nobody.
	p.press(c.expect("Вопрос записан. Его можно отправить сразу"), "Отправить")
	m := c.expect("Вопрос принят, №")
	var id int64
	if _, err := fmt.Sscanf(m.text[strings.Index(m.text, "№"):], "№ %d", &id); err != nil {
		t.Fatalf("no ticket number in %q", m.text)
	}
	return id
}

func ticketOf(t *testing.T, db storage.Store, id int64) storage.Ticket {
	t.Helper()
	tk, err := db.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestHotlineAskAnswerFollowUpCloseRate(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 2101, "Председатель")
		register(t, chair, r.invite("edu-school-5", "chair"), "Сидорова Мария")
		member := r.person(plat, 2102, "Учитель")
		register(t, member, r.invite("edu-school-5", "member"), "Кузнецова Анна")
		c, cc := member.dm(), chair.dm()

		member.say("/ask")
		member.press(c.expect("Выберите тему вопроса"), "Зарплата")
		c.expect("Тема: Зарплата", "не больше 3000 символов")
		member.say("Почему не начислили надбавку за классное руководство?\nС сентября её нет.")
		c.expect("Вопрос записан")
		member.sendPhoto("расчётный листок")
		member.press(c.expect("приложен 1 файл"), "Настроить и проверить")
		m := c.expect("Проверьте обращение", "Можно назвать ваше имя работодателю: нет", "Вложений: 1.")
		member.press(m, "Называть ли имя")
		m = c.expect("Можно назвать ваше имя работодателю: да")
		member.press(m, "Отправить")
		c.expect("Вопрос принят, № ")

		card := cc.expect("Новое обращение №", "Тема: Зарплата", "От: Кузнецова Анна", "Можно назвать работодателю: да", "С сентября её нет.", "📎 1 вложение")
		// The responder sees the member's photo itself, on the same platform.
		photos := 0
		if plat == storage.Telegram {
			for _, m := range r.tg.Messages(2101) {
				photos += len(m.Attachments)
			}
		} else {
			for _, m := range r.vk.Messages(2101) {
				photos += len(m.Attachments)
			}
		}
		if photos != 1 {
			t.Fatalf("the responder got %d attachments, want the member's photo", photos)
		}
		chair.press(card, "Взять")
		card = cc.expect("взял(а) Сидорова Мария")
		chair.press(card, "Ответить")
		cc.expect("Напишите ответ на обращение")
		chair.say("Надбавка начислена с опозданием, придёт с октябрьской зарплатой.")
		cc.expect("отправлен участнику")

		answer := c.expect("Ответ на ваш вопрос", "Сидорова Мария, председатель, «ППО МАОУ СОШ № 5", "придёт с октябрьской зарплатой")
		member.press(answer, "Ответить")
		c.expect("Напишите дополнение")
		member.say("А за сентябрь тоже доплатят?")
		c.expect("Дополнение к № ", "отправлено")

		follow := cc.expect("Дополнение к обращению", "Кузнецова Анна", "за сентябрь")
		press := chair.press(follow, "Закрыть")
		if notice := chair.notice(press); !strings.Contains(notice, "закрыто") {
			t.Fatalf("closing was answered %q", notice)
		}
		// Every message of the ticket loses its buttons: the cards show it
		// closed, the follow-up and the member's answer keep their text.
		cc.expect("✅ Обращение №", "закрыто", "Почему не начислили надбавку")
		for _, m := range append(cc.list(), c.list()...) {
			if strings.Contains(m.text, "Дополнение к обращению") && !strings.Contains(m.text, "за сентябрь") {
				t.Fatalf("the follow-up lost its text: %q", m.text)
			}
			if m.hasButton("Взять") || m.hasButton("Закрыть") || m.hasButton("Вопрос решён") || m.hasButton("Передать выше") {
				t.Fatalf("a closed ticket's message keeps its buttons: %q %v", m.text, m.buttons)
			}
		}
		rate := c.expect("Оцените, пожалуйста")
		member.press(rate, "5★")
		c.expect("Спасибо за оценку 5")
		member.say("Спасибо, всё понятно")
		c.expect("Спасибо! Это помогает")

		member.say("/my")
		c.expect("Ваше 1 обращение", "Зарплата · закрыто")
		// A stale "Reply" (an older client still shows it) is refused in a
		// new message, and the answer stays as it was; nothing is added.
		if plat == storage.Telegram {
			member.pressData(answer, answer.button(t, "Ответить").data)
			c.expect("закрыто. Если вопрос остался — задайте новый")
			for _, m := range c.list() {
				if m.id == answer.id && !strings.Contains(m.text, "придёт с октябрьской зарплатой") {
					t.Fatalf("the committee's answer was replaced by %q", m.text)
				}
			}
		}

		db := r.store()
		tickets, err := db.TicketsOf(context.Background(), personOf(t, db, member).ID)
		if err != nil || len(tickets) != 1 {
			t.Fatalf("tickets %+v, %v", tickets, err)
		}
		tk := tickets[0]
		if tk.Status != storage.TicketClosed || tk.Rating != 5 || tk.RatingComment != "Спасибо, всё понятно" || tk.FirstResponseAt == nil || !tk.ShareName {
			t.Fatalf("ticket %+v", tk)
		}
		thread, err := db.TicketMessages(context.Background(), tk.ID)
		if err != nil || len(thread) != 3 || len(thread[0].Attachments) != 1 || !strings.Contains(thread[0].Text, "\nС сентября") {
			t.Fatalf("thread %+v, %v", thread, err)
		}

		out := r.mustRun("report", "hotline", "--org", "edu", "--format", "json")
		var rep struct {
			Tickets int `json:"tickets"`
			Ratings struct {
				Average float64 `json:"average"`
			} `json:"ratings"`
			First struct {
				Count int `json:"count"`
			} `json:"first_response"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Tickets != 1 || rep.Ratings.Average != 5 || rep.First.Count != 1 {
			t.Fatalf("report %s (%v)", out, err)
		}
		if out := r.mustRun("report", "hotline", "--org", "fish", "--format", "csv"); !strings.Contains(out, "tickets,0") {
			t.Fatalf("a sibling branch sees the ticket:\n%s", out)
		}
		if out := r.mustRun("report", "hotline", "--org", "union"); !strings.Contains(out, "org_edu-school-5") || !strings.Contains(out, "topic_wages") {
			t.Fatalf("the union's table lacks the breakdown:\n%s", out)
		}
		chair.say("/stats")
		cc.expect("30 дней: 1 обращение", "Средняя оценка: 5.0")
	})
}

func TestHotlineRoutesByDataAndEscalatesThroughTwoLevels(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			cfg := filepath.Join(t.TempDir(), "hotline.yaml")
			if err := os.WriteFile(cfg, []byte("hand_up:\n  - {topic: legal, from: primary}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			r.setenv("UNIONHUB_HOTLINE_FILE", cfg)
			r.setenv("UNIONHUB_ESCALATION_INTERVAL", "50ms")
			r.importExample()
			r.serve()
			school := r.person(plat, 2201, "Школа")
			register(t, school, r.invite("edu-school-5", "chair"), "Директорова Ирина")
			branch := r.person(plat, 2202, "Обком")
			register(t, branch, r.invite("edu", "chair"), "Обкомова Вера")
			union := r.person(plat, 2203, "Союз")
			register(t, union, r.invite("union", "chair"), "Союзова Нина")
			member := r.person(plat, 2204, "Член")
			register(t, member, r.invite("edu-school-5", "member"), "Членов Пётр")

			// A topic handed up by the data goes to the branch at once.
			legal := ask(t, member, "Юридическая", "Нужна консультация юриста по трудовому договору")
			branch.dm().expect(fmt.Sprintf("Новое обращение № %d", legal), "Юридическая помощь")

			// Wages stay with the school, then climb when nobody answers.
			id := ask(t, member, "Зарплата", "Задерживают отпускные")
			school.dm().expect(fmt.Sprintf("Новое обращение № %d", id))
			db := r.store()
			if tk := ticketOf(t, db, id); tk.DueAt.Sub(tk.CreatedAt) < 24*time.Hour {
				t.Fatalf("first-response deadline %s after creation, want 24 working hours or more", tk.DueAt.Sub(tk.CreatedAt))
			}

			r.clock.Advance(10 * 24 * time.Hour)
			school.dm().expect(fmt.Sprintf("Обращение № %d осталось без ответа", id), "профсоюза работников образования")
			member.dm().expect(fmt.Sprintf("Ваш вопрос № %d передан", id), "работников образования")
			branch.dm().expect(fmt.Sprintf("Обращение № %d без ответа в срок", id), "Задерживают отпускные")

			r.clock.Advance(10 * 24 * time.Hour)
			branch.dm().expect(fmt.Sprintf("Обращение № %d осталось без ответа", id), "Сахалинский областной союз")
			escalated := union.dm().expect(fmt.Sprintf("Обращение № %d без ответа в срок", id))
			tk := ticketOf(t, db, id)
			unionOrg, _ := db.OrgByCode(context.Background(), "union")
			if tk.Escalations != 2 || tk.LevelOrgID != unionOrg.ID {
				t.Fatalf("after two deadlines: %d escalations at org %d, want 2 at the union", tk.Escalations, tk.LevelOrgID)
			}
			// The Union answers; the ticket leaves the overdue list.
			union.press(escalated, "Ответить")
			union.dm().expect("Напишите ответ")
			union.say("Разберёмся с работодателем на этой неделе.")
			member.dm().expect("Союзова Нина, председатель, «Сахалинский областной союз")
			answered := ticketOf(t, db, id)
			r.clock.Advance(10 * 24 * time.Hour)
			time.Sleep(300 * time.Millisecond) // several sweeps at 50 ms
			if tk := ticketOf(t, db, id); tk.Escalations != 2 || !tk.DueAt.Equal(answered.DueAt) || tk.LevelOrgID != unionOrg.ID {
				t.Fatalf("an answered ticket was swept again: %+v", tk)
			}
			for _, m := range union.dm().list() {
				if strings.Contains(m.text, fmt.Sprintf("Обращение № %d без ответа в срок", id)) && m.id != escalated.id {
					t.Fatalf("the union was told again about an answered ticket: %q", m.text)
				}
			}
		})
	}
}

func TestHotlineTakeRace(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	a := r.person(storage.Telegram, 2301, "Первый")
	register(t, a, r.invite("edu-school-5", "chair"), "Первая Ольга")
	b := r.person(storage.Telegram, 2302, "Второй")
	register(t, b, r.invite("edu", "chair"), "Второва Инна") // an upper level may take it too
	member := r.person(storage.Telegram, 2303, "Член")
	register(t, member, r.invite("edu-school-5", "member"), "Членова Лиза")
	id := ask(t, member, "Условия", "Холодно в кабинетах")
	cardA := a.dm().expect(fmt.Sprintf("Новое обращение № %d", id))
	b.say("/tickets")
	list := b.dm().expect("1 открытое обращение")
	b.press(list, fmt.Sprintf("Открыть № %d", id))
	cardB := b.dm().expect(fmt.Sprintf("Обращение № %d", id))

	var wg sync.WaitGroup
	var idA, idB string
	wg.Add(2)
	go func() { defer wg.Done(); idA = a.press(cardA, "Взять") }()
	go func() { defer wg.Done(); idB = b.press(cardB, "Взять") }()
	wg.Wait()
	noticeA, noticeB := a.notice(idA), b.notice(idB) // both presses answered
	db := r.store()
	tk := ticketOf(t, db, id)
	winner, loserNotice := a, noticeB
	if tk.AssigneeID == personOf(t, db, b).ID {
		winner, loserNotice = b, noticeA
	}
	if tk.Status != storage.TicketTaken || tk.AssigneeID != personOf(t, db, winner).ID {
		t.Fatalf("after the race: %+v", tk)
	}
	winner.dm().expect("взял(а) " + map[person]string{a: "Первая Ольга", b: "Второва Инна"}[winner])
	if !strings.Contains(loserNotice, "уже взял(а) "+map[person]string{a: "Первая Ольга", b: "Второва Инна"}[winner]) {
		t.Fatalf("the loser was told %q", loserNotice)
	}
}

func TestHotlineDesk(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite)
	r.importExample()
	r.serve()
	chair := r.person(storage.Telegram, 2401, "Председатель")
	register(t, chair, r.invite("health-hospital-1", "chair"), "Врачева Елена")
	nurse := r.person(storage.Telegram, 2402, "Медсестра")
	register(t, nurse, r.invite("health-hospital-1", "member"), "Сестрова Алла")
	desk := chair.group(77, "Профком больницы")
	nurseInDesk := nurse.group(77, "Профком больницы")
	nurseInDesk.say("/desk")
	desk.expect("только председатель")
	desk.say("/desk")
	desk.expect("рабочий чат горячей линии организации «ППО ГБУЗ «Сахалинская областная клиническая больница»")

	id := ask(t, nurse, "Охрана труда", "Не выдали средства защиты")
	card := desk.expect(fmt.Sprintf("Новое обращение № %d", id), "Не выдали средства защиты", "имя видит взявший")
	if card.hasButton("Ответить") || strings.Contains(card.text, "Сестрова") {
		t.Fatalf("a desk card offers a private reply or names the member: %q", card.text)
	}
	// Taking it in the desk shows the name to the taker only, in private.
	if got := chair.notice(desk.press(card, "Взять")); !strings.Contains(got, "отправлено вам в личные сообщения") {
		t.Fatalf("take in the desk was answered %q", got)
	}
	chair.dm().expect(fmt.Sprintf("Обращение № %d", id), "От: Сестрова Алла")
	card = desk.expect("взял(а) Врачева Елена")
	r.tg.ReplyInGroup(nurse.(*tgPerson).u, tgGroup(77, "Профком больницы"), card.id, "Это я сама себе")
	desk.expect("Отвечать на обращения может только")
	r.tg.ReplyInGroup(chair.(*tgPerson).u, tgGroup(77, "Профком больницы"), card.id, "Выдадим завтра утром, приходите к завхозу.")
	nurse.dm().expect("Ответ на ваш вопрос", "Врачева Елена, председатель", "Выдадим завтра утром")
	desk.expect(fmt.Sprintf("Ответ по № %d отправлен участнику", id))
	if tk := ticketOf(t, r.store(), id); tk.FirstResponseAt == nil || tk.Status != storage.TicketTaken {
		t.Fatalf("after the desk reply: %+v", tk)
	}
}

func TestHotlineRefusesBadInput(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 2501, "Председатель")
		register(t, chair, r.invite("fish-port-korsakov", "chair"), "Портова Лидия")
		member := r.person(plat, 2502, "Докер")
		register(t, member, r.invite("fish-port-korsakov", "member"), "Докеров Иван")
		other := r.person(plat, 2503, "Чужой")
		register(t, other, r.invite("fish-kurilsky", "member"), "Чужаков Олег")
		c := member.dm()

		member.say("/ask")
		member.press(c.expect("Выберите тему вопроса"), "Занятость")
		c.expect("Опишите вопрос")
		for _, bad := range []struct{ text, want string }{
			{"   ", "Пустой ответ"},
			{strings.Repeat("Ы", 3001), "не больше 3000 символов"},
			{"Вопрос\x07с звонком", "служебные символы"},
		} {
			member.say(bad.text)
			c.expect(bad.want)
			c.expect("Опишите вопрос")
		}
		member.sendVoice()
		c.expect("Такие вложения не принимаются")
		c.expect("Опишите вопрос")
		member.say(strings.Repeat("Ы", 3000))
		member.press(c.expect("Вопрос записан"), "Настроить и проверить")
		member.press(c.expect("Проверьте обращение"), "Отправить")
		c.expect("Вопрос принят")
		card := chair.dm().expect("Новое обращение")
		db := r.store()
		tickets, err := db.TicketsOf(context.Background(), personOf(t, db, member).ID)
		if err != nil || len(tickets) != 1 || tickets[0].Topic != "employment" {
			t.Fatalf("tickets %+v, %v; want one about employment", tickets, err)
		}
		id := tickets[0].ID
		if thread, err := db.TicketMessages(context.Background(), id); err != nil || len([]rune(thread[0].Text)) != 3000 {
			t.Fatalf("a 3000-character question was not stored whole: %v", err)
		}

		// Someone else's ticket cannot be touched with a forged button.
		if plat == storage.Telegram {
			msgs := other.dm().list()
			press := other.pressData(msgs[len(msgs)-1], fmt.Sprintf("tk:follow:%d", id))
			if got := other.notice(press); !strings.Contains(got, "нет прав") {
				t.Fatalf("a forged follow-up was answered %q", got)
			}
			press = other.pressData(msgs[len(msgs)-1], fmt.Sprintf("tk:take:%d", id))
			if got := other.notice(press); !strings.Contains(got, "нет прав") {
				t.Fatalf("a forged take was answered %q", got)
			}
			// Nor by the chair of a sibling organisation.
			sibling := r.person(plat, 2505, "Соседка")
			register(t, sibling, r.invite("fish-kurilsky", "chair"), "Соседова Рая")
			msgs = sibling.dm().list()
			for _, action := range []string{"take", "reply", "up", "close", "show"} {
				press = sibling.pressData(msgs[len(msgs)-1], fmt.Sprintf("tk:%s:%d", action, id))
				if got := sibling.notice(press); !strings.Contains(got, "нет прав") {
					t.Fatalf("a sibling chair's forged %s was answered %q", action, got)
				}
			}
			if tk := ticketOf(t, db, id); tk.Status != storage.TicketOpen || tk.AssigneeID != 0 {
				t.Fatalf("forged buttons changed the ticket: %+v", tk)
			}
		}

		// A named responder removed mid-ticket loses the right at once.
		helper := r.person(plat, 2504, "Помощник")
		register(t, helper, r.invite("fish-port-korsakov", "activist"), "Помощников Артём")
		port, _ := db.OrgByCode(context.Background(), "fish-port-korsakov")
		rsp := storage.Responder{PersonID: personOf(t, db, helper).ID, OrgID: port.ID}
		if err := db.SetResponder(context.Background(), rsp); err != nil {
			t.Fatal(err)
		}
		helper.say("/tickets")
		list := helper.dm().expect("1 открытое обращение")
		helper.press(list, fmt.Sprintf("Открыть № %d", id))
		hcard := helper.dm().expect(fmt.Sprintf("Обращение № %d", id))
		if err := db.RemoveResponder(context.Background(), rsp); err != nil {
			t.Fatal(err)
		}
		if got := helper.notice(helper.press(hcard, "Ответить")); !strings.Contains(got, "нет прав") {
			t.Fatalf("a removed responder's reply was answered %q", got)
		}

		// The member blocks the bot: the answer is kept and the responder told.
		chair.press(card, "Ответить")
		chair.dm().expect("Напишите ответ")
		member.block()
		chair.say("Ответ, который не дойдёт сразу")
		chair.dm().expect("доставить его не удалось")
		if thread, _ := db.TicketMessages(context.Background(), id); len(thread) != 2 {
			t.Fatalf("the undelivered answer was not kept: %d messages", len(thread))
		}
		chair.say("/tickets")
		chair.dm().expect(fmt.Sprintf("№ %d", id), "участник недоступен")

		// A reply to a closed ticket is refused.
		if plat == storage.VK {
			r.vk.Unblock(2502)
		}
		member.say("/menu")
		c.expect("Главное меню")
		chair.press(card, "Закрыть")
		chair.dm().expect("закрыто")
		c.expect("Оцените")
		member.say("/my")
		c.expect("закрыто")
		member.say("Ещё вопрос по тому же делу")
		c.expect("Главное меню") // no open ticket: nothing is appended to the closed one
		if _, err := db.AddTicketMessage(context.Background(), storage.TicketMessage{TicketID: id, FromMember: true, Text: "x", At: time.Now()}); !errors.Is(err, storage.ErrTicketClosed) {
			t.Fatalf("adding to a closed ticket: %v", err)
		}
	})
}

func TestHotlineRespondersHandUpSolvedAndStats(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		// «Городская поликлиника № 4» has nobody to answer: its questions go
		// to the branch, whose chair names a responder for legal help.
		chair := r.person(plat, 2601, "Председатель")
		register(t, chair, r.invite("health", "chair"), "Здравова Ольга")
		lawyer := r.person(plat, 2602, "Юрист")
		register(t, lawyer, r.invite("health", "activist"), "Законова Ирина")
		info := r.person(plat, 2603, "Инфо")
		register(t, info, r.invite("health", "infoworker"), "Инфова Дарья")
		member := r.person(plat, 2604, "Врач")
		register(t, member, r.invite("health-polyclinic-4", "member"), "Врачев Игорь")
		cc := chair.dm()

		chair.say("/responders")
		list := cc.expect("Ответственные за горячую линию организации «Областная организация профсоюза работников здравоохранения»", "Пока никого.")
		chair.press(list, "Назначить")
		pick := cc.expect("Кого назначить ответственным")
		chair.press(pick, pickNumber(t, pick, "Законова Ирина"))
		chair.press(cc.expect("На какие темы будет отвечать Законова Ирина"), "Юридическая помощь")
		cc.expect("1. Законова Ирина — Юридическая помощь")

		legal := ask(t, member, "Юридическая", "Можно ли отказаться от сверхурочной работы?")
		lawyer.dm().expect(fmt.Sprintf("Новое обращение № %d", legal), "Врачев Игорь")
		cc.expect(fmt.Sprintf("Новое обращение № %d", legal)) // the chair always answers too
		wages := ask(t, member, "Зарплата", "Не оплатили дежурство")
		wagesCard := cc.expect(fmt.Sprintf("Новое обращение № %d", wages))
		lawyer.dm().quiet(200 * time.Millisecond) // not the lawyer's topic

		// The branch hands wages up, but nobody above is in the bot: the
		// question stays with the branch, the chair is told so, the member
		// is told nothing has moved (nothing has).
		db := r.store()
		branchOrg := ticketOf(t, db, wages).LevelOrgID
		press := chair.press(wagesCard, "Передать выше")
		if notice := chair.notice(press); !strings.Contains(notice, fmt.Sprintf("Выше пока никто не подключён к боту: № %d остаётся у вас", wages)) {
			t.Fatalf("hand-up to nobody was answered %q", notice)
		}
		if tk := ticketOf(t, db, wages); tk.LevelOrgID != branchOrg {
			t.Fatalf("the ticket moved to org %d with nobody there", tk.LevelOrgID)
		}
		member.dm().quiet(200 * time.Millisecond)
		// Once the Union's staff are in the bot, it goes to them.
		staff := r.person(plat, 2605, "Аппарат")
		register(t, staff, r.invite("union", "admin"), "Союзная Алла")
		chair.press(wagesCard, "Передать выше")
		cc.expect(fmt.Sprintf("Обращение № %d передано: «Сахалинский областной союз", wages))
		member.dm().expect(fmt.Sprintf("Ваш вопрос № %d передан: «Сахалинский областной союз", wages))
		staff.dm().expect(fmt.Sprintf("Обращение № %d передано вам", wages), "Не оплатили дежурство")

		// The lawyer answers; the member marks it solved and skips the comment.
		lawyer.say("/tickets")
		open := lawyer.dm().expect("1 открытое обращение")
		lawyer.press(open, fmt.Sprintf("Открыть № %d", legal))
		lawyer.press(lawyer.dm().expect(fmt.Sprintf("Обращение № %d", legal)), "Ответить")
		lawyer.dm().expect("Напишите ответ")
		lawyer.say("Можно, если нет письменного согласия.")
		answer := member.dm().expect("Законова Ирина, профсоюзный активист")
		member.press(answer, "Вопрос решён")
		member.press(member.dm().expect("Оцените"), "4★")
		member.press(member.dm().expect("Спасибо за оценку 4"), "Без комментария")
		member.dm().expect("Спасибо! Это помогает")
		lawyer.dm().expect(fmt.Sprintf("Участник отметил обращение № %d как решённое", legal))

		// The thread view shows the member their question and the answer.
		member.say("/my")
		my := member.dm().expect("Ваши 2 обращения")
		member.press(my, fmt.Sprintf("Открыть № %d", legal))
		member.dm().expect("Вы: Можно ли отказаться", "Ответ: Можно, если нет письменного согласия.")

		info.say("/stats")
		info.dm().expect("30 дней: 2 обращения", "Эскалаций: 0", "Средняя оценка: 4.0")
		lawyer.say("/stats")
		lawyer.dm().expect("нет прав")
	})
}

func TestHotlineAnswerCrossesPlatforms(t *testing.T) {
	t.Parallel()
	r := newRig(t, onSQLite)
	r.importExample()
	r.serve()
	chair := r.person(storage.Telegram, 2701, "Председатель")
	register(t, chair, r.invite("edu-gymnasium-1", "chair"), "Гимназова Тамара")
	member := r.person(storage.VK, 2702, "Учитель")
	register(t, member, r.invite("edu-gymnasium-1", "member"), "Вконтактов Илья")
	id := ask(t, member, "льготы", "Положена ли компенсация за путёвку?")
	card := chair.dm().expect(fmt.Sprintf("Новое обращение № %d", id), "Вконтактов Илья")
	chair.press(card, "Ответить")
	chair.dm().expect("Напишите ответ")
	chair.say("Да, подайте заявление до конца месяца.")
	member.dm().expect("Гимназова Тамара, председатель", "подайте заявление")
	chair.dm().expect("отправлен участнику")
}
