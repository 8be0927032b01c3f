package platformtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
)

type tgReply struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

type tgTestUpdate struct {
	UpdateID int64 `json:"update_id"`
	Message  *struct {
		MessageID int `json:"message_id"`
		Date      int64
		Text      string `json:"text"`
		Caption   string `json:"caption"`
		Photo     []any  `json:"photo"`
		Chat      struct {
			ID    int64  `json:"id"`
			Type  string `json:"type"`
			Title string `json:"title"`
		} `json:"chat"`
		Entities []struct {
			Type   string `json:"type"`
			Length int    `json:"length"`
		} `json:"entities"`
	} `json:"message"`
	CallbackQuery *struct {
		ID      string `json:"id"`
		Data    string `json:"data"`
		Message struct {
			MessageID   int   `json:"message_id"`
			Date        int64 `json:"date"`
			ReplyMarkup *struct {
				InlineKeyboard [][]struct {
					CallbackData string `json:"callback_data"`
				} `json:"inline_keyboard"`
			} `json:"reply_markup"`
		} `json:"message"`
	} `json:"callback_query"`
}

var tgAnna = platformtest.TGUser{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "ru"}

// tgCall calls the fake as a bot would, with a urlencoded body.
func tgCall(t *testing.T, f *platformtest.Telegram, method string, params url.Values) (int, tgReply) {
	t.Helper()
	resp, err := http.PostForm(f.URL()+"/bot"+platformtest.TelegramToken+"/"+method, params)
	if err != nil {
		t.Fatalf("call %s: %v", method, err)
	}
	return tgDecode(t, resp)
}

func tgDecode(t *testing.T, resp *http.Response) (int, tgReply) {
	t.Helper()
	defer resp.Body.Close()
	var r tgReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode reply: %v", err)
	}
	if r.OK != (resp.StatusCode == http.StatusOK) || (!r.OK && r.ErrorCode != resp.StatusCode) {
		t.Fatalf("reply %+v does not agree with HTTP status %d", r, resp.StatusCode)
	}
	return resp.StatusCode, r
}

func tgUpdates(t *testing.T, f *platformtest.Telegram, params url.Values) []tgTestUpdate {
	t.Helper()
	status, r := tgCall(t, f, "getUpdates", params)
	if status != http.StatusOK {
		t.Fatalf("getUpdates: %d %s", status, r.Description)
	}
	var ups []tgTestUpdate
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatalf("decode updates: %v", err)
	}
	return ups
}

func tgIDs(ups []tgTestUpdate) []int64 {
	var ids []int64
	for _, u := range ups {
		ids = append(ids, u.UpdateID)
	}
	return ids
}

func TestTelegramRouting(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	cases := []struct {
		name, path string
		status     int
		desc       string
	}{
		{"wrong token", "/bot1:wrong/getMe", http.StatusUnauthorized, "Unauthorized"},
		{"unknown method", "/bot" + platformtest.TelegramToken + "/getCoffee", http.StatusNotFound, "Not Found"},
		{"no bot prefix", "/getMe", http.StatusNotFound, "Not Found"},
		{"method case-insensitive", "/bot" + platformtest.TelegramToken + "/GETME", http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := http.Get(f.URL() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			status, r := tgDecode(t, resp)
			if status != tc.status || r.Description != tc.desc {
				t.Fatalf("got %d %q, want %d %q", status, r.Description, tc.status, tc.desc)
			}
		})
	}
	t.Run("getMe", func(t *testing.T) {
		t.Parallel()
		_, r := tgCall(t, f, "getMe", nil)
		var me struct {
			ID       int64  `json:"id"`
			IsBot    bool   `json:"is_bot"`
			Username string `json:"username"`
		}
		if err := json.Unmarshal(r.Result, &me); err != nil {
			t.Fatal(err)
		}
		if me.ID != 123456 || !me.IsBot || me.Username != platformtest.TelegramBotUsername {
			t.Fatalf("getMe = %+v", me)
		}
	})
}

func TestTelegramGetUpdatesOffset(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	id1 := f.SendText(tgAnna, "one")
	id2 := f.SendText(tgAnna, "/start abc")
	id3 := f.SendGroupText(tgAnna, platformtest.TGGroup{ID: -1001234567890, Title: "Union"}, "three")

	ups := tgUpdates(t, f, url.Values{"timeout": {"0"}})
	if got := tgIDs(ups); !slices.Equal(got, []int64{id1, id2, id3}) {
		t.Fatalf("first fetch = %v", got)
	}
	if e := ups[1].Message.Entities; len(e) != 1 || e[0].Type != "bot_command" || e[0].Length != len("/start") {
		t.Fatalf("command entities = %+v", e)
	}
	if c := ups[2].Message.Chat; c.Type != "supergroup" || c.Title != "Union" {
		t.Fatalf("group chat = %+v", c)
	}
	// Unconfirmed updates come again.
	if got := tgIDs(tgUpdates(t, f, url.Values{"offset": {"0"}, "limit": {"2"}})); !slices.Equal(got, []int64{id1, id2}) {
		t.Fatalf("refetch with limit 2 = %v", got)
	}
	// An offset confirms every update below it.
	if got := tgIDs(tgUpdates(t, f, url.Values{"offset": {strconv.FormatInt(id2, 10)}})); !slices.Equal(got, []int64{id2, id3}) {
		t.Fatalf("fetch from id2 = %v", got)
	}
	if n := f.PendingUpdates(); n != 2 {
		t.Fatalf("pending after confirming id1 = %d, want 2", n)
	}
	if got := tgUpdates(t, f, url.Values{"offset": {strconv.FormatInt(id3+1, 10)}}); len(got) != 0 {
		t.Fatalf("fetch after all confirmed = %v", tgIDs(got))
	}
	// A redelivered update comes once more with its old id, then is confirmed again.
	f.Redeliver(id2)
	if got := tgIDs(tgUpdates(t, f, url.Values{"offset": {strconv.FormatInt(id3+1, 10)}})); !slices.Equal(got, []int64{id2}) {
		t.Fatalf("after redeliver = %v", got)
	}
	if got := tgUpdates(t, f, url.Values{"offset": {strconv.FormatInt(id2+1, 10)}}); len(got) != 0 || f.PendingUpdates() != 0 {
		t.Fatalf("redelivered update not confirmed: %v, pending %d", tgIDs(got), f.PendingUpdates())
	}
}

func TestTelegramLongPoll(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)

	start := time.Now()
	if got := tgUpdates(t, f, url.Values{"timeout": {"1"}}); len(got) != 0 {
		t.Fatalf("empty poll returned %v", tgIDs(got))
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("empty poll with timeout 1 took %s", d)
	}

	time.AfterFunc(100*time.Millisecond, func() { f.SendText(tgAnna, "hello") })
	start = time.Now()
	got := tgUpdates(t, f, url.Values{"timeout": {"5"}})
	if len(got) != 1 || got[0].Message.Text != "hello" {
		t.Fatalf("long poll = %+v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("long poll answered after %s, want at the update", d)
	}
}

