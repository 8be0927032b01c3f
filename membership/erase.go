package membership

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Forget erases the acting person: their records (see storage's Forget),
// and on every platform they used their conversation and their count of
// wrong link codes.
func (s *Service) Forget(ctx context.Context, by access.Actor) error {
	accounts, err := s.store.Accounts(ctx, by.PersonID)
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	return s.forget(ctx, by.PersonID, accounts)
}

// forget erases a person from the records and from the shared state of each
// of their accounts, read before the erasure removes them: the
// conversation, with whatever they typed into it on any platform, and the
// count of wrong link codes, whose key names the account. Update claims
// hold no personal data; chat locks and rate limits name a chat for at most
// seconds and expire on their own.
func (s *Service) forget(ctx context.Context, personID int64, accounts []storage.Account) error {
	if err := s.store.Forget(ctx, personID, s.clock()); err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	for _, a := range accounts {
		for _, key := range []string{ConversationKey(a.Platform, a.ExternalID), linkFailKey(a.Platform, a.ExternalID)} {
			if err := s.state.Delete(ctx, key); err != nil {
				return fmt.Errorf("forget state of person %d: %w", personID, err)
			}
		}
	}
	return nil
}
