package handlers

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

var _ monitoring.Notifier = (*Notifier)(nil)

// InviteToSurvey sends a responder the invitation to a run, or a reminder
// of it, with the button that starts answering.
func (h *Notifier) InviteToSurvey(ctx context.Context, to storage.Contact, n monitoring.SurveyNotice) (bool, error) {
	key := "survey.invite"
	if n.N > 1 {
		key = "survey.reminder"
	}
	return h.notify(ctx, fmt.Sprintf("survey:%d:%d:%d", n.Run.ID, n.Org.ID, n.N), to.Accounts, locales.Normalize(to.Person.Locale), func(lang string) bot.Message {
		return bot.Message{
			Text: h.Catalog.T(lang, key, "Title", n.Survey.Title.T(lang), "Org", n.Org.Name, "Questions", h.surveyQuestions(lang, n.Survey),
				"Deadline", n.Run.Deadline.In(zone(n.Org)).Format(scheduleLayout)),
			Keyboard: bot.Keyboard{{{Text: h.Catalog.T(lang, "survey.button_start"), Data: surveyButton{Action: surveyGo, RunID: n.Run.ID, OrgID: n.Org.ID}.data()}}},
		}
	})
}

// surveyQuestions says how many questions sv asks: all of them, or at
// most all when skip rules may leave some out. The figure does not depend
// on the answers, so it never moves while a person answers.
func (h *Notifier) surveyQuestions(lang string, sv surveys.Survey) string {
	key := "survey.questions"
	for _, q := range sv.Questions {
		if q.If != nil {
			key = "survey.questions_upto"
		}
	}
	return h.Catalog.Plural(lang, key, len(sv.Questions))
}

// TellSurveyClosed tells a reader of the results how many answered a run
// that closed.
func (h *Notifier) TellSurveyClosed(ctx context.Context, to storage.Contact, c monitoring.SurveyClosed) (bool, error) {
	return h.notify(ctx, fmt.Sprintf("survey:%d:closed", c.Run.ID), to.Accounts, locales.Normalize(to.Person.Locale), func(lang string) bot.Message {
		return bot.Message{Text: h.Catalog.Plural(lang, "survey.closed_summary", c.Targets, "Title", c.Survey.Title.T(lang), "Org", c.Root.Name, "Answered", c.Answered)}
	})
}

// AskBoard asks about an org's notice board in a week, with the three
// answers as buttons. A repeat is named by the snooze it answers, so that
// VK does not drop a second "remind me tomorrow" of a week as a repeat.
func (h *Notifier) AskBoard(ctx context.Context, to storage.Contact, q monitoring.BoardQuestion) (bool, error) {
	key, tag := "board.remind", ""
	if q.Again {
		key = "board.again"
		if q.Snoozed != nil {
			tag = ":" + strconv.FormatInt(q.Snoozed.Unix(), 10)
		}
	}
	button := func(a boardAction) string { return boardButton{Action: a, OrgID: q.Org.ID, Week: q.Week.Unix()}.data() }
	return h.notify(ctx, fmt.Sprintf("board:%d:%d:%s%s", q.Org.ID, q.Week.Unix(), key, tag), to.Accounts, locales.Normalize(to.Person.Locale), func(lang string) bot.Message {
		return bot.Message{
			Text: h.Catalog.T(lang, key, "Org", q.Org.Name, "Week", q.Week.In(zone(q.Org)).Format("02.01.2006")),
			Keyboard: bot.Keyboard{
				{{Text: h.Catalog.T(lang, "board.button_updated"), Data: button(boardUpdated)}},
				{{Text: h.Catalog.T(lang, "board.button_tomorrow"), Data: button(boardTomorrow)}},
				{{Text: h.Catalog.T(lang, "board.button_none"), Data: button(boardNone)}},
			},
		}
	})
}

// SendContactBase sends an org's contact base of a year as a workbook, with
// a word on what it holds. A repeat of the same org and year is named
// alike, so that VK does not deliver it twice.
func (h *Notifier) SendContactBase(ctx context.Context, to storage.Contact, f monitoring.ContactBaseFile) (bool, error) {
	var book bytes.Buffer
	if err := sheet.WriteXLSX(&book, "contacts", f.Table); err != nil {
		return false, fmt.Errorf("write the contact base of org %d: %w", f.Org.ID, err)
	}
	file := &bot.Upload{Name: fmt.Sprintf("contacts-%s-%d.xlsx", f.Org.Code, f.Year), Kind: bot.AttachDocument, Data: book.Bytes()}
	return h.notify(ctx, fmt.Sprintf("contacts:%d:%d", f.Org.ID, f.Year), to.Accounts, locales.Normalize(to.Person.Locale), func(lang string) bot.Message {
		return bot.Message{
			Text:   h.Catalog.Plural(lang, "contacts.yearly", f.People, "Org", f.Org.Name, "Parent", f.Parent.Name, "Year", f.Year),
			Upload: file,
		}
	})
}