func TestTelegramPollConflicts(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)

	var (
		wg     sync.WaitGroup
		status int
		first  tgReply
	)
	wg.Go(func() { status, first = tgCall(t, f, "getUpdates", url.Values{"timeout": {"5"}}) })
	f.Await(t, "the first poll", func() bool { return f.Calls("getUpdates") == 1 })
	tgUpdates(t, f, url.Values{"timeout": {"0"}})
	wg.Wait()
	if status != http.StatusConflict || !strings.Contains(first.Description, "terminated by other getUpdates request") {
		t.Fatalf("older poll got %d %q", status, first.Description)
	}

	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	if s, r := tgCall(t, f, "setWebhook", url.Values{"url": {hook.URL}}); s != http.StatusOK {
		t.Fatalf("setWebhook: %d %s", s, r.Description)
	}
	s, r := tgCall(t, f, "getUpdates", nil)
	want := "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	if s != http.StatusConflict || r.Description != want {
		t.Fatalf("getUpdates with webhook: %d %q", s, r.Description)
	}
	if s, r := tgCall(t, f, "deleteWebhook", nil); s != http.StatusOK || f.Webhook().URL != "" {
		t.Fatalf("deleteWebhook: %d %s, webhook %+v", s, r.Description, f.Webhook())
	}
	tgUpdates(t, f, nil)
}

