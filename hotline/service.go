// Package hotline owns the hot line: members' questions (tickets), who
// answers them at which level of the organisation tree, taking, answering,
// handing up and closing them, members' follow-ups and ratings, the sweep
// that moves overdue questions up, the responders a chair names, what a
// reply in a desk group does, and the statistics. Each use case takes the
// acting person and checks their rights through access; people are told
// things through a Notifier, so a use case never knows which front end or
// platform asked.
package hotline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/storage"
)

// Store is what the hot line reads and writes.
type Store interface {
	Org(ctx context.Context, id int64) (storage.Org, error)
	ChildOrgs(ctx context.Context, parentID int64) ([]storage.Org, error)
	Person(ctx context.Context, id int64) (storage.Person, error)
	Accounts(ctx context.Context, personID int64) ([]storage.Account, error)
	Memberships(ctx context.Context, personID int64) ([]storage.Membership, error)
	Leaders(ctx context.Context, orgID int64, roles []storage.Role) ([]storage.Contact, error)

	DeskOf(ctx context.Context, orgID int64) (storage.ChatBinding, error)
	BindChat(ctx context.Context, b storage.ChatBinding) error
	DeskPost(ctx context.Context, p storage.Platform, chatID, messageID string) (storage.DeskPost, error)

	CreateTicket(ctx context.Context, t storage.Ticket, first storage.TicketMessage) (storage.Ticket, error)
	Ticket(ctx context.Context, id int64) (storage.Ticket, error)
	TicketsOf(ctx context.Context, personID int64) ([]storage.Ticket, error)
	FindTickets(ctx context.Context, q storage.TicketQuery) ([]storage.Ticket, error)
	InboxTickets(ctx context.Context, q storage.InboxQuery) ([]storage.InboxTicket, error)
	CountInbox(ctx context.Context, q storage.InboxQuery) (int, error)
	InboxEvents(ctx context.Context, scopes []storage.AnswerScope, afterID int64, limit int) ([]storage.InboxEvent, error)
	LastTicketMessage(ctx context.Context) (int64, error)
	AddTicketMessage(ctx context.Context, m storage.TicketMessage) (storage.Ticket, error)
	TicketMessages(ctx context.Context, ticketID int64) ([]storage.TicketMessage, error)
	TakeTicket(ctx context.Context, id, responderID int64, at time.Time) (storage.Ticket, error)
	MoveTicket(ctx context.Context, id, fromOrgID, toOrgID int64, due time.Time, escalated bool) (storage.Ticket, error)
	EscalateTicket(ctx context.Context, id, fromOrgID, toOrgID int64, due, now time.Time) (storage.Ticket, error)
	CloseTicket(ctx context.Context, id int64, at time.Time) (storage.Ticket, error)
	RateTicket(ctx context.Context, id int64, rating int, comment string) error
	OverdueTickets(ctx context.Context, now time.Time) ([]storage.Ticket, error)

	SetResponder(ctx context.Context, r storage.Responder) error
	RemoveResponder(ctx context.Context, r storage.Responder) error
	Responders(ctx context.Context, orgID int64) ([]storage.Responder, error)
}

// Config is what a Service needs.
type Config struct {
	Store    Store
	Notifier Notifier
	// Settings are the deployment's hot line; without topics, the default.
	Settings Settings
	// Files download the files of threads, a source per messenger the
	// deployment has a bot on.
	Files  map[storage.Platform]FileSource
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service holds the hot line's use cases.
type Service struct {
	store    Store
	notifier Notifier
	settings Settings
	files    map[storage.Platform]FileSource
	clock    func() time.Time
	logger   *slog.Logger
}

// New returns a service; a nil Clock or Logger gets a default.
func New(c Config) *Service {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Settings.Topics) == 0 {
		c.Settings = DefaultSettings()
	}
	return &Service{store: c.Store, notifier: c.Notifier, settings: c.Settings, files: c.Files, clock: c.Clock, logger: c.Logger}
}

// Settings are the hot line the service runs.
func (s *Service) Settings() Settings { return s.settings }

// Limits of the hot line. A question or answer is refused above MaxText
// characters (UTF-16 units, as Telegram counts), never cut: the card around
// it must still fit the platforms' 4,096.
const (
	MaxText    = 3000
	MaxFiles   = 10
	MaxComment = 1000 // characters of a rating comment
)

// Errors of the hot line's use cases, besides access.ErrForbidden,
// storage.ErrNotFound (no such ticket or org), storage.ErrTicketClosed and
// storage.ErrConflict (the ticket moved meanwhile).
var (
	// ErrTopLevel: a ticket at the root of the tree has nowhere to go up.
	ErrTopLevel = errors.New("ticket is at the top level")
	// ErrNobodyAbove: nobody above the ticket's level can answer it in the
	// bot; handing it to nobody would hide it, so it stays.
	ErrNobodyAbove = errors.New("nobody above can answer")
	// ErrStillOpen: only a closed ticket is rated.
	ErrStillOpen = errors.New("ticket not closed yet")
	// ErrUnknownTopic: the deployment has no such topic.
	ErrUnknownTopic = errors.New("unknown topic")
	// ErrInvalid: input outside the hot line's limits; front ends check
	// them first and explain.
	ErrInvalid = errors.New("invalid input")
)

// TakenError tells a responder who took the ticket first.
type TakenError struct {
	By int64 // the person who took it
}

func (e *TakenError) Error() string { return fmt.Sprintf("ticket taken by person %d", e.By) }

// Unwrap makes a TakenError a storage.ErrAlreadyTaken.
func (e *TakenError) Unwrap() error { return storage.ErrAlreadyTaken }

// Message is what a person writes to a ticket: text, files, or both.
type Message struct {
	Text  string
	Files []storage.Attachment
}

// check refuses a message outside the limits; a question needs its text.
func (m Message) check(textNeeded bool) error {
	switch {
	case strings.TrimSpace(m.Text) == "" && (textNeeded || len(m.Files) == 0):
		return fmt.Errorf("%w: empty message", ErrInvalid)
	case len(utf16.Encode([]rune(m.Text))) > MaxText:
		return fmt.Errorf("%w: text longer than %d", ErrInvalid, MaxText)
	case len(m.Files) > MaxFiles:
		return fmt.Errorf("%w: more than %d files", ErrInvalid, MaxFiles)
	}
	return nil
}

// zone is an org's time zone, the programme's region when unknown.
func zone(o storage.Org) *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil && o.TimeZone != "" {
		return loc
	}
	loc, _ := time.LoadLocation(storage.DefaultTimeZone)
	return loc
}

// pathIDs reads the ids of an org's path "/1/2/4/", root first.
func pathIDs(path string) []int64 {
	var ids []int64
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// contact is a person with their accounts.
func (s *Service) contact(ctx context.Context, personID int64) (storage.Contact, error) {
	p, err := s.store.Person(ctx, personID)
	if err != nil {
		return storage.Contact{}, fmt.Errorf("load person: %w", err)
	}
	accounts, err := s.store.Accounts(ctx, personID)
	if err != nil {
		return storage.Contact{}, fmt.Errorf("load accounts: %w", err)
	}
	return storage.Contact{Person: p, Accounts: accounts}, nil
}
