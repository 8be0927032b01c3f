package console

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/sheet/sheettest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// checkSurvey is the rig's survey: the primaries answer three questions,
// two of them feeding the programme's norms.
const checkSurvey = `id: check
title: {ru: Проверка, en: Check}
questions:
  - {id: named, type: yes_no, required: true, indicator: infoworker, text: {ru: "Назначен ли информационный работник?", en: "Is an information worker named?"}}
  - {id: budget, type: number, min: 0, indicator: budget_share, text: {ru: "Доля бюджета на информработу, %", en: "Share of the budget, %"}}
  - {id: note, type: text, max_len: 100, text: {ru: "Комментарий", en: "Comment"}}
schedules:
  - {name: yearly, cron: "0 10 15 1 *", levels: [primary], roles: [infoworker, chair], deadline: 10d, reminders: [2d], results: [chair]}
`

func testSurvey(t *testing.T) surveys.Survey {
	t.Helper()
	sv, err := surveys.Parse("check.yaml", []byte(checkSurvey))
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// surveyNotes records whom monitoring invited or reminded, as
// "org notice-number"; people in deaf are not reached.
type surveyNotes struct {
	mu   sync.Mutex
	sent []string
	deaf map[int64]bool
}

func (n *surveyNotes) InviteToSurvey(_ context.Context, to storage.Contact, s monitoring.SurveyNotice) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, s.Org.Code+" "+strconv.Itoa(s.N))
	return !n.deaf[to.Person.ID], nil
}

func (n *surveyNotes) TellSurveyClosed(context.Context, storage.Contact, monitoring.SurveyClosed) (bool, error) {
	return true, nil
}

func (n *surveyNotes) AskBoard(context.Context, storage.Contact, monitoring.BoardQuestion) (bool, error) {
	return true, nil
}

func (n *surveyNotes) SendContactBase(context.Context, storage.Contact, monitoring.ContactBaseFile) (bool, error) {
	return true, nil
}

func (n *surveyNotes) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.sent
	n.sent = nil
	return out
}

// runSurvey starts the rig's survey over org's subtree, as by does.
func (r *rig) runSurvey(by access.Actor, org string) storage.SurveyRun {
	r.t.Helper()
	st, err := r.console.cfg.Monitoring.RunNow(r.ctx, by, "check", r.org(org).ID)
	if err != nil || !st.New {
		r.t.Fatalf("run the survey over %s: %+v, %v", org, st, err)
	}
	return st.Run
}

// answer saves org's answers to run and, if confirm, confirms them.
func (r *rig) answer(run storage.SurveyRun, org string, confirm bool, answers map[string]string) {
	r.t.Helper()
	for q, v := range answers {
		if err := r.db.SaveSurveyAnswer(r.ctx, storage.SurveyAnswer{RunID: run.ID, OrgID: r.org(org).ID, QuestionID: q, Value: v, At: r.clock.Now()}); err != nil {
			r.t.Fatal(err)
		}
	}
	if confirm {
		if _, err := r.db.SubmitSurvey(r.ctx, run.ID, r.org(org).ID, 0, r.clock.Now()); err != nil {
			r.t.Fatal(err)
		}
	}
}

// auditRecords lists the audit log's entries of action, as "org record".
func (r *rig) auditRecords(action string) []string {
	r.t.Helper()
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{Action: action, Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		code := ""
		if e.OrgID != 0 {
			o, err := r.db.Org(r.ctx, e.OrgID)
			if err != nil {
				r.t.Fatal(err)
			}
			code = o.Code
		}
		out = append(out, code+" "+e.Record)
	}
	return out
}

// noBody fails unless a page shows none of parts.
func noBody(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(body, p) {
			t.Errorf("the page shows %q:\n%s", p, body)
		}
	}
}

