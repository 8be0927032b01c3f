// Package storage holds UnionHub's domain records, the interfaces of the stores
// that keep them, and the rules of who may act where in the organisation tree.
// Technologies live in sub-packages: sqlstore (shared SQL), postgres, sqlite, redis.
package storage

import (
	"errors"
	"time"
)

// Level is an organisation's place in the union's structure.
type Level string

// The three levels the programme names; a branch may sit under another branch.
const (
	LevelUnion   Level = "union"
	LevelBranch  Level = "branch"
	LevelPrimary Level = "primary"
)

// Valid reports whether l is a known level.
func (l Level) Valid() bool {
	return l == LevelUnion || l == LevelBranch || l == LevelPrimary
}

// Role is what a person does in an organisation. Roles are ordered: a higher
// role includes the rights of the lower ones in the same organisation.
type Role string

// Roles, lowest first.
const (
	// RoleSupporter is someone registered through an organisation's public
	// invite who is not (yet) a member: they get its public news, may ask
	// the hot line about joining and ask to become a member, nothing more.
	RoleSupporter  Role = "supporter"
	RoleMember     Role = "member"
	RoleActivist   Role = "activist"
	RoleInfoworker Role = "infoworker"
	RoleChair      Role = "chair"
	// RoleAdmin is the Union's staff: held in the root organisation, it
	// grants every action on the whole tree, and the hot line's questions
	// that no level below can answer reach them.
	RoleAdmin Role = "admin"
)

// Roles lists every role, lowest first.
var Roles = []Role{RoleSupporter, RoleMember, RoleActivist, RoleInfoworker, RoleChair, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, known := range Roles {
		if r == known {
			return true
		}
	}
	return false
}

// Elevated reports whether r is above a plain member: such roles are only
// granted by a role invite or an approval.
func (r Role) Elevated() bool { return r.Valid() && r != RoleMember && r != RoleSupporter }

// MemberRoles lists the roles of the union's members, every role but a
// supporter's, lowest first: what member rights and member counts take.
func MemberRoles() []Role { return Roles[1:] }

// Platform names a messenger.
type Platform string

// Supported platforms.
const (
	Telegram Platform = "telegram"
	VK       Platform = "vk"
)

// Valid reports whether p is a supported platform.
func (p Platform) Valid() bool { return p == Telegram || p == VK }

// DefaultTimeZone is the programme's region.
const DefaultTimeZone = "Asia/Sakhalin"

// Org is one organisation of the tree.
type Org struct {
	ID          int64
	Code        string
	Name        string
	ParentID    int64 // 0 for the root
	Level       Level
	MemberCount int // declared number of members; the programme's norms depend on it
	TimeZone    string
	// Path lists the ids from the root down to this org, as "/1/7/42/", so that
	// "is A above B" is a prefix test both in Go and in SQL.
	Path string
	// BoardCron schedules the org's weekly notice-board reminder (standard
	// cron, in TimeZone); "" leaves it to the deployment's default.
	BoardCron string
	UpdatedAt time.Time
}

