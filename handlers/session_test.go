package handlers_test

import (
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// TestAnUpdateWritesTheAccountOnlyWhenItChangesSomething: the last-seen
// time is written when it is a minute stale or the account was blocked, not
// on every update, and a blocked account writing again is reachable again.
func TestAnUpdateWritesTheAccountOnlyWhenItChangesSomething(t *testing.T) {
	t.Parallel()
	r := newChatRig(t)
	p := r.person(bot.Telegram, 301, "Анна")
	p.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")
	seen := func() storage.Account {
		t.Helper()
		c, err := r.store.Caller(r.ctx, storage.Telegram, "301")
		if err != nil {
			t.Fatal(err)
		}
		return c.Account
	}
	registered := seen().LastSeenAt

	r.clock.Advance(30 * time.Second)
	p.say("/profile")
	p.expect("ФИО: Кузнецова Анна")
	if got := seen().LastSeenAt; !got.Equal(registered) {
		t.Fatalf("an update half a minute later wrote the account: %s, then %s", registered, got)
	}

	r.clock.Advance(time.Minute)
	p.say("/profile")
	p.expect("ФИО: Кузнецова Анна")
	if got := seen().LastSeenAt; !got.Equal(r.clock.Now()) {
		t.Fatalf("a stale account was not written: %s, want %s", got, r.clock.Now())
	}

	if err := r.store.MarkBlocked(r.ctx, storage.Telegram, "301", r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Second)
	p.say("/profile")
	p.expect("ФИО: Кузнецова Анна")
	if a := seen(); a.BlockedAt != nil || !a.LastSeenAt.Equal(r.clock.Now()) {
		t.Fatalf("a blocked account writing again: %+v", a)
	}
}

// TestAConversationAnOlderVersionLeftIsDroppedAndSaidSo: a stored
// conversation that no longer reads (an upgrade changed its shape) is
// dropped, and the person is told the screen is out of date and gets the
// menu, instead of their text being taken for a step it no longer means.
func TestAConversationAnOlderVersionLeftIsDroppedAndSaidSo(t *testing.T) {
	t.Parallel()
	for _, plat := range []bot.Platform{bot.Telegram, bot.VK} {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newChatRig(t)
			p := r.person(plat, 302, "Анна")
			p.register(r.invite("edu-school-5", storage.RoleMember), "Кузнецова Анна")
			key := membership.ConversationKey(storage.Platform(plat), "302")
			if err := r.state.Save(r.ctx, key, []byte(`{"flow": 7, "step": ["old"]}`), time.Hour); err != nil {
				t.Fatal(err)
			}
			p.say("Ответ на вопрос старого диалога")
			outdated := p.expect("устарел")
			if !outdated.hasButton("Задать вопрос") {
				t.Fatalf("no menu with the notice: %v", outdated.labels())
			}
			if _, found, err := r.state.Load(r.ctx, key); err != nil || found {
				t.Fatalf("the unreadable conversation stayed: %v, %v", found, err)
			}
		})
	}
}
