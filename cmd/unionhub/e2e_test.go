package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Both platforms, both storage backends, the real Redis.
var (
	platforms = []storage.Platform{storage.Telegram, storage.VK}
	backends  = []backend{onSQLite, onPostgres}
)

// eachPlatform runs f once per platform and backend, in parallel.
func eachPlatform(t *testing.T, f func(t *testing.T, r *rig, p storage.Platform)) {
	for _, b := range backends {
		for _, p := range platforms {
			t.Run(fmt.Sprintf("%s/%s", p, b), func(t *testing.T) {
				t.Parallel()
				r := newRig(t, b)
				r.importExample()
				r.serve()
				f(t, r, p)
			})
		}
	}
}

// pickNumber returns the label of the picker button for the line naming
// org: "N. name" when the names fit the buttons, "N" when the text alone
// tells them apart.
func pickNumber(t *testing.T, m botMsg, org string) string {
	t.Helper()
	for _, line := range strings.Split(m.text, "\n") {
		num, rest, ok := strings.Cut(line, ". ")
		if !ok || !strings.Contains(rest, org) {
			continue
		}
		for _, row := range m.buttons {
			for _, b := range row {
				if b.label == num || strings.HasPrefix(b.label, num+". ") {
					return b.label
				}
			}
		}
		t.Fatalf("no button for line %q in %v", line, m.buttons)
	}
	t.Fatalf("no picker line names %q in %q", org, m.text)
	return ""
}

// register walks p through an invite registration with only a name.
func register(t testing.TB, p person, code, name string) {
	t.Helper()
	p.openInvite(code)
	p.press(answerUpToSummary(t, p, name), "Всё верно")
	p.dm().expect("вы зарегистрированы")
}

// answerUpToSummary agrees to the consent just shown, gives a name, skips
// the optional questions and returns the summary to confirm.
func answerUpToSummary(t testing.TB, p person, name string) botMsg {
	t.Helper()
	c := p.dm()
	p.press(c.expect("Согласие на обработку"), "Согласен")
	c.expect("фамилию, имя")
	p.say(name)
	p.press(c.expect("должность"), "Пропустить")
	p.press(c.expect("Рабочий адрес"), "Пропустить")
	p.press(c.expect("личный адрес"), "Пропустить")
	return c.expect("Проверьте")
}

// applyWithoutCode walks p through a code-less registration into the org
// reached by picking, one level each, the lines naming path.
func applyWithoutCode(t *testing.T, p person, name string, path ...string) {
	t.Helper()
	c := p.dm()
	p.start()
	m := c.expect("Выберите вашу организацию")
	for i, step := range path {
		p.press(m, pickNumber(t, m, step))
		if i < len(path)-1 {
			m = c.expect("Выберите вашу организацию")
		}
	}
	p.press(answerUpToSummary(t, p, name), "Всё верно")
	c.expect("Заявка отправлена")
}

func personOf(t *testing.T, db storage.Store, p person) storage.Person {
	t.Helper()
	got, err := db.PersonByAccount(context.Background(), p.platform(), p.id())
	if err != nil {
		t.Fatalf("person of %s %s: %v", p.platform(), p.id(), err)
	}
	return got
}

func TestRegistrationWithInvite(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		code := r.invite("edu-school-5", "member")
		p := r.person(plat, 501, "Анна")
		c := p.dm()
		p.openInvite(code)
		m := c.expect("ППО МАОУ СОШ № 5 г. Южно-Сахалинска", "Согласие на обработку персональных данных")
		p.press(m, "Согласен")
		c.expect("фамилию, имя")
		name := "Иванова Анна 👩‍🔧 مرحبا"
		p.say(name)
		c.expect("должность")
		p.say("Учитель математики")
		c.expect("Рабочий адрес")
		p.say("ivanova@school5.ru")
		p.press(c.expect("личный адрес", "отдельного согласия"), "Согласен(на) указать")
		c.expect("Напишите личный адрес")
		p.say("anna.iv@mail.ru")
		m = c.expect("Проверьте", name, "Учитель математики", "ivanova@school5.ru", "anna.iv@mail.ru")
		p.press(m, "Всё верно")
		menu := c.expect(name + ", вы зарегистрированы: член профсоюза")
		if !menu.hasButton("Профиль") {
			t.Fatalf("registration did not end in the main menu: %v", menu.buttons)
		}

		p.press(menu, "Профиль")
		c.expect("ФИО: "+name, "Должность: Учитель математики", "Подключён 1 мессенджер")

		db := r.store()
		got := personOf(t, db, p)
		if got.FullName != name || got.Position != "Учитель математики" || got.WorkEmail != "ivanova@school5.ru" || got.PersonalEmail != "anna.iv@mail.ru" || got.Locale != "ru" {
			t.Fatalf("stored person %+v", got)
		}
		consents, err := db.Consents(context.Background(), got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(consents) != 2 || consents[0].Kind != storage.ConsentPersonalData || !consents[0].Accepted ||
			consents[1].Kind != storage.ConsentPersonalEmail || !consents[1].Accepted || consents[0].Version == "" {
			t.Fatalf("consents %+v", consents)
		}
		ms, err := db.Memberships(context.Background(), got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].Org.Code != "edu-school-5" || ms[0].Role != storage.RoleMember || ms[0].Status != storage.StatusActive {
			t.Fatalf("memberships %+v", ms)
		}
	})
}

