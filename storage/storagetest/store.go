package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// T0 is the suites' base time; it has microseconds, the precision every store keeps.
var T0 = time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC)

// treeFile is a small tree: U > B1 > B11 > P1, U > B2 > P2.
func treeFile() []storage.OrgInput {
	return []storage.OrgInput{
		{Code: "U", Name: "Union", Level: storage.LevelUnion, MemberCount: 5000, Source: "tree.yaml:1"},
		{Code: "B1", Name: "Alpha branch", ParentCode: "U", Level: storage.LevelBranch, MemberCount: 1200, Source: "tree.yaml:2"},
		{Code: "B2", Name: "Beta branch", ParentCode: "U", Level: storage.LevelBranch, MemberCount: 800, TimeZone: "Europe/Moscow",
			BoardCron: "0 9 * * 1", Source: "tree.yaml:3"},
		{Code: "B11", Name: "Sub-branch", ParentCode: "B1", Level: storage.LevelBranch, MemberCount: 300, Source: "tree.yaml:4"},
		{Code: "P1", Name: "School 1", ParentCode: "B11", Level: storage.LevelPrimary, MemberCount: 40, Source: "tree.yaml:5"},
		{Code: "P2", Name: "Hospital 2", ParentCode: "B2", Level: storage.LevelPrimary, MemberCount: 90, Source: "tree.yaml:6"},
	}
}

// suite is one subtest's store and helpers.
type suite struct {
	t   *testing.T
	ctx context.Context
	s   storage.Store
}

func (x *suite) must(err error) {
	x.t.Helper()
	if err != nil {
		x.t.Fatal(err)
	}
}

func (x *suite) wantErr(err, want error) {
	x.t.Helper()
	if !errors.Is(err, want) {
		x.t.Fatalf("error %v, want %v", err, want)
	}
}

// tree imports treeFile and returns the orgs by code.
func (x *suite) tree() map[string]storage.Org {
	x.t.Helper()
	_, err := x.s.ImportOrgs(x.ctx, treeFile(), T0)
	x.must(err)
	return x.orgs()
}

func (x *suite) orgs() map[string]storage.Org {
	x.t.Helper()
	all, err := x.s.Orgs(x.ctx)
	x.must(err)
	m := map[string]storage.Org{}
	for _, o := range all {
		m[o.Code] = o
	}
	return m
}

// register registers a person on Telegram with the account ext.
func (x *suite) register(ext string, orgID int64, role storage.Role, invite string) (storage.Person, storage.Membership) {
	x.t.Helper()
	p, m, err := x.s.Register(x.ctx, registration(ext, orgID, role, invite))
	x.must(err)
	return p, m
}

func registration(ext string, orgID int64, role storage.Role, invite string) storage.Registration {
	return storage.Registration{
		Platform: storage.Telegram, ExternalID: ext,
		FullName: "Person " + ext, Position: "Teacher", WorkEmail: ext + "@work.example", Locale: "ru",
		OrgID: orgID, Role: role, InviteCode: invite, At: T0,
		Consents: []storage.Consent{{OrgID: orgID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "ru", Accepted: true, At: T0}},
	}
}

func (x *suite) invite(code string, orgID int64, role storage.Role, maxUses int) storage.Invite {
	x.t.Helper()
	inv := storage.Invite{Code: code, OrgID: orgID, Role: role, MaxUses: maxUses, CreatedAt: T0}
	x.must(x.s.CreateInvite(x.ctx, inv))
	return inv
}

// RunStore runs the conformance suite; open returns a fresh, migrated store
// for each subtest and closes it when the subtest ends.
func RunStore(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(x *suite)
	}{
		{"ImportCreatesTree", testImportCreatesTree},
		{"ImportRejects", testImportRejects},
		{"ReimportUnchanged", testReimportUnchanged},
		{"ImportMoveAndRename", testImportMoveAndRename},
		{"ImportKeepsAbsentOrgs", testImportKeepsAbsentOrgs},
		{"ImportLargestMemberCount", testImportLargestMemberCount},
		{"ImportConcurrent", testImportConcurrent},
		{"OrgContainsOnPaths", testOrgContains},
		{"ChildOrgsByRussianName", testChildOrgsByName},
		{"SearchOrgs", testSearchOrgs},
		{"OrgPeople", testOrgPeople},
		{"Invites", testInvites},
		{"RegisterPending", testRegisterPending},
		{"RegisterWithInvite", testRegisterWithInvite},
		{"RegisterInviteRace", testRegisterInviteRace},
		{"RegisterSameAccountRace", testRegisterSameAccountRace},
		{"JoinByInvite", testJoinByInvite},
		{"Consents", testConsents},
		{"UpdateProfile", testUpdateProfile},
		{"Forget", testForget},
		{"Accounts", testAccounts},
		{"DecideMembership", testDecideMembership},
		{"DecideMembershipRace", testDecideMembershipRace},
		{"Leaders", testLeaders},
		{"PendingMemberships", testPendingMemberships},
		{"Supporters", testSupporters},
		{"LinkCodes", testLinkCodes},
		{"Chats", testChats},
		{"UnicodeRoundTrip", testUnicode},
		{"TicketRoundTrip", testTicketRoundTrip},
		{"TicketsOf", testTicketsOf},
		{"FindTickets", testFindTickets},
		{"InboxTickets", testInboxTickets},
		{"InboxEvents", testInboxEvents},
		{"AddTicketMessage", testAddTicketMessage},
		{"TakeRace", testTakeRace},
		{"MoveTicket", testMoveTicket},
		{"MoveRace", testMoveRace},
		{"EscalateTicket", testEscalateTicket},
		{"CloseTicket", testCloseTicket},
		{"RateTicket", testRateTicket},
		{"OverdueTickets", testOverdueTickets},
		{"Responders", testResponders},
		{"DeskPosts", testDeskPosts},
		{"TicketPosts", testTicketPosts},
		{"DeskOf", testDeskOf},
		{"ForgetTickets", testForgetTickets},
		{"BuildOutbox", testBuildOutbox},
		{"AudienceCountFollowsChanges", testAudienceCountFollowsChanges},
		{"StreamOutbox", testStreamOutbox},
		{"BuildExclusive", testBuildExclusive},
		{"FailBuild", testFailBuild},
		{"OutboxAfterImport", testOutboxAfterImport},
		{"ClaimOrder", testClaimOrder},
		{"ClaimConcurrently", testClaimConcurrently},
		{"LeaseExpiry", testLeaseExpiry},
		{"RenewDeliveries", testRenewDeliveries},
		{"CompleteDeliveries", testCompleteDeliveries},
		{"FinishBroadcasts", testFinishBroadcasts},
		{"CancelBroadcast", testCancelBroadcast},
		{"BroadcastRoundTrip", testBroadcastRoundTrip},
		{"BroadcastStatus", testBroadcastStatus},
		{"DeliveryCounts", testDeliveryCounts},
		{"RelaySteps", testRelaySteps},
		{"Suggestions", testSuggestions},
		{"ForgetBroadcasts", testForgetBroadcasts},
		{"ActionRoundTrip", testActionRoundTrip},
		{"ActionAnswers", testActionAnswers},
		{"ActionJoins", testActionJoins},
		{"NewsFiles", testNewsFiles},
		{"FileRefs", testFileRefs},
		{"ForgetNewsFiles", testForgetNewsFiles},
		{"ContactBase", testContactBase},
		{"SurveyRunOnce", testSurveyRunOnce},
		{"SurveyRunConcurrent", testSurveyRunConcurrent},
		{"SurveyAnswers", testSurveyAnswers},
		{"SubmitSurvey", testSubmitSurvey},
		{"SurveyReminders", testSurveyReminders},
		{"CloseSurveyRun", testCloseSurveyRun},
		{"BoardChecks", testBoardChecks},
		{"ContactBaseSends", testContactBaseSends},
		{"LinkOpens", testLinkOpens},
		{"ForgetLinkOpens", testForgetLinkOpens},
		{"HubKey", testHubKey},
		{"NewsReach", testNewsReach},
		{"Maturity", testMaturity},
		{"ObservedRecords", testObservedRecords},
		{"BoardSnoozes", testBoardSnoozes},
		{"Targets", testTargets},
		{"JobRuns", testJobRuns},
		{"ForgetMonitoring", testForgetMonitoring},
		{"BoundChats", testBoundChats},
		{"SignInLinks", testSignInLinks},
		{"StartSession", testStartSession},
		{"StartSessionRace", testStartSessionRace},
		{"SessionState", testSessionState},
		{"EndSession", testEndSession},
		{"ConsoleStaff", testConsoleStaff},
		{"Audit", testAudit},
		{"ForgetConsole", testForgetConsole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(&suite{t: t, ctx: t.Context(), s: open(t)})
		})
	}
}

