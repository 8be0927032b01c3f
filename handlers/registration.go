package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// pickPageSize keeps the org picker within VK's six keyboard rows.
const pickPageSize = 5

// cmdStart opens the bot: with an invite code, a link code, or nothing.
func (h *Hub) cmdStart(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	payload := strings.TrimSpace(s.u.Args)
	switch {
	case strings.HasPrefix(payload, linkPayloadPrefix):
		return h.useLinkCode(ctx, s, strings.TrimPrefix(payload, linkPayloadPrefix))
	case payload != "":
		return h.startWithInvite(ctx, s, payload)
	case s.person != nil:
		return h.showMenu(ctx, s, "menu.welcome_back")
	}
	return h.startWithoutCode(ctx, s)
}

// greetStranger answers someone unregistered who just wrote something.
func (h *Hub) greetStranger(ctx context.Context, s *session) error {
	if text := strings.TrimSpace(s.u.Text); looksLikeInviteCode(text) {
		return h.startWithInvite(ctx, s, text)
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("reg.stranger"), Keyboard: bot.Keyboard{
		{{Text: s.t("reg.button_begin"), Data: cbReg + ":begin"}},
		{{Text: s.t("lang.button_other"), Data: cbLang + ":" + otherLang(s.lang)}},
	}})
}

func (h *Hub) startWithInvite(ctx context.Context, s *session, code string) error {
	inv, err := h.Store.Invite(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return s.reply(ctx, s.t("invite.unknown"), nil)
	}
	if err != nil {
		return fmt.Errorf("look up invite: %w", err)
	}
	if err := inv.Usable(h.Clock()); err != nil {
		return s.reply(ctx, s.t(inviteErrorKey(err)), nil)
	}
	org, err := h.Store.Org(ctx, inv.OrgID)
	if err != nil {
		return fmt.Errorf("load invite org: %w", err)
	}
	if s.person != nil {
		m, err := h.Store.JoinByInvite(ctx, s.person.ID, code, h.Clock())
		if key := inviteErrorKey(err); key != "" {
			return s.reply(ctx, s.t(key), s.mainMenu())
		}
		if err != nil {
			return fmt.Errorf("join by invite: %w", err)
		}
		s.loadedRoles = false
		return s.reply(ctx, s.t("invite.joined", "Org", org.Name, "Role", s.t(roleKey(m.Role))), s.mainMenu())
	}
	conv, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	next := &conversation{Flow: flowRegister, Step: stepConsent, Lang: conv.Lang, OrgID: org.ID, Role: inv.Role, Invite: code}
	if err := s.saveConversation(ctx, next); err != nil {
		return err
	}
	return h.prompt(ctx, s, next)
}

func (h *Hub) startWithoutCode(ctx context.Context, s *session) error {
	conv, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	next := &conversation{Flow: flowRegister, Step: stepPick, Lang: conv.Lang, Role: storage.RoleMember}
	if err := s.saveConversation(ctx, next); err != nil {
		return err
	}
	return h.prompt(ctx, s, next)
}

// inviteErrorKey explains why an invite cannot be used; "" when it can.
func inviteErrorKey(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, storage.ErrNotFound):
		return "invite.unknown"
	case errors.Is(err, storage.ErrInviteExpired):
		return "invite.expired"
	case errors.Is(err, storage.ErrInviteRevoked):
		return "invite.revoked"
	case errors.Is(err, storage.ErrInviteUsedUp):
		return "invite.used_up"
	}
	return ""
}