func TestRegistrationRefusesBadInput(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		db := r.store()
		ctx := context.Background()
		school, err := db.OrgByCode(ctx, "edu-school-5")
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Hour)
		if err := db.CreateInvite(ctx, storage.Invite{Code: "expiredAAAAAAAAAAAAAAA", OrgID: school.ID, Role: storage.RoleMember, ExpiresAt: &past, CreatedAt: past}); err != nil {
			t.Fatal(err)
		}
		revoked := r.invite("edu-school-5", "member")
		r.mustRun("invite", "revoke", revoked)
		single := r.invite("edu-school-5", "chair")
		if !strings.Contains(r.mustRun("invite", "list", "edu-school-5"), "used 0 of 1") {
			t.Fatal("a chair invite should default to a single use")
		}

		p := r.person(plat, 601, "Пётр")
		c := p.dm()
		for code, want := range map[string]string{
			"NoSuchCodeXXXXXXXXXXXX": "Такой ссылки-приглашения нет",
			"expiredAAAAAAAAAAAAAAA": "истёк",
			revoked:                  "отозвана",
		} {
			p.openInvite(code)
			c.expect(want)
		}

		// Text where a button is expected changes nothing.
		p.openInvite(single)
		m := c.expect("Согласие на обработку", "Роль: председатель")
		p.say("да, согласен")
		c.expect("кнопкой")
		c.expect("Согласие на обработку")
		p.press(m, "Согласен")
		c.expect("фамилию, имя")
		for _, bad := range []struct{ text, want string }{
			{"   ", "Пустой ответ"},
			{strings.Repeat("Щ", 5000), "не больше 200 символов"},
			{"Пётр\x07Петров", "служебные символы"},
			{"1234", "должны быть буквы"},
		} {
			p.say(bad.text)
			c.expect(bad.want)
			c.expect("фамилию, имя")
		}
		p.sendPhoto("Пётр Петров")
		c.expect("вложения не принимаются")
		c.expect("фамилию, имя")
		p.say("Петров Пётр")
		p.press(c.expect("должность"), "Пропустить")
		c.expect("Рабочий адрес")
		p.say("not-an-address")
		c.expect("не похоже на адрес")
		p.press(c.expect("Рабочий адрес"), "Пропустить")
		p.press(c.expect("личный адрес"), "Пропустить")
		p.press(c.expect("Проверьте", "председатель"), "Всё верно")
		c.expect("вы зарегистрированы: председатель")

		// The single-use invite is now used up for anyone else.
		q := r.person(plat, 602, "Ольга")
		q.openInvite(single)
		q.dm().expect("максимальное число")

		// Declining stores only the refusal.
		d := r.person(plat, 603, "Дмитрий")
		d.openInvite(r.invite("edu-school-5", "member"))
		d.press(d.dm().expect("Согласие на обработку"), "Не согласен")
		d.dm().expect("ничего не сохранили, кроме вашего отказа")
		if _, err := db.PersonByAccount(ctx, plat, d.id()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a person who declined was stored: %v", err)
		}
	})
}

