package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage"
)

// newsCrew is a tree of people to send news to.
type newsCrew struct {
	union, edu, korsakov, fish                                 person // who publish at each level
	member, activist, korsakovMember, healthMember, fishMember person
	group                                                      *groupChat
}

func newCrew(t *testing.T, r *rig, plat storage.Platform) newsCrew {
	c := newsCrew{
		union:          r.person(plat, 3001, "Союз"),
		edu:            r.person(plat, 3002, "Обком"),
		korsakov:       r.person(plat, 3003, "Корсаков"),
		fish:           r.person(plat, 3004, "Рыбаки"),
		member:         r.person(plat, 3005, "Учитель"),
		activist:       r.person(plat, 3006, "Активист"),
		korsakovMember: r.person(plat, 3007, "Корсаковец"),
		healthMember:   r.person(plat, 3008, "Врач"),
		fishMember:     r.person(plat, 3009, "Рыбак"),
	}
	register(t, c.union, r.invite("union", "infoworker"), "Союзная Инна")
	register(t, c.edu, r.invite("edu", "infoworker"), "Обкомова Ева")
	register(t, c.korsakov, r.invite("edu-korsakov", "chair"), "Корсакова Кира")
	register(t, c.fish, r.invite("fish", "chair"), "Рыбина Фаина")
	register(t, c.member, r.invite("edu-school-5", "member"), "Учителева Мария")
	register(t, c.activist, r.invite("edu-school-5", "activist"), "Активистов Антон")
	register(t, c.korsakovMember, r.invite("edu-korsakov-school-2", "member"), "Корсаковцев Кирилл")
	register(t, c.healthMember, r.invite("health-hospital-1", "member"), "Врачева Вера")
	register(t, c.fishMember, r.invite("fish-port-korsakov", "member"), "Рыбаков Роман")
	c.group = c.edu.group(55, "Чат СОШ № 5")
	c.group.say("/bind edu-school-5")
	c.group.expect("Чат привязан")
	return c
}

// compose walks p through /news up to the settings screen.
func compose(t testing.TB, p person, text string) botMsg {
	t.Helper()
	p.say("/news")
	p.dm().expect("Напишите новость")
	p.say(text)
	return p.dm().expect("Новость организации «", "Получ")
}

func broadcastIDOf(t *testing.T, m botMsg) int64 {
	t.Helper()
	var id int64
	i := strings.Index(m.text, "№ ")
	if i < 0 {
		t.Fatalf("no number in %q", m.text)
	}
	if _, err := fmt.Sscanf(m.text[i:], "№ %d", &id); err != nil {
		t.Fatalf("no number in %q", m.text)
	}
	return id
}

