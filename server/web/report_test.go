package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
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

// A say_do claim draws its table as two split bars with their counts and
// shares, and a group without units as an empty bar with the report's
// reason, never NaN.
func TestSayDoPicture(t *testing.T) {
	full := analysis.SayDoTable(412, 200, 198, 190, 0.05, analysis.DefaultMargin)
	// Nobody said it and nobody did: κ is undefined too.
	noneSaid := analysis.SayDoTable(0, 0, 0, 100, 0.05, analysis.DefaultMargin)
	result := func(id string, s analysis.SayDoStats) analysis.ClaimResult {
		return analysis.ClaimResult{ID: id, Kind: analysis.ClaimSayDo, Metric: "chose_human", Statement: "Sayers choose a human",
			Verdict: analysis.Inconclusive, Units: s.N, Stated: s.Stated, StatedCI: s.StatedCI, Revealed: s.Revealed, RevealedCI: s.RevealedCI,
			Gap: s.Gap, GapCI: s.GapCI, GapPValue: s.GapPValue, Summary: "Summary of " + id,
			SayDoResult: &analysis.SayDoResult{Table: s.Table, Kappa: s.Kappa, KappaCI: s.KappaCI,
				DidGivenSaid: s.DidGivenSaid, DidGivenSaidCI: s.DidGivenSaidCI, DidGivenNotSaid: s.DidGivenNotSaid,
				DidGivenNotSaidCI: s.DidGivenNotSaidCI, NullReasons: s.NullReasons}}
	}
	r := &analysis.Report{Experiment: "x", Alpha: 0.05, Correction: "holm", FamilySize: 2,
		Claims: []analysis.ClaimResult{result("full", full), result("none-said", noneSaid)}}
	claims := []*experiments.Claim{
		{Claim: analysis.Claim{ID: "full", Kind: analysis.ClaimSayDo, Question: "agent_pref", Answer: "human"}},
		{Claim: analysis.Claim{ID: "none-said", Kind: analysis.ClaimSayDo, Question: "agent_pref", Answer: "human"}},
	}
	e := &experiments.Experiment{Key: "x", Name: "X", Status: experiments.StatusRunning}
	v := buildReport(&experiments.ReportView{Experiment: e, Report: r, Claims: claims})
	var buf bytes.Buffer
	if err := newApp(nil, nil).pages["report"].ExecuteTemplate(&buf, "layout", page{Title: "X", Data: v}); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	counts := map[string]int{
		`<svg class="chart say-do-chart"`:   2,
		`<rect class="seg seg-did"`:         3, // both groups of "full", the others of "none-said"
		`<rect class="seg seg-didnt"`:       3,
		`<rect class="seg-empty"`:           1,
		`<title id="say-do-0-t">`:           1,
		`<desc id="say-do-0-d">`:            1,
		`class="ref"`:                       2 + 2, // everyone's share, and "half" on each stated-vs-revealed chart
		`<dl class="say-do-stats">`:         2,
		`patternUnits="userSpaceOnUse"`:     2,
		`<figure class="chart-box say-do">`: 2,
	}
	for s, want := range counts {
		if got := strings.Count(body, s); got != want {
			t.Errorf("%d × %q, want %d", got, s, want)
		}
	}
	for _, want := range []string{
		"Said “human”", "n = 612", "n = 388", "did 412 · " + fmtPct(*full.DidGivenSaid), "did not 200 · ",
		"Did not say it", "everyone: " + fmtPct(*full.Revealed), "Cohen’s κ", fmtNum(*full.Kappa),
		"— no unit said it", "— (no unit said it)", "— (kappa undefined",
		"Said it (stated)", "Did it (1,000 units)", "stated: the share who gave the answer",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
		t.Error("report shows NaN or Inf")
	}
}

