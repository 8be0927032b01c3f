package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
)

func TestNew(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	t.Cleanup(func() { // after the parallel subtests
		// Bad configs are refused before any call; the fake does not count a wrong token.
		if n := f.Calls("getMe"); n != 2 {
			t.Errorf("getMe calls = %d, want one per valid config", n)
		}
	})
	cases := []struct {
		name    string
		modify  func(*telegram.Config)
		wantErr bool
	}{
		{"long polling", func(*telegram.Config) {}, false},
		{"webhook with secret", func(c *telegram.Config) { c.WebhookURL, c.WebhookSecret = "https://hub.example.org/tg", "s3cret-_" }, false},
		{"webhook without secret", func(c *telegram.Config) { c.WebhookURL = "https://hub.example.org/tg" }, true},
		{"webhook with bad secret", func(c *telegram.Config) { c.WebhookURL, c.WebhookSecret = "https://hub.example.org/tg", "not allowed!" }, true},
		{"empty token", func(c *telegram.Config) { c.Token = " " }, true},
		{"wrong token", func(c *telegram.Config) { c.Token = "654321:WRONG" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t, f)
			tc.modify(&cfg)
			a, err := telegram.New(t.Context(), cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("New error = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && a.Username() != platformtest.TelegramBotUsername {
				t.Fatalf("username = %q", a.Username())
			}
		})
	}
}

