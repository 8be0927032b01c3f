package platformtest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // VK takes message photos as GIF, JPEG or PNG
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Identity of the fake VK community.
const (
	VKToken           = "vk-test-token"
	VKGroupID         = 1001
	VKGroupScreenName = "unionhub_test"
)

const (
	vkAPIVersion      = "5.199"
	vkGroupName       = "UnionHub Test"
	vkChatPeerBase    = 2000000000
	vkMaxText         = 4096
	vkMaxPeers        = 100
	vkMaxLabel        = 40
	vkMaxPayload      = 1000
	vkMaxSnackbar     = 90
	vkMaxAttachments  = 10
	vkHistory         = 1000
	vkMaxWait         = 25 * time.Second
	vkWaitTimeout     = 10 * time.Second
	vkCallbackTries   = 8
	vkCallbackBackoff = 50 * time.Millisecond
	vkCallbackTimeout = 10 * time.Second
	vkLangEN          = 3
	vkMaxUpload       = 50 << 20 // VK's limit for a photo
	vkMaxPhotoSides   = 14000    // width and height together
	vkMaxPhotoRatio   = 20       // the longer side to the shorter
	vkMessagesAlbum   = -64      // the album_id VK reports for photos uploaded to messages
)

// VK error codes the fake returns; the numbers are VK's own.
const (
	vkErrUnknown   = 1
	vkErrMethod    = 3
	vkErrAuth      = 5
	vkErrTooMany   = 6
	vkErrFlood     = 9
	vkErrInternal  = 10
	vkErrRequest   = 8
	vkErrAccess    = 15
	vkErrParam     = 100
	vkErrServer    = 118 // photos.saveMessagesPhoto: invalid server
	vkErrHash      = 121 // photos.saveMessagesPhoto: invalid hash
	vkErrDenySend  = 901
	vkErrKeyboard  = 911
	vkErrTooLong   = 914
	vkErrNoAccess  = 917
	vkParamInvalid = "One of the parameters specified was missing or invalid: "
)

// VKUser is a person on the user side of the fake.
type VKUser struct {
	ID        int
	FirstName string
	LastName  string
	LangID    int // client_info.lang_id: 0 Russian, 3 English
}

// VKButton is one button of a message the bot sent.
type VKButton struct {
	Type    string // "callback", "open_link", "text"...
	Label   string
	Payload string // the button's JSON payload as sent
	Link    string
}

// VKMessage is a message the bot sent, in its current (edited) state.
type VKMessage struct {
	ConversationMessageID int
	PeerID                int
	Text                  string
	RandomID              int
	Buttons               [][]VKButton
	Attachments           []string // as sent: "photo<owner>_<id>_<key>", "doc..."
	// Upload is the bytes of the first attached photo or document the bot
	// uploaded (photos.getMessagesUploadServer, the upload,
	// photos.saveMessagesPhoto; or docs.getMessagesUploadServer, the upload,
	// docs.save), byte for byte; nil when it attached none.
	Upload []byte
}

// HasPayload reports whether a button of m carries exactly payload p.
func (m VKMessage) HasPayload(p string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.Payload == p {
				return true
			}
		}
	}
	return false
}

// PayloadFor returns the payload of the first button whose label contains
// labelSubstring, or "" when there is none.
func (m VKMessage) PayloadFor(labelSubstring string) string {
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Label, labelSubstring) {
				return b.Payload
			}
		}
	}
	return ""
}

func (m VKMessage) clone() VKMessage {
	m.Attachments = slices.Clone(m.Attachments)
	m.Upload = slices.Clone(m.Upload)
	if m.Buttons == nil {
		return m
	}
	rows := make([][]VKButton, len(m.Buttons))
	for i, row := range m.Buttons {
		rows[i] = append([]VKButton(nil), row...)
	}
	m.Buttons = rows
	return m
}

// VKDelivery is one Callback API delivery attempt.
type VKDelivery struct {
	EventID string
	Retry   int    // the X-Retry-Counter sent, 0 on the first attempt
	Status  int    // HTTP status, 0 on a transport error
	Body    string // the response body, or the transport error
}

// VK is a fake VK API, Bots Long Poll server and Callback API sender over
// real HTTP, imitating what the community bot sees on the real platform.
//
// Events (messages and button presses made with the user-side methods) go to
// the long poll when no callback is set, otherwise they are POSTed to it.
// As on VK, events that happen before groups.getLongPollServer is first
// called are never delivered by the long poll: call WaitLongPoll first.
// The bot may attach the photos and documents people sent and those it
// uploaded: photos as GIF, JPEG or PNG, documents of any type.
type VK struct {
	t      testing.TB
	srv    *httptest.Server
	ctx    context.Context
	client *http.Client
	wg     sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change, to wake waiters
	seq     int           // source of event ids, keys and message ids

	calls    map[string]int
	faults   map[string]vkFault
	everyNth map[string]*everyNth
	limit    *window // nil without EnforceLimits
	tooMany  int
	onSent   []func(VKMessage, time.Time)
	fresh    []vkSent // messages stored by the current call, for the hooks

	users   map[int]VKUser
	allowed map[int]bool // users who allowed messages from the community
	chats   map[int]bool // chats the bot is in
	cmids   map[int]int  // last conversation_message_id per peer
	sent    map[int][]*vkStored
	byCMID  map[vkMsgKey]*vkStored
	inbox   map[vkMsgKey]map[string]any // people's messages as published
	media   map[string]string           // "photo<owner>_<id>" → access key, of media people sent
	evMedia map[string]string           // event id → the attachment string of its photo or document
	evFile  map[string]string           // event id → the link to its photo's largest size or document
	files   map[string][]byte           // paths the file links name → the bytes served there
	upURLs  map[string]string           // keys of the upload URLs handed out → "photo" or "doc"
	upDone  map[string]*vkUpload        // by hash, uploads awaiting or past photos.saveMessagesPhoto
	upFiles map[string]*vkUpload        // by file token, document uploads awaiting or past docs.save
	upBytes map[string][]byte           // "photo<owner>_<id>", "doc..." → the bytes of a file the bot uploaded
	uploads int                         // files the upload server took
	byRand  map[vkRandKey]*vkStored
	presses map[string]vkPress // by the event_id inside message_event
	answers []vkAnswer
	events  map[string]vkEvent

	lpStarted  bool
	lpKeys     map[string]bool
	lpFirst    int // number of lpLog[0]
	lpLog      []vkEvent
	lpEnabled  map[string]bool // nil until groups.setLongPollSettings
	lpFailures int
	lpFailed   int

	cbURL        string
	cbSecret     string
	cbStarted    bool
	cbQueue      []vkEvent
	cbPending    map[string]int
	cbDeliveries []VKDelivery
}

type vkFault struct {
	n    int
	code int
	msg  string
}

type vkError struct {
	code int
	msg  string
}

type vkStored struct {
	msg       VKMessage
	messageID int
	date      int64
}

type vkSent struct {
	msg VKMessage
	at  time.Time
}

type vkRandKey struct{ peer, random int }

type vkMsgKey struct{ peer, cmid int }

type vkPress struct {
	eventID string // the outer event_id, what Press returned
	userID  int
	peerID  int
}

type vkAnswer struct {
	eventID string
	text    string
}

type vkEvent struct {
	Type    string          `json:"type"`
	Object  json.RawMessage `json:"object"`
	GroupID int             `json:"group_id"`
	EventID string          `json:"event_id"`
	V       string          `json:"v"`
	Secret  string          `json:"secret,omitempty"`
}

