package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// auditPages are the audit log: what was done through the console and by
// the server, for admins over the whole tree and chairs over their subtree.
func (c *Console) auditPages() pageGroup {
	return pageGroup{
		Routes: []Route{{Pattern: "GET /audit", Need: access.ActAudit, Handle: c.auditLog}},
		Nav:    []NavItem{{Path: "/audit", Key: "console.nav_audit", Need: access.ActAudit}},
	}
}

// auditPageSize is how many entries one page of the log shows.
const auditPageSize = 50

// auditData is one page of the log with its filters.
type auditData struct {
	// Scopes are the subtrees the person may read; Scope the one shown.
	Scopes []auditScope
	Scope  string
	Action string
	// Person filters by who did it (0: anyone); PersonName names them.
	Person     int64
	PersonName string
	Rows       []auditRow
	// ShowIP is set for those who read the whole tree: the addresses are
	// the Union's staff's business only.
	ShowIP bool
	Older  string // the next page's address; "" on the last
}

type auditScope struct {
	Code, Name string
	Selected   bool
}

type auditRow struct {
	At       string
	PersonID int64
	Who      string
	Action   string
	Org      string
	Record   string
	IP       string
}

// auditLog lists the entries of the subtree chosen (the person's first by
// default), newest first; an entry on no organisation (a sign-in, the
// server's own) belongs to the whole tree only.
func (c *Console) auditLog(w http.ResponseWriter, rq *Request) error {
	ctx := rq.Context()
	act := rq.Session.Actor
	roots := act.Orgs(access.ActAudit)
	if len(roots) == 0 {
		return access.ErrForbidden
	}
	q := rq.URL.Query()
	scope := roots[0]
	if code := q.Get("org"); code != "" {
		o, err := c.cfg.Store.OrgByCode(ctx, code)
		if errors.Is(err, storage.ErrNotFound) {
			return errNotFound
		}
		if err != nil {
			return fmt.Errorf("find org %q: %w", code, err)
		}
		if !act.Can(access.ActAudit, o) {
			return access.ErrForbidden
		}
		scope = o
	}
	d := auditData{Scope: scope.Code, Action: q.Get("action"), ShowIP: scope.ParentID == 0}
	for _, r := range roots {
		d.Scopes = append(d.Scopes, auditScope{Code: r.Code, Name: r.Name, Selected: r.ID == scope.ID})
	}
	if !slicesContainsOrg(roots, scope) {
		d.Scopes = append(d.Scopes, auditScope{Code: scope.Code, Name: scope.Name, Selected: true})
	}
	query := storage.AuditQuery{Action: d.Action, Limit: auditPageSize + 1}
	if scope.ParentID != 0 {
		query.Under = &scope
	}
	var err error
	if query.PersonID, err = optionalID(q.Get("person")); err != nil {
		return err
	}
	if query.Before, err = optionalID(q.Get("before")); err != nil {
		return err
	}
	d.Person = query.PersonID
	entries, err := c.cfg.Store.Audit(ctx, query)
	if err != nil {
		return fmt.Errorf("list the audit log: %w", err)
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		next := url.Values{"org": {d.Scope}, "before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		if d.Action != "" {
			next.Set("action", d.Action)
		}
		if d.Person != 0 {
			next.Set("person", strconv.FormatInt(d.Person, 10))
		}
		d.Older = "/audit?" + next.Encode()
	}
	zone := time.UTC
	if z, err := time.LoadLocation(scope.TimeZone); err == nil && scope.TimeZone != "" {
		zone = z
	}
	names := map[int64]string{0: rq.T("console.audit_server")}
	orgNames := map[int64]string{0: ""}
	for _, e := range entries {
		who, err := c.auditName(rq, names, e.PersonID)
		if err != nil {
			return err
		}
		org, ok := orgNames[e.OrgID]
		if !ok {
			o, err := c.cfg.Store.Org(ctx, e.OrgID)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				org = "#" + strconv.FormatInt(e.OrgID, 10)
			case err != nil:
				return fmt.Errorf("find org %d: %w", e.OrgID, err)
			default:
				org = o.Name
			}
			orgNames[e.OrgID] = org
		}
		row := auditRow{At: e.At.In(zone).Format("02.01.2006 15:04:05"), PersonID: e.PersonID, Who: who,
			Action: e.Action, Org: org, Record: e.Record}
		if d.ShowIP {
			row.IP = e.IP
		}
		d.Rows = append(d.Rows, row)
	}
	if d.Person != 0 {
		if d.PersonName, err = c.auditName(rq, names, d.Person); err != nil {
			return err
		}
	}
	return c.render(w, rq, http.StatusOK, "audit/list", d)
}

// auditName is the name of who did something, looked up once a page.
func (c *Console) auditName(rq *Request, names map[int64]string, id int64) (string, error) {
	if n, ok := names[id]; ok {
		return n, nil
	}
	p, err := c.cfg.Store.Person(rq.Context(), id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		names[id] = rq.T("console.audit_erased")
	case err != nil:
		return "", fmt.Errorf("find person %d: %w", id, err)
	case p.FullName == "":
		names[id] = rq.T("console.audit_erased")
	default:
		names[id] = p.FullName
	}
	return names[id], nil
}

// optionalID reads an id from a query parameter: "" is 0, anything but a
// positive number a bad request.
func optionalID(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, &pageError{status: http.StatusBadRequest, key: "console.error_bad_request"}
	}
	return id, nil
}

func slicesContainsOrg(orgs []storage.Org, o storage.Org) bool {
	for _, x := range orgs {
		if x.ID == o.ID {
			return true
		}
	}
	return false
}
