package locales

import (
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
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

// templateKey matches a quoted key in an HTML template.
var templateKey = regexp.MustCompile(`"([a-z]+\.[a-z0-9_]+)"`)

// sourceLiterals returns every string literal in the module's non-test Go
// code, and every quoted key in its HTML templates.
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
		if !d.IsDir() && strings.HasSuffix(path, ".html") {
			// The console's templates name their texts as quoted keys.
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range templateKey.FindAllStringSubmatch(string(raw), -1) {
				lits[m[1]] = append(lits[m[1]], path)
			}
			return nil
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

// foldedText is a catalog text whose source line breaks YAML folds away.
type foldedText struct {
	key   string
	line  int
	blank bool // an empty source line inside: a blank line folded into one line break
}

// foldedTexts finds the flow scalars (plain, single- or double-quoted) of a
// catalog that span several source lines. YAML folds a line break inside
// them into a space and an empty line into a single line break, so a text
// written with a blank line loses it: multi-line texts must be literal
// blocks (|-) or spell their breaks as "\n".
func foldedTexts(t *testing.T, raw []byte) []foldedText {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatal("a catalog is one mapping")
	}
	lines := strings.Split(string(raw), "\n")
	var found []foldedText
	var walk func(m *yaml.Node, key string, end int)
	walk = func(m *yaml.Node, key string, end int) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			next := end // the line the next key starts on bounds this value
			if i+2 < len(m.Content) {
				next = m.Content[i+2].Line
			}
			name := k.Value
			if key != "" {
				name = key + "." + k.Value
			}
			if v.Kind == yaml.MappingNode {
				walk(v, name, next)
				continue
			}
			if v.Kind != yaml.ScalarNode || v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				continue
			}
			span := scalarSource(lines, v, next)
			if len(span) < 2 {
				continue
			}
			blank := false
			for _, l := range span[1 : len(span)-1] {
				blank = blank || strings.TrimSpace(l) == ""
			}
			found = append(found, foldedText{key: name, line: v.Line, blank: blank})
		}
	}
	walk(doc.Content[0], "", len(lines)+1)
	return found
}

// scalarSource returns the source lines of flow scalar v, which ends
// before line next: a quoted one up to its closing quote, a plain one up
// to its last line that is neither empty nor a comment.
func scalarSource(lines []string, v *yaml.Node, next int) []string {
	first := []rune(lines[v.Line-1])[v.Column-1:]
	quote := rune(0)
	switch {
	case v.Style&yaml.DoubleQuotedStyle != 0:
		quote = '"'
	case v.Style&yaml.SingleQuotedStyle != 0:
		quote = '\''
	}
	if quote == 0 {
		span := []string{string(first)}
		for n := v.Line + 1; n < next && n <= len(lines); n++ {
			span = append(span, lines[n-1])
		}
		for len(span) > 1 {
			last := strings.TrimSpace(span[len(span)-1])
			if last != "" && !strings.HasPrefix(last, "#") {
				break
			}
			span = span[:len(span)-1]
		}
		return span
	}
	span := []string{}
	line := first[1:]
	for n := v.Line; n <= len(lines); n++ {
		if n > v.Line {
			line = []rune(lines[n-1])
		}
		span = append(span, string(line))
		for i := 0; i < len(line); i++ {
			switch {
			case quote == '"' && line[i] == '\\':
				i++ // an escape, or an escaped line break at the end
			case line[i] == quote && quote == '\'' && i+1 < len(line) && line[i+1] == '\'':
				i++
			case line[i] == quote:
				return span
			}
		}
	}
	return span
}

func TestFoldedTextsAreFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []foldedText
	}{
		{"one line each", "\"a.b\": \"x\"\n\n\"a.c\": plain\n# comment\n\"a.d\": 'it''s'\n", nil},
		{"blocks keep their lines", "\"a.b\": |-\n  x\n\n  y\n\"a.c\": >-\n  x\n\n  y\n", nil},
		{"escaped breaks", "\"a.b\": \"x\\n\\ny\"\n", nil},
		{"double-quoted blank line", "\"a.x\": \"y\"\n\"a.b\": \"x\n\n{{.Text}}\"\n\"a.c\": \"z\"\n", []foldedText{{"a.b", 2, true}}},
		{"double-quoted break", "\"a.b\": \"From:\n  {{.Text}}\"\n", []foldedText{{"a.b", 1, false}}},
		{"escaped quote does not end it", "\"a.b\": \"say \\\"hi\\\"\n\n  x\"\n", []foldedText{{"a.b", 1, true}}},
		{"single-quoted blank line", "\"a.b\": 'it''s\n\n  x'\n", []foldedText{{"a.b", 1, true}}},
		{"plain blank line", "\"a.b\": x\n\n  y\n\n# next\n\"a.c\": z\n", []foldedText{{"a.b", 1, true}}},
		{"plain break", "\"a.b\": x\n  y\n", []foldedText{{"a.b", 1, false}}},
		{"a plural form", "\"a.b\":\n  one: \"x\n\n  y\"\n  other: \"z\"\n", []foldedText{{"a.b.one", 2, true}}},
	}
	for _, tt := range tests {
		if got := foldedTexts(t, []byte(tt.src)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: found %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestNoTextLosesItsLineBreaks(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		raw, err := files.ReadFile(lang + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range foldedTexts(t, raw) {
			if f.blank {
				t.Errorf("%s.yaml:%d %q: its blank line is folded into a single line break; write it as a |- block or with \"\\n\\n\"", lang, f.line, f.key)
			} else {
				t.Errorf("%s.yaml:%d %q: its line break is folded into a space; write it as a |- block or with \"\\n\"", lang, f.line, f.key)
			}
		}
	}
}

func TestNoTextStartsOrEndsWithSpace(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages {
		for key, v := range readCatalog(t, lang) {
			texts := map[string]any{key: v}
			if forms, ok := v.(map[string]any); ok {
				texts = map[string]any{}
				for f, s := range forms {
					texts[key+"."+f] = s
				}
			}
			for name, s := range texts {
				if s, ok := s.(string); !ok || strings.TrimSpace(s) != s || s == "" {
					t.Errorf("%s.yaml %q = %q: empty, not a text, or with spaces or line breaks at an end", lang, name, s)
				}
			}
		}
	}
}
