// Package signin lets staff into the console without a password: one-time
// sign-in links (asked for in the bot, printed by the CLI or by the first
// start of the server), the sessions they open, and the rule of who may hold
// one: a chair, an information worker or the Union's staff somewhere in the
// tree (access.ActConsole), checked again on every request. A link's token
// and a session's id are secrets: only their SHA-256 hashes are stored, and
// they are never logged.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Lifetimes of links and sessions.
const (
	// LinkTTL is how long a sign-in link may be used (once).
	LinkTTL = 10 * time.Minute
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout = 12 * time.Hour
	// MaxAge ends a session this long after it began, however active.
	MaxAge = 7 * 24 * time.Hour
	// touchEvery is how stale a session's last activity may grow before a
	// request writes it again: the idle clock is this coarse, and most
	// requests cost no write.
	touchEvery = 5 * time.Minute
)

// LinkPath is where the console serves sign-in links: LinkPath + token.
const LinkPath = "/signin/"

// Audit actions of signing in and out.
const (
	AuditLinkIssued = "signin_link"
	AuditSignIn     = "signin"
	AuditSignOut    = "signout"
	// AuditAdminGranted: the console's staff person became the Union's
	// admin, as their link promised, once the tree had a root.
	AuditAdminGranted = "admin_granted"
)

// Reasons a session ends.
const (
	EndSignedOut = "signed_out"
	EndExpired   = "expired"
	EndIdle      = "idle"
	EndErased    = "erased"
	EndRoleLost  = "role_lost"
	EndUnknown   = "unknown"
)

// ErrLinkUnknown is a sign-in link that never was (or is long gone); used
// and expired links give storage.ErrLinkUsed and storage.ErrLinkExpired.
var ErrLinkUnknown = errors.New("sign-in link unknown")

// EndedError says a session is over, and why (one of the End reasons).
type EndedError struct{ Reason string }

func (e *EndedError) Error() string { return "console session ended: " + e.Reason }

// Store is what signing in needs from the records.
type Store interface {
	ChildOrgs(ctx context.Context, parentID int64) ([]storage.Org, error)
	Leaders(ctx context.Context, orgID int64, roles []storage.Role) ([]storage.Contact, error)
	Person(ctx context.Context, id int64) (storage.Person, error)
	Memberships(ctx context.Context, personID int64) ([]storage.Membership, error)
	CreateSignInLink(ctx context.Context, l storage.SignInLink) error
	SignInLink(ctx context.Context, tokenHash string) (storage.SignInLink, error)
	StartSession(ctx context.Context, tokenHash string, s storage.ConsoleSession, a storage.AuditEntry) (storage.ConsoleSession, error)
	SessionState(ctx context.Context, idHash string) (storage.SessionState, error)
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	EndSession(ctx context.Context, idHash, reason string, at time.Time, a storage.AuditEntry) error
	GrantSessionAdmin(ctx context.Context, idHash string, orgID int64, at time.Time, a storage.AuditEntry) (storage.Membership, error)
	ConsoleStaff(ctx context.Context, name string, at time.Time) (storage.Person, error)
	AddAudit(ctx context.Context, a storage.AuditEntry) error
}

// Config is what the service needs.
type Config struct {
	Store Store
	// BaseURL is the console's public address that links start with, such
	// as "https://hub.example.org".
	BaseURL string
	// StaffName names the console's own staff person when it is created;
	// "" is "Union staff".
	StaffName string
	Clock     func() time.Time
	Logger    *slog.Logger
}

// Service issues sign-in links and keeps sessions.
type Service struct {
	store     Store
	baseURL   string
	staffName string
	clock     func() time.Time
	logger    *slog.Logger
}

