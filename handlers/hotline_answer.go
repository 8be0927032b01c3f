package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// pathIDs reads the ids of an org's path "/1/2/4/", root first.
func pathIDs(path string) []int64 {
	var ids []int64
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// canAnswer reports whether the session's person may see and answer t.
func (h *Hub) canAnswer(ctx context.Context, s *session, t storage.Ticket) (bool, error) {
	if s.person == nil {
		return false, nil
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return false, err
	}
	return h.canAnswerAs(ctx, s.person.ID, active, t)
}

// canAnswerPerson is canAnswer for someone other than the sender, such as
// the responder who took a ticket and may have lost the right since.
func (h *Hub) canAnswerPerson(ctx context.Context, personID int64, t storage.Ticket) (bool, error) {
	ms, err := h.Store.Memberships(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("load memberships: %w", err)
	}
	var active []storage.Membership
	for _, m := range ms {
		if m.Status == storage.StatusActive {
			active = append(active, m)
		}
	}
	return h.canAnswerAs(ctx, personID, active, t)
}

// canAnswerAs feeds the rule, storage.CanAnswer, with the person's active
// memberships and their responder entries along the member's branch.
func (h *Hub) canAnswerAs(ctx context.Context, personID int64, active []storage.Membership, t storage.Ticket) (bool, error) {
	memberOrg, err := h.Store.Org(ctx, t.OrgID)
	if err != nil {
		return false, fmt.Errorf("load member org: %w", err)
	}
	var mine []storage.Responder
	orgOf := map[int64]storage.Org{}
	for _, id := range pathIDs(memberOrg.Path) {
		rs, err := h.Store.Responders(ctx, id)
		if err != nil {
			return false, fmt.Errorf("list responders: %w", err)
		}
		for _, r := range rs {
			if r.PersonID != personID {
				continue
			}
			if _, ok := orgOf[id]; !ok {
				if orgOf[id], err = h.Store.Org(ctx, id); err != nil {
					return false, fmt.Errorf("load org: %w", err)
				}
			}
			mine = append(mine, r)
		}
	}
	return storage.CanAnswer(active, mine, orgOf, memberOrg, t.Topic), nil
}

// signature names a responder to the member: name, role and organisation.
func (h *Hub) signature(ctx context.Context, s *session, lang string, t storage.Ticket) (string, error) {
	memberOrg, err := h.Store.Org(ctx, t.OrgID)
	if err != nil {
		return "", fmt.Errorf("load member org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return "", err
	}
	best := -1
	for i, m := range active {
		if m.Org.Contains(memberOrg) && (best < 0 || roleRank(m.Role) > roleRank(active[best].Role)) {
			best = i
		}
	}
	if best < 0 {
		return h.Catalog.T(lang, "ticket.signature_responder", "Name", s.person.FullName), nil
	}
	m := active[best]
	return h.Catalog.T(lang, "ticket.signature", "Name", s.person.FullName, "Role", h.Catalog.T(lang, roleKey(m.Role)), "Org", m.Org.Name), nil
}

func roleRank(r storage.Role) int {
	for i, known := range storage.Roles {
		if r == known {
			return i
		}
	}
	return -1
}

// tellMember sends the member of t a message on the platform they were
// seen on last; it reports whether they got it.
func (h *Hub) tellMember(ctx context.Context, t storage.Ticket, key string, build func(lang string) bot.Message) (bool, error) {
	if t.PersonID == 0 {
		return false, nil
	}
	p, err := h.Store.Person(ctx, t.PersonID)
	if err != nil {
		return false, fmt.Errorf("load member: %w", err)
	}
	if p.ErasedAt != nil {
		return false, nil
	}
	accounts, err := h.Store.Accounts(ctx, p.ID)
	if err != nil {
		return false, fmt.Errorf("load member accounts: %w", err)
	}
	return h.notify(ctx, key, accounts, locales.Normalize(p.Locale), build)
}

// memberButtons are what a member can do with an answered ticket.
func memberButtons(h *Hub, lang string, id int64) bot.Keyboard {
	n := strconv.FormatInt(id, 10)
	return bot.Keyboard{{
		{Text: h.Catalog.T(lang, "ticket.button_follow"), Data: cbTicket + ":follow:" + n},
		{Text: h.Catalog.T(lang, "ticket.button_done"), Data: cbTicket + ":done:" + n},
	}}
}

// onTicketButton takes the buttons of tickets: responders' take, reply,
// hand up, close and show; members' follow-up, done and rating.
func (h *Hub) onTicketButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) < 3 {
		return s.notice(ctx, "error.stale_button")
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	t, err := h.Store.Ticket(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load ticket: %w", err)
	}
	switch action := parts[1]; action {
	case "follow", "done", "rate", "nocomment", "view":
		if !storage.AsksTicket(s.person.ID, t) {
			return s.notice(ctx, "error.not_allowed")
		}
		return h.memberTicketAction(ctx, s, t, action, parts[3:])
	case "take", "reply", "up", "close", "show":
		ok, err := h.canAnswer(ctx, s, t)
		if err != nil {
			return err
		}
		if !ok {
			return s.notice(ctx, "error.not_allowed")
		}
		return h.responderTicketAction(ctx, s, t, action)
	}
	return s.notice(ctx, "error.stale_button")
}

func (h *Hub) responderTicketAction(ctx context.Context, s *session, t storage.Ticket, action string) error {
	if t.Status == storage.TicketClosed && action != "show" {
		return s.notice(ctx, "ticket.closed_already", "ID", t.ID)
	}
	now := h.Clock()
	desk := !s.private()
	switch action {
	case "show":
		if desk {
			return h.cardToPrivate(ctx, s, t)
		}
		card, err := h.ticketCard(ctx, s.lang, t, "ticket.card_show", false)
		if err != nil {
			return err
		}
		card.ChatID = s.u.Chat.ID
		return s.send(ctx, card)
	case "take":
		taken, err := h.Store.TakeTicket(ctx, t.ID, s.person.ID, now)
		if errors.Is(err, storage.ErrAlreadyTaken) {
			return s.notice(ctx, "ticket.taken_by", "ID", t.ID, "Name", h.personName(ctx, s.lang, taken.AssigneeID))
		}
		if err != nil {
			return fmt.Errorf("take ticket: %w", err)
		}
		card, err := h.ticketCard(ctx, s.lang, taken, "ticket.card_taken", desk)
		if err != nil {
			return err
		}
		card.Text = s.t("ticket.you_took", "ID", taken.ID, "Name", s.person.FullName) + "\n\n" + card.Text
		if !desk {
			return s.reply(ctx, card.Text, card.Keyboard)
		}
		// The desk sees no names; the taker does, in private.
		if err := h.cardToPrivate(ctx, s, taken); err != nil {
			return err
		}
		return s.editPressed(ctx, card.Text, card.Keyboard)
	case "reply":
		if desk {
			return s.notice(ctx, "ticket.desk_reply_hint")
		}
		if t.Status == storage.TicketOpen {
			if _, err := h.Store.TakeTicket(ctx, t.ID, s.person.ID, now); err != nil && !errors.Is(err, storage.ErrAlreadyTaken) {
				return fmt.Errorf("take ticket: %w", err)
			}
		}
		if err := s.saveConversation(ctx, &conversation{Flow: flowAnswer, Step: stepText, TicketID: t.ID}); err != nil {
			return err
		}
		return s.ask(ctx, s.plural("ticket.ask_answer", maxTicketText, "ID", t.ID),
			bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}}})
	case "up":
		level, err := h.Store.Org(ctx, t.LevelOrgID)
		if err != nil {
			return fmt.Errorf("load level org: %w", err)
		}
		if level.ParentID == 0 {
			return s.notice(ctx, "ticket.top_level")
		}
		parent, err := h.Store.Org(ctx, level.ParentID)
		if err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
		target, err := h.route(ctx, parent, t.Topic)
		if err != nil {
			return err
		}
		moved, err := h.Store.MoveTicket(ctx, t.ID, level.ID, target.ID, h.Hotline.Deadline(now, zone(target)), false)
		if errors.Is(err, storage.ErrConflict) {
			return s.notice(ctx, "error.stale_button")
		}
		if err != nil {
			return fmt.Errorf("move ticket: %w", err)
		}
		if err := h.dispatchTicket(ctx, moved, target, "ticket.card_handed_up"); err != nil {
			h.Logger.WarnContext(ctx, "notify responders", "ticket", t.ID, "err", err)
		}
		if _, err := h.tellMember(ctx, moved, fmt.Sprintf("moved:%d:%d", t.ID, target.ID), func(lang string) bot.Message {
			return bot.Message{Text: h.Catalog.T(lang, "ticket.member_moved", "ID", t.ID, "Org", target.Name)}
		}); err != nil {
			h.Logger.WarnContext(ctx, "tell member", "ticket", t.ID, "err", err)
		}
		return s.reply(ctx, s.t("ticket.handed_up", "ID", t.ID, "Org", target.Name), nil)
	case "close":
		closed, err := h.Store.CloseTicket(ctx, t.ID, now)
		if errors.Is(err, storage.ErrTicketClosed) {
			return s.notice(ctx, "ticket.closed_already", "ID", t.ID)
		}
		if err != nil {
			return fmt.Errorf("close ticket: %w", err)
		}
		if err := h.askRating(ctx, closed); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.closed", "ID", t.ID), nil)
	}
	return s.notice(ctx, "error.stale_button")
}

