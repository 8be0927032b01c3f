package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// bothPlatforms runs f once per platform on SQLite, in parallel: for the
// conversations, which do not depend on the database.
func bothPlatforms(t *testing.T, f func(t *testing.T, r *rig, p storage.Platform)) {
	for _, p := range platforms {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onSQLite)
			r.importExample()
			r.serve()
			f(t, r, p)
		})
	}
}

// labels lists the button labels of m, row by row.
func (m botMsg) labels() []string {
	var out []string
	for _, row := range m.buttons {
		for _, b := range row {
			out = append(out, b.label)
		}
	}
	return out
}

// fitsVK fails the test unless m's keyboard fits VK's inline limits.
func fitsVK(t *testing.T, m botMsg) {
	t.Helper()
	if n := len(m.labels()); n > 10 || len(m.buttons) > 6 {
		t.Fatalf("%d buttons in %d rows exceed VK's 10 in 6: %v", n, len(m.buttons), m.buttons)
	}
}

func TestMenusShowWhatEachRoleMayDo(t *testing.T) {
	t.Parallel()
	bothPlatforms(t, func(t *testing.T, r *rig, plat storage.Platform) {
		member := r.person(plat, 3001, "Член")
		register(t, member, r.invite("edu-school-5", "member"), "Членова Анна")
		member.say("меню")
		menu := member.dm().expect("Главное меню")
		fitsVK(t, menu)
		for _, hidden := range []string{"Разослать новость", "Опросы", "Работа в организации", "Заявки", "Мониторинг"} {
			if menu.hasButton(hidden) {
				t.Fatalf("a member's menu offers %q: %v", hidden, menu.labels())
			}
		}
		for _, shown := range []string{"Задать вопрос", "Мои обращения", "Предложить новость", "Профиль", "Язык", "Другой мессенджер", "Помощь", "Удалить мои данные"} {
			menu.button(t, shown)
		}

		// A chair gets every tool, on a second screen; each opens its screen.
		chair := r.person(plat, 3002, "Председатель")
		register(t, chair, r.invite("edu", "chair"), "Обкомова Вера")
		cc := chair.dm()
		chair.say("Menu")
		menu = cc.expect("Главное меню")
		fitsVK(t, menu)
		for _, tool := range []struct{ label, opens string }{
			{"Разослать новость", "Напишите новость"},
			{"Предложения снизу", "Предложений, ждущих решения, нет"},
			{"Вопросы членов", "Открытых обращений нет"},
			{"Заявки на вступление", "Заявок, ждущих решения, нет"},
			{"Опросы", "Опрос"},
			{"Мониторинг", "Мониторинг информационной работы"},
			{"Статистика линии", "30 дней"},
			{"Отвечающие", "Ответственные за горячую линию"},
		} {
			chair.press(menu, "Работа в организации")
			tools := cc.expect("Работа в организации: что доступно")
			fitsVK(t, tools)
			chair.press(tools, tool.label)
			cc.expect(tool.opens)
			chair.say("/cancel")
			menu = cc.expect("Отменено. Главное меню")
		}

		// An information worker publishes and follows monitoring but does
		// not answer the hot line or name responders.
		info := r.person(plat, 3003, "Инфо")
		register(t, info, r.invite("edu", "infoworker"), "Инфова Дарья")
		info.say("начать")
		info.press(info.dm().expect("Главное меню"), "Работа в организации")
		tools := info.dm().expect("Работа в организации: что доступно")
		for _, label := range []string{"Разослать новость", "Предложения снизу", "Заявки на вступление", "Опросы", "Мониторинг", "Статистика линии"} {
			tools.button(t, label)
		}
		for _, label := range []string{"Вопросы членов", "Отвечающие"} {
			if tools.hasButton(label) {
				t.Fatalf("an information worker's tools offer %q: %v", label, tools.labels())
			}
		}
	})
}

