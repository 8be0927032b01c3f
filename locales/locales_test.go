package locales

import (
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// pluralForms are the CLDR categories each language's integers use.
var pluralForms = map[string][]string{
	"ru": {"few", "many", "one", "other"},
	"en": {"one", "other"},
}

func readCatalog(t *testing.T, lang string) map[string]any {
	t.Helper()
	raw, err := files.ReadFile(lang + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s.yaml: %v", lang, err)
	}
	return m
}

func TestCatalogsHaveTheSameKeysAndPluralForms(t *testing.T) {
	t.Parallel()
	ru, en := readCatalog(t, "ru"), readCatalog(t, "en")
	for _, pair := range []struct {
		name     string
		has, not map[string]any
	}{{"en", ru, en}, {"ru", en, ru}} {
		for key := range pair.has {
			if _, ok := pair.not[key]; !ok {
				t.Errorf("key %q is missing in %s.yaml", key, pair.name)
			}
		}
	}
	for lang, cat := range map[string]map[string]any{"ru": ru, "en": en} {
		for key, v := range cat {
			forms, plural := v.(map[string]any)
			if !plural {
				continue
			}
			var got []string
			for f := range forms {
				got = append(got, f)
			}
			slices.Sort(got)
			if !slices.Equal(got, pluralForms[lang]) {
				t.Errorf("%s.yaml %q has plural forms %v, want %v", lang, key, got, pluralForms[lang])
			}
		}
	}
}

// keyLiteral matches string literals shaped like catalog keys.
var keyLiteral = regexp.MustCompile(`^[a-z]+\.[a-z0-9_]+$`)

// sourceLiterals returns every string literal in the module's non-test Go code.
func sourceLiterals(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	lits := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					lits[s] = append(lits[s], fset.Position(lit.Pos()).String())
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lits
}

func TestEveryKeyIsUsedAndEveryUsedKeyExists(t *testing.T) {
	t.Parallel()
	ru := readCatalog(t, "ru")
	lits := sourceLiterals(t)
	for key := range ru {
		if _, ok := lits[key]; !ok {
			t.Errorf("key %q is in the catalogs but no code uses it", key)
		}
	}
	namespaces := map[string]bool{}
	for key := range ru {
		ns, _, _ := strings.Cut(key, ".")
		namespaces[ns] = true
	}
	for lit, where := range lits {
		ns, _, _ := strings.Cut(lit, ".")
		if keyLiteral.MatchString(lit) && namespaces[ns] {
			if _, ok := ru[lit]; !ok {
				t.Errorf("%s uses key %q that the catalogs lack", where[0], lit)
			}
		}
	}
}

func TestRussianPluralsFollowCLDR(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n    int
		want string
	}{
		{1, "1 организация,"}, {2, "2 организации,"}, {4, "4 организации,"}, {5, "5 организаций,"},
		{11, "11 организаций,"}, {12, "12 организаций,"}, {21, "21 организация,"}, {22, "22 организации,"},
		{25, "25 организаций,"}, {101, "101 организация,"}, {111, "111 организаций,"},
	}
	for _, tt := range tests {
		got := c.Plural("ru", "reg.pick_count", tt.n, "Page", 1, "Pages", 1)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("Plural(ru, %d) = %q, want prefix %q", tt.n, got, tt.want)
		}
	}
	if got := c.Plural("en", "reg.pick_count", 1, "Page", 1, "Pages", 2); got != "1 organisation, page 1 of 2." {
		t.Errorf("Plural(en, 1) = %q", got)
	}
}

func TestTextsFallBackAndFillTemplates(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, key string
		kv        []any
		want      string
	}{
		{"ru", "bind.done", []any{"Org", "ППО школы № 5"}, "Чат привязан к организации «ППО школы № 5»."},
		{"en-US", "bind.done", []any{"Org", "School 5"}, "The chat is attached to «School 5»."},
		{"de", "lang.changed", nil, "Язык изменён."},
		{"ru", "no.such_key", nil, "no.such_key"},
		// Template data is never re-parsed: a name with braces stays as typed.
		{"ru", "bind.done", []any{"Org", "{{.Evil}} <b>"}, "Чат привязан к организации «{{.Evil}} <b>»."},
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key, tt.kv...); got != tt.want {
			t.Errorf("T(%s, %s) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}

// consentTextHashes pins the consent text of each version: changing the text
// without bumping ConsentVersion fails here.
var consentTextHashes = map[string]string{
	ConsentVersion: "fd6f35c1e548f01766b99a7fad82d411c212bb5006778b1da54c60ab7ae14b42",
}

func TestConsentVersionChangesWithItsText(t *testing.T) {
	t.Parallel()
	h := sha256.New()
	for _, lang := range Languages {
		text, ok := readCatalog(t, lang)["consent.text"].(string)
		if !ok {
			t.Fatalf("%s.yaml lacks consent.text", lang)
		}
		h.Write([]byte(lang + "\x00" + text + "\x00"))
	}
	got := hex.EncodeToString(h.Sum(nil))
	if want := consentTextHashes[ConsentVersion]; got != want {
		t.Fatalf("consent text hash %s does not match version %s (%s): bump ConsentVersion and record the new hash", got, ConsentVersion, want)
	}
}
