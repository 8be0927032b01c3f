package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
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

// answerRoots are the orgs under which the session's person may answer
// tickets.
func (h *Hub) answerRoots(ctx context.Context, s *session) ([]storage.Org, error) {
	by, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	return h.Hotline.AnswerRoots(ctx, by)
}

// refusedPress answers a press on a ticket the hot line refused: a ticket
// gone or a forged id is a stale button, a ticket of someone else's is not
// allowed, a closed one says so and the pressed message loses its buttons.
// handled is false for an error of another kind, returned as it is.
func refusedPress(ctx context.Context, s *session, id int64, err error) (handled bool, _ error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return true, s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return true, s.notice(ctx, "error.not_allowed")
	case errors.Is(err, storage.ErrTicketClosed):
		s.spendPressed(ctx)
		return true, s.notice(ctx, "ticket.closed_already", "ID", id)
	}
	return false, err
}

// onTicketButton takes the buttons of tickets: responders' take, reply,
// hand up, close and show; members' follow-up, done and rating.
func (h *Hub) onTicketButton(ctx context.Context, s *session) error {
	b, ok := parseTicketButton(s.u.Callback.Data)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if slices.Contains(responderActions, b.Action) {
		err = h.responderTicketAction(ctx, s, by, b)
	} else {
		err = h.memberTicketAction(ctx, s, by, b)
	}
	_, err = refusedPress(ctx, s, b.TicketID, err)
	return err
}

func (h *Hub) responderTicketAction(ctx context.Context, s *session, by access.Actor, b ticketButton) error {
	desk := !s.private()
	switch b.Action {
	case tkShow:
		t, err := h.Hotline.TicketToAnswer(ctx, by, b.TicketID)
		if err != nil {
			return err
		}
		if desk {
			return h.cardToPrivate(ctx, s, t)
		}
		card, err := h.ticketCard(ctx, s.lang, t, "ticket.card_show", false)
		if err != nil {
			return err
		}
		card.ChatID = s.u.Chat.ID
		at, err := s.sendAt(ctx, card)
		if err == nil && at.sent.MessageID != "" {
			h.keepPost(ctx, t.ID, storage.PostCard, at)
		}
		return err
	case tkTake:
		taken, err := h.Hotline.Take(ctx, by, b.TicketID)
		if taker := (*hotline.TakenError)(nil); errors.As(err, &taker) {
			return s.notice(ctx, "ticket.taken_by", "ID", b.TicketID, "Name", snippet(h.personName(ctx, s.lang, taker.By), maxNoticeName))
		}
		if err != nil {
			return err
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
		return s.reply(ctx, card.Text, card.Keyboard)
	case tkReply:
		if desk {
			t, err := h.Hotline.TicketToAnswer(ctx, by, b.TicketID)
			if err == nil && t.Status == storage.TicketClosed {
				err = storage.ErrTicketClosed
			}
			if err != nil {
				return err
			}
			return s.notice(ctx, "ticket.desk_reply_hint")
		}
		t, err := h.Hotline.BeginAnswer(ctx, by, b.TicketID)
		if err != nil {
			return err
		}
		if err := s.saveConversation(ctx, &conversation{Flow: flowAnswer, Step: stepText, TicketID: t.ID}); err != nil {
			return err
		}
		return s.ask(ctx, s.plural("ticket.ask_answer", hotline.MaxText, "ID", t.ID),
			bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}}})
	case tkUp:
		target, err := h.Hotline.HandUp(ctx, by, b.TicketID)
		switch {
		case errors.Is(err, hotline.ErrTopLevel):
			return s.notice(ctx, "ticket.top_level")
		case errors.Is(err, hotline.ErrNobodyAbove):
			// Handing it to nobody would hide it: it stays here.
			return s.notice(ctx, "ticket.nobody_above", "ID", b.TicketID)
		case errors.Is(err, storage.ErrConflict):
			return s.notice(ctx, "error.stale_button")
		case err != nil:
			return err
		}
		return s.reply(ctx, s.t("ticket.handed_up", "ID", b.TicketID, "Org", target.Name), nil)
	case tkClose:
		// The pressed card is shown closed with the others.
		kind := storage.PostCard
		if desk {
			kind = storage.PostDesk
		}
		if _, err := h.Hotline.Close(withPressedPost(ctx, kind, s.pressed()), by, b.TicketID); err != nil {
			return err
		}
		return s.notice(ctx, "ticket.closed", "ID", b.TicketID)
	}
	return s.notice(ctx, "error.stale_button")
}