// prompt shows the question of the conversation's current step.
func (h *Hub) prompt(ctx context.Context, s *session, c *conversation) error {
	// Buttons name the step they answer, so a stale one cannot act on a later step.
	data := func(action string) string { return cbReg + ":" + action + ":" + c.Step }
	cancel := bot.Button{Text: s.t("reg.button_cancel"), Data: data("cancel")}
	skip := bot.Button{Text: s.t("reg.button_skip"), Data: data("skip")}
	switch c.Step {
	case stepPick:
		return h.showPicker(ctx, s, c.PickParent, c.PickPage)
	case stepConsent:
		org, err := h.Store.Org(ctx, c.OrgID)
		if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
		text := s.t("reg.greeting", "Org", org.Name)
		if c.Role.Elevated() {
			text += "\n" + s.t("reg.greeting_role", "Role", s.t(roleKey(c.Role)))
		}
		text += "\n\n" + s.t("consent.text", "Version", locales.ConsentVersion)
		return s.reply(ctx, text, bot.Keyboard{
			{{Text: s.t("reg.button_accept"), Data: data("accept")}, {Text: s.t("reg.button_decline"), Data: data("decline")}},
			{{Text: s.t("lang.button_other"), Data: cbLang + ":" + otherLang(s.lang)}},
		})
	case stepName:
		return s.reply(ctx, s.t("reg.ask_name"), bot.Keyboard{{cancel}})
	case stepPosition:
		return s.reply(ctx, s.t("reg.ask_position"), bot.Keyboard{{skip, cancel}})
	case stepWorkEmail:
		return s.reply(ctx, s.t("reg.ask_work_email"), bot.Keyboard{{skip, cancel}})
	case stepPersonalOffer:
		return s.reply(ctx, s.t("reg.offer_personal_email"), bot.Keyboard{
			{{Text: s.t("reg.button_personal_consent"), Data: data("personal")}},
			{skip, cancel},
		})
	case stepPersonalEmail:
		return s.reply(ctx, s.t("reg.ask_personal_email"), bot.Keyboard{{skip, cancel}})
	case stepConfirm:
		org, err := h.Store.Org(ctx, c.OrgID)
		if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
		return s.reply(ctx, s.t("reg.summary",
			"Org", org.Name, "Role", s.t(roleKey(c.Role)), "Name", c.FullName,
			"Position", orNone(s, c.Position), "WorkEmail", orNone(s, c.WorkEmail), "PersonalEmail", orNone(s, c.PersonalEmail),
		), bot.Keyboard{
			{{Text: s.t("reg.button_confirm"), Data: data("confirm")}},
			{{Text: s.t("reg.button_restart"), Data: data("restart")}, cancel},
		})
	}
	return fmt.Errorf("prompt: unknown step %q", c.Step)
}

func orNone(s *session, v string) string {
	if v == "" {
		return s.t("profile.none")
	}
	return v
}

// registrationText takes a typed answer during registration.
func (h *Hub) registrationText(ctx context.Context, s *session, c *conversation) error {
	if s.u.HasMedia || len(s.u.Attachments) > 0 {
		return h.refuseInput(ctx, s, c, &inputError{key: "input.media"})
	}
	var (
		value string
		bad   *inputError
		next  string
	)
	switch c.Step {
	case stepName:
		value, bad = cleanName(s.u.Text)
		c.FullName, next = value, stepPosition
	case stepPosition:
		value, bad = cleanPosition(s.u.Text)
		c.Position, next = value, stepWorkEmail
	case stepWorkEmail:
		value, bad = cleanEmail(s.u.Text)
		c.WorkEmail, next = value, stepPersonalOffer
	case stepPersonalEmail:
		value, bad = cleanEmail(s.u.Text)
		c.PersonalEmail, next = value, stepConfirm
	default:
		// The step waits for a button.
		bad = &inputError{key: "input.use_buttons"}
	}
	if bad != nil {
		return h.refuseInput(ctx, s, c, bad)
	}
	c.Step = next
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.prompt(ctx, s, c)
}

// refuseInput explains what was wrong and asks the same question again; the
// conversation does not move.
func (h *Hub) refuseInput(ctx context.Context, s *session, c *conversation, bad *inputError) error {
	if err := s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)}); err != nil {
		return err
	}
	return h.prompt(ctx, s, c)
}

