package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// ticketListButtons bounds the buttons of a list of tickets.
const ticketListButtons = 6

// Escalate runs the hot line's overdue sweep: with several replicas one
// sweeps at a time.
func (h *Hub) Escalate(ctx context.Context) error {
	unlock, err := h.State.Lock(ctx, "hotline:sweep", roundLockTTL)
	if err != nil {
		return fmt.Errorf("lock sweep: %w", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	return h.Hotline.Escalate(ctx)
}

// homeOrg is the organisation a member asks and suggests from: their
// primary organisation, else the first organisation they are a member of.
// A supporter's organisations are none.
func homeOrg(active []storage.Membership) (storage.Org, bool) {
	var first *storage.Org
	for _, m := range active {
		if !access.ActiveIn(active, m.Org.ID) {
			continue
		}
		if m.Org.Level == storage.LevelPrimary {
			return m.Org, true
		}
		if first == nil {
			first = &m.Org
		}
	}
	if first != nil {
		return *first, true
	}
	return storage.Org{}, false
}

// askOrg is where a person asks the hot line from: a member from their
// home organisation, someone who is only a supporter from the first
// organisation they support (about joining the union).
func askOrg(active []storage.Membership) (storage.Org, bool) {
	if org, ok := homeOrg(active); ok {
		return org, true
	}
	if orgs := access.SupportedOrgs(active); len(orgs) > 0 {
		return orgs[0], true
	}
	return storage.Org{}, false
}

// cmdAsk starts a question to the hot line.
func (h *Hub) cmdAsk(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	org, ok := askOrg(active)
	if !ok {
		return s.reply(ctx, s.t("ask.not_member"), s.mainMenu(ctx))
	}
	c := &conversation{Flow: flowAsk, Step: stepTopic, OrgID: org.ID}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.askPrompt(ctx, s, c)
}

// askPrompt shows the question of the ask conversation's step.
func (h *Hub) askPrompt(ctx context.Context, s *session, c *conversation) error {
	data := func(action string) string { return askButton{Action: action, Step: c.Step}.data() }
	cancel := bot.Button{Text: s.t("reg.button_cancel"), Data: data(askCancel)}
	switch c.Step {
	case stepTopic:
		active, err := s.activeRoles(ctx)
		if err != nil {
			return err
		}
		if access.SupporterIn(active, c.OrgID) {
			// A supporter asks about joining the union, and nothing else.
			c.Topic, c.Step = hotline.TopicJoining, stepQuestion
			if c.Question != "" {
				c.Step = stepAttach
			}
			if err := s.saveConversation(ctx, c); err != nil {
				return err
			}
			return h.askPrompt(ctx, s, c)
		}
		var kb bot.Keyboard
		for i, t := range h.HotlineSettings.Topics {
			b := bot.Button{Text: h.topicName(s.lang, t.ID), Data: askButton{Action: askTopic, Step: c.Step, Topic: t.ID}.data()}
			if i%2 == 0 {
				kb = append(kb, []bot.Button{b})
			} else {
				kb[len(kb)-1] = append(kb[len(kb)-1], b)
			}
		}
		return s.reply(ctx, s.t("ask.topic"), append(kb, []bot.Button{cancel}))
	case stepQuestion:
		return s.reply(ctx, s.plural("ask.question", hotline.MaxText, "Topic", h.topicName(s.lang, c.Topic)), bot.Keyboard{{cancel}})
	case stepAttach:
		// The question is taken: it can go now, or files can come first.
		text := s.t("ask.attach_none")
		if len(c.Attachments) > 0 {
			text = s.plural("ask.attach", len(c.Attachments))
		}
		return s.reply(ctx, text, bot.Keyboard{
			{{Text: s.t("ask.button_send"), Data: data(askSend)}},
			{{Text: s.t("ask.button_next"), Data: data(askNext)}, cancel},
		})
	case stepConfirm:
		yesNo := func(v bool) string {
			if v {
				return s.t("ask.yes")
			}
			return s.t("ask.no")
		}
		text := s.t("ask.summary", "Topic", h.topicName(s.lang, c.Topic), "Question", c.Question,
			"ShareName", yesNo(c.ShareName), "KeepText", yesNo(c.KeepText)) +
			"\n" + s.plural("ask.attachments", len(c.Attachments))
		return s.reply(ctx, text, bot.Keyboard{
			{{Text: s.t("ask.button_send"), Data: data(askSend)}},
			{{Text: s.t("ask.button_share"), Data: data(askShare)}},
			{{Text: s.t("ask.button_keep"), Data: data(askKeep)}},
			{cancel},
		})
	}
	return fmt.Errorf("ask prompt: unknown step %q", c.Step)
}

// onAskButton takes the buttons of the ask conversation; each names its
// step, so a stale one does nothing.
func (h *Hub) onAskButton(ctx context.Context, s *session) error {
	b, ok := parseAskButton(s.u.Callback.Data)
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if ok && b.Action == askCancel && c.Flow == flowAsk {
		// Cancel from any step drops the draft at once.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ask.cancelled"), s.mainMenu(ctx))
	}
	if !ok || c.Flow != flowAsk || b.Step != c.Step || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	switch {
	case b.Action == askTopic:
		if _, ok := h.HotlineSettings.Topic(b.Topic); !ok || b.Topic == hotline.TopicJoining {
			return s.notice(ctx, "error.stale_button")
		}
		c.Topic, c.Step = b.Topic, stepQuestion
		if c.Question != "" { // a text the member wrote first becomes the question
			c.Step = stepAttach
		}
	case b.Action == askNext && c.Step == stepAttach:
		c.Step = stepConfirm
	case b.Action == askShare && c.Step == stepConfirm:
		c.ShareName = !c.ShareName
	case b.Action == askKeep && c.Step == stepConfirm:
		c.KeepText = !c.KeepText
	case b.Action == askSend && (c.Step == stepConfirm || c.Step == stepAttach):
		return h.submitTicket(ctx, s, c)
	default:
		return s.notice(ctx, "error.stale_button")
	}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.askPrompt(ctx, s, c)
}

// askText takes the question and its attachments.
func (h *Hub) askText(ctx context.Context, s *session, c *conversation) error {
	refuse := func(bad *inputError) error {
		if err := s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)}); err != nil {
			return err
		}
		return h.askPrompt(ctx, s, c)
	}
	if s.u.HasMedia {
		return refuse(&inputError{key: "ask.unsupported_media"})
	}
	switch c.Step {
	case stepQuestion:
		if len(s.u.Attachments) > 0 && strings.TrimSpace(s.u.Text) == "" {
			return refuse(&inputError{key: "ask.text_first"})
		}
		text, bad := cleanTicketText(s.u.Text)
		if bad != nil {
			return refuse(bad)
		}
		c.Question, c.Step = text, stepAttach
	case stepAttach:
		if text := strings.TrimSpace(s.u.Text); text != "" {
			joined, bad := cleanTicketText(c.Question + "\n" + text)
			if bad != nil {
				return refuse(bad)
			}
			c.Question = joined
		}
	default:
		return refuse(&inputError{key: "input.use_buttons"})
	}
	if len(c.Attachments)+len(s.u.Attachments) > hotline.MaxFiles {
		return refuse(&inputError{key: "ask.too_many_files", limit: hotline.MaxFiles})
	}
	c.Attachments = append(c.Attachments, s.u.Attachments...)
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.askPrompt(ctx, s, c)
}

