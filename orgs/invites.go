package orgs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// DefaultInviteTTL is how long an invite lives unless told otherwise.
const DefaultInviteTTL = 30 * 24 * time.Hour

// ErrAdminBelowRoot refuses an admin invite below the root: the admin
// role is the Union's staff.
var ErrAdminBelowRoot = errors.New("the admin role is the Union's staff: invite into the root organisation")

// InviteRequest describes an invite to create.
type InviteRequest struct {
	OrgCode string
	Role    storage.Role
	// Uses caps registrations; 0 takes the default: one for roles above
	// member, unlimited for members.
	Uses int
	// TTL is the lifetime; 0 takes DefaultInviteTTL (a supporter's public
	// invite: no end, until revoked), negative never expires.
	TTL time.Duration
}

// CreateInvite makes an unguessable invite code for an organisation and a
// role. The admin role, the Union's staff, is given in the root
// organisation only. An unknown organisation is storage.ErrNotFound.
func (s *Service) CreateInvite(ctx context.Context, req InviteRequest) (storage.Invite, storage.Org, error) {
	if !req.Role.Valid() {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: unknown role %q (use supporter, member, activist, infoworker, chair or admin)", req.Role)
	}
	if req.Uses < 0 {
		return storage.Invite{}, storage.Org{}, errors.New("create invite: uses must not be negative")
	}
	org, err := s.store.OrgByCode(ctx, req.OrgCode)
	if err != nil {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: org %q: %w", req.OrgCode, err)
	}
	if req.Role == storage.RoleAdmin && org.ParentID != 0 {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: %w, not %q", ErrAdminBelowRoot, req.OrgCode)
	}
	now := s.clock()
	inv := storage.Invite{Code: newInviteCode(), OrgID: org.ID, Role: req.Role, MaxUses: req.Uses, CreatedAt: now}
	if inv.MaxUses == 0 && req.Role.Elevated() {
		inv.MaxUses = 1
	}
	switch {
	case req.TTL == 0 && req.Role == storage.RoleSupporter:
		// An organisation's public invite is printed and posted: it lasts.
	case req.TTL == 0:
		exp := now.Add(DefaultInviteTTL)
		inv.ExpiresAt = &exp
	case req.TTL > 0:
		exp := now.Add(req.TTL)
		inv.ExpiresAt = &exp
	}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: %w", err)
	}
	return inv, org, nil
}

// Invites lists the invites of the organisation with code orgCode, newest
// first; an unknown organisation is storage.ErrNotFound.
func (s *Service) Invites(ctx context.Context, orgCode string) (storage.Org, []storage.Invite, error) {
	org, err := s.OrgByCode(ctx, orgCode)
	if err != nil {
		return storage.Org{}, nil, err
	}
	invites, err := s.store.Invites(ctx, org.ID)
	if err != nil {
		return storage.Org{}, nil, fmt.Errorf("list invites: %w", err)
	}
	return org, invites, nil
}

// RevokeInvite stops an invite from letting anyone else in; an unknown code
// is storage.ErrNotFound.
func (s *Service) RevokeInvite(ctx context.Context, code string) error {
	if err := s.store.RevokeInvite(ctx, code, s.clock()); err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	}
	return nil
}

// inviteCodeLen is the length of newInviteCode's codes.
const inviteCodeLen = 22

// newInviteCode returns 128 random bits as 22 URL-safe characters, which
// fit Telegram's deep-link payload and VK's ref.
func newInviteCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// LooksLikeInviteCode tells a pasted invite code from ordinary text.
func LooksLikeInviteCode(s string) bool {
	if len(s) != inviteCodeLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
