package vk

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/SevereCloud/vksdk/v3/api"
	"github.com/SevereCloud/vksdk/v3/events"
	longpoll "github.com/SevereCloud/vksdk/v3/longpoll-bot"
	"github.com/SevereCloud/vksdk/v3/object"

	"github.com/unionhub/unionhub/bot"
)

const (
	longPollWait = 25 // seconds a check is held open
	minBackoff   = 200 * time.Millisecond
	maxBackoff   = 30 * time.Second
	// positionTTL is how long a saved position outlives the hub: VK keeps
	// a few hours of events, and answers an older position with the
	// current one (failed 1), so a longer stop loses only what VK dropped.
	positionTTL     = 7 * 24 * time.Hour
	maxCallbackBody = 1 << 20
	// callbackBudget bounds the bytes of callback bodies held at once
	// before their secret, which is inside, is checked.
	callbackBudget = 8 * maxCallbackBody
	langEnglish    = 3 // client_info.lang_id
)

// mention matches the "[club1001|@name], " VK puts before text addressed to
// a community in a group chat.
var mention = regexp.MustCompile(`^\[club(\d+)\|[^\]]*\][\s,:]*`)

// Run takes updates from the Bots Long Poll API and delivers them to sink
// until ctx ends; in callback mode updates come through CallbackHandler and
// Run only waits. vksdk's poller gives up on transport and JSON errors, so it
// is restarted with backoff, keeping its position so nothing is skipped.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if a.confirmation != "" {
		<-ctx.Done()
		return nil
	}
	lp := &longpoll.LongPoll{
		VK: a.api, GroupID: a.groupID, Wait: longPollWait, Client: a.client, FuncList: events.NewFuncList(),
	}
	// Raw events rather than vksdk's typed handlers: the event id comes along,
	// and one undecodable event does not stop the poller mid-batch.
	handle := func(ctx context.Context, e events.GroupEvent) { a.deliverPolled(ctx, sink, e) }
	lp.OnEvent(events.EventMessageNew, handle)
	lp.OnEvent(events.EventMessageEvent, handle)
	var healthy atomic.Bool
	saved := ""
	// After the batch's events are handed over, the position moves past
	// them; a restart resumes from there.
	lp.FullResponse(func(longpoll.Response) {
		healthy.Store(true)
		if lp.Ts != saved && a.savePosition(ctx, lp.Ts) {
			saved = lp.Ts
		}
	})

	backoff := minBackoff
	for {
		err := a.poll(ctx, lp)
		if ctx.Err() != nil {
			return nil
		}
		if healthy.Swap(false) {
			backoff = minBackoff
		}
		a.logger.WarnContext(ctx, "vk long poll failed, restarting",
			"group_id", a.groupID, "err", redact(err, lp.Key), "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// poll fetches the long poll server on the first run and then checks for
// events until an error.
func (a *Adapter) poll(ctx context.Context, lp *longpoll.LongPoll) error {
	if lp.Key == "" {
		s, err := a.api.GroupsGetLongPollServer(api.Params{"group_id": a.groupID}.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("get long poll server: %w", err)
		}
		lp.Server, lp.Key, lp.Ts = s.Server, s.Key, s.Ts
		if ts, ok := a.loadPosition(ctx); ok {
			lp.Ts = ts
		}
	}
	if err := lp.RunWithContext(ctx); err != nil {
		return fmt.Errorf("long poll: %w", err)
	}
	return nil
}

// positionKey names the saved long poll position of the community.
func (a *Adapter) positionKey() string { return "vk:longpoll:" + strconv.Itoa(a.groupID) }

// loadPosition reads where the last run stopped; a failure to read only
// costs the events sent while the hub was down, so it is logged, not fatal.
func (a *Adapter) loadPosition(ctx context.Context) (string, bool) {
	if a.positions == nil {
		return "", false
	}
	ts, ok, err := a.positions.Load(ctx, a.positionKey())
	if err != nil {
		a.logger.WarnContext(ctx, "vk long poll position not read, starting from now", "err", err)
		return "", false
	}
	return string(ts), ok && len(ts) > 0
}

func (a *Adapter) savePosition(ctx context.Context, ts string) bool {
	if a.positions == nil || ts == "" {
		return false
	}
	if err := a.positions.Save(ctx, a.positionKey(), []byte(ts), positionTTL); err != nil {
		a.logger.WarnContext(ctx, "vk long poll position not saved", "err", err)
		return false
	}
	return true
}

// redact hides the long poll key, which transport errors quote in the URL.
func redact(err error, key string) string {
	if key == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), key, "[key]")
}