func TestTelegramSendMessage(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	blocked := platformtest.TGUser{ID: 2002, FirstName: "Boris"}
	f.SendText(tgAnna, "hi")
	f.SendText(blocked, "hi")
	f.Block(blocked.ID)
	group := platformtest.TGGroup{ID: -4005, Title: "Small group"}
	f.SendGroupText(tgAnna, group, "/bind")

	keyboard := func(buttons ...string) string { return `{"inline_keyboard":[[` + strings.Join(buttons, ",") + `]]}` }
	anna := strconv.FormatInt(tgAnna.ID, 10)
	cases := []struct {
		name   string
		params url.Values
		status int
		desc   string
	}{
		{"ok private", url.Values{"chat_id": {anna}, "text": {"hello"}}, 200, ""},
		{"ok group", url.Values{"chat_id": {"-4005"}, "text": {"hello"}}, 200, ""},
		{"ok 4096 wide runes", url.Values{"chat_id": {anna}, "text": {strings.Repeat("ж", 4096)}}, 200, ""},
		{"never wrote", url.Values{"chat_id": {"3003"}, "text": {"hello"}}, 400, "Bad Request: chat not found"},
		{"unknown group", url.Values{"chat_id": {"-777"}, "text": {"hello"}}, 400, "Bad Request: chat not found"},
		{"username chat id", url.Values{"chat_id": {"@anna"}, "text": {"hello"}}, 400, "Bad Request: chat not found"},
		{"blocked", url.Values{"chat_id": {"2002"}, "text": {"hello"}}, 403, "Forbidden: bot was blocked by the user"},
		{"empty text", url.Values{"chat_id": {anna}, "text": {" \n"}}, 400, "Bad Request: message text is empty"},
		{"too long", url.Values{"chat_id": {anna}, "text": {strings.Repeat("ж", 4097)}}, 400, "Bad Request: message is too long"},
		{"button data 64 bytes", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a","callback_data":"` + strings.Repeat("d", 64) + `"}`)}}, 200, ""},
		{"button data 65 bytes", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a","callback_data":"` + strings.Repeat("d", 65) + `"}`)}}, 400, "Bad Request: BUTTON_DATA_INVALID"},
		{"text-only button", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a"}`)}}, 400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
		{"empty copy_text", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a","callback_data":"d","copy_text":{"text":""}}`)}}, 400, "Bad Request: BUTTON_COPY_TEXT_INVALID"},
		{"copy_text without text", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a","copy_text":{}}`)}}, 400, "Bad Request: BUTTON_COPY_TEXT_INVALID"},
		{"copy_text button", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a","copy_text":{"text":"INV-42"}}`)}}, 200, ""},
		{"bad url button", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {keyboard(`{"text":"a","url":"javascript:alert(1)"}`)}}, 400, "Bad Request: BUTTON_URL_INVALID"},
		{"bad markup", url.Values{"chat_id": {anna}, "text": {"x"}, "reply_markup": {"{"}}, 400, "Bad Request: can't parse reply keyboard markup JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, r := tgCall(t, f, "sendMessage", tc.params)
			if status != tc.status || r.Description != tc.desc {
				t.Fatalf("got %d %q, want %d %q", status, r.Description, tc.status, tc.desc)
			}
		})
	}
}

func TestTelegramSendMessageEncodings(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	endpoint := f.URL() + "/bot" + platformtest.TelegramToken + "/sendMessage"
	markup := `{"inline_keyboard":[[{"text":"Yes","callback_data":"vote:yes"},{"text":"Site","url":"https://example.org"}]]}`

	jsonBody := `{"chat_id":1001,"text":"json","reply_markup":` + markup + `}`
	resp, err := http.Post(endpoint, "application/json", strings.NewReader(jsonBody))
	if err != nil {
		t.Fatal(err)
	}
	if status, r := tgDecode(t, resp); status != http.StatusOK {
		t.Fatalf("json body: %d %s", status, r.Description)
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"chat_id": "1001", "text": "multipart", "reply_markup": markup} {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(endpoint, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	status, r := tgDecode(t, resp)
	if status != http.StatusOK {
		t.Fatalf("multipart body: %d %s", status, r.Description)
	}
	var msg struct {
		MessageID int   `json:"message_id"`
		Date      int64 `json:"date"`
		Chat      struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"chat"`
		Text        string `json:"text"`
		ReplyMarkup struct {
			InlineKeyboard [][]struct {
				Text string `json:"text"`
			} `json:"inline_keyboard"`
		} `json:"reply_markup"`
	}
	if err := json.Unmarshal(r.Result, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.MessageID == 0 || msg.Date == 0 || msg.Chat.ID != 1001 || msg.Chat.Type != "private" ||
		msg.Text != "multipart" || len(msg.ReplyMarkup.InlineKeyboard) != 1 {
		t.Fatalf("result = %+v", msg)
	}

	got := f.Messages(tgAnna.ID)
	if len(got) != 2 || got[0].Text != "json" || got[1].Text != "multipart" || got[1].ID != msg.MessageID {
		t.Fatalf("messages = %+v", got)
	}
	for _, m := range got {
		if !m.HasButton("vote:yes") || m.ButtonData("Ye") != "vote:yes" || m.Buttons[0][1].URL != "https://example.org" {
			t.Fatalf("buttons of %q = %+v", m.Text, m.Buttons)
		}
	}
}

func TestTelegramEditAndDelete(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	markup := `{"inline_keyboard":[[{"text":"Yes","callback_data":"yes"}]]}`
	_, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"question"}, "reply_markup": {markup}})
	var sent struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(r.Result, &sent); err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(sent.MessageID)
	steps := []struct {
		name   string
		method string
		params url.Values
		status int
		desc   string
		text   string
		data   string // the one button's data after the step, "" for none
	}{
		{"same text and markup", "editMessageText", url.Values{"text": {"question"}, "reply_markup": {markup}}, 400,
			"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", "question", "yes"},
		{"new text keeps markup given", "editMessageText", url.Values{"text": {"question?"}, "reply_markup": {markup}}, 200, "", "question?", "yes"},
		{"markup only", "editMessageReplyMarkup", url.Values{"reply_markup": {`{"inline_keyboard":[[{"text":"No","callback_data":"no"}]]}`}}, 200, "", "question?", "no"},
		{"text without markup drops keyboard", "editMessageText", url.Values{"text": {"answered"}}, 200, "", "answered", ""},
		{"too long", "editMessageText", url.Values{"text": {strings.Repeat("a", 4097)}}, 400, "Bad Request: MESSAGE_TOO_LONG", "answered", ""},
		{"user's message", "editMessageText", url.Values{"text": {"x"}, "message_id": {"1"}}, 400, "Bad Request: message can't be edited", "answered", ""},
		{"unknown message", "editMessageText", url.Values{"text": {"x"}, "message_id": {"99"}}, 400, "Bad Request: message to edit not found", "answered", ""},
	}
	for _, s := range steps {
		p := s.params
		p.Set("chat_id", "1001")
		if p.Get("message_id") == "" {
			p.Set("message_id", id)
		}
		status, r := tgCall(t, f, s.method, p)
		if status != s.status || r.Description != s.desc {
			t.Fatalf("%s: got %d %q, want %d %q", s.name, status, r.Description, s.status, s.desc)
		}
		msgs := f.Messages(tgAnna.ID)
		if len(msgs) != 1 || msgs[0].Text != s.text || (s.data == "") != (len(msgs[0].Buttons) == 0) || (s.data != "" && !msgs[0].HasButton(s.data)) {
			t.Fatalf("%s: messages = %+v", s.name, msgs)
		}
	}
	if status, r := tgCall(t, f, "deleteMessage", url.Values{"chat_id": {"1001"}, "message_id": {id}}); status != 200 {
		t.Fatalf("delete: %d %s", status, r.Description)
	}
	if msgs := f.Messages(tgAnna.ID); len(msgs) != 0 {
		t.Fatalf("after delete: %+v", msgs)
	}
	if status, r := tgCall(t, f, "deleteMessage", url.Values{"chat_id": {"1001"}, "message_id": {id}}); status != 400 || r.Description != "Bad Request: message to delete not found" {
		t.Fatalf("second delete: %d %s", status, r.Description)
	}
}

func TestTelegramPressAndAnswer(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	markup := `{"inline_keyboard":[[{"text":"Yes","callback_data":"vote:yes"}]]}`
	tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"vote?"}, "reply_markup": {markup}})
	msg := f.WaitMessage(t, tgAnna.ID, func(m platformtest.TGMessage) bool { return m.Text == "vote?" })

	pressed := f.Press(tgAnna, tgAnna.ID, msg.ID, "vote:yes")
	stale := f.Press(tgAnna, tgAnna.ID, 99, "vote:old")
	ups := tgUpdates(t, f, url.Values{"offset": {strconv.FormatInt(pressed, 10)}})
	if len(ups) != 2 {
		t.Fatalf("updates = %v", tgIDs(ups))
	}
	cq := ups[0].CallbackQuery
	if cq == nil || cq.ID != f.CallbackQueryID(pressed) || cq.Data != "vote:yes" || cq.Message.MessageID != msg.ID ||
		cq.Message.Date == 0 || cq.Message.ReplyMarkup == nil || cq.Message.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "vote:yes" {
		t.Fatalf("callback = %+v", cq)
	}
	if old := ups[1].CallbackQuery; old == nil || old.Message.MessageID != 99 || old.Message.Date != 0 {
		t.Fatalf("press on an unknown message = %+v, want an inaccessible message", old)
	}
	if f.CallbackQueryID(stale) == cq.ID || f.CallbackQueryID(ups[0].UpdateID+1000) != "" {
		t.Fatal("callback query ids are not per update")
	}

	if status, r := tgCall(t, f, "answerCallbackQuery", url.Values{"callback_query_id": {cq.ID}, "text": {"Counted"}}); status != 200 {
		t.Fatalf("answer: %d %s", status, r.Description)
	}
	status, r := tgCall(t, f, "answerCallbackQuery", url.Values{"callback_query_id": {cq.ID}})
	if status != 400 || r.Description != "Bad Request: query is too old and response timeout expired or query ID is invalid" {
		t.Fatalf("second answer: %d %s", status, r.Description)
	}
	if got := f.CallbackAnswers(); len(got) != 1 || got[0] != cq.ID {
		t.Fatalf("answers = %v", got)
	}
	if text, ok := f.CallbackAnswer(cq.ID); !ok || text != "Counted" {
		t.Fatalf("answer text = %q, %v", text, ok)
	}
}

func TestTelegramFailNext(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	f.FailNext("sendMessage", 2, http.StatusTooManyRequests, "", 7)
	p := url.Values{"chat_id": {"1001"}, "text": {"x"}}
	for i := range 2 {
		status, r := tgCall(t, f, "sendMessage", p)
		if status != 429 || r.Parameters.RetryAfter != 7 || r.Description != "Too Many Requests: retry after 7" {
			t.Fatalf("call %d: %d %+v", i, status, r)
		}
	}
	if status, r := tgCall(t, f, "sendMessage", p); status != 200 {
		t.Fatalf("third call: %d %s", status, r.Description)
	}
	if n := f.Calls("SENDMESSAGE"); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}
	if n := len(f.Messages(tgAnna.ID)); n != 1 {
		t.Fatalf("messages after faults = %d, want 1", n)
	}
}

func TestTelegramWebhook(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	var (
		mu      sync.Mutex
		fails   = 2
		got     []int64
		secrets []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u tgTestUpdate
		_ = json.NewDecoder(r.Body).Decode(&u)
		mu.Lock()
		defer mu.Unlock()
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		got = append(got, u.UpdateID)
	}))
	t.Cleanup(hook.Close)

	for _, bad := range []string{"has space", "semi;colon", strings.Repeat("s", 257)} {
		if status, r := tgCall(t, f, "setWebhook", url.Values{"url": {hook.URL}, "secret_token": {bad}}); status != 400 {
			t.Fatalf("secret %q accepted: %d %s", bad, status, r.Description)
		}
	}
	if status, _ := tgCall(t, f, "setWebhook", url.Values{"url": {"ftp://example.org"}}); status != 400 {
		t.Fatalf("ftp webhook accepted: %d", status)
	}

	pending := f.SendText(tgAnna, "before the webhook")
	status, r := tgCall(t, f, "setWebhook", url.Values{"url": {hook.URL}, "secret_token": {"s3cr3t_-X"}, "allowed_updates": {`["message","callback_query"]`}})
	if status != 200 {
		t.Fatalf("setWebhook: %d %s", status, r.Description)
	}
	if w := f.Webhook(); w.URL != hook.URL || w.Secret != "s3cr3t_-X" || len(w.AllowedUpdates) != 2 {
		t.Fatalf("webhook = %+v", w)
	}
	fresh := f.SendText(tgAnna, "after the webhook")
	f.Await(t, "both updates delivered", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	f.Redeliver(fresh)
	f.Await(t, "the redelivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })

	mu.Lock()
	if !slices.Equal(got, []int64{pending, fresh, fresh}) {
		t.Fatalf("delivered %v", got)
	}
	for _, s := range secrets {
		if s != "s3cr3t_-X" {
			t.Fatalf("secret header %q", s)
		}
	}
	mu.Unlock()
	want := []platformtest.TGDelivery{{pending, 500}, {pending, 500}, {pending, 200}, {fresh, 200}, {fresh, 200}}
	if d := f.WebhookDeliveries(); len(d) != len(want) || d[0] != want[0] || d[2] != want[2] || d[4] != want[4] {
		t.Fatalf("deliveries = %v, want %v", d, want)
	}
	if n := f.PendingUpdates(); n != 0 {
		t.Fatalf("pending = %d", n)
	}
}

func TestTelegramWebhookGivesUp(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(hook.Close)
	tgCall(t, f, "setWebhook", url.Values{"url": {hook.URL}})
	id := f.SendText(tgAnna, "lost")
	start := time.Now()
	f.Await(t, "eight attempts", func() bool { return len(f.WebhookDeliveries()) == 8 && f.PendingUpdates() == 0 })
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("eight attempts took %s", d)
	}
	for _, d := range f.WebhookDeliveries() {
		if d != (platformtest.TGDelivery{UpdateID: id, Status: http.StatusBadGateway}) {
			t.Fatalf("delivery %+v", d)
		}
	}
	time.Sleep(600 * time.Millisecond)
	if n := len(f.WebhookDeliveries()); n != 8 {
		t.Fatalf("%d attempts, want 8", n)
	}
}

type tgTestFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
}

type tgTestMediaMessage struct {
	MessageID int          `json:"message_id"`
	Text      string       `json:"text"`
	Caption   string       `json:"caption"`
	Photo     []tgTestFile `json:"photo"`
	Document  *tgTestFile  `json:"document"`
	Voice     *tgTestFile  `json:"voice"`
	From      struct {
		IsBot bool `json:"is_bot"`
	} `json:"from"`
	ReplyToMessage *tgTestMediaMessage `json:"reply_to_message"`
}

func tgMediaUpdates(t *testing.T, f *platformtest.Telegram) map[int64]tgTestMediaMessage {
	t.Helper()
	status, r := tgCall(t, f, "getUpdates", nil)
	if status != http.StatusOK {
		t.Fatalf("getUpdates: %d %s", status, r.Description)
	}
	var ups []struct {
		UpdateID int64              `json:"update_id"`
		Message  tgTestMediaMessage `json:"message"`
	}
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		t.Fatal(err)
	}
	out := map[int64]tgTestMediaMessage{}
	for _, u := range ups {
		out[u.UpdateID] = u.Message
	}
	return out
}

func TestTelegramUserMedia(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	boris := platformtest.TGUser{ID: 2002, FirstName: "Boris"}
	photo := f.SendPhoto(tgAnna, "payslip")
	other := f.SendPhoto(boris, "")
	doc := f.SendDocument(tgAnna, "contract.pdf", "see page 2")
	voice := f.SendVoice(tgAnna)
	text := f.SendText(tgAnna, "hi")
	ups := tgMediaUpdates(t, f)

	p := ups[photo]
	if len(p.Photo) != 3 || p.Caption != "payslip" || p.Text != "" {
		t.Fatalf("photo message = %+v", p)
	}
	seen := map[string]bool{}
	for _, s := range append(p.Photo, ups[other].Photo...) {
		if s.FileID == "" || s.FileUniqueID == "" || seen[s.FileID] {
			t.Fatalf("photo sizes %+v, %+v: ids missing or repeated", p.Photo, ups[other].Photo)
		}
		seen[s.FileID] = true
	}
	if a := f.Attachment(photo); a != (platformtest.TGAttachment{Kind: "photo", FileID: p.Photo[2].FileID}) || p.Photo[2].Width != 1280 {
		t.Fatalf("Attachment(photo) = %+v, largest size %+v", a, p.Photo[2])
	}
	d := ups[doc]
	if d.Document == nil || d.Document.FileName != "contract.pdf" || d.Caption != "see page 2" ||
		f.Attachment(doc) != (platformtest.TGAttachment{Kind: "document", FileID: d.Document.FileID, FileName: "contract.pdf"}) {
		t.Fatalf("document message = %+v, Attachment %+v", d, f.Attachment(doc))
	}
	if v := ups[voice]; v.Voice == nil || v.Voice.FileID == "" || v.Photo != nil || v.Document != nil {
		t.Fatalf("voice message = %+v", v)
	}
	if f.Attachment(voice) != (platformtest.TGAttachment{}) || f.Attachment(text) != (platformtest.TGAttachment{}) {
		t.Fatal("Attachment names a file for a voice or text message")
	}
}

func TestTelegramSendFile(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	boris := platformtest.TGUser{ID: 2002, FirstName: "Boris"}
	f.SendText(tgAnna, "hi")
	f.SendText(boris, "hi")
	f.Block(boris.ID)
	photoUpd := f.SendPhoto(tgAnna, "")
	photo := f.Attachment(photoUpd).FileID
	doc := f.Attachment(f.SendDocument(tgAnna, "act.pdf", "")).FileID
	voice := f.SendVoice(tgAnna)
	ups := tgMediaUpdates(t, f)
	smallest := ups[photoUpd].Photo[0].FileID
	voiceID := ups[voice].Voice.FileID
	markup := `{"inline_keyboard":[[{"text":"Take","callback_data":"t:1"}]]}`
	anna := "1001"
	cases := []struct {
		name, method string
		params       url.Values
		status       int
		desc         string
	}{
		{"photo", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {photo}, "caption": {"Ticket 7"}, "reply_markup": {markup}}, 200, ""},
		{"photo by a smaller size", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {smallest}}, 200, ""},
		{"document", "sendDocument", url.Values{"chat_id": {anna}, "document": {doc}, "caption": {strings.Repeat("ж", 1024)}}, 200, ""},
		{"caption too long", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {photo}, "caption": {strings.Repeat("ж", 1025)}}, 400, "Bad Request: message caption is too long"},
		{"caption too long in UTF-16", "sendDocument", url.Values{"chat_id": {anna}, "document": {doc}, "caption": {strings.Repeat("😀", 513)}}, 400, "Bad Request: message caption is too long"},
		{"unknown file id", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {"AgACAgIAAxkBAAIforged"}}, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"URL", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {"https://example.org/a.jpg"}}, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"no file", "sendDocument", url.Values{"chat_id": {anna}}, 400, "Bad Request: wrong file identifier/HTTP URL specified"},
		{"photo as document", "sendDocument", url.Values{"chat_id": {anna}, "document": {photo}}, 400, "Bad Request: type of file mismatch"},
		{"document as photo", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {doc}}, 400, "Bad Request: type of file mismatch"},
		{"voice as photo", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {voiceID}}, 400, "Bad Request: type of file mismatch"},
		{"never wrote", "sendPhoto", url.Values{"chat_id": {"3003"}, "photo": {photo}}, 400, "Bad Request: chat not found"},
		{"blocked", "sendDocument", url.Values{"chat_id": {"2002"}, "document": {doc}}, 403, "Forbidden: bot was blocked by the user"},
		{"bad markup", "sendPhoto", url.Values{"chat_id": {anna}, "photo": {photo}, "reply_markup": {"{"}}, 400, "Bad Request: can't parse reply keyboard markup JSON object"},
	}
	for _, tc := range cases {
		status, r := tgCall(t, f, tc.method, tc.params)
		if status != tc.status || r.Description != tc.desc {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, status, r.Description, tc.status, tc.desc)
		}
		if tc.name == "photo" {
			var m tgTestMediaMessage
			if err := json.Unmarshal(r.Result, &m); err != nil || len(m.Photo) != 3 || m.Caption != "Ticket 7" || m.Text != "" || !m.From.IsBot {
				t.Errorf("photo result = %s (%v)", r.Result, err)
			}
		}
	}
	got := f.Messages(tgAnna.ID)
	want := []platformtest.TGMessage{
		{ID: got[0].ID, ChatID: 1001, Text: "Ticket 7", Buttons: [][]platformtest.TGButton{{{Text: "Take", Data: "t:1"}}},
			Attachments: []platformtest.TGAttachment{{Kind: "photo", FileID: photo}}},
		{ID: got[0].ID + 1, ChatID: 1001, Attachments: []platformtest.TGAttachment{{Kind: "photo", FileID: smallest}}},
		{ID: got[0].ID + 2, ChatID: 1001, Text: strings.Repeat("ж", 1024), Attachments: []platformtest.TGAttachment{{Kind: "document", FileID: doc, FileName: "act.pdf"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("messages\n got %+v\nwant %+v", got, want)
	}
}

func TestTelegramEditMedia(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	photo := f.Attachment(f.SendPhoto(tgAnna, "")).FileID
	markup := `{"inline_keyboard":[[{"text":"Take","callback_data":"t:1"}]]}`
	_, r := tgCall(t, f, "sendPhoto", url.Values{"chat_id": {"1001"}, "photo": {photo}, "caption": {"Ticket 7"}, "reply_markup": {markup}})
	var media struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(r.Result, &media); err != nil {
		t.Fatal(err)
	}
	_, r = tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"plain"}})
	var plain struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(r.Result, &plain); err != nil {
		t.Fatal(err)
	}
	mediaID, plainID := strconv.Itoa(media.MessageID), strconv.Itoa(plain.MessageID)
	steps := []struct {
		name, method string
		params       url.Values
		status       int
		desc         string
	}{
		{"text of a photo", "editMessageText", url.Values{"message_id": {mediaID}, "text": {"x"}}, 400, "Bad Request: there is no text in the message to edit"},
		{"caption of a text", "editMessageCaption", url.Values{"message_id": {plainID}, "caption": {"x"}}, 400, "Bad Request: there is no caption in the message to edit"},
		{"caption too long", "editMessageCaption", url.Values{"message_id": {mediaID}, "caption": {strings.Repeat("a", 1025)}}, 400, "Bad Request: MEDIA_CAPTION_TOO_LONG"},
		{"same caption and markup", "editMessageCaption", url.Values{"message_id": {mediaID}, "caption": {"Ticket 7"}, "reply_markup": {markup}}, 400,
			"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"},
		{"caption", "editMessageCaption", url.Values{"message_id": {mediaID}, "caption": {"Ticket 7: taken"}}, 200, ""},
	}
	for _, s := range steps {
		s.params.Set("chat_id", "1001")
		if status, r := tgCall(t, f, s.method, s.params); status != s.status || r.Description != s.desc {
			t.Fatalf("%s: got %d %q, want %d %q", s.name, status, r.Description, s.status, s.desc)
		}
	}
	m := f.Messages(tgAnna.ID)[0]
	if m.Text != "Ticket 7: taken" || m.Buttons != nil || len(m.Attachments) != 1 {
		t.Fatalf("after caption edit: %+v", m)
	}
	// A press on a media message brings it back with its caption and photo.
	press := f.Press(tgAnna, tgAnna.ID, media.MessageID, "t:1")
	status, r := tgCall(t, f, "getUpdates", url.Values{"offset": {strconv.FormatInt(press, 10)}})
	var ups []struct {
		CallbackQuery struct {
			Message tgTestMediaMessage `json:"message"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(r.Result, &ups); status != 200 || err != nil || len(ups) != 1 {
		t.Fatalf("getUpdates: %d %v %s", status, err, r.Result)
	}
	if pm := ups[0].CallbackQuery.Message; pm.Caption != "Ticket 7: taken" || len(pm.Photo) != 3 || pm.Text != "" {
		t.Fatalf("pressed message = %+v", pm)
	}
}

// tgRecordingTB records Errorf calls instead of failing the test.
type tgRecordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *tgRecordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestTelegramReplyInGroup(t *testing.T) {
	t.Parallel()
	rec := &tgRecordingTB{TB: t}
	f := platformtest.NewTelegram(rec)
	desk := platformtest.TGGroup{ID: -1009876543210, Title: "Desk"}
	boris := platformtest.TGUser{ID: 2002, FirstName: "Boris"}
	f.SendGroupText(boris, desk, "/bind")
	_, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"-1009876543210"}, "text": {"Ticket 7"}})
	var post struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(r.Result, &post); err != nil {
		t.Fatal(err)
	}
	toBot := f.ReplyInGroup(tgAnna, desk, post.MessageID, "We will call you")
	toPerson := f.ReplyInGroup(tgAnna, desk, 1, "ok")
	ups := tgMediaUpdates(t, f)
	if m := ups[toBot]; m.Text != "We will call you" || m.ReplyToMessage == nil || m.ReplyToMessage.MessageID != post.MessageID ||
		m.ReplyToMessage.Text != "Ticket 7" || !m.ReplyToMessage.From.IsBot {
		t.Fatalf("reply to the bot = %+v %+v", m, m.ReplyToMessage)
	}
	if m := ups[toPerson]; m.ReplyToMessage == nil || m.ReplyToMessage.MessageID != 1 || m.ReplyToMessage.Text != "/bind" || m.ReplyToMessage.From.IsBot {
		t.Fatalf("reply to a person = %+v %+v", m, m.ReplyToMessage)
	}
	// A reply's own reply is not nested, as on Telegram.
	nested := f.ReplyInGroup(boris, desk, ups[toBot].MessageID, "thanks")
	if m := tgMediaUpdates(t, f)[nested]; m.ReplyToMessage == nil || m.ReplyToMessage.Text != "We will call you" || m.ReplyToMessage.ReplyToMessage != nil {
		t.Fatalf("reply to a reply = %+v", m.ReplyToMessage)
	}
	if id := f.ReplyInGroup(tgAnna, desk, 999, "?"); id != 0 || len(rec.errors) != 1 {
		t.Fatalf("reply to an unknown message = %d, errors %v", id, rec.errors)
	}
}

func TestTelegramOnSent(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	photo := f.Attachment(f.SendPhoto(tgAnna, "")).FileID
	doc := f.Attachment(f.SendDocument(tgAnna, "act.pdf", "")).FileID
	type seen struct {
		msg platformtest.TGMessage
		at  time.Time
	}
	var (
		mu   sync.Mutex
		got  []seen
		also int
	)
	f.OnSent(func(m platformtest.TGMessage, at time.Time) {
		// The hook runs outside the fake's lock: it may call the fake.
		n := len(f.Messages(m.ChatID))
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{m, at})
		if n == 0 {
			t.Error("the hook ran before the message was recorded")
		}
	})
	f.OnSent(func(platformtest.TGMessage, time.Time) { mu.Lock(); also++; mu.Unlock() })
	start := time.Now()
	calls := []struct {
		method string
		params url.Values
	}{
		{"sendMessage", url.Values{"chat_id": {"1001"}, "text": {"one"}}},
		{"sendPhoto", url.Values{"chat_id": {"1001"}, "photo": {photo}, "caption": {"two"}}},
		{"sendDocument", url.Values{"chat_id": {"1001"}, "document": {doc}}},
		{"sendMessage", url.Values{"chat_id": {"3003"}, "text": {"nobody"}}},                          // fails
		{"sendPhoto", url.Values{"chat_id": {"1001"}, "photo": {"forged"}}},                           // fails
		{"editMessageText", url.Values{"chat_id": {"1001"}, "message_id": {"4"}, "text": {"edited"}}}, // no send
	}
	for _, c := range calls {
		tgCall(t, f, c.method, c.params)
	}
	end := time.Now()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || also != 3 {
		t.Fatalf("hooks saw %d and %d sends, want 3: %+v", len(got), also, got)
	}
	sent := f.Messages(tgAnna.ID)
	for i, s := range got {
		if s.at.Before(start) || s.at.After(end) {
			t.Errorf("send %d at %s, outside the calls [%s, %s]", i, s.at, start, end)
		}
		if i > 0 && s.at.Before(got[i-1].at) {
			t.Errorf("send %d recorded before send %d", i, i-1)
		}
	}
	if got[0].msg.Text != "one" || got[1].msg.Text != "two" || got[2].msg.Attachments[0].FileID != doc || got[1].msg.ID != sent[1].ID {
		t.Fatalf("hooked messages %+v, fake has %+v", got, sent)
	}
}

// TestTelegramConcurrentSends checks ids, counts and hooks under concurrent
// sends to many chats.
func TestTelegramConcurrentSends(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	const chats, perChat = 20, 50
	for i := range chats {
		f.SendText(platformtest.TGUser{ID: int64(5000 + i), FirstName: "P"}, "hi")
	}
	var hooked sync.Map
	f.OnSent(func(m platformtest.TGMessage, _ time.Time) { hooked.Store([2]int64{m.ChatID, int64(m.ID)}, true) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: chats}}
	var wg sync.WaitGroup
	for i := range chats {
		wg.Go(func() {
			for j := range perChat {
				form := url.Values{"chat_id": {strconv.Itoa(5000 + i)}, "text": {strconv.Itoa(j)}}
				resp, err := client.PostForm(f.URL()+"/bot"+platformtest.TelegramToken+"/sendMessage", form)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	n := 0
	hooked.Range(func(any, any) bool { n++; return true })
	if n != chats*perChat {
		t.Fatalf("hooks saw %d distinct messages, want %d", n, chats*perChat)
	}
	for i := range chats {
		msgs := f.Messages(int64(5000 + i))
		if len(msgs) != perChat {
			t.Fatalf("chat %d has %d messages", i, len(msgs))
		}
		for j, m := range msgs {
			if m.ID != j+2 || m.Text != strconv.Itoa(j) {
				t.Fatalf("chat %d message %d = %+v", i, j, m)
			}
		}
	}
}

// BenchmarkTelegramSendMessage measures the fake's sendMessage over HTTP,
// spread over 100 chats.
func BenchmarkTelegramSendMessage(b *testing.B) {
	f := platformtest.NewTelegram(b)
	for i := range 100 {
		f.SendText(platformtest.TGUser{ID: int64(1 + i), FirstName: "P"}, "hi")
	}
	f.OnSent(func(platformtest.TGMessage, time.Time) {})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	endpoint := f.URL() + "/bot" + platformtest.TelegramToken + "/sendMessage"
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := url.Values{"chat_id": {strconv.FormatInt(1+next.Add(1)%100, 10)}, "text": {"notice"}}
			resp, err := client.PostForm(endpoint, form)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

func TestTelegramEnforceLimits(t *testing.T) {
	t.Parallel()
	group := platformtest.TGGroup{ID: -1001234567890, Title: "Branch"}
	send := func(chat int64) url.Values {
		return url.Values{"chat_id": {strconv.FormatInt(chat, 10)}, "text": {"news"}}
	}
	tests := []struct {
		name      string
		limits    platformtest.TGLimits
		chats     []int64 // sent to in order, as fast as possible
		wantFail  []int   // indexes of the sends answered 429
		minRetry  int
		maxRetry  int
		refusedTo int64 // a chat whose refused send must not be stored
	}{
		{name: "all sends per second", limits: platformtest.TGLimits{PerSecond: 5},
			chats: []int64{1, 2, 3, 4, 5, 6, 7}, wantFail: []int{5, 6}, minRetry: 1, maxRetry: 1, refusedTo: 6},
		{name: "one private chat per second", limits: platformtest.TGLimits{PerSecond: 30, PerChatPerSecond: 1},
			chats: []int64{1, 1, 2, 1}, wantFail: []int{1, 3}, minRetry: 1, maxRetry: 1},
		{name: "two per private chat", limits: platformtest.TGLimits{PerChatPerSecond: 2},
			chats: []int64{1, 1, 1, 2, 2}, wantFail: []int{2}, minRetry: 1, maxRetry: 1},
		{name: "group per minute", limits: platformtest.TGLimits{PerGroupPerMinute: 3, PerChatPerSecond: 1},
			chats: []int64{group.ID, group.ID, group.ID, group.ID, 1}, wantFail: []int{3}, minRetry: 58, maxRetry: 60},
		{name: "no limits", chats: []int64{1, 1, 1, 1, group.ID, group.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			f.Meet(1, 2, 3, 4, 5, 6, 7)
			f.SendGroupText(tgAnna, group, "hello")
			f.EnforceLimits(tt.limits)
			var failed []int
			for i, chat := range tt.chats {
				status, r := tgCall(t, f, "sendMessage", send(chat))
				switch status {
				case http.StatusOK:
				case http.StatusTooManyRequests:
					failed = append(failed, i)
					want := fmt.Sprintf("Too Many Requests: retry after %d", r.Parameters.RetryAfter)
					if r.ErrorCode != 429 || r.Description != want {
						t.Errorf("send %d: %+v", i, r)
					}
					if ra := r.Parameters.RetryAfter; ra < tt.minRetry || ra > tt.maxRetry {
						t.Errorf("send %d: retry_after %d, want %d..%d", i, ra, tt.minRetry, tt.maxRetry)
					}
				default:
					t.Fatalf("send %d: status %d %s", i, status, r.Description)
				}
			}
			if !slices.Equal(failed, tt.wantFail) {
				t.Fatalf("sends answered 429: %v, want %v", failed, tt.wantFail)
			}
			if got := f.TooManyCount(); got != len(tt.wantFail) {
				t.Errorf("TooManyCount() = %d, want %d", got, len(tt.wantFail))
			}
			if tt.refusedTo != 0 && f.SentCount(tt.refusedTo) != 0 {
				t.Errorf("a refused send to %d was stored", tt.refusedTo)
			}
		})
	}
}

// TestTelegramLimitsFree checks that a refused send does not count and the
// window frees after retry_after, that only sends are limited, and that
// lifting the limits works.
func TestTelegramLimitsFree(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	photo := f.Attachment(f.SendPhoto(tgAnna, "")).FileID
	f.EnforceLimits(platformtest.TGLimits{PerSecond: 2})
	if status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"one"}}); status != 200 {
		t.Fatalf("first send: %d %s", status, r.Description)
	}
	status, r := tgCall(t, f, "sendPhoto", url.Values{"chat_id": {"1001"}, "photo": {photo}})
	if status != 200 {
		t.Fatalf("photo: %d %s", status, r.Description)
	}
	var sent struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(r.Result, &sent); err != nil {
		t.Fatal(err)
	}
	status, r = tgCall(t, f, "sendDocument", url.Values{"chat_id": {"1001"}, "document": {photo}})
	if status != 429 || r.Parameters.RetryAfter != 1 {
		t.Fatalf("third send in a second: %d %+v", status, r)
	}
	edit := url.Values{"chat_id": {"1001"}, "message_id": {strconv.Itoa(sent.MessageID)}, "caption": {"edited"}}
	if status, r := tgCall(t, f, "editMessageCaption", edit); status != 200 {
		t.Fatalf("an edit was limited: %d %s", status, r.Description)
	}
	// Hammering while refused must not push the window out.
	for range 5 {
		tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"x"}})
	}
	time.Sleep(time.Duration(r.Parameters.RetryAfter) * time.Second)
	if status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"after"}}); status != 200 {
		t.Fatalf("send after retry_after: %d %s", status, r.Description)
	}
	if got := f.TooManyCount(); got != 6 {
		t.Errorf("TooManyCount() = %d, want 6", got)
	}
	f.EnforceLimits(platformtest.TGLimits{})
	for i := range 5 {
		if status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"free"}}); status != 200 {
			t.Fatalf("send %d without limits: %d %s", i, status, r.Description)
		}
	}
}

