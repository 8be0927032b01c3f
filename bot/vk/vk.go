// Package vk connects the bot core to a VK community: updates come from the
// Bots Long Poll API or the Callback API, replies go out through messages.send.
// It is the only package that imports vksdk.
package vk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/SevereCloud/vksdk/v3/api"
	"github.com/SevereCloud/vksdk/v3/object"

	"github.com/unionhub/unionhub/bot"
)

const (
	chatPeerBase    = 2000000000 // VK peer ids of group chats start here
	maxAttachments  = 10         // VK messages carry at most 10 attachments
	maxPeers        = 100        // messages.send takes at most 100 peer_ids
	maxSnackbar     = 90         // VK snackbar text
	maxSecret       = 50         // VK Callback API secret
	rateLimitWait   = time.Second
	clientTimeout   = 60 * time.Second // above the long poll wait
	maxUploadAnswer = 1 << 20          // the upload server's JSON answer, which is small
)

// Config configures the adapter.
type Config struct {
	Token   string // community access token
	GroupID int    // community id; 0 learns it from the token
	// APIURL replaces the VK method URL (vksdk's api.MethodURL when empty);
	// it must end with "/".
	APIURL string
	// CallbackConfirmation switches to the Callback API when set; the
	// CallbackSecret then becomes required.
	CallbackConfirmation string
	CallbackSecret       string
	// HTTPClient makes API calls and long poll checks, so its timeout must
	// exceed the 25 s check; nil uses a client with a 60 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Metrics    *bot.Metrics
	Clock      func() time.Time
	// Positions keeps the long poll's position across restarts, so that
	// messages people send while the hub is down are read when it is back;
	// nil starts from the events that come after each start.
	Positions Positions
}

