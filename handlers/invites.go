package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// DefaultInviteTTL is how long an invite lives unless told otherwise.
const DefaultInviteTTL = 30 * 24 * time.Hour

// InviteRequest describes an invite to create.
type InviteRequest struct {
	OrgCode string
	Role    storage.Role
	// Uses caps registrations; 0 takes the default: one for roles above
	// member, unlimited for members.
	Uses int
	// TTL is the lifetime; 0 takes DefaultInviteTTL, negative never expires.
	TTL time.Duration
}

// CreateInvite makes an unguessable invite code for an org and role.
func CreateInvite(ctx context.Context, st storage.Store, req InviteRequest, now time.Time) (storage.Invite, storage.Org, error) {
	if !req.Role.Valid() {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: unknown role %q (use member, activist, infoworker or chair)", req.Role)
	}
	if req.Uses < 0 {
		return storage.Invite{}, storage.Org{}, errors.New("create invite: uses must not be negative")
	}
	org, err := st.OrgByCode(ctx, req.OrgCode)
	if err != nil {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: org %q: %w", req.OrgCode, err)
	}
	inv := storage.Invite{Code: newInviteCode(), OrgID: org.ID, Role: req.Role, MaxUses: req.Uses, CreatedAt: now}
	if inv.MaxUses == 0 && req.Role.Elevated() {
		inv.MaxUses = 1
	}
	switch {
	case req.TTL == 0:
		exp := now.Add(DefaultInviteTTL)
		inv.ExpiresAt = &exp
	case req.TTL > 0:
		exp := now.Add(req.TTL)
		inv.ExpiresAt = &exp
	}
	if err := st.CreateInvite(ctx, inv); err != nil {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("create invite: %w", err)
	}
	return inv, org, nil
}

// newInviteCode returns 128 random bits as 22 URL-safe characters, which
// fit Telegram's deep-link payload and VK's ref.
func newInviteCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// looksLikeInviteCode tells a pasted code from ordinary text.
func looksLikeInviteCode(s string) bool {
	if len(s) != 22 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// linkAlphabet avoids letters and digits that read alike (0/O, 1/I).
const linkAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// linkCodeTTL is how long a one-time account-linking code lives.
const linkCodeTTL = 15 * time.Minute

// newLinkCode returns 8 characters (40 bits) that a person can retype.
func newLinkCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = linkAlphabet[int(b[i])%len(linkAlphabet)]
	}
	return string(b)
}

// normalizeLinkCode accepts a retyped code in any case, with spaces or dashes.
func normalizeLinkCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(s)))
}
