package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// Limits of the hot line. A question or answer is refused above
// maxTicketText characters, never cut: the card around it must still fit
// the platforms' 4,096.
const (
	threadShown       = 3  // latest thread messages shown on a card
	threadSnippet     = 80 // characters of each, marked with … when cut
	maxTicketText     = 3000
	maxAttachments    = 10
	maxRatingComment  = 1000
	cbAsk             = "ask"
	cbTicket          = "tk"
	ticketListButtons = 6
)

// topicName is a topic's name in lang.
func (h *Hub) topicName(lang, id string) string {
	if key, ok := builtinTopics[id]; ok {
		return h.Catalog.T(lang, key)
	}
	if t, ok := h.Hotline.topic(id); ok {
		if name := t.Names[locales.Normalize(lang)]; name != "" {
			return name
		}
	}
	return id
}

// homeOrg is the organisation a member asks from: their primary
// organisation, else the first organisation they belong to.
func homeOrg(active []storage.Membership) (storage.Org, bool) {
	for _, m := range active {
		if m.Org.Level == storage.LevelPrimary {
			return m.Org, true
		}
	}
	if len(active) > 0 {
		return active[0].Org, true
	}
	return storage.Org{}, false
}

// cmdAsk starts a question to the hot line.
func (h *Hub) cmdAsk(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	org, ok := homeOrg(active)
	if !ok {
		return s.reply(ctx, s.t("ask.not_member"), s.mainMenu())
	}
	c := &conversation{Flow: flowAsk, Step: stepTopic, OrgID: org.ID}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.askPrompt(ctx, s, c)
}

// askPrompt shows the question of the ask conversation's step.
func (h *Hub) askPrompt(ctx context.Context, s *session, c *conversation) error {
	data := func(action string) string { return cbAsk + ":" + action + ":" + c.Step }
	cancel := bot.Button{Text: s.t("reg.button_cancel"), Data: data("cancel")}
	switch c.Step {
	case stepTopic:
		var kb bot.Keyboard
		for i, t := range h.Hotline.Topics {
			b := bot.Button{Text: h.topicName(s.lang, t.ID), Data: data("topic") + ":" + t.ID}
			if i%2 == 0 {
				kb = append(kb, []bot.Button{b})
			} else {
				kb[len(kb)-1] = append(kb[len(kb)-1], b)
			}
		}
		return s.reply(ctx, s.t("ask.topic"), append(kb, []bot.Button{cancel}))
	case stepQuestion:
		return s.reply(ctx, s.plural("ask.question", maxTicketText, "Topic", h.topicName(s.lang, c.Topic)), bot.Keyboard{{cancel}})
	case stepAttach:
		return s.reply(ctx, s.plural("ask.attach", len(c.Attachments)), bot.Keyboard{{{Text: s.t("ask.button_next"), Data: data("next")}, cancel}})
	case stepConfirm:
		yesNo := func(v bool) string {
			if v {
				return s.t("ask.yes")
			}
			return s.t("ask.no")
		}
		text := s.t("ask.summary", "Topic", h.topicName(s.lang, c.Topic), "Question", c.Question,
			"ShareName", yesNo(c.ShareName), "KeepText", yesNo(c.KeepText)) +
			"\n" + s.plural("ask.attachments", len(c.Attachments))
		return s.reply(ctx, text, bot.Keyboard{
			{{Text: s.t("ask.button_send"), Data: data("send")}},
			{{Text: s.t("ask.button_share"), Data: data("share")}},
			{{Text: s.t("ask.button_keep"), Data: data("keep")}},
			{cancel},
		})
	}
	return fmt.Errorf("ask prompt: unknown step %q", c.Step)
}