func TestCodelessRegistrationWaitsForApproval(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		// More schools than fit on one page of the picker, loaded from CSV.
		extra := filepath.Join(t.TempDir(), "schools.csv")
		if err := os.WriteFile(extra, []byte("code,name,parent,level,members\nedu-school-7,ППО МАОУ СОШ № 7,edu,primary,40\nedu-school-8,ППО МАОУ СОШ № 8,edu,primary,41\nedu-school-9,ППО МАОУ СОШ № 9,edu,primary,42\nedu-new,Новая территориальная организация,edu,branch,0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out := r.mustRun("org", "import", extra); !strings.Contains(out, "4 created, 0 updated, 0 unchanged") {
			t.Fatalf("csv import: %s", out)
		}
		chair := r.person(plat, 701, "Председатель")
		register(t, chair, r.invite("edu-school-5", "chair"), "Сидорова Мария Ивановна")
		member := r.person(plat, 702, "Член")
		register(t, member, r.invite("edu-school-5", "member"), "Кузнецов Олег")
		info := r.person(plat, 704, "Инфо")
		register(t, info, r.invite("edu-school-5", "infoworker"), "Инфова Дарья")

		s := r.person(plat, 703, "Новенькая")
		c := s.dm()
		s.start()
		c.expect("Выберите вашу организацию", "Сахалинский областной союз")
		s.say("школа 5")
		c.expect("кнопкой")
		m := c.expect("Выберите вашу организацию", "4 организации, страница 1 из 1")
		// Three branch names cut at 40 characters would read the same: the
		// buttons carry the numbers of the full names in the text.
		if m.labels()[0] != "1" || !strings.Contains(m.text, ". 📂 Областная организация профсоюза работников образования") {
			t.Fatalf("picker %q with buttons %v", m.text, m.labels())
		}
		s.press(m, pickNumber(t, m, "работников образования"))
		m = c.expect("Областная организация профсоюза работников образования", "9 организаций, страница 1 из 2")
		s.press(m, pickNumber(t, m, "Новая территориальная"))
		s.press(c.expect("Здесь пока нет организаций"), "Выше")
		m = c.expect("9 организаций, страница 1 из 2")
		s.press(m, "▶")
		m = c.expect("страница 2 из 2")
		s.press(m, "◀")
		m = c.expect("страница 1 из 2")
		s.press(m, pickNumber(t, m, "СОШ № 5"))
		s.press(c.expect("ППО МАОУ СОШ № 5", "Согласие"), "Согласен")
		c.expect("фамилию, имя")
		s.say("Новикова Елена")
		c.expect("должность")
		s.say("Библиотекарь")
		s.press(c.expect("Рабочий адрес"), "Пропустить")
		s.press(c.expect("личный адрес"), "Пропустить")
		s.press(c.expect("Проверьте"), "Всё верно")
		c.expect("Заявка отправлена", "ППО МАОУ СОШ № 5")

		req := chair.dm().expect("Новая заявка", "Новикова Елена", "должность: Библиотекарь")
		late := info.dm().expect("Новая заявка", "Новикова Елена")
		db := r.store()
		applicant := personOf(t, db, s)
		ms, err := db.Memberships(context.Background(), applicant.ID)
		if err != nil || len(ms) != 1 || ms[0].Status != storage.StatusPending {
			t.Fatalf("applicant memberships %+v, %v", ms, err)
		}
		// A plain member cannot approve, even with a forged button (only a
		// Telegram client can send data its message never carried).
		if plat == storage.Telegram {
			msgs := member.dm().list()
			id := member.pressData(msgs[len(msgs)-1], fmt.Sprintf("appr:%d:y", ms[0].ID))
			if got := member.notice(id); !strings.Contains(got, "нет прав") {
				t.Fatalf("a member's forged approval was answered %q", got)
			}
			if got, _ := db.Membership(context.Background(), ms[0].ID); got.Status != storage.StatusPending {
				t.Fatalf("a member's forged approval changed the membership to %s", got.Status)
			}
		}
		chair.press(req, "Принять")
		chair.dm().expect("Заявка одобрена: Новикова Елена")
		c.expect("одобрена")
		// The other leader's card then says who decided what, and when.
		info.press(late, "Отклонить")
		info.dm().expect("Заявку уже одобрил(а) Сидорова Мария Ивановна", "Новикова Елена")
		got, err := db.Membership(context.Background(), ms[0].ID)
		if err != nil || got.Status != storage.StatusActive || got.DecidedBy != personOf(t, db, chair).ID {
			t.Fatalf("decided membership %+v, %v", got, err)
		}
	})
}

