package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/signin"
)

// How to add a page group (say, the organisation tree):
//
//  1. A file console/orgs.go with a method returning the group:
//
//     func (c *Console) orgPages() pageGroup {
//         return pageGroup{
//             Routes: []Route{
//                 {Pattern: "GET /orgs", Need: access.ActApprove, Handle: c.orgList},
//                 {Pattern: "POST /orgs/{id}", Need: access.ActApprove, Handle: c.orgEdit},
//             },
//             Nav: []NavItem{{Path: "/orgs", Key: "console.nav_orgs", Need: access.ActApprove}},
//         }
//     }
//
//  2. Its line in pageGroups below (the order is the navigation's).
//  3. Its templates, console/templates/orgs/list.html and so on, each
//     defining "title" and "content"; rendered with
//     c.render(w, rq, http.StatusOK, "orgs/list", data). In a template, .T
//     gives texts ({{.T "console.orgs_title"}}), .Data the page's data,
//     {{template "csrf" .}} the hidden field every POST form needs.
//  4. Its texts in locales/ru.yaml and en.yaml as "console.<name>" keys.
//  5. A handler calls the domain's use cases with rq.Session.Actor, which
//     check the rights on the very record (an id changed in the URL is
//     refused there, and statusOf turns access.ErrForbidden into 403 and
//     storage.ErrNotFound into 404); every change writes the audit log
//     with rq.Audit(action, orgID, "kind:id").
//
// The route's Need only hides what a person's roles never allow, and keeps
// them out of it: it is no substitute for the use case's own check.

// Route is one page or action of the console.
type Route struct {
	// Pattern is an http.ServeMux pattern with its method: "GET /orgs/{id}".
	Pattern string
	// Need is the right the person must hold somewhere in the tree; "" is
	// any staff role (chair, information worker, admin).
	Need access.Action
	// Setup lets a setup session in: the Union's staff signed in before
	// the tree has a root, who may only load it.
	Setup bool
	// Public routes need no session: signing in, the assets.
	Public bool
	// Passive routes are no activity of the person's (an event stream a
	// page holds open): their session is checked, not kept alive.
	Passive bool
	// MaxBody bounds the request body; 0 is 1 MB.
	MaxBody int64
	Handle  func(w http.ResponseWriter, rq *Request) error
}

// NavItem is an entry of the navigation, shown only to those whose roles
// allow Need (and to setup sessions only when Setup).
type NavItem struct {
	Path  string
	Key   string // the label's text
	Need  access.Action
	Setup bool
	// Shown, when set, must also allow the entry: for a right no role
	// action expresses (a named responder's).
	Shown func(rq *Request) bool
}

// pageGroup is one area of the console: its routes and navigation entries.
type pageGroup struct {
	Routes []Route
	Nav    []NavItem
}

// pageGroups are the console's areas, in the order of the navigation. The
// home page links to whatever the navigation holds, so a new group shows
// there too.
var pageGroups = []func(c *Console) pageGroup{
	(*Console).homePages,
	(*Console).orgPages,
	(*Console).orgImportPages,
	(*Console).invitePages,
	(*Console).approvalPages,
	(*Console).inboxPages,
	(*Console).newsPages,
	(*Console).suggestionPages,
	(*Console).monitoringPages,
	(*Console).surveyPages,
	(*Console).auditPages,
	(*Console).signinPages,
	(*Console).assetPages,
	(*Console).linkPages,
}

// defaultMaxBody bounds a request body unless the route says otherwise.
const defaultMaxBody = 1 << 20

// route wraps a route's handler: the language switch, the body bound, and
// unless it is public, the session, its rate, the CSRF token of a change
// and the rights the route needs.
func (c *Console) route(rt Route) http.Handler {
	maxBody := rt.MaxBody
	if maxBody == 0 {
		maxBody = defaultMaxBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := c.request(r)
		if c.switchLang(w, rq) {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if !rt.Public {
			if !c.resume(w, rq, rt.Passive) {
				return
			}
			if err := c.may(rt, rq); err != nil {
				c.fail(w, rq, err)
				return
			}
		}
		if err := rt.Handle(w, rq); err != nil {
			c.fail(w, rq, err)
		}
	})
}

