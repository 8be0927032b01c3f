// Package handlers holds the conversations of UnionHub: registration,
// approval, profile, account linking and chat binding. It speaks to people
// through the platform-neutral bot core and keeps records through storage.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// Deps is what the conversations need from the outside world.
type Deps struct {
	Store   storage.Store
	State   storage.State
	Catalog *locales.Catalog
	// Senders holds the platforms this process talks to.
	Senders map[bot.Platform]bot.Sender
	Links   Links
	// Hotline is the deployment's hot-line data; empty means the default.
	Hotline HotlineConfig
	// Surveys are the deployment's survey definitions with their schedules.
	Surveys []surveys.Survey
	// Broadcaster is told when an outbox was built; nil in tests of the
	// conversations alone.
	Broadcaster Broadcaster
	Clock       func() time.Time
	Logger      *slog.Logger
}

// Hub routes updates to the conversations.
type Hub struct {
	Deps
	notes    noteCache
	orgs     orgCache
	progress progressWatch
}

// New returns a hub; a nil Clock or Logger gets a default.
func New(d Deps) *Hub {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if len(d.Hotline.Topics) == 0 {
		d.Hotline = DefaultHotlineConfig()
	}
	return &Hub{Deps: d}
}

// Router returns the router of every command and button: outer middleware
// (recover, logging, dedupe, locks) first, then the session middleware that
// loads the person, roles and language.
func (h *Hub) Router(outer ...bot.Middleware) *bot.Router {
	r := bot.NewRouter(h.handle(h.onOther))
	r.Use(outer...)
	// A panicking handler becomes an error that withSession apologises for.
	r.Use(h.withSession, bot.Recover())

	r.Command("start", h.handle(h.cmdStart))
	r.Command("help", h.handle(h.cmdHelp))
	r.Command("menu", h.handle(h.cmdMenu))
	r.Command("profile", h.handle(h.cmdProfile))
	r.Command("lang", h.handle(h.cmdLang))
	r.Command("forget", h.handle(h.cmdForget))
	r.Command("link", h.handle(h.cmdLink))
	r.Command("cancel", h.handle(h.cmdCancel))
	r.Command("bind", h.handle(h.cmdBind))
	r.Command("pending", h.handle(h.cmdPending))
	r.Command("ask", h.handle(h.cmdAsk))
	r.Command("my", h.handle(h.cmdMy))
	r.Command("tickets", h.handle(h.cmdTickets))
	r.Command("stats", h.handle(h.cmdStats))
	r.Command("desk", h.handle(h.cmdDesk))
	r.Command("responders", h.handle(h.cmdResponders))
	r.Command("news", h.handle(h.cmdNews))
	r.Command("suggest", h.handle(h.cmdSuggest))
	r.Command("unbind", h.handle(h.cmdUnbind))
	r.Command("surveys", h.handle(h.cmdSurveys))
	r.Command("monitoring", h.handle(h.cmdMonitoring))

	r.Callback(cbMenu, h.handle(h.onMenuButton))
	r.Callback(cbLang, h.handle(h.onLangButton))
	r.Callback(cbReg, h.handle(h.onRegButton))
	r.Callback(cbPick, h.handle(h.onPickButton))
	r.Callback(cbApprove, h.handle(h.onApproveButton))
	r.Callback(cbProfile, h.handle(h.onProfileButton))
	r.Callback(cbForget, h.handle(h.onForgetButton))
	r.Callback(cbBind, h.handle(h.onBindButton))
	r.Callback(cbAsk, h.handle(h.onAskButton))
	r.Callback(cbTicket, h.handle(h.onTicketButton))
	r.Callback(cbResponders, h.handle(h.onRespondersButton))
	r.Callback(cbNews, h.handle(h.onNewsButton))
	r.Callback(cbRelay, h.handle(h.onRelayButton))
	r.Callback(cbSuggest, h.handle(h.onSuggestButton))
	r.Callback(cbSurvey, h.handle(h.onSurveyButton))
	r.Callback(cbBoard, h.handle(h.onBoardButton))
	return r
}

// Button data prefixes; the router splits data at the first colon.
const (
	cbMenu    = "menu"
	cbLang    = "lang"
	cbReg     = "reg"
	cbPick    = "pick"
	cbApprove = "appr"
	cbProfile = "prof"
	cbForget  = "forget"
	cbBind    = "bind"
)

type sessionKey struct{}

