package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// linkPayloadPrefix marks a deep-link payload that carries a link code.
const linkPayloadPrefix = "link-"

// Guessing link codes is bounded per account.
const (
	maxLinkFailures   = 5
	linkFailureWindow = time.Hour
)

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
	code := newLinkCode()
	if err := h.Store.CreateLinkCode(ctx, storage.LinkCode{Code: code, PersonID: s.person.ID, ExpiresAt: h.Clock().Add(linkCodeTTL)}); err != nil {
		return fmt.Errorf("create link code: %w", err)
	}
	var kb bot.Keyboard
	if url := h.Links.Telegram(linkPayloadPrefix + code); url != "" && s.u.Platform != bot.Telegram {
		kb = append(kb, []bot.Button{{Text: s.t("link.button_open", "Platform", s.t("platform.telegram")), URL: url}})
	}
	if url := h.Links.VK(linkPayloadPrefix + code); url != "" && s.u.Platform != bot.VK {
		kb = append(kb, []bot.Button{{Text: s.t("link.button_open", "Platform", s.t("platform.vk")), URL: url}})
	}
	kb = append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: cbMenu + ":main"}})
	return s.reply(ctx, s.plural("link.code", int(linkCodeTTL.Minutes()), "Code", code), kb)
}

// useLinkCode attaches this account to the person who asked for the code.
func (h *Hub) useLinkCode(ctx context.Context, s *session, code string) error {
	failKey := "linkfail:" + string(s.u.Platform) + ":" + s.u.From.ID
	failures, err := h.linkFailures(ctx, failKey)
	if err != nil {
		return err
	}
	if failures >= maxLinkFailures {
		return s.reply(ctx, s.t("link.too_many"), nil)
	}
	p, err := h.Store.UseLinkCode(ctx, normalizeLinkCode(code), storage.Platform(s.u.Platform), s.u.From.ID, h.Clock())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if err := h.State.Save(ctx, failKey, []byte(strconv.Itoa(failures+1)), linkFailureWindow); err != nil {
			return fmt.Errorf("count link failure: %w", err)
		}
		return s.reply(ctx, s.t("link.invalid"), nil)
	case errors.Is(err, storage.ErrAlreadyRegistered):
		return s.reply(ctx, s.t("link.other_person"), s.mainMenu())
	case err != nil:
		return fmt.Errorf("use link code: %w", err)
	}
	if s.person != nil && s.person.ID == p.ID {
		return s.reply(ctx, s.t("link.already"), s.mainMenu())
	}
	s.person, s.loadedRoles = &p, false
	if p.Locale != "" {
		s.lang = p.Locale
	}
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	return s.reply(ctx, s.t("link.done", "Name", p.FullName), s.mainMenu())
}

func (h *Hub) linkFailures(ctx context.Context, key string) (int, error) {
	raw, ok, err := h.State.Load(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("load link failures: %w", err)
	}
	if !ok {
		return 0, nil
	}
	n, _ := strconv.Atoi(string(raw))
	return n, nil
}