func TestTheMonitoringReportShowsEachReaderTheirSubtree(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduChair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleInfoworker)
	run := r.runSurvey(eduChair, "edu")
	r.answer(run, "school", true, map[string]string{"named": "yes", "budget": "4"})

	b := r.browser("192.0.2.1")
	b.signIn(eduChair)
	want(t, b.get("/"), http.StatusOK, `href="/monitoring"`, `href="/surveys"`)
	w := b.get("/monitoring")
	want(t, w, http.StatusOK, "Мониторинг: «Образование», 2026", "Ответили 1 из 1 опрошенной организации (100 %); в 2025 здесь не опрашивали.",
		"Школа № 5", "Назначен информационный работник", "100 %", "(1 из 1)", "✓", "✗", "4 / 5", "в 2025 не опрашивалась",
		`src="/monitoring/norms.png?org=edu&amp;period=2026"`, `src="/monitoring/orgs.png?org=edu&amp;page=1&amp;period=2026"`,
		`href="/monitoring.xlsx?org=edu&amp;period=2026"`, `href="/contacts.xlsx?org=edu"`, `alt="Диаграмма: доля опрошенных организаций`)
	noBody(t, w.Body.String(), "Здравоохранение", "Союз</option>")

	// With last year's answers, the trend: the school met no norm then.
	before := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	old, _, err := r.db.OpenSurveyRun(r.ctx, storage.SurveyRun{SurveyID: "check", Job: "last-year", FiredFor: before, OrgID: r.org("edu").ID,
		Roles: []storage.Role{storage.RoleChair}, OpenedAt: before, Deadline: before.AddDate(1, 0, 0), Status: storage.RunOpen},
		[]int64{r.org("school").ID})
	if err != nil {
		t.Fatal(err)
	}
	r.answer(old, "school", true, map[string]string{"named": "no"})
	want(t, b.get("/monitoring"), http.StatusOK, "Ответили 1 из 1 опрошенной организации (100 %); в 2025 — 100 %.",
		"▲ на 100 п. п.", "<td data-label=\"Нормативов: 2025 → сейчас\">0 → 1</td>")

	// The charts draw the same report.
	for _, path := range []string{"/monitoring/norms.png?org=edu&period=2026", "/monitoring/orgs.png?org=edu&period=2026&page=1"} {
		w := b.get(path)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s\n%s", path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		if _, err := png.Decode(bytes.NewReader(w.Body.Bytes())); err != nil {
			t.Errorf("%s is no PNG: %v", path, err)
		}
	}

	// Below their org is theirs; beside or above it is not; a period that
	// is none is refused.
	want(t, b.get("/monitoring?org=school&period=2026-03"), http.StatusOK, "Мониторинг: «Школа № 5», 2026-03", "Школа № 5")
	want(t, b.get("/monitoring?org=edu&year=2026&month=03"), http.StatusOK, "«Образование», 2026-03")
	for _, path := range []string{"/monitoring?org=health", "/monitoring?org=union", "/monitoring/norms.png?org=health",
		"/monitoring/orgs.png?org=union", "/monitoring.csv?org=health", "/monitoring.xlsx?org=union"} {
		want(t, b.get(path), http.StatusForbidden, "нет прав")
	}
	want(t, b.get("/monitoring?org=nowhere"), http.StatusNotFound)
	want(t, b.get("/monitoring?period=26"), http.StatusBadRequest, "Такого периода нет")
	if got := r.auditRecords(auditMonitoringExport); len(got) != 0 {
		t.Errorf("refused downloads were recorded: %q", got)
	}

	// A sibling's chair reads their own subtree, where nobody was asked.
	h := r.browser("192.0.2.2")
	h.signIn(r.person("Врачев Олег", "health", storage.RoleChair))
	w = h.get("/monitoring")
	want(t, w, http.StatusOK, "«Здравоохранение», 2026", "никого не опрашивали")
	noBody(t, w.Body.String(), "Школа № 5", "<img")
	want(t, h.get("/monitoring/orgs.png"), http.StatusNotFound)

	// The Union's staff start at the root and choose any organisation.
	a := r.browser("192.0.2.3")
	a.signIn(r.person("Смирнов Олег", "union", storage.RoleAdmin))
	want(t, a.get("/monitoring"), http.StatusOK, "«Союз», 2026", "Школа № 5", `<option value="health">`, `<option value="edu">`)

	// Without a session, or once the person holds no staff role, nothing.
	r.endMemberships(eduChair.PersonID)
	if w := b.get("/monitoring.csv?org=edu"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/signin") {
		t.Errorf("a chair no more downloads: %d %s", w.Code, w.Header().Get("Location"))
	}
}