func testImportCreatesTree(x *suite) {
	res, err := x.s.ImportOrgs(x.ctx, treeFile(), T0)
	x.must(err)
	if res != (storage.ImportResult{Created: 6}) {
		x.t.Errorf("result %+v, want 6 created", res)
	}
	o := x.orgs()
	if len(o) != 6 {
		x.t.Fatalf("%d orgs, want 6", len(o))
	}
	paths := map[string][]string{
		"U": {"U"}, "B1": {"U", "B1"}, "B2": {"U", "B2"}, "B11": {"U", "B1", "B11"},
		"P1": {"U", "B1", "B11", "P1"}, "P2": {"U", "B2", "P2"},
	}
	for code, chain := range paths {
		want := "/"
		for _, c := range chain {
			want += fmt.Sprint(o[c].ID) + "/"
		}
		if o[code].Path != want {
			x.t.Errorf("%s: path %q, want %q", code, o[code].Path, want)
		}
	}
	p1 := o["P1"]
	want := storage.Org{ID: p1.ID, Code: "P1", Name: "School 1", ParentID: o["B11"].ID, Level: storage.LevelPrimary,
		MemberCount: 40, TimeZone: storage.DefaultTimeZone, Path: p1.Path, UpdatedAt: T0}
	if !reflect.DeepEqual(p1, want) {
		x.t.Errorf("P1 = %+v, want %+v", p1, want)
	}
	if o["B2"].TimeZone != "Europe/Moscow" || o["B2"].BoardCron != "0 9 * * 1" || o["U"].ParentID != 0 {
		x.t.Errorf("B2 zone %q, board reminder %q, U parent %d", o["B2"].TimeZone, o["B2"].BoardCron, o["U"].ParentID)
	}

	got, err := x.s.Org(x.ctx, p1.ID)
	x.must(err)
	if !reflect.DeepEqual(got, p1) {
		x.t.Errorf("Org(%d) = %+v, want %+v", p1.ID, got, p1)
	}
	got, err = x.s.OrgByCode(x.ctx, "P1")
	x.must(err)
	if !reflect.DeepEqual(got, p1) {
		x.t.Errorf("OrgByCode = %+v, want %+v", got, p1)
	}
	_, err = x.s.Org(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.OrgByCode(x.ctx, "nope")
	x.wantErr(err, storage.ErrNotFound)

	roots, err := x.s.ChildOrgs(x.ctx, 0)
	x.must(err)
	if len(roots) != 1 || roots[0].Code != "U" {
		x.t.Errorf("roots %v, want U", codes(roots))
	}
	kids, err := x.s.ChildOrgs(x.ctx, o["U"].ID)
	x.must(err)
	if c := codes(kids); c != "B1 B2" {
		x.t.Errorf("children of U: %s, want B1 B2 (by name)", c)
	}
	kids, err = x.s.ChildOrgs(x.ctx, p1.ID)
	x.must(err)
	if len(kids) != 0 {
		x.t.Errorf("children of a primary: %s", codes(kids))
	}
}

func codes(orgs []storage.Org) string {
	var c []string
	for _, o := range orgs {
		c = append(c, o.Code)
	}
	return strings.Join(c, " ")
}

func testImportRejects(x *suite) {
	before := x.tree()
	good := storage.OrgInput{Code: "NEW", Name: "New", ParentCode: "U", Level: storage.LevelBranch, Source: "bad.yaml:1"}
	line := func(o storage.OrgInput) storage.OrgInput { o.Source = "bad.yaml:2"; return o }
	branch := func(code, parent string) storage.OrgInput {
		return storage.OrgInput{Code: code, Name: code, ParentCode: parent, Level: storage.LevelBranch}
	}
	tests := []struct {
		name  string
		extra []storage.OrgInput
		want  string
	}{
		{"empty code", []storage.OrgInput{line(branch("", "U"))}, "bad.yaml:2: empty code"},
		{"malformed code", []storage.OrgInput{line(branch("a/b", "U"))}, "bad.yaml:2"},
		{"long code", []storage.OrgInput{line(branch(strings.Repeat("x", 65), "U"))}, "bad.yaml:2"},
		{"empty name", []storage.OrgInput{line(storage.OrgInput{Code: "X", ParentCode: "U", Level: storage.LevelBranch})}, "bad.yaml:2"},
		{"long name", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: strings.Repeat("ж", 301), ParentCode: "U", Level: storage.LevelBranch})}, "bad.yaml:2"},
		{"control character", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "a\nb", ParentCode: "U", Level: storage.LevelBranch})}, "bad.yaml:2"},
		{"unknown level", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: "district"})}, "bad.yaml:2"},
		{"negative members", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, MemberCount: -5})}, "bad.yaml:2"},
		{"bad time zone", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, TimeZone: "Sakhalin"})}, "bad.yaml:2"},
		{"bad board reminder", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "every monday"})},
			"bad.yaml:2: invalid board_reminder"},
		{"daily board reminder", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "0 10 * * *"})},
			"bad.yaml:2: invalid board_reminder \"0 10 * * *\" for \"X\": not weekly"},
		{"duplicate code", []storage.OrgInput{line(branch("NEW", "U"))}, "bad.yaml:2: duplicate code \"NEW\" (also at bad.yaml:1)"},
		{"unknown parent", []storage.OrgInput{line(branch("X", "GHOST"))}, "bad.yaml:2"},
		{"union with parent", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelUnion})}, "bad.yaml:2"},
		{"non-union root", []storage.OrgInput{line(branch("X", ""))}, "bad.yaml:2"},
		{"child of a primary", []storage.OrgInput{line(branch("X", "P1"))}, "bad.yaml:2"},
		{"primary with stored children", []storage.OrgInput{line(storage.OrgInput{Code: "B11", Name: "Sub-branch", ParentCode: "B1", Level: storage.LevelPrimary})}, "bad.yaml:2"},
		{"cycle", []storage.OrgInput{line(branch("B1", "B11"))}, "bad.yaml:2: parent cycle: B1 -> B11 -> B1"},
		{"code in another case", []storage.OrgInput{line(branch("b1", "U"))}, `bad.yaml:2: code "b1" differs only in case from "B1" in the database`},
		{"second union", []storage.OrgInput{line(storage.OrgInput{Code: "U2", Name: "Union 2", Level: storage.LevelUnion})},
			`bad.yaml:2: second union "U2": the tree has one root, the union "U" in the database`},
		{"bidi control in name", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "School \u202e5", ParentCode: "U", Level: storage.LevelBranch})},
			`bad.yaml:2: name of "X" contains the invisible character U+202E`},
		// 10^12 is no INTEGER on PostgreSQL: refused before the driver sees it.
		{"member count beyond 32 bits", []storage.OrgInput{line(storage.OrgInput{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, MemberCount: 1_000_000_000_000})},
			`bad.yaml:2: member count 1000000000000 for "X" is above 2147483647`},
	}
	for _, tt := range tests {
		_, err := x.s.ImportOrgs(x.ctx, append([]storage.OrgInput{good}, tt.extra...), T0.Add(time.Hour))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			x.t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
		if after := x.orgs(); !reflect.DeepEqual(after, before) {
			x.t.Errorf("%s: a rejected import changed the orgs", tt.name)
		}
	}
}

