package broadcast_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
	"github.com/unionhub/unionhub/bot/vk"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
)

// testPNG encodes a w×h image as PNG.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 13)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withFile builds the outbox of a direct broadcast to everyone that carries
// a file stored as the console stores it.
func (w world) withFile(t *testing.T, kind, name string, data []byte) storage.Broadcast {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256(data)
	f, err := w.db.SaveNewsFile(ctx, storage.NewsFile{Name: name, Kind: kind, Size: len(data), SHA256: hex.EncodeToString(sum[:]), Data: data, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.db.CreateBroadcast(ctx, storage.Broadcast{OrgID: w.union.ID, Text: "Собрание в пятницу", Mode: storage.ModeDirect, FileID: f.ID,
		Status: storage.BroadcastScheduled, Audience: storage.Audience{Private: true, Chats: true}, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.BuildOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{w.union}, Subtree: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if b, err = w.db.SetBroadcastStatus(ctx, b.ID, storage.BroadcastScheduled, storage.BroadcastSending, time.Now()); err != nil {
		t.Fatal(err)
	}
	return b
}

// engine runs with senders side by side: 64 make the first deliveries of
// a file go at once.
func engine(w world, senders int, platforms map[bot.Platform]bot.Sender) *broadcast.Engine {
	return broadcast.New(broadcast.Config{Lease: 5 * time.Second, Idle: 20 * time.Millisecond, Backoff: 50 * time.Millisecond, Senders: senders,
		Store: w.db, Platforms: platforms, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
}

// On Telegram the 64 senders of the first batch wait for the one that
// uploads the file, and every other recipient gets it by its file_id. A
// member who blocked the bot costs the upload that went to them (with one
// sender, the first recipient uploads first), and the next one uploads
// again.
func TestTelegramUploadsABroadcastsFileOnce(t *testing.T) {
	t.Parallel()
	photo := testPNG(t, 1200, 800)
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("повестка "), 500)...)
	tests := []struct {
		name, kind, file string
		data             []byte
		blockFirst       bool
		senders          int
	}{
		{"a photo", storage.FilePhoto, "собрание.png", photo, false, 64},
		{"a document", storage.FileDocument, "повестка.pdf", pdf, false, 64},
		{"a photo, the first recipient blocked", storage.FilePhoto, "собрание.png", photo, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 100
			w := newWorld(t, storage.Telegram, n)
			f := platformtest.NewTelegram(t)
			var ids []int64
			for _, m := range w.members {
				id, _ := strconv.ParseInt(m, 10, 64)
				ids = append(ids, id)
			}
			f.Meet(ids...)
			blocked := int64(0)
			if tt.blockFirst {
				blocked = ids[0] // the first claimed: members come in person order
				f.Block(blocked)
			}
			a, err := telegram.New(context.Background(), telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			b := w.withFile(t, tt.kind, tt.file, tt.data)
			runUntilDone(t, engine(w, tt.senders, map[bot.Platform]bot.Sender{bot.Telegram: a}), w.db, b.ID)

			ref, err := w.db.FileRef(context.Background(), b.ID, storage.Telegram)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				msgs := f.Messages(id)
				if id == blocked {
					if len(msgs) != 0 {
						t.Fatalf("the member who blocked the bot got %+v", msgs)
					}
					continue
				}
				if len(msgs) != 1 || msgs[0].Text != b.Text || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].Kind != tt.kind {
					t.Fatalf("member %d got %+v", id, msgs)
				}
				if got := msgs[0]; got.Upload == nil && got.Attachments[0].FileID != ref {
					t.Fatalf("member %d got the file by %q, the recorded reference is %q", id, got.Attachments[0].FileID, ref)
				}
			}
			want := 1
			if tt.blockFirst {
				want = 2
			}
			if got := f.Uploads(); got != want {
				t.Errorf("%d uploads for %d recipients, want %d", got, n, want)
			}
		})
	}
}

// On VK the first call uploads alone (docs need a peer), the rest go 100
// at a time with the attachment string; a member who blocked the bot
// keeps nobody from learning it, as VK took the file before refusing the
// message.
func TestVKUploadsABroadcastsFileOnce(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{storage.FilePhoto, storage.FileDocument} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			const n = 150
			w := newWorld(t, storage.VK, n)
			f := platformtest.NewVK(t)
			var ids []int
			for _, m := range w.members {
				id, _ := strconv.Atoi(m)
				ids = append(ids, id)
			}
			f.Meet(ids...)
			f.Block(ids[0])
			a, err := vk.New(context.Background(), vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL(), Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			data, name := testPNG(t, 640, 480), "собрание.png"
			if kind == storage.FileDocument {
				data, name = []byte("%PDF-1.7 повестка"), "повестка.pdf"
			}
			b := w.withFile(t, kind, name, data)
			runUntilDone(t, engine(w, 64, map[bot.Platform]bot.Sender{bot.VK: a}), w.db, b.ID)
			ref, err := w.db.FileRef(context.Background(), b.ID, storage.VK)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids[1:] {
				msgs := f.Messages(id)
				if len(msgs) != 1 || msgs[0].Text != b.Text || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0] != ref || !bytes.Equal(msgs[0].Upload, data) {
					t.Fatalf("member %d got %+v; the reference is %q", id, msgs, ref)
				}
			}
			if !strings.HasPrefix(ref, map[string]string{storage.FilePhoto: "photo-", storage.FileDocument: "doc-"}[kind]) || f.Uploads() != 1 {
				t.Errorf("reference %q after %d uploads, want one", ref, f.Uploads())
			}
			if calls := f.Calls("messages.send"); calls > 4 {
				t.Errorf("%d messages.send calls for %d people: after the upload they go 100 at a time", calls, n)
			}
		})
	}
}

