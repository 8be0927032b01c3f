package console

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
)

func TestASignInLinkIsSpentByThePostOnly(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "school", storage.RoleChair)
	link := r.link(chair)
	// Messengers' preview bots and the person's browser GET the link: it
	// shows whom it signs in and spends nothing.
	preview := r.browser("203.0.113.9")
	for range 3 {
		w := preview.get(link)
		want(t, w, http.StatusOK, "Войти как Иванова Анна", `method="post" action="`+link+`"`)
		if len(w.Result().Cookies()) != 0 {
			t.Fatalf("a GET set cookies: %v", w.Result().Cookies())
		}
	}
	b := r.browser("192.0.2.1")
	w := b.post(link, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" || b.cookies["unionhub_session"] == nil {
		t.Fatalf("sign-in: %d, to %q, cookies %v", w.Code, w.Header().Get("Location"), b.cookies)
	}
	want(t, b.get("/"), http.StatusOK, "Здравствуйте, Иванова Анна!", "председатель", "Школа № 5")
	// Used: neither a second POST nor a GET works, whoever sends it.
	for _, try := range []*browser{r.browser("192.0.2.1"), preview} {
		want(t, try.post(link, nil), http.StatusGone, "уже вошли")
		want(t, try.get(link), http.StatusGone, "уже вошли")
	}
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{PersonID: chair.PersonID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != signin.AuditSignIn || entries[0].IP != "192.0.2.1" {
		t.Errorf("audit %+v, want the link and one sign-in from 192.0.2.1", entries)
	}
}

func TestExpiredAndUnknownLinksAreRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "school", storage.RoleChair)
	late := r.link(chair)
	r.clock.Advance(signin.LinkTTL)
	b := r.browser("192.0.2.1")
	tests := []struct {
		name, path string
		status     int
		text       string
	}{
		{"expired", late, http.StatusGone, "Срок этой ссылки истёк"},
		{"unknown", signin.LinkPath + strings.Repeat("A", 43), http.StatusNotFound, "Такой ссылки для входа нет"},
		{"malformed", signin.LinkPath + "nonsense", http.StatusNotFound, "Такой ссылки для входа нет"},
	}
	for _, tt := range tests {
		want(t, b.get(tt.path), tt.status, tt.text)
		want(t, b.post(tt.path, nil), tt.status, tt.text)
	}
	if len(b.cookies) != 0 {
		t.Errorf("a refused link gave cookies: %v", b.cookies)
	}
}