func testReimportUnchanged(x *suite) {
	before := x.tree()
	res, err := x.s.ImportOrgs(x.ctx, treeFile(), T0.Add(24*time.Hour))
	x.must(err)
	if res != (storage.ImportResult{Unchanged: 6}) {
		x.t.Errorf("result %+v, want 6 unchanged", res)
	}
	if after := x.orgs(); !reflect.DeepEqual(after, before) {
		x.t.Errorf("re-import changed orgs:\n%v\n%v", before, after)
	}
	// The board reminder is a field like the others: a change updates the org.
	file := treeFile()
	file[2].BoardCron = ""
	file[4].BoardCron = "30 8 * * 5"
	res, err = x.s.ImportOrgs(x.ctx, file, T0.Add(48*time.Hour))
	x.must(err)
	if res != (storage.ImportResult{Updated: 2, Unchanged: 4}) {
		x.t.Errorf("result %+v, want 2 updated, 4 unchanged", res)
	}
	if o := x.orgs(); o["B2"].BoardCron != "" || o["P1"].BoardCron != "30 8 * * 5" {
		x.t.Errorf("board reminders B2 %q, P1 %q; want the default and 30 8 * * 5", o["B2"].BoardCron, o["P1"].BoardCron)
	}
}

func testImportMoveAndRename(x *suite) {
	before := x.tree()
	later := T0.Add(time.Hour)
	file := treeFile()
	file[3].ParentCode = "B2" // B11 moves from B1 to B2, taking P1 along
	file[2].Name = "Beta branch renamed"
	file = append(file, storage.OrgInput{Code: "P3", Name: "Port 3", ParentCode: "B11", Level: storage.LevelPrimary, Source: "tree.yaml:7"})
	res, err := x.s.ImportOrgs(x.ctx, file, later)
	x.must(err)
	if res != (storage.ImportResult{Created: 1, Updated: 2, Unchanged: 4}) {
		x.t.Errorf("result %+v, want 1 created, 2 updated, 4 unchanged", res)
	}
	o := x.orgs()
	u, b2, b11 := o["U"].ID, o["B2"].ID, o["B11"].ID
	wantPaths := map[string]string{
		"B11": fmt.Sprintf("/%d/%d/%d/", u, b2, b11),
		"P1":  fmt.Sprintf("/%d/%d/%d/%d/", u, b2, b11, o["P1"].ID),
		"P3":  fmt.Sprintf("/%d/%d/%d/%d/", u, b2, b11, o["P3"].ID),
		"B1":  before["B1"].Path,
	}
	for code, want := range wantPaths {
		if o[code].Path != want {
			x.t.Errorf("%s: path %q, want %q", code, o[code].Path, want)
		}
	}
	if o["B11"].ParentID != b2 || !o["B11"].UpdatedAt.Equal(later) {
		x.t.Errorf("B11: parent %d, updated %v", o["B11"].ParentID, o["B11"].UpdatedAt)
	}
	if o["B2"].Name != "Beta branch renamed" || !o["B2"].UpdatedAt.Equal(later) {
		x.t.Errorf("B2: %+v", o["B2"])
	}
	if !o["U"].UpdatedAt.Equal(T0) || !o["P2"].UpdatedAt.Equal(T0) {
		x.t.Errorf("unchanged orgs got a new updated_at")
	}
	if o["B1"].Contains(o["P1"]) || !o["B2"].Contains(o["P1"]) {
		x.t.Errorf("after the move B2, not B1, must contain P1")
	}
}

func testImportKeepsAbsentOrgs(x *suite) {
	before := x.tree()
	res, err := x.s.ImportOrgs(x.ctx, []storage.OrgInput{
		{Code: "P9", Name: "Mine 9", ParentCode: "B1", Level: storage.LevelPrimary, MemberCount: 12, Source: "extra.yaml:1"},
	}, T0.Add(time.Hour))
	x.must(err)
	if res != (storage.ImportResult{Created: 1}) {
		x.t.Errorf("result %+v", res)
	}
	after := x.orgs()
	p9 := after["P9"]
	delete(after, "P9")
	if !reflect.DeepEqual(after, before) {
		x.t.Errorf("orgs absent from the file changed")
	}
	if want := before["B1"].Path + fmt.Sprint(p9.ID) + "/"; p9.Path != want || p9.ParentID != before["B1"].ID {
		x.t.Errorf("P9 path %q parent %d, want %q", p9.Path, p9.ParentID, want)
	}
}

// The largest member count the import accepts fits every database.
func testImportLargestMemberCount(x *suite) {
	x.tree()
	_, err := x.s.ImportOrgs(x.ctx, []storage.OrgInput{
		{Code: "BIG", Name: "Big branch", ParentCode: "U", Level: storage.LevelBranch, MemberCount: storage.MaxMemberCount, Source: "big.yaml:1"},
	}, T0)
	x.must(err)
	if got := x.orgs()["BIG"].MemberCount; got != storage.MaxMemberCount {
		x.t.Errorf("member count %d stored, want %d", got, storage.MaxMemberCount)
	}
}

func testImportConcurrent(x *suite) {
	// A file big enough that the imports overlap in time.
	file := treeFile()
	for i := range 60 {
		file = append(file, storage.OrgInput{Code: fmt.Sprintf("X%d", i), Name: fmt.Sprintf("Primary %d", i),
			ParentCode: "B2", Level: storage.LevelPrimary, Source: fmt.Sprintf("tree.yaml:%d", 7+i)})
	}
	const n = 6
	results := make([]storage.ImportResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = x.s.ImportOrgs(x.ctx, file, T0) })
	}
	wg.Wait()
	created := 0
	for i := range n {
		x.must(errs[i])
		created += results[i].Created
	}
	if created != len(file) {
		x.t.Errorf("%d orgs created by %d concurrent imports of one file, want %d", created, n, len(file))
	}
	if o := x.orgs(); len(o) != len(file) || !o["U"].Contains(o["X59"]) {
		x.t.Errorf("after concurrent imports: %d orgs", len(o))
	}
}

func testOrgContains(x *suite) {
	o := x.tree()
	tests := []struct {
		a, b string
		want bool
	}{
		{"U", "P1", true}, {"B1", "P1", true}, {"B11", "P1", true}, {"P1", "P1", true},
		{"B2", "P1", false}, {"P1", "B11", false}, {"P2", "P1", false}, {"B1", "B2", false}, {"U", "P2", true},
	}
	for _, tt := range tests {
		if got := o[tt.a].Contains(o[tt.b]); got != tt.want {
			x.t.Errorf("%s.Contains(%s) = %v, want %v (paths %q, %q)", tt.a, tt.b, got, tt.want, o[tt.a].Path, o[tt.b].Path)
		}
	}
}

