package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// Actions news items carry: the card and buttons each recipient gets, the
// answers, the reminders and the question after, and composing one.

// cbAction routes the answers to an action.
const cbAction = "ac"

// Answers to an action, each with the broadcast's id: "ac:yes:12".
const (
	acYes   = "yes"
	acNo    = "no"
	acSign  = "sign"
	acWas   = "was"   // after it: I was there
	acWasnt = "wasnt" // after it: I was not
)

var actionAnswers = []string{acYes, acNo, acSign, acWas, acWasnt}

type actionButton struct {
	Action string
	ID     int64
}

func (b actionButton) data() string { return joinData(cbAction, b.Action, idData(b.ID)) }

func parseActionButton(data string) (actionButton, bool) {
	f, ok := fieldsOf(data, cbAction, 2)
	if !ok || !slices.Contains(actionAnswers, f[0]) {
		return actionButton{}, false
	}
	id, ok := idField(f[1])
	return actionButton{Action: f[0], ID: id}, ok
}

// actionWhen is an action's time in the sending organisation's zone.
func actionWhen(a storage.Action, sender storage.Org) string {
	return a.At.In(zone(sender)).Format(scheduleLayout)
}

// actionCardKey is the locale key of an action's card, by kind.
func actionCardKey(k storage.ActionKind) string {
	switch k {
	case storage.ActionOnline:
		return "action.card_online"
	case storage.ActionSignature:
		return "action.card_signature"
	}
	return "action.card_meeting"
}

// actionCard describes an action under the item's text.
func (h *Notifier) actionCard(lang string, a storage.Action, sender storage.Org) string {
	return h.Catalog.T(lang, actionCardKey(a.Kind), "Title", a.Title, "When", actionWhen(a, sender), "Place", a.Place)
}

// actionKeyboard is the answers to an action, the one given marked.
func (h *Notifier) actionKeyboard(lang string, b storage.Broadcast, given storage.ActionAnswer) bot.Keyboard {
	button := func(key, action string, answer storage.ActionAnswer) bot.Button {
		text := h.Catalog.T(lang, key)
		if answer == given {
			text = "✅ " + text
		}
		return bot.Button{Text: text, Data: actionButton{Action: action, ID: b.ID}.data()}
	}
	if b.Action.Kind == storage.ActionSignature {
		return bot.Keyboard{{button("action.button_sign", acSign, storage.AnswerSigned)}}
	}
	return bot.Keyboard{{button("action.button_yes", acYes, storage.AnswerYes), button("action.button_no", acNo, storage.AnswerNo)}}
}

// attendedKeyboard asks whether one was there, the answer given marked.
func (h *Notifier) attendedKeyboard(lang string, id int64, given *bool) bot.Keyboard {
	button := func(key, action string, yes bool) bot.Button {
		text := h.Catalog.T(lang, key)
		if given != nil && *given == yes {
			text = "✅ " + text
		}
		return bot.Button{Text: text, Data: actionButton{Action: action, ID: id}.data()}
	}
	return bot.Keyboard{{button("action.button_was", acWas, true), button("action.button_wasnt", acWasnt, false)}}
}

// ActionNotice reminds a person who said yes of an action, or asks after
// it whether they were there.
func (h *Notifier) ActionNotice(ctx context.Context, n news.ActionNote) (bool, error) {
	b, a := n.Broadcast, n.Broadcast.Action
	return h.tellPerson(ctx, n.PersonID, fmt.Sprintf("action:%d:%d:%s", b.ID, n.PersonID, n.Notice), func(lang string) bot.Message {
		card := h.actionCard(lang, *a, n.Sender)
		switch n.Notice {
		case storage.NoticeFollowUp:
			return bot.Message{Text: h.Catalog.T(lang, "action.followup", "Title", a.Title, "When", actionWhen(*a, n.Sender)),
				Keyboard: h.attendedKeyboard(lang, b.ID, nil)}
		case storage.NoticeHourBefore:
			return bot.Message{Text: h.Catalog.T(lang, "action.remind_hour", "Card", card)}
		}
		return bot.Message{Text: h.Catalog.T(lang, "action.remind_day", "Card", card)}
	})
}

