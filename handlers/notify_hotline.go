package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// The hot line's notices in the messengers: cards for responders, answers
// and notices for members, and the ticket's messages that carry buttons,
// remembered so that they lose them once the ticket is closed.

var _ hotline.Notifier = (*Notifier)(nil)

// Cards on the responders' side: threadShown latest thread messages,
// threadSnippet characters of each, marked with … when cut.
const (
	threadShown   = 3
	threadSnippet = 80
)

// topicKeys name the programme's topics in the locales.
var topicKeys = map[string]string{
	"wages":              "topic.wages",
	"employment":         "topic.employment",
	"conditions":         "topic.conditions",
	"safety":             "topic.safety",
	"benefits":           "topic.benefits",
	"legal":              "topic.legal",
	"other":              "topic.other",
	hotline.TopicJoining: "topic.joining",
}

// topicName is a topic's name in lang.
func (h *Notifier) topicName(lang, id string) string {
	if key, ok := topicKeys[id]; ok {
		return h.Catalog.T(lang, key)
	}
	if t, ok := h.HotlineSettings.Topic(id); ok {
		if name := t.Names[locales.Normalize(lang)]; name != "" {
			return name
		}
	}
	return id
}

// cardHeads head a card by why it is shown.
var cardHeads = map[hotline.Reason]string{
	hotline.ReasonNew:          "ticket.card_new",
	hotline.ReasonHandedUp:     "ticket.card_handed_up",
	hotline.ReasonEscalated:    "ticket.card_escalated",
	hotline.ReasonStillWaiting: "ticket.card_still_waiting",
}

// Serves reports whether this process talks to platform p.
func (h *Notifier) Serves(p storage.Platform) bool {
	_, ok := h.Senders[bot.Platform(p)]
	return ok
}

// TicketWaiting posts the ticket's card to its desk group, or sends it to
// each responder on the platform they were seen on last.
func (h *Notifier) TicketWaiting(ctx context.Context, w hotline.Waiting) error {
	t, level, headKey := w.Ticket, w.Level, cardHeads[w.Reason]
	if w.To.Desk != nil {
		card, err := h.ticketCard(ctx, locales.Default, t, headKey, true)
		if err != nil {
			return err
		}
		return h.postToDesk(ctx, *w.To.Desk, t, card, fmt.Sprintf("desk:%d:%d:%s:%d", t.ID, level.ID, headKey, t.DueAt.Unix()), storage.PostDesk)
	}
	var errs []error
	for _, r := range w.To.People {
		lang := locales.Normalize(r.Person.Locale)
		card, err := h.ticketCard(ctx, lang, t, headKey, false)
		if err != nil {
			return err
		}
		at, reached, err := h.notifyAt(ctx, fmt.Sprintf("ticket:%d:%d:%s:%d", t.ID, level.ID, headKey, t.DueAt.Unix()), r.Accounts, lang,
			func(string) bot.Message { return card })
		if err != nil {
			errs = append(errs, err)
		}
		if reached {
			h.keepPost(ctx, t.ID, storage.PostCard, at)
		}
	}
	return errors.Join(errs...)
}

// TicketOverdue reminds the desk or the responders who let a ticket go
// overdue where it went.
func (h *Notifier) TicketOverdue(ctx context.Context, o hotline.Overdue) error {
	t := o.Ticket
	key := fmt.Sprintf("escalated:%d:%d", t.ID, t.Escalations)
	var errs []error
	if o.Remind.Desk != nil {
		m := bot.Message{Text: h.Catalog.T(locales.Default, "ticket.reminder", "ID", t.ID, "Org", o.To.Name)}
		if err := h.postToDesk(ctx, *o.Remind.Desk, t, m, key+":desk", ""); err != nil {
			errs = append(errs, fmt.Errorf("remind desk: %w", err))
		}
	}
	for _, r := range o.Remind.People {
		if _, err := h.notify(ctx, key, r.Accounts, r.Person.Locale, func(lang string) bot.Message {
			return bot.Message{Text: h.Catalog.T(lang, "ticket.reminder", "ID", t.ID, "Org", o.To.Name)}
		}); err != nil {
			errs = append(errs, fmt.Errorf("remind responder: %w", err))
		}
	}
	return errors.Join(errs...)
}

