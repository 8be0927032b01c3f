package telegram_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/bot/telegram"
)

func TestTranslate(t *testing.T) {
	t.Parallel()
	pressedAt := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	annaUser := bot.User{ID: "1001", FirstName: "Anna", LastName: "Petrova", Username: "anna_p", Language: "ru"}
	annaChat := bot.Chat{ID: "1001", Kind: bot.ChatPrivate}
	unionChat := bot.Chat{ID: "-1001234567890", Kind: bot.ChatGroup, Title: "Union board"}
	cases := []struct {
		name string
		// act makes the update and returns its id and the update expected
		// besides Platform, ID and At.
		act func(t *testing.T, f *platformtest.Telegram, a *telegram.Adapter) (int64, bot.Update)
	}{
		{"private text", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			return f.SendText(anna, "Hello, union"), bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Text: "Hello, union"}
		}},
		{"formatted text keeps what the author applied", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			text := "Сбор 📣 подписей @union https://t.me/u"
			return f.SendFormattedText(anna, text,
					platformtest.TGEntity{Type: "bold", Offset: 0, Length: 4},
					platformtest.TGEntity{Type: "expandable_blockquote", Offset: 5, Length: 11},
					platformtest.TGEntity{Type: "text_link", Offset: 8, Length: 8, URL: "https://example.org/a"},
					platformtest.TGEntity{Type: "mention", Offset: 17, Length: 6},
					platformtest.TGEntity{Type: "url", Offset: 24, Length: 14},
					platformtest.TGEntity{Type: "custom_emoji", Offset: 5, Length: 2},
				), bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Text: text, Format: []bot.Span{
					{Kind: "bold", Offset: 0, Length: 4}, {Kind: "blockquote", Offset: 5, Length: 11},
					{Kind: "text_link", Offset: 8, Length: 8, URL: "https://example.org/a"},
				}}
		}},
		{"private command", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			return f.SendText(anna, "/Help  me"), bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Text: "/Help  me", Command: "help", Args: "me"}
		}},
		{"start payload", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			return f.SendText(anna, "/start inv_AbC-123"), bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Text: "/start inv_AbC-123", Command: "start", Args: "inv_AbC-123"}
		}},
		{"group command for us", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			text := "/bind@UnionHub_Test_Bot code42"
			return f.SendGroupText(anna, union, text), bot.Update{Chat: unionChat, From: annaUser, MessageID: "1", Text: text, Command: "bind", Args: "code42"}
		}},
		{"group command for another bot", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			text := "/bind@other_bot code42"
			return f.SendGroupText(anna, union, text), bot.Update{Chat: unionChat, From: annaUser, MessageID: "1", Text: text}
		}},
		{"small group", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			g := platformtest.TGGroup{ID: -4005, Title: "Shop floor"}
			return f.SendGroupText(boris, g, "hi all"), bot.Update{
				Chat: bot.Chat{ID: "-4005", Kind: bot.ChatGroup, Title: "Shop floor"}, From: bot.User{ID: "2002", FirstName: "Boris"},
				MessageID: "1", Text: "hi all",
			}
		}},
		{"photo with caption", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			id := f.SendPhoto(anna, "my payslip")
			return id, bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Text: "my payslip", Attachments: []bot.Attachment{
				{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: f.Attachment(id).FileID},
			}}
		}},
		{"photo without caption", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			id := f.SendPhoto(anna, "")
			return id, bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Attachments: []bot.Attachment{
				{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: f.Attachment(id).FileID},
			}}
		}},
		{"document with caption", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			id := f.SendDocument(anna, "договор.pdf", "/ask about this contract")
			return id, bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", Text: "/ask about this contract", Command: "ask", Args: "about this contract",
				Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: f.Attachment(id).FileID, Name: "договор.pdf"}}}
		}},
		{"voice", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			return f.SendVoice(anna), bot.Update{Chat: annaChat, From: annaUser, MessageID: "1", HasMedia: true}
		}},
		{"reply in a group to the bot", func(t *testing.T, f *platformtest.Telegram, a *telegram.Adapter) (int64, bot.Update) {
			f.SendGroupText(boris, union, "/bind")
			sent, err := a.Send(t.Context(), bot.Message{ChatID: "-1001234567890", Text: "Ticket 7"})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgID, _ := strconv.Atoi(sent.MessageID)
			return f.ReplyInGroup(anna, union, msgID, "We will call you"), bot.Update{Chat: unionChat, From: annaUser, MessageID: "3", Text: "We will call you", ReplyTo: sent.MessageID}
		}},
		{"reply in a group to a person", func(_ *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			f.SendGroupText(boris, union, "who takes it?")
			return f.ReplyInGroup(anna, union, 1, "I do"), bot.Update{Chat: unionChat, From: annaUser, MessageID: "2", Text: "I do", ReplyTo: "1"}
		}},
		{"button press", func(t *testing.T, f *platformtest.Telegram, a *telegram.Adapter) (int64, bot.Update) {
			f.SendText(anna, "hi")
			sent, err := a.Send(t.Context(), bot.Message{ChatID: "1001", Text: "Vote", Keyboard: bot.Keyboard{{{Text: "Yes", Data: "vote:yes"}}}})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgID, _ := strconv.Atoi(sent.MessageID)
			id := f.Press(anna, anna.ID, msgID, "vote:yes")
			return id, bot.Update{Chat: annaChat, From: annaUser, Callback: &bot.Callback{ID: f.CallbackQueryID(id), Data: "vote:yes", MessageID: sent.MessageID}}
		}},
		{"press on an old message", func(t *testing.T, f *platformtest.Telegram, _ *telegram.Adapter) (int64, bot.Update) {
			id := f.Press(anna, union.ID, 77, "vote:no")
			return id, bot.Update{Chat: bot.Chat{ID: "-1001234567890", Kind: bot.ChatGroup}, From: annaUser, Callback: &bot.Callback{ID: f.CallbackQueryID(id), Data: "vote:no", MessageID: "77"}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			cfg := testConfig(t, f)
			cfg.Now = func() time.Time { return pressedAt }
			a := newAdapter(t, cfg)
			sink := &recordingSink{}
			before := time.Now().Add(-2 * time.Second)
			id, want := tc.act(t, f, a)
			run(t, a, sink)
			want.Platform, want.ID = bot.Telegram, strconv.FormatInt(id, 10)
			var got bot.Update
			f.Await(t, "the update in the sink", func() bool {
				for _, u := range sink.got() {
					if u.ID == want.ID {
						got = u
						return true
					}
				}
				return false
			})
			switch {
			case want.Callback != nil && !got.At.Equal(pressedAt):
				t.Fatalf("press at %s, want the clock's %s", got.At, pressedAt)
			case want.Callback == nil && (got.At.Before(before.Truncate(time.Second)) || got.At.After(time.Now())):
				t.Fatalf("message at %s, want the message date", got.At)
			}
			got.At = time.Time{}
			if want.Attachments != nil && want.Attachments[0].FileID == "" {
				t.Fatal("the fake named no file for the update")
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("update\n got %+v %+v\nwant %+v %+v", got, got.Callback, want, want.Callback)
			}
		})
	}
}

