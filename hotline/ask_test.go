package hotline_test

import (
	"strings"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func TestAskRoutesToWhoeverCanAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		setup    func(b *bed) (want []int64)
		topic    string
		level    string
		found    bool
		wantDesk bool
	}{
		{"the school's chair answers", "", func(b *bed) []int64 {
			return []int64{b.person("school", storage.RoleChair).PersonID}
		}, "wages", "school", true, false},
		{"nobody at the school: the branch's chair", "", func(b *bed) []int64 {
			b.person("school", storage.RoleInfoworker) // not a responder by role
			return []int64{b.person("edu", storage.RoleChair).PersonID}
		}, "wages", "edu", true, false},
		{"nobody anywhere: it waits at the school", "", func(b *bed) []int64 {
			b.person("health", storage.RoleChair) // a sibling branch answers nothing here
			return nil
		}, "wages", "school", false, false},
		{"the union's staff at the top", "", func(b *bed) []int64 {
			return []int64{b.person("union", storage.RoleAdmin).PersonID}
		}, "wages", "union", true, false},
		{"a topic handed up by the data", "hand_up:\n  - {topic: legal, from: primary}\n", func(b *bed) []int64 {
			b.person("school", storage.RoleChair)
			return []int64{b.person("edu", storage.RoleChair).PersonID}
		}, "legal", "edu", true, false},
		{"a responder named for the topic, beside the chair", "", func(b *bed) []int64 {
			chair := b.person("school", storage.RoleChair)
			lawyer := b.person("school", storage.RoleActivist)
			other := b.person("school", storage.RoleActivist)
			mustDo(b, b.svc.NameResponder(b.ctx, chair, storage.Responder{PersonID: lawyer.PersonID, OrgID: b.org["school"].ID, Topic: "legal"}))
			mustDo(b, b.svc.NameResponder(b.ctx, chair, storage.Responder{PersonID: other.PersonID, OrgID: b.org["school"].ID, Topic: "wages"}))
			return []int64{chair.PersonID, lawyer.PersonID}
		}, "legal", "school", true, false},
		{"a desk group instead of people", "", func(b *bed) []int64 {
			chair := b.person("school", storage.RoleChair)
			if _, err := b.svc.BindDesk(b.ctx, chair, storage.ChatBinding{Platform: storage.Telegram, ChatID: "-77", OrgID: b.org["school"].ID, Title: "Desk"}); err != nil {
				b.t.Fatal(err)
			}
			return nil
		}, "wages", "school", true, true},
		{"a desk on a platform nobody serves is no desk", "", func(b *bed) []int64 {
			chair := b.person("school", storage.RoleChair)
			if _, err := b.svc.BindDesk(b.ctx, chair, storage.ChatBinding{Platform: storage.VK, ChatID: "2000000001", OrgID: b.org["school"].ID, Title: "Desk"}); err != nil {
				b.t.Fatal(err)
			}
			b.heard.serves[storage.VK] = false
			return []int64{chair.PersonID}
		}, "wages", "school", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBed(t, tt.yaml)
			want := tt.setup(b)
			member := b.person("school", storage.RoleMember)
			b.heard.take()
			asked := b.ask(member, tt.topic)
			if asked.Level.Code != tt.level || asked.Answerable != tt.found {
				t.Fatalf("asked at %s (answerable %v), want %s (%v)", asked.Level.Code, asked.Answerable, tt.level, tt.found)
			}
			tk := b.ticket(asked.Ticket.ID)
			if tk.LevelOrgID != b.org[tt.level].ID || tk.OrgID != b.org["school"].ID || tk.Status != storage.TicketOpen || !tk.DueAt.After(tk.CreatedAt) {
				t.Fatalf("ticket %+v", tk)
			}
			es := b.heard.take()
			if !tt.found {
				if len(es) != 0 {
					t.Fatalf("nobody answers, yet %v were told", es)
				}
				return
			}
			if len(es) != 1 || es[0].kind != "waiting" || es[0].reason != hotline.ReasonNew || es[0].desk != tt.wantDesk || !sameIDs(es[0].to, want...) {
				t.Fatalf("told %+v, want a new card for %v (desk %v)", es, want, tt.wantDesk)
			}
		})
	}
}

func mustDo(b *bed, err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

func TestAskRefusesAndCreatesNothing(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	b.person("school", storage.RoleChair)
	member := b.person("school", storage.RoleMember)
	school := b.org["school"].ID
	text := hotline.Message{Text: "A question"}
	tests := []struct {
		name string
		by   access.Actor
		q    hotline.Question
		want error
	}{
		{"from an org the member is not in", member, hotline.Question{OrgID: b.org["gymnasium"].ID, Topic: "wages", Message: text}, access.ErrForbidden},
		{"by nobody", access.Actor{}, hotline.Question{OrgID: school, Topic: "wages", Message: text}, access.ErrForbidden},
		{"about an unknown topic", member, hotline.Question{OrgID: school, Topic: "housing", Message: text}, hotline.ErrUnknownTopic},
		{"without text", member, hotline.Question{OrgID: school, Topic: "wages", Message: hotline.Message{Text: " ", Files: []storage.Attachment{{Platform: storage.Telegram, Kind: "photo", FileID: "f"}}}}, hotline.ErrInvalid},
		{"too long", member, hotline.Question{OrgID: school, Topic: "wages", Message: hotline.Message{Text: strings.Repeat("😀", hotline.MaxText/2+1)}}, hotline.ErrInvalid},
		{"too many files", member, hotline.Question{OrgID: school, Topic: "wages", Message: hotline.Message{Text: "x", Files: make([]storage.Attachment, hotline.MaxFiles+1)}}, hotline.ErrInvalid},
	}
	for _, tt := range tests {
		_, err := b.svc.Ask(b.ctx, tt.by, tt.q)
		is(t, tt.name, err, tt.want)
	}
	if ts, err := b.svc.Mine(b.ctx, member); err != nil || len(ts) != 0 {
		t.Fatalf("refused questions left tickets %+v, %v", ts, err)
	}
	if es := b.heard.take(); len(es) != 0 {
		t.Fatalf("refused questions told %+v", es)
	}
	// At the limit it passes: 3,000 UTF-16 units, an emoji taking two.
	if _, err := b.svc.Ask(b.ctx, member, hotline.Question{OrgID: school, Topic: "wages", Message: hotline.Message{Text: strings.Repeat("😀", hotline.MaxText/2)}}); err != nil {
		t.Fatalf("a question at the limit: %v", err)
	}
}
