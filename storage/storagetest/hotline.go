package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// ask commits a ticket of person in org, at its own level, created at and
// due a day later, with a one-line question.
func (x *suite) ask(person storage.Person, orgID int64, at time.Time, keepText bool) storage.Ticket {
	x.t.Helper()
	t, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: person.ID, OrgID: orgID, LevelOrgID: orgID, Topic: "wages",
		KeepText: keepText, CreatedAt: at, DueAt: at.Add(24 * time.Hour)},
		storage.TicketMessage{Text: "question of " + fmt.Sprint(person.ID)})
	x.must(err)
	return t
}

// reply adds a message to a ticket and returns the ticket as it now is.
func (x *suite) reply(ticketID, authorID int64, fromMember bool, text string, at time.Time) storage.Ticket {
	x.t.Helper()
	t, err := x.s.AddTicketMessage(x.ctx, storage.TicketMessage{TicketID: ticketID, AuthorID: authorID, FromMember: fromMember, Text: text, At: at})
	x.must(err)
	return t
}

func (x *suite) messages(ticketID int64) []storage.TicketMessage {
	x.t.Helper()
	ms, err := x.s.TicketMessages(x.ctx, ticketID)
	x.must(err)
	return ms
}

func ticketIDs(ts []storage.Ticket) []int64 {
	var ids []int64
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func testTicketRoundTrip(x *suite) {
	o := x.tree()
	p, _ := x.register("20001", o["P1"].ID, storage.RoleMember, "")
	text := "Зарплата 💸👩‍🔧 — مرحبا بالعالم\n\u200fשלום e\u0301 ﷽"
	atts := []storage.Attachment{
		{Platform: storage.Telegram, Kind: "photo", FileID: "AgACAgIAAxkBAAIB"},
		{Platform: storage.Telegram, Kind: "document", FileID: "BQACAgIAAxkBAAIC", Name: "договор №5 📄.pdf"},
	}
	// A non-UTC time must come back as the same instant in UTC.
	at := T0.In(time.FixedZone("SAKT", 11*3600))
	in := storage.Ticket{PersonID: p.ID, OrgID: o["P1"].ID, LevelOrgID: o["B11"].ID, Topic: "legal 🏛", ShareName: true,
		KeepText: true, CreatedAt: at, DueAt: at.Add(24 * time.Hour)}
	got, err := x.s.CreateTicket(x.ctx, in, storage.TicketMessage{Text: text, Attachments: atts})
	x.must(err)
	want := storage.Ticket{ID: got.ID, PersonID: p.ID, OrgID: o["P1"].ID, LevelOrgID: o["B11"].ID, Topic: "legal 🏛",
		ShareName: true, KeepText: true, Status: storage.TicketOpen, CreatedAt: T0, DueAt: T0.Add(24 * time.Hour)}
	if got.ID == 0 || !reflect.DeepEqual(got, want) {
		x.t.Errorf("created %+v, want %+v", got, want)
	}
	stored, err := x.s.Ticket(x.ctx, got.ID)
	x.must(err)
	if !reflect.DeepEqual(stored, want) {
		x.t.Errorf("Ticket = %+v, want %+v", stored, want)
	}
	ms := x.messages(got.ID)
	wantMsg := storage.TicketMessage{TicketID: got.ID, AuthorID: p.ID, FromMember: true, Text: text, Attachments: atts, At: T0}
	if len(ms) != 1 {
		x.t.Fatalf("%d messages, want the question", len(ms))
	}
	wantMsg.ID = ms[0].ID
	if !reflect.DeepEqual(ms[0], wantMsg) {
		x.t.Errorf("first message %+v, want %+v", ms[0], wantMsg)
	}
	if ms[0].Text != text || ms[0].Attachments[1].Name != atts[1].Name {
		x.t.Errorf("text or file name not byte-identical: %q", ms[0].Text)
	}

	// A message without attachments reads back with none.
	x.reply(got.ID, p.ID, true, "ещё", T0.Add(time.Minute))
	if ms := x.messages(got.ID); len(ms) != 2 || ms[1].Attachments != nil || ms[1].Text != "ещё" {
		x.t.Errorf("follow-up %+v, want no attachments", ms[len(ms)-1])
	}

	second := x.ask(p, o["P1"].ID, T0, false)
	if second.ID <= got.ID {
		x.t.Errorf("ticket numbers %d then %d, want increasing", got.ID, second.ID)
	}
	_, err = x.s.Ticket(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)
	if ms, err := x.s.TicketMessages(x.ctx, 987654); err != nil || len(ms) != 0 {
		x.t.Errorf("messages of an unknown ticket: %+v, %v", ms, err)
	}

	// A ticket that cannot be stored leaves nothing behind.
	_, err = x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: p.ID, OrgID: 987654, LevelOrgID: 987654, CreatedAt: T0, DueAt: T0},
		storage.TicketMessage{Text: "lost"})
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: p.ID, OrgID: o["P1"].ID, LevelOrgID: o["P1"].ID, CreatedAt: T0, DueAt: T0},
		storage.TicketMessage{AuthorID: 987654, Text: "lost"})
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: p.ID, OrgID: o["P1"].ID, CreatedAt: T0, DueAt: T0},
		storage.TicketMessage{Text: "no level"})
	if err == nil {
		x.t.Error("a ticket without a level was created")
	}
	mine, err := x.s.TicketsOf(x.ctx, p.ID)
	x.must(err)
	if len(mine) != 2 {
		x.t.Errorf("%d tickets after failed creations, want 2", len(mine))
	}
}

