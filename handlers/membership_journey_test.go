package handlers_test

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// The fine-grained cases of registration, approval, profiles, linking,
// erasure and chat binding, on the fast rig; cmd/unionhub walks the same
// flows end to end over the platform fakes.

var bothPlatforms = []bot.Platform{bot.Telegram, bot.VK}

// onBoth runs f on a fresh rig per platform, in parallel.
func onBoth(t *testing.T, f func(t *testing.T, r *chatRig, plat bot.Platform)) {
	t.Helper()
	for _, plat := range bothPlatforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			f(t, newChatRig(t), plat)
		})
	}
}

// pickData is the data of the button for the line of m naming org: the
// buttons carry "N. name", or the number alone when cut names would read
// the same.
func pickData(t testing.TB, m *shown, org string) string {
	t.Helper()
	for _, line := range strings.Split(m.text, "\n") {
		num, rest, ok := strings.Cut(line, ". ")
		if !ok || !strings.Contains(rest, org) {
			continue
		}
		for _, row := range m.kb {
			for _, b := range row {
				if b.Text == num || strings.HasPrefix(b.Text, num+". ") {
					return b.Data
				}
			}
		}
	}
	t.Fatalf("no button for %q in %q (%v)", org, m.text, m.labels())
	return ""
}

// pick presses the button for the line of m naming org.
func (c *chatter) pick(m *shown, org string) {
	c.r.t.Helper()
	c.pressData(m, pickData(c.r.t, m, org))
}

// answerUpToSummary agrees to the consent shown, gives a name, skips the
// rest and returns the summary.
func (c *chatter) answerUpToSummary(name string) *shown {
	c.r.t.Helper()
	c.press(c.expect("Согласие на обработку"), "Согласен")
	c.expect("фамилию, имя")
	c.say(name)
	c.press(c.expect("должность"), "Пропустить")
	c.press(c.expect("Рабочий адрес"), "Пропустить")
	c.press(c.expect("личный адрес"), "Пропустить")
	return c.expect("Проверьте")
}

// apply registers without a code into the primary org reached by picking
// the lines naming path.
func (c *chatter) apply(name string, path ...string) {
	c.r.t.Helper()
	c.say("/start")
	m := c.expect("Выберите вашу организацию")
	for i, step := range path {
		c.pick(m, step)
		if i < len(path)-1 {
			m = c.expect("Выберите вашу организацию")
		}
	}
	c.press(c.answerUpToSummary(name), "Всё верно")
	c.expect("Заявка отправлена")
}

// personOf is the person behind the chatter's account.
func (c *chatter) personOf() (storage.Person, error) {
	return c.r.store.PersonByAccount(c.r.ctx, storage.Platform(c.platform), c.user.ID)
}

// mustPerson is personOf that fails the test without one.
func (c *chatter) mustPerson() storage.Person {
	c.r.t.Helper()
	p, err := c.personOf()
	if err != nil {
		c.r.t.Fatalf("%s %s: %v", c.platform, c.user.ID, err)
	}
	return p
}

// sendPhoto sends a photo with a caption.
func (c *chatter) sendPhoto(caption string) {
	c.r.t.Helper()
	c.deliver(&bot.Update{Text: caption, HasMedia: true})
}

// stateOf lists the live state keys that name the account.
func (c *chatter) stateOf() []string {
	var keys []string
	for k := range c.r.state.Snapshot() {
		if strings.HasSuffix(k, ":"+string(c.platform)+":"+c.user.ID) {
			keys = append(keys, k)
		}
	}
	return keys
}

// groupChat is a group where chatters write.
type groupChat struct {
	r        *chatRig
	platform bot.Platform
	id       string
	title    string
	seen     map[string]string
}

func (r *chatRig) group(p bot.Platform, id, title string) *groupChat {
	return &groupChat{r: r, platform: p, id: id, title: title, seen: map[string]string{}}
}

