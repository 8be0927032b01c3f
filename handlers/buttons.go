package handlers

import (
	"context"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// A button's data is its route's prefix and its fields joined by colons,
// "tk:take:42", within Telegram's 64 bytes. Each kind of button is a struct
// with named fields whose data() builds it and whose parse function reads
// it back; handlers never split data by hand. The wire format is what older
// messages carry, so their buttons keep working across an upgrade.

// joinData builds button data from a route prefix and fields.
func joinData(prefix string, fields ...string) string {
	return strings.Join(append([]string{prefix}, fields...), ":")
}

// fieldsOf splits data of route prefix into exactly n fields after the
// prefix; ok is false for data of another route or another shape.
func fieldsOf(data, prefix string, n int) (fields []string, ok bool) {
	parts := strings.Split(data, ":")
	if len(parts) != n+1 || parts[0] != prefix {
		return nil, false
	}
	return parts[1:], true
}

// idField reads a positive record id.
func idField(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// idData writes a record id.
func idData(id int64) string { return strconv.FormatInt(id, 10) }

// menuButton opens an item of the menu: "main" for the menu itself.
type menuButton struct{ Item string }

func (b menuButton) data() string { return joinData(cbMenu, b.Item) }

func parseMenuButton(data string) (menuButton, bool) {
	f, ok := fieldsOf(data, cbMenu, 1)
	if !ok || f[0] == "" {
		return menuButton{}, false
	}
	return menuButton{Item: f[0]}, true
}

// orgButton picks one of the organisations a person acts for, on a route.
type orgButton struct {
	Route, Action string
	OrgID         int64
}

func (b orgButton) data() string { return joinData(b.Route, b.Action, idData(b.OrgID)) }

func parseOrgButton(data, route, action string) (orgButton, bool) {
	f, ok := fieldsOf(data, route, 2)
	if !ok || f[0] != action {
		return orgButton{}, false
	}
	id, ok := idField(f[1])
	return orgButton{Route: route, Action: action, OrgID: id}, ok
}

// staffOrgs is the preamble of every staff command: a private chat, a
// registered person, and the organisations where their roles grant act. A
// person without any is told so (nil, nil); commands stay quiet in groups.
func (h *Hub) staffOrgs(ctx context.Context, s *session, act access.Action) ([]storage.Org, error) {
	if !s.private() {
		return nil, nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return nil, err
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return nil, err
	}
	orgs := access.ManagedOrgs(active, act)
	if len(orgs) == 0 {
		return nil, s.refuse(ctx, "error.not_allowed")
	}
	return orgs, nil
}

// chooseOrg asks which of orgs the person acts for, with one button each
// (route:action:id); with a single one there is nothing to ask and it is
// returned at once, chosen.
func (h *Hub) chooseOrg(ctx context.Context, s *session, orgs []storage.Org, headingKey, route, action string) (storage.Org, bool, error) {
	if len(orgs) == 1 {
		return orgs[0], true, nil
	}
	var choices []choice
	for _, o := range orgs[:min(len(orgs), bot.MaxKeyboardRows)] {
		choices = append(choices, choice{label: o.Name, data: orgButton{Route: route, Action: action, OrgID: o.ID}.data()})
	}
	list, kb := numbered(choices)
	return storage.Org{}, false, s.reply(ctx, s.t(headingKey)+"\n"+list, kb)
}

// chosenOrg reads an org button and checks the person may still do act to
// that organisation; a stale or forged one is answered and ok is false.
func (h *Hub) chosenOrg(ctx context.Context, s *session, act access.Action, route, action string) (storage.Org, bool, error) {
	b, ok := parseOrgButton(s.u.Callback.Data, route, action)
	if !ok || s.person == nil {
		return storage.Org{}, false, s.notice(ctx, "error.stale_button")
	}
	org, err := h.Store.Org(ctx, b.OrgID)
	if err != nil {
		return storage.Org{}, false, s.notice(ctx, "error.stale_button")
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return storage.Org{}, false, err
	}
	if !access.Allowed(active, act, org) {
		return storage.Org{}, false, s.notice(ctx, "error.not_allowed")
	}
	return org, true, nil
}