func testTicketsOf(x *suite) {
	o := x.tree()
	p, _ := x.register("21001", o["P1"].ID, storage.RoleMember, "")
	q, _ := x.register("21002", o["P1"].ID, storage.RoleMember, "")
	a := x.ask(p, o["P1"].ID, T0.Add(time.Hour), true)
	b := x.ask(p, o["P1"].ID, T0, true)
	x.ask(q, o["P1"].ID, T0.Add(30*time.Minute), true)
	c := x.ask(p, o["P1"].ID, T0.Add(2*time.Hour), true)
	got, err := x.s.TicketsOf(x.ctx, p.ID)
	x.must(err)
	if ids, want := ticketIDs(got), []int64{c.ID, a.ID, b.ID}; !reflect.DeepEqual(ids, want) {
		x.t.Errorf("TicketsOf = %v, want %v (newest first, only theirs)", ids, want)
	}
	none, err := x.s.TicketsOf(x.ctx, 987654)
	x.must(err)
	if len(none) != 0 {
		x.t.Errorf("tickets of nobody: %v", ticketIDs(none))
	}
}

func testFindTickets(x *suite) {
	o := x.tree()
	p1, _ := x.register("22001", o["P1"].ID, storage.RoleMember, "")
	p2, _ := x.register("22002", o["P2"].ID, storage.RoleMember, "")
	b1, _ := x.register("22003", o["B1"].ID, storage.RoleMember, "")
	early := x.ask(p1, o["P1"].ID, T0, true)
	inB2 := x.ask(p2, o["P2"].ID, T0.Add(time.Hour), true)
	inB1 := x.ask(b1, o["B1"].ID, T0.Add(2*time.Hour), true)
	late := x.ask(p1, o["P1"].ID, T0.Add(3*time.Hour), true)
	// Handed up to the union, the ticket is still found under the member's org.
	_, err := x.s.MoveTicket(x.ctx, late.ID, o["P1"].ID, o["U"].ID, T0.Add(48*time.Hour), true)
	x.must(err)
	_, err = x.s.CloseTicket(x.ctx, early.ID, T0.Add(4*time.Hour))
	x.must(err)

	tests := []struct {
		name string
		q    storage.TicketQuery
		want []int64
	}{
		{"union", storage.TicketQuery{Under: o["U"]}, []int64{early.ID, inB2.ID, inB1.ID, late.ID}},
		{"branch with its sub-branch", storage.TicketQuery{Under: o["B1"]}, []int64{early.ID, inB1.ID, late.ID}},
		{"sub-branch", storage.TicketQuery{Under: o["B11"]}, []int64{early.ID, late.ID}},
		{"primary", storage.TicketQuery{Under: o["P1"]}, []int64{early.ID, late.ID}},
		{"sibling branch", storage.TicketQuery{Under: o["B2"]}, []int64{inB2.ID}},
		{"open only", storage.TicketQuery{Under: o["B1"], Statuses: []storage.TicketStatus{storage.TicketOpen}}, []int64{inB1.ID, late.ID}},
		{"closed or taken", storage.TicketQuery{Under: o["U"], Statuses: []storage.TicketStatus{storage.TicketClosed, storage.TicketTaken}}, []int64{early.ID}},
		{"from is inclusive", storage.TicketQuery{Under: o["U"], CreatedFrom: T0.Add(time.Hour)}, []int64{inB2.ID, inB1.ID, late.ID}},
		{"to is exclusive", storage.TicketQuery{Under: o["U"], CreatedTo: T0.Add(2 * time.Hour)}, []int64{early.ID, inB2.ID}},
		{"period", storage.TicketQuery{Under: o["U"], CreatedFrom: T0.Add(time.Minute), CreatedTo: T0.Add(3*time.Hour + time.Microsecond)}, []int64{inB2.ID, inB1.ID, late.ID}},
		{"empty period", storage.TicketQuery{Under: o["U"], CreatedFrom: T0.Add(time.Hour), CreatedTo: T0.Add(time.Hour)}, nil},
	}
	for _, tt := range tests {
		got, err := x.s.FindTickets(x.ctx, tt.q)
		if err != nil {
			x.t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ids := ticketIDs(got); !reflect.DeepEqual(ids, tt.want) {
			x.t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
	}
	if _, err := x.s.FindTickets(x.ctx, storage.TicketQuery{}); err == nil {
		x.t.Error("FindTickets without an org succeeded")
	}
}

func testAddTicketMessage(x *suite) {
	o := x.tree()
	p, _ := x.register("23001", o["P1"].ID, storage.RoleMember, "")
	r, _ := x.register("23002", o["P1"].ID, storage.RoleChair, "")
	t := x.ask(p, o["P1"].ID, T0, true)

	got := x.reply(t.ID, p.ID, true, "follow-up", T0.Add(time.Minute))
	if got.FirstResponseAt != nil {
		x.t.Errorf("a member's follow-up set the first response: %v", got.FirstResponseAt)
	}
	answered := T0.Add(time.Hour)
	got = x.reply(t.ID, r.ID, false, "answer", answered)
	if got.FirstResponseAt == nil || !got.FirstResponseAt.Equal(answered) {
		x.t.Errorf("first response %v, want %v", got.FirstResponseAt, answered)
	}
	got = x.reply(t.ID, r.ID, false, "more", answered.Add(time.Hour))
	if got.FirstResponseAt == nil || !got.FirstResponseAt.Equal(answered) {
		x.t.Errorf("a second answer moved the first response to %v", got.FirstResponseAt)
	}
	// Oldest first even when written out of order.
	x.reply(t.ID, p.ID, true, "late arrival", T0.Add(30*time.Minute))
	var texts []string
	for _, m := range x.messages(t.ID) {
		texts = append(texts, m.Text)
	}
	if want := []string{"question of " + fmt.Sprint(p.ID), "follow-up", "late arrival", "answer", "more"}; !reflect.DeepEqual(texts, want) {
		x.t.Errorf("thread %q, want %q", texts, want)
	}

	_, err := x.s.CloseTicket(x.ctx, t.ID, T0.Add(3*time.Hour))
	x.must(err)
	_, err = x.s.AddTicketMessage(x.ctx, storage.TicketMessage{TicketID: t.ID, AuthorID: p.ID, FromMember: true, Text: "too late", At: T0.Add(4 * time.Hour)})
	x.wantErr(err, storage.ErrTicketClosed)
	if n := len(x.messages(t.ID)); n != 5 {
		x.t.Errorf("%d messages after a refused one, want 5", n)
	}
	_, err = x.s.AddTicketMessage(x.ctx, storage.TicketMessage{TicketID: 987654, Text: "x", At: T0})
	x.wantErr(err, storage.ErrNotFound)

	// Closed without an answer: a late answer is refused and sets nothing.
	u := x.ask(p, o["P1"].ID, T0, true)
	_, err = x.s.CloseTicket(x.ctx, u.ID, T0.Add(time.Hour))
	x.must(err)
	_, err = x.s.AddTicketMessage(x.ctx, storage.TicketMessage{TicketID: u.ID, AuthorID: r.ID, Text: "x", At: T0.Add(2 * time.Hour)})
	x.wantErr(err, storage.ErrTicketClosed)
	if got, err := x.s.Ticket(x.ctx, u.ID); err != nil || got.FirstResponseAt != nil {
		x.t.Errorf("refused answer: %+v, %v", got, err)
	}
}

func testTakeRace(x *suite) {
	o := x.tree()
	p, _ := x.register("24000", o["P1"].ID, storage.RoleMember, "")
	const n = 8
	responders := make([]storage.Person, n)
	for i := range n {
		responders[i], _ = x.register(fmt.Sprint(24001+i), o["P1"].ID, storage.RoleActivist, "")
	}
	// Several rounds, each released at once, so that the takes overlap.
	var t storage.Ticket
	var winner int64
	for range 5 {
		t = x.ask(p, o["P1"].ID, T0, true)
		got := make([]storage.Ticket, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = x.s.TakeTicket(x.ctx, t.ID, responders[i].ID, T0.Add(time.Minute))
			})
		}
		close(start)
		wg.Wait()
		winner = 0
		for i, err := range errs {
			if err == nil {
				if winner != 0 {
					x.t.Errorf("ticket %d: two winners, %d and %d", t.ID, winner, responders[i].ID)
				}
				winner = responders[i].ID
				if got[i].Status != storage.TicketTaken || got[i].AssigneeID != winner {
					x.t.Errorf("winner got %+v", got[i])
				}
			}
		}
		if winner == 0 {
			x.t.Fatalf("nobody took ticket %d: %v", t.ID, errors.Join(errs...))
		}
		for i, err := range errs {
			if err == nil {
				continue
			}
			if !errors.Is(err, storage.ErrAlreadyTaken) {
				x.t.Errorf("loser got %v, want ErrAlreadyTaken", err)
			} else if got[i].ID != t.ID || got[i].AssigneeID != winner || got[i].Status != storage.TicketTaken {
				x.t.Errorf("loser was shown %+v, want the ticket taken by %d", got[i], winner)
			}
		}
		stored, err := x.s.Ticket(x.ctx, t.ID)
		x.must(err)
		if stored.AssigneeID != winner || stored.Status != storage.TicketTaken {
			x.t.Errorf("stored %+v, want taken by %d", stored, winner)
		}
	}

	_, err := x.s.TakeTicket(x.ctx, 987654, winner, T0)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.CloseTicket(x.ctx, t.ID, T0.Add(time.Hour))
	x.must(err)
	_, err = x.s.TakeTicket(x.ctx, t.ID, winner, T0.Add(2*time.Hour))
	x.wantErr(err, storage.ErrTicketClosed)
	// An unknown responder cannot take a ticket.
	u := x.ask(p, o["P1"].ID, T0, true)
	_, err = x.s.TakeTicket(x.ctx, u.ID, 987654, T0)
	x.wantErr(err, storage.ErrNotFound)
	if got, err := x.s.Ticket(x.ctx, u.ID); err != nil || got.Status != storage.TicketOpen || got.AssigneeID != 0 {
		x.t.Errorf("after a failed take: %+v, %v", got, err)
	}
}

