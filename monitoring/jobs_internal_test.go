package monitoring

import (
	"testing"
	"time"
)

// TestJobLatestCatchesUpOnlyTheNewestFireTimeInItsWindow pins down which
// fire time a round runs: the newest one not after now, and only while its
// window lasts.
func TestJobLatestCatchesUpOnlyTheNewestFireTimeInItsWindow(t *testing.T) {
	t.Parallel()
	sakhalin, err := time.LoadLocation("Asia/Sakhalin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sakhalin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		spec   string
		window time.Duration
		now    string
		want   string // "" when nothing is due
	}{
		{"a minute before Monday 10:00", defaultBoardCron, boardWindow, "2026-12-07 09:59", "2026-11-30 10:00"},
		{"Monday 10:00 itself", defaultBoardCron, boardWindow, "2026-12-07 10:00", "2026-12-07 10:00"},
		{"down all week: only this week's", defaultBoardCron, boardWindow, "2026-12-20 12:00", "2026-12-14 10:00"},
		{"monthly, within the deadline", "0 10 1 * *", 10 * 24 * time.Hour, "2027-01-05 00:00", "2027-01-01 10:00"},
		{"monthly, past the deadline", "0 10 1 * *", 10 * 24 * time.Hour, "2027-01-12 00:00", ""},
		{"annual, first start after the window", "0 10 15 1 *", 30 * 24 * time.Hour, "2026-12-02 10:00", ""},
		{"in the org's zone, not UTC", "0 10 15 1 *", 30 * 24 * time.Hour, "2027-01-15 10:00", "2027-01-15 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := Job{Name: "test", Spec: tt.spec, Loc: sakhalin, Window: tt.window}
			got, ok := j.latest(at(tt.now))
			switch {
			case tt.want == "" && ok:
				t.Fatalf("due %v, want nothing", got.In(sakhalin))
			case tt.want != "" && (!ok || !got.Equal(at(tt.want))):
				t.Fatalf("due %v (%v), want %s", got.In(sakhalin), ok, tt.want)
			}
		})
	}
	if next := (Job{Spec: defaultBoardCron, Loc: sakhalin}).Next(at("2026-12-02 10:00")); !next.Equal(at("2026-12-07 10:00")) {
		t.Fatalf("next %v", next.In(sakhalin))
	}
}

func TestWeekOfStartsOnMondayInTheOrgsZone(t *testing.T) {
	t.Parallel()
	sakhalin, err := time.LoadLocation("Asia/Sakhalin")
	if err != nil {
		t.Fatal(err)
	}
	monday := time.Date(2026, 12, 7, 0, 0, 0, 0, sakhalin)
	for _, tt := range []struct {
		at   time.Time
		want time.Time
	}{
		{monday, monday},
		{monday.Add(10 * time.Hour), monday},
		{monday.AddDate(0, 0, 6).Add(23 * time.Hour), monday},                     // Sunday night
		{monday.AddDate(0, 0, 7), monday.AddDate(0, 0, 7)},                        // the next Monday
		{time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC), monday},                   // Monday 01:00 on Sakhalin
		{time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), monday.AddDate(0, 0, -7)}, // still Sunday there
	} {
		if got := weekOf(tt.at, sakhalin); !got.Equal(tt.want) {
			t.Errorf("weekOf(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestSurveyDeadlineIsTheEndOfTheDayTheWindowEnds(t *testing.T) {
	t.Parallel()
	sakhalin, err := time.LoadLocation("Asia/Sakhalin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, sakhalin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		fire   time.Time
		window time.Duration
		want   string
	}{
		{"fired at 01:40", at("2027-01-02 01:40:00"), 2 * 24 * time.Hour, "2027-01-04 23:59:59"},
		{"fired at 10:00", at("2027-01-01 10:00:00"), 10 * 24 * time.Hour, "2027-01-11 23:59:59"},
		{"a window ending at midnight ends the day before", at("2027-01-04 00:00:00"), 7 * 24 * time.Hour, "2027-01-10 23:59:59"},
		{"a fire time given in UTC", time.Date(2027, 1, 1, 14, 40, 0, 0, time.UTC), 2 * 24 * time.Hour, "2027-01-04 23:59:59"},
		{"across a month's end", at("2027-01-30 12:00:00"), 3 * 24 * time.Hour, "2027-02-02 23:59:59"},
	}
	for _, tt := range tests {
		if got := Deadline(tt.fire, tt.window, sakhalin); !got.Equal(at(tt.want)) {
			t.Errorf("%s: %v, want %s", tt.name, got.In(sakhalin), tt.want)
		}
	}
}
