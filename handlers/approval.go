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

// maxPendingCards bounds the approval cards /pending sends at once.
const maxPendingCards = 10

// requestApproval asks the leaders of the person's organisation to decide a
// code-less registration; an org without a reachable leader hands the request
// up the tree. A leader who cannot be told now still finds the request in
// /pending, so nothing is lost when nobody is reached.
func (h *Hub) requestApproval(ctx context.Context, p storage.Person, m storage.Membership) error {
	org := m.Org
	for {
		leaders, err := h.Store.Leaders(ctx, org.ID, storage.RolesFor(storage.ActApprove))
		if err != nil {
			return fmt.Errorf("list leaders: %w", err)
		}
		reached := false
		for _, l := range leaders {
			ok, err := h.notify(ctx, "approval:"+strconv.FormatInt(m.ID, 10), l.Accounts, locales.Normalize(l.Person.Locale),
				func(lang string) bot.Message { return h.approvalCard(lang, p, m) })
			if err != nil {
				h.Logger.WarnContext(ctx, "notify leader", "membership", m.ID, "leader", l.Person.ID, "err", err)
			}
			reached = reached || ok
		}
		if reached {
			return nil
		}
		if org.ParentID == 0 {
			h.Logger.WarnContext(ctx, "no leader reachable for approval", "membership", m.ID, "org", m.Org.ID)
			return nil
		}
		if org, err = h.Store.Org(ctx, org.ParentID); err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
	}
}

// approvalCard is the request a leader decides with two buttons.
func (h *Hub) approvalCard(lang string, p storage.Person, m storage.Membership) bot.Message {
	id := strconv.FormatInt(m.ID, 10)
	return bot.Message{
		Text: h.Catalog.T(lang, "appr.request", "Name", p.FullName, "Position", orNoneIn(h, lang, p.Position), "Org", m.Org.Name),
		Keyboard: bot.Keyboard{{
			{Text: h.Catalog.T(lang, "appr.button_approve"), Data: cbApprove + ":" + id + ":y"},
			{Text: h.Catalog.T(lang, "appr.button_reject"), Data: cbApprove + ":" + id + ":n"},
		}},
	}
}

func orNoneIn(h *Hub, lang, v string) string {
	if v == "" {
		return h.Catalog.T(lang, "profile.none")
	}
	return v
}

// pendingFor lists the registrations awaiting a decision that the person may
// decide, oldest first.
func (h *Hub) pendingFor(ctx context.Context, active []storage.Membership) ([]storage.Membership, error) {
	var out []storage.Membership
	seen := map[int64]bool{}
	for _, org := range storage.ManagedOrgs(active, storage.ActApprove) {
		ms, err := h.Store.PendingMemberships(ctx, org)
		if err != nil {
			return nil, fmt.Errorf("list pending registrations: %w", err)
		}
		for _, m := range ms {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// cmdPending shows a leader the registrations waiting for them.
func (h *Hub) cmdPending(ctx context.Context, s *session) error {
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
	if len(storage.ManagedOrgs(active, storage.ActApprove)) == 0 {
		return s.refuse(ctx, "error.not_allowed")
	}
	pending, err := h.pendingFor(ctx, active)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return s.reply(ctx, s.t("appr.none_pending"), s.mainMenu())
	}
	if err := s.reply(ctx, s.plural("appr.pending_count", len(pending)), nil); err != nil {
		return err
	}
	for _, m := range pending[:min(len(pending), maxPendingCards)] {
		p, err := h.Store.Person(ctx, m.PersonID)
		if err != nil {
			return fmt.Errorf("load applicant: %w", err)
		}
		card := h.approvalCard(s.lang, p, m)
		card.ChatID = s.u.Chat.ID
		if err := s.send(ctx, card); err != nil {
			return err
		}
	}
	return nil
}

// onApproveButton decides a pending registration: only a chair or information
// worker of the org or above may, and only the first decision counts.
func (h *Hub) onApproveButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) != 3 || (parts[2] != "y" && parts[2] != "n") {
		return s.notice(ctx, "error.stale_button")
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return s.notice(ctx, "error.stale_button")
	}
	if s.person == nil {
		return s.notice(ctx, "error.not_allowed")
	}
	m, err := h.Store.Membership(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load membership: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	if !storage.Allowed(active, storage.ActApprove, m.Org) {
		return s.notice(ctx, "error.not_allowed")
	}
	applicant, err := h.Store.Person(ctx, m.PersonID)
	if err != nil {
		return fmt.Errorf("load applicant: %w", err)
	}
	if applicant.ErasedAt != nil {
		return s.reply(ctx, s.t("appr.withdrawn", "Org", m.Org.Name), nil)
	}
	// The accounts are read first: a rejection erases them before the
	// applicant is told, so that "your data is erased" is true when read.
	accounts, err := h.Store.Accounts(ctx, applicant.ID)
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	approve := parts[2] == "y"
	decided, err := h.Store.DecideMembership(ctx, id, approve, s.person.ID, h.Clock())
	if errors.Is(err, storage.ErrAlreadyDecided) {
		return s.reply(ctx, s.t("appr.already", "Name", applicant.FullName, "Org", m.Org.Name), nil)
	}
	if err != nil {
		return fmt.Errorf("decide membership: %w", err)
	}
	erased := false
	if !approve {
		if erased, err = h.forgetIfUnattached(ctx, applicant.ID); err != nil {
			return err
		}
	}
	reached, err := h.tellApplicant(ctx, applicant, accounts, decided, erased)
	if err != nil {
		return err
	}
	key := "appr.approved"
	if !approve {
		key = "appr.rejected"
	}
	text := s.t(key, "Name", applicant.FullName, "Org", m.Org.Name)
	if !reached {
		text += "\n" + s.t("appr.unreachable")
	}
	return s.reply(ctx, text, nil)
}

// tellApplicant tells the person the outcome on the accounts they had; it
// reports whether they got it.
func (h *Hub) tellApplicant(ctx context.Context, p storage.Person, accounts []storage.Account, m storage.Membership, erased bool) (bool, error) {
	key := "decision:" + strconv.FormatInt(m.ID, 10)
	return h.notify(ctx, key, accounts, locales.Normalize(p.Locale), func(lang string) bot.Message {
		if m.Status == storage.StatusActive {
			return bot.Message{Text: h.Catalog.T(lang, "appr.you_approved", "Org", m.Org.Name), Keyboard: mainMenu(h, lang)}
		}
		if erased {
			return bot.Message{Text: h.Catalog.T(lang, "appr.you_rejected_erased", "Org", m.Org.Name)}
		}
		return bot.Message{Text: h.Catalog.T(lang, "appr.you_rejected", "Org", m.Org.Name)}
	})
}

// forgetIfUnattached erases a rejected applicant who belongs nowhere else:
// there is no purpose left to keep their data. It reports whether it did.
func (h *Hub) forgetIfUnattached(ctx context.Context, personID int64) (bool, error) {
	ms, err := h.Store.Memberships(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("load memberships: %w", err)
	}
	for _, m := range ms {
		if m.Status == storage.StatusActive || m.Status == storage.StatusPending {
			return false, nil
		}
	}
	if err := h.Store.Forget(ctx, personID, h.Clock()); err != nil {
		return false, fmt.Errorf("forget rejected applicant: %w", err)
	}
	return true, nil
}