// TicketMoved tells the member where their question went.
func (h *Notifier) TicketMoved(ctx context.Context, m hotline.Moved) (bool, error) {
	t := m.Ticket
	key, text := fmt.Sprintf("moved:%d:%d", t.ID, m.To.ID), "ticket.member_moved"
	if m.Escalated {
		key, text = fmt.Sprintf("escalated:%d:%d", t.ID, t.Escalations), "ticket.member_escalated"
	}
	return h.tellMember(ctx, t, key, func(lang string) bot.Message {
		return bot.Message{Text: h.Catalog.T(lang, text, "ID", t.ID, "Org", m.To.Name)}
	})
}

// TicketAnswered brings the answer, signed, with the member's buttons.
func (h *Notifier) TicketAnswered(ctx context.Context, a hotline.Answered) (bool, error) {
	t := a.Ticket
	at, reached, err := h.tellMemberAt(ctx, t, "answer:"+a.Ref, func(lang string) bot.Message {
		body := h.Catalog.T(lang, "ticket.answer", "ID", t.ID, "Signature", h.signature(lang, a), "Text", a.Text)
		if len(a.Files) > 0 {
			body += "\n" + h.Catalog.Plural(lang, "ticket.files", len(a.Files))
		}
		return bot.Message{Text: body, Attachments: a.Files, Keyboard: memberButtons(h, lang, t.ID)}
	})
	if reached {
		h.keepPost(ctx, t.ID, storage.PostKeep, at)
	}
	return reached, err
}

// signature names a responder to the member: name, role and organisation.
func (h *Notifier) signature(lang string, a hotline.Answered) string {
	if a.As == nil {
		return h.Catalog.T(lang, "ticket.signature_responder", "Name", a.Responder.FullName)
	}
	return h.Catalog.T(lang, "ticket.signature", "Name", a.Responder.FullName, "Role", h.Catalog.T(lang, roleKey(a.As.Role)), "Org", a.As.Org.Name)
}

// FollowUpAdded brings a member's follow-up with the responders' buttons;
// on a desk the member's name stays hidden.
func (h *Notifier) FollowUpAdded(ctx context.Context, f hotline.FollowUp) (bool, error) {
	t, key := f.Ticket, "followup:"+f.Ref
	build := func(name string) func(lang string) bot.Message {
		return func(lang string) bot.Message {
			body := h.Catalog.T(lang, "ticket.follow_up", "ID", t.ID, "Name", name, "Text", f.Text)
			if len(f.Files) > 0 {
				body += "\n" + h.Catalog.Plural(lang, "ticket.files", len(f.Files))
			}
			return bot.Message{Text: body, Attachments: f.Files, Keyboard: ticketButtons(h, lang, t, false)}
		}
	}
	if f.To.Desk != nil {
		m := build(h.Catalog.T(locales.Default, "ticket.name_hidden"))(locales.Default)
		m.Keyboard = ticketButtons(h, locales.Default, t, true)
		if err := h.postToDesk(ctx, *f.To.Desk, t, m, key, storage.PostKeep); err != nil {
			return false, err
		}
		return true, nil
	}
	reached := false
	for _, r := range f.To.People {
		at, ok, err := h.notifyAt(ctx, key, r.Accounts, locales.Normalize(r.Person.Locale), build(f.Member.FullName))
		if ok {
			h.keepPost(ctx, t.ID, storage.PostKeep, at)
			reached = true
		}
		if err != nil {
			return reached, err
		}
	}
	return reached, nil
}

// TicketClosed takes the buttons off every message of the closed ticket:
// the responders' cards show it closed, the member's answers and the
// follow-ups keep their text. The message whose button closed it, carried
// by the context (withPressedPost), goes with them.
func (h *Notifier) TicketClosed(ctx context.Context, t storage.Ticket) {
	if p, ok := ctx.Value(pressedPostKey{}).(pressedPost); ok {
		h.keepPost(ctx, t.ID, p.kind, p.at)
	}
	h.spendPosts(ctx, t)
}