func TestSendEditAnswer(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	ctx := t.Context()
	f.SendText(anna, "hi")

	if a.Platform() != bot.Telegram {
		t.Fatalf("platform = %q", a.Platform())
	}
	sent, err := a.Send(ctx, bot.Message{ChatID: "1001", Text: "Choose", Keyboard: bot.Keyboard{
		{{Text: "Yes", Data: "vote:yes"}, {Text: "Site", URL: "https://example.org/a?b=c"}},
		{{Text: "No", Data: "vote:no"}},
	}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := f.Messages(anna.ID)
	if len(msgs) != 1 || sent != (bot.Sent{ChatID: "1001", MessageID: strconv.Itoa(msgs[0].ID)}) {
		t.Fatalf("sent %+v, fake has %+v", sent, msgs)
	}
	wantButtons := [][]platformtest.TGButton{
		{{Text: "Yes", Data: "vote:yes"}, {Text: "Site", URL: "https://example.org/a?b=c"}},
		{{Text: "No", Data: "vote:no"}},
	}
	if msgs[0].Text != "Choose" || !reflect.DeepEqual(msgs[0].Buttons, wantButtons) {
		t.Fatalf("message = %+v", msgs[0])
	}

	edited := bot.Message{Text: "Chosen: yes", Keyboard: bot.Keyboard{{{Text: "Undo", Data: "vote:undo"}}}}
	for i := range 2 { // the second edit changes nothing, which is no error
		if err := a.Edit(ctx, sent, edited); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	if n := f.Calls("editMessageText"); n != 2 {
		t.Fatalf("editMessageText calls = %d, want 2", n)
	}
	if m := f.Messages(anna.ID)[0]; m.Text != "Chosen: yes" || !reflect.DeepEqual(m.Buttons, [][]platformtest.TGButton{{{Text: "Undo", Data: "vote:undo"}}}) {
		t.Fatalf("after edit = %+v", m)
	}
	if err := a.Edit(ctx, sent, bot.Message{Text: "Done"}); err != nil {
		t.Fatalf("edit without keyboard: %v", err)
	}
	if m := f.Messages(anna.ID)[0]; m.Text != "Done" || len(m.Buttons) != 0 {
		t.Fatalf("edit without keyboard left %+v", m)
	}

	if _, err := a.Send(ctx, bot.Message{ChatID: "1001", Text: "plain"}); err != nil {
		t.Fatalf("send without keyboard: %v", err)
	}
	if m := f.Messages(anna.ID)[1]; m.Text != "plain" || m.Buttons != nil {
		t.Fatalf("plain message = %+v", m)
	}

	upd := f.Press(anna, anna.ID, msgs[0].ID, "vote:undo")
	qid := f.CallbackQueryID(upd)
	if err := a.AnswerCallback(ctx, &bot.Update{Callback: &bot.Callback{ID: qid}}, "Saved"); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if text, ok := f.CallbackAnswer(qid); !ok || text != "Saved" {
		t.Fatalf("answer on the fake = %q, %v", text, ok)
	}
	if err := a.AnswerCallback(ctx, &bot.Update{}, ""); err == nil || f.Calls("answerCallbackQuery") != 1 {
		t.Fatalf("answering a non-callback: err %v, calls %d", err, f.Calls("answerCallbackQuery"))
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	type want struct {
		blocked, gone bool
		retryAfter    time.Duration // > 0: a *bot.RateLimitError
		sdk           error         // the SDK error kept in the chain
	}
	cases := []struct {
		name string
		prep func(f *platformtest.Telegram)
		call func(ctx context.Context, a *telegram.Adapter) error
		want want
	}{
		{
			name: "blocked",
			prep: func(f *platformtest.Telegram) { f.Block(boris.ID) },
			call: sendTo("2002"),
			want: want{blocked: true, sdk: tgbot.ErrorForbidden},
		},
		{
			name: "deactivated",
			prep: func(f *platformtest.Telegram) { f.FailNext("sendMessage", 1, 403, "Forbidden: user is deactivated", 0) },
			call: sendTo("2002"),
			want: want{blocked: true, sdk: tgbot.ErrorForbidden},
		},
		{
			name: "kicked from group",
			prep: func(f *platformtest.Telegram) {
				f.FailNext("sendMessage", 1, 403, "Forbidden: bot was kicked from the supergroup chat", 0)
			},
			call: sendTo("-1001234567890"),
			want: want{gone: true, sdk: tgbot.ErrorForbidden},
		},
		{
			name: "never wrote",
			call: sendTo("3003"),
			want: want{gone: true, sdk: tgbot.ErrorBadRequest},
		},
		{
			name: "rate limited send",
			prep: func(f *platformtest.Telegram) { f.FailNext("sendMessage", 1, 429, "", 7) },
			call: sendTo("2002"),
			want: want{retryAfter: 7 * time.Second},
		},
		{
			name: "rate limited edit",
			prep: func(f *platformtest.Telegram) { f.FailNext("editMessageText", 1, 429, "", 3600) },
			call: func(ctx context.Context, a *telegram.Adapter) error {
				return a.Edit(ctx, bot.Sent{ChatID: "2002", MessageID: "1"}, bot.Message{Text: "x"})
			},
			want: want{retryAfter: time.Hour},
		},
		{
			name: "blocked edit",
			prep: func(f *platformtest.Telegram) { f.Block(boris.ID) },
			call: func(ctx context.Context, a *telegram.Adapter) error {
				return a.Edit(ctx, bot.Sent{ChatID: "2002", MessageID: "1"}, bot.Message{Text: "x"})
			},
			want: want{blocked: true, sdk: tgbot.ErrorForbidden},
		},
		{
			name: "rate limited answer",
			prep: func(f *platformtest.Telegram) { f.FailNext("answerCallbackQuery", 1, 429, "", 2) },
			call: func(ctx context.Context, a *telegram.Adapter) error {
				return a.AnswerCallback(ctx, &bot.Update{Callback: &bot.Callback{ID: "1"}}, "")
			},
			want: want{retryAfter: 2 * time.Second},
		},
		{
			name: "other bad request",
			prep: func(f *platformtest.Telegram) {
				f.FailNext("sendMessage", 1, 400, "Bad Request: can't parse entities", 0)
			},
			call: sendTo("2002"),
			want: want{sdk: tgbot.ErrorBadRequest},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			a := newAdapter(t, testConfig(t, f))
			f.SendText(boris, "hi")
			if tc.prep != nil {
				tc.prep(f)
			}
			err := tc.call(t.Context(), a)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, bot.ErrBlocked) != tc.want.blocked || errors.Is(err, bot.ErrChatGone) != tc.want.gone {
				t.Fatalf("err %v: blocked %v gone %v, want %+v", err, errors.Is(err, bot.ErrBlocked), errors.Is(err, bot.ErrChatGone), tc.want)
			}
			var limit *bot.RateLimitError
			if errors.As(err, &limit) != (tc.want.retryAfter > 0) || (limit != nil && limit.RetryAfter != tc.want.retryAfter) {
				t.Fatalf("err %v: rate limit %+v, want retry after %s", err, limit, tc.want.retryAfter)
			}
			var tooMany *tgbot.TooManyRequestsError
			if tc.want.retryAfter > 0 && !errors.As(err, &tooMany) {
				t.Fatalf("err %v lost the SDK's error", err)
			}
			if tc.want.sdk != nil && !errors.Is(err, tc.want.sdk) {
				t.Fatalf("err %v does not wrap %v", err, tc.want.sdk)
			}
		})
	}
}

func TestRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	long := strings.Repeat("я", bot.MaxTextRunes+1)
	data := strings.Repeat("d", bot.MaxButtonData+1)
	cases := []struct {
		name string
		call func() error
	}{
		{"long text", func() error { _, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: long}); return err }},
		{"long button data", func() error {
			_, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Keyboard: bot.Keyboard{{{Text: "b", Data: data}}}})
			return err
		}},
		{"bad chat id", func() error { _, err := a.Send(t.Context(), bot.Message{ChatID: "vk:1", Text: "x"}); return err }},
		{"long edit", func() error {
			return a.Edit(t.Context(), bot.Sent{ChatID: "1001", MessageID: "1"}, bot.Message{Text: long})
		}},
		{"bad message id", func() error {
			return a.Edit(t.Context(), bot.Sent{ChatID: "1001", MessageID: "x"}, bot.Message{Text: "x"})
		}},
	}
	for _, tc := range cases {
		if err := tc.call(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if n := f.Calls("sendMessage") + f.Calls("editMessageText"); n != 0 {
		t.Fatalf("%d calls reached the API", n)
	}
	// The limit itself is allowed.
	if _, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: long[:len(long)-len("я")]}); err != nil {
		t.Fatalf("text of exactly %d characters: %v", bot.MaxTextRunes, err)
	}
}