// New returns the service; a nil Clock or Logger gets a default.
func New(c Config) *Service {
	s := &Service{store: c.Store, baseURL: strings.TrimRight(c.BaseURL, "/"), staffName: c.StaffName, clock: c.Clock, logger: c.Logger}
	if s.staffName == "" {
		s.staffName = "Union staff"
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Link is a sign-in link, fresh: its URL carries the token, the only copy.
type Link struct {
	URL   string
	Token string
	// PersonID is whom it signs in; 0 for the console's staff person, made
	// when the link is used.
	PersonID   int64
	GrantAdmin bool
	ExpiresAt  time.Time
}

// Issue makes a sign-in link for the acting person, who must be staff
// somewhere in the tree.
func (s *Service) Issue(ctx context.Context, by access.Actor) (Link, error) {
	if by.PersonID == 0 || !by.Staff() {
		return Link{}, fmt.Errorf("issue sign-in link: %w", access.ErrForbidden)
	}
	return s.issue(ctx, by.PersonID, by.PersonID, false)
}

// AdminLink makes a sign-in link for the Union's staff, for the server's
// own terminal: one for a holder of the admin role in the root
// organisation, the console's own staff person first; with none, one that
// makes the console's staff person the admin when used (or, while the tree
// has no root, opens a setup session that may only load the tree).
func (s *Service) AdminLink(ctx context.Context) (Link, error) {
	admin, found, err := s.admin(ctx)
	if err != nil {
		return Link{}, err
	}
	if found {
		return s.issue(ctx, 0, admin.ID, false)
	}
	return s.issue(ctx, 0, 0, true)
}

// HasAdmin reports whether the Union has staff: someone holding the admin
// role in the root organisation.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	_, found, err := s.admin(ctx)
	return found, err
}

// admin finds a holder of the admin role in the root organisation,
// preferring one with no messenger account: the console's staff person.
func (s *Service) admin(ctx context.Context) (storage.Person, bool, error) {
	root, ok, err := s.root(ctx)
	if err != nil || !ok {
		return storage.Person{}, false, err
	}
	admins, err := s.store.Leaders(ctx, root.ID, []storage.Role{storage.RoleAdmin})
	if err != nil {
		return storage.Person{}, false, fmt.Errorf("find the admin: %w", err)
	}
	for _, a := range admins {
		if len(a.Accounts) == 0 {
			return a.Person, true, nil
		}
	}
	if len(admins) > 0 {
		return admins[0].Person, true, nil
	}
	return storage.Person{}, false, nil
}

// root is the root organisation, if the tree has one yet.
func (s *Service) root(ctx context.Context) (storage.Org, bool, error) {
	roots, err := s.store.ChildOrgs(ctx, 0)
	if err != nil {
		return storage.Org{}, false, fmt.Errorf("find the root organisation: %w", err)
	}
	if len(roots) == 0 {
		return storage.Org{}, false, nil
	}
	return roots[0], true, nil
}

// issue stores a link for personID made by issuer (0: the server itself)
// and records that it was made.
func (s *Service) issue(ctx context.Context, issuer, personID int64, grant bool) (Link, error) {
	now := s.clock()
	token := newSecret()
	l := storage.SignInLink{TokenHash: hash(token), PersonID: personID, GrantAdmin: grant, CreatedAt: now, ExpiresAt: now.Add(LinkTTL)}
	if err := s.store.CreateSignInLink(ctx, l); err != nil {
		return Link{}, fmt.Errorf("issue sign-in link: %w", err)
	}
	record := "staff"
	if personID != 0 {
		record = "person:" + strconv.FormatInt(personID, 10)
	}
	if err := s.store.AddAudit(ctx, storage.AuditEntry{At: now, PersonID: issuer, Action: AuditLinkIssued, Record: record}); err != nil {
		return Link{}, fmt.Errorf("issue sign-in link: %w", err)
	}
	s.logger.InfoContext(ctx, "sign-in link issued", "person", personID, "by", issuer, "grant_admin", grant)
	return Link{URL: s.baseURL + LinkPath + token, Token: token, PersonID: personID, GrantAdmin: grant, ExpiresAt: l.ExpiresAt}, nil
}

// Preview is what a sign-in link offers before it is used.
type Preview struct {
	Name       string // whom it signs in
	GrantAdmin bool
	ExpiresAt  time.Time
}

// Preview tells whom a link signs in, without using it: messengers fetch
// links to show previews, so only an explicit sign-in may spend one. A
// link of a person who is no longer staff is access.ErrForbidden.
func (s *Service) Preview(ctx context.Context, token string) (Preview, error) {
	l, p, err := s.check(ctx, token)
	if err != nil {
		return Preview{}, err
	}
	name := p.FullName
	if l.PersonID == 0 {
		name = s.staffName
	}
	return Preview{Name: name, GrantAdmin: l.GrantAdmin, ExpiresAt: l.ExpiresAt}, nil
}

// check finds a usable link and, unless it is for the staff person yet to
// be made, its person, who must still be staff.
func (s *Service) check(ctx context.Context, token string) (storage.SignInLink, storage.Person, error) {
	if !validSecret(token) {
		return storage.SignInLink{}, storage.Person{}, ErrLinkUnknown
	}
	l, err := s.store.SignInLink(ctx, hash(token))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return l, storage.Person{}, ErrLinkUnknown
	case err != nil:
		return l, storage.Person{}, fmt.Errorf("check sign-in link: %w", err)
	case l.UsedAt != nil:
		return l, storage.Person{}, storage.ErrLinkUsed
	case !s.clock().Before(l.ExpiresAt):
		return l, storage.Person{}, storage.ErrLinkExpired
	case l.PersonID == 0:
		return l, storage.Person{}, nil
	}
	p, err := s.store.Person(ctx, l.PersonID)
	if err != nil {
		return l, p, fmt.Errorf("check sign-in link: %w", err)
	}
	if p.ErasedAt != nil {
		return l, p, fmt.Errorf("check sign-in link: person erased: %w", access.ErrForbidden)
	}
	if l.GrantAdmin {
		return l, p, nil
	}
	ms, err := s.store.Memberships(ctx, p.ID)
	if err != nil {
		return l, p, fmt.Errorf("check sign-in link: %w", err)
	}
	if !access.NewActor(p.ID, ms).Staff() {
		return l, p, fmt.Errorf("check sign-in link: not staff: %w", access.ErrForbidden)
	}
	return l, p, nil
}