// cardToPrivate sends the full card, name included, to the presser's
// private chat.
func (h *Hub) cardToPrivate(ctx context.Context, s *session, t storage.Ticket) error {
	if _, err := h.tellPerson(ctx, s.person.ID, fmt.Sprintf("private-card:%s:%s", s.u.Platform, s.u.ID), func(lang string) bot.Message {
		card, err := h.ticketCard(ctx, lang, t, "ticket.card_show", false)
		if err != nil {
			h.Logger.WarnContext(ctx, "build card", "ticket", t.ID, "err", err)
		}
		return card
	}); err != nil {
		return err
	}
	return s.notice(ctx, "ticket.sent_private", "ID", t.ID)
}

func (h *Hub) personName(ctx context.Context, lang string, id int64) string {
	if p, err := h.Store.Person(ctx, id); err == nil && p.ErasedAt == nil {
		return p.FullName
	}
	return h.Catalog.T(lang, "ticket.anonymous")
}

// askRating asks the member to rate the answer of a closed ticket.
func (h *Hub) askRating(ctx context.Context, t storage.Ticket) error {
	id := strconv.FormatInt(t.ID, 10)
	_, err := h.tellMember(ctx, t, "rate:"+id, func(lang string) bot.Message {
		var row []bot.Button
		for n := 1; n <= 5; n++ {
			row = append(row, bot.Button{Text: h.Catalog.T(lang, "ticket.button_stars", "N", n), Data: fmt.Sprintf("%s:rate:%s:%d", cbTicket, id, n)})
		}
		return bot.Message{Text: h.Catalog.T(lang, "ticket.rate", "ID", t.ID), Keyboard: bot.Keyboard{row}}
	})
	return err
}

