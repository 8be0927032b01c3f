package handlers_test

import (
	"regexp"
	"testing"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/handlers"
	"github.com/unionhub/unionhub/storage"
)

// consoleLink finds a sign-in link in a text.
var consoleLink = regexp.MustCompile(`https://hub\.example\.org/signin/([A-Za-z0-9_-]{43})`)

func TestStaffAskTheBotForAConsoleLink(t *testing.T) {
	t.Parallel()
	for _, plat := range bothPlatforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newChatRig(t, func(d *handlers.Deps) { d.Links.Console = "https://hub.example.org" })
			tests := []struct {
				role  storage.Role
				org   string
				staff bool
			}{
				{storage.RoleChair, "edu-school-5", true},
				{storage.RoleInfoworker, "edu", true},
				{storage.RoleAdmin, "union", true},
				{storage.RoleActivist, "edu-school-5", false},
				{storage.RoleMember, "edu-school-5", false},
			}
			for i, tt := range tests {
				p := r.person(plat, 100+i, "Name")
				p.register(r.invite(tt.org, tt.role), "Иванова Анна "+string(tt.role))
				if !tt.staff {
					p.say("/console")
					p.expect("нет прав")
					continue
				}
				// From the tools screen: a new message, under the tools.
				p.say("/menu")
				tools := p.expect("Главное меню")
				p.press(tools, "Работа в организации")
				screen := p.expect("Работа в организации: что доступно")
				p.press(screen, "🖥 Пульт")
				m := p.expect("Ссылка для входа в пульт", "10 минут", "только один раз", "Никому её не пересылайте")
				if m.id == screen.id {
					t.Errorf("%s: the link replaced the tools screen", tt.role)
				}
				first := consoleLink.FindStringSubmatch(m.text)
				if first == nil {
					t.Fatalf("%s: no link in %q", tt.role, m.text)
				}
				preview, err := r.hub.SignIn.Preview(r.ctx, first[1])
				if err != nil || preview.Name != "Иванова Анна "+string(tt.role) {
					t.Fatalf("%s: the link signs in %+v (%v)", tt.role, preview, err)
				}
				// And by the command: another link each time.
				p.say("/console")
				second := consoleLink.FindStringSubmatch(p.expect("Ссылка для входа в пульт").text)
				if second == nil || second[1] == first[1] {
					t.Errorf("%s: /console gave %v after %v", tt.role, second, first)
				}
			}
			// Links were made for the three staff only, twice each.
			entries, err := r.store.Audit(r.ctx, storage.AuditQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 6 {
				t.Errorf("%d links issued, want 6: %+v", len(entries), entries)
			}
		})
	}
}

func TestTheConsoleButtonOnlyForStaff(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	member := r.person(bot.Telegram, 1, "Member")
	member.register(r.invite("edu-school-5", storage.RoleMember), "Петров Пётр")
	member.say("/menu")
	if menu := member.expect("Главное меню"); menu.hasButton("Работа в организации") {
		t.Fatalf("a member's menu has the tools: %v", menu.labels())
	}
	info := r.person(bot.VK, 2, "Info")
	info.register(r.invite("edu", storage.RoleInfoworker), "Сидорова Анна")
	info.say("/menu")
	info.press(info.expect("Главное меню"), "Работа в организации")
	if screen := info.expect("Работа в организации: что доступно"); !screen.hasButton("🖥 Пульт") {
		t.Fatalf("the information worker's tools lack the console: %v", screen.labels())
	}
	// Someone not registered is told to register, and gets no link.
	stranger := r.person(bot.Telegram, 3, "Stranger")
	stranger.say("/console")
	stranger.expect("Сначала зарегистрируйтесь")
	if entries, err := r.store.Audit(r.ctx, storage.AuditQuery{Limit: 10}); err != nil || len(entries) != 0 {
		t.Errorf("links issued to nobody: %+v, %v", entries, err)
	}
}
