package hotline

import (
	"context"

	"github.com/unionhub/unionhub/storage"
)

// Notifier tells people about tickets. The service decides who is told and
// when; the notifier decides how: language, platform, buttons, and which
// messages lose their buttons once a ticket is closed. Methods that report
// reached say whether anyone got the message.
type Notifier interface {
	// Serves reports whether messages can go out on platform p: a desk
	// group on a platform nobody serves answers nothing.
	Serves(p storage.Platform) bool
	// TicketWaiting shows a ticket to whoever answers it at its level.
	TicketWaiting(ctx context.Context, w Waiting) error
	// TicketOverdue reminds those who should have answered an overdue
	// ticket that it went up to another level.
	TicketOverdue(ctx context.Context, o Overdue) error
	// TicketMoved tells the member that their question went up.
	TicketMoved(ctx context.Context, m Moved) (reached bool, err error)
	// TicketAnswered brings a responder's answer to the member.
	TicketAnswered(ctx context.Context, a Answered) (reached bool, err error)
	// FollowUpAdded brings a member's follow-up to its recipients.
	FollowUpAdded(ctx context.Context, f FollowUp) (reached bool, err error)
	// TicketClosed is told once, by whoever closed the ticket: what was
	// shown about it shows it closed.
	TicketClosed(ctx context.Context, t storage.Ticket)
	// TicketSolved tells the responder who took a ticket that the member
	// marked it solved.
	TicketSolved(ctx context.Context, t storage.Ticket, responderID int64) (reached bool, err error)
	// RatingWanted asks the member to rate the answer of a closed ticket.
	RatingWanted(ctx context.Context, t storage.Ticket) (reached bool, err error)
}

// Recipients are who answers tickets at a level: its desk group, when it
// has one on a platform served, else its chairs and the responders named
// for the topic.
type Recipients struct {
	Desk   *storage.ChatBinding
	People []storage.Contact
}

// None reports whether nobody answers.
func (r Recipients) None() bool { return r.Desk == nil && len(r.People) == 0 }

// Reason says why a ticket is shown to the responders of a level.
type Reason string

// Reasons a ticket is shown.
const (
	ReasonNew          Reason = "new"           // just asked
	ReasonHandedUp     Reason = "handed_up"     // a responder below handed it up
	ReasonEscalated    Reason = "escalated"     // nobody below answered in time
	ReasonStillWaiting Reason = "still_waiting" // overdue here, nobody above
)

// Waiting is a ticket to show to those who answer it at Level.
type Waiting struct {
	Ticket storage.Ticket
	Level  storage.Org
	Reason Reason
	To     Recipients
}

// Overdue is a ticket that went up to To without an answer in time; Remind
// are those who should have answered it.
type Overdue struct {
	Ticket storage.Ticket
	To     storage.Org
	Remind Recipients
}

// Moved is a ticket that went up to To: handed up by a responder, or
// escalated by the sweep.
type Moved struct {
	Ticket    storage.Ticket
	To        storage.Org
	Escalated bool
}

// Answered is a responder's answer to a member. As is the membership the
// responder signs with, the highest over the member's organisation; nil
// for a named responder without one there.
type Answered struct {
	Ticket    storage.Ticket
	Responder storage.Person
	As        *storage.Membership
	Message
	// Ref names the request, the same when a front end retries it, so that
	// the answer is not delivered twice.
	Ref string
}

// FollowUp is a member's message added to their ticket, for To.
type FollowUp struct {
	Ticket storage.Ticket
	Member storage.Person
	Message
	Ref string // as in Answered
	To  Recipients
}
