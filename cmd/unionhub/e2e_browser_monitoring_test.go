package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// TestConsoleMonitoringInTheBrowser reads the monitoring report in
// Chromium as the Union's staff do: the built-in survey answered by some
// of the example tree's primaries, the charts drawn and loaded, the same
// figures in the tables, and the report downloaded as CSV with the
// session, recorded in the audit log.
func TestConsoleMonitoringInTheBrowser(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	db := r.store()
	ctx := context.Background()
	sv := surveys.Builtin()[0]
	now := r.clock.Now()
	union := mustOrg(t, r, "union")
	codes := []string{"edu-school-5", "edu-gymnasium-1", "health-hospital-1", "fish-port-korsakov"}
	var ids []int64
	for _, c := range codes {
		ids = append(ids, mustOrg(t, r, c).ID)
	}
	run, _, err := db.OpenSurveyRun(ctx, storage.SurveyRun{SurveyID: sv.ID, Job: "browser-test", FiredFor: now, OrgID: union.ID,
		Roles: []storage.Role{storage.RoleInfoworker, storage.RoleChair}, OpenedAt: now, Deadline: now.Add(10 * 24 * time.Hour),
		Status: storage.RunOpen}, ids)
	if err != nil {
		t.Fatal(err)
	}
	// Three answer, the fourth stays silent; the school meets every
	// norm it answers, the others fewer.
	for i, answers := range []map[string]string{
		{"infoworker": "yes", "infoworker_trained": "yes", "board": "yes", "board_weekly": "yes", "solidarnost": "2", "budget_share": "6",
			"email_list": "yes", "chats": "yes"},
		{"infoworker": "yes", "board": "no", "solidarnost": "0", "budget_share": "3", "email_list": "yes", "chats": "no"},
		{"infoworker": "no", "board": "yes", "board_weekly": "no", "solidarnost": "1", "budget_share": "5", "email_list": "no", "chats": "yes"},
	} {
		for q, v := range answers {
			if err := db.SaveSurveyAnswer(ctx, storage.SurveyAnswer{RunID: run.ID, OrgID: ids[i], QuestionID: q, Value: v, At: now}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SubmitSurvey(ctx, run.ID, ids[i], 0, now); err != nil {
			t.Fatal(err)
		}
	}
	r.serve()

	link := signInLink.FindString(r.mustRun("console", "link", "--admin"))
	if link == "" {
		t.Fatal("no sign-in link for the Union's staff")
	}
	b := chrome(t, "ru")
	inBrowser(t, b, "sign in", chromedp.Navigate(link), chromedp.Click(chromedp.CSS("form.signin button")), chromedp.WaitVisible(chromedp.CSS("#roles")))
	inBrowser(t, b, "open the report", chromedp.Click(chromedp.CSS(`nav a[href="/monitoring"]`)), chromedp.WaitVisible(chromedp.CSS("figure.chart img")))
	year := strconv.Itoa(now.In(zoneOf(t, union)).Year())
	expectPage(t, b, "Мониторинг: «Сахалинский областной союз организаций профсоюзов», "+year,
		"Ответили 3 из 4 опрошенных организаций (75 %)", "Назначен информационный работник", "50 %", "(2 из 4)",
		"ППО МАОУ СОШ № 5 г. Южно-Сахалинска", "(не ответила)")
	// Both charts load: the browser got PNGs it could decode.
	if _, err := browse(b, chromedp.Poll[bool](`(function () {
		var imgs = document.querySelectorAll("figure.chart img");
		return imgs.length === 2 && Array.prototype.every.call(imgs, function (i) { return i.complete && i.naturalWidth > 300 && i.alt.length > 0; });
	})()`)); err != nil {
		t.Fatalf("the charts did not load: %v", err)
	}
	screenshot(t, b, "console-monitoring")

	// The CSV, fetched as the download link does, with the session.
	csv, err := browse(b, chromedp.Evaluate[string](`fetch(document.querySelector('a[href^="/monitoring.csv"]').href)
		.then(function (r) { return r.ok ? r.text() : "HTTP " + r.status; })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	// The browser reads the text without its byte-order mark.
	for _, want := range []string{"org,name,members,answered", "edu-school-5,ППО МАОУ СОШ № 5", "fish-port-korsakov"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the downloaded CSV lacks %q:\n%s", want, csv)
		}
	}
	exports, err := db.Audit(ctx, storage.AuditQuery{Action: "monitoring_export", Limit: 10})
	if err != nil || len(exports) != 1 || exports[0].OrgID != union.ID || exports[0].Record != "csv:"+year {
		t.Errorf("the download's audit entries %+v, %v", exports, err)
	}

	// A target for the Union, typed with a decimal comma, counts at once.
	inBrowser(t, b, "open the targets", chromedp.Click(chromedp.CSS(`a[href^="/monitoring/targets"]`)),
		chromedp.WaitVisible(chromedp.CSS("#target-budget_share")))
	inBrowser(t, b, "set a target", chromedp.SetValue(chromedp.CSS("#target-budget_share"), "5,5"),
		chromedp.Click(chromedp.CSS(`#target-budget_share + button`)), chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
	expectPage(t, b, "Целевое значение сохранено", "цель этой организации")
	screenshot(t, b, "console-monitoring-targets")
	inBrowser(t, b, "back to the report", chromedp.Click(chromedp.CSS(`a[href^="/monitoring?"]`)), chromedp.WaitVisible(chromedp.CSS("figure.chart img")))
	expectPage(t, b, "6 / 5,5", "5 / 5,5")
	// On a phone the tables fold into labelled lines.
	inBrowser(t, b, "narrow the window", chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("figure.chart img")))
	screenshot(t, b, "console-monitoring-phone")
	inBrowser(t, b, "widen the window", chromedp.EmulateViewport(1280, 900))

	// The surveys: the run over the Union is open already, so "run now"
	// shows it, with who has not answered, and "remind now" says what it did.
	inBrowser(t, b, "open the surveys", chromedp.Click(chromedp.CSS(`nav a[href="/surveys"]`)), chromedp.WaitVisible(chromedp.CSS(".desk")))
	expectPage(t, b, "ответили 3 из 4 организаций")
	screenshot(t, b, "console-surveys")
	// Both buttons ask first (a confirm dialog): the script is told yes.
	yes := func() {
		t.Helper()
		if _, err := browse(b, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
			t.Fatal(err)
		}
	}
	yes()
	inBrowser(t, b, "run now", chromedp.Click(chromedp.CSS(`.desk form button`)), chromedp.WaitVisible(chromedp.CSS("#counted")))
	expectPage(t, b, "Этот опрос уже идёт", "3 из 4 организаций", "ППО АО «Корсаковский морской рыбный порт»", "не ответила")
	yes()
	// The page before has a status line too: the old page is marked, and
	// the new one's status waited for.
	if _, err := browse(b, chromedp.Evaluate[bool](`document.body.setAttribute("data-old", "1"); true`)); err != nil {
		t.Fatal(err)
	}
	inBrowser(t, b, "remind now", chromedp.Click(chromedp.CSS(`form[action$="/remind"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-old]) p[role="status"]`)))
	// The jobs round may have invited the silent port a moment before.
	if text := pageText(t, b); !strings.Contains(text, "Напоминание отправлено 1 организации") && !strings.Contains(text, "ей писали меньше суток назад") &&
		!strings.Contains(text, "нет в боте никого") {
		t.Fatalf("remind now does not say what it did:\n%s", text)
	}
	screenshot(t, b, "console-survey-run")
}

// zoneOf is an organisation's time zone.
func zoneOf(t *testing.T, o storage.Org) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(o.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
