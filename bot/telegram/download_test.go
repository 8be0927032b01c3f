package telegram_test

import (
	"bytes"
	"errors"
	"image"
	_ "image/png" // the fake's photos are PNG
	"testing"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
)

func TestDownloadFilesPeopleSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		send func(f *platformtest.Telegram) int64
		// photo: the bytes must be an image of the largest size.
		photo bool
	}{
		{"photo at its largest size", func(f *platformtest.Telegram) int64 { return f.SendPhoto(anna, "смотрите") }, true},
		{"document", func(f *platformtest.Telegram) int64 { return f.SendDocument(anna, "Договор.pdf", "") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			a := newAdapter(t, testConfig(t, f))
			sink := &recordingSink{}
			run(t, a, sink)
			id := tt.send(f)
			f.Await(t, "the update in the sink", func() bool { return len(sink.got()) == 1 })
			files := sink.got()[0].Attachments
			if len(files) != 1 {
				t.Fatalf("attachments %+v, want one", files)
			}
			got, err := a.Download(t.Context(), files[0])
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			want := f.FileData(f.Attachment(id).FileID)
			if len(want) == 0 || !bytes.Equal(got, want) {
				t.Fatalf("downloaded %d bytes, want the %d the person sent", len(got), len(want))
			}
			if tt.photo {
				img, _, err := image.DecodeConfig(bytes.NewReader(got))
				if err != nil || img.Width != 1280 {
					t.Errorf("photo %+v, %v; want the 1280 pixels wide size", img, err)
				}
			}
			if f.Calls("getfile") != 1 || f.Calls("file") != 1 {
				t.Errorf("getFile called %d times, the file server %d; want once each", f.Calls("getfile"), f.Calls("file"))
			}
		})
	}
}

func TestDownloadRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file func(f *platformtest.Telegram) bot.Attachment
		want error
	}{
		{"unknown file id", func(*platformtest.Telegram) bot.Attachment {
			return bot.Attachment{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: "AgACAgIAAxkBAAIno-such-file"}
		}, bot.ErrFileGone},
		{"over 20 MB", func(f *platformtest.Telegram) bot.Attachment {
			id := f.Attachment(f.SendBigDocument(anna, "scan.pdf", 21<<20)).FileID
			return bot.Attachment{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: id, Name: "scan.pdf"}
		}, bot.ErrFileTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			a := newAdapter(t, testConfig(t, f))
			data, err := a.Download(t.Context(), tt.file(f))
			if !errors.Is(err, tt.want) || data != nil {
				t.Fatalf("download: %d bytes, %v; want %v", len(data), err, tt.want)
			}
			if f.Calls("file") != 0 {
				t.Errorf("the file server was asked %d times, want none", f.Calls("file"))
			}
		})
	}
	t.Run("a file of another platform", func(t *testing.T) {
		t.Parallel()
		f := platformtest.NewTelegram(t)
		a := newAdapter(t, testConfig(t, f))
		if _, err := a.Download(t.Context(), bot.Attachment{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo1_2"}); err == nil {
			t.Fatal("downloaded a VK file from Telegram")
		}
	})
}
