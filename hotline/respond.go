package hotline

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// TicketToAnswer is a ticket as a responder sees it, closed ones included:
// only someone who may answer it gets it.
func (s *Service) TicketToAnswer(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	t, _, err := s.ticketToAnswer(ctx, by, id)
	return t, err
}

// ticketToAnswer also returns the member's organisation.
func (s *Service) ticketToAnswer(ctx context.Context, by access.Actor, id int64) (storage.Ticket, storage.Org, error) {
	t, err := s.store.Ticket(ctx, id)
	if err != nil {
		return storage.Ticket{}, storage.Org{}, fmt.Errorf("load ticket: %w", err)
	}
	memberOrg, ok, err := s.canAnswer(ctx, by, t)
	if err != nil {
		return storage.Ticket{}, storage.Org{}, err
	}
	if !ok {
		return storage.Ticket{}, storage.Org{}, fmt.Errorf("answer ticket %d: %w", id, access.ErrForbidden)
	}
	return t, memberOrg, nil
}

// unclosedToAnswer is ticketToAnswer for actions a closed ticket refuses.
func (s *Service) unclosedToAnswer(ctx context.Context, by access.Actor, id int64) (storage.Ticket, storage.Org, error) {
	t, memberOrg, err := s.ticketToAnswer(ctx, by, id)
	if err == nil && t.Status == storage.TicketClosed {
		err = fmt.Errorf("ticket %d: %w", id, storage.ErrTicketClosed)
	}
	return t, memberOrg, err
}

// Take assigns an open ticket to the actor. Of two responders taking it at
// once exactly one wins; the other gets a *TakenError saying who.
func (s *Service) Take(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	if _, _, err := s.unclosedToAnswer(ctx, by, id); err != nil {
		return storage.Ticket{}, err
	}
	taken, err := s.store.TakeTicket(ctx, id, by.PersonID, s.clock())
	if errors.Is(err, storage.ErrAlreadyTaken) {
		return taken, &TakenError{By: taken.AssigneeID}
	}
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("take ticket: %w", err)
	}
	return taken, nil
}

// BeginAnswer is a responder starting to write an answer: an open ticket
// becomes theirs, one taken by someone else stays as it is.
func (s *Service) BeginAnswer(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	t, _, err := s.unclosedToAnswer(ctx, by, id)
	if err != nil {
		return storage.Ticket{}, err
	}
	if err := s.takeIfOpen(ctx, by, t); err != nil {
		return storage.Ticket{}, err
	}
	return t, nil
}

func (s *Service) takeIfOpen(ctx context.Context, by access.Actor, t storage.Ticket) error {
	if t.Status != storage.TicketOpen {
		return nil
	}
	if _, err := s.store.TakeTicket(ctx, t.ID, by.PersonID, s.clock()); err != nil && !errors.Is(err, storage.ErrAlreadyTaken) {
		return fmt.Errorf("take ticket: %w", err)
	}
	return nil
}

// Answer adds a responder's message to the thread and brings it to the
// member, signed with the responder's name and role. reached tells the
// responder the truth: false when the member could not get it (it stays in
// their thread). A closed ticket refuses it with storage.ErrTicketClosed.
func (s *Service) Answer(ctx context.Context, by access.Actor, id int64, m Message, ref string) (reached bool, err error) {
	t, memberOrg, err := s.ticketToAnswer(ctx, by, id)
	if err != nil {
		return false, err
	}
	if err := m.check(false); err != nil {
		return false, fmt.Errorf("answer: %w", err)
	}
	return s.answer(ctx, by, t, memberOrg, m, ref)
}

// DeskTicket is the ticket a desk group's message is about, if the actor
// may answer it there; a message that is no ticket's gives
// storage.ErrNotFound.
func (s *Service) DeskTicket(ctx context.Context, by access.Actor, p storage.Platform, chatID, messageID string) (storage.Ticket, error) {
	post, err := s.store.DeskPost(ctx, p, chatID, messageID)
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("find desk post: %w", err)
	}
	return s.TicketToAnswer(ctx, by, post.TicketID)
}

// DeskReply is a reply to a ticket's message in its desk group: it takes an
// open ticket and answers the member, as Answer does.
func (s *Service) DeskReply(ctx context.Context, by access.Actor, id int64, m Message, ref string) (reached bool, err error) {
	t, memberOrg, err := s.ticketToAnswer(ctx, by, id)
	if err != nil {
		return false, err
	}
	if err := m.check(false); err != nil {
		return false, fmt.Errorf("answer: %w", err)
	}
	if err := s.takeIfOpen(ctx, by, t); err != nil {
		return false, err
	}
	return s.answer(ctx, by, t, memberOrg, m, ref)
}