func (h *Hub) memberTicketAction(ctx context.Context, s *session, t storage.Ticket, action string, args []string) error {
	switch action {
	case "follow":
		if t.Status == storage.TicketClosed {
			return s.reply(ctx, s.t("ticket.closed_for_member", "ID", t.ID), s.mainMenu())
		}
		if err := s.saveConversation(ctx, &conversation{Flow: flowFollowUp, Step: stepText, TicketID: t.ID}); err != nil {
			return err
		}
		return s.ask(ctx, s.plural("ticket.ask_follow", maxTicketText, "ID", t.ID),
			bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}}})
	case "done":
		closed, err := h.Store.CloseTicket(ctx, t.ID, h.Clock())
		if errors.Is(err, storage.ErrTicketClosed) {
			return s.notice(ctx, "ticket.closed_already", "ID", t.ID)
		}
		if err != nil {
			return fmt.Errorf("close ticket: %w", err)
		}
		if closed.AssigneeID != 0 {
			if _, err := h.tellPerson(ctx, closed.AssigneeID, fmt.Sprintf("closed:%d", t.ID), func(lang string) bot.Message {
				return bot.Message{Text: h.Catalog.T(lang, "ticket.member_closed", "ID", t.ID)}
			}); err != nil {
				h.Logger.WarnContext(ctx, "tell responder", "ticket", t.ID, "err", err)
			}
		}
		return h.askRating(ctx, closed)
	case "rate":
		if len(args) != 1 || t.Status != storage.TicketClosed {
			return s.notice(ctx, "error.stale_button")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 5 {
			return s.notice(ctx, "error.stale_button")
		}
		if err := h.Store.RateTicket(ctx, t.ID, n, ""); err != nil {
			return fmt.Errorf("rate ticket: %w", err)
		}
		if err := s.saveConversation(ctx, &conversation{Flow: flowRate, Step: stepText, TicketID: t.ID, Rating: n}); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.rated", "ID", t.ID, "Rating", n), bot.Keyboard{{
			{Text: s.t("ticket.button_no_comment"), Data: fmt.Sprintf("%s:nocomment:%d", cbTicket, t.ID)},
		}})
	case "nocomment":
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.thanks"), s.mainMenu())
	case "view":
		return h.showThread(ctx, s, t)
	}
	return s.notice(ctx, "error.stale_button")
}