func testChildOrgsByName(x *suite) {
	file := []storage.OrgInput{{Code: "U", Name: "Союз", Level: storage.LevelUnion, Source: "u.yaml:1"}}
	for i, name := range []string{"банк", "Вокзал", "Аптека", "авиа"} {
		file = append(file, storage.OrgInput{Code: fmt.Sprint("B", i), Name: name, ParentCode: "U",
			Level: storage.LevelBranch, Source: fmt.Sprintf("u.yaml:%d", i+2)})
	}
	_, err := x.s.ImportOrgs(x.ctx, file, T0)
	x.must(err)
	u, err := x.s.OrgByCode(x.ctx, "U")
	x.must(err)
	kids, err := x.s.ChildOrgs(x.ctx, u.ID)
	x.must(err)
	var names []string
	for _, k := range kids {
		names = append(names, k.Name)
	}
	if got, want := strings.Join(names, ", "), "авиа, Аптека, банк, Вокзал"; got != want {
		x.t.Errorf("children by name: %s, want %s", got, want)
	}
}

func testInvites(x *suite) {
	o := x.tree()
	exp := T0.Add(48 * time.Hour)
	first := storage.Invite{Code: "inv-1", OrgID: o["P1"].ID, Role: storage.RoleMember, MaxUses: 3, ExpiresAt: &exp, CreatedAt: T0}
	second := storage.Invite{Code: "inv-2", OrgID: o["P1"].ID, Role: storage.RoleChair, CreatedAt: T0.Add(time.Minute)}
	x.must(x.s.CreateInvite(x.ctx, first))
	x.must(x.s.CreateInvite(x.ctx, second))
	x.must(x.s.CreateInvite(x.ctx, storage.Invite{Code: "other", OrgID: o["P2"].ID, Role: storage.RoleMember, CreatedAt: T0}))
	x.wantErr(x.s.CreateInvite(x.ctx, first), storage.ErrConflict)
	x.wantErr(x.s.CreateInvite(x.ctx, storage.Invite{Code: "ghost", OrgID: 987654, Role: storage.RoleMember, CreatedAt: T0}), storage.ErrNotFound)

	got, err := x.s.Invite(x.ctx, "inv-1")
	x.must(err)
	if !reflect.DeepEqual(got, first) {
		x.t.Errorf("Invite = %+v, want %+v", got, first)
	}
	_, err = x.s.Invite(x.ctx, "missing")
	x.wantErr(err, storage.ErrNotFound)

	list, err := x.s.Invites(x.ctx, o["P1"].ID)
	x.must(err)
	if len(list) != 2 || list[0].Code != "inv-2" || list[1].Code != "inv-1" {
		x.t.Errorf("Invites = %+v, want inv-2 then inv-1", list)
	}

	x.must(x.s.RevokeInvite(x.ctx, "inv-1", T0.Add(time.Hour)))
	got, err = x.s.Invite(x.ctx, "inv-1")
	x.must(err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(T0.Add(time.Hour)) {
		x.t.Errorf("revoked at %v", got.RevokedAt)
	}
	x.wantErr(x.s.RevokeInvite(x.ctx, "missing", T0), storage.ErrNotFound)
}

func testRegisterPending(x *suite) {
	o := x.tree()
	// A non-UTC time must come back as the same instant in UTC.
	at := T0.In(time.FixedZone("SAKT", 11*3600))
	reg := registration("1001", o["P1"].ID, storage.RoleMember, "")
	reg.At = at
	reg.PersonalEmail = "me@home.example"
	reg.Consents = append(reg.Consents, storage.Consent{Kind: storage.ConsentPersonalEmail, Version: "v2", Locale: "ru", Accepted: true})
	p, m, err := x.s.Register(x.ctx, reg)
	x.must(err)
	want := storage.Person{ID: p.ID, FullName: "Person 1001", Position: "Teacher", WorkEmail: "1001@work.example",
		PersonalEmail: "me@home.example", Locale: "ru", CreatedAt: T0}
	if !reflect.DeepEqual(p, want) {
		x.t.Errorf("person %+v, want %+v", p, want)
	}
	if m.Status != storage.StatusPending || m.Role != storage.RoleMember || m.PersonID != p.ID ||
		!reflect.DeepEqual(m.Org, o["P1"]) || !m.CreatedAt.Equal(T0) || m.DecidedAt != nil || m.DecidedBy != 0 {
		x.t.Errorf("membership %+v", m)
	}

	byAcc, err := x.s.PersonByAccount(x.ctx, storage.Telegram, "1001")
	x.must(err)
	if !reflect.DeepEqual(byAcc, p) {
		x.t.Errorf("PersonByAccount = %+v", byAcc)
	}
	_, err = x.s.PersonByAccount(x.ctx, storage.VK, "1001")
	x.wantErr(err, storage.ErrNotFound)
	byID, err := x.s.Person(x.ctx, p.ID)
	x.must(err)
	if !reflect.DeepEqual(byID, p) {
		x.t.Errorf("Person = %+v", byID)
	}
	_, err = x.s.Person(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)

	accs, err := x.s.Accounts(x.ctx, p.ID)
	x.must(err)
	if len(accs) != 1 || accs[0] != (storage.Account{Platform: storage.Telegram, ExternalID: "1001", PersonID: p.ID, LastSeenAt: T0}) {
		x.t.Errorf("accounts %+v", accs)
	}
	cons, err := x.s.Consents(x.ctx, p.ID)
	x.must(err)
	wantCons := []storage.Consent{
		{PersonID: p.ID, OrgID: o["P1"].ID, Kind: storage.ConsentPersonalData, Version: "v1", Locale: "ru", Accepted: true, At: T0},
		{PersonID: p.ID, Kind: storage.ConsentPersonalEmail, Version: "v2", Locale: "ru", Accepted: true, At: T0},
	}
	if !reflect.DeepEqual(cons, wantCons) {
		x.t.Errorf("consents %+v, want %+v", cons, wantCons)
	}
	ms, err := x.s.Memberships(x.ctx, p.ID)
	x.must(err)
	if len(ms) != 1 || !reflect.DeepEqual(ms[0], m) {
		x.t.Errorf("Memberships = %+v, want [%+v]", ms, m)
	}
	got, err := x.s.Membership(x.ctx, m.ID)
	x.must(err)
	if !reflect.DeepEqual(got, m) {
		x.t.Errorf("Membership = %+v", got)
	}
	_, err = x.s.Membership(x.ctx, 987654)
	x.wantErr(err, storage.ErrNotFound)

	_, _, err = x.s.Register(x.ctx, registration("1001", o["P2"].ID, storage.RoleMember, ""))
	x.wantErr(err, storage.ErrAlreadyRegistered)
	_, _, err = x.s.Register(x.ctx, registration("1002", 987654, storage.RoleMember, ""))
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.PersonByAccount(x.ctx, storage.Telegram, "1002")
	x.wantErr(err, storage.ErrNotFound)
}

func testRegisterWithInvite(x *suite) {
	o := x.tree()
	p1 := o["P1"].ID
	past := T0.Add(-time.Minute)
	x.invite("ok", p1, storage.RoleActivist, 2)
	x.must(x.s.CreateInvite(x.ctx, storage.Invite{Code: "revoked", OrgID: p1, Role: storage.RoleActivist, RevokedAt: &past, CreatedAt: past}))
	x.must(x.s.CreateInvite(x.ctx, storage.Invite{Code: "expired", OrgID: p1, Role: storage.RoleActivist, ExpiresAt: &T0, CreatedAt: past}))
	x.must(x.s.CreateInvite(x.ctx, storage.Invite{Code: "used", OrgID: p1, Role: storage.RoleActivist, MaxUses: 1, Uses: 1, CreatedAt: past}))

	p, m := x.register("2001", p1, storage.RoleActivist, "ok")
	if m.Status != storage.StatusActive || m.Role != storage.RoleActivist || m.PersonID != p.ID {
		x.t.Errorf("membership by invite %+v", m)
	}
	if inv, err := x.s.Invite(x.ctx, "ok"); err != nil || inv.Uses != 1 {
		x.t.Errorf("invite after use: %+v, %v", inv, err)
	}

	tests := []struct {
		code   string
		orgID  int64
		role   storage.Role
		want   error
		usesOK int
	}{
		{"revoked", p1, storage.RoleActivist, storage.ErrInviteRevoked, 0},
		{"expired", p1, storage.RoleActivist, storage.ErrInviteExpired, 0},
		{"used", p1, storage.RoleActivist, storage.ErrInviteUsedUp, 1},
		{"missing", p1, storage.RoleActivist, storage.ErrNotFound, 0},
		{"ok", o["P2"].ID, storage.RoleActivist, storage.ErrConflict, 1},
		{"ok", p1, storage.RoleChair, storage.ErrConflict, 1},
	}
	for i, tt := range tests {
		ext := fmt.Sprint(3000 + i)
		_, _, err := x.s.Register(x.ctx, registration(ext, tt.orgID, tt.role, tt.code))
		if !errors.Is(err, tt.want) {
			x.t.Errorf("invite %q for org %d role %s: error %v, want %v", tt.code, tt.orgID, tt.role, err, tt.want)
		}
		if _, err := x.s.PersonByAccount(x.ctx, storage.Telegram, ext); !errors.Is(err, storage.ErrNotFound) {
			x.t.Errorf("invite %q: a failed registration left an account (%v)", tt.code, err)
		}
		if inv, err := x.s.Invite(x.ctx, tt.code); err == nil && inv.Uses != tt.usesOK {
			x.t.Errorf("invite %q: uses %d after a failed registration, want %d", tt.code, inv.Uses, tt.usesOK)
		}
	}
}

func testRegisterInviteRace(x *suite) {
	o := x.tree()
	x.invite("once", o["P1"].ID, storage.RoleMember, 1)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, _, errs[i] = x.s.Register(x.ctx, registration(fmt.Sprint(4000+i), o["P1"].ID, storage.RoleMember, "once"))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrInviteUsedUp):
			x.t.Errorf("loser got %v, want ErrInviteUsedUp", err)
		}
	}
	if won != 1 {
		x.t.Errorf("%d registrations won a one-use invite, want 1", won)
	}
	if inv, err := x.s.Invite(x.ctx, "once"); err != nil || inv.Uses != 1 {
		x.t.Errorf("invite after the race: %+v, %v", inv, err)
	}
}