// Positions is where the long poll's position is kept (storage.State
// does).
type Positions interface {
	Load(ctx context.Context, key string) (value []byte, ok bool, err error)
	Save(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// Adapter is the VK side of the bot: a bot.Sender and a source of updates.
type Adapter struct {
	api          *api.VK
	client       *http.Client
	groupID      int
	screenName   string
	confirmation string
	secret       string
	logger       *slog.Logger
	metrics      *bot.Metrics
	clock        func() time.Time
	positions    Positions
	refusals     *bot.Refusals // of the Callback API endpoint
	unchecked    budget        // bytes of callback bodies whose secret is not checked yet
}

var (
	_ bot.Sender     = (*Adapter)(nil)
	_ bot.BulkSender = (*Adapter)(nil)
)

// New checks the token with groups.getById and returns an adapter for the
// community it belongs to.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	switch {
	case cfg.Token == "":
		return nil, errors.New("new vk adapter: token is required")
	case cfg.APIURL != "" && !strings.HasSuffix(cfg.APIURL, "/"):
		return nil, fmt.Errorf("new vk adapter: API URL %q must end with /", cfg.APIURL)
	case cfg.CallbackConfirmation != "" && cfg.CallbackSecret == "":
		return nil, errors.New("new vk adapter: callback mode requires a secret")
	case len(cfg.CallbackSecret) > maxSecret:
		return nil, fmt.Errorf("new vk adapter: callback secret exceeds %d characters", maxSecret)
	}
	a := &Adapter{
		client:       cfg.HTTPClient,
		confirmation: cfg.CallbackConfirmation,
		secret:       cfg.CallbackSecret,
		logger:       cfg.Logger,
		metrics:      cfg.Metrics,
		clock:        cfg.Clock,
		positions:    cfg.Positions,
	}
	if a.client == nil {
		a.client = bot.APIClient(clientTimeout)
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	a.refusals = bot.NewRefusals(bot.VK, a.metrics, a.logger, bot.RefusalLogInterval, a.clock)
	a.unchecked.left = callbackBudget
	a.api = api.NewVK(cfg.Token)
	a.api.Limit = 0 // rate limiting and retries are the caller's, see bot.RateLimitError
	a.api.Client = a.client
	if cfg.APIURL != "" {
		a.api.MethodURL = cfg.APIURL
	}
	// Without group_id a community token answers with its own community.
	resp, err := a.api.GroupsGetByID(api.Params{}.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("get community: %w", err)
	}
	if len(resp.Groups) == 0 {
		return nil, errors.New("get community: no community for the token")
	}
	g := resp.Groups[0]
	if cfg.GroupID != 0 && g.ID != cfg.GroupID {
		return nil, fmt.Errorf("get community: the token belongs to community %d, not %d", g.ID, cfg.GroupID)
	}
	a.groupID, a.screenName = g.ID, g.ScreenName
	return a, nil
}

// ScreenName is the community's short name, as in https://vk.me/<name>.
func (a *Adapter) ScreenName() string { return a.screenName }

// Platform implements bot.Sender.
func (a *Adapter) Platform() bot.Platform { return bot.VK }

// Send implements bot.Sender with messages.send and a random_id derived
// from the message's Key. An upload is put in the community's message
// photos or documents first and goes in the same message ahead of the
// attachments of this platform; Sent names its attachment string, also
// when the send failed after it. Each API call after the first waits for
// m.Pace. Attachments of another platform cannot be sent here and are
// skipped: bringing them across is the caller's job. A retried send
// uploads again, but VK drops the repeated message by its random_id.
func (a *Adapter) Send(ctx context.Context, m bot.Message) (bot.Sent, error) {
	sent, err := a.send(ctx, m)
	a.metrics.CountSend(bot.VK, err)
	return sent, err
}

func (a *Adapter) send(ctx context.Context, m bot.Message) (bot.Sent, error) {
	peer, err := parseID("chat", m.ChatID)
	if err != nil {
		return bot.Sent{}, fmt.Errorf("send message: %w", err)
	}
	params, err := messageParams(m)
	if err != nil {
		return bot.Sent{}, fmt.Errorf("send message: %w", err)
	}
	turns := bot.TurnsOf(m)
	uploaded, err := a.attachUpload(ctx, turns, params, peer, m.Upload)
	if err != nil {
		return bot.Sent{}, fmt.Errorf("send message: %w", err)
	}
	failed := bot.Sent{Uploaded: uploaded}
	if err := turns.Next(ctx); err != nil {
		return failed, fmt.Errorf("send message: %w", err)
	}
	params["peer_ids"] = []int{peer}
	params["random_id"] = randomID(m.Key)
	// The same call as api.MessagesSendPeerIDs, read into a type that keeps
	// the per-peer error code vksdk's type drops.
	var results []sendResult
	if err := a.api.RequestUnmarshal("messages.send", &results, params.WithContext(ctx)); err != nil {
		return failed, mapError("send message", err)
	}
	if len(results) != 1 {
		return failed, fmt.Errorf("send message: %d results for one peer", len(results))
	}
	if err := results[0].err(); err != nil {
		return failed, mapError("send message", err)
	}
	return bot.Sent{ChatID: strconv.Itoa(peer), MessageID: strconv.Itoa(results[0].ConversationMessageID), Uploaded: uploaded}, nil
}

// MaxBulk implements bot.BulkSender: messages.send takes 100 peer_ids.
func (a *Adapter) MaxBulk() int { return maxPeers }

// SendBulk implements bot.BulkSender with one messages.send to every chat
// and the random_id of m.Key, which VK keeps per peer: repeating the call
// delivers nothing twice, and the repeat gets the first delivery's ids.
// An upload is made once, for the first chat, and goes to all. Results
// follow chatIDs; a chat listed twice is sent to once. Every chat
// counts as one send in the metrics.
func (a *Adapter) SendBulk(ctx context.Context, chatIDs []string, m bot.Message) ([]bot.BulkResult, error) {
	results, err := a.sendBulk(ctx, chatIDs, m)
	if err != nil {
		for range chatIDs {
			a.metrics.CountSend(bot.VK, err)
		}
		return nil, err
	}
	for _, r := range results {
		a.metrics.CountSend(bot.VK, r.Err)
	}
	return results, nil
}

func (a *Adapter) sendBulk(ctx context.Context, chatIDs []string, m bot.Message) ([]bot.BulkResult, error) {
	if len(chatIDs) > maxPeers {
		return nil, fmt.Errorf("send bulk: %d chats exceed %d", len(chatIDs), maxPeers)
	}
	if len(chatIDs) == 0 {
		return []bot.BulkResult{}, nil
	}
	peers := make([]int, len(chatIDs))
	unique := make([]int, 0, len(chatIDs))
	seen := make(map[int]bool, len(chatIDs))
	for i, id := range chatIDs {
		peer, err := parseID("chat", id)
		if err != nil {
			return nil, fmt.Errorf("send bulk: %w", err)
		}
		peers[i] = peer
		if !seen[peer] {
			seen[peer] = true
			unique = append(unique, peer)
		}
	}
	params, err := messageParams(m)
	if err != nil {
		return nil, fmt.Errorf("send bulk: %w", err)
	}
	turns := bot.TurnsOf(m)
	if _, err := a.attachUpload(ctx, turns, params, unique[0], m.Upload); err != nil {
		return nil, fmt.Errorf("send bulk: %w", err)
	}
	if err := turns.Next(ctx); err != nil {
		return nil, fmt.Errorf("send bulk: %w", err)
	}
	params["peer_ids"] = unique
	params["random_id"] = randomID(m.Key)
	var answers []sendResult
	if err := a.api.RequestUnmarshal("messages.send", &answers, params.WithContext(ctx)); err != nil {
		return nil, mapError("send bulk", err)
	}
	byPeer := make(map[int]sendResult, len(answers))
	for _, r := range answers {
		byPeer[r.PeerID] = r
	}
	out := make([]bot.BulkResult, len(chatIDs))
	for i, peer := range peers {
		out[i].ChatID = chatIDs[i]
		r, ok := byPeer[peer]
		if !ok {
			out[i].Err = fmt.Errorf("send bulk: no result for peer %d", peer)
			continue
		}
		if err := r.err(); err != nil {
			out[i].Err = mapError("send bulk", err)
			continue
		}
		out[i].MessageID = strconv.Itoa(r.ConversationMessageID)
	}
	return out, nil
}

// Edit implements bot.Sender with messages.edit by conversation_message_id.
// The edit replaces the message whole: attachments to keep must come again,
// and an upload is uploaded again so that the photo stays.
func (a *Adapter) Edit(ctx context.Context, s bot.Sent, m bot.Message) error {
	peer, err := parseID("chat", s.ChatID)
	if err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	cmid, err := parseID("message", s.MessageID)
	if err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	params, err := messageParams(m)
	if err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	turns := bot.TurnsOf(m)
	if _, err := a.attachUpload(ctx, turns, params, peer, m.Upload); err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	if err := turns.Next(ctx); err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	params["peer_id"] = peer
	params["conversation_message_id"] = cmid
	if _, ok := params["keyboard"]; !ok {
		// Say explicitly that the buttons go: stale buttons must not stay pressable.
		params["keyboard"] = `{"buttons":[],"inline":true}`
	}
	if _, err := a.api.MessagesEdit(params.WithContext(ctx)); err != nil {
		return mapError("edit message", err)
	}
	return nil
}

// EditKeyboard implements bot.Sender. VK edits a message whole, so its text
// and files are read back (messages.getByConversationMessageId) and sent
// again unchanged with the new keyboard.
func (a *Adapter) EditKeyboard(ctx context.Context, s bot.Sent, kb bot.Keyboard) error {
	peer, err := parseID("chat", s.ChatID)
	if err != nil {
		return fmt.Errorf("edit keyboard: %w", err)
	}
	cmid, err := parseID("message", s.MessageID)
	if err != nil {
		return fmt.Errorf("edit keyboard: %w", err)
	}
	kbJSON, err := keyboard(kb)
	if err != nil {
		return fmt.Errorf("edit keyboard: %w", err)
	}
	got, err := a.api.MessagesGetByConversationMessageID(api.Params{"peer_id": peer, "conversation_message_ids": cmid, "group_id": a.groupID}.WithContext(ctx))
	if err != nil {
		return mapError("edit keyboard", err)
	}
	if len(got.Items) == 0 {
		return fmt.Errorf("edit keyboard: message %d in %d: %w", cmid, peer, bot.ErrChatGone)
	}
	msg := got.Items[0]
	params := api.Params{"peer_id": peer, "conversation_message_id": cmid, "message": msg.Text,
		"keep_forward_messages": 1, "keep_snippets": 1}
	if refs := attachmentRefs(msg.Attachments); len(refs) > 0 {
		params["attachment"] = strings.Join(refs, ",")
	}
	if kbJSON != nil {
		params["keyboard"] = kbJSON
	} else {
		params["keyboard"] = `{"buttons":[],"inline":true}`
	}
	if _, err := a.api.MessagesEdit(params.WithContext(ctx)); err != nil {
		return mapError("edit keyboard", err)
	}
	return nil
}

// attachmentRefs are a message's photos and documents as messages.edit
// takes them: "photo<owner>_<id>[_<access key>]".
func attachmentRefs(atts []object.MessagesMessageAttachment) []string {
	var refs []string
	for _, at := range atts {
		var owner, id int
		var key string
		switch at.Type {
		case "photo":
			owner, id, key = at.Photo.OwnerID, at.Photo.ID, at.Photo.AccessKey
		case "doc":
			owner, id, key = at.Doc.OwnerID, at.Doc.ID, at.Doc.AccessKey
		default:
			continue
		}
		refs = append(refs, mediaRef{ID: id, OwnerID: owner, AccessKey: key}.ref(at.Type))
	}
	return refs
}

// AnswerCallback implements bot.Sender with messages.sendMessageEventAnswer,
// showing text in a snackbar when set.
func (a *Adapter) AnswerCallback(ctx context.Context, u *bot.Update, text string) error {
	if u.Callback == nil {
		return fmt.Errorf("answer callback: update %s is not a button press", u.ID)
	}
	userID, err := parseID("user", u.From.ID)
	if err != nil {
		return fmt.Errorf("answer callback: %w", err)
	}
	peer, err := parseID("chat", u.Chat.ID)
	if err != nil {
		return fmt.Errorf("answer callback: %w", err)
	}
	params := api.Params{"event_id": u.Callback.ID, "user_id": userID, "peer_id": peer}
	if text != "" {
		params["event_data"] = object.NewMessagesEventDataShowSnackbar(shorten(text, maxSnackbar))
	}
	if _, err := a.api.MessagesSendMessageEventAnswer(params.WithContext(ctx)); err != nil {
		return mapError("answer callback", err)
	}
	return nil
}

// sendResult is one peer's entry in the answer to messages.send with peer_ids.
type sendResult struct {
	PeerID                int `json:"peer_id"`
	MessageID             int `json:"message_id"`
	ConversationMessageID int `json:"conversation_message_id"`
	Error                 *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
		ErrorCode   int    `json:"error_code"`
		ErrorMsg    string `json:"error_msg"`
	} `json:"error"`
}

