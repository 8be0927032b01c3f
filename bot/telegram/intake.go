package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/unionhub/unionhub/bot"
)

const (
	secretHeader   = "X-Telegram-Bot-Api-Secret-Token"
	maxWebhookBody = 1 << 20
	// pollSlack lets a long poll's HTTP request outlive the poll it waits for.
	pollSlack = 10 * time.Second
)

// Run takes updates until ctx ends, then returns nil. With a webhook URL it
// registers the webhook and leaves intake to WebhookHandler; otherwise it
// removes any webhook and long-polls.
//
// Long polling hands updates to sink one at a time, in order, and the SDK
// confirms an offset to Telegram only in the getUpdates call after the
// update was handed over, so a confirmed update is never lost; an update
// fetched but not handed over when ctx ends comes again on the next Run.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	if a.cfg.WebhookURL != "" {
		if _, err := a.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            a.cfg.WebhookURL,
			SecretToken:    a.cfg.WebhookSecret,
			AllowedUpdates: allowedUpdates,
		}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("run telegram: set webhook: %w", err)
		}
		a.log.Info("telegram webhook set")
		<-ctx.Done()
		return nil
	}

	if _, err := a.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("run telegram: delete webhook: %w", err)
	}
	// A poller per Run: the SDK remembers the last offset it fetched, which
	// must not outlive updates dropped when the previous Run stopped.
	opts := append(a.sdkOptions(a.pollClient()),
		tgbot.WithAllowedUpdates(allowedUpdates),
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithUpdatesChannelCap(0),
		tgbot.WithWorkers(1),
		tgbot.WithDefaultHandler(func(ctx context.Context, _ *tgbot.Bot, upd *models.Update) {
			u, ok := a.translate(upd)
			if !ok {
				a.log.Debug("telegram update ignored", "update", upd.ID)
				return
			}
			// The update is already fetched: hand it over even if ctx ends now.
			sink.Deliver(context.WithoutCancel(ctx), u)
		}),
	)
	poller, err := tgbot.New(a.cfg.Token, opts...)
	if err != nil {
		return fmt.Errorf("run telegram: %w", err)
	}
	a.log.Info("telegram long polling started")
	poller.Start(ctx)
	return nil
}

// pollClient is the configured client with a timeout long enough for a
// long poll.
func (a *Adapter) pollClient() *http.Client {
	c := *a.cfg.HTTPClient
	if need := a.cfg.PollTimeout + pollSlack; c.Timeout != 0 && c.Timeout < need {
		c.Timeout = need
	}
	return &c
}