func (s *Service) answer(ctx context.Context, by access.Actor, t storage.Ticket, memberOrg storage.Org, m Message, ref string) (bool, error) {
	responder, err := s.store.Person(ctx, by.PersonID)
	if err != nil {
		return false, fmt.Errorf("load responder: %w", err)
	}
	msg := storage.TicketMessage{TicketID: t.ID, AuthorID: by.PersonID, Text: m.Text, Attachments: m.Files, At: s.clock()}
	if _, err := s.store.AddTicketMessage(ctx, msg); err != nil {
		return false, fmt.Errorf("add answer: %w", err)
	}
	// The answer is committed and shows in the member's list: a delivery
	// failure is logged, not returned, so that a retry does not add it twice.
	reached, err := s.notifier.TicketAnswered(ctx, Answered{Ticket: t, Responder: responder, As: signing(by, memberOrg), Message: m, Ref: ref})
	if err != nil {
		s.logger.WarnContext(ctx, "deliver answer", "ticket", t.ID, "err", err)
	}
	return reached && err == nil, nil
}

// signing is the membership a responder signs an answer with: their highest
// role over the member's organisation.
func signing(by access.Actor, memberOrg storage.Org) *storage.Membership {
	best := -1
	for i, m := range by.Roles {
		if m.Org.Contains(memberOrg) && (best < 0 || roleRank(m.Role) > roleRank(by.Roles[best].Role)) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	m := by.Roles[best]
	return &m
}

func roleRank(r storage.Role) int {
	for i, known := range storage.Roles {
		if r == known {
			return i
		}
	}
	return -1
}

// HandUp passes a ticket to the next level up that can answer it, tells
// those who answer there and the member, and returns where it went. At the
// top it gives ErrTopLevel; with nobody above in the bot, ErrNobodyAbove,
// and the ticket stays.
func (s *Service) HandUp(ctx context.Context, by access.Actor, id int64) (storage.Org, error) {
	t, _, err := s.unclosedToAnswer(ctx, by, id)
	if err != nil {
		return storage.Org{}, err
	}
	now := s.clock()
	level, err := s.store.Org(ctx, t.LevelOrgID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load level org: %w", err)
	}
	if level.ParentID == 0 {
		return storage.Org{}, fmt.Errorf("hand up ticket %d: %w", id, ErrTopLevel)
	}
	parent, err := s.store.Org(ctx, level.ParentID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load parent org: %w", err)
	}
	target, found, err := s.Route(ctx, parent, t.Topic)
	if err != nil {
		return storage.Org{}, err
	}
	if !found {
		return storage.Org{}, fmt.Errorf("hand up ticket %d: %w", id, ErrNobodyAbove)
	}
	moved, err := s.store.MoveTicket(ctx, t.ID, level.ID, target.ID, s.settings.Deadline(now, zone(target)), false)
	if err != nil {
		return storage.Org{}, fmt.Errorf("move ticket: %w", err)
	}
	if err := s.dispatch(ctx, moved, target, ReasonHandedUp); err != nil {
		s.logger.WarnContext(ctx, "notify responders", "ticket", t.ID, "err", err)
	}
	if _, err := s.notifier.TicketMoved(ctx, Moved{Ticket: moved, To: target}); err != nil {
		s.logger.WarnContext(ctx, "tell member", "ticket", t.ID, "err", err)
	}
	return target, nil
}

// Close closes a ticket for a responder and asks the member for a rating.
// An error after the close is the rating request's.
func (s *Service) Close(ctx context.Context, by access.Actor, id int64) (storage.Ticket, error) {
	if _, _, err := s.unclosedToAnswer(ctx, by, id); err != nil {
		return storage.Ticket{}, err
	}
	closed, err := s.store.CloseTicket(ctx, id, s.clock())
	if err != nil {
		return storage.Ticket{}, fmt.Errorf("close ticket: %w", err)
	}
	s.notifier.TicketClosed(ctx, closed)
	return closed, s.askRating(ctx, closed)
}

func (s *Service) askRating(ctx context.Context, t storage.Ticket) error {
	if _, err := s.notifier.RatingWanted(ctx, t); err != nil {
		return fmt.Errorf("ask for a rating: %w", err)
	}
	return nil
}
