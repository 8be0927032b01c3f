package news

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Suggestion is what a member sends up: news, or a call for support.
type Suggestion struct {
	// FromOrgID is the author's organisation, one they are active in.
	FromOrgID int64
	Kind      storage.SuggestionKind
	Text      string
	Files     []storage.Attachment
}

// Submitted is a suggestion on its way up.
type Submitted struct {
	Suggestion storage.Suggestion
	// At decides it.
	At storage.Org
	// Waiting: nobody up to the root is in the bot to decide it; it waits
	// at At, in the list of whoever registers there.
	Waiting bool
}

// Submit sends a member's item up to the nearest organisation above the
// author's that has someone in the bot to decide it, and tells them; a call
// for support also reaches the Union at once, flagged for the union
// newspaper «Солидарность». With nobody above in the bot it waits at the
// parent.
func (s *Service) Submit(ctx context.Context, by access.Actor, sg Suggestion) (Submitted, error) {
	if by.PersonID == 0 || !access.ActiveIn(by.Roles, sg.FromOrgID) {
		return Submitted{}, fmt.Errorf("suggest from org %d: %w", sg.FromOrgID, access.ErrForbidden)
	}
	if sg.Kind != storage.SuggestCall {
		sg.Kind = storage.SuggestNews
	}
	if err := checkText(sg.Text, MaxText, len(sg.Files) > 0); err != nil {
		return Submitted{}, fmt.Errorf("suggest: %w", err)
	}
	from, err := s.store.Org(ctx, sg.FromOrgID)
	if err != nil {
		return Submitted{}, fmt.Errorf("load org: %w", err)
	}
	start := from
	if from.ParentID != 0 {
		if start, err = s.store.Org(ctx, from.ParentID); err != nil {
			return Submitted{}, fmt.Errorf("load parent org: %w", err)
		}
	}
	at, deciders, err := s.decidersFrom(ctx, start)
	if err != nil {
		return Submitted{}, err
	}
	created, err := s.store.CreateSuggestion(ctx, storage.Suggestion{AuthorID: by.PersonID, FromOrgID: from.ID, AtOrgID: at.ID,
		Kind: sg.Kind, Text: sg.Text, Attachments: sg.Files, Solidarity: sg.Kind == storage.SuggestCall, CreatedAt: s.clock()})
	if err != nil {
		return Submitted{}, fmt.Errorf("create suggestion: %w", err)
	}
	// It is committed and waits in the lists: failures to tell are logged.
	item := s.suggested(ctx, created, at)
	if err := s.offerSuggestion(ctx, item, at, deciders, true); err != nil {
		s.logger.WarnContext(ctx, "offer suggestion", "suggestion", created.ID, "err", err)
	}
	if created.Solidarity && at.Level != storage.LevelUnion {
		if err := s.tellUnion(ctx, item); err != nil {
			s.logger.WarnContext(ctx, "tell the union", "suggestion", created.ID, "err", err)
		}
	}
	return Submitted{Suggestion: created, At: at, Waiting: len(deciders) == 0}, nil
}

// decidersFrom finds who decides a suggestion that reaches org: its
// publishers, else those of the nearest organisation above with any. When
// nobody up to the root is in the bot, it is org, with nobody.
func (s *Service) decidersFrom(ctx context.Context, org storage.Org) (storage.Org, []storage.Contact, error) {
	at := org
	for {
		contacts, err := s.publishers(ctx, at.ID)
		if err != nil {
			return storage.Org{}, nil, err
		}
		if len(contacts) > 0 {
			return at, contacts, nil
		}
		if at.ParentID == 0 {
			return org, nil, nil
		}
		if at, err = s.store.Org(ctx, at.ParentID); err != nil {
			return storage.Org{}, nil, fmt.Errorf("load parent org: %w", err)
		}
	}
}

// suggested is a suggestion with what those who decide it see: where it
// comes from and who wrote it.
func (s *Service) suggested(ctx context.Context, sg storage.Suggestion, at storage.Org) Suggested {
	item := Suggested{Suggestion: sg, From: storage.Org{ID: sg.FromOrgID}, At: at}
	if from, err := s.store.Org(ctx, sg.FromOrgID); err == nil {
		item.From = from
	}
	if sg.AuthorID != 0 {
		if p, err := s.store.Person(ctx, sg.AuthorID); err == nil && p.ErasedAt == nil {
			item.Author = &p
		}
	}
	return item
}

