package orgs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// PageSize is how many organisations or people a page of the tree lists.
const PageSize = 50

// Search lists one page (from 0) of the organisations in the actor's
// subtrees whose name or code holds text, in tree order; more says another
// page follows. Someone who may see no part of the tree gets
// access.ErrForbidden.
func (s *Service) Search(ctx context.Context, by access.Actor, text string, page int) (list []storage.Org, more bool, err error) {
	roots := by.Orgs(access.ActApprove)
	if len(roots) == 0 {
		return nil, false, fmt.Errorf("search orgs: %w", access.ErrForbidden)
	}
	page = max(page, 0)
	list, err = s.store.SearchOrgs(ctx, roots, text, PageSize+1, page*PageSize)
	if err != nil {
		return nil, false, fmt.Errorf("search orgs: %w", err)
	}
	if len(list) > PageSize {
		return list[:PageSize], true, nil
	}
	return list, false, nil
}

// OrgView is an organisation as its page shows it to one actor.
type OrgView struct {
	Org storage.Org
	// Parent is the organisation above, when the actor may see it; nil
	// otherwise (a chair sees neither up nor sideways).
	Parent   *storage.Org
	Children []storage.Org
	// People is one page of its members, leaders first; MorePeople says
	// another page follows.
	People     []storage.OrgPerson
	MorePeople bool
	// Chats are the group chats bound to the organisation itself.
	Chats   []storage.ChatBinding
	Invites []storage.Invite
	// Manage: the actor may edit the organisation and its invites.
	Manage bool
}

// View shows the organisation with id to an actor who may see it (one
// who may approve registrations there or above: access.ErrForbidden
// otherwise), with page (from 0) of its people. An unknown organisation
// is storage.ErrNotFound.
func (s *Service) View(ctx context.Context, by access.Actor, id int64, page int) (OrgView, error) {
	org, err := s.visible(ctx, by, id)
	if err != nil {
		return OrgView{}, err
	}
	v := OrgView{Org: org, Manage: by.Can(access.ActManageOrgs, org)}
	if org.ParentID != 0 {
		parent, err := s.store.Org(ctx, org.ParentID)
		if err != nil {
			return OrgView{}, fmt.Errorf("load parent org: %w", err)
		}
		if by.Can(access.ActApprove, parent) {
			v.Parent = &parent
		}
	}
	if v.Children, err = s.store.ChildOrgs(ctx, org.ID); err != nil {
		return OrgView{}, fmt.Errorf("load child orgs: %w", err)
	}
	page = max(page, 0)
	if v.People, err = s.store.OrgPeople(ctx, org.ID, PageSize+1, page*PageSize); err != nil {
		return OrgView{}, fmt.Errorf("load people: %w", err)
	}
	if len(v.People) > PageSize {
		v.People, v.MorePeople = v.People[:PageSize], true
	}
	chats, err := s.store.BoundChats(ctx, org)
	if err != nil {
		return OrgView{}, fmt.Errorf("load bound chats: %w", err)
	}
	for _, c := range chats {
		if c.OrgID == org.ID {
			v.Chats = append(v.Chats, c)
		}
	}
	if v.Invites, err = s.store.Invites(ctx, org.ID); err != nil {
		return OrgView{}, fmt.Errorf("load invites: %w", err)
	}
	return v, nil
}

// visible loads an organisation the actor may see.
func (s *Service) visible(ctx context.Context, by access.Actor, id int64) (storage.Org, error) {
	org, err := s.store.Org(ctx, id)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActApprove, org) {
		return storage.Org{}, fmt.Errorf("see org %d: %w", id, access.ErrForbidden)
	}
	return org, nil
}

// manageable loads an organisation the actor may manage.
func (s *Service) manageable(ctx context.Context, by access.Actor, id int64) (storage.Org, error) {
	org, err := s.store.Org(ctx, id)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActManageOrgs, org) {
		return storage.Org{}, fmt.Errorf("manage org %d: %w", id, access.ErrForbidden)
	}
	return org, nil
}

// OrgEdit is what may be edited in one organisation; its place in the tree
// and its code change only through an organisation file.
type OrgEdit struct {
	Name        string
	MemberCount int
	TimeZone    string
	BoardCron   string
}

