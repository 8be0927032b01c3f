package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// suggest sends an item up from a member of org, as the bot's /suggest does.
func (r *rig) suggest(org, text string, kind storage.SuggestionKind) int64 {
	r.t.Helper()
	member := r.person("Автор "+text, org, storage.RoleMember)
	sent, err := r.console.cfg.News.Submit(r.ctx, member, news.Suggestion{FromOrgID: r.org(org).ID, Kind: kind, Text: text})
	if err != nil {
		r.t.Fatal(err)
	}
	return sent.Suggestion.ID
}

func (r *rig) suggestion(id int64) storage.Suggestion {
	r.t.Helper()
	sg, err := r.db.Suggestion(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return sg
}

func TestSuggestionsAreListedToThoseWhoDecideThem(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	branch := r.browser("192.0.2.1")
	branch.signIn(r.person("Обкомова Ева", "edu", storage.RoleChair))
	call := r.suggest("school", "Нас лишают премий <всех>", storage.SuggestCall)
	item := r.suggest("school", "Учитель года", storage.SuggestNews)
	sibling := r.browser("192.0.2.2")
	sibling.signIn(r.person("Врачева Вера", "health", storage.RoleChair))
	below := r.browser("192.0.2.3")
	below.signIn(r.person("Школьная Анна", "school", storage.RoleChair))
	card := "/suggestions/" + strconv.FormatInt(call, 10)
	tests := []struct {
		name   string
		b      *browser
		path   string
		status int
		says   []string
	}{
		{"the branch's list", branch, "/suggestions", http.StatusOK, []string{"Ждут решения 2 предложения", "призыв к поддержке", "Школа № 5", "Образование",
			`href="/suggestions/` + strconv.FormatInt(item, 10) + `"`, "Нас лишают премий &lt;всех&gt;"}},
		{"the branch's card", branch, card, http.StatusOK, []string{"Предложение № " + strconv.FormatInt(call, 10), "Автор Нас лишают премий",
			"«Солидарность»", `action="` + card + `/publish"`, `action="` + card + `/up"`, `action="` + card + `/decline"`, `name="csrf"`}},
		{"a sibling branch's list", sibling, "/suggestions", http.StatusOK, []string{"Предложений, ждущих решения, нет."}},
		{"a sibling branch's card", sibling, card, http.StatusForbidden, nil},
		{"the primary it came from", below, card, http.StatusForbidden, nil},
		{"no such suggestion", branch, "/suggestions/999999", http.StatusNotFound, nil},
		{"not a number", branch, "/suggestions/x", http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		want(t, tt.b.get(tt.path), tt.status, tt.says...)
	}
	refused := []struct {
		name string
		b    *browser
		path string
		form url.Values
	}{
		{"a sibling publishes", sibling, card + "/publish", url.Values{"csrf": {sibling.csrf()}}},
		{"a sibling declines", sibling, card + "/decline", url.Values{"csrf": {sibling.csrf()}, "reason": {"Нет"}}},
		{"the primary passes it up", below, card + "/up", url.Values{"csrf": {below.csrf()}}},
	}
	for _, tt := range refused {
		want(t, tt.b.post(tt.path, tt.form), http.StatusForbidden)
	}
	if w := branch.post(card+"/publish", url.Values{"csrf": {branch.csrf()}}, "Sec-Fetch-Site", "cross-site"); w.Code != http.StatusForbidden {
		t.Errorf("a cross-site publish: %d", w.Code)
	}
	if w := branch.post(card+"/publish", url.Values{}); w.Code != http.StatusForbidden {
		t.Errorf("a publish without its token: %d", w.Code)
	}
	if sg := r.suggestion(call); sg.Status != storage.SuggestionPending {
		t.Errorf("refused decisions changed it: %+v", sg)
	}
}

func TestSuggestionDecisionsTellTheAuthor(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Обкомова Ева", "edu", storage.RoleChair)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	declined := r.suggest("school", "Про столовую", storage.SuggestNews)
	published := r.suggest("school", "Учитель года", storage.SuggestNews)
	passed := r.suggest("school", "Забастовка", storage.SuggestCall)
	path := func(id int64, action string) string {
		return "/suggestions/" + strconv.FormatInt(id, 10) + "/" + action
	}

	// A reason the bot would refuse is refused here too, and kept to fix.
	bad := []struct{ reason, says string }{
		{"  ", "Пустой ответ"},
		{strings.Repeat("я", news.MaxReason+1), "Слишком длинно: не больше 500 символов"},
		{"Нет \u202eтен", "служебные символы"},
	}
	for _, tt := range bad {
		want(t, b.post(path(declined, "decline"), url.Values{"csrf": {b.csrf()}, "reason": {tt.reason}}), http.StatusUnprocessableEntity, tt.says)
	}
	if sg := r.suggestion(declined); sg.Status != storage.SuggestionPending {
		t.Fatalf("a refused reason declined it: %+v", sg)
	}
	// Nobody above is in the bot: it stays.
	want(t, b.post(path(passed, "up"), url.Values{"csrf": {b.csrf()}}), http.StatusConflict, "Выше пока никто не подключён")
	union := r.person("Союзная Инна", "union", storage.RoleInfoworker)

	tests := []struct {
		name, action string
		id           int64
		form         url.Values
		location     string
		page         string
		status       storage.SuggestionStatus
		at           int64
	}{
		{"decline", "decline", declined, url.Values{"reason": {"Это не новость для всей отрасли"}}, "/suggestions?done=declined&id=" + strconv.FormatInt(declined, 10),
			"отклонён, автор получил ваш ответ", storage.SuggestionDeclined, edu.ID},
		{"publish", "publish", published, nil, "/suggestions?done=published&id=" + strconv.FormatInt(published, 10) + "&broadcast=",
			"опубликован: рассылка №", storage.SuggestionPublished, edu.ID},
		{"pass up", "up", passed, nil, "/suggestions?done=passed&id=" + strconv.FormatInt(passed, 10), "передан выше", storage.SuggestionPending, r.org("union").ID},
	}
	for _, tt := range tests {
		form := url.Values{"csrf": {b.csrf()}}
		for k, v := range tt.form {
			form[k] = v
		}
		w := b.post(path(tt.id, tt.action), form)
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), tt.location) {
			t.Fatalf("%s: %d to %q\n%s", tt.name, w.Code, w.Header().Get("Location"), w.Body)
		}
		want(t, b.get(w.Header().Get("Location")), http.StatusOK, tt.page)
		if sg := r.suggestion(tt.id); sg.Status != tt.status || sg.AtOrgID != tt.at {
			t.Errorf("%s: %+v", tt.name, sg)
		}
		// Once decided or gone, a second decision is refused with the bot's words.
		want(t, b.post(path(tt.id, "decline"), url.Values{"csrf": {b.csrf()}, "reason": {"Ещё раз"}}), map[bool]int{true: http.StatusForbidden, false: http.StatusConflict}[tt.action == "up"])
	}
	decisions := r.news.decisions()
	if len(decisions) != 2 || decisions[0].Published || decisions[0].Reason != "Это не новость для всей отрасли" || !decisions[1].Published || decisions[1].At.ID != edu.ID {
		t.Errorf("the authors were told %+v", decisions)
	}
	pub := r.suggestion(published)
	bc, err := r.db.Broadcast(r.ctx, pub.BroadcastID)
	if err != nil || bc.OrgID != edu.ID || bc.FromOrgID != r.org("school").ID || bc.Text != "Учитель года" {
		t.Errorf("the published broadcast %+v %v", bc, err)
	}
	want(t, b.get("/news/"+strconv.FormatInt(bc.ID, 10)), http.StatusOK, "Рассылка № "+strconv.FormatInt(bc.ID, 10))
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{PersonID: chair.PersonID, Limit: 10})
	if err != nil || len(entries) < 4 || entries[0].Action != auditSuggestionUp || entries[1].Action != auditSuggestionPublish || entries[2].Action != auditSuggestionDecline ||
		entries[2].Record != "suggestion:"+strconv.FormatInt(declined, 10) {
		t.Errorf("audit %+v %v", entries, err)
	}
	// At the top, there is nowhere to pass it.
	top := r.browser("192.0.2.2")
	top.signIn(union)
	card := top.get("/suggestions/" + strconv.FormatInt(passed, 10))
	want(t, card, http.StatusOK, "Забастовка")
	if strings.Contains(card.Body.String(), "/up\"") {
		t.Error("the top level is offered to pass it up")
	}
	want(t, top.post(path(passed, "up"), url.Values{"csrf": {top.csrf()}}), http.StatusConflict, "Выше передавать некому")
}
