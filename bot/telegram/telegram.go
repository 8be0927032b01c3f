// Package telegram connects the bot core to the Telegram Bot API. It is the
// only package that imports go-telegram/bot.
package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/unionhub/unionhub/bot"
)

const (
	defaultAPIURL      = "https://api.telegram.org"
	defaultPollTimeout = 50 * time.Second
	minPollTimeout     = time.Second // the API takes whole seconds; 0 would mean short polling
	sendTimeout        = 30 * time.Second
	maxCaption         = 1024 // photo and document captions
)

// Telegram's rule for setWebhook's secret_token.
var secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// allowedUpdates are the update kinds the core understands.
var allowedUpdates = []string{"message", "callback_query"}

// Config configures the adapter.
type Config struct {
	Token  string
	APIURL string // "" means https://api.telegram.org; a self-hosted Bot API server or a fake otherwise
	// Webhook mode when WebhookURL is set; the secret is then required.
	WebhookURL    string
	WebhookSecret string
	HTTPClient    *http.Client     // optional
	PollTimeout   time.Duration    // long-poll wait, whole seconds; default 50s
	Logger        *slog.Logger     // optional
	Metrics       *bot.Metrics     // optional
	Now           func() time.Time // optional clock for the time of button presses
}

// Adapter is the Telegram side of the bot: it sends messages and takes
// updates by long polling or webhook.
type Adapter struct {
	cfg      Config
	api      *tgbot.Bot
	username string
	log      *slog.Logger
	refusals *bot.Refusals // of the webhook
}

var _ bot.Sender = (*Adapter)(nil)

// New checks cfg and the token (one getMe call) and returns an adapter.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("new telegram adapter: empty token")
	}
	if cfg.WebhookURL != "" && !secretPattern.MatchString(cfg.WebhookSecret) {
		return nil, errors.New("new telegram adapter: webhook mode needs a secret of 1-256 characters A-Z, a-z, 0-9, _ or -")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = defaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = defaultPollTimeout
	}
	cfg.PollTimeout = max(cfg.PollTimeout.Truncate(time.Second), minPollTimeout)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = bot.APIClient(sendTimeout)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Adapter{cfg: cfg, log: cfg.Logger.With("platform", string(bot.Telegram))}
	a.refusals = bot.NewRefusals(bot.Telegram, cfg.Metrics, a.log, bot.RefusalLogInterval, cfg.Now)
	api, err := tgbot.New(cfg.Token, a.sdkOptions(sendWhole(cfg.HTTPClient))...)
	if err != nil {
		return nil, fmt.Errorf("new telegram adapter: %w", err)
	}
	a.api = api
	me, err := api.GetMe(ctx)
	if err != nil {
		return nil, fmt.Errorf("new telegram adapter: get me: %w", err)
	}
	a.username = me.Username
	return a, nil
}

// sdkOptions are the SDK options every client of ours shares: our server,
// no start-up getMe of its own, and its logging routed to slog.
func (a *Adapter) sdkOptions(client *http.Client) []tgbot.Option {
	return []tgbot.Option{
		tgbot.WithServerURL(a.cfg.APIURL),
		tgbot.WithSkipGetMe(),
		// The SDK long-polls for pollTimeout minus one second.
		tgbot.WithHTTPClient(a.cfg.PollTimeout+time.Second, client),
		tgbot.WithErrorsHandler(func(err error) { a.log.Warn("telegram api", "err", err) }),
		tgbot.WithDebugHandler(func(format string, args ...any) { a.log.Debug("telegram api: " + fmt.Sprintf(format, args...)) }),
	}
}

// Username is the bot's username, without @.
func (a *Adapter) Username() string { return a.username }

// Platform implements bot.Sender.
func (a *Adapter) Platform() bot.Platform { return bot.Telegram }

