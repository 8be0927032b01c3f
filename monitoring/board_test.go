package monitoring_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// mondayMorning is 10:05 on a Monday on Sakhalin, just after the default
// weekly board reminder.
func mondayMorning(t *testing.T) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(2027, 3, 8, 10, 5, 0, 0, loc)
}

// boardNotes lists the board questions among what was told, as "person
// org week again".
func boardNotes(f *fixture, told []told) []string {
	var out []string
	for _, n := range told {
		if n.kind == "board" {
			out = append(out, fmt.Sprintf("%d %s %s %v", n.person, n.org, n.week.In(f.loc).Format("01-02"), n.again))
		}
	}
	slices.Sort(out)
	return out
}

// TestBoardReminderThatReachedNobodyObservesNothing fires the weekly board
// job once: a reminder that reached nobody leaves no check, so the report
// has no data on the board; one that reached the chair is an observed
// week, unanswered: not updated.
func TestBoardReminderThatReachedNobodyObservesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chair    bool
		deaf     bool
		broken   bool
		roundErr bool
		board    string // the report's board norm for the school
	}{
		{name: "nobody registered yet", board: "no data"},
		{name: "the chair blocked the bot", chair: true, deaf: true, board: "no data"},
		{name: "the platform fails", chair: true, broken: true, roundErr: true, board: "no data"},
		{name: "the chair got it and said nothing", chair: true, board: "fail 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mondayMorning(t))
			if tt.chair {
				p := f.person("school", storage.RoleChair)
				f.notes.deaf[p.ID], f.notes.broken[p.ID] = tt.deaf, tt.broken
			}
			if err := f.svc.JobsRound(f.ctx); (err != nil) != tt.roundErr {
				t.Fatalf("round: %v, want an error: %v", err, tt.roundErr)
			}
			checks := must(f.db.BoardChecks(f.ctx, f.org["school"], time.Time{}, time.Time{}))(t)
			if observed := tt.board != "no data"; len(checks) != map[bool]int{false: 0, true: 1}[observed] {
				t.Fatalf("checks %+v; want one only for a reminder that reached someone", checks)
			}
			p := must(monitoring.ParsePeriod("2027-03", f.loc))(t)
			rep := must(f.svc.Report(f.ctx, f.org["union"], p))(t)
			got := "no data"
			for _, o := range rep.Orgs {
				for _, res := range o.Results {
					if o.Code == "school" && res.Norm == surveys.NormBoard && res.Known {
						got = map[bool]string{true: "pass ", false: "fail "}[res.Pass] + strconv.FormatFloat(res.Value, 'f', -1, 64)
					}
				}
			}
			if got != tt.board {
				t.Fatalf("board norm %q, want %q (%+v)", got, tt.board, rep.Orgs)
			}
		})
	}
}

