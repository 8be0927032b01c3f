package vk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/SevereCloud/vksdk/v3/api"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/vk"
)

const (
	testConfirmation = "c0nf1rm"
	testSecret       = "s3cret_s3cret"
	chatPeer         = 2000000001
)

var (
	ivan  = platformtest.VKUser{ID: 501, FirstName: "Иван", LastName: "Петров"}
	alice = platformtest.VKUser{ID: 502, FirstName: "Alice", LastName: "Smith", LangID: 3}
)

// testSink records delivered updates and fails the first failures of them.
type testSink struct {
	updates chan bot.Update
	mu      sync.Mutex
	fail    int
}

func newSink() *testSink { return &testSink{updates: make(chan bot.Update, 100)} }

func (s *testSink) failNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

func (s *testSink) Deliver(_ context.Context, u bot.Update) <-chan error {
	s.mu.Lock()
	fail := s.fail > 0
	if fail {
		s.fail--
	}
	s.mu.Unlock()
	s.updates <- u
	result := make(chan error, 1)
	if fail {
		result <- errors.New("handler failed")
	} else {
		result <- nil
	}
	return result
}

func (s *testSink) next(t *testing.T) bot.Update {
	t.Helper()
	select {
	case u := <-s.updates:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no update delivered")
		return bot.Update{}
	}
}

func (s *testSink) none(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case u := <-s.updates:
		t.Fatalf("unexpected update %+v", u)
	case <-time.After(within):
	}
}

func newAdapter(t *testing.T, f *platformtest.VK, cfg vk.Config) *vk.Adapter {
	t.Helper()
	cfg.Token = platformtest.VKToken
	cfg.APIURL = f.APIURL()
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	a, err := vk.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}
	return a
}

// startPolling runs the adapter's long poll until the test ends.
func startPolling(t *testing.T) (*platformtest.VK, *vk.Adapter, *testSink) {
	t.Helper()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{GroupID: platformtest.VKGroupID})
	s := newSink()
	stop := runAdapter(t, a, s)
	t.Cleanup(stop)
	f.WaitLongPoll(t)
	return f, a, s
}

// runAdapter starts Run and returns a function that stops it and checks that
// it returned nil promptly.
func runAdapter(t *testing.T, a *vk.Adapter, s bot.Sink) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, s) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not stop after cancel")
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	tests := []struct {
		name    string
		cfg     vk.Config
		wantErr string
	}{
		{"valid", vk.Config{Token: platformtest.VKToken, GroupID: platformtest.VKGroupID, APIURL: f.APIURL()}, ""},
		{"group learnt from token", vk.Config{Token: platformtest.VKToken, APIURL: f.APIURL()}, ""},
		{"wrong token", vk.Config{Token: "nope", APIURL: f.APIURL()}, "authorization failed"},
		{"no token", vk.Config{APIURL: f.APIURL()}, "token is required"},
		{"other community", vk.Config{Token: platformtest.VKToken, GroupID: 7, APIURL: f.APIURL()}, "belongs to community 1001"},
		{"url without slash", vk.Config{Token: platformtest.VKToken, APIURL: strings.TrimSuffix(f.APIURL(), "/")}, "must end with /"},
		{"callback without secret", vk.Config{Token: platformtest.VKToken, APIURL: f.APIURL(), CallbackConfirmation: "x"}, "requires a secret"},
		{"long secret", vk.Config{Token: platformtest.VKToken, APIURL: f.APIURL(), CallbackConfirmation: "x", CallbackSecret: strings.Repeat("s", 51)}, "exceeds 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := vk.New(t.Context(), tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			if a.ScreenName() != platformtest.VKGroupScreenName || a.Platform() != bot.VK {
				t.Errorf("ScreenName() = %q, Platform() = %q", a.ScreenName(), a.Platform())
			}
		})
	}
}

// withoutTime checks that u carries a time and clears it for comparison.
func withoutTime(t *testing.T, u bot.Update) bot.Update {
	t.Helper()
	if time.Since(u.At).Abs() > time.Minute {
		t.Errorf("update time %v is not now", u.At)
	}
	u.At = time.Time{}
	return u
}

