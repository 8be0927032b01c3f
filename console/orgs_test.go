package console

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
)

// toldNotifier records what membership tells people.
type toldNotifier struct {
	mu        sync.Mutex
	decisions []membership.Decision
}

func (n *toldNotifier) AskToDecide(context.Context, storage.Contact, membership.Application) (bool, error) {
	return true, nil
}

func (n *toldNotifier) TellDecision(_ context.Context, d membership.Decision, _ []storage.Account) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.decisions = append(n.decisions, d)
	return true, nil
}

func (n *toldNotifier) told() []membership.Decision {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]membership.Decision(nil), n.decisions...)
}

func testInviteLinks(code string) []InviteLink {
	return []InviteLink{{Platform: storage.Telegram, URL: "https://t.me/test_bot?start=" + code}, {Platform: storage.VK, URL: ""}}
}

// upload posts a file as the upload form does, with the session's token.
func (b *browser) upload(target, name, content string) *httptest.ResponseRecorder {
	b.r.t.Helper()
	token := b.csrf()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", token)
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			b.r.t.Fatal(err)
		}
		_, _ = fw.Write([]byte(content))
	}
	_ = mw.Close()
	req := httptest.NewRequestWithContext(b.r.ctx, http.MethodPost, "http://console.test"+target, &body)
	req.RemoteAddr = b.ip + ":40000"
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.r.console.ServeHTTP(w, req)
	return w
}

// send posts a form with the session's token.
func (b *browser) send(target string, form url.Values) *httptest.ResponseRecorder {
	b.r.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf())
	return b.post(target, form)
}

// staff signs in a browser for a new person with role in org.
func (r *rig) staff(name, org string, role storage.Role) (*browser, access.Actor) {
	r.t.Helper()
	a := r.person(name, org, role)
	b := r.browser("192.0.2.1")
	b.signIn(a)
	return b, a
}

func (r *rig) orgPath(code string) string { return fmt.Sprintf("/orgs/%d", r.org(code).ID) }

func (r *rig) audited(personID int64, action string) bool {
	r.t.Helper()
	entries, err := r.db.Audit(r.ctx, storage.AuditQuery{PersonID: personID, Limit: 50})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action == action {
			return true
		}
	}
	return false
}

func TestOrgSearchSeesTheSubtreeOnly(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	edu, _ := r.staff("Иванова Анна", "edu", storage.RoleChair)
	admin, _ := r.staff("Аппарат", "union", storage.RoleAdmin)
	worker, _ := r.staff("Петрова Мария", "school", storage.RoleInfoworker)
	tests := []struct {
		name     string
		b        *browser
		query    string
		see, not []string
	}{
		{"a branch chair: the branch and below", edu, "", []string{"Образование", "Школа № 5"}, []string{"Здравоохранение", ">Союз<"}},
		{"a branch chair searching a sibling", edu, "?q=здрав", []string{"Ничего не найдено"}, []string{"Здравоохранение"}},
		{"a branch chair searching by code", edu, "?q=school", []string{"Школа № 5"}, []string{"Образование<"}},
		{"the Union's staff: everything", admin, "", []string{">Союз<", "Образование", "Здравоохранение", "Школа № 5", "/orgs/import"}, nil},
		{"an information worker of a primary", worker, "", []string{"Школа № 5"}, []string{"Образование", "/orgs/import"}},
		{"a pattern is text", admin, "?q=%25", []string{"Ничего не найдено"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.b.get("/orgs" + tt.query)
			want(t, w, http.StatusOK, tt.see...)
			for _, n := range tt.not {
				if strings.Contains(w.Body.String(), n) {
					t.Errorf("%q shown:\n%s", n, w.Body)
				}
			}
		})
	}
}