// TestBoardAnswersAndSnoozes walks two weeks of a primary's board: who
// is asked, who may answer, "remind me tomorrow" asked again the next day
// and refused when tomorrow is another week, and answers refused once the
// week is over.
func TestBoardAnswersAndSnoozes(t *testing.T) {
	t.Parallel()
	f := setup(t, mondayMorning(t))
	iw := f.person("school", storage.RoleInfoworker)
	chair := f.person("school", storage.RoleChair)
	eduIW := f.person("edu", storage.RoleInfoworker)
	gymChair := f.person("gym", storage.RoleChair)
	school := f.org["school"].ID
	week1 := time.Date(2027, 3, 8, 0, 0, 0, 0, f.loc)

	f.round()
	// The information worker publishes for the school, so only they are
	// asked; the gym has only a chair, who is asked.
	if got, w := boardNotes(f, f.notes.take()), want(fmt.Sprintf("%d gym 03-08 false", gymChair.ID), fmt.Sprintf("%d school 03-08 false", iw.ID)); !slices.Equal(got, w) {
		t.Fatalf("asked %q, want %q", got, w)
	}
	for _, tt := range []struct {
		name  string
		by    access.Actor
		org   int64
		week  time.Time
		wants error
	}{
		{"the branch above", f.actor(eduIW), school, week1, access.ErrForbidden},
		{"another primary's chair", f.actor(gymChair), school, week1, access.ErrForbidden},
		{"nobody", access.Actor{}, school, week1, access.ErrForbidden},
		{"no such org", f.actor(iw), 99999, week1, storage.ErrNotFound},
		{"a week not asked yet", f.actor(iw), school, week1.AddDate(0, 0, 7), storage.ErrNotFound},
	} {
		if _, err := f.svc.AnswerBoard(f.ctx, tt.by, tt.org, tt.week, storage.BoardUpdated); !errors.Is(err, tt.wants) {
			t.Errorf("answer, %s: %v, want %v", tt.name, err, tt.wants)
		}
	}
	// The chair may answer for their own org, though not asked.
	org := must(f.svc.AnswerBoard(f.ctx, f.actor(chair), school, week1, storage.BoardUpdated))(t)
	if org.Code != "school" {
		t.Fatalf("answered for %+v", org)
	}
	if _, err := f.svc.SnoozeBoard(f.ctx, f.actor(iw), school, week1); !errors.Is(err, monitoring.ErrAlreadyAnswered) {
		t.Fatalf("snooze an answered week: %v", err)
	}

	// Week 2: remind me tomorrow, asked again the next day; then no board.
	f.advance(7 * 24 * time.Hour)
	week2 := week1.AddDate(0, 0, 7)
	f.round()
	f.notes.take()
	must(f.svc.SnoozeBoard(f.ctx, f.actor(iw), school, week2))(t)
	f.round()
	if got := boardNotes(f, f.notes.take()); len(got) != 0 {
		t.Fatalf("asked %q before tomorrow", got)
	}
	f.advance(24*time.Hour + time.Minute)
	f.round()
	if got, w := boardNotes(f, f.notes.take()), []string{fmt.Sprintf("%d school 03-15 true", iw.ID)}; !slices.Equal(got, w) {
		t.Fatalf("asked %q, want %q", got, w)
	}
	must(f.svc.AnswerBoard(f.ctx, f.actor(iw), school, week2, storage.BoardNone))(t)
	// Sunday: tomorrow is another week.
	f.advance(5 * 24 * time.Hour)
	if _, err := f.svc.SnoozeBoard(f.ctx, f.actor(iw), school, week2); !errors.Is(err, monitoring.ErrSnoozeTooLate) {
		t.Fatalf("snooze on Sunday: %v", err)
	}
	f.advance(24 * time.Hour)
	if _, err := f.svc.AnswerBoard(f.ctx, f.actor(iw), school, week2, storage.BoardUpdated); !errors.Is(err, monitoring.ErrWeekOver) {
		t.Fatalf("answer after the week: %v", err)
	}
	if _, err := f.svc.AnswerBoard(f.ctx, f.actor(iw), school, week2.AddDate(0, 0, 7), "maybe"); !errors.Is(err, monitoring.ErrInvalid) {
		t.Fatalf("an answer that is none: %v", err)
	}
	checks := must(f.db.BoardChecks(f.ctx, f.org["school"], week1, week2.AddDate(0, 0, 1)))(t)
	var got []string
	for _, c := range checks {
		got = append(got, fmt.Sprintf("%s:%s", c.Week.In(f.loc).Format("01-02"), c.Answer))
	}
	if !slices.Equal(got, []string{"03-08:updated", "03-15:no_board"}) {
		t.Fatalf("checks %q", got)
	}
}

// A board job caught up after its week ended asks nobody: at Monday 09:00
// last Monday's fire is the newest, and its week is over; at 10:00 this
// week's is asked.
func TestBoardReminderOfAnEndedWeekIsNotSent(t *testing.T) {
	t.Parallel()
	f := setup(t, mondayMorning(t).Add(-65*time.Minute))
	chair := f.person("gym", storage.RoleChair)
	f.round()
	if got := boardNotes(f, f.notes.take()); len(got) != 0 {
		t.Fatalf("asked %q about last week", got)
	}
	f.advance(65 * time.Minute)
	f.round()
	if got, w := boardNotes(f, f.notes.take()), want(fmt.Sprintf("%d gym 03-08 false", chair.ID)); !slices.Equal(got, w) {
		t.Fatalf("asked %q, want %q", got, w)
	}
}