// offerSuggestion shows the item to the deciders of level; the first
// failure stops the round.
func (s *Service) offerSuggestion(ctx context.Context, item Suggested, level storage.Org, deciders []storage.Contact, decide bool) error {
	for _, c := range deciders {
		if _, err := s.notifier.OfferSuggestion(ctx, c, SuggestionOffer{Item: item, Level: level, Decide: decide}); err != nil {
			return err
		}
	}
	return nil
}

// tellUnion shows a call for support to the Union's publishers at once,
// whoever decides it, flagged for «Солидарность».
func (s *Service) tellUnion(ctx context.Context, item Suggested) error {
	roots, err := s.store.ChildOrgs(ctx, 0)
	if err != nil {
		return fmt.Errorf("list roots: %w", err)
	}
	for _, root := range roots {
		if root.Level != storage.LevelUnion || root.ID == item.At.ID {
			continue
		}
		deciders, err := s.publishers(ctx, root.ID)
		if err != nil {
			return err
		}
		if err := s.offerSuggestion(ctx, item, root, deciders, false); err != nil {
			return err
		}
	}
	return nil
}

// Pending lists the suggestions waiting for a decision in the subtrees
// where the actor publishes, oldest first: one that arrived before anybody
// could decide it is found here.
func (s *Service) Pending(ctx context.Context, by access.Actor) ([]storage.Suggestion, error) {
	roots := by.Orgs(access.ActPublish)
	if len(roots) == 0 {
		return nil, fmt.Errorf("list suggestions: %w", access.ErrForbidden)
	}
	var pending []storage.Suggestion
	seen := map[int64]bool{}
	for _, root := range roots {
		list, err := s.store.Suggestions(ctx, root.ID)
		if err != nil {
			return nil, fmt.Errorf("list suggestions: %w", err)
		}
		for _, sg := range list {
			if !seen[sg.ID] {
				seen[sg.ID] = true
				pending = append(pending, sg)
			}
		}
	}
	return pending, nil
}

// decidable loads a suggestion and the org where it waits, for someone who
// may decide there.
func (s *Service) decidable(ctx context.Context, by access.Actor, id int64) (storage.Suggestion, storage.Org, error) {
	sg, err := s.store.Suggestion(ctx, id)
	if err != nil {
		return storage.Suggestion{}, storage.Org{}, fmt.Errorf("load suggestion: %w", err)
	}
	at, err := s.store.Org(ctx, sg.AtOrgID)
	if err != nil {
		return storage.Suggestion{}, storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActPublish, at) {
		return storage.Suggestion{}, storage.Org{}, fmt.Errorf("decide suggestion %d: %w", id, access.ErrForbidden)
	}
	return sg, at, nil
}

// Suggestion is a pending suggestion as someone who may decide it sees it;
// one decided or moved on gives ErrDecided.
func (s *Service) Suggestion(ctx context.Context, by access.Actor, id int64) (Suggested, error) {
	sg, at, err := s.decidable(ctx, by, id)
	if err != nil {
		return Suggested{}, err
	}
	if sg.Status != storage.SuggestionPending {
		return Suggested{}, fmt.Errorf("suggestion %d: %w", id, ErrDecided)
	}
	return s.suggested(ctx, sg, at), nil
}

// Published is a suggestion published down.
type Published struct {
	Suggestion storage.Suggestion
	Broadcast  storage.Broadcast
}

