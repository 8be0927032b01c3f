package storage

import (
	"context"
	"errors"
	"time"
)

// SignInLink is a one-time link into the staff console. Only a hash of its
// token is kept: the token itself travels once, in the link.
type SignInLink struct {
	TokenHash string
	// PersonID is whom the link signs in; 0 for a link that grants the
	// admin role (GrantAdmin) and signs in the console's own staff person,
	// created when the link is used.
	PersonID int64
	// GrantAdmin makes the person it signs in the Union's staff: the admin
	// role in the root organisation, as soon as there is one.
	GrantAdmin bool
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// ConsoleSession is a signed-in browser. Only a hash of its id is kept: the
// id itself lives in the browser's cookie.
type ConsoleSession struct {
	IDHash   string
	PersonID int64
	// GrantAdmin is the admin role its sign-in link promised and the person
	// does not hold yet, because the tree has no root organisation yet:
	// until then the session is a setup session.
	GrantAdmin bool
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end, however active the session is.
	ExpiresAt time.Time
	RevokedAt *time.Time
	// EndReason says why it ended ("signed_out", "idle", "erased"...).
	EndReason string
}

// SessionState is what every console request reads about its session, in
// one statement: the session, its person and their memberships in force.
type SessionState struct {
	Session     ConsoleSession
	Person      Person
	Memberships []Membership // active ones only
}

// AuditEntry is one thing done through the console: who did it, when,
// what, on which organisation or record, and from which address.
type AuditEntry struct {
	ID       int64
	At       time.Time
	PersonID int64 // 0: the server itself (the CLI, a start of serve)
	Action   string
	OrgID    int64  // 0: none
	Record   string // what it was done to, as "kind:id" ("membership:42"); "" for none
	IP       string // "" when it did not come over HTTP
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	// Under, when set, keeps the entries on an organisation of its subtree.
	Under *Org
	// PersonID, when set, keeps the entries of one person.
	PersonID int64
	// Action, when set, keeps the entries of one action.
	Action string
	// Before, when set, keeps the entries older than this id (the next page).
	Before int64
	// Limit bounds the entries returned (required, at most 1,000).
	Limit int
}

// ConsoleStore keeps the staff console's sign-in links, sessions and audit
// log.
type ConsoleStore interface {
	// CreateSignInLink stores a link; a token hash used before is
	// ErrConflict. Links long expired are dropped on the way.
	CreateSignInLink(ctx context.Context, l SignInLink) error
	// SignInLink finds a link by its token's hash, used or not.
	SignInLink(ctx context.Context, tokenHash string) (SignInLink, error)
	// StartSession spends the link and opens s, and records a, in one
	// transaction: exactly one of racing uses wins. A link used already is
	// ErrLinkUsed, one expired at s.CreatedAt ErrLinkExpired, an unknown one
	// ErrNotFound; a link for another person than s.PersonID is
	// ErrConflict. s.GrantAdmin is taken from the link.
	StartSession(ctx context.Context, tokenHash string, s ConsoleSession, a AuditEntry) (ConsoleSession, error)
	// SessionState reads a session with its person and their memberships
	// in force, ended or not.
	SessionState(ctx context.Context, idHash string) (SessionState, error)
	// TouchSession notes that the session was active at at.
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	// EndSession revokes a session with its reason, and records a unless
	// its Action is empty; a session ended already keeps its first end.
	EndSession(ctx context.Context, idHash, reason string, at time.Time, a AuditEntry) error
	// GrantSessionAdmin gives the session's person the admin role in org
	// (active), settles the session's promise and records a (its person,
	// org and record filled in), in one transaction. A promise settled
	// already grants and records nothing again: it returns the role.
	GrantSessionAdmin(ctx context.Context, idHash string, orgID int64, at time.Time, a AuditEntry) (Membership, error)
	// ConsoleStaff returns the console's own staff person (no messenger
	// account), creating it with name on the first call.
	ConsoleStaff(ctx context.Context, name string, at time.Time) (Person, error)
	// AddAudit records an entry.
	AddAudit(ctx context.Context, a AuditEntry) error
	// Audit lists the entries q selects, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// Errors of sign-in links.
var (
	ErrLinkUsed    = errors.New("sign-in link used already")
	ErrLinkExpired = errors.New("sign-in link expired")
)
