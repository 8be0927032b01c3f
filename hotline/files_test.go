package hotline_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// files is a messenger's file source that knows some files by id.
type files map[string][]byte

func (f files) Download(_ context.Context, a storage.Attachment) ([]byte, error) {
	if data, ok := f[a.FileID]; ok {
		return data, nil
	}
	return nil, storage.ErrFileGone
}

func TestCaseFile(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	svc := hotline.New(hotline.Config{Store: b.store, Notifier: b.heard,
		Files: map[storage.Platform]hotline.FileSource{storage.Telegram: files{"tg-photo": []byte("photo bytes"), "tg-doc": []byte("doc bytes")}},
		Clock: func() time.Time { return b.now }, Logger: slog.New(slog.DiscardHandler)})
	chair := b.person("school", storage.RoleChair)
	above := b.person("edu", storage.RoleChair)
	sibling := b.person("gymnasium", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	asked, err := svc.Ask(b.ctx, member, hotline.Question{OrgID: b.org["school"].ID, Topic: "wages", Message: hotline.Message{
		Text: "See the payslip", Files: []storage.Attachment{
			{Platform: storage.Telegram, Kind: "photo", FileID: "tg-photo"},
			{Platform: storage.Telegram, Kind: "document", FileID: "tg-doc", Name: "payslip.pdf"},
			{Platform: storage.VK, Kind: "photo", FileID: "photo1_2_key"},
			{Platform: storage.Telegram, Kind: "photo", FileID: "tg-gone"},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	thread, err := b.store.TicketMessages(b.ctx, asked.Ticket.ID)
	if err != nil || len(thread) != 1 {
		t.Fatalf("thread %+v, %v", thread, err)
	}
	id, msg := asked.Ticket.ID, thread[0].ID
	tests := []struct {
		name    string
		by      access.Actor
		ticket  int64
		message int64
		n       int
		want    string
		err     error
	}{
		{"the chair gets the photo", chair, id, msg, 0, "photo bytes", nil},
		{"the level above gets the document", above, id, msg, 1, "doc bytes", nil},
		{"a sibling's chair is refused", sibling, id, msg, 0, "", access.ErrForbidden},
		{"the member is refused", member, id, msg, 0, "", access.ErrForbidden},
		{"no such file of the message", chair, id, msg, 4, "", storage.ErrNotFound},
		{"a negative index", chair, id, msg, -1, "", storage.ErrNotFound},
		{"a message of no such ticket", chair, id, msg + 100, 0, "", storage.ErrNotFound},
		{"no such ticket", chair, id + 100, msg, 0, "", storage.ErrNotFound},
		{"a messenger without a bot", chair, id, msg, 2, "", hotline.ErrNotConnected},
		{"a file the messenger lost", chair, id, msg, 3, "", storage.ErrFileGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ticket, f, err := svc.CaseFile(b.ctx, tt.by, tt.ticket, tt.message, tt.n)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if string(f.Data) != tt.want {
				t.Errorf("data %q, want %q", f.Data, tt.want)
			}
			if tt.err == nil && ticket.ID != id {
				t.Errorf("ticket %d, want %d", ticket.ID, id)
			}
			if errors.Is(tt.err, storage.ErrFileGone) && !errors.Is(err, hotline.ErrFileUnavailable) {
				t.Errorf("error %v is no hotline.ErrFileUnavailable", err)
			}
		})
	}
}
