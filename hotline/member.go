package hotline

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// OwnTicket is a ticket as the member who asked it sees it: only they get
// it.
func (s *Service) OwnTicket(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	t, err := s.store.Ticket(ctx, id)
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("load ticket: %w", err)
	}
	if !access.AsksTicket(by.PersonID, t) {
		return storage.Ticket{}, fmt.Errorf("ticket %d of another member: %w", id, access.ErrForbidden)
	}
	return t, nil
}

// Thread is the member's ticket with its messages, oldest first.
func (s *Service) Thread(ctx context.Context, by access.Actor, id int64) (storage.Ticket, []storage.TicketMessage, error) {
	t, err := s.OwnTicket(ctx, by, id)
	if err != nil {
		return storage.Ticket{}, nil, err
	}
	msgs, err := s.store.TicketMessages(ctx, t.ID)
	if err != nil {
		return storage.Ticket{}, nil, fmt.Errorf("load thread: %w", err)
	}
	return t, msgs, nil
}

// BeginFollowUp is a member starting to add to their ticket; a closed one
// gives storage.ErrTicketClosed.
func (s *Service) BeginFollowUp(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	t, err := s.OwnTicket(ctx, by, id)
	if err == nil && t.Status == storage.TicketClosed {
		err = fmt.Errorf("ticket %d: %w", id, storage.ErrTicketClosed)
	}
	return t, err
}

// FollowUp adds a member's message to their ticket and brings it to the
// responder who took the ticket, if they still may answer it and can be
// reached, else to those who answer at its level. A closed ticket refuses
// it with storage.ErrTicketClosed. Once it is added nothing fails the call.
func (s *Service) FollowUp(ctx context.Context, by access.Actor, id int64, m Message, ref string) error {
	t, err := s.OwnTicket(ctx, by, id)
	if err != nil {
		return err
	}
	if err := m.check(false); err != nil {
		return fmt.Errorf("follow up: %w", err)
	}
	member, err := s.store.Person(ctx, by.PersonID)
	if err != nil {
		return fmt.Errorf("load member: %w", err)
	}
	msg := storage.TicketMessage{TicketID: t.ID, AuthorID: by.PersonID, FromMember: true, Text: m.Text, Attachments: m.Files, At: s.clock()}
	if _, err := s.store.AddTicketMessage(ctx, msg); err != nil {
		return fmt.Errorf("add follow-up: %w", err)
	}
	// The follow-up is committed: delivery problems are logged, not
	// returned, so that a retry does not add it twice.
	if err := s.deliverFollowUp(ctx, FollowUp{Ticket: t, Member: member, Message: m, Ref: ref}); err != nil {
		s.logger.WarnContext(ctx, "deliver follow-up", "ticket", t.ID, "err", err)
	}
	return nil
}

func (s *Service) deliverFollowUp(ctx context.Context, f FollowUp) error {
	t := f.Ticket
	if t.AssigneeID != 0 {
		assignee, err := s.actor(ctx, t.AssigneeID)
		if err != nil {
			return err
		}
		_, ok, err := s.canAnswer(ctx, assignee, t)
		if err != nil {
			return err
		}
		if ok {
			c, err := s.contact(ctx, t.AssigneeID)
			if err != nil {
				return err
			}
			f.To = Recipients{People: []storage.Contact{c}}
			reached, err := s.notifier.FollowUpAdded(ctx, f)
			if err != nil || reached {
				return err
			}
		}
	}
	level, err := s.store.Org(ctx, t.LevelOrgID)
	if err != nil {
		return fmt.Errorf("load level org: %w", err)
	}
	if f.To, err = s.Recipients(ctx, level, t.Topic); err != nil {
		return err
	}
	_, err = s.notifier.FollowUpAdded(ctx, f)
	return err
}

// Solve closes a ticket for the member who asked it, as solved: the
// responder who took it is told, and the member asked for a rating. An
// error after the close is the rating request's.
func (s *Service) Solve(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	if _, err := s.OwnTicket(ctx, by, id); err != nil {
		return storage.Ticket{}, err
	}
	closed, err := s.store.CloseTicket(ctx, id, s.clock())
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("close ticket: %w", err)
	}
	s.notifier.TicketClosed(ctx, closed)
	if closed.AssigneeID != 0 {
		if _, err := s.notifier.TicketSolved(ctx, closed, closed.AssigneeID); err != nil {
			s.logger.WarnContext(ctx, "tell responder", "ticket", id, "err", err)
		}
	}
	return closed, s.askRating(ctx, closed)
}

// Rate keeps the member's rating, 1 to 5 stars, of their closed ticket,
// with a comment or none; a later call replaces both.
func (s *Service) Rate(ctx context.Context, by access.Actor, id int64, stars int, comment string) error {
	t, err := s.OwnTicket(ctx, by, id)
	if err != nil {
		return err
	}
	switch {
	case t.Status != storage.TicketClosed:
		return fmt.Errorf("rate ticket %d: %w", id, ErrStillOpen)
	case stars < 1 || stars > 5:
		return fmt.Errorf("%w: %d stars", ErrInvalid, stars)
	case utf8.RuneCountInString(comment) > MaxComment:
		return fmt.Errorf("%w: comment longer than %d", ErrInvalid, MaxComment)
	}
	if err := s.store.RateTicket(ctx, id, stars, comment); err != nil {
		return fmt.Errorf("rate ticket: %w", err)
	}
	return nil
}

// Mine lists the member's tickets, newest first.
func (s *Service) Mine(ctx context.Context, by access.Actor) ([]storage.Ticket, error) {
	ts, err := s.store.TicketsOf(ctx, by.PersonID)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return ts, nil
}

// MineOpen lists the member's tickets that still take follow-ups.
func (s *Service) MineOpen(ctx context.Context, by access.Actor) ([]storage.Ticket, error) {
	ts, err := s.Mine(ctx, by)
	if err != nil {
		return nil, err
	}
	var open []storage.Ticket
	for _, t := range ts {
		if t.Status != storage.TicketClosed {
			open = append(open, t)
		}
	}
	return open, nil
}