func TestSendMetrics(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	reg := prometheus.NewRegistry()
	cfg := testConfig(t, f)
	cfg.Metrics = bot.NewMetrics(reg)
	a := newAdapter(t, cfg)
	f.SendText(anna, "hi")
	for _, chat := range []string{"1001", "1001", "3003"} {
		_, _ = a.Send(t.Context(), bot.Message{ChatID: chat, Text: "x"})
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, fam := range families {
		if fam.GetName() != "unionhub_sends_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == "telegram" {
				got[labels["outcome"]] = m.GetCounter().GetValue()
			}
		}
	}
	if got["ok"] != 2 || got["error"] != 1 {
		t.Fatalf("sends = %v, want ok 2, error 1", got)
	}
}

func sendTo(chatID string) func(ctx context.Context, a *telegram.Adapter) error {
	return func(ctx context.Context, a *telegram.Adapter) error {
		_, err := a.Send(ctx, bot.Message{ChatID: chatID, Text: "hello"})
		return err
	}
}

func TestSendAttachments(t *testing.T) {
	t.Parallel()
	kb := bot.Keyboard{{{Text: "Take", Data: "t:1"}}}
	buttons := [][]platformtest.TGButton{{{Text: "Take", Data: "t:1"}}}
	vkPhoto := bot.Attachment{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo501_457239017_0f1e2d"}
	long := strings.Repeat("a", 1025)
	emoji := strings.Repeat("😀", 600) // 600 runes, 1,200 UTF-16 code units
	type sentMsg struct {
		text    string
		buttons bool
		files   []string // kinds
	}
	cases := []struct {
		name string
		// files: which of the person's files go along, by kind
		files []string
		extra []bot.Attachment
		text  string
		want  []sentMsg
		lead  int // the message Sent names
	}{
		{"photo with caption", []string{"photo"}, nil, "Ticket 7", []sentMsg{{"Ticket 7", true, []string{"photo"}}}, 0},
		{"caption on the first of two", []string{"photo", "document"}, nil, "Ticket 7",
			[]sentMsg{{"Ticket 7", true, []string{"photo"}}, {"", false, []string{"document"}}}, 0},
		{"caption of exactly 1024", []string{"document"}, nil, long[1:], []sentMsg{{long[1:], true, []string{"document"}}}, 0},
		{"text too long for a caption", []string{"photo", "document"}, nil, long,
			[]sentMsg{{"", false, []string{"photo"}}, {"", false, []string{"document"}}, {long, true, nil}}, 2},
		{"wide characters counted in UTF-16", []string{"photo"}, nil, emoji, []sentMsg{{"", false, []string{"photo"}}, {emoji, true, nil}}, 1},
		{"no text", []string{"photo"}, nil, "", []sentMsg{{"", true, []string{"photo"}}}, 0},
		{"foreign attachment skipped", nil, []bot.Attachment{vkPhoto}, "Ticket 7", []sentMsg{{"Ticket 7", true, nil}}, 0},
		{"foreign skipped, own sent", []string{"document"}, []bot.Attachment{vkPhoto}, "Ticket 7", []sentMsg{{"Ticket 7", true, []string{"document"}}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			a := newAdapter(t, testConfig(t, f))
			f.SendText(anna, "hi")
			var atts []bot.Attachment
			ids := map[string]string{} // kind → file id
			for _, kind := range tc.files {
				var upd int64
				if kind == "photo" {
					upd = f.SendPhoto(boris, "")
				} else {
					upd = f.SendDocument(boris, "act.pdf", "")
				}
				file := f.Attachment(upd)
				ids[kind] = file.FileID
				atts = append(atts, bot.Attachment{Platform: bot.Telegram, Kind: kind, FileID: file.FileID, Name: file.FileName})
			}
			atts = append(atts, tc.extra...)
			sent, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: tc.text, Keyboard: kb, Attachments: atts})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgs := f.Messages(anna.ID)
			if len(msgs) != len(tc.want) {
				t.Fatalf("%d messages, want %d: %+v", len(msgs), len(tc.want), msgs)
			}
			for i, w := range tc.want {
				m := msgs[i]
				var wantFiles []platformtest.TGAttachment
				for _, kind := range w.files {
					a := platformtest.TGAttachment{Kind: kind, FileID: ids[kind]}
					if kind == "document" {
						a.FileName = "act.pdf"
					}
					wantFiles = append(wantFiles, a)
				}
				var wantButtons [][]platformtest.TGButton
				if w.buttons {
					wantButtons = buttons
				}
				if m.Text != w.text || !reflect.DeepEqual(m.Buttons, wantButtons) || !reflect.DeepEqual(m.Attachments, wantFiles) {
					t.Errorf("message %d = %+v, want %+v", i, m, w)
				}
			}
			if want := (bot.Sent{ChatID: "1001", MessageID: strconv.Itoa(msgs[tc.lead].ID)}); sent != want {
				t.Errorf("sent %+v, want %+v", sent, want)
			}
		})
	}
}

