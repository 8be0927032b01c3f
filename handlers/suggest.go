package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// cbSuggest prefixes the buttons of news suggested from below.
const (
	cbSuggest  = "sg"
	maxReason  = 500
	unionLevel = storage.LevelUnion
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
	if !ok {
		return s.reply(ctx, s.t("ask.not_member"), s.mainMenu())
	}
	if err := s.saveConversation(ctx, &conversation{Flow: flowSuggest, Step: stepTopic, OrgID: org.ID}); err != nil {
		return err
	}
	return s.reply(ctx, s.t("suggest.kind"), bot.Keyboard{
		{{Text: s.t("suggest.button_news"), Data: cbSuggest + ":kind:news"}},
		{{Text: s.t("suggest.button_call"), Data: cbSuggest + ":kind:call"}},
		{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}},
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
		text, bad := cleanLongText(s.u.Text, maxNewsText, len(s.u.Attachments) > 0)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		return h.submitSuggestion(ctx, s, c, text, s.u.Attachments)
	case flowNote:
		note, bad := cleanLongText(s.u.Text, maxNote, false)
		if bad != nil {
			return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
		}
		b, org, ok, err := h.relayTarget(ctx, s, c.BroadcastID, c.OrgID)
		if err != nil || !ok {
			return err
		}
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return h.completeRelay(ctx, s, b, org, storage.RelayNoted, note)
	case flowDecline:
		reason, bad := cleanLongText(s.u.Text, maxReason, false)
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

// submitSuggestion sends the item to the parent organisation's information
// workers; a call for support also reaches the Union, flagged for the
// union newspaper.
func (h *Hub) submitSuggestion(ctx context.Context, s *session, c *conversation, text string, files []storage.Attachment) error {
	from, err := h.Store.Org(ctx, c.OrgID)
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	at := from
	if from.ParentID != 0 {
		if at, err = h.Store.Org(ctx, from.ParentID); err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
	}
	kind := storage.SuggestNews
	if c.Kind == string(storage.SuggestCall) {
		kind = storage.SuggestCall
	}
	sg, err := h.Store.CreateSuggestion(ctx, storage.Suggestion{AuthorID: s.person.ID, FromOrgID: from.ID, AtOrgID: at.ID,
		Kind: kind, Text: text, Attachments: files, Solidarity: kind == storage.SuggestCall, CreatedAt: h.Clock()})
	if err != nil {
		return fmt.Errorf("create suggestion: %w", err)
	}
	if err := s.endConversation(ctx); err != nil {
		h.Logger.WarnContext(ctx, "end suggestion conversation", "suggestion", sg.ID, "err", err)
	}
	if err := h.offerSuggestion(ctx, sg, at, true); err != nil {
		h.Logger.WarnContext(ctx, "offer suggestion", "suggestion", sg.ID, "err", err)
	}
	if sg.Solidarity && at.Level != unionLevel {
		if err := h.tellUnion(ctx, sg, at); err != nil {
			h.Logger.WarnContext(ctx, "tell the union", "suggestion", sg.ID, "err", err)
		}
	}
	return s.reply(ctx, s.t("suggest.sent", "ID", sg.ID, "Org", at.Name), s.mainMenu())
}

// publishers are who publish for org: its information workers, else chairs.
func (h *Hub) publishers(ctx context.Context, orgID int64) ([]storage.Contact, error) {
	ls, err := h.Store.Leaders(ctx, orgID, []storage.Role{storage.RoleInfoworker})
	if err == nil && len(ls) == 0 {
		ls, err = h.Store.Leaders(ctx, orgID, []storage.Role{storage.RoleChair})
	}
	if err != nil {
		return nil, fmt.Errorf("list publishers: %w", err)
	}
	return ls, nil
}

// suggestionText is a suggestion as the deciding organisation sees it.
func (h *Hub) suggestionText(ctx context.Context, lang string, sg storage.Suggestion) string {
	key := "suggest.card_news"
	if sg.Kind == storage.SuggestCall {
		key = "suggest.card_call"
	}
	return h.Catalog.T(lang, key, "ID", sg.ID, "From", h.orgName(ctx, sg.FromOrgID), "Name", h.personName(ctx, lang, sg.AuthorID), "Text", sg.Text)
}

// offerSuggestion asks the publishers of at to publish, pass up or decline.
func (h *Hub) offerSuggestion(ctx context.Context, sg storage.Suggestion, at storage.Org, withButtons bool) error {
	contacts, err := h.publishers(ctx, at.ID)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(sg.ID, 10)
	for _, c := range contacts {
		if _, err := h.notify(ctx, fmt.Sprintf("suggest:%d:%d", sg.ID, at.ID), c.Accounts, locales.Normalize(c.Person.Locale), func(lang string) bot.Message {
			m := bot.Message{Text: h.suggestionText(ctx, lang, sg), Attachments: sg.Attachments}
			if withButtons {
				row := []bot.Button{{Text: h.Catalog.T(lang, "suggest.button_publish"), Data: cbSuggest + ":pub:" + id}}
				if at.ParentID != 0 {
					row = append(row, bot.Button{Text: h.Catalog.T(lang, "suggest.button_up"), Data: cbSuggest + ":up:" + id})
				}
				m.Keyboard = bot.Keyboard{row, {{Text: h.Catalog.T(lang, "suggest.button_decline"), Data: cbSuggest + ":no:" + id}}}
			}
			return m
		}); err != nil {
			return err
		}
	}
	return nil
}

// tellUnion shows a call for support to the Union's publishers at once,
// whoever decides it, flagged for «Солидарность».
func (h *Hub) tellUnion(ctx context.Context, sg storage.Suggestion, at storage.Org) error {
	roots, err := h.Store.ChildOrgs(ctx, 0)
	if err != nil {
		return fmt.Errorf("list roots: %w", err)
	}
	for _, root := range roots {
		if root.Level == unionLevel && root.ID != at.ID {
			if err := h.offerSuggestion(ctx, sg, root, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// onSuggestButton takes the kind of a new suggestion and the decisions on
// one: publish down, pass up, decline.
func (h *Hub) onSuggestButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) != 3 || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	if parts[1] == "kind" {
		c, err := s.conversation(ctx)
		if err != nil {
			return err
		}
		if c.Flow != flowSuggest || c.Step != stepTopic || (parts[2] != "news" && parts[2] != "call") {
			return s.notice(ctx, "error.stale_button")
		}
		c.Kind, c.Step = parts[2], stepText
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return s.reply(ctx, s.plural("suggest.ask_text", maxNewsText), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}}})
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return s.notice(ctx, "error.stale_button")
	}
	sg, err := h.Store.Suggestion(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load suggestion: %w", err)
	}
	at, err := h.Store.Org(ctx, sg.AtOrgID)
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	if !storage.Allowed(active, storage.ActPublish, at) {
		return s.notice(ctx, "error.not_allowed")
	}
	if sg.Status != storage.SuggestionPending {
		return s.reply(ctx, s.t("suggest.already", "ID", sg.ID), nil)
	}
	switch parts[1] {
	case "pub":
		return h.publishSuggestion(ctx, s, sg, at)
	case "up":
		if at.ParentID == 0 {
			return s.notice(ctx, "ticket.top_level")
		}
		parent, err := h.Store.Org(ctx, at.ParentID)
		if err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
		moved, err := h.Store.PassSuggestionUp(ctx, sg.ID, at.ID, parent.ID)
		if errors.Is(err, storage.ErrConflict) {
			return s.reply(ctx, s.t("suggest.already", "ID", sg.ID), nil)
		}
		if err != nil {
			return fmt.Errorf("pass suggestion up: %w", err)
		}
		if err := h.offerSuggestion(ctx, moved, parent, true); err != nil {
			h.Logger.WarnContext(ctx, "offer suggestion", "suggestion", sg.ID, "err", err)
		}
		return s.reply(ctx, s.t("suggest.passed", "ID", sg.ID, "Org", parent.Name), nil)
	case "no":
		if err := s.saveConversation(ctx, &conversation{Flow: flowDecline, Step: stepText, SuggestionID: sg.ID}); err != nil {
			return err
		}
		return s.ask(ctx, s.plural("suggest.ask_reason", maxReason, "ID", sg.ID), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}}})
	}
	return s.notice(ctx, "error.stale_button")
}