// Send implements bot.Sender. An upload goes first as a photo or document
// sent from its bytes, then attachments of this platform by file_id, a
// photo or document message each; the text rides as the caption of the
// first when it fits Telegram's caption limit, otherwise it follows them as
// a message of its own. The keyboard travels with the text, and Sent names
// that message (the first attachment's when the text is its caption or
// empty), so that Edit reaches both, and the file_id Telegram gave the
// upload (of a photo, its largest size). Attachments of another platform
// cannot be sent here and are skipped: bringing them across is the
// caller's job. Each message after the first waits for m.Pace. A failure
// midway leaves the messages already sent, and still names the upload when
// it went.
func (a *Adapter) Send(ctx context.Context, m bot.Message) (bot.Sent, error) {
	if err := bot.ValidateMessage(m); err != nil {
		return bot.Sent{}, fmt.Errorf("send message: %w", err)
	}
	chatID, err := strconv.ParseInt(m.ChatID, 10, 64)
	if err != nil {
		return bot.Sent{}, fmt.Errorf("send message: chat id %q: %w", m.ChatID, err)
	}
	files, err := ownFiles(m.Attachments)
	if err != nil {
		return bot.Sent{}, fmt.Errorf("send message: %w", err)
	}
	if skipped := len(m.Attachments) - len(files); skipped > 0 {
		a.log.DebugContext(ctx, "telegram send: attachments of another platform skipped", "chat", chatID, "skipped", skipped)
	}
	if u := m.Upload; u != nil {
		// The upload leads so that the caption, the text, describes it.
		kind := bot.AttachPhoto
		if u.Document() {
			kind = bot.AttachDocument
		}
		files = append([]outgoing{{kind: kind, upload: u}}, files...)
	}
	msg, uploaded, err := a.deliver(ctx, chatID, m, files)
	a.cfg.Metrics.CountSend(bot.Telegram, err)
	if err != nil {
		return bot.Sent{Uploaded: uploaded}, err
	}
	return bot.Sent{ChatID: strconv.FormatInt(msg.Chat.ID, 10), MessageID: strconv.Itoa(msg.ID), Uploaded: uploaded}, nil
}

// deliver sends the files and the text and returns the message that carries
// the text and keyboard, and the file_id of the upload once it went.
func (a *Adapter) deliver(ctx context.Context, chatID int64, m bot.Message, files []outgoing) (*models.Message, string, error) {
	captioned := len(files) > 0 && captionFits(m.Text)
	var lead *models.Message
	uploaded := ""
	turns := bot.TurnsOf(m)
	for i, f := range files {
		var caption bot.Message
		if i == 0 && captioned {
			caption = m
		}
		if err := turns.Next(ctx); err != nil {
			return nil, uploaded, fmt.Errorf("send %s: %w", f.kind, err)
		}
		msg, err := a.sendFile(ctx, chatID, f, caption)
		if err != nil {
			return nil, uploaded, mapError("send "+f.kind, err)
		}
		if f.upload != nil {
			uploaded = fileID(msg)
		}
		if i == 0 && captioned {
			lead = msg
		}
	}
	if captioned {
		return lead, uploaded, nil
	}
	if err := turns.Next(ctx); err != nil {
		return nil, uploaded, fmt.Errorf("send message: %w", err)
	}
	msg, err := a.api.SendMessage(ctx, &tgbot.SendMessageParams{
		ChatID:      chatID,
		Text:        m.Text,
		Entities:    entities(m.Format),
		ReplyMarkup: markup(m.Keyboard),
	})
	if err != nil {
		return nil, uploaded, mapError("send message", err)
	}
	return msg, uploaded, nil
}

// fileID is the file_id of a photo or document message: of a photo, its
// largest size, which Telegram lists last.
func fileID(msg *models.Message) string {
	switch {
	case msg.Document != nil:
		return msg.Document.FileID
	case len(msg.Photo) > 0:
		return msg.Photo[len(msg.Photo)-1].FileID
	}
	return ""
}

// outgoing is one photo or document to send: by file_id, or uploaded.
type outgoing struct {
	kind   string
	fileID string
	upload *bot.Upload
}

// input is the file as the SDK sends it; a fresh reader each time, so that
// an upload could be sent twice.
func (o outgoing) input() models.InputFile {
	if o.upload != nil {
		return &models.InputFileUpload{Filename: o.upload.FileName(), Data: bytes.NewReader(o.upload.Data)}
	}
	return &models.InputFileString{Data: o.fileID}
}