// NewVK starts a fake VK server on 127.0.0.1, closed when the test ends.
func NewVK(t testing.TB) *VK {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &VK{
		t:         t,
		ctx:       ctx,
		client:    &http.Client{Timeout: vkCallbackTimeout},
		changed:   make(chan struct{}),
		calls:     map[string]int{},
		faults:    map[string]vkFault{},
		everyNth:  map[string]*everyNth{},
		users:     map[int]VKUser{},
		allowed:   map[int]bool{},
		chats:     map[int]bool{},
		cmids:     map[int]int{},
		sent:      map[int][]*vkStored{},
		byCMID:    map[vkMsgKey]*vkStored{},
		inbox:     map[vkMsgKey]map[string]any{},
		media:     map[string]string{},
		evMedia:   map[string]string{},
		evFile:    map[string]string{},
		files:     map[string][]byte{},
		upURLs:    map[string]string{},
		upDone:    map[string]*vkUpload{},
		upFiles:   map[string]*vkUpload{},
		upBytes:   map[string][]byte{},
		byRand:    map[vkRandKey]*vkStored{},
		presses:   map[string]vkPress{},
		events:    map[string]vkEvent{},
		lpKeys:    map[string]bool{},
		lpFirst:   1,
		cbPending: map[string]int{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/method/{name}", f.vkServeMethod)
	mux.HandleFunc("/lp", f.vkServeLongPoll)
	mux.HandleFunc("/upload", f.vkServeUpload)
	mux.HandleFunc("GET /files/", f.vkServeFile)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		cancel()
		f.wg.Wait()
		f.srv.Close()
	})
	return f
}

// APIURL is the method URL to configure instead of https://api.vk.ru/method/.
func (f *VK) APIURL() string { return f.srv.URL + "/method/" }

// FailNext makes the next n calls of method fail with VK error code and msg
// (6 too many requests per second, 9 flood control...).
func (f *VK) FailNext(method string, n int, code int, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = vkFault{n: n, code: code, msg: msg}
}

// EnforceLimits answers error 6 "Too many requests per second" to a method
// call of the community token beyond perSecond in any second (a sliding
// window), starting afresh; refused calls do not count, every other does.
// perSecond <= 0 lifts the limit.
func (f *VK) EnforceLimits(perSecond int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit = nil
	if perSecond > 0 {
		f.limit = newWindow(perSecond, time.Second, time.Now())
	}
}

// TooManyCount counts the calls refused with error 6 for exceeding the
// limit of EnforceLimits (not those of FailNext).
func (f *VK) TooManyCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tooMany
}

// FailRandomly makes every every-th call of method, counted from now, fail
// whole with VK error code (10 internal server error, 9 flood control...);
// every <= 0 stops it. The failed calls do nothing else.
func (f *VK) FailRandomly(method string, every, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.everyNth[method] = &everyNth{every: every, code: code}
}

// OnSent adds a hook called with each message messages.send delivers (not
// the repeats a random_id drops) and the time the fake recorded it, outside
// the fake's lock and before the bot gets the answer. Hooks may run
// concurrently.
func (f *VK) OnSent(hook func(VKMessage, time.Time)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSent = append(f.onSent, hook)
}

// Meet lets the community write to each of peerIDs without events: users
// allow its messages (as after Unblock), chat peers (≥ 2000000000) get the
// bot as a member. For audiences larger than a test can greet.
func (f *VK) Meet(peerIDs ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range peerIDs {
		switch {
		case id >= vkChatPeerBase:
			f.chats[id] = true
		case id > 0:
			f.allowed[id] = true
		default:
			f.t.Errorf("platformtest: Meet: peer id %d is not positive", id)
		}
	}
	f.vkNotifyLocked()
}

// SentCount counts the messages delivered to peerID.
func (f *VK) SentCount(peerID int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent[peerID])
}

// ExpireKey invalidates the long poll keys handed out, so the next check
// answers {"failed":2}.
func (f *VK) ExpireKey() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.lpKeys)
	f.vkNotifyLocked()
}

// FailLongPoll makes the next n long poll checks fail, alternately with an
// HTTP 500 HTML page and with truncated JSON.
func (f *VK) FailLongPoll(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lpFailures = n
	f.vkNotifyLocked()
}

// WaitLongPoll waits until a client has fetched the long poll server, from
// which moment events are kept for it.
func (f *VK) WaitLongPoll(t testing.TB) {
	t.Helper()
	f.vkWait(t, "long poll server fetched", func() bool { return f.lpStarted })
}

// SetCallback switches event delivery to the Callback API at url, with
// secret in every event; SetCallback("", "") returns to the long poll.
func (f *VK) SetCallback(url, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cbURL, f.cbSecret = url, secret
	if url != "" && !f.cbStarted {
		f.cbStarted = true
		f.wg.Add(1)
		go f.vkDeliverLoop()
	}
}

// Confirm posts a confirmation event to url, as VK does when a server is
// added, and returns the response body; a non-200 answer is an error.
func (f *VK) Confirm(url, secret string) (string, error) {
	body, err := json.Marshal(map[string]any{"type": "confirmation", "group_id": VKGroupID, "secret": secret})
	if err != nil {
		return "", fmt.Errorf("encode confirmation: %w", err)
	}
	status, text := f.vkPost(url, body, 0)
	if status != http.StatusOK {
		return text, fmt.Errorf("confirm: HTTP %d: %s", status, text)
	}
	return text, nil
}

// CallbackDeliveries lists every Callback API delivery attempt in order.
func (f *VK) CallbackDeliveries() []VKDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]VKDelivery(nil), f.cbDeliveries...)
}

// WaitDelivery waits until the Callback API is done with eventID (answered
// "ok" or out of retries) and returns its attempts.
func (f *VK) WaitDelivery(t testing.TB, eventID string) []VKDelivery {
	t.Helper()
	f.vkWait(t, "callback delivery of "+eventID, func() bool {
		_, queued := f.cbPending[eventID]
		return queued && f.cbPending[eventID] == 0
	})
	var out []VKDelivery
	for _, d := range f.CallbackDeliveries() {
		if d.EventID == eventID {
			out = append(out, d)
		}
	}
	return out
}

// SendText sends a private message from u to the community and returns the
// event id. Writing allows the community to answer, as on VK.
func (f *VK) SendText(u VKUser, text string) string {
	return f.vkIncoming(u, u.ID, text, nil)
}

// SendTextRef sends the first message after a vk.me/<group>?ref=<ref> link.
func (f *VK) SendTextRef(u VKUser, text, ref, refSource string) string {
	return f.vkIncoming(u, u.ID, text, map[string]any{"ref": ref, "ref_source": refSource})
}

// SendStart presses the "Начать" button of a new dialog.
func (f *VK) SendStart(u VKUser) string {
	return f.vkIncoming(u, u.ID, "Начать", map[string]any{"payload": `{"command":"start"}`})
}

// SendChatText sends text from u in the group chat chatPeerID (≥ 2000000000),
// which also puts the bot in that chat.
func (f *VK) SendChatText(u VKUser, chatPeerID int, text string) string {
	if chatPeerID < vkChatPeerBase {
		f.t.Errorf("platformtest: chat peer id %d is below %d", chatPeerID, vkChatPeerBase)
		return ""
	}
	return f.vkIncoming(u, chatPeerID, text, nil)
}