func TestMenuWordsAndTextsBesideAnOpenQuestion(t *testing.T) {
	t.Parallel()
	bothPlatforms(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 3101, "Председатель")
		register(t, chair, r.invite("edu-school-5", "chair"), "Сидорова Мария")
		member := r.person(plat, 3102, "Учитель")
		register(t, member, r.invite("edu-school-5", "member"), "Кузнецова Анна")
		c, cc := member.dm(), chair.dm()
		id := ask(t, member, "Зарплата", "Почему не начислили надбавку?")
		cc.expect(fmt.Sprintf("Новое обращение № %d", id))

		// Menu words open the menu and never join the question.
		for _, word := range []string{"меню", "Menu", "НАЧАТЬ", "start!"} {
			member.say(word)
			c.expect("Главное меню")
		}
		cc.quiet(200 * time.Millisecond)

		// Other text asks once where it goes.
		member.say("Забыла написать: с сентября")
		c.expect(fmt.Sprintf("У вас открыт вопрос № %d. Куда отправить", id))
		member.say("и за октябрь тоже") // joins the text waiting for the choice
		choice := c.expect(fmt.Sprintf("У вас открыт вопрос № %d. Куда отправить", id))
		member.press(choice, fmt.Sprintf("Добавить к № %d", id))
		c.expect(fmt.Sprintf("Дополнение к № %d отправлено", id), "30 минут")
		cc.expect(fmt.Sprintf("Дополнение к обращению № %d", id), "с сентября\nи за октябрь тоже")
		// Within the window the next text joins without asking again.
		member.say("Расчётный листок пришлю позже")
		c.expect(fmt.Sprintf("Дополнение к № %d отправлено", id))
		cc.expect(fmt.Sprintf("Дополнение к обращению № %d", id), "Расчётный листок")

		// After the menu, a text asks again; "new question" carries it over.
		member.say("меню")
		c.expect("Главное меню")
		member.say("А ещё в кабинете холодно")
		member.press(c.expect("Куда отправить"), "Это новый вопрос")
		member.press(c.expect("Выберите тему вопроса"), "Условия")
		member.press(c.expect("Вопрос записан"), "Настроить и проверить")
		member.press(c.expect("Проверьте обращение", "А ещё в кабинете холодно"), "Отправить")
		c.expect("Вопрос принят, №")

		// Cancel drops the text; nothing reaches the committee.
		member.say("неважно")
		member.press(c.expect("Куда отправить"), "Отмена")
		c.expect("Сообщение никуда не отправлено")
		cc.expect("Новое обращение №", "холодно")
		cc.quiet(200 * time.Millisecond)
	})
}

func TestHotLineNeverHandsAQuestionToNobody(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onSQLite)
			r.setenv("UNIONHUB_ESCALATION_INTERVAL", "50ms")
			r.importExample()
			r.serve()
			db := r.store()

			// Nobody at all is in the bot: the member is told the truth.
			member := r.person(plat, 3201, "Врач")
			register(t, member, r.invite("health-polyclinic-4", "member"), "Врачев Игорь")
			c := member.dm()
			member.say("/ask")
			member.press(c.expect("Выберите тему вопроса"), "Зарплата")
			c.expect("Опишите вопрос")
			member.say("Не оплатили дежурство")
			member.press(c.expect("Вопрос записан"), "Настроить и проверить")
			member.press(c.expect("Проверьте обращение"), "Отправить")
			waiting := c.expect("Вопрос принят, №", "пока никто не подключён к боту")
			var id int64
			if _, err := fmt.Sscanf(waiting.text[strings.Index(waiting.text, "№"):], "№ %d", &id); err != nil {
				t.Fatalf("no ticket number in %q", waiting.text)
			}
			clinic := ticketOf(t, db, id).LevelOrgID

			// Its deadline passes with nobody above: it stays, nobody is
			// told it was passed on.
			r.clock.Advance(10 * 24 * time.Hour)
			time.Sleep(300 * time.Millisecond) // several sweeps at 50 ms
			if tk := ticketOf(t, db, id); tk.LevelOrgID != clinic {
				t.Fatalf("an overdue ticket moved to org %d where nobody is", tk.LevelOrgID)
			}
			for _, m := range c.list() {
				if strings.Contains(m.text, "передан") {
					t.Fatalf("the member was told %q", m.text)
				}
			}

			// A chair who joins later finds it in their list, and the next
			// deadline brings it to them.
			chair := r.person(plat, 3202, "Обком")
			register(t, chair, r.invite("health", "chair"), "Здравова Ольга")
			chair.say("меню")
			chair.press(chair.dm().expect("Главное меню"), "Работа в организации")
			chair.press(chair.dm().expect("Работа в организации: что доступно"), "Вопросы членов")
			list := chair.dm().expect("1 открытое обращение", "Зарплата")
			chair.press(list, fmt.Sprintf("Открыть № %d", id))
			chair.dm().expect(fmt.Sprintf("Обращение № %d", id), "Не оплатили дежурство")
			r.clock.Advance(10 * 24 * time.Hour)
			chair.dm().expect(fmt.Sprintf("Обращение № %d без ответа в срок", id))
			c.expect(fmt.Sprintf("Ваш вопрос № %d передан", id))
		})
	}
}

