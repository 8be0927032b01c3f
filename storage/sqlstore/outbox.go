package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// How an outbox is built: people in chunks, each a range of person ids
// committed on its own, so that the engine sends the first chunk while the
// next is built and a crash loses at most one chunk.
const (
	// firstChunkPeople is the id range of the first chunk: small, so that
	// its rows are committed and claimable at once.
	firstChunkPeople = 1000
	// chunkRows is what the later chunks aim at: large enough that a
	// transaction's cost is lost in its rows.
	chunkRows = 20000
	// listedOrgs is the most orgs a scope names one by one; a larger scope
	// is told by path prefixes, checked per membership.
	listedOrgs = 64
	// laneMin is the fewest person ids worth a lane of their own.
	laneMin = 40000
)

// orgFilter restricts rows with an org_id column to a resolved scope.
type orgFilter struct {
	all      bool     // every org: no condition
	ids      []int64  // the orgs, when there are few
	prefixes []string // else the paths their subtrees share
}

// empty reports a scope nobody is in.
func (f orgFilter) empty() bool { return !f.all && len(f.ids) == 0 && len(f.prefixes) == 0 }

// join returns the part of a FROM clause that keeps only the rows whose org
// (column col) is in scope, with its parameters: empty but for path
// prefixes. Postgres probes the org of each row by its key in a LATERAL
// subquery, which it runs once per row whatever it estimates.
func (f orgFilter) join(d *Dialect, col string) (string, []any) {
	if f.all || len(f.ids) > 0 {
		return "", nil
	}
	cond := "(" + strings.TrimSuffix(strings.Repeat("o.path LIKE ? OR ", len(f.prefixes)), " OR ") + ")"
	args := make([]any, len(f.prefixes))
	for i, p := range f.prefixes {
		args[i] = p + "%"
	}
	if d.Lateral {
		return " CROSS JOIN LATERAL (SELECT 1 FROM orgs o WHERE o.id = " + col + " AND " + cond + " LIMIT 1) o", args
	}
	return " JOIN orgs o ON o.id = " + col + " AND " + cond, args
}

// where returns the WHERE condition (with a leading AND) for a few orgs.
func (f orgFilter) where(col string) (string, []any) {
	if len(f.ids) == 0 {
		return "", nil
	}
	args := make([]any, len(f.ids))
	for i, id := range f.ids {
		args[i] = id
	}
	return " AND " + col + " IN (" + placeholders(len(f.ids)) + ")", args
}

// resolveScope reads the stored tree and returns the filter of the orgs
// within scope (each with its subtree when asked) that also lie within one
// of the audience's chosen orgs, if any. Paths come from the store, so that
// a stale Org value selects the tree as it is.
func (c conn) resolveScope(ctx context.Context, a storage.Audience, scope storage.OutboxScope) (orgFilter, error) {
	if len(scope.Orgs) == 0 {
		return orgFilter{}, errors.New("no organisation in scope")
	}
	type node struct {
		id   int64
		path string
	}
	dest := func(n *node) []any { return []any{&n.id, &n.path} }
	nodes, err := queryAll(ctx, c, dest, "SELECT id, path FROM orgs ORDER BY id")
	if err != nil {
		return orgFilter{}, fmt.Errorf("read org paths: %w", err)
	}
	paths := make(map[int64]string, len(nodes))
	for _, n := range nodes {
		paths[n.id] = n.path
	}
	var roots []string
	for _, o := range scope.Orgs {
		p, ok := paths[o.ID]
		if !ok {
			return orgFilter{}, fmt.Errorf("organisation %d of the scope: %w", o.ID, storage.ErrNotFound)
		}
		roots = append(roots, p)
	}
	var chosen []string
	for _, id := range a.OrgIDs {
		if p, ok := paths[id]; ok {
			chosen = append(chosen, p)
		}
	}
	under := func(p string, prefixes []string) bool {
		return slices.ContainsFunc(prefixes, func(q string) bool { return strings.HasPrefix(p, q) })
	}
	in := func(p string) bool {
		if len(a.OrgIDs) > 0 && !under(p, chosen) {
			return false
		}
		if scope.Subtree {
			return under(p, roots)
		}
		return slices.Contains(roots, p)
	}
	var ids []int64
	for _, n := range nodes {
		if in(n.path) {
			ids = append(ids, n.id)
		}
	}
	switch {
	case len(ids) == len(nodes):
		return orgFilter{all: true}, nil
	case len(ids) <= listedOrgs || !scope.Subtree:
		return orgFilter{ids: ids}, nil
	}
	// A path within both a scope subtree and a chosen one lies within the
	// deeper of the two.
	prefixes := roots
	if len(a.OrgIDs) > 0 {
		prefixes = nil
		for _, r := range roots {
			for _, ch := range chosen {
				switch {
				case strings.HasPrefix(ch, r):
					prefixes = append(prefixes, ch)
				case strings.HasPrefix(r, ch):
					prefixes = append(prefixes, r)
				}
			}
		}
	}
	slices.Sort(prefixes)
	return orgFilter{prefixes: slices.Compact(prefixes)}, nil
}