func testMoveTicket(x *suite) {
	o := x.tree()
	p, _ := x.register("25001", o["P1"].ID, storage.RoleMember, "")
	r, _ := x.register("25002", o["P1"].ID, storage.RoleChair, "")
	t := x.ask(p, o["P1"].ID, T0, true)
	_, err := x.s.TakeTicket(x.ctx, t.ID, r.ID, T0)
	x.must(err)

	due := T0.Add(48 * time.Hour)
	got, err := x.s.MoveTicket(x.ctx, t.ID, o["P1"].ID, o["B11"].ID, due, false)
	x.must(err)
	want := t
	want.LevelOrgID, want.DueAt = o["B11"].ID, due
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("handed up %+v, want %+v (open, unassigned, no escalation)", got, want)
	}
	_, err = x.s.MoveTicket(x.ctx, t.ID, o["P1"].ID, o["B11"].ID, due, false)
	x.wantErr(err, storage.ErrConflict)

	due2 := T0.Add(72 * time.Hour)
	got, err = x.s.MoveTicket(x.ctx, t.ID, o["B11"].ID, o["B1"].ID, due2, true)
	x.must(err)
	if got.LevelOrgID != o["B1"].ID || got.Escalations != 1 || !got.DueAt.Equal(due2) {
		x.t.Errorf("escalated %+v", got)
	}
	got, err = x.s.MoveTicket(x.ctx, t.ID, o["B1"].ID, o["U"].ID, due2, true)
	x.must(err)
	if got.Escalations != 2 {
		x.t.Errorf("escalations %d, want 2", got.Escalations)
	}

	_, err = x.s.MoveTicket(x.ctx, 987654, o["P1"].ID, o["B11"].ID, due, true)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.MoveTicket(x.ctx, t.ID, o["U"].ID, 987654, due, true)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.CloseTicket(x.ctx, t.ID, T0.Add(time.Hour))
	x.must(err)
	_, err = x.s.MoveTicket(x.ctx, t.ID, o["U"].ID, o["B2"].ID, due, false)
	x.wantErr(err, storage.ErrConflict)
	if got, err := x.s.Ticket(x.ctx, t.ID); err != nil || got.Status != storage.TicketClosed || got.LevelOrgID != o["U"].ID {
		x.t.Errorf("a closed ticket moved: %+v, %v", got, err)
	}
}

