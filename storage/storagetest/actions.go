package storagetest

import (
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// actionBroadcast creates a sending broadcast from org carrying a, with an
// outbox built for org's subtree and claimed, so that its people may
// answer.
func (x *suite) actionBroadcast(org storage.Org, a storage.Action) storage.Broadcast {
	x.t.Helper()
	b, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: org.ID, Text: "come", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true}, Status: storage.BroadcastSending, CreatedAt: T0, Action: &a})
	x.must(err)
	_, err = x.s.BuildOutbox(x.ctx, b, storage.OutboxScope{Orgs: []storage.Org{org}, Subtree: true}, T0)
	x.must(err)
	return b
}

func testActionRoundTrip(x *suite) {
	o := x.tree()
	a := storage.Action{Kind: storage.ActionMeeting, Title: "Митинг у мэрии", At: T0.Add(48 * time.Hour).In(time.FixedZone("SAKT", 11*3600)),
		Place: "пл. Ленина, 1"}
	b := x.actionBroadcast(o["B1"], a)
	want := a
	want.At = a.At.UTC()
	if b.Action == nil || !reflect.DeepEqual(*b.Action, want) {
		x.t.Errorf("created action %+v, want %+v", b.Action, want)
	}
	if stored, err := x.s.Broadcast(x.ctx, b.ID); err != nil || stored.Action == nil || !reflect.DeepEqual(*stored.Action, want) {
		x.t.Errorf("stored action %+v, %v; want %+v", stored.Action, err, want)
	}
	if plain := x.newBroadcast(o["B1"].ID, storage.ModeDirect, storage.Audience{Private: true}); plain.Action != nil {
		x.t.Errorf("a broadcast without an action has %+v", plain.Action)
	}
	_, err := x.s.CreateBroadcast(x.ctx, storage.Broadcast{OrgID: o["B1"].ID, Text: "x", Mode: storage.ModeDirect, CreatedAt: T0,
		Action: &storage.Action{Kind: "party", Title: "x", At: T0}})
	if err == nil {
		x.t.Error("an action of an unknown kind was stored")
	}
}

