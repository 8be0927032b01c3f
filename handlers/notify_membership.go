package handlers

import (
	"context"
	"strconv"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

var _ membership.Notifier = (*Notifier)(nil)

// AskToDecide sends a leader the application's card, with its two buttons,
// on the platform they were seen on last.
func (h *Notifier) AskToDecide(ctx context.Context, leader storage.Contact, app membership.Application) (bool, error) {
	return h.notify(ctx, "approval:"+strconv.FormatInt(app.Membership.ID, 10), leader.Accounts, locales.Normalize(leader.Person.Locale),
		func(lang string) bot.Message { return h.approvalCard(lang, app) })
}

// approvalCard is the application a leader decides with two buttons.
func (h *Notifier) approvalCard(lang string, app membership.Application) bot.Message {
	p, m := app.Applicant, app.Membership
	text := h.Catalog.T(lang, "appr.request", "Name", p.FullName, "Org", m.Org.Name)
	switch {
	case app.Supporter:
		text = h.Catalog.T(lang, "appr.request_supporter", "Name", p.FullName, "Org", m.Org.Name)
	case p.Position != "":
		text = h.Catalog.T(lang, "appr.request_position", "Name", p.FullName, "Position", p.Position, "Org", m.Org.Name)
	}
	return bot.Message{
		Text: text,
		Keyboard: bot.Keyboard{{
			{Text: h.Catalog.T(lang, "appr.button_approve"), Data: approveButton{MembershipID: m.ID, Approve: true}.data()},
			{Text: h.Catalog.T(lang, "appr.button_reject"), Data: approveButton{MembershipID: m.ID}.data()},
		}},
	}
}

// TellDecision tells the applicant the outcome on the accounts they had.
func (h *Notifier) TellDecision(ctx context.Context, d membership.Decision, accounts []storage.Account) (bool, error) {
	m := d.Membership
	key := "decision:" + strconv.FormatInt(m.ID, 10)
	return h.notify(ctx, key, accounts, locales.Normalize(d.Applicant.Locale), func(lang string) bot.Message {
		if m.Status == storage.StatusActive {
			return bot.Message{Text: h.Catalog.T(lang, "appr.you_approved", "Org", m.Org.Name), Keyboard: bot.Keyboard{{{Text: h.Catalog.T(lang, "menu.button_back"), Data: menuButton{Item: "main"}.data()}}}}
		}
		if d.Erased {
			return bot.Message{Text: h.Catalog.T(lang, "appr.you_rejected_erased", "Org", m.Org.Name)}
		}
		if d.Supporter {
			return bot.Message{Text: h.Catalog.T(lang, "appr.you_rejected_supporter", "Org", m.Org.Name)}
		}
		return bot.Message{Text: h.Catalog.T(lang, "appr.you_rejected", "Org", m.Org.Name)}
	})
}
