package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// TestBroadcastFailureReachesTheAuthor makes the first chunk of an outbox
// wait longer than the statement timeout (a row of the same recipient sits
// in a transaction the test keeps open): the broadcast fails, and its author
// is told so, in the message and on the spent settings screen; nobody gets
// the news.
func TestBroadcastFailureReachesTheAuthor(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			r.setenv("UNIONHUB_DB_STATEMENT_TIMEOUT", "300ms")
			r.importExample()
			r.serve()
			c := newCrew(t, r, plat)
			settings := compose(t, c.union, "Профсоюз добился индексации зарплаты на 7%!")

			raw, err := sql.Open("pgx", r.getenv("DATABASE_URL"))
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			tx, err := raw.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			// The first broadcast of a fresh database is № 1.
			_, err = tx.ExecContext(t.Context(), `INSERT INTO deliveries (broadcast_id, org_id, platform, chat_id, priority, status, next_at, updated_at)
				VALUES (1, 1, $1, $2, 20, 'queued', now() + interval '1 day', now())`, string(plat), c.member.id())
			if err != nil {
				t.Fatal(err)
			}

			c.union.press(settings, "Отправить сейчас")
			c.union.dm().expect("❌ Рассылка № 1 не удалась", "не получилось составить список")
			c.union.dm().expect("Не отправлено: рассылка № 1 не удалась")
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			b, err := r.store().Broadcast(t.Context(), 1)
			if err != nil || b.Status != storage.BroadcastFailed || b.Building {
				t.Fatalf("broadcast %+v (%v): want failed, no longer building", b, err)
			}
			for _, p := range []person{c.member, c.activist, c.edu} {
				p.dm().quiet(300 * time.Millisecond)
				for _, m := range p.dm().list() {
					if strings.Contains(m.text, "индексации зарплаты") {
						t.Fatalf("%s got the news of a failed broadcast", p.id())
					}
				}
			}
		})
	}
}

// buildStarts lists when a replica started (or took over) an outbox build,
// from its logs.
func buildStarts(t *testing.T, rep *replica) []time.Time {
	t.Helper()
	var out []time.Time
	for line := range strings.Lines(rep.logs.String()) {
		if !strings.Contains(line, `"msg":"outbox build started"`) {
			continue
		}
		var l struct{ Time time.Time }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, l.Time)
	}
	return out
}

// TestOutboxBuildTakenOverAfterACrash runs two replicas, kills (SIGKILL)
// the one building a 30,000-member outbox as soon as the first member has
// the news, and checks that the other took the build over only then, once
// the lease ran out, never while the first lived: everyone is reached,
// nobody twice beyond what a crash may send again.
func TestOutboxBuildTakenOverAfterACrash(t *testing.T) {
	t.Parallel()
	const members = 30000
	bb := newBigBroadcast(t, storage.Telegram, storagetest.BenchTree{Branches: 10, Primaries: 1000, Members: members})
	env := maps.Clone(bb.env)
	env["UNIONHUB_LOG_LEVEL"] = "info"
	reps := []*replica{startReplica(t, env), startReplica(t, env)}
	bb.send(t)
	var builder, other *replica
	for deadline := time.Now().Add(60 * time.Second); builder == nil || bb.sent.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no build started, or nothing sent (%d) in a minute", bb.sent.Load())
		}
		for i, rep := range reps {
			if len(buildStarts(t, rep)) > 0 {
				builder, other = rep, reps[1-i]
			}
		}
	}
	if err := builder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-builder.done; err == nil {
		t.Fatal("the killed replica exited cleanly")
	}
	killed, atKill := time.Now(), bb.sent.Load()
	builtBefore := strings.Contains(builder.logs.String(), `"msg":"outbox built"`)

	bb.waitAll(t, 3*time.Minute)
	twice := 0
	for id := 1; id <= members; id++ {
		twice += bb.count(id) - 1
	}
	if twice > duplicateBound {
		t.Fatalf("%d members got the news twice, more than the bound %d", twice, duplicateBound)
	}
	starts := buildStarts(t, other)
	for _, at := range starts {
		if at.Before(killed) {
			t.Fatalf("the second replica started a build at %v, while the first (killed at %v) held it", at, killed)
		}
	}
	switch {
	case !builtBefore && len(starts) != 1:
		t.Fatalf("the build was cut short, and the second replica started %d builds, want 1", len(starts))
	case builtBefore && len(starts) != 0:
		t.Fatalf("the build was over before the kill, and the second replica started %d builds", len(starts))
	}
	t.Logf("killed after %d sends, the build %s; %d sent twice (bound %d)", atKill,
		map[bool]string{true: "done before", false: fmt.Sprintf("taken over %v later", starts)}[builtBefore], twice, duplicateBound)
}
