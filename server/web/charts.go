package web

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// Charts are SVG drawn on the server: no JavaScript, no build step, nothing
// fetched from elsewhere, and the markup can be asserted in tests. Colour is
// never the only cue: each series has its own marker shape and a text label.

const (
	chartWidth  = 760
	labelWidth  = 205 // row labels, left of the plot
	valueWidth  = 215 // value labels, right of the plot
	rowHeight   = 44
	axisHeight  = 72
	chartTop    = 26
	plotLeft    = labelWidth
	plotRight   = chartWidth - valueWidth
	markerSize  = 7.0
	seriesCount = 3
	// maxRowLabel is about as many characters as fit left of the plot.
	maxRowLabel = 28
)

// shape is a marker; each series gets a different one.
type shape int

const (
	shapeCircle shape = iota
	shapeDiamond
	shapeSquare
	shapeTriangle
)

func marker(b *strings.Builder, s shape, x, y float64, class string) {
	r := markerSize
	switch s {
	case shapeDiamond:
		fmt.Fprintf(b, `<polygon class="mark %s" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`, class, x, y-r, x+r, y, x, y+r, x-r, y)
	case shapeSquare:
		fmt.Fprintf(b, `<rect class="mark %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, class, x-r*0.8, y-r*0.8, r*1.6, r*1.6)
	case shapeTriangle:
		fmt.Fprintf(b, `<polygon class="mark %s" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`, class, x, y-r, x+r, y+r*0.8, x-r, y+r*0.8)
	default:
		fmt.Fprintf(b, `<circle class="mark %s" cx="%.1f" cy="%.1f" r="%.1f"/>`, class, x, y, r*0.85)
	}
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// scale maps [lo, hi] to [a, b].
type scale struct{ lo, hi, a, b float64 }

func (s scale) at(v float64) float64 {
	if s.hi == s.lo {
		return (s.a + s.b) / 2
	}
	return s.a + (v-s.lo)/(s.hi-s.lo)*(s.b-s.a)
}

// niceTicks returns about n round values covering [lo, hi], and widens the
// domain to the outer ticks.
func niceTicks(lo, hi float64, n int) (ticks []float64, dlo, dhi float64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi-lo < 1e-12 {
		pad := math.Max(math.Abs(lo)*0.1, 1e-3)
		lo, hi = lo-pad, hi+pad
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	dlo, dhi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	for v := dlo; v <= dhi+step/2; v += step {
		if math.Abs(v) < step/1e6 {
			v = 0
		}
		ticks = append(ticks, v)
	}
	return ticks, dlo, dhi
}

// intervalRow is one row of an interval chart: a point with its interval.
type intervalRow struct {
	Label string
	Point *float64
	CI    *[2]float64
	Shape shape
	Class string // colour class: "s-stated", "s-revealed", "s-effect"
	Value string // text at the right, e.g. "74.0% [72.1%, 75.8%]"
}

// intervalChart draws rows of points with intervals on one horizontal axis,
// with a labelled reference line (the zero line of a forest plot, 50% for a
// share). fixed, when set, is the axis domain.
type intervalChart struct {
	ID, Title, Desc string
	Rows            []intervalRow
	AxisLabel       string
	Ref             float64
	RefLabel        string
	Fixed           *[2]float64
	Tick            func(float64) string
	// Better, when set, marks the side of the axis that is better: "+" or "−".
	Better string
}

func (c intervalChart) SVG() template.HTML {
	lo, hi := c.Ref, c.Ref
	for _, r := range c.Rows {
		if r.Point != nil {
			lo, hi = math.Min(lo, *r.Point), math.Max(hi, *r.Point)
		}
		if r.CI != nil {
			lo, hi = math.Min(lo, r.CI[0]), math.Max(hi, r.CI[1])
		}
	}
	ticks, dlo, dhi := niceTicks(lo, hi, 5)
	if c.Fixed != nil {
		dlo, dhi = c.Fixed[0], c.Fixed[1]
		ticks, _, _ = niceTicks(dlo, dhi, 5)
	}
	x := scale{dlo, dhi, plotLeft, plotRight}
	plotBottom := chartTop + float64(len(c.Rows))*rowHeight
	height := plotBottom + axisHeight

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	// grid and ticks
	for _, t := range ticks {
		if t < dlo-1e-12 || t > dhi+1e-12 {
			continue
		}
		px := x.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, px, chartTop, px, plotBottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px, plotBottom+18, esc(c.Tick(t)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, plotLeft, plotBottom, plotRight, plotBottom)
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, float64(plotLeft+plotRight)/2, plotBottom+40, esc(c.AxisLabel))
	if c.Better != "" {
		if c.Better == "+" {
			fmt.Fprintf(&b, `<text class="better" x="%d" y="%.1f" text-anchor="end">better →</text>`, plotRight, plotBottom+60)
		} else {
			fmt.Fprintf(&b, `<text class="better" x="%d" y="%.1f">← better</text>`, plotLeft, plotBottom+60)
		}
	}
	// reference line
	if c.Ref >= dlo && c.Ref <= dhi {
		rx := x.at(c.Ref)
		fmt.Fprintf(&b, `<line class="ref" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, rx, chartTop-6, rx, plotBottom)
		fmt.Fprintf(&b, `<text class="ref-label" x="%.1f" y="%d" text-anchor="middle">%s</text>`, rx, chartTop-10, esc(c.RefLabel))
	}
	for i, r := range c.Rows {
		cy := chartTop + float64(i)*rowHeight + rowHeight/2
		fmt.Fprintf(&b, `<g class="row %s">`, esc(r.Class))
		fmt.Fprintf(&b, `<text class="row-label" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotLeft-10, cy+4, esc(r.Label))
		if r.CI != nil {
			x1, x2 := x.at(math.Max(r.CI[0], dlo)), x.at(math.Min(r.CI[1], dhi))
			fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x1, cy, x2, cy)
			fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x1, cy-6, x1, cy+6)
			fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x2, cy-6, x2, cy+6)
		}
		if r.Point != nil {
			marker(&b, r.Shape, x.at(*r.Point), cy, "point")
		}
		fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+12, cy+4, esc(r.Value))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// seriesPoint is one snapshot of one comparison.
type seriesPoint struct {
	At    time.Time
	Value float64
	CI    *[2]float64
}

type series struct {
	Label  string
	Points []seriesPoint
}

// timeChart draws each series' estimate over time with its interval as a
// band: the cumulative effect with its sequential bounds.
type timeChart struct {
	ID, Title, Desc string
	Series          []series
	YLabel          string
	Tick            func(float64) string
}

func (c timeChart) SVG() template.HTML {
	const (
		left, right, top = 80.0, chartWidth - 20.0, 16.0
		plotH            = 220.0
	)
	legendH := 24.0 * float64(len(c.Series))
	bottom := top + plotH
	height := bottom + 56 + legendH

	var t0, t1 time.Time
	lo, hi := 0.0, 0.0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if t0.IsZero() || p.At.Before(t0) {
				t0 = p.At
			}
			if p.At.After(t1) {
				t1 = p.At
			}
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
			if p.CI != nil {
				lo, hi = math.Min(lo, p.CI[0]), math.Max(hi, p.CI[1])
			}
		}
	}
	if !t1.After(t0) { // one snapshot: centre it
		t0, t1 = t0.Add(-time.Hour), t1.Add(time.Hour)
	}
	ticks, dlo, dhi := niceTicks(lo, hi, 4)
	y := scale{dlo, dhi, bottom, top}
	x := scale{0, t1.Sub(t0).Seconds(), left + 16, right - 16}
	xAt := func(t time.Time) float64 { return x.at(t.Sub(t0).Seconds()) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	for _, t := range ticks {
		py := y.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, py, right, py)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-6, py+4, esc(c.Tick(t)))
	}
	// time ticks: start, middle, end
	layout := "Jan 2 15:04"
	for i, f := range []float64{0, 0.5, 1} {
		tt := t0.Add(time.Duration(f * float64(t1.Sub(t0))))
		anchor := []string{"start", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, xAt(tt), bottom+18, anchor, esc(tt.UTC().Format(layout)+" UTC"))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, bottom, right, bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, top, left, bottom)
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">Time of snapshot</text>`, (left+right)/2, bottom+40)
	fmt.Fprintf(&b, `<text class="axis-label" transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (top+bottom)/2, esc(c.YLabel))
	if 0 >= dlo && 0 <= dhi {
		fmt.Fprintf(&b, `<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, y.at(0), right, y.at(0))
		fmt.Fprintf(&b, `<text class="ref-label" x="%.1f" y="%.1f" text-anchor="end">no difference</text>`, right, y.at(0)-5)
	}
	for i, s := range c.Series {
		cls := fmt.Sprintf("s-series%d", i%seriesCount)
		fmt.Fprintf(&b, `<g class="series %s">`, cls)
		var upper, lower []string
		for _, p := range s.Points {
			if p.CI != nil {
				upper = append(upper, fmt.Sprintf("%.1f,%.1f", xAt(p.At), y.at(math.Min(p.CI[1], dhi))))
				lower = append([]string{fmt.Sprintf("%.1f,%.1f", xAt(p.At), y.at(math.Max(p.CI[0], dlo)))}, lower...)
			}
		}
		if len(upper) > 1 {
			fmt.Fprintf(&b, `<polygon class="band" points="%s"/>`, strings.Join(append(upper, lower...), " "))
		}
		var line []string
		for _, p := range s.Points {
			line = append(line, fmt.Sprintf("%.1f,%.1f", xAt(p.At), y.at(p.Value)))
			if p.CI != nil {
				fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, xAt(p.At), y.at(math.Max(p.CI[0], dlo)), xAt(p.At), y.at(math.Min(p.CI[1], dhi)))
			}
		}
		if len(line) > 1 {
			fmt.Fprintf(&b, `<polyline class="trend" points="%s"/>`, strings.Join(line, " "))
		}
		for _, p := range s.Points {
			marker(&b, shape(i%4), xAt(p.At), y.at(p.Value), "point")
		}
		ly := bottom + 56 + float64(i)*24
		marker(&b, shape(i%4), left+8, ly-4, "point")
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="%.1f">%s</text>`, left+24, ly, esc(s.Label))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func ptr[T any](v T) *T { return &v }

// sayDoRow is one group of a say/do picture: the customers who gave the
// answer, or the others, split by whether they did it.
type sayDoRow struct {
	Label, Count string // "Said “human”", "n = 612"
	Did, Didnt   int64
	// DidText and DidntText are the labelled shares, e.g. "did 412 · 67.3%";
	// Null, when set, says why the group has no split (it has no units).
	DidText, DidntText, Null string
}

// sayDoChart draws a say_do claim's 2×2 table as two 100%-stacked bars,
// one per group, so that what the sayers did stands above what the others
// did. Did is solid and did-not hatched, each with a text label, so the
// two differ without colour. Overall, when set, is a dashed line at the
// share of everyone who did it.
type sayDoChart struct {
	ID, Title, Desc  string
	Rows             []sayDoRow
	AxisLabel        string
	DidKey, DidntKey string // legend texts
	Overall          *float64
	OverallLabel     string
}

func (c sayDoChart) SVG() template.HTML {
	const barHeight, rowH, legendH = 30.0, 58.0, 30.0
	x := scale{0, 1, plotLeft, plotRight}
	plotBottom := chartTop + float64(len(c.Rows))*rowH
	height := plotBottom + 44 + legendH
	hatch := c.ID + "-hatch"

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart say-do-chart" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	// The hatch is a pattern referenced by attribute, not by a style, so the
	// CSP's style-src leaves it alone.
	fmt.Fprintf(&b, `<defs><pattern id="%s" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect class="hatch-bg" width="7" height="7"/><line class="hatch-line" x1="0" y1="0" x2="0" y2="7"/></pattern></defs>`, esc(hatch))
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		px := x.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, px, chartTop, px, plotBottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px, plotBottom+16, esc(fmtPct(t)))
	}
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, float64(plotLeft+plotRight)/2, plotBottom+36, esc(c.AxisLabel))
	for i, r := range c.Rows {
		top := chartTop + float64(i)*rowH + (rowH-barHeight)/2
		mid := top + barHeight/2
		fmt.Fprintf(&b, `<g class="say-do-row">`)
		fmt.Fprintf(&b, `<text class="row-label" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotLeft-10, mid-3, esc(r.Label))
		fmt.Fprintf(&b, `<text class="row-count" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotLeft-10, mid+13, esc(r.Count))
		n := r.Did + r.Didnt
		if n <= 0 {
			fmt.Fprintf(&b, `<rect class="seg-empty" x="%d" y="%.1f" width="%d" height="%.1f"/>`, plotLeft, top, plotRight-plotLeft, barHeight)
			fmt.Fprintf(&b, `<text class="null" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, float64(plotLeft+plotRight)/2, mid+4, esc("— "+r.Null))
			b.WriteString(`</g>`)
			continue
		}
		split := x.at(float64(r.Did) / float64(n))
		fmt.Fprintf(&b, `<rect class="seg seg-did" x="%d" y="%.1f" width="%.1f" height="%.1f"/>`, plotLeft, top, split-plotLeft, barHeight)
		fmt.Fprintf(&b, `<rect class="seg seg-didnt" fill="url(#%s)" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, esc(hatch), split, top, plotRight-split, barHeight)
		swatch(&b, plotRight+12, mid-13, "", "seg-did")
		fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+28, mid-3, esc(r.DidText))
		swatch(&b, plotRight+12, mid+3, hatch, "seg-didnt")
		fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+28, mid+13, esc(r.DidntText))
		b.WriteString(`</g>`)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, plotLeft, plotBottom, plotRight, plotBottom)
	if c.Overall != nil {
		ox := x.at(*c.Overall)
		fmt.Fprintf(&b, `<line class="ref" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, ox, chartTop-6, ox, plotBottom)
		fmt.Fprintf(&b, `<text class="ref-label" x="%.1f" y="%d" text-anchor="middle">%s</text>`, ox, chartTop-10, esc(c.OverallLabel))
	}
	ly := plotBottom + 44 + legendH/2
	swatch(&b, plotLeft, ly-9, "", "seg-did")
	fmt.Fprintf(&b, `<text class="legend" x="%d" y="%.1f">%s</text>`, plotLeft+16, ly, esc(c.DidKey))
	swatch(&b, (plotLeft+plotRight)/2, ly-9, hatch, "seg-didnt")
	fmt.Fprintf(&b, `<text class="legend" x="%d" y="%.1f">%s</text>`, (plotLeft+plotRight)/2+16, ly, esc(c.DidntKey))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// swatch is a legend key: a small square filled like its bar segment.
