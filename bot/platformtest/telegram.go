// Package platformtest fakes the messaging platforms over real HTTP, so that
// adapter and end-to-end tests send the same requests and meet the same
// limits and errors as in production, without reaching Telegram or VK.
package platformtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // photos may be uploaded as GIF, JPEG or PNG
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Credentials of the fake Telegram bot.
const (
	TelegramToken       = "123456:TEST-token"
	TelegramBotUsername = "unionhub_test_bot"
)

const (
	tgBotID            = 123456
	tgBotFirstName     = "UnionHub Test"
	tgFirstUpdateID    = 900000001 // large like real update ids, to catch narrow integer types
	tgFirstCallbackID  = 4611686018427387904
	tgWaitTimeout      = 10 * time.Second
	tgMaxTextRunes     = 4096
	tgMaxCaption       = 1024 // UTF-16 code units, the stricter reading of Telegram's "characters"
	tgMaxButtonData    = 64
	tgMaxRequestBody   = 51 << 20 // a document of Telegram's 50 MB and the other fields
	tgMaxDownload      = 20 << 20 // the largest file getFile serves
	tgMaxUpdatesLimit  = 100
	tgHookAttempts     = 8
	tgHookFirstBackoff = 50 * time.Millisecond
	tgHookMaxBackoff   = 500 * time.Millisecond
	tgHookTimeout      = 10 * time.Second
	tgSecretHeader     = "X-Telegram-Bot-Api-Secret-Token"
	tgKindMessage      = "message"
	tgKindCallback     = "callback_query"
)

// Error descriptions as the real Bot API words them.
const (
	tgErrChatNotFound   = "Bad Request: chat not found"
	tgErrBlocked        = "Forbidden: bot was blocked by the user"
	tgErrTextEmpty      = "Bad Request: message text is empty"
	tgErrTooLong        = "Bad Request: message is too long"
	tgErrEntities       = "Bad Request: can't parse entities: "
	tgErrEditTooLong    = "Bad Request: MESSAGE_TOO_LONG"
	tgErrButtonData     = "Bad Request: BUTTON_DATA_INVALID"
	tgErrButtonURL      = "Bad Request: BUTTON_URL_INVALID"
	tgErrCopyText       = "Bad Request: BUTTON_COPY_TEXT_INVALID"
	tgErrTextButton     = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
	tgErrMarkup         = "Bad Request: can't parse reply keyboard markup JSON object"
	tgErrNotModified    = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	tgErrEditNotFound   = "Bad Request: message to edit not found"
	tgErrCantEdit       = "Bad Request: message can't be edited"
	tgErrDeleteNotFound = "Bad Request: message to delete not found"
	tgErrQueryInvalid   = "Bad Request: query is too old and response timeout expired or query ID is invalid"
	tgErrWebhookActive  = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	tgErrOtherPoll      = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	tgErrPollBySetHook  = "Conflict: terminated by setWebhook request"
	tgErrWebhookURL     = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
	tgErrSecretToken    = "Bad Request: secret token contains unallowed characters"
	tgErrAllowedUpdates = "Bad Request: can't parse allowed updates"
	tgErrCaptionTooLong = "Bad Request: message caption is too long"
	tgErrEditCaption    = "Bad Request: MEDIA_CAPTION_TOO_LONG"
	tgErrWrongFile      = "Bad Request: wrong file identifier/HTTP URL specified"
	tgErrFileType       = "Bad Request: type of file mismatch"
	tgErrNoTextToEdit   = "Bad Request: there is no text in the message to edit"
	tgErrNoCaption      = "Bad Request: there is no caption in the message to edit"
	tgErrEmptyFile      = "Bad Request: file must be non-empty"
	tgErrImageProcess   = "Bad Request: IMAGE_PROCESS_FAILED"
	tgErrInvalidFileID  = "Bad Request: invalid file_id"
	tgErrFileTooBig     = "Bad Request: file is too big"
	tgErrPhotoDims      = "Bad Request: PHOTO_INVALID_DIMENSIONS"
)

// Telegram's rules for an uploaded photo: width and height together at
// most 10,000 pixels, the longer side at most 20 times the shorter.
const (
	tgMaxPhotoSides = 10000
	tgMaxPhotoRatio = 20
)

// tgPhotoSides are the longer sides of the sizes Telegram makes of an
// uploaded photo, each made only when the photo is larger.
var tgPhotoSides = []int{90, 320, 800, 1280}

// Prefixes of file ids by kind, as Telegram's ids begin.
const (
	tgPhotoPrefix    = "AgACAgIAAxkBAAI"
	tgDocumentPrefix = "BQACAgIAAxkBAAI"
	tgVoicePrefix    = "AwACAgIAAxkBAAI"
)

var tgSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// TGUser is a person on the user side of the fake.
type TGUser struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
}

// TGGroup is a group chat the bot is a member of; its ID is negative, and
// IDs from -1000000000000 down are supergroups, as on Telegram.
type TGGroup struct {
	ID    int64
	Title string
}

// TGButton is one inline button of a message the bot sent.
type TGButton struct {
	Text string
	Data string // callback_data
	URL  string
}

// TGAttachment is a photo or document: of a message the bot sent, or the
// one a person's message carries (see Attachment).
type TGAttachment struct {
	Kind     string // "photo" or "document"
	FileID   string
	FileName string // a document's name
}

// TGMessage is a message the bot sent, in its current (edited) state. Text
// is the caption of a photo or document message.
type TGMessage struct {
	ID          int
	ChatID      int64
	Text        string
	Entities    []TGEntity // formatting of Text (of the caption with attachments)
	Buttons     [][]TGButton
	Attachments []TGAttachment
	// Upload is the file the bot uploaded with the message (sendPhoto or
	// sendDocument with a multipart file), byte for byte; nil when it sent
	// a file by id. Attachments then names the file id Telegram gave it.
	Upload []byte
}

// TGEntity is formatting over part of a text, in UTF-16 units.
type TGEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

// Covered is the part of text the entity covers.
func (e TGEntity) Covered(text string) string {
	units := utf16.Encode([]rune(text))
	if e.Offset < 0 || e.Length < 0 || e.Offset+e.Length > len(units) {
		return ""
	}
	return string(utf16.Decode(units[e.Offset : e.Offset+e.Length]))
}

// HasButton reports whether the message has a button with callback data.
func (m TGMessage) HasButton(data string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if b.Data == data {
				return true
			}
		}
	}
	return false
}

// ButtonData returns the callback data of the first button whose text
// contains textSubstring, or "" when there is none.
func (m TGMessage) ButtonData(textSubstring string) string {
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, textSubstring) {
				return b.Data
			}
		}
	}
	return ""
}

// TGDelivery is one attempt to POST an update to the webhook; Status is the
// HTTP status of the answer, 0 for a transport error.
type TGDelivery struct {
	UpdateID int64
	Status   int
}

// TGWebhook is the webhook as setWebhook last set it.
type TGWebhook struct {
	URL            string
	Secret         string
	AllowedUpdates []string
}

// Telegram is a fake Telegram Bot API server. The bot side talks to it over
// HTTP like to api.telegram.org; a test plays the people through SendText,
// Press and the like, and inspects what the bot did through Messages,
// WaitMessage, Calls and the like. All methods are safe for concurrent use.
//
// Deviations from the real API, on purpose: webhooks may be plain http on
// any port, the bot sees every group message (as with privacy mode off),
// webhook deliveries go one at a time, retried after 50 ms, 100 ms, 200 ms...
// (at most 500 ms apart) and dropped after 8 failed attempts, and the bot
// sends photos and documents by the file ids of files people sent or of its
// own uploads, or uploads them (photos as GIF, JPEG or PNG), never by URL.
type Telegram struct {
	t       testing.TB
	srv     *httptest.Server
	client  *http.Client
	methods map[string]tgMethod

	hookMu sync.Mutex // serialises webhook changes, which wait for the delivery loop to stop

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change, to wake waiters
	closed      bool
	nextUpdate  int64
	nextSeq     int64
	nextQuery   int64
	queue       []*tgQueued
	history     map[int64]tgQueued
	allowed     []string
	pollGen     int64
	hook        *tgHook
	chats       map[int64]*tgChat
	blocked     map[int64]bool
	queries     map[string]*tgQuery
	queryByUpd  map[int64]string
	answered    []string
	calls       map[string]int
	faults      map[string]*tgFault
	deliveries  []TGDelivery
	lastWebhook TGWebhook
	nextFile    int64
	files       map[string]*tgFile // by file_id; every size of a photo
	blobs       map[string]*tgBlob // by file_id: what getFile and the file server serve
	paths       map[string]string  // file_path → file_id, of the paths getFile named
	updFiles    map[int64]TGAttachment
	onSent      []func(TGMessage, time.Time)
	limits      TGLimits
	allSends    *window           // nil without a PerSecond limit
	chatSends   map[int64]*window // per chat, made on a chat's first send
	tooMany     int               // 429s answered for exceeding limits
	everyNth    map[string]*everyNth
	uploads     int // sendPhoto and sendDocument calls that carried a file's bytes
}

