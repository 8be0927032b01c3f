package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// newsNotes records what news told people, as a messenger would show it.
type newsNotes struct {
	mu        sync.Mutex
	decided   []news.Decision
	suggested []news.SuggestionOffer
}

func (n *newsNotes) OfferRelay(context.Context, storage.Contact, news.RelayOffer) (bool, error) {
	return true, nil
}
func (n *newsNotes) RelayNoted(int64, int64, string) {}
func (n *newsNotes) OfferSuggestion(_ context.Context, _ storage.Contact, o news.SuggestionOffer) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.suggested = append(n.suggested, o)
	return true, nil
}
func (n *newsNotes) SuggestionDecided(_ context.Context, d news.Decision) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.decided = append(n.decided, d)
	return true, nil
}
func (n *newsNotes) ShowProgress(context.Context, news.Progress) error { return nil }
func (n *newsNotes) BroadcastFailed(context.Context, storage.Broadcast) (bool, error) {
	return true, nil
}

func (n *newsNotes) ActionNotice(context.Context, news.ActionNote) (bool, error) { return true, nil }

func (n *newsNotes) decisions() []news.Decision {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]news.Decision(nil), n.decided...)
}

// composeForm is the composer's form for a draft from org, with the
// audience fingerprint the composer shows for it.
func (b *browser) composeForm(org storage.Org, text string, more url.Values) url.Values {
	b.r.t.Helper()
	f := url.Values{"csrf": {b.csrf()}, "org": {strconv.FormatInt(org.ID, 10)}, "text": {text}}
	for k, v := range more {
		f[k] = v
	}
	// The count the author saw: the composer counts the same fields.
	q := url.Values{}
	for _, k := range []string{"org", "orgs", "roles", "where", "mode", "public"} {
		if v, ok := f[k]; ok {
			q[k] = v
		}
	}
	w := b.get("/news/count?" + q.Encode())
	if w.Code == http.StatusOK {
		m := regexp.MustCompile(`"counted":"([^"]+)"`).FindStringSubmatch(w.Body.String())
		f.Set("counted", m[1])
	}
	return f
}

// broadcasts lists what org has sent, newest first.
func (r *rig) broadcasts(org string) []storage.Broadcast {
	r.t.Helper()
	bs, err := r.db.Broadcasts(r.ctx, r.org(org).ID, 100)
	if err != nil {
		r.t.Fatal(err)
	}
	return bs
}

// idFrom reads the broadcast's number from a redirect to its page.
func idFrom(t *testing.T, w interface{ Header() http.Header }, code int) int64 {
	t.Helper()
	loc := w.Header().Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/news/"), 10, 64)
	if code != http.StatusSeeOther || err != nil {
		t.Fatalf("not sent to a broadcast's page: %d %q", code, loc)
	}
	return id
}

// deliver does the engine's work: every queued delivery of the rig is sent.
func (r *rig) deliver() {
	r.t.Helper()
	now := r.clock.Now()
	rows, err := r.db.ClaimDeliveries(r.ctx, "test", 1000, now, now.Add(time.Minute))
	if err != nil {
		r.t.Fatal(err)
	}
	var results []storage.DeliveryResult
	for _, d := range rows {
		results = append(results, storage.DeliveryResult{ID: d.ID, Status: storage.DeliverySent, MessageID: "m" + strconv.FormatInt(d.ID, 10)})
	}
	if err := r.db.CompleteDeliveries(r.ctx, "test", results, now); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.db.FinishBroadcasts(r.ctx, now); err != nil {
		r.t.Fatal(err)
	}
}