func TestSendFormat(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	photo := f.Attachment(f.SendPhoto(boris, ""))
	text := "📰 Союз\n\nСбор подписей"
	format := []bot.Span{{Kind: "bold", Offset: 9, Length: 4}, {Kind: "text_link", Offset: 14, Length: 8, URL: "https://example.org"}}
	want := []platformtest.TGEntity{{Type: "bold", Offset: 9, Length: 4}, {Type: "text_link", Offset: 14, Length: 8, URL: "https://example.org"}}
	sent, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: text, Format: format})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: text, Format: format,
		Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: photo.FileID}}}); err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages(anna.ID)
	if len(msgs) != 2 || !reflect.DeepEqual(msgs[0].Entities, want) || !reflect.DeepEqual(msgs[1].Entities, want) || len(msgs[1].Attachments) != 1 {
		t.Fatalf("sent %+v", msgs)
	}
	if got := msgs[0].Entities[0].Covered(msgs[0].Text); got != "Сбор" {
		t.Errorf("bold covers %q", got)
	}
	// An edit carries its own formatting; plain drops it.
	if err := a.Edit(t.Context(), sent, bot.Message{Text: text}); err != nil {
		t.Fatal(err)
	}
	if m := f.Messages(anna.ID)[0]; m.Entities != nil {
		t.Errorf("edited to plain, still %+v", m.Entities)
	}
	// Formatting that does not fit is refused before any call.
	calls := f.Calls("sendMessage")
	if _, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Format: []bot.Span{{Kind: "bold", Offset: 0, Length: 2}}}); err == nil {
		t.Error("a span past the text was sent")
	}
	if f.Calls("sendMessage") != calls {
		t.Error("a refused message reached the server")
	}
}

