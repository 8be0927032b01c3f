package storagetest

import (
	"time"

	"github.com/unionhub/unionhub/storage"
)

// testMaturity: each part of an org's digital maturity is counted from its
// records, and only its own.
func testMaturity(x *suite) {
	o := x.tree()
	x.invite("P1-info", o["P1"].ID, storage.RoleInfoworker, 0)
	x.invite("P1-activist", o["P1"].ID, storage.RoleActivist, 0)
	x.invite("P1-member", o["P1"].ID, storage.RoleMember, 0)
	x.invite("P2-info", o["P2"].ID, storage.RoleInfoworker, 0)
	info, _ := x.register("81001", o["P1"].ID, storage.RoleInfoworker, "P1-info")
	x.register("81002", o["P1"].ID, storage.RoleActivist, "P1-activist")
	noEmail := registration("81003", o["P1"].ID, storage.RoleActivist, "P1-activist")
	noEmail.WorkEmail = ""
	_, _, err := x.s.Register(x.ctx, noEmail)
	x.must(err)
	x.register("81004", o["P1"].ID, storage.RoleMember, "P1-member")
	// P2's information worker blocked the bot: not in the bot.
	x.register("82001", o["P2"].ID, storage.RoleInfoworker, "P2-info")
	x.must(x.s.MarkBlocked(x.ctx, storage.Telegram, "82001", T0))
	x.must(x.s.SetResponder(x.ctx, storage.Responder{PersonID: info.ID, OrgID: o["P1"].ID}))
	x.bind(storage.Telegram, "-1001", o["P1"].ID, false)
	x.bind(storage.Telegram, "-1002", o["P2"].ID, true) // an answer desk is no bound chat
	// A run due in the period: P1 submitted by the deadline, P2 never.
	run := x.openRun(o, quarterly(o))
	_, err = x.s.SubmitSurvey(x.ctx, run.ID, o["P1"].ID, info.ID, run.Deadline.Add(-time.Hour))
	x.must(err)
	year := T0.Year()
	for _, code := range []string{"P1", "P2"} {
		_, err := x.s.ClaimContactBaseSend(x.ctx, o[code].ID, year, T0, T0)
		x.must(err)
	}
	x.must(x.s.MarkContactBaseSent(x.ctx, o["P1"].ID, year, T0)) // P2's claim never reached anyone

	from, to, now := T0.AddDate(0, 0, -1), T0.AddDate(0, 1, 0), T0.AddDate(0, 0, 20)
	got, err := x.s.MaturityUnder(x.ctx, o["B1"], from, to, now, year)
	x.must(err)
	want := map[int64]storage.Maturity{
		o["B1"].ID:  {OrgID: o["B1"].ID},
		o["B11"].ID: {OrgID: o["B11"].ID},
		o["P1"].ID: {OrgID: o["P1"].ID, Infoworkers: 1, Responders: 1, Chats: 1, Activists: 3, WithEmail: 2,
			SurveysDue: 1, SurveysOnTime: 1, ContactBaseSent: true},
	}
	x.wantMaturity(got, want, "under B1")
	got, err = x.s.MaturityUnder(x.ctx, o["P2"], from, to, now, year)
	x.must(err)
	x.wantMaturity(got, map[int64]storage.Maturity{o["P2"].ID: {OrgID: o["P2"].ID, Activists: 1, WithEmail: 1, SurveysDue: 1}}, "P2")
	// Before the deadline no survey is due yet; another year's contact
	// base is not this one's.
	got, err = x.s.MaturityUnder(x.ctx, o["P1"], from, to, T0.Add(time.Hour), year+1)
	x.must(err)
	x.wantMaturity(got, map[int64]storage.Maturity{o["P1"].ID: {OrgID: o["P1"].ID, Infoworkers: 1, Responders: 1, Chats: 1, Activists: 3, WithEmail: 2}},
		"P1 before the deadline, next year")
}

func (x *suite) wantMaturity(got []storage.Maturity, want map[int64]storage.Maturity, when string) {
	x.t.Helper()
	if len(got) != len(want) {
		x.t.Fatalf("%s: maturity %+v, want %+v", when, got, want)
	}
	for _, m := range got {
		if m != want[m.OrgID] {
			x.t.Errorf("%s: org %d maturity %+v, want %+v", when, m.OrgID, m, want[m.OrgID])
		}
	}
}