// TestTelegramLimitsPaced sends just under the limits and expects no 429.
func TestTelegramLimitsPaced(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	const chats, sends = 8, 16
	for i := range chats {
		f.Meet(int64(100 + i))
	}
	f.EnforceLimits(platformtest.TGLimits{PerSecond: 10, PerChatPerSecond: 1})
	// One send every 150 ms (at most 7 in a second), each chat every 1.2 s.
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for i := range sends {
		<-tick.C
		status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {strconv.Itoa(100 + i%chats)}, "text": {"paced"}})
		if status != 200 {
			t.Fatalf("send %d: %d %s", i, status, r.Description)
		}
	}
	if got := f.TooManyCount(); got != 0 {
		t.Errorf("TooManyCount() = %d, want 0", got)
	}
}

func TestTelegramFailRandomly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		desc   string
	}{
		{http.StatusInternalServerError, "Internal Server Error"},
		{http.StatusBadGateway, "Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			f := platformtest.NewTelegram(t)
			f.Meet(1001)
			f.FailRandomly("sendMessage", 3, tt.status)
			var failed []int
			for i := 1; i <= 9; i++ {
				status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {strconv.Itoa(i)}})
				if status == 200 {
					continue
				}
				failed = append(failed, i)
				if status != tt.status || r.OK || r.ErrorCode != tt.status || r.Description != tt.desc {
					t.Errorf("call %d: %d %+v", i, status, r)
				}
			}
			if !slices.Equal(failed, []int{3, 6, 9}) {
				t.Fatalf("failed calls %v, want [3 6 9]", failed)
			}
			var texts []string
			for _, m := range f.Messages(1001) {
				texts = append(texts, m.Text)
			}
			if want := []string{"1", "2", "4", "5", "7", "8"}; !slices.Equal(texts, want) {
				t.Errorf("stored %v, want %v", texts, want)
			}
			if f.Calls("sendMessage") != 9 || f.SentCount(1001) != 6 {
				t.Errorf("calls %d, sent %d", f.Calls("sendMessage"), f.SentCount(1001))
			}
			if status, _ := tgCall(t, f, "getMe", nil); status != 200 {
				t.Errorf("another method failed: %d", status)
			}
			f.FailRandomly("sendMessage", 0, tt.status)
			for i := range 4 {
				if status, _ := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"on"}}); status != 200 {
					t.Fatalf("call %d after stopping: %d", i, status)
				}
			}
		})
	}
}

