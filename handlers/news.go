package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// Composing news: the screens.
const (
	maxChosenOrgs   = 5 // org toggles shown on one screen
	scheduleLayout  = "02.01.2006 15:04"
	scheduleLayout2 = "02.01 15:04"
)

// cmdNews starts composing a broadcast.
func (h *Hub) cmdNews(ctx context.Context, s *session) error {
	orgs, err := h.staffOrgs(ctx, s, access.ActPublish)
	if len(orgs) == 0 {
		return err
	}
	c := &conversation{Flow: flowNews, Step: stepText, SenderOrgID: orgs[0].ID}
	if len(orgs) > 1 {
		c.Step = stepPick
	}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	if _, chosen, err := h.chooseOrg(ctx, s, orgs, "news.which_org", cbNews, nwFrom); !chosen {
		return err
	}
	return h.askNewsText(ctx, s)
}

// askNewsText asks for the item's text.
func (h *Hub) askNewsText(ctx context.Context, s *session) error {
	return s.reply(ctx, s.plural("news.ask_text", news.MaxText), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: newsButton{Action: nwCancel}.data()}}})
}

// newsText takes the text (and a photo or document) of the item.
func (h *Hub) newsText(ctx context.Context, s *session, c *conversation) error {
	if c.Step != stepText {
		switch c.Step {
		case stepSchedule:
			return h.newsSchedule(ctx, s, c)
		case stepActionTitle, stepActionWhen, stepActionPlace:
			return h.actionStepText(ctx, s, c)
		}
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("input.use_buttons")})
	}
	if s.u.HasMedia {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("ask.unsupported_media")})
	}
	text, bad := cleanLongText(s.u.Text, news.MaxText, len(s.u.Attachments) > 0)
	if bad != nil {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)})
	}
	c.Question, c.Format, c.Attachments, c.Step = text, keepFormat(s.u.Text, text, s.u.Format), s.u.Attachments, stepSettings
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.newsSettings(ctx, s, c)
}

// keepFormat moves the formatting of raw onto text, which is raw with the
// white space around it trimmed; what falls outside text is cut off.
func keepFormat(raw, text string, format []storage.Span) []storage.Span {
	lead := strings.Index(raw, text)
	if lead < 0 || text == "" { // not a trimmed raw (line ends changed): keep the words, not the looks
		return nil
	}
	shift, n := storage.UTF16Len(raw[:lead]), storage.UTF16Len(text)
	var out []storage.Span
	for _, f := range format {
		start, end := max(f.Offset-shift, 0), min(f.Offset+f.Length-shift, n)
		if f.Offset, f.Length = start, end-start; f.Valid(n) {
			out = append(out, f)
		}
	}
	return out
}

// newsDraft is the broadcast the conversation describes.
func newsDraft(c *conversation) news.Draft {
	return news.Draft{OrgID: c.SenderOrgID, Text: c.Question, Format: c.Format, Files: c.Attachments,
		Orgs: c.ChosenOrgs, Roles: news.Roles(c.Roles), Where: news.Where(c.Where), Relay: c.Relay, Action: draftAction(c), Public: c.Public}
}

