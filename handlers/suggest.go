package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// cmdSuggest lets a member or activist send news or a call for support up.
func (h *Hub) cmdSuggest(ctx context.Context, s *session) error {
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
	if !ok && len(access.SupportedOrgs(active)) > 0 {
		return s.reply(ctx, s.t("join.members_only"), s.mainMenu(ctx))
	}
	if !ok {
		return s.reply(ctx, s.t("ask.not_member"), s.mainMenu(ctx))
	}
	if err := s.saveConversation(ctx, &conversation{Flow: flowSuggest, Step: stepTopic, OrgID: org.ID}); err != nil {
		return err
	}
	return s.reply(ctx, s.t("suggest.kind"), bot.Keyboard{
		{{Text: s.t("suggest.button_news"), Data: suggestButton{Action: sgKind, Kind: string(storage.SuggestNews)}.data()}},
		{{Text: s.t("suggest.button_call"), Data: suggestButton{Action: sgKind, Kind: string(storage.SuggestCall)}.data()}},
		{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}},
	})
}

// itemText takes the text of a suggestion, a relay note or a reason to
// decline.
func (h *Hub) itemText(ctx context.Context, s *session, c *conversation) error {
	if s.person == nil {
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_registered")})
	}
	if s.u.HasMedia {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
	}
	switch c.Flow {
	case flowSuggest:
		if c.Step != stepText {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("input.use_buttons")})
		}
		text, bad := cleanLongText(s.u.Text, news.MaxText, len(s.u.Attachments) > 0)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		return h.submitSuggestion(ctx, s, c, text, s.u.Attachments)
	case flowNote:
		return h.noteText(ctx, s, c)
	case flowDecline:
		reason, bad := cleanLongText(s.u.Text, news.MaxReason, false)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return h.declineSuggestion(ctx, s, c.SuggestionID, reason)
	}
	return s.endConversation(ctx)
}

// submitSuggestion sends the item up and tells the author where it went,
// or that it waits for someone to decide it.
func (h *Hub) submitSuggestion(ctx context.Context, s *session, c *conversation, text string, files []storage.Attachment) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	sent, err := h.News.Submit(ctx, by, news.Suggestion{FromOrgID: c.OrgID, Kind: storage.SuggestionKind(c.Kind), Text: text, Files: files})
	if errors.Is(err, access.ErrForbidden) {
		// No longer a member where the suggestion started.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ask.not_member"), s.mainMenu(ctx))
	}
	if err != nil {
		return err
	}
	// It is committed: a failure to drop the draft is logged, not
	// returned, so that a retried update cannot send it twice.
	if err := s.endConversation(context.WithoutCancel(ctx)); err != nil {
		h.Logger.WarnContext(ctx, "end suggestion conversation", "suggestion", sent.Suggestion.ID, "err", err)
	}
	key := "suggest.sent"
	if sent.Waiting {
		key = "suggest.sent_waiting"
	}
	return s.reply(ctx, s.t(key, "ID", sent.Suggestion.ID, "Org", sent.At.Name), s.mainMenu(ctx))
}

// cmdSuggestions lists the suggestions waiting for a decision in the
// subtrees where the person publishes, oldest first, with a button to open
// each.
func (h *Hub) cmdSuggestions(ctx context.Context, s *session) error {
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
	pending, err := h.News.Pending(ctx, by)
	if errors.Is(err, access.ErrForbidden) {
		return s.refuse(ctx, "error.not_allowed")
	}
	if err != nil {
		return err
	}
	back := []bot.Button{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}}
	if len(pending) == 0 {
		return s.reply(ctx, s.t("suggest.none_pending"), bot.Keyboard{back})
	}
	var b strings.Builder
	b.WriteString(s.plural("suggest.pending_count", len(pending)))
	var kb bot.Keyboard
	for i, sg := range pending {
		if i == maxListed {
			b.WriteString("\n" + s.plural("ticket.list_more", len(pending)-maxListed))
			break
		}
		kind := s.t("suggest.kind_news")
		if sg.Kind == storage.SuggestCall {
			kind = s.t("suggest.kind_call")
		}
		b.WriteString("\n" + s.t("suggest.line", "ID", sg.ID, "Kind", kind, "From", h.orgName(ctx, sg.FromOrgID), "Text", snippet(sg.Text, threadSnippet)))
		if len(kb) < ticketListButtons {
			kb = append(kb, []bot.Button{{Text: s.t("suggest.button_open", "ID", sg.ID), Data: suggestButton{Action: sgShow, ID: sg.ID}.data()}})
		}
	}
	return s.reply(ctx, b.String(), append(kb, back))
}