func TestNewsComposerCountsPreviewsAndSends(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	r.person("Сидорова Юлия", "school", storage.RoleActivist)
	r.person("Врачев Олег", "health", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu, school := r.org("edu"), r.org("school")

	// The composer opens on the whole subtree, counted as the bot counts.
	want(t, b.get("/news"), http.StatusOK, "Новость организации «Образование»", "Получат 2 человека.", "Вам самим рассылка не придёт",
		`name="orgs" value="`+strconv.FormatInt(school.ID, 10)+`"`, "Рассылок ещё не было.")
	tests := []struct {
		name  string
		more  url.Values
		count string
	}{
		{"activists only", url.Values{"roles": {"activists"}}, "Получит 1 человек."},
		{"leaders only", url.Values{"roles": {"leaders"}}, "Получат 0 человек."},
		{"chats only", url.Values{"where": {"chats"}}, "Получат 0 человек."},
		{"the school", url.Values{"orgs": {strconv.FormatInt(school.ID, 10)}}, "Получат 2 человека."},
	}
	for _, tt := range tests {
		f := b.composeForm(edu, "<b>Собрание</b> в пятницу &amp; <i>субботу</i>", tt.more)
		f.Set("action", "preview")
		w := b.post("/news", f)
		want(t, w, http.StatusOK, tt.count, "<strong>Собрание</strong> в пятницу &amp; <em>субботу</em>")
	}
	if n := len(r.broadcasts("edu")); n != 0 {
		t.Fatalf("previews created %d broadcasts", n)
	}

	f := b.composeForm(edu, "  <b>Собрание</b> в пятницу\r\n<a href=\"https://union.example/x\">повестка</a>  ", url.Values{"mode": {"relay"}})
	f.Set("action", "send")
	w := b.post("/news", f)
	id := idFrom(t, w, w.Code)
	sent := r.broadcasts("edu")
	if len(sent) != 1 || sent[0].ID != id || sent[0].Text != "Собрание в пятницу\nповестка" || sent[0].Mode != storage.ModeRelay ||
		len(sent[0].Format) != 2 || sent[0].Format[0] != (storage.Span{Kind: storage.SpanBold, Offset: 0, Length: 8}) ||
		sent[0].Format[1] != (storage.Span{Kind: storage.SpanLink, Offset: 19, Length: 8, URL: "https://union.example/x"}) {
		t.Fatalf("sent %+v", sent)
	}
	page := b.get("/news/" + strconv.FormatInt(id, 10))
	want(t, page, http.StatusOK, "Рассылка № "+strconv.FormatInt(id, 10), "отправляется", "0 %", `data-refresh="2"`, `href="/news/`+strconv.FormatInt(id, 10)+`"`,
		`action="/news/`+strconv.FormatInt(id, 10)+`/stop"`, `<a href="https://union.example/x" rel="noopener noreferrer nofollow">повестка</a>`)
	r.deliver()
	want(t, b.get("/news/"+strconv.FormatInt(id, 10)), http.StatusOK, "100 %", "завершена", "Школа № 5", "Как быстро уровни передавали новость")
	if strings.Contains(b.get("/news/"+strconv.FormatInt(id, 10)).Body.String(), "data-refresh") {
		t.Error("a finished broadcast's page still refreshes")
	}
	want(t, b.get("/news"), http.StatusOK, `<a href="/news/`+strconv.FormatInt(id, 10)+`">`, "завершена")
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{PersonID: chair.PersonID, Limit: 10})
	if err != nil || entries[0].Action != auditNewsSend || entries[0].Record != "broadcast:"+strconv.FormatInt(id, 10) || entries[0].OrgID != edu.ID {
		t.Errorf("audit %+v %v", entries, err)
	}
}

func TestNewsComposerSendsPublicNewsToSupporters(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	r.person("Сторонников Иван", "school", storage.RoleSupporter)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	want(t, b.get("/news"), http.StatusOK, "Получит 1 человек.", `name="public" value="1">`, "Открытая новость")
	f := b.composeForm(edu, "Приходите на день открытых дверей", url.Values{"public": {"1"}})
	f.Set("action", "preview")
	want(t, b.post("/news", f), http.StatusOK, "Получат 2 человека.", `name="public" value="1" checked>`)
	// A count seen for members only does not send to supporters.
	stale := b.composeForm(edu, "Приходите", nil)
	stale.Set("public", "1")
	stale.Set("action", "send")
	b.post("/news", stale)
	if n := len(r.broadcasts("edu")); n != 0 {
		t.Fatalf("a public item was sent on a members-only count: %d broadcasts", n)
	}
	f.Set("action", "send")
	w := b.post("/news", f)
	idFrom(t, w, w.Code)
	sent := r.broadcasts("edu")
	if len(sent) != 1 || !sent[0].Audience.Public {
		t.Fatalf("sent %+v, want one public item", sent)
	}
}

func TestNewsBadInputCreatesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	past := r.clock.Now().Add(-time.Hour).In(zoneOf(edu)).Format(atLayout)
	far := r.clock.Now().AddDate(2, 0, 0).In(zoneOf(edu)).Format(atLayout)
	soon := r.clock.Now().Add(48 * time.Hour).In(zoneOf(edu)).Format(atLayout)
	tests := []struct {
		name   string
		text   string
		more   url.Values
		status int
		says   string
	}{
		{"empty", "   \r\n ", nil, http.StatusUnprocessableEntity, "Пустой ответ"},
		{"only tags", "<b> </b>", nil, http.StatusUnprocessableEntity, "Пустой ответ"},
		{"too long", strings.Repeat("я", news.MaxText+1), nil, http.StatusUnprocessableEntity, "Слишком длинно: не больше 3500 символов"},
		{"too long in UTF-16", strings.Repeat("📣", news.MaxText/2+1), nil, http.StatusUnprocessableEntity, "Слишком длинно"},
		{"a bidi override", "Собрание \u202eяинарбоС", nil, http.StatusUnprocessableEntity, "служебные символы"},
		{"a control character", "Собрание\x07", nil, http.StatusUnprocessableEntity, "служебные символы"},
		{"broken UTF-8", "Собрание \xff", nil, http.StatusUnprocessableEntity, "Не удалось прочитать текст"},
		{"unclosed tag", "<b>Собрание", nil, http.StatusUnprocessableEntity, "Тег &lt;b&gt; не закрыт"},
		{"crossed tags", "<b><i>Собрание</b></i>", nil, http.StatusUnprocessableEntity, "закрывает не тот тег"},
		{"a script link", `<a href="javascript:alert(1)">тут</a>`, nil, http.StatusUnprocessableEntity, "не годится"},
		{"a link without address", `<a>тут</a>`, nil, http.StatusUnprocessableEntity, "не годится"},
		{"another branch's org", "Собрание", url.Values{"orgs": {strconv.FormatInt(r.org("health").ID, 10)}}, http.StatusUnprocessableEntity, "Такого выбора получателей нет"},
		{"the union above", "Собрание", url.Values{"orgs": {strconv.FormatInt(r.org("union").ID, 10)}}, http.StatusUnprocessableEntity, "Такого выбора получателей нет"},
		{"unknown roles", "Собрание", url.Values{"roles": {"chairs"}}, http.StatusUnprocessableEntity, "Такого выбора получателей нет"},
		{"a past time", "Собрание", url.Values{"at": {past}, "action": {"schedule"}}, http.StatusUnprocessableEntity, "Время не подходит"},
		{"two years away", "Собрание", url.Values{"at": {far}, "action": {"schedule"}}, http.StatusUnprocessableEntity, "Время не подходит"},
		{"no time", "Собрание", url.Values{"at": {"завтра"}, "action": {"schedule"}}, http.StatusUnprocessableEntity, "Время не подходит"},
		{"an unknown kind of action", "Собрание", actionForm("party", "Собрание", soon, "зал"), http.StatusUnprocessableEntity, "Форма заполнена неверно"},
		{"an action without a title", "Собрание", actionForm("meeting", " ", soon, "зал"), http.StatusUnprocessableEntity, "Название должно быть непустым"},
		{"an action in the past", "Собрание", actionForm("meeting", "Собрание", past, "зал"), http.StatusUnprocessableEntity, "Укажите дату и время акции"},
		{"an action two years away", "Собрание", actionForm("meeting", "Собрание", far, "зал"), http.StatusUnprocessableEntity, "Укажите дату и время акции"},
		{"an action without a time", "Собрание", actionForm("meeting", "Собрание", "", "зал"), http.StatusUnprocessableEntity, "Укажите дату и время акции"},
		{"a meeting without a place", "Собрание", actionForm("meeting", "Собрание", soon, ""), http.StatusUnprocessableEntity, "Место должно быть непустым"},
		{"an online action without a link", "Собрание", actionForm("online", "Эфир", soon, "в интернете"), http.StatusUnprocessableEntity, "Это не ссылка"},
		{"a petition with a script link", "Собрание", actionForm("signature", "Петиция", soon, "javascript:alert(1)"), http.StatusUnprocessableEntity, "Это не ссылка"},
		{"an action that overflows the message", strings.Repeat("я", news.MaxText-100), actionForm("meeting", "Собрание", soon, "Актовый зал школы"),
			http.StatusUnprocessableEntity, "не поместится в одно сообщение"},
		{"an action before the item goes", "Собрание", func() url.Values {
			v := actionForm("meeting", "Собрание", soon, "зал")
			v.Set("at", r.clock.Now().Add(72*time.Hour).In(zoneOf(edu)).Format(atLayout))
			v.Set("action", "schedule")
			return v
		}(), http.StatusUnprocessableEntity, "Время акции уже прошло или наступит раньше отправки"},
	}
	for _, tt := range tests {
		// A person's pace: the session's rate limit stays out of the way.
		r.clock.Advance(time.Second)
		t.Run(tt.name, func(t *testing.T) {
			f := b.composeForm(edu, tt.text, tt.more)
			if f.Get("action") == "" {
				f.Set("action", "send")
			}
			if f.Get("counted") == "" {
				f.Set("counted", "whatever")
			}
			want(t, b.post("/news", f), tt.status, tt.says)
		})
	}
	// A form over the bound is told as such, not as a stale form.
	f := b.composeForm(edu, strings.Repeat("я", newsMaxBody/6+1), nil) // six bytes each, percent-encoded
	f.Set("action", "send")
	want(t, b.post("/news", f), http.StatusRequestEntityTooLarge, "Слишком большая форма")
	// The audience changed after it was counted: counted anew, not sent.
	f = b.composeForm(edu, "Собрание", nil)
	f.Set("roles", "activists")
	f.Set("action", "send")
	want(t, b.post("/news", f), http.StatusConflict, "Получатели изменились", "Получат 0 человек.")
	// Another organisation as the sender.
	f = b.composeForm(edu, "Собрание", nil)
	f.Set("org", strconv.FormatInt(r.org("health").ID, 10))
	f.Set("action", "send")
	want(t, b.post("/news", f), http.StatusForbidden, "нет прав")
	want(t, b.get("/news?org="+strconv.FormatInt(r.org("health").ID, 10)), http.StatusForbidden)
	want(t, b.get("/news?org=school"), http.StatusNotFound)
	for _, org := range []string{"edu", "health", "union", "school"} {
		if n := len(r.broadcasts(org)); n != 0 {
			t.Errorf("%s sent %d broadcasts", org, n)
		}
	}
}