// onActionButton takes an answer to an action, or whether one was there:
// it is recorded, the press answered with what was chosen, and the buttons
// of the message show the choice (which may still change).
func (h *Hub) onActionButton(ctx context.Context, s *session) error {
	b, ok := parseActionButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	if s.person == nil {
		// Forgotten since the item came: the answer has nobody to count for.
		return s.notice(ctx, "error.stale_button")
	}
	var (
		got news.Answered
		err error
	)
	switch b.Action {
	case acWas, acWasnt:
		got, err = h.News.Attended(ctx, s.person.ID, b.ID, b.Action == acWas)
	default:
		answer := map[string]storage.ActionAnswer{acYes: storage.AnswerYes, acNo: storage.AnswerNo, acSign: storage.AnswerSigned}[b.Action]
		got, err = h.News.AnswerAction(ctx, s.person.ID, b.ID, answer)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, news.ErrInvalid):
		return s.notice(ctx, "error.stale_button")
	case errors.Is(err, news.ErrActionOver):
		return s.notice(ctx, "action.over")
	case err != nil:
		return err
	}
	var kb bot.Keyboard
	if b.Action == acWas || b.Action == acWasnt {
		kb = h.attendedKeyboard(s.lang, b.ID, got.Reply.Attended)
	} else {
		kb = h.actionKeyboard(s.lang, got.Broadcast, got.Reply.Answer)
		if link := h.activistShare(ctx, s, got.Broadcast); link != "" {
			kb = append(kb, []bot.Button{{Text: s.t("news.button_share"), URL: link}})
		}
	}
	if s.u.Callback.MessageID != "" {
		if err := s.sender.EditKeyboard(ctx, s.pressed().sent, kb); err != nil {
			h.Logger.WarnContext(ctx, "mark the answer to an action", "broadcast", b.ID, "err", err)
		}
	}
	switch b.Action {
	case acYes:
		return s.notice(ctx, "action.noted_yes")
	case acNo:
		return s.notice(ctx, "action.noted_no")
	case acSign:
		return s.notice(ctx, "action.noted_sign")
	case acWas:
		return s.notice(ctx, "action.noted_was")
	}
	return s.notice(ctx, "action.noted_wasnt")
}

// activistShare is the share link an activist's copy of b carries, so that
// marking an answer keeps it (its short link, when the copy went out with
// one); "" for anyone else.
func (h *Hub) activistShare(ctx context.Context, s *session, b storage.Broadcast) string {
	roles, err := s.activeRoles(ctx)
	if err != nil || !slices.ContainsFunc(roles, func(m storage.Membership) bool { return m.Role == storage.RoleActivist }) {
		return ""
	}
	link := ShareLink(s.u.Platform, h.Links, b.Text)
	if link == "" || h.Tracker == nil {
		return link
	}
	id, err := h.Store.DeliveryIDTo(ctx, b.ID, storage.Platform(s.u.Platform), s.u.Chat.ID)
	if err != nil {
		return link
	}
	if short, ok := h.Tracker.ShortLink(ctx, id, storage.LinkShare); ok {
		return short
	}
	return link
}

// withAction adds an action's card to a delivery's text and, for a person
// (not a group chat), the buttons to answer it.
func (h *Notifier) withAction(ctx context.Context, lang string, b storage.Broadcast, d storage.Delivery, m *bot.Message) {
	if b.Action == nil {
		return
	}
	sender, err := h.cachedOrg(ctx, b.OrgID)
	if err != nil {
		sender = storage.Org{ID: b.OrgID}
	}
	m.Text += "\n\n" + h.actionCard(lang, *b.Action, sender)
	if d.PersonID != 0 {
		m.Keyboard = append(h.actionKeyboard(lang, b, ""), m.Keyboard...)
	}
}

// Composing an action in the news composer: kind, title, time, place or
// link, each a step; the settings screen shows it and can drop it.

// The kinds as composing's buttons name them.
var actionKinds = map[string]storage.ActionKind{nwKindMeeting: storage.ActionMeeting, nwKindOnline: storage.ActionOnline, nwKindSign: storage.ActionSignature}

