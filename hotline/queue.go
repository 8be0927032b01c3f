package hotline

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Queue lists the unclosed tickets the actor may answer, oldest first; one
// who may answer none gets access.ErrForbidden.
func (s *Service) Queue(ctx context.Context, by access.Actor) ([]storage.Ticket, error) {
	roots, err := s.AnswerRoots(ctx, by)
	if err != nil {
		return nil, err
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("list tickets to answer: %w", access.ErrForbidden)
	}
	var visible []storage.Ticket
	seen := map[int64]bool{}
	for _, root := range roots {
		ts, err := s.store.FindTickets(ctx, storage.TicketQuery{Under: root, Statuses: []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}})
		if err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		for _, t := range ts {
			if seen[t.ID] {
				continue
			}
			seen[t.ID] = true
			if _, ok, err := s.canAnswer(ctx, by, t); err != nil {
				return nil, err
			} else if ok {
				visible = append(visible, t)
			}
		}
	}
	return visible, nil
}

// MemberReachable reports whether the member of t can get a message: the
// responders' list marks one who blocked the bot or was erased.
func (s *Service) MemberReachable(ctx context.Context, t storage.Ticket) (bool, error) {
	if t.PersonID == 0 {
		return false, nil
	}
	accounts, err := s.store.Accounts(ctx, t.PersonID)
	if err != nil {
		return false, fmt.Errorf("load member accounts: %w", err)
	}
	for _, a := range accounts {
		if s.notifier.Serves(a.Platform) && a.BlockedAt == nil {
			return true, nil
		}
	}
	return false, nil
}
