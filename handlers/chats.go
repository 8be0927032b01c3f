package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// cmdBind attaches the group chat to the sender's organisation, or to one
// below it named as "/bind CODE".
func (h *Hub) cmdBind(ctx context.Context, s *session) error {
	if s.private() {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.private")})
	}
	if s.person == nil {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.not_registered")})
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	if code := strings.TrimSpace(s.u.Args); code != "" {
		org, err := h.Store.OrgByCode(ctx, code)
		if errors.Is(err, storage.ErrNotFound) {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.unknown_org", "Code", code)})
		}
		if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
		return h.bindChat(ctx, s, active, org)
	}
	orgs := storage.ManagedOrgs(active, storage.ActBindChat)
	switch {
	case len(orgs) == 0:
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.not_allowed")})
	case len(orgs) == 1:
		return h.bindChat(ctx, s, active, orgs[0])
	}
	var choices []choice
	for _, o := range orgs[:min(len(orgs), bot.MaxKeyboardRows)] {
		choices = append(choices, choice{label: o.Name, data: cbBind + ":" + strconv.FormatInt(o.ID, 10)})
	}
	list, kb := numbered(choices)
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.choose") + "\n" + list, Keyboard: kb})
}

// onBindButton binds to the org chosen from the list; whoever presses must
// have the right themselves.
func (h *Hub) onBindButton(ctx context.Context, s *session) error {
	_, raw, _ := strings.Cut(s.u.Callback.Data, ":")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || s.private() {
		return s.notice(ctx, "error.stale_button")
	}
	if s.person == nil {
		return s.notice(ctx, "bind.not_registered")
	}
	org, err := h.Store.Org(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	return h.bindChat(ctx, s, active, org)
}

func (h *Hub) bindChat(ctx context.Context, s *session, active []storage.Membership, org storage.Org) error {
	if !storage.Allowed(active, storage.ActBindChat, org) {
		return s.refuse(ctx, "bind.not_allowed")
	}
	p := storage.Platform(s.u.Platform)
	current, err := h.Store.ChatBinding(ctx, p, s.u.Chat.ID)
	switch {
	case err == nil && current.OrgID == org.ID:
		return s.reply(ctx, s.t("bind.done", "Org", org.Name), nil)
	case err == nil:
		// Moving a chat away from an org needs the right on that org too.
		was, err := h.Store.Org(ctx, current.OrgID)
		if err != nil {
			return fmt.Errorf("load bound org: %w", err)
		}
		if !storage.Allowed(active, storage.ActBindChat, was) {
			return s.refuse(ctx, "bind.taken", "Org", was.Name)
		}
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("load chat binding: %w", err)
	}
	if err := h.Store.BindChat(ctx, storage.ChatBinding{Platform: p, ChatID: s.u.Chat.ID, OrgID: org.ID,
		Title: s.u.Chat.Title, BoundBy: s.person.ID, BoundAt: h.Clock()}); err != nil {
		return fmt.Errorf("bind chat: %w", err)
	}
	return s.reply(ctx, s.t("bind.done", "Org", org.Name), nil)
}

func (h *Hub) cmdUnbind(ctx context.Context, s *session) error {
	if s.private() {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.private")})
	}
	if s.person == nil {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.not_registered")})
	}
	p := storage.Platform(s.u.Platform)
	current, err := h.Store.ChatBinding(ctx, p, s.u.Chat.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.none")})
	}
	if err != nil {
		return fmt.Errorf("load chat binding: %w", err)
	}
	org, err := h.Store.Org(ctx, current.OrgID)
	if err != nil {
		return fmt.Errorf("load bound org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	if !storage.Allowed(active, storage.ActBindChat, org) {
		return s.refuse(ctx, "bind.not_allowed")
	}
	if err := h.Store.UnbindChat(ctx, p, s.u.Chat.ID); err != nil {
		return fmt.Errorf("unbind chat: %w", err)
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.removed", "Org", org.Name)})
}

// refuse says no: a pop-up for a button, a message for a command.
func (s *session) refuse(ctx context.Context, key string, kv ...any) error {
	if s.u.Callback != nil {
		return s.notice(ctx, key, kv...)
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t(key, kv...)})
}
