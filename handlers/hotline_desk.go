package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// cmdDesk makes the group chat its org's hot-line desk: tickets are posted
// there, and replying to a ticket's message answers the member.
func (h *Hub) cmdDesk(ctx context.Context, s *session) error {
	if s.private() {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.private")})
	}
	if s.person == nil {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.not_registered")})
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	var org storage.Org
	if code := strings.TrimSpace(s.u.Args); code != "" {
		if org, err = h.Store.OrgByCode(ctx, code); errors.Is(err, storage.ErrNotFound) {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.unknown_org", "Code", code)})
		} else if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
	} else {
		switch orgs := storage.ManagedOrgs(active, storage.ActNameResponders); len(orgs) {
		case 0:
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed")})
		case 1:
			org = orgs[0]
		default:
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.which")})
		}
	}
	if !storage.Allowed(active, storage.ActNameResponders, org) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed")})
	}
	if err := h.Store.BindChat(ctx, storage.ChatBinding{Platform: storage.Platform(s.u.Platform), ChatID: s.u.Chat.ID,
		OrgID: org.ID, Title: s.u.Chat.Title, Desk: true, BoundBy: s.person.ID, BoundAt: h.Clock()}); err != nil {
		return fmt.Errorf("bind desk: %w", err)
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.done", "Org", org.Name)})
}

// deskReply answers a ticket from its desk group: a reply to the ticket's
// card by someone who may answer it goes to the member. It reports whether
// the message was such a reply.
func (h *Hub) deskReply(ctx context.Context, s *session) (bool, error) {
	if s.u.ReplyTo == "" {
		return false, nil
	}
	post, err := h.Store.DeskPost(ctx, storage.Platform(s.u.Platform), s.u.Chat.ID, s.u.ReplyTo)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("find desk post: %w", err)
	}
	t, err := h.Store.Ticket(ctx, post.TicketID)
	if err != nil {
		return true, fmt.Errorf("load ticket: %w", err)
	}
	ok, err := h.canAnswer(ctx, s, t)
	if err != nil {
		return true, err
	}
	if !ok {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed_reply")})
	}
	if s.u.HasMedia {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
	}
	text, bad := cleanTicketText(s.u.Text)
	if bad != nil {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
	}
	if t.Status == storage.TicketOpen {
		if _, err := h.Store.TakeTicket(ctx, t.ID, s.person.ID, h.Clock()); err != nil && !errors.Is(err, storage.ErrAlreadyTaken) {
			return true, fmt.Errorf("take ticket: %w", err)
		}
	}
	return true, h.answer(ctx, s, t, text, s.u.Attachments)
}
