package hotline

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Unclosed are the statuses of a ticket that still waits for someone.
var Unclosed = []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}

// MaxCounted is as far as InboxCount counts: a count over a large tree
// stops there, and says there are more.
const MaxCounted = 1000

// answerScope is a part of the tree the actor answers: the tickets of
// members of org's subtree, on every topic or on one.
type answerScope struct {
	org   storage.Org
	topic string
}

// answerScopes are what the actor may answer, as access.CanAnswer decides
// it for each ticket: the subtrees where they hold a role that answers, on
// every topic, and those of the orgs where they are a named responder and
// hold a membership in force, on the topics named.
func (s *Service) answerScopes(ctx context.Context, by access.Actor) ([]answerScope, error) {
	var out []answerScope
	for _, o := range by.Orgs(access.ActAnswerTicket) {
		out = append(out, answerScope{org: o})
	}
	seen := map[int64]bool{}
	for _, m := range by.Roles {
		if seen[m.Org.ID] || !access.ActiveIn(by.Roles, m.Org.ID) {
			continue
		}
		seen[m.Org.ID] = true
		rs, err := s.store.Responders(ctx, m.Org.ID)
		if err != nil {
			return nil, fmt.Errorf("list responders: %w", err)
		}
		for _, r := range rs {
			if r.PersonID == by.PersonID {
				out = append(out, answerScope{org: m.Org, topic: r.Topic})
			}
		}
	}
	return out, nil
}

// AnswerRoots are the orgs under which the actor may answer tickets: where
// they chair, and where they are a named responder.
func (s *Service) AnswerRoots(ctx context.Context, by access.Actor) ([]storage.Org, error) {
	scopes, err := s.answerScopes(ctx, by)
	if err != nil {
		return nil, err
	}
	var roots []storage.Org
	seen := map[int64]bool{}
	for _, sc := range scopes {
		if !seen[sc.org.ID] {
			seen[sc.org.ID] = true
			roots = append(roots, sc.org)
		}
	}
	return roots, nil
}

// InboxFilter narrows the inbox: the tickets the actor may answer, by
// number, newest first unless Oldest.
type InboxFilter struct {
	// Under, when set, keeps the tickets of members of this org's subtree,
	// which must lie where the actor answers.
	Under int64
	// Statuses, when set, keeps the tickets in one of them.
	Statuses []storage.TicketStatus
	// Topic, when set, keeps the tickets about it.
	Topic string
	// Overdue keeps the unclosed tickets still unanswered past their
	// first-response deadline.
	Overdue bool
	// Mine keeps the tickets the actor took.
	Mine bool
	// After continues a list past this ticket number, the last one shown.
	After  int64
	Oldest bool
	// Limit is the size of a page (1 to 1,000).
	Limit int
}

// inboxQuery is the store's query of f for the actor; one who may answer
// nothing, or who narrows it to an org outside what they answer, gets
// access.ErrForbidden.
func (s *Service) inboxQuery(ctx context.Context, by access.Actor, f InboxFilter) (storage.InboxQuery, error) {
	scopes, err := s.answerScopes(ctx, by)
	if err != nil {
		return storage.InboxQuery{}, err
	}
	if len(scopes) == 0 {
		return storage.InboxQuery{}, fmt.Errorf("list tickets to answer: %w", access.ErrForbidden)
	}
	q := storage.InboxQuery{Statuses: f.Statuses, Topic: f.Topic, After: f.After, Oldest: f.Oldest, Limit: f.Limit}
	for _, sc := range scopes {
		q.Scopes = append(q.Scopes, storage.AnswerScope{Path: sc.org.Path, Topic: sc.topic})
	}
	if f.Under != 0 {
		under, err := s.store.Org(ctx, f.Under)
		if err != nil {
			return storage.InboxQuery{}, fmt.Errorf("load org: %w", err)
		}
		inside := false
		for _, sc := range scopes {
			inside = inside || sc.org.Contains(under)
		}
		if !inside {
			return storage.InboxQuery{}, fmt.Errorf("list tickets of org %d: %w", f.Under, access.ErrForbidden)
		}
		q.Under = under.Path
	}
	if f.Overdue {
		q.OverdueAt = s.clock()
	}
	if f.Mine {
		q.AssigneeID = by.PersonID
	}
	return q, nil
}

