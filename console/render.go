package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/unionhub/unionhub/locales"
)

//go:embed templates assets
var files embed.FS

// pageTemplate is one page parsed with the layout.
type pageTemplate struct {
	t *template.Template
}

// assetVersions fingerprints each asset by its content, so that its URL
// changes with it and browsers may cache it for good.
var assetVersions = func() map[string]string {
	out := map[string]string{}
	entries, _ := fs.ReadDir(files, "assets")
	for _, e := range entries {
		b, _ := fs.ReadFile(files, "assets/"+e.Name())
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return out
}()

// funcs are the helpers every template may call.
var funcs = template.FuncMap{
	// asset is the URL of an embedded asset, with its fingerprint.
	"asset": func(name string) (string, error) {
		v, ok := assetVersions[name]
		if !ok {
			return "", fmt.Errorf("no asset %q", name)
		}
		return "/assets/" + name + "?v=" + v, nil
	},
}

// parsePages parses every page under templates/ (layout.html aside) with
// the layout; a page is named by its path without ".html": "home",
// "orgs/list".
func parsePages() (map[string]*pageTemplate, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse the layout: %w", err)
	}
	pages := map[string]*pageTemplate{}
	err = fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || p == "templates/layout.html" {
			return err
		}
		t, err := template.Must(base.Clone()).ParseFS(files, p)
		if err != nil {
			return fmt.Errorf("console: parse %s: %w", p, err)
		}
		pages[strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")] = &pageTemplate{t: t}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pages, nil
}

// view is what a template sees: the request (.T, .Lang, .Session, .CSRF),
// the navigation and the page's own data.
type view struct {
	*Request
	Nav  []navLink
	Data any
}

// navLink is a navigation entry as shown.
type navLink struct {
	Path, Label string
	Current     bool
}

// langLink switches the page's language.
type langLink struct {
	Code, Name, Href string
}

// Langs are the other languages the page can be shown in.
func (v view) Langs() []langLink {
	var out []langLink
	for _, l := range locales.Languages {
		if l == v.Lang {
			continue
		}
		q := v.URL.Query()
		q.Set("lang", l)
		out = append(out, langLink{Code: l, Name: v.console.cfg.Catalog.T(l, "console.lang_name"), Href: v.URL.Path + "?" + q.Encode()})
	}
	return out
}

// render writes page name in the layout with data, rendered whole before
// anything is sent, so a failing template is a clean internal error.
func (c *Console) render(w http.ResponseWriter, rq *Request, status int, name string, data any) error {
	p, ok := c.pages[name]
	if !ok {
		return fmt.Errorf("render %s: no such page", name)
	}
	v := view{Request: rq, Data: data}
	for _, n := range c.navFor(rq) {
		v.Nav = append(v.Nav, navLink{Path: n.Path, Label: rq.T(n.Key), Current: n.Path == rq.URL.Path})
	}
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
	return nil
}

// renderError shows a failure in a page of its own.
func (c *Console) renderError(w http.ResponseWriter, rq *Request, pe *pageError) {
	if err := c.render(w, rq, pe.status, "error", pe); err != nil {
		c.logger.ErrorContext(rq.Context(), "render the error page", "err", err)
		http.Error(w, http.StatusText(pe.status), pe.status)
	}
}

// langCookie keeps the language a person chose in this browser.
const langCookie = "unionhub_lang"

// langOf is the language of a page: the one chosen in this browser, else
// the person's (from the bot), else Russian.
func langOf(r *http.Request, personal string) string {
	if ck, err := r.Cookie(langCookie); err == nil && slices.Contains(locales.Languages, ck.Value) {
		return ck.Value
	}
	if personal != "" {
		return locales.Normalize(personal)
	}
	return locales.Default
}

// switchLang handles "?lang=en" on a GET: it keeps the choice in a cookie
// and shows the same page again without the parameter. Links do this, so
// it works without JavaScript.
func (c *Console) switchLang(w http.ResponseWriter, rq *Request) bool {
	q := rq.URL.Query()
	if rq.Method != http.MethodGet || !q.Has("lang") {
		return false
	}
	lang := locales.Normalize(q.Get("lang"))
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	q.Del("lang")
	to := (&url.URL{Path: path.Clean("/" + rq.URL.Path), RawQuery: q.Encode()}).String()
	redirect(w, rq, to)
	return true
}

// assetPages serve the embedded CSS and JavaScript.
func (c *Console) assetPages() pageGroup {
	return pageGroup{Routes: []Route{{Pattern: "GET /assets/{name}", Public: true, Handle: c.asset}}}
}

func (c *Console) asset(w http.ResponseWriter, rq *Request) error {
	name := rq.PathValue("name")
	v, ok := assetVersions[name]
	if !ok {
		return errNotFound
	}
	b, err := files.ReadFile("assets/" + name)
	if err != nil {
		return fmt.Errorf("read asset %s: %w", name, err)
	}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
	w.Header().Set("Content-Type", types[path.Ext(name)])
	if rq.URL.Query().Get("v") == v {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
	return nil
}