func TestTelegramMeetAndSentCount(t *testing.T) {
	t.Parallel()
	rec := &tgRecordingTB{TB: t}
	f := platformtest.NewTelegram(rec)
	f.Meet(7001, 7002)
	if f.PendingUpdates() != 0 {
		t.Fatalf("Meet queued %d updates", f.PendingUpdates())
	}
	status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"7001"}, "text": {"hello"}})
	if status != 200 {
		t.Fatalf("send to a met user: %d %s", status, r.Description)
	}
	var msg struct {
		MessageID int `json:"message_id"`
		Chat      struct {
			ID        int64  `json:"id"`
			Type      string `json:"type"`
			FirstName string `json:"first_name"`
		} `json:"chat"`
	}
	if err := json.Unmarshal(r.Result, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.MessageID != 1 || msg.Chat.ID != 7001 || msg.Chat.Type != "private" || msg.Chat.FirstName == "" {
		t.Errorf("sent message = %+v", msg)
	}
	if status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"7003"}, "text": {"hello"}}); status != 400 || r.Description != "Bad Request: chat not found" {
		t.Errorf("send to a stranger: %d %s", status, r.Description)
	}
	f.Block(7002)
	if status, _ := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"7002"}, "text": {"x"}}); status != 403 {
		t.Errorf("send to a blocker: %d", status)
	}
	f.Meet(7002)
	if status, _ := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"7002"}, "text": {"again"}}); status != 200 {
		t.Errorf("send after meeting again: %d", status)
	}
	tgCall(t, f, "sendMessage", url.Values{"chat_id": {"7001"}, "text": {"second"}})
	tgCall(t, f, "deleteMessage", url.Values{"chat_id": {"7001"}, "message_id": {"1"}})
	if f.SentCount(7001) != 2 || len(f.Messages(7001)) != 1 || f.SentCount(7002) != 1 || f.SentCount(7003) != 0 {
		t.Errorf("sent counts %d (messages %d), %d, %d", f.SentCount(7001), len(f.Messages(7001)), f.SentCount(7002), f.SentCount(7003))
	}
	// Meeting keeps what a person told about themselves.
	f.SendText(tgAnna, "hi")
	f.Meet(tgAnna.ID, 0)
	_, r = tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {"x"}})
	if err := json.Unmarshal(r.Result, &msg); err != nil || msg.Chat.FirstName != "Anna" {
		t.Errorf("chat after Meet = %+v, %v", msg.Chat, err)
	}
	if len(rec.errors) != 1 {
		t.Errorf("Meet(0) recorded errors %v, want one", rec.errors)
	}
}

