// Package bot is the platform-neutral core: updates in, messages out, a router
// with middleware and a dispatcher that keeps each chat's updates in order.
// The Telegram and VK adapters translate their platforms to and from it.
package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/storage"
)

// Platform names a messenger; it is the storage vocabulary, re-exported so
// that adapters need not import storage.
type Platform = storage.Platform

// Supported platforms.
const (
	Telegram = storage.Telegram
	VK       = storage.VK
)

// Limits every platform shares; adapters enforce the stricter of theirs.
const (
	MaxTextRunes     = 4096 // Telegram and VK message text
	MaxButtonData    = 64   // Telegram callback_data bytes; VK allows more
	MaxButtonLabel   = 40   // VK button label runes
	MaxButtonsPerRow = 5
	MaxKeyboardRows  = 6  // VK inline keyboards
	MaxButtons       = 10 // VK inline keyboards, all rows together
	// MaxUploadBytes is Telegram's limit for a photo, the strictest of the
	// platforms' limits on an upload (VK takes 50 MB).
	MaxUploadBytes = 10 << 20
	// MaxDownloadBytes is the largest file a person sent that the bot
	// downloads: Telegram's Bot API serves none larger.
	MaxDownloadBytes = 20 << 20
)

// ChatKind tells a private chat from a group.
type ChatKind int

// Chat kinds.
const (
	ChatPrivate ChatKind = iota
	ChatGroup
)

// User is the sender of an update as the platform describes them.
type User struct {
	ID        string
	FirstName string
	LastName  string
	Username  string
	Language  string // IETF tag from the client, may be empty
}

// Chat is where an update happened and where replies go.
type Chat struct {
	ID    string
	Kind  ChatKind
	Title string
}

// Callback is a press of an inline button.
type Callback struct {
	ID        string // Telegram callback query id, VK event id
	Data      string
	MessageID string // the message that carries the button
	// answered is set by the one answer a press gets; see Answer.
	answered atomic.Bool
}

// Update is one incoming event, already translated from the platform.
type Update struct {
	Platform  Platform
	ID        string // unique per platform and bot, for dedupe
	Chat      Chat
	From      User
	MessageID string
	Text      string
	// Command is the lower-case command without slash or @bot suffix; Args is
	// the rest of the line. For a deep link both are "start" and its payload.
	Command  string
	Args     string
	Callback *Callback
	// Format is the formatting the author applied to Text (Telegram).
	Format []Span
	// Attachments are the photos and documents of the message.
	Attachments []Attachment
	// HasMedia is set when the message carries media the core does not take
	// (voice, video, stickers...).
	HasMedia bool
	// ReplyTo is the id of the message this one replies to, if any.
	ReplyTo string
	At      time.Time
}

// Attachment is a photo or document by its platform's own reference; it can
// be sent again on the same platform only.
type Attachment = storage.Attachment

// Span is formatting over part of a text, in UTF-16 units.
type Span = storage.Span

// SpanKind is a kind of formatting, by Telegram's names.
type SpanKind = storage.SpanKind

// SpanQuote is a quotation block.
const SpanQuote = storage.SpanQuote

// Prefixed is text with prefix before it and its formatting moved along.
func Prefixed(prefix, text string, format []Span) (string, []Span) {
	if len(format) == 0 {
		return prefix + text, nil
	}
	shift := storage.UTF16Len(prefix)
	moved := make([]Span, len(format))
	for i, s := range format {
		s.Offset += shift
		moved[i] = s
	}
	return prefix + text, moved
}

// PlainText is text for a platform without formatting (VK): each text
// link's address follows its words in brackets, so that it is not lost.
func PlainText(text string, format []Span) string {
	var links []Span
	for _, s := range format {
		if s.Kind == storage.SpanLink && s.URL != "" {
			links = append(links, s)
		}
	}
	if len(links) == 0 {
		return text
	}
	slices.SortStableFunc(links, func(a, b Span) int { return (b.Offset + b.Length) - (a.Offset + a.Length) })
	units := utf16.Encode([]rune(text))
	for _, l := range links {
		end := l.Offset + l.Length
		if end > len(units) || l.Offset < 0 {
			continue
		}
		units = slices.Concat(units[:end], utf16.Encode([]rune(" ("+l.URL+")")), units[end:])
	}
	return string(utf16.Decode(units))
}