// A now_vs_later claim draws both horizons labelled with their metric and
// window, says its pattern in words, and says beside each metric which
// units are not counted; a horizon without an effect says why, never NaN.
func TestNowVsLaterReport(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	ci := func(a, b float64) *analysis.Interval { return &analysis.Interval{a, b} }
	span := func(s string) experiments.Span {
		d, err := experiments.ParseSpan(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	e := &experiments.Experiment{Key: "x", Name: "X", Status: experiments.StatusRunning,
		Variants: []assign.Variant{{Key: "bot", Control: true}, {Key: "human"}},
		Metrics: []experiments.Metric{
			{Key: "csat_24h", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat", Window: &experiments.Window{To: ptr(span("24h"))}, Aggregation: experiments.AggLast},
			{Key: "csat_90d", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat", Window: &experiments.Window{To: ptr(span("90d"))}, Aggregation: experiments.AggLast},
			{Key: "resolved", Kind: experiments.MetricBinary, HigherIsBetter: true},
		}}
	r := &analysis.Report{Experiment: "x", Alpha: 0.05, Correction: "holm", FamilySize: 6,
		Metrics: []analysis.MetricReport{
			{Metric: "csat_24h", Kind: analysis.Mean, HigherIsBetter: true, UnitsWithoutValue: 1},
			{Metric: "csat_90d", Kind: analysis.Mean, HigherIsBetter: true, ImmatureUnits: 312, UnitsWithoutValue: 41},
			{Metric: "resolved", Kind: analysis.Binary, HigherIsBetter: true},
		},
		Claims: []analysis.ClaimResult{
			{ID: "reverses", Kind: analysis.ClaimNowVsLater, Metric: "csat_24h", Statement: "Customers want a human", Verdict: analysis.Contradicted,
				Summary: "human against bot wins now but loses later.", NowVsLater: &analysis.NowVsLater{
					Now:     &analysis.Horizon{Metric: "csat_24h", Effect: p(0.42), CI: ci(0.31, 0.53), PValue: p(0.0001), PAdjusted: p(0.0004)},
					Later:   &analysis.Horizon{Metric: "csat_90d", Effect: p(-0.2), CI: ci(-0.3, -0.1), PValue: p(0.001), PAdjusted: p(0.003)},
					Pattern: analysis.PatternReverses}},
			{ID: "later-unknown", Kind: analysis.ClaimNowVsLater, Metric: "csat_24h", Statement: "Still wins later", Verdict: analysis.Inconclusive,
				Summary: "Not decided.", UnitsNeeded: ptr(int64(900)), NowVsLater: &analysis.NowVsLater{
					Now:     &analysis.Horizon{Metric: "csat_24h", Effect: p(0.1), CI: ci(-0.05, 0.25), PValue: p(0.2), PAdjusted: p(1.4)},
					Later:   &analysis.Horizon{Metric: "csat_90d", Reason: "no window has closed yet"},
					Pattern: analysis.PatternInconclusive}},
			{ID: "untestable", Kind: analysis.ClaimNowVsLater, Statement: "Untestable", Verdict: analysis.Inconclusive,
				Reason: `metric "csat_90d" cannot be analysed (no units)`, Summary: "This claim cannot be tested."},
			{ID: "mixed-units", Kind: analysis.ClaimNowVsLater, Metric: "resolved", Statement: "Resolved now, happy later", Verdict: analysis.Holds,
				Summary: "Lasts.", NowVsLater: &analysis.NowVsLater{
					Now:     &analysis.Horizon{Metric: "resolved", Effect: p(0.08), CI: ci(0.05, 0.11), PValue: p(0.0001), PAdjusted: p(0.0005)},
					Later:   &analysis.Horizon{Metric: "csat_90d", Effect: p(0.3), CI: ci(0.2, 0.4), PValue: p(0.0001), PAdjusted: p(0.0005)},
					Pattern: analysis.PatternLasts}},
		}}
	claims := []*experiments.Claim{
		{Claim: analysis.Claim{ID: "reverses", Kind: analysis.ClaimNowVsLater, Preferred: "human", Now: "csat_24h", Later: "csat_90d"}},
		{Claim: analysis.Claim{ID: "later-unknown", Kind: analysis.ClaimNowVsLater, Preferred: "human", Now: "csat_24h", Later: "csat_90d"}},
		{Claim: analysis.Claim{ID: "mixed-units", Kind: analysis.ClaimNowVsLater, Preferred: "human", Other: "bot", Now: "resolved", Later: "csat_90d"}},
	}
	v := buildReport(&experiments.ReportView{Experiment: e, Report: r, Claims: claims})
	var buf bytes.Buffer
	if err := newApp(nil, nil).pages["report"].ExecuteTemplate(&buf, "layout", page{Title: "X", Data: v}); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	counts := map[string]int{
		`<figure class="chart-box now-later">`: 3, // not the untestable claim
		// Metrics that share a unit share an axis; a share and a mean do not.
		`<svg class="chart" id="now-later-0"`:          1,
		`<svg class="chart" id="now-later-1"`:          1,
		`<svg class="chart" id="now-later-3-now"`:      1,
		`<svg class="chart" id="now-later-3-later"`:    1,
		`<title id="now-later-0-t">`:                   1,
		`<desc id="now-later-0-d">`:                    1,
		`<g class="row s-now">`:                        3,
		`<g class="row s-later">`:                      3,
		`class="mark point"`:                           5, // the unknown later has none
		`<line class="ci"`:                             5 * 3,
		`class="ref"`:                                  4,
		`<dl class="now-later-stats">`:                 3,
		`class="pattern pattern-reverses"`:             1,
		`class="pattern pattern-inconclusive"`:         1,
		`class="pattern pattern-lasts"`:                1,
		`<ul class="maturity" id="metric-1-maturity">`: 1,
		`aria-describedby="metric-1-maturity"`:         1,
		// beside the metric's table, and beside each horizon that reads it
		"312 units still inside their 90-day window are not counted yet": 1 + 3,
		"41 units without an outcome in the window":                      1 + 3,
		"1 unit without an outcome in the window is left out":            1 + 2,
	}
	for s, want := range counts {
		if got := strings.Count(body, s); got != want {
			t.Errorf("%d × %q, want %d", got, s, want)
		}
	}
	for _, want := range []string{
		"Now: csat_24h (0h–24h)", "Later: csat_90d (0d–90d)", "Now: resolved</text>", "Now: resolved, human minus bot",
		"+0.42 [+0.31, +0.53]", "−0.2 [−0.3, −0.1]", "+8.0 pp [+5.0 pp, +11.0 pp]",
		"better now, worse later", "Reverses", "No pattern yet", "Lasts",
		"— (no window has closed yet)", "adjusted p = 1", "No data yet: metric",
		"human minus bot, csat_24h and csat_90d", "human minus bot, resolved (percentage points)",
		"reads csat, outcomes 0d–90d after exposure, aggregated by last", "the last aggregation needs at least one",
		"if both observed effects hold",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
		t.Error("report shows NaN or Inf")
	}
}