func TestOrgSearchPages(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var many []storage.OrgInput
	for i := range 60 {
		many = append(many, storage.OrgInput{Code: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("Первичка %02d", i), ParentCode: "health", Level: storage.LevelPrimary})
	}
	if _, err := r.db.ImportOrgs(r.ctx, many, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	b, _ := r.staff("Аппарат", "union", storage.RoleAdmin)
	first := b.get("/orgs?q=Первичка")
	want(t, first, http.StatusOK, `href="/orgs?page=2&amp;q=`, "Первичка 00", "Первичка 49")
	if strings.Contains(first.Body.String(), "Первичка 50") || strings.Contains(first.Body.String(), `rel="prev"`) {
		t.Errorf("the first page goes beyond its size or back:\n%s", first.Body)
	}
	second := b.get("/orgs?q=Первичка&page=2")
	want(t, second, http.StatusOK, "Первичка 50", "Первичка 59", `rel="prev"`)
	if strings.Contains(second.Body.String(), "Первичка 49") || strings.Contains(second.Body.String(), `rel="next"`) {
		t.Errorf("the second page repeats the first or goes on:\n%s", second.Body)
	}
}

func TestOrgPage(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair, _ := r.staff("Иванова Анна", "school", storage.RoleChair)
	r.person("Сидоров Сергей", "school", storage.RoleMember)
	r.person("Новикова Ольга", "school", "") // waits for approval
	if err := r.db.BindChat(r.ctx, storage.ChatBinding{Platform: storage.Telegram, ChatID: "-100", OrgID: r.org("school").ID,
		Title: "Чат школы", BoundAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	w := chair.get(r.orgPath("school"))
	want(t, w, http.StatusOK, "<h1>Школа № 5</h1>", "Иванова Анна", "председатель", "Сидоров Сергей", "член профсоюза",
		"Новикова Ольга", "ждёт подтверждения", "не давал(а)", "Telegram", "Чат школы", "Создать приглашение", `action="`+r.orgPath("school")+`"`,
		"Создать открытую ссылку", `name="role" value="supporter"`)
	// A primary's chair sees neither the branch above nor its link.
	if strings.Contains(w.Body.String(), `href="`+r.orgPath("edu")+`"`) {
		t.Errorf("a link up the tree:\n%s", w.Body)
	}
	// An information worker sees the people but may not change anything.
	worker, _ := r.staff("Петрова Мария", "edu", storage.RoleInfoworker)
	w = worker.get(r.orgPath("school"))
	want(t, w, http.StatusOK, "Сидоров Сергей", `href="`+r.orgPath("edu")+`"`)
	if body := w.Body.String(); strings.Contains(body, "Создать приглашение") || strings.Contains(body, "Создать открытую ссылку") || strings.Contains(body, `name="name"`) {
		t.Errorf("an information worker is offered changes:\n%s", w.Body)
	}
}

func TestIDsOfAnotherSubtreeAreRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair, _ := r.staff("Иванова Анна", "school", storage.RoleChair)
	worker, _ := r.staff("Петрова Мария", "edu", storage.RoleInfoworker)
	inv, _, err := r.console.cfg.Orgs.CreateInvite(r.ctx, orgs.InviteRequest{OrgCode: "health", Role: storage.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		b      *browser
		method string
		path   string
		form   url.Values
		status int
	}{
		{"a sibling's page", chair, http.MethodGet, r.orgPath("health"), nil, http.StatusForbidden},
		{"the parent's page", chair, http.MethodGet, r.orgPath("edu"), nil, http.StatusForbidden},
		{"the root's page", chair, http.MethodGet, r.orgPath("union"), nil, http.StatusForbidden},
		{"an unknown org", chair, http.MethodGet, "/orgs/999999", nil, http.StatusNotFound},
		{"not an id", chair, http.MethodGet, "/orgs/abc", nil, http.StatusNotFound},
		{"a sibling's edit", chair, http.MethodPost, r.orgPath("health"), url.Values{"name": {"Взлом"}}, http.StatusForbidden},
		{"a sibling's invite", chair, http.MethodGet, "/invites/" + inv.Code, nil, http.StatusForbidden},
		{"a sibling's QR code", chair, http.MethodGet, "/invites/" + inv.Code + "/qr/telegram", nil, http.StatusForbidden},
		{"a sibling's invite revoked", chair, http.MethodPost, "/invites/" + inv.Code + "/revoke", nil, http.StatusForbidden},
		{"an invite into a sibling", chair, http.MethodPost, r.orgPath("health") + "/invites", url.Values{"role": {"member"}, "days": {"30"}}, http.StatusForbidden},
		{"an unknown invite", chair, http.MethodGet, "/invites/AAAAAAAAAAAAAAAAAAAAAA", nil, http.StatusNotFound},
		{"an information worker edits", worker, http.MethodPost, r.orgPath("school"), url.Values{"name": {"Школа"}}, http.StatusForbidden},
		{"an information worker invites", worker, http.MethodPost, r.orgPath("school") + "/invites", url.Values{"role": {"member"}, "days": {"30"}}, http.StatusForbidden},
		{"a chair uploads a tree", chair, http.MethodGet, "/orgs/import", nil, http.StatusForbidden},
		{"a chair loads the example", chair, http.MethodPost, "/orgs/import/example", url.Values{}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			if tt.method == http.MethodGet {
				w = tt.b.get(tt.path)
			} else {
				w = tt.b.send(tt.path, tt.form)
			}
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tt.status, w.Body)
			}
		})
	}
	if got, _ := r.db.OrgByCode(r.ctx, "health"); got.Name != "Здравоохранение" {
		t.Errorf("a sibling renamed to %q", got.Name)
	}
	if got, _ := r.db.Invite(r.ctx, inv.Code); got.RevokedAt != nil {
		t.Error("a sibling's invite revoked")
	}
}