// newsSettings shows the item with its audience, where it goes, the mode
// and how many it reaches, with buttons to change each and to send.
func (h *Hub) newsSettings(ctx context.Context, s *session, c *conversation) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	p, err := h.News.Preview(ctx, by, newsDraft(c))
	if errors.Is(err, access.ErrForbidden) {
		return s.refuse(ctx, "error.not_allowed")
	}
	if err != nil {
		return err
	}
	orgsText := s.t("news.orgs_all", "Org", p.Org.Name)
	switch {
	case len(c.ChosenOrgs) > 0:
		var names []string
		for _, id := range c.ChosenOrgs {
			name := strconv.FormatInt(id, 10)
			if i := slices.IndexFunc(p.Children, func(o storage.Org) bool { return o.ID == id }); i >= 0 {
				name = p.Children[i].Name
			}
			names = append(names, name)
		}
		orgsText = strings.Join(names, "; ")
	case len(p.Children) == 0:
		orgsText = s.t("news.orgs_own", "Org", p.Org.Name)
	}
	where := s.t(whereKey(c.Where))
	if p.Chats == 0 && news.Where(c.Where) != news.WherePrivate {
		where += " " + s.t("news.no_chats")
	}
	text := s.t("news.settings", "Org", p.Org.Name, "Text", snippet(c.Question, 300), "Orgs", orgsText,
		"Roles", s.t(rolesKey(c.Roles)), "Where", where,
		"Mode", s.t(modeKey(c.Relay))) + "\n" + s.t(publicKey(c.Public)) + "\n" + s.plural("news.files", len(c.Attachments)) + "\n" +
		reach(s, p.People, p.Chats) + "\n" + s.t("news.author_excluded") + "\n\n" + h.actionSummary(s, c, p.Org)
	d := func(action string) string { return newsButton{Action: action}.data() }
	actionButton := bot.Button{Text: s.t("news.button_action"), Data: d(nwAction)}
	if draftAction(c) != nil {
		actionButton = bot.Button{Text: s.t("news.button_no_action"), Data: d(nwNoAction)}
	}
	kb := bot.Keyboard{
		{{Text: s.t("news.button_orgs"), Data: d(nwOrgs)}, {Text: s.t("news.button_roles"), Data: d(nwRoles)}},
		{{Text: s.t("news.button_where"), Data: d(nwWhere)}, {Text: s.t("news.button_mode"), Data: d(nwMode)}},
		{actionButton},
		{{Text: s.t("news.button_public"), Data: d(nwPublic)}},
		{{Text: s.t("news.button_send"), Data: d(nwSend)}},
		{{Text: s.t("news.button_schedule"), Data: d(nwSchedule)}, {Text: s.t("reg.button_cancel"), Data: d(nwCancel)}},
	}
	if len(p.Children) == 0 {
		// With nothing below, neither choosing organisations nor relaying
		// means anything.
		kb[0], kb[1] = kb[0][1:], kb[1][:1]
	}
	return s.reply(ctx, text, kb)
}

// publicKey says whether supporters get the item too.
func publicKey(public bool) string {
	if public {
		return "news.public_on"
	}
	return "news.public_off"
}

// reach says how many people and chats an item reaches.
func reach(s *session, people, chats int) string {
	if chats == 0 {
		return s.plural("news.reach_people_only", people)
	}
	return s.plural("news.reach_people", people) + " " + s.plural("news.reach_chats", chats)
}

// The settings' locale keys, spelled out so that the catalog test sees them.
func rolesKey(r string) string {
	switch news.Roles(r) {
	case news.RolesActivists:
		return "news.roles_activists"
	case news.RolesLeadership:
		return "news.roles_leaders"
	}
	return "news.roles_all"
}

func whereKey(w string) string {
	switch news.Where(w) {
	case news.WherePrivate:
		return "news.where_private"
	case news.WhereChats:
		return "news.where_chats"
	}
	return "news.where_both"
}

func modeKey(relay bool) string {
	if relay {
		return "news.mode_relay"
	}
	return "news.mode_direct"
}

// The settings' buttons go round their choices.
var (
	nextRoles = map[news.Roles]news.Roles{news.RolesAll: news.RolesActivists, news.RolesActivists: news.RolesLeadership, news.RolesLeadership: news.RolesAll}
	nextWhere = map[news.Where]news.Where{news.WhereBoth: news.WherePrivate, news.WherePrivate: news.WhereChats, news.WhereChats: news.WhereBoth}
)