func testRegisterSameAccountRace(x *suite) {
	o := x.tree()
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = x.s.Register(x.ctx, registration("4500", o["P1"].ID, storage.RoleMember, "")) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrAlreadyRegistered):
			x.t.Errorf("loser got %v, want ErrAlreadyRegistered", err)
		}
	}
	if won != 1 {
		x.t.Errorf("%d registrations of one account won, want 1", won)
	}
}

func testJoinByInvite(x *suite) {
	o := x.tree()
	p, pending := x.register("5001", o["P1"].ID, storage.RoleMember, "")
	x.invite("activists", o["P1"].ID, storage.RoleActivist, 0)
	x.invite("members", o["P1"].ID, storage.RoleMember, 5)
	exp := T0.Add(time.Hour)
	x.must(x.s.CreateInvite(x.ctx, storage.Invite{Code: "late", OrgID: o["P2"].ID, Role: storage.RoleMember, ExpiresAt: &exp, CreatedAt: T0}))

	m, err := x.s.JoinByInvite(x.ctx, p.ID, "activists", T0.Add(time.Minute))
	x.must(err)
	if m.Status != storage.StatusActive || m.Role != storage.RoleActivist || !reflect.DeepEqual(m.Org, o["P1"]) {
		x.t.Errorf("joined %+v", m)
	}
	// The pending membership of the same role becomes active, not a second row.
	m2, err := x.s.JoinByInvite(x.ctx, p.ID, "members", T0.Add(time.Minute))
	x.must(err)
	if m2.ID != pending.ID || m2.Status != storage.StatusActive {
		x.t.Errorf("join over a pending membership: %+v, pending id %d", m2, pending.ID)
	}
	// Already active: returned as it is, the invite is not consumed.
	m3, err := x.s.JoinByInvite(x.ctx, p.ID, "members", T0.Add(2*time.Minute))
	x.must(err)
	if m3.ID != pending.ID {
		x.t.Errorf("second join gave membership %d, want %d", m3.ID, pending.ID)
	}
	if inv, err := x.s.Invite(x.ctx, "members"); err != nil || inv.Uses != 1 {
		x.t.Errorf("members invite: %+v, %v; want 1 use", inv, err)
	}
	ms, err := x.s.Memberships(x.ctx, p.ID)
	x.must(err)
	if len(ms) != 2 {
		x.t.Errorf("%d memberships, want 2", len(ms))
	}

	_, err = x.s.JoinByInvite(x.ctx, p.ID, "late", T0.Add(time.Hour))
	x.wantErr(err, storage.ErrInviteExpired)
	_, err = x.s.JoinByInvite(x.ctx, p.ID, "missing", T0)
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.JoinByInvite(x.ctx, 987654, "activists", T0)
	x.wantErr(err, storage.ErrNotFound)
	x.must(x.s.Forget(x.ctx, p.ID, T0.Add(time.Hour)))
	_, err = x.s.JoinByInvite(x.ctx, p.ID, "activists", T0.Add(2*time.Hour))
	x.wantErr(err, storage.ErrNotFound)
}

func testConsents(x *suite) {
	o := x.tree()
	x.must(x.s.RecordRefusal(x.ctx, storage.Consent{PersonID: 1, OrgID: o["P1"].ID, Kind: storage.ConsentPersonalData,
		Version: "v1", Locale: "en", Accepted: true, At: T0}))
	p, _ := x.register("6001", o["P1"].ID, storage.RoleMember, "")
	later := storage.Consent{PersonID: p.ID, Kind: storage.ConsentPersonalEmail, Version: "v3", Locale: "en", Accepted: false, At: T0.Add(2 * time.Hour)}
	earlier := storage.Consent{PersonID: p.ID, Kind: storage.ConsentPersonalEmail, Version: "v2", Locale: "en", Accepted: true, At: T0.Add(time.Hour)}
	x.must(x.s.RecordConsent(x.ctx, later))
	x.must(x.s.RecordConsent(x.ctx, earlier))
	x.wantErr(x.s.RecordConsent(x.ctx, storage.Consent{PersonID: 987654, Kind: storage.ConsentPersonalData, Version: "v1", At: T0}), storage.ErrNotFound)

	cons, err := x.s.Consents(x.ctx, p.ID)
	x.must(err)
	if len(cons) != 3 {
		x.t.Fatalf("%d consents, want the registration's and two more (a refusal belongs to nobody)", len(cons))
	}
	if !reflect.DeepEqual(cons[1], earlier) || !reflect.DeepEqual(cons[2], later) {
		x.t.Errorf("consents not oldest first: %+v", cons)
	}
}

