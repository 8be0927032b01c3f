// Package chart draws the monitoring's images for any front end: the
// compliance chart of a report's organisations, as PNG. It renders only;
// the figures come from the monitoring package.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Bar is one organisation's share of norms met, or a norm's share of
// organisations meeting it.
type Bar struct {
	Label   string  // an organisation's name; shortened to fit, see Compliance
	Percent float64 // 0..100
	// Previous is the percent of the period before, for the trend: drawn
	// as a thin grey bar under this one; nil when there is none.
	Previous *float64
}

// MaxBars is the most bars Compliance draws: more would not be readable in
// a chat, and the image would outgrow the platforms' photo proportions (at
// most 1:20).
const MaxBars = 40

// ErrNoBars: there is nothing to draw; send the text alone.
var ErrNoBars = errors.New("no bars to draw")

// Geometry in pixels; text is Go Regular at 12 px, which has Cyrillic.
const (
	chartMargin       = 10
	chartFontSize     = 12
	chartMinLabelW    = 40  // so that short labels still leave room
	chartMaxLabelW    = 260 // longer labels are cut, ending in "…"
	chartGap          = 8
	chartBarW         = 400 // the 0..100 scale
	chartRowH         = 20
	chartBarH         = 14
	chartPercentW     = 36 // "100%"
	chartAxisH        = 24 // axis line, ticks and their labels
	chartTickH        = 4
	chartTextBaseline = 14 // from a row's top: centres a capital on the bar
)

// chartFont is parsed once; each chart makes its own face, as a face is
// not safe for concurrent use.
var chartFont = sync.OnceValues(func() (*opentype.Font, error) { return opentype.Parse(goregular.TTF) })