func TestSendAttachmentErrors(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	photo := f.Attachment(f.SendPhoto(boris, "")).FileID

	_, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: "video", FileID: photo}}})
	if err == nil || f.Calls("sendPhoto")+f.Calls("sendDocument")+f.Calls("sendMessage") != 0 {
		t.Fatalf("unknown kind: err %v, or a call was made", err)
	}
	_, err = a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: "forged"}}})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "wrong file identifier") {
		t.Fatalf("unknown file id: %v", err)
	}
	// A photo sent as a document: Telegram refuses, the text is not sent alone.
	_, err = a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: photo}}})
	if !errors.Is(err, tgbot.ErrorBadRequest) || len(f.Messages(anna.ID)) != 0 {
		t.Fatalf("photo as document: %v, messages %+v", err, f.Messages(anna.ID))
	}
	f.Block(anna.ID)
	_, err = a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: photo}}})
	if !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("blocked: %v", err)
	}
}

func TestEditMediaMessage(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	doc := f.Attachment(f.SendDocument(boris, "act.pdf", ""))
	m := bot.Message{ChatID: "1001", Text: "Ticket 7", Keyboard: bot.Keyboard{{{Text: "Take", Data: "t:7"}}},
		Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: doc.FileID}}}
	sent, err := a.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	for i := range 2 { // the second changes nothing, which is no error
		if err := a.Edit(t.Context(), sent, bot.Message{Text: "Ticket 7: taken by Boris"}); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	got := f.Messages(anna.ID)
	if len(got) != 1 || got[0].Text != "Ticket 7: taken by Boris" || got[0].Buttons != nil || len(got[0].Attachments) != 1 {
		t.Fatalf("after edit: %+v", got)
	}
	if n := f.Calls("editMessageCaption"); n != 2 {
		t.Fatalf("editMessageCaption calls = %d, want 2", n)
	}
	if err := a.Edit(t.Context(), sent, bot.Message{Text: strings.Repeat("a", 1025)}); err == nil || f.Calls("editMessageCaption") != 2 {
		t.Fatalf("a caption over the limit: err %v, caption calls %d", err, f.Calls("editMessageCaption"))
	}
	if got := f.Messages(anna.ID); got[0].Text != "Ticket 7: taken by Boris" {
		t.Fatalf("a refused edit changed the message: %+v", got[0])
	}
}