func testUpdateProfile(x *suite) {
	o := x.tree()
	p, _ := x.register("7001", o["P1"].ID, storage.RoleMember, "")
	name, email := "Новое Имя", ""
	got, err := x.s.UpdateProfile(x.ctx, p.ID, storage.ProfilePatch{FullName: &name, WorkEmail: &email})
	x.must(err)
	want := p
	want.FullName, want.WorkEmail = name, ""
	if !reflect.DeepEqual(got, want) {
		x.t.Errorf("UpdateProfile = %+v, want %+v", got, want)
	}
	stored, err := x.s.Person(x.ctx, p.ID)
	x.must(err)
	if !reflect.DeepEqual(stored, want) {
		x.t.Errorf("stored %+v", stored)
	}
	same, err := x.s.UpdateProfile(x.ctx, p.ID, storage.ProfilePatch{})
	x.must(err)
	if !reflect.DeepEqual(same, want) {
		x.t.Errorf("empty patch changed the person: %+v", same)
	}
	_, err = x.s.UpdateProfile(x.ctx, 987654, storage.ProfilePatch{FullName: &name})
	x.wantErr(err, storage.ErrNotFound)
}

func testForget(x *suite) {
	o := x.tree()
	p, pending := x.register("8001", o["P1"].ID, storage.RoleMember, "")
	x.invite("chairs", o["B1"].ID, storage.RoleChair, 0)
	active, err := x.s.JoinByInvite(x.ctx, p.ID, "chairs", T0)
	x.must(err)
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "link-8001", PersonID: p.ID, ExpiresAt: T0.Add(time.Hour)}))
	linked, err := x.s.UseLinkCode(x.ctx, "link-8001", storage.VK, "vk8001", T0)
	x.must(err)
	if linked.ID != p.ID {
		x.t.Fatalf("linked person %d, want %d", linked.ID, p.ID)
	}
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "link-left", PersonID: p.ID, ExpiresAt: T0.Add(time.Hour)}))
	// r's rejected membership must stay rejected when r is forgotten.
	r, rejected := x.register("8002", o["P2"].ID, storage.RoleActivist, "")
	_, err = x.s.DecideMembership(x.ctx, rejected.ID, false, p.ID, T0)
	x.must(err)
	x.must(x.s.Forget(x.ctx, r.ID, T0))
	if m, err := x.s.Membership(x.ctx, rejected.ID); err != nil || m.Status != storage.StatusRejected {
		x.t.Errorf("rejected membership after Forget: %+v, %v", m, err)
	}

	at := T0.Add(24 * time.Hour)
	x.must(x.s.Forget(x.ctx, p.ID, at))

	got, err := x.s.Person(x.ctx, p.ID)
	x.must(err)
	if got.FullName != "" || got.Position != "" || got.WorkEmail != "" || got.PersonalEmail != "" || got.Locale != "" ||
		got.ErasedAt == nil || !got.ErasedAt.Equal(at) || !got.CreatedAt.Equal(T0) {
		x.t.Errorf("forgotten person %+v", got)
	}
	for _, acc := range []struct {
		pl  storage.Platform
		ext string
	}{{storage.Telegram, "8001"}, {storage.VK, "vk8001"}} {
		_, err := x.s.PersonByAccount(x.ctx, acc.pl, acc.ext)
		x.wantErr(err, storage.ErrNotFound)
	}
	if accs, err := x.s.Accounts(x.ctx, p.ID); err != nil || len(accs) != 0 {
		x.t.Errorf("accounts after Forget: %+v, %v", accs, err)
	}
	_, err = x.s.UseLinkCode(x.ctx, "link-left", storage.Telegram, "other", T0)
	x.wantErr(err, storage.ErrNotFound)
	ms, err := x.s.Memberships(x.ctx, p.ID)
	x.must(err)
	if len(ms) != 2 || ms[0].ID != pending.ID || ms[1].ID != active.ID {
		x.t.Fatalf("memberships after Forget %+v, want both rows kept", ms)
	}
	for _, m := range ms {
		if m.Status != storage.StatusEnded {
			x.t.Errorf("membership %d (%s) is %s after Forget", m.ID, m.Role, m.Status)
		}
	}
	if cons, err := x.s.Consents(x.ctx, p.ID); err != nil || len(cons) != 1 {
		x.t.Errorf("consents after Forget: %+v, %v; want kept", cons, err)
	}
	leaders, err := x.s.Leaders(x.ctx, o["B1"].ID, access.RolesFor(access.ActApprove))
	x.must(err)
	if len(leaders) != 0 {
		x.t.Errorf("an erased chair is still a leader: %+v", leaders)
	}
	name := "back"
	_, err = x.s.UpdateProfile(x.ctx, p.ID, storage.ProfilePatch{FullName: &name})
	x.wantErr(err, storage.ErrNotFound)
	// The account is free again: the person may register anew.
	x.register("8001", o["P1"].ID, storage.RoleMember, "")
	x.wantErr(x.s.Forget(x.ctx, 987654, at), storage.ErrNotFound)
}

func testAccounts(x *suite) {
	o := x.tree()
	p, _ := x.register("9001", o["P1"].ID, storage.RoleMember, "")
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "lc", PersonID: p.ID, ExpiresAt: T0.Add(time.Hour)}))
	_, err := x.s.UseLinkCode(x.ctx, "lc", storage.VK, "vk9001", T0.Add(time.Minute))
	x.must(err)

	accs, err := x.s.Accounts(x.ctx, p.ID)
	x.must(err)
	if len(accs) != 2 || accs[0].Platform != storage.VK || accs[1].Platform != storage.Telegram {
		x.t.Fatalf("accounts %+v, want VK (seen last) first", accs)
	}
	c, err := x.s.Caller(x.ctx, storage.VK, "vk9001")
	x.must(err)
	if c.Person != p || c.Account != accs[0] || !c.SeenLast {
		x.t.Errorf("Caller(VK) = %+v; want %+v, %+v, seen last", c, p, accs[0])
	}
	if c, err := x.s.Caller(x.ctx, storage.Telegram, "9001"); err != nil || c.SeenLast || c.Account != accs[1] {
		x.t.Errorf("Caller(Telegram) = %+v, %v; want the older account, not seen last", c, err)
	}
	_, err = x.s.Caller(x.ctx, storage.VK, "nobody")
	x.wantErr(err, storage.ErrNotFound)

	blockedAt := T0.Add(2 * time.Minute)
	x.must(x.s.MarkBlocked(x.ctx, storage.VK, "vk9001", blockedAt))
	x.must(x.s.TouchAccount(x.ctx, storage.Telegram, "9001", T0.Add(3*time.Minute)))
	accs, err = x.s.Accounts(x.ctx, p.ID)
	x.must(err)
	if accs[0].Platform != storage.Telegram || !accs[0].LastSeenAt.Equal(T0.Add(3*time.Minute)) {
		x.t.Errorf("after touch: %+v", accs)
	}
	if accs[1].BlockedAt == nil || !accs[1].BlockedAt.Equal(blockedAt) {
		x.t.Errorf("blocked account %+v", accs[1])
	}
	// A late update from before the block neither clears it nor moves time back.
	x.must(x.s.TouchAccount(x.ctx, storage.VK, "vk9001", T0.Add(90*time.Second)))
	accs, err = x.s.Accounts(x.ctx, p.ID)
	x.must(err)
	if accs[1].BlockedAt == nil || !accs[1].LastSeenAt.Equal(T0.Add(time.Minute)) {
		x.t.Errorf("a late touch changed the account: %+v", accs[1])
	}
	x.must(x.s.TouchAccount(x.ctx, storage.VK, "vk9001", T0.Add(4*time.Minute)))
	accs, err = x.s.Accounts(x.ctx, p.ID)
	x.must(err)
	if accs[0].Platform != storage.VK || accs[0].BlockedAt != nil {
		x.t.Errorf("touch must clear the block: %+v", accs[0])
	}
	x.wantErr(x.s.TouchAccount(x.ctx, storage.VK, "nobody", T0), storage.ErrNotFound)
	x.wantErr(x.s.MarkBlocked(x.ctx, storage.VK, "nobody", T0), storage.ErrNotFound)
}

