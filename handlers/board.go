package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// cbBoard prefixes the buttons of the weekly notice-board reminder.
const cbBoard = "brd"

// snoozeFor is "remind me tomorrow".
const snoozeFor = 24 * time.Hour

// remindBoards asks the information worker (or, without one, the chair) of
// each primary whether the union notice board was updated this week. The
// check is created before anyone is asked, once per org and week.
func (h *Hub) remindBoards(ctx context.Context, orgs []storage.Org, firedFor time.Time) error {
	var errs []error
	for _, o := range orgs {
		// Checks are per calendar week, so an org whose schedule changes
		// mid-week is not asked twice.
		week := weekOf(firedFor, zone(o))
		created, err := h.Store.ClaimBoardCheck(ctx, o.ID, week, h.Clock())
		if err != nil {
			errs = append(errs, fmt.Errorf("claim board check of org %d: %w", o.ID, err))
			continue
		}
		if created {
			errs = append(errs, h.askBoard(ctx, o, week, "board.remind", ""))
		}
	}
	return errors.Join(errs...)
}

// weekOf is the start of t's calendar week, Monday 00:00 in loc.
func weekOf(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	back := (int(local.Weekday()) + 6) % 7 // days since Monday
	return time.Date(local.Year(), local.Month(), local.Day()-back, 0, 0, 0, 0, loc)
}

// askBoard asks the org's publishers about the board of week; tag tells
// apart notices of the same key, so that VK does not drop a second
// "remind me tomorrow" of a week as a repeat.
func (h *Hub) askBoard(ctx context.Context, o storage.Org, week time.Time, key, tag string) error {
	leaders, err := h.publishers(ctx, o.ID)
	if err != nil {
		return err
	}
	data := func(a string) string { return fmt.Sprintf("%s:%s:%d:%d", cbBoard, a, o.ID, week.Unix()) }
	var errs []error
	for _, l := range leaders {
		_, err := h.notify(ctx, fmt.Sprintf("board:%d:%d:%s%s", o.ID, week.Unix(), key, tag), l.Accounts, locales.Normalize(l.Person.Locale), func(lang string) bot.Message {
			return bot.Message{
				Text: h.Catalog.T(lang, key, "Org", o.Name, "Week", week.In(zone(o)).Format("02.01.2006")),
				Keyboard: bot.Keyboard{
					{{Text: h.Catalog.T(lang, "board.button_updated"), Data: data("u")}},
					{{Text: h.Catalog.T(lang, "board.button_tomorrow"), Data: data("t")}},
					{{Text: h.Catalog.T(lang, "board.button_none"), Data: data("n")}},
				},
			}
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("remind person %d of the board of org %d: %w", l.Person.ID, o.ID, err))
		}
	}
	return errors.Join(errs...)
}

// boardSnoozes asks again those who said "remind me tomorrow".
func (h *Hub) boardSnoozes(ctx context.Context, now time.Time) error {
	due, err := h.Store.ClaimDueBoardSnoozes(ctx, now)
	if err != nil {
		return fmt.Errorf("claim board snoozes: %w", err)
	}
	var errs []error
	for _, c := range due {
		if now.After(c.Week.Add(boardWindow)) {
			continue // the week is over: asking about it now would be refused
		}
		o, err := h.Store.Org(ctx, c.OrgID)
		if err != nil {
			errs = append(errs, fmt.Errorf("load org %d: %w", c.OrgID, err))
			continue
		}
		tag := ""
		if c.SnoozedUntil != nil {
			tag = ":" + strconv.FormatInt(c.SnoozedUntil.Unix(), 10)
		}
		errs = append(errs, h.askBoard(ctx, o, c.Week, "board.again", tag))
	}
	return errors.Join(errs...)
}

// onBoardButton records the answer to a weekly reminder: who may publish for
// the org answers for it, and a later answer of the same week replaces an
// earlier one.
func (h *Hub) onBoardButton(ctx context.Context, s *session) error {
	parts := strings.Split(s.u.Callback.Data, ":")
	if len(parts) != 4 || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	orgID, err1 := strconv.ParseInt(parts[2], 10, 64)
	unix, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil {
		return s.notice(ctx, "error.stale_button")
	}
	org, err := h.Store.Org(ctx, orgID)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	if err != nil {
		return fmt.Errorf("load org: %w", err)
	}
	ms, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	// Only the org's own information worker or chair reports on its board:
	// an upper level may read the answers, not give them.
	var own []storage.Membership
	for _, m := range ms {
		if m.Org.ID == org.ID {
			own = append(own, m)
		}
	}
	if !storage.Allowed(own, storage.ActPublish, org) {
		return s.notice(ctx, "error.not_allowed")
	}
	week, now := time.Unix(unix, 0), h.Clock()
	if now.After(week.Add(boardWindow)) {
		return s.reply(ctx, s.t("board.week_over"), nil)
	}
	switch parts[1] {
	case "t":
		if now.Add(snoozeFor).After(week.Add(boardWindow)) {
			return s.notice(ctx, "board.snooze_late") // the buttons stay for an answer now
		}
		checks, err := h.Store.BoardChecks(ctx, org, week, week.Add(time.Second))
		if err != nil {
			return fmt.Errorf("load board check: %w", err)
		}
		if len(checks) == 1 && checks[0].Answer != "" {
			return s.reply(ctx, s.t("board.already"), nil)
		}
		if err := h.Store.SnoozeBoardCheck(ctx, orgID, week, now.Add(snoozeFor)); err != nil {
			return boardErr(ctx, s, err)
		}
		return s.reply(ctx, s.t("board.snoozed"), nil)
	case "u", "n":
		answer, key := storage.BoardUpdated, "board.thanks_updated"
		if parts[1] == "n" {
			answer, key = storage.BoardNone, "board.thanks_none"
		}
		if _, err := h.Store.AnswerBoardCheck(ctx, orgID, week, answer, s.person.ID, now); err != nil {
			return boardErr(ctx, s, err)
		}
		return s.reply(ctx, s.t(key, "Org", org.Name), nil)
	}
	return s.notice(ctx, "error.stale_button")
}

func boardErr(ctx context.Context, s *session, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return s.notice(ctx, "error.stale_button")
	}
	return fmt.Errorf("record board answer: %w", err)
}
