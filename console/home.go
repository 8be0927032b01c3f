package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
)

// homePages are the dashboard a session opens on.
func (c *Console) homePages() pageGroup {
	return pageGroup{
		Routes: []Route{{Pattern: "GET /{$}", Setup: true, Handle: c.home}},
		Nav:    []NavItem{{Path: "/", Key: "console.nav_home", Setup: true}},
	}
}

// homeData is the dashboard: who is signed in, their roles, what waits
// for them, where to go, and what the deployment still lacks.
type homeData struct {
	Name  string
	Setup bool
	Roles []roleLine
	// Waiting are the counts of what waits for the person, as sentences.
	Waiting []string
	// Areas are the other pages the person may open.
	Areas []navLink
	// Missing says which messengers are off and what to set for them.
	Missing []string
}

type roleLine struct{ Role, Org string }

func (c *Console) home(w http.ResponseWriter, rq *Request) error {
	ctx := rq.Context()
	act := rq.Session.Actor
	d := homeData{Name: rq.Session.Person.FullName, Setup: rq.Session.Setup}
	for _, m := range act.Roles {
		d.Roles = append(d.Roles, roleLine{Role: rq.T("role." + string(m.Role)), Org: m.Org.Name})
	}
	if len(act.Orgs(access.ActApprove)) > 0 {
		pending, err := c.cfg.Membership.Pending(ctx, act)
		if err != nil {
			return fmt.Errorf("count pending registrations: %w", err)
		}
		d.Waiting = append(d.Waiting, rq.Plural("console.home_pending", len(pending)))
	}
	switch n, more, err := c.cfg.Hotline.InboxCount(ctx, act, hotline.InboxFilter{Statuses: hotline.Unclosed}); {
	case errors.Is(err, access.ErrForbidden): // answers no questions
	case err != nil:
		return fmt.Errorf("count open questions: %w", err)
	case more:
		d.Waiting = append(d.Waiting, rq.Plural("console.inbox_home_over", n))
	default:
		d.Waiting = append(d.Waiting, rq.Plural("console.home_questions", n))
	}
	if roots := act.Orgs(access.ActPublish); len(roots) > 0 {
		seen := map[int64]bool{}
		for _, root := range roots {
			list, err := c.cfg.Store.Suggestions(ctx, root.ID)
			if err != nil {
				return fmt.Errorf("count suggestions: %w", err)
			}
			for _, s := range list {
				seen[s.ID] = true
			}
		}
		d.Waiting = append(d.Waiting, rq.Plural("console.home_suggestions", len(seen)))
	}
	for _, n := range c.navFor(rq) {
		if n.Path != "/" {
			d.Areas = append(d.Areas, navLink{Path: n.Path, Label: rq.T(n.Key)})
		}
	}
	if !c.cfg.Messengers.Telegram {
		d.Missing = append(d.Missing, rq.T("console.home_no_telegram"))
	}
	if !c.cfg.Messengers.VK {
		d.Missing = append(d.Missing, rq.T("console.home_no_vk"))
	}
	return c.render(w, rq, http.StatusOK, "home", d)
}