func (g *groupChat) deliver(from *chatter, u *bot.Update) {
	g.r.t.Helper()
	g.r.updates++
	u.Platform, u.ID, u.From, u.At = g.platform, strconv.Itoa(g.r.updates), from.user, g.r.clock.Now()
	u.Chat = bot.Chat{ID: g.id, Kind: bot.ChatGroup, Title: g.title}
	if err := g.r.handle(g.r.ctx, u); err != nil {
		g.r.t.Fatalf("group %s: handling %+v: %v", g.id, u, err)
	}
}

// say writes text in the group as from.
func (g *groupChat) say(from *chatter, text string) {
	g.r.t.Helper()
	u := &bot.Update{Text: text}
	u.Command, u.Args = bot.ParseCommand(text)
	g.deliver(from, u)
}

// pick presses, as from, the button for the line of m naming org, and
// returns the notice the press was answered with.
func (g *groupChat) pick(from *chatter, m *shown, org string) string {
	g.r.t.Helper()
	id := fmt.Sprintf("press-%d", g.r.updates+1)
	g.deliver(from, &bot.Update{Callback: &bot.Callback{ID: id, Data: pickData(g.r.t, m, org), MessageID: m.id}})
	s := g.r.senders[g.platform]
	s.mu.Lock()
	defer s.mu.Unlock()
	if answers := s.answers[id]; len(answers) > 0 {
		return answers[0]
	}
	return ""
}

// expect returns the oldest message of the group, new since last seen,
// that contains every part.
func (g *groupChat) expect(parts ...string) *shown {
	g.r.t.Helper()
	s := g.r.senders[g.platform]
	s.mu.Lock()
	msgs := make([]shown, 0, len(s.chats[g.id]))
	for _, m := range s.chats[g.id] {
		msgs = append(msgs, *m)
	}
	s.mu.Unlock()
	for i := range msgs {
		m := &msgs[i]
		if g.seen[m.id] == m.text {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m.text, p)
		}
		if ok {
			g.seen[m.id] = m.text
			return m
		}
	}
	g.r.t.Fatalf("group %s: no new message containing %q in %d messages", g.id, parts, len(msgs))
	return nil
}

// quiet checks that nothing new was said in the group.
func (g *groupChat) quiet() {
	g.r.t.Helper()
	s := g.r.senders[g.platform]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.chats[g.id] {
		if g.seen[m.id] != m.text {
			g.r.t.Fatalf("group %s: unexpected %q", g.id, m.text)
		}
	}
}

func TestRegistrationByInviteKeepsEveryAnswerAndConsent(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		p := r.person(plat, 501, "Анна")
		p.say("/start " + r.invite("edu-school-5", storage.RoleMember))
		p.press(p.expect("ППО МАОУ СОШ № 5 г. Южно-Сахалинска", "Согласие на обработку персональных данных"), "Согласен")
		p.expect("фамилию, имя")
		name := "Иванова Анна 👩‍🔧 مرحبا"
		p.say(name)
		p.expect("должность")
		p.say("Учитель математики")
		p.expect("Рабочий адрес")
		p.say("ivanova@school5.ru")
		p.press(p.expect("личный адрес", "отдельного согласия"), "Согласен(на) указать")
		p.expect("Напишите личный адрес")
		p.say("anna.iv@mail.ru")
		summary := p.expect("Проверьте", name, "Учитель математики", "ivanova@school5.ru", "anna.iv@mail.ru")
		if _, err := p.personOf(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the person was kept before confirming: %v", err)
		}
		p.press(summary, "Всё верно")
		menu := p.expect(name + ", вы зарегистрированы: член профсоюза")
		p.press(menu, "Профиль")
		p.expect("ФИО: "+name, "Должность: Учитель математики", "Подключён 1 мессенджер")

		got := p.mustPerson()
		if got.Position != "Учитель математики" || got.WorkEmail != "ivanova@school5.ru" || got.PersonalEmail != "anna.iv@mail.ru" || got.Locale != "ru" {
			t.Fatalf("stored person %+v", got)
		}
		consents, err := r.store.Consents(r.ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(consents) != 2 || consents[0].Kind != storage.ConsentPersonalData || !consents[0].Accepted ||
			consents[1].Kind != storage.ConsentPersonalEmail || !consents[1].Accepted || consents[0].Version == "" {
			t.Fatalf("consents %+v", consents)
		}
		if keys := p.stateOf(); len(keys) != 0 {
			t.Fatalf("the finished registration left state %v", keys)
		}
	})
}

func TestRegistrationRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		p := r.person(plat, 601, "Пётр")
		p.say("/start " + r.invite("edu-school-5", storage.RoleChair))
		consent := p.expect("Согласие на обработку", "Роль: председатель")
		// Text where a button is expected: asked again, nothing taken.
		p.say("да, согласен")
		p.expect("кнопкой")
		p.expect("Согласие на обработку")
		p.press(consent, "Согласен")
		p.expect("фамилию, имя")
		for _, bad := range []struct{ text, want string }{
			{"   ", "Пустой ответ"},
			{strings.Repeat("Щ", 5000), "не больше 200 символов"},
			{"Пётр\x07Петров", "служебные символы"},
			{"Пётр \u202eвортеП", "служебные символы"},
			{"1234", "должны быть буквы"},
		} {
			p.say(bad.text)
			p.expect(bad.want)
			p.expect("фамилию, имя")
		}
		p.sendPhoto("Пётр Петров")
		p.expect("вложения не принимаются")
		p.expect("фамилию, имя")
		p.say("Петров Пётр")
		p.press(p.expect("должность"), "Пропустить")
		p.expect("Рабочий адрес")
		p.say("not-an-address")
		p.expect("не похоже на адрес")
		p.press(p.expect("Рабочий адрес"), "Пропустить")
		p.press(p.expect("личный адрес"), "Пропустить")
		summary := p.expect("Проверьте", "ФИО: Петров Пётр", "Должность: —", "председатель")
		// A button of a step passed is stale and moves nothing.
		if got := p.press(consent, "Согласен"); !strings.Contains(got, "уже не действует") {
			t.Fatalf("a stale consent button was answered %q", got)
		}
		p.press(summary, "Всё верно")
		p.expect("вы зарегистрированы: председатель")
		got := p.mustPerson()
		if got.FullName != "Петров Пётр" || got.Position != "" || got.WorkEmail != "" {
			t.Fatalf("stored person %+v", got)
		}
	})
}

func TestRestartAndCancelDropWhatWasTyped(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		p := r.person(plat, 651, "Ольга")
		code := r.invite("edu-school-5", storage.RoleMember)
		p.say("/start " + code)
		p.press(p.expect("Согласие на обработку"), "Согласен")
		p.expect("фамилию, имя")
		p.say("Первая Ольга")
		p.say("Завуч")
		p.say("first@school5.ru")
		p.press(p.expect("личный адрес"), "Пропустить")
		p.press(p.expect("Проверьте", "Завуч"), "Исправить")
		p.expect("фамилию, имя")
		p.say("Вторая Ольга")
		p.press(p.expect("должность"), "Пропустить")
		p.press(p.expect("Рабочий адрес"), "Пропустить")
		p.press(p.expect("личный адрес"), "Пропустить")
		p.expect("Проверьте", "ФИО: Вторая Ольга", "Должность: —", "Рабочий e-mail: —")

		// Cancel from an earlier step's button ends it all at once.
		q := r.person(plat, 652, "Олег")
		q.say("/start " + code)
		q.press(q.expect("Согласие на обработку"), "Согласен")
		ask := q.expect("фамилию, имя")
		q.say("Отменов Олег")
		q.expect("должность")
		q.press(ask, "Отмена")
		q.expect("Регистрация отменена")
		for _, k := range q.stateOf() {
			if raw := r.state.Snapshot()[k]; strings.Contains(raw, "Отменов") {
				t.Fatalf("the cancelled name stayed in %s: %s", k, raw)
			}
		}
		if _, err := q.personOf(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a cancelled registration kept the person: %v", err)
		}
	})
}

