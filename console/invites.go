package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
)

// Audit actions of the invite pages.
const (
	auditInviteCreate = "invite_create"
	auditInviteRevoke = "invite_revoke"
)

// InviteLink is where an invite opens the bot on one messenger.
type InviteLink struct {
	Platform storage.Platform
	URL      string
}

// invitePages make, show, print and revoke invites.
func (c *Console) invitePages() pageGroup {
	return pageGroup{Routes: []Route{
		{Pattern: "POST /orgs/{id}/invites", Need: access.ActManageOrgs, Handle: c.inviteCreate},
		{Pattern: "GET /invites/{code}", Need: access.ActManageOrgs, Handle: c.inviteView},
		{Pattern: "GET /invites/{code}/print", Need: access.ActManageOrgs, Handle: c.invitePrint},
		{Pattern: "GET /invites/{code}/qr/{platform}", Need: access.ActManageOrgs, Handle: c.inviteQR},
		{Pattern: "POST /invites/{code}/revoke", Need: access.ActManageOrgs, Handle: c.inviteRevoke},
	}}
}

// lifetimeChoices are the lifetimes the form offers, in days; 0 never ends.
var lifetimeChoices = []int{7, 30, 90, 365, 0}

func lifetimes(rq *Request) []lifetime {
	out := make([]lifetime, len(lifetimeChoices))
	for i, days := range lifetimeChoices {
		label := rq.T("console.invites_never")
		if days > 0 {
			label = rq.Plural("console.invites_days", days)
		}
		out[i] = lifetime{Value: strconv.Itoa(days), Label: label, Default: days == 30}
	}
	return out
}

func inviteLineOf(rq *Request, inv storage.Invite, now time.Time) inviteLine {
	l := inviteLine{Code: inv.Code, Role: rq.T("role." + string(inv.Role)), Usable: inv.Usable(now) == nil}
	if inv.MaxUses == 0 {
		l.Uses = rq.Plural("console.invites_used_unlimited", inv.Uses)
	} else {
		l.Uses = rq.T("console.invites_used_of", "Uses", inv.Uses, "Max", inv.MaxUses)
	}
	switch err := inv.Usable(now); {
	case errors.Is(err, storage.ErrInviteRevoked):
		l.State = rq.T("console.invites_state_revoked", "Date", inv.RevokedAt.Format(time.DateOnly))
	case errors.Is(err, storage.ErrInviteExpired):
		l.State = rq.T("console.invites_state_expired", "Date", inv.ExpiresAt.Format(time.DateOnly))
	case errors.Is(err, storage.ErrInviteUsedUp):
		l.State = rq.T("console.invites_state_used_up")
	case inv.ExpiresAt == nil:
		l.State = rq.T("console.invites_state_forever")
	default:
		l.State = rq.T("console.invites_state_until", "Date", inv.ExpiresAt.Format(time.DateOnly))
	}
	return l
}

func (c *Console) inviteCreate(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	role := storage.Role(rq.PostFormValue("role"))
	uses, errUses := strconv.Atoi(strings.TrimSpace(rq.PostFormValue("uses")))
	if strings.TrimSpace(rq.PostFormValue("uses")) == "" {
		uses, errUses = 0, nil
	}
	days, errDays := strconv.Atoi(rq.PostFormValue("days"))
	switch {
	case !role.Valid():
		return c.showOrg(w, rq, http.StatusUnprocessableEntity, nil, []string{rq.T("console.invites_bad_role")})
	case errUses != nil || uses < 0 || uses > 100000:
		return c.showOrg(w, rq, http.StatusUnprocessableEntity, nil, []string{rq.T("console.invites_bad_uses")})
	case errDays != nil || days < 0 || days > 3650:
		return c.showOrg(w, rq, http.StatusUnprocessableEntity, nil, []string{rq.T("console.invites_bad_days")})
	}
	ttl := time.Duration(days) * 24 * time.Hour
	if days == 0 {
		ttl = -1
	}
	inv, org, err := c.cfg.Orgs.InviteFor(rq.Context(), rq.Session.Actor, id, role, uses, ttl)
	if errors.Is(err, orgs.ErrAdminBelowRoot) {
		return c.showOrg(w, rq, http.StatusUnprocessableEntity, nil, []string{rq.T("console.invites_admin_root")})
	}
	if err != nil {
		return err
	}
	if err := rq.Audit(auditInviteCreate, org.ID, "invite:"+inv.Code); err != nil {
		return err
	}
	redirect(w, rq, "/invites/"+inv.Code)
	return nil
}

