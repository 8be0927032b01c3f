package hotline

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Question is what a member asks.
type Question struct {
	// OrgID is the member's organisation, where the question starts.
	OrgID int64
	Topic string
	Message
	// ShareName: the committee may name the member to the employer.
	ShareName bool
	// KeepText: the text stays, anonymous, after the member erases their data.
	KeepText bool
}

// Asked is a question committed as a ticket.
type Asked struct {
	Ticket storage.Ticket
	// Level is where the ticket waits for an answer.
	Level storage.Org
	// Answerable is false when nobody up the tree can answer in the bot yet:
	// the ticket waits at the member's organisation for whoever may take it.
	Answerable bool
}

// Ask commits a member's question where someone can answer it, or where it
// waits, and shows it to those who answer there. A member asks from an
// organisation they belong to; a supporter of one asks there about joining
// the union (TopicJoining), which nobody else asks about. Once the ticket is committed nothing fails
// the call: the escalation sweep and the responders' lists surface a
// ticket whose responders were not told.
func (s *Service) Ask(ctx context.Context, by access.Actor, q Question) (Asked, error) {
	// A member asks about the deployment's topics; a supporter only about
	// joining the union.
	supporter := access.SupporterIn(by.Roles, q.OrgID)
	if !supporter && !access.ActiveIn(by.Roles, q.OrgID) {
		return Asked{}, fmt.Errorf("ask from org %d: %w", q.OrgID, access.ErrForbidden)
	}
	if _, ok := s.settings.Topic(q.Topic); !ok || supporter != (q.Topic == TopicJoining) {
		return Asked{}, fmt.Errorf("ask about %q: %w", q.Topic, ErrUnknownTopic)
	}
	if err := q.check(true); err != nil {
		return Asked{}, fmt.Errorf("ask: %w", err)
	}
	now := s.clock()
	org, err := s.store.Org(ctx, q.OrgID)
	if err != nil {
		return Asked{}, fmt.Errorf("load org: %w", err)
	}
	level, found, err := s.Route(ctx, org, q.Topic)
	if err != nil {
		return Asked{}, err
	}
	t, err := s.store.CreateTicket(ctx, storage.Ticket{
		PersonID: by.PersonID, OrgID: org.ID, LevelOrgID: level.ID, Topic: q.Topic,
		ShareName: q.ShareName, KeepText: q.KeepText, Status: storage.TicketOpen,
		CreatedAt: now, DueAt: s.settings.Deadline(now, zone(level)),
	}, storage.TicketMessage{AuthorID: by.PersonID, FromMember: true, Text: q.Text, Attachments: q.Files, At: now})
	if err != nil {
		return Asked{}, fmt.Errorf("create ticket: %w", err)
	}
	s.logger.InfoContext(ctx, "ticket created", "ticket", t.ID, "org", org.ID, "level", level.ID, "topic", t.Topic)
	if err := s.dispatch(ctx, t, level, ReasonNew); err != nil {
		s.logger.WarnContext(ctx, "notify responders", "ticket", t.ID, "err", err)
	}
	return Asked{Ticket: t, Level: level, Answerable: found}, nil
}
