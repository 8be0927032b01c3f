package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// TestHotlineJourneyOnTheFastRig walks a question from the member's "Send"
// to the closed card and the rating, on both platforms, in-process.
func TestHotlineJourneyOnTheFastRig(t *testing.T) {
	t.Parallel()
	for _, plat := range []bot.Platform{bot.Telegram, bot.VK} {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newChatRig(t)
			chair := r.person(plat, 101, "Мария")
			chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария")
			member := r.person(plat, 102, "Анна")
			member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")

			member.say("/ask")
			member.press(member.expect("Выберите тему вопроса"), "Зарплата")
			member.expect("Опишите вопрос")
			member.say("Почему не начислили надбавку за классное руководство?")
			member.press(member.expect("Вопрос записан"), "Отправить")
			accepted := member.expect("Вопрос принят, №")
			var id int64
			if _, err := fmt.Sscanf(accepted.text[strings.Index(accepted.text, "№"):], "№ %d", &id); err != nil {
				t.Fatalf("no number in %q", accepted.text)
			}

			card := chair.expect(fmt.Sprintf("Новое обращение № %d", id), "Кузнецова Анна", "классное руководство")
			chair.press(card, "Взять")
			card = chair.expect("взял(а) Сидорова Мария")
			chair.press(card, "Ответить")
			chair.expect("Напишите ответ")
			chair.say("Начислят с октябрьской зарплатой.")
			chair.expect("отправлен участнику")

			answer := member.expect("Ответ на ваш вопрос", "Сидорова Мария, председатель", "октябрьской")
			member.press(answer, "Вопрос решён")
			rate := member.expect("Оцените")
			if now := member.current(answer); len(now.kb) != 0 || now.text != answer.text {
				t.Fatalf("the solved answer: %q with %v", now.text, now.labels())
			}
			closedCard := chair.current(card)
			if !strings.Contains(closedCard.text, fmt.Sprintf("✅ Обращение № %d закрыто", id)) || len(closedCard.kb) != 0 {
				t.Fatalf("the chair's card after closing: %q with %v", closedCard.text, closedCard.labels())
			}
			member.press(rate, "5★")
			member.expect("Спасибо за оценку 5")

			tk, err := r.store.Ticket(r.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Status != storage.TicketClosed || tk.Rating != 5 || tk.FirstResponseAt == nil {
				t.Fatalf("ticket after the journey: %+v", tk)
			}
		})
	}
}

// TestOverdueQuestionClimbsToWhoeverCanAnswer moves the clock past the
// first-response target: the question goes up to the branch's chair, the
// member is told, the school's chair is reminded.
func TestOverdueQuestionClimbsToWhoeverCanAnswer(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	school := r.person(bot.Telegram, 201, "Ирина")
	school.register(r.invite("edu-school-5", storage.RoleChair), "Директорова Ирина")
	branch := r.person(bot.VK, 202, "Вера")
	branch.register(r.invite("edu", storage.RoleChair), "Обкомова Вера")
	member := r.person(bot.Telegram, 203, "Пётр")
	member.register(r.invite("edu-school-5", storage.RoleMember), "Членов Пётр")

	member.say("/ask")
	member.press(member.expect("Выберите тему вопроса"), "Зарплата")
	member.expect("Опишите вопрос")
	member.say("Задерживают отпускные")
	member.press(member.expect("Вопрос записан"), "Отправить")
	member.expect("Вопрос принят")
	school.expect("Новое обращение №", "Задерживают отпускные")

	r.clock.Advance(10 * 24 * time.Hour)
	if err := r.hub.Escalate(r.ctx); err != nil {
		t.Fatal(err)
	}
	school.expect("осталось без ответа", "«Областная организация профсоюза работников образования»")
	member.expect("передан выше", "работников образования")
	branch.expect("без ответа в срок", "Задерживают отпускные")
}