// publishSuggestion sends the suggested item down from the deciding org to
// its whole subtree, at once, and tells the author.
func (h *Hub) publishSuggestion(ctx context.Context, s *session, sg storage.Suggestion, at storage.Org) error {
	now := h.Clock()
	text := h.Catalog.T(locales.Default, "suggest.published_text", "From", h.orgName(ctx, sg.FromOrgID), "Text", sg.Text)
	b, err := h.Store.CreateBroadcast(ctx, storage.Broadcast{AuthorID: s.person.ID, OrgID: at.ID, Text: text, Attachments: sg.Attachments,
		Mode: storage.ModeDirect, Audience: storage.Audience{Private: true, Chats: true}, Status: storage.BroadcastScheduled, CreatedAt: now})
	if err != nil {
		return fmt.Errorf("create broadcast: %w", err)
	}
	decided, err := h.Store.DecideSuggestion(ctx, sg.ID, at.ID, storage.SuggestionPublished, "", b.ID, now)
	if errors.Is(err, storage.ErrConflict) {
		if _, cerr := h.Store.CancelBroadcast(ctx, b.ID, now); cerr != nil {
			h.Logger.WarnContext(ctx, "cancel unused broadcast", "broadcast", b.ID, "err", cerr)
		}
		return s.reply(ctx, s.t("suggest.already", "ID", sg.ID), nil)
	}
	if err != nil {
		return fmt.Errorf("decide suggestion: %w", err)
	}
	if err := h.launch(ctx, b); err != nil {
		return err
	}
	h.tellAuthor(ctx, decided, "suggest.author_published", at.Name, "")
	return s.reply(ctx, s.t("suggest.published", "ID", sg.ID, "Broadcast", b.ID), nil)
}