// SendPhoto sends a private message with a photo of u's attached and
// caption text; Attachment tells the string to send the photo again.
func (f *VK) SendPhoto(u VKUser, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, key := f.vkNewMediaLocked("photo", u.ID)
	var sizes []map[string]any
	var largest, link string
	for _, size := range []struct {
		kind string
		w, h int
	}{{"s", 75, 56}, {"x", 604, 453}} {
		largest = fmt.Sprintf("/files/photo%d_%d/%s.png", u.ID, id, size.kind)
		f.files[largest] = fakePhoto(size.w, size.h, int64(id))
		link = f.srv.URL + largest + "?size=" + strconv.Itoa(size.w) + "x" + strconv.Itoa(size.h)
		sizes = append(sizes, map[string]any{"type": size.kind, "url": link, "width": size.w, "height": size.h})
	}
	photo := map[string]any{
		"type": "photo",
		"photo": map[string]any{
			"id": id, "album_id": -3, "owner_id": u.ID, "date": time.Now().Unix(),
			"access_key": key, "text": "", "has_tags": false, "sizes": sizes,
		},
	}
	event := f.vkIncomingLocked(u, u.ID, text, map[string]any{"attachments": []any{photo}})
	f.evMedia[event] = fmt.Sprintf("photo%d_%d_%s", u.ID, id, key)
	f.evFile[event] = link
	return event
}

// SendDoc sends a private message with a document of u's titled title
// attached and text; Attachment tells the string to send it again.
func (f *VK) SendDoc(u VKUser, title, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, key := f.vkNewMediaLocked("doc", u.ID)
	ext := strings.TrimPrefix(path.Ext(title), ".")
	file := fmt.Sprintf("/files/doc%d_%d", u.ID, id)
	f.files[file] = fakeDocument(title, int64(id), 48213)
	link := fmt.Sprintf("%s%s?hash=%s&dl=%s", f.srv.URL, file, key, key)
	doc := map[string]any{
		"type": "doc",
		"doc": map[string]any{
			"id": id, "owner_id": u.ID, "title": title, "size": 48213, "ext": ext, "date": time.Now().Unix(),
			"type": vkDocType(ext), "access_key": key,
			"url": link,
		},
	}
	event := f.vkIncomingLocked(u, u.ID, text, map[string]any{"attachments": []any{doc}})
	f.evMedia[event] = fmt.Sprintf("doc%d_%d_%s", u.ID, id, key)
	f.evFile[event] = link
	return event
}

// SendVoice sends a private voice message from u, media the bot cannot send
// again.
func (f *VK) SendVoice(u VKUser) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id, key := 656000000+f.seq, vkHash("voice", f.seq)[:18]
	voice := map[string]any{
		"type": "audio_message",
		"audio_message": map[string]any{
			"id": id, "owner_id": u.ID, "duration": 4, "waveform": []int{0, 3, 9, 14, 9, 3, 0},
			"link_ogg": "https://psv4.userapi.com/a.ogg", "link_mp3": "https://psv4.userapi.com/a.mp3",
			"access_key": key, "transcript_state": "done",
		},
	}
	return f.vkIncomingLocked(u, u.ID, "", map[string]any{"attachments": []any{voice}})
}

// ReplyInChat sends text from u in peerID (a chat, or u's own dialog) as a
// reply to the message replyToCMID there, the bot's or a person's; a reply
// to a message the fake does not know fails the test.
func (f *VK) ReplyInChat(u VKUser, peerID, replyToCMID int, text string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if peerID < vkChatPeerBase && peerID != u.ID {
		f.t.Errorf("platformtest: ReplyInChat: peer %d is neither a chat nor the dialog of user %d", peerID, u.ID)
		return ""
	}
	key := vkMsgKey{peer: peerID, cmid: replyToCMID}
	var reply map[string]any
	if s := f.byCMID[key]; s != nil {
		reply = map[string]any{
			"date": s.date, "from_id": -VKGroupID, "text": s.msg.Text, "attachments": []any{},
			"conversation_message_id": replyToCMID, "peer_id": peerID, "id": s.messageID,
		}
	} else if m := f.inbox[key]; m != nil {
		reply = map[string]any{}
		for _, k := range []string{"date", "from_id", "text", "attachments", "conversation_message_id", "peer_id", "id"} {
			reply[k] = m[k]
		}
	} else {
		f.t.Errorf("platformtest: ReplyInChat: no message %d in peer %d", replyToCMID, peerID)
		return ""
	}
	return f.vkIncomingLocked(u, peerID, text, map[string]any{"reply_message": reply})
}

// Attachment returns the attachment string with which the community can send
// the photo or document of the person's message eventID again, or "".
func (f *VK) Attachment(eventID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.evMedia[eventID]
}

// Press presses the callback button with payload on the bot's message
// conversationMessageID in peerID and returns the event id. Only buttons the
// bot actually sent can be pressed.
func (f *VK) Press(u VKUser, peerID, conversationMessageID int, payload string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.vkHasCallbackButtonLocked(peerID, conversationMessageID, payload) {
		f.t.Errorf("platformtest: no callback button with payload %s on message %d in peer %d",
			payload, conversationMessageID, peerID)
		return ""
	}
	f.users[u.ID] = u
	f.seq++
	pressID := vkHash("press", f.seq)[:14]
	obj := map[string]any{
		"user_id": u.ID, "peer_id": peerID, "event_id": pressID,
		"payload": json.RawMessage(payload), "conversation_message_id": conversationMessageID,
	}
	id := f.vkPublishLocked("message_event", obj)
	f.presses[pressID] = vkPress{eventID: id, userID: u.ID, peerID: peerID}
	return id
}

// Redeliver sends the event eventID once more, as VK does on retries.
func (f *VK) Redeliver(eventID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.events[eventID]
	if !ok {
		f.t.Errorf("platformtest: redeliver unknown event %s", eventID)
		return
	}
	f.vkRouteLocked(e)
}

// Block makes userID deny messages from the community (error 901) until
// Unblock or until they write again.
func (f *VK) Block(userID int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allowed[userID] = false
	f.vkPublishLocked("message_deny", map[string]any{"user_id": userID})
}

// Unblock makes userID allow messages from the community, also when they
// never wrote to it.
func (f *VK) Unblock(userID int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allowed[userID] = true
	f.vkPublishLocked("message_allow", map[string]any{"user_id": userID, "key": ""})
}

// Messages returns what the bot sent to peerID, in order, as currently edited.
func (f *VK) Messages(peerID int) []VKMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vkMessagesLocked(peerID)
}

// WaitMessage waits up to 10 s for a message to peerID that match accepts
// (nil accepts any) and returns the first such one in order; on timeout it
// fails the test listing what was sent.
func (f *VK) WaitMessage(t testing.TB, peerID int, match func(VKMessage) bool) VKMessage {
	t.Helper()
	timeout := time.NewTimer(vkWaitTimeout)
	defer timeout.Stop()
	for {
		f.mu.Lock()
		msgs := f.vkMessagesLocked(peerID)
		changed := f.changed
		f.mu.Unlock()
		for _, m := range msgs {
			if match == nil || match(m) {
				return m
			}
		}
		select {
		case <-changed:
		case <-timeout.C:
			var b strings.Builder
			for _, m := range msgs {
				fmt.Fprintf(&b, "\n  #%d %q buttons=%v", m.ConversationMessageID, m.Text, m.Buttons)
			}
			t.Fatalf("platformtest: no matching message to peer %d within %s; sent:%s", peerID, vkWaitTimeout, b.String())
			return VKMessage{}
		}
	}
}

// EventAnswers lists the event ids (as Press returned them) of the presses
// the bot answered with messages.sendMessageEventAnswer, in order.
func (f *VK) EventAnswers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.answers))
	for i, a := range f.answers {
		out[i] = a.eventID
	}
	return out
}

// PressAnswers counts, per press (the event id Press returned), the bot's
// messages.sendMessageEventAnswer calls: every press must get exactly one.
func (f *VK) PressAnswers() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.presses))
	for _, p := range f.presses {
		out[p.eventID] = 0
	}
	for _, a := range f.answers {
		out[a.eventID]++
	}
	return out
}

