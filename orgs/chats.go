package orgs

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Chat is a group chat on a platform.
type Chat struct {
	Platform storage.Platform
	ID       string
	Title    string
}

// TakenError refuses to move a chat away from an organisation the actor has
// no right on: Org is where it stays bound.
type TakenError struct {
	Org storage.Org
}

func (e *TakenError) Error() string { return fmt.Sprintf("chat bound to org %d", e.Org.ID) }

// Bind attaches a group chat to an organisation, for news and relays. Only
// someone who may bind chats in the organisation or above may
// (access.ErrForbidden); moving a chat away from another organisation needs
// that right there too (*TakenError). A chat bound anew is no longer a
// hot-line desk, and binding it again where it is changes nothing. An
// unknown organisation is storage.ErrNotFound.
func (s *Service) Bind(ctx context.Context, by access.Actor, chat Chat, orgID int64) (storage.Org, error) {
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActBindChat, org) {
		return org, fmt.Errorf("bind chat to org %d: %w", org.ID, access.ErrForbidden)
	}
	current, err := s.store.ChatBinding(ctx, chat.Platform, chat.ID)
	switch {
	case err == nil && current.OrgID == org.ID:
		return org, nil
	case err == nil:
		was, err := s.store.Org(ctx, current.OrgID)
		if err != nil {
			return storage.Org{}, fmt.Errorf("load bound org: %w", err)
		}
		if !by.Can(access.ActBindChat, was) {
			return org, &TakenError{Org: was}
		}
	case !errors.Is(err, storage.ErrNotFound):
		return storage.Org{}, fmt.Errorf("load chat binding: %w", err)
	}
	if err := s.store.BindChat(ctx, storage.ChatBinding{Platform: chat.Platform, ChatID: chat.ID, OrgID: org.ID,
		Title: chat.Title, BoundBy: by.PersonID, BoundAt: s.clock()}); err != nil {
		return storage.Org{}, fmt.Errorf("bind chat: %w", err)
	}
	return org, nil
}

// Unbind detaches a group chat from its organisation, which it returns. Only
// someone who may bind chats there may (access.ErrForbidden); a chat bound
// nowhere is storage.ErrNotFound.
func (s *Service) Unbind(ctx context.Context, by access.Actor, p storage.Platform, chatID string) (storage.Org, error) {
	current, err := s.store.ChatBinding(ctx, p, chatID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load chat binding: %w", err)
	}
	org, err := s.store.Org(ctx, current.OrgID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load bound org: %w", err)
	}
	if !by.Can(access.ActBindChat, org) {
		return org, fmt.Errorf("unbind chat from org %d: %w", org.ID, access.ErrForbidden)
	}
	if err := s.store.UnbindChat(ctx, p, chatID); err != nil {
		return storage.Org{}, fmt.Errorf("unbind chat: %w", err)
	}
	return org, nil
}
