package console

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// A member's photo and document, sent on Telegram, open from the thread:
// downloaded through the Telegram adapter from a fake Bot API server.
func TestInboxServesTheFilesMembersSent(t *testing.T) {
	t.Parallel()
	tg := platformtest.NewTelegram(t)
	adapter, err := telegram.New(t.Context(), telegram.Config{Token: platformtest.TelegramToken, APIURL: tg.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	sender := platformtest.TGUser{ID: 4242, FirstName: "Мария"}
	photo := tg.Attachment(tg.SendPhoto(sender, "")).FileID
	doc := tg.Attachment(tg.SendDocument(sender, "Расчётный лист.pdf", "")).FileID
	b := newInboxBed(t, func(o *rigOption) { o.files = map[storage.Platform]hotline.FileSource{storage.Telegram: adapter} })
	asked, err := b.console.cfg.Hotline.Ask(b.ctx, b.teacher, hotline.Question{OrgID: b.teacher.Roles[0].Org.ID, Topic: "wages",
		Message: hotline.Message{Text: "Вот расчётный лист", Files: []storage.Attachment{
			{Platform: storage.Telegram, Kind: storage.FilePhoto, FileID: photo},
			{Platform: storage.Telegram, Kind: storage.FileDocument, FileID: doc, Name: "Расчётный лист.pdf"},
			{Platform: storage.VK, Kind: storage.FilePhoto, FileID: "photo501_457239001_abc"},
			{Platform: storage.Telegram, Kind: storage.FilePhoto, FileID: "AgACAgIAAxkBAAIlost"},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	thread, err := b.db.TicketMessages(b.ctx, asked.Ticket.ID)
	if err != nil || len(thread) != 1 {
		t.Fatalf("thread %+v, %v", thread, err)
	}
	id, msg := asked.Ticket.ID, thread[0].ID
	file := func(message int64, n string) string { return fmt.Sprintf("/inbox/%d/files/%d/%s", id, message, n) }

	school := b.browser("192.0.2.1")
	school.signIn(b.schoolChair)
	want(t, school.get(fmt.Sprintf("/inbox/%d", id)), http.StatusOK,
		fmt.Sprintf(`<a href="%s" target="_blank" rel="noopener">📎 Фото</a>`, file(msg, "0")),
		fmt.Sprintf(`<a href="%s" download>📎 Файл «Расчётный лист.pdf»</a>`, file(msg, "1")))
	gym := b.browser("192.0.2.2")
	gym.signIn(b.gymChair)

	tests := []struct {
		name   string
		by     *browser
		url    string
		status int
		data   []byte // the file's bytes, for a file served
		// headers of a file served; parts of the page otherwise.
		headers map[string]string
		parts   []string
	}{
		{"the photo, shown", school, file(msg, "0"), http.StatusOK, tg.FileData(photo), map[string]string{
			"Content-Type": "image/png", "Content-Disposition": fmt.Sprintf(`inline; filename=ticket-%d-%d-1.png`, id, msg),
			"Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff"}, nil},
		{"the document, downloaded", school, file(msg, "1"), http.StatusOK, tg.FileData(doc), map[string]string{
			"Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename*=utf-8''%D0%A0%D0%B0%D1%81%D1%87%D1%91%D1%82%D0%BD%D1%8B%D0%B9%20%D0%BB%D0%B8%D1%81%D1%82.pdf`,
			"Content-Security-Policy": "default-src 'none'; sandbox"}, nil},
		{"a sibling's chair is refused", gym, file(msg, "0"), http.StatusForbidden, nil, nil, []string{"нет прав"}},
		{"a message of another ticket", school, file(msg+1, "0"), http.StatusNotFound, nil, nil, nil},
		{"an index the message lacks", school, file(msg, "4"), http.StatusNotFound, nil, nil, nil},
		{"an index that is no number", school, file(msg, "x"), http.StatusNotFound, nil, nil, nil},
		{"a messenger not connected", school, file(msg, "2"), http.StatusServiceUnavailable, nil, nil, []string{"не подключён"}},
		{"a file the messenger lost", school, file(msg, "3"), http.StatusBadGateway, nil, nil, []string{"больше не отдаёт"}},
	}
	for _, tt := range tests {
		// One after another: the browsers keep cookies.
		t.Run(tt.name, func(t *testing.T) {
			w := tt.by.get(tt.url)
			want(t, w, tt.status, tt.parts...)
			if tt.data == nil {
				if strings.HasPrefix(w.Header().Get("Content-Type"), "image/") || w.Header().Get("Content-Disposition") != "" {
					t.Fatalf("a refusal served a file: %v", w.Header())
				}
				return
			}
			if !bytes.Equal(w.Body.Bytes(), tt.data) {
				t.Errorf("served %d bytes, want the %d the member sent", w.Body.Len(), len(tt.data))
			}
			for k, v := range tt.headers {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
	wantAudit := []string{fmt.Sprintf("ticket:%d:message:%d:file:1", id, msg), fmt.Sprintf("ticket:%d:message:%d:file:0", id, msg)}
	if got := b.audited(auditTicketFile); strings.Join(got, " ") != strings.Join(wantAudit, " ") {
		t.Errorf("audited %q, want %q", got, wantAudit)
	}
}
