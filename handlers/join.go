package handlers

import (
	"context"
	"errors"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// cbJoin picks the organisation a supporter asks to join: "join:org:12".
const (
	cbJoin      = "join"
	joinPickOrg = "org"
)

// cmdJoin is a supporter's "I want to join": the request goes to the
// leaders of the organisation they support (asked which, if several).
func (h *Hub) cmdJoin(ctx context.Context, s *session) error {
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
	orgs := access.SupportedOrgs(active)
	if len(orgs) == 0 {
		return s.reply(ctx, s.t("join.not_supporter"), s.mainMenu(ctx))
	}
	org, chosen, err := h.chooseOrg(ctx, s, orgs, "join.pick", cbJoin, joinPickOrg)
	if err != nil || !chosen {
		return err
	}
	return h.askToJoin(ctx, s, org)
}

// onJoinButton takes the organisation a supporter chose to join; a forged
// one, or one they no longer support, changes nothing.
func (h *Hub) onJoinButton(ctx context.Context, s *session) error {
	b, ok := parseOrgButton(s.u.Callback.Data, cbJoin, joinPickOrg)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	for _, org := range access.SupportedOrgs(active) {
		if org.ID == b.OrgID {
			return h.askToJoin(ctx, s, org)
		}
	}
	return s.notice(ctx, "error.stale_button")
}

// askToJoin sends the request and tells the supporter it went, once kept.
func (h *Hub) askToJoin(ctx context.Context, s *session, org storage.Org) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	_, err = h.Membership.AskToJoin(ctx, by, org.ID)
	switch {
	case errors.Is(err, membership.ErrAlreadyAsked):
		return s.reply(ctx, s.t("join.already_asked", "Org", org.Name), s.mainMenu(ctx))
	case errors.Is(err, access.ErrForbidden):
		return s.reply(ctx, s.t("join.not_supporter"), s.mainMenu(ctx))
	case err != nil:
		return err
	}
	s.loadedRoles = false
	return s.reply(ctx, s.t("join.sent", "Org", org.Name), s.mainMenu(ctx))
}
