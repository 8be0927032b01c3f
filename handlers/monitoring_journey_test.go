package handlers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/sheet/sheettest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// The fine-grained cases of the survey conversation, the survey desk, the
// weekly board buttons and /monitoring, on the fast rig on both platforms;
// cmd/unionhub walks the same flows end to end over the platform fakes.

// fastSurvey asks the primaries of edu a yes/no, a multiple choice, an
// optional whole number and, after a "no", why; it reminds after a day and
// tells the chairs of edu when it closes.
const fastSurvey = `id: fast
title: {ru: Быстрый опрос, en: Quick survey}
questions:
  - {id: named, type: yes_no, required: true, text: {ru: "Назначен ли информационный работник?"}}
  - id: channels
    type: multi
    required: true
    text: {ru: "Какие каналы наполняются?"}
    options:
      - {id: email, text: {ru: Рассылка}}
      - {id: chats, text: {ru: Чаты}}
      - {id: site, text: {ru: Сайт}}
  - {id: copies, type: number, integer: true, min: 0, text: {ru: "Сколько экземпляров?"}}
  - {id: why, type: text, max_len: 20, required: true, if: {question: named, equals: "no"}, text: {ru: "Почему нет?"}}
schedules:
  - {cron: "0 10 1 9 *", org: edu, levels: [primary], roles: [infoworker, chair], deadline: 2d, reminders: [1d], results: [chair]}
`

const (
	eduName    = "Областная организация профсоюза работников образования"
	schoolName = "ППО МАОУ СОШ № 5 г. Южно-Сахалинска"
	gymName    = "ППО МБОУ Гимназия № 1 г. Южно-Сахалинска"
	notAllowed = "У вас нет прав на это действие."
	stalePress = "Эта кнопка уже не действует."
)

// onBothWithFast runs f on a fresh rig with fastSurvey per platform, in
// parallel.
func onBothWithFast(t *testing.T, f func(t *testing.T, r *chatRig, sv surveys.Survey, plat bot.Platform)) {
	t.Helper()
	sv, err := surveys.Parse("fast.yaml", []byte(fastSurvey))
	if err != nil {
		t.Fatal(err)
	}
	for _, plat := range bothPlatforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			f(t, newChatRig(t, withSurveys(sv)), sv, plat)
		})
	}
}