func TestAMemberCannotOpenTheTree(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, chair := r.staff("Иванова Анна", "school", storage.RoleChair)
	want(t, b.get("/orgs"), http.StatusOK, "Школа № 5")
	// The chair steps down to a member: the session ends and no page of
	// the tree opens.
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(r.dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(r.ctx, "UPDATE memberships SET role = 'member' WHERE person_id = ?", chair.PersonID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/orgs", r.orgPath("school"), "/approvals"} {
		if w := b.get(path); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/signin") {
			t.Errorf("%s for a member: %d to %q", path, w.Code, w.Header().Get("Location"))
		}
	}
}

func TestOrgEdit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
		after  string // the name kept
	}{
		{"valid", url.Values{"name": {"Школа № 5 им. Чехова"}, "members": {"120"}, "timezone": {"Asia/Sakhalin"}, "board_reminder": {"0 9 * * 2"}},
			http.StatusSeeOther, "", "Школа № 5 им. Чехова"},
		{"members not a number", url.Values{"name": {"Школа"}, "members": {"много"}}, http.StatusUnprocessableEntity, "целое число", "Школа № 5"},
		{"empty name", url.Values{"name": {" "}, "members": {"1"}}, http.StatusUnprocessableEntity, "empty name", "Школа № 5"},
		{"a bad zone", url.Values{"name": {"Школа"}, "timezone": {"Mars/Olympus"}}, http.StatusUnprocessableEntity, "invalid time zone", "Школа № 5"},
		{"a daily reminder", url.Values{"name": {"Школа"}, "board_reminder": {"0 9 * * *"}}, http.StatusUnprocessableEntity, "not weekly", "Школа № 5"},
		{"negative members", url.Values{"name": {"Школа"}, "members": {"-3"}}, http.StatusUnprocessableEntity, "negative member count", "Школа № 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			b, chair := r.staff("Иванова Анна", "edu", storage.RoleChair)
			w := b.send(r.orgPath("school"), tt.form)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tt.status, w.Body)
			}
			if tt.text != "" {
				want(t, w, tt.status, tt.text)
			}
			if got := r.org("school"); got.Name != tt.after {
				t.Errorf("name %q, want %q", got.Name, tt.after)
			}
			if r.audited(chair.PersonID, auditOrgEdit) != (tt.status == http.StatusSeeOther) {
				t.Errorf("audit of the edit: status %d", tt.status)
			}
			if tt.status == http.StatusSeeOther {
				want(t, b.get(w.Header().Get("Location")), http.StatusOK, "Изменения сохранены", "120")
				if got := r.org("school"); got.MemberCount != 120 || got.BoardCron != "0 9 * * 2" || got.ParentID != r.org("edu").ID {
					t.Errorf("kept %+v", got)
				}
			}
		})
	}
}

