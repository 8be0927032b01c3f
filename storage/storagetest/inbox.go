package storagetest

import (
	"reflect"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// inboxFixture asks, in the tree U > B1 > B11 > P1, U > B2 > P2, a
// question in each org and more in P1, in order of creation:
//
//	p1Wages    P1 wages, open, due T0+1h: overdue at T0+2h
//	p2Legal    P2 legal, taken by the chair, due T0+1h: overdue
//	b1Wages    B1 wages, open, due T0+10h
//	p1Legal    P1 legal, answered by the chair, due T0+1h: not overdue
//	p1Closed   P1 wages, closed
//	uOther     U other, taken by the chair, due T0+10h
type inboxFixture struct {
	o                                                    map[string]storage.Org
	chair                                                storage.Person
	p1Wages, p2Legal, b1Wages, p1Legal, p1Closed, uOther int64
}

func (x *suite) inboxFixture() inboxFixture {
	x.t.Helper()
	o := x.tree()
	member, _ := x.register("41001", o["P1"].ID, storage.RoleMember, "")
	chair, _ := x.register("41002", o["U"].ID, storage.RoleChair, "")
	mk := func(org, topic string, due time.Duration) int64 {
		t, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: member.ID, OrgID: o[org].ID, LevelOrgID: o[org].ID, Topic: topic,
			CreatedAt: T0, DueAt: T0.Add(due)}, storage.TicketMessage{Text: topic + " in " + org})
		x.must(err)
		return t.ID
	}
	f := inboxFixture{o: o, chair: chair}
	f.p1Wages = mk("P1", "wages", time.Hour)
	f.p2Legal = mk("P2", "legal", time.Hour)
	_, err := x.s.TakeTicket(x.ctx, f.p2Legal, chair.ID, T0)
	x.must(err)
	f.b1Wages = mk("B1", "wages", 10*time.Hour)
	f.p1Legal = mk("P1", "legal", time.Hour)
	x.reply(f.p1Legal, chair.ID, false, "answer", T0.Add(time.Minute))
	f.p1Closed = mk("P1", "wages", time.Hour)
	_, err = x.s.CloseTicket(x.ctx, f.p1Closed, T0.Add(time.Minute))
	x.must(err)
	f.uOther = mk("U", "other", 10*time.Hour)
	_, err = x.s.TakeTicket(x.ctx, f.uOther, chair.ID, T0)
	x.must(err)
	return f
}