func (h *Hub) declineSuggestion(ctx context.Context, s *session, id int64, reason string) error {
	sg, err := h.Store.Suggestion(ctx, id)
	if err != nil {
		return fmt.Errorf("load suggestion: %w", err)
	}
	at, err := h.Store.Org(ctx, sg.AtOrgID)
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	if !storage.Allowed(active, storage.ActPublish, at) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_allowed")})
	}
	decided, err := h.Store.DecideSuggestion(ctx, sg.ID, at.ID, storage.SuggestionDeclined, reason, 0, h.Clock())
	if errors.Is(err, storage.ErrConflict) {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("suggest.already", "ID", sg.ID)})
	}
	if err != nil {
		return fmt.Errorf("decline suggestion: %w", err)
	}
	h.tellAuthor(ctx, decided, "suggest.author_declined", at.Name, reason)
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("suggest.declined", "ID", sg.ID)})
}

func (h *Hub) tellAuthor(ctx context.Context, sg storage.Suggestion, key, org, reason string) {
	if sg.AuthorID == 0 {
		return
	}
	if _, err := h.tellPerson(ctx, sg.AuthorID, fmt.Sprintf("suggest-decided:%d", sg.ID), func(lang string) bot.Message {
		return bot.Message{Text: h.Catalog.T(lang, key, "ID", sg.ID, "Org", org, "Reason", reason)}
	}); err != nil {
		h.Logger.WarnContext(ctx, "tell author", "suggestion", sg.ID, "err", err)
	}
}