// EventAnswer returns the snackbar text of the last answer to the press
// eventID ("" for a silent answer) and whether it was answered at all.
func (f *VK) EventAnswer(eventID string) (text string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.answers {
		if a.eventID == eventID {
			text, ok = a.text, true
		}
	}
	return text, ok
}

// Calls counts the requests made to method, failed ones included.
func (f *VK) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *VK) vkMessagesLocked(peerID int) []VKMessage {
	out := make([]VKMessage, 0, len(f.sent[peerID]))
	for _, s := range f.sent[peerID] {
		out = append(out, s.msg.clone())
	}
	return out
}

func (f *VK) vkHasCallbackButtonLocked(peerID, cmid int, payload string) bool {
	s := f.byCMID[vkMsgKey{peer: peerID, cmid: cmid}]
	if s == nil {
		return false
	}
	for _, row := range s.msg.Buttons {
		for _, b := range row {
			if b.Type == "callback" && b.Payload == payload {
				return true
			}
		}
	}
	return false
}

func (f *VK) vkWait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(vkWaitTimeout)
	defer timeout.Stop()
	for {
		f.mu.Lock()
		ok := cond()
		changed := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("platformtest: timed out after %s waiting for %s", vkWaitTimeout, what)
			return
		}
	}
}

func (f *VK) vkNotifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func vkHash(kind string, n int) string {
	sum := sha1.Sum([]byte(kind + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:])
}

// vkIncoming publishes a message_new from u in peer; extra adds fields to
// the message object.
func (f *VK) vkIncoming(u VKUser, peer int, text string, extra map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vkIncomingLocked(u, peer, text, extra)
}

func (f *VK) vkIncomingLocked(u VKUser, peer int, text string, extra map[string]any) string {
	f.users[u.ID] = u
	messageID := 0
	if peer >= vkChatPeerBase {
		f.chats[peer] = true
	} else {
		f.allowed[u.ID] = true
		f.seq++
		messageID = f.seq
	}
	f.cmids[peer]++
	msg := map[string]any{
		"date": time.Now().Unix(), "from_id": u.ID, "id": messageID, "out": 0,
		"attachments": []any{}, "conversation_message_id": f.cmids[peer], "fwd_messages": []any{},
		"important": false, "is_hidden": false, "peer_id": peer, "random_id": 0, "text": text,
	}
	for k, v := range extra {
		msg[k] = v
	}
	f.inbox[vkMsgKey{peer: peer, cmid: f.cmids[peer]}] = msg
	obj := map[string]any{
		"message": msg,
		"client_info": map[string]any{
			"button_actions": []string{"text", "vkpay", "open_app", "location", "open_link", "callback",
				"intent_subscribe", "intent_unsubscribe"},
			"keyboard": true, "inline_keyboard": true, "carousel": true, "lang_id": u.LangID,
		},
	}
	return f.vkPublishLocked("message_new", obj)
}

func (f *VK) vkPublishLocked(typ string, obj any) string {
	raw, err := json.Marshal(obj)
	if err != nil {
		f.t.Errorf("platformtest: encode %s: %v", typ, err)
		return ""
	}
	f.seq++
	e := vkEvent{Type: typ, Object: raw, GroupID: VKGroupID, EventID: vkHash("event", f.seq), V: vkAPIVersion}
	f.events[e.EventID] = e
	f.vkRouteLocked(e)
	return e.EventID
}

func (f *VK) vkRouteLocked(e vkEvent) {
	switch {
	case f.cbURL != "":
		f.cbQueue = append(f.cbQueue, e)
		f.cbPending[e.EventID]++
	case f.lpStarted:
		f.lpLog = append(f.lpLog, e)
		if over := len(f.lpLog) - vkHistory; over > 0 {
			f.lpLog = append([]vkEvent(nil), f.lpLog[over:]...)
			f.lpFirst += over
		}
	}
	f.vkNotifyLocked()
}

// vkServeMethod answers POST (or GET) /method/<name> like api.vk.ru.
func (f *VK) vkServeMethod(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var (
		result any
		apiErr *vkError
	)
	if err := r.ParseForm(); err != nil {
		apiErr = &vkError{vkErrRequest, "Invalid request: " + err.Error()}
	} else {
		token := r.Form.Get("access_token")
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = bearer
		}
		result, apiErr = f.vkCall(name, token, r.Form)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	var body any
	if apiErr != nil {
		body = map[string]any{"error": map[string]any{
			"error_code": apiErr.code, "error_msg": apiErr.msg,
			"request_params": []map[string]string{{"key": "method", "value": name}, {"key": "v", "value": r.Form.Get("v")}},
		}}
	} else {
		body = map[string]any{"response": result}
	}
	if err := json.NewEncoder(w).Encode(body); err != nil {
		f.t.Errorf("platformtest: write %s response: %v", name, err)
	}
}

// vkCall runs method name under the lock, then tells the OnSent hooks about
// the messages it delivered.
func (f *VK) vkCall(name, token string, form url.Values) (any, *vkError) {
	f.mu.Lock()
	result, apiErr := f.vkCallLocked(name, token, form)
	sent, hooks := f.fresh, f.onSent
	f.fresh = nil
	f.vkNotifyLocked()
	f.mu.Unlock()
	for _, s := range sent {
		for _, h := range hooks {
			h(s.msg, s.at)
		}
	}
	return result, apiErr
}

func (f *VK) vkCallLocked(name, token string, form url.Values) (any, *vkError) {
	f.calls[name]++
	if token != VKToken {
		return nil, &vkError{vkErrAuth, "User authorization failed: invalid access_token (4)."}
	}
	if f.limit != nil {
		now := time.Now()
		if f.limit.wait(now) > 0 {
			f.tooMany++
			return nil, &vkError{vkErrTooMany, vkErrorText(vkErrTooMany)}
		}
		f.limit.add(now)
	}
	if form.Get("v") == "" {
		return nil, &vkError{vkErrRequest, "Invalid request: v (version) is required"}
	}
	if fault, ok := f.faults[name]; ok && fault.n > 0 {
		fault.n--
		f.faults[name] = fault
		return nil, &vkError{fault.code, fault.msg}
	}
	if fault := f.everyNth[name]; fault.hit() {
		return nil, &vkError{fault.code, vkErrorText(fault.code)}
	}
	switch name {
	case "groups.getById":
		return f.vkGroupsGetByID(form)
	case "groups.getLongPollServer":
		return f.vkGetLongPollServer(form)
	case "groups.setLongPollSettings":
		return f.vkSetLongPollSettings(form)
	case "messages.send":
		return f.vkMessagesSend(form)
	case "messages.edit":
		return f.vkMessagesEdit(form)
	case "messages.getByConversationMessageId":
		return f.vkGetByConversationMessageID(form)
	case "messages.sendMessageEventAnswer":
		return f.vkSendMessageEventAnswer(form)
	case "users.get":
		return f.vkUsersGet(form)
	case "photos.getMessagesUploadServer":
		return f.vkGetMessagesUploadServer(form)
	case "photos.saveMessagesPhoto":
		return f.vkSaveMessagesPhoto(form)
	case "docs.getMessagesUploadServer":
		return f.vkGetDocsUploadServer(form)
	case "docs.save":
		return f.vkDocsSave(form)
	default:
		return nil, &vkError{vkErrMethod, "Unknown method passed"}
	}
}

// vkErrorText is VK's message for an error code FailRandomly injects.
func vkErrorText(code int) string {
	switch code {
	case vkErrUnknown:
		return "Unknown error occurred"
	case vkErrTooMany:
		return "Too many requests per second"
	case vkErrFlood:
		return "Flood control"
	case vkErrInternal:
		return "Internal server error"
	default:
		return "Error " + strconv.Itoa(code)
	}
}

