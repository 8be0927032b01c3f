package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// link stores a sign-in link for personID valid for ten minutes from T0.
func (x *suite) link(hash string, personID int64, grant bool) storage.SignInLink {
	x.t.Helper()
	l := storage.SignInLink{TokenHash: hash, PersonID: personID, GrantAdmin: grant, CreatedAt: T0, ExpiresAt: T0.Add(10 * time.Minute)}
	x.must(x.s.CreateSignInLink(x.ctx, l))
	return l
}

// session is a session of personID opened at at.
func session(hash string, personID int64, at time.Time) storage.ConsoleSession {
	return storage.ConsoleSession{IDHash: hash, PersonID: personID, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(7 * 24 * time.Hour)}
}

func signIn(ip string) storage.AuditEntry {
	return storage.AuditEntry{At: T0, Action: "signin", IP: ip}
}

func testSignInLinks(x *suite) {
	o := x.tree()
	p, _ := x.register("9101", o["P1"].ID, storage.RoleChair, "")
	want := x.link("hash-1", p.ID, false)
	got, err := x.s.SignInLink(x.ctx, "hash-1")
	x.must(err)
	if got.TokenHash != want.TokenHash || got.PersonID != p.ID || got.GrantAdmin || !got.CreatedAt.Equal(T0) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || got.UsedAt != nil {
		x.t.Errorf("link %+v, want %+v", got, want)
	}
	x.link("hash-grant", 0, true)
	if g, err := x.s.SignInLink(x.ctx, "hash-grant"); err != nil || g.PersonID != 0 || !g.GrantAdmin {
		x.t.Errorf("granting link %+v, %v", g, err)
	}
	x.wantErr(x.s.CreateSignInLink(x.ctx, want), storage.ErrConflict)
	if err := x.s.CreateSignInLink(x.ctx, storage.SignInLink{TokenHash: "nobody", CreatedAt: T0, ExpiresAt: T0}); err == nil {
		x.t.Error("a link for nobody that grants nothing was stored")
	}
	_, err = x.s.SignInLink(x.ctx, "no-such-hash")
	x.wantErr(err, storage.ErrNotFound)

	// A day after they expired, links go when the next one is made.
	later := storage.SignInLink{TokenHash: "hash-later", PersonID: p.ID, CreatedAt: T0.Add(25 * time.Hour), ExpiresAt: T0.Add(26 * time.Hour)}
	x.must(x.s.CreateSignInLink(x.ctx, later))
	_, err = x.s.SignInLink(x.ctx, "hash-1")
	x.wantErr(err, storage.ErrNotFound)
	if _, err := x.s.SignInLink(x.ctx, "hash-later"); err != nil {
		x.t.Error(err)
	}
}

func testStartSession(x *suite) {
	o := x.tree()
	p, _ := x.register("9201", o["P1"].ID, storage.RoleChair, "")
	q, _ := x.register("9202", o["P2"].ID, storage.RoleChair, "")
	x.link("once", p.ID, false)
	at := T0.Add(time.Minute)
	s, err := x.s.StartSession(x.ctx, "once", session("sess-1", p.ID, at), signIn("192.0.2.7"))
	x.must(err)
	if s.IDHash != "sess-1" || s.PersonID != p.ID || s.GrantAdmin || s.RevokedAt != nil {
		x.t.Errorf("session %+v", s)
	}
	l, err := x.s.SignInLink(x.ctx, "once")
	x.must(err)
	if l.UsedAt == nil || !l.UsedAt.Equal(at) {
		x.t.Errorf("spent link %+v, want used at %v", l, at)
	}
	_, err = x.s.StartSession(x.ctx, "once", session("sess-2", p.ID, at), signIn(""))
	x.wantErr(err, storage.ErrLinkUsed)

	x.link("late", p.ID, false)
	_, err = x.s.StartSession(x.ctx, "late", session("sess-3", p.ID, T0.Add(10*time.Minute)), signIn(""))
	x.wantErr(err, storage.ErrLinkExpired)
	x.link("theirs", p.ID, false)
	_, err = x.s.StartSession(x.ctx, "theirs", session("sess-4", q.ID, at), signIn(""))
	x.wantErr(err, storage.ErrConflict)
	_, err = x.s.StartSession(x.ctx, "unknown", session("sess-5", p.ID, at), signIn(""))
	x.wantErr(err, storage.ErrNotFound)
	for _, h := range []string{"sess-2", "sess-3", "sess-4", "sess-5"} {
		_, err := x.s.SessionState(x.ctx, h)
		x.wantErr(err, storage.ErrNotFound)
	}
	// A refused use leaves the link as it was.
	if l, err := x.s.SignInLink(x.ctx, "theirs"); err != nil || l.UsedAt != nil {
		x.t.Errorf("refused link %+v, %v", l, err)
	}

	// A granting link signs in whoever it is used for and passes the promise on.
	x.link("grant", 0, true)
	g, err := x.s.StartSession(x.ctx, "grant", session("sess-grant", q.ID, at), signIn(""))
	x.must(err)
	if !g.GrantAdmin {
		x.t.Errorf("session from a granting link %+v", g)
	}

	entries, err := x.s.Audit(x.ctx, storage.AuditQuery{Limit: 10})
	x.must(err)
	if len(entries) != 2 || entries[1].PersonID != p.ID || entries[1].Action != "signin" || entries[1].IP != "192.0.2.7" ||
		!entries[1].At.Equal(T0) || entries[0].PersonID != q.ID {
		x.t.Errorf("audit after two sign-ins and four refusals: %+v", entries)
	}
}