// BenchmarkTelegramSendMessageLimited measures sendMessage to 100,000 met
// people, one after another, with limits enforced that the load stays under
// (each chat gets a send every 100,000 sends), so every check runs and none
// refuses.
func BenchmarkTelegramSendMessageLimited(b *testing.B) {
	const people = 100000
	f := platformtest.NewTelegram(b)
	ids := make([]int64, people)
	for i := range ids {
		ids[i] = int64(1 + i)
	}
	f.Meet(ids...)
	f.OnSent(func(platformtest.TGMessage, time.Time) {})
	f.EnforceLimits(platformtest.TGLimits{PerSecond: 100000, PerChatPerSecond: 1, PerGroupPerMinute: 20})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	endpoint := f.URL() + "/bot" + platformtest.TelegramToken + "/sendMessage"
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := url.Values{"chat_id": {strconv.FormatInt(1+next.Add(1)%people, 10)}, "text": {"notice"}}
			resp, err := client.PostForm(endpoint, form)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
	if n := f.TooManyCount(); n != 0 {
		b.Errorf("%d sends refused", n)
	}
}

func TestTelegramEntities(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	f.SendText(tgAnna, "hi")
	text := "Сбор 📣" // 7 UTF-16 units
	cases := []struct {
		name, entities string
		ok             bool
	}{
		{"bold over the emoji", `[{"type":"bold","offset":5,"length":2}]`, true},
		{"link", `[{"type":"text_link","offset":0,"length":4,"url":"https://example.org"}]`, true},
		{"past the end in UTF-16", `[{"type":"bold","offset":5,"length":3}]`, false},
		{"empty", `[{"type":"bold","offset":0,"length":0}]`, false},
		{"unknown type", `[{"type":"blink","offset":0,"length":1}]`, false},
		{"link without a URL", `[{"type":"text_link","offset":0,"length":1}]`, false},
		{"not JSON", `bold`, false},
	}
	for _, tc := range cases {
		status, r := tgCall(t, f, "sendMessage", url.Values{"chat_id": {"1001"}, "text": {text}, "entities": {tc.entities}})
		if (status == http.StatusOK) != tc.ok || (!tc.ok && !strings.HasPrefix(r.Description, "Bad Request: can't parse entities")) {
			t.Errorf("%s: %d %s", tc.name, status, r.Description)
		}
	}
	msgs := f.Messages(tgAnna.ID)
	if len(msgs) != 2 || msgs[0].Entities[0].Covered(text) != "📣" || msgs[1].Entities[0].URL != "https://example.org" {
		t.Errorf("stored %+v", msgs)
	}
}