func TestAMemberCannotSignInOrOpenPages(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	if _, err := r.signIn.Issue(r.ctx, r.person("Петров Пётр", "school", storage.RoleMember)); err == nil {
		t.Fatal("a member was given a link")
	}
	// A link of a chair who is a member only by the time it is used.
	chair := r.person("Иванова Анна", "school", storage.RoleChair)
	link := r.link(chair)
	r.endMemberships(chair.PersonID)
	b := r.browser("192.0.2.1")
	want(t, b.get(link), http.StatusForbidden, "такой роли нет")
	want(t, b.post(link, nil), http.StatusForbidden, "такой роли нет")
	// Without a session every page sends to the sign-in page, and a change
	// is refused.
	if w := b.get("/"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin" {
		t.Errorf("home without a session: %d to %q", w.Code, w.Header().Get("Location"))
	}
	want(t, b.post("/signout", nil), http.StatusUnauthorized, "Сеанс закончился")
	want(t, b.get("/signin"), http.StatusOK, "/console", "unionhub console link --admin")
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		publicURL, name string
		secure          bool
	}{
		{"http://console.test", "unionhub_session", false},
		{"https://hub.example.org", "__Host-unionhub_session", true},
	}
	for _, tt := range tests {
		r := newRig(t, func(o *rigOption) { o.publicURL = tt.publicURL })
		b := r.browser("192.0.2.1")
		w := b.post(r.link(r.person("Иванова Анна", "school", storage.RoleChair)), nil)
		var got *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == tt.name {
				got = c
			}
		}
		if got == nil {
			t.Fatalf("%s: no cookie %s in %v", tt.publicURL, tt.name, w.Result().Cookies())
		}
		end := r.clock.Now().Add(signin.MaxAge)
		if !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Secure != tt.secure || got.Path != "/" || got.Domain != "" ||
			got.MaxAge != int(signin.MaxAge.Seconds()) || !got.Expires.Equal(end.Truncate(time.Second)) || len(got.Value) != 43 {
			t.Errorf("%s: cookie %+v", tt.publicURL, got)
		}
		if hsts := w.Header().Get("Strict-Transport-Security"); (hsts != "") != tt.secure {
			t.Errorf("%s: Strict-Transport-Security %q", tt.publicURL, hsts)
		}
		// The cookie holds the session's secret, which the store never keeps.
		if _, err := r.db.SessionState(r.ctx, got.Value); err == nil {
			t.Errorf("%s: the session is stored under its secret", tt.publicURL)
		}
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "school", storage.RoleChair)
	in := r.browser("192.0.2.1")
	in.signIn(chair)
	out := r.browser("192.0.2.2")
	link := r.link(chair)
	tests := []struct {
		name   string
		do     func() *http.Response
		status int
	}{
		{"home", func() *http.Response { return in.get("/").Result() }, http.StatusOK},
		{"home signed out", func() *http.Response { return out.get("/").Result() }, http.StatusSeeOther},
		{"sign-in help", func() *http.Response { return out.get("/signin").Result() }, http.StatusOK},
		{"link preview", func() *http.Response { return out.get(link).Result() }, http.StatusOK},
		{"stylesheet", func() *http.Response { return out.get("/assets/unionhub.css").Result() }, http.StatusOK},
		{"script", func() *http.Response { return out.get("/assets/unionhub.js").Result() }, http.StatusOK},
		{"no such page", func() *http.Response { return in.get("/no/such/page").Result() }, http.StatusNotFound},
		{"no such asset", func() *http.Response { return out.get("/assets/evil.js").Result() }, http.StatusNotFound},
		{"change without token", func() *http.Response { return in.post("/signout", nil).Result() }, http.StatusForbidden},
		{"cross-site change", func() *http.Response {
			return in.post("/signout", url.Values{"csrf": {in.csrf()}}, "Sec-Fetch-Site", "cross-site").Result()
		}, http.StatusForbidden},
		{"language switch", func() *http.Response { return out.get("/signin?lang=en").Result() }, http.StatusSeeOther},
	}
	for _, tt := range tests {
		resp := tt.do()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		for h, v := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.name, h, got, v)
			}
		}
		if cc := resp.Header.Get("Cache-Control"); resp.Header.Get("Content-Type") == "text/html; charset=utf-8" && cc != "no-store" {
			t.Errorf("%s: a page with Cache-Control %q", tt.name, cc)
		}
	}
	// Pages carry no inline script: every script is a file of the console.
	body := in.get("/").Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "onclick") || !strings.Contains(body, `<script src="/assets/unionhub.js?v=`) {
		t.Errorf("inline script on the home page, or none of the console's:\n%s", body)
	}
}

