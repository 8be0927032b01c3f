package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

// Audit actions of the organisation tree's pages.
const (
	auditOrgEdit   = "org_edit"
	auditOrgImport = "org_import"
)

// orgPages are the organisation tree: search, an organisation's page and
// its edit form (the file upload is in orgimport.go).
func (c *Console) orgPages() pageGroup {
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /orgs", Need: access.ActApprove, Handle: c.orgList},
			{Pattern: "GET /orgs/{id}", Need: access.ActApprove, Handle: c.orgView},
			{Pattern: "POST /orgs/{id}", Need: access.ActManageOrgs, Handle: c.orgEdit},
		},
		Nav: []NavItem{{Path: "/orgs", Key: "console.nav_orgs", Need: access.ActApprove}},
	}
}

// Texts of the values the pages show, named here in full so that the
// locales' test sees each key used.
var (
	levelKeys = map[storage.Level]string{storage.LevelUnion: "console.level_union",
		storage.LevelBranch: "console.level_branch", storage.LevelPrimary: "console.level_primary"}
	statusKeys = map[storage.MembershipStatus]string{storage.StatusActive: "console.orgs_status_active",
		storage.StatusPending: "console.orgs_status_pending"}
	platformKeys = map[storage.Platform]string{storage.Telegram: "console.platform_telegram", storage.VK: "console.platform_vk"}
)

// orgRow is an organisation in a list.
type orgRow struct {
	ID                int64
	Name, Code, Level string
	Members           int
}

func rowOf(rq *Request, o storage.Org) orgRow {
	return orgRow{ID: o.ID, Name: o.Name, Code: o.Code, Level: rq.T(levelKeys[o.Level]), Members: o.MemberCount}
}

// orgListData is a page of the search.
type orgListData struct {
	Query      string
	Orgs       []orgRow
	Prev, Next string // links to the pages around; "" when none
	CanImport  bool
	Done       string
}

func (c *Console) orgList(w http.ResponseWriter, rq *Request) error {
	q := strings.TrimSpace(rq.URL.Query().Get("q"))
	page := listPage(rq)
	list, more, err := c.cfg.Orgs.Search(rq.Context(), rq.Session.Actor, q, page)
	if err != nil {
		return err
	}
	d := orgListData{Query: q, CanImport: len(rq.Session.Actor.Orgs(access.ActImportTree)) > 0}
	if key, ok := doneKeys[rq.URL.Query().Get("done")]; ok {
		d.Done = rq.T(key)
	}
	for _, o := range list {
		d.Orgs = append(d.Orgs, rowOf(rq, o))
	}
	link := func(p int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if p > 0 {
			v.Set("page", strconv.Itoa(p+1))
		}
		if len(v) == 0 {
			return "/orgs"
		}
		return "/orgs?" + v.Encode()
	}
	if page > 0 {
		d.Prev = link(page - 1)
	}
	if more {
		d.Next = link(page + 1)
	}
	return c.render(w, rq, http.StatusOK, "orgs/list", d)
}

// listPage is the page a list asks for, counted from 0, bounded so that
// the offset a query is given stays sane.
func listPage(rq *Request) int { return min(pageOf(rq.URL.Query()), 100000) - 1 }

// orgViewData is an organisation's page.
type orgViewData struct {
	orgs.OrgView
	Level      string
	Children   []orgRow
	Chats      []chatLine
	People     []personLine
	Prev, Next string
	Form       orgForm
	Problems   []string
	Done       string // the text of what was just done, if anything
	Roles      []roleChoice
	Lifetimes  []lifetime
	Invites    []inviteLine
}

// personLine is one person as the page shows them.
type personLine struct {
	Name, Role, Status, Consent string
	Messengers                  []string
}

// chatLine is a bound chat as shown.
type chatLine struct {
	Platform, Title string
	Desk            bool
}

// orgForm is the edit form's fields as typed.
type orgForm struct {
	Name, Members, TimeZone, BoardCron string
}

// inviteLine is an invite as listed on its organisation's page.
type inviteLine struct {
	Code, Role, Uses, State string
	Usable                  bool
}

// roleChoice is a role an invite may give, as offered.
type roleChoice struct{ Value, Label string }

// roleChoices are the roles an invite into org may give: the Union's
// staff only at the root.
func roleChoices(rq *Request, org storage.Org) []roleChoice {
	var out []roleChoice
	for _, r := range storage.Roles {
		if r != storage.RoleAdmin || org.ParentID == 0 {
			out = append(out, roleChoice{Value: string(r), Label: rq.T("role." + string(r))})
		}
	}
	return out
}

// lifetime is a choice of an invite's lifetime.
type lifetime struct {
	Value, Label string
	Default      bool
}

// doneKeys are the confirmations a redirect may ask a page to show.
var doneKeys = map[string]string{
	"edited":   "console.orgs_edited",
	"imported": "console.orgs_imported",
	"revoked":  "console.invites_revoked",
	"approved": "console.approvals_approved",
	"rejected": "console.approvals_rejected",
}