// TGLimits are the rates EnforceLimits holds the bot to; a zero field sets
// no limit. Every rate is a sliding window.
type TGLimits struct {
	PerSecond         int // sends to all chats together in any second
	PerChatPerSecond  int // sends to one private chat in any second
	PerGroupPerMinute int // sends to one group or supergroup in any minute
}

type tgMethod func(ctx context.Context, p map[string]string) (any, *tgAPIError)

type tgAPIError struct {
	code       int
	desc       string
	retryAfter int
}

type tgQueued struct {
	seq    int64 // unique per queue entry; a redelivered update shares its id
	id     int64
	kind   string
	body   []byte
	replay bool // redelivered: returned once even though its id was confirmed
}

type tgHook struct {
	url    string
	secret string
	cancel context.CancelFunc
	done   chan struct{}
}

type tgChat struct {
	id     int64
	kind   string // private, group or supergroup
	title  string
	user   TGUser // private chats only
	lastID int
	sent   int // messages the bot sent, deleted ones included
	msgs   []*tgStored
	byID   map[int]*tgStored // made on the first message: most met chats get few
}

type tgStored struct {
	id       int
	fromBot  bool
	date     int64
	editDate int64
	text     string // a caption when files are set
	entities []TGEntity
	buttons  [][]TGButton
	files    []TGAttachment
	upload   []byte         // the bytes the bot uploaded, never changed once stored
	userMsg  *tgMessageJSON // a person's message as delivered
}

// tgBlob is the content of a file by one file_id: a photo's size, a
// document, a voice message.
type tgBlob struct {
	unique string
	dir    string // the file_path's folder, as Telegram's: photos, documents, voice
	ext    string
	size   int    // as getFile tells it; over tgMaxDownload, data is nil
	data   []byte // the bytes the file server serves
}

// tgFile is a file a person sent or the bot uploaded, which the bot may
// send again by its id.
type tgFile struct {
	kind  string // photo, document or voice
	photo []tgPhotoJSON
	doc   *tgDocumentJSON
	voice *tgVoiceJSON
}

type tgQuery struct {
	answered bool
	attempts int // answerCallbackQuery calls, refused ones included
	text     string
}

type tgFault struct {
	left       int
	code       int
	desc       string
	retryAfter int
}

type tgUserJSON struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

type tgMeJSON struct {
	tgUserJSON
	CanJoinGroups           bool `json:"can_join_groups"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages"`
	SupportsInlineQueries   bool `json:"supports_inline_queries"`
}

type tgChatJSON struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

type tgEntityJSON = TGEntity

type tgPhotoJSON struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int    `json:"file_size"`
}