func TestForgetErasesPersonalData(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		p := r.person(plat, 801, "Фёдор")
		c := p.dm()
		p.openInvite(r.invite("health-hospital-1", "activist"))
		p.press(c.expect("Согласие"), "Согласен")
		c.expect("фамилию, имя")
		p.say("Фёдоров Фёдор")
		c.expect("должность")
		p.say("Медбрат")
		c.expect("Рабочий адрес")
		p.say("fedorov@hospital.ru")
		p.press(c.expect("личный адрес"), "Согласен(на) указать")
		c.expect("Напишите личный адрес")
		p.say("fedor@mail.ru")
		p.press(c.expect("Проверьте"), "Всё верно")
		c.expect("вы зарегистрированы")
		db := r.store()
		before := personOf(t, db, p)
		if before.Position == "" || before.WorkEmail == "" || before.PersonalEmail == "" || before.Locale == "" {
			t.Fatalf("registration left fields empty: %+v", before)
		}

		p.say("/forget")
		m := c.expect("Удалить ваши персональные данные")
		p.press(m, "Да, удалить")
		c.expect("персональные данные удалены")
		p.say("/profile")
		c.expect("Сначала зарегистрируйтесь")

		after, err := db.Person(context.Background(), before.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.ErasedAt == nil || after.FullName != "" || after.Position != "" || after.WorkEmail != "" || after.PersonalEmail != "" || after.Locale != "" {
			t.Fatalf("person after /forget: %+v", after)
		}
		if _, err := db.PersonByAccount(context.Background(), plat, p.id()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the account survived /forget: %v", err)
		}
		ms, err := db.Memberships(context.Background(), before.ID)
		if err != nil || len(ms) != 1 || ms[0].Status != storage.StatusEnded {
			t.Fatalf("memberships after /forget: %+v, %v", ms, err)
		}
	})
}

func TestBindChats(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 901, "Председатель")
		register(t, chair, r.invite("edu", "chair"), "Орлова Вера")
		member := r.person(plat, 902, "Член")
		register(t, member, r.invite("edu-school-5", "member"), "Зайцев Иван")
		stranger := r.person(plat, 903, "Гость")
		// Two roles at once: chair of health, information worker of fish.
		both := r.person(plat, 904, "Двое")
		register(t, both, r.invite("health", "chair"), "Двоева Нина")
		both.openInvite(r.invite("fish", "infoworker"))
		both.dm().expect("информационный работник в организации «Областная организация профсоюза работников рыбного хозяйства»")

		g := chair.group(42, "Чат СОШ № 5")
		gm := member.group(42, "Чат СОШ № 5")
		gs := stranger.group(42, "Чат СОШ № 5")
		gb := both.group(42, "Чат СОШ № 5")
		gm.say("/bind")
		g.expect("только председатель или информационный работник")
		gs.say("/bind")
		g.expect("Сначала зарегистрируйтесь")
		g.say("/bind union")
		g.expect("только председатель или информационный работник")
		g.say("/bind")
		g.expect("Чат привязан к организации «Областная организация профсоюза работников образования»")
		g.say("/bind edu-school-5")
		g.expect("Чат привязан к организации «ППО МАОУ СОШ № 5")
		gm.say("/unbind")
		g.expect("только председатель или информационный работник")
		gm.say("просто сообщение в чате")
		g.quiet(200 * time.Millisecond)

		// Someone with rights elsewhere cannot take the chat over.
		gb.say("/bind")
		choice := g.expect("К какой организации привязать этот чат?")
		id := gb.press(choice, pickNumber(t, choice, "здравоохранения"))
		if got := both.notice(id); !strings.Contains(got, "уже привязан") {
			t.Fatalf("taking over a bound chat was answered %q", got)
		}

		db := r.store()
		b, err := db.ChatBinding(context.Background(), plat, g.id())
		if err != nil {
			t.Fatal(err)
		}
		if org, _ := db.Org(context.Background(), b.OrgID); org.Code != "edu-school-5" {
			t.Fatalf("chat bound to %q", org.Code)
		}
		g.say("/unbind")
		g.expect("Чат отвязан")
		if _, err := db.ChatBinding(context.Background(), plat, g.id()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("binding after /unbind: %v", err)
		}

		// A free chat is bound to the org chosen from the list.
		g2 := both.group(43, "Чат рыбаков")
		g2.say("/bind")
		choice = g2.expect("К какой организации привязать этот чат?")
		g2.press(choice, pickNumber(t, choice, "рыбного хозяйства"))
		g2.expect("Чат привязан к организации «Областная организация профсоюза работников рыбного хозяйства»")
		chair.say("/bind")
		chair.dm().expect("работает в групповом чате")
	})
}