// onAskButton takes the buttons of the ask conversation; each names its
// step, so a stale one does nothing.
func (h *Hub) onAskButton(ctx context.Context, s *session) error {
	parts := strings.SplitN(s.u.Callback.Data, ":", 4)
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if len(parts) < 3 || c.Flow != flowAsk || parts[2] != c.Step || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	switch action := parts[1]; {
	case action == "cancel":
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ask.cancelled"), s.mainMenu())
	case action == "topic" && len(parts) == 4:
		if _, ok := h.Hotline.topic(parts[3]); !ok {
			return s.notice(ctx, "error.stale_button")
		}
		c.Topic, c.Step = parts[3], stepQuestion
	case action == "next" && c.Step == stepAttach:
		c.Step = stepConfirm
	case action == "share" && c.Step == stepConfirm:
		c.ShareName = !c.ShareName
	case action == "keep" && c.Step == stepConfirm:
		c.KeepText = !c.KeepText
	case action == "send" && c.Step == stepConfirm:
		return h.submitTicket(ctx, s, c)
	default:
		return s.notice(ctx, "error.stale_button")
	}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.askPrompt(ctx, s, c)
}

// askText takes the question and its attachments.
func (h *Hub) askText(ctx context.Context, s *session, c *conversation) error {
	refuse := func(bad *inputError) error {
		if err := s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)}); err != nil {
			return err
		}
		return h.askPrompt(ctx, s, c)
	}
	if s.u.HasMedia {
		return refuse(&inputError{key: "ask.unsupported_media"})
	}
	switch c.Step {
	case stepQuestion:
		if len(s.u.Attachments) > 0 && strings.TrimSpace(s.u.Text) == "" {
			return refuse(&inputError{key: "ask.text_first"})
		}
		text, bad := cleanTicketText(s.u.Text)
		if bad != nil {
			return refuse(bad)
		}
		c.Question, c.Step = text, stepAttach
	case stepAttach:
		if text := strings.TrimSpace(s.u.Text); text != "" {
			joined, bad := cleanTicketText(c.Question + "\n" + text)
			if bad != nil {
				return refuse(bad)
			}
			c.Question = joined
		}
	default:
		return refuse(&inputError{key: "input.use_buttons"})
	}
	if len(c.Attachments)+len(s.u.Attachments) > maxAttachments {
		return refuse(&inputError{key: "ask.too_many_files", limit: maxAttachments})
	}
	c.Attachments = append(c.Attachments, s.u.Attachments...)
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.askPrompt(ctx, s, c)
}

// cleanTicketText is cleanLongText for questions and answers.
func cleanTicketText(text string) (string, *inputError) {
	return cleanLongText(text, maxTicketText, false)
}

// cleanLongText is cleanText for messages of several lines: line breaks
// and tabs are welcome, other control characters are not; the limit counts
// UTF-16 units, as Telegram does (an emoji takes two). With emptyOK an
// empty text passes (a photo without a caption).
func cleanLongText(text string, limit int, emptyOK bool) (string, *inputError) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" && emptyOK {
		return "", nil
	}
	if _, bad := cleanText(strings.NewReplacer("\n", " ", "\t", " ").Replace(text), limit); bad != nil {
		return "", bad
	}
	if len(utf16.Encode([]rune(text))) > limit {
		return "", &inputError{key: "input.too_long", limit: limit}
	}
	return text, nil
}

