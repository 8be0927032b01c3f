// Package handlers is the chat front end of UnionHub: the conversations,
// menus and buttons on every platform, through the platform-neutral bot
// core. The rules live in the domain packages it calls, such as membership
// and orgs; its Notifier tells people what those domains decide to tell
// them.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// Deps is what the conversations need from the outside world.
type Deps struct {
	Store   Store
	State   storage.State
	Catalog *locales.Catalog
	// Senders holds the platforms this process talks to.
	Senders map[bot.Platform]bot.Sender
	Links   Links
	// HotlineSettings are the deployment's hot line, for its screens; empty
	// means Hotline's, or the default.
	HotlineSettings hotline.Settings
	// Hotline holds the hot line's use cases; nil builds one on the
	// settings with the hub's own notifier.
	Hotline *hotline.Service
	// Surveys are the deployment's survey definitions with their schedules.
	Surveys []surveys.Survey
	// Membership and Orgs are the domains' use cases; New builds them over
	// Store and State when nil.
	Membership *membership.Service
	Orgs       *orgs.Service
	// Monitoring holds the surveys, board checks, jobs and reports; nil
	// builds one on Surveys with the hub's own notifier.
	Monitoring *monitoring.Service
	// News holds composing, relaying and suggesting news and the outbox
	// hand-off; nil builds one with the hub's own notifier and no engine.
	News *news.Service
	// Tracker, when set, sends the web links of delivered news through
	// the hub's short links; nil sends them as written.
	Tracker *news.Tracker
	Clock   func() time.Time
	Logger  *slog.Logger

	// SignIn issues sign-in links to the console; nil builds one on Store
	// with links to Links.Console.
	SignIn *signin.Service
}

// Hub routes updates to the conversations.
type Hub struct {
	*Notifier
}

// New returns a hub; a nil Clock or Logger gets a default, and so does a
// nil domain service.
func New(d Deps) *Hub {
	n := NewNotifier(d)
	if n.Membership == nil {
		n.Membership = membership.New(membership.Config{Store: n.Store, State: n.State, Notifier: n, Clock: n.Clock, Logger: n.Logger})
	}
	if n.Orgs == nil {
		n.Orgs = orgs.New(orgs.Config{Store: n.Store, Clock: n.Clock, Logger: n.Logger})
	}
	if n.Hotline == nil {
		n.Hotline = hotline.New(hotline.Config{Store: n.Store, Notifier: n, Settings: n.HotlineSettings, Clock: n.Clock, Logger: n.Logger})
	}
	if n.Monitoring == nil {
		n.Monitoring = monitoring.New(monitoring.Config{Store: n.Store, Locker: n.State, Notifier: n, Surveys: n.Surveys, Clock: n.Clock, Logger: n.Logger})
	}
	if n.News == nil {
		n.News = news.New(news.Config{Store: n.Store, Locker: n.State, Notifier: n, Clock: n.Clock, Logger: n.Logger})
	}
	if n.SignIn == nil {
		n.SignIn = signin.New(signin.Config{Store: n.Store, BaseURL: n.Links.Console, Clock: n.Clock, Logger: n.Logger})
	}
	return &Hub{Notifier: n}
}