func testDecideMembership(x *suite) {
	o := x.tree()
	chair, _ := x.register("10001", o["B1"].ID, storage.RoleChair, "")
	_, a := x.register("10002", o["P1"].ID, storage.RoleMember, "")
	_, b := x.register("10003", o["P1"].ID, storage.RoleActivist, "")
	at := T0.Add(time.Hour)

	m, err := x.s.DecideMembership(x.ctx, a.ID, true, chair.ID, at)
	x.must(err)
	if m.Status != storage.StatusActive || m.DecidedBy != chair.ID || m.DecidedAt == nil || !m.DecidedAt.Equal(at) ||
		!reflect.DeepEqual(m.Org, o["P1"]) {
		x.t.Errorf("approved %+v", m)
	}
	_, err = x.s.DecideMembership(x.ctx, a.ID, false, chair.ID, at)
	x.wantErr(err, storage.ErrAlreadyDecided)
	m, err = x.s.DecideMembership(x.ctx, b.ID, false, chair.ID, at)
	x.must(err)
	if m.Status != storage.StatusRejected {
		x.t.Errorf("rejected %+v", m)
	}
	if again, err := x.s.Membership(x.ctx, a.ID); err != nil || again.Status != storage.StatusActive {
		x.t.Errorf("a later decision changed the first: %+v, %v", again, err)
	}
	_, err = x.s.DecideMembership(x.ctx, 987654, true, chair.ID, at)
	x.wantErr(err, storage.ErrNotFound)
}

func testDecideMembershipRace(x *suite) {
	o := x.tree()
	chair, _ := x.register("11001", o["B1"].ID, storage.RoleChair, "")
	_, m := x.register("11002", o["P1"].ID, storage.RoleMember, "")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = x.s.DecideMembership(x.ctx, m.ID, i%2 == 0, chair.ID, T0) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrAlreadyDecided):
			x.t.Errorf("loser got %v, want ErrAlreadyDecided", err)
		}
	}
	if won != 1 {
		x.t.Errorf("%d decisions won, want 1", won)
	}
}

func testLeaders(x *suite) {
	o := x.tree()
	b1 := o["B1"].ID
	x.invite("chair", b1, storage.RoleChair, 0)
	x.invite("info", b1, storage.RoleInfoworker, 0)
	x.invite("act", b1, storage.RoleActivist, 0)
	x.invite("subchair", o["B11"].ID, storage.RoleChair, 0)

	chair, _ := x.register("12001", b1, storage.RoleChair, "chair")
	_, err := x.s.JoinByInvite(x.ctx, chair.ID, "info", T0) // both roles: listed once
	x.must(err)
	info, _ := x.register("12002", b1, storage.RoleInfoworker, "info")
	x.register("12003", b1, storage.RoleActivist, "act")
	x.register("12004", b1, storage.RoleChair, "")                  // pending
	x.register("12005", o["B11"].ID, storage.RoleChair, "subchair") // a child org
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "lc", PersonID: info.ID, ExpiresAt: T0.Add(time.Hour)}))
	_, err = x.s.UseLinkCode(x.ctx, "lc", storage.VK, "vk12002", T0.Add(time.Minute))
	x.must(err)

	got, err := x.s.Leaders(x.ctx, b1, access.RolesFor(access.ActApprove))
	x.must(err)
	if len(got) != 2 || got[0].Person.ID != chair.ID || got[1].Person.ID != info.ID {
		x.t.Fatalf("leaders %+v, want the chair then the infoworker", got)
	}
	if !reflect.DeepEqual(got[0].Person, chair) || len(got[0].Accounts) != 1 || got[0].Accounts[0].ExternalID != "12001" {
		x.t.Errorf("chair contact %+v", got[0])
	}
	if len(got[1].Accounts) != 2 || got[1].Accounts[0].Platform != storage.VK || got[1].Accounts[0].PersonID != info.ID {
		x.t.Errorf("infoworker contact %+v, want two accounts, VK first", got[1])
	}
	chairs, err := x.s.Leaders(x.ctx, b1, []storage.Role{storage.RoleChair})
	x.must(err)
	if len(chairs) != 1 || chairs[0].Person.ID != chair.ID {
		x.t.Errorf("chairs of B1: %+v", chairs)
	}
	none, err := x.s.Leaders(x.ctx, o["P2"].ID, access.RolesFor(access.ActApprove))
	x.must(err)
	if len(none) != 0 {
		x.t.Errorf("leaders of P2: %+v", none)
	}
}

func testPendingMemberships(x *suite) {
	o := x.tree()
	_, inP1 := x.register("14001", o["P1"].ID, storage.RoleMember, "")
	_, inB1 := x.register("14002", o["B1"].ID, storage.RoleMember, "")
	x.register("14003", o["P2"].ID, storage.RoleMember, "") // another branch
	_, decided := x.register("14004", o["P1"].ID, storage.RoleMember, "")
	_, err := x.s.DecideMembership(x.ctx, decided.ID, true, 0, T0)
	x.must(err)

	ids := func(under storage.Org) []int64 {
		ms, err := x.s.PendingMemberships(x.ctx, under)
		x.must(err)
		var out []int64
		for _, m := range ms {
			if m.Status != storage.StatusPending || m.Org.ID == 0 {
				x.t.Errorf("pending membership %+v", m)
			}
			out = append(out, m.ID)
		}
		return out
	}
	if got := ids(o["B1"]); !reflect.DeepEqual(got, []int64{inP1.ID, inB1.ID}) {
		x.t.Errorf("pending under B1 = %v, want %v (its subtree, oldest first)", got, []int64{inP1.ID, inB1.ID})
	}
	if got := ids(o["B11"]); !reflect.DeepEqual(got, []int64{inP1.ID}) {
		x.t.Errorf("pending under B11 = %v, want only P1's", got)
	}
	if got := ids(o["U"]); len(got) != 3 {
		x.t.Errorf("pending under the union = %v, want all three", got)
	}
}

