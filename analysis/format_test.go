package analysis_test

import (
	"math"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

func TestFormatNumber(t *testing.T) {
	for _, tt := range []struct {
		x      float64
		signed bool
		want   string
	}{
		{0, false, "0"}, {0.61, false, "0.61"}, {0.08333, true, "+0.0833"}, {-0.4078, true, "-0.408"},
		{10.012, false, "10"}, {9.746, false, "9.75"}, {123.4, false, "123"}, {999.6, false, "1,000"},
		{12345.6, false, "12,346"}, {-2128, false, "-2,128"}, {3e-5, false, "3.00e-05"},
		{math.Pi * 1e12, true, "+3.14e+12"}, {-1e-9, true, "-1.00e-09"}, {math.NaN(), false, "—"},
	} {
		got := analysis.FormatNumber(tt.x)
		if tt.signed {
			got = analysis.FormatSigned(tt.x)
		}
		if got != tt.want {
			t.Errorf("format(%v, signed %v) = %q, want %q", tt.x, tt.signed, got, tt.want)
		}
	}
}

func TestFormatP(t *testing.T) {
	for _, tt := range []struct {
		p           float64
		cell, prose string
	}{
		{1e-300, "< 0.001", "p < 0.001"}, {0.000999, "< 0.001", "p < 0.001"}, {0.001, "0.001", "p = 0.001"},
		{0.0123, "0.012", "p = 0.012"}, {0.05, "0.05", "p = 0.05"}, {0.736, "0.74", "p = 0.74"}, {1, "1", "p = 1"},
	} {
		if got := analysis.FormatPValue(tt.p); got != tt.cell {
			t.Errorf("FormatPValue(%v) = %q, want %q", tt.p, got, tt.cell)
		}
		if got := analysis.FormatP(tt.p); got != tt.prose {
			t.Errorf("FormatP(%v) = %q, want %q", tt.p, got, tt.prose)
		}
	}
	if got := analysis.FormatCount(-1234567); got != "-1,234,567" {
		t.Errorf("FormatCount = %q", got)
	}
}
