package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

var fileLink = regexp.MustCompile(`href="(/inbox/\d+/files/\d+/\d+)"`)

// download GETs target with the browser and returns the response with its
// body read.
func download(t *testing.T, b *http.Client, target string) (*http.Response, []byte) {
	t.Helper()
	resp, err := b.Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// A member's photo and document, sent with a question in the messenger,
// open from the question's page in the console for who answers it, and
// for nobody beside.
func TestHotlineFilesOpenFromTheConsole(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 2701, "Председатель")
		register(t, chair, r.invite("edu-school-5", "chair"), "Сидорова Мария")
		sibling := r.person(plat, 2702, "Соседка")
		register(t, sibling, r.invite("edu-gymnasium-1", "chair"), "Гимназова Ирина")
		member := r.person(plat, 2703, "Учитель")
		register(t, member, r.invite("edu-school-5", "member"), "Кузнецова Анна")
		c := member.dm()

		member.say("/ask")
		member.press(c.expect("Выберите тему вопроса"), "Зарплата")
		c.expect("Тема: Зарплата")
		member.say("Почему не начислили надбавку? Прикладываю листок и приказ.")
		c.expect("Вопрос записан")
		var photo, doc []byte
		switch p := member.(type) {
		case *tgPerson:
			photo = r.tg.FileData(r.tg.Attachment(r.tg.SendPhoto(p.u, "")).FileID)
			c.expect("приложен 1 файл")
			doc = r.tg.FileData(r.tg.Attachment(r.tg.SendDocument(p.u, "Приказ.pdf", "")).FileID)
		case *vkPerson:
			photo = r.vk.FileData(r.vk.SendPhoto(p.u, ""))
			c.expect("приложен 1 файл")
			doc = r.vk.FileData(r.vk.SendDoc(p.u, "Приказ.pdf", ""))
		}
		member.press(c.expect("приложено 2 файла"), "Отправить")
		m := c.expect("Вопрос принят, №")
		var id int64
		if _, err := fmt.Sscanf(m.text[strings.Index(m.text, "№"):], "№ %d", &id); err != nil {
			t.Fatalf("no ticket number in %q", m.text)
		}

		base := "http://" + r.getenv("UNIONHUB_HTTP_ADDR")
		b := consoleOf(t, chair)
		status, body := page(t, b, http.MethodGet, fmt.Sprintf("%s/inbox/%d", base, id))
		links := fileLink.FindAllStringSubmatch(body, -1)
		if status != http.StatusOK || len(links) != 2 {
			t.Fatalf("the question's page: %d, file links %v\n%s", status, links, body)
		}
		photoURL, docURL := base+links[0][1], base+links[1][1]
		tests := []struct {
			name        string
			url         string
			data        []byte
			contentType string
			disposition string
		}{
			{"the photo", photoURL, photo, "image/png", "inline"},
			{"the document", docURL, doc, "application/octet-stream", `attachment; filename*=utf-8''%D0%9F%D1%80%D0%B8%D0%BA%D0%B0%D0%B7.pdf`},
		}
		for _, tt := range tests {
			resp, data := download(t, b, tt.url)
			if resp.StatusCode != http.StatusOK || len(tt.data) == 0 || !bytes.Equal(data, tt.data) {
				t.Fatalf("%s: %d, %d bytes; want the %d the member sent", tt.name, resp.StatusCode, len(data), len(tt.data))
			}
			if got := resp.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("%s: Content-Type %q, want %q", tt.name, got, tt.contentType)
			}
			if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, tt.disposition) {
				t.Errorf("%s: Content-Disposition %q, want %q", tt.name, got, tt.disposition)
			}
		}
		if resp, _ := download(t, b, photoURL[:len(photoURL)-1]+"7"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a file the message lacks: %d, want 404", resp.StatusCode)
		}

		// The chair of the gymnasium beside the school may not open it.
		if resp, data := download(t, consoleOf(t, sibling), photoURL); resp.StatusCode != http.StatusForbidden || bytes.Contains(data, photo[:64]) {
			t.Fatalf("a sibling's chair: %d, want 403", resp.StatusCode)
		}

		// VK's links expire: the page says so instead of failing.
		if plat == storage.VK {
			r.vk.ExpireFiles()
			resp, data := download(t, b, docURL)
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(data), "больше не отдаёт") {
				t.Fatalf("an expired link: %d\n%s", resp.StatusCode, data)
			}
		}
	})
}