// Inbox lists a page of the tickets the actor may answer, as f narrows
// them; one who may answer none gets access.ErrForbidden.
func (s *Service) Inbox(ctx context.Context, by access.Actor, f InboxFilter) ([]storage.InboxTicket, error) {
	q, err := s.inboxQuery(ctx, by, f)
	if err != nil {
		return nil, err
	}
	ts, err := s.store.InboxTickets(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list tickets to answer: %w", err)
	}
	return ts, nil
}

// InboxCount counts the tickets of the inbox f narrows (its page aside),
// up to MaxCounted; more reports that there are more than that.
func (s *Service) InboxCount(ctx context.Context, by access.Actor, f InboxFilter) (n int, more bool, err error) {
	f.After, f.Limit = 0, MaxCounted+1
	q, err := s.inboxQuery(ctx, by, f)
	if err != nil {
		return 0, false, err
	}
	if n, err = s.store.CountInbox(ctx, q); err != nil {
		return 0, false, fmt.Errorf("count tickets to answer: %w", err)
	}
	return min(n, MaxCounted), n > MaxCounted, nil
}

// InboxOrgs are the orgs an inbox may be narrowed to at first: those where
// the actor answers, each with its children; any org below them may be
// chosen too.
func (s *Service) InboxOrgs(ctx context.Context, by access.Actor) ([]storage.Org, error) {
	roots, err := s.AnswerRoots(ctx, by)
	if err != nil {
		return nil, err
	}
	var out []storage.Org
	seen := map[int64]bool{}
	for _, r := range roots {
		children, err := s.store.ChildOrgs(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("list child orgs: %w", err)
		}
		for _, o := range append([]storage.Org{r}, children...) {
			if !seen[o.ID] {
				seen[o.ID] = true
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// InboxEvents lists the members' messages after the message afterID on
// the tickets the actor may answer, oldest first, at most limit: new
// questions (First) and replies to threads. One who may answer nothing
// gets access.ErrForbidden.
func (s *Service) InboxEvents(ctx context.Context, by access.Actor, afterID int64, limit int) ([]storage.InboxEvent, error) {
	q, err := s.inboxQuery(ctx, by, InboxFilter{})
	if err != nil {
		return nil, err
	}
	evs, err := s.store.InboxEvents(ctx, q.Scopes, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("watch tickets to answer: %w", err)
	}
	return evs, nil
}

// LastInboxEvent is where a watch of InboxEvents starts: the newest
// message of any ticket.
func (s *Service) LastInboxEvent(ctx context.Context) (int64, error) {
	id, err := s.store.LastTicketMessage(ctx)
	if err != nil {
		return 0, fmt.Errorf("watch tickets to answer: %w", err)
	}
	return id, nil
}

// Case is a ticket as a responder works on it.
type Case struct {
	Ticket storage.Ticket
	// MemberOrg is the member's organisation; Level the one whose
	// responders answer the ticket now.
	MemberOrg, Level storage.Org
	// MemberName names who asked, as responders' cards do; "" once the
	// member was erased.
	MemberName string
	// Thread is the question and what followed, oldest first.
	Thread []storage.TicketMessage
	// Reachable reports whether the member can get an answer in a
	// messenger; an answer is kept in their thread either way.
	Reachable bool
}

// Case is a ticket with its thread for someone who may answer it, closed
// or not.
func (s *Service) Case(ctx context.Context, by access.Actor, id int64) (Case, error) {
	t, memberOrg, err := s.ticketToAnswer(ctx, by, id)
	if err != nil {
		return Case{}, err
	}
	c := Case{Ticket: t, MemberOrg: memberOrg, Level: memberOrg}
	if t.LevelOrgID != memberOrg.ID {
		if c.Level, err = s.store.Org(ctx, t.LevelOrgID); err != nil {
			return Case{}, fmt.Errorf("load level org: %w", err)
		}
	}
	if t.PersonID != 0 {
		p, err := s.store.Person(ctx, t.PersonID)
		if err != nil {
			return Case{}, fmt.Errorf("load member: %w", err)
		}
		if p.ErasedAt == nil {
			c.MemberName = p.FullName
		}
	}
	if c.Thread, err = s.store.TicketMessages(ctx, t.ID); err != nil {
		return Case{}, fmt.Errorf("load thread: %w", err)
	}
	if c.Reachable, err = s.MemberReachable(ctx, t); err != nil {
		return Case{}, err
	}
	return c, nil
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