func swatch(b *strings.Builder, x, y float64, pattern, class string) {
	fill := ""
	if pattern != "" {
		fill = fmt.Sprintf(` fill="url(#%s)"`, esc(pattern))
	}
	fmt.Fprintf(b, `<rect class="swatch %s"%s x="%.1f" y="%.1f" width="11" height="11"/>`, class, fill, x, y)
}

// quadPoint is one driver of a key-driver study: what customers say about
// it (across) against what it does to the outcome (up).
type quadPoint struct {
	Label   string
	Verdict string // an analysis.Driver* verdict
	X, Y    float64
	XCI     *[2]float64
	YCI     *[2]float64
}

// verdictShape gives each driver verdict its own marker, so that the chart
// reads without colour; the table's verdict badges use the same figures.
func verdictShape(v string) shape {
	switch v {
	case analysis.DriverOverrated:
		return shapeTriangle
	case analysis.DriverUnderrated:
		return shapeSquare
	case analysis.DriverConsistent:
		return shapeCircle
	}
	return shapeDiamond
}

// quadrantChart plots stated share against derived importance, one
// labelled marker per driver with both intervals. Each axis runs from 0,
// and the dashed lines at Equal (the share every driver would have if all
// mattered alike) split it into quadrants: above the line on one axis and
// below on the other is where saying and doing disagree.
type quadrantChart struct {
	ID, Title, Desc string
	Points          []quadPoint
	XLabel, YLabel  string
	Equal           float64
	EqualLabel      string
}

