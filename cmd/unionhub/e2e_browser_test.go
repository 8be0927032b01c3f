package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/unionhub/unionhub/storage"
)

// TestConsoleInTheBrowser walks the staff console in Chromium as a chair
// does: the sign-in link comes from the bot, the browser spends it, and
// the console opens on the chair's dashboard.
func TestConsoleInTheBrowser(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	chair := r.person(storage.Telegram, 7101, "Анна")
	register(t, chair, r.invite("edu-school-5", "chair"), "Иванова Анна Петровна")

	chair.say("/console")
	m := chair.dm().expect("Ссылка для входа в пульт")
	link := signInLink.FindString(m.text)
	if link == "" {
		t.Fatalf("no link in %q", m.text)
	}
	b := chrome(t, "ru")
	inBrowser(t, b, "open the sign-in link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("form.signin button")))
	expectPage(t, b, "Войти как Иванова Анна Петровна")
	screenshot(t, b, "console-signin")
	inBrowser(t, b, "sign in", chromedp.Click(chromedp.CSS("form.signin button")), chromedp.WaitVisible(chromedp.CSS("#roles")))
	expectPage(t, b, "Здравствуйте, Иванова Анна Петровна!", "председатель — ППО МАОУ СОШ № 5")
	screenshot(t, b, "console-home")
	// The language switch keeps the person where they are.
	inBrowser(t, b, "switch to English", chromedp.Click(chromedp.CSS(`a[lang="en"]`)), chromedp.WaitVisible(chromedp.CSS("#roles")))
	expectPage(t, b, "Hello, Иванова Анна Петровна!", "chair — ")
}
