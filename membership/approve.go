package membership

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// askToDecide asks the leaders of the applicant's organisation to decide; an
// org without a reachable leader hands the request up the tree. A leader
// who cannot be told now still finds the request among the pending ones, so
// nothing is lost when nobody is reached.
func (s *Service) askToDecide(ctx context.Context, app Application) error {
	m := app.Membership
	org := m.Org
	for {
		leaders, err := s.store.Leaders(ctx, org.ID, access.RolesFor(access.ActApprove))
		if err != nil {
			return fmt.Errorf("list leaders: %w", err)
		}
		reached := false
		for _, l := range leaders {
			ok, err := s.notify.AskToDecide(ctx, l, app)
			if err != nil {
				s.logger.WarnContext(ctx, "notify leader", "membership", m.ID, "leader", l.Person.ID, "err", err)
			}
			reached = reached || ok
		}
		if reached {
			return nil
		}
		if org.ParentID == 0 {
			s.logger.WarnContext(ctx, "no leader reachable for approval", "membership", m.ID, "org", m.Org.ID)
			return nil
		}
		if org, err = s.store.Org(ctx, org.ParentID); err != nil {
			return fmt.Errorf("load parent org: %w", err)
		}
	}
}

// Pending lists the applications the actor may decide, oldest first; an
// actor who may decide none gets access.ErrForbidden.
func (s *Service) Pending(ctx context.Context, by access.Actor) ([]storage.Membership, error) {
	orgs := by.Orgs(access.ActApprove)
	if len(orgs) == 0 {
		return nil, access.ErrForbidden
	}
	var out []storage.Membership
	seen := map[int64]bool{}
	for _, org := range orgs {
		ms, err := s.store.PendingMemberships(ctx, org)
		if err != nil {
			return nil, fmt.Errorf("list pending registrations: %w", err)
		}
		for _, m := range ms {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// Applicant is the person who applied for m, as kept now.
func (s *Service) Applicant(ctx context.Context, m storage.Membership) (storage.Person, error) {
	p, err := s.store.Person(ctx, m.PersonID)
	if err != nil {
		return storage.Person{}, fmt.Errorf("load applicant: %w", err)
	}
	return p, nil
}

// Application is the application m with its applicant as kept now, marked
// when a supporter of the org asks to become a member.
func (s *Service) Application(ctx context.Context, m storage.Membership) (Application, error) {
	p, err := s.Applicant(ctx, m)
	if err != nil {
		return Application{}, err
	}
	ms, err := s.store.Memberships(ctx, p.ID)
	if err != nil {
		return Application{}, fmt.Errorf("load applicant roles: %w", err)
	}
	return Application{Applicant: p, Membership: m, Supporter: access.SupporterIn(ms, m.Org.ID)}, nil
}

// Decision is what was decided about an application.
type Decision struct {
	Application
	// Erased: a rejected applicant who belonged nowhere else was erased.
	Erased bool
	// Reached: the applicant was told.
	Reached bool
}

// DecidedError is a press on an application decided already: Application
// says what was decided, by whom (Membership.DecidedBy) and when. A
// rejected applicant may be erased by now (Applicant.ErasedAt).
type DecidedError struct {
	Application
}

func (e *DecidedError) Error() string {
	return fmt.Sprintf("membership %d: %v", e.Membership.ID, storage.ErrAlreadyDecided)
}

func (e *DecidedError) Unwrap() error { return storage.ErrAlreadyDecided }

// WithdrawnError is an application whose applicant erased themselves
// before anyone decided it.
type WithdrawnError struct {
	Membership storage.Membership
}

func (e *WithdrawnError) Error() string {
	return fmt.Sprintf("membership %d: application withdrawn", e.Membership.ID)
}

// Decide approves or rejects a pending application: only someone who may
// approve in its organisation or above (access.ErrForbidden otherwise), and
// only the first decision counts (*DecidedError for the later ones, with
// what was decided). A rejected applicant who belongs nowhere else is
// erased: there is no purpose left to keep their data. The applicant is
// told after the decision is kept. An application that does not exist is
// storage.ErrNotFound; one withdrawn is a *WithdrawnError.
func (s *Service) Decide(ctx context.Context, by access.Actor, membershipID int64, approve bool) (Decision, error) {
	m, err := s.store.Membership(ctx, membershipID)
	if err != nil {
		return Decision{}, fmt.Errorf("load membership: %w", err)
	}
	if !by.Can(access.ActApprove, m.Org) {
		return Decision{}, fmt.Errorf("decide membership %d: %w", m.ID, access.ErrForbidden)
	}
	applicant, err := s.Applicant(ctx, m)
	if err != nil {
		return Decision{}, err
	}
	if m.Status != storage.StatusPending {
		return Decision{}, &DecidedError{Application{Applicant: applicant, Membership: m}}
	}
	if applicant.ErasedAt != nil {
		return Decision{}, &WithdrawnError{Membership: m}
	}
	// The accounts are read first: a rejection erases them before the
	// applicant is told, so that "your data is erased" is true when read.
	accounts, err := s.store.Accounts(ctx, applicant.ID)
	if err != nil {
		return Decision{}, fmt.Errorf("load accounts: %w", err)
	}
	decided, err := s.store.DecideMembership(ctx, m.ID, approve, by.PersonID, s.clock())
	if errors.Is(err, storage.ErrAlreadyDecided) {
		// Another leader was first: say what they decided.
		if m, err = s.store.Membership(ctx, m.ID); err != nil {
			return Decision{}, fmt.Errorf("load membership: %w", err)
		}
		return Decision{}, &DecidedError{Application{Applicant: applicant, Membership: m}}
	}
	if err != nil {
		return Decision{}, fmt.Errorf("decide membership: %w", err)
	}
	d := Decision{Application: Application{Applicant: applicant, Membership: decided}}
	if !approve {
		// A supporter turned down stays a supporter, and is told so.
		ms, err := s.store.Memberships(ctx, applicant.ID)
		if err != nil {
			return Decision{}, fmt.Errorf("load memberships: %w", err)
		}
		d.Supporter = access.SupporterIn(ms, m.Org.ID)
		if d.Erased, err = s.forgetIfUnattached(ctx, applicant.ID, accounts); err != nil {
			return Decision{}, err
		}
	}
	if d.Reached, err = s.notify.TellDecision(ctx, d, accounts); err != nil {
		return Decision{}, fmt.Errorf("tell applicant: %w", err)
	}
	return d, nil
}

// forgetIfUnattached erases a rejected applicant who belongs nowhere else.
// It reports whether it did.
func (s *Service) forgetIfUnattached(ctx context.Context, personID int64, accounts []storage.Account) (bool, error) {
	ms, err := s.store.Memberships(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("load memberships: %w", err)
	}
	for _, m := range ms {
		if m.Status == storage.StatusActive || m.Status == storage.StatusPending {
			return false, nil
		}
	}
	if err := s.forget(ctx, personID, accounts); err != nil {
		return false, fmt.Errorf("forget rejected applicant: %w", err)
	}
	return true, nil
}
