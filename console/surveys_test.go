package console

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// runFrom reads a run's number from a redirect to its page.
func runFrom(t *testing.T, loc string) int64 {
	t.Helper()
	path, _, _ := strings.Cut(strings.TrimPrefix(loc, "/surveys/runs/"), "?")
	id, err := strconv.ParseInt(path, 10, 64)
	if err != nil {
		t.Fatalf("not sent to a run's page: %q", loc)
	}
	return id
}

func TestSurveysAreRunFollowedAndRemindedFromTheSubtree(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduChair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleInfoworker)
	edu := strconv.FormatInt(r.org("edu").ID, 10)
	b := r.browser("192.0.2.1")
	b.signIn(eduChair)
	want(t, b.get("/surveys"), http.StatusOK, "Проверка", "3 вопроса · check", "«yearly»: по организации «Союз»",
		"отвечают — первичная организация, от них — информационный работник, председатель", "на ответ — 10 дней",
		"напоминания через 2 дня", "По организации «Образование»", "Здесь этот опрос ещё не проводился.", "Провести сейчас")

	// Run now: started, recorded; pressed again, the open run is shown.
	w := b.post("/surveys/check/run", url.Values{"org": {edu}, "csrf": {b.csrf()}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("run now: %d\n%s", w.Code, w.Body)
	}
	runID := runFrom(t, w.Header().Get("Location"))
	run := fmt.Sprintf("/surveys/runs/%d", runID)
	want(t, b.get(w.Header().Get("Location")), http.StatusOK, "Опрос начат: приглашение получит 1 организация",
		"Опрос «Проверка», проведение № "+strconv.FormatInt(runID, 10), "0 из 1 организации", "Школа № 5", "не ответила", "Напомнить сейчас")
	w = b.post("/surveys/check/run", url.Values{"org": {edu}, "csrf": {b.csrf()}})
	if runFrom(t, w.Header().Get("Location")) != runID || !strings.Contains(w.Header().Get("Location"), "running=1") {
		t.Fatalf("pressed again: %q", w.Header().Get("Location"))
	}
	want(t, b.get(w.Header().Get("Location")), http.StatusOK, "Этот опрос уже идёт")
	want(t, b.get("/surveys/check?org="+edu), http.StatusOK, "№ "+strconv.FormatInt(runID, 10), "идёт", "0 из 1 организации")
	want(t, b.get("/surveys"), http.StatusOK, "Последний — с 02.03.2026 21:00, идёт: ответили 0 из 1 организации.")

	// Remind now: the school is told; pressed again, it is passed over.
	remind := func() string {
		t.Helper()
		w := b.post(run+"/remind", url.Values{"org": {edu}, "csrf": {b.csrf()}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("remind: %d\n%s", w.Code, w.Body)
		}
		return b.get(w.Header().Get("Location")).Body.String()
	}
	page := remind()
	for _, s := range []string{"Напоминание отправлено 1 организации."} {
		if !strings.Contains(page, s) {
			t.Errorf("after remind now the page does not say %q:\n%s", s, page)
		}
	}
	if got := r.surveys.take(); !reflect.DeepEqual(got, []string{"school 1"}) {
		t.Errorf("told %q, want the school's first notice", got)
	}
	page = remind()
	if !strings.Contains(page, "Напоминание сейчас никому не отправлено.") || !strings.Contains(page, "1 организация пропущена: ей писали меньше суток назад.") {
		t.Errorf("pressed again the page says:\n%s", page)
	}
	if got := r.surveys.take(); len(got) != 0 {
		t.Errorf("pressed again, told %q", got)
	}

	// The school's answers, confirmed: nobody is left to remind.
	r.clock.Advance(time.Hour)
	r.answer(storage.SurveyRun{ID: runID}, "school", true, map[string]string{"named": "yes", "budget": "4.5", "note": "Стенд в холле"})
	want(t, b.get(run), http.StatusOK, "1 из 1 организации", "ответила 02.03.2026 22:00")
	if strings.Contains(b.get(run).Body.String(), "Напомнить сейчас") {
		t.Error("remind now is offered with nobody waiting")
	}
	want(t, b.get(run+"?show=waiting"), http.StatusOK, "Таких организаций нет.")
	if !strings.Contains(remind(), "Все организации уже ответили — напоминать некому.") {
		t.Error("a remind with nobody waiting does not say so")
	}
	want(t, b.get(fmt.Sprintf("%s/orgs/%d", run, r.org("school").ID)), http.StatusOK, "Ответы организации «Школа № 5»",
		"ответы подтверждены 02.03.2026 22:00", "Назначен ли информационный работник?", "Да", "4,5", "Стенд в холле")
	if got, w := r.auditRecords(auditSurveyRemind), slicesOf(3, "edu survey_run:"+strconv.FormatInt(runID, 10)); !reflect.DeepEqual(got, w) {
		t.Errorf("remind audited %q, want %q", got, w)
	}
	if got, w := r.auditRecords(auditSurveyRun), slicesOf(1, "edu survey_run:"+strconv.FormatInt(runID, 10)); !reflect.DeepEqual(got, w) {
		t.Errorf("run now audited %q, want %q", got, w)
	}

	// Past the deadline (and the session's end), remind now says it is
	// too late.
	r.clock.Advance(11 * 24 * time.Hour)
	b.signIn(eduChair)
	if !strings.Contains(remind(), "Опрос закрыт: напоминать поздно") {
		t.Error("a remind past the deadline does not say it is closed")
	}
	want(t, b.get(run), http.StatusOK, "закрыт")
}

func slicesOf(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestSurveysRefuseSiblingsPrimariesAndForgedForms(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduChair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleInfoworker)
	runID := r.runSurvey(eduChair, "edu").ID
	run := fmt.Sprintf("/surveys/runs/%d", runID)
	edu, health, school := r.org("edu").ID, r.org("health").ID, r.org("school").ID
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	h := r.browser("192.0.2.2")
	h.signIn(r.person("Врачев Олег", "health", storage.RoleChair))
	token := h.csrf()
	for _, tt := range []struct {
		name string
		do   func() int
	}{
		{"the run", func() int { return h.get(run).Code }},
		{"the run from their org", func() int { return h.get(run + "?org=" + id(health)).Code }},
		{"the run from edu", func() int { return h.get(run + "?org=" + id(edu)).Code }},
		{"the school's answers", func() int { return h.get(fmt.Sprintf("%s/orgs/%d", run, school)).Code }},
		{"edu's runs", func() int { return h.get("/surveys/check?org=" + id(edu)).Code }},
		{"remind from their org", func() int {
			return h.post(run+"/remind", url.Values{"org": {id(health)}, "csrf": {token}}).Code
		}},
		{"remind from edu", func() int { return h.post(run+"/remind", url.Values{"org": {id(edu)}, "csrf": {token}}).Code }},
		{"run now over edu", func() int { return h.post("/surveys/check/run", url.Values{"org": {id(edu)}, "csrf": {token}}).Code }},
	} {
		if code := tt.do(); code != http.StatusForbidden {
			t.Errorf("a sibling's chair, %s: %d, want 403", tt.name, code)
		}
	}
	if got := r.surveys.take(); len(got) != 0 {
		t.Errorf("refused reminders told %q", got)
	}

	// A primary answers in the bot: no desk, no runs to follow.
	p := r.browser("192.0.2.3")
	p.signIn(r.person("Школьная Вера", "school", storage.RoleChair))
	want(t, p.get("/surveys"), http.StatusOK, "Ваша организация отвечает на опросы в боте")
	want(t, p.get("/surveys/check"), http.StatusForbidden)
	want(t, p.get(run), http.StatusForbidden)
	want(t, p.post("/surveys/check/run", url.Values{"org": {id(school)}, "csrf": {p.csrf()}}), http.StatusForbidden)

	// A change without the session's token is refused; junk is not found.
	b := r.browser("192.0.2.1")
	b.signIn(eduChair)
	want(t, b.post(run+"/remind", url.Values{"org": {id(edu)}}), http.StatusForbidden, "Форма устарела")
	want(t, b.post("/surveys/check/run", url.Values{"org": {id(edu)}, "csrf": {"forged"}}), http.StatusForbidden)
	want(t, b.post("/surveys/nope/run", url.Values{"org": {id(edu)}, "csrf": {b.csrf()}}), http.StatusNotFound)
	want(t, b.get("/surveys/nope"), http.StatusNotFound)
	want(t, b.get("/surveys/runs/99999"), http.StatusNotFound)
	want(t, b.get("/surveys/runs/abc"), http.StatusNotFound)
	want(t, b.get(fmt.Sprintf("%s/orgs/%d", run, edu)), http.StatusNotFound) // not asked
	if got := append(r.auditRecords(auditSurveyRun), r.auditRecords(auditSurveyRemind)...); len(got) != 0 {
		t.Errorf("refused changes were recorded: %q", got)
	}
}
