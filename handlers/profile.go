package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// mainMenu is the keyboard of a registered person: what every member can
// do, and a button to the tools their roles allow, if any.
func (s *session) mainMenu(ctx context.Context) bot.Keyboard {
	if s.person == nil {
		return nil
	}
	t := s.t
	// Suggesting news is a member's; a supporter asks to join instead.
	var member []bot.Button
	active, err := s.activeRoles(ctx)
	if err != nil {
		s.hub.Logger.WarnContext(ctx, "load roles for the menu", "err", err)
	}
	supported := access.SupportedOrgs(active)
	if err != nil || access.Member(active) || len(supported) == 0 {
		member = append(member, bot.Button{Text: t("menu.button_suggest"), Data: menuButton{Item: "suggest"}.data()})
	}
	if len(supported) > 0 {
		member = append(member, bot.Button{Text: t("menu.button_join"), Data: menuButton{Item: "join"}.data()})
	}
	kb := bot.Keyboard{
		{{Text: t("menu.button_ask"), Data: menuButton{Item: "ask"}.data()}, {Text: t("menu.button_my"), Data: menuButton{Item: "my"}.data()}},
		member,
		{{Text: t("menu.button_profile"), Data: menuButton{Item: "profile"}.data()}, {Text: t("menu.button_lang"), Data: menuButton{Item: "lang"}.data()}},
		{{Text: t("menu.button_link"), Data: menuButton{Item: "link"}.data()}, {Text: t("menu.button_help"), Data: menuButton{Item: "help"}.data()}},
		{{Text: t("menu.button_forget"), Data: menuButton{Item: "forget"}.data()}},
	}
	if len(s.tools(ctx)) > 0 {
		kb = append(kb, []bot.Button{{Text: t("menu.button_tools"), Data: menuButton{Item: "tools"}.data()}})
	}
	return kb
}

// tool is an entry of the tools screen: the menu item it opens and the
// right it needs.
type tool struct {
	item, key string
	act       access.Action // "" for answering the hot line, which named responders have too
}

// tools lists, in the order shown, what chairs, information workers,
// responders and the Union's staff do from the menu.
var tools = []tool{
	{"news", "menu.button_news", access.ActPublish},
	{"suggestions", "menu.button_suggestions", access.ActPublish},
	{"tickets", "menu.button_tickets", ""},
	{"pending", "menu.button_pending", access.ActApprove},
	{"surveys", "menu.button_surveys", access.ActMonitoring},
	{"monitoring", "menu.button_monitoring", access.ActMonitoring},
	{"stats", "menu.button_stats", access.ActHotlineStats},
	{"responders", "menu.button_responders", access.ActNameResponders},
	{"console", "menu.button_console", access.ActConsole},
}

// tools returns the tools the person's roles allow, worked out once per
// update. A failure to load the roles shows no tools: the commands behind
// them check the rights again anyway.
func (s *session) tools(ctx context.Context) []tool {
	if s.toolsLoaded || s.person == nil {
		return s.allowedTools
	}
	s.toolsLoaded = true
	active, err := s.activeRoles(ctx)
	if err != nil {
		s.hub.Logger.WarnContext(ctx, "load roles for the menu", "err", err)
		return nil
	}
	for _, tl := range tools {
		allowed := false
		if tl.act == "" {
			roots, err := s.hub.answerRoots(ctx, s)
			if err != nil {
				s.hub.Logger.WarnContext(ctx, "load responder rights for the menu", "err", err)
			}
			allowed = len(roots) > 0
		} else {
			allowed = len(access.ManagedOrgs(active, tl.act)) > 0
		}
		if allowed {
			s.allowedTools = append(s.allowedTools, tl)
		}
	}
	return s.allowedTools
}

// showTools shows the tools screen: two buttons a row, within the
// platforms' inline limits, and the way back.
func (h *Hub) showTools(ctx context.Context, s *session) error {
	allowed := s.tools(ctx)
	if len(allowed) == 0 {
		return s.refuse(ctx, "error.not_allowed")
	}
	var kb bot.Keyboard
	for i, tl := range allowed {
		b := bot.Button{Text: s.t(tl.key), Data: cbMenu + ":" + tl.item}
		if i%2 == 0 {
			kb = append(kb, []bot.Button{b})
		} else {
			kb[len(kb)-1] = append(kb[len(kb)-1], b)
		}
	}
	kb = append(kb, []bot.Button{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}})
	return s.reply(ctx, s.t("menu.tools"), kb)
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
	pending, err := h.pendingFor(ctx, s)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		text += "\n" + s.plural("menu.pending_approvals", len(pending))
	}
	return s.reply(ctx, text, s.mainMenu(ctx))
}