// Router returns the router of every command and button: outer middleware
// (recover, logging, dedupe, locks) first, then the session middleware that
// loads the person, roles and language.
func (h *Hub) Router(outer ...bot.Middleware) *bot.Router {
	r := bot.NewRouter(h.handle(h.onOther))
	r.Use(outer...)
	// Every press is answered once, whatever its handler did; a panicking
	// handler becomes an error that withSession apologises for.
	r.Use(bot.AnswerPresses(h.sender, h.Logger), h.withSession, bot.Recover())

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
	r.Command("suggestions", h.handle(h.cmdSuggestions))
	r.Command("unbind", h.handle(h.cmdUnbind))
	r.Command("surveys", h.handle(h.cmdSurveys))
	r.Command("monitoring", h.handle(h.cmdMonitoring))
	r.Command("console", h.handle(h.cmdConsole))
	r.Command("join", h.handle(h.cmdJoin))

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
	r.Callback(cbLoose, h.handle(h.onLooseButton))
	r.Callback(cbResponders, h.handle(h.onRespondersButton))
	r.Callback(cbNews, h.handle(h.onNewsButton))
	r.Callback(cbRelay, h.handle(h.onRelayButton))
	r.Callback(cbSuggest, h.handle(h.onSuggestButton))
	r.Callback(cbSurvey, h.handle(h.onSurveyButton))
	r.Callback(cbBoard, h.handle(h.onBoardButton))
	r.Callback(cbAction, h.handle(h.onActionButton))
	r.Callback(cbJoin, h.handle(h.onJoinButton))
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

// sender is the platform's sender, if this process talks to it.
func (h *Hub) sender(p bot.Platform) (bot.Sender, bool) {
	s, ok := h.Senders[p]
	return s, ok
}

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
	// outdated: the stored conversation was left by an older version and
	// could not be read; it is gone, and the person is told once.
	outdated bool
	// keepPressed: the pressed message keeps its text, so replies go in
	// new messages; see spendPressed.
	keepPressed bool
	// allowedTools are the menu's tools for the person; see tools().
	allowedTools []tool
	toolsLoaded  bool
	sends        int // messages sent so far, to key each one
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
		if err == nil && s.outdated && s.private() {
			// A conversation an older version left: say so, and offer the
			// way back in, rather than answer its next step wrongly.
			err = s.send(ctx, bot.Message{ChatID: u.Chat.ID, Text: s.t("error.outdated"), Keyboard: s.mainMenu(ctx)})
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
	caller, err := st.Caller(ctx, storage.Platform(s.u.Platform), s.u.From.ID)
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
	p := caller.Person
	s.person = &p
	if p.Locale != "" {
		s.lang = p.Locale
	}
	// The account that writes is the one to reach the person on, and writing
	// again unblocks it. A write to say so costs a commit: skip it while this
	// account is already the one seen last, unblocked, and seen lately.
	now := s.hub.Clock()
	a := caller.Account
	if caller.SeenLast && a.BlockedAt == nil && now.Sub(a.LastSeenAt) < touchEvery && !now.Before(a.LastSeenAt) {
		return nil
	}
	if err := st.TouchAccount(ctx, storage.Platform(s.u.Platform), s.u.From.ID, now); err != nil {
		return fmt.Errorf("touch account: %w", err)
	}
	return nil
}

// touchEvery is how stale an account's last-seen time may grow before an
// update from it writes it again.
const touchEvery = time.Minute

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

// actor is the person acting, with the memberships in force.
func (s *session) actor(ctx context.Context) (access.Actor, error) {
	if s.person == nil {
		return access.Actor{}, nil
	}
	ms, err := s.roles(ctx)
	if err != nil {
		return access.Actor{}, err
	}
	return access.NewActor(s.person.ID, ms), nil
}

// ref names the update to the use cases, the same when the platform
// delivers it again, so that what it sends is not delivered twice.
func (s *session) ref() string { return string(s.u.Platform) + ":" + s.u.ID }

func (s *session) t(key string, kv ...any) string { return s.hub.Catalog.T(s.lang, key, kv...) }

func (s *session) plural(key string, n int, kv ...any) string {
	return s.hub.Catalog.Plural(s.lang, key, n, kv...)
}

func (s *session) private() bool { return s.u.Chat.Kind == bot.ChatPrivate }

// reply answers in the update's chat: a button press edits the message that
// carried the button (so stale buttons disappear) unless that message must
// stay, anything else gets a new message. The press itself is answered by
// the router (bot.AnswerPresses).
func (s *session) reply(ctx context.Context, text string, kb bot.Keyboard) error {
	m := bot.Message{ChatID: s.u.Chat.ID, Text: text, Keyboard: kb}
	if cb := s.u.Callback; cb != nil && cb.MessageID != "" && !s.keepPressed {
		err := s.sender.Edit(ctx, bot.Sent{ChatID: s.u.Chat.ID, MessageID: cb.MessageID}, m)
		if err == nil {
			return nil
		}
		s.hub.Logger.DebugContext(ctx, "edit failed, sending anew", "err", err)
	}
	return s.send(ctx, m)
}

// ask asks in a new message, so that the message with the pressed button, if
// any, stays as it was.
func (s *session) ask(ctx context.Context, text string, kb bot.Keyboard) error {
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: text, Keyboard: kb})
}

// send sends a new message to the update's chat. Each message is keyed by
// the update and its place among the update's messages, so a retried update
// repeats the same keys.
func (s *session) send(ctx context.Context, m bot.Message) error {
	_, err := s.sendAt(ctx, m)
	return err
}

// sendAt is send that also says where the message went; nothing went when
// the person has blocked the bot.
func (s *session) sendAt(ctx context.Context, m bot.Message) (sentTo, error) {
	s.sends++
	if s.u.ID != "" {
		m.Key = fmt.Sprintf("%s:%s:%d", s.u.Platform, s.u.ID, s.sends)
	}
	sent, err := s.sender.Send(ctx, m)
	if err := s.hub.sendOutcome(ctx, s.u.Platform, s.u.From.ID, err); err != nil {
		return sentTo{}, err
	}
	return sentTo{platform: s.u.Platform, sent: sent, lang: s.lang}, nil
}

// pressed is the message whose button was pressed, as a place a message
// went.
func (s *session) pressed() sentTo {
	if s.u.Callback == nil {
		return sentTo{}
	}
	return sentTo{platform: s.u.Platform, sent: bot.Sent{ChatID: s.u.Chat.ID, MessageID: s.u.Callback.MessageID}, lang: s.lang}
}

// spendPressed takes the buttons off the pressed message and leaves its
// text as the person saw it; a failure is logged, the press is answered
// anyway.
func (s *session) spendPressed(ctx context.Context) {
	if s.u.Callback == nil || s.u.Callback.MessageID == "" {
		return
	}
	s.keepPressed = true
	if err := s.sender.EditKeyboard(ctx, s.pressed().sent, nil); err != nil {
		s.hub.Logger.WarnContext(ctx, "take the buttons off a spent message", "err", err)
	}
}

// notice answers a button press with a short pop-up and changes nothing.
func (s *session) notice(ctx context.Context, key string, kv ...any) error {
	if s.u.Callback != nil {
		return bot.Answer(ctx, s.sender, s.u, s.t(key, kv...))
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, kv...)})
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
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.unknown_command"), Keyboard: s.mainMenu(ctx)})
	}
	if s.person != nil && isMenuWord(s.u.Text) && len(s.u.Attachments) == 0 {
		// "меню" opens the menu from anywhere, never joins a question.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return h.showMenu(ctx, s, "menu.title")
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

// menuWords open the menu when typed alone, in either language.
var menuWords = map[string]bool{"меню": true, "menu": true, "начать": true, "start": true, "старт": true, "главное меню": true, "main menu": true}

// isMenuWord reports whether text is a request for the menu: one of
// menuWords, whatever the case, spacing or closing punctuation.
func isMenuWord(text string) bool {
	text = strings.ToLower(strings.Join(strings.Fields(text), " "))
	text = strings.TrimRight(text, ".!?…")
	return menuWords[text]
}
