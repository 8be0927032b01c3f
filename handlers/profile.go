package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// mainMenu is the keyboard of a registered person.
func mainMenu(h *Hub, lang string) bot.Keyboard {
	t := func(key string) string { return h.Catalog.T(lang, key) }
	return bot.Keyboard{
		{{Text: t("menu.button_ask"), Data: cbMenu + ":ask"}, {Text: t("menu.button_my"), Data: cbMenu + ":my"}},
		{{Text: t("menu.button_profile"), Data: cbMenu + ":profile"}, {Text: t("menu.button_lang"), Data: cbMenu + ":lang"}},
		{{Text: t("menu.button_suggest"), Data: cbMenu + ":suggest"}, {Text: t("menu.button_news"), Data: cbMenu + ":news"}},
		{{Text: t("menu.button_link"), Data: cbMenu + ":link"}, {Text: t("menu.button_help"), Data: cbMenu + ":help"}},
		{{Text: t("menu.button_surveys"), Data: cbMenu + ":surveys"}, {Text: t("menu.button_forget"), Data: cbMenu + ":forget"}},
	}
}

func (s *session) mainMenu() bot.Keyboard {
	if s.person == nil {
		return nil
	}
	return mainMenu(s.hub, s.lang)
}

// showMenu shows the main menu under a heading; a person still waiting for
// approval is told so.
func (h *Hub) showMenu(ctx context.Context, s *session, headingKey string) error {
	if s.person == nil {
		return h.greetStranger(ctx, s)
	}
	text := s.t(headingKey)
	ms, err := s.roles(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Status == storage.StatusPending {
			text += "\n" + s.t("menu.pending", "Org", m.Org.Name)
		}
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	pending, err := h.pendingFor(ctx, active)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		text += "\n" + s.plural("menu.pending_approvals", len(pending))
	}
	return s.reply(ctx, text, s.mainMenu())
}

func (h *Hub) onMenuButton(ctx context.Context, s *session) error {
	_, item, _ := strings.Cut(s.u.Callback.Data, ":")
	switch item {
	case "profile":
		return h.cmdProfile(ctx, s)
	case "ask":
		return h.cmdAsk(ctx, s)
	case "my":
		return h.cmdMy(ctx, s)
	case "suggest":
		return h.cmdSuggest(ctx, s)
	case "news":
		return h.cmdNews(ctx, s)
	case "lang":
		return h.cmdLang(ctx, s)
	case "link":
		return h.cmdLink(ctx, s)
	case "help":
		return h.cmdHelp(ctx, s)
	case "forget":
		return h.cmdForget(ctx, s)
	case "surveys":
		return h.cmdSurveys(ctx, s)
	case "main":
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return h.showMenu(ctx, s, "menu.title")
	}
	return s.notice(ctx, "error.stale_button")
}

func (h *Hub) cmdMenu(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	return h.showMenu(ctx, s, "menu.title")
}

func (h *Hub) cmdHelp(ctx context.Context, s *session) error {
	if !s.private() {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("help.group")})
	}
	if s.person == nil {
		return s.reply(ctx, s.t("help.stranger"), bot.Keyboard{{{Text: s.t("reg.button_begin"), Data: cbReg + ":begin"}}})
	}
	return s.reply(ctx, s.t("help.text"), s.mainMenu())
}

func (h *Hub) cmdCancel(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	if s.person == nil {
		return s.reply(ctx, s.t("reg.cancelled"), nil)
	}
	return h.showMenu(ctx, s, "menu.cancelled")
}

// requireRegistered answers someone unregistered and reports whether the
// command may go on.
func (h *Hub) requireRegistered(ctx context.Context, s *session) (bool, error) {
	if s.person != nil {
		return true, nil
	}
	if s.u.Callback != nil {
		return false, s.notice(ctx, "error.not_registered")
	}
	return false, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_registered"),
		Keyboard: bot.Keyboard{{{Text: s.t("reg.button_begin"), Data: cbReg + ":begin"}}}})
}

func (h *Hub) cmdProfile(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	return h.showProfile(ctx, s, "")
}

