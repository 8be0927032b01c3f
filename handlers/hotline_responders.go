package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/storage"
)

// cbResponders prefixes the buttons of /responders.
const cbResponders = "rsp"

// cmdResponders lets a chair see, name and remove the hot-line responders
// of their organisation.
func (h *Hub) cmdResponders(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	orgs := storage.ManagedOrgs(active, storage.ActNameResponders)
	switch len(orgs) {
	case 0:
		return s.refuse(ctx, "error.not_allowed")
	case 1:
		return h.showResponders(ctx, s, orgs[0])
	}
	var choices []choice
	for _, o := range orgs[:min(len(orgs), bot.MaxKeyboardRows)] {
		choices = append(choices, choice{label: o.Name, data: fmt.Sprintf("%s:org:%d", cbResponders, o.ID)})
	}
	list, kb := numbered(choices)
	return s.reply(ctx, s.t("rsp.which_org")+"\n"+list, kb)
}

func (h *Hub) showResponders(ctx context.Context, s *session, org storage.Org) error {
	rs, err := h.Store.Responders(ctx, org.ID)
	if err != nil {
		return fmt.Errorf("list responders: %w", err)
	}
	text := s.t("rsp.title", "Org", org.Name)
	var kb bot.Keyboard
	var row []bot.Button
	for i, r := range rs {
		if i == maxListed {
			text += "\n" + s.plural("ticket.list_more", len(rs)-maxListed)
			break
		}
		topic := s.t("rsp.all_topics")
		if r.Topic != "" {
			topic = h.topicName(s.lang, r.Topic)
		}
		text += "\n" + s.t("rsp.line", "N", i+1, "Name", h.personName(ctx, s.lang, r.PersonID), "Topic", topic)
		if len(kb) < bot.MaxKeyboardRows-1 {
			row = append(row, bot.Button{Text: s.t("rsp.button_remove", "N", i+1),
				Data: fmt.Sprintf("%s:rm:%d:%d:%s", cbResponders, org.ID, r.PersonID, r.Topic)})
			if len(row) == 3 {
				kb, row = append(kb, row), nil
			}
		}
	}
	if len(rs) == 0 {
		text += "\n" + s.t("rsp.none")
	}
	if len(row) > 0 {
		kb = append(kb, row)
	}
	kb = append(kb, []bot.Button{{Text: s.t("rsp.button_add"), Data: fmt.Sprintf("%s:add:%d:0", cbResponders, org.ID)}})
	return s.reply(ctx, text, kb)
}

// onRespondersButton takes the buttons of /responders; every one checks
// that the presser may name responders for that org.
func (h *Hub) onRespondersButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) < 3 || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	orgID, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return s.notice(ctx, "error.stale_button")
	}
	org, err := h.Store.Org(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	if !storage.Allowed(active, storage.ActNameResponders, org) {
		return s.notice(ctx, "error.not_allowed")
	}
	arg := func(i int) (int64, bool) {
		if len(parts) <= i {
			return 0, false
		}
		n, err := strconv.ParseInt(parts[i], 10, 64)
		return n, err == nil && n >= 0
	}
	switch parts[1] {
	case "org":
		return h.showResponders(ctx, s, org)
	case "add":
		page, ok := arg(3)
		if !ok {
			return s.notice(ctx, "error.stale_button")
		}
		return h.pickResponder(ctx, s, org, int(page))
	case "pick":
		personID, ok := arg(3)
		if !ok {
			return s.notice(ctx, "error.stale_button")
		}
		row := []bot.Button{{Text: s.t("rsp.all_topics"), Data: fmt.Sprintf("%s:set:%d:%d:*", cbResponders, org.ID, personID)}}
		kb := bot.Keyboard{}
		for _, t := range h.Hotline.Topics {
			b := bot.Button{Text: h.topicName(s.lang, t.ID), Data: fmt.Sprintf("%s:set:%d:%d:%s", cbResponders, org.ID, personID, t.ID)}
			if len(row) == 2 {
				kb, row = append(kb, row), nil
			}
			row = append(row, b)
		}
		kb = append(kb, row)
		return s.reply(ctx, s.t("rsp.which_topic", "Name", h.personName(ctx, s.lang, personID)), kb)
	case "set", "rm":
		personID, ok := arg(3)
		if !ok || len(parts) != 5 {
			return s.notice(ctx, "error.stale_button")
		}
		topic := parts[4]
		if parts[1] == "set" && topic == "*" {
			topic = ""
		} else if _, known := h.Hotline.topic(topic); topic != "" && !known {
			return s.notice(ctx, "error.stale_button")
		}
		r := storage.Responder{PersonID: personID, OrgID: org.ID, Topic: topic}
		if parts[1] == "rm" {
			err = h.Store.RemoveResponder(ctx, r)
		} else {
			members, lerr := h.Store.Leaders(ctx, org.ID, storage.Roles)
			if lerr != nil {
				return fmt.Errorf("list members: %w", lerr)
			}
			if !containsPerson(members, personID) {
				return s.notice(ctx, "error.stale_button")
			}
			err = h.Store.SetResponder(ctx, r)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return s.notice(ctx, "error.stale_button")
		}
		if err != nil {
			return fmt.Errorf("change responders: %w", err)
		}
		return h.showResponders(ctx, s, org)
	}
	return s.notice(ctx, "error.stale_button")
}

func containsPerson(cs []storage.Contact, id int64) bool {
	for _, c := range cs {
		if c.Person.ID == id {
			return true
		}
	}
	return false
}

// pickResponder lists the org's members to name one, a page at a time.
func (h *Hub) pickResponder(ctx context.Context, s *session, org storage.Org, page int) error {
	members, err := h.Store.Leaders(ctx, org.ID, storage.Roles)
	if err != nil {
		return fmt.Errorf("list members: %w", err)
	}
	if len(members) == 0 {
		return s.notice(ctx, "rsp.no_members")
	}
	pages := (len(members) + pickPageSize - 1) / pickPageSize
	page = min(page, pages-1)
	var choices []choice
	for _, m := range members[page*pickPageSize : min(len(members), (page+1)*pickPageSize)] {
		choices = append(choices, choice{label: m.Person.FullName, data: fmt.Sprintf("%s:pick:%d:%d", cbResponders, org.ID, m.Person.ID)})
	}
	list, kb := numbered(choices)
	var nav []bot.Button
	if page > 0 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_prev"), Data: fmt.Sprintf("%s:add:%d:%d", cbResponders, org.ID, page-1)})
	}
	if page < pages-1 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_next"), Data: fmt.Sprintf("%s:add:%d:%d", cbResponders, org.ID, page+1)})
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	return s.reply(ctx, s.t("rsp.pick", "Org", org.Name)+"\n"+list, kb)
}