// testPNG encodes a w×h image as PNG.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSendUpload(t *testing.T) {
	t.Parallel()
	chart := testPNG(t, 640, 420)
	kb := bot.Keyboard{{{Text: "More", Data: "m:1"}}}
	buttons := [][]platformtest.TGButton{{{Text: "More", Data: "m:1"}}}
	long := strings.Repeat("a", 1025)
	type sentMsg struct {
		text    string
		buttons bool
		upload  bool // the chart's bytes, else a photo by file id or none
		files   int
	}
	cases := []struct {
		name  string
		text  string
		photo bool // a person's photo goes along as an attachment
		want  []sentMsg
		lead  int
	}{
		{"caption and keyboard", "Нормы по организациям", false, []sentMsg{{"Нормы по организациям", true, true, 1}}, 0},
		{"no text", "", false, []sentMsg{{"", true, true, 1}}, 0},
		{"upload before attachments", "Нормы", true, []sentMsg{{"Нормы", true, true, 1}, {"", false, false, 1}}, 0},
		{"text too long for a caption", long, false, []sentMsg{{"", false, true, 1}, {long, true, false, 0}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			a := newAdapter(t, testConfig(t, f))
			f.SendText(anna, "hi")
			m := bot.Message{ChatID: "1001", Text: tc.text, Keyboard: kb, Upload: &bot.Upload{Name: "chart.png", Data: chart}}
			if tc.photo {
				photo := f.Attachment(f.SendPhoto(boris, ""))
				m.Attachments = []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: photo.FileID}}
			}
			sent, err := a.Send(t.Context(), m)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgs := f.Messages(anna.ID)
			if len(msgs) != len(tc.want) {
				t.Fatalf("%d messages, want %d: %+v", len(msgs), len(tc.want), msgs)
			}
			for i, w := range tc.want {
				got := msgs[i]
				var wantButtons [][]platformtest.TGButton
				if w.buttons {
					wantButtons = buttons
				}
				if got.Text != w.text || !reflect.DeepEqual(got.Buttons, wantButtons) || bytes.Equal(got.Upload, chart) != w.upload ||
					len(got.Attachments) != w.files || (w.files > 0 && got.Attachments[0].Kind != "photo") {
					t.Errorf("message %d = text %q buttons %v %d bytes uploaded attachments %+v, want %+v", i, got.Text, got.Buttons, len(got.Upload), got.Attachments, w)
				}
			}
			// The upload leads, named by the file_id of its largest size.
			want := bot.Sent{ChatID: "1001", MessageID: strconv.Itoa(msgs[tc.lead].ID), Uploaded: msgs[0].Attachments[0].FileID}
			if sent != want {
				t.Errorf("sent %+v, want %+v", sent, want)
			}
		})
	}
}

// A file uploaded once goes again by the file_id Send names, never
// uploaded twice: a photo by its largest size, a document as itself.
func TestAnUploadGoesAgainByItsFileID(t *testing.T) {
	t.Parallel()
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("повестка "), 200)...)
	long := strings.Repeat("б", 1500)
	cases := []struct {
		name   string
		upload bot.Upload
		kind   string
		text   string
	}{
		{"a photo", bot.Upload{Name: "собрание.jpg", Data: testPNG(t, 1600, 900)}, bot.AttachPhoto, "Собрание"},
		{"a document", bot.Upload{Name: "повестка.pdf", Kind: bot.AttachDocument, Data: pdf}, bot.AttachDocument, "Повестка"},
		{"a document, the text after it", bot.Upload{Name: "повестка.pdf", Kind: bot.AttachDocument, Data: pdf}, bot.AttachDocument, long},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			a := newAdapter(t, testConfig(t, f))
			f.SendText(anna, "hi")
			f.SendText(boris, "hi")
			sent, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: tc.text, Upload: &tc.upload})
			if err != nil {
				t.Fatal(err)
			}
			first := f.Messages(anna.ID)[0]
			if sent.Uploaded == "" || first.Attachments[0].FileID != sent.Uploaded || first.Attachments[0].Kind != tc.kind ||
				!bytes.Equal(first.Upload, tc.upload.Data) {
				t.Fatalf("uploaded %q; the fake stored %+v", sent.Uploaded, first.Attachments)
			}
			if tc.kind == bot.AttachDocument && first.Attachments[0].FileName != tc.upload.Name {
				t.Errorf("document named %q, want %q", first.Attachments[0].FileName, tc.upload.Name)
			}
			again, err := a.Send(t.Context(), bot.Message{ChatID: "2002", Text: tc.text,
				Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: tc.kind, FileID: sent.Uploaded, Name: tc.upload.Name}}})
			if err != nil {
				t.Fatal(err)
			}
			got := f.Messages(boris.ID)
			if again.Uploaded != "" || got[0].Upload != nil || got[0].Attachments[0].FileID != sent.Uploaded || f.Uploads() != 1 {
				t.Fatalf("sent again %+v as %+v after %d uploads; want it by file_id, one upload in all", again, got, f.Uploads())
			}
			if last := got[len(got)-1]; last.Text != tc.text {
				t.Errorf("the text went as %q", last.Text)
			}
		})
	}
}

