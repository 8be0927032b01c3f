package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// BenchmarkInbox times a page of the console's inbox over the programme's
// scale, one question per member (100,000, two thirds unclosed), for the
// Union's admin, a branch's chair, a primary's chair and a branch's named
// lawyer, with each filter, and the counts; it reports the 99th
// percentile besides the mean:
//
//	go test ./storage/postgres -run '^$' -bench Inbox -benchtime 200x
func BenchmarkInbox(b *testing.B) {
	ctx := b.Context()
	dsn := storagetest.PostgresDSN(b)
	db := open(b, dsn)
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	u := storagetest.SeedPostgres(b, db, dsn, storagetest.ProgrammeScale)
	now := storagetest.T0
	storagetest.SeedTickets(b, dsn, storagetest.ProgrammeScale, now)
	ticketsSeeded(b, db, u)
	branch, err := db.OrgByCode(ctx, "B3")
	if err != nil {
		b.Fatal(err)
	}
	primary, err := db.OrgByCode(ctx, "P3-7")
	if err != nil {
		b.Fatal(err)
	}
	union := []storage.AnswerScope{{Path: u.Path}}
	unclosed := []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}
	middle := int64(storagetest.ProgrammeScale.Members / 2)
	for _, bc := range []struct {
		name  string
		q     storage.InboxQuery
		count bool
	}{
		{name: "union", q: storage.InboxQuery{Scopes: union, Statuses: unclosed}},
		{name: "union-page-500", q: storage.InboxQuery{Scopes: union, Statuses: unclosed, After: middle}},
		{name: "union-closed", q: storage.InboxQuery{Scopes: union, Statuses: []storage.TicketStatus{storage.TicketClosed}}},
		{name: "union-overdue", q: storage.InboxQuery{Scopes: union, OverdueAt: now.Add(-30 * 24 * time.Hour)}},
		{name: "union-mine", q: storage.InboxQuery{Scopes: union, AssigneeID: 1, Statuses: unclosed}},
		{name: "union-topic", q: storage.InboxQuery{Scopes: union, Topic: "legal", Statuses: unclosed}},
		{name: "union-under-primary", q: storage.InboxQuery{Scopes: union, Under: primary.Path, Statuses: unclosed}},
		{name: "branch", q: storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: branch.Path}}, Statuses: unclosed}},
		{name: "branch-lawyer", q: storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: branch.Path, Topic: "legal"}}, Statuses: unclosed}},
		{name: "primary", q: storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: primary.Path}}, Statuses: unclosed}},
		{name: "union-count", q: storage.InboxQuery{Scopes: union, Statuses: unclosed}, count: true},
		{name: "branch-count", q: storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: branch.Path}}, Statuses: unclosed}, count: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := bc.q
			q.Limit = 51
			if bc.count {
				q.Limit = 1001 // as the home page and the bot count
			}
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				var n int
				if bc.count {
					n, err = db.CountInbox(ctx, q)
				} else {
					var page []storage.InboxTicket
					page, err = db.InboxTickets(ctx, q)
					n = len(page)
				}
				took = append(took, time.Since(start))
				if err != nil || n == 0 {
					b.Fatalf("%d tickets, %v", n, err)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// ticketsSeeded checks the seed: a question per member, two thirds of
// them unclosed.
func ticketsSeeded(b *testing.B, db storage.Store, u storage.Org) {
	b.Helper()
	n, err := db.CountInbox(b.Context(), storage.InboxQuery{Scopes: []storage.AnswerScope{{Path: u.Path}},
		Statuses: []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}, Limit: benchMembers})
	if err != nil || n != benchMembers-benchMembers/3 {
		b.Fatalf("%d unclosed tickets seeded, want %d (%v)", n, benchMembers-benchMembers/3, err)
	}
}