// showProfile shows what the bot keeps about the person, with edit buttons.
func (h *Hub) showProfile(ctx context.Context, s *session, headingKey string) error {
	p := s.person
	ms, err := s.roles(ctx)
	if err != nil {
		return err
	}
	accounts, err := h.Store.Accounts(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	var b strings.Builder
	if headingKey != "" {
		b.WriteString(s.t(headingKey) + "\n\n")
	}
	b.WriteString(s.t("profile.card", "Name", p.FullName, "Position", orNone(s, p.Position),
		"WorkEmail", orNone(s, p.WorkEmail), "PersonalEmail", orNone(s, p.PersonalEmail)))
	for _, m := range ms {
		switch m.Status {
		case storage.StatusActive:
			b.WriteString("\n" + s.t("profile.membership", "Org", m.Org.Name, "Role", s.t(roleKey(m.Role))))
		case storage.StatusPending:
			b.WriteString("\n" + s.t("profile.membership_pending", "Org", m.Org.Name, "Role", s.t(roleKey(m.Role))))
		}
	}
	var platforms []string
	for _, a := range accounts {
		platforms = append(platforms, s.t(platformKey(a.Platform)))
	}
	b.WriteString("\n" + s.plural("profile.platforms", len(platforms), "List", strings.Join(platforms, ", ")))
	return s.reply(ctx, b.String(), bot.Keyboard{
		{{Text: s.t("profile.button_name"), Data: cbProfile + ":edit:name"}, {Text: s.t("profile.button_position"), Data: cbProfile + ":edit:position"}},
		{{Text: s.t("profile.button_work_email"), Data: cbProfile + ":edit:work_email"}, {Text: s.t("profile.button_personal_email"), Data: cbProfile + ":edit:personal_email"}},
		{{Text: s.t("menu.button_back"), Data: cbMenu + ":main"}},
	})
}

// profileFields are the editable fields; only the name cannot be cleared.
var profileFields = map[string]struct {
	askKey string
	clean  func(string) (string, *inputError)
	patch  func(v string) storage.ProfilePatch
}{
	"name":           {"profile.ask_name", cleanName, func(v string) storage.ProfilePatch { return storage.ProfilePatch{FullName: &v} }},
	"position":       {"profile.ask_position", cleanPosition, func(v string) storage.ProfilePatch { return storage.ProfilePatch{Position: &v} }},
	"work_email":     {"profile.ask_work_email", cleanEmail, func(v string) storage.ProfilePatch { return storage.ProfilePatch{WorkEmail: &v} }},
	"personal_email": {"profile.ask_personal_email", cleanEmail, func(v string) storage.ProfilePatch { return storage.ProfilePatch{PersonalEmail: &v} }},
}

func (h *Hub) onProfileButton(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) < 2 {
		return s.notice(ctx, "error.stale_button")
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	switch {
	case len(parts) == 3 && parts[1] == "edit":
		field, ok := profileFields[parts[2]]
		if !ok {
			return s.notice(ctx, "error.stale_button")
		}
		next := &conversation{Flow: flowProfile, Step: stepEdit, Field: parts[2]}
		if parts[2] == "personal_email" && s.person.PersonalEmail == "" {
			// A personal address needs its own consent first.
			next.Step = stepPersonalAccept
			if err := s.saveConversation(ctx, next); err != nil {
				return err
			}
			return s.reply(ctx, s.t("profile.personal_consent"), bot.Keyboard{
				{{Text: s.t("reg.button_personal_consent"), Data: cbProfile + ":consent"}},
				{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}},
			})
		}
		if err := s.saveConversation(ctx, next); err != nil {
			return err
		}
		return h.askField(ctx, s, parts[2], field.askKey)
	case len(parts) == 2 && parts[1] == "consent" && c.Flow == flowProfile && c.Step == stepPersonalAccept:
		// The consent is recorded with the address it covers, in saveField.
		c.Step, c.PersonalOfferAt = stepEdit, h.Clock()
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.askField(ctx, s, c.Field, profileFields[c.Field].askKey)
	case len(parts) == 3 && parts[1] == "clear" && c.Flow == flowProfile && c.Field == parts[2] && parts[2] != "name":
		return h.saveField(ctx, s, c, "")
	}
	return s.notice(ctx, "error.stale_button")
}

func (h *Hub) askField(ctx context.Context, s *session, field, askKey string) error {
	row := []bot.Button{{Text: s.t("reg.button_cancel"), Data: cbMenu + ":main"}}
	if field != "name" {
		row = append([]bot.Button{{Text: s.t("profile.button_clear"), Data: cbProfile + ":clear:" + field}}, row...)
	}
	return s.reply(ctx, s.t(askKey), bot.Keyboard{row})
}