// Edit changes an organisation's fields, checked as an organisation file's
// line is (a *storage.ImportError names every problem, and nothing
// changes). Only someone who may manage the organisation may
// (access.ErrForbidden).
func (s *Service) Edit(ctx context.Context, by access.Actor, id int64, e OrgEdit) (storage.Org, error) {
	org, err := s.manageable(ctx, by, id)
	if err != nil {
		return storage.Org{}, err
	}
	in := storage.OrgInput{Code: org.Code, Name: e.Name, Level: org.Level, MemberCount: e.MemberCount,
		TimeZone: e.TimeZone, BoardCron: e.BoardCron, Source: org.Code}
	if org.ParentID != 0 {
		parent, err := s.store.Org(ctx, org.ParentID)
		if err != nil {
			return storage.Org{}, fmt.Errorf("load parent org: %w", err)
		}
		in.ParentCode = parent.Code
	}
	if _, err := s.store.ImportOrgs(ctx, []storage.OrgInput{in}, s.clock()); err != nil {
		return storage.Org{}, fmt.Errorf("edit org %d: %w", id, err)
	}
	if org, err = s.store.Org(ctx, id); err != nil {
		return storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	return org, nil
}

// ErrPlanChanged refuses to apply an organisation file whose plan is not
// the one previewed: the tree changed meanwhile.
var ErrPlanChanged = errors.New("the tree changed since the preview")

// Preview plans an organisation file against the tree kept, writing
// nothing: what it would create and update, or a *storage.ImportError with
// every problem by line. Digest names the plan for Apply. Only the Union's
// staff may, or anyone while the tree is empty (access.ErrForbidden).
func (s *Service) Preview(ctx context.Context, by access.Actor, in []storage.OrgInput) (plan storage.ImportPlan, digest string, err error) {
	existing, err := s.mayImport(ctx, by)
	if err != nil {
		return storage.ImportPlan{}, "", err
	}
	if plan, err = storage.PlanImport(existing, in); err != nil {
		return storage.ImportPlan{}, "", fmt.Errorf("plan import: %w", err)
	}
	return plan, planDigest(plan), nil
}

// Apply imports an organisation file whose Preview gave digest; a file
// whose plan differs now is ErrPlanChanged, and nothing is written. The
// rights are Preview's.
func (s *Service) Apply(ctx context.Context, by access.Actor, in []storage.OrgInput, digest string) (storage.ImportResult, error) {
	_, now, err := s.Preview(ctx, by, in)
	if err != nil {
		return storage.ImportResult{}, err
	}
	if now != digest {
		return storage.ImportResult{}, ErrPlanChanged
	}
	res, err := s.store.ImportOrgs(ctx, in, s.clock())
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import orgs: %w", err)
	}
	return res, nil
}

// MayImport reports whether the actor may load an organisation file: nil,
// or access.ErrForbidden.
func (s *Service) MayImport(ctx context.Context, by access.Actor) error {
	_, err := s.mayImport(ctx, by)
	return err
}

// mayImport returns the tree kept when the actor may load a file into it:
// the Union's staff, or, while there is no tree yet, the setup session
// that is the only one able to sign in then.
func (s *Service) mayImport(ctx context.Context, by access.Actor) ([]storage.Org, error) {
	existing, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("load orgs: %w", err)
	}
	for _, o := range existing {
		if o.ParentID == 0 && !by.Can(access.ActImportTree, o) {
			return nil, fmt.Errorf("import orgs: %w", access.ErrForbidden)
		}
	}
	return existing, nil
}

// planDigest names a plan by what it writes.
func planDigest(p storage.ImportPlan) string {
	h := sha256.New()
	for _, st := range p.Steps {
		fmt.Fprintf(h, "%d\x00%q\x00%q\x00%q\x00%s\x00%d\x00%q\x00%q\n", st.ID, st.Input.Code, st.Input.Name, st.Input.ParentCode,
			st.Input.Level, st.Input.MemberCount, st.Input.TimeZone, st.Input.BoardCron)
	}
	fmt.Fprintf(h, "unchanged %d", p.Unchanged)
	return hex.EncodeToString(h.Sum(nil))
}

// InviteFor makes an invite into the organisation with id, as CreateInvite
// does: only someone who may manage it (access.ErrForbidden), and the
// admin role only by the Union's staff.
func (s *Service) InviteFor(ctx context.Context, by access.Actor, id int64, role storage.Role, uses int, ttl time.Duration) (storage.Invite, storage.Org, error) {
	org, err := s.manageable(ctx, by, id)
	if err != nil {
		return storage.Invite{}, storage.Org{}, err
	}
	if role == storage.RoleAdmin && !by.Can(access.ActImportTree, org) {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("invite an admin: %w", access.ErrForbidden)
	}
	return s.CreateInvite(ctx, InviteRequest{OrgCode: org.Code, Role: role, Uses: uses, TTL: ttl})
}

// InviteOf shows an invite to someone who may manage its organisation
// (access.ErrForbidden otherwise); an unknown code is storage.ErrNotFound.
func (s *Service) InviteOf(ctx context.Context, by access.Actor, code string) (storage.Invite, storage.Org, error) {
	inv, err := s.store.Invite(ctx, code)
	if err != nil {
		return storage.Invite{}, storage.Org{}, fmt.Errorf("load invite: %w", err)
	}
	org, err := s.manageable(ctx, by, inv.OrgID)
	if err != nil {
		return storage.Invite{}, storage.Org{}, err
	}
	return inv, org, nil
}

// Revoke revokes an invite as RevokeInvite does, for someone who may
// manage its organisation (access.ErrForbidden otherwise).
func (s *Service) Revoke(ctx context.Context, by access.Actor, code string) (storage.Org, error) {
	_, org, err := s.InviteOf(ctx, by, code)
	if err != nil {
		return storage.Org{}, err
	}
	return org, s.RevokeInvite(ctx, code)
}