func testActionAnswers(x *suite) {
	o := x.tree()
	x.invite("P1-member", o["P1"].ID, storage.RoleMember, 0)
	x.invite("P2-member", o["P2"].ID, storage.RoleMember, 0)
	ann, _ := x.register("43001", o["P1"].ID, storage.RoleMember, "P1-member")
	bob, _ := x.register("43002", o["P1"].ID, storage.RoleMember, "P1-member")
	cat, _ := x.register("43003", o["P1"].ID, storage.RoleMember, "P1-member")
	outsider, _ := x.register("43004", o["P2"].ID, storage.RoleMember, "P2-member")
	b := x.actionBroadcast(o["B1"], storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: T0.Add(48 * time.Hour), Place: "зал"})

	if _, err := x.s.AnswerAction(x.ctx, b.ID, outsider.ID, storage.AnswerYes, T0); !isNotFound(err) {
		x.t.Errorf("someone the broadcast did not reach answered: %v", err)
	}
	// Ann says yes, no, then yes again; Bob no; Cat yes twice.
	// The same answer again keeps its first time; a change takes its own.
	for _, step := range []struct {
		who          storage.Person
		answer       storage.ActionAnswer
		at, answered time.Time
	}{
		{ann, storage.AnswerYes, T0, T0}, {ann, storage.AnswerNo, T0.Add(time.Minute), T0.Add(time.Minute)},
		{ann, storage.AnswerYes, T0.Add(2 * time.Minute), T0.Add(2 * time.Minute)},
		{bob, storage.AnswerNo, T0, T0}, {cat, storage.AnswerYes, T0, T0}, {cat, storage.AnswerYes, T0.Add(time.Hour), T0},
	} {
		r, err := x.s.AnswerAction(x.ctx, b.ID, step.who.ID, step.answer, step.at)
		x.must(err)
		if r.Answer != step.answer || r.OrgID != o["P1"].ID || r.PersonID != step.who.ID || r.BroadcastID != b.ID ||
			!r.AnsweredAt.Equal(step.answered) || r.Attended != nil {
			x.t.Errorf("answer %+v, want %s of person %d in P1 at %v", r, step.answer, step.who.ID, step.answered)
		}
	}
	counts, err := x.s.ActionCounts(x.ctx, b.ID)
	x.must(err)
	if want := []storage.ActionCount{{OrgID: o["P1"].ID, Yes: 2, No: 1}}; !reflect.DeepEqual(counts, want) {
		x.t.Errorf("counts %+v, want %+v", counts, want)
	}
	// Attendance is taken only once asked, and only from those who said yes.
	if _, err := x.s.SetAttended(x.ctx, b.ID, ann.ID, true); !isNotFound(err) {
		x.t.Errorf("attendance before the question: %v", err)
	}

	// The notices: the day before, the hour before, after it; each window
	// bounds the action's time.
	at := b.Action.At
	day, err := x.s.ClaimActionNotices(x.ctx, storage.NoticeDayBefore, at.Add(-23*time.Hour), at, at.Add(-24*time.Hour))
	x.must(err)
	if got := replyPeople(day); !slices.Equal(got, []int64{ann.ID, cat.ID}) {
		x.t.Errorf("day notices to %v, want %v", got, []int64{ann.ID, cat.ID})
	}
	again, err := x.s.ClaimActionNotices(x.ctx, storage.NoticeDayBefore, at.Add(-25*time.Hour), at.Add(time.Hour), at.Add(-22*time.Hour))
	x.must(err)
	if len(again) != 0 {
		x.t.Errorf("day notices claimed twice: %+v", again)
	}
	early, err := x.s.ClaimActionNotices(x.ctx, storage.NoticeHourBefore, at.Add(-3*time.Hour), at.Add(-2*time.Hour), at.Add(-3*time.Hour))
	x.must(err)
	if len(early) != 0 {
		x.t.Errorf("hour notices outside the window: %+v", early)
	}
	hour, err := x.s.ClaimActionNotices(x.ctx, storage.NoticeHourBefore, at.Add(-time.Hour), at, at.Add(-time.Hour))
	x.must(err)
	if got := replyPeople(hour); !slices.Equal(got, []int64{ann.ID, cat.ID}) {
		x.t.Errorf("hour notices to %v", got)
	}
	follow, err := x.s.ClaimActionNotices(x.ctx, storage.NoticeFollowUp, at.Add(-7*24*time.Hour), at, at.Add(2*time.Hour))
	x.must(err)
	if got := replyPeople(follow); !slices.Equal(got, []int64{ann.ID, cat.ID}) {
		x.t.Errorf("follow-ups to %v", got)
	}
	if _, err := x.s.SetAttended(x.ctx, b.ID, bob.ID, true); !isNotFound(err) {
		x.t.Errorf("attendance of someone who said no: %v", err)
	}
	r, err := x.s.SetAttended(x.ctx, b.ID, ann.ID, false)
	x.must(err)
	if r.Attended == nil || *r.Attended {
		x.t.Errorf("attended %+v, want false", r)
	}
	r, err = x.s.SetAttended(x.ctx, b.ID, ann.ID, true) // a change of mind
	x.must(err)
	if r.Attended == nil || !*r.Attended {
		x.t.Errorf("attended %+v, want true", r)
	}
	_, err = x.s.SetAttended(x.ctx, b.ID, cat.ID, false)
	x.must(err)
	counts, err = x.s.ActionCounts(x.ctx, b.ID)
	x.must(err)
	if want := []storage.ActionCount{{OrgID: o["P1"].ID, Yes: 2, No: 1, Attended: 1}}; !reflect.DeepEqual(counts, want) {
		x.t.Errorf("counts %+v, want %+v", counts, want)
	}

	// A signature is signed; it gets no notices, nor do cancelled items.
	sig := x.actionBroadcast(o["B1"], storage.Action{Kind: storage.ActionSignature, Title: "Петиция", At: T0.Add(time.Hour), Place: "https://example.org"})
	_, err = x.s.AnswerAction(x.ctx, sig.ID, bob.ID, storage.AnswerSigned, T0)
	x.must(err)
	cancelled := x.actionBroadcast(o["B1"], storage.Action{Kind: storage.ActionOnline, Title: "Эфир", At: T0.Add(time.Hour), Place: "https://example.org"})
	_, err = x.s.AnswerAction(x.ctx, cancelled.ID, bob.ID, storage.AnswerYes, T0)
	x.must(err)
	_, err = x.s.CancelBroadcast(x.ctx, cancelled.ID, T0)
	x.must(err)
	none, err := x.s.ClaimActionNotices(x.ctx, storage.NoticeHourBefore, T0, T0.Add(time.Hour), T0)
	x.must(err)
	if len(none) != 0 {
		x.t.Errorf("notices of a signature or a cancelled action: %+v", none)
	}
	counts, err = x.s.ActionCounts(x.ctx, sig.ID)
	x.must(err)
	if want := []storage.ActionCount{{OrgID: o["P1"].ID, Signed: 1}}; !reflect.DeepEqual(counts, want) {
		x.t.Errorf("signature counts %+v, want %+v", counts, want)
	}

	// A forgotten person's answer stays, anonymous, for the counts.
	x.must(x.s.Forget(x.ctx, ann.ID, T0.Add(time.Hour)))
	if _, err := x.s.SetAttended(x.ctx, b.ID, ann.ID, true); !isNotFound(err) {
		x.t.Errorf("the forgotten person's answer is still theirs: %v", err)
	}
	counts, err = x.s.ActionCounts(x.ctx, b.ID)
	x.must(err)
	if want := []storage.ActionCount{{OrgID: o["P1"].ID, Yes: 2, No: 1, Attended: 1}}; !reflect.DeepEqual(counts, want) {
		x.t.Errorf("counts after forgetting %+v, want %+v", counts, want)
	}
}

