package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unionhub/unionhub/storage"
)

// TestConsoleNewsInTheBrowser composes news in Chromium as a chair does:
// formatting, the recipient count before sending, the preview, then the
// progress page, refreshed by its script, up to 100 %; the members get
// the item in their chats on Telegram and VK, formatted where Telegram
// formats it. Then an item with a photo chosen in the file input, which
// the progress page shows and the members get.
func TestConsoleNewsInTheBrowser(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	chair := r.person(storage.Telegram, 7201, "Анна")
	register(t, chair, r.invite("edu-school-5", "chair"), "Иванова Анна Петровна")
	onTelegram := r.person(storage.Telegram, 7202, "Пётр")
	register(t, onTelegram, r.invite("edu-school-5", "member"), "Петров Пётр")
	onVK := r.person(storage.VK, 7203, "Вера")
	register(t, onVK, r.invite("edu-school-5", "member"), "Васильева Вера")

	chair.say("/console")
	link := signInLink.FindString(chair.dm().expect("Ссылка для входа в пульт").text)
	if link == "" {
		t.Fatal("no sign-in link")
	}
	b := chrome(t, "ru")
	inBrowser(t, b, "sign in", chromedp.Navigate(link), chromedp.Click(chromedp.CSS("form.signin button")), chromedp.WaitVisible(chromedp.CSS("#roles")))
	inBrowser(t, b, "open the composer", chromedp.Click(chromedp.CSS(`nav a[href="/news"]`)), chromedp.WaitVisible(chromedp.CSS("#text")))
	// The author is left out, as in the bot: two members get it.
	expectPage(t, b, "Новость организации «ППО МАОУ СОШ № 5 г. Южно-Сахалинска»", "Получат 2 человека.")
	// The script counts again as the audience changes.
	inBrowser(t, b, "choose group chats only", chromedp.Click(chromedp.CSS(`input[name="where"][value="chats"]`)))
	countShows(t, b, "Получат 0 человек.")
	inBrowser(t, b, "choose private chats and groups", chromedp.Click(chromedp.CSS(`input[name="where"][value=""]`)))
	countShows(t, b, "Получат 2 человека.")
	inBrowser(t, b, "write and preview",
		chromedp.SendKeys(chromedp.CSS("#text"), "<b>Собрание</b> в пятницу в 15:00, <i>актовый зал</i>"),
		chromedp.Click(chromedp.CSS(`button[value="preview"]`)),
		chromedp.WaitVisible(chromedp.CSS(".preview strong")))
	expectPage(t, b, "Так увидят получатели в Telegram", "Собрание в пятницу в 15:00, актовый зал", "Получат 2 человека.")
	screenshot(t, b, "console-news-compose")

	inBrowser(t, b, "send", chromedp.Click(chromedp.CSS(`button[value="send"]`)), chromedp.WaitVisible(chromedp.CSS("#progress")))
	expectPage(t, b, "Рассылка №", "ППО МАОУ СОШ № 5")
	// The page's script swaps the progress in until nothing is left to send.
	inBrowser(t, b, "watch the progress reach 100 %", chromedp.WaitVisible(chromedp.CSS("#progress:not([data-refresh])")))
	expectPage(t, b, "100 %", "завершена", "Доставлено\n2")
	screenshot(t, b, "console-news-progress")

	// A scheduled broadcast's page waits; stopped meanwhile (as the bot's
	// Stop does), the page's script shows it without a reload.
	sakhalin, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	at := r.clock.Now().Add(48 * time.Hour).In(sakhalin)
	inBrowser(t, b, "schedule", chromedp.Click(chromedp.CSS(`nav a[href="/news"]`)), chromedp.WaitVisible(chromedp.CSS("#text")),
		chromedp.SendKeys(chromedp.CSS("#text"), "Отчётное собрание"),
		chromedp.SetValue(chromedp.CSS("#at"), at.Format("2006-01-02T15:04")),
		chromedp.Click(chromedp.CSS(`button[value="schedule"]`)), chromedp.WaitVisible(chromedp.CSS("#progress[data-refresh]")))
	expectPage(t, b, "запланирована", "Начнётся "+at.Format("02.01.2006 15:04"), "Получат 2 человека.")
	screenshot(t, b, "console-news-scheduled")
	page, err := browse(b, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.ParseInt(page[strings.LastIndex(page, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("no broadcast in %q", page)
	}
	if _, err := r.store().CancelBroadcast(context.Background(), id, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	inBrowser(t, b, "see it stopped", chromedp.WaitVisible(chromedp.CSS("#progress:not([data-refresh])")))
	expectPage(t, b, "остановлена")

	for _, p := range []person{onTelegram, onVK} {
		m := p.dm().expect("📰 ППО МАОУ СОШ № 5", "Собрание в пятницу в 15:00, актовый зал")
		if strings.Contains(m.text, "<b>") {
			t.Errorf("%s got the tags as text: %q", p.platform(), m.text)
		}
	}

	// A photo: chosen in the file input, kept by the preview (a file input
	// cannot be filled again), shown on the progress page and in the chats.
	photo := filepath.Join(t.TempDir(), "субботник.png")
	if err := os.WriteFile(photo, picture(t, 960, 540), 0o644); err != nil {
		t.Fatal(err)
	}
	inBrowser(t, b, "attach a photo and preview", chromedp.Click(chromedp.CSS(`nav a[href="/news"]`)), chromedp.WaitVisible(chromedp.CSS("#text")),
		chromedp.SendKeys(chromedp.CSS("#text"), "Субботник в сквере в субботу в 10:00"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{photo}),
		chromedp.Click(chromedp.CSS(`button[value="preview"]`)), chromedp.WaitVisible(chromedp.CSS("#attached")))
	expectPage(t, b, "📎 субботник.png (", "Заменить другим файлом", "Получат 2 человека.")
	screenshot(t, b, "console-news-file-compose")
	inBrowser(t, b, "send it", chromedp.Click(chromedp.CSS(`button[value="send"]`)), chromedp.WaitVisible(chromedp.CSS("figure.file img")),
		chromedp.WaitVisible(chromedp.CSS("#progress:not([data-refresh])")))
	expectPage(t, b, "📎 субботник.png (", "100 %", "Субботник в сквере")
	if loaded, err := browse(b, chromedp.Poll[bool](`document.querySelector("figure.file img").naturalWidth === 960`)); err != nil || !loaded {
		t.Fatalf("the photo did not load on the page: %v", err)
	}
	screenshot(t, b, "console-news-file")
	for _, p := range []person{onTelegram, onVK} {
		if m := p.dm().expect("Субботник в сквере"); len(m.files) != 1 {
			t.Errorf("%s got the item without its photo: %+v", p.platform(), m)
		}
	}
}

// picture is a w×h picture as PNG: a sky over a green, and a sun.
func picture(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: uint8(90 + 80*y/h), G: uint8(150 + 60*y/h), B: 235, A: 255}
			switch dx, dy := x-w*3/4, y-h/4; {
			case dx*dx+dy*dy < (h/8)*(h/8):
				c = color.RGBA{R: 255, G: 214, B: 90, A: 255}
			case y > h*2/3:
				c = color.RGBA{R: 70, G: uint8(140 + 40*(y-h*2/3)/h), B: 60, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// countShows waits for the composer's count to say want.
func countShows(t *testing.T, b context.Context, want string) {
	t.Helper()
	if _, err := browse(b, chromedp.Poll[bool](`document.getElementById("count").textContent.includes(`+strconv.Quote(want)+`)`)); err != nil {
		t.Fatalf("the count does not say %q: %v\n%s", want, err, pageText(t, b))
	}
}

// TestConsoleSuggestionsInTheBrowser decides suggestions from below in
// Chromium as a branch's information worker does: a call for support
// declined with a reason, and news published down; each author is told
// in their messenger, as when the bot decides.
func TestConsoleSuggestionsInTheBrowser(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	worker := r.person(storage.Telegram, 7301, "Ева")
	register(t, worker, r.invite("edu", "infoworker"), "Обкомова Ева")
	onTelegram := r.person(storage.Telegram, 7302, "Пётр")
	register(t, onTelegram, r.invite("edu-school-5", "member"), "Петров Пётр")
	onVK := r.person(storage.VK, 7303, "Вера")
	register(t, onVK, r.invite("edu-gymnasium-1", "member"), "Васильева Вера")
	suggest := func(p person, kind, text string) {
		p.say("/suggest")
		p.press(p.dm().expect("Что вы хотите сообщить"), kind)
		p.dm().expect("Опишите")
		p.say(text)
		p.dm().expect("Отправлено, №", "«Областная организация профсоюза работников образования»")
	}
	suggest(onTelegram, "Призыв к поддержке", "Администрация отказывается начинать переговоры.")
	suggest(onVK, "Новость", "Наша гимназия выиграла конкурс «Учитель года».")

	worker.say("/console")
	link := signInLink.FindString(worker.dm().expect("Ссылка для входа в пульт").text)
	b := chrome(t, "ru")
	inBrowser(t, b, "sign in", chromedp.Navigate(link), chromedp.Click(chromedp.CSS("form.signin button")), chromedp.WaitVisible(chromedp.CSS("#roles")))
	inBrowser(t, b, "open the suggestions", chromedp.Click(chromedp.CSS(`nav a[href="/suggestions"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
	expectPage(t, b, "Ждут решения 2 предложения", "призыв к поддержке", "ППО МАОУ СОШ № 5", "ППО МБОУ Гимназия № 1")
	screenshot(t, b, "console-suggestions")

	inBrowser(t, b, "open the call", chromedp.Click(chromedp.CSS(`tbody tr:first-child a`)), chromedp.WaitVisible(chromedp.CSS("#reason")))
	expectPage(t, b, "Петров Пётр", "«Солидарность»", "Администрация отказывается")
	screenshot(t, b, "console-suggestion-card")
	inBrowser(t, b, "decline it", chromedp.SendKeys(chromedp.CSS("#reason"), "Сначала обсудим на профкоме школы."),
		chromedp.Click(chromedp.CSS(`form[action$="/decline"] button`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
	expectPage(t, b, "отклонён, автор получил ваш ответ", "Ждёт решения 1 предложение")
	onTelegram.dm().expect("не опубликует", "Сначала обсудим на профкоме школы.")

	// Publishing asks first (a confirm dialog): the script is told yes.
	inBrowser(t, b, "publish the news", chromedp.Click(chromedp.CSS(`tbody tr:first-child a`)), chromedp.WaitVisible(chromedp.CSS("#reason")))
	if _, err := browse(b, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	inBrowser(t, b, "publish", chromedp.Click(chromedp.CSS(`form[action$="/publish"] button`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"] a`)))
	expectPage(t, b, "опубликован: рассылка №", "Предложений, ждущих решения, нет.")
	onVK.dm().expect("опубликовала «Областная организация профсоюза работников образования»")
	onTelegram.dm().expect("Из организации «ППО МБОУ Гимназия № 1", "Учитель года")
	inBrowser(t, b, "follow the broadcast", chromedp.Click(chromedp.CSS(`p[role="status"] a`)), chromedp.WaitVisible(chromedp.CSS("#progress:not([data-refresh])")))
	expectPage(t, b, "100 %", "Учитель года")
}
