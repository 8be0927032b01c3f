package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleLoadsTheTreeInTheBrowser walks the first start in Chromium:
// the Union's staff sign in with the link serve prints on a fresh
// database, upload an organisation file with a mistake and see it by
// line, upload it corrected, see the plan, apply it and see the tree;
// then they make an invite and open its sheet for the notice board.
func TestConsoleLoadsTheTreeInTheBrowser(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	_, stderr, stop := serveApart(t, r)
	defer stop()
	link := signInLink.FindString(stderr.String())
	if link == "" {
		t.Fatalf("no sign-in link on standard error:\n%s", stderr)
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "tree.csv")
	if err := os.WriteFile(broken, []byte("code,name,parent,level,members\n"+
		"union,Областной союз,,union,9000\nedu,Обком образования,union,branch,3000\nschool,,edu,primary,40\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "orgs.csv")
	if err := os.WriteFile(good, []byte("code,name,parent,level,members\n"+
		"union,Областной союз,,union,9000\nedu,Обком образования,union,branch,3000\n"+
		"health,Обком здравоохранения,union,branch,2500\nschool,Школа № 7,edu,primary,40\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	b := chrome(t, "ru")
	inBrowser(t, b, "sign in", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("form.signin button")),
		chromedp.Click(chromedp.CSS("form.signin button")), chromedp.WaitVisible(chromedp.CSS("#upload")))
	expectPage(t, b, "Загрузите структуру Союза", "Загрузить пример структуры")
	screenshot(t, b, "console-setup")

	upload := func(what, path, shows string) {
		t.Helper()
		inBrowser(t, b, what, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}),
			chromedp.Click(chromedp.CSS(`form[enctype] button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(shows)))
	}
	upload("upload a broken file", broken, "#problems")
	expectPage(t, b, "не загружен, ничего не изменено", "tree.csv:4: empty name")
	screenshot(t, b, "console-orgs-refused")

	upload("upload the file", good, "#apply")
	expectPage(t, b, "План загрузки", "создать — 4, изменить — 0", "Школа № 7", "orgs.csv:5")
	screenshot(t, b, "console-orgs-preview")

	inBrowser(t, b, "apply the plan", chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(chromedp.CSS("table.orgs")))
	expectPage(t, b, "Структура загружена", "Областной союз", "Обком образования", "Обком здравоохранения", "Школа № 7")
	screenshot(t, b, "console-orgs-tree")

	inBrowser(t, b, "search", chromedp.SendKeys(chromedp.CSS("#q"), "школа"), chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.CSS(`table.orgs a[href^="/orgs/"]`)))
	if text := pageText(t, b); strings.Contains(text, "Обком здравоохранения") {
		t.Fatalf("the search shows more than it found:\n%s", text)
	}
	inBrowser(t, b, "open the organisation", chromedp.Click(chromedp.CSS(`table.orgs a[href^="/orgs/"]`)), chromedp.WaitVisible(chromedp.CSS("#people")))
	expectPage(t, b, "Школа № 7", "Создать приглашение")
	screenshot(t, b, "console-org")
	inBrowser(t, b, "make an invite", chromedp.Click(chromedp.CSS(`.invite-form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".qr img")))
	expectPage(t, b, "Приглашение в «Школа № 7»", "https://t.me/")
	screenshot(t, b, "console-invite")
	inBrowser(t, b, "open the sheet", chromedp.Click(chromedp.CSS(`a[href$="/print"]`)), chromedp.WaitVisible(chromedp.CSS(".sheet .qr img")))
	expectPage(t, b, "Наведите камеру телефона")
	screenshot(t, b, "console-invite-sheet")
}
