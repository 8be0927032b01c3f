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
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

// pickPageSize keeps the org picker within VK's six keyboard rows.
const pickPageSize = 5

// regBegin is the action of the button that starts a registration.
const regBegin = "begin"

// regButton answers the registration conversation. Every action but
// regBegin names the Step it answers, so that a stale button cannot act on
// a later step: "reg:begin", "reg:accept:consent".
type regButton struct {
	Action, Step string
}

func (b regButton) data() string {
	if b.Step == "" {
		return joinData(cbReg, b.Action)
	}
	return joinData(cbReg, b.Action, b.Step)
}

func parseRegButton(data string) (regButton, bool) {
	if f, ok := fieldsOf(data, cbReg, 1); ok && f[0] == regBegin {
		return regButton{Action: regBegin}, true
	}
	f, ok := fieldsOf(data, cbReg, 2)
	if !ok || f[0] == regBegin || f[1] == "" {
		return regButton{}, false
	}
	return regButton{Action: f[0], Step: f[1]}, true
}

// pickButton moves through the org picker: with Open it lists the children
// of OrgID (0: the top of the tree) at Page, "pick:n:5:0"; without, it
// chooses OrgID, "pick:s:12".
type pickButton struct {
	Open  bool
	OrgID int64
	Page  int
}

func (b pickButton) data() string {
	if b.Open {
		return joinData(cbPick, "n", strconv.FormatInt(b.OrgID, 10), strconv.Itoa(b.Page))
	}
	return joinData(cbPick, "s", idData(b.OrgID))
}

func parsePickButton(data string) (pickButton, bool) {
	if f, ok := fieldsOf(data, cbPick, 3); ok && f[0] == "n" {
		parent, err1 := strconv.ParseInt(f[1], 10, 64)
		page, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil || parent < 0 || page < 0 {
			return pickButton{}, false
		}
		return pickButton{Open: true, OrgID: parent, Page: page}, true
	}
	if f, ok := fieldsOf(data, cbPick, 2); ok && f[0] == "s" {
		id, ok := idField(f[1])
		return pickButton{OrgID: id}, ok
	}
	return pickButton{}, false
}

// langButton switches the language the person reads: "lang:en".
type langButton struct {
	Lang string
}

func (b langButton) data() string { return joinData(cbLang, b.Lang) }

func parseLangButton(data string) (langButton, bool) {
	f, ok := fieldsOf(data, cbLang, 1)
	if !ok || locales.Normalize(f[0]) != f[0] {
		return langButton{}, false
	}
	return langButton{Lang: f[0]}, true
}

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
	if text := strings.TrimSpace(s.u.Text); orgs.LooksLikeInviteCode(text) {
		return h.startWithInvite(ctx, s, text)
	}
	return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("reg.stranger"), Keyboard: bot.Keyboard{
		{{Text: s.t("reg.button_begin"), Data: regButton{Action: regBegin}.data()}},
		{{Text: s.t("lang.button_other"), Data: langButton{Lang: otherLang(s.lang)}.data()}},
	}})
}

