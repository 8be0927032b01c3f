package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
)

func decodeChart(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode chart: %v", err)
	}
	return img
}

func someBars(n int) []Bar {
	bars := make([]Bar, n)
	for i := range bars {
		bars[i] = Bar{Label: fmt.Sprintf("ORG-%02d", i), Percent: float64(i) * 100 / float64(max(n-1, 1))}
	}
	return bars
}

func sameColor(c color.Color, want color.RGBA) bool {
	r, g, b, a := c.RGBA()
	wr, wg, wb, wa := want.RGBA()
	return r == wr && g == wg && b == wb && a == wa
}

func TestComplianceSizes(t *testing.T) {
	t.Parallel()
	prev := image.Rectangle{}
	for _, n := range []int{1, 5, 20, MaxBars} {
		data, err := Compliance(someBars(n))
		if err != nil {
			t.Fatalf("%d bars: %v", n, err)
		}
		b := decodeChart(t, data).Bounds()
		if b.Dy() <= prev.Dy() || (prev.Dx() != 0 && b.Dx() != prev.Dx()) {
			t.Errorf("%d bars: %v after %v, want taller and as wide", n, b.Size(), prev.Size())
		}
		// Both platforms refuse photos out of proportion (1:20) or over 10,000 px of sides.
		if long, short := max(b.Dx(), b.Dy()), min(b.Dx(), b.Dy()); long > 20*short || b.Dx()+b.Dy() > 10000 {
			t.Errorf("%d bars: %v is no photo Telegram or VK takes", n, b.Size())
		}
		prev = b
	}
}

func TestComplianceBands(t *testing.T) {
	t.Parallel()
	cases := []struct {
		percent float64
		want    color.RGBA
	}{
		{100, chartGreen},
		{130, chartGreen}, // clamped
		{99.9, chartAmber},
		{50, chartAmber},
		{49.9, chartRed},
		{0, chartRed},
		{-5, chartRed},
		{math.NaN(), chartRed},
	}
	bars := make([]Bar, len(cases))
	for i, tc := range cases {
		bars[i] = Bar{Label: "ORG", Percent: tc.percent}
	}
	img := decodeChart(t, mustRender(t, bars))
	face, err := chartFace()
	if err != nil {
		t.Fatal(err)
	}
	l := newChartLayout(len(bars), textWidth(face, "ORG"))
	for i, tc := range cases {
		r := l.bar(i, chartPercent(tc.percent))
		end := image.Pt(r.Max.X-1, (r.Min.Y+r.Max.Y)/2)
		if got := img.At(end.X, end.Y); !sameColor(got, tc.want) {
			t.Errorf("bar of %v%% ends in %v at %v, want %v", tc.percent, got, end, tc.want)
		}
		if after := img.At(r.Max.X+1, end.Y); tc.percent < 49 && !sameColor(after, color.RGBA{0xff, 0xff, 0xff, 0xff}) {
			t.Errorf("bar of %v%% goes on past %d: %v", tc.percent, r.Max.X, after)
		}
	}
	// A full bar spans the whole scale.
	if r := l.bar(0, 100); r.Dx() != chartBarW {
		t.Errorf("a 100%% bar is %d px wide, want %d", r.Dx(), chartBarW)
	}
}