type tgDocumentJSON struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type tgVoiceJSON struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Duration     int    `json:"duration"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int    `json:"file_size,omitempty"`
}

type tgButtonJSON struct {
	Text         string `json:"text"`
	URL          string `json:"url,omitempty"`
	CallbackData string `json:"callback_data,omitempty"`
}

type tgMarkupJSON struct {
	InlineKeyboard [][]tgButtonJSON `json:"inline_keyboard"`
}

type tgMessageJSON struct {
	MessageID      int             `json:"message_id"`
	From           *tgUserJSON     `json:"from,omitempty"`
	Chat           tgChatJSON      `json:"chat"`
	Date           int64           `json:"date"`
	ReplyToMessage *tgMessageJSON  `json:"reply_to_message,omitempty"`
	EditDate       int64           `json:"edit_date,omitempty"`
	Text           string          `json:"text,omitempty"`
	Entities       []tgEntityJSON  `json:"entities,omitempty"`
	Document       *tgDocumentJSON `json:"document,omitempty"`
	Photo          []tgPhotoJSON   `json:"photo,omitempty"`
	Voice          *tgVoiceJSON    `json:"voice,omitempty"`
	Caption        string          `json:"caption,omitempty"`
	CaptionEnts    []tgEntityJSON  `json:"caption_entities,omitempty"`
	ReplyMarkup    *tgMarkupJSON   `json:"reply_markup,omitempty"`
}

type tgCallbackJSON struct {
	ID           string         `json:"id"`
	From         tgUserJSON     `json:"from"`
	Message      *tgMessageJSON `json:"message,omitempty"`
	ChatInstance string         `json:"chat_instance"`
	Data         string         `json:"data,omitempty"`
}

type tgUpdateJSON struct {
	UpdateID      int64           `json:"update_id"`
	Message       *tgMessageJSON  `json:"message,omitempty"`
	CallbackQuery *tgCallbackJSON `json:"callback_query,omitempty"`
}

// NewTelegram starts a fake Bot API server on 127.0.0.1; it stops when the
// test ends.
func NewTelegram(t testing.TB) *Telegram {
	t.Helper()
	f := &Telegram{
		t:          t,
		client:     &http.Client{Timeout: tgHookTimeout},
		changed:    make(chan struct{}),
		nextUpdate: tgFirstUpdateID,
		nextQuery:  tgFirstCallbackID,
		history:    map[int64]tgQueued{},
		chats:      map[int64]*tgChat{},
		blocked:    map[int64]bool{},
		queries:    map[string]*tgQuery{},
		queryByUpd: map[int64]string{},
		calls:      map[string]int{},
		faults:     map[string]*tgFault{},
		files:      map[string]*tgFile{},
		blobs:      map[string]*tgBlob{},
		paths:      map[string]string{},
		updFiles:   map[int64]TGAttachment{},
		chatSends:  map[int64]*window{},
		everyNth:   map[string]*everyNth{},
	}
	f.methods = map[string]tgMethod{
		"getme":                  f.getMe,
		"getupdates":             f.getUpdates,
		"setwebhook":             f.setWebhook,
		"deletewebhook":          f.deleteWebhook,
		"sendmessage":            f.sendMessage,
		"sendphoto":              f.sendPhoto,
		"senddocument":           f.sendDocument,
		"editmessagetext":        f.editMessageText,
		"editmessagecaption":     f.editMessageCaption,
		"editmessagereplymarkup": f.editMessageReplyMarkup,
		"answercallbackquery":    f.answerCallbackQuery,
		"deletemessage":          f.deleteMessage,
		"getfile":                f.getFile,
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.close)
	return f
}

// URL is the base URL to give the adapter in place of https://api.telegram.org.
func (f *Telegram) URL() string { return f.srv.URL }

// FailNext makes the next n calls of method fail with code and description
// (a default description when empty); a retryAfter above zero is sent as
// parameters.retry_after, as Telegram does with 429.
func (f *Telegram) FailNext(method string, n, code int, description string, retryAfter int) {
	if description == "" {
		description = tgDefaultDescription(code, retryAfter)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[strings.ToLower(method)] = &tgFault{left: n, code: code, desc: description, retryAfter: retryAfter}
}

// EnforceLimits holds sendMessage, sendPhoto and sendDocument to limits,
// starting afresh: a send that would exceed one is answered 429 with
// parameters.retry_after, the whole seconds (at least 1) until it would
// fit, and does not count towards the limits. Every send admitted counts,
// also one the method then refuses (a blocked user) or FailRandomly fails.
// TGLimits{} lifts them.
func (f *Telegram) EnforceLimits(l TGLimits) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits, f.allSends = l, nil
	clear(f.chatSends)
	if l.PerSecond > 0 {
		f.allSends = newWindow(l.PerSecond, time.Second, time.Now())
	}
}

// TooManyCount counts the 429s answered for exceeding the limits of
// EnforceLimits (not those of FailNext).
func (f *Telegram) TooManyCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tooMany
}

// FailRandomly makes every every-th call of method, counted from now, fail
// with HTTP status (500, 502...) and an error body as Telegram sends one (a
// 429 with retry_after 1); every <= 0 stops it. The failed calls do
// nothing else.
func (f *Telegram) FailRandomly(method string, every, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.everyNth[strings.ToLower(method)] = &everyNth{every: every, code: status}
}

// Meet makes the bot known to each of userIDs as if they had written to it
// (which also unblocks it), without queuing updates, so that the bot may
// send to their private chats: for audiences larger than a test can greet.
func (f *Telegram) Meet(userIDs ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range userIDs {
		if id <= 0 {
			f.t.Errorf("telegram fake: Meet: user id %d is not positive", id)
			continue
		}
		delete(f.blocked, id)
		if f.chats[id] == nil {
			f.chats[id] = &tgChat{id: id, kind: "private", user: TGUser{ID: id, FirstName: "Member"}}
		}
	}
	f.notifyLocked()
}

// SentCount counts the messages the bot sent to chatID, deleted ones
// included.
func (f *Telegram) SentCount(chatID int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.chats[chatID]; c != nil {
		return c.sent
	}
	return 0
}

// SendText makes u write text to the bot in private (chat id = user id) and
// returns the update id. Writing to the bot also unblocks it, as it must in
// the client.
func (f *Telegram) SendText(u TGUser, text string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blocked, u.ID)
	msg := f.userMessageLocked(f.privateChatLocked(u), u)
	msg.Text = text
	msg.Entities = tgCommandEntities(text)
	return f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
}

// SendFormattedText is SendText with formatting the author applied.
func (f *Telegram) SendFormattedText(u TGUser, text string, entities ...TGEntity) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blocked, u.ID)
	msg := f.userMessageLocked(f.privateChatLocked(u), u)
	msg.Text = text
	msg.Entities = append(tgCommandEntities(text), entities...)
	return f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
}

// SendGroupText makes u write text in group g, which the bot is a member of,
// and returns the update id.
func (f *Telegram) SendGroupText(u TGUser, g TGGroup, text string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := f.userMessageLocked(f.groupChatLocked(g), u)
	msg.Text = text
	msg.Entities = tgCommandEntities(text)
	return f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
}

// SendPhoto makes u send the bot a photo, in three sizes with file ids of
// their own, with an optional caption in private and returns the update id.
// Attachment tells the file id of the largest size.
func (f *Telegram) SendPhoto(u TGUser, caption string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blocked, u.ID)
	msg := f.userMessageLocked(f.privateChatLocked(u), u)
	file := &tgFile{kind: "photo"}
	for _, size := range []struct{ w, h int }{{90, 67}, {320, 240}, {1280, 960}} {
		id, unique := f.newFileIDLocked(tgPhotoPrefix)
		data := fakePhoto(size.w, size.h, f.nextFile)
		file.photo = append(file.photo, tgPhotoJSON{FileID: id, FileUniqueID: unique, Width: size.w, Height: size.h, FileSize: len(data)})
		f.files[id] = file
		f.blobs[id] = &tgBlob{unique: unique, dir: "photos", ext: ".png", size: len(data), data: data}
	}
	msg.Photo = file.photo
	msg.Caption = caption
	id := f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
	f.updFiles[id] = TGAttachment{Kind: "photo", FileID: file.photo[len(file.photo)-1].FileID}
	return id
}

// SendDocument makes u send the bot a file named fileName with an optional
// caption in private and returns the update id; Attachment tells its file
// id, FileData its bytes.
func (f *Telegram) SendDocument(u TGUser, fileName, caption string) int64 {
	return f.userDocument(u, fileName, caption, 48213)
}

// SendBigDocument makes u send the bot a file named fileName of size bytes
// in private and returns the update id: over 20 MB, the Bot API refuses to
// serve it (getFile: "file is too big").
func (f *Telegram) SendBigDocument(u TGUser, fileName string, size int) int64 {
	return f.userDocument(u, fileName, "", size)
}

func (f *Telegram) userDocument(u TGUser, fileName, caption string, size int) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blocked, u.ID)
	msg := f.userMessageLocked(f.privateChatLocked(u), u)
	id, unique := f.newFileIDLocked(tgDocumentPrefix)
	mimeType := mime.TypeByExtension(filepath.Ext(fileName))
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	doc := &tgDocumentJSON{FileID: id, FileUniqueID: unique, FileName: fileName, MimeType: mimeType, FileSize: size}
	f.files[id] = &tgFile{kind: "document", doc: doc}
	blob := &tgBlob{unique: unique, dir: "documents", ext: filepath.Ext(fileName), size: size}
	if size <= tgMaxDownload {
		blob.data = fakeDocument(fileName, f.nextFile, size)
	}
	f.blobs[id] = blob
	msg.Document = doc
	msg.Caption = caption
	upd := f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
	f.updFiles[upd] = TGAttachment{Kind: "document", FileID: id, FileName: fileName}
	return upd
}

// SendVoice makes u send the bot a voice message in private, media the bot
// cannot send back, and returns the update id.
func (f *Telegram) SendVoice(u TGUser) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blocked, u.ID)
	msg := f.userMessageLocked(f.privateChatLocked(u), u)
	id, unique := f.newFileIDLocked(tgVoicePrefix)
	voice := &tgVoiceJSON{FileID: id, FileUniqueID: unique, Duration: 4, MimeType: "audio/ogg", FileSize: 11520}
	f.files[id] = &tgFile{kind: "voice", voice: voice}
	f.blobs[id] = &tgBlob{unique: unique, dir: "voice", ext: ".oga", size: 11520, data: fakeDocument("voice.oga", f.nextFile, 11520)}
	msg.Voice = voice
	return f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
}

// ReplyInGroup makes u reply with text, in group g, to the message
// replyToMessageID there (usually one the bot sent) and returns the update
// id; replying to a message the fake does not know fails the test.
func (f *Telegram) ReplyInGroup(u TGUser, g TGGroup, replyToMessageID int, text string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.groupChatLocked(g)
	target := c.find(replyToMessageID)
	if target == nil {
		f.t.Errorf("telegram fake: ReplyInGroup: no message %d in chat %d", replyToMessageID, g.ID)
		return 0
	}
	reply := f.messageJSONLocked(c, target)
	msg := f.userMessageLocked(c, u)
	msg.Text = text
	msg.Entities = tgCommandEntities(text)
	msg.ReplyToMessage = reply
	return f.enqueueLocked(tgKindMessage, tgUpdateJSON{Message: msg})
}

// Attachment returns the file the person's message in update updateID
// carries, as the bot should take it: a photo's largest size or the
// document. It is zero for an update without one.
func (f *Telegram) Attachment(updateID int64) TGAttachment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updFiles[updateID]
}

// OnSent adds a hook called with each message the bot sends (sendMessage,
// sendPhoto, sendDocument) and the time the fake recorded it, outside the
// fake's lock and before the bot gets the answer. Hooks may run concurrently.
func (f *Telegram) OnSent(hook func(TGMessage, time.Time)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSent = append(f.onSent, hook)
}

// Press makes u press the inline button with data on message messageID of
// chatID and returns the update id. Data is not checked against the
// keyboard: a modified client can send anything. A message the fake does not
// know arrives as an inaccessible message (date 0), as Telegram sends those.
func (f *Telegram) Press(u TGUser, chatID int64, messageID int, data string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := &tgMessageJSON{MessageID: messageID, Chat: tgChatJSON{ID: chatID, Type: tgChatType(chatID)}}
	if c := f.chats[chatID]; c != nil {
		msg.Chat = c.json()
		if m := c.find(messageID); m != nil && m.fromBot {
			msg = f.botMessageLocked(c, m)
		}
	}
	f.nextQuery++
	qid := strconv.FormatInt(f.nextQuery, 10)
	f.queries[qid] = &tgQuery{}
	cb := &tgCallbackJSON{
		ID:           qid,
		From:         tgUserToJSON(u),
		Message:      msg,
		ChatInstance: strconv.FormatUint(uint64(chatID)^0x5bd1e9955bd1e995, 10),
		Data:         data,
	}
	id := f.enqueueLocked(tgKindCallback, tgUpdateJSON{CallbackQuery: cb})
	f.queryByUpd[id] = qid
	return id
}

// CallbackQueryID returns the callback query id carried by the update that
// Press returned, or "" for another update.
func (f *Telegram) CallbackQueryID(updateID int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queryByUpd[updateID]
}

// Redeliver queues the update with updateID again, with the same update_id,
// as Telegram does when a webhook answer is lost or an offset was not
// confirmed. Long polling returns it once even if its id was confirmed.
func (f *Telegram) Redeliver(updateID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.history[updateID]
	if !ok {
		f.t.Errorf("telegram fake: Redeliver: no update %d", updateID)
		return
	}
	f.nextSeq++
	f.queue = append(f.queue, &tgQueued{seq: f.nextSeq, id: old.id, kind: old.kind, body: old.body, replay: true})
	f.notifyLocked()
}

// Block makes userID block the bot: sends to their private chat get 403.
func (f *Telegram) Block(userID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocked[userID] = true
	f.notifyLocked()
}

// Unblock makes userID unblock the bot.
func (f *Telegram) Unblock(userID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blocked, userID)
	f.notifyLocked()
}

// Messages returns the messages the bot sent to chatID and did not delete,
// in order, in their current (edited) state.
func (f *Telegram) Messages(chatID int64) []TGMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.chats[chatID]
	if c == nil {
		return nil
	}
	var out []TGMessage
	for _, m := range c.msgs {
		if m.fromBot {
			out = append(out, m.export(chatID))
		}
	}
	return out
}

// WaitMessage waits up to 10 s for a message the bot sent to chatID (before
// or during the wait) that matches, and fails the test listing what was sent
// when none does.
func (f *Telegram) WaitMessage(t testing.TB, chatID int64, match func(TGMessage) bool) TGMessage {
	t.Helper()
	var found TGMessage
	ok := f.await(func() bool {
		for _, m := range f.Messages(chatID) {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		var b strings.Builder
		for _, m := range f.Messages(chatID) {
			fmt.Fprintf(&b, "\n  #%d %q buttons=%v attachments=%v", m.ID, m.Text, m.Buttons, m.Attachments)
		}
		if b.Len() == 0 {
			b.WriteString(" none")
		}
		t.Fatalf("telegram fake: no matching message in chat %d after %s; sent:%s", chatID, tgWaitTimeout, b.String())
	}
	return found
}

// Await waits up to 10 s until cond holds, re-checking on every change of
// the fake and every 20 ms, and fails the test naming what when it does not.
func (f *Telegram) Await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !f.await(cond) {
		t.Fatalf("telegram fake: timed out after %s waiting for %s", tgWaitTimeout, what)
	}
}

func (f *Telegram) await(cond func() bool) bool {
	deadline := time.NewTimer(tgWaitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
}

// CallbackAnswers returns the callback query ids the bot answered, in order.
func (f *Telegram) CallbackAnswers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.answered)
}

// PressAnswers counts, per callback query id, the bot's answerCallbackQuery
// calls (refused second answers included): every press must get exactly one.
func (f *Telegram) PressAnswers() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.queries))
	for id, q := range f.queries {
		out[id] = q.attempts
	}
	return out
}

// CallbackAnswer returns the notification text the bot answered the callback
// query with, and whether it answered at all.
func (f *Telegram) CallbackAnswer(queryID string) (text string, answered bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queries[queryID]
	if q == nil || !q.answered {
		return "", false
	}
	return q.text, true
}

// Calls counts the requests for method (case-insensitive) that passed the
// token check, including those failed by FailNext.
func (f *Telegram) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[strings.ToLower(method)]
}

// Uploads counts the sendPhoto and sendDocument calls that uploaded the
// file's bytes (rather than naming a file_id), refused ones included: every
// upload is the whole file over the wire.
func (f *Telegram) Uploads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploads
}

// WebhookDeliveries returns every webhook POST attempt, in order.
func (f *Telegram) WebhookDeliveries() []TGDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deliveries)
}

// Webhook returns the webhook as last set; its URL is "" when none is set.
func (f *Telegram) Webhook() TGWebhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hook == nil {
		return TGWebhook{}
	}
	w := f.lastWebhook
	w.AllowedUpdates = slices.Clone(w.AllowedUpdates)
	return w
}

// PendingUpdates counts the updates not yet confirmed by getUpdates or
// delivered to the webhook.
func (f *Telegram) PendingUpdates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

func (f *Telegram) close() {
	f.hookMu.Lock()
	f.mu.Lock()
	f.closed = true
	f.notifyLocked()
	f.mu.Unlock()
	f.stopHook()
	f.hookMu.Unlock()
	f.srv.Close()
}

func (f *Telegram) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Telegram) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		f.serveFile(w, rest)
		return
	}
	token, method, ok := tgSplitPath(r.URL.Path)
	if !ok {
		tgWriteError(w, &tgAPIError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	if token != TelegramToken {
		tgWriteError(w, &tgAPIError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	name := strings.ToLower(method)
	handle, ok := f.methods[name]
	if !ok {
		tgWriteError(w, &tgAPIError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	params, uploads, err := tgReadParams(w, r)
	if err != nil {
		tgWriteError(w, &tgAPIError{code: http.StatusBadRequest, desc: "Bad Request: " + err.Error()})
		return
	}
	ctx := r.Context()
	if len(uploads) > 0 {
		ctx = context.WithValue(ctx, tgUploadsKey{}, uploads)
	}
	f.mu.Lock()
	f.calls[name]++
	if _, ok := uploads[strings.TrimPrefix(name, "send")]; ok {
		f.uploads++
	}
	var fault *tgAPIError
	if fl := f.faults[name]; fl != nil && fl.left > 0 {
		fl.left--
		fault = &tgAPIError{code: fl.code, desc: fl.desc, retryAfter: fl.retryAfter}
	}
	if fault == nil {
		fault = f.admitLocked(name, params["chat_id"], time.Now())
	}
	if fl := f.everyNth[name]; fault == nil && fl.hit() {
		retryAfter := 0
		if fl.code == http.StatusTooManyRequests {
			retryAfter = 1
		}
		fault = &tgAPIError{code: fl.code, desc: tgDefaultDescription(fl.code, retryAfter), retryAfter: retryAfter}
	}
	f.notifyLocked()
	f.mu.Unlock()
	if fault != nil {
		tgWriteError(w, fault)
		return
	}
	result, apiErr := handle(ctx, params)
	if apiErr != nil {
		tgWriteError(w, apiErr)
		return
	}
	tgWriteJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

// admitLocked checks a call against the limits of EnforceLimits and counts
// it when it fits; only sends are limited.
func (f *Telegram) admitLocked(method, rawChat string, now time.Time) *tgAPIError {
	switch method {
	case "sendmessage", "sendphoto", "senddocument":
	default:
		return nil
	}
	var wait time.Duration
	if f.allSends != nil {
		wait = f.allSends.wait(now)
	}
	chat := f.chatWindowLocked(rawChat)
	if chat != nil {
		wait = max(wait, chat.wait(now))
	}
	if wait > 0 {
		f.tooMany++
		retryAfter := max(int((wait+time.Second-1)/time.Second), 1)
		return &tgAPIError{code: http.StatusTooManyRequests, desc: tgDefaultDescription(http.StatusTooManyRequests, retryAfter), retryAfter: retryAfter}
	}
	if f.allSends != nil {
		f.allSends.add(now)
	}
	if chat != nil {
		chat.add(now)
	}
	return nil
}

// chatWindowLocked returns the limit of the chat, nil when none applies.
func (f *Telegram) chatWindowLocked(rawChat string) *window {
	id, err := strconv.ParseInt(rawChat, 10, 64)
	if err != nil || id == 0 {
		return nil
	}
	if w := f.chatSends[id]; w != nil {
		return w
	}
	var w *window
	switch {
	case id > 0 && f.limits.PerChatPerSecond > 0:
		w = newWindow(f.limits.PerChatPerSecond, time.Second, time.Now())
	case id < 0 && f.limits.PerGroupPerMinute > 0:
		w = newWindow(f.limits.PerGroupPerMinute, time.Minute, time.Now())
	default:
		return nil
	}
	f.chatSends[id] = w
	return w
}

func (f *Telegram) getMe(context.Context, map[string]string) (any, *tgAPIError) {
	return tgMeJSON{tgUserJSON: tgBotUser(), CanJoinGroups: true}, nil
}

func (f *Telegram) getUpdates(ctx context.Context, p map[string]string) (any, *tgAPIError) {
	offset, _ := strconv.ParseInt(p["offset"], 10, 64)
	limit, err := strconv.Atoi(p["limit"])
	if err != nil || limit < 1 || limit > tgMaxUpdatesLimit {
		limit = tgMaxUpdatesLimit
	}
	timeout, _ := strconv.Atoi(p["timeout"])
	allowed, apiErr := tgParseAllowed(p["allowed_updates"])
	if apiErr != nil {
		return nil, apiErr
	}
	deadline := time.Now().Add(time.Duration(max(timeout, 0)) * time.Second)

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hook != nil {
		return nil, &tgAPIError{code: http.StatusConflict, desc: tgErrWebhookActive}
	}
	if allowed != nil {
		f.allowed = allowed
	}
	// A newer request terminates the older one, as on Telegram.
	f.pollGen++
	gen := f.pollGen
	f.notifyLocked()
	f.confirmLocked(offset)
	for {
		switch {
		case f.closed:
			return []json.RawMessage{}, nil
		case gen != f.pollGen:
			return nil, &tgAPIError{code: http.StatusConflict, desc: tgErrOtherPoll}
		case f.hook != nil:
			return nil, &tgAPIError{code: http.StatusConflict, desc: tgErrPollBySetHook}
		}
		if out := f.takeLocked(limit); len(out) > 0 || !time.Now().Before(deadline) {
			return out, nil
		}
		ch := f.changed
		f.mu.Unlock()
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
		f.mu.Lock()
		if ctx.Err() != nil {
			return []json.RawMessage{}, nil
		}
	}
}

// confirmLocked forgets the updates that offset confirms: every id below a
// positive offset, or all but the last -offset for a negative one.
func (f *Telegram) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		f.queue = slices.DeleteFunc(f.queue, func(q *tgQueued) bool { return q.id < offset && !q.replay })
	case offset < 0 && int64(len(f.queue)) > -offset:
		f.queue = slices.Clone(f.queue[int64(len(f.queue))+offset:])
	}
}

// takeLocked returns up to limit pending updates, leaving them queued until
// a later offset confirms them.
func (f *Telegram) takeLocked(limit int) []json.RawMessage {
	f.dropUnwantedLocked()
	out := []json.RawMessage{}
	for _, q := range f.queue {
		if len(out) == limit {
			break
		}
		out = append(out, q.body)
		q.replay = false
	}
	return out
}

// dropUnwantedLocked forgets updates of kinds the bot did not ask for.
func (f *Telegram) dropUnwantedLocked() {
	if len(f.allowed) == 0 {
		return
	}
	f.queue = slices.DeleteFunc(f.queue, func(q *tgQueued) bool { return !slices.Contains(f.allowed, q.kind) })
}

func (f *Telegram) setWebhook(ctx context.Context, p map[string]string) (any, *tgAPIError) {
	if p["url"] == "" {
		return f.deleteWebhook(ctx, p)
	}
	u, err := url.Parse(p["url"])
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrWebhookURL}
	}
	secret := p["secret_token"]
	if secret != "" && !tgSecretPattern.MatchString(secret) {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrSecretToken}
	}
	allowed, apiErr := tgParseAllowed(p["allowed_updates"])
	if apiErr != nil {
		return nil, apiErr
	}

	f.hookMu.Lock()
	defer f.hookMu.Unlock()
	f.stopHook()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, &tgAPIError{code: http.StatusInternalServerError, desc: "Internal Server Error"}
	}
	if allowed != nil {
		f.allowed = allowed
	}
	if p["drop_pending_updates"] == "true" {
		f.queue = nil
	}
	hookCtx, cancel := context.WithCancel(context.Background())
	h := &tgHook{url: p["url"], secret: secret, cancel: cancel, done: make(chan struct{})}
	f.hook = h
	f.lastWebhook = TGWebhook{URL: h.url, Secret: secret, AllowedUpdates: slices.Clone(f.allowed)}
	f.notifyLocked()
	go f.deliverLoop(hookCtx, h)
	return true, nil
}

func (f *Telegram) deleteWebhook(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.hookMu.Lock()
	defer f.hookMu.Unlock()
	f.stopHook()
	f.mu.Lock()
	defer f.mu.Unlock()
	if p["drop_pending_updates"] == "true" {
		f.queue = nil
	}
	f.notifyLocked()
	return true, nil
}

// stopHook ends webhook delivery and waits for its loop; the caller holds
// hookMu but not mu, which the loop needs to finish.
func (f *Telegram) stopHook() {
	f.mu.Lock()
	h := f.hook
	f.hook = nil
	f.mu.Unlock()
	if h != nil {
		h.cancel()
		<-h.done
	}
}

// deliverLoop POSTs queued updates to the webhook one at a time, retrying
// each with a growing backoff and dropping it after tgHookAttempts failures.
func (f *Telegram) deliverLoop(ctx context.Context, h *tgHook) {
	defer close(h.done)
	var seq int64
	tries := 0
	for {
		q, ok := f.nextForHook(ctx)
		if !ok {
			return
		}
		if q.seq != seq {
			seq, tries = q.seq, 0
		}
		status := f.post(ctx, h, q.body)
		if ctx.Err() != nil {
			return
		}
		tries++
		delivered := status >= 200 && status < 300
		f.mu.Lock()
		f.deliveries = append(f.deliveries, TGDelivery{UpdateID: q.id, Status: status})
		if delivered || tries >= tgHookAttempts {
			f.queue = slices.DeleteFunc(f.queue, func(e *tgQueued) bool { return e.seq == q.seq })
		}
		f.notifyLocked()
		f.mu.Unlock()
		if delivered || tries >= tgHookAttempts {
			continue
		}
		backoff := min(tgHookFirstBackoff<<(tries-1), tgHookMaxBackoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
	}
}

func (f *Telegram) nextForHook(ctx context.Context) (tgQueued, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if f.closed || ctx.Err() != nil {
			return tgQueued{}, false
		}
		f.dropUnwantedLocked()
		if len(f.queue) > 0 {
			return *f.queue[0], true
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		f.mu.Lock()
	}
}

func (f *Telegram) post(ctx context.Context, h *tgHook, body []byte) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	if h.secret != "" {
		req.Header.Set(tgSecretHeader, h.secret)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (f *Telegram) sendMessage(_ context.Context, p map[string]string) (any, *tgAPIError) {
	// Parsed before taking the lock, its error reported in Telegram's order.
	buttons, markupErr := tgParseMarkup(p["reply_markup"])
	return f.send(func(now time.Time) (*tgChat, *tgStored, *tgAPIError) {
		c, apiErr := f.writableChatLocked(p["chat_id"])
		if apiErr != nil {
			return nil, nil, apiErr
		}
		text := p["text"]
		entities, apiErr := tgParseEntities(p["entities"], text)
		if apiErr != nil {
			return nil, nil, apiErr
		}
		if strings.TrimSpace(text) == "" {
			return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrTextEmpty}
		}
		if utf8.RuneCountInString(text) > tgMaxTextRunes {
			return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrTooLong}
		}
		if markupErr != nil {
			return nil, nil, markupErr
		}
		return c, f.storeBotLocked(c, now, text, entities, buttons, nil), nil
	})
}

func (f *Telegram) sendPhoto(ctx context.Context, p map[string]string) (any, *tgAPIError) {
	return f.sendFile(ctx, "photo", p)
}

func (f *Telegram) sendDocument(ctx context.Context, p map[string]string) (any, *tgAPIError) {
	return f.sendFile(ctx, "document", p)
}

// sendFile serves sendPhoto and sendDocument, whose file parameter is named
// after its kind: a file id, or a file uploaded in a multipart part of that
// name.
func (f *Telegram) sendFile(ctx context.Context, kind string, p map[string]string) (any, *tgAPIError) {
	buttons, markupErr := tgParseMarkup(p["reply_markup"])
	up, uploaded := tgUploadsFrom(ctx)[kind]
	var (
		img       image.Config
		uploadErr *tgAPIError
	)
	if uploaded {
		img, uploadErr = tgCheckUpload(kind, up.data)
	}
	return f.send(func(now time.Time) (*tgChat, *tgStored, *tgAPIError) {
		c, apiErr := f.writableChatLocked(p["chat_id"])
		if apiErr != nil {
			return nil, nil, apiErr
		}
		var att TGAttachment
		if uploaded {
			if uploadErr != nil {
				return nil, nil, uploadErr
			}
		} else {
			id := p[kind]
			file := f.files[id]
			switch {
			case file == nil:
				return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrWrongFile}
			case file.kind != kind:
				return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrFileType}
			}
			att = TGAttachment{Kind: kind, FileID: id}
			if file.doc != nil {
				att.FileName = file.doc.FileName
			}
		}
		caption := p["caption"]
		if tgUTF16Len(caption) > tgMaxCaption {
			return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrCaptionTooLong}
		}
		entities, apiErr := tgParseEntities(p["caption_entities"], caption)
		if apiErr != nil {
			return nil, nil, apiErr
		}
		if markupErr != nil {
			return nil, nil, markupErr
		}
		if uploaded {
			// Only a file that is sent gets ids.
			att = f.storeUploadLocked(kind, up, img)
		}
		m := f.storeBotLocked(c, now, caption, entities, buttons, []TGAttachment{att})
		if uploaded {
			m.upload = up.data
		}
		return c, m, nil
	})
}

// tgUpload is a file part of a multipart request.
type tgUpload struct {
	name string
	data []byte
}

// tgUploadsKey carries a request's file parts to its method in the
// context, so that the methods keep one signature.
type tgUploadsKey struct{}

func tgUploadsFrom(ctx context.Context) map[string]tgUpload {
	uploads, _ := ctx.Value(tgUploadsKey{}).(map[string]tgUpload)
	return uploads
}

// tgCheckUpload refuses an uploaded file as Telegram does: an empty one, a
// photo that is no image or has sides out of proportion; a photo's size
// comes back.
func tgCheckUpload(kind string, data []byte) (image.Config, *tgAPIError) {
	if len(data) == 0 {
		return image.Config{}, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEmptyFile}
	}
	if kind != "photo" {
		return image.Config{}, nil
	}
	img, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || img.Width <= 0 || img.Height <= 0 {
		return image.Config{}, &tgAPIError{code: http.StatusBadRequest, desc: tgErrImageProcess}
	}
	long, short := max(img.Width, img.Height), min(img.Width, img.Height)
	if img.Width+img.Height > tgMaxPhotoSides || long > short*tgMaxPhotoRatio {
		return image.Config{}, &tgAPIError{code: http.StatusBadRequest, desc: tgErrPhotoDims}
	}
	return img, nil
}

// storeUploadLocked keeps an uploaded file under new file ids, as Telegram
// does, so that the bot may send it again by id, and returns it as the
// message's attachment: a photo by its largest size.
func (f *Telegram) storeUploadLocked(kind string, up tgUpload, img image.Config) TGAttachment {
	if kind == "document" {
		id, unique := f.newFileIDLocked(tgDocumentPrefix)
		mimeType := mime.TypeByExtension(filepath.Ext(up.name))
		if mimeType == "" {
			mimeType = "application/octet-stream"
		}
		doc := &tgDocumentJSON{FileID: id, FileUniqueID: unique, FileName: up.name, MimeType: mimeType, FileSize: len(up.data)}
		f.files[id] = &tgFile{kind: "document", doc: doc}
		f.blobs[id] = &tgBlob{unique: unique, dir: "documents", ext: filepath.Ext(up.name), size: len(up.data), data: up.data}
		return TGAttachment{Kind: kind, FileID: id, FileName: up.name}
	}
	file := &tgFile{kind: "photo"}
	w, h := img.Width, img.Height
	long := max(w, h)
	for _, side := range tgPhotoSides {
		sw, sh, size := w, h, len(up.data)
		if long > side {
			sw, sh = max(w*side/long, 1), max(h*side/long, 1)
			size = max(int(int64(size)*int64(sw*sh)/int64(w*h)), 1)
		}
		id, unique := f.newFileIDLocked(tgPhotoPrefix)
		file.photo = append(file.photo, tgPhotoJSON{FileID: id, FileUniqueID: unique, Width: sw, Height: sh, FileSize: size})
		f.files[id] = file
		// Every size serves the upload itself: the fake scales nothing.
		f.blobs[id] = &tgBlob{unique: unique, dir: "photos", ext: ".jpg", size: len(up.data), data: up.data}
		if long <= side {
			break // the photo itself is the largest size
		}
	}
	return TGAttachment{Kind: kind, FileID: file.photo[len(file.photo)-1].FileID}
}

// send runs the body of a sending method under the lock and then, outside
// it, tells the OnSent hooks about the message it recorded.
func (f *Telegram) send(body func(now time.Time) (*tgChat, *tgStored, *tgAPIError)) (any, *tgAPIError) {
	f.mu.Lock()
	now := time.Now() // under the lock, so that waiting for it counts as latency
	c, m, apiErr := body(now)
	if apiErr != nil {
		f.mu.Unlock()
		return nil, apiErr
	}
	f.notifyLocked()
	result := f.botMessageLocked(c, m)
	sent := m.export(c.id)
	hooks := f.onSent
	f.mu.Unlock()
	for _, h := range hooks {
		h(sent, now)
	}
	return result, nil
}

func (f *Telegram) storeBotLocked(c *tgChat, now time.Time, text string, entities []TGEntity, buttons [][]TGButton, files []TGAttachment) *tgStored {
	c.lastID++
	c.sent++
	m := &tgStored{id: c.lastID, fromBot: true, date: now.Unix(), text: text, entities: entities, buttons: buttons, files: files}
	c.add(m)
	return m
}

func (f *Telegram) editMessageText(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, m, apiErr := f.editableLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if len(m.files) > 0 {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrNoTextToEdit}
	}
	text := p["text"]
	if strings.TrimSpace(text) == "" {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrTextEmpty}
	}
	if utf8.RuneCountInString(text) > tgMaxTextRunes {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEditTooLong}
	}
	entities, apiErr := tgParseEntities(p["entities"], text)
	if apiErr != nil {
		return nil, apiErr
	}
	// Without reply_markup the inline keyboard is removed, as on Telegram.
	buttons, apiErr := tgParseMarkup(p["reply_markup"])
	if apiErr != nil {
		return nil, apiErr
	}
	return f.applyEditLocked(c, m, text, entities, buttons)
}

func (f *Telegram) editMessageCaption(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, m, apiErr := f.editableLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	if len(m.files) == 0 {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrNoCaption}
	}
	caption := p["caption"]
	if tgUTF16Len(caption) > tgMaxCaption {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEditCaption}
	}
	entities, apiErr := tgParseEntities(p["caption_entities"], caption)
	if apiErr != nil {
		return nil, apiErr
	}
	buttons, apiErr := tgParseMarkup(p["reply_markup"])
	if apiErr != nil {
		return nil, apiErr
	}
	return f.applyEditLocked(c, m, caption, entities, buttons)
}

func (f *Telegram) editMessageReplyMarkup(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, m, apiErr := f.editableLocked(p)
	if apiErr != nil {
		return nil, apiErr
	}
	buttons, apiErr := tgParseMarkup(p["reply_markup"])
	if apiErr != nil {
		return nil, apiErr
	}
	return f.applyEditLocked(c, m, m.text, m.entities, buttons)
}

func (f *Telegram) editableLocked(p map[string]string) (*tgChat, *tgStored, *tgAPIError) {
	if p["inline_message_id"] != "" {
		return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEditNotFound}
	}
	c, apiErr := f.writableChatLocked(p["chat_id"])
	if apiErr != nil {
		return nil, nil, apiErr
	}
	id, _ := strconv.Atoi(p["message_id"])
	m := c.find(id)
	if m == nil {
		return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEditNotFound}
	}
	if !m.fromBot {
		return nil, nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrCantEdit}
	}
	return c, m, nil
}

func (f *Telegram) applyEditLocked(c *tgChat, m *tgStored, text string, entities []TGEntity, buttons [][]TGButton) (any, *tgAPIError) {
	if text == m.text && slices.Equal(entities, m.entities) && tgSameButtons(buttons, m.buttons) {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrNotModified}
	}
	m.text, m.entities, m.buttons, m.editDate = text, entities, buttons, time.Now().Unix()
	f.notifyLocked()
	return f.botMessageLocked(c, m), nil
}

func (f *Telegram) answerCallbackQuery(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := p["callback_query_id"]
	q := f.queries[id]
	if q != nil {
		q.attempts++
	}
	if q == nil || q.answered {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrQueryInvalid}
	}
	q.answered, q.text = true, p["text"]
	f.answered = append(f.answered, id)
	f.notifyLocked()
	return true, nil
}

func (f *Telegram) deleteMessage(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := strconv.ParseInt(p["chat_id"], 10, 64)
	c := f.chats[id]
	if c == nil {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrChatNotFound}
	}
	msgID, _ := strconv.Atoi(p["message_id"])
	if c.find(msgID) == nil {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrDeleteNotFound}
	}
	delete(c.byID, msgID)
	c.msgs = slices.DeleteFunc(c.msgs, func(m *tgStored) bool { return m.id == msgID })
	f.notifyLocked()
	return true, nil
}

// writableChatLocked resolves chat_id to a chat the bot may write to: a
// group it is in, or a private chat with a person who wrote to it and has
// not blocked it.
func (f *Telegram) writableChatLocked(raw string) (*tgChat, *tgAPIError) {
	id, err := strconv.ParseInt(raw, 10, 64)
	c := f.chats[id]
	if err != nil || c == nil {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrChatNotFound}
	}
	if c.kind == "private" && f.blocked[id] {
		return nil, &tgAPIError{code: http.StatusForbidden, desc: tgErrBlocked}
	}
	return c, nil
}

func (f *Telegram) privateChatLocked(u TGUser) *tgChat {
	c := f.chats[u.ID]
	if c == nil {
		c = &tgChat{id: u.ID, kind: "private"}
		f.chats[u.ID] = c
	}
	c.user = u
	return c
}

func (f *Telegram) groupChatLocked(g TGGroup) *tgChat {
	c := f.chats[g.ID]
	if c == nil {
		c = &tgChat{id: g.ID, kind: tgChatType(g.ID)}
		f.chats[g.ID] = c
	}
	c.title = g.Title
	return c
}

// userMessageLocked records a person's message and returns it for the
// caller to fill in before it is queued.
func (f *Telegram) userMessageLocked(c *tgChat, u TGUser) *tgMessageJSON {
	c.lastID++
	now := time.Now().Unix()
	from := tgUserToJSON(u)
	msg := &tgMessageJSON{MessageID: c.lastID, From: &from, Chat: c.json(), Date: now}
	c.add(&tgStored{id: c.lastID, date: now, userMsg: msg})
	return msg
}

// messageJSONLocked returns m as Telegram puts it in reply_to_message,
// without a reply of its own.
func (f *Telegram) messageJSONLocked(c *tgChat, m *tgStored) *tgMessageJSON {
	if m.fromBot {
		return f.botMessageLocked(c, m)
	}
	out := *m.userMsg
	out.ReplyToMessage = nil
	return &out
}

func (f *Telegram) botMessageLocked(c *tgChat, m *tgStored) *tgMessageJSON {
	from := tgBotUser()
	out := &tgMessageJSON{MessageID: m.id, From: &from, Chat: c.json(), Date: m.date, EditDate: m.editDate, Text: m.text, Entities: m.entities}
	if len(m.files) > 0 {
		out.Text, out.Caption, out.Entities, out.CaptionEnts = "", m.text, nil, m.entities
		file := f.files[m.files[0].FileID]
		out.Photo, out.Document = file.photo, file.doc
	}
	if len(m.buttons) > 0 {
		mk := &tgMarkupJSON{}
		for _, row := range m.buttons {
			var r []tgButtonJSON
			for _, b := range row {
				r = append(r, tgButtonJSON{Text: b.Text, URL: b.URL, CallbackData: b.Data})
			}
			mk.InlineKeyboard = append(mk.InlineKeyboard, r)
		}
		out.ReplyMarkup = mk
	}
	return out
}

func (f *Telegram) enqueueLocked(kind string, u tgUpdateJSON) int64 {
	id := f.nextUpdate
	f.nextUpdate++
	u.UpdateID = id
	body, err := json.Marshal(u)
	if err != nil {
		panic(fmt.Sprintf("telegram fake: marshal update: %v", err))
	}
	f.nextSeq++
	q := tgQueued{seq: f.nextSeq, id: id, kind: kind, body: body}
	f.history[id] = q
	f.queue = append(f.queue, &q)
	f.notifyLocked()
	return id
}

// newFileIDLocked returns a new file id with prefix and its file_unique_id.
func (f *Telegram) newFileIDLocked(prefix string) (id, unique string) {
	f.nextFile++
	sum := sha256.Sum256(strconv.AppendInt([]byte("file"), f.nextFile, 10))
	enc := base64.RawURLEncoding.EncodeToString(sum[:])
	return prefix + enc, "AQAD" + enc[:12]
}

func (c *tgChat) add(m *tgStored) {
	if c.byID == nil {
		c.byID = map[int]*tgStored{}
	}
	c.msgs = append(c.msgs, m)
	c.byID[m.id] = m
}

func (c *tgChat) find(id int) *tgStored { return c.byID[id] }

func (m *tgStored) export(chatID int64) TGMessage {
	return TGMessage{ID: m.id, ChatID: chatID, Text: m.text, Entities: slices.Clone(m.entities), Buttons: tgCloneButtons(m.buttons),
		Attachments: slices.Clone(m.files), Upload: slices.Clone(m.upload)}
}

func (c *tgChat) json() tgChatJSON {
	if c.kind == "private" {
		return tgChatJSON{ID: c.id, Type: c.kind, FirstName: c.user.FirstName, LastName: c.user.LastName, Username: c.user.Username}
	}
	return tgChatJSON{ID: c.id, Type: c.kind, Title: c.title}
}

func tgChatType(id int64) string {
	switch {
	case id > 0:
		return "private"
	case id <= -1000000000000:
		return "supergroup"
	default:
		return "group"
	}
}

func tgBotUser() tgUserJSON {
	return tgUserJSON{ID: tgBotID, IsBot: true, FirstName: tgBotFirstName, Username: TelegramBotUsername}
}

func tgUserToJSON(u TGUser) tgUserJSON {
	return tgUserJSON{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

// tgEntityTypes are the entities a bot may send.
var tgEntityTypes = map[string]bool{
	"mention": true, "hashtag": true, "cashtag": true, "bot_command": true, "url": true, "email": true,
	"phone_number": true, "bold": true, "italic": true, "underline": true, "strikethrough": true, "spoiler": true,
	"blockquote": true, "expandable_blockquote": true, "code": true, "pre": true, "text_link": true,
	"text_mention": true, "custom_emoji": true,
}

// tgParseEntities reads the entities parameter of a text, refusing what
// Telegram refuses: bad JSON, unknown types, spans outside the text, links
// without a URL.
func tgParseEntities(raw, text string) ([]TGEntity, *tgAPIError) {
	if raw == "" {
		return nil, nil
	}
	var entities []TGEntity
	if err := json.Unmarshal([]byte(raw), &entities); err != nil {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEntities + "can't parse entities JSON object"}
	}
	n := tgUTF16Len(text)
	for _, e := range entities {
		switch {
		case !tgEntityTypes[e.Type]:
			return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEntities + "unsupported entity type " + e.Type}
		case e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n:
			return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEntities + "entity beyond the end of the text"}
		case e.Type == "text_link" && e.URL == "":
			return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrEntities + "text_link without a URL"}
		}
	}
	return entities, nil
}

// tgCommandEntities marks a leading /command the way Telegram does, with its
// length in UTF-16 code units.
func tgCommandEntities(text string) []tgEntityJSON {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	head, _, _ := strings.Cut(text, " ")
	head, _, _ = strings.Cut(head, "\n")
	if len(head) < 2 {
		return nil
	}
	return []tgEntityJSON{{Type: "bot_command", Offset: 0, Length: len(utf16.Encode([]rune(head)))}}
}

func tgUTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func tgParseAllowed(raw string) ([]string, *tgAPIError) {
	if raw == "" {
		return nil, nil
	}
	var kinds []string
	if err := json.Unmarshal([]byte(raw), &kinds); err != nil {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrAllowedUpdates}
	}
	if kinds == nil {
		kinds = []string{}
	}
	return kinds, nil
}

// tgParseMarkup reads an inline keyboard and checks its buttons as Telegram
// does; other markup kinds carry no inline buttons.
func tgParseMarkup(raw string) ([][]TGButton, *tgAPIError) {
	if raw == "" || raw == "null" {
		return nil, nil
	}
	var mk struct {
		InlineKeyboard [][]map[string]json.RawMessage `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &mk); err != nil {
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrMarkup}
	}
	var out [][]TGButton
	for _, row := range mk.InlineKeyboard {
		var r []TGButton
		for _, fields := range row {
			b, apiErr := tgParseButton(fields)
			if apiErr != nil {
				return nil, apiErr
			}
			r = append(r, b)
		}
		out = append(out, r)
	}
	return out, nil
}

