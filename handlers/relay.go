package handlers

import (
	"context"
	"errors"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// onRelayButton takes a level's decision: publish, publish with a note, or
// skip. Only who may publish for that org decides, and only once.
func (h *Hub) onRelayButton(ctx context.Context, s *session) error {
	b, ok := parseRelayButton(s.u.Callback.Data)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	switch b.Action {
	case rlPublish:
		return h.completeRelay(ctx, s, by, b.BroadcastID, b.OrgID, storage.RelayPublished, "")
	case rlSkip:
		return h.completeRelay(ctx, s, by, b.BroadcastID, b.OrgID, storage.RelaySkipped, "")
	}
	_, org, err := h.News.RelayLevel(ctx, by, b.BroadcastID, b.OrgID)
	if refused, err := relayRefused(ctx, s, b.BroadcastID, err); refused {
		return err
	}
	if err := s.saveConversation(ctx, &conversation{Flow: flowNote, Step: stepText, BroadcastID: b.BroadcastID, OrgID: b.OrgID}); err != nil {
		return err
	}
	return s.ask(ctx, s.plural("relay.ask_note", news.MaxNote, "Org", org.Name), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}}})
}

// noteText takes a level's note and publishes with it.
func (h *Hub) noteText(ctx context.Context, s *session, c *conversation) error {
	note, bad := cleanLongText(s.u.Text, news.MaxNote, false)
	if bad != nil {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	_, _, err = h.News.RelayLevel(ctx, by, c.BroadcastID, c.OrgID)
	if refused, err := relayRefused(ctx, s, c.BroadcastID, err); refused {
		return err
	}
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	return h.completeRelay(ctx, s, by, c.BroadcastID, c.OrgID, storage.RelayNoted, note)
}

// relayRefused answers a relay decision news refused: a stale button, no
// right, or a broadcast stopped meanwhile. refused is false when err is
// nil; an error of another kind is returned as it is.
func relayRefused(ctx context.Context, s *session, broadcastID int64, err error) (refused bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, storage.ErrNotFound):
		return true, s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return true, s.notice(ctx, "error.not_allowed")
	case errors.Is(err, news.ErrCancelled):
		return true, s.reply(ctx, s.t("relay.cancelled", "ID", broadcastID), nil)
	}
	return true, err
}

// completeRelay records a level's action and says what came of it.
func (h *Hub) completeRelay(ctx context.Context, s *session, by access.Actor, broadcastID, orgID int64, action storage.RelayAction, note string) error {
	org, err := h.News.Relay(ctx, by, broadcastID, orgID, action, note)
	switch {
	case errors.Is(err, storage.ErrAlreadyDecided):
		return s.reply(ctx, s.t("relay.already", "ID", broadcastID, "Org", org.Name), nil)
	case err != nil:
		_, err := relayRefused(ctx, s, broadcastID, err)
		return err
	case action == storage.RelaySkipped:
		return s.reply(ctx, s.t("relay.skipped", "ID", broadcastID, "Org", org.Name), nil)
	}
	return s.reply(ctx, s.t("relay.published", "ID", broadcastID, "Org", org.Name), nil)
}