// TestComplianceDrawsThePreviousPeriodUnderneath: a bar with a previous
// percent keeps its band colour above a grey bar as long as the previous
// percent; a bar without one is drawn whole.
func TestComplianceDrawsThePreviousPeriodUnderneath(t *testing.T) {
	t.Parallel()
	prev := func(p float64) *float64 { return &p }
	bars := []Bar{{Label: "ORG", Percent: 25, Previous: prev(75)}, {Label: "ORG", Percent: 100, Previous: prev(0)}, {Label: "ORG", Percent: 60}}
	img := decodeChart(t, mustRender(t, bars))
	face, err := chartFace()
	if err != nil {
		t.Fatal(err)
	}
	l := newChartLayout(len(bars), textWidth(face, "ORG"))
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	for i, b := range bars {
		whole := l.bar(i, b.Percent)
		now, before := whole, image.Rectangle{}
		if b.Previous != nil {
			now, before = withPrevious(whole, *b.Previous)
		}
		mid := (now.Min.Y + now.Max.Y) / 2
		if got := img.At(now.Max.X-1, mid); !sameColor(got, chartBand(b.Percent)) {
			t.Errorf("bar %d ends in %v, want its band %v", i, got, chartBand(b.Percent))
		}
		if b.Previous == nil {
			if got := img.At(whole.Min.X+1, whole.Max.Y-1); !sameColor(got, chartBand(b.Percent)) {
				t.Errorf("bar %d without a previous period is cut at the bottom: %v", i, got)
			}
			continue
		}
		low := before.Max.Y - 1
		if got := img.At(before.Max.X-1, low); !sameColor(got, chartPrev) {
			t.Errorf("bar %d's previous period ends in %v at x %d, want grey", i, got, before.Max.X-1)
		}
		if got := img.At(before.Max.X+1, low); b.Percent < *b.Previous && !sameColor(got, white) {
			t.Errorf("bar %d's previous period goes on past %d: %v", i, before.Max.X, got)
		}
		if got := img.At(now.Min.X+1, now.Max.Y); !sameColor(got, white) {
			t.Errorf("no white between bar %d and its previous period: %v", i, got)
		}
	}
	if _, before := withPrevious(l.bar(0, 25), 75); before.Dx() != 3*chartBarW/4 || before.Dy() != chartPrevH {
		t.Errorf("a previous 75%% is %v, want %d px wide, %d high", before.Size(), 3*chartBarW/4, chartPrevH)
	}
}

func TestComplianceRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		bars []Bar
		is   error
	}{
		{"no bars", nil, ErrNoBars},
		{"over the maximum", someBars(MaxBars + 1), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := Compliance(tc.bars)
			if err == nil || data != nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("Compliance = %d bytes, %v", len(data), err)
			}
		})
	}
}

func TestChartLabel(t *testing.T) {
	t.Parallel()
	face, err := chartFace()
	if err != nil {
		t.Fatal(err)
	}
	long := "Первичная профсоюзная организация работников Сахалинского государственного университета"
	cases := []struct{ in, want string }{
		{"MET-12", "MET-12"},
		{"ППО СОШ № 5", "ППО СОШ № 5"}, // Cyrillic is drawn, not replaced
		{"tab\there", "tab here"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := chartLabel(face, tc.in); got != tc.want {
			t.Errorf("chartLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	cut := chartLabel(face, long)
	if !strings.HasSuffix(cut, "…") || !strings.HasPrefix(long, strings.TrimSuffix(cut, "…")) || textWidth(face, cut) > chartMaxLabelW {
		t.Errorf("chartLabel(long) = %q (%d px), want a prefix ending in … within %d px", cut, textWidth(face, cut), chartMaxLabelW)
	}
	// Any label renders, however long or foreign, and Cyrillic leaves ink.
	img := decodeChart(t, mustRender(t, []Bar{{Label: long, Percent: 42}, {Label: "", Percent: 100}}))
	l := newChartLayout(2, chartMaxLabelW)
	inked := false
	for x := chartMargin; x < l.barX-chartGap && !inked; x++ {
		for y := l.top; y < l.top+chartRowH; y++ {
			if !sameColor(img.At(x, y), color.RGBA{0xff, 0xff, 0xff, 0xff}) {
				inked = true
				break
			}
		}
	}
	if !inked {
		t.Error("the Cyrillic label left no ink")
	}
}

func mustRender(t *testing.T, bars []Bar) []byte {
	t.Helper()
	data, err := Compliance(bars)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return data
}