// onSuggestButton takes the kind of a new suggestion and the decisions on
// one: publish down, pass up, decline.
func (h *Hub) onSuggestButton(ctx context.Context, s *session) error {
	b, ok := parseSuggestButton(s.u.Callback.Data)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	if b.Action == sgKind {
		c, err := s.conversation(ctx)
		if err != nil {
			return err
		}
		if c.Flow != flowSuggest || c.Step != stepTopic {
			return s.notice(ctx, "error.stale_button")
		}
		c.Kind, c.Step = b.Kind, stepText
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return s.reply(ctx, s.plural("suggest.ask_text", news.MaxText), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}}})
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	switch b.Action {
	case sgPublish:
		published, err := h.News.Publish(ctx, by, b.ID)
		if errors.Is(err, news.ErrBuildFailed) {
			return nil // the decider, its author, has been told why
		}
		if refused, err := suggestionRefused(ctx, s, b.ID, err); refused {
			return err
		}
		return s.reply(ctx, s.t("suggest.published", "ID", b.ID, "Broadcast", published.Broadcast.ID), nil)
	case sgUp:
		target, err := h.News.PassUp(ctx, by, b.ID)
		if refused, err := suggestionRefused(ctx, s, b.ID, err); refused {
			return err
		}
		return s.reply(ctx, s.t("suggest.passed", "ID", b.ID, "Org", target.Name), nil)
	}
	item, err := h.News.Suggestion(ctx, by, b.ID)
	if refused, err := suggestionRefused(ctx, s, b.ID, err); refused {
		return err
	}
	if b.Action == sgShow {
		return s.ask(ctx, h.suggestionCard(s.lang, item), h.suggestionButtons(s.lang, item.ID, item.At))
	}
	if err := s.saveConversation(ctx, &conversation{Flow: flowDecline, Step: stepText, SuggestionID: item.ID}); err != nil {
		return err
	}
	return s.ask(ctx, s.plural("suggest.ask_reason", news.MaxReason, "ID", item.ID), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}}})
}

// suggestionRefused answers a press on a suggestion that news refused.
// refused is false when err is nil; an error of another kind is returned
// as it is.
func suggestionRefused(ctx context.Context, s *session, id int64, err error) (refused bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, storage.ErrNotFound):
		return true, s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return true, s.notice(ctx, "error.not_allowed")
	case errors.Is(err, news.ErrDecided):
		return true, s.reply(ctx, s.t("suggest.already", "ID", id), nil)
	case errors.Is(err, news.ErrTopLevel):
		return true, s.notice(ctx, "ticket.top_level")
	case errors.Is(err, news.ErrNobodyAbove):
		// Passing it to nobody would hide it: it stays here.
		return true, s.notice(ctx, "suggest.nobody_above")
	}
	return true, err
}

// declineSuggestion declines a suggestion for the reason written.
func (h *Hub) declineSuggestion(ctx context.Context, s *session, id int64, reason string) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	_, err = h.News.Decline(ctx, by, id, reason)
	switch {
	case errors.Is(err, access.ErrForbidden):
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_allowed")})
	case errors.Is(err, news.ErrDecided):
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("suggest.already", "ID", id)})
	case err != nil:
		return err
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("suggest.declined", "ID", id)})
}