// tgTestPNG encodes a w×h image as PNG.
func tgTestPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tgUpload calls method with a multipart body as go-telegram/bot sends an
// upload: the fields, then the file in a part named field.
func tgUpload(t *testing.T, f *platformtest.Telegram, method string, fields map[string]string, field, name string, data []byte) (int, tgReply) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if field != "" {
		part, err := mw.CreateFormFile(field, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(f.URL()+"/bot"+platformtest.TelegramToken+"/"+method, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatalf("call %s: %v", method, err)
	}
	return tgDecode(t, resp)
}

func TestTelegramUpload(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	boris := platformtest.TGUser{ID: 2002, FirstName: "Boris"}
	f.SendText(tgAnna, "hi")
	f.SendText(boris, "hi")
	f.Block(boris.ID)
	chart := tgTestPNG(t, 640, 420)
	big := tgTestPNG(t, 2000, 1000)
	markup := `{"inline_keyboard":[[{"text":"More","callback_data":"m:1"}]]}`
	anna := "1001"
	cases := []struct {
		name, method string
		fields       map[string]string
		field, file  string
		data         []byte
		status       int
		desc         string
		sizes        [][2]int // of a photo sent
	}{
		{"photo", "sendPhoto", map[string]string{"chat_id": anna, "caption": "Нормы", "reply_markup": markup}, "photo", "chart.png", chart, 200, "",
			[][2]int{{90, 59}, {320, 210}, {640, 420}}},
		{"large photo scaled", "sendPhoto", map[string]string{"chat_id": anna}, "photo", "big.png", big, 200, "",
			[][2]int{{90, 45}, {320, 160}, {800, 400}, {1280, 640}}},
		{"document", "sendDocument", map[string]string{"chat_id": anna}, "document", "report.csv", []byte("org,percent\n"), 200, "", nil},
		{"empty file", "sendPhoto", map[string]string{"chat_id": anna}, "photo", "chart.png", nil, 400, "Bad Request: file must be non-empty", nil},
		{"not an image", "sendPhoto", map[string]string{"chat_id": anna}, "photo", "chart.png", []byte("not a png"), 400, "Bad Request: IMAGE_PROCESS_FAILED", nil},
		{"too narrow", "sendPhoto", map[string]string{"chat_id": anna}, "photo", "strip.png", tgTestPNG(t, 420, 20), 400, "Bad Request: PHOTO_INVALID_DIMENSIONS", nil},
		{"file in another field", "sendPhoto", map[string]string{"chat_id": anna}, "document", "chart.png", chart, 400, "Bad Request: wrong file identifier/HTTP URL specified", nil},
		{"caption too long", "sendPhoto", map[string]string{"chat_id": anna, "caption": strings.Repeat("ж", 1025)}, "photo", "chart.png", chart, 400, "Bad Request: message caption is too long", nil},
		{"blocked", "sendPhoto", map[string]string{"chat_id": "2002"}, "photo", "chart.png", chart, 403, "Forbidden: bot was blocked by the user", nil},
		{"never wrote", "sendPhoto", map[string]string{"chat_id": "3003"}, "photo", "chart.png", chart, 400, "Bad Request: chat not found", nil},
	}
	var largest []string // file ids of the photos sent, largest sizes
	for _, tc := range cases {
		status, r := tgUpload(t, f, tc.method, tc.fields, tc.field, tc.file, tc.data)
		if status != tc.status || r.Description != tc.desc {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, status, r.Description, tc.status, tc.desc)
			continue
		}
		if status != http.StatusOK {
			continue
		}
		var m tgTestMediaMessage
		if err := json.Unmarshal(r.Result, &m); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.method == "sendDocument" {
			if m.Document == nil || m.Document.FileName != "report.csv" || !strings.HasPrefix(m.Document.FileID, "BQAC") {
				t.Errorf("%s: result %s", tc.name, r.Result)
			}
			continue
		}
		var got [][2]int
		for _, p := range m.Photo {
			got = append(got, [2]int{p.Width, p.Height})
			if !strings.HasPrefix(p.FileID, "AgAC") || p.FileUniqueID == "" {
				t.Errorf("%s: photo size %+v", tc.name, p)
			}
		}
		if !reflect.DeepEqual(got, tc.sizes) || m.Caption != tc.fields["caption"] || !m.From.IsBot {
			t.Errorf("%s: sizes %v caption %q, want %v %q", tc.name, got, m.Caption, tc.sizes, tc.fields["caption"])
		}
		largest = append(largest, m.Photo[len(m.Photo)-1].FileID)
	}
	if t.Failed() {
		return
	}
	// The bot may send its upload again by file id, like any photo.
	if status, r := tgCall(t, f, "sendPhoto", url.Values{"chat_id": {anna}, "photo": {largest[0]}}); status != http.StatusOK {
		t.Fatalf("photo again by id: %d %s", status, r.Description)
	}
	sent := f.Messages(tgAnna.ID)
	if len(sent) != 4 {
		t.Fatalf("%d messages sent, want 4: %+v", len(sent), sent)
	}
	want := []struct {
		text   string
		upload []byte
		file   string
	}{{"Нормы", chart, largest[0]}, {"", big, largest[1]}, {"", []byte("org,percent\n"), ""}, {"", nil, largest[0]}}
	for i, w := range want {
		m := sent[i]
		if m.Text != w.text || !bytes.Equal(m.Upload, w.upload) || len(m.Attachments) != 1 || (w.file != "" && m.Attachments[0].FileID != w.file) {
			t.Errorf("message %d = text %q, %d bytes uploaded, attachments %+v; want %q, %d bytes, %s", i, m.Text, len(m.Upload), m.Attachments, w.text, len(w.upload), w.file)
		}
	}
	if sent[0].ButtonData("More") != "m:1" || sent[2].Attachments[0].FileName != "report.csv" {
		t.Errorf("buttons %+v, document %+v", sent[0].Buttons, sent[2].Attachments)
	}
	// The recorded bytes are the test's own copy.
	sent[0].Upload[0] ^= 0xff
	if !bytes.Equal(f.Messages(tgAnna.ID)[0].Upload, chart) {
		t.Error("changing a returned upload changed the fake's record")
	}
	// A photo message keeps its photo through a caption edit.
	id := strconv.Itoa(sent[0].ID)
	if status, r := tgCall(t, f, "editMessageCaption", url.Values{"chat_id": {anna}, "message_id": {id}, "caption": {"Нормы за май"}}); status != http.StatusOK {
		t.Fatalf("edit caption: %d %s", status, r.Description)
	}
	if m := f.Messages(tgAnna.ID)[0]; m.Text != "Нормы за май" || !bytes.Equal(m.Upload, chart) {
		t.Errorf("after the edit: %q, %d bytes", m.Text, len(m.Upload))
	}
}