// resume loads the request's session, or answers for it: a browser
// without a live session is sent to sign in. It also holds the session to
// its rate, and a change to its CSRF token. A passive request leaves the
// session's idle clock as it is.
func (c *Console) resume(w http.ResponseWriter, rq *Request, passive bool) bool {
	secret := ""
	if ck, err := rq.Cookie(c.sessionCookie()); err == nil {
		secret = ck.Value
	}
	resume := c.cfg.SignIn.Resume
	if passive {
		resume = c.cfg.SignIn.Alive
	}
	s, err := resume(rq.Context(), secret)
	var ended *signin.EndedError
	switch {
	case errors.As(err, &ended):
		if secret != "" {
			c.clearSession(w)
		}
		c.toSignIn(w, rq, ended.Reason)
		return false
	case err != nil:
		c.fail(w, rq, err)
		return false
	}
	rq.Session = s
	rq.Lang = langOf(rq.Request, s.Person.Locale)
	if !c.allow(w, rq, "session:"+s.IDHash, rateSession) {
		return false
	}
	if !safeMethod(rq.Method) {
		// A form over the route's bound would only read as a missing token.
		var tooBig *http.MaxBytesError
		if err := parseForm(rq); errors.As(err, &tooBig) {
			c.fail(w, rq, &pageError{status: http.StatusRequestEntityTooLarge, key: "console.error_too_large"})
			return false
		}
		if !validCSRF(rq.Request, s.Secret) {
			c.fail(w, rq, &pageError{status: http.StatusForbidden, key: "console.error_csrf"})
			return false
		}
	}
	return true
}

// multipartMemory is how much of an upload (an organisation file) is held
// in memory; the route's body bound caps the rest.
const multipartMemory = 4 << 20

// parseForm reads a change's form, an upload's too: ParseForm alone leaves
// a multipart body unread, and its token with it.
func parseForm(rq *Request) error {
	if strings.HasPrefix(rq.Header.Get("Content-Type"), "multipart/form-data") {
		return rq.ParseMultipartForm(multipartMemory)
	}
	return rq.ParseForm()
}

// toSignIn sends a browser without a session to the sign-in page, saying
// why its session ended; a change is refused in place, as a redirect would
// lose it.
func (c *Console) toSignIn(w http.ResponseWriter, rq *Request, reason string) {
	if !safeMethod(rq.Method) {
		c.renderError(w, rq, &pageError{status: http.StatusUnauthorized, key: "console.error_signed_out"})
		return
	}
	path := "/signin"
	if _, ok := endedKeys[reason]; ok && reason != signin.EndUnknown {
		path += "?ended=" + reason
	}
	redirect(w, rq, path)
}

// may refuses a route the session's rights do not open.
func (c *Console) may(rt Route, rq *Request) error {
	if rq.Session.Setup && !rt.Setup {
		return &pageError{status: http.StatusForbidden, key: "console.error_setup"}
	}
	if rt.Need != "" && len(rq.Session.Actor.Orgs(rt.Need)) == 0 {
		return access.ErrForbidden
	}
	return nil
}

// navFor is the navigation a session sees.
func (c *Console) navFor(rq *Request) []NavItem {
	if !rq.SignedIn() {
		return nil
	}
	var out []NavItem
	for _, n := range c.nav {
		switch {
		case rq.Session.Setup && !n.Setup:
		case n.Need != "" && len(rq.Session.Actor.Orgs(n.Need)) == 0:
		case n.Shown != nil && !n.Shown(rq):
		default:
			out = append(out, n)
		}
	}
	return out
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