// Attachment kinds.
const (
	AttachPhoto    = "photo"
	AttachDocument = "document"
)

// ChatKey identifies the chat across platforms.
func (u *Update) ChatKey() string { return string(u.Platform) + ":" + u.Chat.ID }

// Button is one inline button: it either sends Data back or opens URL.
type Button struct {
	Text string
	Data string
	URL  string
}

// Keyboard is rows of inline buttons attached to a message.
type Keyboard [][]Button

// Message is an outgoing message.
type Message struct {
	ChatID string
	Text   string
	// Format is formatting over Text; platforms without it send the text plain.
	Format   []Span
	Keyboard Keyboard
	// Attachments go with the text: on Telegram as photos or documents with
	// the text as caption or after them, on VK in the same message.
	Attachments []Attachment
	// Upload is a new photo or document sent from bytes (a generated
	// chart, a file staff uploaded), ahead of the Attachments: the text is
	// its caption on Telegram when it fits the caption limit, otherwise it
	// follows as a message of its own; on VK file and text go in one
	// message. Edit leaves the file in place.
	Upload *Upload
	// Key identifies the message across retries of the work that sends it;
	// platforms that deduplicate sends (VK's random_id) derive their id from it.
	Key string
	// Pace, when set, is waited for before each call to the platform that
	// the message takes after its first (on VK an upload's server and save
	// before the send; on Telegram each file after the first, and the text
	// after the files), so that a caller pacing its sends keeps every call
	// under the platform's limit. An error stops the send there.
	Pace func(ctx context.Context) error
}

// Turns paces the calls to the platform that one message takes: the first
// goes at once (its caller paced it), each later one after the message's
// Pace. Adapters take a turn before each call.
type Turns struct {
	pace func(ctx context.Context) error
	made int
}

// TurnsOf returns the turns of m's calls.
func TurnsOf(m Message) *Turns { return &Turns{pace: m.Pace} }

// Next waits, unless it comes before the message's first call, for the
// turn of the next call.
func (t *Turns) Next(ctx context.Context) error {
	t.made++
	if t.made == 1 || t.pace == nil {
		return nil
	}
	if err := t.pace(ctx); err != nil {
		return fmt.Errorf("wait for the next call's turn: %w", err)
	}
	return nil
}

// Upload is a file sent from its bytes rather than by a platform's reference.
type Upload struct {
	Name string // file name, like "chart.png"; "" means "image.png" for a photo
	// Kind is AttachPhoto (also when empty) or AttachDocument.
	Kind string
	// Data is the file; a photo's is PNG, JPEG or GIF: what both
	// platforms take as a photo.
	Data []byte
}

// Document reports whether u goes as a document rather than a photo.
func (u *Upload) Document() bool { return u.Kind == AttachDocument }

// FileName is the name to upload under.
func (u *Upload) FileName() string {
	switch {
	case u.Name != "":
		return u.Name
	case u.Document():
		return "document"
	}
	return "image.png"
}

// Sent identifies a message the bot sent, so that it can be edited.
type Sent struct {
	ChatID    string
	MessageID string
	// Uploaded is the platform's own reference to the message's Upload once
	// the platform took it: the file goes again on this platform as an
	// Attachment of the Upload's kind with this FileID, never uploaded
	// twice. A send that failed after the upload went through returns it
	// with the error.
	Uploaded string
}