func (c quadrantChart) SVG() template.HTML {
	const (
		left, right, top = 78.0, chartWidth - 24.0, 34.0
		plotH            = 380.0
		legendH          = 26.0
	)
	bottom := top + plotH
	height := bottom + 56 + legendH
	xmax, ymax := c.Equal, c.Equal
	for _, p := range c.Points {
		xmax, ymax = math.Max(xmax, p.X), math.Max(ymax, p.Y)
		if p.XCI != nil {
			xmax = math.Max(xmax, p.XCI[1])
		}
		if p.YCI != nil {
			ymax = math.Max(ymax, p.YCI[1])
		}
	}
	xticks, _, xhi := niceTicks(0, xmax, 5)
	yticks, _, yhi := niceTicks(0, ymax, 5)
	x := scale{0, xhi, left, right}
	y := scale{0, yhi, bottom, top}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart quadrant" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	for _, t := range xticks {
		px := x.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, top, px, bottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px, bottom+18, esc(fmtPct(t)))
	}
	for _, t := range yticks {
		py := y.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, py, right, py)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-6, py+4, esc(fmtPct(t)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, bottom, right, bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, top, left, bottom)
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (left+right)/2, bottom+40, esc(c.XLabel))
	fmt.Fprintf(&b, `<text class="axis-label" transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (top+bottom)/2, esc(c.YLabel))
	if c.Equal > 0 {
		ex, ey := x.at(c.Equal), y.at(c.Equal)
		fmt.Fprintf(&b, `<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, ex, top, ex, bottom)
		fmt.Fprintf(&b, `<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, ey, right, ey)
		fmt.Fprintf(&b, `<text class="ref-label" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, right-4, ey-5, esc(c.EqualLabel))
	}
	// The corners where saying and doing disagree, in words. They sit above
	// the plot, where no driver's label can cover them.
	fmt.Fprintf(&b, `<text class="quadrant-label" x="%.1f" y="%.1f">↖ said to matter less, drives more</text>`, left, top-12)
	fmt.Fprintf(&b, `<text class="quadrant-label" x="%.1f" y="%.1f" text-anchor="end">said to matter more, drives less ↘</text>`, right, top-12)
	// Labels sit above and right of their marker (left near the right edge),
	// off the horizontal interval, and are nudged apart vertically when two
	// would overlap.
	type lbl struct {
		x, y, w float64
		end     bool
	}
	placed := make([]lbl, 0, len(c.Points))
	for _, p := range c.Points {
		px, py := x.at(p.X), y.at(p.Y)
		text := p.Label + " (" + p.Verdict + ")"
		w := 7.2 * float64(len([]rune(text)))
		l := lbl{x: px + 9, y: math.Max(py-9, top+12), w: w}
		if l.x+w > right {
			l.x, l.end = px-9, true
		}
		lx0 := func(l lbl) float64 {
			if l.end {
				return l.x - l.w
			}
			return l.x
		}
		for moved := true; moved; {
			moved = false
			for _, o := range placed {
				if math.Abs(o.y-l.y) < 14 && lx0(l) < lx0(o)+o.w && lx0(o) < lx0(l)+l.w {
					l.y, moved = o.y+14, true
				}
			}
		}
		placed = append(placed, l)

		fmt.Fprintf(&b, `<g class="driver v-%s">`, esc(p.Verdict))
		if p.XCI != nil {
			x1, x2 := x.at(math.Max(p.XCI[0], 0)), x.at(math.Min(p.XCI[1], xhi))
			fmt.Fprintf(&b, `<line class="ci ci-x" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x1, py, x2, py)
		}
		if p.YCI != nil {
			y1, y2 := y.at(math.Max(p.YCI[0], 0)), y.at(math.Min(p.YCI[1], yhi))
			fmt.Fprintf(&b, `<line class="ci ci-y" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, y1, px, y2)
		}
		marker(&b, verdictShape(p.Verdict), px, py, "point")
		anchor := "start"
		if l.end {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="point-label" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, l.x, l.y, anchor, esc(text))
		b.WriteString(`</g>`)
	}
	ly := bottom + 56 + legendH/2
	for i, v := range []string{analysis.DriverOverrated, analysis.DriverUnderrated, analysis.DriverConsistent, analysis.DriverUndetermined} {
		lx := left + float64(i)*150
		fmt.Fprintf(&b, `<g class="legend-item v-%s">`, v)
		marker(&b, verdictShape(v), lx+8, ly-4, "key")
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="%.1f">%s</text>`, lx+22, ly, v)
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// xTick is one level on the across axis of a line chart: its label and
// its position, the level's value when the factor is numeric, else its
// index.
type xTick struct {
	Label string
	At    float64
}

// plotPoint is one point of a line; Y is nil when it has no value.
type plotPoint struct {
	Y  *float64
	CI *[2]float64
}

type plotLine struct {
	Label  string
	Points []plotPoint // one per X
}

// lineChart draws one line per series across the same levels: an
// interaction plot, where parallel lines mean no interaction. Each line
// has its own marker, dash and end label, so that it reads without colour.
type lineChart struct {
	ID, Title, Desc string
	X               []xTick
	Lines           []plotLine
	XLabel, YLabel  string
	Tick            func(float64) string
}

func (c lineChart) SVG() template.HTML {
	const (
		left, top, plotH = 80.0, 16.0, 240.0
		right            = chartWidth - 170.0 // room for the lines' end labels
	)
	legendH := 24.0 * float64(len(c.Lines))
	bottom := top + plotH
	height := bottom + 56 + legendH

	lo, hi, found := math.Inf(1), math.Inf(-1), false
	for _, l := range c.Lines {
		for _, p := range l.Points {
			if p.Y == nil {
				continue
			}
			found = true
			lo, hi = math.Min(lo, *p.Y), math.Max(hi, *p.Y)
			if p.CI != nil {
				lo, hi = math.Min(lo, p.CI[0]), math.Max(hi, p.CI[1])
			}
		}
	}
	if !found {
		lo, hi = 0, 1
	}
	ticks, dlo, dhi := niceTicks(lo, hi, 4)
	y := scale{dlo, dhi, bottom, top}
	xlo, xhi := 0.0, 1.0
	if len(c.X) > 0 {
		xlo, xhi = c.X[0].At, c.X[0].At
		for _, t := range c.X {
			xlo, xhi = math.Min(xlo, t.At), math.Max(xhi, t.At)
		}
	}
	x := scale{xlo, xhi, left + 30, right - 30}
	// Lines are dodged sideways a little, so that intervals at the same
	// level do not hide one another.
	dodge := func(i int) float64 { return (float64(i) - float64(len(c.Lines)-1)/2) * 7 }
	xAt := func(i, j int) float64 { return x.at(c.X[j].At) + dodge(i) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart line-chart" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	for _, t := range ticks {
		py := y.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, py, right, py)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, left-6, py+4, esc(c.Tick(t)))
	}
	for _, t := range c.X {
		px := x.at(t.At)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, top, px, bottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px, bottom+18, esc(t.Label))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, bottom, right, bottom)
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, top, left, bottom)
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (left+right)/2, bottom+40, esc(c.XLabel))
	fmt.Fprintf(&b, `<text class="axis-label" transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (top+bottom)/2, esc(c.YLabel))
	// Each line is labelled at its last point; labels that would overlap
	// are pushed apart vertically.
	type endLabel struct {
		x, y float64
		ok   bool
	}
	ends := make([]endLabel, len(c.Lines))
	var order []int
	for i, l := range c.Lines {
		for j, p := range l.Points {
			if p.Y != nil && j < len(c.X) {
				ends[i] = endLabel{x.at(c.X[j].At) + 14 + dodge(len(c.Lines)-1), y.at(*p.Y) + 4, true}
			}
		}
		if ends[i].ok {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ends[a].y, ends[b].y) })
	for k := 1; k < len(order); k++ {
		prev, cur := &ends[order[k-1]], &ends[order[k]]
		if math.Abs(cur.x-prev.x) < 1 && cur.y-prev.y < 14 {
			cur.y = prev.y + 14
		}
	}
	for i, l := range c.Lines {
		fmt.Fprintf(&b, `<g class="series s-series%d">`, i%seriesCount)
		// One path per line; a point without a value breaks it.
		var d strings.Builder
		move := true
		for j, p := range l.Points {
			if p.Y == nil || j >= len(c.X) {
				move = true
				continue
			}
			cmd := "L"
			if move {
				cmd, move = "M", false
			}
			fmt.Fprintf(&d, "%s%.1f,%.1f ", cmd, xAt(i, j), y.at(*p.Y))
		}
		fmt.Fprintf(&b, `<path class="trend" d="%s"/>`, strings.TrimSpace(d.String()))
		for j, p := range l.Points {
			if p.Y == nil || j >= len(c.X) {
				continue
			}
			px := xAt(i, j)
			if p.CI != nil {
				fmt.Fprintf(&b, `<line class="ci" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, y.at(p.CI[0]), px, y.at(p.CI[1]))
			}
			marker(&b, shape(i%4), px, y.at(*p.Y), "point")
		}
		if e := ends[i]; e.ok {
			fmt.Fprintf(&b, `<text class="line-label" x="%.1f" y="%.1f">%s</text>`, e.x, e.y, esc(l.Label))
		}
		ly := bottom + 56 + float64(i)*24
		marker(&b, shape(i%4), left+8, ly-4, "point")
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="%.1f">%s</text>`, left+24, ly, esc(l.Label))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// forestRow is one test of a statement: its revealed figure with its
// interval, or, when it has none, why.
type forestRow struct {
	Label string // as drawn, at most maxRowLabel characters
	Full  string // the whole label, in the row's tooltip
	Point *float64
	CI    *[2]float64
	// Pooled says whether the test is in the diamond; a test left out is
	// drawn hollow and its value says so.
	Pooled bool
	Value  string
	Null   string // drawn in place of the marker when Point is nil
}

// poolForest is a statement's forest plot: one row per test, the stated
// figure as a square with the survey's interval (and that interval as a
// band behind every test, so that each reads against it), and the pooled
// result as a diamond spanning its interval over a thin line for the
// prediction interval. Every part has its own shape and a text label, so
// that it reads without colour.
type poolForest struct {
	ID, Title, Desc string
	Stated          *float64
	StatedCI        *[2]float64
	StatedLabel     string
	StatedValue     string
	Rows            []forestRow
	Pooled          *float64
	PooledCI        *[2]float64
	PI              *[2]float64
	PooledLabel     string
	PooledValue     string
	PIValue         string
	Null            float64
	NullLabel       string
	// Bounds, when set, is the widest the axis may be: 0 to 1 for shares.
	Bounds    *[2]float64
	AxisLabel string
	Tick      func(float64) string
}

func (c poolForest) SVG() template.HTML {
	const top = 34.0
	lo, hi := c.Null, c.Null
	widen := func(p *float64, ci *[2]float64) {
		if p != nil {
			lo, hi = math.Min(lo, *p), math.Max(hi, *p)
		}
		if ci != nil {
			lo, hi = math.Min(lo, ci[0]), math.Max(hi, ci[1])
		}
	}
	widen(c.Stated, c.StatedCI)
	for _, r := range c.Rows {
		widen(r.Point, r.CI)
	}
	widen(c.Pooled, c.PooledCI)
	widen(nil, c.PI)
	ticks, dlo, dhi := niceTicks(lo, hi, 5)
	if c.Bounds != nil {
		dlo, dhi = math.Max(dlo, c.Bounds[0]), math.Min(dhi, c.Bounds[1])
	}
	x := scale{dlo, dhi, plotLeft, plotRight}
	clampX := func(v float64) float64 { return x.at(math.Max(dlo, math.Min(dhi, v))) }

	n := len(c.Rows)
	if c.Stated != nil {
		n++
	}
	rowsBottom := top + float64(n)*rowHeight
	plotBottom := rowsBottom
	if c.Pooled != nil {
		plotBottom += rowHeight + 8
	}
	height := plotBottom + axisHeight - 12

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart pool-forest" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	// The survey's interval, behind everything else.
	if c.StatedCI != nil {
		x1, x2 := clampX(c.StatedCI[0]), clampX(c.StatedCI[1])
		fmt.Fprintf(&b, `<rect class="stated-band" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x1, top, math.Max(x2-x1, 1), plotBottom-top)
	}
	for _, t := range ticks {
		if t < dlo-1e-12 || t > dhi+1e-12 {
			continue
		}
		px := x.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, px, top, px, plotBottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px, plotBottom+18, esc(c.Tick(t)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, plotLeft, plotBottom, plotRight, plotBottom)
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, float64(plotLeft+plotRight)/2, plotBottom+40, esc(c.AxisLabel))
	if c.Null >= dlo && c.Null <= dhi {
		rx := x.at(c.Null)
		fmt.Fprintf(&b, `<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, rx, top-8, rx, plotBottom)
		fmt.Fprintf(&b, `<text class="ref-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, rx, top-12, esc(c.NullLabel))
	}
	if c.Stated != nil {
		sx := clampX(*c.Stated)
		fmt.Fprintf(&b, `<line class="stated-line" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, sx, top, sx, plotBottom)
	}
	whisker := func(ci *[2]float64, cy float64, class string, cap float64) {
		x1, x2 := clampX(ci[0]), clampX(ci[1])
		fmt.Fprintf(&b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, class, x1, cy, x2, cy)
		fmt.Fprintf(&b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, class, x1, cy-cap, x1, cy+cap)
		fmt.Fprintf(&b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, class, x2, cy-cap, x2, cy+cap)
	}
	label := func(text, full string, cy float64) {
		tip := ""
		if full != "" && full != text {
			tip = "<title>" + esc(full) + "</title>"
		}
		fmt.Fprintf(&b, `<text class="row-label" x="%d" y="%.1f" text-anchor="end">%s%s</text>`, plotLeft-10, cy+4, tip, esc(text))
	}
	i := 0
	cyOf := func() float64 { return top + float64(i)*rowHeight + rowHeight/2 }
	if c.Stated != nil {
		cy := cyOf()
		b.WriteString(`<g class="stated-row s-stated">`)
		label(c.StatedLabel, "", cy)
		if c.StatedCI != nil {
			whisker(c.StatedCI, cy, "ci", 6)
		}
		marker(&b, shapeSquare, clampX(*c.Stated), cy, "point")
		fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+12, cy+4, esc(c.StatedValue))
		b.WriteString(`</g>`)
		i++
	}
	for _, r := range c.Rows {
		cy := cyOf()
		class := "test-row s-revealed"
		if !r.Pooled {
			class += " left-out"
		}
		fmt.Fprintf(&b, `<g class="%s">`, class)
		label(r.Label, r.Full, cy)
		switch {
		case r.Point == nil:
			fmt.Fprintf(&b, `<text class="null" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, float64(plotLeft+plotRight)/2, cy+4, esc("— "+r.Null))
		default:
			if r.CI != nil {
				whisker(r.CI, cy, "ci", 6)
			}
			marker(&b, shapeCircle, clampX(*r.Point), cy, "point")
		}
		fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+12, cy+4, esc(r.Value))
		b.WriteString(`</g>`)
		i++
	}
	if c.Pooled != nil {
		cy := rowsBottom + 8 + rowHeight/2
		fmt.Fprintf(&b, `<line class="sep" x1="0" y1="%.1f" x2="%d" y2="%.1f"/>`, rowsBottom+4, chartWidth, rowsBottom+4)
		b.WriteString(`<g class="pooled-row">`)
		label(c.PooledLabel, "", cy)
		if c.PI != nil {
			whisker(c.PI, cy, "pi", 4)
		}
		if c.PooledCI != nil {
			x1, px, x2 := clampX(c.PooledCI[0]), clampX(*c.Pooled), clampX(c.PooledCI[1])
			fmt.Fprintf(&b, `<polygon class="diamond" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`, x1, cy, px, cy-10, x2, cy, px, cy+10)
		} else {
			marker(&b, shapeDiamond, clampX(*c.Pooled), cy, "point diamond-point")
		}
		if c.PIValue != "" {
			fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+12, cy-3, esc(c.PooledValue))
			fmt.Fprintf(&b, `<text class="row-value pi-value" x="%d" y="%.1f">%s</text>`, plotRight+12, cy+13, esc(c.PIValue))
		} else {
			fmt.Fprintf(&b, `<text class="row-value" x="%d" y="%.1f">%s</text>`, plotRight+12, cy+4, esc(c.PooledValue))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// layerSeg is one experiment's range [Lo, Hi) of a layer.
type layerSeg struct {
	Key   string
	Title string // what a pointer over it shows: name, range, share, status
	// Status decides the look: running filled, draft hatched, stopped
	// outlined; the label says it in words too.
	Status experiments.Status
	Lo, Hi float64
}

// layerChart draws a layer's hash space [0, 1) as a bar. The first lane is
// the layer as it assigns now: the running experiments' ranges, filled,
// and the free space between them, dashed and labelled "free". Drafts and
// stopped experiments take no units, so they are drawn in lanes below, on
// the same axis, without overlapping one another: hatched for a draft,
// outlined for a stopped one, each labelled with its status.
type layerChart struct {
	ID, Title, Desc string
	Segs            []layerSeg
	Free            [][2]float64
}

const (
	layerLeft   = 130 // lane labels, left of the bar
	layerRight  = chartWidth - 20
	layerLaneH  = 40.0
	layerBarH   = 30.0
	layerCharPx = 7.2 // about one character at 12px
)

func (c layerChart) SVG() template.HTML {
	// Lane 0 holds the running experiments; the others go to the first
	// lane below where they overlap nothing.
	lanes := [][]layerSeg{nil}
	for _, s := range c.Segs {
		if s.Status == experiments.StatusRunning {
			lanes[0] = append(lanes[0], s)
			continue
		}
		placed := false
		for i := 1; i < len(lanes) && !placed; i++ {
			if !slices.ContainsFunc(lanes[i], func(o layerSeg) bool { return s.Lo < o.Hi && o.Lo < s.Hi }) {
				lanes[i] = append(lanes[i], s)
				placed = true
			}
		}
		if !placed {
			lanes = append(lanes, []layerSeg{s})
		}
	}
	x := scale{0, 1, layerLeft, layerRight}
	plotBottom := chartTop + float64(len(lanes))*layerLaneH
	height := plotBottom + 44
	hatch := c.ID + "-hatch"

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart layer-bar" id="%s" viewBox="0 0 %d %.0f" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		esc(c.ID), chartWidth, height, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	fmt.Fprintf(&b, `<defs><pattern id="%s" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`+
		`<rect class="hatch-bg" width="7" height="7"/><line class="hatch-line" x1="0" y1="0" x2="0" y2="7"/></pattern></defs>`, esc(hatch))
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		px := x.at(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, px, chartTop, px, plotBottom)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, px, plotBottom+16, num(t))
	}
	fmt.Fprintf(&b, `<text class="axis-label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, float64(layerLeft+layerRight)/2, plotBottom+36,
		"The layer’s units, from 0 to 1: an experiment takes those in its range [lo, hi)")
	label := func(text string, lo, hi, mid float64, class string) {
		w := x.at(hi) - x.at(lo) - 8
		fits := int(w / layerCharPx)
		if fits < 2 {
			return
		}
		if r := []rune(text); len(r) > fits {
			text = string(r[:fits-1]) + "…"
		}
		fmt.Fprintf(&b, `<text class="%s" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, class, (x.at(lo)+x.at(hi))/2, mid+4, esc(text))
	}
	for i, lane := range lanes {
		top := chartTop + float64(i)*layerLaneH + (layerLaneH-layerBarH)/2
		mid := top + layerBarH/2
		switch i {
		case 0:
			fmt.Fprintf(&b, `<text class="row-label" x="%d" y="%.1f" text-anchor="end">Running</text>`, layerLeft-10, mid+4)
			fmt.Fprintf(&b, `<rect class="track" x="%d" y="%.1f" width="%d" height="%.1f"/>`, layerLeft, top, layerRight-layerLeft, layerBarH)
			for _, f := range c.Free {
				fmt.Fprintf(&b, `<g class="free-range"><title>Free: %s, %s of the layer</title>`, rangeText(f[0], f[1]), esc(fmtPct(f[1]-f[0])))
				fmt.Fprintf(&b, `<rect class="free" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x.at(f[0]), top, x.at(f[1])-x.at(f[0]), layerBarH)
				label("free", f[0], f[1], mid, "free-label")
				b.WriteString(`</g>`)
			}
		case 1:
			fmt.Fprintf(&b, `<text class="row-label" x="%d" y="%.1f" text-anchor="end">Not running</text>`, layerLeft-10, mid+4)
		}
		for _, s := range lane {
			class, fill, text := "seg-running", "", s.Key
			switch s.Status {
			case experiments.StatusDraft:
				class, fill, text = "seg-draft", fmt.Sprintf(` fill="url(#%s)"`, esc(hatch)), s.Key+" · draft"
			case experiments.StatusRunning:
			default:
				class, text = "seg-stopped", s.Key+" · "+string(s.Status)
			}
			fmt.Fprintf(&b, `<g class="layer-seg" data-experiment="%s" data-status="%s"><title>%s</title>`, esc(s.Key), esc(string(s.Status)), esc(s.Title))
			fmt.Fprintf(&b, `<rect class="seg %s"%s x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, class, fill, x.at(s.Lo), top, x.at(s.Hi)-x.at(s.Lo), layerBarH)
			label(text, s.Lo, s.Hi, mid, "seg-label")
			b.WriteString(`</g>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
