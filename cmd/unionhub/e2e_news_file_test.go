package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

// consoleOf signs p in to the console from the bot and returns their
// browser.
func consoleOf(t *testing.T, p person) *http.Client {
	t.Helper()
	p.say("/console")
	link := signInLink.FindString(p.dm().expect("Ссылка для входа в пульт").text)
	if link == "" {
		t.Fatal("no sign-in link")
	}
	b := browser(t)
	if status, _ := page(t, b, http.MethodPost, link); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	return b
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// sendNews composes news in the console as its form does (multipart,
// with the file), counted first, and returns the broadcast's number.
func sendNews(t *testing.T, r *rig, b *http.Client, org, text string, more url.Values, fileName string, data []byte) int64 {
	t.Helper()
	base := "http://" + r.getenv("UNIONHUB_HTTP_ADDR")
	o, err := r.store().OrgByCode(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"org": {strconv.FormatInt(o.ID, 10)}}
	for k, v := range more {
		form[k] = v
	}
	status, body := page(t, b, http.MethodGet, base+"/news/count?"+form.Encode())
	var count struct{ Counted string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &count) != nil {
		t.Fatalf("count: %d %s", status, body)
	}
	_, composer := page(t, b, http.MethodGet, base+"/news?org="+form.Get("org"))
	token := csrfField.FindStringSubmatch(composer)
	if token == nil {
		t.Fatalf("no CSRF token in the composer:\n%s", composer)
	}
	form.Set("csrf", token[1])
	form.Set("counted", count.Counted)
	form.Set("text", text)
	form.Set("action", "send")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile("file", fileName)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/news", &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	shown, _ := io.ReadAll(resp.Body)
	id, err := strconv.ParseInt(strings.TrimPrefix(resp.Request.URL.Path, "/news/"), 10, 64)
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("send: %d at %s\n%s", resp.StatusCode, resp.Request.URL, shown)
	}
	if !strings.Contains(string(shown), fileName) {
		t.Errorf("the broadcast's page does not name its file %q", fileName)
	}
	return id
}

// TestConsoleNewsCarriesAFile sends news with a photo, then with a
// document, from the console to three members on Telegram and three on
// VK and a bound chat on each, and a relayed item with a document from the
// Union: every recipient gets the file, the text its caption on Telegram
// where it fits and after it where it does not, and each platform saw
// one upload per broadcast, every other delivery sending the file by the
// reference the first learned.
func TestConsoleNewsCarriesAFile(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	sender := r.person(storage.Telegram, 8101, "Ева")
	register(t, sender, r.invite("edu", "infoworker"), "Обкомова Ева")
	chair := r.person(storage.VK, 8102, "Анна")
	register(t, chair, r.invite("edu-school-5", "chair"), "Школьная Анна")
	union := r.person(storage.Telegram, 8103, "Инна")
	register(t, union, r.invite("union", "infoworker"), "Союзная Инна")
	var members []person
	for i, plat := range []storage.Platform{storage.Telegram, storage.Telegram, storage.Telegram, storage.VK, storage.VK, storage.VK} {
		p := r.person(plat, 8110+i, "Член")
		register(t, p, r.invite("edu-school-5", "member"), fmt.Sprintf("Членова Мария %d", i))
		members = append(members, p)
	}
	tgChat := sender.group(81, "Чат СОШ № 5")
	tgChat.say("/bind edu-school-5")
	tgChat.expect("Чат привязан")
	vkChat := chair.group(82, "Беседа СОШ № 5")
	vkChat.say("/bind edu-school-5")
	vkChat.expect("Чат привязан")
	type recipient struct {
		c    *chat
		plat storage.Platform
	}
	recipients := []recipient{{tgChat.chat, storage.Telegram}, {vkChat.chat, storage.VK}, {chair.dm(), storage.VK}}
	for _, p := range members {
		recipients = append(recipients, recipient{p.dm(), p.platform()})
	}
	ctx := context.Background()
	// gotFile checks that every recipient got the item's text and the file
	// by the reference recorded for its platform (on Telegram the text its
	// caption, or after it), and that each platform saw uploads in all.
	gotFile := func(id int64, to []recipient, kind, textPart string, captioned bool, uploads int) {
		t.Helper()
		got := make([]botMsg, len(to))
		for i, rc := range to {
			got[i] = rc.c.expect(textPart)
		}
		refs := map[storage.Platform]string{}
		for _, plat := range []storage.Platform{storage.Telegram, storage.VK} {
			ref, err := r.store().FileRef(ctx, id, plat)
			if err != nil {
				t.Fatalf("broadcast %d has no %s reference: %v", id, plat, err)
			}
			refs[plat] = ref
		}
		for i, rc := range to {
			m := got[i]
			want := refs[rc.plat]
			if rc.plat == storage.Telegram {
				want = kind + ":" + want
				if !captioned {
					if len(m.files) != 0 {
						t.Fatalf("recipient %d: a text too long for a caption came with %v", i, m.files)
					}
					m = rc.c.before(m)
				}
			}
			if len(m.files) != 1 || m.files[0] != want {
				t.Fatalf("recipient %d on %s got %v with %q; want %s", i, rc.plat, m.files, textPart, want)
			}
		}
		if r.tg.Uploads() != uploads || r.vk.Uploads() != uploads {
			t.Fatalf("after broadcast %d: %d uploads to Telegram and %d to VK, want %d each", id, r.tg.Uploads(), r.vk.Uploads(), uploads)
		}
	}

	b := consoleOf(t, sender)
	id := sendNews(t, r, b, "edu", "Фото с отчётного собрания", nil, "собрание.png", picture(t, 1280, 720))
	gotFile(id, recipients, storage.FilePhoto, "Фото с отчётного собрания", true, 1)

	long := "Повестка отчётного собрания. " + strings.Repeat("Пункт повестки собрания. ", 60)
	id = sendNews(t, r, b, "edu", long, url.Values{"file_kind": {"document"}}, "Повестка.pdf", []byte("%PDF-1.7 повестка"))
	gotFile(id, recipients, storage.FileDocument, "Пункт повестки собрания.", false, 2)

	// Relayed from the Union: the branch's information worker hears of the
	// file with the offer and publishes, the school's chair too; the school
	// gets the item with the file.
	id = sendNews(t, r, consoleOf(t, union), "union", "Положение о конкурсе", url.Values{"mode": {"relay"}}, "Положение.docx", []byte("PK\x03\x04 положение"))
	offer := sender.dm().expect(fmt.Sprintf("Новость № %d", id), "📎 С новостью придёт файл «Положение.docx».")
	sender.press(offer, "Опубликовать")
	chair.press(chair.dm().expect(fmt.Sprintf("Новость № %d", id), "«Положение.docx»"), "Опубликовать")
	// The chair's offer, edited once published, holds the text too: the
	// others are checked.
	others := append(recipients[:2:2], recipients[3:]...)
	gotFile(id, others, storage.FileDocument, "Положение о конкурсе", true, 3)
}
