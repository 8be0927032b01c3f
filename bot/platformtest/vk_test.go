package platformtest

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
)

var vkTestUser = VKUser{ID: 501, FirstName: "Иван", LastName: "Петров"}

type vkTestResp struct {
	Response json.RawMessage `json:"response"`
	Error    *struct {
		Code int    `json:"error_code"`
		Msg  string `json:"error_msg"`
	} `json:"error"`
}

func (r vkTestResp) code() int {
	if r.Error == nil {
		return 0
	}
	return r.Error.Code
}

// vkTestCall calls method the way vksdk does: a form POST with the token in
// an Authorization header.
func vkTestCall(t *testing.T, f *VK, token, method string, params url.Values) vkTestResp {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.APIURL()+method, strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: content type %q", method, ct)
	}
	var out vkTestResp
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return out
}

func vkTestParams(kv ...string) url.Values {
	p := url.Values{"v": {"5.199"}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	return p
}

func TestVKMethodAuthAndErrors(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	tests := []struct {
		name   string
		token  string
		method string
		params url.Values
		want   int
	}{
		{"valid", VKToken, "groups.getById", vkTestParams(), 0},
		{"token as parameter", "", "groups.getById", vkTestParams("access_token", VKToken), 0},
		{"wrong token", "other", "groups.getById", vkTestParams(), 5},
		{"no token", "", "groups.getById", vkTestParams(), 5},
		{"no version", VKToken, "groups.getById", url.Values{}, 8},
		{"unknown method", VKToken, "wall.post", vkTestParams(), 3},
		{"other group", VKToken, "groups.getById", vkTestParams("group_id", "7"), 100},
		{"long poll of other group", VKToken, "groups.getLongPollServer", vkTestParams("group_id", "7"), 15},
	}
	for _, tt := range tests {
		if got := vkTestCall(t, f, tt.token, tt.method, tt.params).code(); got != tt.want {
			t.Errorf("%s: error code %d, want %d", tt.name, got, tt.want)
		}
	}
	if got := f.Calls("groups.getById"); got != 6 {
		t.Errorf("Calls(groups.getById) = %d, want 6", got)
	}
}

func TestVKGroupsGetByID(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	resp := vkTestCall(t, f, VKToken, "groups.getById", vkTestParams("group_id", "1001"))
	var got struct {
		Groups []struct {
			ID         int    `json:"id"`
			ScreenName string `json:"screen_name"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(resp.Response, &got); err != nil || len(got.Groups) != 1 ||
		got.Groups[0].ID != VKGroupID || got.Groups[0].ScreenName != VKGroupScreenName {
		t.Errorf("groups.getById = %s (%v)", resp.Response, err)
	}
}

func TestVKMessagesSendValidation(t *testing.T) {
	t.Parallel()
	kb := func(inline bool, rows, perRow int, label, payload string) string {
		buttons := make([][]map[string]any, rows)
		for i := range buttons {
			for range perRow {
				buttons[i] = append(buttons[i], map[string]any{"action": map[string]any{"type": "callback", "label": label, "payload": payload}})
			}
		}
		b, _ := json.Marshal(map[string]any{"inline": inline, "buttons": buttons})
		return string(b)
	}
	longPayload := `{"d":"` + strings.Repeat("x", 1000) + `"}`
	tests := []struct {
		name string
		kv   []string
		want int
	}{
		{"ok", []string{"peer_id", "501", "random_id", "1", "message", "hi"}, 0},
		{"user_id instead of peer_id", []string{"user_id", "501", "random_id", "1", "message", "hi"}, 0},
		{"random_id zero", []string{"peer_id", "501", "random_id", "0", "message", "hi"}, 0},
		{"longest text", []string{"peer_id", "501", "random_id", "1", "message", strings.Repeat("я", 4096)}, 0},
		{"no peer", []string{"random_id", "1", "message", "hi"}, 100},
		{"no random_id", []string{"peer_id", "501", "message", "hi"}, 100},
		{"text too long", []string{"peer_id", "501", "random_id", "1", "message", strings.Repeat("я", 4097)}, 914},
		{"empty text", []string{"peer_id", "501", "random_id", "1"}, 100},
		{"attachment only", []string{"peer_id", "501", "random_id", "1", "attachment", "$photo"}, 0},
		{"photo and doc with text", []string{"peer_id", "501", "random_id", "1", "message", "hi", "attachment", "$photo,$doc"}, 0},
		{"ten attachments", []string{"peer_id", "501", "random_id", "1", "attachment", strings.Repeat("$photo,", 9) + "$doc"}, 0},
		{"eleven attachments", []string{"peer_id", "501", "random_id", "1", "attachment", strings.Repeat("$photo,", 10) + "$doc"}, 100},
		{"unknown attachment", []string{"peer_id", "501", "random_id", "1", "attachment", "photo1_2"}, 100},
		{"attachment without its key", []string{"peer_id", "501", "random_id", "1", "attachment", "$bare"}, 100},
		{"attachment with a wrong key", []string{"peer_id", "501", "random_id", "1", "attachment", "$bare_0f1e2d3c4b5a"}, 100},
		{"malformed attachment", []string{"peer_id", "501", "random_id", "1", "message", "hi", "attachment", "photo_abc"}, 100},
		{"voice as attachment", []string{"peer_id", "501", "random_id", "1", "message", "hi", "attachment", "$voice"}, 100},
		{"never wrote", []string{"peer_id", "503", "random_id", "1", "message", "hi"}, 901},
		{"chat without the bot", []string{"peer_id", "2000000009", "random_id", "1", "message", "hi"}, 917},
		{"chat with the bot", []string{"peer_id", "2000000001", "random_id", "1", "message", "hi"}, 0},
		{"inline keyboard 6x1", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 6, 1, "a", `{"d":"a"}`)}, 0},
		{"regular keyboard 10x4", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(false, 10, 4, "a", "")}, 0},
		{"inline 7 rows", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 7, 1, "a", "")}, 911},
		{"inline 11 buttons", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 3, 4, "a", "")}, 911},
		{"six in a row", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(false, 1, 6, "a", "")}, 911},
		{"label of 41", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 1, 1, strings.Repeat("ж", 41), "")}, 911},
		{"label of 40", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 1, 1, strings.Repeat("ж", 40), "")}, 0},
		{"payload too long", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 1, 1, "a", longPayload)}, 911},
		{"payload not json", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", kb(true, 1, 1, "a", "yes")}, 911},
		{"keyboard not json", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", "{"}, 911},
		{"keyboard without buttons", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard", `{"inline":true}`}, 911},
		{"unknown button type", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard",
			`{"inline":true,"buttons":[[{"action":{"type":"teleport","label":"a"}}]]}`}, 911},
		{"open_link without link", []string{"peer_id", "501", "random_id", "1", "message", "hi", "keyboard",
			`{"inline":true,"buttons":[[{"action":{"type":"open_link","label":"a"}}]]}`}, 911},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := NewVK(t)
			f.SendText(vkTestUser, "hi")
			f.SendChatText(vkTestUser, 2000000001, "hi")
			photo := f.Attachment(f.SendPhoto(vkTestUser, ""))
			doc := f.Attachment(f.SendDoc(vkTestUser, "act.pdf", ""))
			// A well-formed reference of a type the bot cannot send.
			voice := strings.Replace(photo, "photo", "audio_message", 1)
			placeholders := strings.NewReplacer("$photo", photo, "$doc", doc, "$bare", photo[:strings.LastIndex(photo, "_")], "$voice", voice)
			kv := slices.Clone(tt.kv)
			for i := range kv {
				kv[i] = placeholders.Replace(kv[i])
			}
			resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams(kv...))
			if resp.code() != tt.want {
				t.Fatalf("error code %d (%+v), want %d", resp.code(), resp.Error, tt.want)
			}
			sent := len(f.Messages(501)) + len(f.Messages(2000000001))
			if wantSent := map[bool]int{true: 1, false: 0}[tt.want == 0]; sent != wantSent {
				t.Errorf("%d messages stored, want %d", sent, wantSent)
			}
			if tt.want == 0 {
				var id int
				if err := json.Unmarshal(resp.Response, &id); err != nil {
					t.Errorf("response %s is not a message id: %v", resp.Response, err)
				}
			}
		})
	}
}

func TestVKSendPeerIDsAndRandomID(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.SendText(vkTestUser, "hi")
	send := func(peers, randomID string) []map[string]any {
		t.Helper()
		resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_ids", peers, "random_id", randomID, "message", "hello"))
		var out []map[string]any
		if err := json.Unmarshal(resp.Response, &out); err != nil {
			t.Fatalf("response %s: %v", resp.Response, err)
		}
		return out
	}
	first := send("501,503", "77")
	if len(first) != 2 || first[0]["conversation_message_id"] != float64(2) || first[0]["message_id"] == nil {
		t.Fatalf("peer_ids response = %v", first)
	}
	if e, _ := first[1]["error"].(map[string]any); e["code"] != float64(901) || e["description"] == "" || first[1]["message_id"] != nil {
		t.Errorf("blocked peer entry = %v", first[1])
	}
	again := send("501", "77")
	if again[0]["message_id"] != first[0]["message_id"] || len(f.Messages(501)) != 1 {
		t.Errorf("repeated random_id: %v, %d messages", again, len(f.Messages(501)))
	}
	send("501", "0")
	send("501", "0")
	if got := len(f.Messages(501)); got != 3 {
		t.Errorf("random_id 0 twice stored %d messages in all, want 3", got)
	}
	if m := f.Messages(501)[0]; m.RandomID != 77 || m.PeerID != 501 || m.Text != "hello" {
		t.Errorf("stored message = %+v", m)
	}
}

func TestVKFailNext(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.Unblock(501)
	f.FailNext("messages.send", 2, 6, "Too many requests per second")
	p := vkTestParams("peer_id", "501", "random_id", "0", "message", "hi")
	for i, want := range []int{6, 6, 0} {
		if got := vkTestCall(t, f, VKToken, "messages.send", p); got.code() != want {
			t.Errorf("call %d: code %d, want %d", i, got.code(), want)
		}
	}
	if f.Calls("messages.send") != 3 || len(f.Messages(501)) != 1 {
		t.Errorf("calls %d, messages %d", f.Calls("messages.send"), len(f.Messages(501)))
	}
}

func TestVKEditPressAndAnswer(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.SendText(vkTestUser, "hi")
	keyboard := `{"inline":true,"buttons":[[{"action":{"type":"callback","label":"Да","payload":"{\"d\":\"yes\"}"}}]]}`
	resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "501", "random_id", "5", "message", "Вопрос", "keyboard", keyboard))
	if resp.code() != 0 {
		t.Fatalf("send: %+v", resp.Error)
	}
	m := f.WaitMessage(t, 501, func(m VKMessage) bool { return m.HasPayload(`{"d":"yes"}`) })
	if m.ConversationMessageID != 2 || m.PayloadFor("Да") != `{"d":"yes"}` || m.Buttons[0][0].Type != "callback" {
		t.Fatalf("message = %+v", m)
	}

	eventID := f.Press(vkTestUser, 501, 2, `{"d":"yes"}`)
	var pressID string // the id inside message_event, which the bot answers
	f.mu.Lock()
	for id, p := range f.presses {
		if p.eventID == eventID {
			pressID = id
		}
	}
	f.mu.Unlock()
	answers := []struct {
		name string
		kv   []string
		want int
	}{
		{"unknown event", []string{"event_id", "nope", "user_id", "501", "peer_id", "501"}, 100},
		{"other user", []string{"event_id", pressID, "user_id", "502", "peer_id", "501"}, 100},
		{"snackbar too long", []string{"event_id", pressID, "user_id", "501", "peer_id", "501",
			"event_data", `{"type":"show_snackbar","text":"` + strings.Repeat("a", 91) + `"}`}, 100},
		{"ok", []string{"event_id", pressID, "user_id", "501", "peer_id", "501", "event_data", `{"type":"show_snackbar","text":"Готово"}`}, 0},
	}
	for _, a := range answers {
		if got := vkTestCall(t, f, VKToken, "messages.sendMessageEventAnswer", vkTestParams(a.kv...)).code(); got != a.want {
			t.Errorf("answer %s: code %d, want %d", a.name, got, a.want)
		}
	}
	if text, ok := f.EventAnswer(eventID); !ok || text != "Готово" || len(f.EventAnswers()) != 1 {
		t.Errorf("answers = %v, %q", f.EventAnswers(), text)
	}

	edits := []struct {
		name string
		kv   []string
		want int
	}{
		{"missing message", []string{"peer_id", "501", "conversation_message_id", "9", "message", "x"}, 100},
		{"empty text", []string{"peer_id", "501", "conversation_message_id", "2"}, 100},
		{"ok", []string{"peer_id", "501", "conversation_message_id", "2", "message", "Отвечено"}, 0},
	}
	for _, e := range edits {
		if got := vkTestCall(t, f, VKToken, "messages.edit", vkTestParams(e.kv...)).code(); got != e.want {
			t.Errorf("edit %s: code %d, want %d", e.name, got, e.want)
		}
	}
	if got := f.Messages(501); len(got) != 1 || got[0].Text != "Отвечено" || got[0].Buttons != nil {
		t.Errorf("after edit: %+v", got)
	}
}

// vkRecordingTB records Errorf calls instead of failing the test.
type vkRecordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *vkRecordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestVKPressNeedsAButton(t *testing.T) {
	t.Parallel()
	rec := &vkRecordingTB{TB: t}
	f := NewVK(rec)
	if id := f.Press(vkTestUser, 501, 1, `{"d":"yes"}`); id != "" || len(rec.errors) != 1 {
		t.Errorf("Press on a missing button = %q, errors %v", id, rec.errors)
	}
}

type vkTestPoll struct {
	Ts      json.RawMessage `json:"ts"`
	Failed  int             `json:"failed"`
	Updates []vkEvent       `json:"updates"`
}

func vkTestCheck(t *testing.T, server, key, ts string, wait int) (int, string, vkTestPoll) {
	t.Helper()
	q := url.Values{"act": {"a_check"}, "key": {key}, "ts": {ts}, "wait": {strconv.Itoa(wait)}}
	resp, err := http.Get(server + "?" + q.Encode())
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read check: %v", err)
	}
	var out vkTestPoll
	_ = json.Unmarshal(raw, &out) // broken answers are checked through the raw body
	return resp.StatusCode, string(raw), out
}

func vkTestServer(t *testing.T, f *VK) (server, key, ts string) {
	t.Helper()
	resp := vkTestCall(t, f, VKToken, "groups.getLongPollServer", vkTestParams("group_id", "1001"))
	var s struct{ Server, Key, Ts string }
	if err := json.Unmarshal(resp.Response, &s); err != nil || s.Server == "" || s.Key == "" || s.Ts == "" {
		t.Fatalf("getLongPollServer = %s (%v)", resp.Response, err)
	}
	return s.Server, s.Key, s.Ts
}

func TestVKLongPoll(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.SendText(vkTestUser, "lost")
	server, key, ts := vkTestServer(t, f)
	f.WaitLongPoll(t)

	if _, _, got := vkTestCheck(t, server, key, ts, 0); len(got.Updates) != 0 || string(got.Ts) != strconv.Quote(ts) {
		t.Fatalf("check before any event = %+v (the event before getLongPollServer must be lost)", got)
	}
	id := f.SendText(vkTestUser, "привет")
	_, _, got := vkTestCheck(t, server, key, ts, 0)
	if len(got.Updates) != 1 || got.Updates[0].EventID != id || got.Updates[0].Type != "message_new" || got.Updates[0].GroupID != VKGroupID {
		t.Fatalf("check = %+v", got)
	}
	var obj struct {
		Message struct {
			Text   string `json:"text"`
			PeerID int    `json:"peer_id"`
			FromID int    `json:"from_id"`
		} `json:"message"`
		ClientInfo struct {
			LangID int `json:"lang_id"`
		} `json:"client_info"`
	}
	if err := json.Unmarshal(got.Updates[0].Object, &obj); err != nil || obj.Message.Text != "привет" || obj.Message.PeerID != 501 || obj.Message.FromID != 501 {
		t.Errorf("message object %s (%v)", got.Updates[0].Object, err)
	}
	var next string
	if err := json.Unmarshal(got.Ts, &next); err != nil || next == ts {
		t.Fatalf("new ts %s", got.Ts)
	}

	if _, _, got := vkTestCheck(t, server, "badkey", next, 0); got.Failed != 2 {
		t.Errorf("wrong key: %+v", got)
	}
	if _, _, got := vkTestCheck(t, server, key, "999", 0); got.Failed != 1 || string(got.Ts) != next {
		t.Errorf("future ts: %+v, want failed 1 with ts %s", got, next)
	}
	if _, _, got := vkTestCheck(t, server, key, "0", 0); got.Failed != 1 {
		t.Errorf("ts before history: %+v", got)
	}

	f.Redeliver(id)
	if _, _, got := vkTestCheck(t, server, key, next, 0); len(got.Updates) != 1 || got.Updates[0].EventID != id {
		t.Errorf("redelivered: %+v", got)
	}

	f.ExpireKey()
	if _, _, got := vkTestCheck(t, server, key, next, 0); got.Failed != 2 {
		t.Errorf("expired key: %+v", got)
	}
	_, key, _ = vkTestServer(t, f)
	if _, _, got := vkTestCheck(t, server, key, next, 0); got.Failed != 0 || len(got.Updates) != 1 {
		t.Errorf("old ts with a new key must still work: %+v", got)
	}

	f.FailLongPoll(2)
	if status, _, _ := vkTestCheck(t, server, key, next, 0); status != http.StatusInternalServerError {
		t.Errorf("first injected failure: HTTP %d", status)
	}
	if _, body, _ := vkTestCheck(t, server, key, next, 0); json.Valid([]byte(body)) {
		t.Errorf("second injected failure is valid JSON: %s", body)
	}
	if status, _, got := vkTestCheck(t, server, key, next, 0); status != http.StatusOK || len(got.Updates) != 1 {
		t.Errorf("after failures: HTTP %d %+v", status, got)
	}
}

func TestVKLongPollHoldsAndFilters(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	server, key, ts := vkTestServer(t, f)
	done := make(chan vkTestPoll, 1)
	go func() {
		var got vkTestPoll
		q := url.Values{"act": {"a_check"}, "key": {key}, "ts": {ts}, "wait": {"20"}}
		if resp, err := http.Get(server + "?" + q.Encode()); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&got)
			_ = resp.Body.Close()
		}
		done <- got
	}()
	time.Sleep(50 * time.Millisecond)
	id := f.SendText(vkTestUser, "wake up")
	select {
	case got := <-done:
		if len(got.Updates) != 1 || got.Updates[0].EventID != id {
			t.Errorf("held check = %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held check did not return on a new event")
	}

	resp := vkTestCall(t, f, VKToken, "groups.setLongPollSettings", vkTestParams("group_id", "1001", "enabled", "1", "message_new", "0", "message_event", "1"))
	if resp.code() != 0 {
		t.Fatalf("setLongPollSettings: %+v", resp.Error)
	}
	_, _, now := vkTestCheck(t, server, key, ts, 0)
	var next string
	_ = json.Unmarshal(now.Ts, &next)
	f.SendText(vkTestUser, "filtered")
	start := time.Now()
	if _, _, got := vkTestCheck(t, server, key, next, 1); len(got.Updates) != 0 {
		t.Errorf("disabled message_new delivered: %+v", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("wait=1 held the check for %s", d)
	}
}

func TestVKCallbackRetries(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	var (
		mu      sync.Mutex
		retries []string
		bodies  []vkEvent
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e vkEvent
		_ = json.NewDecoder(r.Body).Decode(&e)
		mu.Lock()
		retries = append(retries, r.Header.Get("X-Retry-Counter"))
		bodies = append(bodies, e)
		n := len(retries)
		mu.Unlock()
		switch {
		case e.Type == "confirmation":
			_, _ = io.WriteString(w, "abc123")
		case n <= 2:
			http.Error(w, "busy", http.StatusInternalServerError)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	f.SetCallback(srv.URL, "s3cret")
	id := f.SendText(vkTestUser, "hi")
	got := f.WaitDelivery(t, id)
	if len(got) != 3 || got[0].Status != 500 || got[2].Status != 200 || got[2].Body != "ok" || got[2].Retry != 2 {
		t.Fatalf("deliveries = %+v", got)
	}
	mu.Lock()
	if strings.Join(retries, ",") != ",1,2" {
		t.Errorf("X-Retry-Counter headers = %q", retries)
	}
	if e := bodies[0]; e.Type != "message_new" || e.EventID != id || e.Secret != "s3cret" || e.GroupID != VKGroupID || e.V != "5.199" || len(e.Object) == 0 {
		t.Errorf("callback body = %+v", e)
	}
	mu.Unlock()
	if body, err := f.Confirm(srv.URL, "s3cret"); err != nil || body != "abc123" {
		t.Errorf("Confirm() = %q, %v", body, err)
	}
}

func TestVKCallbackGivesUp(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "not ok")
	}))
	t.Cleanup(srv.Close)
	f.SetCallback(srv.URL, "s")
	id := f.SendText(vkTestUser, "hi")
	if got := f.WaitDelivery(t, id); len(got) != vkCallbackTries || got[vkCallbackTries-1].Retry != vkCallbackTries-1 {
		t.Errorf("deliveries = %+v, want %d attempts", got, vkCallbackTries)
	}
}

func TestVKUsersGet(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.SendText(vkTestUser, "hi")
	resp := vkTestCall(t, f, VKToken, "users.get", vkTestParams("user_ids", "501,999"))
	var users []struct {
		ID        int    `json:"id"`
		FirstName string `json:"first_name"`
	}
	if err := json.Unmarshal(resp.Response, &users); err != nil || len(users) != 1 || users[0].FirstName != "Иван" {
		t.Errorf("users.get = %s (%v)", resp.Response, err)
	}
}

func TestVKSendStoresAttachments(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	photo := f.Attachment(f.SendPhoto(vkTestUser, ""))
	doc := f.Attachment(f.SendDoc(vkTestUser, "act.pdf", ""))
	if !strings.HasPrefix(photo, "photo501_") || !strings.HasPrefix(doc, "doc501_") || strings.Count(photo, "_") != 2 || photo == doc {
		t.Fatalf("attachment strings %q, %q", photo, doc)
	}
	resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "501", "random_id", "1", "message", "Заявка 7", "attachment", photo+","+doc))
	if resp.code() != 0 {
		t.Fatalf("send: %+v", resp.Error)
	}
	if got := f.Messages(501); len(got) != 1 || got[0].Text != "Заявка 7" || !reflect.DeepEqual(got[0].Attachments, []string{photo, doc}) {
		t.Fatalf("messages = %+v", got)
	}
	// Editing replaces the message whole: without the attachment parameter none stay.
	cmid := strconv.Itoa(f.Messages(501)[0].ConversationMessageID)
	edits := []struct {
		kv   []string
		want []string
	}{
		{[]string{"message", "Заявка 7: взята", "attachment", doc}, []string{doc}},
		{[]string{"message", "Заявка 7: закрыта"}, nil},
	}
	for _, e := range edits {
		kv := append([]string{"peer_id", "501", "conversation_message_id", cmid}, e.kv...)
		if resp := vkTestCall(t, f, VKToken, "messages.edit", vkTestParams(kv...)); resp.code() != 0 {
			t.Fatalf("edit: %+v", resp.Error)
		}
		if got := f.Messages(501)[0]; !reflect.DeepEqual(got.Attachments, e.want) {
			t.Fatalf("after edit %v: attachments %v, want %v", e.kv, got.Attachments, e.want)
		}
	}
	if resp := vkTestCall(t, f, VKToken, "messages.edit", vkTestParams("peer_id", "501", "conversation_message_id", cmid, "message", "x", "attachment", "photo1_2")); resp.code() != 100 {
		t.Fatalf("edit with an unknown attachment: %+v", resp.Error)
	}
}

type vkTestMessage struct {
	Text                  string         `json:"text"`
	FromID                int            `json:"from_id"`
	PeerID                int            `json:"peer_id"`
	ConversationMessageID int            `json:"conversation_message_id"`
	Attachments           []vkTestAttach `json:"attachments"`
	ReplyMessage          *vkTestMessage `json:"reply_message"`
}

type vkTestAttach struct {
	Type  string `json:"type"`
	Photo *struct {
		ID        int    `json:"id"`
		OwnerID   int    `json:"owner_id"`
		AccessKey string `json:"access_key"`
	} `json:"photo"`
	Doc *struct {
		ID        int    `json:"id"`
		OwnerID   int    `json:"owner_id"`
		AccessKey string `json:"access_key"`
		Title     string `json:"title"`
		Ext       string `json:"ext"`
		Type      int    `json:"type"`
	} `json:"doc"`
	AudioMessage *struct {
		ID       int   `json:"id"`
		Duration int   `json:"duration"`
		Waveform []int `json:"waveform"`
	} `json:"audio_message"`
}

// vkTestMessages reads every message_new since the long poll started.
func vkTestMessages(t *testing.T, server, key, ts string) map[string]vkTestMessage {
	t.Helper()
	_, _, got := vkTestCheck(t, server, key, ts, 0)
	out := map[string]vkTestMessage{}
	for _, e := range got.Updates {
		var obj struct {
			Message vkTestMessage `json:"message"`
		}
		if err := json.Unmarshal(e.Object, &obj); err != nil {
			t.Fatalf("event %s: %v", e.Object, err)
		}
		out[e.EventID] = obj.Message
	}
	return out
}

func TestVKUserMediaAndReplies(t *testing.T) {
	t.Parallel()
	rec := &vkRecordingTB{TB: t}
	f := NewVK(rec)
	server, key, ts := vkTestServer(t, f)
	const chat = 2000000001
	photo := f.SendPhoto(vkTestUser, "смотрите")
	doc := f.SendDoc(vkTestUser, "Договор.pdf", "")
	voice := f.SendVoice(vkTestUser)
	f.SendChatText(vkTestUser, chat, "/bind")
	resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", strconv.Itoa(chat), "random_id", "1", "message", "Заявка 7"))
	if resp.code() != 0 {
		t.Fatalf("send: %+v", resp.Error)
	}
	other := VKUser{ID: 502, FirstName: "Alice"}
	toBot := f.ReplyInChat(other, chat, 2, "Перезвоню")
	toPerson := f.ReplyInChat(other, chat, 1, "ок")
	inDialog := f.ReplyInChat(vkTestUser, 501, 1, "это ещё")
	msgs := vkTestMessages(t, server, key, ts)

	p := msgs[photo]
	if len(p.Attachments) != 1 || p.Attachments[0].Type != "photo" || p.Text != "смотрите" {
		t.Fatalf("photo message = %+v", p)
	}
	ph := p.Attachments[0].Photo
	if ph == nil || ph.OwnerID != 501 || ph.AccessKey == "" || f.Attachment(photo) != fmt.Sprintf("photo501_%d_%s", ph.ID, ph.AccessKey) {
		t.Fatalf("photo %+v, Attachment %q", ph, f.Attachment(photo))
	}
	d := msgs[doc].Attachments
	if len(d) != 1 || d[0].Doc == nil || d[0].Doc.Title != "Договор.pdf" || d[0].Doc.Ext != "pdf" || d[0].Doc.Type != 1 ||
		f.Attachment(doc) != fmt.Sprintf("doc501_%d_%s", d[0].Doc.ID, d[0].Doc.AccessKey) {
		t.Fatalf("doc message = %+v, Attachment %q", d, f.Attachment(doc))
	}
	if v := msgs[voice].Attachments; len(v) != 1 || v[0].Type != "audio_message" || v[0].AudioMessage == nil || v[0].AudioMessage.Duration == 0 || f.Attachment(voice) != "" {
		t.Fatalf("voice message = %+v", v)
	}
	if r := msgs[toBot]; r.Text != "Перезвоню" || r.FromID != 502 || r.ReplyMessage == nil || r.ReplyMessage.ConversationMessageID != 2 ||
		r.ReplyMessage.FromID != -VKGroupID || r.ReplyMessage.Text != "Заявка 7" {
		t.Fatalf("reply to the bot = %+v %+v", r, r.ReplyMessage)
	}
	if r := msgs[toPerson]; r.ReplyMessage == nil || r.ReplyMessage.ConversationMessageID != 1 || r.ReplyMessage.FromID != 501 || r.ReplyMessage.Text != "/bind" {
		t.Fatalf("reply to a person = %+v", r.ReplyMessage)
	}
	if r := msgs[inDialog]; r.PeerID != 501 || r.ReplyMessage == nil || r.ReplyMessage.Text != "смотрите" || len(r.ReplyMessage.Attachments) != 1 {
		t.Fatalf("reply in the dialog = %+v", r.ReplyMessage)
	}
	if id := f.ReplyInChat(other, chat, 99, "?"); id != "" || len(rec.errors) != 1 {
		t.Fatalf("reply to an unknown message = %q, errors %v", id, rec.errors)
	}
	if id := f.ReplyInChat(other, 501, 1, "?"); id != "" || len(rec.errors) != 2 {
		t.Fatalf("reply in another's dialog = %q, errors %v", id, rec.errors)
	}
}

// vkTestSendPeers sends text to peers with messages.send and peer_ids and
// returns the per-peer answers.
func vkTestSendPeers(t *testing.T, f *VK, peers, randomID, text string) []map[string]any {
	t.Helper()
	resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_ids", peers, "random_id", randomID, "message", text))
	if resp.Error != nil {
		t.Fatalf("messages.send to %s: error %d %s", peers, resp.Error.Code, resp.Error.Msg)
	}
	var out []map[string]any
	if err := json.Unmarshal(resp.Response, &out); err != nil {
		t.Fatalf("response %s: %v", resp.Response, err)
	}
	return out
}

func TestVKRandomIDIsPerPeer(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.Meet(601, 602, 603, vkChatPeerBase+5)
	first := vkTestSendPeers(t, f, "601,602,2000000005", "42", "news")
	// The same random_id: 601 and the chat already have it, 603 does not.
	again := vkTestSendPeers(t, f, "603,601,2000000005", "42", "news")
	if again[1]["message_id"] != first[0]["message_id"] || again[1]["conversation_message_id"] != first[0]["conversation_message_id"] {
		t.Errorf("repeat to 601 = %v, first = %v", again[1], first[0])
	}
	if again[2]["conversation_message_id"] != first[2]["conversation_message_id"] {
		t.Errorf("repeat to the chat = %v, first = %v", again[2], first[2])
	}
	if again[0]["error"] != nil || again[0]["conversation_message_id"] != float64(1) {
		t.Errorf("first send to 603 = %v", again[0])
	}
	// A delivered message stays delivered: its repeat answers its ids even
	// after the person withdrew permission.
	f.Block(602)
	if late := vkTestSendPeers(t, f, "602", "42", "news"); late[0]["message_id"] != first[1]["message_id"] {
		t.Errorf("repeat to 602 after blocking = %v, first = %v", late[0], first[1])
	}
	if late := vkTestSendPeers(t, f, "602", "43", "news"); late[0]["error"] == nil {
		t.Errorf("a new random_id to a blocker = %v", late[0])
	}
	for peer, want := range map[int]int{601: 1, 602: 1, 603: 1, vkChatPeerBase + 5: 1, 604: 0} {
		if got := f.SentCount(peer); got != want {
			t.Errorf("SentCount(%d) = %d, want %d", peer, got, want)
		}
	}
}

func TestVKMeet(t *testing.T) {
	t.Parallel()
	rec := &vkRecordingTB{TB: t}
	f := NewVK(rec)
	f.Meet(701, vkChatPeerBase+9, -5)
	out := vkTestSendPeers(t, f, "701,702,2000000009,2000000010", "1", "hi")
	codes := make([]any, len(out))
	for i, r := range out {
		if e, ok := r["error"].(map[string]any); ok {
			codes[i] = e["code"]
		}
	}
	if want := []any{nil, float64(901), nil, float64(917)}; !reflect.DeepEqual(codes, want) {
		t.Errorf("per-peer error codes %v, want %v", codes, want)
	}
	if len(rec.errors) != 1 {
		t.Errorf("Meet(-5) recorded %v, want one error", rec.errors)
	}
	f.mu.Lock()
	events := len(f.events) // every event published, whether delivered or not
	f.mu.Unlock()
	if events != 0 {
		t.Errorf("Meet published %d events", events)
	}
}

func TestVKEnforceLimits(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.Meet(801)
	f.EnforceLimits(4)
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = strconv.Itoa(900 + i)
	}
	calls := []struct {
		method string
		params url.Values
	}{
		{"users.get", vkTestParams("user_ids", "801")},
		{"messages.send", vkTestParams("peer_ids", strings.Join(hundred, ","), "random_id", "1", "message", "one call")},
		{"groups.getById", vkTestParams()},
		{"messages.send", vkTestParams("peer_id", "801", "random_id", "0", "message", "hi")},
	}
	for i, c := range calls {
		if resp := vkTestCall(t, f, VKToken, c.method, c.params); resp.Error != nil {
			t.Fatalf("call %d (%s): %+v", i, c.method, resp.Error)
		}
	}
	over := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "801", "random_id", "0", "message", "over"))
	if over.code() != 6 || over.Error.Msg != "Too many requests per second" {
		t.Fatalf("fifth call in a second: %+v", over.Error)
	}
	// Another token's calls are neither limited nor counted.
	if resp := vkTestCall(t, f, "other-token", "users.get", vkTestParams("user_ids", "801")); resp.code() != 5 {
		t.Errorf("call with another token: code %d", resp.code())
	}
	for range 3 {
		vkTestCall(t, f, VKToken, "users.get", vkTestParams("user_ids", "801"))
	}
	if got := f.TooManyCount(); got != 4 {
		t.Errorf("TooManyCount() = %d, want 4", got)
	}
	if got := f.SentCount(801); got != 1 {
		t.Errorf("refused sends delivered: %d messages", got)
	}
	time.Sleep(time.Second)
	if resp := vkTestCall(t, f, VKToken, "users.get", vkTestParams("user_ids", "801")); resp.Error != nil {
		t.Fatalf("call after a second: %+v", resp.Error)
	}
	f.EnforceLimits(0)
	for i := range 8 {
		if resp := vkTestCall(t, f, VKToken, "users.get", vkTestParams("user_ids", "801")); resp.Error != nil {
			t.Fatalf("call %d without a limit: %+v", i, resp.Error)
		}
	}
}

// TestVKLimitsPaced calls just under the limit and expects no error 6.
func TestVKLimitsPaced(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.Meet(801)
	f.EnforceLimits(7)
	// At most 7 in any second: 8 calls span 7 gaps of 170 ms, 1.19 s, on an
	// absolute schedule, so a late call never bunches the next ones up.
	start := time.Now()
	for i := range 14 {
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 170 * time.Millisecond)))
		resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "801", "random_id", strconv.Itoa(i+1), "message", "paced"))
		if resp.Error != nil {
			t.Fatalf("call %d: %+v", i, resp.Error)
		}
	}
	if got, sent := f.TooManyCount(), f.SentCount(801); got != 0 || sent != 14 {
		t.Errorf("TooManyCount() = %d, sent %d", got, sent)
	}
}

func TestVKFailRandomly(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.Meet(801)
	f.FailRandomly("messages.send", 3, 10)
	var failed []int
	for i := 1; i <= 7; i++ {
		resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "801", "random_id", strconv.Itoa(i), "message", strconv.Itoa(i)))
		if resp.Error == nil {
			continue
		}
		failed = append(failed, i)
		if resp.Error.Code != 10 || resp.Error.Msg != "Internal server error" {
			t.Errorf("call %d: %+v", i, resp.Error)
		}
	}
	if !slices.Equal(failed, []int{3, 6}) {
		t.Fatalf("failed calls %v, want [3 6]", failed)
	}
	var texts []string
	for _, m := range f.Messages(801) {
		texts = append(texts, m.Text)
	}
	if want := []string{"1", "2", "4", "5", "7"}; !slices.Equal(texts, want) {
		t.Errorf("delivered %v, want %v", texts, want)
	}
	if resp := vkTestCall(t, f, VKToken, "users.get", vkTestParams("user_ids", "801")); resp.Error != nil {
		t.Errorf("another method failed: %+v", resp.Error)
	}
	f.FailRandomly("messages.send", 0, 10)
	for i := range 3 {
		if resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "801", "random_id", "0", "message", "x")); resp.Error != nil {
			t.Fatalf("call %d after stopping: %+v", i, resp.Error)
		}
	}
}

func TestVKOnSent(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.Meet(801, 802)
	type seen struct {
		msg VKMessage
		at  time.Time
	}
	var (
		mu  sync.Mutex
		got []seen
	)
	f.OnSent(func(m VKMessage, at time.Time) {
		// The hook runs outside the fake's lock: it may call the fake.
		n := f.SentCount(m.PeerID)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{m, at})
		if n == 0 {
			t.Error("the hook ran before the message was recorded")
		}
	})
	start := time.Now()
	vkTestSendPeers(t, f, "801,803,802", "5", "news") // 803 never allowed messages
	vkTestSendPeers(t, f, "801,802", "5", "news")     // repeats: dropped
	vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "801", "random_id", "6", "message", "one"))
	vkTestCall(t, f, VKToken, "messages.edit", vkTestParams("peer_id", "801", "conversation_message_id", "1", "message", "edited"))
	end := time.Now()
	mu.Lock()
	defer mu.Unlock()
	var peers []int
	for _, s := range got {
		peers = append(peers, s.msg.PeerID)
		if s.at.Before(start) || s.at.After(end) {
			t.Errorf("message to %d at %s, outside [%s, %s]", s.msg.PeerID, s.at, start, end)
		}
	}
	if !slices.Equal(peers, []int{801, 802, 801}) {
		t.Fatalf("hooks saw sends to %v, want [801 802 801]", peers)
	}
	if got[0].msg.Text != "news" || got[0].msg.RandomID != 5 || got[2].msg.Text != "one" || got[2].msg.ConversationMessageID != 2 {
		t.Errorf("hooked messages %+v", got)
	}
}

// BenchmarkVKMessagesSend measures the fake's messages.send over HTTP with
// 100 peer_ids a call, a new random_id each.
func BenchmarkVKMessagesSend(b *testing.B) {
	f := NewVK(b)
	peers := make([]string, 100)
	for i := range peers {
		peers[i] = strconv.Itoa(10000 + i)
		f.Meet(10000 + i)
	}
	f.OnSent(func(VKMessage, time.Time) {})
	joined := strings.Join(peers, ",")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := vkTestParams("peer_ids", joined, "random_id", strconv.FormatInt(next.Add(1), 10), "message", "notice")
			req, err := http.NewRequest(http.MethodPost, f.APIURL()+"messages.send", strings.NewReader(form.Encode()))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+VKToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var out vkTestResp
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || out.Error != nil {
				b.Errorf("messages.send: %v %+v", err, out.Error)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "deliveries/s")
}

// vkTestPNG encodes a w×h image as PNG.
func vkTestPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 3)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type vkTestUploaded struct {
	Server int    `json:"server"`
	Photo  string `json:"photo"`
	Hash   string `json:"hash"`
	File   string `json:"file"`
	Error  string `json:"error"`
}

// vkTestUpload posts data as the multipart field to uploadURL, as vksdk's
// UploadFile does.
func vkTestUpload(t *testing.T, uploadURL, field string, data []byte) vkTestUploaded {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile(field, "chart.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(uploadURL, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	var out vkTestUploaded
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("upload: decode: %v", err)
	}
	return out
}

func TestVKUploadPhoto(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.SendText(vkTestUser, "hi")
	chart := vkTestPNG(t, 640, 420)
	uploadURL := func(t *testing.T) string {
		t.Helper()
		resp := vkTestCall(t, f, VKToken, "photos.getMessagesUploadServer", vkTestParams("peer_id", "501"))
		var server struct {
			AlbumID   int    `json:"album_id"`
			UploadURL string `json:"upload_url"`
			GroupID   int    `json:"group_id"`
		}
		if resp.code() != 0 || json.Unmarshal(resp.Response, &server) != nil {
			t.Fatalf("getMessagesUploadServer: %+v %s", resp.Error, resp.Response)
		}
		if !strings.HasPrefix(server.UploadURL, f.srv.URL+"/upload?") || server.GroupID != VKGroupID || server.AlbumID != vkMessagesAlbum {
			t.Fatalf("upload server %+v", server)
		}
		return server.UploadURL
	}
	save := func(up vkTestUploaded) vkTestResp {
		return vkTestCall(t, f, VKToken, "photos.saveMessagesPhoto",
			vkTestParams("server", strconv.Itoa(up.Server), "photo", up.Photo, "hash", up.Hash))
	}

	up := vkTestUpload(t, uploadURL(t), "photo", chart)
	if up.Error != "" || up.Server == 0 || up.Hash == "" || up.Photo == "[]" {
		t.Fatalf("upload answered %+v", up)
	}
	// Saving checks what the upload server issued.
	bad := []struct {
		name string
		up   vkTestUploaded
		code int
	}{
		{"unknown hash", vkTestUploaded{Server: up.Server, Photo: up.Photo, Hash: "forged"}, vkErrHash},
		{"other server", vkTestUploaded{Server: up.Server + 1, Photo: up.Photo, Hash: up.Hash}, vkErrServer},
		{"other photo", vkTestUploaded{Server: up.Server, Photo: `[{"photo":"x"}]`, Hash: up.Hash}, vkErrParam},
	}
	for _, b := range bad {
		if resp := save(b.up); resp.code() != b.code {
			t.Errorf("%s: error %+v, want code %d", b.name, resp.Error, b.code)
		}
	}
	resp := save(up)
	var photos []struct {
		ID        int    `json:"id"`
		OwnerID   int    `json:"owner_id"`
		AccessKey string `json:"access_key"`
		Sizes     []struct {
			Type   string `json:"type"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"sizes"`
	}
	if resp.code() != 0 || json.Unmarshal(resp.Response, &photos) != nil || len(photos) != 1 {
		t.Fatalf("save: %+v %s", resp.Error, resp.Response)
	}
	p := photos[0]
	if last := p.Sizes[len(p.Sizes)-1]; p.ID == 0 || p.OwnerID != -VKGroupID || p.AccessKey == "" || last.Width != 640 || last.Height != 420 {
		t.Fatalf("saved photo %+v", p)
	}
	if again := save(up); again.code() != 0 || string(again.Response) != string(resp.Response) {
		t.Errorf("saving again: %+v %s", again.Error, again.Response)
	}

	// Attached, with its access key, the photo records its bytes.
	ref := fmt.Sprintf("photo%d_%d_%s", p.OwnerID, p.ID, p.AccessKey)
	if resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "501", "random_id", "7", "message", "Нормы", "attachment", ref)); resp.code() != 0 {
		t.Fatalf("send: %+v", resp.Error)
	}
	if resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "501", "random_id", "8", "attachment", fmt.Sprintf("photo%d_%d", p.OwnerID, p.ID))); resp.code() != vkErrParam {
		t.Errorf("attached without its access key: %+v", resp.Error)
	}
	got := f.Messages(501)
	if len(got) != 1 || got[0].Text != "Нормы" || !reflect.DeepEqual(got[0].Attachments, []string{ref}) || !bytes.Equal(got[0].Upload, chart) {
		t.Fatalf("messages %+v", got)
	}
	got[0].Upload[0] ^= 0xff
	if !bytes.Equal(f.Messages(501)[0].Upload, chart) {
		t.Error("changing a returned upload changed the fake's record")
	}
	// An edit without the photo drops it, as the message is replaced whole.
	cmid := strconv.Itoa(got[0].ConversationMessageID)
	if resp := vkTestCall(t, f, VKToken, "messages.edit", vkTestParams("peer_id", "501", "conversation_message_id", cmid, "message", "Нормы за май")); resp.code() != 0 {
		t.Fatalf("edit: %+v", resp.Error)
	}
	if m := f.Messages(501)[0]; m.Upload != nil || m.Attachments != nil {
		t.Errorf("after an edit without the photo: %+v", m)
	}

	// What the upload server takes no photo from, saving refuses.
	for _, tc := range []struct {
		name, field string
		data        []byte
	}{
		{"wrong field", "file1", chart},
		{"not an image", "photo", []byte("no png")},
		{"empty", "photo", nil},
		{"too narrow", "photo", vkTestPNG(t, 420, 20)},
	} {
		up := vkTestUpload(t, uploadURL(t), tc.field, tc.data)
		if up.Photo != "[]" {
			t.Errorf("%s: upload answered %+v", tc.name, up)
		}
		if resp := save(up); resp.code() != vkErrParam {
			t.Errorf("%s: save answered %+v", tc.name, resp.Error)
		}
	}
	if up := vkTestUpload(t, f.srv.URL+"/upload?act=do_add&key=forged", "photo", chart); up.Error == "" {
		t.Errorf("an upload URL the fake never issued: %+v", up)
	}
}

func TestVKUploadDocument(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	f.SendText(vkTestUser, "hi")
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("повестка "), 100)...)
	// A community names the peer a document is for.
	if resp := vkTestCall(t, f, VKToken, "docs.getMessagesUploadServer", vkTestParams("type", "doc")); resp.code() != vkErrParam {
		t.Fatalf("an upload server without peer_id: %+v", resp.Error)
	}
	uploadURL := func(t *testing.T) string {
		t.Helper()
		resp := vkTestCall(t, f, VKToken, "docs.getMessagesUploadServer", vkTestParams("peer_id", "501", "type", "doc"))
		var server struct {
			UploadURL string `json:"upload_url"`
		}
		if resp.code() != 0 || json.Unmarshal(resp.Response, &server) != nil || !strings.HasPrefix(server.UploadURL, f.srv.URL+"/upload?") {
			t.Fatalf("docs.getMessagesUploadServer: %+v %s", resp.Error, resp.Response)
		}
		return server.UploadURL
	}
	for _, tc := range []struct {
		name, field string
		data        []byte
	}{{"wrong field", "photo", pdf}, {"empty", "file", nil}} {
		if up := vkTestUpload(t, uploadURL(t), tc.field, tc.data); up.Error == "" || up.File != "" {
			t.Errorf("%s: upload answered %+v", tc.name, up)
		}
	}
	if n := f.Uploads(); n != 0 {
		t.Errorf("%d uploads counted for refused files", n)
	}
	up := vkTestUpload(t, uploadURL(t), "file", pdf)
	if up.Error != "" || up.File == "" || f.Uploads() != 1 {
		t.Fatalf("upload answered %+v, %d uploads", up, f.Uploads())
	}
	if resp := vkTestCall(t, f, VKToken, "docs.save", vkTestParams("file", "forged")); resp.code() != vkErrParam {
		t.Errorf("saving a forged file: %+v", resp.Error)
	}
	resp := vkTestCall(t, f, VKToken, "docs.save", vkTestParams("file", up.File, "title", "Повестка.pdf"))
	var saved struct {
		Type string `json:"type"`
		Doc  struct {
			ID        int    `json:"id"`
			OwnerID   int    `json:"owner_id"`
			Title     string `json:"title"`
			Size      int    `json:"size"`
			Ext       string `json:"ext"`
			AccessKey string `json:"access_key"`
		} `json:"doc"`
	}
	if resp.code() != 0 || json.Unmarshal(resp.Response, &saved) != nil {
		t.Fatalf("save: %+v %s", resp.Error, resp.Response)
	}
	d := saved.Doc
	// The extension is the uploaded file name's (vkTestUpload names every file chart.png).
	if saved.Type != "doc" || d.ID == 0 || d.OwnerID != -VKGroupID || d.Title != "Повестка.pdf" || d.Size != len(pdf) || d.Ext != "png" || d.AccessKey == "" {
		t.Fatalf("saved %+v", saved)
	}
	// Attached, with its access key, to several peers at once.
	f.Meet(601)
	ref := fmt.Sprintf("doc%d_%d_%s", d.OwnerID, d.ID, d.AccessKey)
	if resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_ids", "501,601", "random_id", "7", "attachment", ref)); resp.code() != 0 {
		t.Fatalf("send: %+v", resp.Error)
	}
	for _, peer := range []int{501, 601} {
		if got := f.Messages(peer); len(got) != 1 || !reflect.DeepEqual(got[0].Attachments, []string{ref}) || !bytes.Equal(got[0].Upload, pdf) {
			t.Errorf("peer %d: %+v", peer, got)
		}
	}
	if resp := vkTestCall(t, f, VKToken, "messages.send", vkTestParams("peer_id", "501", "random_id", "8", "attachment", fmt.Sprintf("doc%d_%d", d.OwnerID, d.ID+1))); resp.code() != vkErrParam {
		t.Errorf("an unknown document attached: %+v", resp.Error)
	}
}

func TestVKServesTheFilesOfMessages(t *testing.T) {
	t.Parallel()
	f := NewVK(t)
	tests := []struct {
		name  string
		send  func() string
		photo bool
	}{
		{"photo", func() string { return f.SendPhoto(vkTestUser, "") }, true},
		{"document", func() string { return f.SendDoc(vkTestUser, "Договор.pdf", "") }, false},
	}
	get := func(link string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, data
	}
	var links []string
	for _, tt := range tests {
		id := tt.send()
		link := f.FileURL(id)
		if !strings.HasPrefix(link, f.srv.URL+"/files/") {
			t.Fatalf("%s: link %q is not the fake's", tt.name, link)
		}
		status, data := get(link)
		if status != http.StatusOK || len(data) == 0 || !bytes.Equal(data, f.FileData(id)) {
			t.Fatalf("%s: %d, %d bytes", tt.name, status, len(data))
		}
		if _, err := png.Decode(bytes.NewReader(data)); tt.photo && err != nil {
			t.Errorf("%s: no PNG: %v", tt.name, err)
		}
		links = append(links, link)
	}
	f.ExpireFiles()
	for _, link := range append(links, f.srv.URL+"/files/doc1_2") {
		if status, _ := get(link); status != http.StatusNotFound {
			t.Errorf("%s after expiry: %d, want 404", link, status)
		}
	}
}
