package hotline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Escalate moves every ticket without a first response past its deadline
// one level up, to where someone can answer it, reminds those who should
// have answered and tells the member. A guarded move makes a ticket go up
// once even if two sweeps meet; the caller keeps sweeps of several
// replicas apart.
func (s *Service) Escalate(ctx context.Context) error {
	now := s.clock()
	overdue, err := s.store.OverdueTickets(ctx, now)
	if err != nil {
		return fmt.Errorf("list overdue tickets: %w", err)
	}
	var errs []error
	for _, t := range overdue {
		if err := s.escalate(ctx, t, now); err != nil {
			errs = append(errs, fmt.Errorf("escalate ticket %d: %w", t.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) escalate(ctx context.Context, t storage.Ticket, now time.Time) error {
	level, err := s.store.Org(ctx, t.LevelOrgID)
	if err != nil {
		return fmt.Errorf("load level org: %w", err)
	}
	// With nowhere to go (the top, or nobody above in the bot) the ticket
	// stays: the deadline moves and its responders are reminded again.
	target := level
	if level.ParentID != 0 {
		parent, err := s.store.Org(ctx, level.ParentID)
		if err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
		above, found, err := s.Route(ctx, parent, t.Topic)
		if err != nil {
			return err
		}
		if found {
			target = above
		}
	}
	moved, err := s.store.EscalateTicket(ctx, t.ID, level.ID, target.ID, s.settings.Deadline(now, zone(target)), now)
	if errors.Is(err, storage.ErrConflict) {
		return nil // answered meanwhile, or another sweep moved it
	}
	if err != nil {
		return fmt.Errorf("escalate ticket: %w", err)
	}
	if target.ID == level.ID {
		s.logger.InfoContext(ctx, "ticket overdue, nobody above", "ticket", t.ID, "org", level.ID)
		return s.dispatch(ctx, moved, level, ReasonStillWaiting)
	}
	s.logger.InfoContext(ctx, "ticket escalated", "ticket", t.ID, "from", level.ID, "to", target.ID)
	reminded, err := s.Recipients(ctx, level, t.Topic)
	if err != nil {
		return err
	}
	if err := s.notifier.TicketOverdue(ctx, Overdue{Ticket: moved, To: target, Remind: reminded}); err != nil {
		s.logger.WarnContext(ctx, "remind responders", "ticket", t.ID, "err", err)
	}
	if _, err := s.notifier.TicketMoved(ctx, Moved{Ticket: moved, To: target, Escalated: true}); err != nil {
		s.logger.WarnContext(ctx, "tell member", "ticket", t.ID, "err", err)
	}
	return s.dispatch(ctx, moved, target, ReasonEscalated)
}
