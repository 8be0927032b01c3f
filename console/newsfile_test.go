package console

import (
	"bytes"
	"database/sql"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
)

// upload is a file the composer's form carries.
type upload struct {
	name string
	data []byte
}

// postFile sends the composer's form as the browser does, multipart,
// with a file when up is set.
func (b *browser) postFile(form url.Values, up *upload) *httptest.ResponseRecorder {
	b.r.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if up != nil {
		fw, err := mw.CreateFormFile("file", up.name)
		if err != nil {
			b.r.t.Fatal(err)
		}
		_, _ = fw.Write(up.data)
	}
	_ = mw.Close()
	req := httptest.NewRequestWithContext(b.r.ctx, http.MethodPost, "http://console.test/news", &body)
	req.RemoteAddr = b.ip + ":40000"
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.r.console.ServeHTTP(w, req)
	return w
}

// storedFiles counts the files kept for drafts and broadcasts.
func (r *rig) storedFiles() int {
	r.t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(r.dir, sqlite.FileName))
	if err != nil {
		r.t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(r.ctx, "SELECT count(*) FROM news_files").Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var fileIDInput = regexp.MustCompile(`name="file_id" value="(\d+)"`)

// fileIDOf reads the stored file's id the composer's form carries on.
func fileIDOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	m := fileIDInput.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("the composer carries no file (%d):\n%s", w.Code, w.Body)
	}
	return m[1]
}

func TestNewsWithAPhotoPreviewedAndSent(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	photo := testPNG(t, 640, 480)

	// The composer takes a file; its first preview stores it.
	want(t, b.get("/news"), http.StatusOK, `enctype="multipart/form-data"`, `name="file"`, `data-max-bytes="10485760"`, "не больше 10 МБ")
	f := b.composeForm(edu, "<b>Собрание</b> в пятницу", nil)
	f.Set("action", "preview")
	w := b.postFile(f, &upload{"собрание.png", photo})
	want(t, w, http.StatusOK, "📎 собрание.png (", "<strong>Собрание</strong> в пятницу", `name="unfile"`)
	id := fileIDOf(t, w)
	if n := r.storedFiles(); n != 1 || len(r.broadcasts("edu")) != 0 {
		t.Fatalf("%d files stored, %d broadcasts after a preview", n, len(r.broadcasts("edu")))
	}
	if !r.audited(chair.PersonID, auditNewsFile) {
		t.Error("the upload is not in the audit log")
	}
	// The preview shows the photo, to its uploader alone.
	draft := "/news/uploads/" + id + "/file"
	want(t, w, http.StatusOK, `<img class="thumb" src="`+draft+`" alt="собрание.png">`)
	if got := b.get(draft); got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), photo) {
		t.Fatalf("the uploader's preview of the photo: %d, %d bytes", got.Code, got.Body.Len())
	}
	colleague := r.browser("192.0.2.4")
	colleague.signIn(r.person("Обкомова Ева", "edu", storage.RoleInfoworker))
	if got := colleague.get(draft); got.Code != http.StatusForbidden {
		t.Errorf("a colleague opens another's draft file: %d", got.Code)
	}
	// The next preview keeps it without sending it again.
	f.Set("file_id", id)
	w = b.postFile(f, nil)
	if want(t, w, http.StatusOK, "📎 собрание.png"); fileIDOf(t, w) != id || r.storedFiles() != 1 {
		t.Fatalf("the second preview carries file %s (want %s), %d files stored", fileIDOf(t, w), id, r.storedFiles())
	}

	// Sent, the broadcast carries it; its page shows it, a small image
	// served behind the session.
	f.Set("action", "send")
	w = b.postFile(f, nil)
	bid := idFrom(t, w, w.Code)
	sent := r.broadcasts("edu")[0]
	if strconv.FormatInt(sent.FileID, 10) != id || sent.Text != "Собрание в пятницу" {
		t.Fatalf("sent %+v, want the file %s", sent, id)
	}
	page := "/news/" + strconv.FormatInt(bid, 10)
	want(t, b.get(page), http.StatusOK, `<img class="thumb" src="`+page+`/file" alt="собрание.png">`, "📎 <a href=\""+page+"/file\">собрание.png</a> (")
	img := b.get(page + "/file")
	if img.Code != http.StatusOK || img.Header().Get("Content-Type") != "image/png" || !bytes.Equal(img.Body.Bytes(), photo) ||
		!strings.HasPrefix(img.Header().Get("Content-Disposition"), "inline") {
		t.Fatalf("the photo: %d %q %q, %d bytes", img.Code, img.Header().Get("Content-Type"), img.Header().Get("Content-Disposition"), img.Body.Len())
	}
	want(t, b.get("/news"), http.StatusOK, "📎</span> Собрание в пятницу")

	// The same rule as the broadcast's page: a sibling is refused, a
	// browser without a session signs in first.
	sibling := r.browser("192.0.2.2")
	sibling.signIn(r.person("Врачева Ольга", "health", storage.RoleChair))
	if w := sibling.get(page + "/file"); w.Code != http.StatusForbidden {
		t.Errorf("a sibling opens the file: %d", w.Code)
	}
	if w := r.browser("192.0.2.3").get(page + "/file"); w.Code != http.StatusSeeOther {
		t.Errorf("no session opens the file: %d", w.Code)
	}
	plain := b.composeForm(edu, "Без файла", nil)
	plain.Set("action", "send")
	w = b.post("/news", plain)
	if w := b.get("/news/" + strconv.FormatInt(idFrom(t, w, w.Code), 10) + "/file"); w.Code != http.StatusNotFound {
		t.Errorf("the file of a broadcast without one: %d", w.Code)
	}
}