func testEscalateTicket(x *suite) {
	o := x.tree()
	p, _ := x.register("25101", o["P1"].ID, storage.RoleMember, "")
	r, _ := x.register("25102", o["P1"].ID, storage.RoleChair, "")
	t := x.ask(p, o["P1"].ID, T0, false) // due T0+24h
	_, err := x.s.TakeTicket(x.ctx, t.ID, r.ID, T0)
	x.must(err)

	_, err = x.s.EscalateTicket(x.ctx, t.ID, o["P1"].ID, o["B11"].ID, T0.Add(48*time.Hour), T0.Add(time.Hour))
	x.wantErr(err, storage.ErrConflict) // not due yet
	got, err := x.s.EscalateTicket(x.ctx, t.ID, o["P1"].ID, o["B11"].ID, T0.Add(48*time.Hour), T0.Add(25*time.Hour))
	x.must(err)
	if got.LevelOrgID != o["B11"].ID || got.Escalations != 1 || got.Status != storage.TicketOpen || got.AssigneeID != 0 {
		x.t.Errorf("escalated %+v", got)
	}
	// A second sweep with the same view of the world moves nothing.
	_, err = x.s.EscalateTicket(x.ctx, t.ID, o["P1"].ID, o["B11"].ID, T0.Add(48*time.Hour), T0.Add(25*time.Hour))
	x.wantErr(err, storage.ErrConflict)
	// At the top the deadline moves, no escalation is counted, and a sweep
	// that read the old deadline finds nothing to do.
	got, err = x.s.EscalateTicket(x.ctx, t.ID, o["B11"].ID, o["B11"].ID, T0.Add(96*time.Hour), T0.Add(50*time.Hour))
	x.must(err)
	if got.Escalations != 1 || !got.DueAt.Equal(T0.Add(96*time.Hour)) {
		x.t.Errorf("re-due at the top %+v", got)
	}
	_, err = x.s.EscalateTicket(x.ctx, t.ID, o["B11"].ID, o["B11"].ID, T0.Add(97*time.Hour), T0.Add(51*time.Hour))
	x.wantErr(err, storage.ErrConflict)
	// An answer between the overdue scan and the move wins.
	x.reply(t.ID, r.ID, false, "answer", T0.Add(100*time.Hour))
	_, err = x.s.EscalateTicket(x.ctx, t.ID, o["B11"].ID, o["B1"].ID, T0.Add(200*time.Hour), T0.Add(150*time.Hour))
	x.wantErr(err, storage.ErrConflict)
}