type pressedPostKey struct{}

// pressedPost is the message whose button closes a ticket, and what becomes
// of it.
type pressedPost struct {
	kind storage.PostKind
	at   sentTo
}

// withPressedPost carries the pressed message to TicketClosed through the
// hot line, which knows nothing of messages.
func withPressedPost(ctx context.Context, kind storage.PostKind, at sentTo) context.Context {
	return context.WithValue(ctx, pressedPostKey{}, pressedPost{kind: kind, at: at})
}

// spendPosts takes the buttons off the remembered messages of a closed
// ticket; a failure is logged.
func (h *Notifier) spendPosts(ctx context.Context, t storage.Ticket) {
	posts, err := h.Store.TakeTicketPosts(ctx, t.ID)
	if err != nil {
		h.Logger.WarnContext(ctx, "load ticket posts", "ticket", t.ID, "err", err)
		return
	}
	for _, p := range posts {
		sender, ok := h.Senders[bot.Platform(p.Platform)]
		if !ok {
			continue
		}
		at := bot.Sent{ChatID: p.ChatID, MessageID: p.MessageID}
		err := error(nil)
		switch p.Kind {
		case storage.PostCard, storage.PostDesk:
			var card bot.Message
			if card, err = h.ticketCard(ctx, p.Lang, t, "ticket.card_closed", p.Kind == storage.PostDesk); err == nil {
				err = sender.Edit(ctx, at, card)
			}
		default:
			err = sender.EditKeyboard(ctx, at, nil)
		}
		if err != nil {
			h.Logger.WarnContext(ctx, "spend ticket post", "ticket", t.ID, "err", err)
		}
	}
}

// TicketSolved tells the responder who took the ticket.
func (h *Notifier) TicketSolved(ctx context.Context, t storage.Ticket, responderID int64) (bool, error) {
	return h.tellPerson(ctx, responderID, fmt.Sprintf("closed:%d", t.ID), func(lang string) bot.Message {
		return bot.Message{Text: h.Catalog.T(lang, "ticket.member_closed", "ID", t.ID)}
	})
}

// RatingWanted asks the member for one to five stars.
func (h *Notifier) RatingWanted(ctx context.Context, t storage.Ticket) (bool, error) {
	return h.tellMember(ctx, t, "rate:"+idData(t.ID), func(lang string) bot.Message {
		var row []bot.Button
		for n := 1; n <= 5; n++ {
			row = append(row, bot.Button{Text: h.Catalog.T(lang, "ticket.button_stars", "N", n), Data: ticketButton{Action: tkRate, TicketID: t.ID, Stars: n}.data()})
		}
		return bot.Message{Text: h.Catalog.T(lang, "ticket.rate", "ID", t.ID), Keyboard: bot.Keyboard{row}}
	})
}

// postToDesk posts a message about t to a desk group and remembers it, so
// that a reply to it answers the member; a message with buttons (kind not
// "") is also kept to lose them once t is closed.
func (h *Notifier) postToDesk(ctx context.Context, desk storage.ChatBinding, t storage.Ticket, m bot.Message, key string, kind storage.PostKind) error {
	m.ChatID, m.Key = desk.ChatID, key
	sent, err := h.Senders[bot.Platform(desk.Platform)].Send(ctx, m)
	if err != nil {
		return fmt.Errorf("post to desk: %w", err)
	}
	if err := h.Store.AddDeskPost(ctx, storage.DeskPost{TicketID: t.ID, Platform: desk.Platform, ChatID: desk.ChatID, MessageID: sent.MessageID}); err != nil {
		return fmt.Errorf("record desk post: %w", err)
	}
	if kind != "" {
		h.keepPost(ctx, t.ID, kind, sentTo{platform: bot.Platform(desk.Platform), sent: sent, lang: locales.Default})
	}
	return nil
}