func (h *Hub) onMenuButton(ctx context.Context, s *session) error {
	b, ok := parseMenuButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	switch b.Item {
	case "profile":
		return h.cmdProfile(ctx, s)
	case "ask":
		return h.cmdAsk(ctx, s)
	case "my":
		return h.cmdMy(ctx, s)
	case "suggest":
		return h.cmdSuggest(ctx, s)
	case "join":
		return h.cmdJoin(ctx, s)
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
	case "tools":
		return h.showTools(ctx, s)
	case "suggestions":
		return h.cmdSuggestions(ctx, s)
	case "tickets":
		return h.cmdTickets(ctx, s)
	case "pending":
		return h.cmdPending(ctx, s)
	case "monitoring":
		return h.cmdMonitoring(ctx, s)
	case "stats":
		return h.cmdStats(ctx, s)
	case "responders":
		return h.cmdResponders(ctx, s)
	case "console":
		return h.cmdConsole(ctx, s)
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
		return s.reply(ctx, s.t("help.stranger"), bot.Keyboard{{{Text: s.t("reg.button_begin"), Data: regButton{Action: regBegin}.data()}}})
	}
	return s.reply(ctx, s.t("help.text"), s.mainMenu(ctx))
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
		return false, s.notice(ctx, "error.register_first")
	}
	return false, s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: s.t("error.not_registered"),
		Keyboard: bot.Keyboard{{{Text: s.t("reg.button_begin"), Data: regButton{Action: regBegin}.data()}}}})
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
	edit := func(f membership.Field) string { return profileButton{Action: profEdit, Field: f}.data() }
	return s.reply(ctx, b.String(), bot.Keyboard{
		{{Text: s.t("profile.button_name"), Data: edit(membership.FieldName)}, {Text: s.t("profile.button_position"), Data: edit(membership.FieldPosition)}},
		{{Text: s.t("profile.button_work_email"), Data: edit(membership.FieldWorkEmail)}, {Text: s.t("profile.button_personal_email"), Data: edit(membership.FieldPersonalEmail)}},
		{{Text: s.t("menu.button_back"), Data: menuButton{Item: "main"}.data()}},
	})
}

// Actions of the profile's buttons.
const (
	profEdit    = "edit"
	profConsent = "consent"
	profClear   = "clear"
)

// profileButton edits the profile: "prof:edit:name" asks for a field,
// "prof:consent" gives the consent a personal address needs, and
// "prof:clear:position" empties a field.
type profileButton struct {
	Action string
	Field  membership.Field // of edit and clear
}

func (b profileButton) data() string {
	if b.Action == profConsent {
		return joinData(cbProfile, b.Action)
	}
	return joinData(cbProfile, b.Action, string(b.Field))
}

func parseProfileButton(data string) (profileButton, bool) {
	if f, ok := fieldsOf(data, cbProfile, 1); ok && f[0] == profConsent {
		return profileButton{Action: profConsent}, true
	}
	f, ok := fieldsOf(data, cbProfile, 2)
	if !ok || (f[0] != profEdit && f[0] != profClear) {
		return profileButton{}, false
	}
	field, ok := membership.ParseField(f[1])
	return profileButton{Action: f[0], Field: field}, ok
}

// askKeys are the questions that ask for each field.
var askKeys = map[membership.Field]string{
	membership.FieldName:          "profile.ask_name",
	membership.FieldPosition:      "profile.ask_position",
	membership.FieldWorkEmail:     "profile.ask_work_email",
	membership.FieldPersonalEmail: "profile.ask_personal_email",
}

func (h *Hub) onProfileButton(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	b, ok := parseProfileButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	switch {
	case b.Action == profEdit:
		return h.editField(ctx, s, b.Field)
	case b.Action == profConsent && c.Flow == flowProfile && c.Step == stepPersonalAccept:
		// The consent is recorded with the address it covers, in saveField.
		c.Step, c.PersonalOfferAt = stepEdit, h.Clock()
		if err := s.saveConversation(ctx, c); err != nil {
			return err
		}
		return h.askField(ctx, s, membership.Field(c.Field))
	case b.Action == profClear && c.Flow == flowProfile && c.Field == string(b.Field) && b.Field.Clearable():
		return h.saveField(ctx, s, c, "")
	}
	return s.notice(ctx, "error.stale_button")
}