// inviteData is an invite's page and its printable sheet.
type inviteData struct {
	Org    storage.Org
	Invite inviteLine
	Links  []inviteLinkLine
	// NoLinks: the deployment knows no bot name to link to yet.
	NoLinks bool
}

type inviteLinkLine struct {
	Platform, Name, URL, QR string
}

func (c *Console) inviteData(rq *Request) (inviteData, error) {
	inv, org, err := c.cfg.Orgs.InviteOf(rq.Context(), rq.Session.Actor, rq.PathValue("code"))
	if err != nil {
		return inviteData{}, err
	}
	d := inviteData{Org: org, Invite: inviteLineOf(rq, inv, c.clock())}
	for _, l := range c.inviteLinks(inv.Code) {
		d.Links = append(d.Links, inviteLinkLine{Platform: string(l.Platform), Name: rq.T(platformKeys[l.Platform]),
			URL: l.URL, QR: "/invites/" + inv.Code + "/qr/" + string(l.Platform)})
	}
	d.NoLinks = len(d.Links) == 0
	return d, nil
}

// inviteLinks are the invite's links on the messengers whose bot names the
// deployment knows.
func (c *Console) inviteLinks(code string) []InviteLink {
	if c.cfg.InviteLinks == nil {
		return nil
	}
	var out []InviteLink
	for _, l := range c.cfg.InviteLinks(code) {
		if l.URL != "" {
			out = append(out, l)
		}
	}
	return out
}

func (c *Console) inviteView(w http.ResponseWriter, rq *Request) error {
	d, err := c.inviteData(rq)
	if err != nil {
		return err
	}
	return c.render(w, rq, http.StatusOK, "invites/view", d)
}

func (c *Console) invitePrint(w http.ResponseWriter, rq *Request) error {
	d, err := c.inviteData(rq)
	if err != nil {
		return err
	}
	return c.render(w, rq, http.StatusOK, "invites/print", d)
}

// qrSize is the side of a QR code image in pixels, as the command line
// writes them: sharp when printed across half an A4 page.
const qrSize = 512

// inviteQR is the QR code of an invite's link on one messenger, made as
// the command line makes it.
func (c *Console) inviteQR(w http.ResponseWriter, rq *Request) error {
	inv, _, err := c.cfg.Orgs.InviteOf(rq.Context(), rq.Session.Actor, rq.PathValue("code"))
	if err != nil {
		return err
	}
	for _, l := range c.inviteLinks(inv.Code) {
		if string(l.Platform) != rq.PathValue("platform") {
			continue
		}
		png, err := qrcode.Encode(l.URL, qrcode.Medium, qrSize)
		if err != nil {
			return fmt.Errorf("make QR code: %w", err)
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="invite-%s-%s.png"`, inv.Role, l.Platform))
		_, _ = w.Write(png)
		return nil
	}
	return errNotFound
}

func (c *Console) inviteRevoke(w http.ResponseWriter, rq *Request) error {
	code := rq.PathValue("code")
	org, err := c.cfg.Orgs.Revoke(rq.Context(), rq.Session.Actor, code)
	if err != nil {
		return err
	}
	if err := rq.Audit(auditInviteRevoke, org.ID, "invite:"+code); err != nil {
		return err
	}
	redirect(w, rq, fmt.Sprintf("/orgs/%d?done=revoked", org.ID))
	return nil
}