// askActionKind offers the kinds of action.
func (h *Hub) askActionKind(ctx context.Context, s *session) error {
	d := func(action string) string { return newsButton{Action: action}.data() }
	return s.reply(ctx, s.t("news.action_ask_kind"), bot.Keyboard{
		{{Text: s.t("news.action_kind_meeting"), Data: d(nwKindMeeting)}},
		{{Text: s.t("news.action_kind_online"), Data: d(nwKindOnline)}},
		{{Text: s.t("news.action_kind_signature"), Data: d(nwKindSign)}},
		{{Text: s.t("news.button_back"), Data: d(nwDone)}},
	})
}

// actionStepText takes what the action's current step asks for.
func (h *Hub) actionStepText(ctx context.Context, s *session, c *conversation) error {
	say := func(key string, kv ...any) error {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, kv...)})
	}
	if s.u.HasMedia || len(s.u.Attachments) > 0 {
		return say("news.action_text_only")
	}
	kind := storage.ActionKind(c.ActionKind)
	switch c.Step {
	case stepActionTitle:
		title, bad := cleanText(s.u.Text, news.MaxActionTitle)
		if bad == nil && news.CheckActionTitle(title) != nil {
			bad = &inputError{key: "news.action_bad_title", limit: news.MaxActionTitle}
		}
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		c.ActionTitle, c.Step = title, stepActionWhen
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return say("news.action_ask_when")
	case stepActionWhen:
		org, err := h.composingOrg(ctx, s, c)
		if err != nil || org.ID == 0 {
			return err
		}
		at, ok := parseWhen(s.u.Text, zone(org), h.Clock())
		now := h.Clock()
		if !ok || !at.After(now) || at.After(now.AddDate(1, 0, 0)) {
			return say("news.action_bad_when")
		}
		c.ActionAt, c.Step = at, stepActionPlace
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		if kind == storage.ActionMeeting {
			return say("news.action_ask_place")
		}
		return say("news.action_ask_link")
	case stepActionPlace:
		place, bad := cleanText(s.u.Text, news.MaxActionPlace)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		if err := news.CheckActionPlace(kind, place); err != nil {
			if errors.Is(err, news.ErrActionLink) {
				return say("news.action_bad_link")
			}
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.plural("news.action_bad_place", news.MaxActionPlace)})
		}
		if !news.ActionFits(c.Question, storage.Action{Title: c.ActionTitle, Place: place}) {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("news.action_too_long")})
		}
		c.ActionPlace, c.Step = place, stepSettings
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.newsSettings(ctx, s, c)
	}
	return say("input.use_buttons")
}

// composingOrg is the organisation a draft goes from, if the person still
// may send from it; refused, they are told and the org is zero.
func (h *Hub) composingOrg(ctx context.Context, s *session, c *conversation) (storage.Org, error) {
	by, err := s.actor(ctx)
	if err != nil {
		return storage.Org{}, err
	}
	org, err := h.News.SenderOrg(ctx, by, c.SenderOrgID)
	if errors.Is(err, access.ErrForbidden) {
		return storage.Org{}, s.refuse(ctx, "error.not_allowed")
	}
	return org, err
}

// parseWhen reads a time typed in loc: "02.01.2006 15:04", or "02.01 15:04"
// for the next such day after now.
func parseWhen(text string, loc *time.Location, now time.Time) (time.Time, bool) {
	text = strings.Join(strings.Fields(text), " ")
	if at, err := time.ParseInLocation(scheduleLayout, text, loc); err == nil {
		return at, true
	}
	at, err := time.ParseInLocation(scheduleLayout2, text, loc)
	if err != nil {
		return time.Time{}, false
	}
	at = time.Date(now.In(loc).Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), 0, 0, loc)
	if at.Before(now) {
		at = at.AddDate(1, 0, 0)
	}
	return at, true
}

// draftAction is the action of a composed draft; nil until complete.
func draftAction(c *conversation) *storage.Action {
	if c.ActionKind == "" || c.ActionPlace == "" {
		return nil
	}
	return &storage.Action{Kind: storage.ActionKind(c.ActionKind), Title: c.ActionTitle, At: c.ActionAt, Place: c.ActionPlace}
}

// actionSummary is the settings screen's line about the draft's action.
func (h *Hub) actionSummary(s *session, c *conversation, org storage.Org) string {
	a := draftAction(c)
	if a == nil {
		return s.t("news.action_none")
	}
	return s.t("news.action_line") + "\n" + h.actionCard(s.lang, *a, org)
}