// session is what one update's handling knows about its sender.
type session struct {
	hub    *Hub
	u      *bot.Update
	sender bot.Sender
	lang   string
	// person is nil for someone not (or no longer) registered.
	person      *storage.Person
	memberships []storage.Membership
	loadedRoles bool
	conv        *conversation // nil until loaded; see conversation()
	sends       int           // messages sent so far, to key each one
}

// withSession loads the sender's person and language, notes that they are
// reachable again, and answers a failure with an apology instead of silence.
func (h *Hub) withSession(next bot.HandlerFunc) bot.HandlerFunc {
	return func(ctx context.Context, u *bot.Update) error {
		sender, ok := h.Senders[u.Platform]
		if !ok {
			return fmt.Errorf("handle update: no sender for platform %q", u.Platform)
		}
		s := &session{hub: h, u: u, sender: sender, lang: locales.Normalize(u.From.Language)}
		err := s.load(ctx)
		if err == nil {
			err = next(context.WithValue(ctx, sessionKey{}, s), u)
		}
		if err != nil && u.Chat.Kind == bot.ChatPrivate && h.firstApology(ctx, u) {
			if _, sendErr := sender.Send(ctx, bot.Message{ChatID: u.Chat.ID, Text: s.t("error.internal")}); sendErr != nil {
				h.Logger.WarnContext(ctx, "send apology", "chat", u.Chat.ID, "err", sendErr)
			}
		}
		return err
	}
}

// firstApology reports whether this update's failure has not been apologised
// for yet: a platform retrying a webhook must not make the bot say sorry on
// every attempt. Without the state store it apologises.
func (h *Hub) firstApology(ctx context.Context, u *bot.Update) bool {
	if u.ID == "" {
		return true
	}
	res, err := h.State.Claim(ctx, "apology:"+string(u.Platform)+":"+u.ID, time.Hour)
	return err != nil || res == storage.ClaimNew
}

func (s *session) load(ctx context.Context) error {
	st := s.hub.Store
	p, err := st.PersonByAccount(ctx, storage.Platform(s.u.Platform), s.u.From.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		conv, err := s.conversation(ctx)
		if err != nil {
			return err
		}
		if conv.Lang != "" {
			s.lang = conv.Lang
		}
		return nil
	case err != nil:
		return fmt.Errorf("load person: %w", err)
	}
	s.person = &p
	if p.Locale != "" {
		s.lang = p.Locale
	}
	if err := st.TouchAccount(ctx, storage.Platform(s.u.Platform), s.u.From.ID, s.hub.Clock()); err != nil {
		return fmt.Errorf("touch account: %w", err)
	}
	return nil
}

// handle adapts a session handler to the router.
func (h *Hub) handle(fn func(ctx context.Context, s *session) error) bot.HandlerFunc {
	return func(ctx context.Context, u *bot.Update) error {
		s, ok := ctx.Value(sessionKey{}).(*session)
		if !ok {
			return errors.New("handle update: session middleware missing")
		}
		return fn(ctx, s)
	}
}

// roles returns the person's memberships, loaded once per update.
func (s *session) roles(ctx context.Context) ([]storage.Membership, error) {
	if s.person == nil || s.loadedRoles {
		return s.memberships, nil
	}
	ms, err := s.hub.Store.Memberships(ctx, s.person.ID)
	if err != nil {
		return nil, fmt.Errorf("load memberships: %w", err)
	}
	s.memberships, s.loadedRoles = ms, true
	return ms, nil
}

// activeRoles returns the memberships in force.
func (s *session) activeRoles(ctx context.Context) ([]storage.Membership, error) {
	ms, err := s.roles(ctx)
	if err != nil {
		return nil, err
	}
	var active []storage.Membership
	for _, m := range ms {
		if m.Status == storage.StatusActive {
			active = append(active, m)
		}
	}
	return active, nil
}

func (s *session) t(key string, kv ...any) string { return s.hub.Catalog.T(s.lang, key, kv...) }

func (s *session) plural(key string, n int, kv ...any) string {
	return s.hub.Catalog.Plural(s.lang, key, n, kv...)
}

func (s *session) private() bool { return s.u.Chat.Kind == bot.ChatPrivate }