func TestInvitesThatCannotBeUsed(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		school, err := r.store.OrgByCode(r.ctx, "edu-school-5")
		if err != nil {
			t.Fatal(err)
		}
		past := r.clock.Now().Add(-time.Hour)
		if err := r.store.CreateInvite(r.ctx, storage.Invite{Code: "expiredAAAAAAAAAAAAAAA", OrgID: school.ID, Role: storage.RoleMember, ExpiresAt: &past, CreatedAt: past}); err != nil {
			t.Fatal(err)
		}
		revoked := r.invite("edu-school-5", storage.RoleMember)
		if err := r.hub.Orgs.RevokeInvite(r.ctx, revoked); err != nil {
			t.Fatal(err)
		}
		single := r.invite("edu-school-5", storage.RoleChair)
		r.person(plat, 701, "Первый").register(single, "Первый Председатель")

		p := r.person(plat, 702, "Пётр")
		for _, tt := range []struct{ code, want string }{
			{"NoSuchCodeXXXXXXXXXXXX", "Такой ссылки-приглашения нет"},
			{"expiredAAAAAAAAAAAAAAA", "истёк"},
			{revoked, "отозвана"},
			{single, "максимальное число"},
		} {
			p.say("/start " + tt.code)
			p.expect(tt.want)
			// A pasted code is read as one too.
			p.say(tt.code)
			p.expect(tt.want)
		}
		if _, err := p.personOf(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("an unusable invite registered someone: %v", err)
		}
		if keys := p.stateOf(); len(keys) != 0 {
			t.Fatalf("an unusable invite started a conversation: %v", keys)
		}
	})
}

func TestDecliningTheConsentKeepsNothingOfThePerson(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		d := r.person(plat, 801, "Дмитрий")
		d.say("/start " + r.invite("edu-school-5", storage.RoleMember))
		d.press(d.expect("Согласие на обработку"), "Не согласен")
		d.expect("ничего не сохранили, кроме вашего отказа")
		if _, err := d.personOf(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a person who declined was stored: %v", err)
		}
		if keys := d.stateOf(); len(keys) != 0 {
			t.Fatalf("declining left state %v", keys)
		}
	})
}

func TestJoiningAnotherOrganisationByInvite(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		p := r.person(plat, 901, "Нина")
		p.register(r.invite("health", storage.RoleChair), "Двоева Нина")
		code := r.invite("edu", storage.RoleInfoworker)
		p.say("/start " + code)
		joined := p.expect("Готово: вы — информационный работник в организации «Областная организация профсоюза работников образования»")
		if len(joined.kb) == 0 {
			t.Fatal("joining did not end in the menu")
		}
		// The single use is spent.
		q := r.person(plat, 902, "Олег")
		q.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецов Олег")
		q.say("/start " + code)
		q.expect("максимальное число")
		ms, err := r.store.Memberships(r.ctx, p.mustPerson().ID)
		if err != nil || len(ms) != 2 {
			t.Fatalf("memberships %+v, %v", ms, err)
		}
		if ms, _ := r.store.Memberships(r.ctx, q.mustPerson().ID); len(ms) != 1 {
			t.Fatalf("a used-up invite gave a membership: %+v", ms)
		}
	})
}