func testMoveRace(x *suite) {
	o := x.tree()
	p, _ := x.register("26001", o["P1"].ID, storage.RoleMember, "")
	t := x.ask(p, o["P1"].ID, T0, true)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = x.s.MoveTicket(x.ctx, t.ID, o["P1"].ID, o["B11"].ID, T0.Add(48*time.Hour), true)
		})
	}
	wg.Wait()
	moved := 0
	for _, err := range errs {
		switch {
		case err == nil:
			moved++
		case !errors.Is(err, storage.ErrConflict):
			x.t.Errorf("loser got %v, want ErrConflict", err)
		}
	}
	if moved != 1 {
		x.t.Errorf("%d escalations moved the ticket, want 1", moved)
	}
	if got, err := x.s.Ticket(x.ctx, t.ID); err != nil || got.Escalations != 1 || got.LevelOrgID != o["B11"].ID {
		x.t.Errorf("after the race: %+v, %v", got, err)
	}
}

func testCloseTicket(x *suite) {
	o := x.tree()
	p, _ := x.register("27001", o["P1"].ID, storage.RoleMember, "")
	t := x.ask(p, o["P1"].ID, T0, true)
	at := T0.Add(time.Hour)
	got, err := x.s.CloseTicket(x.ctx, t.ID, at)
	x.must(err)
	if got.Status != storage.TicketClosed || got.ClosedAt == nil || !got.ClosedAt.Equal(at) {
		x.t.Errorf("closed %+v", got)
	}
	_, err = x.s.CloseTicket(x.ctx, t.ID, at.Add(time.Hour))
	x.wantErr(err, storage.ErrTicketClosed)
	if got, err := x.s.Ticket(x.ctx, t.ID); err != nil || !got.ClosedAt.Equal(at) {
		x.t.Errorf("closing twice changed the time: %+v, %v", got, err)
	}
	_, err = x.s.CloseTicket(x.ctx, 987654, at)
	x.wantErr(err, storage.ErrNotFound)
}

func testRateTicket(x *suite) {
	o := x.tree()
	p, _ := x.register("28001", o["P1"].ID, storage.RoleMember, "")
	t := x.ask(p, o["P1"].ID, T0, true)
	x.wantErr(x.s.RateTicket(x.ctx, t.ID, 5, "early"), storage.ErrConflict)
	_, err := x.s.CloseTicket(x.ctx, t.ID, T0.Add(time.Hour))
	x.must(err)
	for _, bad := range []int{0, 6, -1} {
		if err := x.s.RateTicket(x.ctx, t.ID, bad, "bad"); err == nil {
			x.t.Errorf("rating %d accepted", bad)
		}
	}
	comment := "Спасибо 🙏 شكرا"
	x.must(x.s.RateTicket(x.ctx, t.ID, 4, comment))
	got, err := x.s.Ticket(x.ctx, t.ID)
	x.must(err)
	if got.Rating != 4 || got.RatingComment != comment {
		x.t.Errorf("rated %d %q, want 4 %q", got.Rating, got.RatingComment, comment)
	}
	x.must(x.s.RateTicket(x.ctx, t.ID, 1, ""))
	if got, err := x.s.Ticket(x.ctx, t.ID); err != nil || got.Rating != 1 || got.RatingComment != "" {
		x.t.Errorf("re-rated %+v, %v", got, err)
	}
	x.wantErr(x.s.RateTicket(x.ctx, 987654, 3, ""), storage.ErrNotFound)
}

func testOverdueTickets(x *suite) {
	o := x.tree()
	p, _ := x.register("29001", o["P1"].ID, storage.RoleMember, "")
	r, _ := x.register("29002", o["P1"].ID, storage.RoleChair, "")
	now := T0.Add(100 * time.Hour)
	mk := func(due time.Time) storage.Ticket {
		t, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: p.ID, OrgID: o["P1"].ID, LevelOrgID: o["P1"].ID,
			Topic: "wages", CreatedAt: T0, DueAt: due}, storage.TicketMessage{Text: "?"})
		x.must(err)
		return t
	}
	late := mk(now.Add(-time.Hour))
	lateTaken := mk(now.Add(-2 * time.Hour))
	_, err := x.s.TakeTicket(x.ctx, lateTaken.ID, r.ID, T0)
	x.must(err)
	dueNow := mk(now)
	mk(now.Add(time.Microsecond)) // not yet
	answered := mk(now.Add(-3 * time.Hour))
	x.reply(answered.ID, r.ID, false, "answer", now.Add(-4*time.Hour))
	closed := mk(now.Add(-3 * time.Hour))
	_, err = x.s.CloseTicket(x.ctx, closed.ID, now)
	x.must(err)
	followedUp := mk(now.Add(-30 * time.Minute))
	x.reply(followedUp.ID, p.ID, true, "anyone?", now.Add(-time.Hour))

	got, err := x.s.OverdueTickets(x.ctx, now)
	x.must(err)
	if ids, want := ticketIDs(got), []int64{lateTaken.ID, late.ID, followedUp.ID, dueNow.ID}; !reflect.DeepEqual(ids, want) {
		x.t.Errorf("overdue %v, want %v (oldest due first)", ids, want)
	}
	none, err := x.s.OverdueTickets(x.ctx, T0)
	x.must(err)
	if len(none) != 0 {
		x.t.Errorf("overdue at T0: %v", ticketIDs(none))
	}
}