func TestSuggestionsReachWhoeverMayDecide(t *testing.T) {
	t.Parallel()
	bothPlatforms(t, func(t *testing.T, r *rig, plat storage.Platform) {
		// Nobody above the polyclinic is in the bot yet.
		member := r.person(plat, 3301, "Врач")
		register(t, member, r.invite("health-polyclinic-4", "member"), "Врачев Игорь")
		c := member.dm()
		member.say("меню")
		member.press(c.expect("Главное меню"), "Предложить новость")
		member.press(c.expect("Что вы хотите сообщить"), "Новость")
		member.say("В поликлинике открыли комнату отдыха")
		c.expect("принято, но ни в организации «Областная организация профсоюза работников здравоохранения», ни выше пока никто не подключён")

		// The branch's information worker registers later and finds it.
		info := r.person(plat, 3302, "Инфо")
		register(t, info, r.invite("health", "infoworker"), "Инфова Дарья")
		info.say("меню")
		info.press(info.dm().expect("Главное меню"), "Работа в организации")
		info.press(info.dm().expect("Работа в организации: что доступно"), "Предложения снизу")
		list := info.dm().expect("Ждёт решения 1 предложение", "комнату отдыха")
		info.press(list, "Открыть №")
		card := info.dm().expect("Предложена новость", "комнату отдыха")
		// Nobody above the branch: passing it up keeps it here.
		press := info.press(card, "Передать выше")
		if notice := info.notice(press); !strings.Contains(notice, "Выше пока никто не подключён") {
			t.Fatalf("pass-up to nobody was answered %q", notice)
		}
		// Once the Union's staff are in the bot, passing it up reaches them.
		staff := r.person(plat, 3303, "Аппарат")
		register(t, staff, r.invite("union", "admin"), "Союзная Алла")
		info.press(card, "Передать выше")
		info.dm().expect("передан", "Сахалинский областной союз")
		staff.dm().expect("Предложена новость", "комнату отдыха")
	})
}

func TestSpentScreensKeepWhatAPersonMustKeep(t *testing.T) {
	t.Parallel()
	bothPlatforms(t, func(t *testing.T, r *rig, plat storage.Platform) {
		// The consent stays in the chat as agreed to; the name question
		// comes below it.
		member := r.person(plat, 3401, "Учитель")
		c := member.dm()
		member.openInvite(r.invite("edu-school-5", "member"))
		consent := c.expect("Согласие на обработку персональных данных")
		member.press(consent, "Согласен")
		c.expect("фамилию, имя")
		for _, m := range c.list() {
			if m.id == consent.id && (m.text != consent.text || len(m.buttons) != 0) {
				t.Fatalf("the accepted consent became %q with buttons %v", m.text, m.buttons)
			}
		}
		member.say("Кузнецова Анна")
		member.press(c.expect("должность"), "Пропустить")
		member.press(c.expect("Рабочий адрес"), "Пропустить")
		offer := c.expect("личный адрес", "отдельного согласия")
		member.press(offer, "Согласен(на) указать")
		c.expect("Напишите личный адрес")
		for _, m := range c.list() {
			if m.id == offer.id && (m.text != offer.text || len(m.buttons) != 0) {
				t.Fatalf("the accepted e-mail consent became %q with buttons %v", m.text, m.buttons)
			}
		}
		member.say("anna@mail.ru")
		member.press(c.expect("Проверьте"), "Всё верно")
		c.expect("вы зарегистрированы")

		// The member marks the answer solved: it keeps its text and loses
		// its buttons, and the chair's card shows the question closed.
		chair := r.person(plat, 3402, "Председатель")
		register(t, chair, r.invite("edu-school-5", "chair"), "Сидорова Мария")
		cc := chair.dm()
		id := ask(t, member, "Зарплата", "Почему не начислили надбавку?")
		card := cc.expect(fmt.Sprintf("Новое обращение № %d", id))
		chair.press(card, "Ответить")
		cc.expect("Напишите ответ")
		chair.say("Начислят в октябре.")
		answer := c.expect("Ответ на ваш вопрос", "Начислят в октябре.")
		member.press(answer, "Вопрос решён")
		c.expect("Оцените")
		for _, m := range c.list() {
			if m.id == answer.id && (m.text != answer.text || len(m.buttons) != 0) {
				t.Fatalf("the solved answer became %q with buttons %v", m.text, m.buttons)
			}
		}
		closedCard := cc.expect(fmt.Sprintf("✅ Обращение № %d закрыто", id), "Почему не начислили надбавку?")
		if closedCard.id != card.id || len(closedCard.buttons) != 0 {
			t.Fatalf("the chair's card: %q with buttons %v", closedCard.text, closedCard.buttons)
		}
	})
}

func TestAskCancelFromAnEarlierStepDropsTheDraft(t *testing.T) {
	t.Parallel()
	bothPlatforms(t, func(t *testing.T, r *rig, plat storage.Platform) {
		member := r.person(plat, 3501, "Учитель")
		register(t, member, r.invite("edu-school-5", "member"), "Кузнецова Анна")
		c := member.dm()
		member.say("/ask")
		member.press(c.expect("Выберите тему вопроса"), "Зарплата")
		prompt := c.expect("Опишите вопрос")
		member.say("Черновик, который я передумала отправлять")
		c.expect("Вопрос записан")
		// The person scrolls up: Cancel of the earlier step still cancels.
		member.press(prompt, "Отмена")
		c.expect("Вопрос не отправлен, черновик удалён")
		member.say("просто текст")
		c.expect("Главное меню") // no draft left to take it
		if out := r.mustRun("report", "hotline", "--org", "edu", "--format", "json"); !strings.Contains(out, `"tickets": 0`) {
			t.Fatalf("a cancelled draft became a ticket: %s", out)
		}
	})
}
