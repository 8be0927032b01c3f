package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// cbRelay prefixes the buttons a relay level acts with.
const cbRelay = "rl"

// publishLevel publishes b for org: its own people and chats get it, and
// each organisation one level down in the audience receives it to relay.
// The writes come first and are idempotent; the relay step of org, when it
// has one, is completed by the caller only after them, so that a sweep never
// sees a relay broadcast with nothing pending and nothing queued in between.
func (h *Hub) publishLevel(ctx context.Context, b storage.Broadcast, org storage.Org) error {
	children, err := h.prepareLevel(ctx, b, org)
	if err != nil {
		return err
	}
	return h.offerLevel(ctx, b, children)
}

// prepareLevel builds org's outbox and the relay steps of its children in
// the audience, and returns those children.
func (h *Hub) prepareLevel(ctx context.Context, b storage.Broadcast, org storage.Org) ([]storage.Org, error) {
	now := h.Clock()
	if _, err := h.Store.BuildOutbox(ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}}, now); err != nil {
		return nil, fmt.Errorf("build outbox: %w", err)
	}
	children, err := h.Store.ChildOrgs(ctx, org.ID)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	var steps []storage.RelayStep
	var next []storage.Org
	for _, c := range children {
		if inAudience(ctx, h, b, c) {
			steps = append(steps, storage.RelayStep{BroadcastID: b.ID, OrgID: c.ID, ReceivedAt: now})
			next = append(next, c)
		}
	}
	if len(steps) > 0 {
		if err := h.Store.AddRelaySteps(ctx, steps); err != nil {
			return nil, fmt.Errorf("add relay steps: %w", err)
		}
	}
	return next, nil
}