// reply answers in the update's chat: a button press edits the message that
// carried the button (so stale buttons disappear), anything else gets a new
// message.
func (s *session) reply(ctx context.Context, text string, kb bot.Keyboard) error {
	m := bot.Message{ChatID: s.u.Chat.ID, Text: text, Keyboard: kb}
	if cb := s.u.Callback; cb != nil {
		if err := s.sender.AnswerCallback(ctx, s.u, ""); err != nil {
			s.hub.Logger.WarnContext(ctx, "answer callback", "err", err)
		}
		if cb.MessageID != "" {
			err := s.sender.Edit(ctx, bot.Sent{ChatID: s.u.Chat.ID, MessageID: cb.MessageID}, m)
			if err == nil {
				return nil
			}
			s.hub.Logger.DebugContext(ctx, "edit failed, sending anew", "err", err)
		}
	}
	return s.send(ctx, m)
}

// editPressed replaces the message whose button was pressed, leaving the
// press itself to be answered by the caller.
func (s *session) editPressed(ctx context.Context, text string, kb bot.Keyboard) error {
	m := bot.Message{ChatID: s.u.Chat.ID, Text: text, Keyboard: kb}
	if cb := s.u.Callback; cb != nil && cb.MessageID != "" {
		if err := s.sender.Edit(ctx, bot.Sent{ChatID: s.u.Chat.ID, MessageID: cb.MessageID}, m); err == nil {
			return nil
		}
	}
	return s.send(ctx, m)
}

// ask acknowledges a button press, if any, and asks in a new message, so
// that the message with the button stays as it was.
func (s *session) ask(ctx context.Context, text string, kb bot.Keyboard) error {
	if s.u.Callback != nil {
		if err := s.sender.AnswerCallback(ctx, s.u, ""); err != nil {
			s.hub.Logger.WarnContext(ctx, "answer callback", "err", err)
		}
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: text, Keyboard: kb})
}

// send sends a new message to the update's chat. Each message is keyed by
// the update and its place among the update's messages, so a retried update
// repeats the same keys.
func (s *session) send(ctx context.Context, m bot.Message) error {
	s.sends++
	if s.u.ID != "" {
		m.Key = fmt.Sprintf("%s:%s:%d", s.u.Platform, s.u.ID, s.sends)
	}
	_, err := s.sender.Send(ctx, m)
	return s.hub.sendOutcome(ctx, s.u.Platform, s.u.From.ID, err)
}

// notice answers a button press with a short pop-up and changes nothing.
func (s *session) notice(ctx context.Context, key string, kv ...any) error {
	if s.u.Callback != nil {
		return s.sender.AnswerCallback(ctx, s.u, s.t(key, kv...))
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, kv...)})
}

// sendOutcome records that a person blocked the bot; such a failure is not an
// error of the handler.
func (h *Hub) sendOutcome(ctx context.Context, p bot.Platform, externalID string, err error) error {
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
func (h *Hub) notify(ctx context.Context, key string, accounts []storage.Account, lang string, build func(lang string) bot.Message) (bool, error) {
	for _, a := range accounts {
		sender, ok := h.Senders[bot.Platform(a.Platform)]
		if !ok || a.BlockedAt != nil {
			continue
		}
		m := build(lang)
		m.ChatID, m.Key = a.ExternalID, key+":"+string(a.Platform)+":"+a.ExternalID
		_, err := sender.Send(ctx, m)
		if errors.Is(err, bot.ErrBlocked) {
			if err := h.sendOutcome(ctx, bot.Platform(a.Platform), a.ExternalID, err); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, fmt.Errorf("notify: %w", err)
		}
		return true, nil
	}
	return false, nil
}

// onOther handles what no command or button route took: conversation
// answers, stale buttons and small talk.
func (h *Hub) onOther(ctx context.Context, s *session) error {
	if !s.private() && s.u.Callback == nil {
		// The bot stays quiet in groups unless addressed by a command or a
		// reply to a ticket posted on a desk.
		_, err := h.deskReply(ctx, s)
		return err
	}
	if s.u.Callback != nil {
		return s.notice(ctx, "error.stale_button")
	}
	if s.u.Command != "" {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.unknown_command"), Keyboard: s.mainMenu()})
	}
	conv, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if conv.Flow != "" {
		return h.continueConversation(ctx, s, conv)
	}
	if s.person == nil {
		return h.greetStranger(ctx, s)
	}
	if handled, err := h.memberText(ctx, s); handled || err != nil {
		return err
	}
	return h.showMenu(ctx, s, "menu.title")
}