// cardToPrivate sends the full card, name included, to the presser's
// private chat.
func (h *Hub) cardToPrivate(ctx context.Context, s *session, t storage.Ticket) error {
	at, reached, err := h.tellPersonAt(ctx, s.person.ID, fmt.Sprintf("private-card:%s:%s", s.u.Platform, s.u.ID), func(lang string) bot.Message {
		card, err := h.ticketCard(ctx, lang, t, "ticket.card_show", false)
		if err != nil {
			h.Logger.WarnContext(ctx, "build card", "ticket", t.ID, "err", err)
		}
		return card
	})
	if err != nil {
		return err
	}
	if reached {
		h.keepPost(ctx, t.ID, storage.PostCard, at)
	}
	return s.notice(ctx, "ticket.sent_private", "ID", t.ID)
}

// maxNoticeName is as much of a name as a press notice shows: with the
// rest of the text it fits VK's snackbar of 90 characters.
const maxNoticeName = 40

func (h *Hub) personName(ctx context.Context, lang string, id int64) string {
	if p, err := h.Store.Person(ctx, id); err == nil && p.ErasedAt == nil {
		return p.FullName
	}
	return h.Catalog.T(lang, "ticket.anonymous")
}

func (h *Hub) memberTicketAction(ctx context.Context, s *session, by access.Actor, b ticketButton) error {
	switch b.Action {
	case tkFollow:
		t, err := h.Hotline.BeginFollowUp(ctx, by, b.TicketID)
		if errors.Is(err, storage.ErrTicketClosed) {
			// The answer under the button stays; the news goes below it.
			s.spendPressed(ctx)
			return s.ask(ctx, s.t("ticket.closed_for_member", "ID", b.TicketID), s.mainMenu(ctx))
		}
		if err != nil {
			return err
		}
		if err := s.saveConversation(ctx, &conversation{Flow: flowFollowUp, Step: stepText, TicketID: t.ID}); err != nil {
			return err
		}
		return s.ask(ctx, s.plural("ticket.ask_follow", hotline.MaxText, "ID", t.ID),
			bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}}})
	case tkDone:
		// The pressed answer keeps its text and loses its buttons with the
		// ticket's other messages.
		_, err := h.Hotline.Solve(withPressedPost(ctx, storage.PostKeep, s.pressed()), by, b.TicketID)
		return err
	case tkRate:
		err := h.Hotline.Rate(ctx, by, b.TicketID, b.Stars, "")
		if errors.Is(err, hotline.ErrStillOpen) || errors.Is(err, hotline.ErrInvalid) {
			return s.notice(ctx, "error.stale_button")
		}
		if err != nil {
			return err
		}
		if err := s.saveConversation(ctx, &conversation{Flow: flowRate, Step: stepText, TicketID: b.TicketID, Rating: b.Stars}); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.rated", "ID", b.TicketID, "Rating", b.Stars), bot.Keyboard{{
			{Text: s.t("ticket.button_no_comment"), Data: ticketButton{Action: tkNoComment, TicketID: b.TicketID}.data()},
		}})
	case tkNoComment:
		if _, err := h.Hotline.OwnTicket(ctx, by, b.TicketID); err != nil {
			return err
		}
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.thanks"), s.mainMenu(ctx))
	case tkView:
		t, msgs, err := h.Hotline.Thread(ctx, by, b.TicketID)
		if err != nil {
			return err
		}
		return h.showThread(ctx, s, t, msgs)
	}
	return s.notice(ctx, "error.stale_button")
}

// maxThreadView bounds the thread shown to a member, in UTF-16 units, so
// that the view fits a message; earlier messages are said to be left out.
const maxThreadView = 3500