// TestTranslateMessageKinds feeds raw updates, for media and replies the
// fake's people do not send, through the webhook handler.
func TestTranslateMessageKinds(t *testing.T) {
	t.Parallel()
	const head = `{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"chat":{"id":-1001,"type":"supergroup","title":"Desk"},` +
		`"from":{"id":1001,"is_bot":false,"first_name":"Anna"},`
	photo := `"photo":[{"file_id":"small","file_unique_id":"s","width":90,"height":90},` +
		`{"file_id":"big","file_unique_id":"b","width":1280,"height":720},{"file_id":"mid","file_unique_id":"m","width":320,"height":180}]`
	cases := []struct {
		name string
		body string // the message's fields after from
		want bot.Update
	}{
		{"photo sizes out of order", photo + `,"caption":"look"`,
			bot.Update{Text: "look", Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: "big"}}}},
		{"document", `"document":{"file_id":"doc1","file_unique_id":"d","file_name":"act.pdf"}`,
			bot.Update{Attachments: []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: "doc1", Name: "act.pdf"}}}},
		{"animation comes with a document too", `"animation":{"file_id":"gif","file_unique_id":"g","width":1,"height":1,"duration":1},` +
			`"document":{"file_id":"gif","file_unique_id":"g","file_name":"a.mp4"}`, bot.Update{HasMedia: true}},
		{"video", `"video":{"file_id":"v","file_unique_id":"v","width":1,"height":1,"duration":1},"caption":"see"`, bot.Update{Text: "see", HasMedia: true}},
		{"video note", `"video_note":{"file_id":"vn","file_unique_id":"vn","length":1,"duration":1}`, bot.Update{HasMedia: true}},
		{"audio", `"audio":{"file_id":"au","file_unique_id":"au","duration":1}`, bot.Update{HasMedia: true}},
		{"sticker", `"sticker":{"file_id":"st","file_unique_id":"st","type":"regular","width":1,"height":1,"is_animated":false,"is_video":false}`, bot.Update{HasMedia: true}},
		{"voice", `"voice":{"file_id":"vo","file_unique_id":"vo","duration":1}`, bot.Update{HasMedia: true}},
		{"reply", `"reply_to_message":{"message_id":41,"date":1700000000,"chat":{"id":-1001,"type":"supergroup"},"text":"Ticket 7"},"text":"done"`,
			bot.Update{Text: "done", ReplyTo: "41"}},
		{"topic message is no reply", `"is_topic_message":true,"message_thread_id":5,` +
			`"reply_to_message":{"message_id":5,"date":1700000000,"chat":{"id":-1001,"type":"supergroup"},"forum_topic_created":{"name":"Hot line","icon_color":1}},"text":"hi"`,
			bot.Update{Text: "hi"}},
	}
	s := newWebhookSetup(t)
	for i, tc := range cases {
		id, msgID := 500+i, 10+i
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url, strings.NewReader(fmt.Sprintf(head, id, msgID)+tc.body+"}}"))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := s.sink.got()
		if resp.StatusCode != http.StatusOK || len(got) != i+1 {
			t.Fatalf("%s: status %d, %d updates", tc.name, resp.StatusCode, len(got))
		}
		want := tc.want
		want.Platform, want.ID, want.MessageID = bot.Telegram, strconv.Itoa(id), strconv.Itoa(msgID)
		want.Chat = bot.Chat{ID: "-1001", Kind: bot.ChatGroup, Title: "Desk"}
		want.From = bot.User{ID: "1001", FirstName: "Anna"}
		want.At = time.Unix(1700000000, 0).UTC()
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got[i], want)
		}
	}
}

