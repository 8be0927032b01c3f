package monitoring_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
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

	r, byCode := f.observed("edu", "2026-03", loc)
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
	h, _ := f.observed("health", "2026-03", loc)
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

	r, byCode := f.observed("edu", "2026-03", loc)
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

func TestObservedReachAndEngagementCountDeliveriesAndOpens(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	f := setup(t, march)
	for range 3 {
		f.person("school", storage.RoleMember)
	}
	f.person("gym", storage.RoleMember)
	// One item to the school and the gym, finished in March: 2 of the
	// school's 3 reached, the gym's 1; the school's two recipients open
	// its link (one twice), one presses Share.
	b, err := f.db.CreateBroadcast(f.ctx, storage.Broadcast{OrgID: f.org["edu"].ID, Text: "https://union.example", Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true}, Status: storage.BroadcastSending, CreatedAt: march})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.BuildOutbox(f.ctx, b, storage.OutboxScope{Orgs: []storage.Org{f.org["school"], f.org["gym"]}}, march); err != nil {
		t.Fatal(err)
	}
	ds, err := f.db.ClaimDeliveries(f.ctx, "test", 10, march, march.Add(time.Hour))
	if err != nil || len(ds) != 4 {
		t.Fatalf("claimed %d, %v; want 4", len(ds), err)
	}
	var results []storage.DeliveryResult
	var school []storage.Delivery
	failed := false
	for _, d := range ds {
		st := storage.DeliverySent
		if d.OrgID == f.org["school"].ID && !failed {
			st, failed = storage.DeliveryFailed, true
		} else if d.OrgID == f.org["school"].ID {
			school = append(school, d)
		}
		results = append(results, storage.DeliveryResult{ID: d.ID, Status: st, MessageID: "m"})
	}
	if err := f.db.CompleteDeliveries(f.ctx, "test", results, march); err != nil {
		t.Fatal(err)
	}
	for _, open := range []struct {
		d    storage.Delivery
		link int
	}{{school[0], 0}, {school[0], 0}, {school[1], 0}, {school[1], storage.LinkShare}} {
		if _, err := f.db.RecordLinkOpen(f.ctx, open.d.ID, open.link, march.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.FinishBroadcasts(f.ctx, march.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.advance(31 * 24 * time.Hour)
	// Edu wants 80 % reach below it; the Union an answer within 2 hours.
	for _, tt := range []struct {
		code, indicator string
		value           float64
	}{{"edu", "reach_percent", 80}, {"union", "first_answer_median_hours", 2}} {
		if _, _, err := f.svc.SetTarget(f.ctx, tt.code, "2026-03", tt.indicator, tt.value); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := f.svc.SetTarget(f.ctx, "edu", "2026-03", "reach", 80); err == nil || !strings.Contains(err.Error(), "reach_percent") {
		t.Errorf("a target for an unknown indicator: %v, want the names to choose from", err)
	}

	r, byCode := f.observed("union", "2026-03", loc)
	tests := []struct {
		code                              string
		audience, delivered, opens, share int
		reach, opensPer100, sharesPer100  float64
	}{
		{"school", 3, 2, 2, 1, 100 * 2 / 3.0, 100, 50},
		{"gym", 1, 1, 0, 0, 100, 0, 0},
		{"edu", 4, 3, 2, 1, 75, 100 * 2 / 3.0, 100 / 3.0},
		{"union", 4, 3, 2, 1, 75, 100 * 2 / 3.0, 100 / 3.0},
	}
	for _, tt := range tests {
		o := byCode[tt.code]
		if o.Audience != tt.audience || o.Delivered != tt.delivered || o.Opens != tt.opens || o.Shares != tt.share {
			t.Errorf("%s observed %+v, want audience %d, delivered %d, opens %d, shares %d", tt.code, o, tt.audience, tt.delivered, tt.opens, tt.share)
		}
		reach, ok := o.Reach()
		opens, shares, engaged := o.Engagement()
		if !ok || !engaged || reach != tt.reach || opens != tt.opensPer100 || shares != tt.sharesPer100 {
			t.Errorf("%s: reach %v%% (%v), opens %v and shares %v per 100 (%v); want %v%%, %v, %v",
				tt.code, reach, ok, opens, shares, engaged, tt.reach, tt.opensPer100, tt.sharesPer100)
		}
	}
	// Where no news went, and in February, there is no data, not zero.
	if _, ok := byCode["clinic"].Reach(); ok {
		t.Error("the clinic got no news: its reach is not no data")
	}
	if _, _, ok := byCode["clinic"].Engagement(); ok {
		t.Error("the clinic got no news: its engagement is not no data")
	}
	if _, ok := r.PrevObserved.Reach(); ok || r.PrevObserved.Audience != 0 {
		t.Errorf("February observed %+v, want no reach", r.PrevObserved)
	}
	// The targets: the school's 66.7 % misses edu's 80, the gym's 100
	// meets it; no question was answered anywhere, so the Union's time
	// to answer is no data; the clinic has no reach target at all.
	targets := map[string][]monitoring.ObservedResult{
		"school": {
			{Indicator: "first_answer_median_hours", Target: 2},
			{Indicator: "reach_percent", Value: 100 * 2 / 3.0, Target: 80, Known: true},
		},
		"gym": {
			{Indicator: "first_answer_median_hours", Target: 2},
			{Indicator: "reach_percent", Value: 100, Target: 80, Known: true, Pass: true},
		},
		"clinic": {{Indicator: "first_answer_median_hours", Target: 2}},
	}
	for code, want := range targets {
		if got := byCode[code].Targets; !slices.Equal(got, want) {
			t.Errorf("%s targets %+v, want %+v", code, got, want)
		}
	}
	cells := byCode["clinic"].Cells()
	for i, name := range monitoring.ObservedHeader() {
		switch name {
		case "reach_percent", "link_opens_per_100_delivered", "shares_per_100_delivered":
			if cells[i] != "" {
				t.Errorf("the clinic's %s is %q, want empty (no data)", name, cells[i])
			}
		}
	}
}

func TestObservedMaturityScoresEachOrgByItsParts(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	march := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	f := setup(t, march)
	// The school has an information worker in the bot who answers the
	// hot line, a bound chat, two activists of whom one gave a work
	// e-mail, and its contact base sent up this year; the gym nothing.
	info := f.person("school", storage.RoleInfoworker)
	f.person("school", storage.RoleActivist)
	email := "info@school.example"
	if _, err := f.db.UpdateProfile(f.ctx, info.ID, storage.ProfilePatch{WorkEmail: &email}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetResponder(f.ctx, storage.Responder{PersonID: info.ID, OrgID: f.org["school"].ID}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.BindChat(f.ctx, storage.ChatBinding{Platform: storage.Telegram, ChatID: "-100", OrgID: f.org["school"].ID, Title: "Школа", BoundAt: march}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ClaimContactBaseSend(f.ctx, f.org["school"].ID, 2026, march, march); err != nil {
		t.Fatal(err)
	}
	if err := f.db.MarkContactBaseSent(f.ctx, f.org["school"].ID, 2026, march); err != nil {
		t.Fatal(err)
	}
	_, byCode := f.observed("edu", "2026", loc)
	// The school: 1, 1, 1, 1/2 (activists), 1 (contact base); no survey
	// was due, so that part does not apply: (4.5 / 5) = 90.
	school := byCode["school"]
	wantParts := map[string]float64{"infoworker_in_bot": 100, "hotline_responder": 100, "bound_chats": 100, "activists_work_email": 50, "contact_base_sent": 100}
	if school.MaturityScore != 90 || school.MaturityOrgs != 1 || len(school.Maturity) != len(wantParts) {
		t.Errorf("school maturity %v over %d orgs, parts %v; want 90 over 1, parts %v", school.MaturityScore, school.MaturityOrgs, school.Maturity, wantParts)
	}
	for name, want := range wantParts {
		if got, ok := school.MaturityPart(name); !ok || got != want {
			t.Errorf("school's %s = %v (%v), want %v", name, got, ok, want)
		}
	}
	if _, ok := school.MaturityPart("surveys_on_time"); ok {
		t.Error("no survey was due: surveys on time is not no data")
	}
	// The gym has none of it (no activists: that part does not apply);
	// edu itself neither. Edu's subtree: the mean of its three orgs.
	if gym := byCode["gym"]; gym.MaturityScore != 0 || gym.MaturityOrgs != 1 {
		t.Errorf("gym maturity %v over %d, want 0 over 1", gym.MaturityScore, gym.MaturityOrgs)
	}
	edu := byCode["edu"]
	if edu.MaturityScore != 30 || edu.MaturityOrgs != 3 {
		t.Errorf("edu maturity %v over %d orgs, want (90+0+0)/3 = 30 over 3", edu.MaturityScore, edu.MaturityOrgs)
	}
	if got, _ := edu.MaturityPart("bound_chats"); got != 100/3.0 {
		t.Errorf("edu's bound chats %v%%, want one org of three", got)
	}
	if got, ok := edu.MaturityPart("activists_work_email"); !ok || got != 50 {
		t.Errorf("edu's activists with a work e-mail %v%% (%v), want the school's alone: 50", got, ok)
	}
}

func TestObservedSnapshotsAreTakenInTheBackgroundAndKeptAWhile(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, time.Date(2026, 3, 2, 9, 0, 0, 0, loc))
	chair := f.person("edu", storage.RoleChair)
	f.person("school", storage.RoleMember)
	member := f.person("gym", storage.RoleMember)
	f.advance(time.Minute) // the report counts who had joined before now
	if _, _, err := f.svc.ObservedSnapshotFor(f.ctx, f.actor(member), f.org["edu"], ""); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a member's snapshot of the branch: %v, want forbidden", err)
	}
	// wait asks until a snapshot is there, as a page reloaded would.
	wait := func() monitoring.ObservedSnapshot {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			snap, ok, err := f.svc.ObservedSnapshotFor(f.ctx, f.actor(chair), f.org["edu"], "2026")
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				return snap
			}
			if time.Now().After(deadline) {
				t.Fatal("no snapshot after 10 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := wait()
	if first.Now.Code != "edu" || first.Now.Reachable != 3 || !first.At.Equal(f.clock()) {
		t.Fatalf("snapshot %+v at %v, want edu's 3 reachable people as of now", first.Now, first.At)
	}
	// Within SnapshotFresh the same snapshot is shown, though a member
	// joined since.
	f.person("school", storage.RoleMember)
	f.advance(monitoring.SnapshotFresh - time.Second)
	if snap, ok, err := f.svc.ObservedSnapshotFor(f.ctx, f.actor(chair), f.org["edu"], "2026"); err != nil || !ok || snap.At != first.At {
		t.Fatalf("a fresh snapshot: %+v, %v, %v; want the first kept", snap, ok, err)
	}
	// Once stale, the old one is shown while a new one is taken.
	f.advance(2 * time.Second)
	if snap, ok, err := f.svc.ObservedSnapshotFor(f.ctx, f.actor(chair), f.org["edu"], "2026"); err != nil || !ok || snap.At != first.At {
		t.Fatalf("a stale snapshot: %+v, %v, %v; want it shown meanwhile", snap, ok, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap, _, err := f.svc.ObservedSnapshotFor(f.ctx, f.actor(chair), f.org["edu"], "2026")
		if err != nil {
			t.Fatal(err)
		}
		if snap.At.After(first.At) {
			if snap.Now.Reachable != 4 {
				t.Errorf("the new snapshot counts %d reachable, want 4", snap.Now.Reachable)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new snapshot after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// observed is the observed report of code's subtree in period, and its
// orgs by code.
func (f *fixture) observed(code, period string, loc *time.Location) (monitoring.Report, map[string]monitoring.Observed) {
	f.t.Helper()
	p, err := monitoring.ParsePeriod(period, loc)
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := f.svc.ObservedReport(f.ctx, f.org[code], p)
	if err != nil {
		f.t.Fatal(err)
	}
	byCode := map[string]monitoring.Observed{}
	for _, o := range r.ObservedOrgs {
		byCode[o.Code] = o
	}
	return r, byCode
}