// Location is o's time zone, the programme's region when it has none or
// an unknown one.
func (o Org) Location() *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil && o.TimeZone != "" {
		return loc
	}
	loc, err := time.LoadLocation(DefaultTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Contains reports whether o is other or one of its ancestors.
func (o Org) Contains(other Org) bool {
	return o.Path != "" && len(other.Path) >= len(o.Path) && other.Path[:len(o.Path)] == o.Path
}

// MembershipStatus says whether a role is in force.
type MembershipStatus string

// Membership states.
const (
	StatusPending  MembershipStatus = "pending"
	StatusActive   MembershipStatus = "active"
	StatusRejected MembershipStatus = "rejected"
	StatusEnded    MembershipStatus = "ended"
)

// Person is a registered member. Personal fields are empty once erased.
type Person struct {
	ID            int64
	FullName      string
	Position      string
	WorkEmail     string
	PersonalEmail string // only with its own consent
	Locale        string
	CreatedAt     time.Time
	ErasedAt      *time.Time
}

// Account is a person's identity on one platform.
type Account struct {
	Platform   Platform
	ExternalID string // the platform's user id, which is also the private chat id
	PersonID   int64
	LastSeenAt time.Time
	BlockedAt  *time.Time // the person blocked the bot; cleared when they write again
}

// Caller is the person behind the account an update came from.
type Caller struct {
	Person  Person
	Account Account
	// SeenLast says no other account of the person was seen later: touching
	// this one again soon changes nothing anybody reads.
	SeenLast bool
}

// Membership is a role of a person in an organisation.
type Membership struct {
	ID        int64
	PersonID  int64
	Org       Org
	Role      Role
	Status    MembershipStatus
	CreatedAt time.Time
	DecidedBy int64
	DecidedAt *time.Time
}

// Invite is a code that registers people into an organisation with a role.
type Invite struct {
	Code      string
	OrgID     int64
	Role      Role
	MaxUses   int // 0 means unlimited
	Uses      int
	ExpiresAt *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// Usable returns nil when the invite can register someone at now, or the
// reason it cannot.
func (i Invite) Usable(now time.Time) error {
	switch {
	case i.RevokedAt != nil:
		return ErrInviteRevoked
	case i.ExpiresAt != nil && !now.Before(*i.ExpiresAt):
		return ErrInviteExpired
	case i.MaxUses > 0 && i.Uses >= i.MaxUses:
		return ErrInviteUsedUp
	}
	return nil
}

// ConsentKind names what a person consents to.
type ConsentKind string

// Consent kinds.
const (
	ConsentPersonalData  ConsentKind = "personal_data"
	ConsentPersonalEmail ConsentKind = "personal_email"
)

// Consent records a decision with the version and language of the text shown.
// A refusal carries no person: nothing but the refusal is stored.
type Consent struct {
	PersonID int64
	OrgID    int64
	Kind     ConsentKind
	Version  string
	Locale   string
	Accepted bool
	At       time.Time
}

// ChatBinding attaches a group chat to an organisation.
type ChatBinding struct {
	Platform Platform
	ChatID   string
	OrgID    int64
	Title    string
	// Desk marks the org's staff group where hot-line tickets are posted.
	Desk    bool
	BoundBy int64
	BoundAt time.Time
}

// LinkCode lets a registered person attach their account on another platform.
type LinkCode struct {
	Code      string
	PersonID  int64
	ExpiresAt time.Time
}

// Registration is everything a completed registration conversation commits at once.
type Registration struct {
	Platform      Platform
	ExternalID    string
	FullName      string
	Position      string
	WorkEmail     string
	PersonalEmail string
	Locale        string
	OrgID         int64
	Role          Role
	// InviteCode, when set, is consumed and makes the membership active;
	// without it the membership waits for approval.
	InviteCode string
	Consents   []Consent
	At         time.Time
}

// ProfilePatch changes one or more profile fields; nil fields stay as they are.
type ProfilePatch struct {
	FullName      *string
	Position      *string
	WorkEmail     *string
	PersonalEmail *string
	Locale        *string
}

// Contact is a person with the accounts the bot can reach them on.
type Contact struct {
	Person   Person
	Accounts []Account
}

// OrgInput is one organisation as read from an import file.
type OrgInput struct {
	Code        string
	Name        string
	ParentCode  string
	Level       Level
	MemberCount int
	TimeZone    string
	BoardCron   string // "" for the deployment's default
	Source      string // "file:line", for error messages
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// Errors with a meaning for callers. Wrap them with %w.
var (
	ErrNotFound          = errors.New("not found")
	ErrInviteExpired     = errors.New("invite expired")
	ErrInviteRevoked     = errors.New("invite revoked")
	ErrInviteUsedUp      = errors.New("invite used up")
	ErrAlreadyRegistered = errors.New("account already registered")
	ErrAlreadyDecided    = errors.New("already decided")
	ErrConflict          = errors.New("conflict")
	ErrSchemaTooNew      = errors.New("database schema is newer than this binary")
	// ErrTimeout is a statement that ran past its time limit and was stopped.
	ErrTimeout = errors.New("statement timed out")
)
