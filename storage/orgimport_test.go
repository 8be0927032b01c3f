package storage_test

import (
	"errors"
	"strings"
	"testing"
	_ "time/tzdata" // org time zones must load on machines without zoneinfo

	"github.com/unionhub/unionhub/storage"
)

func in(src, code, name, parent string, level storage.Level) storage.OrgInput {
	return storage.OrgInput{Code: code, Name: name, ParentCode: parent, Level: level, MemberCount: 10, Source: src}
}

// stored is a small tree as the database holds it: U > B > P.
var stored = []storage.Org{
	{ID: 1, Code: "U", Name: "Union", Level: storage.LevelUnion, MemberCount: 10, TimeZone: storage.DefaultTimeZone, Path: "/1/"},
	{ID: 2, Code: "B", Name: "Branch", ParentID: 1, Level: storage.LevelBranch, MemberCount: 10, TimeZone: storage.DefaultTimeZone, Path: "/1/2/"},
	{ID: 3, Code: "P", Name: "Primary", ParentID: 2, Level: storage.LevelPrimary, MemberCount: 10, TimeZone: storage.DefaultTimeZone, Path: "/1/2/3/"},
}

func TestPlanImportRejects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("я", storage.MaxOrgNameLen+1)
	tests := []struct {
		name string
		in   []storage.OrgInput
		want []string // substrings of the error, each with its source
	}{
		{"empty code", []storage.OrgInput{in("f:1", "", "X", "U", storage.LevelBranch)}, []string{"f:1: empty code"}},
		{"bad code", []storage.OrgInput{in("f:2", "a b", "X", "U", storage.LevelBranch)}, []string{`f:2: code "a b"`}},
		{"long code", []storage.OrgInput{in("f:2", strings.Repeat("a", 65), "X", "U", storage.LevelBranch)}, []string{"f:2: code"}},
		{"empty name", []storage.OrgInput{in("f:3", "X", "  ", "U", storage.LevelBranch)}, []string{`f:3: empty name for "X"`}},
		{"long name", []storage.OrgInput{in("f:4", "X", long, "U", storage.LevelBranch)}, []string{"f:4: name of \"X\" is longer"}},
		{"control char", []storage.OrgInput{in("f:5", "X", "a\tb", "U", storage.LevelBranch)}, []string{"f:5: name of \"X\" contains control"}},
		{"bad level", []storage.OrgInput{in("f:6", "X", "X", "U", "region")}, []string{`f:6: unknown level "region"`}},
		{"negative members", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, MemberCount: -1, Source: "f:7"}},
			[]string{"f:7: negative member count -1"}},
		{"bad zone", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, TimeZone: "Mars/Olympus", Source: "f:8"}},
			[]string{`f:8: invalid time zone "Mars/Olympus"`}},
		{"bad board reminder", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "0 25 * * 1", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "0 25 * * 1"`}},
		{"board reminder with a zone", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "TZ=Asia/Tokyo", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "TZ=Asia/Tokyo"`}},
		{"board reminder interval", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "@every 1m", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "@every 1m"`}},
		{"board reminder daily", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "0 10 * * *", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "0 10 * * *" for "X": not weekly`}},
		{"board reminder hourly", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "@hourly", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "@hourly" for "X": not weekly`}},
		{"board reminder twice a week", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "0 10 * * 1,3", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "0 10 * * 1,3" for "X": not weekly`}},
		{"board reminder monthly", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "0 10 1 * *", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "0 10 1 * *" for "X": not weekly`}},
		{"board reminder never", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, BoardCron: "0 10 30 2 *", Source: "f:8"}},
			[]string{`f:8: invalid board_reminder "0 10 30 2 *" for "X": not weekly`}},
		{"duplicate", []storage.OrgInput{in("f:1", "X", "X", "U", storage.LevelBranch), in("f:9", "X", "Y", "U", storage.LevelBranch)},
			[]string{`f:9: duplicate code "X" (also at f:1)`}},
		{"unknown parent", []storage.OrgInput{in("f:10", "X", "X", "NOPE", storage.LevelBranch)}, []string{`f:10: parent code "NOPE"`}},
		{"union with parent", []storage.OrgInput{in("f:11", "X", "X", "U", storage.LevelUnion)}, []string{`f:11: union "X" cannot have a parent`}},
		{"branch root", []storage.OrgInput{in("f:12", "X", "X", "", storage.LevelBranch)}, []string{`f:12: branch "X" needs a parent`}},
		{"child of stored primary", []storage.OrgInput{in("f:13", "X", "X", "P", storage.LevelPrimary)}, []string{`f:13: parent "P" of "X" is a primary`}},
		{"child of file primary", []storage.OrgInput{in("f:1", "Q", "Q", "B", storage.LevelPrimary), in("f:2", "X", "X", "Q", storage.LevelBranch)},
			[]string{`f:2: parent "Q" of "X" is a primary`}},
		{"branch made primary keeps stored children", []storage.OrgInput{in("f:14", "B", "Branch", "U", storage.LevelPrimary)},
			[]string{`f:14: primary org "B" cannot have children, but the database has P under it`}},
		{"cycle in file", []storage.OrgInput{in("f:1", "X", "X", "Y", storage.LevelBranch), in("f:2", "Y", "Y", "X", storage.LevelBranch)},
			[]string{"f:1: parent cycle: X -> Y -> X"}},
		{"cycle through stored", []storage.OrgInput{in("f:3", "Z", "Z", "B", storage.LevelBranch), in("f:4", "B", "Branch", "Z", storage.LevelBranch)},
			[]string{"f:3: parent cycle: Z -> B -> Z"}},
		{"self parent", []storage.OrgInput{in("f:5", "B", "Branch", "B", storage.LevelBranch)}, []string{"f:5: parent cycle: B -> B"}},
		{"all reported", []storage.OrgInput{in("f:1", "", "X", "U", storage.LevelBranch), in("f:2", "Y", "", "U", storage.LevelBranch)},
			[]string{"f:1: empty code", `f:2: empty name for "Y"`}},
		{"codes differing in case", []storage.OrgInput{in("f:1", "edu", "Edu", "U", storage.LevelBranch), in("f:2", "EDU", "Edu 2", "U", storage.LevelBranch)},
			[]string{`f:2: code "EDU" differs only in case from "edu" at f:1`}},
		{"code differing in case from a stored one", []storage.OrgInput{in("f:3", "b", "Branch b", "U", storage.LevelBranch)},
			[]string{`f:3: code "b" differs only in case from "B" in the database`}},
		{"parent in another case", []storage.OrgInput{in("f:4", "X", "X", "u", storage.LevelBranch)},
			[]string{`f:4: parent code "u" of "X" is neither in the file nor in the database (codes are case-sensitive: "U"?)`}},
		{"second union", []storage.OrgInput{{Code: "U2", Name: "Union 2", Level: storage.LevelUnion, Source: "f:5"}},
			[]string{`f:5: second union "U2": the tree has one root, the union "U" in the database`}},
		{"right-to-left override", []storage.OrgInput{in("f:6", "X", "Школа \u202e5 ОАЗ", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+202E`}},
		{"bidi isolate", []storage.OrgInput{in("f:6", "X", "Школа \u2066x\u2069", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+2066`}},
		{"zero-width space", []storage.OrgInput{in("f:6", "X", "Шко\u200bла", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+200B`}},
		{"soft hyphen", []storage.OrgInput{in("f:6", "X", "Шко\u00adла", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+00AD`}},
		{"byte-order mark", []storage.OrgInput{in("f:6", "X", "\ufeffШкола", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+FEFF`}},
		{"line separator", []storage.OrgInput{in("f:6", "X", "Школа\u2028Два", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+2028`}},
		{"joiner outside a word", []storage.OrgInput{in("f:6", "X", "Школа \u200d5", "U", storage.LevelBranch)},
			[]string{`f:6: name of "X" contains the invisible character U+200D`}},
		{"member count beyond 32 bits", []storage.OrgInput{{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, MemberCount: 1_000_000_000_000, Source: "f:7"}},
			[]string{`f:7: member count 1000000000000 for "X" is above 2147483647`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan, err := storage.PlanImport(stored, tt.in)
			if err == nil {
				t.Fatalf("PlanImport accepted the file, plan %+v", plan)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if len(plan.Steps) != 0 {
				t.Errorf("a rejected file still planned %d steps", len(plan.Steps))
			}
		})
	}
}

func TestPlanImportOrdersParentsFirst(t *testing.T) {
	t.Parallel()
	file := []storage.OrgInput{
		in("f:1", "P", "Primary", "N2", storage.LevelPrimary), // moved under a new org
		in("f:2", "N2", "New 2", "N1", storage.LevelBranch),
		in("f:3", "N1", "New 1", "U", storage.LevelBranch),
		{Code: "U", Name: "Union", Level: storage.LevelUnion, MemberCount: 10, Source: "f:4"},
		in("f:5", "B", "Branch renamed", "U", storage.LevelBranch),
	}
	plan, err := storage.PlanImport(stored, file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range plan.Steps {
		got = append(got, s.Input.Code)
		if s.Input.TimeZone != storage.DefaultTimeZone {
			t.Errorf("%s: time zone %q, want the default", s.Input.Code, s.Input.TimeZone)
		}
	}
	if want := "N1 N2 P B"; strings.Join(got, " ") != want {
		t.Errorf("steps %v, want %s", got, want)
	}
	if r := plan.Result(); r != (storage.ImportResult{Created: 2, Updated: 2, Unchanged: 1}) {
		t.Errorf("result %+v", r)
	}
	if plan.Steps[2].ID != 3 || plan.Steps[0].ID != 0 {
		t.Errorf("ids: P %d, N1 %d", plan.Steps[2].ID, plan.Steps[0].ID)
	}
}

func TestPlanImportErrorsAreJoined(t *testing.T) {
	t.Parallel()
	_, err := storage.PlanImport(nil, []storage.OrgInput{in("f:1", "", "", "", "x")})
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) < 3 {
		t.Fatalf("want at least three joined errors, got %v", err)
	}
}

func TestPlanImportAcceptsWeeklyBoardReminders(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "0 10 * * 1", "30 8 * * FRI", "@weekly", "0 9 * * 0"} {
		o := in("f:1", "X", "X", "U", storage.LevelBranch)
		o.BoardCron = spec
		if _, err := storage.PlanImport(stored, []storage.OrgInput{o}); err != nil {
			t.Errorf("board_reminder %q: %v", spec, err)
		}
	}
}

func TestPlanImportOneUnion(t *testing.T) {
	t.Parallel()
	union := func(src, code string) storage.OrgInput {
		return storage.OrgInput{Code: code, Name: code, Level: storage.LevelUnion, Source: src}
	}
	_, err := storage.PlanImport(nil, []storage.OrgInput{union("f:1", "A"), in("f:2", "X", "X", "A", storage.LevelBranch), union("f:3", "B")})
	if err == nil || !strings.Contains(err.Error(), `f:3: second union "B": the tree has one root, the union "A" at f:1`) {
		t.Errorf("two unions in a file: %v", err)
	}
	// The stored union may be renamed, and a file may demote it under a new one.
	if _, err := storage.PlanImport(stored, []storage.OrgInput{union("f:1", "U")}); err != nil {
		t.Errorf("re-importing the stored union: %v", err)
	}
	demoted := []storage.OrgInput{union("f:1", "N"), in("f:2", "U", "Union", "N", storage.LevelBranch)}
	if _, err := storage.PlanImport(stored, demoted); err != nil {
		t.Errorf("a new union above the old one: %v", err)
	}
}

func TestPlanImportAcceptsNamesAndCounts(t *testing.T) {
	t.Parallel()
	for _, o := range []storage.OrgInput{
		in("f:1", "X", "ППО МБОУ «СОШ № 5» — Корсаков", "U", storage.LevelBranch),
		in("f:1", "X", "می\u200cخواهم", "U", storage.LevelBranch), // a non-joiner inside a Persian word
		{Code: "X", Name: "X", ParentCode: "U", Level: storage.LevelBranch, MemberCount: storage.MaxMemberCount, Source: "f:1"},
	} {
		if _, err := storage.PlanImport(stored, []storage.OrgInput{o}); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// Problems come in the order of their lines, whichever check found them.
func TestPlanImportReportsInFileOrder(t *testing.T) {
	t.Parallel()
	_, err := storage.PlanImport(stored, []storage.OrgInput{
		in("f:1", "X", "X", "NOPE", storage.LevelBranch), // found by the tree checks
		in("f:2", "", "Y", "U", storage.LevelBranch),     // found by the line checks
		in("f:3", "Z", "Z", "Z", storage.LevelBranch),    // found by the cycle check
		in("f:4", "", "W", "U", storage.LevelBranch),
	})
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("want joined errors, got %v", err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		got = append(got, strings.SplitN(e.Error(), ":", 3)[1])
	}
	if strings.Join(got, " ") != "1 2 3 4" {
		t.Errorf("lines in the order %v, want 1 2 3 4:\n%v", got, err)
	}
}