func TestChangesNeedTheirTokenAndTheirSite(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b := r.browser("192.0.2.1")
	b.signIn(r.person("Иванова Анна", "school", storage.RoleChair))
	token := b.csrf()
	tests := []struct {
		name    string
		form    url.Values
		headers []string
		text    string
	}{
		{"no token", url.Values{}, nil, "Форма устарела"},
		{"a wrong token", url.Values{"csrf": {strings.Repeat("x", 43)}}, nil, "Форма устарела"},
		{"another session's token", url.Values{"csrf": {csrfToken(strings.Repeat("B", 43))}}, nil, "Форма устарела"},
		{"from another site (Sec-Fetch-Site)", url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}, "с другого сайта"},
		{"from another site (Origin)", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}, "с другого сайта"},
	}
	for _, tt := range tests {
		want(t, b.post("/signout", tt.form, tt.headers...), http.StatusForbidden, tt.text)
		want(t, b.get("/"), http.StatusOK, "Иванова Анна") // still signed in
	}
	// The console's own form, from its own page, goes through.
	w := b.post("/signout", url.Values{"csrf": {token}}, "Sec-Fetch-Site", "same-origin", "Origin", "http://console.test")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?ended=signed_out" {
		t.Fatalf("sign-out: %d to %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	// Another site cannot sign a browser in either (into its own session).
	link := r.link(r.person("Злоумышленник", "edu", storage.RoleInfoworker))
	victim := r.browser("192.0.2.3")
	want(t, victim.post(link, nil, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "с другого сайта")
	if len(victim.cookies) != 0 {
		t.Errorf("a cross-site sign-in set %v", victim.cookies)
	}
	want(t, victim.get(link), http.StatusOK, "Войти как Злоумышленник") // not spent
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	t.Run("sign-in links per address", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		b := r.browser("198.51.100.1")
		guess := func(i int) string { return signin.LinkPath + strings.Repeat("A", 40) + strconv.Itoa(100+i) }
		for i := range rateSignInIP.Burst {
			want(t, b.get(guess(i)), http.StatusNotFound)
		}
		w := b.post(guess(99), nil)
		want(t, w, http.StatusTooManyRequests, "Слишком много запросов")
		if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
		}
		// Another address is not held back, and time lets this one in again.
		want(t, r.browser("198.51.100.2").get(guess(0)), http.StatusNotFound)
		r.clock.Advance(time.Minute)
		want(t, b.get(guess(0)), http.StatusNotFound)
	})
	t.Run("one sign-in link from many addresses", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		link := r.link(r.person("Иванова Анна", "school", storage.RoleChair))
		for i := range rateSignInToken.Burst {
			want(t, r.browser("198.51.100."+strconv.Itoa(10+i)).get(link), http.StatusOK)
		}
		want(t, r.browser("198.51.100.99").post(link, nil), http.StatusTooManyRequests)
		if l, err := r.signIn.Preview(r.ctx, strings.TrimPrefix(link, signin.LinkPath)); err != nil {
			t.Errorf("the refused POST touched the link: %+v, %v", l, err)
		}
	})
	t.Run("every request per address", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		b := r.browser("198.51.100.1")
		for range rateIP.Burst {
			want(t, b.get("/assets/unionhub.css"), http.StatusOK)
		}
		want(t, b.get("/signin"), http.StatusTooManyRequests)
		want(t, r.browser("198.51.100.2").get("/signin"), http.StatusOK)
	})
	t.Run("short links per address, apart and wider", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		b := r.browser("198.51.100.1")
		for range rateIP.Burst {
			want(t, b.get("/assets/unionhub.css"), http.StatusOK)
		}
		want(t, b.get("/signin"), http.StatusTooManyRequests)
		// Members behind one carrier address open news links all at once.
		for range rateLinkIP.Burst {
			want(t, b.get("/l/0.0.forged"), http.StatusNotFound)
		}
		want(t, b.get("/l/0.0.forged"), http.StatusTooManyRequests)
	})
	t.Run("every request per session", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		b := r.browser("198.51.100.1")
		b.signIn(r.person("Иванова Анна", "school", storage.RoleChair))
		for range rateSession.Burst {
			want(t, b.get("/"), http.StatusOK)
		}
		want(t, b.get("/"), http.StatusTooManyRequests)
		// The same person in another browser has a session of their own.
		other := r.browser("198.51.100.1")
		other.signIn(r.person("Сидорова Анна", "edu", storage.RoleInfoworker))
		want(t, other.get("/"), http.StatusOK)
	})
}

func TestASessionEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		end    func(r *rig, b *browser, chair access.Actor)
		reason string
		text   string
	}{
		{"on sign-out", func(r *rig, b *browser, _ access.Actor) {
			b.post("/signout", url.Values{"csrf": {b.csrf()}})
		}, signin.EndSignedOut, "Вы вышли из пульта"},
		{"on erasure (/forget)", func(r *rig, _ *browser, chair access.Actor) {
			if err := r.db.Forget(r.ctx, chair.PersonID, r.clock.Now()); err != nil {
				r.t.Fatal(err)
			}
		}, signin.EndErased, "ваши данные удалены"},
		{"on losing the role", func(r *rig, _ *browser, chair access.Actor) { r.endMemberships(chair.PersonID) },
			signin.EndRoleLost, "больше нет роли"},
		{"when idle", func(r *rig, _ *browser, _ access.Actor) { r.clock.Advance(signin.IdleTimeout) },
			signin.EndIdle, "долго не пользовались"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			chair := r.person("Иванова Анна", "school", storage.RoleChair)
			b := r.browser("192.0.2.1")
			b.signIn(chair)
			secret := b.cookies["unionhub_session"].Value
			want(t, b.get("/"), http.StatusOK)
			tt.end(r, b, chair)
			// The very next request with the session's cookie is refused,
			// says why, and the browser forgets the cookie.
			kept := r.browser("192.0.2.1")
			kept.cookies["unionhub_session"] = &http.Cookie{Name: "unionhub_session", Value: secret}
			w := kept.get("/")
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?ended="+tt.reason {
				t.Fatalf("after the end: %d to %q", w.Code, w.Header().Get("Location"))
			}
			if kept.cookies["unionhub_session"] != nil {
				t.Error("the browser keeps the ended session's cookie")
			}
			want(t, kept.get("/signin?ended="+tt.reason), http.StatusOK, tt.text)
			if w := b.get("/"); w.Code != http.StatusSeeOther {
				t.Errorf("the browser is still in: %d", w.Code)
			}
		})
	}
}