func TestLongPollTranslatesMessages(t *testing.T) {
	t.Parallel()
	private := bot.Chat{ID: "501", Kind: bot.ChatPrivate}
	ivanFrom := bot.User{ID: "501", Language: "ru"}
	tests := []struct {
		name string
		send func(f *platformtest.VK) string
		want bot.Update
		// files returns the attachments expected, which the fake names
		files func(f *platformtest.VK, id string) []bot.Attachment
	}{
		{
			name: "private text",
			send: func(f *platformtest.VK) string { return f.SendText(ivan, "привет") },
			want: bot.Update{Chat: private, From: ivanFrom, MessageID: "1", Text: "привет"},
		},
		{
			name: "command in english",
			send: func(f *platformtest.VK) string { return f.SendText(alice, "/Help now") },
			want: bot.Update{
				Chat: bot.Chat{ID: "502"}, From: bot.User{ID: "502", Language: "en"}, MessageID: "1",
				Text: "/Help now", Command: "help", Args: "now",
			},
		},
		{
			name: "vk.me ref link",
			send: func(f *platformtest.VK) string {
				return f.SendTextRef(ivan, "Здравствуйте", "inv_AB12", "qr")
			},
			want: bot.Update{Chat: private, From: ivanFrom, MessageID: "1", Text: "Здравствуйте", Command: "start", Args: "inv_AB12"},
		},
		{
			name: "start button",
			send: func(f *platformtest.VK) string { return f.SendStart(ivan) },
			want: bot.Update{Chat: private, From: ivanFrom, MessageID: "1", Text: "Начать", Command: "start"},
		},
		{
			name: "group chat with mention",
			send: func(f *platformtest.VK) string {
				return f.SendChatText(ivan, chatPeer, "[club1001|@unionhub_test], /report weekly")
			},
			want: bot.Update{
				Chat: bot.Chat{ID: "2000000001", Kind: bot.ChatGroup}, From: ivanFrom, MessageID: "1",
				Text: "/report weekly", Command: "report", Args: "weekly",
			},
		},
		{
			name: "photo",
			send: func(f *platformtest.VK) string { return f.SendPhoto(ivan, "смотрите") },
			want: bot.Update{Chat: private, From: ivanFrom, MessageID: "1", Text: "смотрите"},
			files: func(f *platformtest.VK, id string) []bot.Attachment {
				return []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: vk.FileID(f.Attachment(id), f.FileURL(id))}}
			},
		},
		{
			name: "document",
			send: func(f *platformtest.VK) string {
				return f.SendDoc(ivan, "Договор.pdf", "/ask про договор")
			},
			want: bot.Update{Chat: private, From: ivanFrom, MessageID: "1", Text: "/ask про договор", Command: "ask", Args: "про договор"},
			files: func(f *platformtest.VK, id string) []bot.Attachment {
				return []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachDocument, FileID: vk.FileID(f.Attachment(id), f.FileURL(id)), Name: "Договор.pdf"}}
			},
		},
		{
			name: "voice",
			send: func(f *platformtest.VK) string { return f.SendVoice(ivan) },
			want: bot.Update{Chat: private, From: ivanFrom, MessageID: "1", HasMedia: true},
		},
		{
			name: "reply in a chat",
			send: func(f *platformtest.VK) string {
				f.SendChatText(alice, chatPeer, "кто возьмёт?")
				return f.ReplyInChat(ivan, chatPeer, 1, "я")
			},
			want: bot.Update{Chat: bot.Chat{ID: "2000000001", Kind: bot.ChatGroup}, From: ivanFrom, MessageID: "2", Text: "я", ReplyTo: "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _, s := startPolling(t)
			id := tt.send(f)
			want := tt.want
			want.Platform, want.ID = bot.VK, id
			if tt.files != nil {
				if want.Attachments = tt.files(f, id); want.Attachments[0].FileID == "" {
					t.Fatal("the fake named no attachment for the message")
				}
			}
			got := s.next(t)
			for got.ID != id { // earlier messages of the case
				got = s.next(t)
			}
			if got := withoutTime(t, got); !reflect.DeepEqual(got, want) {
				t.Errorf("update:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestPressAndAnswer(t *testing.T) {
	t.Parallel()
	f, a, s := startPolling(t)
	f.SendText(ivan, "меню")
	s.next(t)
	sent, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Выберите", Keyboard: bot.Keyboard{{{Text: "Да", Data: "reg:yes"}}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	cmid, _ := strconv.Atoi(sent.MessageID)
	eventID := f.Press(ivan, 501, cmid, `{"d":"reg:yes"}`)
	u := s.next(t)
	if u.Callback == nil {
		t.Fatalf("update %+v has no callback", u)
	}
	want := bot.Update{
		Platform: bot.VK, ID: eventID, Chat: bot.Chat{ID: "501"}, From: bot.User{ID: "501"}, MessageID: sent.MessageID,
		Callback: &bot.Callback{ID: u.Callback.ID, Data: "reg:yes", MessageID: sent.MessageID},
	}
	if got := withoutTime(t, u); !reflect.DeepEqual(got, want) || u.Callback.ID == "" || u.Callback.ID == eventID {
		t.Fatalf("press update:\n got %+v %+v\nwant %+v %+v", got, got.Callback, want, want.Callback)
	}

	if err := a.AnswerCallback(t.Context(), &u, "Принято"); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if text, ok := f.EventAnswer(eventID); !ok || text != "Принято" {
		t.Errorf("answer = %q, %v; want snackbar Принято", text, ok)
	}
	second := f.Press(ivan, 501, cmid, `{"d":"reg:yes"}`)
	u2 := s.next(t)
	if err := a.AnswerCallback(t.Context(), &u2, ""); err != nil {
		t.Fatalf("silent answer: %v", err)
	}
	if text, ok := f.EventAnswer(second); !ok || text != "" {
		t.Errorf("silent answer = %q, %v", text, ok)
	}
	if got := f.EventAnswers(); !reflect.DeepEqual(got, []string{eventID, second}) {
		t.Errorf("EventAnswers() = %v", got)
	}
	notPress := bot.Update{ID: "x", Chat: bot.Chat{ID: "501"}, From: bot.User{ID: "501"}}
	if err := a.AnswerCallback(t.Context(), &notPress, ""); err == nil {
		t.Error("answering a message that is not a press succeeded")
	}
}

func TestSendWithKeyboard(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.Unblock(ivan.ID)
	long := strings.Repeat("ж", 50)
	m := bot.Message{ChatID: "501", Text: "Привет", Keyboard: bot.Keyboard{
		{{Text: "Да", Data: "reg:yes"}, {Text: "Нет", Data: "reg:no"}},
		{{Text: long, Data: "x"}},
		{{Text: "Сайт", URL: "https://example.org/u"}},
	}}
	first, err := a.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	second, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Ещё"})
	if err != nil {
		t.Fatalf("send again: %v", err)
	}
	if first != (bot.Sent{ChatID: "501", MessageID: "1"}) || second != (bot.Sent{ChatID: "501", MessageID: "2"}) {
		t.Errorf("sent = %+v, %+v", first, second)
	}
	msgs := f.Messages(501)
	if len(msgs) != 2 {
		t.Fatalf("messages = %+v", msgs)
	}
	wantButtons := [][]platformtest.VKButton{
		{{Type: "callback", Label: "Да", Payload: `{"d":"reg:yes"}`}, {Type: "callback", Label: "Нет", Payload: `{"d":"reg:no"}`}},
		{{Type: "callback", Label: strings.Repeat("ж", 39) + "…", Payload: `{"d":"x"}`}},
		{{Type: "open_link", Label: "Сайт", Link: "https://example.org/u"}},
	}
	if got := msgs[0]; got.Text != "Привет" || !reflect.DeepEqual(got.Buttons, wantButtons) {
		t.Errorf("first message = %+v", got)
	}
	if msgs[0].PayloadFor("Нет") != `{"d":"reg:no"}` || msgs[1].Buttons != nil {
		t.Errorf("payload for Нет = %q, second buttons = %v", msgs[0].PayloadFor("Нет"), msgs[1].Buttons)
	}
	if msgs[0].RandomID == 0 || msgs[1].RandomID == 0 || msgs[0].RandomID == msgs[1].RandomID {
		t.Errorf("random ids %d, %d: want distinct and non-zero", msgs[0].RandomID, msgs[1].RandomID)
	}
}

func TestSendWithTheSameKeyIsDeliveredOnce(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.Unblock(ivan.ID)
	for _, m := range []bot.Message{
		{ChatID: "501", Text: "Заявка принята", Key: "vk:ev1:1"},
		{ChatID: "501", Text: "Заявка принята", Key: "vk:ev1:1"}, // the retry of a failed update
		{ChatID: "501", Text: "Ответ", Key: "vk:ev1:2"},
	} {
		if _, err := a.Send(t.Context(), m); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if msgs := f.Messages(501); len(msgs) != 2 || msgs[0].Text != "Заявка принята" || msgs[1].Text != "Ответ" {
		t.Fatalf("messages = %+v, want the keyed message once", msgs)
	}
}

func TestSendToChat(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.SendChatText(ivan, chatPeer, "всем привет")
	sent, err := a.Send(t.Context(), bot.Message{ChatID: strconv.Itoa(chatPeer), Text: "Здравствуйте"})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if sent.MessageID != "2" {
		t.Errorf("conversation message id = %s, want 2 after the member's message", sent.MessageID)
	}
	f.WaitMessage(t, chatPeer, func(m platformtest.VKMessage) bool { return m.Text == "Здравствуйте" })
}

func TestEdit(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.Unblock(ivan.ID)
	sent, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Вопрос", Keyboard: bot.Keyboard{{{Text: "Ответить", Data: "q:1"}}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := a.Edit(t.Context(), sent, bot.Message{ChatID: "501", Text: "Отвечено", Keyboard: bot.Keyboard{{{Text: "Ещё", Data: "q:2"}}}}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	msgs := f.Messages(501)
	if len(msgs) != 1 || msgs[0].Text != "Отвечено" || !msgs[0].HasPayload(`{"d":"q:2"}`) || msgs[0].HasPayload(`{"d":"q:1"}`) {
		t.Fatalf("after edit: %+v", msgs)
	}
	if err := a.Edit(t.Context(), sent, bot.Message{ChatID: "501", Text: "Без кнопок"}); err != nil {
		t.Fatalf("edit without keyboard: %v", err)
	}
	if msgs := f.Messages(501); msgs[0].Text != "Без кнопок" || len(msgs[0].Buttons) != 0 {
		t.Errorf("after second edit: %+v", msgs[0])
	}
	missing := bot.Sent{ChatID: "501", MessageID: "99"}
	if err := a.Edit(t.Context(), missing, bot.Message{ChatID: "501", Text: "x"}); err == nil {
		t.Error("editing a missing message succeeded")
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tenButtons := bot.Keyboard{}
	for range 6 {
		tenButtons = append(tenButtons, []bot.Button{{Text: "a", Data: "a"}, {Text: "b", Data: "b"}})
	}
	tests := []struct {
		name     string
		prepare  func(f *platformtest.VK)
		msg      bot.Message
		want     error // matched with errors.Is
		wantCode api.ErrorType
		wantRate bool
		noCall   bool
	}{
		{name: "blocked", prepare: func(f *platformtest.VK) { f.Unblock(501); f.Block(501) },
			msg: bot.Message{ChatID: "501", Text: "hi"}, want: bot.ErrBlocked, wantCode: 901},
		{name: "never wrote", msg: bot.Message{ChatID: "503", Text: "hi"}, want: bot.ErrBlocked, wantCode: 901},
		{name: "not in chat", msg: bot.Message{ChatID: "2000000009", Text: "hi"}, want: bot.ErrChatGone, wantCode: 917},
		{name: "too many requests", prepare: func(f *platformtest.VK) {
			f.Unblock(501)
			f.FailNext("messages.send", 1, 6, "Too many requests per second")
		},
			msg: bot.Message{ChatID: "501", Text: "hi"}, wantCode: 6, wantRate: true},
		{name: "flood control", prepare: func(f *platformtest.VK) { f.Unblock(501); f.FailNext("messages.send", 1, 9, "Flood control") },
			msg: bot.Message{ChatID: "501", Text: "hi"}, wantCode: 9, wantRate: true},
		{name: "too long", msg: bot.Message{ChatID: "501", Text: strings.Repeat("я", 4097)}, noCall: true},
		{name: "empty", msg: bot.Message{ChatID: "501", Text: " "}, noCall: true},
		{name: "too many buttons", msg: bot.Message{ChatID: "501", Text: "hi", Keyboard: tenButtons}, noCall: true},
		{name: "bad chat id", msg: bot.Message{ChatID: "abc", Text: "hi"}, noCall: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewVK(t)
			reg := prometheus.NewRegistry()
			a := newAdapter(t, f, vk.Config{Metrics: bot.NewMetrics(reg)})
			if tt.prepare != nil {
				tt.prepare(f)
			}
			_, err := a.Send(t.Context(), tt.msg)
			if err == nil {
				t.Fatal("send succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
			var apiErr *api.Error
			if tt.wantCode != 0 && (!errors.As(err, &apiErr) || apiErr.Code != tt.wantCode) {
				t.Errorf("error %v does not carry VK code %d", err, tt.wantCode)
			}
			var rate *bot.RateLimitError
			if isRate := errors.As(err, &rate); isRate != tt.wantRate || (isRate && rate.RetryAfter != time.Second) {
				t.Errorf("error %v: rate limit = %v, want %v", err, isRate, tt.wantRate)
			}
			if calls := f.Calls("messages.send"); tt.noCall != (calls == 0) {
				t.Errorf("messages.send called %d times", calls)
			}
			if got := sendCount(t, reg, "error"); got != 1 {
				t.Errorf("error sends counted = %v, want 1", got)
			}
		})
	}
}

// sendCount reads unionhub_sends_total for VK and outcome.
func sendCount(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, fam := range families {
		if fam.GetName() != "unionhub_sends_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == "vk" && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestSendCountsSuccess(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	reg := prometheus.NewRegistry()
	a := newAdapter(t, f, vk.Config{Metrics: bot.NewMetrics(reg)})
	f.Unblock(ivan.ID)
	if _, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "hi"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := sendCount(t, reg, "ok"); got != 1 {
		t.Errorf("ok sends counted = %v, want 1", got)
	}
}

func TestLongPollOrderAndRecovery(t *testing.T) {
	t.Parallel()
	f, _, s := startPolling(t)
	expectTexts := func(texts ...string) {
		t.Helper()
		for _, want := range texts {
			if u := s.next(t); u.Text != want {
				t.Fatalf("got %q, want %q", u.Text, want)
			}
		}
	}
	for i := range 5 {
		f.SendText(ivan, "m"+strconv.Itoa(i))
	}
	expectTexts("m0", "m1", "m2", "m3", "m4")

	servers := f.Calls("groups.getLongPollServer")
	f.ExpireKey()
	f.SendText(ivan, "after expiry")
	expectTexts("after expiry")
	if f.Calls("groups.getLongPollServer") <= servers {
		t.Error("the adapter did not fetch a new key after failed:2")
	}

	runs := f.Calls("groups.setLongPollSettings")
	f.FailLongPoll(3)
	f.SendText(ivan, "after failures")
	f.SendText(alice, "and another")
	expectTexts("after failures", "and another")
	if got := f.Calls("groups.setLongPollSettings"); got < runs+3 {
		t.Errorf("long poll started %d times after 3 failures, want at least 3 restarts", got-runs)
	}
}

func TestLongPollRetriesServerFetch(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.FailNext("groups.getLongPollServer", 2, 10, "Internal server error")
	s := newSink()
	t.Cleanup(runAdapter(t, a, s))
	f.WaitLongPoll(t)
	f.SendText(ivan, "hello")
	if u := s.next(t); u.Text != "hello" {
		t.Errorf("got %q", u.Text)
	}
	if got := f.Calls("groups.getLongPollServer"); got != 3 {
		t.Errorf("getLongPollServer called %d times, want 3", got)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	stop := runAdapter(t, a, newSink())
	f.WaitLongPoll(t)
	time.Sleep(50 * time.Millisecond) // let the check be held open
	start := time.Now()
	stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run took %s to stop", d)
	}
}

// startCallback serves the adapter's callback handler and points the fake
// at it.
func startCallback(t *testing.T) (*platformtest.VK, *vk.Adapter, *testSink, string) {
	t.Helper()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{CallbackConfirmation: testConfirmation, CallbackSecret: testSecret})
	s := newSink()
	srv := httptest.NewServer(a.CallbackHandler(s))
	t.Cleanup(srv.Close)
	f.SetCallback(srv.URL, testSecret)
	return f, a, s, srv.URL
}

func TestCallbackConfirmation(t *testing.T) {
	t.Parallel()
	f, _, s, url := startCallback(t)
	body, err := f.Confirm(url, testSecret)
	if err != nil || body != testConfirmation {
		t.Errorf("Confirm() = %q, %v; want %q", body, err, testConfirmation)
	}
	if body, err := f.Confirm(url, "wrong"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("Confirm() with a wrong secret = %q, %v; want HTTP 403", body, err)
	}
	s.none(t, 50*time.Millisecond)
}

func TestCallbackDelivers(t *testing.T) {
	t.Parallel()
	f, a, s, _ := startCallback(t)
	id := f.SendText(alice, "/start")
	d := f.WaitDelivery(t, id)
	if len(d) != 1 || d[0].Status != http.StatusOK || d[0].Body != "ok" {
		t.Errorf("deliveries = %+v", d)
	}
	if u := s.next(t); u.ID != id || u.Command != "start" || u.From.Language != "en" {
		t.Errorf("update = %+v", u)
	}

	sent, err := a.Send(t.Context(), bot.Message{ChatID: "502", Text: "Hi", Keyboard: bot.Keyboard{{{Text: "Go", Data: "go"}}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	cmid, _ := strconv.Atoi(sent.MessageID)
	press := f.Press(alice, 502, cmid, `{"d":"go"}`)
	f.WaitDelivery(t, press)
	u := s.next(t)
	if u.ID != press || u.Callback == nil || u.Callback.Data != "go" {
		t.Fatalf("press update = %+v", u)
	}
	if err := a.AnswerCallback(t.Context(), &u, "ok!"); err != nil {
		t.Fatalf("answer: %v", err)
	}

	f.Block(alice.ID) // message_deny: acknowledged, not delivered to the core
	next := f.SendText(ivan, "после")
	f.WaitDelivery(t, next)
	all := f.CallbackDeliveries()
	if deny := all[len(all)-2]; deny.EventID == press || deny.EventID == next || deny.Body != "ok" {
		t.Errorf("message_deny delivery = %+v", deny)
	}
	if u := s.next(t); u.ID != next {
		t.Errorf("after message_deny the core got %+v", u)
	}
}

func TestCallbackRetriesFailedHandling(t *testing.T) {
	t.Parallel()
	f, _, s, _ := startCallback(t)
	s.failNext(1)
	id := f.SendText(ivan, "вопрос")
	d := f.WaitDelivery(t, id)
	if len(d) != 2 || d[0].Status != http.StatusInternalServerError || d[1].Retry != 1 || d[1].Body != "ok" {
		t.Fatalf("deliveries = %+v, want a 500 then ok on retry 1", d)
	}
	first, second := s.next(t), s.next(t)
	if first.ID != id || second.ID != id {
		t.Errorf("update ids %q, %q; want both %q", first.ID, second.ID, id)
	}
}

func TestCallbackRefuses(t *testing.T) {
	t.Parallel()
	f, _, s, url := startCallback(t)
	event := func(groupID int, secret string) []byte {
		b, _ := json.Marshal(map[string]any{
			"type": "message_new", "group_id": groupID, "event_id": "e1", "v": "5.199", "secret": secret,
			"object": map[string]any{"message": map[string]any{"from_id": 501, "peer_id": 501, "text": "hi", "conversation_message_id": 1}},
		})
		return b
	}
	tests := []struct {
		name   string
		method string
		body   []byte
		want   int
	}{
		{"wrong secret", http.MethodPost, event(platformtest.VKGroupID, "wrong"), http.StatusForbidden},
		{"no secret", http.MethodPost, event(platformtest.VKGroupID, ""), http.StatusForbidden},
		{"other community", http.MethodPost, event(7, testSecret), http.StatusForbidden},
		{"get", http.MethodGet, nil, http.StatusMethodNotAllowed},
		{"not json", http.MethodPost, []byte("hello"), http.StatusBadRequest},
		{"too large", http.MethodPost, append([]byte(`{"type":"`), bytes.Repeat([]byte("a"), 2<<20)...), http.StatusRequestEntityTooLarge},
		{"trailing bytes", http.MethodPost, append(event(platformtest.VKGroupID, testSecret), `{}`...), http.StatusBadRequest},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, url, bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	s.none(t, 50*time.Millisecond)
	if f.Calls("groups.getLongPollServer") != 0 {
		t.Error("callback mode fetched a long poll server")
	}
}

func TestCallbackModeRunWaits(t *testing.T) {
	t.Parallel()
	f, a, _, _ := startCallback(t)
	stop := runAdapter(t, a, newSink())
	time.Sleep(50 * time.Millisecond)
	stop()
	if f.Calls("groups.getLongPollServer") != 0 || f.Calls("groups.setLongPollSettings") != 0 {
		t.Error("Run in callback mode used the long poll")
	}
}

func TestCallbackHandlerOffInLongPollMode(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	srv := httptest.NewServer(a.CallbackHandler(newSink()))
	t.Cleanup(srv.Close)
	if _, err := f.Confirm(srv.URL, ""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Confirm() = %v, want HTTP 404", err)
	}
}

func TestReplyToTheBotInAChat(t *testing.T) {
	t.Parallel()
	f, a, s := startPolling(t)
	f.SendChatText(ivan, chatPeer, "/bind")
	s.next(t)
	sent, err := a.Send(t.Context(), bot.Message{ChatID: strconv.Itoa(chatPeer), Text: "Заявка 7"})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	cmid, _ := strconv.Atoi(sent.MessageID)
	id := f.ReplyInChat(alice, chatPeer, cmid, "[club1001|@unionhub_test], перезвоню")
	if u := s.next(t); u.ID != id || u.ReplyTo != sent.MessageID || u.Text != "перезвоню" {
		t.Fatalf("reply = %+v, want a reply to %s", u, sent.MessageID)
	}
}

// TestTranslateAttachments feeds raw events with attachments the fake's
// people do not send through the callback handler.
func TestTranslateAttachments(t *testing.T) {
	t.Parallel()
	_, _, s, url := startCallback(t)
	tests := []struct {
		name  string
		extra string // fields of the message object after text
		files []bot.Attachment
		media bool
		reply string
	}{
		{"community photo without key", `"attachments":[{"type":"photo","photo":{"id":2,"owner_id":-77,"sizes":[]}}]`,
			[]bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo-77_2"}}, false, ""},
		{"two photos and a doc", `"attachments":[{"type":"photo","photo":{"id":1,"owner_id":501,"access_key":"k1"}},` +
			`{"type":"photo","photo":{"id":2,"owner_id":501,"access_key":"k2"}},{"type":"doc","doc":{"id":3,"owner_id":501,"title":"a.pdf","access_key":"k3"}}]`,
			[]bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo501_1_k1"}, {Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo501_2_k2"},
				{Platform: bot.VK, Kind: bot.AttachDocument, FileID: "doc501_3_k3", Name: "a.pdf"}}, false, ""},
		{"photo with a sticker", `"attachments":[{"type":"photo","photo":{"id":1,"owner_id":501}},{"type":"sticker","sticker":{"sticker_id":9,"product_id":1}}]`,
			[]bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo501_1"}}, true, ""},
		{"link preview is no media", `"attachments":[{"type":"link","link":{"url":"https://example.org","title":"Example"}}]`, nil, false, ""},
		{"wall post", `"attachments":[{"type":"wall","wall":{"id":5,"from_id":-1,"text":"x"}}]`, nil, true, ""},
		{"video", `"attachments":[{"type":"video","video":{"id":5,"owner_id":501,"title":"v"}}]`, nil, true, ""},
		{"forwarded messages do not break decoding", `"fwd_messages":[{"from_id":7,"text":"x","attachments":[{"type":"photo","photo":{"id":1,"owner_id":7,"sizes":"unforeseen"}}]}]`,
			nil, false, ""},
		{"reply", `"reply_message":{"from_id":-1001,"text":"Заявка 7","conversation_message_id":41,"peer_id":2000000001}`, nil, false, "41"},
	}
	for i, tt := range tests {
		body := fmt.Sprintf(`{"type":"message_new","group_id":%d,"event_id":"raw%d","v":"5.199","secret":%q,"object":{"message":`+
			`{"date":1700000000,"from_id":501,"peer_id":501,"conversation_message_id":%d,"text":"вопрос",%s},"client_info":{"lang_id":0}}}`,
			platformtest.VKGroupID, i, testSecret, i+1, tt.extra)
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", tt.name, resp.StatusCode)
		}
		u := s.next(t)
		if u.ID != fmt.Sprintf("raw%d", i) || u.Text != "вопрос" || !reflect.DeepEqual(u.Attachments, tt.files) || u.HasMedia != tt.media || u.ReplyTo != tt.reply {
			t.Errorf("%s: update %+v", tt.name, u)
		}
	}
}

func TestSendWithAttachments(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	photo := f.Attachment(f.SendPhoto(ivan, ""))
	doc := f.Attachment(f.SendDoc(ivan, "act.pdf", ""))
	tgPhoto := bot.Attachment{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: "AgACAgIAAxkBAAI"}
	vkPhoto := bot.Attachment{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: photo}
	vkDoc := bot.Attachment{Platform: bot.VK, Kind: bot.AttachDocument, FileID: doc, Name: "act.pdf"}
	tests := []struct {
		name string
		msg  bot.Message
		want []string // the attachments stored with the message
	}{
		{"photo and doc", bot.Message{Text: "Заявка 7", Attachments: []bot.Attachment{vkPhoto, vkDoc}}, []string{photo, doc}},
		{"no text", bot.Message{Attachments: []bot.Attachment{vkDoc}}, []string{doc}},
		{"foreign skipped", bot.Message{Text: "Заявка 7", Attachments: []bot.Attachment{tgPhoto, vkPhoto}}, []string{photo}},
		{"only foreign", bot.Message{Text: "Заявка 7", Attachments: []bot.Attachment{tgPhoto}}, nil},
	}
	for i, tt := range tests {
		m := tt.msg
		m.ChatID, m.Key = "501", strconv.Itoa(i)
		sent, err := a.Send(t.Context(), m)
		if err != nil {
			t.Fatalf("%s: send: %v", tt.name, err)
		}
		msgs := f.Messages(501)
		got := msgs[len(msgs)-1]
		if strconv.Itoa(got.ConversationMessageID) != sent.MessageID || got.Text != m.Text || !reflect.DeepEqual(got.Attachments, tt.want) {
			t.Errorf("%s: stored %+v, sent %+v", tt.name, got, sent)
		}
	}

	// Editing keeps the attachments given again, and drops the others.
	sent, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Заявка 8", Attachments: []bot.Attachment{vkPhoto, vkDoc}, Keyboard: bot.Keyboard{{{Text: "Взять", Data: "t:8"}}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := a.Edit(t.Context(), sent, bot.Message{Text: "Заявка 8: взята", Attachments: []bot.Attachment{vkDoc}}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	msgs := f.Messages(501)
	if got := msgs[len(msgs)-1]; got.Text != "Заявка 8: взята" || !reflect.DeepEqual(got.Attachments, []string{doc}) || len(got.Buttons) != 0 {
		t.Fatalf("after edit: %+v", got)
	}

	eleven := make([]bot.Attachment, 11)
	for i := range eleven {
		eleven[i] = vkPhoto
	}
	calls := f.Calls("messages.send")
	refused := []bot.Message{
		{ChatID: "501", Text: "x", Attachments: eleven},
		{ChatID: "501", Attachments: []bot.Attachment{tgPhoto}},
		{ChatID: "501", Text: "x", Attachments: []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto}}},
	}
	for i, m := range refused {
		if _, err := a.Send(t.Context(), m); err == nil {
			t.Errorf("refused message %d was sent", i)
		}
	}
	if n := f.Calls("messages.send"); n != calls {
		t.Fatalf("%d calls for messages refused before sending", n-calls)
	}
	_, err = a.Send(t.Context(), bot.Message{ChatID: "501", Text: "x", Attachments: []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: "photo1_2"}}})
	var apiErr *api.Error
	if !errors.As(err, &apiErr) || apiErr.Code != 100 {
		t.Fatalf("unknown attachment: %v, want VK error 100", err)
	}
}

func TestSendBulkToAHundredPeers(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	reg := prometheus.NewRegistry()
	a := newAdapter(t, f, vk.Config{Metrics: bot.NewMetrics(reg)})
	if a.MaxBulk() != 100 {
		t.Fatalf("MaxBulk() = %d, want 100", a.MaxBulk())
	}
	photo := f.Attachment(f.SendPhoto(ivan, ""))
	chats := make([]string, 100)
	for i := range chats {
		peer := 10100 - i // not in ascending order: results must follow chats
		f.Meet(peer)
		chats[i] = strconv.Itoa(peer)
	}
	m := bot.Message{Text: "Новости профсоюза", Key: "bc:1",
		Keyboard:    bot.Keyboard{{{Text: "Прочитано", Data: "r:1"}}},
		Attachments: []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: photo}}}
	results, err := a.SendBulk(t.Context(), chats, m)
	if err != nil {
		t.Fatalf("send bulk: %v", err)
	}
	if len(results) != len(chats) {
		t.Fatalf("%d results for %d chats", len(results), len(chats))
	}
	randomIDs := map[int]bool{}
	for i, r := range results {
		if r.ChatID != chats[i] || r.Err != nil || r.MessageID != "1" {
			t.Fatalf("result %d = %+v, want chat %s delivered as message 1", i, r, chats[i])
		}
		peer, _ := strconv.Atoi(chats[i])
		msgs := f.Messages(peer)
		if len(msgs) != 1 || msgs[0].Text != m.Text || !msgs[0].HasPayload(`{"d":"r:1"}`) || !reflect.DeepEqual(msgs[0].Attachments, []string{photo}) {
			t.Fatalf("peer %d got %+v", peer, msgs)
		}
		randomIDs[msgs[0].RandomID] = true
	}
	if calls := f.Calls("messages.send"); calls != 1 {
		t.Errorf("messages.send called %d times, want once", calls)
	}
	if len(randomIDs) != 1 || randomIDs[0] {
		t.Errorf("random ids %v, want one non-zero for the whole call", randomIDs)
	}
	if got := sendCount(t, reg, "ok"); got != 100 {
		t.Errorf("ok sends counted = %v, want 100", got)
	}
}

func TestSendBulkPerPeerFailures(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	reg := prometheus.NewRegistry()
	a := newAdapter(t, f, vk.Config{Metrics: bot.NewMetrics(reg)})
	f.Meet(501, 502, chatPeer)
	f.Block(502)
	chats := []string{"502", "501", "2000000009", "503", strconv.Itoa(chatPeer), "501"}
	results, err := a.SendBulk(t.Context(), chats, bot.Message{Text: "Собрание в пятницу", Key: "bc:2"})
	if err != nil {
		t.Fatalf("send bulk: %v", err)
	}
	want := []struct {
		err  error
		code api.ErrorType
	}{
		{bot.ErrBlocked, 901}, // blocked the community
		{nil, 0},
		{bot.ErrChatGone, 917}, // a chat the bot is not in
		{bot.ErrBlocked, 901},  // never allowed messages
		{nil, 0},
		{nil, 0}, // listed twice: sent once
	}
	for i, w := range want {
		r := results[i]
		if r.ChatID != chats[i] {
			t.Errorf("result %d is for chat %s, want %s", i, r.ChatID, chats[i])
		}
		if w.err == nil {
			if r.Err != nil || r.MessageID == "" {
				t.Errorf("result %d = %+v, want delivered", i, r)
			}
			continue
		}
		var apiErr *api.Error
		if !errors.Is(r.Err, w.err) || !errors.As(r.Err, &apiErr) || apiErr.Code != w.code || r.MessageID != "" {
			t.Errorf("result %d = %+v, want %v with VK code %d", i, r, w.err, w.code)
		}
	}
	if results[1].MessageID != results[5].MessageID || f.SentCount(501) != 1 || f.SentCount(chatPeer) != 1 {
		t.Errorf("a chat listed twice: results %+v and %+v, %d messages", results[1], results[5], f.SentCount(501))
	}
	if ok, failed := sendCount(t, reg, "ok"), sendCount(t, reg, "error"); ok != 3 || failed != 3 {
		t.Errorf("sends counted ok %v, error %v; want 3 and 3", ok, failed)
	}
}

// TestSendBulkMapsEveryPeerError answers messages.send from a canned VK
// response, for the per-peer errors the fake does not produce.
func TestSendBulkMapsEveryPeerError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/method/groups.getById":
			_, _ = io.WriteString(w, `{"response":{"groups":[{"id":1001,"screen_name":"unionhub_test"}],"profiles":[]}}`)
		case "/method/messages.send":
			_, _ = io.WriteString(w, `{"response":[
				{"peer_id":1,"message_id":11,"conversation_message_id":5},
				{"peer_id":2,"error":{"code":900,"description":"Can't send messages for users from blacklist"}},
				{"peer_id":3,"error":{"code":902,"description":"Can't send messages to this user due to their privacy settings"}},
				{"peer_id":4,"error":{"code":7,"description":"Permission to perform this action is denied"}},
				{"peer_id":5,"error":{"error_code":917,"error_msg":"You don't have access to this chat"}},
				{"peer_id":6,"error":{"code":10,"description":"Internal server error"}},
				{"peer_id":7,"error":{"code":9,"description":"Flood control"}},
				{"peer_id":8}
			]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	a, err := vk.New(t.Context(), vk.Config{Token: "t", APIURL: srv.URL + "/method/"})
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}
	results, err := a.SendBulk(t.Context(), []string{"9", "8", "7", "6", "5", "4", "3", "2", "1"}, bot.Message{Text: "x", Key: "k"})
	if err != nil {
		t.Fatalf("send bulk: %v", err)
	}
	tests := []struct {
		chat string
		is   error // nil: any error; a delivered chat is checked apart
		rate bool
	}{
		{chat: "9"},             // missing from the answer
		{chat: "8"},             // neither ids nor an error
		{chat: "7", rate: true}, // flood control
		{chat: "6"},             // internal error: retry later
		{chat: "5", is: bot.ErrChatGone},
		{chat: "4", is: bot.ErrChatGone},
		{chat: "3", is: bot.ErrBlocked},
		{chat: "2", is: bot.ErrBlocked},
	}
	for i, tt := range tests {
		r := results[i]
		var rate *bot.RateLimitError
		switch {
		case r.ChatID != tt.chat || r.Err == nil || r.MessageID != "":
			t.Errorf("chat %s: result %+v, want a failure", tt.chat, r)
		case tt.is != nil && !errors.Is(r.Err, tt.is):
			t.Errorf("chat %s: %v is not %v", tt.chat, r.Err, tt.is)
		case tt.is == nil && (errors.Is(r.Err, bot.ErrBlocked) || errors.Is(r.Err, bot.ErrChatGone)):
			t.Errorf("chat %s: %v marks the chat unreachable", tt.chat, r.Err)
		case errors.As(r.Err, &rate) != tt.rate:
			t.Errorf("chat %s: %v, rate limit %v", tt.chat, r.Err, tt.rate)
		}
	}
	if last := results[8]; last.ChatID != "1" || last.Err != nil || last.MessageID != "5" {
		t.Errorf("delivered chat: %+v", last)
	}
}

func TestSendBulkWithTheSameKeyIsDeliveredOnce(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.Meet(601, 602, 603)
	m := bot.Message{Text: "Митинг в субботу", Key: "bc:7"}
	first, err := a.SendBulk(t.Context(), []string{"601", "602"}, m)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	// The engine lost the answer and sends the batch again, with a new chat.
	again, err := a.SendBulk(t.Context(), []string{"603", "602", "601"}, m)
	if err != nil {
		t.Fatalf("again: %v", err)
	}
	if again[1] != first[1] || again[2] != first[0] || again[0].Err != nil {
		t.Fatalf("repeat = %+v, first = %+v", again, first)
	}
	for _, peer := range []int{601, 602, 603} {
		if n := f.SentCount(peer); n != 1 {
			t.Errorf("peer %d got %d messages, want 1", peer, n)
		}
	}
	if _, err := a.SendBulk(t.Context(), []string{"601"}, bot.Message{Text: "Новость", Key: "bc:8"}); err != nil {
		t.Fatalf("another broadcast: %v", err)
	}
	if n := f.SentCount(601); n != 2 {
		t.Errorf("a new key delivered %d messages in all, want 2", n)
	}
}

func TestSendBulkRefusedBeforeCalling(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	many := make([]string, 101)
	for i := range many {
		many[i] = strconv.Itoa(1000 + i)
		f.Meet(1000 + i)
	}
	tests := []struct {
		name  string
		chats []string
		msg   bot.Message
	}{
		{"101 chats", many, bot.Message{Text: "x"}},
		{"bad chat id", []string{"501", "abc"}, bot.Message{Text: "x"}},
		{"empty text", []string{"1000"}, bot.Message{Text: " "}},
		{"text too long", []string{"1000"}, bot.Message{Text: strings.Repeat("я", 4097)}},
	}
	for _, tt := range tests {
		if _, err := a.SendBulk(t.Context(), tt.chats, tt.msg); err == nil {
			t.Errorf("%s: sent", tt.name)
		}
	}
	results, err := a.SendBulk(t.Context(), nil, bot.Message{Text: "x"})
	if err != nil || len(results) != 0 {
		t.Errorf("no chats: %v, %v", results, err)
	}
	if n := f.Calls("messages.send"); n != 0 {
		t.Errorf("messages.send called %d times", n)
	}
	if _, err := a.SendBulk(t.Context(), many[:100], bot.Message{Text: "x"}); err != nil {
		t.Errorf("100 chats: %v", err)
	}
}

func TestSendBulkWholeCallErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(f *platformtest.VK)
		warmUp  bool // one call first, to use up the limit
		rate    bool
		code    api.ErrorType
	}{
		{name: "too many requests", prepare: func(f *platformtest.VK) { f.FailNext("messages.send", 1, 6, "Too many requests per second") },
			rate: true, code: 6},
		{name: "internal error", prepare: func(f *platformtest.VK) { f.FailRandomly("messages.send", 1, 10) }, code: 10},
		{name: "over the enforced limit", prepare: func(f *platformtest.VK) { f.EnforceLimits(1) }, warmUp: true, rate: true, code: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewVK(t)
			a := newAdapter(t, f, vk.Config{})
			f.Meet(501, 502)
			tt.prepare(f)
			if tt.warmUp {
				if _, err := a.SendBulk(t.Context(), []string{"502"}, bot.Message{Text: "first", Key: "k0"}); err != nil {
					t.Fatalf("first call: %v", err)
				}
			}
			results, err := a.SendBulk(t.Context(), []string{"501"}, bot.Message{Text: "x", Key: "k"})
			var rate *bot.RateLimitError
			var apiErr *api.Error
			if err == nil || results != nil || errors.As(err, &rate) != tt.rate || !errors.As(err, &apiErr) || apiErr.Code != tt.code {
				t.Fatalf("results %v, error %v; want VK code %d, rate limit %v", results, err, tt.code, tt.rate)
			}
			if f.SentCount(501) != 0 {
				t.Error("a failed call delivered")
			}
		})
	}
}

// testPNG encodes a w×h image as PNG.
func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 5)
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
	tests := []struct {
		name   string
		msg    bot.Message
		photo  bool // a person's photo goes along as an attachment
		attach int  // attachments stored with the message, the upload first
	}{
		{"caption and keyboard", bot.Message{Text: "Нормы по организациям", Keyboard: bot.Keyboard{{{Text: "Ещё", Data: "m:1"}}}}, false, 1},
		{"no text", bot.Message{}, false, 1},
		{"upload before attachments", bot.Message{Text: "Нормы"}, true, 2},
		{"text beyond a Telegram caption", bot.Message{Text: strings.Repeat("н", 2000)}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewVK(t)
			a := newAdapter(t, f, vk.Config{})
			m := tt.msg
			m.ChatID, m.Key, m.Upload = "501", "chart:1", &bot.Upload{Name: "chart.png", Data: chart}
			var photo string
			if tt.photo {
				photo = f.Attachment(f.SendPhoto(ivan, ""))
				m.Attachments = []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: photo}}
			} else {
				f.SendText(ivan, "hi")
			}
			sent, err := a.Send(t.Context(), m)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgs := f.Messages(501)
			if len(msgs) != 1 {
				t.Fatalf("%d messages: %+v", len(msgs), msgs)
			}
			got := msgs[0]
			if strconv.Itoa(got.ConversationMessageID) != sent.MessageID || got.Text != m.Text || !bytes.Equal(got.Upload, chart) ||
				len(got.Attachments) != tt.attach || !strings.HasPrefix(got.Attachments[0], fmt.Sprintf("photo%d_", -platformtest.VKGroupID)) ||
				(tt.photo && got.Attachments[1] != photo) || len(got.Buttons) != len(m.Keyboard) {
				t.Fatalf("stored text %.20q, %d bytes uploaded, attachments %v, buttons %v; sent %+v", got.Text, len(got.Upload), got.Attachments, got.Buttons, sent)
			}
			for method, want := range map[string]int{"photos.getMessagesUploadServer": 1, "photos.saveMessagesPhoto": 1, "messages.send": 1} {
				if n := f.Calls(method); n != want {
					t.Errorf("%s called %d times, want %d", method, n, want)
				}
			}
		})
	}
}

// A file uploaded once goes again by the attachment string Send names,
// never uploaded twice: a photo, or a document under its name (whose
// upload server is fetched for the peer, as VK requires of a community).
func TestAnUploadGoesAgainByItsAttachment(t *testing.T) {
	t.Parallel()
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("повестка "), 200)...)
	tests := []struct {
		name   string
		upload bot.Upload
		prefix string
		server string
	}{
		{"a photo", bot.Upload{Name: "собрание.png", Data: testPNG(t, 640, 420)}, "photo", "photos.getMessagesUploadServer"},
		{"a document", bot.Upload{Name: "повестка.pdf", Kind: bot.AttachDocument, Data: pdf}, "doc", "docs.getMessagesUploadServer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewVK(t)
			a := newAdapter(t, f, vk.Config{})
			f.Meet(601, 602)
			sent, err := a.Send(t.Context(), bot.Message{ChatID: "601", Text: "Собрание", Key: "b:1", Upload: &tt.upload})
			if err != nil {
				t.Fatal(err)
			}
			first := f.Messages(601)[0]
			if !strings.HasPrefix(sent.Uploaded, fmt.Sprintf("%s%d_", tt.prefix, -platformtest.VKGroupID)) ||
				len(first.Attachments) != 1 || first.Attachments[0] != sent.Uploaded || !bytes.Equal(first.Upload, tt.upload.Data) {
				t.Fatalf("uploaded %q; the fake stored %v with %d bytes", sent.Uploaded, first.Attachments, len(first.Upload))
			}
			kind := bot.AttachPhoto
			if tt.upload.Document() {
				kind = bot.AttachDocument
			}
			again, err := a.SendBulk(t.Context(), []string{"602"}, bot.Message{Text: "Собрание", Key: "b:1",
				Attachments: []bot.Attachment{{Platform: bot.VK, Kind: kind, FileID: sent.Uploaded}}})
			if err != nil || again[0].Err != nil {
				t.Fatalf("send again: %v %+v", err, again)
			}
			got := f.Messages(602)[0]
			if got.Attachments[0] != sent.Uploaded || !bytes.Equal(got.Upload, tt.upload.Data) || f.Uploads() != 1 || f.Calls(tt.server) != 1 {
				t.Fatalf("sent again with %v after %d uploads, %d upload servers", got.Attachments, f.Uploads(), f.Calls(tt.server))
			}
		})
	}
}

// A send refused after its upload went through still names the upload, so
// that the file need not go again.
func TestARefusedSendNamesItsUpload(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.Block(ivan.ID)
	sent, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Повестка",
		Upload: &bot.Upload{Name: "повестка.pdf", Kind: bot.AttachDocument, Data: []byte("%PDF-1.7")}})
	if !errors.Is(err, bot.ErrBlocked) || !strings.HasPrefix(sent.Uploaded, "doc") || sent.MessageID != "" {
		t.Fatalf("sent %+v, %v; want the upload named and the person blocked", sent, err)
	}
}

// Every API call of a message after its first waits for its turn: an
// upload's save and the send after the upload server.
func TestTheCallsOfAnUploadTakeTurns(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.SendText(ivan, "hi")
	for _, tc := range []struct {
		name  string
		m     bot.Message
		turns int
	}{
		{"text", bot.Message{Text: "Собрание"}, 0},
		{"a photo", bot.Message{Text: "Собрание", Upload: &bot.Upload{Data: testPNG(t, 64, 48)}}, 2},
		{"a document", bot.Message{Upload: &bot.Upload{Name: "повестка.pdf", Kind: bot.AttachDocument, Data: []byte("%PDF")}}, 2},
	} {
		turns := 0
		m := tc.m
		m.ChatID, m.Pace = "501", func(context.Context) error { turns++; return nil }
		if _, err := a.Send(t.Context(), m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if turns != tc.turns {
			t.Errorf("%s: %d turns taken, want %d", tc.name, turns, tc.turns)
		}
	}
	// A turn refused stops the send before its call.
	sends := f.Calls("messages.send")
	_, err := a.Send(t.Context(), bot.Message{ChatID: "501", Upload: &bot.Upload{Data: testPNG(t, 64, 48)},
		Pace: func(context.Context) error { return context.Canceled }})
	if !errors.Is(err, context.Canceled) || f.Calls("photos.saveMessagesPhoto") != 1 || f.Calls("messages.send") != sends {
		t.Fatalf("a refused turn: %v, %d saves", err, f.Calls("photos.saveMessagesPhoto"))
	}
}

func TestUploadEditAndBulk(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.SendText(ivan, "hi")
	chart, chart2 := testPNG(t, 320, 200), testPNG(t, 320, 210)

	// The edit replaces the message whole: the photo given again stays.
	m := bot.Message{ChatID: "501", Text: "Нормы", Keyboard: bot.Keyboard{{{Text: "Ещё", Data: "m:1"}}}, Upload: &bot.Upload{Data: chart}}
	sent, err := a.Send(t.Context(), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := a.Edit(t.Context(), sent, bot.Message{Text: "Нормы за май", Upload: &bot.Upload{Data: chart2}}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if got := f.Messages(501)[0]; got.Text != "Нормы за май" || !bytes.Equal(got.Upload, chart2) || len(got.Attachments) != 1 || len(got.Buttons) != 0 {
		t.Fatalf("after edit: %q, %d bytes, %v, %v", got.Text, len(got.Upload), got.Attachments, got.Buttons)
	}

	// A bulk send uploads once for all.
	peers := []string{"601", "602", "603"}
	for _, p := range peers {
		id, _ := strconv.Atoi(p)
		f.Meet(id)
	}
	uploads := f.Calls("photos.saveMessagesPhoto")
	results, err := a.SendBulk(t.Context(), peers, bot.Message{Text: "Нормы", Key: "bc:chart", Upload: &bot.Upload{Name: "chart.png", Data: chart}})
	if err != nil {
		t.Fatalf("send bulk: %v", err)
	}
	for i, r := range results {
		peer, _ := strconv.Atoi(peers[i])
		if msgs := f.Messages(peer); r.Err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0].Upload, chart) {
			t.Errorf("peer %d: %+v, messages %+v", peer, r, msgs)
		}
	}
	if n := f.Calls("photos.saveMessagesPhoto") - uploads; n != 1 {
		t.Errorf("%d uploads for one bulk send, want 1", n)
	}
}

func TestUploadErrors(t *testing.T) {
	t.Parallel()
	chart := testPNG(t, 320, 200)
	tests := []struct {
		name      string
		prep      func(f *platformtest.VK)
		upload    *bot.Upload
		rateLimit bool
		apiCode   int    // > 0: a VK error of that code in the chain
		text      string // in the error otherwise
	}{
		{"not an image", nil, &bot.Upload{Data: []byte("no png")}, false, 0, "upload server took no photo"},
		{"out of proportion", nil, &bot.Upload{Data: testPNG(t, 420, 20)}, false, 0, "upload server took no photo"},
		{"upload server rate limited", func(f *platformtest.VK) {
			f.FailNext("photos.getMessagesUploadServer", 1, 6, "Too many requests per second")
		},
			&bot.Upload{Data: chart}, true, 6, ""},
		{"save refused", func(f *platformtest.VK) { f.FailNext("photos.saveMessagesPhoto", 1, 121, "Invalid hash") },
			&bot.Upload{Data: chart}, false, 121, ""},
		{"not allowed to write", func(f *platformtest.VK) { f.Block(ivan.ID) }, &bot.Upload{Data: chart}, false, 901, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewVK(t)
			a := newAdapter(t, f, vk.Config{})
			f.SendText(ivan, "hi")
			if tt.prep != nil {
				tt.prep(f)
			}
			_, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Нормы", Upload: tt.upload})
			var (
				apiErr  *api.Error
				limited *bot.RateLimitError
			)
			switch {
			case err == nil:
				t.Fatal("sent")
			case tt.apiCode > 0 && (!errors.As(err, &apiErr) || int(apiErr.Code) != tt.apiCode):
				t.Fatalf("error %v, want VK error %d", err, tt.apiCode)
			case errors.As(err, &limited) != tt.rateLimit:
				t.Fatalf("error %v, rate limit %v", err, tt.rateLimit)
			case !strings.Contains(err.Error(), tt.text):
				t.Fatalf("error %v, want %q", err, tt.text)
			}
			if tt.apiCode != 901 && len(f.Messages(501)) != 0 {
				t.Fatalf("sent %+v", f.Messages(501))
			}
		})
	}

	// Refused before any call.
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	f.SendText(ivan, "hi")
	ten := make([]bot.Attachment, 10) // the upload makes eleven
	for i := range ten {
		ten[i] = bot.Attachment{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: f.Attachment(f.SendPhoto(ivan, ""))}
	}
	for i, m := range []bot.Message{
		{ChatID: "501", Text: "x", Upload: &bot.Upload{Name: "chart.png"}},
		{ChatID: "501", Text: "x", Upload: &bot.Upload{Data: chart}, Attachments: ten},
	} {
		if _, err := a.Send(t.Context(), m); err == nil {
			t.Errorf("refused message %d was sent", i)
		}
	}
	if n := f.Calls("photos.getMessagesUploadServer"); n != 0 {
		t.Fatalf("%d upload servers fetched for refused messages", n)
	}
}

func TestEditKeyboardKeepsTextAndFiles(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	a := newAdapter(t, f, vk.Config{})
	photo := f.Attachment(f.SendPhoto(ivan, ""))
	doc := f.Attachment(f.SendDoc(ivan, "act.pdf", ""))
	files := []bot.Attachment{{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: photo}, {Platform: bot.VK, Kind: bot.AttachDocument, FileID: doc}}
	sent, err := a.Send(t.Context(), bot.Message{ChatID: "501", Text: "Ответ на вопрос № 3", Attachments: files,
		Keyboard: bot.Keyboard{{{Text: "Ответить", Data: "tk:follow:3"}, {Text: "Решён", Data: "tk:done:3"}}}})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := a.EditKeyboard(t.Context(), sent, bot.Keyboard{{{Text: "Оценить", Data: "tk:rate:3"}}}); err != nil {
		t.Fatalf("edit keyboard: %v", err)
	}
	got := f.Messages(501)[0]
	if got.Text != "Ответ на вопрос № 3" || !reflect.DeepEqual(got.Attachments, []string{photo, doc}) || !got.HasPayload(`{"d":"tk:rate:3"}`) || got.HasPayload(`{"d":"tk:done:3"}`) {
		t.Fatalf("after a new keyboard: %+v", got)
	}
	if err := a.EditKeyboard(t.Context(), sent, nil); err != nil {
		t.Fatalf("remove keyboard: %v", err)
	}
	if got := f.Messages(501)[0]; got.Text != "Ответ на вопрос № 3" || len(got.Attachments) != 2 || len(got.Buttons) != 0 {
		t.Fatalf("after removing the keyboard: %+v", got)
	}
	if err := a.EditKeyboard(t.Context(), bot.Sent{ChatID: "501", MessageID: "99"}, nil); !errors.Is(err, bot.ErrChatGone) {
		t.Fatalf("a missing message: %v, want ErrChatGone", err)
	}
}

// positions is vk.Positions in a map.
type positions struct {
	mu    sync.Mutex
	saved map[string][]byte
}

func (p *positions) Load(_ context.Context, key string) ([]byte, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.saved[key]
	return v, ok, nil
}

func (p *positions) Save(_ context.Context, key string, value []byte, _ time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.saved[key] = value
	return nil
}

func TestLongPollResumesAfterRestart(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	kept := &positions{saved: map[string][]byte{}}
	first := newAdapter(t, f, vk.Config{GroupID: platformtest.VKGroupID, Positions: kept})
	s := newSink()
	stop := runAdapter(t, first, s)
	f.WaitLongPoll(t)
	f.SendText(ivan, "before")
	if u := s.next(t); u.Text != "before" {
		t.Fatalf("got %q, want %q", u.Text, "before")
	}
	stop()

	// Written while the hub is down, read when it is back.
	f.SendText(ivan, "while down")
	f.SendText(alice, "also while down")
	servers := f.Calls("groups.getLongPollServer")
	second := newAdapter(t, f, vk.Config{GroupID: platformtest.VKGroupID, Positions: kept})
	t.Cleanup(runAdapter(t, second, s))
	for _, want := range []string{"while down", "also while down"} {
		if u := s.next(t); u.Text != want {
			t.Fatalf("after the restart got %q, want %q", u.Text, want)
		}
	}
	if f.Calls("groups.getLongPollServer") <= servers {
		t.Error("the restarted adapter did not fetch its own long poll key")
	}
	f.SendText(ivan, "after")
	if u := s.next(t); u.Text != "after" {
		t.Fatalf("got %q, want %q", u.Text, "after")
	}
}

func TestLongPollOutdatedPositionStartsFromNow(t *testing.T) {
	t.Parallel()
	f := platformtest.NewVK(t)
	key := "vk:longpoll:" + strconv.Itoa(platformtest.VKGroupID)
	kept := &positions{saved: map[string][]byte{key: []byte("999999")}}
	a := newAdapter(t, f, vk.Config{GroupID: platformtest.VKGroupID, Positions: kept})
	s := newSink()
	t.Cleanup(runAdapter(t, a, s))
	// VK answers a position it no longer knows with failed 1 and the
	// current one, which the adapter takes and keeps.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _, _ := kept.Load(t.Context(), key); string(v) != "999999" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outdated position was never replaced")
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.SendText(ivan, "hello")
	if u := s.next(t); u.Text != "hello" {
		t.Fatalf("got %q, want %q", u.Text, "hello")
	}
}