func testResponders(x *suite) {
	o := x.tree()
	a, _ := x.register("30001", o["P1"].ID, storage.RoleActivist, "")
	b, _ := x.register("30002", o["B1"].ID, storage.RoleActivist, "")
	p1, b1 := o["P1"].ID, o["B1"].ID
	set := []storage.Responder{
		{PersonID: b.ID, OrgID: p1, Topic: "legal"},
		{PersonID: a.ID, OrgID: p1, Topic: "wages"},
		{PersonID: a.ID, OrgID: p1},
		{PersonID: a.ID, OrgID: p1}, // twice: still one row
		{PersonID: b.ID, OrgID: b1},
	}
	for _, r := range set {
		x.must(x.s.SetResponder(x.ctx, r))
	}
	got, err := x.s.Responders(x.ctx, p1)
	x.must(err)
	want := []storage.Responder{{PersonID: a.ID, OrgID: p1}, {PersonID: a.ID, OrgID: p1, Topic: "wages"}, {PersonID: b.ID, OrgID: p1, Topic: "legal"}}
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("responders of P1 %+v, want %+v", got, want)
	}
	x.must(x.s.RemoveResponder(x.ctx, storage.Responder{PersonID: a.ID, OrgID: p1}))
	x.wantErr(x.s.RemoveResponder(x.ctx, storage.Responder{PersonID: a.ID, OrgID: p1}), storage.ErrNotFound)
	x.wantErr(x.s.RemoveResponder(x.ctx, storage.Responder{PersonID: b.ID, OrgID: p1, Topic: "wages"}), storage.ErrNotFound)
	got, err = x.s.Responders(x.ctx, p1)
	x.must(err)
	if want := want[1:]; !reflect.DeepEqual(got, want) {
		x.t.Errorf("after removal %+v, want %+v", got, want)
	}
	if got, err := x.s.Responders(x.ctx, b1); err != nil || len(got) != 1 || got[0].PersonID != b.ID {
		x.t.Errorf("responders of B1 %+v, %v", got, err)
	}
	x.wantErr(x.s.SetResponder(x.ctx, storage.Responder{PersonID: 987654, OrgID: p1}), storage.ErrNotFound)
	x.wantErr(x.s.SetResponder(x.ctx, storage.Responder{PersonID: a.ID, OrgID: 987654}), storage.ErrNotFound)
}

func testDeskPosts(x *suite) {
	o := x.tree()
	p, _ := x.register("31001", o["P1"].ID, storage.RoleMember, "")
	t := x.ask(p, o["P1"].ID, T0, true)
	u := x.ask(p, o["P1"].ID, T0, true)
	post := storage.DeskPost{TicketID: t.ID, Platform: storage.Telegram, ChatID: "-100777", MessageID: "42"}
	x.must(x.s.AddDeskPost(x.ctx, post))
	// The same message id in another chat or platform is another post.
	x.must(x.s.AddDeskPost(x.ctx, storage.DeskPost{TicketID: u.ID, Platform: storage.Telegram, ChatID: "-100888", MessageID: "42"}))
	x.must(x.s.AddDeskPost(x.ctx, storage.DeskPost{TicketID: u.ID, Platform: storage.VK, ChatID: "-100777", MessageID: "42"}))
	x.wantErr(x.s.AddDeskPost(x.ctx, storage.DeskPost{TicketID: u.ID, Platform: storage.Telegram, ChatID: "-100777", MessageID: "42"}), storage.ErrConflict)
	x.wantErr(x.s.AddDeskPost(x.ctx, storage.DeskPost{TicketID: 987654, Platform: storage.Telegram, ChatID: "-100777", MessageID: "43"}), storage.ErrNotFound)

	got, err := x.s.DeskPost(x.ctx, storage.Telegram, "-100777", "42")
	x.must(err)
	if got != post {
		x.t.Errorf("DeskPost = %+v, want %+v", got, post)
	}
	if got, err := x.s.DeskPost(x.ctx, storage.Telegram, "-100888", "42"); err != nil || got.TicketID != u.ID {
		x.t.Errorf("post in another chat: %+v, %v", got, err)
	}
	_, err = x.s.DeskPost(x.ctx, storage.Telegram, "-100777", "43")
	x.wantErr(err, storage.ErrNotFound)
}

func testTicketPosts(x *suite) {
	o := x.tree()
	member, _ := x.register("31101", o["P1"].ID, storage.RoleMember, "")
	chair, _ := x.register("31102", o["P1"].ID, storage.RoleMember, "")
	t := x.ask(member, o["P1"].ID, T0, true)
	u := x.ask(member, o["P1"].ID, T0, true)
	card := storage.TicketPost{TicketID: t.ID, Platform: storage.Telegram, ChatID: "31102", MessageID: "7", Kind: storage.PostCard, Lang: "en"}
	answer := storage.TicketPost{TicketID: t.ID, Platform: storage.Telegram, ChatID: "31101", MessageID: "8", Kind: storage.PostKeep, Lang: "ru"}
	other := storage.TicketPost{TicketID: u.ID, Platform: storage.VK, ChatID: "2000000001", MessageID: "7", Kind: storage.PostDesk, Lang: "ru"}
	for _, p := range []storage.TicketPost{card, answer, other, card} { // the same message twice is one post
		x.must(x.s.AddTicketPost(x.ctx, p))
	}
	if err := x.s.AddTicketPost(x.ctx, storage.TicketPost{TicketID: t.ID, Platform: "icq", ChatID: "1", MessageID: "1", Kind: storage.PostKeep}); err == nil {
		x.t.Error("a post on an unknown platform was kept")
	}
	got, err := x.s.TakeTicketPosts(x.ctx, t.ID)
	x.must(err)
	sort.Slice(got, func(i, k int) bool { return got[i].MessageID < got[k].MessageID })
	if !reflect.DeepEqual(got, []storage.TicketPost{card, answer}) {
		x.t.Errorf("taken %+v, want the card and the answer", got)
	}
	if again, err := x.s.TakeTicketPosts(x.ctx, t.ID); err != nil || len(again) != 0 {
		x.t.Errorf("taken twice: %+v, %v", again, err)
	}
	// Erasing a person removes the posts in their chats, not the others'.
	x.must(x.s.AddTicketPost(x.ctx, storage.TicketPost{TicketID: u.ID, Platform: storage.Telegram, ChatID: "31102", MessageID: "9", Kind: storage.PostCard, Lang: "ru"}))
	x.must(x.s.Forget(x.ctx, chair.ID, T0))
	if left, err := x.s.TakeTicketPosts(x.ctx, u.ID); err != nil || !reflect.DeepEqual(left, []storage.TicketPost{other}) {
		x.t.Errorf("after erasing the chair: %+v, %v; want only the desk post", left, err)
	}
}