const goodCSV = "code,name,parent,level,members\nedu,Образование (обком),union,branch,500\ngym,Гимназия № 1,edu,primary,40\n"

var (
	digestField  = regexp.MustCompile(`name="digest" value="([0-9a-f]+)"`)
	contentField = regexp.MustCompile(`name="content" value="([^"]+)"`)
)

// planForm is the apply form's fields of a preview page, as a browser
// sends them back.
func planForm(t *testing.T, file string, w *httptest.ResponseRecorder) url.Values {
	t.Helper()
	digest, content := digestField.FindStringSubmatch(w.Body.String()), contentField.FindStringSubmatch(w.Body.String())
	if digest == nil || content == nil {
		t.Fatalf("no apply form:\n%s", w.Body)
	}
	return url.Values{"file": {file}, "content": {html.UnescapeString(content[1])}, "digest": {digest[1]}}
}

func TestOrgFileImport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, content string
		status              int
		texts               []string
	}{
		{"a good file", "tree.csv", goodCSV, http.StatusOK, []string{"создать — 1, изменить — 1, без изменений — 0", "Гимназия № 1", "tree.csv:3", "Применить план"}},
		{"a YAML file", "tree.yaml", "orgs:\n  - code: gym\n    name: Гимназия\n    parent: edu\n    level: primary\n", http.StatusOK, []string{"создать — 1"}},
		{"a broken line", "tree.csv", "code,name,parent,level\ngym,Гимназия,edu,primary\nbad,,nowhere,primary\n", http.StatusUnprocessableEntity,
			[]string{"ничего не изменено", "tree.csv:3: empty name"}},
		{"an unknown column", "tree.csv", "code,name,colour\n", http.StatusUnprocessableEntity, []string{`tree.csv:1: unknown column &#34;colour&#34;`}},
		{"broken YAML", "tree.yaml", "orgs: [\n", http.StatusUnprocessableEntity, []string{"tree.yaml:"}},
		{"a second union", "tree.csv", "code,name,level\nu2,Второй,union\n", http.StatusUnprocessableEntity, []string{"second union"}},
		{"not a tree file", "tree.json", "{}", http.StatusUnprocessableEntity, []string{"unknown format"}},
		{"no file", "", "", http.StatusUnprocessableEntity, []string{"Выберите файл структуры"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			b, admin := r.staff("Аппарат", "union", storage.RoleAdmin)
			w := b.upload("/orgs/import/preview", tt.file, tt.content)
			want(t, w, tt.status, tt.texts...)
			// The preview writes nothing.
			if _, err := r.db.OrgByCode(r.ctx, "gym"); err == nil {
				t.Fatal("the preview imported")
			}
			if r.org("edu").Name != "Образование" {
				t.Fatal("the preview updated")
			}
			if tt.status != http.StatusOK {
				return
			}
			w = b.send("/orgs/import/apply", planForm(t, tt.file, w))
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/orgs?done=imported" {
				t.Fatalf("apply: %d to %q:\n%s", w.Code, w.Header().Get("Location"), w.Body)
			}
			if _, err := r.db.OrgByCode(r.ctx, "gym"); err != nil {
				t.Errorf("not applied: %v", err)
			}
			if !r.audited(admin.PersonID, auditOrgImport) {
				t.Error("the import is not in the audit log")
			}
			want(t, b.get("/orgs?done=imported"), http.StatusOK, "Структура загружена", "Гимназия")
		})
	}
}

