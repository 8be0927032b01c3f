package broadcast

import (
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// underCap keeps any window of the limit's period within its count however
// the catch-up and the request's jitter move the calls, and catches up
// more at low rates, where a slot given up costs the most.
func TestUnderCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rate    storage.Rate
		catchUp time.Duration
	}{
		{"Telegram, 30/s", storage.Rate{PerPeriod: 30, Period: time.Second, Burst: 30}, bulkCatchUp},
		{"VK, 20/s", storage.Rate{PerPeriod: 20, Period: time.Second, Burst: 20}, bulkCatchUp},
		{"paid broadcasts, 1000/s", storage.Rate{PerPeriod: 1000, Period: time.Second}, bulkCatchUp},
		{"one a second", storage.Rate{PerPeriod: 1, Period: time.Second, Burst: 2}, 241 * time.Millisecond},
		{"a group, 20/min", storage.Rate{PerPeriod: 20, Period: time.Minute}, 741 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := underCap(tt.rate)
			if got.CatchUp != tt.catchUp || got.BulkBurst != 1 || got.PerPeriod != tt.rate.PerPeriod {
				t.Fatalf("underCap(%+v) = %+v, want a catch-up of %v, one call a slot", tt.rate, got, tt.catchUp)
			}
			// The first and the (n+1)-th call, the first as late as it may
			// be, the other on time, still lie a whole period apart (less
			// the microseconds the limiter's interval is truncated to).
			interval := got.Period / time.Duration(got.PerPeriod)
			truncated := time.Duration(got.PerPeriod) * time.Microsecond
			if apart := time.Duration(got.PerPeriod)*interval - got.CatchUp - requestJitter; apart < tt.rate.Period-truncated {
				t.Errorf("n+1 calls may come within %v, want at least %v", apart, tt.rate.Period)
			}
			if used := float64(tt.rate.Period) / float64(got.Period); tt.rate.PerPeriod >= 20 && used < 0.985 {
				t.Errorf("the schedule uses %.1f %% of the cap, want at least 98.5 %%", 100*used)
			}
		})
	}
}
