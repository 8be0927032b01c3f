package news

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// prepareLevel builds org's outbox and the relay steps of its children in
// the audience, and returns those children for offerLevel. The writes are
// idempotent; the relay step of org itself, when it has one, is completed
// after them and before the offers, so that a sweep never sees a relay
// broadcast with nothing pending and nothing queued in between.
func (s *Service) prepareLevel(ctx context.Context, b storage.Broadcast, org storage.Org) ([]storage.Org, error) {
	now := s.clock()
	if _, err := s.store.BuildOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}}, now); err != nil {
		return nil, fmt.Errorf("build outbox: %w", err)
	}
	children, err := s.store.ChildOrgs(ctx, org.ID)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	var steps []storage.RelayStep
	var next []storage.Org
	for _, c := range children {
		if s.inAudience(ctx, b, c) {
			steps = append(steps, storage.RelayStep{BroadcastID: b.ID, OrgID: c.ID, ReceivedAt: now})
			next = append(next, c)
		}
	}
	if len(steps) > 0 {
		if err := s.store.AddRelaySteps(ctx, steps); err != nil {
			return nil, fmt.Errorf("add relay steps: %w", err)
		}
	}
	return next, nil
}

// offerLevel offers the item to each child; a child with nobody who could
// act publishes at once: waiting for the deadline would only delay the news
// for its members.
func (s *Service) offerLevel(ctx context.Context, b storage.Broadcast, children []storage.Org) error {
	for _, c := range children {
		publishers, err := s.publishers(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(publishers) == 0 {
			if err := s.relayAs(ctx, b, c, storage.RelayAuto, ""); err != nil && !errors.Is(err, storage.ErrAlreadyDecided) {
				return err
			}
			continue
		}
		if err := s.offerRelay(ctx, b, c, false); err != nil {
			s.logger.WarnContext(ctx, "offer relay", "broadcast", b.ID, "org", c.ID, "err", err)
		}
	}
	return nil
}

// relayAs records org's action on b and, unless it skips, publishes for it:
// the outbox and the next steps first, the action last, and only the action's
// winner goes on down. It reports ErrAlreadyDecided when someone was first.
func (s *Service) relayAs(ctx context.Context, b storage.Broadcast, org storage.Org, action storage.RelayAction, note string) error {
	var children []storage.Org
	if action != storage.RelaySkipped {
		// The note must be known before any of org's deliveries is composed.
		if note != "" {
			s.notifier.RelayNoted(b.ID, org.ID, note)
		}
		var err error
		if children, err = s.prepareLevel(ctx, b, org); err != nil {
			return err
		}
	}
	if _, err := s.store.CompleteRelayStep(ctx, b.ID, org.ID, action, note, s.clock()); err != nil {
		return fmt.Errorf("complete relay step: %w", err)
	}
	if err := s.offerLevel(ctx, b, children); err != nil {
		return err
	}
	s.kick()
	return nil
}

// inAudience reports whether org lies on the way to the broadcast's chosen
// organisations: one of them, inside one, or above one.
func (s *Service) inAudience(ctx context.Context, b storage.Broadcast, org storage.Org) bool {
	if len(b.Audience.OrgIDs) == 0 {
		return true
	}
	for _, id := range b.Audience.OrgIDs {
		chosen, err := s.store.Org(ctx, id)
		if err != nil {
			continue
		}
		if chosen.Contains(org) || org.Contains(chosen) {
			return true
		}
	}
	return false
}

// offerRelay asks the information workers (or, without one, the chairs) of
// org to publish the item for their organisation; the first failure stops
// the round of offers.
func (s *Service) offerRelay(ctx context.Context, b storage.Broadcast, org storage.Org, reminder bool) error {
	leaders, err := s.publishers(ctx, org.ID)
	if err != nil {
		return err
	}
	sender, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return fmt.Errorf("load sender org: %w", err)
	}
	offer := RelayOffer{Broadcast: b, Sender: sender, Level: org, Reminder: reminder}
	if b.FileID != 0 {
		f, err := s.store.NewsFile(ctx, b.FileID)
		if err != nil {
			return fmt.Errorf("load news file: %w", err)
		}
		offer.File = &f
	}
	for _, l := range leaders {
		if _, err := s.notifier.OfferRelay(ctx, l, offer); err != nil {
			return err
		}
	}
	return nil
}