func testStartSessionRace(x *suite) {
	o := x.tree()
	p, _ := x.register("9301", o["P1"].ID, storage.RoleChair, "")
	x.link("contested", p.ID, false)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = x.s.StartSession(x.ctx, "contested", session(fmt.Sprint("race-", i), p.ID, T0.Add(time.Minute)), signIn(""))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrLinkUsed):
			x.t.Errorf("a losing use: %v, want ErrLinkUsed", err)
		}
	}
	if won != 1 {
		x.t.Fatalf("%d uses of one link won, want 1", won)
	}
}

func testSessionState(x *suite) {
	o := x.tree()
	p, pending := x.register("9401", o["P1"].ID, storage.RoleMember, "")
	x.invite("chairs", o["B1"].ID, storage.RoleChair, 0)
	chair, err := x.s.JoinByInvite(x.ctx, p.ID, "chairs", T0)
	x.must(err)
	x.invite("infos", o["B2"].ID, storage.RoleInfoworker, 0)
	info, err := x.s.JoinByInvite(x.ctx, p.ID, "infos", T0)
	x.must(err)
	x.link("l", p.ID, false)
	_, err = x.s.StartSession(x.ctx, "l", session("s", p.ID, T0), signIn(""))
	x.must(err)

	st, err := x.s.SessionState(x.ctx, "s")
	x.must(err)
	if st.Session.IDHash != "s" || st.Session.PersonID != p.ID || !st.Session.ExpiresAt.Equal(T0.Add(7*24*time.Hour)) ||
		st.Person.ID != p.ID || st.Person.FullName != p.FullName || st.Person.ErasedAt != nil {
		x.t.Errorf("state %+v", st)
	}
	if len(st.Memberships) != 2 || st.Memberships[0].ID != chair.ID || st.Memberships[1].ID != info.ID ||
		st.Memberships[0].Org.Path != o["B1"].Path || st.Memberships[1].Role != storage.RoleInfoworker {
		x.t.Errorf("memberships %+v; want the chair's and the information worker's, not the pending %d", st.Memberships, pending.ID)
	}

	// A person holding nothing in force still reads.
	q, _ := x.register("9402", o["P2"].ID, storage.RoleMember, "")
	x.link("l2", q.ID, false)
	_, err = x.s.StartSession(x.ctx, "l2", session("s2", q.ID, T0), signIn(""))
	x.must(err)
	if st, err := x.s.SessionState(x.ctx, "s2"); err != nil || st.Person.ID != q.ID || len(st.Memberships) != 0 {
		x.t.Errorf("state of a pending applicant %+v, %v", st, err)
	}

	x.must(x.s.TouchSession(x.ctx, "s", T0.Add(time.Hour)))
	x.must(x.s.TouchSession(x.ctx, "s", T0.Add(time.Minute))) // never backwards
	if st, err := x.s.SessionState(x.ctx, "s"); err != nil || !st.Session.LastSeenAt.Equal(T0.Add(time.Hour)) {
		x.t.Errorf("touched session %+v, %v", st.Session, err)
	}
	_, err = x.s.SessionState(x.ctx, "none")
	x.wantErr(err, storage.ErrNotFound)
}