func tgParseButton(fields map[string]json.RawMessage) (TGButton, *tgAPIError) {
	str := func(key string) string {
		var s string
		_ = json.Unmarshal(fields[key], &s)
		return s
	}
	b := TGButton{Text: str("text"), Data: str("callback_data"), URL: str("url")}
	if raw, ok := fields["copy_text"]; ok {
		// go-telegram/bot v1.19.0 sends an empty copy_text on every button
		// of its own type; Telegram has refused that (the library's PR #167).
		var ct struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &ct); err != nil || ct.Text == "" {
			return b, &tgAPIError{code: http.StatusBadRequest, desc: tgErrCopyText}
		}
	}
	if len(b.Data) > tgMaxButtonData {
		return b, &tgAPIError{code: http.StatusBadRequest, desc: tgErrButtonData}
	}
	if b.URL != "" {
		u, err := url.Parse(b.URL)
		if err != nil || !slices.Contains([]string{"http", "https", "tg"}, u.Scheme) || u.Host == "" {
			return b, &tgAPIError{code: http.StatusBadRequest, desc: tgErrButtonURL}
		}
	}
	if b.Data == "" && b.URL == "" && !tgHasOtherAction(fields) {
		return b, &tgAPIError{code: http.StatusBadRequest, desc: tgErrTextButton}
	}
	return b, nil
}

