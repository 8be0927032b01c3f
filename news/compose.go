package news

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Roles says whom of the people in the audience an item reaches.
type Roles string

// Who among the people.
const (
	RolesAll        Roles = ""
	RolesActivists  Roles = "activists"
	RolesLeadership Roles = "leaders" // chairs and information workers
)

// Where says which chats an item goes to.
type Where string

// Where it goes: people's private chats, the bound group chats, or both.
const (
	WhereBoth    Where = ""
	WherePrivate Where = "private"
	WhereChats   Where = "chats"
)

// Draft is a broadcast being composed.
type Draft struct {
	// OrgID sends it, to its subtree.
	OrgID  int64
	Text   string
	Format []storage.Span // of Text
	// Files are photos and documents by a platform's reference (sent in
	// the bot); FileID a file the author uploaded (StoreFile).
	Files  []storage.Attachment
	FileID int64
	// Orgs narrows the audience to these organisations one level below
	// OrgID; empty means the whole subtree.
	Orgs  []int64
	Roles Roles
	Where Where
	// Relay sends it level by level, each level deciding for itself;
	// otherwise it reaches everyone at once.
	Relay bool
	// Action is what the item asks its recipients to join; nil for none.
	Action *storage.Action
	// Public news reaches the supporters of the organisations in scope too;
	// other news never does.
	Public bool
}

// broadcast is the broadcast the draft describes, by authorID.
func (d Draft) broadcast(authorID int64) storage.Broadcast {
	a := storage.Audience{OrgIDs: d.Orgs, Public: d.Public, Private: d.Where != WhereChats, Chats: d.Where != WherePrivate}
	switch d.Roles {
	case RolesActivists:
		a.Roles = []storage.Role{storage.RoleActivist}
	case RolesLeadership:
		a.Roles = []storage.Role{storage.RoleChair, storage.RoleInfoworker}
	}
	mode := storage.ModeDirect
	if d.Relay {
		mode = storage.ModeRelay
	}
	return storage.Broadcast{AuthorID: authorID, OrgID: d.OrgID, Text: d.Text, Format: d.Format, Attachments: d.Files, FileID: d.FileID,
		Mode: mode, Audience: a, Action: d.Action}
}

// SenderOrgs are the organisations the actor may send news from: those
// where their roles grant publishing, each to its subtree.
func (s *Service) SenderOrgs(by access.Actor) []storage.Org {
	return by.Orgs(access.ActPublish)
}

// SenderOrg is the organisation a draft is sent from, if the actor may
// send from it.
func (s *Service) SenderOrg(ctx context.Context, by access.Actor, orgID int64) (storage.Org, error) {
	if !slices.ContainsFunc(s.SenderOrgs(by), func(o storage.Org) bool { return o.ID == orgID }) {
		return storage.Org{}, fmt.Errorf("send news from org %d: %w", orgID, access.ErrForbidden)
	}
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	return org, nil
}

// Children are the organisations one level below orgID that a draft from
// it may be narrowed to, by name.
func (s *Service) Children(ctx context.Context, by access.Actor, orgID int64) ([]storage.Org, error) {
	if _, err := s.SenderOrg(ctx, by, orgID); err != nil {
		return nil, err
	}
	children, err := s.store.ChildOrgs(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	return children, nil
}

// Preview is a draft as its author sees it before sending.
type Preview struct {
	Org      storage.Org
	Children []storage.Org
	// People and Chats it reaches now; the author is not among them.
	People, Chats int
}

// checkAudience refuses a draft's audience that no front end offers: an
// unknown choice of roles or chats, or an organisation that is not one
// level below the sender (another subtree's, typed into a form).
func checkAudience(d Draft, children []storage.Org) error {
	switch d.Roles {
	case RolesAll, RolesActivists, RolesLeadership:
	default:
		return fmt.Errorf("%w: roles %q", ErrInvalid, d.Roles)
	}
	switch d.Where {
	case WhereBoth, WherePrivate, WhereChats:
	default:
		return fmt.Errorf("%w: where %q", ErrInvalid, d.Where)
	}
	for _, id := range d.Orgs {
		if !slices.ContainsFunc(children, func(o storage.Org) bool { return o.ID == id }) {
			return fmt.Errorf("%w: org %d is not one level below the sender", ErrAudience, id)
		}
	}
	return nil
}

// Preview counts whom a draft reaches.
func (s *Service) Preview(ctx context.Context, by access.Actor, d Draft) (Preview, error) {
	org, err := s.SenderOrg(ctx, by, d.OrgID)
	if err != nil {
		return Preview{}, err
	}
	children, err := s.store.ChildOrgs(ctx, org.ID)
	if err != nil {
		return Preview{}, fmt.Errorf("list orgs: %w", err)
	}
	if err := checkAudience(d, children); err != nil {
		return Preview{}, fmt.Errorf("preview broadcast: %w", err)
	}
	people, chats, err := s.store.CountAudience(ctx, d.broadcast(by.PersonID), storage.OutboxScope{Orgs: []storage.Org{org}, Subtree: true})
	if err != nil {
		return Preview{}, fmt.Errorf("count audience: %w", err)
	}
	return Preview{Org: org, Children: children, People: people, Chats: chats}, nil
}

// Create commits a broadcast from the actor: at a time when at is set (the
// timers start it then), else now, which the caller then Starts. Even "now"
// starts as scheduled, so that a crash in between leaves it to the timers.
// A relayed item gets its deadline, RelayPeriod after it starts.
func (s *Service) Create(ctx context.Context, by access.Actor, d Draft, at *time.Time) (storage.Broadcast, error) {
	if _, err := s.SenderOrg(ctx, by, d.OrgID); err != nil {
		return storage.Broadcast{}, err
	}
	if err := checkText(d.Text, MaxText, len(d.Files) > 0 || d.FileID != 0); err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
	}
	if d.FileID != 0 {
		if _, err := s.File(ctx, by, d.FileID); err != nil {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
		}
	}
	n := storage.UTF16Len(d.Text)
	for _, f := range d.Format {
		if !f.Valid(n) {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: %w: format %+v does not fit the text", ErrInvalid, f)
		}
	}
	children, err := s.store.ChildOrgs(ctx, d.OrgID)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("list orgs: %w", err)
	}
	if err := checkAudience(d, children); err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
	}
	now := s.clock()
	if at != nil && (!at.After(now) || at.After(now.AddDate(1, 0, 0))) {
		return storage.Broadcast{}, fmt.Errorf("schedule at %v: %w", at, ErrBadTime)
	}
	if a := d.Action; a != nil {
		if err := CheckAction(*a, now); err != nil {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
		}
		if !ActionFits(d.Text, *a) {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: %w: %w", ErrInvalid, ErrActionTooLong)
		}
		if at != nil && !a.At.After(*at) {
			return storage.Broadcast{}, fmt.Errorf("create broadcast: action at %v before the item goes at %v: %w", a.At, at, ErrBadTime)
		}
	}
	b := d.broadcast(by.PersonID)
	b.CreatedAt, b.Status, b.ScheduledAt = now, storage.BroadcastScheduled, at
	if b.Mode == storage.ModeRelay {
		deadline := now.Add(RelayPeriod)
		if at != nil {
			deadline = at.Add(RelayPeriod)
		}
		b.RelayDeadline = &deadline
	}
	b, err = s.store.CreateBroadcast(ctx, b)
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("create broadcast: %w", err)
	}
	return b, nil
}