// onRegButton takes the buttons of the registration conversation. Every
// button but "begin" names its step and is stale once the step has passed.
func (h *Hub) onRegButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if len(parts) == 2 && parts[1] == "begin" {
		switch {
		case s.person != nil:
			return h.showMenu(ctx, s, "menu.welcome_back")
		case c.Flow != "":
			return s.notice(ctx, "error.stale_button")
		}
		return h.startWithoutCode(ctx, s)
	}
	if len(parts) != 3 || c.Flow != flowRegister || parts[2] != c.Step || s.person != nil {
		return s.notice(ctx, "error.stale_button")
	}
	now := h.Clock()
	switch action := parts[1]; {
	case action == "cancel":
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("reg.cancelled"), nil)
	case action == "accept" && c.Step == stepConsent:
		c.ConsentAt, c.Step = now, stepName
	case action == "decline" && c.Step == stepConsent:
		refusal := storage.Consent{OrgID: c.OrgID, Kind: storage.ConsentPersonalData, Version: locales.ConsentVersion, Locale: s.lang, At: now}
		if err := h.Store.RecordRefusal(ctx, refusal); err != nil {
			return fmt.Errorf("record refusal: %w", err)
		}
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("reg.declined"), nil)
	case action == "skip" && c.Step == stepPosition:
		c.Position, c.Step = "", stepWorkEmail
	case action == "skip" && c.Step == stepWorkEmail:
		c.WorkEmail, c.Step = "", stepPersonalOffer
	case action == "skip" && (c.Step == stepPersonalOffer || c.Step == stepPersonalEmail):
		c.PersonalEmail, c.PersonalOfferAt, c.Step = "", time.Time{}, stepConfirm
	case action == "personal" && c.Step == stepPersonalOffer:
		c.PersonalOfferAt, c.Step = now, stepPersonalEmail
	case action == "restart" && c.Step == stepConfirm:
		// Start the answers afresh: nothing of the first pass may slip through.
		c = &conversation{Flow: flowRegister, Step: stepName, Lang: c.Lang, OrgID: c.OrgID, Role: c.Role,
			Invite: c.Invite, PickParent: c.PickParent, PickPage: c.PickPage, ConsentAt: c.ConsentAt}
	case action == "confirm" && c.Step == stepConfirm:
		return h.completeRegistration(ctx, s, c)
	default:
		return s.notice(ctx, "error.stale_button")
	}
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	return h.prompt(ctx, s, c)
}

// completeRegistration commits the registration, then tells the person:
// "registered" is only said after the commit.
func (h *Hub) completeRegistration(ctx context.Context, s *session, c *conversation) error {
	now := h.Clock()
	reg := storage.Registration{
		Platform: storage.Platform(s.u.Platform), ExternalID: s.u.From.ID,
		FullName: c.FullName, Position: c.Position, WorkEmail: c.WorkEmail, PersonalEmail: c.PersonalEmail,
		Locale: s.lang, OrgID: c.OrgID, Role: c.Role, InviteCode: c.Invite, At: now,
		Consents: []storage.Consent{{OrgID: c.OrgID, Kind: storage.ConsentPersonalData, Version: locales.ConsentVersion, Locale: s.lang, Accepted: true, At: c.ConsentAt}},
	}
	if c.PersonalEmail != "" {
		reg.Consents = append(reg.Consents, storage.Consent{OrgID: c.OrgID, Kind: storage.ConsentPersonalEmail, Version: locales.ConsentVersion, Locale: s.lang, Accepted: true, At: c.PersonalOfferAt})
	}
	person, m, err := h.Store.Register(ctx, reg)
	if key := inviteErrorKey(err); key != "" {
		if endErr := s.endConversation(ctx); endErr != nil {
			return endErr
		}
		return s.reply(ctx, s.t(key), nil)
	}
	if errors.Is(err, storage.ErrAlreadyRegistered) {
		if endErr := s.endConversation(ctx); endErr != nil {
			return endErr
		}
		return s.reply(ctx, s.t("reg.already_registered"), nil)
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	s.person = &person
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	if m.Status == storage.StatusActive {
		return s.reply(ctx, s.t("reg.done", "Name", person.FullName, "Org", m.Org.Name, "Role", s.t(roleKey(m.Role))), s.mainMenu())
	}
	if err := s.reply(ctx, s.t("reg.pending", "Org", m.Org.Name), nil); err != nil {
		return err
	}
	return h.requestApproval(ctx, person, m)
}

// showPicker lists the children of parent as buttons: branches open, primaries
// are chosen. With a single root the list starts below it.
func (h *Hub) showPicker(ctx context.Context, s *session, parentID int64, page int) error {
	children, err := h.Store.ChildOrgs(ctx, parentID)
	if err != nil {
		return fmt.Errorf("list orgs: %w", err)
	}
	var parent storage.Org
	if parentID == 0 && len(children) == 1 {
		parent = children[0]
		if children, err = h.Store.ChildOrgs(ctx, parent.ID); err != nil {
			return fmt.Errorf("list orgs: %w", err)
		}
	} else if parentID != 0 {
		if parent, err = h.Store.Org(ctx, parentID); err != nil {
			return fmt.Errorf("load org: %w", err)
		}
	}
	up := bot.Button{Text: s.t("reg.button_up"), Data: fmt.Sprintf("%s:n:%d:0", cbPick, parent.ParentID)}
	if len(children) == 0 {
		var kb bot.Keyboard
		if parentID != 0 {
			kb = bot.Keyboard{{up}}
		}
		return s.reply(ctx, s.t("reg.pick_empty"), kb)
	}
	pages := (len(children) + pickPageSize - 1) / pickPageSize
	page = min(max(page, 0), pages-1)
	var choices []choice
	for _, o := range children[page*pickPageSize : min(len(children), (page+1)*pickPageSize)] {
		c := choice{label: "🏢 " + o.Name, data: cbPick + ":s:" + strconv.FormatInt(o.ID, 10)}
		if o.Level != storage.LevelPrimary {
			c = choice{label: "📂 " + o.Name, data: cbPick + ":n:" + strconv.FormatInt(o.ID, 10) + ":0"}
		}
		choices = append(choices, c)
	}
	list, kb := numbered(choices)
	var nav []bot.Button
	if page > 0 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_prev"), Data: fmt.Sprintf("%s:n:%d:%d", cbPick, parentID, page-1)})
	}
	if parent.ParentID != 0 {
		nav = append(nav, up)
	}
	if page < pages-1 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_next"), Data: fmt.Sprintf("%s:n:%d:%d", cbPick, parentID, page+1)})
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	text := s.t("reg.pick", "Org", parent.Name) + "\n" + s.plural("reg.pick_count", len(children), "Page", page+1, "Pages", pages) + "\n" + list
	return s.reply(ctx, text, kb)
}