// tgHasOtherAction reports a button kind the fake does not model (web app,
// login, inline switch, copy text...), which Telegram accepts.
func tgHasOtherAction(fields map[string]json.RawMessage) bool {
	for key, v := range fields {
		switch key {
		case "text", "url", "callback_data", "icon_custom_emoji_id", "style":
			continue
		case "copy_text":
			return true // an empty one is refused before
		default:
			if s := string(v); s != "null" && s != "false" && s != `""` {
				return true
			}
		}
	}
	return false
}

func tgSameButtons(a, b [][]TGButton) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func tgCloneButtons(in [][]TGButton) [][]TGButton {
	if in == nil {
		return nil
	}
	out := make([][]TGButton, len(in))
	for i, row := range in {
		out[i] = slices.Clone(row)
	}
	return out
}

// tgSplitPath splits /bot<token>/<method>.
func tgSplitPath(path string) (token, method string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		return "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	if !ok || method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return token, method, true
}

// tgReadParams reads parameters from the query string and a multipart,
// urlencoded or JSON body into strings; JSON objects and arrays stay JSON
// text, as they arrive in form fields. The file parts of a multipart body
// come back by field name.
func tgReadParams(w http.ResponseWriter, r *http.Request) (map[string]string, map[string]tgUpload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, tgMaxRequestBody)
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		for k, v := range r.URL.Query() {
			out[k] = v[0]
		}
		var body map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("can't parse JSON body: %w", err)
		}
		for k, v := range body {
			var s string
			if json.Unmarshal(v, &s) == nil {
				out[k] = s
			} else {
				out[k] = string(v)
			}
		}
		return out, nil, nil
	case "multipart/form-data":
		// go-telegram/bot sends an empty body, not even a closing boundary, for
		// methods without parameters; Telegram takes it.
		if err := r.ParseMultipartForm(tgMaxRequestBody); err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("can't parse multipart body: %w", err)
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, fmt.Errorf("can't parse form body: %w", err)
		}
	}
	for k, v := range r.Form {
		out[k] = v[0]
	}
	uploads, err := tgReadFiles(r)
	if err != nil {
		return nil, nil, err
	}
	return out, uploads, nil
}

