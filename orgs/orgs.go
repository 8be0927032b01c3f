// Package orgs owns the organisation tree as operators and leaders
// administer it: importing the tree, invites into its organisations, and
// the group chats bound to them (a hot-line desk among them). The command
// line is the operator's, who may do everything: its use cases take no
// actor. Those a leader uses from a chat or the console check the
// leader's rights (tree.go).
package orgs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Store is what orgs keeps and reads.
type Store interface {
	ImportOrgs(ctx context.Context, orgs []storage.OrgInput, at time.Time) (storage.ImportResult, error)
	Orgs(ctx context.Context) ([]storage.Org, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
	OrgByCode(ctx context.Context, code string) (storage.Org, error)
	ChildOrgs(ctx context.Context, parentID int64) ([]storage.Org, error)
	SearchOrgs(ctx context.Context, under []storage.Org, text string, limit, offset int) ([]storage.Org, error)
	OrgPeople(ctx context.Context, orgID int64, limit, offset int) ([]storage.OrgPerson, error)

	CreateInvite(ctx context.Context, inv storage.Invite) error
	Invite(ctx context.Context, code string) (storage.Invite, error)
	RevokeInvite(ctx context.Context, code string, at time.Time) error
	Invites(ctx context.Context, orgID int64) ([]storage.Invite, error)

	BindChat(ctx context.Context, b storage.ChatBinding) error
	UnbindChat(ctx context.Context, p storage.Platform, chatID string) error
	ChatBinding(ctx context.Context, p storage.Platform, chatID string) (storage.ChatBinding, error)
	BoundChats(ctx context.Context, under storage.Org) ([]storage.ChatBinding, error)
}

// Config is what a Service needs.
type Config struct {
	Store Store
	// Clock and Logger default to time.Now and slog.Default.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service holds the use cases of the organisation tree.
type Service struct {
	store  Store
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
	return &Service{store: c.Store, clock: c.Clock, logger: c.Logger}
}

// Import validates the organisations of a file against each other and the
// tree kept, and upserts them by code, all or nothing: a rejected file is a
// *storage.ImportError with every problem.
func (s *Service) Import(ctx context.Context, orgs []storage.OrgInput) (storage.ImportResult, error) {
	res, err := s.store.ImportOrgs(ctx, orgs, s.clock())
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import orgs: %w", err)
	}
	return res, nil
}

// Orgs lists every organisation of the tree.
func (s *Service) Orgs(ctx context.Context) ([]storage.Org, error) {
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	return orgs, nil
}

// OrgByCode finds an organisation by the code of the tree's file;
// storage.ErrNotFound when there is none.
func (s *Service) OrgByCode(ctx context.Context, code string) (storage.Org, error) {
	org, err := s.store.OrgByCode(ctx, code)
	if err != nil {
		return storage.Org{}, fmt.Errorf("org %q: %w", code, err)
	}
	return org, nil
}