// err turns a per-peer failure into the *api.Error a whole call would give.
func (r sendResult) err() error {
	if r.Error != nil {
		e := &api.Error{Code: api.ErrorType(r.Error.Code), Message: r.Error.Description}
		if e.Code == 0 {
			e.Code, e.Message = api.ErrorType(r.Error.ErrorCode), r.Error.ErrorMsg
		}
		return e
	}
	if r.ConversationMessageID == 0 {
		return fmt.Errorf("no message id for peer %d", r.PeerID)
	}
	return nil
}

// mapError wraps err for op, adding the core's error for the VK codes the
// core acts on; the original stays in the chain.
func mapError(op string, err error) error {
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case api.ErrTooMany, api.ErrFlood:
			return fmt.Errorf("%s: %w: %w", op, &bot.RateLimitError{RetryAfter: rateLimitWait}, err)
		case api.ErrMessagesUserBlocked, api.ErrMessagesDenySend, api.ErrMessagesPrivacy:
			return fmt.Errorf("%s: %w: %w", op, bot.ErrBlocked, err)
		case api.ErrPermission, api.ErrMessagesChatUserNoAccess, api.ErrMessagesChatNotExist:
			return fmt.Errorf("%s: %w: %w", op, bot.ErrChatGone, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// messageParams validates m and returns its text, attachments and keyboard
// as parameters of messages.send and messages.edit.
func messageParams(m bot.Message) (api.Params, error) {
	if err := bot.ValidateMessage(m); err != nil {
		return nil, err
	}
	var refs []string
	for _, f := range m.Attachments {
		if f.Platform != bot.VK {
			continue
		}
		ref, _ := splitFileID(f.FileID)
		if ref == "" {
			return nil, errors.New("validate message: attachment without a file id")
		}
		refs = append(refs, ref)
	}
	n := len(refs)
	if m.Upload != nil {
		n++ // attached by attachUpload once uploaded
	}
	if n > maxAttachments {
		return nil, fmt.Errorf("validate message: %d attachments exceed %d", n, maxAttachments)
	}
	if strings.TrimSpace(m.Text) == "" && n == 0 {
		return nil, errors.New("validate message: text is empty")
	}
	params := api.Params{"message": bot.PlainText(m.Text, m.Format)}
	if len(refs) > 0 {
		params["attachment"] = strings.Join(refs, ",")
	}
	kb, err := keyboard(m.Keyboard)
	if err != nil {
		return nil, err
	}
	if kb != nil {
		params["keyboard"] = kb
	}
	return params, nil
}

// attachUpload puts u, when set, in the community's message photos or
// documents for peer and its attachment string first in params'
// attachments, and returns that string.
func (a *Adapter) attachUpload(ctx context.Context, turns *bot.Turns, params api.Params, peer int, u *bot.Upload) (string, error) {
	if u == nil {
		return "", nil
	}
	upload := a.uploadPhoto
	if u.Document() {
		upload = a.uploadDoc
	}
	ref, err := upload(ctx, turns, peer, u)
	if err != nil {
		return "", err
	}
	refs := ref
	if more, _ := params["attachment"].(string); more != "" {
		refs += "," + more
	}
	params["attachment"] = refs
	return ref, nil
}

// uploadPhoto runs VK's three steps of a message photo and returns its
// attachment string. vksdk's UploadMessagesPhoto does the same without a
// context, so the steps are ours: the calls through vksdk, the upload with
// the adapter's client.
func (a *Adapter) uploadPhoto(ctx context.Context, turns *bot.Turns, peer int, u *bot.Upload) (string, error) {
	if err := turns.Next(ctx); err != nil {
		return "", fmt.Errorf("get upload server: %w", err)
	}
	server, err := a.api.PhotosGetMessagesUploadServer(api.Params{"peer_id": peer}.WithContext(ctx))
	if err != nil {
		return "", mapError("get upload server", err)
	}
	up, err := a.post(ctx, server.UploadURL, "photo", u)
	if err != nil {
		return "", fmt.Errorf("upload photo: %w", err)
	}
	if up.Photo == "" || up.Photo == "[]" {
		// Saving would fail with "photos_list is invalid"; say why here.
		return "", errors.New("upload photo: upload server took no photo: not a JPEG, PNG or GIF, or out of proportion")
	}
	if err := turns.Next(ctx); err != nil {
		return "", fmt.Errorf("save photo: %w", err)
	}
	saved, err := a.api.PhotosSaveMessagesPhoto(api.Params{"server": up.Server, "photo": up.Photo, "hash": up.Hash}.WithContext(ctx))
	if err != nil {
		return "", mapError("save photo", err)
	}
	if len(saved) == 0 {
		return "", errors.New("save photo: no photo in the answer")
	}
	p := saved[0]
	return mediaRef{ID: p.ID, OwnerID: p.OwnerID, AccessKey: p.AccessKey}.ref("photo"), nil
}

// uploadDoc runs VK's three steps of a message document (an upload server
// for peer, the upload, docs.save under the file's name) and returns its
// attachment string.
func (a *Adapter) uploadDoc(ctx context.Context, turns *bot.Turns, peer int, u *bot.Upload) (string, error) {
	if err := turns.Next(ctx); err != nil {
		return "", fmt.Errorf("get document upload server: %w", err)
	}
	server, err := a.api.DocsGetMessagesUploadServer(api.Params{"peer_id": peer, "type": "doc"}.WithContext(ctx))
	if err != nil {
		return "", mapError("get document upload server", err)
	}
	up, err := a.post(ctx, server.UploadURL, "file", u)
	if err != nil {
		return "", fmt.Errorf("upload document: %w", err)
	}
	if up.File == "" {
		return "", errors.New("upload document: upload server took no file")
	}
	if err := turns.Next(ctx); err != nil {
		return "", fmt.Errorf("save document: %w", err)
	}
	saved, err := a.api.DocsSave(api.Params{"file": up.File, "title": u.FileName()}.WithContext(ctx))
	if err != nil {
		return "", mapError("save document", err)
	}
	if saved.Type != "doc" || saved.Doc.ID == 0 {
		return "", fmt.Errorf("save document: saved as %q, not a document", saved.Type)
	}
	d := saved.Doc
	return mediaRef{ID: d.ID, OwnerID: d.OwnerID, AccessKey: d.AccessKey}.ref("doc"), nil
}

// uploadAnswer is the upload server's answer: server, photo and hash for
// photos.saveMessagesPhoto, file for docs.save.
type uploadAnswer struct {
	Server int    `json:"server"`
	Photo  string `json:"photo"`
	Hash   string `json:"hash"`
	File   string `json:"file"`
	Error  string `json:"error"`
}

// post sends u to the upload server in the multipart field.
func (a *Adapter) post(ctx context.Context, uploadURL, field string, u *bot.Upload) (uploadAnswer, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile(field, u.FileName())
	if err != nil {
		return uploadAnswer{}, fmt.Errorf("encode: %w", err)
	}
	if _, err := part.Write(u.Data); err != nil {
		return uploadAnswer{}, fmt.Errorf("encode: %w", err)
	}
	if err := mw.Close(); err != nil {
		return uploadAnswer{}, fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uploadURL, &body)
	if err != nil {
		return uploadAnswer{}, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.client.Do(req)
	if err != nil {
		return uploadAnswer{}, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxUploadAnswer))
	if err != nil {
		return uploadAnswer{}, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return uploadAnswer{}, fmt.Errorf("upload server answered HTTP %d", resp.StatusCode)
	}
	var ans uploadAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return uploadAnswer{}, fmt.Errorf("decode answer: %w", err)
	}
	if ans.Error != "" {
		return uploadAnswer{}, fmt.Errorf("upload server: %s", ans.Error)
	}
	return ans, nil
}

// keyboard builds an inline keyboard: callback buttons carry {"d":Data},
// URL buttons open the link.
func keyboard(k bot.Keyboard) (*object.MessagesKeyboard, error) {
	total := 0
	for _, row := range k {
		total += len(row)
	}
	if total == 0 {
		return nil, nil
	}
	if total > bot.MaxButtons {
		return nil, fmt.Errorf("validate message: %d buttons exceed %d", total, bot.MaxButtons)
	}
	kb := object.NewMessagesKeyboardInline()
	for _, row := range k {
		if len(row) == 0 {
			continue
		}
		buttons := make([]object.MessagesKeyboardButton, 0, len(row))
		for _, b := range row {
			action := object.MessagesKeyboardButtonAction{Label: shorten(b.Text, bot.MaxButtonLabel)}
			if b.URL != "" {
				action.Type, action.Link = object.ButtonOpenLink, b.URL
			} else {
				payload, err := json.Marshal(pressPayload{Data: b.Data})
				if err != nil {
					return nil, fmt.Errorf("encode button payload: %w", err)
				}
				action.Type, action.Payload = object.ButtonCallback, string(payload)
			}
			buttons = append(buttons, object.MessagesKeyboardButton{Action: action})
		}
		kb.Buttons = append(kb.Buttons, buttons)
	}
	return kb, nil
}

// pressPayload is the payload of the adapter's callback buttons.
type pressPayload struct {
	Data string `json:"d"`
}

// shorten cuts s to n runes, ending with an ellipsis when cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func parseID(what, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid %s id %q", what, s)
	}
	return n, nil
}

// randomID returns the message's random_id: derived from its key, so that
// a retried send of the same message is dropped by VK, or random without one.
func randomID(key string) int32 {
	if key != "" {
		h := fnv.New32a()
		_, _ = h.Write([]byte(key))
		if n := int32(h.Sum32() & 0x7fffffff); n != 0 {
			return n
		}
	}
	var b [4]byte
	for {
		_, _ = rand.Read(b[:]) // never fails since Go 1.24
		if n := int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff); n != 0 {
			return n
		}
	}
}

// Download fetches a file a person sent from the link VK gave with their
// message, which its FileID keeps. VK's links may expire (a document's
// carries a hash that does), after which the file is bot.ErrFileGone: the
// person has to send it again.
func (a *Adapter) Download(ctx context.Context, f bot.Attachment) ([]byte, error) {
	if f.Platform != bot.VK {
		return nil, fmt.Errorf("download file: a file of %s", f.Platform)
	}
	_, link := splitFileID(f.FileID)
	if !strings.HasPrefix(link, "https://") && !strings.HasPrefix(link, "http://") {
		return nil, fmt.Errorf("download file: no link kept: %w", bot.ErrFileGone)
	}
	return bot.Download(ctx, a.client, link)
}