// showThread shows the member their question and its answers, the latest
// that fit in one message.
func (h *Hub) showThread(ctx context.Context, s *session, t storage.Ticket, msgs []storage.TicketMessage) error {
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
		kb = memberButtons(h.Notifier, s.lang, t.ID)
	}
	return s.reply(ctx, head+"\n\n"+strings.Join(lines, "\n\n"), append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: menuButton{Item: "my"}.data()}}))
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
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if c.Flow == flowRate {
		comment, bad := cleanText(s.u.Text, hotline.MaxComment)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		if err := h.Hotline.Rate(ctx, by, c.TicketID, c.Rating, comment); err != nil {
			return err
		}
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.thanks"), s.mainMenu(ctx))
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
	m := hotline.Message{Text: text, Files: s.u.Attachments}
	if c.Flow == flowAnswer {
		reached, err := h.Hotline.Answer(ctx, by, c.TicketID, m, s.ref())
		if errors.Is(err, access.ErrForbidden) {
			if err := s.endConversation(ctx); err != nil {
				return err
			}
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_allowed")})
		}
		if err := h.tellAnswered(ctx, s, c.TicketID, reached, err); err != nil {
			return err
		}
		return s.endConversation(ctx)
	}
	added, err := h.followUp(ctx, s, by, c.TicketID, m)
	if errors.Is(err, access.ErrForbidden) {
		return s.endConversation(ctx)
	}
	if err != nil {
		return err
	}
	if added && c.Step == stepMore {
		// The window the member opened stays open from their last text.
		if err := s.saveConversationFor(ctx, c, followUpWindow); err != nil {
			return err
		}
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.follow_up_sent", "ID", c.TicketID),
			Keyboard: bot.Keyboard{{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}}}})
	}
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	if !added {
		return nil
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.follow_up_sent", "ID", c.TicketID), Keyboard: s.mainMenu(ctx)})
}

// tellAnswered tells the responder what became of their answer, given
// Answer's outcome: sent, or kept but not delivered, or refused as the
// ticket is closed.
func (h *Hub) tellAnswered(ctx context.Context, s *session, id int64, reached bool, err error) error {
	key := "ticket.answer_sent"
	switch {
	case errors.Is(err, storage.ErrTicketClosed):
		key = "ticket.closed_already"
	case err != nil:
		return err
	case !reached:
		key = "ticket.member_unreachable"
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, "ID", id)})
}

// followUp adds the member's message to their ticket; it reports whether
// it was added. A closed ticket refuses it, and the member is told.
func (h *Hub) followUp(ctx context.Context, s *session, by access.Actor, id int64, m hotline.Message) (bool, error) {
	err := h.Hotline.FollowUp(ctx, by, id, m, s.ref())
	if errors.Is(err, storage.ErrTicketClosed) {
		return false, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ticket.closed_for_member", "ID", id), Keyboard: s.mainMenu(ctx)})
	}
	return err == nil, err
}

// cmdMy lists the member's tickets with their state.
func (h *Hub) cmdMy(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	tickets, err := h.Hotline.Mine(ctx, by)
	if err != nil {
		return err
	}
	if len(tickets) == 0 {
		return s.reply(ctx, s.t("ticket.none_mine"), s.mainMenu(ctx))
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
			kb = append(kb, []bot.Button{{Text: s.t("ticket.button_view", "ID", t.ID), Data: ticketButton{Action: tkView, TicketID: t.ID}.data()}})
		}
	}
	return s.reply(ctx, b.String(), append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}}))
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
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	unclosed := hotline.InboxFilter{Statuses: hotline.Unclosed}
	count, more, err := h.Hotline.InboxCount(ctx, by, unclosed)
	if errors.Is(err, access.ErrForbidden) {
		return s.refuse(ctx, "error.not_allowed")
	}
	if err != nil {
		return err
	}
	if count == 0 {
		return s.reply(ctx, s.t("ticket.none_open"), s.mainMenu(ctx))
	}
	// The oldest first: they have waited longest.
	unclosed.Oldest, unclosed.Limit = true, maxListed
	visible, err := h.Hotline.Inbox(ctx, by, unclosed)
	if err != nil {
		return err
	}
	var b strings.Builder
	if more {
		b.WriteString(s.plural("ticket.open_count_over", count, "Shown", len(visible)))
	} else {
		b.WriteString(s.plural("ticket.open_count", count))
	}
	var kb bot.Keyboard
	for _, t := range visible {
		b.WriteString("\n" + h.ticketLine(s, t.Ticket))
		if reachable, err := h.Hotline.MemberReachable(ctx, t.Ticket); err != nil {
			return err
		} else if !reachable {
			b.WriteString(" " + s.t("ticket.unreachable_mark"))
		}
		if len(kb) < ticketListButtons {
			kb = append(kb, []bot.Button{{Text: s.t("ticket.button_show", "ID", t.ID), Data: ticketButton{Action: tkShow, TicketID: t.ID}.data()}})
		}
	}
	if !more && count > len(visible) {
		b.WriteString("\n" + s.plural("ticket.list_more", count-len(visible)))
	}
	return s.reply(ctx, b.String(), kb)
}