// openFast opens a run of fastSurvey fired now and runs the jobs round,
// which invites.
func (r *chatRig) openFast(sv surveys.Survey) storage.SurveyRun {
	r.t.Helper()
	run, _, err := r.hub.Monitoring.OpenRun(r.ctx, sv, sv.Schedules[0], "test", r.clock.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	r.round()
	return run
}

// round runs the jobs round.
func (r *chatRig) round() {
	r.t.Helper()
	if err := r.hub.Monitoring.JobsRound(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

// org loads an organisation of the rig's tree.
func (r *chatRig) org(code string) storage.Org {
	r.t.Helper()
	o, err := r.store.OrgByCode(r.ctx, code)
	if err != nil {
		r.t.Fatal(err)
	}
	return o
}

// count counts the messages of the chat that contain text.
func (c *chatter) count(text string) int {
	n := 0
	for _, m := range c.messages() {
		if strings.Contains(m.text, text) {
			n++
		}
	}
	return n
}

func TestSurveyConversationOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBothWithFast(t, func(t *testing.T, r *chatRig, sv surveys.Survey, plat bot.Platform) {
		iw := r.person(plat, 401, "Ирина")
		iw.register(r.invite("edu-school-5", storage.RoleInfoworker), "Школьная Ирина")
		chair := r.person(plat, 402, "Анна")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Председателева Анна")
		run, school := r.openFast(sv), r.org("edu-school-5")

		iw.press(iw.expect("📋 Опрос «Быстрый опрос» для организации «"+schoolName+"»: до 4 вопросов."), "Отвечать")
		q := iw.expect("Вопрос 1 из 4", "Назначен ли")
		if strings.Contains(strings.Join(q.labels(), " "), "Пропустить") {
			t.Fatalf("a required question offers to skip: %v", q.labels())
		}
		iw.press(q, "Да")
		multi := iw.expect("Вопрос 2 из 4", "1. Рассылка", "Отметьте все подходящие")
		if n := iw.press(multi, "Готово"); n != "Отметьте хотя бы один вариант." {
			t.Fatalf("done with nothing ticked answered %q", n)
		}
		if n := iw.pressData(multi, fmt.Sprintf("srv:s:%d:%d:channels", run.ID, school.ID)); n != "Это обязательный вопрос — пропустить его нельзя." {
			t.Fatalf("a forged skip of a required question answered %q", n)
		}
		iw.press(multi, "1")
		multi = iw.expect("✅ 1. Рассылка")
		iw.press(multi, "3")
		multi = iw.expect("✅ 3. Сайт")
		iw.press(multi, "✅ 3") // changed their mind
		multi = iw.expect("✅ 1. Рассылка", "\n3. Сайт")
		iw.press(multi, "Готово")
		copies := iw.expect("Вопрос 3 из 4", "Сколько экземпляров", "Напишите целое число.")
		// "Why not?" is asked only after a "no": a forged answer to it changes nothing.
		if n := iw.pressData(copies, fmt.Sprintf("srv:a:%d:%d:why:x", run.ID, school.ID)); n != stalePress {
			t.Fatalf("an answer to a question not asked answered %q", n)
		}
		iw.say("2,5")
		iw.expect("Здесь нужно целое число.")
		iw.press(copies, "Пропустить")
		summary := iw.expect("Проверьте ответы", "Рассылка", "Сколько экземпляров? — пропущено")
		if strings.Contains(summary.text, "Почему нет") || strings.Contains(summary.text, "Сайт") {
			t.Fatalf("the summary shows a question not asked or an option unticked:\n%s", summary.text)
		}

		// The chair answers for the same org: its answers come first, and
		// a "no" opens the required "why".
		chair.press(chair.expect("📋 Опрос «Быстрый опрос»"), "Отвечать")
		chair.press(chair.expect("Проверьте ответы", "Рассылка"), "Исправить")
		chair.press(chair.expect("Вопрос 1 из 4", "Сейчас: Да"), "Нет")
		chair.press(chair.expect("Вопрос 2 из 4", "Сейчас: Рассылка"), "Оставить")
		chair.press(chair.expect("Вопрос 3 из 4", "Сейчас: пропущено"), "Оставить")
		why := chair.expect("Вопрос 4 из 4", "Почему нет?")
		if strings.Contains(strings.Join(why.labels(), " "), "Пропустить") {
			t.Fatalf("the required why offers to skip: %v", why.labels())
		}
		chair.say("Некому поручить, ищем уже год")
		chair.expect("не больше 20 символов")
		chair.say("Ищем")
		chair.press(chair.expect("Проверьте ответы", "Почему нет? — Ищем"), "Подтвердить")
		chair.expect("Спасибо! Ответы организации «" + schoolName + "» сохранены.")

		// /surveys leads back to the org's answers, to the last minute.
		r.clock.Advance(run.Deadline.Add(-time.Minute).Sub(r.clock.Now()))
		iw.say("/surveys")
		iw.press(iw.expect("Открытые опросы:", "Быстрый опрос — «"+schoolName+"», до 04.03.2026 23:59: ответы отправлены"), "1. Быстрый")
		iw.press(iw.expect("Проверьте ответы", "Почему нет? — Ищем"), "Исправить")
		iw.expect("Вопрос 1 из 4", "Сейчас: Нет")

		// After the deadline neither a typed answer nor any button of the
		// run changes anything.
		r.clock.Advance(2 * time.Minute)
		iw.say("да")
		iw.expect("Этот опрос уже закрыт")
		iw.press(summary, "Подтвердить")
		iw.expect("Этот опрос уже закрыт")
		answers, err := r.store.SurveyAnswers(r.ctx, run.ID, school.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range answers {
			if a.QuestionID == "named" && a.Value != surveys.No {
				t.Fatalf("a late answer was saved: %+v", a)
			}
		}
	})
}

// TestConfirmingWithARequiredAnswerMissing: an old summary's Confirm,
// pressed after another responder's change opened a required question,
// asks that question instead of confirming.
func TestConfirmingWithARequiredAnswerMissing(t *testing.T) {
	t.Parallel()
	onBothWithFast(t, func(t *testing.T, r *chatRig, sv surveys.Survey, plat bot.Platform) {
		iw := r.person(plat, 421, "Ирина")
		iw.register(r.invite("edu-gymnasium-1", storage.RoleInfoworker), "Гимназистова Ирина")
		chair := r.person(plat, 422, "Анна")
		chair.register(r.invite("edu-gymnasium-1", storage.RoleChair), "Председателева Анна")
		r.openFast(sv)
		iw.press(iw.expect("📋 Опрос «Быстрый опрос» для организации «"+gymName), "Отвечать")
		iw.press(iw.expect("Вопрос 1 из 4"), "Да")
		multi := iw.expect("Вопрос 2 из 4")
		iw.press(multi, "2")
		iw.press(iw.expect("✅ 2. Чаты"), "Готово")
		iw.press(iw.expect("Вопрос 3 из 4"), "Пропустить")
		summary := iw.expect("Проверьте ответы")

		chair.press(chair.expect("📋 Опрос «Быстрый опрос»"), "Отвечать")
		chair.press(chair.expect("Проверьте ответы"), "Исправить")
		chair.press(chair.expect("Вопрос 1 из 4"), "Нет")

		iw.press(summary, "Подтвердить")
		iw.expect("Вопрос 4 из 4", "Почему нет?")
		iw.say("Ищем")
		iw.press(iw.expect("Проверьте ответы", "Почему нет? — Ищем"), "Подтвердить")
		iw.expect("Спасибо!")
	})
}

func TestSurveyNoticesOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBothWithFast(t, func(t *testing.T, r *chatRig, sv surveys.Survey, plat bot.Platform) {
		iw := r.person(plat, 431, "Ирина")
		iw.register(r.invite("edu-school-5", storage.RoleInfoworker), "Школьная Ирина")
		eduChair := r.person(plat, 432, "Нина")
		eduChair.register(r.invite("edu", storage.RoleChair), "Обкомова Нина")
		r.openFast(sv)
		iw.expect("📋 Опрос «Быстрый опрос» для организации «" + schoolName + "»: до 4 вопросов. Ответьте до 04.03.2026 23:59.")
		r.round()
		r.clock.Advance(24 * time.Hour)
		r.round()
		iw.expect("⏰ Напоминание: опрос «Быстрый опрос» для организации «" + schoolName + "» (до 4 вопросов) ещё не завершён. Срок — 04.03.2026 23:59.")
		r.round()
		if n := iw.count("Напоминание"); n != 1 {
			t.Fatalf("%d reminders, want one", n)
		}
		r.clock.Advance(2 * 24 * time.Hour)
		r.round()
		eduChair.expect("Опрос «Быстрый опрос» по организации «" + eduName + "» закрыт: ответили 0 из 2 организаций.")
		if n := eduChair.count("📋 Опрос"); n != 0 {
			t.Fatalf("the branch's chair, no responder, was invited %d times", n)
		}
	})
}

func TestSurveyDeskOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBothWithFast(t, func(t *testing.T, r *chatRig, sv surveys.Survey, plat bot.Platform) {
		branch := r.person(plat, 411, "Нина")
		branch.register(r.invite("edu", storage.RoleInfoworker), "Обкомова Нина")
		school := r.person(plat, 412, "Ирина")
		school.register(r.invite("edu-school-5", storage.RoleInfoworker), "Школьная Ирина")
		edu := r.org("edu")

		branch.say("/surveys")
		desk := branch.expect("Открытых опросов для вас нет.", "Опросы вашей структуры:", "• Быстрый опрос — «"+eduName+"»: ещё не проводился")
		if strings.Contains(strings.Join(desk.labels(), " "), "Кто не ответил") {
			t.Fatalf("a survey never run offers its status: %v", desk.labels())
		}
		branch.press(desk, "Провести сейчас")
		branch.expect("Опрос «Быстрый опрос» по организации «" + eduName + "» начат: 2 организации, срок — 04.03.2026 23:59.")
		r.round()
		school.expect("📋 Опрос «Быстрый опрос» для организации «" + schoolName)

		// Pressing again starts nothing new: it shows the open run.
		branch.say("/surveys")
		again := branch.expect("Опросы вашей структуры:", "ответили 0 из 2")
		branch.press(again, "Провести сейчас")
		status := branch.expect("ответили 0 из 2", "Ещё не ответили:\n• "+schoolName+"\n• "+gymName)
		if strings.Contains(status.text, "поликлиника") {
			t.Fatalf("the status names an org beside the branch: %q", status.text)
		}
		branch.say("/surveys")
		branch.press(branch.expect("Опросы вашей структуры:"), "Кто не ответил")
		branch.expect("Ещё не ответили:")
		runs, err := r.store.SurveyRuns(r.ctx, "fast")
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs %+v (%v), want one", runs, err)
		}

		// A primary has no desk and cannot forge one.
		school.say("/surveys")
		list := school.expect("Открытые опросы:", "ждёт ответа")
		if strings.Contains(strings.Join(list.labels(), " "), "Провести сейчас") {
			t.Fatal("a primary was offered to start surveys")
		}
		for _, data := range []string{fmt.Sprintf("srv:run:0:%d", edu.ID), fmt.Sprintf("srv:st:%d:%d", runs[0].ID, edu.ID)} {
			if n := school.pressData(list, data); n != notAllowed {
				t.Fatalf("forged %s answered %q", data, n)
			}
		}
		// Buttons that name nothing there is.
		for _, data := range []string{fmt.Sprintf("srv:run:7:%d", edu.ID), fmt.Sprintf("srv:st:99999:%d", edu.ID), "srv:run:0:99999", "srv:zz:1:2", "srv:go:1"} {
			if n := branch.pressData(again, data); n != stalePress {
				t.Fatalf("%s answered %q", data, n)
			}
		}
	})
}

func TestBoardButtonsOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		iw := r.person(plat, 441, "Алла")
		iw.register(r.invite("edu-school-5", storage.RoleInfoworker), "Стендова Алла")
		branch := r.person(plat, 442, "Нина")
		branch.register(r.invite("edu", storage.RoleInfoworker), "Обкомова Нина")
		r.round() // Monday 10:00: the week's reminder
		week1 := iw.expect("📌 Обновите, пожалуйста, профсоюзный стенд организации «" + schoolName + "» на этой неделе (с 02.03.2026).")
		if n := branch.count("стенд"); n != 0 {
			t.Fatalf("a branch was asked about a board %d times", n)
		}
		// Only the primary's own people answer for its board.
		if n := branch.pressData(week1, week1.kb[0][0].Data); n != notAllowed {
			t.Fatalf("the branch answered for the primary: %q", n)
		}

		iw.press(week1, "Напомнить завтра")
		iw.expect("Хорошо, напомним завтра.")
		r.round()
		if n := iw.count("Напоминаем"); n != 0 {
			t.Fatalf("asked again %d times before tomorrow", n)
		}
		r.clock.Advance(24*time.Hour + time.Minute)
		r.round()
		again := iw.expect("📌 Напоминаем: профсоюзный стенд организации «" + schoolName + "» на этой неделе (с 02.03.2026) обновлён?")
		iw.press(again, "нет стенда")
		iw.expect("Записано: у «" + schoolName + "» нет профсоюзного стенда.")
		iw.press(week1, "Напомнить завтра")
		iw.expect("На этой неделе ответ уже записан — напоминать не нужно.")

		// Sunday: tomorrow is another week, so the person answers now.
		r.clock.Advance(5 * 24 * time.Hour)
		if n := iw.press(week1, "Напомнить завтра"); n != "Неделя закончится раньше, чем завтра: ответьте, пожалуйста, сейчас." {
			t.Fatalf("a snooze past the week answered %q", n)
		}
		r.clock.Advance(24 * time.Hour)
		r.round()
		iw.expect("📌 Обновите, пожалуйста, профсоюзный стенд", "(с 09.03.2026)")
		iw.press(week1, "Обновили")
		iw.expect("Эта неделя уже прошла — ответ не записан.")
		for _, data := range []string{"brd:x:1:2", fmt.Sprintf("brd:u:99999:%d", time.Now().Unix()), "brd:u:1"} {
			if n := iw.pressData(week1, data); n != stalePress {
				t.Fatalf("%s answered %q", data, n)
			}
		}

		school := r.org("edu-school-5")
		checks, err := r.store.BoardChecks(r.ctx, school, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range checks {
			got = append(got, c.Week.In(r.clock.Now().Location()).Format("02.01")+":"+string(c.Answer))
		}
		if strings.Join(got, " ") != "02.03:no_board 09.03:" {
			t.Fatalf("board checks %q", got)
		}
	})
}

func TestMonitoringCommandOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBothWithFast(t, func(t *testing.T, r *chatRig, sv surveys.Survey, plat bot.Platform) {
		branch := r.person(plat, 451, "Нина")
		branch.register(r.invite("edu", storage.RoleInfoworker), "Обкомова Нина")
		school := r.person(plat, 452, "Ирина")
		school.register(r.invite("edu-school-5", storage.RoleInfoworker), "Школьная Ирина")
		member := r.person(plat, 453, "Пётр")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Учителев Пётр")
		r.openFast(sv)
		school.press(school.expect("📋 Опрос «Быстрый опрос»"), "Отвечать")
		school.press(school.expect("Вопрос 1 из 4"), "Да")
		school.press(school.expect("Вопрос 2 из 4"), "1")
		school.press(school.expect("✅ 1. Рассылка"), "Готово")
		school.press(school.expect("Вопрос 3 из 4"), "Пропустить")
		school.press(school.expect("Проверьте ответы"), "Подтвердить")
		school.expect("Спасибо!")

		branch.say("/monitoring")
		branch.expect("📊 Мониторинг информационной работы: «"+eduName+"», 2026", "Ответили на опрос: 1 из 2 (50%)", "Хуже всего:\n1. ",
			// What the hub observed: no news went out, so its reach is
			// no data in both periods.
			"Что видит сам хаб (сейчас — в прошлом периоде):", "• охват членов каналами союза: ",
			"• охват рассылок (доставлено из адресатов): нет данных (нет данных)", "• цифровая зрелость, из 100: ")
		branch.expect("Доля выполненных нормативов по организациям")
		branch.say("/monitoring edu-school-5 2026-03")
		branch.expect("📊 Мониторинг информационной работы: «"+schoolName+"», 2026-03", "Ответили на опрос: 1 из 1 (100%)")
		for _, arg := range []string{"edu", "health-polyclinic-4", "nope"} {
			school.say("/monitoring " + arg)
			school.expect("Не понял «" + arg + "»")
		}
		member.say("/monitoring")
		member.expect(notAllowed)
	})
}