func TestTelegramServesFiles(t *testing.T) {
	t.Parallel()
	f := platformtest.NewTelegram(t)
	u := platformtest.TGUser{ID: 77, FirstName: "Ira"}
	doc := f.Attachment(f.SendDocument(u, "Заявление.docx", "")).FileID
	call := func(method string, form url.Values) (int, map[string]any) {
		t.Helper()
		resp, err := http.PostForm(f.URL()+"/bot"+platformtest.TelegramToken+"/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	status, body := call("getFile", url.Values{"file_id": {doc}})
	result, _ := body["result"].(map[string]any)
	path, _ := result["file_path"].(string)
	if status != http.StatusOK || !strings.HasPrefix(path, "documents/") {
		t.Fatalf("getFile: %d %v", status, body)
	}
	tests := []struct {
		name, url string
		status    int
	}{
		{"the file", f.URL() + "/file/bot" + platformtest.TelegramToken + "/" + path, http.StatusOK},
		{"wrong token", f.URL() + "/file/bot123:wrong/" + path, http.StatusNotFound},
		{"unknown path", f.URL() + "/file/bot" + platformtest.TelegramToken + "/documents/file_0.pdf", http.StatusNotFound},
	}
	for _, tt := range tests {
		resp, err := http.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		if tt.status == http.StatusOK && !bytes.Equal(data, f.FileData(doc)) {
			t.Errorf("%s: %d bytes, want the document's %d", tt.name, len(data), len(f.FileData(doc)))
		}
	}
	if status, body := call("getFile", url.Values{"file_id": {"nope"}}); status != http.StatusBadRequest || body["description"] != "Bad Request: invalid file_id" {
		t.Errorf("getFile of an unknown id: %d %v", status, body)
	}
}
