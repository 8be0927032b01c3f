package hotline

import (
	"testing"
	"time"
)

func TestSummarizeUsesNearestRank(t *testing.T) {
	t.Parallel()
	h := func(n int) time.Duration { return time.Duration(n) * time.Hour }
	tests := []struct {
		in          []time.Duration
		median, p90 time.Duration
	}{
		{nil, 0, 0},
		{[]time.Duration{h(5)}, h(5), h(5)},
		{[]time.Duration{h(4), h(1), h(3), h(2)}, h(2), h(4)},
		{[]time.Duration{h(1), h(2), h(3), h(4), h(5), h(6), h(7), h(8), h(9), h(10)}, h(5), h(9)},
		{[]time.Duration{h(10), h(1), h(1), h(1), h(1), h(1), h(1), h(1), h(1), h(1), h(1)}, h(1), h(1)},
	}
	for _, tt := range tests {
		s := Summarize(append([]time.Duration(nil), tt.in...))
		if s.Count != len(tt.in) || s.Median != tt.median || s.P90 != tt.p90 {
			t.Errorf("Summarize(%v) = %+v, want median %s p90 %s", tt.in, s, tt.median, tt.p90)
		}
	}
}