func vkParamError(what string) *vkError {
	return &vkError{vkErrParam, vkParamInvalid + what}
}

func (f *VK) vkGroupsGetByID(form url.Values) (any, *vkError) {
	ids := form.Get("group_ids")
	if ids == "" {
		ids = form.Get("group_id")
	}
	for _, id := range strings.Split(ids, ",") {
		if id != "" && id != strconv.Itoa(VKGroupID) && id != VKGroupScreenName {
			return nil, vkParamError("group_ids is undefined")
		}
	}
	group := map[string]any{
		"id": VKGroupID, "name": vkGroupName, "screen_name": VKGroupScreenName,
		"type": "group", "is_closed": 0, "is_admin": 1, "admin_level": 3, "is_member": 0,
	}
	return map[string]any{"groups": []any{group}, "profiles": []any{}}, nil
}

func (f *VK) vkCheckGroup(form url.Values) *vkError {
	if form.Get("group_id") != strconv.Itoa(VKGroupID) {
		return &vkError{vkErrAccess, "Access denied: no access to this group"}
	}
	return nil
}

func (f *VK) vkGetLongPollServer(form url.Values) (any, *vkError) {
	if err := f.vkCheckGroup(form); err != nil {
		return nil, err
	}
	f.seq++
	key := vkHash("key", f.seq)
	f.lpKeys[key] = true
	f.lpStarted = true
	return map[string]any{
		"key": key, "server": f.srv.URL + "/lp", "ts": strconv.Itoa(f.lpFirst + len(f.lpLog)),
	}, nil
}

func (f *VK) vkSetLongPollSettings(form url.Values) (any, *vkError) {
	if err := f.vkCheckGroup(form); err != nil {
		return nil, err
	}
	if f.lpEnabled == nil {
		f.lpEnabled = map[string]bool{}
	}
	for k := range form {
		switch k {
		case "group_id", "enabled", "api_version", "v", "access_token":
			continue
		}
		switch form.Get(k) {
		case "1", "true":
			f.lpEnabled[k] = true
		case "0", "false":
			f.lpEnabled[k] = false
		}
	}
	return 1, nil
}

// vkKeyboard is the keyboard JSON messages.send and messages.edit accept.
type vkKeyboard struct {
	OneTime bool `json:"one_time"`
	Inline  bool `json:"inline"`
	Buttons [][]struct {
		Action struct {
			Type    string `json:"type"`
			Label   string `json:"label"`
			Payload string `json:"payload"`
			Link    string `json:"link"`
		} `json:"action"`
		Color string `json:"color"`
	} `json:"buttons"`
}

func vkParseKeyboard(raw string) ([][]VKButton, *vkError) {
	if raw == "" {
		return nil, nil
	}
	invalid := func(why string) *vkError {
		return &vkError{vkErrKeyboard, "Keyboard format is invalid: " + why}
	}
	var kb vkKeyboard
	if err := json.Unmarshal([]byte(raw), &kb); err != nil {
		return nil, invalid(err.Error())
	}
	if kb.Buttons == nil {
		return nil, invalid("buttons are required")
	}
	maxRows, maxButtons := 10, 40
	if kb.Inline {
		maxRows, maxButtons = 6, 10
	}
	if len(kb.Buttons) > maxRows {
		return nil, invalid("too many rows")
	}
	total := 0
	rows := make([][]VKButton, 0, len(kb.Buttons))
	for _, row := range kb.Buttons {
		if len(row) == 0 || len(row) > 5 {
			return nil, invalid("a row must have 1 to 5 buttons")
		}
		total += len(row)
		out := make([]VKButton, 0, len(row))
		for _, b := range row {
			a := b.Action
			switch a.Type {
			case "text", "callback", "open_link":
				if n := utf8.RuneCountInString(a.Label); n == 0 || n > vkMaxLabel {
					return nil, invalid("label must have 1 to 40 characters")
				}
			case "location", "vkpay", "open_app":
			default:
				return nil, invalid("unknown button type " + strconv.Quote(a.Type))
			}
			if a.Type == "open_link" && !strings.HasPrefix(a.Link, "http://") && !strings.HasPrefix(a.Link, "https://") {
				return nil, invalid("open_link needs a link")
			}
			if a.Payload != "" && (utf8.RuneCountInString(a.Payload) > vkMaxPayload || !json.Valid([]byte(a.Payload))) {
				return nil, invalid("payload must be JSON of at most 1000 characters")
			}
			out = append(out, VKButton{Type: a.Type, Label: a.Label, Payload: a.Payload, Link: a.Link})
		}
		rows = append(rows, out)
	}
	if total > maxButtons {
		return nil, invalid("too many buttons")
	}
	return rows, nil
}

// vkMediaRef matches an attachment string: type, owner, id, access key.
var vkMediaRef = regexp.MustCompile(`^([a-z_]+)(-?\d+)_(\d+)(?:_([0-9A-Za-z]+))?$`)

// vkParseAttachmentsLocked checks the attachment parameter: only photos and
// documents the fake handed out, each with its access key.
func (f *VK) vkParseAttachmentsLocked(raw string) ([]string, *vkError) {
	if raw == "" {
		return nil, nil
	}
	refs := strings.Split(raw, ",")
	if len(refs) > vkMaxAttachments {
		return nil, vkParamError("too many attachments")
	}
	for _, ref := range refs {
		m := vkMediaRef.FindStringSubmatch(ref)
		if m == nil || (m[1] != "photo" && m[1] != "doc") {
			return nil, vkParamError("attachment " + strconv.Quote(ref) + " is invalid")
		}
		key, ok := f.media[m[1]+m[2]+"_"+m[3]]
		if !ok || key != m[4] {
			return nil, vkParamError("attachment " + strconv.Quote(ref) + " is not found")
		}
	}
	return refs, nil
}

// vkNewMediaLocked registers a new photo or doc of owner and returns its id
// and access key.
func (f *VK) vkNewMediaLocked(kind string, owner int) (id int, key string) {
	f.seq++
	id, key = 457239000+f.seq, vkHash("access", f.seq)[:18]
	f.media[fmt.Sprintf("%s%d_%d", kind, owner, id)] = key
	return id, key
}

// vkDocType is VK's document type by extension: 1 text, 2 archive, 3 gif,
// 4 image, 5 audio, 6 video, 7 e-book, 8 other.
func vkDocType(ext string) int {
	switch strings.ToLower(ext) {
	case "pdf", "doc", "docx", "txt", "odt", "rtf", "xls", "xlsx":
		return 1
	case "zip", "rar", "7z":
		return 2
	case "gif":
		return 3
	case "jpg", "jpeg", "png", "webp":
		return 4
	case "mp3", "ogg", "wav":
		return 5
	case "mp4", "avi", "mov":
		return 6
	case "epub", "fb2", "djvu":
		return 7
	default:
		return 8
	}
}

func vkCheckText(text string, hasAttachment bool) *vkError {
	if utf8.RuneCountInString(text) > vkMaxText {
		return &vkError{vkErrTooLong, "Message is too long"}
	}
	if text == "" && !hasAttachment {
		return vkParamError("message is empty or invalid")
	}
	return nil
}

func vkParseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", part, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// vkCanSendLocked says whether the community may write to peer now.
func (f *VK) vkCanSendLocked(peer int) *vkError {
	switch {
	case peer >= vkChatPeerBase:
		if !f.chats[peer] {
			return &vkError{vkErrNoAccess, "You don't have access to this chat"}
		}
	case peer > 0:
		if !f.allowed[peer] {
			return &vkError{vkErrDenySend, "Can't send messages for users without permission"}
		}
	default:
		return vkParamError("peer_id is invalid")
	}
	return nil
}

