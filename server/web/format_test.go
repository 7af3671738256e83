package web

import (
	"testing"

	"github.com/revealed-ab/revealed/experiments"
)

func TestFormat(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	tests := []struct{ got, want string }{
		{fmtP(nil), "—"},
		{fmtP(p(0)), "< 0.001"},
		{fmtP(p(1e-300)), "< 0.001"},
		{fmtP(p(0.000999)), "< 0.001"},
		{fmtP(p(0.001)), "0.001"},
		{fmtP(p(0.04249)), "0.042"},
		{fmtP(p(1)), "1"},
		{fmtP(p(0.1234)), "0.12"}, // as analysis.FormatPValue writes it in the summaries
		{fmtPEq(p(1e-9)), "p < 0.001"},
		{fmtPEq(p(0.5)), "p = 0.5"},
		{fmtPct(0.612), "61.2%"},
		{fmtPct(0), "0.0%"},
		{fmtPct(-0.0001), "0.0%"},
		{fmtPP(0.031), "+3.1 pp"},
		{fmtPP(-0.025), "−2.5 pp"},
		{fmtPP(0), "0.0 pp"},
		{fmtRel(0.09), "+9.0%"},
		{fmtRel(-0.15), "−15.0%"},
		{fmtInt(2128), "2,128"},
		{fmtInt(-1234567), "−1,234,567"},
		{fmtInt(12), "12"},
		{fmtNum(3.6712), "3.67"},
		{fmtNum(12.345), "12.3"},
		{fmtNum(-0.004), "−0.004"},
		{fmtNum(15234.4), "15,234"},
		{fmtSigned(0.27), "+0.27"},
		{fmtSigned(0), "0"},
		{fmtChance(p(0.9999)), "> 99.9%"},
		{fmtChance(p(0.00001)), "< 0.1%"},
		{fmtChance(p(0.137)), "13.7%"},
		{fmtChance(nil), "—"},
		{confidence(0.05), "95%"},
		{confidence(0.1), "90%"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestPlaceErrors(t *testing.T) {
	known := map[string]bool{"key": true, "variants": true, "variants[1].weight": true, "targeting[0].value": true, "analysis": true}
	errs := []experiments.FieldError{
		{Field: "variants[1].weight", Detail: "must be a finite number greater than 0"},
		{Field: "targeting[0].value[1]", Detail: "must be a scalar"},
		{Field: "variants[7].key", Detail: "must not be empty"},
		{Field: "analysis.alpha", Detail: "must be between 0 and 0.5"},
		{Field: "nowhere", Detail: "odd"},
	}
	placed, general := place(errs, known)
	if got := placed["variants[1].weight"]; len(got) != 1 || got[0] != "must be a finite number greater than 0" {
		t.Errorf("weight: %q", got)
	}
	if got := placed["targeting[0].value"]; len(got) != 1 || got[0] != "[1]: must be a scalar" {
		t.Errorf("list item: %q", got)
	}
	if got := placed["variants"]; len(got) != 1 || got[0] != "[7].key: must not be empty" {
		t.Errorf("unknown row: %q", got)
	}
	if got := placed["analysis"]; len(got) != 1 {
		t.Errorf("analysis: %q", got)
	}
	if len(general) != 1 || general[0] != "nowhere: odd" {
		t.Errorf("general: %q", general)
	}
}

// A blank row in the middle of the form is skipped, so the service's
// variants[1] is the form's row 2: the error must land on row 2.
func TestRowMapSkipsBlankRows(t *testing.T) {
	f := experimentForm{
		Key: "k", Name: "n", Unit: "u", Traffic: "1", Alpha: "0.05", NStar: "5000", Lookback: "14", Correction: "holm", Control: 0,
		Variants: []variantRow{{Key: "a", Weight: "1"}, {}, {Key: "b", Weight: "0"}},
		Metrics:  []metricRow{{}, {Key: "m", Kind: "binary"}},
	}
	in, rows, errs := f.input(nil)
	if len(errs) != 0 {
		t.Fatalf("parse errors: %v", errs)
	}
	if len(in.Variants) != 2 || len(in.Metrics) != 1 {
		t.Fatalf("input: %+v", in)
	}
	for from, want := range map[string]string{
		"variants[1].weight": "variants[2].weight",
		"variants[0].key":    "variants[0].key",
		"metrics[0].kind":    "metrics[1].kind",
		"variants":           "variants",
		"variants[9].key":    "variants[9].key",
	} {
		if got := rows.toFormRows(from); got != want {
			t.Errorf("toFormRows(%q) = %q, want %q", from, got, want)
		}
	}
}

func TestTargetingValues(t *testing.T) {
	for _, s := range []string{"emea", `"10"`, "10", "true", `"a, b"`} {
		if got := formatValue(parseScalar(s)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	}
	list := splitList(`emea, "x, y", 3`)
	if len(list) != 3 || list[1] != `"x, y"` {
		t.Errorf("splitList: %q", list)
	}
	if got := formatValue([]any{"gen_z", 2.5, "7"}); got != `gen_z, 2.5, "7"` {
		t.Errorf("list: %q", got)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/experiments/x?y=1": "/experiments/x?y=1",
		"//evil.example":     "/experiments",
		"https://evil":       "/experiments",
		`/\evil`:             "/experiments",
		"":                   "/experiments",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
