package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// The formatting rules of every number shown to people. The JSON downloads
// keep the computed values; these strings are only for reading.

const minus = "\u2212"

// signed returns s with a typographic minus, or a plus when plus is set.
func signed(s string, negative, plus bool) string {
	switch {
	case negative:
		return minus + s
	case plus:
		return "+" + s
	}
	return s
}

// fmtNum shows a metric value with about three significant digits, as
// analysis.FormatNumber writes it, with a typographic minus.
func fmtNum(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	s := analysis.FormatNumber(math.Abs(x))
	return signed(s, x < 0 && !isZero(s), false)
}

// isZero reports whether a formatted number reads as zero, so that a tiny
// negative value is not shown as "−0".
func isZero(s string) bool { return strings.Trim(s, "0.,") == "" }

// fmtSigned is fmtNum with an explicit sign, for differences.
func fmtSigned(x float64) string {
	s := fmtNum(x)
	if x > 0 && !isZero(s) {
		return "+" + s
	}
	return s
}

// fmtInt groups thousands as analysis.FormatCount does: 2,128.
func fmtInt(n int64) string {
	s := analysis.FormatCount(n)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return signed(rest, true, false)
	}
	return s
}

// fmtPct shows a share (0.612) as a labelled percentage: 61.2%.
func fmtPct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	s := strconv.FormatFloat(math.Abs(x)*100, 'f', 1, 64)
	return signed(s, x < 0 && s != "0.0", false) + "%"
}

// fmtPP shows a difference of shares in percentage points: +3.1 pp.
func fmtPP(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	s := strconv.FormatFloat(math.Abs(x)*100, 'f', 1, 64)
	return signed(s, x < 0 && s != "0.0", x > 0 && s != "0.0") + " pp"
}

// fmtRel shows a relative effect: +9.0%.
func fmtRel(x float64) string {
	s := fmtPct(x)
	if x > 0 && s != "0.0%" {
		return "+" + s
	}
	return s
}

// fmtP shows a p-value as analysis.FormatPValue does, so that a table
// and the summary sentence above it agree: anything below 0.001 is
// "< 0.001", never 0.
func fmtP(p *float64) string {
	if p == nil {
		return "—"
	}
	return analysis.FormatPValue(*p)
}

// fmtPEq is fmtP for prose: "p < 0.001" or "p = 0.042".
func fmtPEq(p *float64) string {
	if p == nil {
		return "p = —"
	}
	return analysis.FormatP(*p)
}

// fmtChance shows a probability without claiming certainty.
func fmtChance(p *float64) string {
	switch {
	case p == nil || math.IsNaN(*p):
		return "—"
	case *p > 0.999:
		return "> 99.9%"
	case *p < 0.001:
		return "< 0.1%"
	}
	return fmtPct(*p)
}

// valueFormat formats a metric's values (means) and its differences.
type valueFormat struct {
	value, diff func(float64) string
	// unit names the difference's unit for axis labels; "" for a metric's
	// own units.
	unit string
}

// label appends the unit to an axis label: "Effect (percentage points)".
func (f valueFormat) label(s string) string {
	if f.unit == "" {
		return s
	}
	return s + " (" + f.unit + ")"
}

func formatFor(kind analysis.Kind, metric string) valueFormat {
	if kind == analysis.Binary {
		return valueFormat{value: fmtPct, diff: fmtPP, unit: "percentage points"}
	}
	return valueFormat{value: fmtNum, diff: fmtSigned}
}

// fmtInterval shows [lo, hi] with f, or "—" when undefined.
func fmtInterval(ci *analysis.Interval, f func(float64) string) string {
	if ci == nil {
		return "—"
	}
	return "[" + f(ci[0]) + ", " + f(ci[1]) + "]"
}

// confidence is the CI level of a report: alpha 0.05 → "95%".
func confidence(alpha float64) string {
	return strconv.FormatFloat((1-alpha)*100, 'f', -1, 64) + "%"
}

// daysRunning says how long an experiment has been (or was) running.
func daysRunning(start, stop *time.Time, now time.Time) string {
	if start == nil {
		return "—"
	}
	end := now
	if stop != nil {
		end = *stop
	}
	d := int(end.Sub(*start).Hours() / 24)
	switch {
	case d < 1:
		return "< 1 day"
	case d == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", d)
}