func TestTheMonitoringDownloadsAreTheReportAndAudited(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduIW := r.person("Иванова Анна", "edu", storage.RoleInfoworker)
	r.person("Петров Пётр", "school", storage.RoleChair)
	run := r.runSurvey(eduIW, "edu")
	r.answer(run, "school", true, map[string]string{"named": "no", "budget": "7.5"})
	b := r.browser("192.0.2.1")
	b.signIn(eduIW)

	w := b.get("/monitoring.csv?org=edu&period=2026")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		w.Header().Get("Content-Disposition") != `attachment; filename=monitoring-edu-2026.csv` {
		t.Fatalf("csv: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Header().Get("Content-Disposition"))
	}
	rows := sheettest.ReadExcelCSV(t, w.Body.String())
	// The file carries what the hub observed too, as the command line's.
	if !reflect.DeepEqual(rows[0], append(monitoring.TableHeader(), monitoring.ObservedHeader()...)) || len(rows) != 2 || rows[1][0] != "school" {
		t.Fatalf("csv rows %q", rows)
	}
	byColumn := map[string]string{}
	for i, h := range rows[0] {
		byColumn[h] = rows[1][i]
	}
	if byColumn["infoworker_result"] != "fail" || byColumn["budget_share_value"] != "7.5" || byColumn["budget_share_result"] != "pass" ||
		byColumn["answered"] != "true" || byColumn["reach_percent"] != "" || byColumn["maturity_infoworker_in_bot_percent"] != "0.0" {
		t.Errorf("school's row %v", byColumn)
	}

	w = b.get("/monitoring.xlsx?org=edu&period=2026")
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Disposition"), "monitoring-edu-2026.xlsx") ||
		w.Header().Get("Content-Type") != fileTypes["xlsx"] {
		t.Fatalf("xlsx: %d %q", w.Code, w.Header().Get("Content-Disposition"))
	}
	if cells := sheettest.ReadXLSX(t, w.Body.Bytes()); !reflect.DeepEqual(cells, rows) {
		t.Errorf("the workbook holds\n%q\nnot the CSV's\n%q", cells, rows)
	}
	if got, w := r.auditRecords(auditMonitoringExport), []string{"edu xlsx:2026", "edu csv:2026"}; !reflect.DeepEqual(got, w) {
		t.Errorf("audited %q, want %q", got, w)
	}
}

func TestTheContactBaseGoesOnlyWhereThePolicyLetsIt(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduIW := r.person("Иванова Анна", "edu", storage.RoleInfoworker)
	r.person("Петров Пётр", "school", storage.RoleChair)
	r.person("Сидоров Иван", "school", storage.RoleMember)
	r.person("Врачев Олег", "health", storage.RoleChair)
	b := r.browser("192.0.2.1")
	b.signIn(eduIW)

	w := b.get("/contacts.xlsx?org=edu")
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Disposition"), "contacts-edu.xlsx") {
		t.Fatalf("contacts: %d %q\n%s", w.Code, w.Header().Get("Content-Disposition"), w.Body)
	}
	cells := sheettest.ReadXLSX(t, w.Body.Bytes())
	if !reflect.DeepEqual(cells[0], monitoring.ContactHeader) {
		t.Fatalf("header %q", cells[0])
	}
	var names []string
	for _, row := range cells[1:] {
		names = append(names, row[4])
	}
	if !reflect.DeepEqual(names, []string{"Иванова Анна", "Петров Пётр"}) {
		t.Errorf("edu's contact base names %q: the activists and leaders of its subtree, no member, nobody beside", names)
	}
	csv := sheettest.ReadExcelCSV(t, b.get("/contacts.csv?org=school").Body.String())
	if len(csv) != 2 || csv[1][4] != "Петров Пётр" {
		t.Errorf("the school's contact base %q", csv)
	}

	// Sideways, upwards, by name only: refused, and nothing recorded.
	want(t, b.get("/contacts.csv?org=health"), http.StatusForbidden, "нет прав")
	want(t, b.get("/contacts.xlsx?org=union"), http.StatusForbidden, "нет прав")
	want(t, b.get("/contacts.csv?org=nowhere"), http.StatusNotFound)
	want(t, b.get("/contacts.csv"), http.StatusBadRequest)
	if got, w := r.auditRecords(auditContactsExport), []string{"school csv:school", "edu xlsx:edu"}; !reflect.DeepEqual(got, w) {
		t.Errorf("audited %q, want %q", got, w)
	}
}