func testDeskOf(x *suite) {
	o := x.tree()
	b1 := o["B1"].ID
	_, err := x.s.DeskOf(x.ctx, b1)
	x.wantErr(err, storage.ErrNotFound)
	x.must(x.s.BindChat(x.ctx, storage.ChatBinding{Platform: storage.Telegram, ChatID: "-1001", OrgID: b1, Title: "Members", BoundAt: T0.Add(3 * time.Hour)}))
	_, err = x.s.DeskOf(x.ctx, b1)
	x.wantErr(err, storage.ErrNotFound)

	older := storage.ChatBinding{Platform: storage.Telegram, ChatID: "-1002", OrgID: b1, Title: "Staff", Desk: true, BoundAt: T0}
	newer := storage.ChatBinding{Platform: storage.Telegram, ChatID: "-1003", OrgID: b1, Title: "Staff 2", Desk: true, BoundAt: T0.Add(time.Hour)}
	x.must(x.s.BindChat(x.ctx, newer))
	x.must(x.s.BindChat(x.ctx, older))
	x.must(x.s.BindChat(x.ctx, storage.ChatBinding{Platform: storage.Telegram, ChatID: "-1004", OrgID: o["P1"].ID, Desk: true, BoundAt: T0.Add(5 * time.Hour)}))
	if got, err := x.s.ChatBinding(x.ctx, storage.Telegram, "-1002"); err != nil || got != older {
		x.t.Errorf("ChatBinding = %+v, %v; want %+v", got, err, older)
	}
	got, err := x.s.DeskOf(x.ctx, b1)
	x.must(err)
	if got != newer {
		x.t.Errorf("DeskOf = %+v, want the most recently bound %+v", got, newer)
	}
	// Rebound as a plain chat, it is no desk any more.
	newer.Desk, newer.BoundAt = false, T0.Add(4*time.Hour)
	x.must(x.s.BindChat(x.ctx, newer))
	if got, err := x.s.DeskOf(x.ctx, b1); err != nil || got != older {
		x.t.Errorf("DeskOf after rebinding = %+v, %v; want %+v", got, err, older)
	}
	x.must(x.s.UnbindChat(x.ctx, storage.Telegram, "-1002"))
	_, err = x.s.DeskOf(x.ctx, b1)
	x.wantErr(err, storage.ErrNotFound)
}

