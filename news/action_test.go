package news_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

func TestCreateRefusesABadAction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	now := f.clock()
	later := now.Add(48 * time.Hour)
	tests := []struct {
		name string
		a    storage.Action
		want error
	}{
		{"unknown kind", storage.Action{Kind: "party", Title: "x", At: later, Place: "x"}, news.ErrActionKind},
		{"empty title", storage.Action{Kind: storage.ActionMeeting, Title: "  ", At: later, Place: "зал"}, news.ErrActionTitle},
		{"long title", storage.Action{Kind: storage.ActionMeeting, Title: strings.Repeat("я", news.MaxActionTitle+1), At: later, Place: "зал"}, news.ErrActionTitle},
		{"meeting without a place", storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: later}, news.ErrActionPlace},
		{"online without a link", storage.Action{Kind: storage.ActionOnline, Title: "Эфир", At: later, Place: "в интернете"}, news.ErrActionLink},
		{"signature with a javascript link", storage.Action{Kind: storage.ActionSignature, Title: "Петиция", At: later, Place: "javascript:alert(1)"}, news.ErrActionLink},
		{"link without a host", storage.Action{Kind: storage.ActionOnline, Title: "Эфир", At: later, Place: "https://"}, news.ErrActionLink},
		{"past", storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: now.Add(-time.Minute), Place: "зал"}, news.ErrBadTime},
		{"now", storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: now, Place: "зал"}, news.ErrBadTime},
		{"over a year away", storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: now.AddDate(1, 0, 1), Place: "зал"}, news.ErrBadTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.a
			_, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Приходите", Action: &a}, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	// Text and action that would not fit one message are refused.
	long := storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: later, Place: strings.Repeat("з", news.MaxActionPlace)}
	_, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: strings.Repeat("я", news.MaxText-news.MaxActionPlace), Action: &long}, nil)
	if !errors.Is(err, news.ErrActionTooLong) || !errors.Is(err, news.ErrInvalid) {
		t.Fatalf("a text too long with its action: %v", err)
	}
	// An action before the time the item goes at is refused too.
	at := now.Add(72 * time.Hour)
	a := storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: later, Place: "зал"}
	if _, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Приходите", Action: &a}, &at); !errors.Is(err, news.ErrBadTime) {
		t.Fatalf("an action before its item: %v", err)
	}
	b, err := f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Приходите", Action: &a}, nil)
	if err != nil || b.Action == nil || b.Action.Title != "Собрание" || !b.Action.At.Equal(later) {
		t.Fatalf("created %+v, %v", b.Action, err)
	}
}