// Sender is a platform's outgoing side.
type Sender interface {
	Platform() Platform
	Send(ctx context.Context, m Message) (Sent, error)
	// Edit replaces the text and keyboard of a message the bot sent.
	Edit(ctx context.Context, s Sent, m Message) error
	// EditKeyboard replaces only the keyboard of a message the bot sent
	// (none removes it), leaving its text and files exactly as the person
	// saw them.
	EditKeyboard(ctx context.Context, s Sent, kb Keyboard) error
	// AnswerCallback acknowledges a button press, with a short notice if text is set.
	AnswerCallback(ctx context.Context, u *Update, text string) error
}

// Errors that adapters map platform errors to.
var (
	// ErrBlocked: the person blocked the bot or has not allowed it to write.
	ErrBlocked = errors.New("blocked by the user")
	// ErrChatGone: the chat does not exist or the bot is no longer in it.
	ErrChatGone = errors.New("chat not found")
	// ErrInFlight: another replica is processing the same update right now.
	ErrInFlight = errors.New("update is being processed elsewhere")
	// ErrClosed: the dispatcher no longer takes updates.
	ErrClosed = errors.New("dispatcher closed")
	// ErrFileTooBig: a file a person sent is over MaxDownloadBytes.
	ErrFileTooBig = storage.ErrFileTooBig
	// ErrFileGone: the platform no longer serves a file a person sent.
	ErrFileGone = storage.ErrFileGone
)

// RateLimitError says the platform refused a call for too many requests.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many requests, retry after %s", e.RetryAfter)
}

// ValidateMessage checks an outgoing message against the shared limits, so
// that a message is refused whole instead of being cut by a platform.
func ValidateMessage(m Message) error {
	// Telegram counts UTF-16 units, the stricter reading: an emoji takes two.
	n := storage.UTF16Len(m.Text)
	if n > MaxTextRunes {
		return fmt.Errorf("validate message: text of %d UTF-16 units exceeds %d", n, MaxTextRunes)
	}
	if u := m.Upload; u != nil {
		if len(u.Data) == 0 {
			return errors.New("validate message: upload without data")
		}
		if len(u.Data) > MaxUploadBytes {
			return fmt.Errorf("validate message: upload of %d bytes exceeds %d", len(u.Data), MaxUploadBytes)
		}
		if u.Kind != "" && u.Kind != AttachPhoto && u.Kind != AttachDocument {
			return fmt.Errorf("validate message: upload kind %q", u.Kind)
		}
	}
	for _, s := range m.Format {
		if !s.Valid(n) {
			return fmt.Errorf("validate message: format %+v does not fit the text", s)
		}
	}
	if len(m.Keyboard) > MaxKeyboardRows {
		return fmt.Errorf("validate message: %d keyboard rows exceed %d", len(m.Keyboard), MaxKeyboardRows)
	}
	for _, row := range m.Keyboard {
		if len(row) > MaxButtonsPerRow {
			return fmt.Errorf("validate message: %d buttons in a row exceed %d", len(row), MaxButtonsPerRow)
		}
		for _, b := range row {
			if len(b.Data) > MaxButtonData {
				return fmt.Errorf("validate message: button data %q exceeds %d bytes", b.Data, MaxButtonData)
			}
		}
	}
	return nil
}

// BulkSender sends one message to many chats in one call, where the
// platform allows it (VK's messages.send with peer_ids).
type BulkSender interface {
	// MaxBulk is the most chats one call may take.
	MaxBulk() int
	// SendBulk sends m to every chat; per-chat failures come back in the
	// results (mapped like Send's errors), a failure of the whole call as
	// the error. Repeating a call with the same m.Key to the same chats
	// delivers nothing twice.
	SendBulk(ctx context.Context, chatIDs []string, m Message) ([]BulkResult, error)
}

// BulkResult is the outcome of a bulk send for one chat.
type BulkResult struct {
	ChatID    string
	MessageID string
	Err       error
}

// APIClient is the HTTP client the adapters use by default: it keeps
// enough idle connections to the platform for the broadcast engine's
// parallel sends, where the standard two per host would open (and
// TLS-handshake) a new connection for most of them.
func APIClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Timeout: timeout, Transport: t}
}
