package monitoring_test

import (
	"slices"
	"testing"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// TestObservedParticipationCountsDistinctPeople checks the participation
// indicator against actions made for it: the same person in two actions
// counts once per subtree, offline and online apart; a forgotten person
// still counts; cancelled actions and other periods do not; an action
// nobody joined counts as held.
func TestObservedParticipationCountsDistinctPeople(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	f := setup(t, march.AddDate(0, -1, -10))
	a, b, c, e := f.person("school", storage.RoleMember), f.person("gym", storage.RoleMember), f.person("school", storage.RoleMember),
		f.person("school", storage.RoleMember)
	action := func(org string, kind storage.ActionKind, at time.Time) int64 {
		t.Helper()
		bc, err := f.db.CreateBroadcast(f.ctx, storage.Broadcast{OrgID: f.org[org].ID, Text: "Акция", Mode: storage.ModeDirect,
			Audience: storage.Audience{Private: true}, Status: storage.BroadcastSending, CreatedAt: f.clock(),
			Action: &storage.Action{Kind: kind, Title: "Акция", At: at, Place: "https://example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.BuildOutbox(f.ctx, bc, storage.OutboxScope{Orgs: []storage.Org{f.org[org]}, Subtree: true}, f.clock()); err != nil {
			t.Fatal(err)
		}
		return bc.ID
	}
	answer := func(id int64, who storage.Person, ans storage.ActionAnswer) {
		t.Helper()
		if _, err := f.db.AnswerAction(f.ctx, id, who.ID, ans, f.clock()); err != nil {
			t.Fatal(err)
		}
	}
	meeting := action("edu", storage.ActionMeeting, march.Add(9*24*time.Hour))
	answer(meeting, a, storage.AnswerYes)
	answer(meeting, b, storage.AnswerYes)
	answer(meeting, c, storage.AnswerNo)
	answer(meeting, e, storage.AnswerYes)
	online := action("school", storage.ActionOnline, march.Add(19*24*time.Hour))
	answer(online, a, storage.AnswerYes)
	petition := action("gym", storage.ActionSignature, march.Add(24*24*time.Hour))
	answer(petition, b, storage.AnswerSigned)
	action("gym", storage.ActionMeeting, march.Add(25*24*time.Hour)) // nobody joined
	cancelled := action("edu", storage.ActionMeeting, march.Add(26*24*time.Hour))
	answer(cancelled, c, storage.AnswerYes)
	if _, err := f.db.CancelBroadcast(f.ctx, cancelled, f.clock()); err != nil {
		t.Fatal(err)
	}
	february := action("edu", storage.ActionMeeting, march.Add(-5*24*time.Hour))
	answer(february, c, storage.AnswerYes)
	// After the meeting: a was there.
	if _, err := f.db.ClaimActionNotices(f.ctx, storage.NoticeFollowUp, march, march.AddDate(0, 1, 0), march.AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.SetAttended(f.ctx, meeting, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Forget(f.ctx, e.ID, f.clock()); err != nil {
		t.Fatal(err)
	}
	f.advance(march.AddDate(0, 1, 0).Sub(f.clock()))

	r, byCode := f.observed("edu", "2026-03", loc)
	tests := []struct {
		code                               string
		actions, offline, online, attended int
	}{
		{"edu", 4, 3, 2, 1}, // a, b and the forgotten e met; a and b online
		{"school", 1, 0, 1, 0},
		{"gym", 2, 0, 1, 0},
	}
	for _, tt := range tests {
		o := byCode[tt.code]
		off, on, were, ok := o.Participation()
		if !ok || o.Actions != tt.actions || off != tt.offline || on != tt.online || were != tt.attended {
			t.Errorf("%s participation: %d actions, %d offline, %d online, %d attended (%v); want %d, %d, %d, %d",
				tt.code, o.Actions, off, on, were, ok, tt.actions, tt.offline, tt.online, tt.attended)
		}
	}
	if r.PrevObserved.Actions != 1 || r.PrevObserved.JoinedOffline != 1 {
		t.Errorf("February %+v, want one meeting with one person", r.PrevObserved)
	}
	// Health held none: no data, not zero.
	h, _ := f.observed("health", "2026-03", loc)
	if _, _, _, ok := h.Observed.Participation(); ok {
		t.Error("participation without actions is not no data")
	}
	participation := []string{"actions", "participants_offline", "participants_online", "participants_attended"}
	cells, edu := h.Observed.Cells(), byCode["edu"].Cells()
	for i, name := range monitoring.ObservedHeader() {
		if !slices.Contains(participation, name) {
			continue
		}
		if cells[i] != "" {
			t.Errorf("%s = %q without actions, want no data", name, cells[i])
		}
		if want := map[string]string{"actions": "4", "participants_offline": "3"}[name]; want != "" && edu[i] != want {
			t.Errorf("edu's %s = %q, want %s", name, edu[i], want)
		}
	}
}