// peopleSQL is the query of whom b's audience reaches among the people
// with an id in (lo, hi]: one row per person (person_id, k, platform,
// external_id), where k / 2 is their org and k % 2 is 0 for an activist.
// A person active in several orgs of the scope counts once, in the lowest
// org id, as an activist if they are one there; they are reached on the
// account seen last that does not block the bot (with pick; a count takes
// any), so that a person without one (an erased person has none) is left
// out. The author is left out.
//
// Every join is by key: memberships by (org_id, status, person_id) or by
// person_id, and the account of each person by a subquery run per row
// (LATERAL on Postgres, a rowid lookup on SQLite), so the work is linear in
// the rows whatever the planner estimates.
func peopleSQL(d *Dialect, a storage.Audience, authorID int64, f orgFilter, lo, hi int64, pick bool) (string, []any) {
	var b strings.Builder
	args := []any{storage.RoleActivist}
	b.WriteString(`SELECT m.person_id, m.k, a.platform, a.external_id FROM (
		SELECT m.person_id, MIN(m.org_id * 2 + CASE WHEN m.role = ? THEN 0 ELSE 1 END) AS k
		FROM memberships m`)
	join, jargs := f.join(d, "m.org_id")
	b.WriteString(join)
	args = append(args, jargs...)
	b.WriteString(" WHERE m.status = ? AND m.person_id > ? AND m.person_id <= ? AND m.person_id <> ?")
	args = append(args, storage.StatusActive, lo, hi, authorID)
	where, wargs := f.where("m.org_id")
	b.WriteString(where)
	args = append(args, wargs...)
	roles := a.PeopleRoles()
	b.WriteString(" AND m.role IN (" + placeholders(len(roles)) + ")")
	for _, r := range roles {
		args = append(args, r)
	}
	b.WriteString(" GROUP BY m.person_id) m ")
	order := ""
	if pick {
		order = " ORDER BY last_seen_at DESC, platform, external_id"
	}
	if d.Lateral {
		b.WriteString(`CROSS JOIN LATERAL (SELECT platform, external_id FROM accounts
			WHERE person_id = m.person_id AND blocked_at IS NULL` + order + ` LIMIT 1) a`)
	} else {
		b.WriteString(`JOIN accounts a ON a.rowid = (SELECT rowid FROM accounts
			WHERE person_id = m.person_id AND blocked_at IS NULL` + order + ` LIMIT 1)`)
	}
	return b.String(), args
}

// chatsSQL is the query of the bound group chats (not desks) in scope:
// (org_id, platform, chat_id).
func chatsSQL(d *Dialect, f orgFilter) (string, []any) {
	join, args := f.join(d, "c.org_id")
	where, wargs := f.where("c.org_id")
	return "SELECT c.org_id, c.platform, c.chat_id FROM chat_bindings c" + join + " WHERE c.desk = ?" + where,
		append(append(args, false), wargs...)
}