func TestCodelessApplicationIsDecidedOnceByALeader(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 1001, "Мария")
		chair.register(r.invite("edu-school-5", storage.RoleChair), "Сидорова Мария Ивановна")
		info := r.person(plat, 1002, "Дарья")
		info.register(r.invite("edu-school-5", storage.RoleInfoworker), "Инфова Дарья")
		member := r.person(plat, 1003, "Олег")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецов Олег")

		s := r.person(plat, 1004, "Елена")
		s.say("/start")
		m := s.expect("Выберите вашу организацию", "2 организации, страница 1 из 1")
		// Two branch names cut to the buttons would read the same: the
		// buttons carry the numbers of the full names in the text.
		if m.labels()[0] != "1" {
			t.Fatalf("picker %q with buttons %v", m.text, m.labels())
		}
		s.say("школа 5")
		s.expect("кнопкой")
		m = s.expect("Выберите вашу организацию")
		s.pick(m, "работников образования")
		m = s.expect("Сейчас открыто: «Областная организация профсоюза работников образования»")
		s.press(m, "Выше")
		m = s.expect("2 организации")
		s.pick(m, "работников образования")
		s.pick(s.expect("работников образования"), "СОШ № 5")
		s.press(s.expect("ППО МАОУ СОШ № 5", "Согласие"), "Согласен")
		s.expect("фамилию, имя")
		s.say("Новикова Елена")
		s.say("Библиотекарь")
		s.press(s.expect("Рабочий адрес"), "Пропустить")
		s.press(s.expect("личный адрес"), "Пропустить")
		s.press(s.expect("Проверьте"), "Всё верно")
		s.expect("Заявка отправлена", "ППО МАОУ СОШ № 5")

		card := chair.expect("Новая заявка", "Новикова Елена", "должность: Библиотекарь")
		late := info.expect("Новая заявка", "Новикова Елена")
		applicant := s.mustPerson()
		ms, err := r.store.Memberships(r.ctx, applicant.ID)
		if err != nil || len(ms) != 1 || ms[0].Status != storage.StatusPending {
			t.Fatalf("applicant memberships %+v, %v", ms, err)
		}
		s.say("/menu")
		s.expect("ждёт решения")

		// A member's forged approval is refused and changes nothing.
		msgs := member.messages()
		forged := &msgs[len(msgs)-1]
		if got := member.pressData(forged, fmt.Sprintf("appr:%d:y", ms[0].ID)); !strings.Contains(got, "нет прав") {
			t.Fatalf("a member's forged approval was answered %q", got)
		}
		if got, _ := r.store.Membership(r.ctx, ms[0].ID); got.Status != storage.StatusPending {
			t.Fatalf("a forged approval made the membership %s", got.Status)
		}

		r.clock.Advance(30 * time.Minute)
		chair.press(card, "Принять")
		chair.expect("Заявка одобрена: Новикова Елена")
		approved := s.expect("Ваша заявка в организацию «ППО МАОУ СОШ № 5 г. Южно-Сахалинска» одобрена")
		s.press(approved, "Меню")
		s.expect("Главное меню")
		// The second leader's late press says who decided what, and when.
		r.clock.Advance(time.Hour)
		info.press(late, "Отклонить")
		info.expect("Заявку уже одобрил(а) Сидорова Мария Ивановна 02.03.2026 в 10:30", "Новикова Елена")
		got, err := r.store.Membership(r.ctx, ms[0].ID)
		if err != nil || got.Status != storage.StatusActive || got.DecidedBy != chair.mustPerson().ID {
			t.Fatalf("decided membership %+v, %v", got, err)
		}
	})
}

func TestRejectionClimbsTheTreeAndErases(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		// The polyclinic has no leaders in the bot: its branch decides.
		chair := r.person(plat, 1101, "Ирина")
		chair.register(r.invite("health", storage.RoleChair), "Врачова Ирина")
		s := r.person(plat, 1102, "Олег")
		s.apply("Отказов Олег", "здравоохранения", "поликлиника № 4")
		chair.expect("Новая заявка", "Отказов Олег", "поликлиника № 4")

		chair.say("/menu")
		chair.expect("1 заявка на вступление ждёт вашего решения")
		chair.say("/pending")
		chair.expect("Ждёт решения 1 заявка.")
		card := chair.expect("Новая заявка", "Отказов Олег")
		chair.press(card, "Отклонить")
		chair.expect("Заявка отклонена: Отказов Олег")
		s.expect("отклонена", "данные удалены")
		if _, err := s.personOf(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a rejected applicant's account survived: %v", err)
		}
		if keys := s.stateOf(); len(keys) != 0 {
			t.Fatalf("a rejected applicant left state %v", keys)
		}
		// The card pressed again says it was decided, naming nobody.
		chair.press(card, "Принять")
		chair.expect("Заявку уже отклонил(а) Врачова Ирина", "заявитель (его данные удалены)")
		chair.say("/pending")
		chair.expect("Заявок, ждущих решения, нет.")

		member := r.person(plat, 1103, "Член")
		member.register(r.invite("health-polyclinic-4", storage.RoleMember), "Простой Член")
		member.say("/pending")
		member.expect("нет прав")
	})
}

