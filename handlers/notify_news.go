package handlers

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// News in the messengers: relay offers and reminders, suggestions shown to
// those who decide them and decisions told to their authors, the author's
// progress message and a failure told to them, and the item each recipient
// of a broadcast gets, composed in their language.

var _ news.Notifier = (*Notifier)(nil)

// OfferRelay asks a person who publishes for a level to publish a relayed
// item there, with the item and the deadline, and the three decisions.
func (h *Notifier) OfferRelay(ctx context.Context, to storage.Contact, o news.RelayOffer) (bool, error) {
	b, org := o.Broadcast, o.Level
	key := "relay.offer"
	if o.Reminder {
		key = "relay.reminder"
	}
	deadline := ""
	if b.RelayDeadline != nil {
		deadline = b.RelayDeadline.In(zone(org)).Format(scheduleLayout)
	}
	data := func(action string) string {
		return relayButton{Action: action, BroadcastID: b.ID, OrgID: org.ID}.data()
	}
	return h.notify(ctx, fmt.Sprintf("relay:%d:%d:%s", b.ID, org.ID, key), to.Accounts, locales.Normalize(to.Person.Locale), func(lang string) bot.Message {
		text := h.Catalog.T(lang, key, "ID", b.ID, "From", o.Sender.Name, "Org", org.Name, "Deadline", deadline, "Text", b.Text)
		if b.Action != nil {
			text += "\n\n" + h.actionCard(lang, *b.Action, o.Sender)
		}
		if f := o.File; f != nil {
			// The file goes to the level's people with the item, not here.
			fileKey := "relay.file_document"
			if f.Kind == storage.FilePhoto {
				fileKey = "relay.file_photo"
			}
			text += "\n\n" + h.Catalog.T(lang, fileKey, "Name", f.Name)
		}
		return bot.Message{
			Text:        text,
			Attachments: b.Attachments,
			Keyboard: bot.Keyboard{
				{{Text: h.Catalog.T(lang, "relay.button_publish"), Data: data(rlPublish)}},
				{{Text: h.Catalog.T(lang, "relay.button_note"), Data: data(rlNote)}},
				{{Text: h.Catalog.T(lang, "relay.button_skip"), Data: data(rlSkip)}},
			},
		}
	})
}

// RelayNoted keeps a level's note for composing its deliveries.
func (h *Notifier) RelayNoted(broadcastID, orgID int64, note string) {
	h.notes.set(broadcastID, orgID, note)
}

// OfferSuggestion shows a suggestion to a person of a level, with the
// decisions when they decide it.
func (h *Notifier) OfferSuggestion(ctx context.Context, to storage.Contact, o news.SuggestionOffer) (bool, error) {
	return h.notify(ctx, fmt.Sprintf("suggest:%d:%d", o.Item.ID, o.Level.ID), to.Accounts, locales.Normalize(to.Person.Locale), func(lang string) bot.Message {
		m := bot.Message{Text: h.suggestionCard(lang, o.Item), Attachments: o.Item.Attachments}
		if o.Decide {
			m.Keyboard = h.suggestionButtons(lang, o.Item.ID, o.Level)
		}
		return m
	})
}

// suggestionCard is a suggestion as the deciding organisation sees it.
func (h *Notifier) suggestionCard(lang string, sg news.Suggested) string {
	key := "suggest.card_news"
	if sg.Kind == storage.SuggestCall {
		key = "suggest.card_call"
	}
	from := sg.From.Name
	if from == "" {
		from = strconv.FormatInt(sg.FromOrgID, 10)
	}
	name := h.Catalog.T(lang, "ticket.anonymous")
	if sg.Author != nil {
		name = sg.Author.FullName
	}
	return h.Catalog.T(lang, key, "ID", sg.ID, "From", from, "Name", name, "Text", sg.Text)
}

// suggestionButtons are the decisions on a suggestion waiting at org.
func (h *Notifier) suggestionButtons(lang string, id int64, at storage.Org) bot.Keyboard {
	row := []bot.Button{{Text: h.Catalog.T(lang, "suggest.button_publish"), Data: suggestButton{Action: sgPublish, ID: id}.data()}}
	if at.ParentID != 0 {
		row = append(row, bot.Button{Text: h.Catalog.T(lang, "suggest.button_up"), Data: suggestButton{Action: sgUp, ID: id}.data()})
	}
	return bot.Keyboard{row, {{Text: h.Catalog.T(lang, "suggest.button_decline"), Data: suggestButton{Action: sgDecline, ID: id}.data()}}}
}

// SuggestionDecided tells the author that their suggestion was published,
// or declined and why.
func (h *Notifier) SuggestionDecided(ctx context.Context, d news.Decision) (bool, error) {
	key := "suggest.author_declined"
	if d.Published {
		key = "suggest.author_published"
	}
	sg := d.Suggestion
	return h.tellPerson(ctx, sg.AuthorID, fmt.Sprintf("suggest-decided:%d", sg.ID), func(lang string) bot.Message {
		return bot.Message{Text: h.Catalog.T(lang, key, "ID", sg.ID, "Org", d.At.Name, "Reason", d.Reason)}
	})
}

