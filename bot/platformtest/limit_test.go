package platformtest

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name   string
		n      int
		per    time.Duration
		adds   []int // ms after base
		checkT int
		want   time.Duration
	}{
		{name: "empty", n: 3, per: time.Second, checkT: 0, want: 0},
		{name: "room left", n: 3, per: time.Second, adds: []int{0, 100}, checkT: 150, want: 0},
		{name: "full waits for the oldest", n: 3, per: time.Second, adds: []int{0, 100, 200}, checkT: 300, want: 700 * time.Millisecond},
		{name: "oldest just out", n: 3, per: time.Second, adds: []int{0, 100, 200}, checkT: 1000, want: 0},
		{name: "ring wrapped", n: 3, per: time.Second, adds: []int{0, 100, 200, 1000, 1100}, checkT: 1150, want: 50 * time.Millisecond},
		{name: "ring wrapped twice", n: 2, per: time.Second, adds: []int{0, 500, 1000, 1500, 2000}, checkT: 2200, want: 300 * time.Millisecond},
		{name: "per minute", n: 2, per: time.Minute, adds: []int{0, 30000}, checkT: 45000, want: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWindow(tt.n, tt.per, base)
			for _, ms := range tt.adds {
				if d := w.wait(at(ms)); d != 0 {
					t.Fatalf("wait before adding at %d ms = %s, the test adds only what fits", ms, d)
				}
				w.add(at(ms))
			}
			if got := w.wait(at(tt.checkT)); got != tt.want {
				t.Errorf("wait at %d ms = %s, want %s", tt.checkT, got, tt.want)
			}
		})
	}
}

func TestEveryNth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    *everyNth
		want []int // calls (1-based) of the first 10 that fail
	}{
		{name: "every third", e: &everyNth{every: 3}, want: []int{3, 6, 9}},
		{name: "every call", e: &everyNth{every: 1}, want: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{name: "off", e: &everyNth{every: 0}},
		{name: "unset", e: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []int
			for call := 1; call <= 10; call++ {
				if tt.e.hit() {
					got = append(got, call)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("failing calls = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("failing calls = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
