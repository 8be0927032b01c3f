package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

// bindButton binds the group chat to the organisation chosen from a list:
// "bind:12".
type bindButton struct {
	OrgID int64
}

func (b bindButton) data() string { return joinData(cbBind, idData(b.OrgID)) }

func parseBindButton(data string) (bindButton, bool) {
	f, ok := fieldsOf(data, cbBind, 1)
	if !ok {
		return bindButton{}, false
	}
	id, ok := idField(f[0])
	return bindButton{OrgID: id}, ok
}

// cmdBind attaches the group chat to the sender's organisation, or to one
// below it named as "/bind CODE".
func (h *Hub) cmdBind(ctx context.Context, s *session) error {
	if s.private() {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.private")})
	}
	if s.person == nil {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.not_registered")})
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if code := strings.TrimSpace(s.u.Args); code != "" {
		org, err := h.Orgs.OrgByCode(ctx, code)
		if errors.Is(err, storage.ErrNotFound) {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.unknown_org", "Code", code)})
		}
		if err != nil {
			return err
		}
		return h.bindChat(ctx, s, act, org.ID)
	}
	choices := act.Orgs(access.ActBindChat)
	switch {
	case len(choices) == 0:
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.not_allowed")})
	case len(choices) == 1:
		return h.bindChat(ctx, s, act, choices[0].ID)
	}
	var list []choice
	for _, o := range choices[:min(len(choices), bot.MaxKeyboardRows)] {
		list = append(list, choice{label: o.Name, data: bindButton{OrgID: o.ID}.data()})
	}
	text, kb := numbered(list)
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.choose") + "\n" + text, Keyboard: kb})
}

// onBindButton binds to the org chosen from the list; whoever presses must
// have the right themselves.
func (h *Hub) onBindButton(ctx context.Context, s *session) error {
	b, ok := parseBindButton(s.u.Callback.Data)
	if !ok || s.private() {
		return s.notice(ctx, "error.stale_button")
	}
	if s.person == nil {
		return s.notice(ctx, "bind.not_registered")
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	return h.bindChat(ctx, s, act, b.OrgID)
}

// bindChat binds the group chat and says so, or why not.
func (h *Hub) bindChat(ctx context.Context, s *session, act access.Actor, orgID int64) error {
	chat := orgs.Chat{Platform: storage.Platform(s.u.Platform), ID: s.u.Chat.ID, Title: s.u.Chat.Title}
	org, err := h.Orgs.Bind(ctx, act, chat, orgID)
	var taken *orgs.TakenError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return s.refuse(ctx, "bind.not_allowed")
	case errors.As(err, &taken):
		return s.refuse(ctx, "bind.taken")
	case err != nil:
		return err
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
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	org, err := h.Orgs.Unbind(ctx, act, storage.Platform(s.u.Platform), s.u.Chat.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("bind.none")})
	case errors.Is(err, access.ErrForbidden):
		return s.refuse(ctx, "bind.not_allowed")
	case err != nil:
		return err
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
