package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// Notifier tells people things in their messengers, on the platform where
// each was seen last and can be reached, in their language: the chat side of
// what the domains tell people. The conversations (Hub) share it, and so can
// any other front end, so that a person hears the same whoever acted.
type Notifier struct {
	Deps
	// notes and orgs serve composing deliveries (notify_news.go).
	notes noteCache
	orgs  orgCache
}

// NewNotifier returns a notifier; a nil Clock or Logger gets a default.
func NewNotifier(d Deps) *Notifier {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if len(d.HotlineSettings.Topics) == 0 {
		d.HotlineSettings = hotline.DefaultSettings()
		if d.Hotline != nil {
			d.HotlineSettings = d.Hotline.Settings()
		}
	}
	return &Notifier{Deps: d}
}

// sendOutcome records that a person blocked the bot; such a failure is not an
// error of the handler.
func (h *Notifier) sendOutcome(ctx context.Context, p bot.Platform, externalID string, err error) error {
	if errors.Is(err, bot.ErrBlocked) {
		if markErr := h.Store.MarkBlocked(ctx, storage.Platform(p), externalID, h.Clock()); markErr != nil && !errors.Is(markErr, storage.ErrNotFound) {
			return fmt.Errorf("mark blocked: %w", markErr)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("send message: %w", err)
	}
	return nil
}

// notify sends a message to a person on the platform where they were seen
// last and can be reached. key names the notice, so that a retry of the work
// that sends it is not delivered twice where the platform can tell. It
// reports whether anyone received it.
func (h *Notifier) notify(ctx context.Context, key string, accounts []storage.Account, lang string, build func(lang string) bot.Message) (bool, error) {
	_, ok, err := h.notifyAt(ctx, key, accounts, lang, build)
	return ok, err
}

// sentTo is where a message went, in which language.
type sentTo struct {
	platform bot.Platform
	sent     bot.Sent
	lang     string
}

// notifyAt is notify that also says where the message went.
func (h *Notifier) notifyAt(ctx context.Context, key string, accounts []storage.Account, lang string, build func(lang string) bot.Message) (sentTo, bool, error) {
	for _, a := range accounts {
		sender, ok := h.Senders[bot.Platform(a.Platform)]
		if !ok || a.BlockedAt != nil {
			continue
		}
		m := build(lang)
		m.ChatID, m.Key = a.ExternalID, key+":"+string(a.Platform)+":"+a.ExternalID
		sent, err := sender.Send(ctx, m)
		if errors.Is(err, bot.ErrBlocked) {
			if err := h.sendOutcome(ctx, bot.Platform(a.Platform), a.ExternalID, err); err != nil {
				return sentTo{}, false, err
			}
			continue
		}
		if err != nil {
			return sentTo{}, false, fmt.Errorf("notify: %w", err)
		}
		return sentTo{platform: bot.Platform(a.Platform), sent: sent, lang: lang}, true, nil
	}
	return sentTo{}, false, nil
}

// tellMember sends the member of t a message on the platform they were
// seen on last; it reports whether they got it.
func (h *Notifier) tellMember(ctx context.Context, t storage.Ticket, key string, build func(lang string) bot.Message) (bool, error) {
	_, ok, err := h.tellMemberAt(ctx, t, key, build)
	return ok, err
}

// tellMemberAt is tellMember that also says where the message went.
func (h *Notifier) tellMemberAt(ctx context.Context, t storage.Ticket, key string, build func(lang string) bot.Message) (sentTo, bool, error) {
	if t.PersonID == 0 {
		return sentTo{}, false, nil
	}
	p, err := h.Store.Person(ctx, t.PersonID)
	if err != nil {
		return sentTo{}, false, fmt.Errorf("load member: %w", err)
	}
	if p.ErasedAt != nil {
		return sentTo{}, false, nil
	}
	accounts, err := h.Store.Accounts(ctx, p.ID)
	if err != nil {
		return sentTo{}, false, fmt.Errorf("load member accounts: %w", err)
	}
	return h.notifyAt(ctx, key, accounts, locales.Normalize(p.Locale), build)
}

// keepPost remembers a message about ticketID that carries its buttons, so
// that they go once the ticket is closed. The message is out already: a
// failure is logged, and its buttons then answer that the ticket is closed.
func (h *Notifier) keepPost(ctx context.Context, ticketID int64, kind storage.PostKind, at sentTo) {
	if at.sent.MessageID == "" {
		return
	}
	err := h.Store.AddTicketPost(ctx, storage.TicketPost{TicketID: ticketID, Platform: storage.Platform(at.platform),
		ChatID: at.sent.ChatID, MessageID: at.sent.MessageID, Kind: kind, Lang: at.lang})
	if err != nil {
		h.Logger.WarnContext(ctx, "remember ticket post", "ticket", ticketID, "err", err)
	}
}

// tellPerson sends a message to a person by id where they can be reached;
// it reports whether they got it.
func (h *Notifier) tellPerson(ctx context.Context, personID int64, key string, build func(lang string) bot.Message) (bool, error) {
	_, ok, err := h.tellPersonAt(ctx, personID, key, build)
	return ok, err
}

// tellPersonAt is tellPerson that also says where the message went.
func (h *Notifier) tellPersonAt(ctx context.Context, personID int64, key string, build func(lang string) bot.Message) (sentTo, bool, error) {
	p, err := h.Store.Person(ctx, personID)
	if err != nil {
		return sentTo{}, false, fmt.Errorf("load person: %w", err)
	}
	accounts, err := h.Store.Accounts(ctx, personID)
	if err != nil {
		return sentTo{}, false, fmt.Errorf("load accounts: %w", err)
	}
	return h.notifyAt(ctx, key, accounts, locales.Normalize(p.Locale), build)
}
