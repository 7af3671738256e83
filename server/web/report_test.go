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

// A factorial metric with three factors plots the first two, averaging
// the cell means over the third with equal weights, and leaves out a point
// whose cells lack units; contrasts without an estimate and an exchange
// rate without a bounded interval say why, never NaN.
func TestFactorialReportEdgeCases(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	ci := func(a, b float64) *analysis.Interval { return &analysis.Interval{a, b} }
	e := &experiments.Experiment{Key: "x", Name: "X", Status: experiments.StatusRunning,
		Factors: []experiments.Factor{
			{Key: "agent", Levels: []experiments.Level{experiments.TextLevel("bot"), experiments.TextLevel("human")}},
			{Key: "wait", Numeric: true, Levels: []experiments.Level{experiments.NumberLevel(5), experiments.NumberLevel(10)}},
			{Key: "channel", Levels: []experiments.Level{experiments.TextLevel("chat"), experiments.TextLevel("phone")}},
		},
		Metrics: []experiments.Metric{{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true}}}
	cell := func(agent, wait, channel string, units int64, mean float64) analysis.VariantReport {
		vr := analysis.VariantReport{Variant: "agent=" + agent + ",wait=" + wait + ",channel=" + channel, Units: units, Mean: mean}
		if units > 0 {
			vr.CI = ci(mean-0.2, mean+0.2)
		}
		return vr
	}
	unbounded := "the slope is not clearly away from 0 at this level, so the confidence set is the whole line"
	r := &analysis.Report{Experiment: "x", Alpha: 0.05, Correction: "holm", FamilySize: 4,
		Metrics: []analysis.MetricReport{{Metric: "csat", Kind: analysis.Mean, HigherIsBetter: true,
			Variants: []analysis.VariantReport{
				cell("bot", "5", "chat", 50, 3), cell("bot", "5", "phone", 50, 4),
				cell("bot", "10", "chat", 50, 3), cell("bot", "10", "phone", 50, 3.5),
				cell("human", "5", "chat", 0, 0), cell("human", "5", "phone", 50, 4.5),
				cell("human", "10", "chat", 50, 4), cell("human", "10", "phone", 50, 4.5),
			},
			FactorialEffects: &analysis.FactorialEffects{
				MainEffects: []analysis.MainEffect{
					{Factor: "agent", Level: "human", Reference: "bot", Effect: analysis.Effect{NullReason: "a cell has no units"}},
					{Factor: "channel", Level: "phone", Reference: "chat", Effect: analysis.Effect{Estimate: p(0.6), CI: ci(0.4, 0.8), PValue: p(0.0001), PAdjusted: p(0.0004)}},
				},
				Interactions: []analysis.Interaction{{Factors: [2]string{"wait", "channel"}, Levels: [2]string{"10", "phone"}, References: [2]string{"5", "chat"},
					Effect: analysis.Effect{Estimate: p(-0.25), CI: ci(-0.6, 0.1), PValue: p(0.4), PAdjusted: p(1.3)}}},
				Slopes:        []analysis.Slope{{Factor: "wait", Effect: analysis.Effect{Estimate: p(-0.01), CI: ci(-0.05, 0.03), PValue: p(0.6), PAdjusted: p(1)}}},
				ExchangeRates: []analysis.ExchangeRate{{Factor: "agent", Level: "human", Cost: "wait", Estimate: p(80), NullReason: unbounded}},
			}}},
		Claims: []analysis.ClaimResult{{ID: "worth-5", Kind: analysis.ClaimTradeoff, Metric: "csat", Statement: "A human is worth 5 minutes",
			Verdict: analysis.Inconclusive, Revealed: p(80), Stated: p(5), Units: 350, Summary: "Not decided.",
			Tradeoff: &analysis.Tradeoff{Factor: "agent", Preferred: "human", Reference: "bot", Cost: "wait", StatedCost: 5,
				ExchangeRate: analysis.ExchangeRate{Factor: "agent", Level: "human", Cost: "wait", Estimate: p(80), NullReason: unbounded}}}},
	}
	v := buildReport(&experiments.ReportView{Experiment: e, Report: r})
	var buf bytes.Buffer
	if err := newApp(nil, nil).pages["report"].ExecuteTemplate(&buf, "layout", page{Title: "X", Data: v}); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	i, j := strings.Index(body, `<svg class="chart line-chart" id="interaction-0"`), -1
	if i >= 0 {
		j = strings.Index(body[i:], "</svg>")
	}
	if i < 0 || j < 0 {
		t.Fatal("no interaction plot")
	}
	plot := body[i : i+j]
	counts := map[string]int{
		`<path class="trend" d="M`: 2,     // a line per agent
		` L`:                       1,     // bot's two points joined; human has one
		`class="mark point"`:       3 + 2, // the points, and the legend's keys
		`<line class="ci"`:         0,     // averaged points have no interval of their own
	}
	for s, want := range counts {
		if got := strings.Count(plot, s); got != want {
			t.Errorf("interaction plot: %d × %q, want %d", got, s, want)
		}
	}
	for _, want := range []string{"agent = bot (5: 3.5, 10: 3.25)", "agent = human (5: no units, 10: 4.25)", ">wait</text>"} {
		if !strings.Contains(plot, want) {
			t.Errorf("interaction plot lacks %q", want)
		}
	}
	for _, want := range []string{
		"Each point averages the cell means over channel, with equal weights.",
		"— (a cell has no units)", "agent = human", "channel = phone", "wait = 10 × channel = phone", "wait = 5 × channel = chat",
		"wait, per unit", "−0.25", "[−0.6, &#43;0.1]",
		"What human is worth in wait against bot, on csat, has no bounded interval yet: " + unbounded + ".",
		"not bounded (" + unbounded + ")", "The revealed exchange rate is not drawn", "Stated: what human is worth against bot, in wait",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(body, "80 wait") || strings.Contains(body, "worth 80") {
		t.Error("an unbounded exchange rate is shown as a number")
	}
	if strings.Contains(body, "survey’s own comparison") {
		t.Error("an off-diagonal contrast is shown where the claim has none")
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
		t.Error("report shows NaN or Inf")
	}
}
