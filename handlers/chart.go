package handlers

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

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// ChartBar is one organisation's share of norms met.
type ChartBar struct {
	Label   string  // an org code; ASCII, see RenderCompliance
	Percent float64 // 0..100
}

// MaxComplianceBars is the most bars RenderCompliance draws: more would not
// be readable in a chat, and the image would outgrow the platforms' photo
// proportions (at most 1:20).
const MaxComplianceBars = 40

// ErrNoChartBars: there is nothing to draw; send the text alone.
var ErrNoChartBars = errors.New("no bars to draw")

// Geometry in pixels; the font is basicfont's 7×13.
const (
	chartMargin       = 10
	chartCharW        = 7
	chartMinLabel     = 4  // characters, so that short codes still leave room
	chartMaxLabel     = 16 // characters; longer labels are cut
	chartGap          = 8
	chartBarW         = 400 // the 0..100 scale
	chartRowH         = 20
	chartBarH         = 14
	chartPercentW     = 4 * chartCharW // "100%"
	chartAxisH        = 24             // axis line, ticks and their labels
	chartTickH        = 4
	chartTextBaseline = 14 // from a row's top: centres a glyph of ascent 11 on the bar
)

// Band colours, as a traffic light: below half, below all, all norms met.
var (
	chartRed   = color.RGBA{0xd3, 0x2f, 0x2f, 0xff}
	chartAmber = color.RGBA{0xff, 0xa0, 0x00, 0xff}
	chartGreen = color.RGBA{0x38, 0x8e, 0x3c, 0xff}
	chartInk   = color.RGBA{0x21, 0x21, 0x21, 0xff}
	chartGrid  = color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
)

// chartLayout places a chart of n bars whose longest label has labelChars
// characters.
type chartLayout struct {
	width, height int
	barX          int // where 0% is
	top           int // the first row's top
	axisY         int // the axis line
}

func newChartLayout(n, labelChars int) chartLayout {
	labelW := min(max(labelChars, chartMinLabel), chartMaxLabel) * chartCharW
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

// RenderCompliance draws bars as a horizontal bar chart and returns it as
// PNG: one row per bar in the order given (the caller puts the worst
// first), its label on the left and its percent on the right, coloured by
// band (below 50 red, below 100 amber, 100 green), over a 0/50/100 axis.
// Percents are clamped to 0..100 (NaN is 0) and shown rounded down, so
// that only a green bar reads 100%. Labels are drawn in basicfont, which
// has ASCII only: other characters become '?', and labels over 16
// characters are cut, ending in '~'. No bars is ErrNoChartBars; more than
// MaxComplianceBars is an error, the caller truncates.
func RenderCompliance(bars []ChartBar) ([]byte, error) {
	if len(bars) == 0 {
		return nil, fmt.Errorf("render compliance: %w", ErrNoChartBars)
	}
	if len(bars) > MaxComplianceBars {
		return nil, fmt.Errorf("render compliance: %d bars exceed %d", len(bars), MaxComplianceBars)
	}
	labels := make([]string, len(bars))
	longest := 0
	for i, b := range bars {
		labels[i] = chartLabel(b.Label)
		longest = max(longest, len(labels[i]))
	}
	l := newChartLayout(len(bars), longest)
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
		chartFill(img, r, chartBand(p))
		baseline := l.top + i*chartRowH + chartTextBaseline
		label := labels[i]
		chartText(img, l.barX-chartGap-len(label)*chartCharW, baseline, label)
		chartText(img, l.barX+chartBarW+chartGap, baseline, fmt.Sprintf("%d%%", int(math.Floor(p))))
	}

	chartFill(img, image.Rect(l.barX, l.axisY, l.barX+chartBarW, l.axisY+1), chartInk)
	for _, p := range []int{0, 50, 100} {
		x := min(l.barX+p*chartBarW/100, l.barX+chartBarW-1)
		chartFill(img, image.Rect(x, l.axisY, x+1, l.axisY+chartTickH), chartInk)
		tick := fmt.Sprint(p)
		chartText(img, x-len(tick)*chartCharW/2, l.axisY+chartTickH+13, tick)
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("render compliance: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// chartLabel makes s drawable in basicfont and short enough for its column.
func chartLabel(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == chartMaxLabel {
			out := b.String()
			return out[:len(out)-1] + "~"
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
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
func chartText(img draw.Image, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(chartInk), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