// WebhookHandler serves Telegram's webhook POSTs. It checks the secret
// token, hands the update to sink and answers once the handler finished:
// 200 when it succeeded, 503 when it failed, so that Telegram retries.
// A request without the secret is refused before its body is read, and
// only counted (see bot.Refusals): anyone may send one.
func (a *Adapter) WebhookHandler(sink bot.Sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get(secretHeader)
		if a.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.cfg.WebhookSecret)) != 1 {
			a.refusals.Refuse(r.Context(), bot.RefusedSecret)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		var upd models.Update
		if err := json.Unmarshal(body, &upd); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		u, ok := a.translate(&upd)
		if !ok {
			a.log.Debug("telegram update ignored", "update", upd.ID)
			w.WriteHeader(http.StatusOK)
			return
		}
		if err := <-sink.Deliver(r.Context(), u); err != nil {
			a.log.Warn("telegram webhook: update failed, asking for a retry", "update", u.ID, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// translate converts the update kinds the core understands.
func (a *Adapter) translate(upd *models.Update) (bot.Update, bool) {
	switch {
	case upd.Message != nil:
		return a.fromMessage(upd.ID, upd.Message), true
	case upd.CallbackQuery != nil:
		return a.fromCallback(upd.ID, upd.CallbackQuery)
	default:
		return bot.Update{}, false
	}
}

func (a *Adapter) fromMessage(id int64, m *models.Message) bot.Update {
	u := bot.Update{
		Platform:    bot.Telegram,
		ID:          strconv.FormatInt(id, 10),
		Chat:        chat(m.Chat),
		MessageID:   strconv.Itoa(m.ID),
		Text:        m.Text,
		Attachments: attachments(m),
		HasMedia: m.Animation != nil || m.Audio != nil || m.Video != nil || m.VideoNote != nil ||
			m.Voice != nil || m.Sticker != nil || m.Story != nil || m.PaidMedia != nil,
		At: time.Unix(int64(m.Date), 0).UTC(),
	}
	u.Format = format(m.Entities)
	if u.Text == "" {
		u.Text, u.Format = m.Caption, format(m.CaptionEntities)
	}
	// In a forum every message of a topic replies to the topic's creation; that is no reply to a post.
	if r := m.ReplyToMessage; r != nil && r.ForumTopicCreated == nil {
		u.ReplyTo = strconv.Itoa(r.ID)
	}
	if m.From != nil {
		u.From = user(*m.From)
	}
	if a.forUs(u.Text) {
		u.Command, u.Args = bot.ParseCommand(u.Text)
	}
	return u
}

// format keeps the entities an author applies (bold, a link on a word...);
// those Telegram finds by itself (mentions, URLs, commands) it finds again
// when the text is sent on, and the rest cannot be sent by a bot.
func format(entities []models.MessageEntity) []bot.Span {
	var out []bot.Span
	for _, e := range entities {
		kind := bot.SpanKind(e.Type)
		if e.Type == models.MessageEntityTypeExpandableBlockquote {
			kind = bot.SpanQuote
		}
		s := bot.Span{Kind: kind, Offset: e.Offset, Length: e.Length, URL: e.URL}
		if s.Valid(s.Offset + s.Length) {
			out = append(out, s)
		}
	}
	return out
}

// attachments returns the photo, at its largest size, or the document of m.
// An animation also comes as a document, for old clients; it is not one.
func attachments(m *models.Message) []bot.Attachment {
	switch {
	case len(m.Photo) > 0:
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height >= best.Width*best.Height {
				best = p
			}
		}
		return []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachPhoto, FileID: best.FileID}}
	case m.Document != nil && m.Animation == nil:
		return []bot.Attachment{{Platform: bot.Telegram, Kind: bot.AttachDocument, FileID: m.Document.FileID, Name: m.Document.FileName}}
	default:
		return nil
	}
}

// forUs reports whether a command is not addressed to another bot, as
// /cmd@otherbot is in a group with several bots.
func (a *Adapter) forUs(text string) bool {
	head, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	_, addressee, found := strings.Cut(head, "@")
	return !found || strings.EqualFold(addressee, a.username)
}

func (a *Adapter) fromCallback(id int64, q *models.CallbackQuery) (bot.Update, bool) {
	var (
		c     models.Chat
		msgID int
	)
	switch {
	case q.Message.Message != nil:
		c, msgID = q.Message.Message.Chat, q.Message.Message.ID
	case q.Message.InaccessibleMessage != nil:
		c, msgID = q.Message.InaccessibleMessage.Chat, q.Message.InaccessibleMessage.MessageID
	default:
		// A press on an inline-mode message has no chat to answer in.
		return bot.Update{}, false
	}
	return bot.Update{
		Platform: bot.Telegram,
		ID:       strconv.FormatInt(id, 10),
		Chat:     chat(c),
		From:     user(q.From),
		Callback: &bot.Callback{ID: q.ID, Data: q.Data, MessageID: strconv.Itoa(msgID)},
		At:       a.cfg.Now().UTC(),
	}, true
}

func chat(c models.Chat) bot.Chat {
	kind := bot.ChatGroup
	if c.Type == models.ChatTypePrivate {
		kind = bot.ChatPrivate
	}
	return bot.Chat{ID: strconv.FormatInt(c.ID, 10), Kind: kind, Title: c.Title}
}

func user(u models.User) bot.User {
	return bot.User{
		ID:        strconv.FormatInt(u.ID, 10),
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Username:  u.Username,
		Language:  u.LanguageCode,
	}
}
