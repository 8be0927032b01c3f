package unionhub

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/unionhub/unionhub"

// domains are the packages that hold the application's rules: they are
// called by the front ends and speak to people only through the notifiers
// they declare.
var domains = []string{"access", "surveys", "membership", "orgs", "hotline", "monitoring", "news", "signin"}

// imports reads, per package directory, what its non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			if !slices.Contains(out[dir], p) {
				out[dir] = append(out[dir], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPackagesKeepToTheArrows checks the arrows of ARCHITECTURE.md: who may
// import whom.
func TestPackagesKeepToTheArrows(t *testing.T) {
	t.Parallel()
	all := imports(t)
	inside := func(dir, root string) bool { return dir == root || strings.HasPrefix(dir, root+"/") }
	for dir, imps := range all {
		for _, imp := range imps {
			local := strings.TrimPrefix(imp, module+"/")
			isLocal := local != imp
			var why string
			switch {
			case isLocal && inside(local, "cmd"):
				why = "nothing imports cmd"
			case strings.HasPrefix(imp, "github.com/go-telegram/bot") && !inside(dir, "bot/telegram"):
				why = "only bot/telegram speaks to the Telegram SDK"
			case strings.HasPrefix(imp, "github.com/SevereCloud/vksdk") && !inside(dir, "bot/vk"):
				why = "only bot/vk speaks to the VK SDK"
			case (inside(dir, "bot/telegram") || inside(dir, "bot/vk")) && isLocal && (inside(local, "storage") || inside(local, "handlers")):
				why = "a platform adapter knows only the bot core"
			case inside(dir, "storage") && isLocal && (inside(local, "handlers") || inside(local, "bot") || inside(local, "broadcast")):
				why = "storage knows no front end, platform or engine"
			case inside(dir, "broadcast") && isLocal && (inside(local, "handlers") || inside(local, "console")):
				why = "the engine never calls a front end"
			case inside(dir, "console") && isLocal && (inside(local, "handlers") || inside(local, "bot") || inside(local, "broadcast")):
				why = "the console is a front end over the domains: no chat front end, platform or engine"
			}
			for _, d := range domains {
				if !inside(dir, d) {
					continue
				}
				switch {
				case isLocal && (inside(local, "handlers") || inside(local, "console") || inside(local, "bot")):
					why = "a domain package knows no front end and no platform"
				case isLocal && inside(local, "locales"):
					why = "a domain package renders no text: its notifier does"
				case isLocal && inside(local, "chart"):
					why = "a domain package draws no image: its front ends do"
				case imp == "net/http" || strings.HasPrefix(imp, "github.com/go-telegram") || strings.HasPrefix(imp, "github.com/SevereCloud"):
					why = "a domain package speaks no HTTP and no SDK"
				}
			}
			if why != "" {
				t.Errorf("%s imports %s: %s", dir, imp, why)
			}
		}
	}
	for _, d := range domains {
		if _, ok := all[d]; !ok {
			t.Errorf("domain package %s has no code", d)
		}
	}
}
