// Package membership owns who belongs where: registration (by invite, or
// code-less with a leader's approval) with its consents, joining another
// organisation by invite, approving and rejecting applications, the profile
// and its rules, linking a person's accounts on several platforms, and
// erasure. Any front end calls these use cases; people are told things
// through the Notifier, and nothing here knows a platform.
package membership

import (
	"context"
	"log/slog"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Store is what membership keeps and reads.
type Store interface {
	Org(ctx context.Context, id int64) (storage.Org, error)
	Invite(ctx context.Context, code string) (storage.Invite, error)

	Register(ctx context.Context, reg storage.Registration) (storage.Person, storage.Membership, error)
	JoinByInvite(ctx context.Context, personID int64, code string, at time.Time) (storage.Membership, error)
	ApplyToJoin(ctx context.Context, personID, orgID int64, at time.Time) (storage.Membership, error)
	RecordRefusal(ctx context.Context, c storage.Consent) error
	RecordConsent(ctx context.Context, c storage.Consent) error

	Person(ctx context.Context, id int64) (storage.Person, error)
	UpdateProfile(ctx context.Context, personID int64, patch storage.ProfilePatch) (storage.Person, error)
	Forget(ctx context.Context, personID int64, at time.Time) error
	Accounts(ctx context.Context, personID int64) ([]storage.Account, error)

	Memberships(ctx context.Context, personID int64) ([]storage.Membership, error)
	Membership(ctx context.Context, id int64) (storage.Membership, error)
	DecideMembership(ctx context.Context, id int64, approve bool, deciderID int64, at time.Time) (storage.Membership, error)
	Leaders(ctx context.Context, orgID int64, roles []storage.Role) ([]storage.Contact, error)
	PendingMemberships(ctx context.Context, under storage.Org) ([]storage.Membership, error)

	CreateLinkCode(ctx context.Context, lc storage.LinkCode) error
	UseLinkCode(ctx context.Context, code string, p storage.Platform, externalID string, at time.Time) (storage.Person, error)
}

// State is the shared short-lived state membership reads and erases: the
// count of wrong link codes, and the conversations front ends keep per
// account.
type State interface {
	Load(ctx context.Context, key string) (value []byte, ok bool, err error)
	Save(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Notifier tells people about applications; it decides how (platform,
// language, buttons), membership decides who and when. Each method reports
// whether the person got the message.
type Notifier interface {
	// AskToDecide shows a leader an application they may decide.
	AskToDecide(ctx context.Context, leader storage.Contact, app Application) (bool, error)
	// TellDecision tells the applicant what was decided, on the accounts
	// they had when the decision was taken: a rejected applicant may be
	// erased by now.
	TellDecision(ctx context.Context, d Decision, accounts []storage.Account) (bool, error)
}

// Config is what a Service needs.
type Config struct {
	Store    Store
	State    State
	Notifier Notifier
	// Clock and Logger default to time.Now and slog.Default.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service holds the membership use cases.
type Service struct {
	store  Store
	state  State
	notify Notifier
	clock  func() time.Time
	logger *slog.Logger
}

// New returns a service.
func New(c Config) *Service {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Service{store: c.Store, state: c.State, notify: c.Notifier, clock: c.Clock, logger: c.Logger}
}

// Account is a person's account on one platform, as a front end knows the
// one it talks to.
type Account struct {
	Platform   storage.Platform
	ExternalID string
}

// ConversationKey names the shared state where front ends keep an
// account's conversation, with whatever was typed into it: erasure deletes
// it on every platform the person used.
func ConversationKey(p storage.Platform, externalID string) string {
	return "conv:" + string(p) + ":" + externalID
}