func testEndSession(x *suite) {
	o := x.tree()
	p, _ := x.register("9501", o["P1"].ID, storage.RoleChair, "")
	x.link("l", p.ID, false)
	_, err := x.s.StartSession(x.ctx, "l", session("s", p.ID, T0), signIn(""))
	x.must(err)
	out := storage.AuditEntry{At: T0.Add(time.Hour), Action: "signout", IP: "2001:db8::1"}
	x.must(x.s.EndSession(x.ctx, "s", "signed_out", T0.Add(time.Hour), out))
	x.must(x.s.EndSession(x.ctx, "s", "idle", T0.Add(2*time.Hour), storage.AuditEntry{At: T0, Action: "twice"}))
	st, err := x.s.SessionState(x.ctx, "s")
	x.must(err)
	if st.Session.RevokedAt == nil || !st.Session.RevokedAt.Equal(T0.Add(time.Hour)) || st.Session.EndReason != "signed_out" {
		x.t.Errorf("ended session %+v, want the first end kept", st.Session)
	}
	entries, err := x.s.Audit(x.ctx, storage.AuditQuery{PersonID: p.ID, Limit: 10})
	x.must(err)
	if len(entries) != 2 || entries[0].Action != "signout" || entries[0].IP != "2001:db8::1" || entries[0].PersonID != p.ID {
		x.t.Errorf("audit %+v, want the sign-out recorded once", entries)
	}
	// An end without an action records nothing.
	x.link("l2", p.ID, false)
	_, err = x.s.StartSession(x.ctx, "l2", session("s2", p.ID, T0), signIn(""))
	x.must(err)
	x.must(x.s.EndSession(x.ctx, "s2", "role_lost", T0.Add(time.Hour), storage.AuditEntry{}))
	if entries, err := x.s.Audit(x.ctx, storage.AuditQuery{PersonID: p.ID, Limit: 10}); err != nil || len(entries) != 3 {
		x.t.Errorf("audit after a silent end: %d entries, %v; want 3", len(entries), err)
	}
	x.wantErr(x.s.EndSession(x.ctx, "none", "signed_out", T0, storage.AuditEntry{}), storage.ErrNotFound)
}

