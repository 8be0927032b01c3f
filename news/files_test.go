package news_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// picture encodes a w×h image in format.
func picture(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), []color.Color{color.White, color.Black})
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStoreFileByItsContent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	pdf := []byte("%PDF-1.7\nповестка")
	tests := []struct {
		name string
		u    news.Upload
		kind string
		file string
		err  error
	}{
		{"a JPEG", news.Upload{Name: "собрание.jpg", Data: picture(t, "jpeg", 800, 600)}, storage.FilePhoto, "собрание.jpg", nil},
		{"a PNG named as a PDF", news.Upload{Name: "отчёт.pdf", Data: picture(t, "png", 300, 200)}, storage.FilePhoto, "отчёт.pdf", nil},
		{"a GIF", news.Upload{Name: "a.gif", Data: picture(t, "gif", 30, 20)}, storage.FilePhoto, "a.gif", nil},
		{"a PDF", news.Upload{Name: `C:\Users\anna\повестка.pdf`, Data: pdf}, storage.FileDocument, "повестка.pdf", nil},
		{"a PDF named as a JPEG", news.Upload{Name: "фото.jpg", Data: pdf}, storage.FileDocument, "фото.jpg", nil},
		{"a picture as a document", news.Upload{Name: "схема.png", Kind: news.FileDocument, Data: picture(t, "png", 30, 20)}, storage.FileDocument, "схема.png", nil},
		{"a long strip goes as a document", news.Upload{Name: "лента.png", Data: picture(t, "png", 2100, 100)}, storage.FileDocument, "лента.png", nil},
		{"a name of control characters", news.Upload{Name: "\x00\u202e", Data: pdf}, storage.FileDocument, "document", nil},
		{"a long name keeps its extension", news.Upload{Name: strings.Repeat("я", 300) + ".docx", Data: pdf}, storage.FileDocument, strings.Repeat("я", 115) + ".docx", nil},
		{"a PDF as a photo", news.Upload{Name: "фото.jpg", Kind: news.FilePhoto, Data: pdf}, "", "", news.ErrNotAPhoto},
		{"a photo out of proportion", news.Upload{Kind: news.FilePhoto, Data: picture(t, "png", 2100, 100)}, "", "", news.ErrPhotoShape},
		{"a kind nobody offers", news.Upload{Name: "a.mp4", Kind: "video", Data: pdf}, "", "", news.ErrFileKind},
		{"empty", news.Upload{Name: "пусто.pdf"}, "", "", news.ErrFileEmpty},
		{"too big", news.Upload{Name: "big.pdf", Data: make([]byte, news.MaxFileBytes+1)}, "", "", news.ErrFileTooBig},
	}
	for _, tt := range tests {
		stored, err := f.svc.StoreFile(f.ctx, chair, tt.u)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		sum := sha256.Sum256(tt.u.Data)
		if err != nil || stored.Kind != tt.kind || stored.Name != tt.file || stored.PersonID != chair.PersonID || stored.Size != len(tt.u.Data) ||
			stored.SHA256 != hex.EncodeToString(sum[:]) || !stored.CreatedAt.Equal(f.clock()) {
			t.Errorf("%s: stored %+v, %v; want a %s named %q", tt.name, stored, err, tt.kind, tt.file)
		}
	}
	// Nobody who may not publish stores files.
	member := f.actor(f.person("school", storage.RoleMember))
	if _, err := f.svc.StoreFile(f.ctx, member, news.Upload{Name: "a.pdf", Data: pdf}); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a member stores a file: %v", err)
	}
}

func TestOnlyTheUploaderSendsTheirFile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	other := f.actor(f.person("edu", storage.RoleInfoworker))
	file, err := f.svc.StoreFile(f.ctx, chair, news.Upload{Name: "собрание.png", Data: picture(t, "png", 64, 48)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.File(f.ctx, other, file.ID); !errors.Is(err, news.ErrNotYourFile) {
		t.Errorf("another's file: %v", err)
	}
	if _, err := f.svc.Create(f.ctx, other, news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание", FileID: file.ID}, nil); !errors.Is(err, news.ErrNotYourFile) {
		t.Errorf("another sends the file: %v", err)
	}
	if _, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, FileID: 987654}, nil); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("no such file: %v", err)
	}
	// A file needs no text; its uploader sends it.
	b, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, FileID: file.ID}, nil)
	if err != nil || f.broadcast(b.ID).FileID != file.ID {
		t.Fatalf("the uploader's broadcast %+v, %v", b, err)
	}
	// Who follows the broadcast sees its file; a sibling does not.
	union := f.actor(f.person("union", storage.RoleInfoworker))
	sibling := f.actor(f.person("health", storage.RoleChair))
	if got, err := f.svc.BroadcastFile(f.ctx, union, b.ID); err != nil || got.Name != "собрание.png" || len(got.Data) != file.Size {
		t.Errorf("the union reads the file: %+v, %v", got.Name, err)
	}
	if _, err := f.svc.BroadcastFile(f.ctx, sibling, b.ID); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a sibling reads the file: %v", err)
	}
	plain, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Без файла"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.BroadcastFile(f.ctx, chair, plain.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the file of a broadcast without one: %v", err)
	}
}

// The timers prune, a day on, the files no broadcast took.
func TestTheTimersPruneFilesNobodySent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	store := func() storage.NewsFile {
		file, err := f.svc.StoreFile(f.ctx, chair, news.Upload{Name: "повестка.pdf", Data: []byte("%PDF")})
		if err != nil {
			t.Fatal(err)
		}
		return file
	}
	sent, left := store(), store()
	if _, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, FileID: sent.ID}, nil); err != nil {
		t.Fatal(err)
	}
	f.advance(news.FileKeep - time.Minute)
	f.round()
	if _, err := f.svc.File(f.ctx, chair, left.ID); err != nil {
		t.Fatalf("a file pruned before its day: %v", err)
	}
	f.advance(2 * time.Minute)
	f.round()
	if _, err := f.svc.File(f.ctx, chair, left.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an unsent file a day old: %v", err)
	}
	if _, err := f.svc.File(f.ctx, chair, sent.ID); err != nil {
		t.Errorf("a sent file was pruned: %v", err)
	}
}

// A level offered a relayed item hears of the file that goes with it.
func TestARelayOfferNamesTheFile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	author := f.actor(f.person("union", storage.RoleInfoworker))
	f.person("edu", storage.RoleInfoworker)
	file, err := f.svc.StoreFile(f.ctx, author, news.Upload{Name: "повестка.pdf", Data: []byte("%PDF")})
	if err != nil {
		t.Fatal(err)
	}
	b := must(f.svc.Create(f.ctx, author, news.Draft{OrgID: f.org["union"].ID, Text: "Семинар", FileID: file.ID, Relay: true}, nil))(t)
	if err := f.svc.Start(f.ctx, author, b); err != nil {
		t.Fatal(err)
	}
	offered := 0
	for _, got := range f.told.take() {
		if got.kind != "relay" {
			continue
		}
		offered++
		if got.file != "повестка.pdf" {
			t.Errorf("the offer to %s names the file %q", got.org, got.file)
		}
	}
	if offered == 0 {
		t.Fatal("no level was offered the item")
	}
}
