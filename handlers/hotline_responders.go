package handlers

import (
	"context"
	"errors"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// cmdResponders lets a chair see, name and remove the hot-line responders
// of their organisation.
func (h *Hub) cmdResponders(ctx context.Context, s *session) error {
	orgs, err := h.staffOrgs(ctx, s, access.ActNameResponders)
	if len(orgs) == 0 {
		return err
	}
	org, chosen, err := h.chooseOrg(ctx, s, orgs, "rsp.which_org", cbResponders, rspOrg)
	if !chosen {
		return err
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	_, rs, err := h.Hotline.Responders(ctx, by, org.ID)
	if err != nil {
		return err
	}
	return h.showResponders(ctx, s, org, rs)
}

func (h *Hub) showResponders(ctx context.Context, s *session, org storage.Org, rs []storage.Responder) error {
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
				Data: responderButton{Action: rspRemove, OrgID: org.ID, PersonID: r.PersonID, Topic: r.Topic}.data()})
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
	kb = append(kb, []bot.Button{{Text: s.t("rsp.button_add"), Data: responderButton{Action: rspAdd, OrgID: org.ID}.data()}})
	return s.reply(ctx, text, kb)
}

// onRespondersButton takes the buttons of /responders; the hot line checks
// that the presser may name responders for that org.
func (h *Hub) onRespondersButton(ctx context.Context, s *session) error {
	b, ok := parseResponderButton(s.u.Callback.Data)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	err = h.responderAction(ctx, s, by, b)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, hotline.ErrUnknownTopic):
		return s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return s.notice(ctx, "error.not_allowed")
	}
	return err
}

func (h *Hub) responderAction(ctx context.Context, s *session, by access.Actor, b responderButton) error {
	switch b.Action {
	case rspAdd:
		org, members, err := h.Hotline.Candidates(ctx, by, b.OrgID)
		if err != nil {
			return err
		}
		return h.pickResponder(ctx, s, org, members, b.Page)
	case rspPick:
		org, err := h.Hotline.ResponderOrg(ctx, by, b.OrgID)
		if err != nil {
			return err
		}
		pick := func(topic string) string {
			return responderButton{Action: rspSet, OrgID: org.ID, PersonID: b.PersonID, Topic: topic}.data()
		}
		row := []bot.Button{{Text: s.t("rsp.all_topics"), Data: pick(rspAllTopics)}}
		kb := bot.Keyboard{}
		for _, t := range h.HotlineSettings.Topics {
			if len(row) == 2 {
				kb, row = append(kb, row), nil
			}
			row = append(row, bot.Button{Text: h.topicName(s.lang, t.ID), Data: pick(t.ID)})
		}
		kb = append(kb, row)
		return s.reply(ctx, s.t("rsp.which_topic", "Name", h.personName(ctx, s.lang, b.PersonID)), kb)
	case rspSet:
		r := storage.Responder{PersonID: b.PersonID, OrgID: b.OrgID, Topic: b.Topic}
		if r.Topic == rspAllTopics {
			r.Topic = ""
		}
		if err := h.Hotline.NameResponder(ctx, by, r); err != nil {
			return err
		}
	case rspRemove:
		if err := h.Hotline.RemoveResponder(ctx, by, storage.Responder{PersonID: b.PersonID, OrgID: b.OrgID, Topic: b.Topic}); err != nil {
			return err
		}
	}
	org, rs, err := h.Hotline.Responders(ctx, by, b.OrgID)
	if err != nil {
		return err
	}
	return h.showResponders(ctx, s, org, rs)
}

// pickResponder lists the org's members to name one, a page at a time.
func (h *Hub) pickResponder(ctx context.Context, s *session, org storage.Org, members []storage.Contact, page int) error {
	if len(members) == 0 {
		return s.notice(ctx, "rsp.no_members")
	}
	pages := (len(members) + pickPageSize - 1) / pickPageSize
	page = min(page, pages-1)
	var choices []choice
	for _, m := range members[page*pickPageSize : min(len(members), (page+1)*pickPageSize)] {
		choices = append(choices, choice{label: m.Person.FullName, data: responderButton{Action: rspPick, OrgID: org.ID, PersonID: m.Person.ID}.data()})
	}
	list, kb := numbered(choices)
	var nav []bot.Button
	if page > 0 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_prev"), Data: responderButton{Action: rspAdd, OrgID: org.ID, Page: page - 1}.data()})
	}
	if page < pages-1 {
		nav = append(nav, bot.Button{Text: s.t("reg.button_next"), Data: responderButton{Action: rspAdd, OrgID: org.ID, Page: page + 1}.data()})
	}
	if len(nav) > 0 {
		kb = append(kb, nav)
	}
	return s.reply(ctx, s.t("rsp.pick", "Org", org.Name)+"\n"+list, kb)
}