// maxThreadView bounds the thread shown to a member, in UTF-16 units, so
// that the view fits a message; earlier messages are said to be left out.
const maxThreadView = 3500

// showThread shows the member their question and its answers, the latest
// that fit in one message.
func (h *Hub) showThread(ctx context.Context, s *session, t storage.Ticket) error {
	msgs, err := h.Store.TicketMessages(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("load thread: %w", err)
	}
	head := s.t("ticket.view", "ID", t.ID, "Topic", h.topicName(s.lang, t.Topic), "Status", s.t(statusKey(t)))
	var lines []string
	size := len(utf16.Encode([]rune(head)))
	for i := len(msgs) - 1; i >= 0; i-- {
		key := "ticket.view_answer"
		if msgs[i].FromMember {
			key = "ticket.view_mine"
		}
		line := s.t(key, "Text", msgs[i].Text)
		if n := len(utf16.Encode([]rune(line))) + 1; size+n > maxThreadView {
			lines = append(lines, s.t("ticket.view_earlier"))
			break
		} else {
			size += n
		}
		lines = append(lines, line)
	}
	slices.Reverse(lines)
	var kb bot.Keyboard
	if t.Status != storage.TicketClosed {
		kb = memberButtons(h, s.lang, t.ID)
	}
	return s.reply(ctx, head+"\n\n"+strings.Join(lines, "\n\n"), append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: cbMenu + ":my"}}))
}

// tellPerson sends a message to a person by id where they can be reached;
// it reports whether they got it.
func (h *Hub) tellPerson(ctx context.Context, personID int64, key string, build func(lang string) bot.Message) (bool, error) {
	p, err := h.Store.Person(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("load person: %w", err)
	}
	accounts, err := h.Store.Accounts(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("load accounts: %w", err)
	}
	return h.notify(ctx, key, accounts, locales.Normalize(p.Locale), build)
}