// A reference another replica recorded is used: nothing is uploaded here.
func TestAReferenceInTheDatabaseWins(t *testing.T) {
	t.Parallel()
	const n = 20
	w := newWorld(t, storage.Telegram, n)
	f := platformtest.NewTelegram(t)
	var ids []int64
	for _, m := range w.members {
		id, _ := strconv.ParseInt(m, 10, 64)
		ids = append(ids, id)
	}
	f.Meet(append(ids, 77)...)
	a, err := telegram.New(context.Background(), telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	photo := testPNG(t, 300, 200)
	// The other replica's upload, to someone outside this audience.
	other, err := a.Send(context.Background(), bot.Message{ChatID: "77", Upload: &bot.Upload{Name: "собрание.png", Data: photo}})
	if err != nil {
		t.Fatal(err)
	}
	b := w.withFile(t, storage.FilePhoto, "собрание.png", photo)
	if _, err := w.db.SetFileRef(context.Background(), b.ID, storage.Telegram, other.Uploaded); err != nil {
		t.Fatal(err)
	}
	runUntilDone(t, engine(w, 64, map[bot.Platform]bot.Sender{bot.Telegram: a}), w.db, b.ID)
	for _, id := range ids {
		if msgs := f.Messages(id); len(msgs) != 1 || msgs[0].Upload != nil || msgs[0].Attachments[0].FileID != other.Uploaded {
			t.Fatalf("member %d got %+v", id, msgs)
		}
	}
	if f.Uploads() != 1 {
		t.Errorf("%d uploads: the engine uploaded what another replica had", f.Uploads())
	}
}

// Every call a delivery takes waits for its turn under the limit: on VK
// the upload's server and save before the first send, on Telegram the
// text after a file whose caption it cannot be; the platform never says
// too many.
func TestEveryCallOfAFileTakesItsTurn(t *testing.T) {
	t.Parallel()
	rate := storage.Rate{PerPeriod: 5, Period: time.Second, Burst: 5}
	t.Run("vk", func(t *testing.T) {
		t.Parallel()
		const n = 250
		w := newWorld(t, storage.VK, n)
		f := platformtest.NewVK(t)
		var ids []int
		for _, m := range w.members {
			id, _ := strconv.Atoi(m)
			ids = append(ids, id)
		}
		f.Meet(ids...)
		a, err := vk.New(context.Background(), vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		f.EnforceLimits(rate.PerPeriod)
		b := w.withFile(t, storage.FileDocument, "повестка.pdf", []byte("%PDF-1.7 повестка"))
		e := broadcast.New(broadcast.Config{Lease: 5 * time.Second, Idle: 20 * time.Millisecond, Senders: 64, Rates: map[bot.Platform]storage.Rate{bot.VK: rate},
			Store: w.db, Platforms: map[bot.Platform]bot.Sender{bot.VK: a}, Limiter: redis.NewMemory(nil), Compose: compose, Logger: quiet})
		runUntilDone(t, e, w.db, b.ID)
		if f.TooManyCount() != 0 || f.Uploads() != 1 {
			t.Fatalf("%d refusals for too many calls, %d uploads", f.TooManyCount(), f.Uploads())
		}
		if c := counts(t, w.db, b.ID); c[storage.DeliverySent] != n {
			t.Fatalf("outbox after the broadcast: %v", c)
		}
	})
	t.Run("telegram", func(t *testing.T) {
		t.Parallel()
		const n = 8
		w := newWorld(t, storage.Telegram, n)
		f := platformtest.NewTelegram(t)
		var ids []int64
		for _, m := range w.members {
			id, _ := strconv.ParseInt(m, 10, 64)
			ids = append(ids, id)
		}
		f.Meet(ids...)
		// The platform allows a little more than the engine's rate, for a
		// loaded machine's timers; unpaced, the text after each file would
		// still double the calls, far beyond it.
		f.EnforceLimits(platformtest.TGLimits{PerSecond: rate.PerPeriod + 2})
		a, err := telegram.New(context.Background(), telegram.Config{Token: platformtest.TelegramToken, APIURL: f.URL(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		long := func(_ context.Context, b storage.Broadcast, _ storage.Delivery) bot.Message {
			return bot.Message{Text: strings.Repeat(b.Text+" ", 100)} // beyond a caption's 1,024
		}
		b := w.withFile(t, storage.FilePhoto, "собрание.png", testPNG(t, 200, 100))
		e := broadcast.New(broadcast.Config{Lease: 5 * time.Second, Idle: 20 * time.Millisecond, Senders: 64, Rates: map[bot.Platform]storage.Rate{bot.Telegram: rate},
			Store: w.db, Platforms: map[bot.Platform]bot.Sender{bot.Telegram: a}, Limiter: redis.NewMemory(nil), Compose: long, Logger: quiet})
		start := time.Now()
		runUntilDone(t, e, w.db, b.ID)
		for _, id := range ids {
			if msgs := f.Messages(id); len(msgs) != 2 || len(msgs[0].Attachments) != 1 || len(msgs[1].Text) < 1024 {
				t.Fatalf("member %d got %+v", id, msgs)
			}
		}
		// 16 messages at 5 a second: three seconds at least.
		if f.TooManyCount() != 0 || time.Since(start) < 2500*time.Millisecond {
			t.Fatalf("%d refusals for too many calls; %d messages took %s", f.TooManyCount(), 2*n, time.Since(start))
		}
	})
}