func testConsoleStaff(x *suite) {
	o := x.tree()
	var wg sync.WaitGroup
	people := make([]storage.Person, 6)
	for i := range people {
		wg.Go(func() {
			var err error
			people[i], err = x.s.ConsoleStaff(x.ctx, "Union staff", T0)
			if err != nil {
				x.t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, p := range people {
		if p.ID == 0 || p.ID != people[0].ID || p.FullName != "Union staff" {
			x.t.Fatalf("staff people %+v, want one", people)
		}
	}
	staff := people[0]
	if accs, err := x.s.Accounts(x.ctx, staff.ID); err != nil || len(accs) != 0 {
		x.t.Errorf("the staff person's accounts: %+v, %v", accs, err)
	}

	// Granting makes them admin at the root and settles the promise.
	x.link("g", 0, true)
	_, err := x.s.StartSession(x.ctx, "g", session("s", staff.ID, T0), signIn(""))
	x.must(err)
	grant := storage.AuditEntry{At: T0, Action: "admin_granted", IP: "192.0.2.1"}
	m, err := x.s.GrantSessionAdmin(x.ctx, "s", o["U"].ID, T0, grant)
	x.must(err)
	if m.PersonID != staff.ID || m.Org.ID != o["U"].ID || m.Role != storage.RoleAdmin || m.Status != storage.StatusActive {
		x.t.Errorf("granted %+v", m)
	}
	// A second request of the session finds the role: nothing is granted
	// or recorded again.
	again, err := x.s.GrantSessionAdmin(x.ctx, "s", o["U"].ID, T0, grant)
	x.must(err)
	if again.ID != m.ID {
		x.t.Errorf("a second grant made membership %d besides %d", again.ID, m.ID)
	}
	st, err := x.s.SessionState(x.ctx, "s")
	x.must(err)
	if st.Session.GrantAdmin || len(st.Memberships) != 1 || st.Memberships[0].Role != storage.RoleAdmin {
		x.t.Errorf("state after the grant %+v", st)
	}
	entries, err := x.s.Audit(x.ctx, storage.AuditQuery{PersonID: staff.ID, Limit: 10})
	x.must(err)
	var grants []storage.AuditEntry
	for _, e := range entries {
		if e.Action == grant.Action {
			grants = append(grants, e)
		}
	}
	if len(grants) != 1 || grants[0].OrgID != o["U"].ID || grants[0].Record != fmt.Sprintf("membership:%d", m.ID) {
		x.t.Errorf("grants recorded %+v, want one on the root's membership %d", grants, m.ID)
	}
	_, err = x.s.GrantSessionAdmin(x.ctx, "none", o["U"].ID, T0, grant)
	x.wantErr(err, storage.ErrNotFound)
}

func testAudit(x *suite) {
	o := x.tree()
	p, _ := x.register("9601", o["P1"].ID, storage.RoleChair, "")
	q, _ := x.register("9602", o["P2"].ID, storage.RoleChair, "")
	add := func(by int64, action string, org storage.Org, record string) {
		x.must(x.s.AddAudit(x.ctx, storage.AuditEntry{At: T0, PersonID: by, Action: action, OrgID: org.ID, Record: record, IP: "192.0.2.1"}))
	}
	add(p.ID, "approve", o["P1"], "membership:1")
	add(q.ID, "approve", o["P2"], "membership:2")
	add(p.ID, "answer", o["B11"], "ticket:3")
	add(0, "signin_link", storage.Org{}, "")
	if err := x.s.AddAudit(x.ctx, storage.AuditEntry{At: T0}); err == nil {
		x.t.Error("an entry without an action was recorded")
	}
	actions := func(q storage.AuditQuery) []string {
		x.t.Helper()
		es, err := x.s.Audit(x.ctx, q)
		x.must(err)
		var out []string
		for _, e := range es {
			out = append(out, e.Action+"/"+e.Record)
		}
		return out
	}
	b1 := o["B1"]
	for _, tt := range []struct {
		q    storage.AuditQuery
		want string
	}{
		{storage.AuditQuery{Limit: 10}, "[signin_link/ answer/ticket:3 approve/membership:2 approve/membership:1]"},
		{storage.AuditQuery{Limit: 2}, "[signin_link/ answer/ticket:3]"},
		{storage.AuditQuery{Under: &b1, Limit: 10}, "[answer/ticket:3 approve/membership:1]"},
		{storage.AuditQuery{PersonID: q.ID, Limit: 10}, "[approve/membership:2]"},
		{storage.AuditQuery{Action: "approve", Limit: 10}, "[approve/membership:2 approve/membership:1]"},
		{storage.AuditQuery{Under: &b1, Action: "answer", Limit: 10}, "[answer/ticket:3]"},
	} {
		if got := fmt.Sprint(actions(tt.q)); got != tt.want {
			x.t.Errorf("Audit(%+v) = %s, want %s", tt.q, got, tt.want)
		}
	}
	all, err := x.s.Audit(x.ctx, storage.AuditQuery{Limit: 10})
	x.must(err)
	if got := fmt.Sprint(actions(storage.AuditQuery{Before: all[1].ID, Limit: 10})); got != "[approve/membership:2 approve/membership:1]" {
		x.t.Errorf("the page before entry %d: %s", all[1].ID, got)
	}
	if e := all[0]; e.PersonID != 0 || e.OrgID != 0 || !e.At.Equal(T0) {
		x.t.Errorf("the server's entry %+v", e)
	}
	if e := all[1]; e.PersonID != p.ID || e.OrgID != o["B11"].ID || e.IP != "192.0.2.1" {
		x.t.Errorf("a person's entry %+v", e)
	}
	for _, limit := range []int{0, -1, 1001} {
		if _, err := x.s.Audit(x.ctx, storage.AuditQuery{Limit: limit}); err == nil {
			x.t.Errorf("Audit with limit %d succeeded", limit)
		}
	}
}

func testForgetConsole(x *suite) {
	o := x.tree()
	p, _ := x.register("9701", o["P1"].ID, storage.RoleChair, "")
	q, _ := x.register("9702", o["P2"].ID, storage.RoleChair, "")
	x.link("used", p.ID, false)
	_, err := x.s.StartSession(x.ctx, "used", session("s", p.ID, T0), signIn("192.0.2.9"))
	x.must(err)
	x.link("spare", p.ID, false)
	x.link("other", q.ID, false)
	_, err = x.s.StartSession(x.ctx, "other", session("sq", q.ID, T0), signIn("192.0.2.10"))
	x.must(err)

	x.must(x.s.Forget(x.ctx, p.ID, T0.Add(time.Hour)))
	for _, h := range []string{"used", "spare"} {
		_, err := x.s.SignInLink(x.ctx, h)
		x.wantErr(err, storage.ErrNotFound)
	}
	st, err := x.s.SessionState(x.ctx, "s")
	x.must(err)
	if st.Session.RevokedAt == nil || st.Session.EndReason != "erased" || st.Person.ErasedAt == nil {
		x.t.Errorf("the erased person's session %+v", st)
	}
	es, err := x.s.Audit(x.ctx, storage.AuditQuery{PersonID: p.ID, Limit: 10})
	x.must(err)
	if len(es) != 1 || es[0].Action != "signin" || es[0].IP != "" {
		x.t.Errorf("the erased person's audit %+v, want kept without the address", es)
	}
	// Nobody else's is touched.
	if st, err := x.s.SessionState(x.ctx, "sq"); err != nil || st.Session.RevokedAt != nil {
		x.t.Errorf("another's session %+v, %v", st.Session, err)
	}
	if es, err := x.s.Audit(x.ctx, storage.AuditQuery{PersonID: q.ID, Limit: 10}); err != nil || len(es) != 1 || es[0].IP != "192.0.2.10" {
		x.t.Errorf("another's audit %+v, %v", es, err)
	}
}
