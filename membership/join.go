package membership

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// ErrAlreadyAsked is a supporter's second request to join an organisation
// while the first waits, or one from someone who is a member there already.
var ErrAlreadyAsked = errors.New("already asked to join")

// AskToJoin sends a supporter's request to become a member of org, where
// they are a supporter (access.ErrForbidden otherwise): a pending member
// membership that the org's leaders decide as any application (and, with
// nobody there to decide, those above). The request is kept before anyone
// is told; a leader who cannot be told now finds it among the pending ones.
func (s *Service) AskToJoin(ctx context.Context, by access.Actor, orgID int64) (Application, error) {
	if !access.SupporterIn(by.Roles, orgID) {
		return Application{}, fmt.Errorf("ask to join org %d: %w", orgID, access.ErrForbidden)
	}
	m, err := s.store.ApplyToJoin(ctx, by.PersonID, orgID, s.clock())
	if errors.Is(err, storage.ErrConflict) {
		return Application{}, fmt.Errorf("ask to join org %d: %w", orgID, ErrAlreadyAsked)
	}
	if err != nil {
		return Application{}, fmt.Errorf("ask to join: %w", err)
	}
	p, err := s.store.Person(ctx, by.PersonID)
	if err != nil {
		return Application{}, fmt.Errorf("load supporter: %w", err)
	}
	app := Application{Applicant: p, Membership: m, Supporter: true}
	s.logger.InfoContext(ctx, "supporter asked to join", "membership", m.ID, "org", orgID)
	if err := s.askToDecide(ctx, app); err != nil {
		s.logger.ErrorContext(ctx, "ask leaders to decide", "membership", m.ID, "err", err)
	}
	return app, nil
}