func TestNewsWithADocumentAndNoText(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	pdf := []byte("%PDF-1.7\nповестка собрания")
	f := b.composeForm(r.org("edu"), "", nil)
	f.Set("action", "send")
	w := b.postFile(f, &upload{"Повестка «собрания».pdf", pdf})
	bid := idFrom(t, w, w.Code)
	if sent := r.broadcasts("edu")[0]; sent.FileID == 0 || sent.Text != "" {
		t.Fatalf("sent %+v", sent)
	}
	page := "/news/" + strconv.FormatInt(bid, 10)
	body := b.get(page).Body.String()
	if !strings.Contains(body, "Повестка «собрания».pdf</a> (42 Б)") || strings.Contains(body, "<img") {
		t.Fatalf("the page shows the document as:\n%s", body)
	}
	doc := b.get(page + "/file")
	if doc.Header().Get("Content-Type") != "application/octet-stream" || !bytes.Equal(doc.Body.Bytes(), pdf) ||
		doc.Header().Get("Content-Disposition") != "attachment; filename*=utf-8''%D0%9F%D0%BE%D0%B2%D0%B5%D1%81%D1%82%D0%BA%D0%B0%20%C2%AB%D1%81%D0%BE%D0%B1%D1%80%D0%B0%D0%BD%D0%B8%D1%8F%C2%BB.pdf" {
		t.Fatalf("the document: %q %q", doc.Header().Get("Content-Type"), doc.Header().Get("Content-Disposition"))
	}
}

func TestNewsBadFilesStoreNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	b := r.browser("192.0.2.1")
	b.signIn(chair)
	edu := r.org("edu")
	pdf := []byte("%PDF-1.7")
	tests := []struct {
		name   string
		up     upload
		kind   string
		status int
		says   string
	}{
		{"too big", upload{"big.pdf", make([]byte, news.MaxFileBytes+1)}, "", http.StatusRequestEntityTooLarge, "Файл больше 10 МБ"},
		{"empty", upload{"пусто.pdf", nil}, "", http.StatusUnprocessableEntity, "Файл пустой"},
		{"an unknown kind", upload{"a.mp4", pdf}, "video", http.StatusUnprocessableEntity, "Такого способа отправить файл нет"},
		{"a PDF as a photo", upload{"фото.jpg", pdf}, "photo", http.StatusUnprocessableEntity, "Это не фото в формате JPEG, PNG или GIF"},
		{"a photo out of proportion", upload{"лента.png", testPNG(t, 2100, 100)}, "photo", http.StatusUnprocessableEntity, "Такое фото мессенджеры не примут"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := b.composeForm(edu, "Собрание в пятницу", url.Values{"file_kind": {tt.kind}})
			f.Set("action", "send")
			w := b.postFile(f, &tt.up)
			// Told in the composer, the draft as typed.
			want(t, w, tt.status, tt.says, "Собрание в пятницу</textarea>")
			if strings.Contains(w.Body.String(), `name="file_id"`) {
				t.Error("the refused file is carried on")
			}
		})
	}
	// A file goes with the session's token only, and from the console's
	// own pages.
	f := b.composeForm(edu, "Собрание", nil)
	f.Set("action", "send")
	f.Del("csrf")
	want(t, b.postFile(f, &upload{"повестка.pdf", pdf}), http.StatusForbidden)
	f.Set("csrf", "forged")
	want(t, b.postFile(f, &upload{"повестка.pdf", pdf}), http.StatusForbidden)
	// A form far over the bound is told as such.
	f = b.composeForm(edu, "Собрание", nil)
	f.Set("action", "send")
	want(t, b.postFile(f, &upload{"huge.pdf", make([]byte, newsMaxBody)}), http.StatusRequestEntityTooLarge, "Слишком большая форма")
	if n := r.storedFiles(); n != 0 || len(r.broadcasts("edu")) != 0 {
		t.Fatalf("%d files stored, %d broadcasts after refused files", n, len(r.broadcasts("edu")))
	}
}

func TestNewsFileOfAnotherIsRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	chair := r.person("Иванова Анна", "edu", storage.RoleChair)
	r.person("Петров Пётр", "school", storage.RoleMember)
	owner := r.browser("192.0.2.1")
	owner.signIn(chair)
	f := owner.composeForm(r.org("edu"), "Собрание", nil)
	f.Set("action", "preview")
	id := fileIDOf(t, owner.postFile(f, &upload{"повестка.pdf", []byte("%PDF-1.7")}))

	// A colleague of the same branch names its id in their form.
	other := r.browser("192.0.2.2")
	other.signIn(r.person("Обкомова Ева", "edu", storage.RoleInfoworker))
	g := other.composeForm(r.org("edu"), "Чужое", url.Values{"file_id": {id}})
	g.Set("action", "send")
	w := other.postFile(g, nil)
	want(t, w, http.StatusForbidden, "Этот файл загрузил другой человек")
	if strings.Contains(w.Body.String(), "повестка.pdf") {
		t.Error("the refused composer shows another's file")
	}
	// Named with a file of their own, it stores nothing.
	want(t, other.postFile(g, &upload{"моё.pdf", []byte("%PDF-1.7")}), http.StatusForbidden, "Этот файл загрузил другой человек")
	if n := r.storedFiles(); n != 1 {
		t.Errorf("%d files stored: the refused form kept its own", n)
	}
	// A file no longer kept, and a number that is none.
	g.Set("file_id", "987654")
	want(t, other.postFile(g, nil), http.StatusUnprocessableEntity, "Файл больше не хранится")
	g.Set("file_id", "x")
	want(t, other.postFile(g, nil), http.StatusBadRequest)
	if n := len(r.broadcasts("edu")); n != 0 {
		t.Fatalf("%d broadcasts sent", n)
	}

	// Its owner removes it: the draft goes without it.
	f.Set("file_id", id)
	f.Set("unfile", "1")
	w = owner.postFile(f, nil)
	if want(t, w, http.StatusOK, "Приложить файл"); strings.Contains(w.Body.String(), `name="file_id"`) {
		t.Error("a removed file is carried on")
	}
}