// Every message of a send after its first waits for its turn: each file
// after the first, the text after files whose caption it cannot be.
func TestTheMessagesOfASendTakeTurns(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	photo := f.Attachment(f.SendPhoto(boris, ""))
	more := []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: photo.FileID}}
	upload := &bot.Upload{Data: testPNG(t, 64, 48)}
	long := strings.Repeat("б", 1500)
	for _, tc := range []struct {
		name  string
		m     bot.Message
		turns int
	}{
		{"text", bot.Message{Text: "Собрание"}, 0},
		{"a captioned upload", bot.Message{Text: "Собрание", Upload: upload}, 0},
		{"an upload and a long text", bot.Message{Text: long, Upload: upload}, 1},
		{"an upload, a photo and a long text", bot.Message{Text: long, Upload: upload, Attachments: more}, 2},
	} {
		turns := 0
		m := tc.m
		m.ChatID, m.Pace = "1001", func(context.Context) error { turns++; return nil }
		if _, err := a.Send(t.Context(), m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if turns != tc.turns {
			t.Errorf("%s: %d turns taken, want %d", tc.name, turns, tc.turns)
		}
	}
}

// An unknown file_id is refused as Telegram refuses it.
func TestAnUnknownFileIDIsRefused(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	for _, kind := range []string{bot.AttachPhoto, bot.AttachDocument} {
		_, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: kind, FileID: "AgACAgIAAxkBAAIunknown"}}})
		if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "wrong file identifier") {
			t.Errorf("%s by an unknown file_id: %v", kind, err)
		}
	}
	if n := len(f.Messages(anna.ID)); n != 0 || f.Uploads() != 0 {
		t.Errorf("%d messages, %d uploads after the refusals", n, f.Uploads())
	}
}

func TestUploadErrorsAndEdit(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	chart := testPNG(t, 320, 200)

	// Refused before any call.
	if _, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Upload: &bot.Upload{Name: "chart.png"}}); err == nil || f.Calls("sendPhoto") != 0 {
		t.Fatalf("empty upload: err %v, sendPhoto calls %d", err, f.Calls("sendPhoto"))
	}
	// Telegram refuses what is no image; the text is not sent alone.
	_, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "x", Upload: &bot.Upload{Name: "chart.png", Data: []byte("no png")}})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "IMAGE_PROCESS_FAILED") || len(f.Messages(anna.ID)) != 0 {
		t.Fatalf("not an image: %v, messages %+v", err, f.Messages(anna.ID))
	}
	f.Block(anna.ID)
	if _, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Upload: &bot.Upload{Data: chart}}); !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("blocked: %v", err)
	}
	f.Unblock(anna.ID)

	// An edit changes the caption and leaves the photo.
	m := bot.Message{ChatID: "1001", Text: "Нормы", Keyboard: bot.Keyboard{{{Text: "More", Data: "m:1"}}}, Upload: &bot.Upload{Data: chart}}
	sent, err := a.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	m.Text, m.Keyboard = "Нормы за май", nil
	if err := a.Edit(t.Context(), sent, m); err != nil {
		t.Fatalf("edit: %v", err)
	}
	got := f.Messages(anna.ID)
	if len(got) != 1 || got[0].Text != "Нормы за май" || got[0].Buttons != nil || !bytes.Equal(got[0].Upload, chart) || f.Calls("sendPhoto") != 3 {
		t.Fatalf("after edit: %+v, sendPhoto calls %d", got, f.Calls("sendPhoto"))
	}
}

