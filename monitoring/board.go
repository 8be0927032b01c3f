package monitoring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// boardWindow is how long a week's notice-board reminder stays answerable,
// and how late a missed one is still sent: within its week.
const boardWindow = 7 * 24 * time.Hour

// snoozeFor is "remind me tomorrow".
const snoozeFor = 24 * time.Hour

// defaultBoardCron is when primaries are asked about their notice board
// unless their org says otherwise: Monday 10:00 in the org's time zone.
const defaultBoardCron = "0 10 * * 1"

// weekOf is the start of t's calendar week, Monday 00:00 in loc.
func weekOf(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	back := (int(local.Weekday()) + 6) % 7 // days since Monday
	return time.Date(local.Year(), local.Month(), local.Day()-back, 0, 0, 0, 0, loc)
}

// remindBoards asks who publishes for each primary whether the union notice
// board was updated this week. The check is created before anyone is
// asked, once per org and week, and dropped again when the reminder reached
// nobody: such a week observed nothing, and the report must not count it as
// a week without an update.
func (s *Service) remindBoards(ctx context.Context, orgs []storage.Org, firedFor time.Time) error {
	var errs []error
	for _, o := range orgs {
		// Checks are per calendar week, so an org whose schedule changes
		// mid-week is not asked twice.
		week := weekOf(firedFor, zone(o))
		if !week.Equal(weekOf(s.clock(), zone(o))) {
			// A fire caught up after its week ended (the hub was down, or
			// a schedule just changed) would ask about a week that is over.
			continue
		}
		created, err := s.store.ClaimBoardCheck(ctx, o.ID, week, s.clock())
		if err != nil {
			errs = append(errs, fmt.Errorf("claim board check of org %d: %w", o.ID, err))
			continue
		}
		if !created {
			continue
		}
		reached, err := s.askBoard(ctx, BoardQuestion{Org: o, Week: week})
		if !reached {
			s.logger.DebugContext(ctx, "board reminder reached nobody", "org", o.ID, "week", week)
			err = errors.Join(err, s.releaseBoardCheck(ctx, o.ID, week))
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// releaseBoardCheck drops a check whose reminder reached nobody, even after
// ctx ended.
func (s *Service) releaseBoardCheck(ctx context.Context, orgID int64, week time.Time) error {
	ctx, cancel := afterRound(ctx)
	defer cancel()
	if _, err := s.store.ReleaseBoardCheck(ctx, orgID, week); err != nil {
		return fmt.Errorf("release board check of org %d: %w", orgID, err)
	}
	return nil
}

// askBoard asks the org's publishers about the board and reports whether
// anyone received it.
func (s *Service) askBoard(ctx context.Context, q BoardQuestion) (bool, error) {
	people, err := s.publishers(ctx, q.Org.ID)
	if err != nil {
		return false, err
	}
	reached := false
	var errs []error
	for _, p := range people {
		got, err := s.notify.AskBoard(ctx, p, q)
		reached = reached || got
		if err != nil {
			errs = append(errs, fmt.Errorf("remind person %d of the board of org %d: %w", p.Person.ID, q.Org.ID, err))
		}
	}
	return reached, errors.Join(errs...)
}

// publishers are who report on an org's board: its information workers,
// else its chairs, else (at the top) the Union's staff.
func (s *Service) publishers(ctx context.Context, orgID int64) ([]storage.Contact, error) {
	for _, role := range []storage.Role{storage.RoleInfoworker, storage.RoleChair, storage.RoleAdmin} {
		ls, err := s.store.Leaders(ctx, orgID, []storage.Role{role})
		if err != nil {
			return nil, fmt.Errorf("list publishers: %w", err)
		}
		if len(ls) > 0 {
			return ls, nil
		}
	}
	return nil, nil
}

// boardSnoozes asks again those who said "remind me tomorrow".
func (s *Service) boardSnoozes(ctx context.Context, now time.Time) error {
	due, err := s.store.ClaimDueBoardSnoozes(ctx, now)
	if err != nil {
		return fmt.Errorf("claim board snoozes: %w", err)
	}
	var errs []error
	for _, c := range due {
		if now.After(c.Week.Add(boardWindow)) {
			continue // the week is over: asking about it now would be refused
		}
		o, err := s.store.Org(ctx, c.OrgID)
		if err != nil {
			errs = append(errs, fmt.Errorf("load org %d: %w", c.OrgID, err))
			continue
		}
		_, err = s.askBoard(ctx, BoardQuestion{Org: o, Week: c.Week, Again: true, Snoozed: c.SnoozedUntil})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// boardOrg is an org whose board the actor reports on for a week still
// open: only the org's own information worker or chair reports on its
// board; an upper level may read the answers, not give them.
func (s *Service) boardOrg(ctx context.Context, by access.Actor, orgID int64, week time.Time) (storage.Org, error) {
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return org, fmt.Errorf("load org: %w", err)
	}
	var own []storage.Membership
	for _, m := range by.Roles {
		if m.Org.ID == org.ID {
			own = append(own, m)
		}
	}
	if by.PersonID == 0 || !access.Allowed(own, access.ActPublish, org) {
		return org, fmt.Errorf("report on the board of org %d: %w", orgID, access.ErrForbidden)
	}
	if s.clock().After(week.Add(boardWindow)) {
		return org, fmt.Errorf("board of org %d: %w", orgID, ErrWeekOver)
	}
	return org, nil
}

// AnswerBoard records what the org's board was like in a week: updated, or
// there is no board. A later answer of the same week replaces an earlier
// one. storage.ErrNotFound: no such org, or it was not asked that week.
func (s *Service) AnswerBoard(ctx context.Context, by access.Actor, orgID int64, week time.Time, a storage.BoardAnswer) (storage.Org, error) {
	org, err := s.boardOrg(ctx, by, orgID, week)
	if err != nil {
		return org, err
	}
	if a != storage.BoardUpdated && a != storage.BoardNone {
		return org, fmt.Errorf("board answer %q: %w", a, ErrInvalid)
	}
	if _, err := s.store.AnswerBoardCheck(ctx, orgID, week, a, by.PersonID, s.clock()); err != nil {
		return org, fmt.Errorf("record board answer: %w", err)
	}
	return org, nil
}

// SnoozeBoard asks for the week's reminder again in a day. ErrSnoozeTooLate
// when that day falls after the week (the person may answer now);
// ErrAlreadyAnswered when the week was answered meanwhile.
func (s *Service) SnoozeBoard(ctx context.Context, by access.Actor, orgID int64, week time.Time) (storage.Org, error) {
	org, err := s.boardOrg(ctx, by, orgID, week)
	if err != nil {
		return org, err
	}
	now := s.clock()
	if now.Add(snoozeFor).After(week.Add(boardWindow)) {
		return org, fmt.Errorf("snooze the board of org %d: %w", orgID, ErrSnoozeTooLate)
	}
	checks, err := s.store.BoardChecks(ctx, org, week, week.Add(time.Second))
	if err != nil {
		return org, fmt.Errorf("load board check: %w", err)
	}
	if len(checks) == 1 && checks[0].Answer != "" {
		return org, fmt.Errorf("snooze the board of org %d: %w", orgID, ErrAlreadyAnswered)
	}
	if err := s.store.SnoozeBoardCheck(ctx, orgID, week, now.Add(snoozeFor)); err != nil {
		return org, fmt.Errorf("record board snooze: %w", err)
	}
	return org, nil
}