func TestLongPolling(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))

	// A webhook left from another deployment must not block polling.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(hook.Close)
	resp, err := http.PostForm(f.URL()+"/bot"+platformtest.TelegramToken+"/setWebhook", url.Values{"url": {hook.URL}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	users := []platformtest.TGUser{anna, boris, {ID: 3003, FirstName: "Vera"}}
	var want []string
	for i := range 6 {
		want = append(want, strconv.FormatInt(f.SendText(users[i%3], "before "+strconv.Itoa(i)), 10))
	}
	sink := &recordingSink{}
	stop := run(t, a, sink)
	for i := range 6 {
		want = append(want, strconv.FormatInt(f.SendGroupText(users[i%3], union, "during "+strconv.Itoa(i)), 10))
	}
	f.Await(t, "12 updates", func() bool { return len(sink.got()) >= 12 })
	if f.Webhook().URL != "" {
		t.Fatal("Run did not delete the webhook")
	}
	var got []string
	for _, u := range sink.got() {
		got = append(got, u.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("updates %v, want in order %v", got, want)
	}
	stop()
	f.Await(t, "everything handed over confirmed", func() bool { return f.PendingUpdates() == 0 })
}

func TestLongPollingWaits(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	stop := run(t, a, &recordingSink{})
	time.Sleep(2500 * time.Millisecond)
	stop()
	// One-second long polls: about three in 2.5 s, not a busy loop.
	if n := f.Calls("getUpdates"); n < 2 || n > 4 {
		t.Fatalf("%d getUpdates calls in 2.5s with a 1s poll timeout", n)
	}
}

func TestLongPollingRestartLosesNothing(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	var all []string
	for i := range 40 {
		all = append(all, strconv.FormatInt(f.SendText(anna, "m"+strconv.Itoa(i)), 10))
	}
	first := &recordingSink{delay: 5 * time.Millisecond}
	stop := run(t, a, first)
	f.Await(t, "some updates in the first run", func() bool { return len(first.got()) >= 5 })
	stop()

	second := &recordingSink{}
	run(t, a, second)
	seen := func() map[string]bool {
		m := map[string]bool{}
		for _, u := range append(first.got(), second.got()...) {
			m[u.ID] = true
		}
		return m
	}
	f.Await(t, "all updates across both runs", func() bool { return len(seen()) == len(all) })
	for _, s := range []*recordingSink{first, second} {
		got := s.got()
		if !slices.IsSortedFunc(got, func(x, y bot.Update) int {
			a, _ := strconv.Atoi(x.ID)
			b, _ := strconv.Atoi(y.ID)
			return a - b
		}) {
			t.Fatal("a run handed updates over out of order")
		}
	}
	if len(first.got()) == len(all) {
		t.Fatal("the first run took everything; the test did not stop it midway")
	}
	f.Await(t, "all confirmed", func() bool { return f.PendingUpdates() == 0 })
}

type webhookSetup struct {
	f    *platformtest.Telegram
	a    *telegram.Adapter
	sink *recordingSink
	url  string
}

const hookSecret = "hook-Secret_42"

func newWebhookSetup(t *testing.T) webhookSetup {
	t.Helper()
	f := platformtest.NewTelegram(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := testConfig(t, f)
	cfg.WebhookURL, cfg.WebhookSecret = srv.URL+"/telegram", hookSecret
	a := newAdapter(t, cfg)
	sink := &recordingSink{}
	mux.Handle("/telegram", a.WebhookHandler(sink))
	return webhookSetup{f: f, a: a, sink: sink, url: srv.URL + "/telegram"}
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	s := newWebhookSetup(t)
	stop := run(t, s.a, s.sink)
	s.f.Await(t, "setWebhook", func() bool { return s.f.Webhook().URL != "" })
	if w := s.f.Webhook(); w.URL != s.url || w.Secret != hookSecret || !slices.Equal(w.AllowedUpdates, []string{"message", "callback_query"}) {
		t.Fatalf("webhook = %+v", w)
	}
	id := s.f.SendText(anna, "/start x")
	s.f.Await(t, "the update in the sink", func() bool { return len(s.sink.got()) == 1 })
	if u := s.sink.got()[0]; u.ID != strconv.FormatInt(id, 10) || u.Command != "start" || u.Args != "x" {
		t.Fatalf("update = %+v", u)
	}
	// The fake records a delivery when the answer arrives, after the sink saw it.
	s.f.Await(t, "one delivery", func() bool { return len(s.f.WebhookDeliveries()) == 1 })
	if d := s.f.WebhookDeliveries(); !slices.Equal(d, []platformtest.TGDelivery{{UpdateID: id, Status: 200}}) {
		t.Fatalf("deliveries = %v", d)
	}
	stop()
	if s.f.Calls("getUpdates") != 0 || s.f.Calls("deleteWebhook") != 0 {
		t.Fatal("webhook mode polled or deleted the webhook")
	}
}

func TestWebhookRetriesFailedUpdate(t *testing.T) {
	t.Parallel()
	s := newWebhookSetup(t)
	s.sink.fail = 1
	run(t, s.a, s.sink)
	s.f.Await(t, "setWebhook", func() bool { return s.f.Webhook().URL != "" })
	id := s.f.SendText(anna, "hello")
	s.f.Await(t, "the retry", func() bool { return len(s.f.WebhookDeliveries()) == 2 })
	want := []platformtest.TGDelivery{{UpdateID: id, Status: http.StatusServiceUnavailable}, {UpdateID: id, Status: http.StatusOK}}
	if d := s.f.WebhookDeliveries(); !slices.Equal(d, want) {
		t.Fatalf("deliveries = %v, want %v", d, want)
	}
	if got := s.sink.got(); got[0].ID != got[1].ID {
		t.Fatalf("retry carried another update: %s, %s", got[0].ID, got[1].ID)
	}
}

func TestWebhookHandlerRequests(t *testing.T) {
	t.Parallel()
	s := newWebhookSetup(t)
	update := `{"update_id":77,"message":{"message_id":5,"date":1700000000,"chat":{"id":1001,"type":"private"},"from":{"id":1001,"is_bot":false,"first_name":"Anna"},"text":"hi"}}`
	cases := []struct {
		name   string
		method string
		secret string
		body   string
		status int
	}{
		{"no secret", http.MethodPost, "", update, http.StatusUnauthorized},
		{"wrong secret", http.MethodPost, "hook-Secret_43", update, http.StatusUnauthorized},
		{"secret prefix", http.MethodPost, hookSecret[:5], update, http.StatusUnauthorized},
		{"GET", http.MethodGet, hookSecret, "", http.StatusMethodNotAllowed},
		{"bad JSON", http.MethodPost, hookSecret, `{"update_id":`, http.StatusBadRequest},
		{"too large", http.MethodPost, hookSecret, `{"update_id":1,"x":"` + strings.Repeat("a", 1<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{"edited message ignored", http.MethodPost, hookSecret, `{"update_id":78,"edited_message":{"message_id":5,"date":1700000000,"chat":{"id":1001,"type":"private"},"text":"hi!"}}`, http.StatusOK},
		{"inline-mode press ignored", http.MethodPost, hookSecret, `{"update_id":79,"callback_query":{"id":"9","from":{"id":1001,"is_bot":false,"first_name":"Anna"},"inline_message_id":"AAA","chat_instance":"1","data":"x"}}`, http.StatusOK},
	}
	for _, tc := range cases {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, s.url, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tc.secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	if got := s.sink.got(); len(got) != 0 {
		t.Fatalf("the sink saw %d updates from refused or ignored requests", len(got))
	}

	// The same update with the right secret goes through.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.url, strings.NewReader(update))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", hookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.sink.got(); resp.StatusCode != http.StatusOK || len(got) != 1 || got[0].ID != "77" || got[0].Text != "hi" ||
		!got[0].At.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("valid update: status %d, sink %+v", resp.StatusCode, got)
	}
}

func TestWebhookHandlerWithoutWebhookMode(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	a := newAdapter(t, testConfig(t, f))
	sink := &recordingSink{}
	srv := httptest.NewServer(a.WebhookHandler(sink))
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	for _, secret := range []string{"", "anything"} {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"}}}`))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("secret %q: status %d, want 401", secret, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if len(sink.got()) != 0 {
		t.Fatal("a polling adapter's webhook handler took an update")
	}
}