// CountAudience counts whom BuildOutbox would reach now: people and chats.
// People are counted from the counters the database keeps per org and role
// (org_reach, person_reach: see migration 00013), so that a count reads a
// row per org rather than a row per person: the people of the orgs in
// scope with a chosen role, less the extra memberships of those who hold
// several there, less the author.
func (db *DB) CountAudience(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope) (people, chats int, err error) {
	a := b.Audience
	if !a.Private && !a.Chats {
		return 0, 0, nil
	}
	err = db.bounded(ctx, func(c conn) error {
		f, err := c.resolveScope(ctx, a, scope)
		if err != nil || f.empty() {
			return err
		}
		if a.Private {
			q, args := countPeopleSQL(c.d, a, b.AuthorID, f)
			if err := c.row(ctx, q, args...).Scan(&people); err != nil {
				return fmt.Errorf("count people: %w", err)
			}
		}
		if a.Chats {
			q, args := chatsSQL(c.d, f)
			if err := c.row(ctx, "SELECT COUNT(*) FROM ("+q+") r", args...).Scan(&chats); err != nil {
				return fmt.Errorf("count chats: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("count audience of broadcast %d: %w", b.ID, err)
	}
	return people, chats, nil
}

// countPeopleSQL is the query of how many people a's audience reaches
// within f, the author aside, from the reach counters.
func countPeopleSQL(d *Dialect, a storage.Audience, authorID int64, f orgFilter) (string, []any) {
	var args []any
	// within is the FROM and WHERE tail that keeps the rows of a table
	// (alias t, with org_id and role) in scope and of a chosen role.
	within := func(t string) string {
		join, jargs := f.join(d, t+".org_id")
		where, wargs := f.where(t + ".org_id")
		args = append(append(args, jargs...), wargs...)
		roles := a.PeopleRoles()
		where += " AND " + t + ".role IN (" + placeholders(len(roles)) + ")"
		for _, r := range roles {
			args = append(args, r)
		}
		return join + " WHERE TRUE" + where
	}
	counted := "SELECT COALESCE(SUM(r.people), 0) FROM org_reach r" + within("r")
	// The few people with several memberships lead, each counting theirs
	// in scope: joined the other way round, a planner without statistics on
	// memberships would read all of them.
	multi := "SELECT COALESCE(SUM(x.n - 1), 0) FROM (SELECT (SELECT COUNT(*) FROM memberships m" + within("m") +
		" AND m.person_id = p.person_id AND m.status = ?) AS n FROM person_reach p WHERE p.memberships > 1 AND p.accounts > 0) x WHERE x.n > 1"
	args = append(args, storage.StatusActive)
	author := "SELECT COUNT(*) FROM (SELECT 1 FROM person_reach p " +
		"JOIN memberships m ON m.person_id = p.person_id AND m.status = ? AND p.person_id = ? AND p.accounts > 0"
	args = append(args, storage.StatusActive, authorID)
	author += within("m") + " LIMIT 1) y"
	return "SELECT (" + counted + ") - (" + multi + ") - (" + author + ")", args
}

// BuildOutbox inserts the recipients of b within scope as queued
// deliveries, people in chunks of person ids, each chunk its own bounded
// transaction, then the chats; recipients already there (a relay level
// publishing after another) are skipped. A broadcast that is neither
// scheduled nor sending gets no more rows: ErrConflict.
func (db *DB) BuildOutbox(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope, at time.Time) (int, error) {
	return db.buildOutbox(ctx, b, scope, storage.OutboxStream{At: at})
}

// StreamOutbox is BuildOutbox by the owner of the broadcast's build, on
// people nobody added before: no check for conflicts, which would cost as
// much as the rows themselves. Each chunk ends by recording its range on
// the broadcast, which holds only while the owner still builds it, else it
// rolls back: two builders never both commit. Where writers run side by
// side (Dialect.Lanes) a large audience is built in as many lanes of ids
// at once. The first lane moves build_cursor (people up to it are in), the
// others only build_mark (nobody above it is), so a builder taking over
// adds (cursor, mark] skipping who is there, and the rest afresh.
func (db *DB) StreamOutbox(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope, s storage.OutboxStream) (int, error) {
	if s.Owner == "" {
		return 0, fmt.Errorf("stream outbox of broadcast %d: no owner", b.ID)
	}
	return db.buildOutbox(ctx, b, scope, s)
}

// buildOutbox builds for an owner (s.Owner) or anyone.
func (db *DB) buildOutbox(ctx context.Context, b storage.Broadcast, scope storage.OutboxScope, build storage.OutboxStream) (int, error) {
	r := &outboxRun{db: db, b: b, build: build}
	err := r.run(ctx, scope)
	if err != nil {
		return r.created, fmt.Errorf("build outbox of broadcast %d: %w", b.ID, err)
	}
	db.logger.InfoContext(ctx, "outbox built", "broadcast", b.ID, "orgs", len(scope.Orgs), "subtree", scope.Subtree,
		"chunks", r.chunks, "created", r.created)
	return r.created, nil
}

// outboxRun is one build: whom it reaches, and what it did so far.
type outboxRun struct {
	db    *DB
	b     storage.Broadcast
	build storage.OutboxStream
	f     orgFilter
	top   int64 // the highest person id with a membership

	mu      sync.Mutex
	created int
	chunks  int
	stopped error // what Progress said, once it said stop
}

func (r *outboxRun) run(ctx context.Context, scope storage.OutboxScope) error {
	var cursor, mark int64
	err := r.db.bounded(ctx, func(c conn) error {
		var err error
		if cursor, mark, err = c.buildable(ctx, r.b.ID, r.build.Owner); err != nil {
			return err
		}
		if r.f, err = c.resolveScope(ctx, r.b.Audience, scope); err != nil {
			return err
		}
		return c.row(ctx, "SELECT COALESCE(MAX(person_id), 0) FROM memberships").Scan(&r.top)
	})
	if err != nil || r.f.empty() {
		return err
	}
	if r.b.Audience.Private {
		if err := r.people(ctx, cursor, mark); err != nil {
			return err
		}
	}
	if r.b.Audience.Chats {
		return r.chunk(ctx, func(c conn) (int, error) {
			n, err := c.insertChats(ctx, r.b, r.f, r.build.At)
			if err != nil {
				return 0, err
			}
			return n, c.recordChunk(ctx, r.b.ID, r.build.Owner, false, 0)
		})
	}
	return nil
}

// people adds the people with an id above cursor: without an owner, or
// up to mark, skipping who is there; the rest in lanes when there are many.
func (r *outboxRun) people(ctx context.Context, cursor, mark int64) error {
	if r.build.Owner == "" {
		return r.lane(ctx, 0, r.top, true, false)
	}
	if mark > cursor {
		if err := r.lane(ctx, cursor, min(mark, r.top), true, true); err != nil {
			return err
		}
		cursor = mark
	}
	if cursor >= r.top {
		return nil
	}
	// The first chunk goes alone, so that the first recipients are in at once.
	if first := min(cursor+firstChunkPeople, r.top); cursor == 0 {
		if err := r.lane(ctx, cursor, first, false, true); err != nil {
			return err
		}
		cursor = first
	}
	lanes := int64(max(r.db.d.Lanes, 1))
	if r.top-cursor < lanes*laneMin {
		lanes = 1
	}
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errs := make([]error, lanes)
	var wg sync.WaitGroup
	width := (r.top - cursor + lanes - 1) / lanes
	for i := range lanes {
		lo, hi := cursor+i*width, min(cursor+(i+1)*width, r.top)
		wg.Go(func() {
			if errs[i] = r.lane(lctx, lo, hi, false, i == 0); errs[i] != nil {
				cancel(errs[i])
			}
		})
	}
	wg.Wait()
	if err := context.Cause(lctx); err != nil && ctx.Err() == nil {
		return err // the lane that failed first, not those it stopped
	}
	return errors.Join(errs...)
}

// lane adds the people with an id in (lo, hi], a chunk at a time: skipping
// who is there if merge; first moves the build cursor.
func (r *outboxRun) lane(ctx context.Context, lo, hi int64, merge, first bool) error {
	for step := int64(firstChunkPeople); lo < hi; {
		to := min(lo+step, hi)
		n := 0
		err := r.chunk(ctx, func(c conn) (int, error) {
			var err error
			if n, err = c.insertPeople(ctx, r.b, r.f, r.build.At, lo, to, merge); err != nil {
				return 0, err
			}
			return n, c.recordChunk(ctx, r.b.ID, r.build.Owner, first, to)
		})
		if err != nil {
			return err
		}
		lo, step = to, nextStep(step, n)
	}
	return nil
}

// chunk runs fn in its own bounded transaction and reports it to Progress.
func (r *outboxRun) chunk(ctx context.Context, fn func(c conn) (int, error)) error {
	var n int
	err := r.db.bounded(ctx, func(c conn) error {
		if r.build.Owner == "" {
			if _, _, err := c.buildable(ctx, r.b.ID, ""); err != nil {
				return err
			}
		}
		var err error
		n, err = fn(c)
		return err
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		return err
	}
	r.created += n
	r.chunks++
	if r.stopped == nil && r.build.Progress != nil {
		r.stopped = r.build.Progress(r.created)
	}
	return r.stopped
}

// nextStep sizes the next chunk's id range from the rows the last one
// (of step ids) created, towards chunkRows: at most sixteen times larger.
func nextStep(step int64, rows int) int64 {
	if rows <= 0 {
		return step * 16
	}
	return max(min(step*chunkRows/int64(rows), step*16), 1)
}

// buildable checks that b may get rows. An owner must build it, and learns
// its build's cursor and mark; without one it must be scheduled or sending.
func (c conn) buildable(ctx context.Context, id int64, owner string) (cursor, mark int64, err error) {
	if owner == "" {
		cur, err := c.broadcast(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		if cur.Status != storage.BroadcastScheduled && cur.Status != storage.BroadcastSending {
			return 0, 0, fmt.Errorf("broadcast %d is %s: %w", id, cur.Status, storage.ErrConflict)
		}
		return 0, 0, nil
	}
	var cn, mn sql.NullInt64
	err = c.row(ctx, `SELECT build_cursor, build_mark FROM broadcasts WHERE id = ? AND status = ? AND build_owner = ? AND build_until IS NOT NULL`,
		id, storage.BroadcastSending, owner).Scan(&cn, &mn)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, c.notBuiltBy(ctx, id, owner)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read build of broadcast %d: %w", id, err)
	}
	return cn.Int64, mn.Int64, nil
}

func (c conn) notBuiltBy(ctx context.Context, id int64, owner string) error {
	if _, err := c.broadcast(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("broadcast %d is not built by %s: %w", id, owner, storage.ErrConflict)
}

// recordChunk ends an owner's chunk that added people up to hi (0: none):
// it moves the mark, the cursor too on the first lane, and holds only while
// owner still builds the broadcast, else the chunk rolls back. The row lock
// it takes makes a builder taking over wait for the chunk.
func (c conn) recordChunk(ctx context.Context, id int64, owner string, first bool, hi int64) error {
	if owner == "" {
		return nil
	}
	err := c.execOne(ctx, `UPDATE broadcasts SET build_cursor = CASE WHEN ? THEN ? ELSE build_cursor END,
			build_mark = CASE WHEN build_mark IS NULL OR build_mark < ? THEN ? ELSE build_mark END
		WHERE id = ? AND status = ? AND build_owner = ? AND build_until IS NOT NULL`,
		first, hi, hi, hi, id, storage.BroadcastSending, owner)
	if errors.Is(err, storage.ErrNotFound) {
		return c.notBuiltBy(ctx, id, owner)
	}
	if err != nil {
		return fmt.Errorf("record chunk: %w", err)
	}
	return nil
}

const deliveryInsert = "INSERT INTO deliveries (broadcast_id, org_id, person_id, platform, chat_id, priority, status, attempts, next_at, updated_at) "

// insertPeople inserts the deliveries of the people with an id in
// (after, hi]; merge skips those already there.
func (c conn) insertPeople(ctx context.Context, b storage.Broadcast, f orgFilter, at time.Time, after, hi int64, merge bool) (int, error) {
	q, args := peopleSQL(c.d, b.Audience, b.AuthorID, f, after, hi, true)
	tt := c.d.TimeType
	stmt := deliveryInsert + fmt.Sprintf(`SELECT CAST(? AS BIGINT), r.k / 2, r.person_id, r.platform, r.external_id,
		CASE WHEN r.k %% 2 = 0 THEN %d ELSE %d END, ?, 0, CAST(? AS %s), CAST(? AS %s)
		FROM (%s) r WHERE true`, storage.PriorityActivist, storage.PriorityMember, tt, tt, q)
	if merge {
		stmt += " ON CONFLICT (broadcast_id, platform, chat_id) DO NOTHING"
	}
	n, err := c.insertRows(ctx, stmt, append([]any{b.ID, storage.DeliveryQueued, c.d.t(at), c.d.t(at)}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("insert people %d–%d: %w", after+1, hi, err)
	}
	return n, nil
}

// insertChats inserts the deliveries of the chats in scope, skipping those
// already there (a resumed build inserts them again).
func (c conn) insertChats(ctx context.Context, b storage.Broadcast, f orgFilter, at time.Time) (int, error) {
	q, args := chatsSQL(c.d, f)
	tt := c.d.TimeType
	stmt := deliveryInsert + fmt.Sprintf(`SELECT CAST(? AS BIGINT), r.org_id, CAST(NULL AS BIGINT), r.platform, r.chat_id, %d, ?, 0,
		CAST(? AS %s), CAST(? AS %s) FROM (%s) r WHERE true
		ON CONFLICT (broadcast_id, platform, chat_id) DO NOTHING`, storage.PriorityChat, tt, tt, q)
	n, err := c.insertRows(ctx, stmt, append([]any{b.ID, storage.DeliveryQueued, c.d.t(at), c.d.t(at)}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("insert chats: %w", err)
	}
	return n, nil
}

func (c conn) insertRows(ctx context.Context, stmt string, args ...any) (int, error) {
	res, err := c.exec(ctx, stmt, args...)
	if err != nil {
		return 0, c.d.classify(err, storage.ErrConflict)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// StartBuild makes owner the builder of a scheduled broadcast, which starts
// sending, or of a sending one whose builder's lease ran out by now.
func (db *DB) StartBuild(ctx context.Context, id int64, owner string, now, leaseUntil time.Time) (storage.Broadcast, error) {
	if owner == "" || !leaseUntil.After(now) {
		return storage.Broadcast{}, fmt.Errorf("start build of broadcast %d: no owner or lease (%q until %v)", id, owner, leaseUntil)
	}
	c := db.conn()
	b, err := c.scanBroadcast(ctx, `UPDATE broadcasts SET status = ?, started_at = COALESCE(started_at, ?), build_owner = ?, build_until = ?
		WHERE id = ? AND (status = ? OR (status = ? AND build_until <= ?)) RETURNING `+broadcastCols,
		storage.BroadcastSending, c.d.t(now), owner, c.d.t(leaseUntil), id, storage.BroadcastScheduled, storage.BroadcastSending, c.d.t(now))
	if errors.Is(err, sql.ErrNoRows) {
		cur, err := c.broadcast(ctx, id)
		if err != nil {
			return storage.Broadcast{}, fmt.Errorf("start build: %w", err)
		}
		return storage.Broadcast{}, fmt.Errorf("start build of broadcast %d (%s, building %t): %w", id, cur.Status, cur.Building, storage.ErrConflict)
	}
	if err != nil {
		return storage.Broadcast{}, fmt.Errorf("start build of broadcast %d: %w", id, err)
	}
	db.logger.InfoContext(ctx, "outbox build started", "broadcast", id, "owner", owner)
	return b, nil
}

// ownBuild runs an UPDATE of the broadcast that owner builds; none is
// ErrConflict.
func (c conn) ownBuild(ctx context.Context, id int64, owner, set string, args ...any) error {
	args = append(args, id, storage.BroadcastSending, owner)
	err := c.execOne(ctx, "UPDATE broadcasts SET "+set+" WHERE id = ? AND status = ? AND build_owner = ? AND build_until IS NOT NULL", args...)
	if errors.Is(err, storage.ErrNotFound) {
		if _, err := c.broadcast(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("broadcast %d is not built by %s: %w", id, owner, storage.ErrConflict)
	}
	return err
}

// RenewBuild extends owner's lease on a broadcast's build.
func (db *DB) RenewBuild(ctx context.Context, id int64, owner string, leaseUntil time.Time) error {
	c := db.conn()
	if err := c.ownBuild(ctx, id, owner, "build_until = ?", c.d.t(leaseUntil)); err != nil {
		return fmt.Errorf("renew build of broadcast %d: %w", id, err)
	}
	return nil
}

// EndBuild records that owner built the whole outbox.
func (db *DB) EndBuild(ctx context.Context, id int64, owner string) error {
	if err := db.conn().ownBuild(ctx, id, owner, "build_owner = '', build_until = NULL, build_cursor = NULL, build_mark = NULL"); err != nil {
		return fmt.Errorf("end build of broadcast %d: %w", id, err)
	}
	db.logger.InfoContext(ctx, "outbox build ended", "broadcast", id)
	return nil
}

// FailBuild marks the broadcast owner builds as failed and cancels its
// queued deliveries.
func (db *DB) FailBuild(ctx context.Context, id int64, owner string, at time.Time) (int, error) {
	var n int
	err := db.inTx(ctx, func(c conn) error {
		err := c.ownBuild(ctx, id, owner, "status = ?, finished_at = COALESCE(finished_at, ?), build_owner = '', build_until = NULL",
			storage.BroadcastFailed, c.d.t(at))
		if err != nil {
			return err
		}
		n, err = c.cancelDeliveries(ctx, id, at)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("fail build of broadcast %d: %w", id, err)
	}
	db.logger.WarnContext(ctx, "broadcast failed", "broadcast", id, "deliveries_cancelled", n)
	return n, nil
}