func TestProfileEditsAndLanguage(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		p := r.person(plat, 1201, "Профиль")
		p.register(r.invite("edu-gymnasium-1", storage.RoleMember), "Старое Имя")

		p.say("/profile")
		p.press(p.expect("ФИО: Старое Имя"), "ФИО")
		ask := p.expect("Напишите новые ФИО")
		if labels := ask.labels(); len(labels) != 1 {
			t.Fatalf("the name offers %v; it cannot be cleared", labels)
		}
		p.say(" ")
		p.expect("Пустой ответ")
		p.expect("Напишите новые ФИО")
		p.sendPhoto("Новое Имя")
		p.expect("вложения не принимаются")
		p.expect("Напишите новые ФИО")
		if got := p.mustPerson(); got.FullName != "Старое Имя" {
			t.Fatalf("a refused name changed the profile: %+v", got)
		}
		p.say("Новое Имя")
		m := p.expect("Сохранено.", "ФИО: Новое Имя")

		p.press(m, "Рабочий e-mail")
		p.expect("Напишите новый рабочий адрес")
		p.say("not-an-address")
		p.expect("не похоже на адрес")
		p.say("work@gymnasium1.ru")
		m = p.expect("Сохранено.", "Рабочий e-mail: work@gymnasium1.ru")

		p.press(m, "Личный e-mail")
		p.press(p.expect("отдельного согласия"), "Согласен(на) указать")
		p.expect("Напишите новый личный адрес")
		p.say("new@mail.ru")
		m = p.expect("Сохранено.", "Личный e-mail: new@mail.ru")
		// A kept address is changed without a new consent.
		p.press(m, "Личный e-mail")
		p.expect("Напишите новый личный адрес")
		p.say("newer@mail.ru")
		m = p.expect("Сохранено.", "Личный e-mail: newer@mail.ru")
		p.press(m, "Личный e-mail")
		p.press(p.expect("Напишите новый личный адрес"), "Очистить")
		p.expect("Сохранено.", "Личный e-mail: —")

		person := p.mustPerson()
		consents, err := r.store.Consents(r.ctx, person.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := consents[len(consents)-1]
		if person.FullName != "Новое Имя" || person.PersonalEmail != "" || person.WorkEmail != "work@gymnasium1.ru" || len(consents) != 3 ||
			consents[1].Kind != storage.ConsentPersonalEmail || !consents[1].Accepted ||
			last.Kind != storage.ConsentPersonalEmail || last.Accepted {
			t.Fatalf("after editing: %+v, consents %+v", person, consents)
		}

		p.say("/lang")
		p.press(p.expect("Выберите язык"), "English")
		p.expect("Language changed.")
		p.say("/profile")
		p.expect("Full name: Новое Имя", "1 messenger connected")
		if got := p.mustPerson(); got.Locale != "en" {
			t.Fatalf("locale %q", got.Locale)
		}
	})
}

// linkCode finds the code in a /link answer.
var linkCode = regexp.MustCompile(`Ваш код: ([A-Z2-9]{8})`)

func TestLinkingAcrossPlatforms(t *testing.T) {
	t.Parallel()
	for _, from := range bothPlatforms {
		to := bot.VK
		if from == bot.VK {
			to = bot.Telegram
		}
		t.Run(string(from)+"→"+string(to), func(t *testing.T) {
			t.Parallel()
			r := newChatRig(t)
			home := r.person(from, 1301, "Анна")
			home.register(r.invite("edu-school-5", storage.RoleActivist), "Смирнова Анна")
			home.say("/link")
			m := home.expect("Ваш код:")
			code := linkCode.FindStringSubmatch(m.text)[1]
			if labels := m.labels(); len(labels) != 2 || !strings.Contains(labels[0], map[bot.Platform]string{bot.Telegram: "Telegram", bot.VK: "ВКонтакте"}[to]) {
				t.Fatalf("the code's buttons %v", labels)
			}

			away := r.person(to, 1301, "Анна")
			away.say("/link AAAA2222")
			away.expect("Код не подошёл")
			away.say("/link " + strings.ToLower(code[:4]) + "-" + code[4:])
			away.expect("Смирнова Анна, мессенджер подключён")
			away.say("/profile")
			away.expect("ФИО: Смирнова Анна", "Подключено 2 мессенджера", "профсоюзный активист")
			if away.mustPerson().ID != home.mustPerson().ID {
				t.Fatal("the two accounts belong to different people")
			}
			away.say("/link " + code)
			away.expect("Код не подошёл")

			// Someone else's account is not taken over; the deep link works.
			other := r.person(from, 1302, "Борис")
			other.register(r.invite("edu-school-5", storage.RoleMember), "Борисов Борис")
			other.say("/link")
			code = linkCode.FindStringSubmatch(other.expect("Ваш код:").text)[1]
			away.say("/link " + code)
			away.expect("уже зарегистрирован на другого человека")
			fresh := r.person(to, 1302, "Борис")
			fresh.say("/start link-" + code)
			fresh.expect("Борисов Борис, мессенджер подключён")
		})
	}
}