func replyPeople(rs []storage.ActionReply) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.PersonID)
	}
	slices.Sort(out)
	return out
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

func testActionJoins(x *suite) {
	o := x.tree()
	x.invite("P1-member", o["P1"].ID, storage.RoleMember, 0)
	x.invite("P2-member", o["P2"].ID, storage.RoleMember, 0)
	ann, _ := x.register("44001", o["P1"].ID, storage.RoleMember, "P1-member")
	bob, _ := x.register("44002", o["P1"].ID, storage.RoleMember, "P1-member")
	far, _ := x.register("44003", o["P2"].ID, storage.RoleMember, "P2-member")
	at := T0.Add(24 * time.Hour)
	meeting := x.actionBroadcast(o["B11"], storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: at, Place: "зал"})
	_, err := x.s.AnswerAction(x.ctx, meeting.ID, ann.ID, storage.AnswerYes, T0)
	x.must(err)
	_, err = x.s.AnswerAction(x.ctx, meeting.ID, bob.ID, storage.AnswerNo, T0)
	x.must(err)
	empty := x.actionBroadcast(o["P1"], storage.Action{Kind: storage.ActionSignature, Title: "Петиция", At: at, Place: "https://example.org"})
	later := x.actionBroadcast(o["B1"], storage.Action{Kind: storage.ActionOnline, Title: "Эфир", At: at.Add(48 * time.Hour), Place: "https://example.org"})
	_, err = x.s.AnswerAction(x.ctx, later.ID, ann.ID, storage.AnswerYes, T0)
	x.must(err)
	beside := x.actionBroadcast(o["B2"], storage.Action{Kind: storage.ActionMeeting, Title: "Собрание", At: at, Place: "зал"})
	_, err = x.s.AnswerAction(x.ctx, beside.ID, far.ID, storage.AnswerYes, T0)
	x.must(err)
	x.newBroadcast(o["B1"].ID, storage.ModeDirect, storage.Audience{Private: true}) // no action

	joins, err := x.s.ActionJoins(x.ctx, o["B1"], T0, at.Add(time.Hour))
	x.must(err)
	slices.SortFunc(joins, func(a, b storage.ActionJoin) int { return int(a.BroadcastID - b.BroadcastID) })
	want := []storage.ActionJoin{
		{BroadcastID: meeting.ID, OrgID: o["B11"].ID, Kind: storage.ActionMeeting, Person: ann.ID},
		{BroadcastID: empty.ID, OrgID: o["P1"].ID, Kind: storage.ActionSignature},
	}
	if !reflect.DeepEqual(joins, want) {
		x.t.Errorf("joins\n%+v\nwant\n%+v", joins, want)
	}
	// A forgotten person is told apart from the others by a key of their own.
	x.must(x.s.Forget(x.ctx, ann.ID, T0))
	joins, err = x.s.ActionJoins(x.ctx, o["B11"], T0, at.Add(time.Hour))
	x.must(err)
	slices.SortFunc(joins, func(a, b storage.ActionJoin) int { return int(a.BroadcastID - b.BroadcastID) })
	if len(joins) != 2 || joins[0].Person >= 0 || joins[1].Person != 0 {
		x.t.Errorf("joins after forgetting %+v, want the meeting's with a negative key and the empty petition", joins)
	}
}