func chartFace() (font.Face, error) {
	f, err := chartFont()
	if err != nil {
		return nil, fmt.Errorf("parse chart font: %w", err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: chartFontSize, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("make chart face: %w", err)
	}
	return face, nil
}

// Band colours, as a traffic light: below half, below all, all norms met.
var (
	chartRed   = color.RGBA{0xd3, 0x2f, 0x2f, 0xff}
	chartAmber = color.RGBA{0xff, 0xa0, 0x00, 0xff}
	chartGreen = color.RGBA{0x38, 0x8e, 0x3c, 0xff}
	chartInk   = color.RGBA{0x21, 0x21, 0x21, 0xff}
	chartGrid  = color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
	chartPrev  = color.RGBA{0x61, 0x61, 0x61, 0xff} // the previous period: 6.1:1 on white
)

// chartLayout places a chart of n bars whose widest label is labelW pixels.
type chartLayout struct {
	width, height int
	barX          int // where 0% is
	top           int // the first row's top
	axisY         int // the axis line
}

func newChartLayout(n, labelW int) chartLayout {
	labelW = min(max(labelW, chartMinLabelW), chartMaxLabelW)
	l := chartLayout{barX: chartMargin + labelW + chartGap, top: chartMargin}
	l.width = l.barX + chartBarW + chartGap + chartPercentW + chartMargin
	l.axisY = l.top + n*chartRowH + 2
	l.height = l.axisY + chartAxisH + chartMargin
	return l
}

// bar is the rectangle of row i's bar at percent p.
func (l chartLayout) bar(i int, p float64) image.Rectangle {
	y := l.top + i*chartRowH + (chartRowH-chartBarH)/2
	w := int(math.Round(p / 100 * chartBarW))
	w = max(w, 2) // a stub, so that a 0% row still shows its red
	return image.Rect(l.barX, y, l.barX+w, y+chartBarH)
}

// chartPrevH is the height of a previous period's bar, taken from the
// bottom of the row's bar, with a pixel of white between them.
const chartPrevH = 4

// withPrevious splits a bar's rectangle r (from bar) into the period's bar
// above and the previous period's, at percent prev, below.
func withPrevious(r image.Rectangle, prev float64) (now, before image.Rectangle) {
	now = r
	now.Max.Y -= chartPrevH + 1
	w := max(int(math.Round(prev/100*chartBarW)), 2)
	before = image.Rect(r.Min.X, r.Max.Y-chartPrevH, r.Min.X+w, r.Max.Y)
	return now, before
}

// Compliance draws bars as a horizontal bar chart and returns it as PNG:
// one row per bar in the order given (the caller puts the worst first), its
// label on the left and its percent on the right, coloured by band (below
// 50 red, below 100 amber, 100 green), over a 0/50/100 axis; a bar with a
// Previous percent has it as a thin grey bar underneath. Percents are
// clamped to 0..100 (NaN is 0) and shown rounded down, so that only a green
// bar reads 100%. Labels wider than 260 px are cut, ending in "…"; control
// characters become spaces. No bars is ErrNoBars; more than MaxBars is an
// error, the caller truncates.
func Compliance(bars []Bar) ([]byte, error) {
	if len(bars) == 0 {
		return nil, fmt.Errorf("render compliance: %w", ErrNoBars)
	}
	if len(bars) > MaxBars {
		return nil, fmt.Errorf("render compliance: %d bars exceed %d", len(bars), MaxBars)
	}
	face, err := chartFace()
	if err != nil {
		return nil, fmt.Errorf("render compliance: %w", err)
	}
	defer face.Close()
	labels := make([]string, len(bars))
	widest := 0
	for i, b := range bars {
		labels[i] = chartLabel(face, b.Label)
		widest = max(widest, textWidth(face, labels[i]))
	}
	l := newChartLayout(len(bars), widest)
	img := image.NewRGBA(image.Rect(0, 0, l.width, l.height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	rowsBottom := l.top + len(bars)*chartRowH
	for _, p := range []float64{50, 100} {
		x := l.barX + int(p/100*chartBarW) - 1
		chartFill(img, image.Rect(x, l.top, x+1, rowsBottom), chartGrid)
	}
	for i, b := range bars {
		p := chartPercent(b.Percent)
		r := l.bar(i, p)
		if b.Previous != nil {
			var before image.Rectangle
			r, before = withPrevious(r, chartPercent(*b.Previous))
			chartFill(img, before, chartPrev)
		}
		chartFill(img, r, chartBand(p))
		baseline := l.top + i*chartRowH + chartTextBaseline
		chartText(img, face, l.barX-chartGap-textWidth(face, labels[i]), baseline, labels[i])
		chartText(img, face, l.barX+chartBarW+chartGap, baseline, fmt.Sprintf("%d%%", int(math.Floor(p))))
	}

	chartFill(img, image.Rect(l.barX, l.axisY, l.barX+chartBarW, l.axisY+1), chartInk)
	for _, p := range []int{0, 50, 100} {
		x := min(l.barX+p*chartBarW/100, l.barX+chartBarW-1)
		chartFill(img, image.Rect(x, l.axisY, x+1, l.axisY+chartTickH), chartInk)
		tick := fmt.Sprint(p)
		chartText(img, face, x-textWidth(face, tick)/2, l.axisY+chartTickH+13, tick)
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("render compliance: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// chartLabel makes s one line no wider than the label column.
func chartLabel(face font.Face, s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if textWidth(face, s) <= chartMaxLabelW {
		return s
	}
	runes := []rune(s)
	for len(runes) > 0 && textWidth(face, string(runes)+"…") > chartMaxLabelW {
		runes = runes[:len(runes)-1]
	}
	return strings.TrimSpace(string(runes)) + "…"
}

// textWidth is how many pixels s takes in face.
func textWidth(face font.Face, s string) int {
	return font.MeasureString(face, s).Ceil()
}

func chartPercent(p float64) float64 {
	if math.IsNaN(p) {
		return 0
	}
	return min(max(p, 0), 100)
}

func chartBand(p float64) color.RGBA {
	switch {
	case p < 50:
		return chartRed
	case p < 100:
		return chartAmber
	default:
		return chartGreen
	}
}

func chartFill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// chartText draws s with its baseline at y, starting at x.
func chartText(img draw.Image, face font.Face, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(chartInk), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