func TestTargetsAreSetByTheChairAndAudited(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduChair := r.person("Иванова Анна", "edu", storage.RoleChair)
	eduIW := r.person("Сидорова Анна", "edu", storage.RoleInfoworker)
	run := r.runSurvey(eduChair, "edu")
	r.answer(run, "school", true, map[string]string{"named": "yes", "budget": "4"})
	b := r.browser("192.0.2.1")
	b.signIn(eduChair)
	want(t, b.get("/monitoring/targets?org=edu&period=2026"), http.StatusOK, "Целевые значения: «Образование», 2026",
		"минимум программы", `name="norm" value="budget_share"`, `id="target-budget_share"`)

	set := func(b *browser, org, norm, value string, more ...string) *httptest.ResponseRecorder {
		t.Helper()
		f := url.Values{"org": {org}, "period": {"2026"}, "norm": {norm}, "value": {value}, "csrf": {b.csrf()}}
		for i := 0; i+1 < len(more); i += 2 {
			f.Set(more[i], more[i+1])
		}
		return b.post("/monitoring/targets", f)
	}
	w := set(b, "edu", surveys.NormBudget, "3,5")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/monitoring/targets?done=set&org=edu&period=2026" {
		t.Fatalf("set: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	want(t, b.get(w.Header().Get("Location")), http.StatusOK, "Целевое значение сохранено", "цель этой организации", `value="3,5"`)
	// The report judges by it at once, the school below too.
	want(t, b.get("/monitoring?org=edu&period=2026"), http.StatusOK, "4 / 3,5")
	want(t, b.get("/monitoring/targets?org=school&period=2026"), http.StatusOK, "цель организации «Образование»")
	want(t, b.get("/monitoring/targets?org=edu&period=2026"), http.StatusOK, "Ни у одной организации ниже нет своих целей")
	if w := set(b, "school", surveys.NormBudget, "6"); w.Code != http.StatusSeeOther {
		t.Fatalf("set the school's: %d\n%s", w.Code, w.Body)
	}
	want(t, b.get("/monitoring/targets?org=edu&period=2026"), http.StatusOK, "Свои цели организаций ниже", "Школа № 5")
	// An observed indicator has no default: not set, until the chair sets one.
	want(t, b.get("/monitoring/targets?org=edu&period=2026"), http.StatusOK, `name="norm" value="reach_percent"`, "охват рассылок (доставлено из адресатов)", "не задана")
	if w := set(b, "edu", "reach_percent", "80"); w.Code != http.StatusSeeOther {
		t.Fatalf("set edu's reach target: %d\n%s", w.Code, w.Body)
	}
	want(t, b.get("/monitoring/targets?org=edu&period=2026"), http.StatusOK, `id="target-reach_percent" name="value" value="80"`)

	// Refused: a value that is none (the page says so), a norm that is
	// none, no token, an organisation beside or above, an information
	// worker.
	want(t, set(b, "edu", surveys.NormBudget, "много"), http.StatusUnprocessableEntity, "«много» — не число от 0")
	want(t, set(b, "edu", "happiness", "1"), http.StatusBadRequest)
	want(t, set(b, "edu", surveys.NormBudget, "1", "csrf", "forged"), http.StatusForbidden)
	want(t, set(b, "health", surveys.NormBudget, "1"), http.StatusForbidden, "нет прав")
	want(t, set(b, "union", surveys.NormBudget, "1"), http.StatusForbidden, "нет прав")
	i := r.browser("192.0.2.2")
	i.signIn(eduIW)
	w2 := i.get("/monitoring/targets?org=edu&period=2026")
	want(t, w2, http.StatusOK, "цель этой организации")
	noBody(t, w2.Body.String(), `name="value"`)
	want(t, set(i, "edu", surveys.NormBudget, "1"), http.StatusForbidden)
	want(t, i.get("/monitoring/targets?org=health&period=2026"), http.StatusForbidden)

	if got, w := r.auditRecords(auditTargetSet), []string{"edu target:2026:reach_percent", "school target:2026:budget_share", "edu target:2026:budget_share"}; !reflect.DeepEqual(got, w) {
		t.Errorf("audited %q, want %q", got, w)
	}
	ts, err := r.db.Targets(r.ctx, "2026")
	if err != nil || len(ts) != 3 || ts[0].Value+ts[1].Value+ts[2].Value != 89.5 {
		t.Errorf("targets stored %+v, %v; want 3.5, 80 and 6", ts, err)
	}
}

// TestShownReportsAreKeptForTheirChartsAMinute: a chart draws the report
// its page was drawn from, of the same person, organisation and period,
// for a minute; at most shownAtMost are kept.
func TestShownReportsAreKeptForTheirChartsAMinute(t *testing.T) {
	t.Parallel()
	s := &shownReports{byKey: map[shownKey]shownReport{}}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	k := shownKey{person: 1, org: 2, period: "2026"}
	s.put(k, monitoring.Report{Org: "edu"}, now)
	for _, tt := range []struct {
		name string
		key  shownKey
		at   time.Time
		want bool
	}{
		{"its chart", k, now.Add(30 * time.Second), true},
		{"another person", shownKey{person: 9, org: 2, period: "2026"}, now, false},
		{"another org", shownKey{person: 1, org: 3, period: "2026"}, now, false},
		{"another period", shownKey{person: 1, org: 2, period: "2026-03"}, now, false},
		{"a minute on", k, now.Add(time.Minute), false},
	} {
		if r, ok := s.get(tt.key, tt.at); ok != tt.want || (ok && r.Org != "edu") {
			t.Errorf("%s: %+v, %v; want %v", tt.name, r, ok, tt.want)
		}
	}
	for i := range 2 * shownAtMost {
		s.put(shownKey{person: int64(i)}, monitoring.Report{}, now)
	}
	if len(s.byKey) > shownAtMost {
		t.Errorf("%d reports kept, want at most %d", len(s.byKey), shownAtMost)
	}
}

func TestTheMonitoringReportShowsWhatTheHubObservedOnceCounted(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	eduChair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleInfoworker)
	b := r.browser("192.0.2.1")
	b.signIn(eduChair)
	// The first visit asks for the count and says so; it comes in the
	// background, and a reload shows it.
	want(t, b.get("/monitoring"), http.StatusOK, "Что видит сам хаб — 2026 и 2025", "обновите страницу через несколько секунд")
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := b.get("/monitoring")
		if strings.Contains(w.Body.String(), `id="observed-at"`) {
			want(t, w, http.StatusOK, "По состоянию на ", "охват членов каналами союза", "цифровая зрелость, из 100",
				// No news went out: their reach is no data in both years.
				"<th scope=\"row\">охват рассылок (доставлено из адресатов)</th>\n        <td data-label=\"2026\"><strong>нет данных</strong></td>\n        <td data-label=\"2025\">нет данных</td>")
			noBody(t, w.Body.String(), "обновите страницу через несколько секунд")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no observed indicators after 10 s:\n%s", w.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
