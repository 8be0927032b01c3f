package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Invitation is a usable invite with the organisation it leads into.
type Invitation struct {
	Invite storage.Invite
	Org    storage.Org
}

// OpenInvite finds an invite that can be used now. An unknown one is
// storage.ErrNotFound; one expired, revoked or used up is
// storage.ErrInviteExpired, ErrInviteRevoked or ErrInviteUsedUp.
func (s *Service) OpenInvite(ctx context.Context, code string) (Invitation, error) {
	inv, err := s.store.Invite(ctx, code)
	if err != nil {
		return Invitation{}, fmt.Errorf("look up invite: %w", err)
	}
	if err := inv.Usable(s.clock()); err != nil {
		return Invitation{}, fmt.Errorf("open invite: %w", err)
	}
	org, err := s.store.Org(ctx, inv.OrgID)
	if err != nil {
		return Invitation{}, fmt.Errorf("load invite org: %w", err)
	}
	return Invitation{Invite: inv, Org: org}, nil
}

// Join gives the acting person, registered already, the role an invite
// offers; an invite used up meanwhile fails as OpenInvite's do.
func (s *Service) Join(ctx context.Context, by access.Actor, inv Invitation) (storage.Membership, error) {
	m, err := s.store.JoinByInvite(ctx, by.PersonID, inv.Invite.Code, s.clock())
	if err != nil {
		return storage.Membership{}, fmt.Errorf("join by invite: %w", err)
	}
	return m, nil
}

// Applicable reports whether a person may apply to org without an invite:
// only a primary organisation takes members directly.
func Applicable(org storage.Org) bool { return org.Level == storage.LevelPrimary }

// Application is a registration as given, or waiting for a decision.
type Application struct {
	Applicant  storage.Person
	Membership storage.Membership
	// Supporter: the applicant is a supporter of the org asking to become a
	// member (AskToJoin); in a rejection, one who stays a supporter.
	Supporter bool
}

// Form is what a person gives to register.
type Form struct {
	Account
	FullName, Position, WorkEmail, PersonalEmail string
	// Locale is the language the person reads; ConsentVersion the version of
	// the consent text they accepted at ConsentAt, and of the one to a
	// personal address, accepted at PersonalConsentAt when they gave one.
	Locale            string
	ConsentVersion    string
	ConsentAt         time.Time
	PersonalConsentAt time.Time
	// OrgID and Role are where they join: the invite's, or the organisation
	// they chose without one, as a member.
	OrgID      int64
	Role       storage.Role
	InviteCode string
}

// Register commits a registration with its consents. With an invite the
// membership is active at once; without one it waits, and the leaders who
// may decide it are asked. A refused field is an *InputError; an account
// that is someone's already is storage.ErrAlreadyRegistered; an invite that
// cannot be used fails as OpenInvite's do.
func (s *Service) Register(ctx context.Context, f Form) (Application, error) {
	var bad *InputError
	if f.FullName, bad = FieldName.Clean(f.FullName); bad != nil {
		return Application{}, bad
	}
	for _, opt := range []struct {
		field Field
		value *string
	}{{FieldPosition, &f.Position}, {FieldWorkEmail, &f.WorkEmail}, {FieldPersonalEmail, &f.PersonalEmail}} {
		if *opt.value == "" {
			continue
		}
		if *opt.value, bad = opt.field.Clean(*opt.value); bad != nil {
			return Application{}, bad
		}
	}
	if f.PersonalEmail != "" && f.PersonalConsentAt.IsZero() {
		return Application{}, ErrConsentNeeded
	}
	if f.ConsentAt.IsZero() {
		return Application{}, errors.New("register: no consent to the processing of personal data")
	}
	reg := storage.Registration{
		Platform: f.Platform, ExternalID: f.ExternalID,
		FullName: f.FullName, Position: f.Position, WorkEmail: f.WorkEmail, PersonalEmail: f.PersonalEmail,
		Locale: f.Locale, OrgID: f.OrgID, Role: f.Role, InviteCode: f.InviteCode, At: s.clock(),
		Consents: []storage.Consent{{OrgID: f.OrgID, Kind: storage.ConsentPersonalData, Version: f.ConsentVersion, Locale: f.Locale, Accepted: true, At: f.ConsentAt}},
	}
	if f.PersonalEmail != "" {
		reg.Consents = append(reg.Consents, storage.Consent{OrgID: f.OrgID, Kind: storage.ConsentPersonalEmail, Version: f.ConsentVersion, Locale: f.Locale, Accepted: true, At: f.PersonalConsentAt})
	}
	p, m, err := s.store.Register(ctx, reg)
	if err != nil {
		return Application{}, fmt.Errorf("register: %w", err)
	}
	app := Application{Applicant: p, Membership: m}
	if m.Status == storage.StatusPending {
		// The application is kept: a leader who cannot be told now finds it
		// among the pending ones, so a failure to ask is not the applicant's.
		if err := s.askToDecide(ctx, app); err != nil {
			s.logger.ErrorContext(ctx, "ask leaders to decide", "membership", m.ID, "err", err)
		}
	}
	return app, nil
}

// Refusal is a declined consent: the only thing kept of someone who would
// not register.
type Refusal struct {
	OrgID          int64
	ConsentVersion string
	Locale         string
}

// Decline records that someone declined the consent, and nothing else.
func (s *Service) Decline(ctx context.Context, r Refusal) error {
	err := s.store.RecordRefusal(ctx, storage.Consent{OrgID: r.OrgID, Kind: storage.ConsentPersonalData,
		Version: r.ConsentVersion, Locale: r.Locale, At: s.clock()})
	if err != nil {
		return fmt.Errorf("record refusal: %w", err)
	}
	return nil
}