func TestBroadcastDirectReachesEveryoneOnce(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		c := newCrew(t, r, plat)
		settings := compose(t, c.union, "Профсоюз добился индексации зарплаты на 7%!")
		// The author is not among them: they see the item as they write it.
		if !strings.Contains(settings.text, "Получат 8 человек") || !strings.Contains(settings.text, "и 1 чат.") || !strings.Contains(settings.text, "Вам самим рассылка не придёт") {
			t.Fatalf("preview %q: want 8 people and 1 chat, the author left out", settings.text)
		}
		c.union.press(settings, "Отправить сейчас")
		progress := c.union.dm().expect("Рассылка №")
		id := broadcastIDOf(t, progress)
		for _, p := range []person{c.member, c.korsakovMember, c.healthMember, c.fishMember, c.edu} {
			p.dm().expect("📰 Сахалинский областной союз", "индексации зарплаты")
		}
		share := c.activist.dm().expect("индексации зарплаты")
		if !share.hasButton("Поделиться") || !strings.Contains(share.button(t, "Поделиться").url, "share") {
			t.Fatalf("the activist's copy has no share link: %+v", share.buttons)
		}
		c.group.expect("индексации зарплаты")
		c.union.dm().expect(fmt.Sprintf("Рассылка № %d завершена: доставлено 9 из 9", id))
		// The settings screen, its buttons spent, says what became of it.
		c.union.dm().expect(fmt.Sprintf("Отправлено: рассылка № %d", id), "Получат 8 человек и 1 чат.")
		for _, m := range c.union.dm().list() {
			if m.id == settings.id && len(m.buttons) != 0 {
				t.Fatalf("the sent settings screen still has buttons: %v", m.buttons)
			}
		}

		out := r.mustRun("report", "broadcast", fmt.Sprint(id), "--format", "json")
		var rep struct {
			Audience, Delivered, Queued int
			ByOrg                       []struct{ Code string } `json:"by_org"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Audience != 9 || rep.Delivered != 9 || rep.Queued != 0 || len(rep.ByOrg) < 5 {
			t.Fatalf("report %s (%v)", out, err)
		}
		// Exactly once, even as the engine keeps polling.
		time.Sleep(300 * time.Millisecond)
		for _, p := range []person{c.member, c.activist, c.fishMember} {
			n := 0
			for _, m := range p.dm().list() {
				if strings.Contains(m.text, "индексации зарплаты") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%s got the item %d times", p.id(), n)
			}
		}
	})
}

func TestBroadcastRelayAndUpwardNews(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		r.stop()
		r.setenv("UNIONHUB_ESCALATION_INTERVAL", "50ms")
		r.serve()
		c := newCrew(t, r, plat)
		settings := compose(t, c.union, "Приглашаем на областной семинар информационных работников.")
		c.union.press(settings, "Как")
		settings = c.union.dm().expect("по цепочке")
		c.union.press(settings, "Отправить сейчас")
		id := broadcastIDOf(t, c.union.dm().expect("Рассылка №"))

		// The branch adds a note and publishes; its own people get it with the note.
		offer := c.edu.dm().expect(fmt.Sprintf("Новость № %d от организации «Сахалинский областной союз", id), "работников образования")
		c.edu.press(offer, "Добавить примечание")
		c.edu.dm().expect("Напишите примечание")
		c.edu.say("Обязательно для всех школ района.")
		c.edu.dm().expect(fmt.Sprintf("Новость № %d опубликована", id))
		c.member.dm().expect("✏️ «Областная организация профсоюза работников образования»: Обязательно для всех школ района.", "семинар")
		c.group.expect("семинар")
		// The sub-branch skips: its school hears nothing.
		c.korsakov.press(c.korsakov.dm().expect(fmt.Sprintf("Новость № %d", id)), "Пропустить")
		c.korsakov.dm().expect("пропущена")
		// Health has nobody who could relay: it is published there at once.
		c.healthMember.dm().expect("семинар")
		// The fish branch does nothing: reminded halfway, published at the deadline.
		c.fish.dm().expect(fmt.Sprintf("Новость № %d", id))
		c.fishMember.dm().quiet(200 * time.Millisecond)
		r.clock.Advance(13 * time.Hour)
		c.fish.dm().expect("Напоминание: новость №")
		r.clock.Advance(12 * time.Hour)
		c.fishMember.dm().expect("семинар")
		c.korsakovMember.dm().quiet(200 * time.Millisecond)

		out := r.mustRun("report", "broadcast", fmt.Sprint(id), "--format", "json")
		var rep struct {
			RelaySteps int `json:"relay_steps"`
			Relayed    int `json:"relayed"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.RelaySteps < 5 || rep.Relayed < 3 {
			t.Fatalf("relay report %s (%v)", out, err)
		}

		// Upward: a call for support is declined by the branch, seen by the Union.
		c.member.say("/suggest")
		c.member.press(c.member.dm().expect("Что вы хотите сообщить"), "Призыв к поддержке")
		c.member.dm().expect("Опишите")
		c.member.say("Администрация отказывается начинать переговоры по коллективному договору.")
		c.member.dm().expect("Отправлено, №", "«Областная организация профсоюза работников образования»")
		card := c.edu.dm().expect("Призыв к поддержке №", "Солидарность", "коллективному договору")
		c.union.dm().expect("Призыв к поддержке №", "Солидарность")
		c.edu.press(card, "Отклонить")
		c.edu.dm().expect("Почему отклоняете")
		c.edu.say("Сначала обсудим на профкоме школы.")
		c.member.dm().expect("не опубликует", "Сначала обсудим")

		// News passed up and published down by the Union.
		c.member.say("/suggest")
		c.member.press(c.member.dm().expect("Что вы хотите сообщить"), "Новость")
		c.member.dm().expect("Опишите")
		c.member.say("Наша школа выиграла конкурс «Учитель года».")
		card = c.edu.dm().expect("Предложена новость №", "Учитель года")
		c.edu.press(card, "Передать выше")
		c.edu.dm().expect("передан выше: «Сахалинский областной союз")
		c.union.press(c.union.dm().expect("Предложена новость №", "Учитель года"), "Опубликовать вниз")
		c.union.dm().expect("опубликован: рассылка №")
		c.member.dm().expect("опубликовала «Сахалинский областной союз")
		c.fishMember.dm().expect("Из организации «ППО МАОУ СОШ № 5", "Учитель года")
	})
}