func TestOrgFileAppliesOnlyWhatWasPreviewed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, _ := r.staff("Аппарат", "union", storage.RoleAdmin)
	w := b.upload("/orgs/import/preview", "tree.csv", goodCSV)
	plan := planForm(t, "tree.csv", w)
	digest, content := plan.Get("digest"), plan.Get("content")
	tests := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"another digest", url.Values{"file": {"tree.csv"}, "content": {content}, "digest": {strings.Repeat("0", 64)}}, http.StatusConflict, "Структура изменилась"},
		{"another file under the digest", url.Values{"file": {"tree.csv"}, "content": {"Y29kZSxuYW1lLHBhcmVudCxsZXZlbApneW0sWCxlZHUscHJpbWFyeQo="}, "digest": {digest}}, http.StatusConflict, "Структура изменилась"},
		{"content not base64", url.Values{"file": {"tree.csv"}, "content": {"!!!"}, "digest": {digest}}, http.StatusUnprocessableEntity, "Выберите файл"},
	}
	for _, tt := range tests {
		w := b.send("/orgs/import/apply", tt.form)
		want(t, w, tt.status, tt.text)
		if _, err := r.db.OrgByCode(r.ctx, "gym"); err == nil {
			t.Fatalf("%s: applied", tt.name)
		}
	}
	// The tree changes after the preview: the old plan is not applied.
	if _, err := r.db.ImportOrgs(r.ctx, []storage.OrgInput{{Code: "edu", Name: "Образование (обком)", ParentCode: "union", Level: storage.LevelBranch, MemberCount: 500}}, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w = b.send("/orgs/import/apply", url.Values{"file": {"tree.csv"}, "content": {content}, "digest": {digest}})
	want(t, w, http.StatusConflict, "Структура изменилась", "создать — 1, изменить — 0, без изменений — 1")
	if _, err := r.db.OrgByCode(r.ctx, "gym"); err == nil {
		t.Fatal("a changed plan applied")
	}
}

func TestASetupSessionLoadsTheExampleTree(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *rigOption) { o.noTree = true })
	l, err := r.signIn.AdminLink(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := r.browser("192.0.2.1")
	b.post(signin.LinkPath+l.Token, nil)
	want(t, b.get("/"), http.StatusOK, "Загрузить пример структуры")
	want(t, b.get("/orgs/import"), http.StatusOK, `type="file"`)
	want(t, b.get("/orgs"), http.StatusForbidden)
	w := b.send("/orgs/import/example", nil)
	want(t, w, http.StatusOK, "Сахалинский областной союз", "orgs.yaml:9", "изменить — 0")
	if orgs, _ := r.db.Orgs(r.ctx); len(orgs) != 0 {
		t.Fatal("the preview of the example imported")
	}
	if w = b.send("/orgs/import/apply", planForm(t, "orgs.yaml", w)); w.Code != http.StatusSeeOther {
		t.Fatalf("apply: %d\n%s", w.Code, w.Body)
	}
	// Now the Union's staff, the session sees the tree.
	want(t, b.get("/orgs?done=imported"), http.StatusOK, "Структура загружена", "Сахалинский областной союз")
	// And a second setup-style upload is the admin's, checked as such.
	want(t, b.send("/orgs/import/example", nil), http.StatusOK, "создать — 0, изменить — 0")
}

func TestAnOrgFileTooLargeIsRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, _ := r.staff("Аппарат", "union", storage.RoleAdmin)
	huge := "code,name,parent,level\n" + strings.Repeat("x", 3<<20)
	want(t, b.upload("/orgs/import/preview", "tree.csv", huge), http.StatusRequestEntityTooLarge)
	if orgs, _ := r.db.Orgs(r.ctx); len(orgs) != len(tree) {
		t.Errorf("%d orgs after a refused upload", len(orgs))
	}
}