// Session is a signed-in browser as one request sees it.
type Session struct {
	// Secret is the session's id as the browser holds it.
	Secret string
	storage.ConsoleSession
	Person storage.Person
	Actor  access.Actor
	// Setup marks the Union's staff signed in before the tree has a root:
	// such a session may only load the tree.
	Setup bool
}

// SignIn spends a link and opens a session; ip is recorded in the audit
// log. Of racing uses exactly one wins; the others get storage.ErrLinkUsed.
func (s *Service) SignIn(ctx context.Context, token, ip string) (Session, error) {
	l, p, err := s.check(ctx, token)
	if err != nil {
		return Session{}, err
	}
	now := s.clock()
	if l.PersonID == 0 {
		if p, err = s.store.ConsoleStaff(ctx, s.staffName, now); err != nil {
			return Session{}, fmt.Errorf("sign in: %w", err)
		}
	}
	secret := newSecret()
	cs := storage.ConsoleSession{IDHash: hash(secret), PersonID: p.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(MaxAge)}
	if _, err := s.store.StartSession(ctx, l.TokenHash, cs, storage.AuditEntry{At: now, Action: AuditSignIn, IP: ip}); err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	s.logger.InfoContext(ctx, "console signed in", "person", p.ID)
	return s.Resume(ctx, secret)
}

// Resume finds the session of a browser, and ends it when its time is up,
// its person was erased or no longer holds a staff role: a request never
// runs on a session that should be over. It costs one read, and a write
// when the idle clock needs moving (every few minutes) or the session ends.
// A session whose link promised the admin role gets it here once the tree
// has a root; until then it is a setup session.
func (s *Service) Resume(ctx context.Context, secret string) (Session, error) {
	return s.resume(ctx, secret, true)
}

// Alive is Resume for a request that is no activity of the person's: a
// page held open that watches for news. It checks the session as Resume
// does, and ends it as Resume would, but never moves its idle clock, so a
// browser left open still signs out when its person is away.
func (s *Service) Alive(ctx context.Context, secret string) (Session, error) {
	return s.resume(ctx, secret, false)
}

// resume is Resume; touch moves the session's idle clock when it is due.
func (s *Service) resume(ctx context.Context, secret string, touch bool) (Session, error) {
	if !validSecret(secret) {
		return Session{}, &EndedError{Reason: EndUnknown}
	}
	h := hash(secret)
	st, err := s.store.SessionState(ctx, h)
	if errors.Is(err, storage.ErrNotFound) {
		return Session{}, &EndedError{Reason: EndUnknown}
	}
	if err != nil {
		return Session{}, fmt.Errorf("resume session: %w", err)
	}
	cs := st.Session
	if cs.RevokedAt != nil {
		return Session{}, &EndedError{Reason: cs.EndReason}
	}
	now := s.clock()
	actor := access.NewActor(st.Person.ID, st.Memberships)
	setup := false
	reason := ""
	switch {
	case !now.Before(cs.ExpiresAt):
		reason = EndExpired
	case !now.Before(cs.LastSeenAt.Add(IdleTimeout)):
		reason = EndIdle
	case st.Person.ErasedAt != nil:
		reason = EndErased
	case cs.GrantAdmin:
		root, ok, err := s.root(ctx)
		if err != nil {
			return Session{}, err
		}
		if !ok {
			setup = !actor.Staff()
			break
		}
		m, err := s.store.GrantSessionAdmin(ctx, h, root.ID, now, storage.AuditEntry{At: now, Action: AuditAdminGranted})
		if err != nil {
			return Session{}, fmt.Errorf("resume session: %w", err)
		}
		actor.Roles = append(actor.Roles, m)
		cs.GrantAdmin = false
	}
	if reason == "" && !setup && !actor.Staff() {
		reason = EndRoleLost
	}
	if reason != "" {
		if err := s.store.EndSession(ctx, h, reason, now, storage.AuditEntry{}); err != nil {
			return Session{}, fmt.Errorf("resume session: %w", err)
		}
		s.logger.InfoContext(ctx, "console session ended", "person", st.Person.ID, "reason", reason)
		return Session{}, &EndedError{Reason: reason}
	}
	if touch && now.Sub(cs.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			return Session{}, fmt.Errorf("resume session: %w", err)
		}
		cs.LastSeenAt = now
	}
	return Session{Secret: secret, ConsoleSession: cs, Person: st.Person, Actor: actor, Setup: setup}, nil
}

// SignOut ends a browser's session and records it; a session that is
// unknown or over already is left as it is.
func (s *Service) SignOut(ctx context.Context, secret, ip string) error {
	if !validSecret(secret) {
		return nil
	}
	now := s.clock()
	err := s.store.EndSession(ctx, hash(secret), EndSignedOut, now, storage.AuditEntry{At: now, Action: AuditSignOut, IP: ip})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// secretBytes is the size of a token or session id: 256 random bits.
const secretBytes = 32

// newSecret returns a fresh random token, URL-safe.
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// validSecret reports whether s is shaped like a token newSecret makes, so
// that nothing else reaches the store.
func validSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// hash is what the store keeps of a secret.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
