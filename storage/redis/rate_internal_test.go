package redis

import (
	"errors"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// waitTurn gives up a slot it woke up for too late, but keeps the next one
// however late within an interval, so a loaded machine still sends.
func TestWaitTurnGivesUpOneLateSlot(t *testing.T) {
	t.Parallel()
	r := storage.Rate{PerPeriod: 10, Period: time.Second, CatchUp: 6 * time.Millisecond} // a slot every 100 ms
	errTooMany := errors.New("too many slots taken")
	tests := []struct {
		name  string
		late  []time.Duration // how late each wake-up is
		takes int             // slots taken before the call goes
		err   error
	}{
		{"on time", []time.Duration{0}, 1, nil},
		{"within the catch-up", []time.Duration{5 * time.Millisecond}, 1, nil},
		{"late once", []time.Duration{10 * time.Millisecond, 0}, 2, nil},
		{"late every time", []time.Duration{10 * time.Millisecond, 40 * time.Millisecond}, 2, nil},
		{"later than an interval every time", []time.Duration{150 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond}, 3, errTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const wait = time.Millisecond
			base := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
			takes, nows := 0, 0
			now := func() time.Time {
				nows++
				if nows%2 == 1 { // when the slot is taken
					return base
				}
				return base.Add(wait + tt.late[takes-1]) // on waking up
			}
			take := func() (bool, time.Duration, error) {
				if takes == len(tt.late) {
					return false, 0, errTooMany
				}
				takes++
				return true, wait, nil
			}
			err := waitTurn(t.Context(), r, now, take)
			if !errors.Is(err, tt.err) || takes != tt.takes {
				t.Errorf("waitTurn took %d slots and returned %v, want %d and %v", takes, err, tt.takes, tt.err)
			}
		})
	}
}