// editField starts editing a field: a personal address asks its own
// consent first.
func (h *Hub) editField(ctx context.Context, s *session, f membership.Field) error {
	next := &conversation{Flow: flowProfile, Step: stepEdit, Field: string(f)}
	if f.NeedsConsent(*s.person) {
		next.Step = stepPersonalAccept
		if err := s.saveConversation(ctx, next); err != nil {
			return err
		}
		return s.reply(ctx, s.t("profile.personal_consent"), bot.Keyboard{
			{{Text: s.t("reg.button_personal_consent"), Data: profileButton{Action: profConsent}.data()}},
			{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}},
		})
	}
	if err := s.saveConversation(ctx, next); err != nil {
		return err
	}
	return h.askField(ctx, s, f)
}

func (h *Hub) askField(ctx context.Context, s *session, f membership.Field) error {
	row := []bot.Button{{Text: s.t("reg.button_cancel"), Data: menuButton{Item: "main"}.data()}}
	if f.Clearable() {
		row = append([]bot.Button{{Text: s.t("profile.button_clear"), Data: profileButton{Action: profClear, Field: f}.data()}}, row...)
	}
	return s.reply(ctx, s.t(askKeys[f]), bot.Keyboard{row})
}

// profileText takes a typed new value for the field being edited.
func (h *Hub) profileText(ctx context.Context, s *session, c *conversation) error {
	field, ok := membership.ParseField(c.Field)
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
	value, bad := cleanField(field, s.u.Text)
	if s.u.HasMedia || len(s.u.Attachments) > 0 {
		bad = &inputError{key: "input.media"}
	}
	if bad != nil {
		if err := s.send(ctx, bot.Message{ChatID: s.u.Chat.ID, Text: bad.message(s)}); err != nil {
			return err
		}
		return h.askField(ctx, s, field)
	}
	return h.saveField(ctx, s, c, value)
}

// saveField stores the edited field and shows the profile; a personal
// address no longer covered by a consent asks for one again.
func (h *Hub) saveField(ctx context.Context, s *session, c *conversation, value string) error {
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	field := membership.Field(c.Field)
	p, err := h.Membership.EditProfile(ctx, act, membership.Edit{Field: field, Value: value,
		ConsentAt: c.PersonalOfferAt, ConsentVersion: locales.ConsentVersion, Locale: s.lang})
	if errors.Is(err, membership.ErrConsentNeeded) {
		return h.editField(ctx, s, field)
	}
	if err != nil {
		return err
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
		{Text: s.t("lang.name_ru"), Data: langButton{Lang: "ru"}.data()}, {Text: s.t("lang.name_en"), Data: langButton{Lang: "en"}.data()},
	}})
}

// onLangButton switches the language; a conversation in progress is shown
// again in the new language.
func (h *Hub) onLangButton(ctx context.Context, s *session) error {
	b, ok := parseLangButton(s.u.Callback.Data)
	if !ok {
		return s.notice(ctx, "error.stale_button")
	}
	lang := b.Lang
	s.lang = lang
	if s.person != nil {
		act, err := s.actor(ctx)
		if err != nil {
			return err
		}
		p, err := h.Membership.SetLocale(ctx, act, lang)
		if err != nil {
			return err
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
		{Text: s.t("forget.button_yes"), Data: forgetButton{Yes: true}.data()}, {Text: s.t("reg.button_cancel"), Data: forgetButton{}.data()},
	}})
}

// forgetButton answers whether to erase the person: "forget:yes", or
// "forget:no" to keep everything.
type forgetButton struct {
	Yes bool
}

func (b forgetButton) data() string {
	if b.Yes {
		return joinData(cbForget, "yes")
	}
	return joinData(cbForget, "no")
}

func parseForgetButton(data string) (forgetButton, bool) {
	f, ok := fieldsOf(data, cbForget, 1)
	if !ok || (f[0] != "yes" && f[0] != "no") {
		return forgetButton{}, false
	}
	return forgetButton{Yes: f[0] == "yes"}, true
}

func (h *Hub) onForgetButton(ctx context.Context, s *session) error {
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	// Anything but a yes keeps everything.
	if b, _ := parseForgetButton(s.u.Callback.Data); !b.Yes {
		return h.showMenu(ctx, s, "menu.title")
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	if err := h.Membership.Forget(ctx, act); err != nil {
		return err
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