func TestDuplicateUpdatesAreHandledOnce(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		p := r.person(plat, 1001, "Дубль")
		c := p.dm()
		id := p.say("/help")
		c.expect("Это бот профсоюза")
		p.redeliver(id)
		c.quiet(300 * time.Millisecond)

		// A typed answer delivered twice is taken once: the second copy must
		// not become the answer to the next question.
		p.openInvite(r.invite("edu-school-5", "member"))
		p.press(c.expect("Согласие"), "Согласен")
		c.expect("фамилию, имя")
		id = p.say("Дублёва Дарья")
		c.expect("должность")
		p.redeliver(id)
		c.quiet(300 * time.Millisecond)
		p.press(c.list()[len(c.list())-1], "Пропустить")
		p.press(c.expect("Рабочий адрес"), "Пропустить")
		p.press(c.expect("личный адрес"), "Пропустить")
		c.expect("Проверьте", "ФИО: Дублёва Дарья", "Должность: —")
	})
}

func TestProfileEditingAndLanguage(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat)+"/in-process-state", func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onSQLite, withoutRedis())
			r.importExample()
			r.serve()
			p := r.person(plat, 1801, "Профиль")
			c := p.dm()
			register(t, p, r.invite("edu-kindergarten-17", "member"), "Старое Имя")

			p.say("/profile")
			p.press(c.expect("ФИО: Старое Имя"), "ФИО")
			c.expect("Напишите новые ФИО")
			p.say(" ")
			c.expect("Пустой ответ")
			c.expect("Напишите новые ФИО")
			p.say("Новое Имя")
			m := c.expect("Сохранено.", "ФИО: Новое Имя")

			p.press(m, "Личный e-mail")
			p.press(c.expect("отдельного согласия"), "Согласен(на) указать")
			c.expect("Напишите новый личный адрес")
			p.say("new@mail.ru")
			m = c.expect("Сохранено.", "Личный e-mail: new@mail.ru")
			p.press(m, "Личный e-mail")
			p.press(c.expect("Напишите новый личный адрес"), "Очистить")
			c.expect("Сохранено.", "Личный e-mail: —")

			db := r.store()
			person := personOf(t, db, p)
			consents, err := db.Consents(context.Background(), person.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := consents[len(consents)-1]
			if person.FullName != "Новое Имя" || person.PersonalEmail != "" || len(consents) != 3 ||
				consents[1].Kind != storage.ConsentPersonalEmail || !consents[1].Accepted ||
				last.Kind != storage.ConsentPersonalEmail || last.Accepted {
				t.Fatalf("after editing: %+v, consents %+v", person, consents)
			}

			p.say("/lang")
			p.press(c.expect("Выберите язык"), "English")
			c.expect("Language changed.")
			p.say("/profile")
			c.expect("Full name: Новое Имя", "1 messenger connected")
			p.say("/nonsense")
			c.expect("Unknown command")
		})
	}
}

func TestRejectionEscalatesAndErases(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		// «Курильский рыбак» has no leaders in the bot: its branch decides.
		chair := r.person(plat, 1901, "Председатель")
		register(t, chair, r.invite("fish", "chair"), "Рыбакова Ирина")
		s := r.person(plat, 1902, "Заявитель")
		c := s.dm()
		applyWithoutCode(t, s, "Отказов Олег", "рыбного хозяйства", "Курильский рыбак")
		chair.dm().expect("Новая заявка", "Отказов Олег", "Курильский рыбак")

		// The request waits in /pending and is counted in the menu.
		chair.say("/menu")
		chair.dm().expect("1 заявка на вступление ждёт вашего решения")
		chair.say("/pending")
		chair.dm().expect("Ждёт решения 1 заявка.")
		card := chair.dm().expect("Новая заявка", "Отказов Олег")
		chair.press(card, "Отклонить")
		chair.dm().expect("Заявка отклонена: Отказов Олег")
		c.expect("отклонена", "данные удалены")

		db := r.store()
		if _, err := db.PersonByAccount(context.Background(), plat, s.id()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("a rejected applicant's account survived: %v", err)
		}
		chair.say("/pending")
		chair.dm().expect("Заявок, ждущих решения, нет.")
		member := r.person(plat, 1903, "Член")
		register(t, member, r.invite("fish-kurilsky", "member"), "Простой Член")
		member.say("/pending")
		member.dm().expect("нет прав")
	})
}
