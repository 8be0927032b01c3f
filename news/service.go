// Package news owns news going down and up the organisation tree:
// composing a broadcast (its audience, where it goes, direct or relayed,
// now or at a time) and how many it reaches, starting, scheduling and
// stopping it, launching it (the outbox built under a lease and handed to
// the delivery engine, a failure told to the author), the relay level by
// level (each level publishes, adds a note or skips; reminders halfway to
// the deadline, publishing at it), suggestions and calls for support sent
// up by members (who decides, publish down, pass up, decline with a
// reason, the Union told of calls for «Солидарность»), the author's live
// progress and the broadcast report. Each use case takes the acting person
// and checks their rights through access; people are told things through
// a Notifier, so a use case never knows which front end or platform asked.
package news

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Store is what news reads and writes.
type Store interface {
	Org(ctx context.Context, id int64) (storage.Org, error)
	ChildOrgs(ctx context.Context, parentID int64) ([]storage.Org, error)
	Person(ctx context.Context, id int64) (storage.Person, error)
	Leaders(ctx context.Context, orgID int64, roles []storage.Role) ([]storage.Contact, error)

	CreateBroadcast(ctx context.Context, b storage.Broadcast) (storage.Broadcast, error)
	Broadcast(ctx context.Context, id int64) (storage.Broadcast, error)
	Broadcasts(ctx context.Context, orgID int64, limit int) ([]storage.Broadcast, error)
	CountAudience(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope) (people, chats int, err error)
	BuildOutbox(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope, at time.Time) (int, error)
	StreamOutbox(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope, s storage.OutboxStream) (int, error)
	StartBuild(ctx context.Context, id int64, owner string, now, leaseUntil time.Time) (storage.Broadcast, error)
	RenewBuild(ctx context.Context, id int64, owner string, leaseUntil time.Time) error
	EndBuild(ctx context.Context, id int64, owner string) error
	FailBuild(ctx context.Context, id int64, owner string, at time.Time) (int, error)
	DueBroadcasts(ctx context.Context, now time.Time) ([]storage.Broadcast, error)
	SetBroadcastProgress(ctx context.Context, id int64, p storage.DeskPost) error
	CancelBroadcast(ctx context.Context, id int64, at time.Time) (int, error)
	DeliveryCounts(ctx context.Context, broadcastID int64) ([]storage.DeliveryCount, error)

	AnswerAction(ctx context.Context, broadcastID, personID int64, answer storage.ActionAnswer, at time.Time) (storage.ActionReply, error)
	SetAttended(ctx context.Context, broadcastID, personID int64, attended bool) (storage.ActionReply, error)
	ActionCounts(ctx context.Context, broadcastID int64) ([]storage.ActionCount, error)
	ClaimActionNotices(ctx context.Context, notice storage.ActionNotice, from, to, at time.Time) ([]storage.ActionReply, error)

	SaveNewsFile(ctx context.Context, f storage.NewsFile) (storage.NewsFile, error)
	NewsFile(ctx context.Context, id int64) (storage.NewsFile, error)
	NewsFileData(ctx context.Context, id int64) ([]byte, error)
	PruneNewsFiles(ctx context.Context, before time.Time) (int, error)
	PruneLinkOpens(ctx context.Context, before time.Time) (int, error)
	LinkOpenCounts(ctx context.Context, broadcastID int64) ([]storage.LinkOpenCount, error)

	AddRelaySteps(ctx context.Context, steps []storage.RelayStep) error
	RelaySteps(ctx context.Context, broadcastID int64) ([]storage.RelayStep, error)
	CompleteRelayStep(ctx context.Context, broadcastID, orgID int64, action storage.RelayAction, note string, at time.Time) (storage.RelayStep, error)
	PendingRelaySteps(ctx context.Context) ([]storage.RelayStep, error)
	MarkRelayReminded(ctx context.Context, broadcastID, orgID int64, at time.Time) error

	CreateSuggestion(ctx context.Context, s storage.Suggestion) (storage.Suggestion, error)
	Suggestion(ctx context.Context, id int64) (storage.Suggestion, error)
	PassSuggestionUp(ctx context.Context, id, fromOrgID, toOrgID int64) (storage.Suggestion, error)
	DecideSuggestion(ctx context.Context, id, atOrgID int64, status storage.SuggestionStatus, reason string, broadcastID int64, at time.Time) (storage.Suggestion, error)
	Suggestions(ctx context.Context, underOrgID int64) ([]storage.Suggestion, error)
}