// memberText handles free text from a member outside any conversation.
// With unclosed tickets it asks once where the text goes: added to one of
// them, made a new question, or dropped; the text waits in the
// conversation meanwhile.
func (h *Hub) memberText(ctx context.Context, s *session) (bool, error) {
	return h.holdText(ctx, s, &conversation{})
}

// holdText keeps the update's text with what held already waits, and asks
// where it goes; it reports false when the member has no unclosed ticket.
func (h *Hub) holdText(ctx context.Context, s *session, held *conversation) (bool, error) {
	by, err := s.actor(ctx)
	if err != nil {
		return false, err
	}
	open, err := h.Hotline.MineOpen(ctx, by)
	if err != nil {
		return false, err
	}
	if len(open) == 0 {
		return false, nil
	}
	if s.u.HasMedia {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
	}
	text := held.Question
	if typed := strings.TrimSpace(s.u.Text); typed != "" || (len(s.u.Attachments) == 0 && text == "") {
		if text != "" {
			typed = text + "\n" + typed
		}
		var bad *inputError
		if text, bad = cleanTicketText(typed); bad != nil {
			// Refused whole: never part of a message silently.
			return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
	}
	files := append(slices.Clone(held.Attachments), s.u.Attachments...)
	if len(files) > hotline.MaxFiles {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: (&inputError{key: "ask.too_many_files", limit: hotline.MaxFiles}).message(s)})
	}
	if err := s.saveConversation(ctx, &conversation{Flow: flowLoose, Step: stepChoose, Question: text, Attachments: files}); err != nil {
		return true, err
	}
	var kb bot.Keyboard
	for _, t := range open[:min(len(open), ticketListButtons-2)] {
		kb = append(kb, []bot.Button{{Text: s.t("ticket.button_add_to", "ID", t.ID), Data: looseButton{Action: looseAdd, TicketID: t.ID}.data()}})
	}
	kb = append(kb,
		[]bot.Button{{Text: s.t("ticket.button_new_question"), Data: looseButton{Action: looseNew}.data()}},
		[]bot.Button{{Text: s.t("reg.button_cancel"), Data: looseButton{Action: looseCancel}.data()}})
	key := "ticket.loose_one"
	if len(open) > 1 {
		key = "ticket.loose_many"
	}
	return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, "ID", open[0].ID), Keyboard: kb})
}

// followUpWindow is how long texts keep joining a question after the member
// chose to add one to it.
const followUpWindow = 30 * time.Minute

// onLooseButton takes the member's choice for a text written while a
// question was open.
func (h *Hub) onLooseButton(ctx context.Context, s *session) error {
	b, ok := parseLooseButton(s.u.Callback.Data)
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if !ok || s.person == nil || c.Flow != flowLoose {
		return s.notice(ctx, "error.stale_button")
	}
	switch b.Action {
	case looseCancel:
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.loose_dropped"), s.mainMenu(ctx))
	case looseNew:
		active, err := s.activeRoles(ctx)
		if err != nil {
			return err
		}
		org, ok := askOrg(active)
		if !ok {
			return s.reply(ctx, s.t("ask.not_member"), s.mainMenu(ctx))
		}
		ask := &conversation{Flow: flowAsk, Step: stepTopic, OrgID: org.ID, Question: c.Question, Attachments: c.Attachments}
		if err := s.saveConversation(ctx, ask); err != nil {
			return err
		}
		return h.askPrompt(ctx, s, ask)
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	_, err = h.Hotline.BeginFollowUp(ctx, by, b.TicketID)
	if errors.Is(err, storage.ErrTicketClosed) {
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ticket.closed_for_member", "ID", b.TicketID), s.mainMenu(ctx))
	}
	if handled, err := refusedPress(ctx, s, b.TicketID, err); handled || err != nil {
		return err
	}
	added, err := h.followUp(ctx, s, by, b.TicketID, hotline.Message{Text: c.Question, Files: c.Attachments})
	if err != nil || !added {
		return err
	}
	more := &conversation{Flow: flowFollowUp, Step: stepMore, TicketID: b.TicketID}
	if err := s.saveConversationFor(ctx, more, followUpWindow); err != nil {
		return err
	}
	return s.reply(ctx, s.t("ticket.follow_up_sent_more", "ID", b.TicketID, "Minutes", int(followUpWindow/time.Minute)),
		bot.Keyboard{{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}}})
}