func (c *Console) orgView(w http.ResponseWriter, rq *Request) error {
	return c.showOrg(w, rq, http.StatusOK, nil, nil)
}

// showOrg renders an organisation's page, with the edit form as typed and
// its problems when an edit was refused.
func (c *Console) showOrg(w http.ResponseWriter, rq *Request, status int, typed *orgForm, problems []string) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	page := listPage(rq)
	v, err := c.cfg.Orgs.View(rq.Context(), rq.Session.Actor, id, page)
	if err != nil {
		return err
	}
	d := orgViewData{OrgView: v, Level: rq.T(levelKeys[v.Org.Level]), Problems: problems, Roles: roleChoices(rq, v.Org), Lifetimes: lifetimes(rq)}
	for _, o := range v.Children {
		d.Children = append(d.Children, rowOf(rq, o))
	}
	for _, ch := range v.Chats {
		d.Chats = append(d.Chats, chatLine{Platform: rq.T(platformKeys[ch.Platform]), Title: ch.Title, Desk: ch.Desk})
	}
	if key, ok := doneKeys[rq.URL.Query().Get("done")]; ok {
		d.Done = rq.T(key)
	}
	if typed != nil {
		d.Form = *typed
	} else {
		d.Form = orgForm{Name: v.Org.Name, Members: strconv.Itoa(v.Org.MemberCount), TimeZone: v.Org.TimeZone, BoardCron: v.Org.BoardCron}
	}
	for _, p := range v.People {
		d.People = append(d.People, c.personLine(rq, p))
	}
	now := c.clock()
	for _, inv := range v.Invites {
		d.Invites = append(d.Invites, inviteLineOf(rq, inv, now))
	}
	base := fmt.Sprintf("/orgs/%d", v.Org.ID)
	if page > 0 {
		d.Prev = base
		if page > 1 {
			d.Prev = fmt.Sprintf("%s?page=%d", base, page)
		}
	}
	if v.MorePeople {
		d.Next = fmt.Sprintf("%s?page=%d", base, page+2)
	}
	return c.render(w, rq, status, "orgs/view", d)
}

// personLine shows a person: name, role, whether their role is in force,
// their decision on personal data and where the bot reaches them. Leaders
// of the organisation or above see this in the bot too, when deciding.
func (c *Console) personLine(rq *Request, p storage.OrgPerson) personLine {
	l := personLine{Name: p.Person.FullName, Role: rq.T("role." + string(p.Membership.Role)),
		Status: rq.T(statusKeys[p.Membership.Status])}
	switch {
	case p.Consent == nil:
		l.Consent = rq.T("console.orgs_consent_none")
	case p.Consent.Accepted:
		l.Consent = rq.T("console.orgs_consent_given", "Date", p.Consent.At.Format(time.DateOnly))
	default:
		l.Consent = rq.T("console.orgs_consent_withdrawn", "Date", p.Consent.At.Format(time.DateOnly))
	}
	for _, a := range p.Accounts {
		key := "console.orgs_reached"
		if a.BlockedAt != nil {
			key = "console.orgs_blocked"
		}
		l.Messengers = append(l.Messengers, rq.T(key, "Platform", rq.T(platformKeys[a.Platform])))
	}
	return l
}

func (c *Console) orgEdit(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	f := orgForm{Name: strings.TrimSpace(rq.PostFormValue("name")), Members: strings.TrimSpace(rq.PostFormValue("members")),
		TimeZone: strings.TrimSpace(rq.PostFormValue("timezone")), BoardCron: strings.TrimSpace(rq.PostFormValue("board_reminder"))}
	members := 0
	if f.Members != "" {
		if members, err = strconv.Atoi(f.Members); err != nil {
			return c.showOrg(w, rq, http.StatusUnprocessableEntity, &f, []string{rq.T("console.orgs_bad_members")})
		}
	}
	org, err := c.cfg.Orgs.Edit(rq.Context(), rq.Session.Actor, id,
		orgs.OrgEdit{Name: f.Name, MemberCount: members, TimeZone: f.TimeZone, BoardCron: f.BoardCron})
	var ie *storage.ImportError
	if errors.As(err, &ie) {
		return c.showOrg(w, rq, http.StatusUnprocessableEntity, &f, problemLines(ie))
	}
	if err != nil {
		return err
	}
	if err := rq.Audit(auditOrgEdit, org.ID, fmt.Sprintf("org:%d", org.ID)); err != nil {
		return err
	}
	redirect(w, rq, fmt.Sprintf("/orgs/%d?done=edited", org.ID))
	return nil
}

// problemLines are a refused file's problems as lines of text. They are
// the importer's own messages, which name the line and the field in the
// terms of the file, as the command line prints them.
func problemLines(ie *storage.ImportError) []string {
	out := make([]string, len(ie.Problems))
	for i, p := range ie.Problems {
		out[i] = p.Error()
	}
	return out
}