// Locker lets one replica at a time run the broadcast timers.
type Locker interface {
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// Engine is the delivery engine as news sees it.
type Engine interface {
	// Kick tells the engine that outbox rows are waiting.
	Kick()
}

// Config is what a Service needs.
type Config struct {
	Store Store
	// Locker serialises the timers round across replicas; only
	// TimersRound needs it.
	Locker   Locker
	Notifier Notifier
	// Engine is woken when rows are waiting; nil where nothing delivers
	// (tests of the conversations alone).
	Engine Engine
	// BuildLease is how long a replica holds a broadcast whose outbox it
	// builds without renewing it (every third of it): after a crash,
	// another replica takes the build over then. Zero means 30 s.
	BuildLease time.Duration
	// Clock and Logger default to time.Now and slog.Default.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service holds the news use cases.
type Service struct {
	store    Store
	locker   Locker
	notifier Notifier
	engine   Engine
	lease    time.Duration
	clock    func() time.Time
	logger   *slog.Logger

	builds   outboxBuilds
	progress progressWatch
	// answered are broadcasts whose action counts changed here since the
	// last progress round.
	answered progressWatch
}

// New returns a service.
func New(c Config) *Service {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BuildLease <= 0 {
		c.BuildLease = DefaultBuildLease
	}
	return &Service{store: c.Store, locker: c.Locker, notifier: c.Notifier, engine: c.Engine, lease: c.BuildLease, clock: c.Clock, logger: c.Logger}
}

// Limits and periods of news.
const (
	// MaxText bounds an item's text in UTF-16 units, as Telegram counts:
	// with the header, a level's note and the share line it must fit one
	// message of 4,096.
	MaxText = 3500
	// MaxNote bounds a relaying level's note; with the item it must fit
	// one message.
	MaxNote = 500
	// MaxReason bounds the reason a suggestion is declined for.
	MaxReason = 500
	// RelayPeriod is how long the levels of a relayed item have to act
	// before it is published for them.
	RelayPeriod = 24 * time.Hour
	// DefaultBuildLease is Config.BuildLease unless set. The lease is
	// renewed apart from the chunks, so a slow chunk never outlives it.
	DefaultBuildLease = 30 * time.Second
	// RoundLock is how long a timers round holds its lock across
	// replicas; the loop running TimersRound gives a round less time.
	RoundLock = 30 * time.Second
)

// Errors of news' use cases, besides access.ErrForbidden, storage.ErrNotFound
// (no such broadcast, suggestion or org), storage.ErrAlreadyDecided (a relay
// level acted already) and storage.ErrConflict (a broadcast already over).
var (
	// ErrInvalid: input outside news' limits; front ends check them first
	// and explain.
	ErrInvalid = errors.New("invalid input")
	// ErrAudience: a draft's audience names an organisation that is not
	// one level below the sender.
	ErrAudience = errors.New("audience outside the sender's organisations")
	// ErrBadTime: a time to send at that is past or more than a year
	// away.
	ErrBadTime = errors.New("bad time to send at")
	// ErrBuildFailed: the outbox could not be built; the broadcast is
	// marked failed and its author has been told.
	ErrBuildFailed = errors.New("outbox build failed")
	// ErrCancelled: the relayed broadcast was stopped.
	ErrCancelled = errors.New("broadcast cancelled")
	// ErrDecided: the suggestion was decided, or moved on, already.
	ErrDecided = errors.New("suggestion already decided")
	// ErrTopLevel: a suggestion at the root of the tree has nowhere to go
	// up.
	ErrTopLevel = errors.New("suggestion is at the top level")
	// ErrNobodyAbove: nobody above can decide the suggestion in the bot;
	// passing it to nobody would hide it, so it stays.
	ErrNobodyAbove = errors.New("nobody above can decide")
)

// checkText refuses an item's text, a note or a reason outside the limits;
// an item may go without text when it carries files.
func checkText(text string, limit int, emptyOK bool) error {
	switch {
	case strings.TrimSpace(text) == "" && !emptyOK:
		return fmt.Errorf("%w: empty text", ErrInvalid)
	case storage.UTF16Len(text) > limit:
		return fmt.Errorf("%w: text longer than %d", ErrInvalid, limit)
	}
	return nil
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

// publishers are who publish for org: its information workers, else its
// chairs, else (at the top) the Union's staff.
func (s *Service) publishers(ctx context.Context, orgID int64) ([]storage.Contact, error) {
	for _, role := range []storage.Role{storage.RoleInfoworker, storage.RoleChair, storage.RoleAdmin} {
		ls, err := s.store.Leaders(ctx, orgID, []storage.Role{role})
		if err != nil {
			return nil, fmt.Errorf("list publishers: %w", err)
		}
		if len(ls) > 0 {
			return ls, nil
		}
	}
	return nil, nil
}

// kick tells the engine that rows are waiting.
func (s *Service) kick() {
	if s.engine != nil {
		s.engine.Kick()
	}
}