// The SDK's own button type sends an empty copy_text, which Telegram (and
// the fake) refuse; every method that carries a keyboard must send ours.
func TestKeyboardsCarryNoCopyText(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	doc := f.Attachment(f.SendDocument(boris, "act.pdf", ""))

	// The library's own markup is what the fake refuses.
	sdk, err := tgbot.New(platformtest.TelegramToken, tgbot.WithServerURL(f.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdk.SendMessage(t.Context(), &tgbot.SendMessageParams{ChatID: anna.ID, Text: "x",
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "a", CallbackData: "a"}}}}})
	if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), "BUTTON_COPY_TEXT_INVALID") {
		t.Fatalf("the SDK's markup: %v, want BUTTON_COPY_TEXT_INVALID", err)
	}

	kb := bot.Keyboard{{{Text: "Take", Data: "t:1"}, {Text: "Site", URL: "https://example.org"}}}
	want := [][]platformtest.TGButton{{{Text: "Take", Data: "t:1"}, {Text: "Site", URL: "https://example.org"}}}
	edited := bot.Keyboard{{{Text: "Undo", Data: "t:0"}}}
	wantEdited := [][]platformtest.TGButton{{{Text: "Undo", Data: "t:0"}}}
	cases := []struct {
		name   string
		m      bot.Message
		method string // that carried the keyboard
		edit   string // that edits it
	}{
		{"text", bot.Message{Text: "text"}, "sendMessage", "editMessageText"},
		{"photo upload", bot.Message{Text: "chart", Upload: &bot.Upload{Name: "c.png", Data: testPNG(t, 40, 30)}}, "sendPhoto", "editMessageCaption"},
		{"document", bot.Message{Text: "act", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: doc.FileID}}}, "sendDocument", "editMessageCaption"},
	}
	for _, tc := range cases {
		before, beforeEdit := f.Calls(tc.method), f.Calls(tc.edit)
		tc.m.ChatID, tc.m.Keyboard = "1001", kb
		sent, err := a.Send(t.Context(), tc.m)
		if err != nil {
			t.Fatalf("%s: send: %v", tc.name, err)
		}
		if f.Calls(tc.method) != before+1 {
			t.Fatalf("%s: %s was not called", tc.name, tc.method)
		}
		msgs := f.Messages(anna.ID)
		if got := msgs[len(msgs)-1]; !reflect.DeepEqual(got.Buttons, want) {
			t.Fatalf("%s: buttons %+v, want %+v", tc.name, got.Buttons, want)
		}
		if err := a.Edit(t.Context(), sent, bot.Message{Text: tc.m.Text + "!", Keyboard: edited}); err != nil {
			t.Fatalf("%s: edit: %v", tc.name, err)
		}
		if f.Calls(tc.edit) != beforeEdit+1 {
			t.Fatalf("%s: %s was not called", tc.name, tc.edit)
		}
		msgs = f.Messages(anna.ID)
		if got := msgs[len(msgs)-1]; !reflect.DeepEqual(got.Buttons, wantEdited) {
			t.Fatalf("%s: buttons after the edit %+v, want %+v", tc.name, got.Buttons, wantEdited)
		}
	}
}

func TestEditKeyboardKeepsTextAndFiles(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	f.SendText(anna, "hi")
	doc := f.Attachment(f.SendDocument(boris, "act.pdf", ""))
	for _, m := range []bot.Message{
		{ChatID: "1001", Text: "Answer to № 3", Keyboard: bot.Keyboard{{{Text: "Reply", Data: "tk:follow:3"}}}},
		{ChatID: "1001", Text: "Answer to № 4", Keyboard: bot.Keyboard{{{Text: "Reply", Data: "tk:follow:4"}}},
			Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: doc.FileID}}},
	} {
		sent, err := a.Send(t.Context(), m)
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		for i := range 2 { // the second changes nothing, which is no error
			if err := a.EditKeyboard(t.Context(), sent, nil); err != nil {
				t.Fatalf("edit keyboard %d: %v", i, err)
			}
		}
		msgs := f.Messages(anna.ID)
		got := msgs[len(msgs)-1]
		if got.Text != m.Text || got.Buttons != nil || len(got.Attachments) != len(m.Attachments) {
			t.Fatalf("after removing the keyboard: %+v", got)
		}
	}
	if n := f.Calls("editMessageReplyMarkup"); n != 4 {
		t.Fatalf("editMessageReplyMarkup calls = %d, want 4", n)
	}
}