// startWithInvite opens an invite: someone registered joins its
// organisation at once, anyone else starts registering into it.
func (h *Hub) startWithInvite(ctx context.Context, s *session, code string) error {
	inv, err := h.Membership.OpenInvite(ctx, code)
	if key := inviteErrorKey(err); key != "" {
		return s.reply(ctx, s.t(key), nil)
	}
	if err != nil {
		return err
	}
	if s.person != nil {
		act, err := s.actor(ctx)
		if err != nil {
			return err
		}
		m, err := h.Membership.Join(ctx, act, inv)
		if key := inviteErrorKey(err); key != "" {
			return s.reply(ctx, s.t(key), s.mainMenu(ctx))
		}
		if err != nil {
			return err
		}
		s.loadedRoles = false
		if m.Role != inv.Invite.Role {
			// A member opening the public invite stays what they are.
			return s.reply(ctx, s.t("invite.already_in", "Org", inv.Org.Name, "Role", s.t(roleKey(m.Role))), s.mainMenu(ctx))
		}
		return s.reply(ctx, s.t("invite.joined", "Org", inv.Org.Name, "Role", s.t(roleKey(m.Role))), s.mainMenu(ctx))
	}
	conv, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	next := &conversation{Flow: flowRegister, Step: stepConsent, Lang: conv.Lang, OrgID: inv.Org.ID, Role: inv.Invite.Role, Invite: code}
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

// inviteErrorKey explains why an invite cannot be used; "" when it can, or
// when err is not about the invite.
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
	data := func(action string) string { return regButton{Action: action, Step: c.Step}.data() }
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
		switch {
		case c.Role == storage.RoleSupporter:
			text = s.t("reg.greeting_supporter", "Org", org.Name)
		case c.Role.Elevated():
			text += "\n" + s.t("reg.greeting_role", "Role", s.t(roleKey(c.Role)))
		}
		text += "\n\n" + s.t("consent.text", "Version", locales.ConsentVersion)
		return s.reply(ctx, text, bot.Keyboard{
			{{Text: s.t("reg.button_accept"), Data: data("accept")}, {Text: s.t("reg.button_decline"), Data: data("decline")}},
			{{Text: s.t("lang.button_other"), Data: langButton{Lang: otherLang(s.lang)}.data()}},
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
		summary := s.t("reg.summary",
			"Org", org.Name, "Role", s.t(roleKey(c.Role)), "Name", c.FullName,
			"Position", orNone(s, c.Position), "WorkEmail", orNone(s, c.WorkEmail), "PersonalEmail", orNone(s, c.PersonalEmail))
		if c.Role == storage.RoleSupporter {
			// A supporter gives their name and nothing else.
			summary = s.t("reg.summary_supporter", "Org", org.Name, "Name", c.FullName)
		}
		return s.reply(ctx, summary, bot.Keyboard{
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
		value, bad = cleanField(membership.FieldName, s.u.Text)
		c.FullName, next = value, stepPosition
		if c.Role == storage.RoleSupporter {
			next = stepConfirm
		}
	case stepPosition:
		value, bad = cleanField(membership.FieldPosition, s.u.Text)
		c.Position, next = value, stepWorkEmail
	case stepWorkEmail:
		value, bad = cleanField(membership.FieldWorkEmail, s.u.Text)
		c.WorkEmail, next = value, stepPersonalOffer
	case stepPersonalEmail:
		value, bad = cleanField(membership.FieldPersonalEmail, s.u.Text)
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
	b, ok := parseRegButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if b.Action == regBegin {
		switch {
		case s.person != nil:
			return h.showMenu(ctx, s, "menu.welcome_back")
		case c.Flow != "":
			return s.notice(ctx, "error.stale_button")
		}
		return h.startWithoutCode(ctx, s)
	}
	if b.Action == "cancel" && c.Flow == flowRegister && s.person == nil {
		// A cancel is never stale: whatever was typed goes at once, from
		// whichever step's button.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("reg.cancelled"), nil)
	}
	if c.Flow != flowRegister || b.Step != c.Step || s.person != nil {
		return s.notice(ctx, "error.stale_button")
	}
	now := h.Clock()
	switch action := b.Action; {
	case action == "accept" && c.Step == stepConsent:
		// The consent stays in the chat as the person agreed to it.
		s.spendPressed(ctx)
		c.ConsentAt, c.Step = now, stepName
	case action == "decline" && c.Step == stepConsent:
		if err := h.Membership.Decline(ctx, membership.Refusal{OrgID: c.OrgID, ConsentVersion: locales.ConsentVersion, Locale: s.lang}); err != nil {
			return err
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
		s.spendPressed(ctx) // the consent to the personal address stays too
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
	app, err := h.Membership.Register(ctx, membership.Form{
		Account:  membership.Account{Platform: storage.Platform(s.u.Platform), ExternalID: s.u.From.ID},
		FullName: c.FullName, Position: c.Position, WorkEmail: c.WorkEmail, PersonalEmail: c.PersonalEmail,
		Locale: s.lang, ConsentVersion: locales.ConsentVersion, ConsentAt: c.ConsentAt, PersonalConsentAt: c.PersonalOfferAt,
		OrgID: c.OrgID, Role: c.Role, InviteCode: c.Invite,
	})
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
		return err
	}
	person, m := app.Applicant, app.Membership
	s.person = &person
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	if m.Status == storage.StatusActive {
		return s.reply(ctx, s.t("reg.done", "Name", person.FullName, "Org", m.Org.Name, "Role", s.t(roleKey(m.Role))), s.mainMenu(ctx))
	}
	return s.reply(ctx, s.t("reg.pending", "Org", m.Org.Name), nil)
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
	up := bot.Button{Text: s.t("reg.button_up"), Data: pickButton{Open: true, OrgID: parent.ParentID}.data()}
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
		c := choice{label: "🏢 " + o.Name, data: pickButton{OrgID: o.ID}.data()}
		if !membership.Applicable(o) {
			c = choice{label: "📂 " + o.Name, data: pickButton{Open: true, OrgID: o.ID}.data()}
		}
		choices = append(choices, c)
	}
	list, kb := numbered(choices)
	var nav []bot.Button
	if page > 0 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_prev"), Data: pickButton{Open: true, OrgID: parentID, Page: page - 1}.data()})
	}
	if parent.ParentID != 0 {
		nav = append(nav, up)
	}
	if page < pages-1 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_next"), Data: pickButton{Open: true, OrgID: parentID, Page: page + 1}.data()})
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	heading := s.t("reg.pick")
	if parent.ID != 0 {
		heading = s.t("reg.pick_in", "Org", parent.Name)
	}
	text := heading + "\n" + s.plural("reg.pick_count", len(children), "Page", page+1, "Pages", pages) + "\n" + list
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
	b, ok := parsePickButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	if b.Open {
		if b.OrgID != 0 {
			org, err := h.Store.Org(ctx, b.OrgID)
			if errors.Is(err, storage.ErrNotFound) || (err == nil && membership.Applicable(org)) {
				return s.notice(ctx, "error.stale_button")
			}
			if err != nil {
				return fmt.Errorf("load org: %w", err)
			}
		}
		c.PickParent, c.PickPage = b.OrgID, b.Page
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.showPicker(ctx, s, b.OrgID, b.Page)
	}
	org, err := h.Store.Org(ctx, b.OrgID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !membership.Applicable(org)) {
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

func roleKey(r storage.Role) string {
	switch r {
	case storage.RoleActivist:
		return "role.activist"
	case storage.RoleInfoworker:
		return "role.infoworker"
	case storage.RoleChair:
		return "role.chair"
	case storage.RoleAdmin:
		return "role.admin"
	case storage.RoleSupporter:
		return "role.supporter"
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
	labels := make([]string, len(choices))
	seen := map[string]bool{}
	unique := true
	for i, c := range choices {
		label := fmt.Sprintf("%d. %s", i+1, c.label)
		text.WriteString("\n" + label)
		labels[i] = shortLabel(label)
		// Two names cut to the same words would read the same but for
		// their numbers: then the numbers alone say it, the text has names.
		rest := strings.TrimPrefix(labels[i], fmt.Sprintf("%d. ", i+1))
		unique = unique && !seen[rest]
		seen[rest] = true
	}
	var kb bot.Keyboard
	for i, c := range choices {
		if unique {
			kb = append(kb, []bot.Button{{Text: labels[i], Data: c.data}})
			continue
		}
		b := bot.Button{Text: strconv.Itoa(i + 1), Data: c.data}
		if i%bot.MaxButtonsPerRow == 0 {
			kb = append(kb, []bot.Button{b})
		} else {
			kb[len(kb)-1] = append(kb[len(kb)-1], b)
		}
	}
	return text.String(), kb
}

// shortLabel cuts a button label to the platforms' limit at a word, marking
// the cut, so that a cut is ours and reads well.
func shortLabel(label string) string {
	r := []rune(label)
	if len(r) <= bot.MaxButtonLabel {
		return label
	}
	cut := string(r[:bot.MaxButtonLabel-1])
	if i := strings.LastIndex(cut, " "); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:-—") + "…"
}