func (a *Adapter) deliverPolled(ctx context.Context, sink bot.Sink, e events.GroupEvent) {
	if e.GroupID != a.groupID {
		a.logger.WarnContext(ctx, "vk event for another community", "group_id", e.GroupID)
		return
	}
	u, ok, err := a.translate(e)
	if err != nil {
		a.logger.ErrorContext(ctx, "vk event skipped", "event_id", e.EventID, "type", e.Type, "err", err)
		return
	}
	if ok {
		// A long poll cannot ask for a redelivery, so the outcome is not awaited;
		// the update is already taken, so stopping the poll must not drop it.
		sink.Deliver(context.WithoutCancel(ctx), u)
	}
}

// CallbackHandler serves the Callback API: it answers the confirmation and
// acknowledges an event with "ok" only once sink has handled it, so that VK
// redelivers events whose handling failed.
//
// The secret is inside the body, so anyone may make the handler read one:
// a body is read only up to maxCallbackBody (413 beyond), only while the
// bodies not yet checked stay within callbackBudget (503 beyond, which VK
// retries), and must be exactly one JSON value (400 otherwise). The secret
// is checked before the event is decoded, and requests refused before it
// are only counted (see bot.Refusals).
func (a *Adapter) CallbackHandler(sink bot.Sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.confirmation == "" {
			http.Error(w, "callback mode is off", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, status, reason := a.checkCallback(w, r)
		if status != http.StatusOK {
			a.refusals.Refuse(r.Context(), reason)
			http.Error(w, http.StatusText(status), status)
			return
		}
		var e events.GroupEvent
		if err := json.Unmarshal(body, &e); err != nil {
			a.logger.WarnContext(r.Context(), "vk callback: undecodable event", "err", err)
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		if e.Type == events.EventConfirmation {
			writeText(w, a.confirmation)
			return
		}
		u, ok, err := a.translate(e)
		if err != nil {
			// A retry would bring the same bytes: acknowledge and drop.
			a.logger.ErrorContext(r.Context(), "vk event skipped", "event_id", e.EventID, "type", e.Type, "err", err)
		}
		if ok {
			if err := <-sink.Deliver(r.Context(), u); err != nil {
				a.logger.WarnContext(r.Context(), "vk event not handled, VK will retry",
					"event_id", e.EventID, "retry", r.Header.Get("X-Retry-Counter"), "err", err)
				http.Error(w, "not handled", http.StatusInternalServerError)
				return
			}
		}
		writeText(w, "ok")
	})
}

// checkCallback reads a callback body and checks its community and secret;
// a refusal comes with its HTTP status and bot.Refused* reason.
func (a *Adapter) checkCallback(w http.ResponseWriter, r *http.Request) (body []byte, status int, reason string) {
	if r.ContentLength > maxCallbackBody {
		return nil, http.StatusRequestEntityTooLarge, bot.RefusedTooLarge
	}
	hold := int64(maxCallbackBody) // a body of unknown length may grow to the limit
	if r.ContentLength >= 0 {
		hold = r.ContentLength
	}
	if !a.unchecked.take(hold) {
		return nil, http.StatusServiceUnavailable, bot.RefusedBusy
	}
	defer a.unchecked.give(hold)
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxCallbackBody), r.ContentLength)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, bot.RefusedTooLarge
	case err != nil:
		return nil, http.StatusBadRequest, bot.RefusedMalformed
	}
	// Only the two fields the check needs: the rest of an unchecked body,
	// however large, is scanned and not copied. Trailing bytes fail here.
	var auth struct {
		GroupID int    `json:"group_id"`
		Secret  string `json:"secret"`
	}
	if err := json.Unmarshal(body, &auth); err != nil {
		return nil, http.StatusBadRequest, bot.RefusedMalformed
	}
	if auth.GroupID != a.groupID || subtle.ConstantTimeCompare([]byte(auth.Secret), []byte(a.secret)) != 1 {
		return nil, http.StatusForbidden, bot.RefusedSecret
	}
	return body, http.StatusOK, ""
}

