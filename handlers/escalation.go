package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// sweepLockTTL bounds one escalation sweep; replicas take turns.
const sweepLockTTL = time.Minute

// RunEscalations sweeps for overdue tickets every interval until ctx ends.
func (h *Hub) RunEscalations(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := h.Escalate(ctx); err != nil && ctx.Err() == nil {
				h.Logger.ErrorContext(ctx, "escalation sweep", "err", err)
			}
		}
	}
}

// Escalate moves every ticket without a first response past its deadline
// one level up, reminds those who should have answered and tells the
// member. With several replicas one sweeps at a time, and a guarded move
// makes a ticket go up once even if two sweeps meet.
func (h *Hub) Escalate(ctx context.Context) error {
	unlock, err := h.State.Lock(ctx, "hotline:sweep", sweepLockTTL)
	if err != nil {
		return fmt.Errorf("lock sweep: %w", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	now := h.Clock()
	overdue, err := h.Store.OverdueTickets(ctx, now)
	if err != nil {
		return fmt.Errorf("list overdue tickets: %w", err)
	}
	var errs []error
	for _, t := range overdue {
		if err := h.escalate(ctx, t, now); err != nil {
			errs = append(errs, fmt.Errorf("escalate ticket %d: %w", t.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (h *Hub) escalate(ctx context.Context, t storage.Ticket, now time.Time) error {
	level, err := h.Store.Org(ctx, t.LevelOrgID)
	if err != nil {
		return fmt.Errorf("load level org: %w", err)
	}
	target := level
	if level.ParentID != 0 {
		parent, err := h.Store.Org(ctx, level.ParentID)
		if err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
		if target, err = h.route(ctx, parent, t.Topic); err != nil {
			return err
		}
	}
	// At the top there is nowhere to go: the deadline moves and the
	// responders are reminded again.
	moved, err := h.Store.EscalateTicket(ctx, t.ID, level.ID, target.ID, h.Hotline.Deadline(now, zone(target)), now)
	if errors.Is(err, storage.ErrConflict) {
		return nil // answered meanwhile, or another sweep moved it
	}
	if err != nil {
		return fmt.Errorf("escalate ticket: %w", err)
	}
	h.Logger.InfoContext(ctx, "ticket escalated", "ticket", t.ID, "from", level.ID, "to", target.ID)
	key := fmt.Sprintf("escalated:%d:%d", t.ID, moved.Escalations)
	reminded, desk, err := h.ticketRecipients(ctx, level, t.Topic)
	if err != nil {
		return err
	}
	if target.ID != level.ID {
		if desk != nil {
			m := bot.Message{Text: h.Catalog.T(locales.Default, "ticket.reminder", "ID", t.ID, "Org", target.Name)}
			if err := h.postToDesk(ctx, *desk, moved, m, key+":desk"); err != nil {
				h.Logger.WarnContext(ctx, "remind desk", "ticket", t.ID, "err", err)
			}
		}
		for _, r := range reminded {
			if _, err := h.notify(ctx, key, r.Accounts, r.Person.Locale, func(lang string) bot.Message {
				return bot.Message{Text: h.Catalog.T(lang, "ticket.reminder", "ID", t.ID, "Org", target.Name)}
			}); err != nil {
				h.Logger.WarnContext(ctx, "remind responder", "ticket", t.ID, "err", err)
			}
		}
		if _, err := h.tellMember(ctx, moved, key, func(lang string) bot.Message {
			return bot.Message{Text: h.Catalog.T(lang, "ticket.member_escalated", "ID", t.ID, "Org", target.Name)}
		}); err != nil {
			h.Logger.WarnContext(ctx, "tell member", "ticket", t.ID, "err", err)
		}
	}
	return h.dispatchTicket(ctx, moved, target, "ticket.card_escalated")
}
