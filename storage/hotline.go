package storage

import (
	"errors"
	"time"
)

// TicketStatus is where a hot-line question stands.
type TicketStatus string

// Ticket states: open until a responder takes it, then taken until closed.
const (
	TicketOpen   TicketStatus = "open"
	TicketTaken  TicketStatus = "taken"
	TicketClosed TicketStatus = "closed"
)

// Ticket is a member's question to the hot line.
type Ticket struct {
	ID       int64 // the number the member sees
	PersonID int64 // the member who asked; 0 once anonymised by /forget
	OrgID    int64 // the member's organisation
	// LevelOrgID is the organisation whose responders handle the ticket now:
	// routing, "hand up" and escalation move it up the tree.
	LevelOrgID int64
	Topic      string
	// ShareName: the committee may name the member to the employer.
	ShareName bool
	// KeepText: the member allowed the text to stay, anonymous, for statistics
	// after they erase their data.
	KeepText        bool
	Status          TicketStatus
	AssigneeID      int64 // the responder who took it; 0 when nobody has
	CreatedAt       time.Time
	DueAt           time.Time // first-response deadline at the current level
	FirstResponseAt *time.Time
	ClosedAt        *time.Time
	Escalations     int
	Rating          int // 1–5; 0 when not rated
	RatingComment   string
}

// Attachment is a file a person sent with a message, by the platform's id.
type Attachment struct {
	Platform Platform
	Kind     string // "photo" or "document"
	// FileID is the platform adapter's own reference: a Telegram file_id;
	// on VK "photo<owner>_<id>_<key>" and the like, which the adapter may
	// follow with the link VK gave to download the file.
	FileID string
	Name   string // a document's file name
}

// TicketMessage is one message of a ticket's thread.
type TicketMessage struct {
	ID          int64
	TicketID    int64
	AuthorID    int64 // the person who wrote it; 0 once anonymised
	FromMember  bool
	Text        string
	Attachments []Attachment
	At          time.Time
}

// Responder is a person a chair named to answer the hot line of an org,
// for one topic or ("" ) for all.
type Responder struct {
	PersonID int64
	OrgID    int64
	Topic    string
}

// DeskPost ties a ticket to its message in a staff group used as a desk, so
// that a reply to that message answers the member.
type DeskPost struct {
	TicketID  int64
	Platform  Platform
	ChatID    string
	MessageID string
}

// PostKind says what becomes of a ticket's post once the ticket is closed.
type PostKind string

// Kinds of ticket posts.
const (
	// PostCard is a responder's card: shown again with the outcome.
	PostCard PostKind = "card"
	// PostDesk is a card on a desk group: shown again, without names.
	PostDesk PostKind = "desk"
	// PostKeep is a message whose text stays as sent: it loses its buttons.
	PostKeep PostKind = "keep"
)

// TicketPost is a message about a ticket that carries its buttons, in the
// language it was written in.
type TicketPost struct {
	TicketID  int64
	Platform  Platform
	ChatID    string
	MessageID string
	Kind      PostKind
	Lang      string
}

// Errors of the hot line.
var (
	// ErrAlreadyTaken: another responder took the ticket first.
	ErrAlreadyTaken = errors.New("ticket already taken")
	// ErrTicketClosed: the ticket is closed and takes no more messages.
	ErrTicketClosed = errors.New("ticket closed")
	// ErrFileTooBig: the messenger serves no file this large to a bot.
	ErrFileTooBig = errors.New("file too big to download")
	// ErrFileGone: the messenger no longer serves the file: an unknown
	// file id, an expired link.
	ErrFileGone = errors.New("file no longer available")
)