// ShowProgress edits the author's progress message in place, in their
// language, with the Stop button while the broadcast runs.
func (h *Notifier) ShowProgress(ctx context.Context, p news.Progress) error {
	b, r := p.Broadcast, p.Report
	if b.Progress == nil {
		return nil
	}
	sender, ok := h.Senders[bot.Platform(b.Progress.Platform)]
	if !ok {
		return nil
	}
	lang := locales.Default
	if b.AuthorID != 0 {
		if person, err := h.Store.Person(ctx, b.AuthorID); err == nil {
			lang = locales.Normalize(person.Locale)
		}
	}
	key := "news.progress"
	var kb bot.Keyboard
	switch {
	case b.Status == storage.BroadcastCancelled:
		key = "news.progress_cancelled"
	case b.Status == storage.BroadcastFailed:
		key = "news.progress_failed"
	case p.Final || b.Status == storage.BroadcastDone:
		key = "news.progress_done"
	default:
		kb = bot.Keyboard{{{Text: h.Catalog.T(lang, "news.button_stop"), Data: newsButton{Action: nwStop, ID: b.ID}.data()}}}
	}
	text := h.Catalog.T(lang, key, "ID", b.ID, "Delivered", r.Delivered, "Audience", r.Audience,
		"Queued", r.Queued, "Failed", r.Failed, "Unreachable", r.Unreachable)
	if b.Mode == storage.ModeRelay {
		text += "\n" + h.Catalog.T(lang, "news.progress_relay", "Relayed", r.Relayed, "Levels", r.RelaySteps)
	}
	if a := r.Action; a != nil && b.Action != nil {
		if b.Action.Kind == storage.ActionSignature {
			text += "\n" + h.Catalog.T(lang, "action.progress_signature", "Signed", a.Signed)
		} else {
			text += "\n" + h.Catalog.T(lang, "action.progress", "Yes", a.Yes, "No", a.No, "Attended", a.Attended)
		}
	}
	if err := sender.Edit(ctx, bot.Sent{ChatID: b.Progress.ChatID, MessageID: b.Progress.MessageID}, bot.Message{Text: text, Keyboard: kb}); err != nil {
		return fmt.Errorf("edit progress: %w", err)
	}
	return nil
}

// BroadcastFailed tells the author that nobody gets a broadcast.
func (h *Notifier) BroadcastFailed(ctx context.Context, b storage.Broadcast) (bool, error) {
	lang := locales.Default
	if p, err := h.Store.Person(ctx, b.AuthorID); err == nil {
		lang = locales.Normalize(p.Locale)
	}
	accounts, err := h.Store.Accounts(ctx, b.AuthorID)
	if err != nil {
		return false, fmt.Errorf("load accounts: %w", err)
	}
	return h.notify(ctx, fmt.Sprintf("broadcast:%d:failed", b.ID), accounts, lang, func(lang string) bot.Message {
		return bot.Message{Text: h.Catalog.T(lang, "news.failed", "ID", b.ID)}
	})
}

// orgName names an organisation, by its id when it cannot be read.
func (h *Notifier) orgName(ctx context.Context, id int64) string {
	if o, err := h.Store.Org(ctx, id); err == nil {
		return o.Name
	}
	return strconv.FormatInt(id, 10)
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
func (h *Notifier) cachedOrg(ctx context.Context, id int64) (storage.Org, error) {
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
func (h *Notifier) composedOrgName(ctx context.Context, id int64) string {
	if o, err := h.cachedOrg(ctx, id); err == nil {
		return o.Name
	}
	return strconv.FormatInt(id, 10)
}

// ComposeDelivery builds the message of one outbox row in its recipient's
// language (a group chat's is the default): the sending org, the org an
// item suggested from below comes from, a relaying org's note, the text
// and files, its web links through the tracker's short links when there
// is one; activists get a button to share it where the bot is not.
func (h *Notifier) ComposeDelivery(ctx context.Context, b storage.Broadcast, d storage.Delivery) bot.Message {
	lang := locales.Normalize(d.Locale)
	text, format := b.Text, b.Format
	if h.Tracker != nil {
		text, format = h.Tracker.Rewrite(ctx, d.ID, text, format)
	}
	if b.FromOrgID != 0 {
		text, format = bot.Prefixed(h.Catalog.T(lang, "suggest.published_from", "From", h.composedOrgName(ctx, b.FromOrgID))+"\n", text, format)
	}
	text, format = bot.Prefixed(h.Catalog.T(lang, "news.header", "Org", h.composedOrgName(ctx, b.OrgID))+"\n\n", text, format)
	if b.Mode == storage.ModeRelay && d.OrgID != b.OrgID {
		if orgID, note := h.nearestNote(ctx, b, d.OrgID); note != "" {
			text, format = bot.Prefixed(h.Catalog.T(lang, "relay.note_header", "Org", h.composedOrgName(ctx, orgID), "Note", note)+"\n\n", text, format)
		}
	}
	m := bot.Message{Text: text, Format: format, Attachments: b.Attachments}
	if d.Priority == storage.PriorityActivist {
		if link := ShareLink(bot.Platform(d.Platform), h.Links, b.Text); link != "" {
			if short, ok := h.shortShare(ctx, d); ok {
				link = short
			}
			m.Keyboard = bot.Keyboard{{{Text: h.Catalog.T(lang, "news.button_share"), URL: link}}}
		}
	}
	h.withAction(ctx, lang, b, d, &m)
	return m
}

// nearestNote is the note of the relaying org closest above the recipient
// (or its own), below the sender: the level that knows the recipient best.
func (h *Notifier) nearestNote(ctx context.Context, b storage.Broadcast, orgID int64) (int64, string) {
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

func (h *Notifier) relayNote(ctx context.Context, bid, orgID int64) string {
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

// shortShare is the short link of a delivery's Share button, counted as a
// share when opened.
func (h *Notifier) shortShare(ctx context.Context, d storage.Delivery) (string, bool) {
	if h.Tracker == nil {
		return "", false
	}
	return h.Tracker.ShortLink(ctx, d.ID, storage.LinkShare)
}

// maxShared bounds the text put in a share link.
const maxShared = 200

// ShareLink is a link that opens the platform's share dialog with the
// item's text and the bot's address, for chats and networks the bot is not in.
func ShareLink(p bot.Platform, l Links, text string) string {
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
