package monitoring_test

import (
	"testing"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// TestObservedIndicatorsCountTheRecords checks each observed figure of a
// month against records made for it: who is reachable (blocked, several
// orgs, joined during the month), and questions answered in time, late,
// not yet and not yet due; an org without questions has no data.
func TestObservedIndicatorsCountTheRecords(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	f := setup(t, march.AddDate(0, -1, -1))
	a := f.person("school", storage.RoleMember)
	b := f.person("school", storage.RoleActivist, "gym", "member") // in two primaries of edu
	blocked := f.person("school", storage.RoleMember)
	f.person("clinic", storage.RoleChair)
	f.advance(march.Sub(f.clock()))
	accounts, err := f.db.Accounts(f.ctx, blocked.ID)
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts %+v, %v", accounts, err)
	}
	if err := f.db.MarkBlocked(f.ctx, storage.Telegram, accounts[0].ExternalID, march); err != nil {
		t.Fatal(err)
	}

	ask := func(who storage.Person, org string, at time.Time, due time.Duration, answer time.Duration) {
		t.Helper()
		tk, err := f.db.CreateTicket(f.ctx, storage.Ticket{PersonID: who.ID, OrgID: f.org[org].ID, LevelOrgID: f.org[org].ID,
			Topic: "wages", Status: storage.TicketOpen, CreatedAt: at, DueAt: at.Add(due)},
			storage.TicketMessage{AuthorID: who.ID, FromMember: true, Text: "Вопрос", At: at})
		if err != nil {
			t.Fatal(err)
		}
		if answer > 0 {
			if _, err := f.db.AddTicketMessage(f.ctx, storage.TicketMessage{TicketID: tk.ID, AuthorID: blocked.ID, Text: "Ответ", At: at.Add(answer)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ask(a, "school", march.Add(time.Hour), 8*time.Hour, 2*time.Hour)    // on time, 2 h
	ask(b, "school", march.Add(2*time.Hour), 8*time.Hour, 10*time.Hour) // late, 10 h
	ask(b, "gym", march.Add(3*time.Hour), 8*time.Hour, 4*time.Hour)     // on time, 4 h
	ask(a, "school", march.Add(4*time.Hour), 8*time.Hour, 0)            // overdue, unanswered
	ask(a, "school", march.Add(47*24*time.Hour), 8*time.Hour, 0)        // April: another period
	ask(a, "school", march.AddDate(0, 0, -10), 8*time.Hour, time.Hour)  // February: the previous one
	f.advance(24 * time.Hour)
	ask(a, "gym", f.clock().Add(-time.Hour), 8*time.Hour, 0) // asked an hour ago: not yet due
	f.person("gym", storage.RoleMember)                      // joined in March, after the first questions
	f.advance(time.Minute)

	p, err := monitoring.ParsePeriod("2026-03", loc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.ObservedReport(f.ctx, f.org["edu"], p)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]monitoring.Observed{}
	for _, o := range r.ObservedOrgs {
		byCode[o.Code] = o
	}
	if r.Observed.Code != "edu" || len(byCode) != 3 {
		t.Fatalf("observed %q and %d orgs, want edu and its three", r.Observed.Code, len(byCode))
	}
	tests := []struct {
		code                                    string
		reachable, asked, answered, due, onTime int
		median, p90                             time.Duration
	}{
		// a, b and the one who joined gym in March, once each although b
		// is in two primaries; blocked is not.
		{"edu", 3, 5, 3, 4, 2, 4 * time.Hour, 10 * time.Hour},
		{"school", 2, 3, 2, 3, 1, 2 * time.Hour, 10 * time.Hour},
		{"gym", 2, 2, 1, 1, 1, 4 * time.Hour, 4 * time.Hour},
	}
	for _, tt := range tests {
		o := byCode[tt.code]
		if o.Reachable != tt.reachable || o.Asked != tt.asked || o.Answered != tt.answered || o.Due != tt.due || o.OnTime != tt.onTime ||
			o.FirstMedian != tt.median || o.FirstP90 != tt.p90 {
			t.Errorf("%s observed %+v, want reachable %d, asked %d, answered %d, due %d, on time %d, median %v, p90 %v",
				tt.code, o, tt.reachable, tt.asked, tt.answered, tt.due, tt.onTime, tt.median, tt.p90)
		}
	}
	if share, ok := byCode["school"].Coverage(); !ok || share != 100*2.0/86 {
		t.Errorf("school coverage %v, %v; want 2 of 86", share, ok)
	}
	if share, ok := byCode["school"].OnTimeShare(); !ok || share != 100/3.0 {
		t.Errorf("school on time %v, %v; want 1 of 3", share, ok)
	}
	// The previous month: a single question, answered in an hour; a and b
	// had joined by then, gym's newcomer had not.
	if prev := r.PrevObserved; prev.Asked != 1 || prev.OnTime != 1 || prev.FirstMedian != time.Hour || prev.Reachable != 2 {
		t.Errorf("previous month observed %+v", prev)
	}

	// An org without questions, or without declared members, has no data.
	h, err := f.svc.ObservedReport(f.ctx, f.org["health"], p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Observed.OnTimeShare(); ok {
		t.Errorf("health without questions has an on-time share: %+v", h.Observed)
	}
	if _, _, ok := h.Observed.FirstAnswer(); ok {
		t.Errorf("health without questions has a first-answer time: %+v", h.Observed)
	}
	if share, ok := h.Observed.Coverage(); !ok || h.Observed.Reachable != 1 || share != 100.0/700 {
		t.Errorf("health coverage %v, %v of %+v; want its chair of 700", share, ok, h.Observed)
	}
	if _, ok := (monitoring.Observed{Reachable: 3}).Coverage(); ok {
		t.Error("coverage without declared members is not no data")
	}
	row := h.Observed.Cells()
	if row[0] == "" || row[2] != "0" || row[4] != "" || row[5] != "" {
		t.Errorf("cells %q: coverage, then no data for the hot line", row)
	}
}

// TestObservedCoverageReportsSupportersBeside checks that supporters never
// count towards coverage and are reported beside it: once per org, and not
// where the person is a member.
func TestObservedCoverageReportsSupportersBeside(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	f := setup(t, march.AddDate(0, 0, -1))
	f.person("school", storage.RoleMember)
	f.person("school", storage.RoleSupporter)
	f.person("school", storage.RoleSupporter, "gym", "supporter") // supports two primaries of edu
	f.person("gym", storage.RoleMember, "school", "supporter")    // a member of gym who supports school
	blocked := f.person("gym", storage.RoleSupporter)
	accounts, err := f.db.Accounts(f.ctx, blocked.ID)
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts %+v, %v", accounts, err)
	}
	if err := f.db.MarkBlocked(f.ctx, storage.Telegram, accounts[0].ExternalID, march); err != nil {
		t.Fatal(err)
	}
	f.advance(24 * time.Hour)
	p, err := monitoring.ParsePeriod("2026-03", loc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.ObservedReport(f.ctx, f.org["edu"], p)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]monitoring.Observed{}
	for _, o := range r.ObservedOrgs {
		byCode[o.Code] = o
	}
	for _, tt := range []struct {
		code                  string
		reachable, supporters int
	}{
		{"school", 1, 3}, // the member; two supporters and gym's member
		{"gym", 1, 1},    // its member; the supporter of both (the blocked one is not reached)
		{"edu", 2, 2},    // gym's member is a member of edu's subtree
	} {
		o := byCode[tt.code]
		if o.Reachable != tt.reachable || o.Supporters != tt.supporters {
			t.Errorf("%s: reachable %d, supporters %d; want %d and %d", tt.code, o.Reachable, o.Supporters, tt.reachable, tt.supporters)
		}
	}
	if share, ok := byCode["school"].Coverage(); !ok || share != 100*1.0/86 {
		t.Errorf("school coverage %v, %v; want the one member of 86", share, ok)
	}
	if cells := byCode["school"].Cells(); cells[1] != "1" || cells[2] != "3" || monitoring.ObservedHeader()[2] != "supporters_reachable" {
		t.Errorf("cells %q under %q", cells, monitoring.ObservedHeader())
	}
}

// TestObservedRegularityCountsWhatWasPublished checks news per month and
// the relay's figures against broadcasts and relay steps made for them.
func TestObservedRegularityCountsWhatWasPublished(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	f := setup(t, march.AddDate(0, 1, 0)) // the report is read on 1 April: March has passed whole
	news := func(org string, started time.Time) int64 {
		t.Helper()
		b, err := f.db.CreateBroadcast(f.ctx, storage.Broadcast{OrgID: f.org[org].ID, Text: "Новость", Mode: storage.ModeRelay,
			Audience: storage.Audience{Private: true}, Status: storage.BroadcastDone, CreatedAt: started, StartedAt: &started, FinishedAt: &started})
		if err != nil {
			t.Fatal(err)
		}
		return b.ID
	}
	step := func(id int64, org string, received time.Time, action storage.RelayAction, took time.Duration) {
		t.Helper()
		if err := f.db.AddRelaySteps(f.ctx, []storage.RelayStep{{BroadcastID: id, OrgID: f.org[org].ID, ReceivedAt: received}}); err != nil {
			t.Fatal(err)
		}
		if action != "" {
			if _, err := f.db.CompleteRelayStep(f.ctx, id, f.org[org].ID, action, "", received.Add(took)); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := news("edu", march.Add(24*time.Hour))
	b := news("edu", march.Add(10*24*time.Hour))
	news("school", march.Add(20*24*time.Hour))
	news("edu", march.AddDate(0, -1, 0)) // February
	step(a, "school", march.Add(24*time.Hour), storage.RelayPublished, 2*time.Hour)
	step(a, "gym", march.Add(24*time.Hour), storage.RelayNoted, 6*time.Hour)
	step(b, "school", march.Add(10*24*time.Hour), storage.RelayAuto, 48*time.Hour) // the deadline published it
	step(b, "gym", march.Add(10*24*time.Hour), "", 0)                              // still silent

	p, err := monitoring.ParsePeriod("2026-03", loc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.svc.ObservedReport(f.ctx, f.org["edu"], p)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]monitoring.Observed{}
	for _, o := range r.ObservedOrgs {
		byCode[o.Code] = o
	}
	months := 31 * 24 / (30.4 * 24)
	tests := []struct {
		code                                string
		published, relayed, steps, relayPub int
		relayMedian                         time.Duration
	}{
		{"edu", 2, 0, 4, 2, 2 * time.Hour}, // of 2 h and 6 h, the nearest-rank median
		{"school", 1, 1, 2, 1, 2 * time.Hour},
		{"gym", 0, 1, 2, 1, 6 * time.Hour},
	}
	for _, tt := range tests {
		o := byCode[tt.code]
		if o.Published != tt.published || o.Relayed != tt.relayed || o.RelaySteps != tt.steps || o.RelayPublished != tt.relayPub ||
			o.RelayMedian != tt.relayMedian || o.Months != months {
			t.Errorf("%s observed %+v, want published %d, relayed %d, steps %d, published by levels %d, median %v over %v months",
				tt.code, o, tt.published, tt.relayed, tt.steps, tt.relayPub, tt.relayMedian, months)
		}
	}
	if perMonth, ok := byCode["school"].NewsPerMonth(); !ok || perMonth != 2/months {
		t.Errorf("school's news a month %v, %v; want 2 in March", perMonth, ok)
	}
	if share, ok := byCode["edu"].RelayShare(); !ok || share != 50 {
		t.Errorf("edu's relay share %v, %v; want 2 of 4", share, ok)
	}
	if r.PrevObserved.Published != 1 || r.PrevObserved.RelaySteps != 0 {
		t.Errorf("February observed %+v, want one item and no relay", r.PrevObserved)
	}
	if _, ok := r.PrevObserved.RelayShare(); ok {
		t.Error("a relay share without relayed news is not no data")
	}
}