func testForgetTickets(x *suite) {
	o := x.tree()
	p, _ := x.register("32001", o["P1"].ID, storage.RoleMember, "")
	r, _ := x.register("32002", o["P1"].ID, storage.RoleChair, "")
	other, _ := x.register("32003", o["P1"].ID, storage.RoleMember, "")
	x.must(x.s.SetResponder(x.ctx, storage.Responder{PersonID: r.ID, OrgID: o["P1"].ID}))
	photo := []storage.Attachment{{Platform: storage.Telegram, Kind: "photo", FileID: "AgAC"}}
	// Kept texts lose the name and e-mail address the person registered with.
	signed := p.FullName + " <" + p.WorkEmail + ">"

	withPhoto := func(keepText bool) storage.Ticket {
		t, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: p.ID, OrgID: o["P1"].ID, LevelOrgID: o["P1"].ID, Topic: "wages",
			KeepText: keepText, CreatedAt: T0, DueAt: T0.Add(time.Hour)}, storage.TicketMessage{Text: "private, " + signed, Attachments: photo})
		x.must(err)
		return t
	}
	kept, erased := withPhoto(true), withPhoto(false)
	theirs := x.ask(other, o["P1"].ID, T0, false)
	for _, t := range []storage.Ticket{kept, erased, theirs} {
		x.reply(t.ID, r.ID, false, "answer from "+r.FullName, T0.Add(time.Minute))
		x.reply(t.ID, t.PersonID, true, "thanks", T0.Add(2*time.Minute))
	}
	for _, t := range []storage.Ticket{kept, erased} {
		_, err := x.s.CloseTicket(x.ctx, t.ID, T0.Add(time.Hour))
		x.must(err)
		x.must(x.s.RateTicket(x.ctx, t.ID, 5, "my words, "+p.FullName))
	}

	pending := x.ask(p, o["P1"].ID, T0, false) // still unanswered when they leave
	x.must(x.s.Forget(x.ctx, p.ID, T0.Add(24*time.Hour)))
	if t, err := x.s.Ticket(x.ctx, pending.ID); err != nil || t.Status != storage.TicketClosed || t.ClosedAt == nil || !t.ClosedAt.Equal(T0.Add(24*time.Hour)) {
		x.t.Errorf("an unclosed ticket of a forgotten member: %+v, %v; want it closed then", t, err)
	}
	if mine, err := x.s.TicketsOf(x.ctx, p.ID); err != nil || len(mine) != 0 {
		x.t.Errorf("tickets still linked after Forget: %v, %v", ticketIDs(mine), err)
	}
	type msg struct {
		author int64
		text   string
		atts   int
	}
	thread := func(id int64) []msg {
		var out []msg
		for _, m := range x.messages(id) {
			out = append(out, msg{m.AuthorID, m.Text, len(m.Attachments)})
		}
		return out
	}
	answer := "answer from " + r.FullName
	if got, want := thread(kept.ID), []msg{{0, "private, *** <***>", 1}, {r.ID, answer, 0}, {0, "thanks", 0}}; !reflect.DeepEqual(got, want) {
		x.t.Errorf("kept thread %+v, want %+v", got, want)
	}
	if got, want := thread(erased.ID), []msg{{0, "", 0}, {r.ID, "", 0}, {0, "", 0}}; !reflect.DeepEqual(got, want) {
		x.t.Errorf("erased thread %+v, want %+v", got, want)
	}
	if got, want := thread(theirs.ID), []msg{{other.ID, "question of " + fmt.Sprint(other.ID), 0}, {r.ID, answer, 0}, {other.ID, "thanks", 0}}; !reflect.DeepEqual(got, want) {
		x.t.Errorf("another member's thread changed: %+v", got)
	}
	t, err := x.s.Ticket(x.ctx, erased.ID)
	x.must(err)
	if t.PersonID != 0 || t.Rating != 5 || t.RatingComment != "" || t.Topic != "wages" || t.OrgID != o["P1"].ID {
		x.t.Errorf("anonymised ticket %+v, want no person nor comment, rating and topic kept", t)
	}
	if t, err := x.s.Ticket(x.ctx, kept.ID); err != nil || t.PersonID != 0 || t.RatingComment != "my words, ***" {
		x.t.Errorf("anonymised ticket with KeepText %+v, %v; want the comment kept without the name", t, err)
	}
	if t, err := x.s.Ticket(x.ctx, theirs.ID); err != nil || t.PersonID != other.ID {
		x.t.Errorf("another member's ticket %+v, %v", t, err)
	}

	// A responder forgotten: their answers stay, unsigned and without their
	// name; they answer no more, and what they had taken is open for others
	// again.
	taken, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: other.ID, OrgID: o["P1"].ID, LevelOrgID: o["P1"].ID,
		Topic: "wages", CreatedAt: T0, DueAt: T0.Add(time.Hour)}, storage.TicketMessage{Text: "later"})
	x.must(err)
	_, err = x.s.TakeTicket(x.ctx, taken.ID, r.ID, T0)
	x.must(err)
	x.must(x.s.Forget(x.ctx, r.ID, T0.Add(48*time.Hour)))
	if t, err := x.s.Ticket(x.ctx, taken.ID); err != nil || t.Status != storage.TicketOpen || t.AssigneeID != 0 {
		x.t.Errorf("a ticket taken by a forgotten responder: %+v, %v; want it open and unassigned", t, err)
	}
	if got, want := thread(theirs.ID), []msg{{other.ID, "question of " + fmt.Sprint(other.ID), 0}, {0, "answer from ***", 0}, {other.ID, "thanks", 0}}; !reflect.DeepEqual(got, want) {
		x.t.Errorf("thread after the responder's Forget %+v, want %+v", got, want)
	}
	if rs, err := x.s.Responders(x.ctx, o["P1"].ID); err != nil || len(rs) != 0 {
		x.t.Errorf("a forgotten person is still a responder: %+v, %v", rs, err)
	}

	// A name too short to name anyone is not cut out of other words.
	short, _ := x.register("32004", o["P1"].ID, storage.RoleMember, "")
	name := "Ян"
	_, err = x.s.UpdateProfile(x.ctx, short.ID, storage.ProfilePatch{FullName: &name})
	x.must(err)
	amber, err := x.s.CreateTicket(x.ctx, storage.Ticket{PersonID: short.ID, OrgID: o["P1"].ID, LevelOrgID: o["P1"].ID, Topic: "wages",
		KeepText: true, CreatedAt: T0, DueAt: T0.Add(time.Hour)}, storage.TicketMessage{Text: "Янтарный"})
	x.must(err)
	x.must(x.s.Forget(x.ctx, short.ID, T0.Add(72*time.Hour)))
	if got, want := thread(amber.ID), []msg{{0, "Янтарный", 0}}; !reflect.DeepEqual(got, want) {
		x.t.Errorf("kept thread of a person with a two-letter name %+v, want %+v", got, want)
	}
}
