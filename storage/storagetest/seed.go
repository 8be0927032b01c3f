package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for raw seeding

	"github.com/unionhub/unionhub/storage"
)

// BenchTree is the shape of the benchmarks' organisation: a union, branches
// of primaries, and members spread evenly over the primaries.
type BenchTree struct {
	Branches, Primaries, Members int
	// OnVK puts every member on VK only (with the person id as user id).
	OnVK bool
	// AlsoVK puts every tenth Telegram member on VK too, seen there last.
	AlsoVK bool
	// AsImported leaves the tables as `org import` and registrations leave
	// them: no planner statistics but those the import gathers itself.
	// Otherwise the seeded tables are analysed, as autovacuum would do in
	// a while.
	AsImported bool
}

// ProgrammeScale is the benchmark size: 100,000 members in 1,000
// primaries under 10 branches.
var ProgrammeScale = BenchTree{Branches: 10, Primaries: 1000, Members: 100000, AlsoVK: true}

// SeedPostgres imports tree into a migrated store on dsn and seeds its
// members with set-based SQL: person ids 1..Members, each on Telegram with
// the person id as account id (on VK with OnVK), every tenth an activist,
// with AlsoVK every tenth also on VK (seen there last), and one bound
// Telegram chat ("-<org id>") per primary. Unless AsImported, it analyses
// the tables it wrote (only those of dsn's schema: an ANALYZE of the whole
// database would give statistics to other tests' tables too). It returns
// the union.
func SeedPostgres(tb testing.TB, st storage.OrgStore, dsn string, tree BenchTree) storage.Org {
	tb.Helper()
	ctx := context.Background()
	in := []storage.OrgInput{{Code: "U", Name: "Union", Level: storage.LevelUnion, Source: "bench"}}
	for br := range tree.Branches {
		in = append(in, storage.OrgInput{Code: fmt.Sprint("B", br), Name: fmt.Sprint("Branch ", br), ParentCode: "U",
			Level: storage.LevelBranch, Source: "bench"})
		for p := range tree.Primaries / tree.Branches {
			in = append(in, storage.OrgInput{Code: fmt.Sprint("P", br, "-", p), Name: fmt.Sprint("Primary ", br, "-", p),
				ParentCode: fmt.Sprint("B", br), Level: storage.LevelPrimary, Source: "bench"})
		}
	}
	if _, err := st.ImportOrgs(ctx, in, T0); err != nil {
		tb.Fatal(err)
	}
	runSeed(tb, dsn, "seed", tree.AsImported, []seedStep{
		{`INSERT INTO people (full_name, position, work_email, personal_email, locale, created_at)
			SELECT 'Member ' || g, '', '', '', 'ru', now() FROM generate_series(1, $1::int) g`, []any{tree.Members}},
		{`INSERT INTO accounts (platform, external_id, person_id, last_seen_at)
			SELECT CASE WHEN $1 THEN 'vk' ELSE 'telegram' END, id::text, id, now() FROM people`, []any{tree.OnVK}},
		{`INSERT INTO accounts (platform, external_id, person_id, last_seen_at)
			SELECT 'vk', id::text, id, now() + interval '1 minute' FROM people WHERE id % 10 = 1 AND $1`, []any{tree.AlsoVK && !tree.OnVK}},
		{`INSERT INTO memberships (person_id, org_id, role, status, created_at)
			SELECT p.id, o.id, CASE WHEN p.id % 10 = 0 THEN 'activist' ELSE 'member' END, 'active', now()
			FROM people p JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM orgs WHERE level = 'primary') o
				ON o.n = p.id % $1::int`, []any{tree.Primaries}},
		{`INSERT INTO chat_bindings (platform, chat_id, org_id, title, desk, bound_at)
			SELECT 'telegram', '-' || id, id, 'Chat', false, now() FROM orgs WHERE level = 'primary'`, nil},
		{`ANALYZE orgs, people, accounts, memberships, chat_bindings`, nil},
	})
	u, err := st.OrgByCode(ctx, "U")
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// TicketTopics are the topics SeedTickets spreads its questions over.
var TicketTopics = []string{"wages", "employment", "conditions", "safety", "benefits", "legal", "other"}

// SeedTickets gives each member that SeedPostgres made one question, asked
// in their primary a minute after the previous one, the last at now, with
// a first message, due a day later: each third closed, each third taken by
// person 1 (the others open), each fifth answered; the topics in turn. It
// analyses the tables, unless tree.AsImported.
func SeedTickets(tb testing.TB, dsn string, tree BenchTree, now time.Time) {
	tb.Helper()
	runSeed(tb, dsn, "seed tickets", tree.AsImported, []seedStep{
		{`INSERT INTO tickets (person_id, org_id, level_org_id, topic, share_name, keep_text, status, assignee_id,
				created_at, due_at, first_response_at, closed_at)
			SELECT m.person_id, m.org_id, m.org_id, ($1::text[])[1 + m.person_id % array_length($1::text[], 1)], false, false,
				CASE m.person_id % 3 WHEN 0 THEN 'closed' WHEN 1 THEN 'taken' ELSE 'open' END,
				CASE WHEN m.person_id % 3 = 1 THEN 1 END,
				c.at, c.at + interval '1 day',
				CASE WHEN m.person_id % 5 = 0 THEN c.at + interval '1 hour' END,
				CASE WHEN m.person_id % 3 = 0 THEN c.at + interval '2 hours' END
			FROM memberships m CROSS JOIN LATERAL (SELECT $2::timestamptz - ($3::int - m.person_id) * interval '1 minute' AS at) c
			ORDER BY m.person_id`, []any{TicketTopics, now, tree.Members}},
		{`INSERT INTO ticket_messages (ticket_id, author_id, from_member, text, at)
			SELECT id, person_id, true, 'Question ' || id, created_at FROM tickets ORDER BY id`, nil},
		{`ANALYZE tickets, ticket_messages`, nil},
	})
}

// SeedNewsReach adds a year of weekly news from the root, finished one a
// week up to now, as the bot leaves them: each item's reach tallied for
// every org with members (90 % of them delivered), and each of a tenth
// of the members opening its link: counted per item and org, and for the
// last 90 days also one row per open, as the hub keeps them.
func SeedNewsReach(tb testing.TB, dsn string, tree BenchTree, now time.Time) {
	tb.Helper()
	runSeed(tb, dsn, "seed news reach", false, []seedStep{
		{`INSERT INTO broadcasts (org_id, text, mode, audience, status, created_at, started_at, finished_at)
			SELECT (SELECT id FROM orgs WHERE parent_id IS NULL), 'Weekly news ' || w || ': https://union.example/' || w, 'direct', '{"private":true}', 'done',
				f.at - interval '1 hour', f.at - interval '1 hour', f.at
			FROM generate_series(0, 51) w CROSS JOIN LATERAL (SELECT $1::timestamptz - w * interval '7 days' AS at) f
			ORDER BY w DESC`, []any{now}},
		{`INSERT INTO broadcast_reach (broadcast_id, org_id, finished_at, audience, delivered)
			SELECT b.id, o.org_id, b.finished_at, o.n, o.n * 9 / 10
			FROM broadcasts b CROSS JOIN (SELECT org_id, COUNT(*) AS n FROM memberships GROUP BY org_id) o
			WHERE b.text LIKE 'Weekly news %'`, nil},
		{`INSERT INTO link_opens (delivery_id, link, broadcast_id, org_id, opened_at)
			SELECT b.id * 1000000 + m.person_id, 0, b.id, m.org_id, b.finished_at + interval '1 hour'
			FROM broadcasts b JOIN memberships m ON m.person_id % 10 = b.id % 10
			WHERE b.text LIKE 'Weekly news %' AND b.finished_at >= $1::timestamptz - interval '90 days'`, []any{now}},
		{`INSERT INTO link_open_counts (broadcast_id, org_id, opens, shares)
			SELECT b.id, m.org_id, COUNT(*), COUNT(*) / 20
			FROM broadcasts b JOIN memberships m ON m.person_id % 10 = b.id % 10
			WHERE b.text LIKE 'Weekly news %'
			GROUP BY b.id, m.org_id`, nil},
	})
}

// seedStep is a statement of a seed with its arguments.
type seedStep struct {
	query string
	args  []any
}

// runSeed runs steps on the database at dsn, skipping ANALYZE when the
// tables are to stay as an import leaves them.
func runSeed(tb testing.TB, dsn, what string, asImported bool, steps []seedStep) {
	tb.Helper()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	for _, s := range steps {
		if asImported && strings.HasPrefix(s.query, "ANALYZE") {
			continue
		}
		if _, err := raw.ExecContext(context.Background(), s.query, s.args...); err != nil {
			tb.Fatalf("%s: %v", what, err)
		}
	}
}
