package handlers

import (
	"context"
	"errors"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// linkPayloadPrefix marks a deep-link payload that carries a link code.
const linkPayloadPrefix = "link-"

// cmdLink gives a registered person a one-time code for their other
// platform, or uses a code typed as "/link CODE".
func (h *Hub) cmdLink(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if s.u.Command == "link" && s.u.Args != "" {
		return h.useLinkCode(ctx, s, s.u.Args)
	}
	if s.person == nil {
		return s.reply(ctx, s.t("link.how"), nil)
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	lc, err := h.Membership.NewLinkCode(ctx, act)
	if err != nil {
		return err
	}
	var kb bot.Keyboard
	if url := h.Links.Telegram(linkPayloadPrefix + lc.Code); url != "" && s.u.Platform != bot.Telegram {
		kb = append(kb, []bot.Button{{Text: s.t("link.button_open", "Platform", s.t("platform.telegram")), URL: url}})
	}
	if url := h.Links.VK(linkPayloadPrefix + lc.Code); url != "" && s.u.Platform != bot.VK {
		kb = append(kb, []bot.Button{{Text: s.t("link.button_open", "Platform", s.t("platform.vk")), URL: url}})
	}
	kb = append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}})
	return s.reply(ctx, s.plural("link.code", int(membership.LinkCodeTTL.Minutes()), "Code", lc.Code), kb)
}

// useLinkCode attaches this account to the person who asked for the code.
func (h *Hub) useLinkCode(ctx context.Context, s *session, code string) error {
	p, err := h.Membership.Link(ctx, membership.Account{Platform: storage.Platform(s.u.Platform), ExternalID: s.u.From.ID}, code)
	switch {
	case errors.Is(err, membership.ErrTooManyLinkFailures):
		return s.reply(ctx, s.t("link.too_many"), nil)
	case errors.Is(err, membership.ErrLinkCodeInvalid):
		return s.reply(ctx, s.t("link.invalid"), nil)
	case errors.Is(err, storage.ErrAlreadyRegistered):
		return s.reply(ctx, s.t("link.other_person"), s.mainMenu(ctx))
	case err != nil:
		return err
	}
	if s.person != nil && s.person.ID == p.ID {
		return s.reply(ctx, s.t("link.already"), s.mainMenu(ctx))
	}
	s.person, s.loadedRoles = &p, false
	if p.Locale != "" {
		s.lang = p.Locale
	}
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	return s.reply(ctx, s.t("link.done", "Name", p.FullName), s.mainMenu(ctx))
}