func (f *VK) vkMessagesSend(form url.Values) (any, *vkError) {
	multi := form.Get("peer_ids") != ""
	rawPeers := form.Get("peer_ids")
	if !multi {
		rawPeers = form.Get("peer_id")
		if rawPeers == "" {
			rawPeers = form.Get("user_id")
		}
	}
	if rawPeers == "" {
		return nil, vkParamError("peer_id is undefined")
	}
	peers, err := vkParseInts(rawPeers)
	if err != nil {
		return nil, vkParamError("peer_ids is invalid")
	}
	if len(peers) > vkMaxPeers {
		return nil, vkParamError("too many peer_ids")
	}
	if form.Get("random_id") == "" {
		return nil, vkParamError("random_id is required")
	}
	randomID, err := strconv.Atoi(form.Get("random_id"))
	if err != nil {
		return nil, vkParamError("random_id is invalid")
	}
	text := form.Get("message")
	if apiErr := vkCheckText(text, form.Get("attachment") != ""); apiErr != nil {
		return nil, apiErr
	}
	atts, apiErr := f.vkParseAttachmentsLocked(form.Get("attachment"))
	if apiErr != nil {
		return nil, apiErr
	}
	buttons, apiErr := vkParseKeyboard(form.Get("keyboard"))
	if apiErr != nil {
		return nil, apiErr
	}
	if !multi {
		s, apiErr := f.vkStoreLocked(peers[0], randomID, text, buttons, atts)
		if apiErr != nil {
			return nil, apiErr
		}
		return s.messageID, nil
	}
	out := make([]map[string]any, 0, len(peers))
	for _, peer := range peers {
		s, apiErr := f.vkStoreLocked(peer, randomID, text, buttons, atts)
		if apiErr != nil {
			out = append(out, map[string]any{"peer_id": peer, "error": map[string]any{"code": apiErr.code, "description": apiErr.msg}})
			continue
		}
		out = append(out, map[string]any{"peer_id": peer, "message_id": s.messageID, "conversation_message_id": s.msg.ConversationMessageID})
	}
	return out, nil
}

// vkStoreLocked records a message to peer, or returns the one already sent
// to peer with the same non-zero random_id: that message was delivered, so
// its ids come back even if the peer can no longer be written to.
func (f *VK) vkStoreLocked(peer, randomID int, text string, buttons [][]VKButton, atts []string) (*vkStored, *vkError) {
	key := vkRandKey{peer: peer, random: randomID}
	if s, ok := f.byRand[key]; ok && randomID != 0 {
		return s, nil
	}
	if apiErr := f.vkCanSendLocked(peer); apiErr != nil {
		return nil, apiErr
	}
	now := time.Now()
	f.cmids[peer]++
	f.seq++
	s := &vkStored{
		msg: VKMessage{ConversationMessageID: f.cmids[peer], PeerID: peer, Text: text, RandomID: randomID,
			Buttons: buttons, Attachments: atts, Upload: f.vkUploadOfLocked(atts)},
		messageID: f.seq,
		date:      now.Unix(),
	}
	if len(f.onSent) > 0 {
		f.fresh = append(f.fresh, vkSent{msg: s.msg.clone(), at: now})
	}
	if peer >= vkChatPeerBase {
		s.messageID = 0
	}
	f.sent[peer] = append(f.sent[peer], s)
	f.byCMID[vkMsgKey{peer: peer, cmid: s.msg.ConversationMessageID}] = s
	if randomID != 0 {
		f.byRand[key] = s
	}
	return s, nil
}

func (f *VK) vkMessagesEdit(form url.Values) (any, *vkError) {
	peer, err := strconv.Atoi(form.Get("peer_id"))
	if err != nil {
		return nil, vkParamError("peer_id is undefined")
	}
	cmid, _ := strconv.Atoi(form.Get("conversation_message_id"))
	messageID, _ := strconv.Atoi(form.Get("message_id"))
	if cmid == 0 && messageID == 0 {
		return nil, vkParamError("message_id or conversation_message_id is required")
	}
	target := f.byCMID[vkMsgKey{peer: peer, cmid: cmid}]
	if target == nil && messageID != 0 {
		for _, s := range f.sent[peer] {
			if s.messageID == messageID {
				target = s
			}
		}
	}
	if target == nil {
		return nil, vkParamError("message not found")
	}
	text := form.Get("message")
	if apiErr := vkCheckText(text, form.Get("attachment") != ""); apiErr != nil {
		return nil, apiErr
	}
	atts, apiErr := f.vkParseAttachmentsLocked(form.Get("attachment"))
	if apiErr != nil {
		return nil, apiErr
	}
	buttons, apiErr := vkParseKeyboard(form.Get("keyboard"))
	if apiErr != nil {
		return nil, apiErr
	}
	// The edit replaces the message whole, attachments included.
	target.msg.Text, target.msg.Buttons, target.msg.Attachments = text, buttons, atts
	target.msg.Upload = f.vkUploadOfLocked(atts)
	return 1, nil
}

// vkGetByConversationMessageID returns the bot's messages in a peer by
// their conversation ids, with their text and attachments as VK describes
// them; ids it does not know are left out, as VK does.
func (f *VK) vkGetByConversationMessageID(form url.Values) (any, *vkError) {
	peer, err := strconv.Atoi(form.Get("peer_id"))
	if err != nil {
		return nil, vkParamError("peer_id is undefined")
	}
	cmids, err := vkParseInts(form.Get("conversation_message_ids"))
	if err != nil || len(cmids) == 0 {
		return nil, vkParamError("conversation_message_ids is invalid")
	}
	items := []map[string]any{}
	for _, cmid := range cmids {
		target := f.byCMID[vkMsgKey{peer: peer, cmid: cmid}]
		if target == nil {
			continue
		}
		atts := []map[string]any{}
		for _, ref := range target.msg.Attachments {
			m := vkMediaRef.FindStringSubmatch(ref)
			if m == nil {
				continue
			}
			owner, _ := strconv.Atoi(m[2])
			id, _ := strconv.Atoi(m[3])
			atts = append(atts, map[string]any{"type": m[1], m[1]: map[string]any{"id": id, "owner_id": owner, "access_key": m[4]}})
		}
		items = append(items, map[string]any{"id": target.messageID, "peer_id": peer, "from_id": -VKGroupID,
			"conversation_message_id": cmid, "text": target.msg.Text, "attachments": atts})
	}
	return map[string]any{"count": len(items), "items": items}, nil
}

func (f *VK) vkSendMessageEventAnswer(form url.Values) (any, *vkError) {
	press, ok := f.presses[form.Get("event_id")]
	if !ok {
		return nil, vkParamError("event_id is invalid")
	}
	if form.Get("user_id") != strconv.Itoa(press.userID) || form.Get("peer_id") != strconv.Itoa(press.peerID) {
		return nil, vkParamError("user_id or peer_id does not match the event")
	}
	answer := vkAnswer{eventID: press.eventID}
	if raw := form.Get("event_data"); raw != "" {
		var data struct {
			Type string `json:"type"`
			Text string `json:"text"`
			Link string `json:"link"`
		}
		if err := json.Unmarshal([]byte(raw), &data); err != nil {
			return nil, vkParamError("event_data is invalid")
		}
		switch data.Type {
		case "show_snackbar":
			if n := utf8.RuneCountInString(data.Text); n == 0 || n > vkMaxSnackbar {
				return nil, vkParamError("event_data.text must have 1 to 90 characters")
			}
			answer.text = data.Text
		case "open_link", "open_app":
		default:
			return nil, vkParamError("event_data.type is invalid")
		}
	}
	f.answers = append(f.answers, answer)
	return 1, nil
}