func TestBroadcastScheduleAndCancel(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			r.setenv("UNIONHUB_ESCALATION_INTERVAL", "50ms")
			r.importExample()
			r.serve()
			c := newCrew(t, r, plat)

			settings := compose(t, c.union, "Завтра — собрание актива.")
			c.union.press(settings, "Запланировать")
			c.union.dm().expect("Когда отправить")
			when := r.clock.Now().Add(26 * time.Hour).In(time.FixedZone("Sakhalin", 11*3600)).Format("02.01 15:04")
			c.union.say(when)
			c.union.dm().expect("запланирована на")
			c.union.dm().expect("Запланировано: рассылка №", "уйдёт")
			c.member.dm().quiet(300 * time.Millisecond)
			r.clock.Advance(27 * time.Hour)
			c.member.dm().expect("собрание актива")

			if plat == storage.VK {
				return // a VK call takes 100 people at once: nothing to stop midway here
			}
			// Slow the bot down so that the broadcast can be stopped midway.
			r.stop()
			r.setenv("TELEGRAM_CHAT_RATE", "0")
			r.setenv("TELEGRAM_RATE", "1/s")
			r.serve()
			settings = compose(t, c.union, "Эта рассылка будет остановлена.")
			c.union.press(settings, "Отправить сейчас")
			progress := c.union.dm().expect("Рассылка №")
			id := broadcastIDOf(t, progress)
			c.union.press(progress, "Остановить")
			c.union.dm().expect(fmt.Sprintf("Рассылка № %d остановлена", id))
			// Sends already waiting for their turn see the stop and give up.
			var rep struct{ Delivered, Cancelled, Queued int }
			var out string
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				out = r.mustRun("report", "broadcast", fmt.Sprint(id), "--format", "json")
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatal(err)
				}
				if rep.Queued == 0 {
					break
				}
			}
			if rep.Cancelled == 0 || rep.Queued != 0 || rep.Delivered >= 9 || rep.Delivered+rep.Cancelled != 9 {
				t.Fatalf("after stopping: %s", out)
			}
		})
	}
}

// TestBroadcastKeepsTheAuthorsFormatting sends relayed news with bold and a
// link from Telegram: a Telegram member gets it formatted under the header
// and the branch's note, a VK member (VK has no formatting) the same words
// plain.
func TestBroadcastKeepsTheAuthorsFormatting(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	r.serve()
	edu := r.person(storage.Telegram, 3002, "Обком")
	author := newTGPerson(t, r.tg, 3001, "Союз")
	tgMember, vkMember := newTGPerson(t, r.tg, 3005, "Учитель"), r.person(storage.VK, 3006, "Учитель")
	register(t, author, r.invite("union", "infoworker"), "Союзная Инна")
	register(t, edu, r.invite("edu", "infoworker"), "Обкомова Ева")
	register(t, tgMember, r.invite("edu-school-5", "member"), "Учителева Мария")
	register(t, vkMember, r.invite("edu-school-5", "member"), "Учителев Марк")

	author.say("/news")
	author.dm().expect("Напишите новость")
	text := "  Семинар 📣 информационных работников: программа на сайте  "
	r.tg.SendFormattedText(author.u, text,
		platformtest.TGEntity{Type: "bold", Offset: 2, Length: 7},
		platformtest.TGEntity{Type: "text_link", Offset: 53, Length: 5, URL: "https://example.org/seminar"},
	)
	settings := author.dm().expect("Новость организации «", "Получ")
	author.press(settings, "Как")
	author.press(author.dm().expect("по цепочке"), "Отправить сейчас")
	author.dm().expect("Рассылка №")
	edu.press(edu.dm().expect("Новость №", "Семинар"), "Добавить примечание")
	edu.dm().expect("Напишите примечание")
	edu.say("Для всех школ 🏫.")

	got := tgMember.dm().expect("Для всех школ", "Семинар")
	var sent platformtest.TGMessage
	for _, m := range r.tg.Messages(3005) {
		if m.ID == got.id {
			sent = m
		}
	}
	want := map[string]string{"bold": "Семинар", "text_link": "сайте"}
	if len(sent.Entities) != len(want) {
		t.Fatalf("formatting %+v of %q", sent.Entities, sent.Text)
	}
	for _, e := range sent.Entities {
		if e.Covered(sent.Text) != want[e.Type] {
			t.Errorf("%s covers %q, want %q", e.Type, e.Covered(sent.Text), want[e.Type])
		}
	}
	if sent.Entities[1].URL != "https://example.org/seminar" {
		t.Errorf("link to %q", sent.Entities[1].URL)
	}
	// VK shows no formatting: the link's address follows its words, or
	// VK members could not reach it.
	vkMember.dm().expect("Для всех школ", "Семинар 📣 информационных работников: программа на сайте (https://example.org/seminar)")
}