func TestTheFirstStartSignsInTheUnionsStaff(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *rigOption) {
		o.noTree = true
		o.groups = append(o.groups, testPages)
	})
	l, err := r.signIn.AdminLink(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := r.browser("192.0.2.1")
	want(t, b.get(signin.LinkPath+l.Token), http.StatusOK, "Войти как Аппарат Союза")
	b.post(signin.LinkPath+l.Token, nil)
	home := b.get("/")
	want(t, home, http.StatusOK, "Загрузите структуру Союза", `action="/orgs/import/preview"`, `action="/orgs/import/example"`)
	if strings.Contains(home.Body.String(), "/test/publish") {
		t.Error("a setup session is shown pages beyond loading the tree")
	}
	want(t, b.get("/test/publish"), http.StatusForbidden, "может только загрузить")
	want(t, b.get("/test/anyone"), http.StatusForbidden, "может только загрузить")

	r.importTree()
	want(t, b.get("/"), http.StatusOK, "сотрудник аппарата Союза", "Союз", `href="/test/publish"`)
	want(t, b.get("/test/publish"), http.StatusOK, "publish page")
}

// testPages stand for the page groups to come: one page any staff may
// open, one that needs a right information workers lack.
func testPages(c *Console) pageGroup {
	page := func(text string) func(w http.ResponseWriter, rq *Request) error {
		return func(w http.ResponseWriter, _ *Request) error {
			_, err := w.Write([]byte(text))
			return err
		}
	}
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /test/anyone", Handle: page("anyone page")},
			{Pattern: "GET /test/publish", Need: access.ActPublish, Handle: page("publish page")},
			{Pattern: "GET /test/responders", Need: access.ActNameResponders, Handle: page("responders page")},
			{Pattern: "POST /test/change", Need: access.ActPublish, Handle: func(w http.ResponseWriter, rq *Request) error {
				org := rq.Session.Actor.Orgs(access.ActPublish)[0]
				if err := rq.Audit("test_change", org.ID, "thing:1"); err != nil {
					return err
				}
				redirect(w, rq, "/test/publish")
				return nil
			}},
		},
		Nav: []NavItem{
			{Path: "/test/publish", Key: "console.nav_home", Need: access.ActPublish},
			{Path: "/test/responders", Key: "console.nav_home", Need: access.ActNameResponders},
		},
	}
}

func TestNavigationAndRoutesFollowTheRoles(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *rigOption) { o.groups = append(o.groups, testPages) })
	chair := r.browser("192.0.2.1")
	chair.signIn(r.person("Иванова Анна", "school", storage.RoleChair))
	info := r.browser("192.0.2.2")
	info.signIn(r.person("Сидорова Анна", "edu", storage.RoleInfoworker))

	home := chair.get("/").Body.String()
	if !strings.Contains(home, `href="/test/publish"`) || !strings.Contains(home, `href="/test/responders"`) {
		t.Errorf("the chair's navigation lacks their pages:\n%s", home)
	}
	want(t, chair.get("/test/responders"), http.StatusOK, "responders page")
	home = info.get("/").Body.String()
	if !strings.Contains(home, `href="/test/publish"`) || strings.Contains(home, "/test/responders") {
		t.Errorf("the information worker's navigation:\n%s", home)
	}
	want(t, info.get("/test/responders"), http.StatusForbidden, "нет прав")
	want(t, info.get("/test/anyone"), http.StatusOK, "anyone page")

	// A change: its token, then the audit log names who, where, what, whence.
	want(t, info.post("/test/change", nil), http.StatusForbidden, "Форма устарела")
	if w := info.post("/test/change", url.Values{"csrf": {info.csrf()}}); w.Code != http.StatusSeeOther {
		t.Fatalf("the change: %d\n%s", w.Code, w.Body)
	}
	edu := r.org("edu")
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{Under: &edu, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != "test_change" || entries[0].Record != "thing:1" || entries[0].IP != "192.0.2.2" ||
		entries[0].PersonID == 0 || !entries[0].At.Equal(r.clock.Now()) {
		t.Errorf("audit %+v, want the one change", entries)
	}
}