// ticketText takes a responder's answer, a member's follow-up or a rating
// comment.
func (h *Hub) ticketText(ctx context.Context, s *session, c *conversation) error {
	if s.person == nil {
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_registered")})
	}
	t, err := h.Store.Ticket(ctx, c.TicketID)
	if err != nil {
		return fmt.Errorf("load ticket: %w", err)
	}
	if c.Flow == flowRate {
		comment, bad := cleanText(s.u.Text, maxRatingComment)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		if err := h.Store.RateTicket(ctx, t.ID, c.Rating, comment); err != nil {
			return fmt.Errorf("rate ticket: %w", err)
		}
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.thanks"), s.mainMenu())
	}
	if s.u.HasMedia {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
	}
	text := ""
	if strings.TrimSpace(s.u.Text) != "" || len(s.u.Attachments) == 0 {
		var bad *inputError
		if text, bad = cleanTicketText(s.u.Text); bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
	}
	if c.Flow == flowAnswer {
		ok, err := h.canAnswer(ctx, s, t)
		if err != nil {
			return err
		}
		if !ok {
			if err := s.endConversation(ctx); err != nil {
				return err
			}
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_allowed")})
		}
		if err := h.answer(ctx, s, t, text, s.u.Attachments); err != nil {
			return err
		}
		return s.endConversation(ctx)
	}
	if !storage.AsksTicket(s.person.ID, t) {
		return s.endConversation(ctx)
	}
	if err := h.followUp(ctx, s, t, text, s.u.Attachments); err != nil {
		return err
	}
	return s.endConversation(ctx)
}

// answer adds a responder's message to the thread and brings it to the
// member, signed with the responder's name and role.
func (h *Hub) answer(ctx context.Context, s *session, t storage.Ticket, text string, files []storage.Attachment) error {
	msg := storage.TicketMessage{TicketID: t.ID, AuthorID: s.person.ID, Text: text, Attachments: files, At: h.Clock()}
	if _, err := h.Store.AddTicketMessage(ctx, msg); errors.Is(err, storage.ErrTicketClosed) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.closed_already", "ID", t.ID)})
	} else if err != nil {
		return fmt.Errorf("add answer: %w", err)
	}
	reached, err := h.tellMember(ctx, t, fmt.Sprintf("answer:%s:%s", s.u.Platform, s.u.ID), func(lang string) bot.Message {
		sig, sigErr := h.signature(ctx, s, lang, t)
		if sigErr != nil {
			sig = s.person.FullName
		}
		body := h.Catalog.T(lang, "ticket.answer", "ID", t.ID, "Signature", sig, "Text", text)
		if len(files) > 0 {
			body += "\n" + h.Catalog.Plural(lang, "ticket.files", len(files))
		}
		return bot.Message{Text: body, Attachments: files, Keyboard: memberButtons(h, lang, t.ID)}
	})
	if err != nil {
		// The answer is committed and shows in the member's /my; a retry
		// must not add it twice.
		h.Logger.WarnContext(ctx, "deliver answer", "ticket", t.ID, "err", err)
	}
	key := "ticket.answer_sent"
	if !reached {
		key = "ticket.member_unreachable"
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, "ID", t.ID)})
}

// followUp adds a member's message to the thread and brings it to the
// responder who took the ticket if they still may answer it, else to those
// who answer at its level: its desk or its responders.
func (h *Hub) followUp(ctx context.Context, s *session, t storage.Ticket, text string, files []storage.Attachment) error {
	msg := storage.TicketMessage{TicketID: t.ID, AuthorID: s.person.ID, FromMember: true, Text: text, Attachments: files, At: h.Clock()}
	if _, err := h.Store.AddTicketMessage(ctx, msg); errors.Is(err, storage.ErrTicketClosed) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.closed_for_member", "ID", t.ID), Keyboard: s.mainMenu()})
	} else if err != nil {
		return fmt.Errorf("add follow-up: %w", err)
	}
	// The follow-up is committed: delivery problems are logged, not returned,
	// so that a retry does not add it twice.
	if err := h.deliverFollowUp(ctx, s, t, text, files); err != nil {
		h.Logger.WarnContext(ctx, "deliver follow-up", "ticket", t.ID, "err", err)
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.follow_up_sent", "ID", t.ID)})
}