func inboxIDs(ts []storage.InboxTicket) []int64 {
	var ids []int64
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func testInboxTickets(x *suite) {
	f := x.inboxFixture()
	o := f.o
	all := func(codes ...string) []storage.AnswerScope {
		var out []storage.AnswerScope
		for _, c := range codes {
			out = append(out, storage.AnswerScope{Path: o[c].Path})
		}
		return out
	}
	unclosed := []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}
	tests := []struct {
		name string
		q    storage.InboxQuery
		want []int64 // in the order listed
	}{
		{"the whole tree, newest first", storage.InboxQuery{Scopes: all("U")},
			[]int64{f.uOther, f.p1Closed, f.p1Legal, f.b1Wages, f.p2Legal, f.p1Wages}},
		{"oldest first", storage.InboxQuery{Scopes: all("U"), Oldest: true},
			[]int64{f.p1Wages, f.p2Legal, f.b1Wages, f.p1Legal, f.p1Closed, f.uOther}},
		{"a branch and its sub-branch", storage.InboxQuery{Scopes: all("B1")}, []int64{f.p1Closed, f.p1Legal, f.b1Wages, f.p1Wages}},
		{"two sibling subtrees", storage.InboxQuery{Scopes: all("B11", "B2")}, []int64{f.p1Closed, f.p1Legal, f.p2Legal, f.p1Wages}},
		{"overlapping scopes list a ticket once", storage.InboxQuery{Scopes: all("B1", "P1")}, []int64{f.p1Closed, f.p1Legal, f.b1Wages, f.p1Wages}},
		{"a sibling sees nothing of the other", storage.InboxQuery{Scopes: all("P2")}, []int64{f.p2Legal}},
		{"one topic in a subtree", storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: o["B1"].Path, Topic: "legal"}}}, []int64{f.p1Legal}},
		{"a topic scope beside a whole one", storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: o["B2"].Path}, {Path: o["U"].Path, Topic: "wages"}}},
			[]int64{f.p1Closed, f.b1Wages, f.p2Legal, f.p1Wages}},
		{"under a subtree of the scope", storage.InboxQuery{Scopes: all("U"), Under: o["B11"].Path}, []int64{f.p1Closed, f.p1Legal, f.p1Wages}},
		{"under a subtree outside the scope", storage.InboxQuery{Scopes: all("B2"), Under: o["B1"].Path}, nil},
		{"unclosed", storage.InboxQuery{Scopes: all("U"), Statuses: unclosed}, []int64{f.uOther, f.p1Legal, f.b1Wages, f.p2Legal, f.p1Wages}},
		{"closed", storage.InboxQuery{Scopes: all("U"), Statuses: []storage.TicketStatus{storage.TicketClosed}}, []int64{f.p1Closed}},
		{"topic", storage.InboxQuery{Scopes: all("U"), Topic: "legal"}, []int64{f.p1Legal, f.p2Legal}},
		{"overdue: due by then, unanswered, unclosed", storage.InboxQuery{Scopes: all("U"), OverdueAt: T0.Add(2 * time.Hour)}, []int64{f.p2Legal, f.p1Wages}},
		{"overdue is inclusive", storage.InboxQuery{Scopes: all("U"), OverdueAt: T0.Add(10 * time.Hour)}, []int64{f.uOther, f.b1Wages, f.p2Legal, f.p1Wages}},
		{"overdue before any deadline", storage.InboxQuery{Scopes: all("U"), OverdueAt: T0}, nil},
		{"taken by the chair", storage.InboxQuery{Scopes: all("U"), AssigneeID: f.chair.ID}, []int64{f.uOther, f.p2Legal}},
		{"everything at once", storage.InboxQuery{Scopes: all("U"), Under: o["B2"].Path, Statuses: unclosed, Topic: "legal",
			OverdueAt: T0.Add(2 * time.Hour), AssigneeID: f.chair.ID}, []int64{f.p2Legal}},
		{"the next page, newest first", storage.InboxQuery{Scopes: all("U"), After: f.p1Legal}, []int64{f.b1Wages, f.p2Legal, f.p1Wages}},
		{"the next page, oldest first", storage.InboxQuery{Scopes: all("U"), After: f.p1Legal, Oldest: true}, []int64{f.p1Closed, f.uOther}},
		{"a short page", storage.InboxQuery{Scopes: all("U"), Limit: 2}, []int64{f.uOther, f.p1Closed}},
	}
	for _, tt := range tests {
		q := tt.q
		if q.Limit == 0 {
			q.Limit = 100
		}
		got, err := x.s.InboxTickets(x.ctx, q)
		if err != nil {
			x.t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ids := inboxIDs(got); !reflect.DeepEqual(ids, tt.want) {
			x.t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
		if q.After != 0 {
			continue
		}
		// A count stops at the limit.
		if n, err := x.s.CountInbox(x.ctx, q); err != nil || n != len(tt.want) {
			x.t.Errorf("%s: count %d, %v; want %d", tt.name, n, err, len(tt.want))
		}
	}
	q := storage.InboxQuery{Scopes: all("U"), Limit: 5000}
	if n, err := x.s.CountInbox(x.ctx, q); err != nil || n != 6 {
		x.t.Errorf("count above the page limit: %d, %v; want 6", n, err)
	}
	// A ticket reads back whole, with its member's org.
	got, err := x.s.InboxTickets(x.ctx, storage.InboxQuery{Scopes: all("P2"), Limit: 1})
	x.must(err)
	if want, err := x.s.Ticket(x.ctx, f.p2Legal); err != nil || len(got) != 1 ||
		!reflect.DeepEqual(got[0], storage.InboxTicket{Ticket: want, Org: o["P2"]}) {
		x.t.Errorf("listed %+v, want %+v in %+v (%v)", got, want, o["P2"], err)
	}

	for _, bad := range []storage.InboxQuery{
		{Limit: 10},
		{Scopes: all("U"), Limit: 0},
		{Scopes: all("U"), Limit: 1001},
		{Scopes: []storage.AnswerScope{{Path: "/1/%"}}, Limit: 10},
		{Scopes: []storage.AnswerScope{{Path: ""}}, Limit: 10},
		{Scopes: all("U"), Under: "/' OR 1=1 --/", Limit: 10},
	} {
		if got, err := x.s.InboxTickets(x.ctx, bad); err == nil {
			x.t.Errorf("InboxTickets(%+v) = %v, want a refusal", bad, inboxIDs(got))
		}
	}
	if _, err := x.s.CountInbox(x.ctx, storage.InboxQuery{Limit: 10}); err == nil {
		x.t.Error("CountInbox without a scope succeeded")
	}
	if _, err := x.s.CountInbox(x.ctx, storage.InboxQuery{Scopes: all("U")}); err == nil {
		x.t.Error("CountInbox without a limit succeeded")
	}
}

func testInboxEvents(x *suite) {
	o := x.tree()
	member, _ := x.register("42001", o["P1"].ID, storage.RoleMember, "")
	other, _ := x.register("42002", o["P2"].ID, storage.RoleMember, "")
	chair, _ := x.register("42003", o["U"].ID, storage.RoleChair, "")
	start, err := x.s.LastTicketMessage(x.ctx)
	x.must(err)
	if start != 0 {
		x.t.Errorf("the last message of an empty store is %d", start)
	}
	wages := x.ask(member, o["P1"].ID, T0, false)
	legal, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: other.ID, OrgID: o["P2"].ID, LevelOrgID: o["P2"].ID, Topic: "legal",
		CreatedAt: T0, DueAt: T0.Add(time.Hour)}, storage.TicketMessage{Text: "?"})
	x.must(err)
	x.reply(wages.ID, chair.ID, false, "an answer is no event", T0.Add(time.Minute))
	x.reply(wages.ID, member.ID, true, "a reply", T0.Add(2*time.Minute))
	last, err := x.s.LastTicketMessage(x.ctx)
	x.must(err)
	if last == 0 {
		x.t.Fatal("no last message after four")
	}

	whole := []storage.AnswerScope{{Path: o["U"].Path}}
	got, err := x.s.InboxEvents(x.ctx, whole, 0, 10)
	x.must(err)
	if len(got) != 3 || got[0].TicketID != wages.ID || !got[0].First || got[1].TicketID != legal.ID || !got[1].First ||
		got[2].TicketID != wages.ID || got[2].First || got[2].MessageID != last {
		x.t.Fatalf("events %+v, want two questions and the reply (message %d)", got, last)
	}
	tests := []struct {
		name    string
		scopes  []storage.AnswerScope
		after   int64
		limit   int
		tickets []int64
	}{
		{"after the first", whole, got[0].MessageID, 10, []int64{legal.ID, wages.ID}},
		{"nothing after the last", whole, last, 10, nil},
		{"a page", whole, 0, 2, []int64{wages.ID, legal.ID}},
		{"a subtree", []storage.AnswerScope{{Path: o["B1"].Path}}, 0, 10, []int64{wages.ID, wages.ID}},
		{"a sibling's", []storage.AnswerScope{{Path: o["B2"].Path}}, 0, 10, []int64{legal.ID}},
		{"one topic", []storage.AnswerScope{{Path: o["U"].Path, Topic: "legal"}}, 0, 10, []int64{legal.ID}},
	}
	for _, tt := range tests {
		evs, err := x.s.InboxEvents(x.ctx, tt.scopes, tt.after, tt.limit)
		if err != nil {
			x.t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var ids []int64
		for _, e := range evs {
			ids = append(ids, e.TicketID)
		}
		if !reflect.DeepEqual(ids, tt.tickets) {
			x.t.Errorf("%s: tickets %v, want %v", tt.name, ids, tt.tickets)
		}
	}
	if _, err := x.s.InboxEvents(x.ctx, nil, 0, 10); err == nil {
		x.t.Error("InboxEvents without a scope succeeded")
	}
	if _, err := x.s.InboxEvents(x.ctx, whole, 0, 0); err == nil {
		x.t.Error("InboxEvents without a limit succeeded")
	}
}
