package main

import (
	"os"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

func TestParseOrgFileYAMLAndCSVAgree(t *testing.T) {
	t.Parallel()
	yamlText := `orgs:
  - code: union
    name: Союз
    level: union
    members: 100
  - code: edu
    name: "Образование, обком"
    parent: union
    level: branch
    timezone: Asia/Magadan
    board_reminder: "0 9 * * 1"
`
	csvText := "\ufeffcode,name,parent,level,members,timezone,board_reminder\nunion,Союз,,union,100,,\nedu,\"Образование, обком\",union,branch,,Asia/Magadan,0 9 * * 1\n"
	y, err := parseOrgFile("tree.yaml", strings.NewReader(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseOrgFile("tree.csv", strings.NewReader(csvText))
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.OrgInput{
		{Code: "union", Name: "Союз", Level: storage.LevelUnion, MemberCount: 100},
		{Code: "edu", Name: "Образование, обком", ParentCode: "union", Level: storage.LevelBranch, TimeZone: "Asia/Magadan", BoardCron: "0 9 * * 1"},
	}
	for name, got := range map[string][]storage.OrgInput{"yaml": y, "csv": c} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d orgs, want %d", name, len(got), len(want))
		}
		for i := range want {
			g := got[i]
			g.Source = ""
			if g != want[i] {
				t.Errorf("%s org %d = %+v, want %+v", name, i, g, want[i])
			}
		}
	}
	if y[1].Source != "tree.yaml:6" || c[1].Source != "tree.csv:3" {
		t.Errorf("sources = %q, %q; want tree.yaml:6 and tree.csv:3", y[1].Source, c[1].Source)
	}
}

func TestParseOrgFileNamesTheBadLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text, want string }{
		{"a.yaml", "orgs:\n  - code: a\n    name: A\n    members: many\n", "a.yaml:2: members \"many\""},
		{"a.yaml", "orgs:\n  - code: a\n    colour: red\n", "a.yaml:3: unknown field \"colour\""},
		{"a.yaml", "orgs:\n  - code: a\n    name: [x]\n", "a.yaml:3: field \"name\""},
		{"a.yaml", "org:\n  - code: a\n", "a.yaml:1: unknown key \"org\""},
		{"a.yaml", "orgs: [\n", "a.yaml:"},
		{"a.csv", "code,name,colour\n", "a.csv:1: unknown column \"colour\""},
		{"a.csv", "code,name\na,A\nb,\"B\n", "a.csv:3"},
		{"a.csv", "code,members\na,x\n", "a.csv:2: members \"x\""},
		{"a.json", "{}", "unknown format"},
		// Parsed fine, rejected by the import's validation at its line.
		{"a.yaml", "orgs:\n  - code: a\n    name: A\n    level: union\n    board_reminder: 0 9 * *\n", "a.yaml:2: invalid board_reminder"},
		{"a.csv", "code,name,level,board_reminder\na,A,union,0 9 * * 1\nb,B,union,monday\n", "a.csv:3: invalid board_reminder"},
		{"a.yaml", "orgs:\n  - code: a\n    name: A\n    level: union\n    board_reminder: \"@hourly\"\n", "a.yaml:2: invalid board_reminder \"@hourly\" for \"a\": not weekly"},
		{"a.csv", "code,name,level,board_reminder\na,A,union,0 9 * * 1\nb,B,union,0 9 * * 1-5\n", "a.csv:3: invalid board_reminder \"0 9 * * 1-5\" for \"b\": not weekly"},
	}
	for _, tt := range tests {
		orgs, err := parseOrgFile(tt.name, strings.NewReader(tt.text))
		if err == nil {
			_, err = storage.PlanImport(nil, orgs)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: error %v, want it to contain %q", tt.name, tt.text, err, tt.want)
		}
	}
}

func TestExampleTreeParses(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../examples/orgs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	orgs, err := parseOrgFile("orgs.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	count := map[storage.Level]int{}
	underUnion := 0
	for _, o := range orgs {
		count[o.Level]++
		if o.Level == storage.LevelPrimary && o.ParentCode == "union" {
			underUnion++
		}
	}
	if count[storage.LevelUnion] != 1 || count[storage.LevelBranch] < 3 || count[storage.LevelPrimary] < 10 || underUnion < 1 {
		t.Fatalf("example tree has %v and %d primaries under the Union; want 1 union, ≥3 branches, ≥10 primaries, ≥1 primary under the Union", count, underUnion)
	}
}

func TestParseLifetime(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"30d": true, "2w": true, "12h": true, "90m": true, "never": true, "0d": false, "-1d": false, "d": false, "30": false, "1y": false} {
		if _, err := parseLifetime(in); (err == nil) != ok {
			t.Errorf("parseLifetime(%q) err = %v, want ok=%v", in, err, ok)
		}
	}
}