// Publish sends a suggested item down from the org where it waits to its
// whole subtree, at once, and tells the author. The org it comes from is
// kept apart from the text, so that each recipient reads the line naming
// it in their own language. ErrBuildFailed: the actor, the broadcast's
// author, has been told it failed.
func (s *Service) Publish(ctx context.Context, by access.Actor, id int64) (Published, error) {
	sg, at, err := s.decidable(ctx, by, id)
	if err != nil {
		return Published{}, err
	}
	if sg.Status != storage.SuggestionPending {
		return Published{}, fmt.Errorf("suggestion %d: %w", id, ErrDecided)
	}
	now := s.clock()
	b, err := s.store.CreateBroadcast(ctx, storage.Broadcast{AuthorID: by.PersonID, OrgID: at.ID, FromOrgID: sg.FromOrgID, Text: sg.Text, Attachments: sg.Attachments,
		Mode: storage.ModeDirect, Audience: storage.Audience{Private: true, Chats: true}, Status: storage.BroadcastScheduled, CreatedAt: now})
	if err != nil {
		return Published{}, fmt.Errorf("create broadcast: %w", err)
	}
	decided, err := s.store.DecideSuggestion(ctx, sg.ID, at.ID, storage.SuggestionPublished, "", b.ID, now)
	if errors.Is(err, storage.ErrConflict) {
		if _, cerr := s.store.CancelBroadcast(ctx, b.ID, now); cerr != nil {
			s.logger.WarnContext(ctx, "cancel unused broadcast", "broadcast", b.ID, "err", cerr)
		}
		return Published{}, fmt.Errorf("publish suggestion %d: %w", id, ErrDecided)
	}
	if err != nil {
		return Published{}, fmt.Errorf("decide suggestion: %w", err)
	}
	if err := s.launch(ctx, b); err != nil {
		return Published{}, err
	}
	s.tellAuthor(ctx, Decision{Suggestion: decided, At: at, Published: true})
	return Published{Suggestion: decided, Broadcast: b}, nil
}

// PassUp passes a pending suggestion to the nearest organisation above
// with someone to decide it, tells them, and returns where it went. At the
// top it gives ErrTopLevel; with nobody above in the bot, ErrNobodyAbove,
// and it stays.
func (s *Service) PassUp(ctx context.Context, by access.Actor, id int64) (storage.Org, error) {
	sg, at, err := s.decidable(ctx, by, id)
	if err != nil {
		return storage.Org{}, err
	}
	if sg.Status != storage.SuggestionPending {
		return storage.Org{}, fmt.Errorf("suggestion %d: %w", id, ErrDecided)
	}
	if at.ParentID == 0 {
		return storage.Org{}, fmt.Errorf("pass suggestion %d up: %w", id, ErrTopLevel)
	}
	parent, err := s.store.Org(ctx, at.ParentID)
	if err != nil {
		return storage.Org{}, fmt.Errorf("load parent org: %w", err)
	}
	target, deciders, err := s.decidersFrom(ctx, parent)
	if err != nil {
		return storage.Org{}, err
	}
	if len(deciders) == 0 {
		return storage.Org{}, fmt.Errorf("pass suggestion %d up: %w", id, ErrNobodyAbove)
	}
	moved, err := s.store.PassSuggestionUp(ctx, sg.ID, at.ID, target.ID)
	if errors.Is(err, storage.ErrConflict) {
		return storage.Org{}, fmt.Errorf("pass suggestion %d up: %w", id, ErrDecided)
	}
	if err != nil {
		return storage.Org{}, fmt.Errorf("pass suggestion up: %w", err)
	}
	if err := s.offerSuggestion(ctx, s.suggested(ctx, moved, target), target, deciders, true); err != nil {
		s.logger.WarnContext(ctx, "offer suggestion", "suggestion", sg.ID, "err", err)
	}
	return target, nil
}

// Decline declines a pending suggestion for a reason, which its author is
// told.
func (s *Service) Decline(ctx context.Context, by access.Actor, id int64, reason string) (storage.Suggestion, error) {
	if err := checkText(reason, MaxReason, false); err != nil {
		return storage.Suggestion{}, fmt.Errorf("decline: %w", err)
	}
	sg, at, err := s.decidable(ctx, by, id)
	if err != nil {
		return storage.Suggestion{}, err
	}
	decided, err := s.store.DecideSuggestion(ctx, sg.ID, at.ID, storage.SuggestionDeclined, reason, 0, s.clock())
	if errors.Is(err, storage.ErrConflict) {
		return storage.Suggestion{}, fmt.Errorf("decline suggestion %d: %w", id, ErrDecided)
	}
	if err != nil {
		return storage.Suggestion{}, fmt.Errorf("decline suggestion: %w", err)
	}
	s.tellAuthor(ctx, Decision{Suggestion: decided, At: at, Reason: reason})
	return decided, nil
}

// tellAuthor tells the author, if any, what became of their suggestion;
// the decision stands whatever comes of it.
func (s *Service) tellAuthor(ctx context.Context, d Decision) {
	if d.Suggestion.AuthorID == 0 {
		return
	}
	if _, err := s.notifier.SuggestionDecided(ctx, d); err != nil {
		s.logger.WarnContext(ctx, "tell author", "suggestion", d.Suggestion.ID, "err", err)
	}
}