// offerLevel offers the item to each child; a child with nobody who could
// act publishes at once: waiting for the deadline would only delay the news
// for its members.
func (h *Hub) offerLevel(ctx context.Context, b storage.Broadcast, children []storage.Org) error {
	for _, c := range children {
		publishers, err := h.publishers(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(publishers) == 0 {
			if err := h.relayAs(ctx, b, c, storage.RelayAuto, ""); err != nil && !errors.Is(err, storage.ErrAlreadyDecided) {
				return err
			}
			continue
		}
		if err := h.offerRelay(ctx, b, c, "relay.offer"); err != nil {
			h.Logger.WarnContext(ctx, "offer relay", "broadcast", b.ID, "org", c.ID, "err", err)
		}
	}
	return nil
}

// relayAs records org's action on b and, unless it skips, publishes for it:
// the outbox and the next steps first, the action last, and only the action's
// winner goes on down. It reports ErrAlreadyDecided when someone was first.
func (h *Hub) relayAs(ctx context.Context, b storage.Broadcast, org storage.Org, action storage.RelayAction, note string) error {
	var children []storage.Org
	if action != storage.RelaySkipped {
		// The note must exist before any of org's deliveries is composed.
		if note != "" {
			h.notes.set(b.ID, org.ID, note)
		}
		var err error
		if children, err = h.prepareLevel(ctx, b, org); err != nil {
			return err
		}
	}
	if _, err := h.Store.CompleteRelayStep(ctx, b.ID, org.ID, action, note, h.Clock()); err != nil {
		return fmt.Errorf("complete relay step: %w", err)
	}
	if err := h.offerLevel(ctx, b, children); err != nil {
		return err
	}
	if h.Broadcaster != nil {
		h.Broadcaster.Kick()
	}
	return nil
}

// inAudience reports whether org lies on the way to the broadcast's chosen
// organisations: one of them, inside one, or above one.
func inAudience(ctx context.Context, h *Hub, b storage.Broadcast, org storage.Org) bool {
	if len(b.Audience.OrgIDs) == 0 {
		return true
	}
	for _, id := range b.Audience.OrgIDs {
		chosen, err := h.Store.Org(ctx, id)
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
// org to publish the item for their organisation.
func (h *Hub) offerRelay(ctx context.Context, b storage.Broadcast, org storage.Org, key string) error {
	leaders, err := h.publishers(ctx, org.ID)
	if err != nil {
		return err
	}
	sender, err := h.Store.Org(ctx, b.OrgID)
	if err != nil {
		return fmt.Errorf("load sender org: %w", err)
	}
	deadline := ""
	if b.RelayDeadline != nil {
		deadline = b.RelayDeadline.In(zone(org)).Format(scheduleLayout)
	}
	data := func(action string) string { return fmt.Sprintf("%s:%s:%d:%d", cbRelay, action, b.ID, org.ID) }
	for _, l := range leaders {
		if _, err := h.notify(ctx, fmt.Sprintf("relay:%d:%d:%s", b.ID, org.ID, key), l.Accounts, locales.Normalize(l.Person.Locale), func(lang string) bot.Message {
			return bot.Message{
				Text:        h.Catalog.T(lang, key, "ID", b.ID, "From", sender.Name, "Org", org.Name, "Deadline", deadline, "Text", b.Text),
				Attachments: b.Attachments,
				Keyboard: bot.Keyboard{
					{{Text: h.Catalog.T(lang, "relay.button_publish"), Data: data("pub")}},
					{{Text: h.Catalog.T(lang, "relay.button_note"), Data: data("note")}},
					{{Text: h.Catalog.T(lang, "relay.button_skip"), Data: data("skip")}},
				},
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// onRelayButton takes a level's decision: publish, publish with a note, or
// skip. Only who may publish for that org decides, and only once.
func (h *Hub) onRelayButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) != 4 || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	bid, err1 := strconv.ParseInt(parts[2], 10, 64)
	orgID, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return s.notice(ctx, "error.stale_button")
	}
	b, org, ok, err := h.relayTarget(ctx, s, bid, orgID)
	if err != nil || !ok {
		return err
	}
	switch parts[1] {
	case "pub":
		return h.completeRelay(ctx, s, b, org, storage.RelayPublished, "")
	case "skip":
		return h.completeRelay(ctx, s, b, org, storage.RelaySkipped, "")
	case "note":
		if err := s.saveConversation(ctx, &conversation{Flow: flowNote, Step: stepText, BroadcastID: bid, OrgID: orgID}); err != nil {
			return err
		}
		return s.ask(ctx, s.plural("relay.ask_note", maxNote, "Org", org.Name), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}}})
	}
	return s.notice(ctx, "error.stale_button")
}

// maxNote bounds a level's note; with the item it must fit one message.
const maxNote = 500

// relayTarget loads a relayed broadcast and org, checking the right to act.
func (h *Hub) relayTarget(ctx context.Context, s *session, bid, orgID int64) (storage.Broadcast, storage.Org, bool, error) {
	b, err := h.Store.Broadcast(ctx, bid)
	if errors.Is(err, storage.ErrNotFound) {
		return b, storage.Org{}, false, s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return b, storage.Org{}, false, fmt.Errorf("load broadcast: %w", err)
	}
	org, err := h.Store.Org(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return b, org, false, s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return b, org, false, fmt.Errorf("load org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return b, org, false, err
	}
	if !storage.Allowed(active, storage.ActPublish, org) {
		return b, org, false, s.notice(ctx, "error.not_allowed")
	}
	if b.Status == storage.BroadcastCancelled {
		return b, org, false, s.reply(ctx, s.t("relay.cancelled", "ID", b.ID), nil)
	}
	return b, org, true, nil
}

// completeRelay records a level's action and, unless it skips, publishes.
func (h *Hub) completeRelay(ctx context.Context, s *session, b storage.Broadcast, org storage.Org, action storage.RelayAction, note string) error {
	err := h.relayAs(ctx, b, org, action, note)
	switch {
	case errors.Is(err, storage.ErrAlreadyDecided):
		return s.reply(ctx, s.t("relay.already", "ID", b.ID, "Org", org.Name), nil)
	case errors.Is(err, storage.ErrConflict):
		return s.reply(ctx, s.t("relay.cancelled", "ID", b.ID), nil)
	case err != nil:
		return err
	case action == storage.RelaySkipped:
		return s.reply(ctx, s.t("relay.skipped", "ID", b.ID, "Org", org.Name), nil)
	}
	return s.reply(ctx, s.t("relay.published", "ID", b.ID, "Org", org.Name), nil)
}

// RunBroadcastTimers starts scheduled broadcasts, reminds relay levels
// that have not acted halfway to the deadline and publishes for those still
// silent at it, every interval until ctx ends. Replicas take turns.
func (h *Hub) RunBroadcastTimers(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := h.BroadcastTimers(ctx); err != nil && ctx.Err() == nil {
				h.Logger.ErrorContext(ctx, "broadcast timers", "err", err)
			}
		}
	}
}

// BroadcastTimers runs one round of RunBroadcastTimers.
func (h *Hub) BroadcastTimers(ctx context.Context) error {
	unlock, err := h.State.Lock(ctx, "broadcast:timers", time.Minute)
	if err != nil {
		return fmt.Errorf("lock timers: %w", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	now := h.Clock()
	var errs []error
	due, err := h.Store.DueBroadcasts(ctx, now)
	if err != nil {
		return fmt.Errorf("list due broadcasts: %w", err)
	}
	for _, b := range due {
		if err := h.launch(ctx, b); err != nil {
			errs = append(errs, fmt.Errorf("start broadcast %d: %w", b.ID, err))
		}
	}
	pending, err := h.Store.PendingRelaySteps(ctx)
	if err != nil {
		return fmt.Errorf("list relay steps: %w", err)
	}
	for _, st := range pending {
		if err := h.relayTimer(ctx, st, now); err != nil {
			errs = append(errs, fmt.Errorf("relay step %d/%d: %w", st.BroadcastID, st.OrgID, err))
		}
	}
	return errors.Join(errs...)
}

func (h *Hub) relayTimer(ctx context.Context, st storage.RelayStep, now time.Time) error {
	b, err := h.Store.Broadcast(ctx, st.BroadcastID)
	if err != nil {
		return fmt.Errorf("load broadcast: %w", err)
	}
	if b.RelayDeadline == nil || b.Status != storage.BroadcastSending {
		return nil
	}
	org, err := h.Store.Org(ctx, st.OrgID)
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	switch {
	case !now.Before(*b.RelayDeadline):
		if err := h.relayAs(ctx, b, org, storage.RelayAuto, ""); err != nil && !errors.Is(err, storage.ErrAlreadyDecided) {
			return err
		}
	case st.RemindedAt == nil && now.After(st.ReceivedAt.Add(b.RelayDeadline.Sub(st.ReceivedAt)/2)):
		if err := h.offerRelay(ctx, b, org, "relay.reminder"); err != nil {
			return err
		}
		return h.Store.MarkRelayReminded(ctx, b.ID, org.ID, now)
	}
	return nil
}

// noteCache remembers relay notes for composing deliveries: a note exists
// before its org's outbox is built and never changes after.
type noteCache struct {
	mu    sync.Mutex
	notes map[[2]int64]string
}

func (c *noteCache) set(bid, orgID int64, note string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.notes == nil {
		c.notes = map[[2]int64]string{}
	}
	c.notes[[2]int64{bid, orgID}] = note
}

// orgCache keeps organisations for composing deliveries for a while: the
// thousands of rows of a broadcast name the same few organisations, and a
// rename may show a minute late.
type orgCache struct {
	mu   sync.Mutex
	orgs map[int64]cachedOrg
}

type cachedOrg struct {
	org   storage.Org
	until time.Time
}

const orgCacheFor = time.Minute

// cachedOrg returns the organisation id, from the cache while it is fresh.
func (h *Hub) cachedOrg(ctx context.Context, id int64) (storage.Org, error) {
	now := h.Clock()
	h.orgs.mu.Lock()
	c, ok := h.orgs.orgs[id]
	h.orgs.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.org, nil
	}
	org, err := h.Store.Org(ctx, id)
	if err != nil {
		return storage.Org{}, err
	}
	h.orgs.mu.Lock()
	defer h.orgs.mu.Unlock()
	if h.orgs.orgs == nil {
		h.orgs.orgs = map[int64]cachedOrg{}
	}
	for k, c := range h.orgs.orgs { // the stale go, so the cache stays as small as a broadcast's orgs
		if !now.Before(c.until) {
			delete(h.orgs.orgs, k)
		}
	}
	h.orgs.orgs[id] = cachedOrg{org: org, until: now.Add(orgCacheFor)}
	return org, nil
}

// composedOrgName names an organisation in a delivery.
func (h *Hub) composedOrgName(ctx context.Context, id int64) string {
	if o, err := h.cachedOrg(ctx, id); err == nil {
		return o.Name
	}
	return strconv.FormatInt(id, 10)
}

// ComposeDelivery builds the message of one outbox row: the sending org,
// a relaying org's note, the text and files; activists get a button to
// share it where the bot is not.
func (h *Hub) ComposeDelivery(b storage.Broadcast, d storage.Delivery) bot.Message {
	ctx := context.Background()
	lang := locales.Default
	text, format := bot.Prefixed(h.Catalog.T(lang, "news.header", "Org", h.composedOrgName(ctx, b.OrgID))+"\n\n", b.Text, b.Format)
	if b.Mode == storage.ModeRelay && d.OrgID != b.OrgID {
		if orgID, note := h.nearestNote(ctx, b, d.OrgID); note != "" {
			text, format = bot.Prefixed(h.Catalog.T(lang, "relay.note_header", "Org", h.composedOrgName(ctx, orgID), "Note", note)+"\n\n", text, format)
		}
	}
	m := bot.Message{Text: text, Format: format, Attachments: b.Attachments}
	if d.Priority == storage.PriorityActivist {
		if link := shareLink(bot.Platform(d.Platform), h.Links, b.Text); link != "" {
			m.Keyboard = bot.Keyboard{{{Text: h.Catalog.T(lang, "news.button_share"), URL: link}}}
		}
	}
	return m
}

// nearestNote is the note of the relaying org closest above the recipient
// (or its own), below the sender: the level that knows the recipient best.
func (h *Hub) nearestNote(ctx context.Context, b storage.Broadcast, orgID int64) (int64, string) {
	org, err := h.cachedOrg(ctx, orgID)
	if err != nil {
		return 0, ""
	}
	ids := pathIDs(org.Path)
	for i := len(ids) - 1; i >= 0 && ids[i] != b.OrgID; i-- {
		if note := h.relayNote(ctx, b.ID, ids[i]); note != "" {
			return ids[i], note
		}
	}
	return 0, ""
}

func (h *Hub) relayNote(ctx context.Context, bid, orgID int64) string {
	h.notes.mu.Lock()
	note, ok := h.notes.notes[[2]int64{bid, orgID}]
	h.notes.mu.Unlock()
	if ok {
		return note
	}
	steps, err := h.Store.RelaySteps(ctx, bid)
	if err != nil {
		h.Logger.WarnContext(ctx, "load relay notes", "broadcast", bid, "err", err)
		return ""
	}
	h.notes.mu.Lock()
	defer h.notes.mu.Unlock()
	if h.notes.notes == nil {
		h.notes.notes = map[[2]int64]string{}
	}
	for _, st := range steps {
		if st.Action != "" {
			h.notes.notes[[2]int64{bid, st.OrgID}] = st.Note
		}
	}
	return h.notes.notes[[2]int64{bid, orgID}]
}

// maxShared bounds the text put in a share link.
const maxShared = 200

// shareLink is a link that opens the platform's share dialog with the
// item's text and the bot's address, for chats and networks the bot is not in.
func shareLink(p bot.Platform, l Links, text string) string {
	text = snippet(text, maxShared)
	switch p {
	case bot.Telegram:
		if target := l.Telegram(""); target != "" {
			return "https://t.me/share/url?url=" + url.QueryEscape(strings.TrimSuffix(target, "?start=")) + "&text=" + url.QueryEscape(text)
		}
	case bot.VK:
		if target := l.VK(""); target != "" {
			return "https://vk.com/share.php?url=" + url.QueryEscape(strings.TrimSuffix(target, "?ref=")) + "&comment=" + url.QueryEscape(text)
		}
	}
	return ""
}
