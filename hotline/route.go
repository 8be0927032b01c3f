package hotline

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Route finds the organisation that answers a ticket about topic, starting
// at org: an org that hands the topic up, or has nobody to answer, passes it
// to its parent; at the root its chairs and the Union's staff answer. found
// is false when nobody on the way up can answer: then org is returned, where
// the ticket waits for whoever may take it.
func (s *Service) Route(ctx context.Context, org storage.Org, topic string) (level storage.Org, found bool, err error) {
	for at := org; ; {
		if at.ParentID == 0 || !s.settings.HandsUp(at.Level, topic) {
			to, err := s.Recipients(ctx, at, topic)
			if err != nil {
				return storage.Org{}, false, err
			}
			if !to.None() {
				return at, true, nil
			}
		}
		if at.ParentID == 0 {
			return org, false, nil
		}
		if at, err = s.store.Org(ctx, at.ParentID); err != nil {
			return storage.Org{}, false, fmt.Errorf("load parent org: %w", err)
		}
	}
}

// Recipients are who answers an org's tickets about topic: its desk group
// if it has one on a platform served, else its chairs and the responders
// named for the topic who are still active there.
func (s *Service) Recipients(ctx context.Context, org storage.Org, topic string) (Recipients, error) {
	desk, err := s.store.DeskOf(ctx, org.ID)
	switch {
	case err == nil:
		if s.notifier.Serves(desk.Platform) {
			return Recipients{Desk: &desk}, nil
		}
	case !errors.Is(err, storage.ErrNotFound):
		return Recipients{}, fmt.Errorf("load desk: %w", err)
	}
	chairs, err := s.store.Leaders(ctx, org.ID, access.RolesFor(access.ActAnswerTicket))
	if err != nil {
		return Recipients{}, fmt.Errorf("list chairs: %w", err)
	}
	named, err := s.store.Responders(ctx, org.ID)
	if err != nil {
		return Recipients{}, fmt.Errorf("list responders: %w", err)
	}
	people := chairs
	seen := map[int64]bool{}
	for _, c := range chairs {
		seen[c.Person.ID] = true
	}
	for _, r := range named {
		if seen[r.PersonID] || (r.Topic != "" && r.Topic != topic) {
			continue
		}
		c, ok, err := s.activeContact(ctx, r.PersonID, org.ID)
		if err != nil {
			return Recipients{}, err
		}
		if ok {
			seen[r.PersonID] = true
			people = append(people, c)
		}
	}
	return Recipients{People: people}, nil
}

// activeContact is a named responder still active in the org, with accounts.
func (s *Service) activeContact(ctx context.Context, personID, orgID int64) (storage.Contact, bool, error) {
	p, err := s.store.Person(ctx, personID)
	if err != nil {
		return storage.Contact{}, false, fmt.Errorf("load responder: %w", err)
	}
	ms, err := s.store.Memberships(ctx, personID)
	if err != nil {
		return storage.Contact{}, false, fmt.Errorf("load responder roles: %w", err)
	}
	if p.ErasedAt != nil || !access.ActiveIn(ms, orgID) {
		return storage.Contact{}, false, nil
	}
	accounts, err := s.store.Accounts(ctx, personID)
	if err != nil {
		return storage.Contact{}, false, fmt.Errorf("load responder accounts: %w", err)
	}
	return storage.Contact{Person: p, Accounts: accounts}, true, nil
}

// dispatch shows a ticket to whoever answers it at level.
func (s *Service) dispatch(ctx context.Context, t storage.Ticket, level storage.Org, reason Reason) error {
	to, err := s.Recipients(ctx, level, t.Topic)
	if err != nil {
		return err
	}
	if to.None() {
		// Only a ticket nobody in the tree can answer ends up here: the
		// Union must name someone.
		s.logger.WarnContext(ctx, "nobody answers the hot line here", "ticket", t.ID, "org", level.ID)
		return nil
	}
	return s.notifier.TicketWaiting(ctx, Waiting{Ticket: t, Level: level, Reason: reason, To: to})
}

// canAnswer reports whether the actor may see and answer t: it feeds the
// rule, access.CanAnswer, with the actor's memberships in force and their
// responder entries along the member's branch. It also returns the
// member's organisation.
func (s *Service) canAnswer(ctx context.Context, by access.Actor, t storage.Ticket) (storage.Org, bool, error) {
	memberOrg, err := s.store.Org(ctx, t.OrgID)
	if err != nil {
		return storage.Org{}, false, fmt.Errorf("load member org: %w", err)
	}
	var mine []storage.Responder
	orgOf := map[int64]storage.Org{}
	for _, id := range pathIDs(memberOrg.Path) {
		rs, err := s.store.Responders(ctx, id)
		if err != nil {
			return storage.Org{}, false, fmt.Errorf("list responders: %w", err)
		}
		for _, r := range rs {
			if r.PersonID != by.PersonID {
				continue
			}
			if _, ok := orgOf[id]; !ok {
				if orgOf[id], err = s.store.Org(ctx, id); err != nil {
					return storage.Org{}, false, fmt.Errorf("load org: %w", err)
				}
			}
			mine = append(mine, r)
		}
	}
	return memberOrg, access.CanAnswer(by.Roles, mine, orgOf, memberOrg, t.Topic), nil
}

// actor is a person other than the one acting, with the memberships in
// force now: the responder who took a ticket may have lost the right since.
func (s *Service) actor(ctx context.Context, personID int64) (access.Actor, error) {
	ms, err := s.store.Memberships(ctx, personID)
	if err != nil {
		return access.Actor{}, fmt.Errorf("load memberships: %w", err)
	}
	return access.NewActor(personID, ms), nil
}
