package hotline

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// ResponderOrg is an org whose responders and desk the actor may set.
func (s *Service) ResponderOrg(ctx context.Context, by access.Actor, orgID int64) (storage.Org, error) {
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActNameResponders, org) {
		return storage.Org{}, fmt.Errorf("responders of org %d: %w", orgID, access.ErrForbidden)
	}
	return org, nil
}

// Responders lists the responders named in an org, for a chair of it or
// above.
func (s *Service) Responders(ctx context.Context, by access.Actor, orgID int64) (storage.Org, []storage.Responder, error) {
	org, err := s.ResponderOrg(ctx, by, orgID)
	if err != nil {
		return storage.Org{}, nil, err
	}
	rs, err := s.store.Responders(ctx, org.ID)
	if err != nil {
		return storage.Org{}, nil, fmt.Errorf("list responders: %w", err)
	}
	return org, rs, nil
}

// Candidates lists who may be named a responder in an org: its members of
// any role.
func (s *Service) Candidates(ctx context.Context, by access.Actor, orgID int64) (storage.Org, []storage.Contact, error) {
	org, err := s.ResponderOrg(ctx, by, orgID)
	if err != nil {
		return storage.Org{}, nil, err
	}
	members, err := s.store.Leaders(ctx, org.ID, storage.MemberRoles())
	if err != nil {
		return storage.Org{}, nil, fmt.Errorf("list members: %w", err)
	}
	return org, members, nil
}

// NameResponder names a member of the org a responder for a topic, or for
// all ("").
func (s *Service) NameResponder(ctx context.Context, by access.Actor, r storage.Responder) error {
	_, members, err := s.Candidates(ctx, by, r.OrgID)
	if err != nil {
		return err
	}
	if err := s.checkTopic(r.Topic); err != nil {
		return err
	}
	found := false
	for _, c := range members {
		found = found || c.Person.ID == r.PersonID
	}
	if !found {
		return fmt.Errorf("name responder %d: not a member: %w", r.PersonID, storage.ErrNotFound)
	}
	if err := s.store.SetResponder(ctx, r); err != nil {
		return fmt.Errorf("name responder: %w", err)
	}
	return nil
}

// RemoveResponder removes a responder's entry; one that is not there gives
// storage.ErrNotFound.
func (s *Service) RemoveResponder(ctx context.Context, by access.Actor, r storage.Responder) error {
	if _, err := s.ResponderOrg(ctx, by, r.OrgID); err != nil {
		return err
	}
	if err := s.checkTopic(r.Topic); err != nil {
		return err
	}
	if err := s.store.RemoveResponder(ctx, r); err != nil {
		return fmt.Errorf("remove responder: %w", err)
	}
	return nil
}

// checkTopic accepts a topic of the deployment, or "" for all.
func (s *Service) checkTopic(topic string) error {
	if _, ok := s.settings.Topic(topic); topic != "" && !ok {
		return fmt.Errorf("topic %q: %w", topic, ErrUnknownTopic)
	}
	return nil
}

// BindDesk makes a group chat the hot-line desk of org b.OrgID: tickets are
// posted there, and a reply to one answers the member. It returns the org.
func (s *Service) BindDesk(ctx context.Context, by access.Actor, b storage.ChatBinding) (storage.Org, error) {
	org, err := s.ResponderOrg(ctx, by, b.OrgID)
	if err != nil {
		return storage.Org{}, err
	}
	b.Desk, b.BoundBy, b.BoundAt = true, by.PersonID, s.clock()
	if err := s.store.BindChat(ctx, b); err != nil {
		return storage.Org{}, fmt.Errorf("bind desk: %w", err)
	}
	return org, nil
}
