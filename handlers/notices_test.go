package handlers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/unionhub/unionhub/locales"
)

// maxNotice is what a VK snackbar shows: the adapter cuts anything longer,
// and a notice must not need that.
const maxNotice = 90

// noticeKeys returns the catalog keys the handlers show as press notices
// (notice, and refuse, which shows a notice for a press), with where each
// is used. A key passed as anything but a literal fails the test, so that
// none escapes it; refuse forwarding its own key is the one exception.
func noticeKeys(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "notice" && sel.Sel.Name != "refuse") || len(call.Args) < 2 {
					return true
				}
				where := fset.Position(call.Pos()).String()
				lit, ok := call.Args[1].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					if fn.Name.Name != "refuse" {
						t.Errorf("%s: %s is given a key that is not a literal: the notice test cannot check it", where, sel.Sel.Name)
					}
					return true
				}
				key, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				keys[key] = where
				return true
			})
		}
	}
	if len(keys) < 10 {
		t.Fatalf("found only %d notice keys: the search is broken", len(keys))
	}
	return keys
}

// noticeSamples are the longest values a notice's template can realistically
// get: six-digit numbers, a 60-character organisation, and a name as long as
// a notice shows one.
var noticeSamples = map[string]any{
	"ID":     999999,
	"Org":    "Профсоюзная организация МБОУ «Средняя школа № 12» г. Холмска",
	"Name":   strings.Repeat("Я", maxNoticeName) + "…",
	"Count":  999999,
	"Rating": 5,
}

// pressWords tell a person to press something, which a notice cannot
// offer: VK's snackbar has no buttons.
var pressWords = regexp.MustCompile(`(?i)нажм|нажат|press|tap\b|click`)

var templateField = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func TestPressNoticesFitAVKSnackbar(t *testing.T) {
	t.Parallel()
	if n := utf8.RuneCountInString(noticeSamples["Org"].(string)); n != 60 {
		t.Fatalf("the sample organisation has %d characters", n)
	}
	c, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	catalogs := map[string]map[string]any{}
	for _, lang := range locales.Languages {
		src, err := os.ReadFile(filepath.Join("..", "locales", lang+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var cat map[string]any
		if err := yaml.Unmarshal(src, &cat); err != nil {
			t.Fatal(err)
		}
		catalogs[lang] = cat
	}
	keys := noticeKeys(t)
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, key := range sorted {
		for _, lang := range locales.Languages {
			raw, _ := catalogs[lang][key].(string)
			var kv []any
			for _, m := range templateField.FindAllStringSubmatch(raw, -1) {
				v, ok := noticeSamples[m[1]]
				if !ok {
					t.Errorf("%s (%s): no sample value for {{.%s}}", key, keys[key], m[1])
				}
				kv = append(kv, m[1], v)
			}
			text := c.T(lang, key, kv...)
			if raw == "" || text == key {
				t.Errorf("%s (%s): no single text in %s.yaml", key, keys[key], lang)
			}
			if n := utf8.RuneCountInString(text); n > maxNotice {
				t.Errorf("%s (%s) in %s has %d characters, a snackbar shows %d: %q", key, keys[key], lang, n, maxNotice, text)
			}
			if pressWords.MatchString(text) {
				t.Errorf("%s (%s) in %s asks to press something, and a notice has no button: %q", key, keys[key], lang, text)
			}
		}
	}
}