// onNewsButton takes the buttons of composing.
func (h *Hub) onNewsButton(ctx context.Context, s *session) error {
	b, ok := parseNewsButton(s.u.Callback.Data)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	if b.Action == nwStop {
		return h.onNewsStop(ctx, s, b.ID)
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if c.Flow != flowNews {
		return s.notice(ctx, "error.stale_button")
	}
	switch b.Action {
	case nwCancel:
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("news.cancelled"), s.mainMenu(ctx))
	case nwFrom:
		if c.Step != stepPick {
			return s.notice(ctx, "error.stale_button")
		}
		org, ok, err := h.chosenOrg(ctx, s, access.ActPublish, cbNews, nwFrom)
		if !ok {
			return err
		}
		c.SenderOrgID, c.Step = org.ID, stepText
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.askNewsText(ctx, s)
	}
	// Everything below acts on a finished draft of an org the person still
	// may send from; the kinds of action only while they are offered.
	_, isKind := actionKinds[b.Action]
	switch {
	case isKind && c.Step != stepActionKind,
		!isKind && c.Step != stepSettings && c.Step != stepOrgs && (c.Step != stepActionKind || b.Action != nwDone):
		return s.notice(ctx, "error.stale_button")
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if _, err := h.News.SenderOrg(ctx, by, c.SenderOrgID); errors.Is(err, access.ErrForbidden) {
		return s.notice(ctx, "error.not_allowed")
	} else if err != nil {
		return err
	}
	switch b.Action {
	case nwRoles:
		c.Roles = string(nextRoles[news.Roles(c.Roles)])
	case nwWhere:
		c.Where = string(nextWhere[news.Where(c.Where)])
	case nwMode:
		c.Relay = !c.Relay
	case nwPublic:
		c.Public = !c.Public
	case nwOrgs:
		c.Step = stepOrgs
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.newsOrgs(ctx, s, c)
	case nwOrg:
		children, err := h.News.Children(ctx, by, c.SenderOrgID)
		if err != nil {
			return err
		}
		if c.Step != stepOrgs || !slices.ContainsFunc(children, func(o storage.Org) bool { return o.ID == b.ID }) {
			return s.notice(ctx, "error.stale_button")
		}
		if i := slices.Index(c.ChosenOrgs, b.ID); i >= 0 {
			c.ChosenOrgs = slices.Delete(c.ChosenOrgs, i, i+1)
		} else {
			c.ChosenOrgs = append(c.ChosenOrgs, b.ID)
		}
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.newsOrgs(ctx, s, c)
	case nwDone:
		c.Step = stepSettings
	case nwAction:
		c.Step = stepActionKind
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.askActionKind(ctx, s)
	case nwKindMeeting, nwKindOnline, nwKindSign:
		c.ActionKind, c.ActionTitle, c.ActionAt, c.ActionPlace = string(actionKinds[b.Action]), "", time.Time{}, ""
		c.Step = stepActionTitle
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return s.reply(ctx, s.plural("news.action_ask_title", news.MaxActionTitle), nil)
	case nwNoAction:
		c.ActionKind, c.ActionTitle, c.ActionAt, c.ActionPlace = "", "", time.Time{}, ""
	case nwSchedule:
		c.Step, c.Card = stepSchedule, s.u.Callback.MessageID
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return s.ask(ctx, s.t("news.ask_when"), bot.Keyboard{{{Text: s.t("reg.button_cancel"), Data: newsButton{Action: nwCancel}.data()}}})
	case nwSend:
		c.Card = s.u.Callback.MessageID
		return h.startBroadcast(ctx, s, c, nil)
	}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.newsSettings(ctx, s, c)
}

// newsOrgs lets the sender pick child organisations, or all of them.
func (h *Hub) newsOrgs(ctx context.Context, s *session, c *conversation) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	children, err := h.News.Children(ctx, by, c.SenderOrgID)
	if err != nil {
		return err
	}
	var choices []choice
	for _, o := range children[:min(len(children), maxChosenOrgs)] {
		mark := "▫️ "
		if slices.Contains(c.ChosenOrgs, o.ID) {
			mark = "✅ "
		}
		choices = append(choices, choice{label: mark + o.Name, data: newsButton{Action: nwOrg, ID: o.ID}.data()})
	}
	list, kb := numbered(choices)
	text := s.t("news.pick_orgs") + "\n" + list
	if len(children) > maxChosenOrgs {
		text += "\n" + s.plural("ticket.list_more", len(children)-maxChosenOrgs)
	}
	return s.reply(ctx, text, append(kb, []bot.Button{{Text: s.t("news.button_done"), Data: newsButton{Action: nwDone}.data()}}))
}

// newsSchedule takes the time to send at, in the sender org's time zone:
// "02.01.2006 15:04", or "02.01 15:04" for the next such day.
func (h *Hub) newsSchedule(ctx context.Context, s *session, c *conversation) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	org, err := h.News.SenderOrg(ctx, by, c.SenderOrgID)
	if errors.Is(err, access.ErrForbidden) {
		return s.refuse(ctx, "error.not_allowed")
	}
	if err != nil {
		return err
	}
	at, ok := parseWhen(s.u.Text, zone(org), h.Clock())
	if !ok {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("news.bad_when")})
	}
	return h.startBroadcast(ctx, s, c, &at)
}

