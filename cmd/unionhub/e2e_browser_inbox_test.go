package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/unionhub/unionhub/storage"
)

// TestInboxInTheBrowser answers a hot-line question from the console in
// Chromium as a chair does: the sign-in link comes from the bot, the
// inbox lists the question a member asked on Telegram and announces the
// next one as it comes, and the answer typed in the console reaches the
// member's chat.
func TestInboxInTheBrowser(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	chair := r.person(storage.Telegram, 7401, "Анна")
	register(t, chair, r.invite("edu-school-5", "chair"), "Иванова Анна Петровна")
	member := r.person(storage.Telegram, 7402, "Пётр")
	register(t, member, r.invite("edu-school-5", "member"), "Петров Пётр")
	id := ask(t, member, "Зарплата", "Почему не начислили надбавку за классное руководство?")
	chair.dm().expect(fmt.Sprintf("Новое обращение № %d", id))

	chair.say("/console")
	link := signInLink.FindString(chair.dm().expect("Ссылка для входа в пульт").text)
	if link == "" {
		t.Fatal("no sign-in link")
	}
	b := chrome(t, "ru")
	inBrowser(t, b, "sign in", chromedp.Navigate(link), chromedp.Click(chromedp.CSS("form.signin button")), chromedp.WaitVisible(chromedp.CSS("#roles")))
	expectPage(t, b, "1 открытый вопрос горячей линии")
	inBrowser(t, b, "open the inbox", chromedp.Click(chromedp.CSS(`nav a[href="/inbox"]`)), chromedp.WaitVisible(chromedp.CSS("table.inbox")))
	expectPage(t, b, "Обращения на горячую линию", fmt.Sprintf("№ %d", id), "Зарплата", "ППО МАОУ СОШ № 5", "ответ нужен через", "ждёт ответа")

	// The page hears of the next question without a reload.
	next := ask(t, member, "Охрана труда", "В кабинете не работает вентиляция.")
	inBrowser(t, b, "see the new question announced", chromedp.WaitVisible(chromedp.CSS("#live")))
	expectPage(t, b, "Пришли новые обращения или ответы участников.")
	screenshot(t, b, "console-inbox-list")
	inBrowser(t, b, "refresh", chromedp.Click(chromedp.CSS("#live a")), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/inbox/%d"]`, next))))

	inBrowser(t, b, "open the question", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/inbox/%d"]`, id))), chromedp.WaitVisible(chromedp.CSS("#text")))
	expectPage(t, b, fmt.Sprintf("Обращение № %d", id), "Петров Пётр", "Почему не начислили надбавку за классное руководство?")
	answer := "Надбавку начислят в следующем месяце вместе с перерасчётом."
	inBrowser(t, b, "answer", chromedp.SendKeys(chromedp.CSS("#text"), answer),
		chromedp.Click(chromedp.CSS(`form[action$="/reply"] button`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]:not([hidden])`)))
	expectPage(t, b, "Ответ доставлен участнику в мессенджер.", answer, "Иванова Анна Петровна", "есть ответ")
	screenshot(t, b, "console-inbox-answered")

	member.dm().expect(fmt.Sprintf("№ %d", id), answer, "Иванова Анна Петровна")
	if tk := ticketOf(t, r.store(), id); tk.Status != storage.TicketTaken || tk.FirstResponseAt == nil {
		t.Fatalf("the answered question: %+v", tk)
	}
}