func (f *VK) vkUsersGet(form url.Values) (any, *vkError) {
	raw := form.Get("user_ids")
	if raw == "" {
		raw = form.Get("user_id")
	}
	ids, err := vkParseInts(raw)
	if err != nil {
		return nil, vkParamError("user_ids is invalid")
	}
	out := []map[string]any{}
	for _, id := range ids {
		if u, ok := f.users[id]; ok {
			out = append(out, map[string]any{
				"id": u.ID, "first_name": u.FirstName, "last_name": u.LastName,
				"can_access_closed": true, "is_closed": false,
			})
		}
	}
	return out, nil
}

// vkServeLongPoll answers GET /lp?act=a_check&key=K&ts=T&wait=W like the
// Bots Long Poll server.
func (f *VK) vkServeLongPoll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("act") != "a_check" {
		http.Error(w, "unknown act", http.StatusBadRequest)
		return
	}
	wait, _ := strconv.Atoi(q.Get("wait"))
	timeout := time.NewTimer(min(time.Duration(max(wait, 0))*time.Second, vkMaxWait))
	defer timeout.Stop()
	for {
		body, changed, broken := f.vkCheck(q.Get("key"), q.Get("ts"))
		if broken != 0 {
			f.vkWriteBroken(w, broken)
			return
		}
		if body != nil {
			f.vkWriteJSON(w, body)
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			f.vkWriteJSON(w, map[string]any{"ts": q.Get("ts"), "updates": []any{}})
			return
		case <-r.Context().Done():
			return
		case <-f.ctx.Done():
			return
		}
	}
}

// vkCheck returns the answer to a check, or nil and a channel to wait on when
// there is nothing new; broken is non-zero for an injected failure.
func (f *VK) vkCheck(key, rawTs string) (body any, changed <-chan struct{}, broken int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lpFailures > 0 {
		f.lpFailures--
		f.lpFailed++
		return nil, nil, f.lpFailed
	}
	next := f.lpFirst + len(f.lpLog)
	if !f.lpKeys[key] {
		return map[string]any{"failed": 2}, nil, 0
	}
	ts, err := strconv.Atoi(rawTs)
	if err != nil || ts < f.lpFirst || ts > next {
		return map[string]any{"failed": 1, "ts": next}, nil, 0
	}
	var updates []vkEvent
	for _, e := range f.lpLog[ts-f.lpFirst:] {
		if f.lpEnabled == nil || f.lpEnabled[e.Type] {
			updates = append(updates, e)
		}
	}
	if ts == next {
		return nil, f.changed, 0
	}
	if updates == nil {
		updates = []vkEvent{}
	}
	return map[string]any{"ts": strconv.Itoa(next), "updates": updates}, nil, 0
}

func (f *VK) vkWriteJSON(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(body); err != nil {
		f.t.Errorf("platformtest: write long poll response: %v", err)
	}
}

func (f *VK) vkWriteBroken(w http.ResponseWriter, n int) {
	if n%2 == 1 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "<html><body><h1>500 Internal Server Error</h1></body></html>")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ts":`)
}

// vkDeliverLoop posts queued events to the callback URL one at a time, in
// order, retrying each like VK does.
func (f *VK) vkDeliverLoop() {
	defer f.wg.Done()
	for {
		f.mu.Lock()
		if len(f.cbQueue) == 0 {
			changed := f.changed
			f.mu.Unlock()
			select {
			case <-changed:
				continue
			case <-f.ctx.Done():
				return
			}
		}
		e := f.cbQueue[0]
		f.cbQueue = f.cbQueue[1:]
		e.Secret = f.cbSecret
		target := f.cbURL
		f.mu.Unlock()
		body, err := json.Marshal(e)
		if err != nil {
			f.t.Errorf("platformtest: encode event: %v", err)
			return
		}
		f.vkDeliver(target, e.EventID, body)
	}
}

func (f *VK) vkDeliver(target, eventID string, body []byte) {
	delay := vkCallbackBackoff
	for try := range vkCallbackTries {
		if try > 0 {
			select {
			case <-time.After(delay):
			case <-f.ctx.Done():
				return
			}
			delay *= 2
		}
		status, text := f.vkPost(target, body, try)
		ok := status == http.StatusOK && text == "ok"
		f.mu.Lock()
		f.cbDeliveries = append(f.cbDeliveries, VKDelivery{EventID: eventID, Retry: try, Status: status, Body: text})
		if ok || try == vkCallbackTries-1 {
			f.cbPending[eventID]--
		}
		f.vkNotifyLocked()
		f.mu.Unlock()
		if ok {
			return
		}
	}
}

// vkPost sends one callback request; status 0 means a transport error,
// described by the returned text.
func (f *VK) vkPost(target string, body []byte, retry int) (status int, text string) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if retry > 0 {
		req.Header.Set("X-Retry-Counter", strconv.Itoa(retry))
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(raw)
}

// vkUpload is a file the upload server took, as photos.saveMessagesPhoto
// will find it by its hash, or docs.save by its file token.
type vkUpload struct {
	server int
	photo  string // the upload's "photo" field, "[]" when no photo was taken
	data   []byte
	name   string // a document's file name
	img    image.Config
	saved  map[string]any // the photo or document once saved; saving again returns it
}

// vkGetMessagesUploadServer hands out an upload URL for a message photo on
// the fake itself; peer_id is optional, as on VK.
func (f *VK) vkGetMessagesUploadServer(form url.Values) (any, *vkError) {
	if raw := form.Get("peer_id"); raw != "" {
		if _, err := strconv.Atoi(raw); err != nil {
			return nil, vkParamError("peer_id is invalid")
		}
	}
	return map[string]any{
		"album_id":   vkMessagesAlbum,
		"upload_url": f.vkUploadURLLocked("photo"),
		"user_id":    0,
		"group_id":   VKGroupID,
	}, nil
}

// vkGetDocsUploadServer hands out an upload URL for a message document:
// a community must name the peer it is for, as on VK.
func (f *VK) vkGetDocsUploadServer(form url.Values) (any, *vkError) {
	raw := form.Get("peer_id")
	if raw == "" {
		return nil, vkParamError("peer_id is undefined")
	}
	if _, err := strconv.Atoi(raw); err != nil {
		return nil, vkParamError("peer_id is invalid")
	}
	switch form.Get("type") {
	case "", "doc":
	default:
		return nil, vkParamError("type is invalid")
	}
	return map[string]any{"upload_url": f.vkUploadURLLocked("doc")}, nil
}

// vkUploadURLLocked registers a new upload URL for kind.
func (f *VK) vkUploadURLLocked(kind string) string {
	f.seq++
	key := vkHash("upload-url", f.seq)[:24]
	f.upURLs[key] = kind
	return fmt.Sprintf("%s/upload?act=do_add&gid=%d&key=%s", f.srv.URL, VKGroupID, key)
}