func (h *Hub) deliverFollowUp(ctx context.Context, s *session, t storage.Ticket, text string, files []storage.Attachment) error {
	key := fmt.Sprintf("followup:%s:%s", s.u.Platform, s.u.ID)
	build := func(name string) func(lang string) bot.Message {
		return func(lang string) bot.Message {
			body := h.Catalog.T(lang, "ticket.follow_up", "ID", t.ID, "Name", name, "Text", text)
			if len(files) > 0 {
				body += "\n" + h.Catalog.Plural(lang, "ticket.files", len(files))
			}
			return bot.Message{Text: body, Attachments: files, Keyboard: ticketButtons(h, lang, t, false)}
		}
	}
	if t.AssigneeID != 0 {
		ok, err := h.canAnswerPerson(ctx, t.AssigneeID, t)
		if err != nil {
			return err
		}
		if ok {
			reached, err := h.tellPerson(ctx, t.AssigneeID, key, build(s.person.FullName))
			if err != nil || reached {
				return err
			}
		}
	}
	level, err := h.Store.Org(ctx, t.LevelOrgID)
	if err != nil {
		return fmt.Errorf("load level org: %w", err)
	}
	recipients, desk, err := h.ticketRecipients(ctx, level, t.Topic)
	if err != nil {
		return err
	}
	if desk != nil {
		m := build(h.Catalog.T(locales.Default, "ticket.name_hidden"))(locales.Default)
		m.Keyboard = ticketButtons(h, locales.Default, t, true)
		return h.postToDesk(ctx, *desk, t, m, key)
	}
	for _, r := range recipients {
		if _, err := h.notify(ctx, key, r.Accounts, locales.Normalize(r.Person.Locale), build(s.person.FullName)); err != nil {
			return err
		}
	}
	return nil
}

// cmdMy lists the member's tickets with their state.
func (h *Hub) cmdMy(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	tickets, err := h.Store.TicketsOf(ctx, s.person.ID)
	if err != nil {
		return fmt.Errorf("list tickets: %w", err)
	}
	if len(tickets) == 0 {
		return s.reply(ctx, s.t("ticket.none_mine"), s.mainMenu())
	}
	var b strings.Builder
	b.WriteString(s.plural("ticket.mine", len(tickets)))
	var kb bot.Keyboard
	for i, t := range tickets {
		if i == maxListed {
			b.WriteString("\n" + s.plural("ticket.list_more", len(tickets)-maxListed))
			break
		}
		b.WriteString("\n" + h.ticketLine(s, t))
		if len(kb) < ticketListButtons-1 {
			kb = append(kb, []bot.Button{{Text: s.t("ticket.button_view", "ID", t.ID), Data: fmt.Sprintf("%s:view:%d", cbTicket, t.ID)}})
		}
	}
	return s.reply(ctx, b.String(), append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: cbMenu + ":main"}}))
}

// maxListed bounds the tickets listed in one message.
const maxListed = 20

func (h *Hub) ticketLine(s *session, t storage.Ticket) string {
	return s.t("ticket.line", "ID", t.ID, "Topic", h.topicName(s.lang, t.Topic),
		"Status", s.t(statusKey(t)), "Date", t.CreatedAt.In(zone(storage.Org{})).Format(s.t("format.date")))
}

func statusKey(t storage.Ticket) string {
	switch {
	case t.Status == storage.TicketClosed:
		return "ticket.status_closed"
	case t.FirstResponseAt != nil:
		return "ticket.status_answered"
	case t.Status == storage.TicketTaken:
		return "ticket.status_taken"
	}
	return "ticket.status_open"
}