// submitTicket commits the question, tells the responders, then the member:
// "accepted, № N" is only said once the ticket exists.
func (h *Hub) submitTicket(ctx context.Context, s *session, c *conversation) error {
	now := h.Clock()
	org, err := h.Store.Org(ctx, c.OrgID)
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	level, err := h.route(ctx, org, c.Topic)
	if err != nil {
		return err
	}
	t, err := h.Store.CreateTicket(ctx, storage.Ticket{
		PersonID: s.person.ID, OrgID: org.ID, LevelOrgID: level.ID, Topic: c.Topic,
		ShareName: c.ShareName, KeepText: c.KeepText, Status: storage.TicketOpen,
		CreatedAt: now, DueAt: h.Hotline.Deadline(now, zone(level)),
	}, storage.TicketMessage{AuthorID: s.person.ID, FromMember: true, Text: c.Question, Attachments: c.Attachments, At: now})
	if err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	// The ticket is committed: what follows is logged, not returned, so that
	// a retried "Send" cannot create it twice.
	if err := s.endConversation(ctx); err != nil {
		h.Logger.WarnContext(ctx, "end ask conversation", "ticket", t.ID, "err", err)
	}
	h.Logger.InfoContext(ctx, "ticket created", "ticket", t.ID, "org", org.ID, "level", level.ID, "topic", t.Topic)
	if err := h.dispatchTicket(ctx, t, level, "ticket.card_new"); err != nil {
		// The ticket is safe; the escalation sweep and /tickets surface it.
		h.Logger.WarnContext(ctx, "notify responders", "ticket", t.ID, "err", err)
	}
	return s.reply(ctx, s.t("ask.accepted", "ID", t.ID, "Org", level.Name), s.mainMenu())
}

// zone is an org's time zone, the programme's region when unknown.
func zone(o storage.Org) *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil && o.TimeZone != "" {
		return loc
	}
	loc, _ := time.LoadLocation(storage.DefaultTimeZone)
	return loc
}

// route finds the organisation that answers a ticket about topic, starting
// at org: an org that hands the topic up, or has nobody to answer, passes it
// to its parent; the root answers what reaches it.
func (h *Hub) route(ctx context.Context, org storage.Org, topic string) (storage.Org, error) {
	for {
		if !h.Hotline.handsUp(org.Level, topic) {
			recipients, desk, err := h.ticketRecipients(ctx, org, topic)
			if err != nil {
				return storage.Org{}, err
			}
			if desk != nil || len(recipients) > 0 {
				return org, nil
			}
		}
		if org.ParentID == 0 {
			return org, nil
		}
		parent, err := h.Store.Org(ctx, org.ParentID)
		if err != nil {
			return storage.Org{}, fmt.Errorf("load parent org: %w", err)
		}
		org = parent
	}
}

// ticketRecipients are who answers an org's tickets about topic: its desk
// group if it has one, else its chairs and the responders named for the
// topic.
func (h *Hub) ticketRecipients(ctx context.Context, org storage.Org, topic string) ([]storage.Contact, *storage.ChatBinding, error) {
	desk, err := h.Store.DeskOf(ctx, org.ID)
	switch {
	case err == nil:
		if _, ok := h.Senders[bot.Platform(desk.Platform)]; ok {
			return nil, &desk, nil
		}
	case !errors.Is(err, storage.ErrNotFound):
		return nil, nil, fmt.Errorf("load desk: %w", err)
	}
	chairs, err := h.Store.Leaders(ctx, org.ID, storage.RolesFor(storage.ActAnswerTicket))
	if err != nil {
		return nil, nil, fmt.Errorf("list chairs: %w", err)
	}
	named, err := h.Store.Responders(ctx, org.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list responders: %w", err)
	}
	contacts := chairs
	seen := map[int64]bool{}
	for _, c := range chairs {
		seen[c.Person.ID] = true
	}
	for _, r := range named {
		if seen[r.PersonID] || (r.Topic != "" && r.Topic != topic) {
			continue
		}
		c, ok, err := h.activeContact(ctx, r.PersonID, org.ID)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			seen[r.PersonID] = true
			contacts = append(contacts, c)
		}
	}
	return contacts, nil, nil
}