// readBody reads a body of the declared length, or of unknown length (-1).
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(r)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// budget is a number of bytes requests take from and give back.
type budget struct {
	mu   sync.Mutex
	left int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left += n
}

func writeText(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s)
}

// translate turns a VK event into an update; ok is false for events the core
// does not take.
func (a *Adapter) translate(e events.GroupEvent) (u bot.Update, ok bool, err error) {
	switch e.Type {
	case events.EventMessageNew:
		var obj messageNew
		if err := json.Unmarshal(e.Object, &obj); err != nil {
			return bot.Update{}, false, fmt.Errorf("decode message_new: %w", err)
		}
		u, ok = a.fromMessage(e.EventID, obj)
		return u, ok, nil
	case events.EventMessageEvent:
		var obj events.MessageEventObject
		if err := json.Unmarshal(e.Object, &obj); err != nil {
			return bot.Update{}, false, fmt.Errorf("decode message_event: %w", err)
		}
		u, err = a.fromPress(e.EventID, obj)
		return u, err == nil, err
	default:
		return bot.Update{}, false, nil
	}
}

// messageNew is vksdk's message_new object with the attachments, the reply
// and the forwarded messages read by types of our own: only what the core
// takes is decoded, so that no attachment vksdk's types do not foresee can
// make the whole message undecodable.
type messageNew struct {
	Message    newMessage        `json:"message"`
	ClientInfo object.ClientInfo `json:"client_info"`
}

type newMessage struct {
	object.MessagesMessage
	Attachments  []attachment `json:"attachments"`
	ReplyMessage *struct {
		ConversationMessageID int `json:"conversation_message_id"`
	} `json:"reply_message"`
	FwdMessages json.RawMessage `json:"fwd_messages"`
}

type attachment struct {
	Type  string    `json:"type"`
	Photo *mediaRef `json:"photo"`
	Doc   *mediaRef `json:"doc"`
}

// mediaRef is what identifies a photo or document for sending it again,
// and where VK serves it now.
type mediaRef struct {
	ID        int         `json:"id"`
	OwnerID   int         `json:"owner_id"`
	AccessKey string      `json:"access_key"`
	Title     string      `json:"title"`
	URL       string      `json:"url"`   // a document's
	Sizes     []photoSize `json:"sizes"` // a photo's
}

type photoSize struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// link is where VK serves the file: a photo's largest size, a document's
// url; "" when the event gave none.
func (r mediaRef) link() string {
	best := photoSize{URL: r.URL}
	for _, s := range r.Sizes {
		if best.URL == "" || s.Width*s.Height >= best.Width*best.Height {
			best = s
		}
	}
	return best.URL
}

// fileID is an attachment's FileID: the string messages.send takes and,
// after a space, the link to download the file from, which a community
// token cannot look up later (photos.getById and docs.getById take a
// user's token).
func fileID(ref, link string) string {
	if link == "" {
		return ref
	}
	return ref + " " + link
}

// splitFileID reads fileID's parts back.
func splitFileID(id string) (ref, link string) {
	ref, link, _ = strings.Cut(id, " ")
	return ref, link
}

// ref is the attachment string messages.send takes: type, owner, id and, for
// another's private media, the access key.
func (r mediaRef) ref(kind string) string {
	s := kind + strconv.Itoa(r.OwnerID) + "_" + strconv.Itoa(r.ID)
	if r.AccessKey != "" {
		s += "_" + r.AccessKey
	}
	return s
}