// Start launches a broadcast the actor created to go now: it returns once
// the first recipients are in the outbox, the rest following in the
// background. ErrBuildFailed: the author has been told it failed.
func (s *Service) Start(ctx context.Context, by access.Actor, b storage.Broadcast) error {
	if b.AuthorID != by.PersonID || by.PersonID == 0 {
		return fmt.Errorf("start broadcast %d: %w", b.ID, access.ErrForbidden)
	}
	return s.launch(ctx, b)
}

// Reach counts whom a broadcast reaches: people and bound chats of its
// audience.
func (s *Service) Reach(ctx context.Context, b storage.Broadcast) (people, chats int, err error) {
	org, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return 0, 0, fmt.Errorf("load org: %w", err)
	}
	people, chats, err = s.store.CountAudience(ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}, Subtree: true})
	if err != nil {
		return 0, 0, fmt.Errorf("count audience: %w", err)
	}
	return people, chats, nil
}

// Stop cancels a broadcast that is scheduled or sending, for someone who
// may publish for its organisation, and returns how many deliveries it
// dropped. One already over gives storage.ErrConflict.
func (s *Service) Stop(ctx context.Context, by access.Actor, id int64) (int, error) {
	b, err := s.store.Broadcast(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("load broadcast: %w", err)
	}
	org, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return 0, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActPublish, org) {
		return 0, fmt.Errorf("stop broadcast %d: %w", id, access.ErrForbidden)
	}
	n, err := s.store.CancelBroadcast(ctx, id, s.clock())
	if err != nil {
		return 0, fmt.Errorf("cancel broadcast: %w", err)
	}
	return n, nil
}

// Followed is a broadcast as the console's progress page shows it.
type Followed struct {
	Progress
	// Sender is the organisation that sends it.
	Sender storage.Org
	// File is the file uploaded with it, without its bytes; nil for none.
	File *storage.NewsFile
}

// Follow is where a broadcast stands, with its report, for someone who may
// publish for the organisation that sends it (as Stop): its level and
// those above, never a sibling's. Final: nothing more will change.
func (s *Service) Follow(ctx context.Context, by access.Actor, id int64) (Followed, error) {
	b, err := s.store.Broadcast(ctx, id)
	if err != nil {
		return Followed{}, fmt.Errorf("load broadcast: %w", err)
	}
	org, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return Followed{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActPublish, org) {
		return Followed{}, fmt.Errorf("follow broadcast %d: %w", id, access.ErrForbidden)
	}
	r, err := BuildReport(ctx, s.store, b)
	if err != nil {
		return Followed{}, err
	}
	over := b.Status == storage.BroadcastDone || b.Status == storage.BroadcastCancelled || b.Status == storage.BroadcastFailed
	out := Followed{Progress: Progress{Broadcast: b, Report: r, Final: over}, Sender: org}
	if b.FileID != 0 {
		f, err := s.store.NewsFile(ctx, b.FileID)
		if err != nil {
			return Followed{}, fmt.Errorf("load news file: %w", err)
		}
		out.File = &f
	}
	return out, nil
}

// Sent lists the latest broadcasts sent from an organisation the actor
// may send from, newest first.
func (s *Service) Sent(ctx context.Context, by access.Actor, orgID int64, limit int) ([]storage.Broadcast, error) {
	if _, err := s.SenderOrg(ctx, by, orgID); err != nil {
		return nil, err
	}
	bs, err := s.store.Broadcasts(ctx, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	return bs, nil
}
