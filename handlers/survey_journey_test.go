package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// countSurvey has a skip rule, a whole-number question and a number that
// may have a fraction; its schedule fires far from the rig's clock.
const countSurvey = `id: count
title: {ru: Проверка, en: Check}
questions:
  - {id: board, type: yes_no, required: true, text: {ru: "Есть ли стенд?", en: "Is there a board?"}}
  - {id: weekly, type: yes_no, required: true, if: {question: board, equals: "yes"}, text: {ru: "Обновляется еженедельно?", en: "Updated weekly?"}}
  - {id: copies, type: number, integer: true, min: 0, required: true, text: {ru: "Сколько экземпляров?", en: "How many copies?"}}
  - {id: share, type: number, min: 0, max: 100, required: true, text: {ru: "Доля бюджета?", en: "Budget share?"}}
schedules:
  - {cron: "0 10 1 9 *", org: edu-school-5, levels: [primary], roles: [infoworker, chair], deadline: 2d}
`

// surveyRig is the fast rig with the count survey and the school's
// information worker, speaking lang, invited to a run fired today at 01:40.
func surveyRig(t *testing.T, plat bot.Platform, lang string) (*chatRig, *chatter, *shown) {
	t.Helper()
	sv, err := surveys.Parse("count.yaml", []byte(countSurvey))
	if err != nil {
		t.Fatal(err)
	}
	r := newChatRig(t, withSurveys(sv))
	iw := r.person(plat, 301, "Ирина")
	iw.register(r.invite("edu-school-5", storage.RoleInfoworker), "Школьная Ирина")
	if lang == "en" {
		iw.say("/lang")
		iw.press(iw.expect("Выберите язык"), "English")
		iw.expect("Language changed.")
	}
	now := r.clock.Now()
	fire := time.Date(now.Year(), now.Month(), now.Day(), 1, 40, 0, 0, now.Location())
	if _, _, err := r.hub.Monitoring.OpenRun(r.ctx, sv, sv.Schedules[0], "test", fire); err != nil {
		t.Fatal(err)
	}
	if err := r.hub.Monitoring.JobsRound(r.ctx); err != nil {
		t.Fatal(err)
	}
	return r, iw, iw.expect(map[string]string{"ru": "📋 Опрос «Проверка»", "en": "📋 Survey «Check»"}[lang])
}

// TestSurveyRunEndsAtTheEndOfItsLastDay: a run fired at 01:40 with two days
// to answer says, stores and keeps the end of the second day after.
func TestSurveyRunEndsAtTheEndOfItsLastDay(t *testing.T) {
	t.Parallel()
	r, iw, invite := surveyRig(t, bot.VK, "ru")
	if !strings.Contains(invite.text, "Ответьте до 04.03.2026 23:59.") {
		t.Fatalf("invitation %q", invite.text)
	}
	runs, err := r.store.SurveyRuns(r.ctx, "count")
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v (%v)", runs, err)
	}
	if want := time.Date(2026, 3, 4, 23, 59, 59, 0, time.FixedZone("Sakhalin", 11*3600)); !runs[0].Deadline.Equal(want) {
		t.Fatalf("stored deadline %v, want %v", runs[0].Deadline, want)
	}
	// Answers are taken to the last minute of the day, not after it.
	r.clock.Advance(2*24*time.Hour + 13*time.Hour + 59*time.Minute) // 04.03 23:59
	iw.press(invite, "Отвечать")
	iw.expect("Вопрос 1 из 4", "Есть ли стенд?")
	r.clock.Advance(time.Minute)
	iw.say("да")
	iw.expect("уже закрыт")
}

// TestSurveyCountsAndHintsDoNotMove walks the count survey in both
// languages: the invitation's figure and each question's "N of 4" hold
// whatever the skip rule does, a whole-number question never offers a
// fraction and refuses one.
func TestSurveyCountsAndHintsDoNotMove(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		lang, invite, answer, yes, no, back, number, whole, refused string
		header                                                      func(n int) string
	}{
		{"ru", "Проверка» для организации «ППО МАОУ СОШ № 5 г. Южно-Сахалинска»: до 4 вопросов.", "Отвечать", "Да", "Нет", "Назад",
			"Напишите число (можно с запятой: 12,5).", "Напишите целое число.", "Здесь нужно целое число.",
			func(n int) string { return fmt.Sprintf("Вопрос %d из 4\n", n) }},
		{"en", "Check» for «ППО МАОУ СОШ № 5 г. Южно-Сахалинска»: up to 4 questions.", "Answer", "Yes", "No", "Back",
			"Write a number, e.g. 12 or 12.5.", "Write a whole number.", "A whole number is needed here.",
			func(n int) string { return fmt.Sprintf("Question %d of 4\n", n) }},
	} {
		for _, plat := range []bot.Platform{bot.Telegram, bot.VK} {
			t.Run(tt.lang+"/"+string(plat), func(t *testing.T) {
				t.Parallel()
				_, iw, invite := surveyRig(t, plat, tt.lang)
				if !strings.Contains(invite.text, tt.invite) {
					t.Fatalf("invitation %q, want %q", invite.text, tt.invite)
				}
				iw.press(invite, tt.answer)
				// "No" leaves the second question out: the count goes on to 3 of 4.
				iw.press(iw.expect(tt.header(1)), tt.no)
				q := iw.expect(tt.header(3))
				if !strings.HasSuffix(q.text, tt.whole) || strings.Contains(q.text, "12") {
					t.Fatalf("the whole-number question %q", q.text)
				}
				iw.say("abc")
				if refused := iw.expect("12"); strings.Contains(refused.text, "12,5") || strings.Contains(refused.text, "12.5") {
					t.Fatalf("a word for a whole number is refused with %q", refused.text)
				}
				iw.say("2,5")
				iw.expect(tt.refused)
				iw.say("3")
				q = iw.expect(tt.header(4))
				if !strings.HasSuffix(q.text, tt.number) {
					t.Fatalf("the number question %q", q.text)
				}
				// Back to the start and "Yes": the question it opens is 2 of
				// 4, the next one still 3 of 4.
				iw.press(q, tt.back)
				iw.press(iw.expect(tt.header(3)), tt.back)
				iw.press(iw.expect(tt.header(1)), tt.yes)
				iw.press(iw.expect(tt.header(2)), tt.yes)
				iw.expect(tt.header(3))
			})
		}
	}
}
