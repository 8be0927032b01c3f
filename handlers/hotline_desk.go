package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
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
	by, err := s.actor(ctx)
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
		switch orgs := by.Orgs(access.ActNameResponders); len(orgs) {
		case 0:
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed")})
		case 1:
			org = orgs[0]
		default:
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.which")})
		}
	}
	org, err = h.Hotline.BindDesk(ctx, by, storage.ChatBinding{Platform: storage.Platform(s.u.Platform), ChatID: s.u.Chat.ID,
		OrgID: org.ID, Title: s.u.Chat.Title})
	if errors.Is(err, access.ErrForbidden) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed")})
	}
	if err != nil {
		return err
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
	by, err := s.actor(ctx)
	if err != nil {
		return true, err
	}
	t, err := h.Hotline.DeskTicket(ctx, by, storage.Platform(s.u.Platform), s.u.Chat.ID, s.u.ReplyTo)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case errors.Is(err, access.ErrForbidden):
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed_reply")})
	case err != nil:
		return true, err
	}
	if s.u.HasMedia {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
	}
	text, bad := cleanTicketText(s.u.Text)
	if bad != nil {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
	}
	reached, err := h.Hotline.DeskReply(ctx, by, t.ID, hotline.Message{Text: text, Files: s.u.Attachments}, s.ref())
	if errors.Is(err, access.ErrForbidden) {
		return true, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("desk.not_allowed_reply")})
	}
	return true, h.tellAnswered(ctx, s, t.ID, reached, err)
}
