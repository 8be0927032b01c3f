package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/examples"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

// TestOrgImportRefuses runs `org import` on bad files against a database
// that holds the example tree: each is refused at its line and changes
// nothing, on both databases.
func TestOrgImportRefuses(t *testing.T) {
	t.Parallel()
	var thousand strings.Builder
	thousand.WriteString("code,name,parent,level\n")
	for i := range 1000 {
		fmt.Fprintf(&thousand, "x%d,,union,district\n", i) // two problems a line
	}
	tests := []struct {
		name, file, text string
		want             []string
	}{
		{"case clash with the database", "a.csv", "code,name,parent,level\nEDU,Образование,union,branch\n",
			[]string{`a.csv:2: code "EDU" differs only in case from "edu" in the database`}},
		{"second union", "a.yaml", "orgs:\n  - code: union2\n    name: Второй союз\n    level: union\n",
			[]string{`a.yaml:2: second union "union2": the tree has one root, the union "union" in the database`}},
		{"bidi override", "a.csv", "code,name,parent,level\nedu-x,Школа \u202e5,edu,primary\n",
			[]string{`a.csv:2: name of "edu-x" contains the invisible character U+202E`}},
		{"member count beyond 32 bits", "a.csv", "code,name,parent,level,members\nedu-x,Школа,edu,primary,1000000000000\n",
			[]string{`a.csv:2: member count 1000000000000 for "edu-x" is above 2147483647`}},
		{"duplicate column", "a.csv", "code,name,parent,level,name\nedu-x,Школа,edu,primary,Другая\n",
			[]string{`a.csv:1: column "name" given twice (columns 2 and 5)`}},
		{"a thousand bad lines", "a.csv", thousand.String(),
			[]string{"a.csv:2: empty name", `a.csv:11: unknown level "district" for "x9"`, "and 1980 more problems"}},
	}
	for _, b := range []backend{onSQLite, onPostgres} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, b)
			r.importExample()
			before := r.mustRun("org", "list")
			for _, tt := range tests {
				path := filepath.Join(t.TempDir(), tt.file)
				if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
					t.Fatal(err)
				}
				out, errOut, code := r.run("org", "import", path)
				if code != exitFail || out != "" {
					t.Errorf("%s: exit %d, stdout %q; want 1 and nothing", tt.name, code, out)
				}
				errOut = strings.ReplaceAll(errOut, filepath.Dir(path)+string(filepath.Separator), "")
				for _, w := range tt.want {
					if !strings.Contains(errOut, w) {
						t.Errorf("%s: stderr does not say %q:\n%s", tt.name, w, errOut)
					}
				}
				if lines := strings.Count(errOut, "\n"); lines > maxShownProblems+2 {
					t.Errorf("%s: %d lines on stderr, want at most %d", tt.name, lines, maxShownProblems+2)
				}
				if after := r.mustRun("org", "list"); after != before {
					t.Errorf("%s: a refused import changed the tree:\n%s", tt.name, after)
				}
			}
		})
	}
}

func TestProblemsPrintTheFirstTwenty(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{
		1:  "p1",
		20: "p20",
		21: "p20\nand 1 more problem",
		25: "p20\nand 5 more problems",
	} {
		var errs []error
		for i := range n {
			errs = append(errs, fmt.Errorf("p%d", i+1))
		}
		// As the store returns them, and as the parser does.
		for _, err := range []error{
			fmt.Errorf("import orgs: %w", errors.Join(&storage.ImportError{Problems: errs}, nil)),
			errors.Join(errs...),
		} {
			got := firstProblems(err).Error()
			if !strings.HasPrefix(got, "p1") || !strings.HasSuffix(got, want) || strings.Count(got, "\n")+1 != min(n, 20)+min(n-min(n, 20), 1) {
				t.Errorf("%d problems print:\n%s", n, got)
			}
		}
	}
	if err := errors.New("connection refused"); firstProblems(err) != err {
		t.Error("a single error was changed")
	}
}

func TestExampleTreeParses(t *testing.T) {
	t.Parallel()
	in, err := orgs.ParseFile(examples.OrgsName, bytes.NewReader(examples.Orgs))
	if err != nil {
		t.Fatal(err)
	}
	count := map[storage.Level]int{}
	underUnion := 0
	for _, o := range in {
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