// attachments returns the photos and documents and whether other media came
// along. A link is the preview of a URL in the text, not media.
func attachments(in []attachment) (out []bot.Attachment, other bool) {
	for _, a := range in {
		switch {
		case a.Type == "photo" && a.Photo != nil:
			out = append(out, bot.Attachment{Platform: bot.VK, Kind: bot.AttachPhoto, FileID: fileID(a.Photo.ref("photo"), a.Photo.link())})
		case a.Type == "doc" && a.Doc != nil:
			out = append(out, bot.Attachment{Platform: bot.VK, Kind: bot.AttachDocument, FileID: fileID(a.Doc.ref("doc"), a.Doc.link()), Name: a.Doc.Title})
		case a.Type == "link":
		default:
			other = true
		}
	}
	return out, other
}

func (a *Adapter) fromMessage(eventID string, obj messageNew) (bot.Update, bool) {
	m := obj.Message
	if m.FromID <= 0 || bool(m.Out) {
		return bot.Update{}, false // written by a community, possibly this one
	}
	text := m.Text
	if m.PeerID >= chatPeerBase {
		text = a.stripMention(text)
	}
	u := bot.Update{
		Platform:  bot.VK,
		ID:        eventID,
		Chat:      chat(m.PeerID),
		From:      bot.User{ID: strconv.Itoa(m.FromID), Language: language(obj.ClientInfo.LangID)},
		MessageID: strconv.Itoa(m.ConversationMessageID),
		Text:      text,
		At:        time.Unix(int64(m.Date), 0).UTC(),
	}
	u.Attachments, u.HasMedia = attachments(m.Attachments)
	if m.ReplyMessage != nil && m.ReplyMessage.ConversationMessageID != 0 {
		u.ReplyTo = strconv.Itoa(m.ReplyMessage.ConversationMessageID)
	}
	if u.ID == "" {
		u.ID = fmt.Sprintf("msg:%d:%d", m.PeerID, m.ConversationMessageID)
	}
	if m.Date == 0 {
		u.At = a.clock()
	}
	switch {
	case m.Ref != "":
		u.Command, u.Args = "start", m.Ref
	case isStartPayload(m.Payload):
		u.Command = "start"
	default:
		u.Command, u.Args = bot.ParseCommand(text)
	}
	return u, true
}

func (a *Adapter) fromPress(eventID string, obj events.MessageEventObject) (bot.Update, error) {
	data, err := pressData(obj.Payload)
	if err != nil {
		return bot.Update{}, err
	}
	cmid := strconv.Itoa(obj.ConversationMessageID)
	u := bot.Update{
		Platform:  bot.VK,
		ID:        eventID,
		Chat:      chat(obj.PeerID),
		From:      bot.User{ID: strconv.Itoa(obj.UserID)},
		MessageID: cmid,
		Callback:  &bot.Callback{ID: obj.EventID, Data: data, MessageID: cmid},
		At:        a.clock(),
	}
	if u.ID == "" {
		u.ID = "press:" + obj.EventID
	}
	return u, nil
}

// stripMention removes the leading mention of this community in a chat.
func (a *Adapter) stripMention(text string) string {
	if m := mention.FindStringSubmatch(text); m != nil && m[1] == strconv.Itoa(a.groupID) {
		return text[len(m[0]):]
	}
	return text
}

func chat(peerID int) bot.Chat {
	c := bot.Chat{ID: strconv.Itoa(peerID), Kind: bot.ChatPrivate}
	if peerID >= chatPeerBase {
		c.Kind = bot.ChatGroup
	}
	return c
}

func language(langID int) string {
	if langID == langEnglish {
		return "en"
	}
	return "ru"
}

// isStartPayload recognises the payload of VK's "Start" button.
func isStartPayload(payload string) bool {
	if payload == "" {
		return false
	}
	var p struct {
		Command string `json:"command"`
	}
	return json.Unmarshal([]byte(payload), &p) == nil && p.Command == "start"
}

// pressData reads Data from a callback button's payload object.
func pressData(raw json.RawMessage) (string, error) {
	var p pressPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("decode button payload: %w", err)
	}
	return p.Data, nil
}