// ticketCard is a ticket as responders see it: number, topic, who asks, the
// question, the latest of the thread and the actions it allows now. A desk
// group may hold people who are not responders: there the name is hidden,
// and whoever takes the ticket gets it in private.
func (h *Notifier) ticketCard(ctx context.Context, lang string, t storage.Ticket, headKey string, desk bool) (bot.Message, error) {
	msgs, err := h.Store.TicketMessages(ctx, t.ID)
	if err != nil {
		return bot.Message{}, fmt.Errorf("load thread: %w", err)
	}
	org, err := h.Store.Org(ctx, t.OrgID)
	if err != nil {
		return bot.Message{}, fmt.Errorf("load member org: %w", err)
	}
	name := h.Catalog.T(lang, "ticket.anonymous")
	if desk {
		name = h.Catalog.T(lang, "ticket.name_hidden")
	} else if t.PersonID != 0 {
		p, err := h.Store.Person(ctx, t.PersonID)
		if err != nil {
			return bot.Message{}, fmt.Errorf("load member: %w", err)
		}
		if p.ErasedAt == nil {
			name = p.FullName
		}
	}
	question, files := "", []storage.Attachment(nil)
	if len(msgs) > 0 {
		question, files = msgs[0].Text, msgs[0].Attachments
	}
	share := h.Catalog.T(lang, "ask.no")
	if t.ShareName {
		share = h.Catalog.T(lang, "ask.yes")
	}
	text := h.Catalog.T(lang, headKey, "ID", t.ID) + "\n" +
		h.Catalog.T(lang, "ticket.card", "Topic", h.topicName(lang, t.Topic), "Name", name, "Org", org.Name, "ShareName", share, "Question", question)
	if len(files) > 0 {
		// Files come along where the platform can show them; the count tells
		// a responder on the other platform that there are some.
		text += "\n" + h.Catalog.Plural(lang, "ticket.files", len(files))
	}
	if later := msgs[min(1, len(msgs)):]; len(later) > 0 {
		text += "\n\n" + h.Catalog.Plural(lang, "ticket.thread", len(later))
		for _, m := range later[max(0, len(later)-threadShown):] {
			key := "ticket.thread_answer"
			if m.FromMember {
				key = "ticket.thread_member"
			}
			text += "\n" + h.Catalog.T(lang, key, "Text", snippet(m.Text, threadSnippet))
		}
	}
	return bot.Message{Text: text, Keyboard: ticketButtons(h, lang, t, desk), Attachments: files}, nil
}

// ticketButtons are the responder's actions for a ticket in its state.
func ticketButtons(h *Notifier, lang string, t storage.Ticket, desk bool) bot.Keyboard {
	if t.Status == storage.TicketClosed {
		return nil
	}
	b := func(key, action string) bot.Button {
		return bot.Button{Text: h.Catalog.T(lang, key), Data: ticketButton{Action: action, TicketID: t.ID}.data()}
	}
	var first []bot.Button
	if t.Status == storage.TicketOpen {
		first = append(first, b("ticket.button_take", tkTake))
	}
	if !desk { // in a desk group one answers by replying to the card
		first = append(first, b("ticket.button_reply", tkReply))
	}
	kb := bot.Keyboard{}
	if len(first) > 0 {
		kb = append(kb, first)
	}
	return append(kb, []bot.Button{b("ticket.button_up", tkUp), b("ticket.button_close", tkClose)})
}

// memberButtons are what a member can do with an answered ticket.
func memberButtons(h *Notifier, lang string, id int64) bot.Keyboard {
	return bot.Keyboard{{
		{Text: h.Catalog.T(lang, "ticket.button_follow"), Data: ticketButton{Action: tkFollow, TicketID: id}.data()},
		{Text: h.Catalog.T(lang, "ticket.button_done"), Data: ticketButton{Action: tkDone, TicketID: id}.data()},
	}}
}

// snippet shortens a thread message for a card, marking the cut; the full
// text stays in the thread.
func snippet(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > n {
		return string(r[:n]) + "…"
	}
	return text
}