// profileText takes a typed new value for the field being edited.
func (h *Hub) profileText(ctx context.Context, s *session, c *conversation) error {
	field, ok := profileFields[c.Field]
	if s.person == nil || !ok {
		// The person was erased meanwhile, on this or their other platform.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_registered")})
	}
	if c.Step != stepEdit {
		return s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("input.use_buttons")})
	}
	value, bad := field.clean(s.u.Text)
	if s.u.HasMedia || len(s.u.Attachments) > 0 {
		bad = &inputError{key: "input.media"}
	}
	if bad != nil {
		if err := s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)}); err != nil {
			return err
		}
		return h.askField(ctx, s, c.Field, field.askKey)
	}
	return h.saveField(ctx, s, c, value)
}

// saveField stores the edited field. A personal address is kept only with
// its consent: giving one records the consent, clearing one withdraws it.
func (h *Hub) saveField(ctx context.Context, s *session, c *conversation, value string) error {
	field := c.Field
	if field == "personal_email" {
		consent := storage.Consent{PersonID: s.person.ID, Kind: storage.ConsentPersonalEmail,
			Version: locales.ConsentVersion, Locale: s.lang, Accepted: value != "", At: h.Clock()}
		if value != "" && !c.PersonalOfferAt.IsZero() {
			consent.At = c.PersonalOfferAt
		}
		if value == "" || !c.PersonalOfferAt.IsZero() {
			if err := h.Store.RecordConsent(ctx, consent); err != nil {
				return fmt.Errorf("record consent: %w", err)
			}
		}
	}
	p, err := h.Store.UpdateProfile(ctx, s.person.ID, profileFields[field].patch(value))
	if err != nil {
		return fmt.Errorf("update profile: %w", err)
	}
	s.person = &p
	if err := s.endConversation(ctx); err != nil {
		return err
	}
	return h.showProfile(ctx, s, "profile.saved")
}

func (h *Hub) cmdLang(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	return s.reply(ctx, s.t("lang.choose"), bot.Keyboard{{
		{Text: s.t("lang.name_ru"), Data: cbLang + ":ru"}, {Text: s.t("lang.name_en"), Data: cbLang + ":en"},
	}})
}

// onLangButton switches the language; a conversation in progress is shown
// again in the new language.
func (h *Hub) onLangButton(ctx context.Context, s *session) error {
	_, lang, _ := strings.Cut(s.u.Callback.Data, ":")
	if locales.Normalize(lang) != lang {
		return s.notice(ctx, "error.stale_button")
	}
	s.lang = lang
	if s.person != nil {
		p, err := h.Store.UpdateProfile(ctx, s.person.ID, storage.ProfilePatch{Locale: &lang})
		if err != nil {
			return fmt.Errorf("update locale: %w", err)
		}
		s.person = &p
		return h.showMenu(ctx, s, "lang.changed")
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	c.Lang = lang
	if err := s.saveConversation(ctx, c); err != nil {
		return err
	}
	if c.Flow == flowRegister {
		return h.prompt(ctx, s, c)
	}
	return h.greetStranger(ctx, s)
}

func (h *Hub) cmdForget(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if s.person == nil {
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return s.reply(ctx, s.t("forget.nothing"), nil)
	}
	return s.reply(ctx, s.t("forget.confirm"), bot.Keyboard{{
		{Text: s.t("forget.button_yes"), Data: cbForget + ":yes"}, {Text: s.t("reg.button_cancel"), Data: cbForget + ":no"},
	}})
}

func (h *Hub) onForgetButton(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	if s.u.Callback.Data != cbForget+":yes" {
		return h.showMenu(ctx, s, "menu.title")
	}
	if err := h.Store.Forget(ctx, s.person.ID, h.Clock()); err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	if err := h.State.Delete(ctx, conversationKey(s.u)); err != nil {
		return fmt.Errorf("delete conversation: %w", err)
	}
	s.person = nil
	return s.reply(ctx, s.t("forget.done"), nil)
}

func platformKey(p storage.Platform) string {
	if p == storage.VK {
		return "platform.vk"
	}
	return "platform.telegram"
}