func TestNewsScheduleAndStop(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	at := time.Date(2026, 3, 3, 9, 30, 0, 0, zoneOf(edu))
	f := b.composeForm(edu, "Собрание завтра", url.Values{"at": {at.Format(atLayout)}})
	f.Set("action", "schedule")
	w := b.post("/news", f)
	id := idFrom(t, w, w.Code)
	path := "/news/" + strconv.FormatInt(id, 10)
	bc, err := r.db.Broadcast(r.ctx, id)
	if err != nil || bc.Status != storage.BroadcastScheduled || bc.ScheduledAt == nil || !bc.ScheduledAt.Equal(at) {
		t.Fatalf("scheduled %+v %v, want at %v", bc, err, at)
	}
	want(t, b.get(path), http.StatusOK, "запланирована", "Начнётся 03.03.2026 09:30 (Asia/Sakhalin).", "Получит 1 человек.", `data-refresh="10"`)
	tests := []struct {
		name     string
		location string
		status   storage.BroadcastStatus
		page     string
	}{
		{"stop a scheduled broadcast", path + "?stopped=0", storage.BroadcastCancelled, "остановлена: 0 сообщений не будут отправлены"},
		{"stop it again", path + "?over=1", storage.BroadcastCancelled, "уже завершена"},
	}
	for _, tt := range tests {
		w := b.post(path+"/stop", url.Values{"csrf": {b.csrf()}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tt.location {
			t.Fatalf("%s: %d to %q", tt.name, w.Code, w.Header().Get("Location"))
		}
		if bc, _ := r.db.Broadcast(r.ctx, id); bc.Status != tt.status {
			t.Errorf("%s: status %s", tt.name, bc.Status)
		}
		want(t, b.get(tt.location), http.StatusOK, tt.page)
	}
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{PersonID: chair.PersonID, Limit: 10})
	if err != nil || entries[0].Action != auditNewsStop || entries[1].Action != auditNewsSchedule {
		t.Errorf("audit %+v %v", entries, err)
	}
}

func TestNewsPagesKeepToTheirSubtree(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	if _, err := r.db.ImportOrgs(r.ctx, []storage.OrgInput{{Code: "gym", Name: "Гимназия № 1", ParentCode: "edu", Level: storage.LevelPrimary}}, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	school := r.person("Школьная Анна", "school", storage.RoleChair)
	gym := r.person("Гимназическая Вера", "gym", storage.RoleChair)
	branch := r.person("Обкомова Ева", "edu", storage.RoleInfoworker)
	r.person("Петров Пётр", "school", storage.RoleMember)
	author := r.browser("192.0.2.1")
	author.signIn(school)
	f := author.composeForm(r.org("school"), "Собрание в школе", nil)
	f.Set("action", "send")
	w := author.post("/news", f)
	id := idFrom(t, w, w.Code)
	path := "/news/" + strconv.FormatInt(id, 10)
	sibling := r.browser("192.0.2.2")
	sibling.signIn(gym)
	above := r.browser("192.0.2.3")
	above.signIn(branch)
	out := r.browser("192.0.2.4")
	tests := []struct {
		name   string
		w      func() *http.Response
		status int
	}{
		{"the sibling primary opens it", func() *http.Response { return sibling.get(path).Result() }, http.StatusForbidden},
		{"the sibling primary stops it", func() *http.Response {
			return sibling.post(path+"/stop", url.Values{"csrf": {sibling.csrf()}}).Result()
		}, http.StatusForbidden},
		{"the sibling sends from the school", func() *http.Response {
			f := sibling.composeForm(r.org("school"), "Чужое", nil)
			f.Set("action", "send")
			return sibling.post("/news", f).Result()
		}, http.StatusForbidden},
		{"the branch above opens it", func() *http.Response { return above.get(path).Result() }, http.StatusOK},
		{"no such broadcast", func() *http.Response { return sibling.get("/news/999999").Result() }, http.StatusNotFound},
		{"not a number", func() *http.Response { return sibling.get("/news/abc").Result() }, http.StatusNotFound},
		{"without a session", func() *http.Response { return out.get(path).Result() }, http.StatusSeeOther},
		{"a change without a session", func() *http.Response { return out.post(path+"/stop", url.Values{}).Result() }, http.StatusUnauthorized},
		{"a stop without its token", func() *http.Response { return author.post(path+"/stop", url.Values{}).Result() }, http.StatusForbidden},
		{"a stop from another site", func() *http.Response {
			return author.post(path+"/stop", url.Values{"csrf": {author.csrf()}}, "Sec-Fetch-Site", "cross-site").Result()
		}, http.StatusForbidden},
		{"a send from another site", func() *http.Response {
			f := author.composeForm(r.org("school"), "Чужое", nil)
			f.Set("action", "send")
			return author.post("/news", f, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site").Result()
		}, http.StatusForbidden},
	}
	for _, tt := range tests {
		if got := tt.w().StatusCode; got != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.status)
		}
	}
	if bc, _ := r.db.Broadcast(r.ctx, id); bc.Status != storage.BroadcastSending {
		t.Errorf("the broadcast is %s after the refused stops", bc.Status)
	}
	if n := len(r.broadcasts("school")); n != 1 {
		t.Errorf("the school has %d broadcasts, want the author's one", n)
	}
	// A chair who lost the role is signed out of /news.
	r.endMemberships(school.PersonID)
	if w := author.get("/news"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/signin") {
		t.Errorf("a former chair opens /news: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// actionForm is the composer's action fields.
func actionForm(kind, title, at, place string) url.Values {
	return url.Values{"action_kind": {kind}, "action_title": {title}, "action_at": {at}, "action_place": {place}}
}

func TestNewsWithAnActionShowsItsAnswers(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	member := r.person("Петров Пётр", "school", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	want(t, b.get("/news"), http.StatusOK, `name="action_kind"`, "Без акции", "Очная (собрание, митинг)", "Дата и время акции (Asia/Sakhalin)")
	when := time.Date(2026, 12, 25, 18, 0, 0, 0, zoneOf(edu))
	if !when.After(r.clock.Now()) {
		when = r.clock.Now().Add(72 * time.Hour).In(zoneOf(edu)).Truncate(time.Hour)
	}
	// A preview keeps the action as typed.
	f := b.composeForm(edu, "Приходите на собрание", actionForm("meeting", "Собрание коллектива", when.Format(atLayout), "Актовый зал"))
	f.Set("action", "preview")
	want(t, b.post("/news", f), http.StatusOK, `value="Собрание коллектива"`, `value="`+when.Format(atLayout)+`"`, `value="Актовый зал"`,
		`<option value="meeting" selected>`)
	f.Set("action", "send")
	w := b.post("/news", f)
	id := idFrom(t, w, w.Code)
	sent := r.broadcasts("edu")
	if len(sent) != 1 || sent[0].Action == nil || *sent[0].Action != (storage.Action{Kind: storage.ActionMeeting, Title: "Собрание коллектива",
		At: when.UTC(), Place: "Актовый зал"}) {
		t.Fatalf("sent %+v", sent)
	}
	r.deliver()
	page := "/news/" + strconv.FormatInt(id, 10)
	want(t, b.get(page), http.StatusOK, "Акция «Собрание коллектива»", when.Format("02.01.2006 15:04")+" · Актовый зал",
		"<dt>Участвуют</dt><dd>0</dd>", "<dt>Были</dt><dd>0</dd>")
	if _, err := r.console.cfg.News.AnswerAction(r.ctx, member.PersonID, id, storage.AnswerYes); err != nil {
		t.Fatal(err)
	}
	want(t, b.get(page), http.StatusOK, "<dt>Участвуют</dt><dd>1</dd>", "<dt>Не смогут</dt><dd>0</dd>")
}