func TestTheHomePageCountsWhatWaits(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Заявитель Первый", "school", "")
	r.person("Заявитель Второй", "school", "")
	r.person("Чужой Заявитель", "health", "")
	member := r.person("Петров Пётр", "school", storage.RoleMember)
	now := r.clock.Now()
	if _, err := r.db.CreateTicket(r.ctx, storage.Ticket{PersonID: member.PersonID, OrgID: r.org("school").ID, LevelOrgID: r.org("school").ID,
		Topic: "wages", Status: storage.TicketOpen, CreatedAt: now, DueAt: now.Add(time.Hour)},
		storage.TicketMessage{AuthorID: member.PersonID, FromMember: true, Text: "?", At: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.CreateSuggestion(r.ctx, storage.Suggestion{AuthorID: member.PersonID, FromOrgID: r.org("school").ID,
		AtOrgID: r.org("edu").ID, Kind: storage.SuggestNews, Text: "news", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	want(t, b.get("/"), http.StatusOK, "председатель</strong> — Образование",
		"2 заявки на вступление ждут подтверждения", "1 открытый вопрос горячей линии",
		"1 предложение снизу ждёт решения", "ВКонтакте выключен: задайте VK_TOKEN")
	// An information worker answers no questions: that count is not theirs.
	info := r.browser("192.0.2.2")
	info.signIn(r.person("Сидорова Анна", "health", storage.RoleInfoworker))
	w := info.get("/")
	want(t, w, http.StatusOK, "1 заявка на вступление", "0 предложений")
	if strings.Contains(w.Body.String(), "горячей линии") {
		t.Errorf("an information worker is shown the questions:\n%s", w.Body)
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b := r.browser("192.0.2.1")
	want(t, b.get("/signin"), http.StatusOK, `<html lang="ru">`, "Вход в пульт", `href="/signin?lang=en"`)
	w := b.get("/signin?ended=signed_out&lang=en")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?ended=signed_out" || b.cookies[langCookie].Value != "en" {
		t.Fatalf("the switch: %d to %q, cookies %v", w.Code, w.Header().Get("Location"), b.cookies)
	}
	want(t, b.get("/signin?ended=signed_out"), http.StatusOK, `<html lang="en">`, "You signed out of the console", `href="/signin?ended=signed_out&amp;lang=ru"`)
	// Without a choice in the browser, a person's language from the bot.
	en := r.person("Anna Smith", "school", storage.RoleChair)
	if _, err := r.db.UpdateProfile(r.ctx, en.PersonID, storage.ProfilePatch{Locale: ptr("en")}); err != nil {
		t.Fatal(err)
	}
	fresh := r.browser("192.0.2.2")
	fresh.signIn(en)
	want(t, fresh.get("/"), http.StatusOK, "Hello, Anna Smith!", "chair")
}

func ptr[T any](v T) *T { return &v }

func TestTheClientAddressBehindTrustedProxies(t *testing.T) {
	t.Parallel()
	c := &Console{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	tests := []struct {
		remote, forwarded, want string
	}{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		// From anyone but a trusted proxy the header is a claim, ignored.
		{"192.0.2.1:5000", "198.51.100.7", "192.0.2.1"},
		{"10.1.2.3:5000", "198.51.100.7", "198.51.100.7"},
		// The nearest untrusted hop wins: what the client wrote left of it is ignored.
		{"10.1.2.3:5000", "203.0.113.66, 198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"[::1]:5000", "2001:db8::5", "2001:db8::5"},
		{"10.1.2.3:5000", "", "10.1.2.3"},
		{"10.1.2.3:5000", "garbage", "10.1.2.3"},
		{"[::ffff:192.0.2.9]:5000", "", "192.0.2.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		if tt.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tt.forwarded)
		}
		if got := c.clientIP(r); got != tt.want {
			t.Errorf("from %s forwarding %q: %s, want %s", tt.remote, tt.forwarded, got, tt.want)
		}
	}
}