// tgReadFiles reads the first file of each field of a parsed multipart form.
func tgReadFiles(r *http.Request) (map[string]tgUpload, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File) == 0 {
		return nil, nil
	}
	out := make(map[string]tgUpload, len(r.MultipartForm.File))
	for field, headers := range r.MultipartForm.File {
		fh := headers[0]
		file, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("can't read file %s: %w", field, err)
		}
		data, err := io.ReadAll(file)
		_ = file.Close()
		if err != nil {
			return nil, fmt.Errorf("can't read file %s: %w", field, err)
		}
		out[field] = tgUpload{name: fh.Filename, data: data}
	}
	return out, nil
}

func tgDefaultDescription(code, retryAfter int) string {
	switch code {
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusConflict:
		return "Conflict"
	default:
		return http.StatusText(code)
	}
}

func tgWriteError(w http.ResponseWriter, e *tgAPIError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]int{"retry_after": e.retryAfter}
	}
	tgWriteJSON(w, e.code, body)
}

func tgWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// FileData returns the bytes the file server serves for fileID: of a
// photo's size, a document, a voice message, a file the bot uploaded; nil
// for an id the fake does not know.
func (f *Telegram) FileData(fileID string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.blobs[fileID]; b != nil {
		return b.data
	}
	return nil
}