// sendAction sends an action from the edu branch to its people, its
// author shown the progress until the engine is done, and returns the
// broadcast with the members of the school and the gymnasium.
func (f *fixture) sendAction(a storage.Action) (storage.Broadcast, []storage.Person) {
	f.t.Helper()
	chair := f.actor(f.person("edu", storage.RoleChair))
	people := []storage.Person{f.person("school", storage.RoleMember), f.person("school", storage.RoleMember), f.person("gym", storage.RoleActivist)}
	b := must(f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Приходите", Action: &a}, nil))(f.t)
	if err := f.svc.Start(f.ctx, chair, b); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.KeepProgress(f.ctx, chair, b, storage.DeskPost{Platform: storage.Telegram, ChatID: "1", MessageID: "2"}); err != nil {
		f.t.Fatal(err)
	}
	f.svc.BroadcastFinished(f.ctx, f.broadcast(b.ID))
	return f.broadcast(b.ID), people
}

func TestAnswersCountByOrganisationUpTheTree(t *testing.T) {
	t.Parallel()
	f := setup(t)
	at := f.clock().Add(72 * time.Hour)
	b, p := f.sendAction(storage.Action{Kind: storage.ActionMeeting, Title: "Митинг", At: at, Place: "площадь"})
	outsider := f.person("clinic", storage.RoleMember)
	answers := []struct {
		who    storage.Person
		answer storage.ActionAnswer
	}{
		{p[0], storage.AnswerYes}, {p[0], storage.AnswerNo}, {p[0], storage.AnswerYes}, // a change of mind, and back
		{p[1], storage.AnswerNo},
		{p[2], storage.AnswerYes}, {p[2], storage.AnswerYes}, // the same twice
	}
	for _, a := range answers {
		got, err := f.svc.AnswerAction(f.ctx, a.who.ID, b.ID, a.answer)
		if err != nil || got.Reply.Answer != a.answer || got.Broadcast.ID != b.ID {
			t.Fatalf("answer %s: %+v, %v", a.answer, got, err)
		}
	}
	for _, bad := range []struct {
		name   string
		person int64
		id     int64
		answer storage.ActionAnswer
		want   error
	}{
		{"someone it did not reach", outsider.ID, b.ID, storage.AnswerYes, storage.ErrNotFound},
		{"an unknown broadcast", p[0].ID, b.ID + 100, storage.AnswerYes, storage.ErrNotFound},
		{"a signature's answer to a meeting", p[0].ID, b.ID, storage.AnswerSigned, news.ErrInvalid},
		{"no answer", p[0].ID, b.ID, "", news.ErrInvalid},
	} {
		if _, err := f.svc.AnswerAction(f.ctx, bad.person, bad.id, bad.answer); !errors.Is(err, bad.want) {
			t.Errorf("%s: %v, want %v", bad.name, err, bad.want)
		}
	}
	r := must(news.BuildActionReport(f.ctx, f.db, f.broadcast(b.ID)))(t)
	want := []news.ActionOrg{
		{Code: "edu", Name: "Образование", Depth: 0, ActionTally: news.ActionTally{Yes: 2, No: 1}},
		{Code: "school", Name: "Школа № 5", Depth: 1, ActionTally: news.ActionTally{Yes: 1, No: 1}},
		{Code: "gym", Name: "Гимназия № 1", Depth: 1, ActionTally: news.ActionTally{Yes: 1}},
	}
	if r.Total != (news.ActionTally{Yes: 2, No: 1}) || !reflect.DeepEqual(r.ByOrg, want) || r.Title != "Митинг" || r.Zone != storage.DefaultTimeZone {
		t.Fatalf("report %+v", r)
	}
	// The author's progress shows the counts, once a round, for answers
	// that came after the delivery.
	f.told.take()
	if err := f.svc.ProgressRound(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.told.take(); len(got) != 1 || got[0].report.Action == nil || *got[0].report.Action != (news.ActionTally{Yes: 2, No: 1}) {
		t.Fatalf("progress %+v", got)
	}
	if err := f.svc.ProgressRound(f.ctx); err != nil || len(f.told.take()) != 0 {
		t.Fatal("progress shown again with nothing new")
	}
	// Once the action has begun, answers no longer change.
	f.advance(72 * time.Hour)
	if _, err := f.svc.AnswerAction(f.ctx, p[1].ID, b.ID, storage.AnswerYes); !errors.Is(err, news.ErrActionOver) {
		t.Fatalf("an answer after the action: %v", err)
	}
}

func TestRemindersComeOnceAndTheQuestionAfter(t *testing.T) {
	t.Parallel()
	f := setup(t)
	at := f.clock().Add(72 * time.Hour)
	b, p := f.sendAction(storage.Action{Kind: storage.ActionOnline, Title: "Эфир", At: at, Place: "https://example.org/live"})
	must(f.svc.AnswerAction(f.ctx, p[0].ID, b.ID, storage.AnswerYes))(t)
	must(f.svc.AnswerAction(f.ctx, p[1].ID, b.ID, storage.AnswerNo))(t)
	must(f.svc.AnswerAction(f.ctx, p[2].ID, b.ID, storage.AnswerYes))(t)
	sig, q := f.sendAction(storage.Action{Kind: storage.ActionSignature, Title: "Петиция", At: at, Place: "https://example.org/sign"})
	must(f.svc.AnswerAction(f.ctx, q[0].ID, sig.ID, storage.AnswerSigned))(t)
	f.told.take()

	replica := f.service(f.db)
	rounds := func() []told {
		t.Helper()
		for _, s := range []*news.Service{f.svc, replica} {
			if err := s.ActionRound(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		var out []told
		for _, x := range f.told.take() {
			if x.kind == "action" {
				out = append(out, x)
			}
		}
		return out
	}
	notices := func(ts []told) map[int64]storage.ActionNotice {
		out := map[int64]storage.ActionNotice{}
		for _, x := range ts {
			if _, twice := out[x.person]; twice || x.broadcast != b.ID || x.org != "edu" {
				t.Errorf("notice %+v: twice, or not of the online action", x)
			}
			out[x.person] = x.notice
		}
		return out
	}
	both := func(n storage.ActionNotice) map[int64]storage.ActionNotice {
		return map[int64]storage.ActionNotice{p[0].ID: n, p[2].ID: n}
	}
	steps := []struct {
		name string
		to   time.Time
		want map[int64]storage.ActionNotice
	}{
		{"two days before", at.Add(-48 * time.Hour), map[int64]storage.ActionNotice{}},
		{"a minute before the day before", at.Add(-24*time.Hour - time.Minute), map[int64]storage.ActionNotice{}},
		{"the day before", at.Add(-24 * time.Hour), both(storage.NoticeDayBefore)},
		{"later that day", at.Add(-5 * time.Hour), map[int64]storage.ActionNotice{}},
		{"the hour before", at.Add(-time.Hour), both(storage.NoticeHourBefore)},
		{"at the start", at, map[int64]storage.ActionNotice{}},
		{"just before the question", at.Add(news.FollowUpAfter - time.Minute), map[int64]storage.ActionNotice{}},
		{"after it", at.Add(news.FollowUpAfter), both(storage.NoticeFollowUp)},
		{"a day after", at.Add(24 * time.Hour), map[int64]storage.ActionNotice{}},
	}
	for _, st := range steps {
		f.advance(st.to.Sub(f.clock()))
		if got := notices(rounds()); !reflect.DeepEqual(got, st.want) {
			t.Fatalf("%s: notices %v, want %v", st.name, got, st.want)
		}
	}
	// Whether they were there: only those asked, and a change of mind.
	if _, err := f.svc.Attended(f.ctx, p[1].ID, b.ID, true); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("attendance of someone who said no: %v", err)
	}
	must(f.svc.Attended(f.ctx, p[0].ID, b.ID, false))(t)
	if got := must(f.svc.Attended(f.ctx, p[0].ID, b.ID, true))(t); got.Reply.Attended == nil || !*got.Reply.Attended {
		t.Fatalf("attended %+v", got.Reply)
	}
	must(f.svc.Attended(f.ctx, p[2].ID, b.ID, false))(t)
	if r := must(news.BuildActionReport(f.ctx, f.db, f.broadcast(b.ID)))(t); r.Total != (news.ActionTally{Yes: 2, No: 1, Attended: 1}) {
		t.Fatalf("report %+v", r.Total)
	}
	if r := must(news.BuildActionReport(f.ctx, f.db, f.broadcast(sig.ID)))(t); r.Total != (news.ActionTally{Signed: 1}) {
		t.Fatalf("signature report %+v", r.Total)
	}
}