// TestEachRecipientReadsTheItemInTheirLanguage publishes a member's news
// down from the branch: members and activists who chose English read the
// line naming where it comes from and the share button in English, the
// others and the school's chat in Russian, from the same broadcast.
func TestEachRecipientReadsTheItemInTheirLanguage(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onSQLite)
			r.importExample()
			r.serve()
			edu := r.person(plat, 3101, "Обком")
			author := r.person(plat, 3102, "Автор")
			ruMember, enMember := r.person(plat, 3103, "Учитель"), r.person(plat, 3104, "Teacher")
			ruActivist, enActivist := r.person(plat, 3105, "Активист"), r.person(plat, 3106, "Activist")
			register(t, edu, r.invite("edu", "infoworker"), "Обкомова Ева")
			register(t, author, r.invite("edu-school-5", "member"), "Авторова Анна")
			register(t, ruMember, r.invite("edu-school-5", "member"), "Учителева Мария")
			register(t, enMember, r.invite("edu-school-5", "member"), "Учителев Марк")
			register(t, ruActivist, r.invite("edu-school-5", "activist"), "Активистов Антон")
			register(t, enActivist, r.invite("edu-school-5", "activist"), "Активистова Алла")
			for _, p := range []person{enMember, enActivist} {
				p.say("/lang")
				p.press(p.dm().expect("Выберите язык"), "English")
				p.dm().expect("Language changed.")
			}
			group := edu.group(56, "Чат СОШ № 5")
			group.say("/bind edu-school-5")
			group.expect("Чат привязан")

			author.say("/suggest")
			author.press(author.dm().expect("Что вы хотите сообщить"), "Новость")
			author.dm().expect("Опишите")
			author.say("Наша школа выиграла конкурс «Учитель года».")
			edu.press(edu.dm().expect("Предложена новость №", "Учитель года"), "Опубликовать вниз")
			edu.dm().expect("опубликован: рассылка №")

			const school = "«ППО МАОУ СОШ № 5"
			header := "📰 Областная организация профсоюза работников образования\n\n"
			for _, p := range []person{ruMember, ruActivist} {
				m := p.dm().expect(header+"Из организации "+school, "»:\nНаша школа выиграла")
				if strings.Contains(m.text, "From") {
					t.Fatalf("a Russian member got %q", m.text)
				}
			}
			for _, p := range []person{enMember, enActivist} {
				m := p.dm().expect(header+"From "+school, "»:\nНаша школа выиграла")
				if strings.Contains(m.text, "Из ") {
					t.Fatalf("an English member got %q", m.text)
				}
			}
			group.expect(header+"Из организации "+school, "Учитель года")
			ru := ruActivist.dm().list()
			en := enActivist.dm().list()
			if !ru[len(ru)-1].hasButton("📣 Поделиться") || !en[len(en)-1].hasButton("📣 Share") {
				t.Fatalf("share buttons: Russian %v, English %v", ru[len(ru)-1].buttons, en[len(en)-1].buttons)
			}
		})
	}
}