func testLinkCodes(x *suite) {
	o := x.tree()
	p, _ := x.register("13001", o["P1"].ID, storage.RoleMember, "")
	q, _ := x.register("13002", o["P1"].ID, storage.RoleMember, "")
	exp := T0.Add(10 * time.Minute)
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "A", PersonID: p.ID, ExpiresAt: exp}))
	x.wantErr(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "A", PersonID: q.ID, ExpiresAt: exp}), storage.ErrConflict)
	x.wantErr(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "Z", PersonID: 987654, ExpiresAt: exp}), storage.ErrNotFound)

	_, err := x.s.UseLinkCode(x.ctx, "A", storage.VK, "vk", exp) // expired at exp
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.UseLinkCode(x.ctx, "A", storage.Telegram, "13002", T0) // q's account
	x.wantErr(err, storage.ErrAlreadyRegistered)
	got, err := x.s.UseLinkCode(x.ctx, "A", storage.VK, "vk", T0.Add(time.Minute))
	x.must(err)
	if !reflect.DeepEqual(got, p) {
		x.t.Errorf("UseLinkCode = %+v, want %+v", got, p)
	}
	byVK, err := x.s.PersonByAccount(x.ctx, storage.VK, "vk")
	x.must(err)
	if byVK.ID != p.ID {
		x.t.Errorf("VK account belongs to %d, want %d", byVK.ID, p.ID)
	}
	_, err = x.s.UseLinkCode(x.ctx, "A", storage.VK, "vk2", T0.Add(time.Minute))
	x.wantErr(err, storage.ErrNotFound)
	_, err = x.s.UseLinkCode(x.ctx, "missing", storage.VK, "vk3", T0)
	x.wantErr(err, storage.ErrNotFound)

	// The person's own account: the code is just burned.
	x.must(x.s.CreateLinkCode(x.ctx, storage.LinkCode{Code: "B", PersonID: p.ID, ExpiresAt: exp}))
	got, err = x.s.UseLinkCode(x.ctx, "B", storage.VK, "vk", T0)
	x.must(err)
	if got.ID != p.ID {
		x.t.Errorf("UseLinkCode own account = %d", got.ID)
	}
	_, err = x.s.UseLinkCode(x.ctx, "B", storage.VK, "vk4", T0)
	x.wantErr(err, storage.ErrNotFound)
	if accs, err := x.s.Accounts(x.ctx, p.ID); err != nil || len(accs) != 2 {
		x.t.Errorf("accounts %+v, %v; want 2", accs, err)
	}
}

func testChats(x *suite) {
	o := x.tree()
	chair, _ := x.register("14001", o["B1"].ID, storage.RoleChair, "")
	b := storage.ChatBinding{Platform: storage.Telegram, ChatID: "-100123", OrgID: o["B1"].ID, Title: "Chat", BoundBy: chair.ID, BoundAt: T0}
	x.must(x.s.BindChat(x.ctx, b))
	got, err := x.s.ChatBinding(x.ctx, storage.Telegram, "-100123")
	x.must(err)
	if got != b {
		x.t.Errorf("ChatBinding = %+v, want %+v", got, b)
	}
	_, err = x.s.ChatBinding(x.ctx, storage.VK, "-100123")
	x.wantErr(err, storage.ErrNotFound)

	moved := storage.ChatBinding{Platform: storage.Telegram, ChatID: "-100123", OrgID: o["P1"].ID, Title: "Renamed", BoundAt: T0.Add(time.Hour)}
	x.must(x.s.BindChat(x.ctx, moved))
	got, err = x.s.ChatBinding(x.ctx, storage.Telegram, "-100123")
	x.must(err)
	if got != moved {
		x.t.Errorf("rebound = %+v, want %+v", got, moved)
	}
	x.wantErr(x.s.BindChat(x.ctx, storage.ChatBinding{Platform: storage.VK, ChatID: "2000000001", OrgID: 987654, BoundAt: T0}), storage.ErrNotFound)

	x.must(x.s.UnbindChat(x.ctx, storage.Telegram, "-100123"))
	_, err = x.s.ChatBinding(x.ctx, storage.Telegram, "-100123")
	x.wantErr(err, storage.ErrNotFound)
	x.wantErr(x.s.UnbindChat(x.ctx, storage.Telegram, "-100123"), storage.ErrNotFound)
}

func testBoundChats(x *suite) {
	o := x.tree()
	if got, err := x.s.BoundChats(x.ctx, o["U"]); err != nil || len(got) != 0 {
		x.t.Errorf("BoundChats of a tree without chats = %+v, %v", got, err)
	}
	chair, _ := x.register("14101", o["B1"].ID, storage.RoleChair, "")
	bind := func(p storage.Platform, chatID, org, title string, desk bool) storage.ChatBinding {
		x.t.Helper()
		b := storage.ChatBinding{Platform: p, ChatID: chatID, OrgID: o[org].ID, Title: title, Desk: desk, BoundBy: chair.ID, BoundAt: T0}
		x.must(x.s.BindChat(x.ctx, b))
		return b
	}
	p1 := bind(storage.VK, "2000000001", "P1", "Школа 1", false)
	b1Desk := bind(storage.Telegram, "-1002", "B1", "Штаб", true)
	b1 := bind(storage.Telegram, "-1003", "B1", "Актив", false)
	b1VK := bind(storage.VK, "2000000002", "B1", "Актив ВК", false)
	b2 := bind(storage.Telegram, "-1004", "B2", "Beta", false)
	u := bind(storage.Telegram, "-1005", "U", "Union", false)

	// Ordered by path: B1's chats come before its descendants', B2's by the ids the database gave.
	union := []storage.ChatBinding{u, b1, b1Desk, b1VK, p1, b2}
	if o["B2"].Path < o["B1"].Path {
		union = []storage.ChatBinding{u, b2, b1, b1Desk, b1VK, p1}
	}
	for _, tt := range []struct {
		under string
		want  []storage.ChatBinding
	}{
		// Within an org by platform, then title.
		{"B1", []storage.ChatBinding{b1, b1Desk, b1VK, p1}},
		{"B11", []storage.ChatBinding{p1}},
		{"P2", nil},
		{"U", union},
	} {
		got, err := x.s.BoundChats(x.ctx, o[tt.under])
		x.must(err)
		if len(got) != len(tt.want) || len(got) > 0 && !reflect.DeepEqual(got, tt.want) {
			x.t.Errorf("BoundChats(%s)\n got %+v\nwant %+v", tt.under, got, tt.want)
		}
	}
	x.must(x.s.UnbindChat(x.ctx, storage.VK, "2000000001"))
	if got, err := x.s.BoundChats(x.ctx, o["B11"]); err != nil || len(got) != 0 {
		x.t.Errorf("BoundChats(B11) after the unbind = %+v, %v", got, err)
	}
	if _, err := x.s.BoundChats(x.ctx, storage.Org{ID: o["B1"].ID}); err == nil {
		x.t.Error("BoundChats of an org without a path: no error")
	}
}

func testUnicode(x *suite) {
	texts := []string{"Анна 👩‍🔧", "مرحبا بالعالم", "Профсоюз «Сахалин» — 𝔘𝔫𝔦𝔬𝔫", "e\u0301 ﷽ 家族"}
	file := []storage.OrgInput{{Code: "U", Name: texts[2], Level: storage.LevelUnion, Source: "u.yaml:1"}}
	_, err := x.s.ImportOrgs(x.ctx, file, T0)
	x.must(err)
	u, err := x.s.OrgByCode(x.ctx, "U")
	x.must(err)
	if u.Name != texts[2] {
		x.t.Errorf("org name %q, want %q", u.Name, texts[2])
	}
	reg := registration("15001", u.ID, storage.RoleMember, "")
	reg.FullName, reg.Position, reg.WorkEmail, reg.Locale = texts[0], texts[1], texts[3], "ar"
	p, _, err := x.s.Register(x.ctx, reg)
	x.must(err)
	got, err := x.s.Person(x.ctx, p.ID)
	x.must(err)
	if got.FullName != texts[0] || got.Position != texts[1] || got.WorkEmail != texts[3] {
		x.t.Errorf("person %q / %q / %q", got.FullName, got.Position, got.WorkEmail)
	}
	title := texts[0] + " " + texts[1]
	x.must(x.s.BindChat(x.ctx, storage.ChatBinding{Platform: storage.VK, ChatID: "2000000001", OrgID: u.ID, Title: title, BoundAt: T0}))
	b, err := x.s.ChatBinding(x.ctx, storage.VK, "2000000001")
	x.must(err)
	if b.Title != title {
		x.t.Errorf("chat title %q, want %q", b.Title, title)
	}
}
