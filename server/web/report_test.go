package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// Reports with a sample-ratio mismatch, undefined statistics and claims
// without data must still render, and say so.
func TestReportEdgeCases(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	ci := func(a, b float64) *analysis.Interval { return &analysis.Interval{a, b} }
	r := &analysis.Report{
		Experiment: "x", Alpha: 0.05, Correction: "holm", FamilySize: 1,
		SRM: analysis.SRM{PValue: 1e-6, Status: analysis.SRMMismatch, Variants: []analysis.SRMVariant{
			{Variant: "a", Weight: 0.5, Observed: 600, Expected: 500}, {Variant: "b", Weight: 0.5, Observed: 400, Expected: 500}}},
		Metrics: []analysis.MetricReport{{
			Metric: "m", Kind: analysis.Mean, HigherIsBetter: true,
			Variants:    []analysis.VariantReport{{Variant: "a", Units: 600, Mean: 0}, {Variant: "b", Units: 400, Mean: 0}},
			Comparisons: []analysis.Comparison{{Variant: "b", Control: "a", PNullReason: "both variances are 0"}},
		}},
		Claims: []analysis.ClaimResult{
			{ID: "empty", Kind: analysis.ClaimShare, Metric: "m", Verdict: analysis.Inconclusive, Reason: "no units", Summary: "No data yet."},
			{ID: "gap", Kind: analysis.ClaimSegmentGap, Metric: "m", Verdict: analysis.Contradicted, Revealed: p(-0.1), RevealedCI: ci(-0.2, -0.01),
				Stated: p(0.25), StatedCI: ci(0.2, 0.3), Summary: "Gap reversed."},
		},
	}
	claims := []*experiments.Claim{{Claim: analysis.Claim{ID: "gap", SurveyN: 2128, StatedA: p(0.76), StatedB: p(0.51)}}}
	started := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	e := &experiments.Experiment{Key: "x", Name: "X", Status: experiments.StatusRunning, StartedAt: &started}
	v := buildReport(&experiments.ReportView{Experiment: e, Report: r, Claims: claims})
	a := newApp(nil, nil)
	var buf bytes.Buffer
	if err := a.pages["report"].ExecuteTemplate(&buf, "layout", page{Title: "X", Data: v}); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	for _, want := range []string{`id="srm-banner"`, "Sample ratio mismatch (p &lt; 0.001)", "a 600 · b 400", "expected a 500 · b 500",
		"No data yet: no units", "badge-contradicted", "— (both variances are 0)", "Difference between the segments (percentage points)"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
		t.Error("report shows NaN or Inf")
	}
}