// onPickButton moves through the org picker or chooses a primary organisation.
func (h *Hub) onPickButton(ctx context.Context, s *session) error {
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if c.Flow != flowRegister || c.Step != stepPick || s.person != nil {
		return s.notice(ctx, "error.stale_button")
	}
	parts := strings.Split(s.u.Callback.Data, ":")
	switch {
	case len(parts) == 4 && parts[1] == "n":
		parent, err1 := strconv.ParseInt(parts[2], 10, 64)
		page, err2 := strconv.Atoi(parts[3])
		if err1 != nil || err2 != nil || parent < 0 || page < 0 {
			return s.notice(ctx, "error.stale_button")
		}
		if parent != 0 {
			org, err := h.Store.Org(ctx, parent)
			if errors.Is(err, storage.ErrNotFound) || (err == nil && org.Level == storage.LevelPrimary) {
				return s.notice(ctx, "error.stale_button")
			}
			if err != nil {
				return fmt.Errorf("load org: %w", err)
			}
		}
		c.PickParent, c.PickPage = parent, page
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.showPicker(ctx, s, parent, page)
	case len(parts) == 3 && parts[1] == "s":
		id, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			return s.notice(ctx, "error.stale_button")
		}
		org, err := h.Store.Org(ctx, id)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && org.Level != storage.LevelPrimary) {
			return s.notice(ctx, "error.stale_button")
		}
		if err != nil {
			return fmt.Errorf("load org: %w", err)
		}
		c.OrgID, c.Step = org.ID, stepConsent
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.prompt(ctx, s, c)
	}
	return s.notice(ctx, "error.stale_button")
}

func roleKey(r storage.Role) string {
	switch r {
	case storage.RoleActivist:
		return "role.activist"
	case storage.RoleInfoworker:
		return "role.infoworker"
	case storage.RoleChair:
		return "role.chair"
	}
	return "role.member"
}

func otherLang(lang string) string {
	if lang == "en" {
		return "ru"
	}
	return "en"
}

// choice is one option of a list the person picks from.
type choice struct{ label, data string }

// numbered lists choices in the text, in full and numbered, with a button
// per choice carrying the same number: platforms cut long labels (VK at 40
// characters) and official organisation names are long.
func numbered(choices []choice) (string, bot.Keyboard) {
	var text strings.Builder
	var kb bot.Keyboard
	for i, c := range choices {
		label := fmt.Sprintf("%d. %s", i+1, c.label)
		text.WriteString("\n" + label)
		kb = append(kb, []bot.Button{{Text: label, Data: c.data}})
	}
	return text.String(), kb
}