// activeContact is a named responder still active in the org, with accounts.
func (h *Hub) activeContact(ctx context.Context, personID, orgID int64) (storage.Contact, bool, error) {
	p, err := h.Store.Person(ctx, personID)
	if err != nil {
		return storage.Contact{}, false, fmt.Errorf("load responder: %w", err)
	}
	ms, err := h.Store.Memberships(ctx, personID)
	if err != nil {
		return storage.Contact{}, false, fmt.Errorf("load responder roles: %w", err)
	}
	if p.ErasedAt != nil || !storage.ActiveIn(ms, orgID) {
		return storage.Contact{}, false, nil
	}
	accounts, err := h.Store.Accounts(ctx, personID)
	if err != nil {
		return storage.Contact{}, false, fmt.Errorf("load responder accounts: %w", err)
	}
	return storage.Contact{Person: p, Accounts: accounts}, true, nil
}

// dispatchTicket shows a ticket to whoever answers at level: its desk group,
// or each responder on the platform they were seen on last.
func (h *Hub) dispatchTicket(ctx context.Context, t storage.Ticket, level storage.Org, headKey string) error {
	recipients, desk, err := h.ticketRecipients(ctx, level, t.Topic)
	if err != nil {
		return err
	}
	if desk != nil {
		card, err := h.ticketCard(ctx, locales.Default, t, headKey, true)
		if err != nil {
			return err
		}
		return h.postToDesk(ctx, *desk, t, card, fmt.Sprintf("desk:%d:%d:%s:%d", t.ID, level.ID, headKey, t.DueAt.Unix()))
	}
	if len(recipients) == 0 {
		// Only the top of the tree ends up here: the Union must name someone.
		h.Logger.WarnContext(ctx, "nobody answers the hot line here", "ticket", t.ID, "org", level.ID)
	}
	var errs []error
	for _, r := range recipients {
		lang := locales.Normalize(r.Person.Locale)
		card, err := h.ticketCard(ctx, lang, t, headKey, false)
		if err != nil {
			return err
		}
		if _, err := h.notify(ctx, fmt.Sprintf("ticket:%d:%d:%s:%d", t.ID, level.ID, headKey, t.DueAt.Unix()), r.Accounts, lang,
			func(string) bot.Message { return card }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// postToDesk posts a message about t to a desk group and remembers it, so
// that a reply to it answers the member.
func (h *Hub) postToDesk(ctx context.Context, desk storage.ChatBinding, t storage.Ticket, m bot.Message, key string) error {
	m.ChatID, m.Key = desk.ChatID, key
	sent, err := h.Senders[bot.Platform(desk.Platform)].Send(ctx, m)
	if err != nil {
		return fmt.Errorf("post to desk: %w", err)
	}
	if err := h.Store.AddDeskPost(ctx, storage.DeskPost{TicketID: t.ID, Platform: desk.Platform, ChatID: desk.ChatID, MessageID: sent.MessageID}); err != nil {
		return fmt.Errorf("record desk post: %w", err)
	}
	return nil
}

// ticketCard is a ticket as responders see it: number, topic, who asks, the
// question, the latest of the thread and the actions it allows now. A desk
// group may hold people who are not responders: there the name is hidden,
// and whoever takes the ticket gets it in private.
func (h *Hub) ticketCard(ctx context.Context, lang string, t storage.Ticket, headKey string, desk bool) (bot.Message, error) {
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
func ticketButtons(h *Hub, lang string, t storage.Ticket, desk bool) bot.Keyboard {
	if t.Status == storage.TicketClosed {
		return nil
	}
	id := strconv.FormatInt(t.ID, 10)
	b := func(key, action string) bot.Button {
		return bot.Button{Text: h.Catalog.T(lang, key), Data: cbTicket + ":" + action + ":" + id}
	}
	var first []bot.Button
	if t.Status == storage.TicketOpen {
		first = append(first, b("ticket.button_take", "take"))
	}
	if !desk { // in a desk group one answers by replying to the card
		first = append(first, b("ticket.button_reply", "reply"))
	}
	kb := bot.Keyboard{}
	if len(first) > 0 {
		kb = append(kb, first)
	}
	return append(kb, []bot.Button{b("ticket.button_up", "up"), b("ticket.button_close", "close")})
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
