package console

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

func TestTheAuditLogShowsEachReaderTheirSubtree(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	admin := r.person("Смирнов Олег", "union", storage.RoleAdmin)
	info := r.person("Сидорова Анна", "edu", storage.RoleInfoworker)
	record := func(person int64, action, org, ip string) {
		t.Helper()
		var orgID int64
		if org != "" {
			orgID = r.org(org).ID
		}
		r.clock.Advance(time.Minute)
		if err := r.db.AddAudit(r.ctx, storage.AuditEntry{At: r.clock.Now(), PersonID: person, Action: action, OrgID: orgID,
			Record: "thing:" + action, IP: "198.51.100.7"}); err != nil {
			t.Fatal(err)
		}
	}
	record(chair.PersonID, "approve", "school", "198.51.100.7")
	record(admin.PersonID, "import", "health", "198.51.100.8")
	record(0, "signin_link", "", "")
	record(info.PersonID, "news_send", "edu", "198.51.100.9")

	b := r.browser("192.0.2.1")
	b.signIn(chair)
	w := b.get("/audit")
	want(t, w, http.StatusOK, "Журнал действий", "Иванова Анна", "thing:approve", "Школа № 5", "Сидорова Анна", "news_send")
	for _, hidden := range []string{"import", "Здравоохранение", "signin_link", "198.51.100", "Адрес"} {
		if strings.Contains(w.Body.String(), hidden) {
			t.Errorf("the chair of a branch is shown %q:\n%s", hidden, w.Body)
		}
	}
	// Filters: by action, by person.
	w = b.get("/audit?org=edu&action=approve")
	want(t, w, http.StatusOK, "thing:approve")
	if strings.Contains(w.Body.String(), "news_send") {
		t.Errorf("the action filter let another action through:\n%s", w.Body)
	}
	w = b.get(fmt.Sprintf("/audit?org=edu&person=%d", info.PersonID))
	want(t, w, http.StatusOK, "Только действия: Сидорова Анна.", "news_send")
	if strings.Contains(w.Body.String(), "thing:approve") {
		t.Errorf("the person filter let another person through:\n%s", w.Body)
	}
	// Below their org is theirs; beside or above it is not; junk is refused.
	want(t, b.get("/audit?org=school"), http.StatusOK, "thing:approve")
	want(t, b.get("/audit?org=health"), http.StatusForbidden, "нет прав")
	want(t, b.get("/audit?org=union"), http.StatusForbidden, "нет прав")
	want(t, b.get("/audit?org=nowhere"), http.StatusNotFound)
	want(t, b.get("/audit?before=abc"), http.StatusBadRequest, "Адрес страницы искажён")

	// The Union's staff read everything, the server's own entries and the
	// addresses included.
	a := r.browser("192.0.2.2")
	a.signIn(admin)
	want(t, a.get("/audit"), http.StatusOK, "import", "Здравоохранение", "signin_link", "сервер", "198.51.100.7", "Адрес")

	// An information worker has no audit log, and no link to one.
	i := r.browser("192.0.2.3")
	i.signIn(info)
	want(t, i.get("/audit"), http.StatusForbidden)
	if strings.Contains(i.get("/").Body.String(), `href="/audit"`) {
		t.Error("an information worker is offered the audit log")
	}
}

func TestTheAuditLogPages(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	for i := range auditPageSize + 5 {
		r.clock.Advance(time.Second)
		if err := r.db.AddAudit(r.ctx, storage.AuditEntry{At: r.clock.Now(), PersonID: chair.PersonID, Action: "approve",
			OrgID: r.org("school").ID, Record: fmt.Sprintf("membership:%d", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	first := b.get("/audit?org=edu").Body.String()
	// The sign-in wrote no entry under edu (it is on no organisation): the
	// newest page holds the last 50 approvals.
	if !strings.Contains(first, fmt.Sprintf("membership:%d<", auditPageSize+5)) || strings.Contains(first, "membership:5<") {
		t.Fatalf("the first page:\n%s", first)
	}
	j := strings.Index(first, `" rel="next"`)
	if j < 0 {
		t.Fatalf("no link to older entries:\n%s", first)
	}
	i := strings.LastIndex(first[:j], `href="`)
	next := strings.ReplaceAll(first[i+len(`href="`):j], "&amp;", "&")
	second := b.get(next)
	want(t, second, http.StatusOK, "membership:5<", "membership:1<")
	if strings.Contains(second.Body.String(), "membership:6<") || strings.Contains(second.Body.String(), `rel="next"`) {
		t.Errorf("the last page:\n%s", second.Body)
	}
}