func TestWrongLinkCodesAreCappedPerAccount(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		home := r.person(plat, 1401, "Анна")
		home.register(r.invite("edu-school-5", storage.RoleMember), "Смирнова Анна")
		guesser := r.person(plat, 1402, "Гадалка")
		for range 5 {
			guesser.say("/link AAAA2222")
			guesser.expect("Код не подошёл")
		}
		home.say("/link")
		code := linkCode.FindStringSubmatch(home.expect("Ваш код:").text)[1]
		guesser.say("/link " + code)
		guesser.expect("Слишком много неверных кодов")
		if _, err := guesser.personOf(); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a capped account was linked: %v", err)
		}
		r.clock.Advance(time.Hour + time.Minute)
		home.say("/link")
		code = linkCode.FindStringSubmatch(home.expect("Ваш код:").text)[1]
		guesser.say("/link " + code)
		guesser.expect("мессенджер подключён")
	})
}

func TestForgetErasesThePersonEverywhere(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		p := r.person(plat, 1501, "Фёдор")
		p.register(r.invite("health-polyclinic-4", storage.RoleActivist), "Фёдоров Фёдор")
		p.say("/link")
		code := linkCode.FindStringSubmatch(p.expect("Ваш код:").text)[1]
		otherPlat := bot.VK
		if plat == bot.VK {
			otherPlat = bot.Telegram
		}
		twin := r.person(otherPlat, 1501, "Фёдор")
		twin.say("/link WRONG222")
		twin.expect("Код не подошёл")
		twin.say("/link " + code)
		twin.expect("мессенджер подключён")
		// A question half-typed on the other platform.
		twin.say("/ask")
		twin.press(twin.expect("Выберите тему вопроса"), "Зарплата")
		twin.expect("Опишите вопрос")
		twin.say("Фёдоров Фёдор спрашивает о надбавке")
		if len(twin.stateOf()) != 2 {
			t.Fatalf("the other platform's state before: %v", twin.stateOf())
		}
		before := p.mustPerson()

		p.say("/forget")
		p.press(p.expect("Удалить ваши персональные данные"), "Отмена")
		p.expect("Главное меню")
		if _, err := p.personOf(); err != nil {
			t.Fatalf("Cancel erased the person: %v", err)
		}
		p.say("/forget")
		p.press(p.expect("Удалить ваши персональные данные"), "Да, удалить")
		p.expect("персональные данные удалены")
		for _, c := range []*chatter{p, twin} {
			if _, err := c.personOf(); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("the %s account survived: %v", c.platform, err)
			}
			if keys := c.stateOf(); len(keys) != 0 {
				t.Fatalf("the %s account's state survived: %v", c.platform, keys)
			}
		}
		for k, v := range r.state.Snapshot() {
			if strings.Contains(v, "Фёдоров") {
				t.Fatalf("the name stayed in %s", k)
			}
		}
		after, err := r.store.Person(r.ctx, before.ID)
		if err != nil || after.ErasedAt == nil || after.FullName != "" || after.Locale != "" {
			t.Fatalf("person after /forget: %+v, %v", after, err)
		}
		p.say("/profile")
		p.expect("Сначала зарегистрируйтесь")
		twin.say("Ещё текст")
		twin.expect("Здравствуйте! Это бот профсоюза")
		p.say("/forget")
		p.expect("не храним о вас никаких персональных данных")
	})
}

