package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/membership"
)

// Audit actions of the approvals page.
const (
	auditApprove = "membership_approve"
	auditReject  = "membership_reject"
)

// approvalPages are the registrations waiting for a leader's decision.
func (c *Console) approvalPages() pageGroup {
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /approvals", Need: access.ActApprove, Handle: c.approvalList},
			{Pattern: "POST /approvals/{id}", Need: access.ActApprove, Handle: c.approvalDecide},
		},
		Nav: []NavItem{{Path: "/approvals", Key: "console.nav_approvals", Need: access.ActApprove}},
	}
}

// approvalsPage is how many applications a page lists.
const approvalsPage = 50

type approvalData struct {
	Apps       []appLine
	Done       string
	Prev, Next string
}

type appLine struct {
	ID                  int64
	Name, Org, Role, At string
}

func (c *Console) approvalList(w http.ResponseWriter, rq *Request) error {
	pending, err := c.cfg.Membership.Pending(rq.Context(), rq.Session.Actor)
	if err != nil {
		return err
	}
	page := listPage(rq)
	from := min(page*approvalsPage, len(pending))
	to := min(from+approvalsPage, len(pending))
	d := approvalData{}
	if key, ok := doneKeys[rq.URL.Query().Get("done")]; ok {
		d.Done = rq.T(key)
	}
	if page > 0 {
		d.Prev = "/approvals?page=" + strconv.Itoa(page)
	}
	if to < len(pending) {
		d.Next = "/approvals?page=" + strconv.Itoa(page+2)
	}
	for _, m := range pending[from:to] {
		app, err := c.cfg.Membership.Application(rq.Context(), m)
		if err != nil {
			return err
		}
		role := rq.T("role." + string(m.Role))
		if app.Supporter {
			role = rq.T("console.approvals_supporter", "Role", role)
		}
		d.Apps = append(d.Apps, appLine{ID: m.ID, Name: app.Applicant.FullName, Org: m.Org.Name, Role: role,
			At: m.CreatedAt.Format(time.DateTime)})
	}
	return c.render(w, rq, http.StatusOK, "approvals/list", d)
}

func (c *Console) approvalDecide(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	var approve bool
	switch rq.PostFormValue("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return &pageError{status: http.StatusUnprocessableEntity, key: "console.approvals_bad_decision"}
	}
	d, err := c.cfg.Membership.Decide(rq.Context(), rq.Session.Actor, id, approve)
	var decided *membership.DecidedError
	var withdrawn *membership.WithdrawnError
	switch {
	case errors.As(err, &decided):
		return &pageError{status: http.StatusConflict, key: "console.approvals_decided"}
	case errors.As(err, &withdrawn):
		return &pageError{status: http.StatusGone, key: "console.approvals_withdrawn"}
	case err != nil:
		return err
	}
	action, done := auditReject, "rejected"
	if approve {
		action, done = auditApprove, "approved"
	}
	if err := rq.Audit(action, d.Membership.Org.ID, fmt.Sprintf("membership:%d", d.Membership.ID)); err != nil {
		return err
	}
	redirect(w, rq, "/approvals?done="+done)
	return nil
}
