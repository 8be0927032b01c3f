package hotline_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

func ids(ts []storage.InboxTicket) []int64 {
	var out []int64
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestInboxListsWhatEachMayAnswer(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	school := b.person("school", storage.RoleChair)
	branch := b.person("edu", storage.RoleChair)
	lawyer := b.person("edu", storage.RoleActivist)
	mustDo(b, b.svc.NameResponder(b.ctx, branch, storage.Responder{PersonID: lawyer.PersonID, OrgID: b.org["edu"].ID, Topic: "legal"}))
	teacher := b.person("school", storage.RoleMember)
	pupil := b.person("gymnasium", storage.RoleMember)
	nurse := b.person("clinic", storage.RoleMember)
	wages := b.ask(teacher, "wages").Ticket.ID
	legal := b.ask(pupil, "legal").Ticket.ID
	b.ask(nurse, "wages") // another branch
	closed := b.ask(teacher, "safety").Ticket.ID
	if _, err := b.svc.Close(b.ctx, school, closed); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		by   access.Actor
		want []int64
	}{
		{"the school's chair", school, []int64{wages}},
		{"the branch's chair", branch, []int64{wages, legal}},
		{"the branch's lawyer, for legal help", lawyer, []int64{legal}},
	}
	for _, tt := range tests {
		got, err := b.svc.Inbox(b.ctx, tt.by, hotline.InboxFilter{Statuses: hotline.Unclosed, Limit: 50})
		if err != nil || !sameIDs(ids(got), tt.want...) {
			t.Errorf("%s: inbox %v, %v; want %v", tt.name, ids(got), err, tt.want)
		}
		n, more, err := b.svc.InboxCount(b.ctx, tt.by, hotline.InboxFilter{Statuses: hotline.Unclosed})
		if err != nil || more || n != len(tt.want) {
			t.Errorf("%s: count %d (more %v), %v; want %d", tt.name, n, more, err, len(tt.want))
		}
	}
	_, err := b.svc.Inbox(b.ctx, teacher, hotline.InboxFilter{Limit: 50})
	is(t, "a member's inbox", err, access.ErrForbidden)
	_, _, err = b.svc.InboxCount(b.ctx, teacher, hotline.InboxFilter{})
	is(t, "a member's count", err, access.ErrForbidden)
	_, err = b.svc.InboxEvents(b.ctx, teacher, 0, 10)
	is(t, "a member's events", err, access.ErrForbidden)
	if roots, err := b.svc.AnswerRoots(b.ctx, lawyer); err != nil || len(roots) != 1 || roots[0].Code != "edu" {
		t.Fatalf("the lawyer answers under %+v, %v", roots, err)
	}
	// Who left the org keeps the entry but not the right.
	if roots, err := b.svc.AnswerRoots(b.ctx, access.Actor{PersonID: lawyer.PersonID}); err != nil || len(roots) != 0 {
		t.Fatalf("a responder without a membership answers under %+v, %v", roots, err)
	}

	tk := b.ticket(wages)
	if ok, err := b.svc.MemberReachable(b.ctx, tk); err != nil || !ok {
		t.Fatalf("reachable %v, %v", ok, err)
	}
	b.heard.serves[storage.Telegram] = false
	if ok, _ := b.svc.MemberReachable(b.ctx, tk); ok {
		t.Fatal("a member on a platform nobody serves is reachable")
	}
	b.heard.serves[storage.Telegram] = true
	accounts, err := b.store.Accounts(b.ctx, teacher.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	mustDo(b, b.store.MarkBlocked(b.ctx, storage.Telegram, accounts[0].ExternalID, b.now))
	if ok, _ := b.svc.MemberReachable(b.ctx, tk); ok {
		t.Fatal("a member who blocked the bot is reachable")
	}
}

// TestInboxIsTheRuleOfEachTicket checks the inbox, filtered in SQL,
// against the rule each ticket is opened by (access.CanAnswer through
// TicketToAnswer): for everyone in a tree with siblings, chairs, named
// responders for a topic or all, and people who may answer nothing, the
// inbox holds exactly the tickets they may open.
func TestInboxIsTheRuleOfEachTicket(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	unionChair := b.person("union", storage.RoleChair)
	eduChair := b.person("edu", storage.RoleChair)
	schoolChair := b.person("school", storage.RoleChair)
	gymChair := b.person("gymnasium", storage.RoleChair)
	healthAdmin := b.person("health", storage.RoleAdmin)
	eduWorker := b.person("edu", storage.RoleInfoworker)
	lawyer := b.person("edu", storage.RoleActivist)
	economist := b.person("edu", storage.RoleActivist)
	helper := b.person("school", storage.RoleMember)
	clinicHelper := b.person("clinic", storage.RoleActivist)
	name := func(by access.Actor, r storage.Responder) { mustDo(b, b.svc.NameResponder(b.ctx, by, r)) }
	name(eduChair, storage.Responder{PersonID: lawyer.PersonID, OrgID: b.org["edu"].ID, Topic: "legal"})
	name(eduChair, storage.Responder{PersonID: economist.PersonID, OrgID: b.org["edu"].ID, Topic: "wages"})
	name(eduChair, storage.Responder{PersonID: economist.PersonID, OrgID: b.org["edu"].ID, Topic: "legal"})
	name(schoolChair, storage.Responder{PersonID: helper.PersonID, OrgID: b.org["school"].ID})
	name(healthAdmin, storage.Responder{PersonID: clinicHelper.PersonID, OrgID: b.org["clinic"].ID, Topic: "safety"})
	// A chair named a responder of their own org as well.
	name(eduChair, storage.Responder{PersonID: eduChair.PersonID, OrgID: b.org["edu"].ID, Topic: "legal"})

	var all []int64
	for i, org := range []string{"union", "edu", "health", "school", "gymnasium", "clinic"} {
		member := b.person(org, storage.RoleMember)
		for j, topic := range []string{"wages", "legal", "safety"} {
			id := b.ask(member, topic).Ticket.ID
			all = append(all, id)
			switch (i + j) % 3 {
			case 1:
				if _, err := b.svc.Close(b.ctx, unionChair, id); err != nil {
					t.Fatal(err)
				}
			case 2:
				if _, err := b.svc.Take(b.ctx, unionChair, id); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	people := []struct {
		name string
		by   access.Actor
		none bool // may answer nothing at all
	}{
		{name: "the union's chair", by: unionChair},
		{name: "the branch's chair", by: eduChair},
		{name: "a school's chair", by: schoolChair},
		{name: "its sibling's chair", by: gymChair},
		{name: "the other branch's admin", by: healthAdmin},
		{name: "a branch's lawyer", by: lawyer},
		{name: "a branch's responder on two topics", by: economist},
		{name: "a school's responder on all topics", by: helper},
		{name: "a clinic's responder on safety", by: clinicHelper},
		{name: "a responder who left", by: access.Actor{PersonID: lawyer.PersonID}, none: true},
		{name: "an information worker", by: eduWorker, none: true},
		{name: "a member", by: b.person("school", storage.RoleMember), none: true},
	}
	for _, p := range people {
		var want, wantUnclosed []int64
		for _, id := range all {
			tk, err := b.svc.TicketToAnswer(b.ctx, p.by, id)
			switch {
			case errors.Is(err, access.ErrForbidden):
			case err != nil:
				t.Fatal(err)
			default:
				want = append(want, id)
				if tk.Status != storage.TicketClosed {
					wantUnclosed = append(wantUnclosed, id)
				}
			}
		}
		got, err := b.svc.Inbox(b.ctx, p.by, hotline.InboxFilter{Limit: 1000})
		if p.none {
			if !errors.Is(err, access.ErrForbidden) || len(want) != 0 {
				t.Errorf("%s: inbox %v, %v; may open %v", p.name, ids(got), err, want)
			}
			continue
		}
		if err != nil || !sameIDs(ids(got), want...) || len(want) == 0 {
			t.Errorf("%s: inbox %v, %v; may open %v", p.name, ids(got), err, want)
		}
		got, err = b.svc.Inbox(b.ctx, p.by, hotline.InboxFilter{Statuses: hotline.Unclosed, Limit: 1000})
		if err != nil || !sameIDs(ids(got), wantUnclosed...) {
			t.Errorf("%s: unclosed %v, %v; may open %v", p.name, ids(got), err, wantUnclosed)
		}
	}
}

func TestInboxFilters(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	eduChair := b.person("edu", storage.RoleChair)
	schoolChair := b.person("school", storage.RoleChair)
	teacher := b.person("school", storage.RoleMember)
	pupil := b.person("gymnasium", storage.RoleMember)
	first := b.ask(teacher, "wages").Ticket.ID
	b.now = b.now.Add(time.Hour)
	second := b.ask(pupil, "legal").Ticket.ID
	b.now = b.now.Add(time.Hour)
	third := b.ask(teacher, "legal").Ticket.ID
	if _, err := b.svc.Take(b.ctx, schoolChair, third); err != nil {
		t.Fatal(err)
	}
	// A day of working hours later, all three are overdue; one is answered.
	b.now = b.now.Add(7 * 24 * time.Hour)
	if _, err := b.svc.Answer(b.ctx, eduChair, second, hotline.Message{Text: "Answer"}, "r1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		by   access.Actor
		f    hotline.InboxFilter
		want []int64 // in the order listed
		err  error
	}{
		{name: "newest first", by: eduChair, f: hotline.InboxFilter{}, want: []int64{third, second, first}},
		{name: "oldest first", by: eduChair, f: hotline.InboxFilter{Oldest: true}, want: []int64{first, second, third}},
		{name: "a page", by: eduChair, f: hotline.InboxFilter{Limit: 2}, want: []int64{third, second}},
		{name: "the next page", by: eduChair, f: hotline.InboxFilter{After: second, Limit: 2}, want: []int64{first}},
		{name: "under a school", by: eduChair, f: hotline.InboxFilter{Under: b.org["school"].ID}, want: []int64{third, first}},
		{name: "under its own school", by: schoolChair, f: hotline.InboxFilter{Under: b.org["school"].ID}, want: []int64{third, first}},
		{name: "under the sibling school", by: schoolChair, f: hotline.InboxFilter{Under: b.org["gymnasium"].ID}, err: access.ErrForbidden},
		{name: "under the org above", by: schoolChair, f: hotline.InboxFilter{Under: b.org["edu"].ID}, err: access.ErrForbidden},
		{name: "under no org", by: eduChair, f: hotline.InboxFilter{Under: 987654}, err: storage.ErrNotFound},
		{name: "a topic", by: eduChair, f: hotline.InboxFilter{Topic: "legal"}, want: []int64{third, second}},
		{name: "taken", by: eduChair, f: hotline.InboxFilter{Statuses: []storage.TicketStatus{storage.TicketTaken}}, want: []int64{third}},
		{name: "overdue, unanswered", by: eduChair, f: hotline.InboxFilter{Overdue: true}, want: []int64{third, first}},
		{name: "mine", by: schoolChair, f: hotline.InboxFilter{Mine: true}, want: []int64{third}},
		{name: "not mine", by: eduChair, f: hotline.InboxFilter{Mine: true}},
	}
	for _, tt := range tests {
		f := tt.f
		if f.Limit == 0 {
			f.Limit = 50
		}
		got, err := b.svc.Inbox(b.ctx, tt.by, f)
		if tt.err != nil {
			is(t, tt.name, err, tt.err)
			continue
		}
		if err != nil || !slices.Equal(ids(got), tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, ids(got), err, tt.want)
		}
	}
	orgs, err := b.svc.InboxOrgs(b.ctx, eduChair)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, o := range orgs {
		codes = append(codes, o.Code)
	}
	if want := []string{"edu", "gymnasium", "school"}; !slices.Equal(codes, want) {
		t.Errorf("the branch chair narrows to %v, want %v", codes, want)
	}
}

func TestInboxCountStops(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	chair := b.person("school", storage.RoleChair)
	teacher := b.person("school", storage.RoleMember)
	school := b.org["school"].ID
	for range hotline.MaxCounted + 1 {
		_, err := b.store.CreateTicket(b.ctx, storage.Ticket{PersonID: teacher.PersonID, OrgID: school, LevelOrgID: school, Topic: "wages",
			CreatedAt: b.now, DueAt: b.now}, storage.TicketMessage{Text: "?"})
		mustDo(b, err)
	}
	n, more, err := b.svc.InboxCount(b.ctx, chair, hotline.InboxFilter{})
	if err != nil || n != hotline.MaxCounted || !more {
		t.Fatalf("count %d (more %v), %v; want %d and more", n, more, err, hotline.MaxCounted)
	}
	n, more, err = b.svc.InboxCount(b.ctx, chair, hotline.InboxFilter{Statuses: []storage.TicketStatus{storage.TicketClosed}})
	if err != nil || n != 0 || more {
		t.Fatalf("closed: %d (more %v), %v", n, more, err)
	}
}

func TestInboxEvents(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	schoolChair := b.person("school", storage.RoleChair)
	gymChair := b.person("gymnasium", storage.RoleChair)
	teacher := b.person("school", storage.RoleMember)
	pupil := b.person("gymnasium", storage.RoleMember)
	b.ask(teacher, "wages")
	start, err := b.svc.LastInboxEvent(b.ctx)
	if err != nil || start == 0 {
		t.Fatalf("start %d, %v", start, err)
	}
	asked := b.ask(teacher, "legal").Ticket.ID
	b.ask(pupil, "legal")
	if _, err := b.svc.Answer(b.ctx, schoolChair, asked, hotline.Message{Text: "An answer is no event"}, "r1"); err != nil {
		t.Fatal(err)
	}
	mustDo(b, b.svc.FollowUp(b.ctx, teacher, asked, hotline.Message{Text: "And one more thing"}, "f1"))
	evs, err := b.svc.InboxEvents(b.ctx, schoolChair, start, 10)
	if err != nil || len(evs) != 2 || evs[0].TicketID != asked || !evs[0].First || evs[1].TicketID != asked || evs[1].First {
		t.Fatalf("the school's chair sees %+v, %v; want the question and its follow-up", evs, err)
	}
	evs, err = b.svc.InboxEvents(b.ctx, gymChair, start, 10)
	if err != nil || len(evs) != 1 || evs[0].TicketID == asked {
		t.Fatalf("the sibling's chair sees %+v, %v; want only their own school's question", evs, err)
	}
}

func TestCase(t *testing.T) {
	t.Parallel()
	b := newBed(t, "")
	schoolChair := b.person("school", storage.RoleChair)
	eduChair := b.person("edu", storage.RoleChair)
	gymChair := b.person("gymnasium", storage.RoleChair)
	teacher := b.person("school", storage.RoleMember)
	id := b.ask(teacher, "wages").Ticket.ID
	if _, err := b.svc.HandUp(b.ctx, schoolChair, id); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Answer(b.ctx, eduChair, id, hotline.Message{Text: "We will check."}, "r1"); err != nil {
		t.Fatal(err)
	}
	c, err := b.svc.Case(b.ctx, schoolChair, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ticket.ID != id || c.MemberOrg.Code != "school" || c.Level.Code != "edu" || c.MemberName != "Person 4" || !c.Reachable ||
		len(c.Thread) != 2 || !c.Thread[0].FromMember || c.Thread[1].Text != "We will check." || c.Thread[1].AuthorID != eduChair.PersonID {
		t.Fatalf("case %+v", c)
	}
	_, err = b.svc.Case(b.ctx, gymChair, id)
	is(t, "the sibling's chair", err, access.ErrForbidden)
	_, err = b.svc.Case(b.ctx, teacher, id)
	is(t, "the member as a responder", err, access.ErrForbidden)
	_, err = b.svc.Case(b.ctx, schoolChair, 987654)
	is(t, "no such ticket", err, storage.ErrNotFound)

	// Erased, the member is nameless and out of reach; the case stays.
	mustDo(b, b.store.Forget(b.ctx, teacher.PersonID, b.now))
	c, err = b.svc.Case(b.ctx, eduChair, id)
	if err != nil || c.MemberName != "" || c.Reachable || c.Ticket.Status != storage.TicketClosed {
		t.Fatalf("case of an erased member %+v, %v", c, err)
	}
}
