package analysis

import (
	"math"
	"strconv"
	"strings"
)

// The one way numbers in a report are written for people: the summary
// sentences, the CLI's text output and the web pages all call these, while
// the JSON and CSV keep the exact values.

// pFloor is the smallest p-value written as a number; below it people read
// "p < 0.001", never a rounded 0.
const pFloor = 0.001

// FormatPValue writes a p-value for a table cell: "< 0.001" or "0.042" (two
// significant digits).
func FormatPValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < pFloor:
		return "< 0.001"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

// FormatP writes a p-value for a sentence: "p < 0.001" or "p = 0.042".
func FormatP(p float64) string {
	s := FormatPValue(p)
	if strings.HasPrefix(s, "<") {
		return "p " + s
	}
	return "p = " + s
}

// FormatNumber writes a metric value with about three significant digits,
// grouping thousands (2,128) and switching to an exponent only where a
// fixed form would mislead (below 0.0001 or from a trillion on).
func FormatNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	a := math.Abs(x)
	var s string
	switch {
	case a == 0:
		return "0"
	case a >= 1e12 || a < 1e-4:
		s = strconv.FormatFloat(a, 'e', 2, 64)
	case a >= 999.5:
		s = groupThousands(strconv.FormatFloat(math.Round(a), 'f', 0, 64))
	default:
		s = strconv.FormatFloat(a, 'g', 3, 64)
	}
	if x < 0 && strings.Trim(s, "0.,") != "" {
		return "-" + s
	}
	return s
}

// FormatSigned is FormatNumber with an explicit sign, for differences.
func FormatSigned(x float64) string {
	s := FormatNumber(x)
	if x > 0 && strings.Trim(s, "0.,") != "" {
		return "+" + s
	}
	return s
}

// FormatCount groups the thousands of a whole number: 2,128.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if neg, ok := strings.CutPrefix(s, "-"); ok {
		return "-" + groupThousands(neg)
	}
	return groupThousands(s)
}

func groupThousands(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