// RelayLevel is a relayed broadcast and the level the actor would act for,
// checked as Relay checks them: someone who may publish for the level, a
// broadcast not stopped (ErrCancelled).
func (s *Service) RelayLevel(ctx context.Context, by access.Actor, broadcastID, orgID int64) (storage.Broadcast, storage.Org, error) {
	b, err := s.store.Broadcast(ctx, broadcastID)
	if err != nil {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("load broadcast: %w", err)
	}
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	if !by.Can(access.ActPublish, org) {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("relay for org %d: %w", orgID, access.ErrForbidden)
	}
	if b.Status == storage.BroadcastCancelled {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("relay broadcast %d: %w", b.ID, ErrCancelled)
	}
	return b, org, nil
}

// Relay is a level's decision on a relayed item: publish it for the
// level, publish it with a note (RelayNoted), or skip it. Unless it skips,
// the level's people and chats get it and the levels below are offered it.
// Only one decision counts: a later one gives storage.ErrAlreadyDecided; a
// stopped broadcast gives ErrCancelled.
func (s *Service) Relay(ctx context.Context, by access.Actor, broadcastID, orgID int64, action storage.RelayAction, note string) (storage.Org, error) {
	switch action {
	case storage.RelayPublished, storage.RelaySkipped:
		note = ""
	case storage.RelayNoted:
		if err := checkText(note, MaxNote, false); err != nil {
			return storage.Org{}, fmt.Errorf("relay note: %w", err)
		}
	default:
		return storage.Org{}, fmt.Errorf("%w: relay action %q", ErrInvalid, action)
	}
	b, org, err := s.RelayLevel(ctx, by, broadcastID, orgID)
	if err != nil {
		return storage.Org{}, err
	}
	err = s.relayAs(ctx, b, org, action, note)
	if errors.Is(err, storage.ErrConflict) {
		// Its outbox takes nothing more: the broadcast is over.
		return org, fmt.Errorf("relay broadcast %d: %w: %w", b.ID, ErrCancelled, err)
	}
	return org, err
}

// TimersRound starts scheduled broadcasts, takes over the builds of
// replicas that died, reminds relay levels that have not acted halfway to
// the deadline and publishes for those still silent at it, and prunes the
// files uploaded for drafts that no broadcast took. Replicas take turns.
func (s *Service) TimersRound(ctx context.Context) error {
	unlock, err := s.locker.Lock(ctx, "broadcast:timers", RoundLock)
	if err != nil {
		return fmt.Errorf("lock timers: %w", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	now := s.clock()
	var errs []error
	due, err := s.store.DueBroadcasts(ctx, now)
	if err != nil {
		return fmt.Errorf("list due broadcasts: %w", err)
	}
	for _, b := range due {
		// A broadcast sent "now" is started by its sender's process: the
		// timers start it only if that did not happen (a crash in between).
		if b.Status == storage.BroadcastScheduled && b.ScheduledAt == nil && now.Sub(b.CreatedAt) < s.lease {
			continue
		}
		if err := s.launch(ctx, b); err != nil {
			errs = append(errs, fmt.Errorf("start broadcast %d: %w", b.ID, err))
		}
	}
	pending, err := s.store.PendingRelaySteps(ctx)
	if err != nil {
		return fmt.Errorf("list relay steps: %w", err)
	}
	for _, st := range pending {
		if err := s.relayTimer(ctx, st, now); err != nil {
			errs = append(errs, fmt.Errorf("relay step %d/%d: %w", st.BroadcastID, st.OrgID, err))
		}
	}
	if err := s.pruneFiles(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if _, err := s.store.PruneLinkOpens(ctx, now.Add(-LinkOpenKeep)); err != nil {
		errs = append(errs, fmt.Errorf("prune link opens: %w", err))
	}
	return errors.Join(errs...)
}

func (s *Service) relayTimer(ctx context.Context, st storage.RelayStep, now time.Time) error {
	b, err := s.store.Broadcast(ctx, st.BroadcastID)
	if err != nil {
		return fmt.Errorf("load broadcast: %w", err)
	}
	if b.RelayDeadline == nil || b.Status != storage.BroadcastSending {
		return nil
	}
	org, err := s.store.Org(ctx, st.OrgID)
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	switch {
	case !now.Before(*b.RelayDeadline):
		if err := s.relayAs(ctx, b, org, storage.RelayAuto, ""); err != nil && !errors.Is(err, storage.ErrAlreadyDecided) {
			return err
		}
	case st.RemindedAt == nil && now.After(st.ReceivedAt.Add(b.RelayDeadline.Sub(st.ReceivedAt)/2)):
		if err := s.offerRelay(ctx, b, org, true); err != nil {
			return err
		}
		if err := s.store.MarkRelayReminded(ctx, b.ID, org.ID, now); err != nil {
			return fmt.Errorf("mark relay reminded: %w", err)
		}
	}
	return nil
}