// TestTheContactBaseGoesUpOnTheFastRig: on 15 January each primary's
// contact base reaches its branch's information worker as a workbook.
func TestTheContactBaseGoesUpOnTheFastRig(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		branch := r.person(plat, 451, "Нина")
		branch.register(r.invite("edu", storage.RoleInfoworker), "Обкомова Нина")
		chair := r.person(plat, 452, "Пётр")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Школьный Пётр")
		now := r.clock.Now()
		r.clock.Advance(time.Date(2027, 1, 15, 10, 0, 0, 0, now.Location()).Sub(now))
		r.round()
		m := branch.expect("📇 Контактная база «"+schoolName+"» за 2027 год — 1 человек:", "направляется в «"+eduName+"»")
		if m.upload == nil || m.upload.Kind != bot.AttachDocument || m.upload.Name != "contacts-edu-school-5-2027.xlsx" {
			t.Fatalf("the contact base came as %+v", m.upload)
		}
		rows := sheettest.ReadXLSX(t, m.upload.Data)
		if len(rows) != 2 || !slices.Contains(rows[1], "Школьный Пётр") {
			t.Fatalf("the workbook holds %q", rows)
		}
		// Once a year: a later round sends nothing more.
		r.clock.Advance(time.Hour)
		r.round()
		if n := branch.count("📇"); n != 1 {
			t.Fatalf("the contact base came %d times", n)
		}
	})
}