// getFile names a file's path on the file server, valid (unlike Telegram's,
// for an hour) until the test ends; a file over 20 MB is refused.
func (f *Telegram) getFile(_ context.Context, p map[string]string) (any, *tgAPIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := p["file_id"]
	b := f.blobs[id]
	switch {
	case b == nil:
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrInvalidFileID}
	case b.size > tgMaxDownload:
		return nil, &tgAPIError{code: http.StatusBadRequest, desc: tgErrFileTooBig}
	}
	sum := sha256.Sum256([]byte(id))
	path := b.dir + "/file_" + base64.RawURLEncoding.EncodeToString(sum[:6]) + b.ext
	f.paths[path] = id
	return map[string]any{"file_id": id, "file_unique_id": b.unique, "file_size": b.size, "file_path": path}, nil
}

// serveFile serves /file/bot<token>/<file_path> for a path getFile named;
// anything else, a wrong token included, is not found, as on Telegram.
func (f *Telegram) serveFile(w http.ResponseWriter, rest string) {
	token, path, _ := strings.Cut(rest, "/")
	f.mu.Lock()
	f.calls["file"]++
	var data []byte
	if b := f.blobs[f.paths[path]]; token == TelegramToken && b != nil {
		data = b.data
	}
	f.mu.Unlock()
	if data == nil {
		tgWriteError(w, &tgAPIError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