// startBroadcast commits the broadcast and, unless it is scheduled, starts
// it and shows the sender its progress. The settings card, its buttons
// spent, becomes the outcome.
func (h *Hub) startBroadcast(ctx context.Context, s *session, c *conversation, at *time.Time) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if a := draftAction(c); a != nil && (!a.At.After(h.Clock()) || at != nil && !a.At.After(*at)) {
		// The draft waited past its action's time, or is to go after it.
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("news.action_past")})
	}
	b, err := h.News.Create(ctx, by, newsDraft(c), at)
	switch {
	case errors.Is(err, access.ErrForbidden):
		return s.refuse(ctx, "error.not_allowed")
	case errors.Is(err, news.ErrBadTime):
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("news.bad_when")})
	case err != nil:
		return err
	}
	if err := s.endConversation(ctx); err != nil {
		h.Logger.WarnContext(ctx, "end news conversation", "broadcast", b.ID, "err", err)
	}
	if at != nil {
		people, chats, err := h.News.Reach(ctx, b)
		if err != nil {
			return err
		}
		org, err := h.Store.Org(ctx, b.OrgID)
		if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
		when := at.In(zone(org)).Format(scheduleLayout)
		h.spendCard(ctx, s, c.Card, s.t("news.card_scheduled", "ID", b.ID, "When", when)+"\n"+reach(s, people, chats))
		return s.reply(ctx, s.t("news.scheduled", "ID", b.ID, "When", when), s.mainMenu(ctx))
	}
	if err := h.News.Start(ctx, by, b); errors.Is(err, news.ErrBuildFailed) {
		// The author has been told why.
		h.spendCard(ctx, s, c.Card, s.t("news.card_failed", "ID", b.ID))
		return nil
	} else if err != nil {
		return err
	}
	// The progress message comes once the first recipients are in, so that
	// its Stop button always finds something to stop; the count for the
	// spent card after it, as the news is on its way.
	h.showProgressStart(ctx, s, by, b)
	outcome := s.t("news.card_sent", "ID", b.ID)
	if people, chats, err := h.News.Reach(ctx, b); err == nil {
		outcome += "\n" + reach(s, people, chats)
	} else {
		h.Logger.WarnContext(ctx, "count audience of a sent broadcast", "broadcast", b.ID, "err", err)
	}
	h.spendCard(ctx, s, c.Card, outcome)
	return nil
}

// showProgressStart sends the sender the message that shows the progress
// of b, with its Stop button, and has it kept up to date. The news is on
// its way already: a failure is logged.
func (h *Hub) showProgressStart(ctx context.Context, s *session, by access.Actor, b storage.Broadcast) {
	progress, err := s.sender.Send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("news.progress_start", "ID", b.ID),
		Keyboard: bot.Keyboard{{{Text: s.t("news.button_stop"), Data: newsButton{Action: nwStop, ID: b.ID}.data()}}}})
	if err != nil {
		h.Logger.WarnContext(ctx, "send progress message", "broadcast", b.ID, "err", err)
		return
	}
	at := storage.DeskPost{TicketID: b.ID, Platform: storage.Platform(s.u.Platform), ChatID: progress.ChatID, MessageID: progress.MessageID}
	if err := h.News.KeepProgress(ctx, by, b, at); err != nil {
		h.Logger.WarnContext(ctx, "remember progress message", "broadcast", b.ID, "err", err)
	}
}

// spendCard replaces a screen whose buttons are spent with its outcome and
// no buttons. The outcome is also said elsewhere, so a failed edit is
// logged, not returned.
func (h *Hub) spendCard(ctx context.Context, s *session, messageID, outcome string) {
	if messageID == "" {
		return
	}
	if err := s.sender.Edit(ctx, bot.Sent{ChatID: s.u.Chat.ID, MessageID: messageID}, bot.Message{Text: outcome}); err != nil {
		h.Logger.WarnContext(ctx, "replace a spent screen", "err", err)
	}
}

// onNewsStop cancels a running broadcast from its progress message.
func (h *Hub) onNewsStop(ctx context.Context, s *session, id int64) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	n, err := h.News.Stop(ctx, by, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return s.notice(ctx, "error.not_allowed")
	case errors.Is(err, storage.ErrConflict):
		return s.notice(ctx, "news.already_over", "ID", id)
	case err != nil:
		return err
	}
	return s.reply(ctx, s.plural("news.stopped", n, "ID", id), nil)
}
