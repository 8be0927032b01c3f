package orgs_test

import (
	"strings"
	"testing"

	"github.com/unionhub/unionhub/orgs"
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
	y, err := orgs.ParseFile("tree.yaml", strings.NewReader(yamlText))
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgs.ParseFile("tree.csv", strings.NewReader(csvText))
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
		{"a.csv", "code,name,level,board_reminder\na,A,union,0 9 * * 1\nb,B,branch,0 9 * * 1-5\n", "a.csv:3: invalid board_reminder \"0 9 * * 1-5\" for \"b\": not weekly"},
		// A repeated column or field would silently win over the first.
		{"a.csv", "code,name,level,name\na,A,union,B\n", `a.csv:1: column "name" given twice (columns 2 and 4)`},
		{"a.csv", "code, name ,level,name\n", `a.csv:1: column "name" given twice`},
		{"a.yaml", "orgs:\n  - code: a\n    name: A\n    level: union\n    name: B\n", `a.yaml:5: field "name" given twice (first at line 3)`},
		{"a.yaml", "orgs: []\norgs:\n  - code: a\n", `a.yaml:2: "orgs" given twice (first at line 1)`},
		{"a.csv", "code,name,level,members\na,A,union,99999999999999999999\n", `a.csv:2: members "99999999999999999999" is too large (at most 2147483647)`},
		{"a.yaml", "orgs:\n  - code: a\n    name: A\n    level: union\n    members: 1000000000000\n", `a.yaml:2: member count 1000000000000 for "a" is above 2147483647`},
		{"a.csv", "code,name,level,parent\nedu,E,union,\nEDU,E2,branch,edu\n", `a.csv:3: code "EDU" differs only in case from "edu" at a.csv:2`},
		{"a.csv", "code,name,level\na,A,union\nb,B,union\n", `a.csv:3: second union "b": the tree has one root, the union "a" at a.csv:2`},
		{"a.csv", "code,name,level\na,Школа \u202e5,union\n", `a.csv:2: name of "a" contains the invisible character U+202E`},
	}
	for _, tt := range tests {
		orgs, err := orgs.ParseFile(tt.name, strings.NewReader(tt.text))
		if err == nil {
			_, err = storage.PlanImport(nil, orgs)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: error %v, want it to contain %q", tt.name, tt.text, err, tt.want)
		}
	}
}