// vkServeUpload is the upload server. A photo URL takes a multipart POST
// with the file in the field "photo" and answers with server, photo and
// hash for photos.saveMessagesPhoto; like VK's, it answers "photo":"[]"
// for a missing field or a file that is no photo VK takes, which saving
// then refuses. A document URL takes the field "file" and answers with the
// file token for docs.save.
func (f *VK) vkServeUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f.mu.Lock()
	kind := f.upURLs[r.URL.Query().Get("key")]
	f.mu.Unlock()
	if kind == "" {
		f.vkWriteJSON(w, map[string]any{"error": "ERR_UPLOAD_BAD_SIGNATURE: bad signature"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, vkMaxUpload+1<<20)
	if kind == "doc" {
		f.vkServeDocUpload(w, r)
		return
	}
	data, _, err := vkFormFile(r, "photo")
	if err != nil {
		f.vkWriteJSON(w, map[string]any{"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: " + err.Error()})
		return
	}
	up := &vkUpload{photo: "[]", data: data}
	if img, ok := vkCheckPhoto(data); ok {
		up.img = img
		f.mu.Lock()
		f.seq++
		n := f.seq
		f.mu.Unlock()
		inner, err := json.Marshal([]map[string]any{{"photo": vkHash("photo", n)[:32] + ":w", "sizes": []any{}, "kid": vkHash("kid", n)[:32]}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		up.photo = string(inner)
	}
	f.mu.Lock()
	f.seq++
	up.server = 850000 + f.seq
	hash := vkHash("upload", f.seq)
	f.upDone[hash] = up
	if data != nil {
		f.uploads++
	}
	f.vkNotifyLocked()
	f.mu.Unlock()
	f.vkWriteJSON(w, map[string]any{"server": up.server, "photo": up.photo, "hash": hash})
}

// vkServeDocUpload takes a document in the field "file" and answers with
// the token docs.save takes; an empty or missing file is an error, as on VK.
func (f *VK) vkServeDocUpload(w http.ResponseWriter, r *http.Request) {
	data, name, err := vkFormFile(r, "file")
	switch {
	case err != nil:
		f.vkWriteJSON(w, map[string]any{"error": "ERR_UPLOAD_FILE_NOT_UPLOADED: " + err.Error()})
		return
	case len(data) == 0:
		f.vkWriteJSON(w, map[string]any{"error": "no_file", "error_descr": "no file was uploaded"})
		return
	}
	f.mu.Lock()
	f.seq++
	token := fmt.Sprintf("%d|0|0|%d|%s", f.seq, VKGroupID, vkHash("doc-file", f.seq))
	f.upFiles[token] = &vkUpload{data: data, name: name}
	f.uploads++
	f.vkNotifyLocked()
	f.mu.Unlock()
	f.vkWriteJSON(w, map[string]any{"file": token})
}

// vkDocsSave saves an uploaded document of the community, which
// messages.send may then attach with its access key.
func (f *VK) vkDocsSave(form url.Values) (any, *vkError) {
	up := f.upFiles[form.Get("file")]
	if up == nil {
		return nil, vkParamError("file is invalid")
	}
	if up.saved == nil {
		owner := -VKGroupID
		id, key := f.vkNewMediaLocked("doc", owner)
		f.upBytes[fmt.Sprintf("doc%d_%d", owner, id)] = up.data
		title := form.Get("title")
		if title == "" {
			title = up.name
		}
		ext := strings.TrimPrefix(path.Ext(up.name), ".")
		up.saved = map[string]any{
			"id": id, "owner_id": owner, "title": title, "size": len(up.data), "ext": ext, "date": time.Now().Unix(),
			"type": vkDocType(ext), "access_key": key,
			"url": fmt.Sprintf("https://vk.com/doc%d_%d?hash=%s", owner, id, vkHash("doc-url", id)[:18]),
		}
	}
	return map[string]any{"type": "doc", "doc": up.saved}, nil
}

// Uploads counts the files the upload server took, photos and documents:
// every upload is the whole file over the wire.
func (f *VK) Uploads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads
}

// vkFormFile reads the file in field of a multipart body and its name; a
// missing field is no error, the upload server then has no file.
func vkFormFile(r *http.Request, field string) ([]byte, string, error) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return nil, "", fmt.Errorf("parse multipart body: %w", err)
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	headers := r.MultipartForm.File[field]
	if len(headers) == 0 {
		return nil, "", nil
	}
	file, err := headers[0].Open()
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", field, err)
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", field, err)
	}
	return data, headers[0].Filename, nil
}

// vkCheckPhoto reports whether data is a photo VK takes: GIF, JPEG or PNG
// of at most 50 MB, width and height together at most 14,000 pixels, the
// longer side at most 20 times the shorter.
func vkCheckPhoto(data []byte) (image.Config, bool) {
	if len(data) == 0 || len(data) > vkMaxUpload {
		return image.Config{}, false
	}
	img, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || img.Width <= 0 || img.Height <= 0 {
		return image.Config{}, false
	}
	long, short := max(img.Width, img.Height), min(img.Width, img.Height)
	return img, img.Width+img.Height <= vkMaxPhotoSides && long <= short*vkMaxPhotoRatio
}

// vkSaveMessagesPhoto saves an upload as a photo of the community, which
// messages.send may then attach with its access key.
func (f *VK) vkSaveMessagesPhoto(form url.Values) (any, *vkError) {
	up := f.upDone[form.Get("hash")]
	switch {
	case up == nil:
		return nil, &vkError{vkErrHash, "Invalid hash"}
	case form.Get("server") != strconv.Itoa(up.server):
		return nil, &vkError{vkErrServer, "Invalid server"}
	case form.Get("photo") != up.photo || up.photo == "[]":
		return nil, vkParamError("photos_list is invalid")
	}
	if up.saved != nil {
		return []any{up.saved}, nil
	}
	owner := -VKGroupID
	id, key := f.vkNewMediaLocked("photo", owner)
	f.upBytes[fmt.Sprintf("photo%d_%d", owner, id)] = up.data
	up.saved = map[string]any{
		"album_id": vkMessagesAlbum, "date": time.Now().Unix(), "id": id, "owner_id": owner,
		"access_key": key, "sizes": vkPhotoSizes(up.img, id), "text": "", "has_tags": false,
	}
	return []any{up.saved}, nil
}

// vkPhotoSizes lists the copies VK makes of a photo, each only when the
// photo is larger, the last the photo's own size.
func vkPhotoSizes(img image.Config, id int) []map[string]any {
	var out []map[string]any
	w, h := img.Width, img.Height
	long := max(w, h)
	for _, s := range []struct {
		typ  string
		side int
	}{{"s", 75}, {"m", 130}, {"x", 604}, {"y", 807}, {"z", 1080}, {"w", 2560}} {
		sw, sh := w, h
		if long > s.side {
			sw, sh = max(w*s.side/long, 1), max(h*s.side/long, 1)
		}
		out = append(out, map[string]any{
			"type": s.typ, "width": sw, "height": sh,
			"url": fmt.Sprintf("https://sun9-1.userapi.com/impg/%d.png?size=%dx%d&type=%s", id, sw, sh, s.typ),
		})
		if long <= s.side {
			break
		}
	}
	return out
}

// vkUploadOfLocked returns the bytes of the first of atts the bot uploaded.
func (f *VK) vkUploadOfLocked(atts []string) []byte {
	for _, ref := range atts {
		if m := vkMediaRef.FindStringSubmatch(ref); m != nil {
			if data, ok := f.upBytes[m[1]+m[2]+"_"+m[3]]; ok {
				return data
			}
		}
	}
	return nil
}

// FileURL returns the link to the photo (its largest size) or document of
// the person's message eventID, as its event carries it, or "".
func (f *VK) FileURL(eventID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.evFile[eventID]
}

// FileData returns the bytes VK serves for the photo (its largest size)
// or document of the person's message eventID, or nil.
func (f *VK) FileData(eventID string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	link, err := url.Parse(f.evFile[eventID])
	if err != nil {
		return nil
	}
	return f.files[link.Path]
}

// ExpireFiles makes every file link handed out so far stop working, as
// VK's do after a while.
func (f *VK) ExpireFiles() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.files)
}

// vkServeFile serves the photos and documents of people's messages at the
// links their events carry; an unknown or expired link is not found.
func (f *VK) vkServeFile(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls["file"]++
	data, ok := f.files[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