// cmdTickets lists to a responder the unclosed tickets they may answer.
func (h *Hub) cmdTickets(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	roots, err := h.answerRoots(ctx, s)
	if err != nil {
		return err
	}
	if len(roots) == 0 {
		return s.refuse(ctx, "error.not_allowed")
	}
	var visible []storage.Ticket
	seen := map[int64]bool{}
	for _, root := range roots {
		ts, err := h.Store.FindTickets(ctx, storage.TicketQuery{Under: root, Statuses: []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}})
		if err != nil {
			return fmt.Errorf("list tickets: %w", err)
		}
		for _, t := range ts {
			if seen[t.ID] {
				continue
			}
			seen[t.ID] = true
			if ok, err := h.canAnswer(ctx, s, t); err != nil {
				return err
			} else if ok {
				visible = append(visible, t)
			}
		}
	}
	if len(visible) == 0 {
		return s.reply(ctx, s.t("ticket.none_open"), s.mainMenu())
	}
	var b strings.Builder
	b.WriteString(s.plural("ticket.open_count", len(visible)))
	var kb bot.Keyboard
	for i, t := range visible {
		if i == maxListed {
			b.WriteString("\n" + s.plural("ticket.list_more", len(visible)-maxListed))
			break
		}
		b.WriteString("\n" + h.ticketLine(s, t))
		if reachable, err := h.memberReachable(ctx, t); err != nil {
			return err
		} else if !reachable {
			b.WriteString(" " + s.t("ticket.unreachable_mark"))
		}
		if len(kb) < ticketListButtons {
			kb = append(kb, []bot.Button{{Text: s.t("ticket.button_show", "ID", t.ID), Data: fmt.Sprintf("%s:show:%d", cbTicket, t.ID)}})
		}
	}
	return s.reply(ctx, b.String(), kb)
}

// answerRoots are the orgs under which the person may answer tickets: where
// they chair, and where they are a named responder.
func (h *Hub) answerRoots(ctx context.Context, s *session) ([]storage.Org, error) {
	active, err := s.activeRoles(ctx)
	if err != nil {
		return nil, err
	}
	roots := storage.ManagedOrgs(active, storage.ActAnswerTicket)
	seen := map[int64]bool{}
	for _, o := range roots {
		seen[o.ID] = true
	}
	for _, m := range active {
		if seen[m.Org.ID] {
			continue
		}
		rs, err := h.Store.Responders(ctx, m.Org.ID)
		if err != nil {
			return nil, fmt.Errorf("list responders: %w", err)
		}
		for _, r := range rs {
			if r.PersonID == s.person.ID {
				roots, seen[m.Org.ID] = append(roots, m.Org), true
				break
			}
		}
	}
	return roots, nil
}

// memberReachable reports whether the member of t can get a message: a
// member who blocked the bot is marked in the responders' list.
func (h *Hub) memberReachable(ctx context.Context, t storage.Ticket) (bool, error) {
	if t.PersonID == 0 {
		return false, nil
	}
	accounts, err := h.Store.Accounts(ctx, t.PersonID)
	if err != nil {
		return false, fmt.Errorf("load member accounts: %w", err)
	}
	for _, a := range accounts {
		if _, ok := h.Senders[bot.Platform(a.Platform)]; ok && a.BlockedAt == nil {
			return true, nil
		}
	}
	return false, nil
}

// memberText handles free text from a member outside any conversation: with
// one unclosed ticket it joins that ticket's thread; with several the member
// picks one.
func (h *Hub) memberText(ctx context.Context, s *session) (bool, error) {
	tickets, err := h.Store.TicketsOf(ctx, s.person.ID)
	if err != nil {
		return false, fmt.Errorf("list tickets: %w", err)
	}
	var open []storage.Ticket
	for _, t := range tickets {
		if t.Status != storage.TicketClosed {
			open = append(open, t)
		}
	}
	switch len(open) {
	case 0:
		return false, nil
	case 1:
		if s.u.HasMedia {
			return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
		}
		text := ""
		if strings.TrimSpace(s.u.Text) != "" || len(s.u.Attachments) == 0 {
			var bad *inputError
			if text, bad = cleanTicketText(s.u.Text); bad != nil {
				// Refused whole: never part of a message silently.
				return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
			}
		}
		return true, h.followUp(ctx, s, open[0], text, s.u.Attachments)
	}
	var kb bot.Keyboard
	for _, t := range open[:min(len(open), ticketListButtons-1)] {
		kb = append(kb, []bot.Button{{Text: s.t("ticket.button_follow_n", "ID", t.ID), Data: fmt.Sprintf("%s:follow:%d", cbTicket, t.ID)}})
	}
	kb = append(kb, []bot.Button{{Text: s.t("menu.button_ask"), Data: cbMenu + ":ask"}})
	return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.which"), Keyboard: kb})
}