// sendFile sends one photo or document with caption's text, formatting and
// keyboard.
func (a *Adapter) sendFile(ctx context.Context, chatID int64, f outgoing, caption bot.Message) (*models.Message, error) {
	file := f.input()
	if f.kind == bot.AttachPhoto {
		return a.api.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: chatID, Photo: file, Caption: caption.Text,
			CaptionEntities: entities(caption.Format), ReplyMarkup: markup(caption.Keyboard)})
	}
	return a.api.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: chatID, Document: file, Caption: caption.Text,
		CaptionEntities: entities(caption.Format), ReplyMarkup: markup(caption.Keyboard)})
}

// entities is the formatting as Telegram takes it.
func entities(format []bot.Span) []models.MessageEntity {
	var out []models.MessageEntity
	for _, s := range format {
		out = append(out, models.MessageEntity{Type: models.MessageEntityType(s.Kind), Offset: s.Offset, Length: s.Length, URL: s.URL})
	}
	return out
}

// ownFiles returns the attachments Telegram can send again, refusing kinds
// it does not know.
func ownFiles(all []bot.Attachment) ([]outgoing, error) {
	var own []outgoing
	for _, f := range all {
		if f.Platform != bot.Telegram {
			continue
		}
		if f.Kind != bot.AttachPhoto && f.Kind != bot.AttachDocument {
			return nil, fmt.Errorf("validate message: attachment kind %q", f.Kind)
		}
		if f.FileID == "" {
			return nil, errors.New("validate message: attachment without a file id")
		}
		own = append(own, outgoing{kind: f.Kind, fileID: f.FileID})
	}
	return own, nil
}

// captionFits counts UTF-16 code units, the stricter reading of Telegram's
// "1024 characters", so that a caption is never refused.
func captionFits(text string) bool {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n <= maxCaption
}

// Edit implements bot.Sender; an empty keyboard removes the buttons, and an
// edit that changes nothing succeeds. A photo or document message has its
// caption edited instead, which must then fit the caption limit; its file,
// an upload's too, stays as it is, so m.Upload is not sent again.
func (a *Adapter) Edit(ctx context.Context, s bot.Sent, m bot.Message) error {
	if err := bot.ValidateMessage(m); err != nil {
		return fmt.Errorf("edit message: %w", err)
	}
	chatID, err := strconv.ParseInt(s.ChatID, 10, 64)
	if err != nil {
		return fmt.Errorf("edit message: chat id %q: %w", s.ChatID, err)
	}
	msgID, err := strconv.Atoi(s.MessageID)
	if err != nil {
		return fmt.Errorf("edit message: message id %q: %w", s.MessageID, err)
	}
	_, err = a.api.EditMessageText(ctx, &tgbot.EditMessageTextParams{
		ChatID:      chatID,
		MessageID:   msgID,
		Text:        m.Text,
		Entities:    entities(m.Format),
		ReplyMarkup: markup(m.Keyboard),
	})
	// Sent does not say whether the message has media: Telegram does.
	if badRequest(err, "there is no text in the message to edit") {
		if !captionFits(m.Text) {
			return fmt.Errorf("edit message: text too long for the caption of a media message (limit %d)", maxCaption)
		}
		_, err = a.api.EditMessageCaption(ctx, &tgbot.EditMessageCaptionParams{
			ChatID:          chatID,
			MessageID:       msgID,
			Caption:         m.Text,
			CaptionEntities: entities(m.Format),
			ReplyMarkup:     markup(m.Keyboard),
		})
	}
	if err != nil && !badRequest(err, "message is not modified") {
		return mapError("edit message", err)
	}
	return nil
}

// EditKeyboard implements bot.Sender with editMessageReplyMarkup, which
// leaves the text or caption and the files as they are.
func (a *Adapter) EditKeyboard(ctx context.Context, s bot.Sent, kb bot.Keyboard) error {
	if err := bot.ValidateMessage(bot.Message{Keyboard: kb}); err != nil {
		return fmt.Errorf("edit keyboard: %w", err)
	}
	chatID, err := strconv.ParseInt(s.ChatID, 10, 64)
	if err != nil {
		return fmt.Errorf("edit keyboard: chat id %q: %w", s.ChatID, err)
	}
	msgID, err := strconv.Atoi(s.MessageID)
	if err != nil {
		return fmt.Errorf("edit keyboard: message id %q: %w", s.MessageID, err)
	}
	_, err = a.api.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: msgID, ReplyMarkup: markup(kb)})
	if err != nil && !badRequest(err, "message is not modified") {
		return mapError("edit keyboard", err)
	}
	return nil
}