// cleanTicketText is cleanLongText for questions and answers.
func cleanTicketText(text string) (string, *inputError) {
	return cleanLongText(text, hotline.MaxText, false)
}

// cleanLongText is cleanText for messages of several lines: line breaks
// and tabs are welcome, other control characters are not; the limit counts
// UTF-16 units, as Telegram does (an emoji takes two). With emptyOK an
// empty text passes (a photo without a caption).
func cleanLongText(text string, limit int, emptyOK bool) (string, *inputError) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" && emptyOK {
		return "", nil
	}
	if _, bad := cleanText(strings.NewReplacer("\n", " ", "\t", " ").Replace(text), limit); bad != nil {
		return "", bad
	}
	if len(utf16.Encode([]rune(text))) > limit {
		return "", &inputError{key: "input.too_long", limit: limit}
	}
	return text, nil
}

// submitTicket commits the question, tells the responders, then the member:
// "accepted, № N" is only said once the ticket exists.
func (h *Hub) submitTicket(ctx context.Context, s *session, c *conversation) error {
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	asked, err := h.Hotline.Ask(ctx, by, hotline.Question{OrgID: c.OrgID, Topic: c.Topic,
		Message: hotline.Message{Text: c.Question, Files: c.Attachments}, ShareName: c.ShareName, KeepText: c.KeepText})
	switch {
	case errors.Is(err, access.ErrForbidden):
		// No longer a member where the question started.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("ask.not_member"), s.mainMenu(ctx))
	case errors.Is(err, hotline.ErrUnknownTopic):
		// The deployment dropped the topic meanwhile: the draft stays, and
		// the member picks another.
		c.Topic, c.Step = "", stepTopic
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.askPrompt(ctx, s, c)
	case err != nil:
		return err
	}
	// The ticket is committed: a failure to drop the draft is logged, not
	// returned, and it is dropped even when the update's time is up, so that
	// a retried "Send" cannot create the ticket twice.
	if err := s.endConversation(context.WithoutCancel(ctx)); err != nil {
		h.Logger.WarnContext(ctx, "end ask conversation", "ticket", asked.Ticket.ID, "err", err)
	}
	if !asked.Answerable {
		// Nobody can answer yet: the member is told so, and whoever may
		// take it finds it in their list once they are in the bot.
		return s.reply(ctx, s.t("ask.accepted_waiting", "ID", asked.Ticket.ID, "Org", asked.Level.Name), s.mainMenu(ctx))
	}
	return s.reply(ctx, s.t("ask.accepted", "ID", asked.Ticket.ID, "Org", asked.Level.Name), s.mainMenu(ctx))
}

// zone is an org's time zone, the programme's region when unknown.
func zone(o storage.Org) *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil && o.TimeZone != "" {
		return loc
	}
	loc, _ := time.LoadLocation(storage.DefaultTimeZone)
	return loc
}
