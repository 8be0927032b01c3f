package handlers

import (
	"context"
	"errors"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// maxPendingCards bounds the approval cards /pending sends at once.
const maxPendingCards = 10

// approveButton decides an application: "appr:12:y" approves membership
// 12, "appr:12:n" rejects it.
type approveButton struct {
	MembershipID int64
	Approve      bool
}

func (b approveButton) data() string {
	verdict := "n"
	if b.Approve {
		verdict = "y"
	}
	return joinData(cbApprove, idData(b.MembershipID), verdict)
}

func parseApproveButton(data string) (approveButton, bool) {
	f, ok := fieldsOf(data, cbApprove, 2)
	if !ok || (f[1] != "y" && f[1] != "n") {
		return approveButton{}, false
	}
	id, ok := idField(f[0])
	return approveButton{MembershipID: id, Approve: f[1] == "y"}, ok
}

// pendingFor lists the applications the person may decide; none for one
// who may decide none.
func (h *Hub) pendingFor(ctx context.Context, s *session) ([]storage.Membership, error) {
	act, err := s.actor(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := h.Membership.Pending(ctx, act)
	if errors.Is(err, access.ErrForbidden) {
		return nil, nil
	}
	return pending, err
}

// cmdPending shows a leader the registrations waiting for them.
func (h *Hub) cmdPending(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	pending, err := h.Membership.Pending(ctx, act)
	if errors.Is(err, access.ErrForbidden) {
		return s.refuse(ctx, "error.not_allowed")
	}
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return s.reply(ctx, s.t("appr.none_pending"), s.mainMenu(ctx))
	}
	if err := s.reply(ctx, s.plural("appr.pending_count", len(pending)), nil); err != nil {
		return err
	}
	for _, m := range pending[:min(len(pending), maxPendingCards)] {
		app, err := h.Membership.Application(ctx, m)
		if err != nil {
			return err
		}
		card := h.approvalCard(s.lang, app)
		card.ChatID = s.u.Chat.ID
		if err := s.send(ctx, card); err != nil {
			return err
		}
	}
	return nil
}

// onApproveButton decides a pending registration and tells the leader the
// outcome, or why there was none.
func (h *Hub) onApproveButton(ctx context.Context, s *session) error {
	b, ok := parseApproveButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	if s.person == nil {
		return s.notice(ctx, "error.not_allowed")
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	d, err := h.Membership.Decide(ctx, act, b.MembershipID, b.Approve)
	var (
		decided   *membership.DecidedError
		withdrawn *membership.WithdrawnError
	)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return s.notice(ctx, "error.not_allowed")
	case errors.As(err, &decided):
		return h.alreadyDecided(ctx, s, decided.Application)
	case errors.As(err, &withdrawn):
		return s.reply(ctx, s.t("appr.withdrawn", "Org", withdrawn.Membership.Org.Name), nil)
	case err != nil:
		return err
	}
	key := "appr.approved"
	if !b.Approve {
		key = "appr.rejected"
	}
	text := s.t(key, "Name", d.Applicant.FullName, "Org", d.Membership.Org.Name)
	if !d.Reached {
		text += "\n" + s.t("appr.unreachable")
	}
	return s.reply(ctx, text, nil)
}

// alreadyDecided tells a leader who pressed a decided request what was
// decided, by whom and when. A rejected applicant may be erased by now:
// they are named as the applicant then.
func (h *Hub) alreadyDecided(ctx context.Context, s *session, app membership.Application) error {
	m := app.Membership
	key := "appr.already_approved"
	if m.Status == storage.StatusRejected {
		key = "appr.already_rejected"
	}
	name := app.Applicant.FullName
	if app.Applicant.ErasedAt != nil {
		name = s.t("appr.applicant")
	}
	when := ""
	if m.DecidedAt != nil {
		when = m.DecidedAt.In(zone(m.Org)).Format(s.t("format.datetime"))
	}
	return s.reply(ctx, s.t(key, "By", h.personName(ctx, s.lang, m.DecidedBy), "When", when, "Name", name, "Org", m.Org.Name), nil)
}