func TestBindingGroupChats(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, r *chatRig, plat bot.Platform) {
		chair := r.person(plat, 1601, "Вера")
		chair.register(r.invite("edu", storage.RoleChair), "Орлова Вера")
		member := r.person(plat, 1602, "Иван")
		member.register(r.invite("edu-school-5", storage.RoleMember), "Зайцев Иван")
		stranger := r.person(plat, 1603, "Гость")
		// Two roles at once: chair of health, information worker of edu's gymnasium.
		both := r.person(plat, 1604, "Нина")
		both.register(r.invite("health", storage.RoleChair), "Двоева Нина")
		both.say("/start " + r.invite("edu-gymnasium-1", storage.RoleInfoworker))
		both.expect("информационный работник")

		g := r.group(plat, "-42", "Чат СОШ № 5")
		g.say(member, "/bind")
		g.expect("только председатель или информационный работник")
		g.say(stranger, "/bind")
		g.expect("Сначала зарегистрируйтесь")
		g.say(chair, "/bind union")
		g.expect("только председатель или информационный работник")
		g.say(chair, "/bind nowhere")
		g.expect("Организации с кодом «nowhere» нет.")
		g.say(chair, "/bind")
		g.expect("Чат привязан к организации «Областная организация профсоюза работников образования»")
		g.say(chair, "/bind edu-school-5")
		g.expect("Чат привязан к организации «ППО МАОУ СОШ № 5")
		g.say(member, "/unbind")
		g.expect("только председатель или информационный работник")
		g.say(member, "просто сообщение в чате")
		g.quiet()

		// Someone with rights elsewhere cannot take the chat over.
		g.say(both, "/bind")
		choice := g.expect("К какой организации привязать этот чат?")
		if got := g.pick(both, choice, "здравоохранения"); !strings.Contains(got, "уже привязан") {
			t.Fatalf("taking over a bound chat was answered %q", got)
		}
		// A member pressing a leader's choice has no right of their own.
		if got := g.pick(member, choice, "Гимназия"); !strings.Contains(got, "только председатель") {
			t.Fatalf("a member's press was answered %q", got)
		}
		if got := g.pick(stranger, choice, "Гимназия"); !strings.Contains(got, "Сначала зарегистрируйтесь") {
			t.Fatalf("a stranger's press was answered %q", got)
		}
		b, err := r.store.ChatBinding(r.ctx, storage.Platform(plat), "-42")
		if err != nil {
			t.Fatal(err)
		}
		if org, _ := r.store.Org(r.ctx, b.OrgID); org.Code != "edu-school-5" || b.BoundBy != chair.mustPerson().ID || b.Title != "Чат СОШ № 5" {
			t.Fatalf("chat bound to %q: %+v", org.Code, b)
		}
		g.say(chair, "/unbind")
		g.expect("Чат отвязан от организации «ППО МАОУ СОШ № 5")
		g.say(chair, "/unbind")
		g.expect("ни к какой организации не привязан")
		if _, err := r.store.ChatBinding(r.ctx, storage.Platform(plat), "-42"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("binding after /unbind: %v", err)
		}

		// A free chat is bound to the org chosen from the list.
		g2 := r.group(plat, "-43", "Чат гимназии")
		g2.say(both, "/bind")
		g2.pick(both, g2.expect("К какой организации привязать этот чат?"), "Гимназия")
		g2.expect("Чат привязан к организации «ППО МБОУ Гимназия № 1")
		chair.say("/bind")
		chair.expect("работает в групповом чате")
	})
}

// TestConversationKeyIsErasuresKey keeps the conversations where erasure
// looks for them.
func TestConversationKeyIsErasuresKey(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	p := r.person(bot.VK, 1701, "Анна")
	p.say("/start " + r.invite("edu-school-5", storage.RoleMember))
	p.expect("Согласие на обработку")
	if _, ok := r.state.Snapshot()["value:"+membership.ConversationKey(storage.VK, "1701")]; !ok {
		t.Fatalf("no conversation under %q: %v", membership.ConversationKey(storage.VK, "1701"), r.state.Snapshot())
	}
}
