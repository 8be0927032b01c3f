package vk_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
)

// The link VK gives with a person's message is kept at intake, and the
// file downloaded from it later; sending the file again still works.
func TestDownloadFilesPeopleSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		send func(f *platformtest.VK) string
	}{
		{"photo at its largest size", func(f *platformtest.VK) string { return f.SendPhoto(ivan, "смотрите") }},
		{"document", func(f *platformtest.VK) string { return f.SendDoc(ivan, "Договор.pdf", "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, a, s := startPolling(t)
			id := tt.send(f)
			u := s.next(t)
			for u.ID != id {
				u = s.next(t)
			}
			if len(u.Attachments) != 1 {
				t.Fatalf("attachments %+v, want one", u.Attachments)
			}
			file := u.Attachments[0]
			if !strings.Contains(file.FileID, f.FileURL(id)) {
				t.Fatalf("file id %q keeps no link to %q", file.FileID, f.FileURL(id))
			}
			got, err := a.Download(t.Context(), file)
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if want := f.FileData(id); len(want) == 0 || !bytes.Equal(got, want) {
				t.Fatalf("downloaded %d bytes, want the %d the person sent", len(got), len(want))
			}
			if _, err := a.Send(t.Context(), bot.Message{ChatID: "501", Attachments: u.Attachments}); err != nil {
				t.Fatalf("send the file again: %v", err)
			}
			sent := f.Messages(ivan.ID)
			if last := sent[len(sent)-1]; len(last.Attachments) != 1 || last.Attachments[0] != f.Attachment(id) {
				t.Errorf("sent again as %+v, want %q", last.Attachments, f.Attachment(id))
			}
		})
	}
}

func TestDownloadRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file func(t *testing.T, f *platformtest.VK, s *testSink) bot.Attachment
		want error
	}{
		{"an expired link", func(t *testing.T, f *platformtest.VK, s *testSink) bot.Attachment {
			f.SendDoc(ivan, "Договор.pdf", "")
			file := s.next(t).Attachments[0]
			f.ExpireFiles()
			return file
		}, bot.ErrFileGone},
		{"no link kept", func(*testing.T, *platformtest.VK, *testSink) bot.Attachment {
			return bot.Attachment{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo501_457239001_abc"}
		}, bot.ErrFileGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, a, s := startPolling(t)
			data, err := a.Download(t.Context(), tt.file(t, f, s))
			if !errors.Is(err, tt.want) || data != nil {
				t.Fatalf("download: %d bytes, %v; want %v", len(data), err, tt.want)
			}
		})
	}
}