func badRequest(err error, description string) bool {
	return errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), description)
}

// AnswerCallback implements bot.Sender.
func (a *Adapter) AnswerCallback(ctx context.Context, u *bot.Update, text string) error {
	if u.Callback == nil {
		return errors.New("answer callback: update is not a button press")
	}
	if _, err := a.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{
		CallbackQueryID: u.Callback.ID,
		Text:            text,
	}); err != nil {
		return mapError("answer callback", err)
	}
	return nil
}

// markup converts a keyboard; no keyboard is an untyped nil so that the SDK
// leaves reply_markup out. The SDK's own button type would carry an empty
// copy_text on every button, which Telegram refuses (BUTTON_COPY_TEXT_INVALID),
// so the markup is a type of ours with only the fields buttons use.
func markup(k bot.Keyboard) models.ReplyMarkup {
	if len(k) == 0 {
		return nil
	}
	rows := make([][]inlineButton, 0, len(k))
	for _, row := range k {
		r := make([]inlineButton, 0, len(row))
		for _, b := range row {
			r = append(r, inlineButton{Text: b.Text, CallbackData: b.Data, URL: b.URL})
		}
		rows = append(rows, r)
	}
	return inlineMarkup{InlineKeyboard: rows}
}

// inlineMarkup is reply_markup with an inline keyboard, as Telegram reads it.
type inlineMarkup struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// mapError turns the SDK's errors into the core's, keeping the original in
// the chain.
func mapError(op string, err error) error {
	var tooMany *tgbot.TooManyRequestsError
	switch {
	case errors.As(err, &tooMany):
		limit := &bot.RateLimitError{RetryAfter: time.Duration(tooMany.RetryAfter) * time.Second}
		return fmt.Errorf("%s: %w: %w", op, limit, err)
	case errors.Is(err, tgbot.ErrorForbidden) && (strings.Contains(err.Error(), "kicked") || strings.Contains(err.Error(), "not a member")):
		// The bot left or was removed from a group: the chat is gone for it.
		return fmt.Errorf("%s: %w: %w", op, bot.ErrChatGone, err)
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("%s: %w: %w", op, bot.ErrBlocked, err)
	case errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "chat not found"):
		return fmt.Errorf("%s: %w: %w", op, bot.ErrChatGone, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// Download fetches a file a person sent, by its file_id: getFile names
// its path on the file server, which serves it. Telegram's Bot API serves
// files up to 20 MB; a larger one is bot.ErrFileTooBig, a file_id it does
// not know bot.ErrFileGone.
func (a *Adapter) Download(ctx context.Context, f bot.Attachment) ([]byte, error) {
	if f.Platform != bot.Telegram {
		return nil, fmt.Errorf("download file: a file of %s", f.Platform)
	}
	ctx, cancel := context.WithTimeout(ctx, bot.DownloadTimeout)
	defer cancel()
	file, err := a.api.GetFile(ctx, &tgbot.GetFileParams{FileID: f.FileID})
	switch {
	case badRequest(err, "file is too big"):
		return nil, fmt.Errorf("download file: %w: %w", bot.ErrFileTooBig, err)
	case badRequest(err, "file_id"):
		return nil, fmt.Errorf("download file: %w: %w", bot.ErrFileGone, err)
	case err != nil:
		return nil, mapError("download file", err)
	case file.FileSize > bot.MaxDownloadBytes:
		return nil, fmt.Errorf("download file of %d bytes: %w", file.FileSize, bot.ErrFileTooBig)
	case file.FilePath == "":
		return nil, fmt.Errorf("download file: no path given: %w", bot.ErrFileGone)
	}
	return bot.Download(ctx, a.cfg.HTTPClient, a.api.FileDownloadLink(file))
}
