package analysis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

var update = flag.Bool("update", false, "rewrite testdata/report_*.json from the current output")

func twoArms(kind analysis.Kind, c, t analysis.Stats) analysis.Input {
	return analysis.Input{
		Experiment: "e",
		Variants:   []analysis.Variant{{Key: "c", Weight: 1, Control: true}, {Key: "t", Weight: 1}},
		Metrics: []analysis.MetricInput{{Metric: "m", Kind: kind, HigherIsBetter: true,
			Arms: []analysis.Arm{{Variant: "c", Stats: c}, {Variant: "t", Stats: t}}}},
	}
}

func TestAnalyzeConfigErrors(t *testing.T) {
	ok := twoArms(analysis.Mean, analysis.Stats{Units: 10, Sum: 10, SumSq: 20}, analysis.Stats{Units: 10, Sum: 12, SumSq: 25})
	tests := []struct {
		name  string
		edit  func(in *analysis.Input)
		field string
	}{
		{"no control", func(in *analysis.Input) { in.Variants[0].Control = false }, "variants"},
		{"two controls", func(in *analysis.Input) { in.Variants[1].Control = true }, "variants[1].control"},
		{"one variant", func(in *analysis.Input) { in.Variants = in.Variants[:1] }, "variants"},
		{"zero weight", func(in *analysis.Input) { in.Variants[1].Weight = 0 }, "variants[1].weight"},
		{"duplicate variant", func(in *analysis.Input) { in.Variants[1].Key = "c" }, "variants[1].key"},
		{"alpha too big", func(in *analysis.Input) { in.Alpha = 0.5 }, "alpha"},
		{"unknown correction", func(in *analysis.Input) { in.Correction = "bonferroni" }, "correction"},
		{"prior p-value above 1", func(in *analysis.Input) {
			in.Sequential = &analysis.Sequential{Prior: []analysis.PriorPValue{{Metric: "m", Variant: "t", PValue: 2}}}
		}, "sequential.prior[0].p_value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := cloneInput(ok)
			tc.edit(&in)
			_, err := analysis.Analyze(in)
			var ie *analysis.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("got error %v, want an *InputError on %s", err, tc.field)
			}
		})
	}
}

func cloneInput(in analysis.Input) analysis.Input {
	in.Variants = append([]analysis.Variant(nil), in.Variants...)
	in.Metrics = append([]analysis.MetricInput(nil), in.Metrics...)
	for i := range in.Metrics {
		in.Metrics[i].Arms = append([]analysis.Arm(nil), in.Metrics[i].Arms...)
	}
	return in
}

// TestAnalyzeDegrades: data that cannot be analysed never fails the report.
// The metric (or claim) at fault is null with a reason and a warning says
// why, while every other metric and claim is still computed.
func TestAnalyzeDegrades(t *testing.T) {
	half := 0.5
	base := twoArms(analysis.Mean, analysis.Stats{Units: 10, Sum: 10, SumSq: 20}, analysis.Stats{Units: 10, Sum: 12, SumSq: 25})
	base.Metrics = append(base.Metrics, analysis.MetricInput{Metric: "ok", Kind: analysis.Binary, HigherIsBetter: true,
		Arms: []analysis.Arm{{Variant: "c", Stats: analysis.Stats{Units: 100, Sum: 40, SumSq: 40}}, {Variant: "t", Stats: analysis.Stats{Units: 100, Sum: 60, SumSq: 60}}}})
	shareOn := func(metric string) analysis.Claim {
		return analysis.Claim{ID: "s-" + metric, Statement: "s", Kind: analysis.ClaimShare, Metric: metric, StatedShare: &half, SurveyN: 10}
	}
	tests := []struct {
		name string
		edit func(in *analysis.Input)
		// metricNull is the metric expected null ("" for none); claimNull
		// the claim expected untestable.
		metricNull, claimNull string
	}{
		{"unknown arm variant", func(in *analysis.Input) { in.Metrics[0].Arms[1].Variant = "x" }, "m", ""},
		{"duplicate arm", func(in *analysis.Input) { in.Metrics[0].Arms[1].Variant = "c" }, "m", ""},
		{"unknown kind", func(in *analysis.Input) { in.Metrics[0].Kind = "median" }, "m", ""},
		{"negative units", func(in *analysis.Input) { in.Metrics[0].Arms[0].Stats.Units = -1 }, "m", ""},
		{"sum_sq too small", func(in *analysis.Input) { in.Metrics[0].Arms[0].Stats.SumSq = 1 }, "m", ""},
		{"NaN sum", func(in *analysis.Input) { in.Metrics[0].Arms[0].Stats.Sum = math.NaN() }, "m", ""},
		{"infinite sum of squares", func(in *analysis.Input) { in.Metrics[0].Arms[0].Stats.SumSq = math.Inf(1) }, "m", ""},
		{"binary sum above units", func(in *analysis.Input) {
			in.Metrics[1].Arms[0].Stats.Sum = 101
			in.Claims = []analysis.Claim{shareOn("ok")}
		}, "ok", "s-ok"},
		{"prior variance 0", func(in *analysis.Input) { in.Metrics[0].Prior = &analysis.Prior{} }, "m", ""},
		{"claim on unknown metric", func(in *analysis.Input) { in.Claims = []analysis.Claim{shareOn("x")} }, "", "s-x"},
		{"share claim on a mean metric", func(in *analysis.Input) { in.Claims = []analysis.Claim{shareOn("m")} }, "", "s-m"},
		{"effect claim on one variant", func(in *analysis.Input) {
			in.Claims = []analysis.Claim{{ID: "e", Statement: "e", SurveyN: 1, Kind: analysis.ClaimEffect, Metric: "m", Preferred: "c"}}
		}, "", "e"},
		{"segment_gap across attributes", func(in *analysis.Input) {
			in.Claims = []analysis.Claim{{ID: "g", Statement: "g", SurveyN: 10, Kind: analysis.ClaimSegmentGap, Metric: "ok",
				SegmentA: "a=1", SegmentB: "b=2", StatedA: &half, StatedB: &half}}
		}, "", "g"},
		{"segment_gap with one respondent", func(in *analysis.Input) {
			in.Claims = []analysis.Claim{{ID: "g", Statement: "g", SurveyN: 1, Kind: analysis.ClaimSegmentGap, Metric: "ok",
				SegmentA: "a=1", SegmentB: "a=2", StatedA: &half, StatedB: &half}}
		}, "", "g"},
		{"unknown claim kind", func(in *analysis.Input) {
			in.Claims = []analysis.Claim{{ID: "v", Statement: "v", SurveyN: 1, Kind: "vibe", Metric: "m"}}
		}, "", "v"},
		{"unknown variant in assigned", func(in *analysis.Input) {
			in.Assigned = []analysis.VariantUnits{{Variant: "x", Units: 3}}
		}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := cloneInput(base)
			tc.edit(&in)
			r, err := analysis.Analyze(in)
			if err != nil {
				t.Fatalf("Analyze failed on bad data: %v", err)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) == 0 {
				t.Error("no warning says what was left out")
			}
			for _, m := range r.Metrics {
				null := m.NullReason != ""
				if null != (m.Metric == tc.metricNull) {
					t.Errorf("metric %s: null_reason %q, want null only for %q", m.Metric, m.NullReason, tc.metricNull)
				}
				if !null && len(m.Comparisons) != 1 {
					t.Errorf("metric %s: %d comparisons, want 1", m.Metric, len(m.Comparisons))
				}
			}
			for _, c := range r.Claims {
				if c.ID != tc.claimNull {
					continue
				}
				if c.Reason == "" || c.PValue != nil || c.Verdict != analysis.Inconclusive || !strings.Contains(c.Summary, "cannot be tested") {
					t.Errorf("claim %s: %+v, want untestable with a reason", c.ID, c)
				}
			}
		})
	}
}

// TestReportJSON pins the report's JSON shape (issue 2's fields and those
// added since); run with -update after an intended change.
func TestReportJSON(t *testing.T) {
	stated, share74 := 0.05, 0.74
	tests := []struct {
		name string
		in   analysis.Input
	}{
		{"human_vs_bot", analysis.Input{
			Experiment: "human-vs-bot",
			Variants:   []analysis.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}},
			Metrics: []analysis.MetricInput{
				{Metric: "resolved", Kind: analysis.Binary, HigherIsBetter: true, Arms: []analysis.Arm{
					{Variant: "bot", Stats: analysis.Stats{Units: 1000, Sum: 610, SumSq: 610}},
					{Variant: "human", Stats: analysis.Stats{Units: 1000, Sum: 700, SumSq: 700}}}},
				{Metric: "chose_human", Kind: analysis.Binary, HigherIsBetter: true, Arms: []analysis.Arm{
					{Variant: "bot", Stats: analysis.Stats{Units: 1000, Sum: 598, SumSq: 598}},
					{Variant: "human", Stats: analysis.Stats{Units: 1000, Sum: 622, SumSq: 622}}}},
			},
			Claims: []analysis.Claim{
				{ID: "human-74", Statement: "74% prefer a human in 10 minutes to a bot in 5", Source: "ignite80/Front 2019",
					Kind: analysis.ClaimShare, Metric: "chose_human", StatedShare: &share74, SurveyN: 2128, Option: "a human"},
				{ID: "human-resolves", Statement: "a human resolves more", SurveyN: 2128, Kind: analysis.ClaimEffect, Metric: "resolved", Preferred: "human", StatedEffect: &stated},
			},
		}},
		{"edge_cases", analysis.Input{
			Experiment: "edges",
			Variants: []analysis.Variant{{Key: "c", Weight: 1, Control: true}, {Key: "zero", Weight: 1},
				{Key: "one", Weight: 1}, {Key: "empty", Weight: 1}},
			Metrics: []analysis.MetricInput{{Metric: "m", Kind: analysis.Mean, Arms: []analysis.Arm{
				{Variant: "c", Stats: analysis.Stats{Units: 3, Sum: 0, SumSq: 2}},
				{Variant: "zero", Stats: analysis.Stats{Units: 4, Sum: 0, SumSq: 0}},
				{Variant: "one", Stats: analysis.Stats{Units: 1, Sum: 5, SumSq: 25}}}}},
			Sequential: &analysis.Sequential{},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := analysis.Analyze(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := "testdata/report_" + tc.name + ".json"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s (run with -update if intended):\n%s", path, got)
			}
		})
	}
}

// TestNoNaN throws degenerate and random inputs at Analyze: it must never
// fail to marshal (NaN/Inf) or panic.
func TestNoNaN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []float64{0, 1, -1, 1e-300, 1e300, 0.5, 3}
	for i := range 3000 {
		kind := []analysis.Kind{analysis.Binary, analysis.Mean, analysis.Ratio}[i%3]
		arm := func() analysis.Stats {
			n := []int64{0, 1, 2, 3, 1000, 1 << 40}[rng.IntN(6)]
			s := analysis.Stats{Units: n}
			switch kind {
			case analysis.Binary:
				s.Sum = math.Floor(rng.Float64() * float64(n+1))
				if rng.IntN(3) == 0 {
					s.Sum = float64(n * int64(rng.IntN(2)))
				}
				s.SumSq = s.Sum
			default:
				s.Sum = values[rng.IntN(len(values))] * float64(n)
				s.SumSq = s.Sum*s.Sum/math.Max(1, float64(n)) + values[rng.IntN(len(values))]*float64(n)*math.Abs(values[rng.IntN(3)])
				s.DenSum = values[rng.IntN(len(values))] * float64(n)
				s.DenSumSq = s.DenSum*s.DenSum/math.Max(1, float64(n)) + float64(rng.IntN(3))
				s.DenCross = values[rng.IntN(len(values))]
				s.PreSum, s.PreSumSq, s.PreCross = s.Sum, s.SumSq, values[rng.IntN(len(values))]
			}
			return s
		}
		in := twoArms(kind, arm(), arm())
		in.Metrics[0].CUPED = rng.IntN(2) == 0
		if rng.IntN(2) == 0 {
			in.Sequential = &analysis.Sequential{NStar: float64(rng.IntN(10000))}
		}
		if kind == analysis.Binary {
			stated := values[rng.IntN(len(values))] * 0.2
			in.Claims = []analysis.Claim{{ID: "s", Statement: "s", Kind: analysis.ClaimShare, Metric: "m",
				StatedShare: &stated, SurveyN: 1 + int64(rng.IntN(3000))}}
		}
		r, err := analysis.Analyze(in)
		if err != nil {
			t.Fatalf("input %+v: %v", in, err)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("input %+v: %v", in, err)
		}
	}
}

// TestSayDoClaim: a say_do claim's result is the paired statistics of its
// table, and its verdict reads the direction test against the stated side.
func TestSayDoClaim(t *testing.T) {
	in := twoArms(analysis.Binary, analysis.Stats{Units: 100, Sum: 50, SumSq: 50}, analysis.Stats{Units: 100, Sum: 60, SumSq: 60})
	in.Questions = []analysis.QuestionDesign{{Key: "pref", Kind: "choice", Options: []string{"human", "bot"}}}
	claim := analysis.Claim{ID: "sd", Statement: "s", Kind: analysis.ClaimSayDo, Question: "pref", Answer: "human", Metric: "m"}
	tests := []struct {
		name    string
		cells   analysis.SayDoCells
		verdict string
	}{
		{"sayers mostly do it", analysis.SayDoCells{SaidDid: 300, SaidDidnt: 100, DidntSayDid: 60, DidntSayDidnt: 140}, analysis.Holds},
		{"most say it, few do it", analysis.SayDoCells{SaidDid: 100, SaidDidnt: 300, DidntSayDid: 20, DidntSayDidnt: 180}, analysis.Contradicted},
		{"too few to tell", analysis.SayDoCells{SaidDid: 3, SaidDidnt: 2, DidntSayDid: 1, DidntSayDidnt: 1}, analysis.Inconclusive},
		{"nobody answered", analysis.SayDoCells{}, analysis.Inconclusive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			in.Claims = []analysis.Claim{claim}
			in.SayDo = map[string]analysis.SayDoCells{"sd": tc.cells}
			r, err := analysis.Analyze(in)
			if err != nil {
				t.Fatal(err)
			}
			c := r.Claims[0]
			want := analysis.SayDoTable(tc.cells.SaidDid, tc.cells.SaidDidnt, tc.cells.DidntSayDid, tc.cells.DidntSayDidnt, r.Alpha, analysis.DefaultMargin)
			if c.SayDoResult == nil || c.Table != tc.cells || c.Verdict != tc.verdict || c.Units != want.N {
				t.Fatalf("result %+v, want table %+v and verdict %s", c, tc.cells, tc.verdict)
			}
			if want.N > 0 && (*c.Gap != *want.Gap || *c.GapCI != *want.GapCI || *c.PValue != *want.PValue || c.Magnitude != want.Magnitude) {
				t.Errorf("gap %v %v p %v %s, want %v %v %v %s", *c.Gap, *c.GapCI, *c.PValue, c.Magnitude, *want.Gap, *want.GapCI, *want.PValue, want.Magnitude)
			}
			if want.N == 0 && (c.PValue != nil || c.Reason == "") {
				t.Errorf("an empty table has p %v and reason %q", c.PValue, c.Reason)
			}
		})
	}
	t.Run("unknown question", func(t *testing.T) {
		in := in
		in.Questions = nil
		in.Claims = []analysis.Claim{claim}
		r, err := analysis.Analyze(in)
		if err != nil || r.Claims[0].Reason == "" || r.Claims[0].SayDoResult != nil {
			t.Fatalf("a say_do claim on an unknown question: %+v %v", r.Claims[0], err)
		}
	})
}

// TestNowVsLaterPatterns: each pattern on hand-built arms (2,000 units a
// side, sd 1, so a 0.2 difference is decided and 0 is not), with lower
// tickets better; the horizons are the report's own comparisons.
func TestNowVsLaterPatterns(t *testing.T) {
	arm := func(mean float64) analysis.Stats {
		n := 2000.0
		return analysis.Stats{Units: 2000, Sum: n * mean, SumSq: (n - 1) + n*mean*mean}
	}
	tests := []struct {
		name                     string
		csatFix, csatTeach       float64
		ticketsFix, ticketsTeach float64
		pattern, verdict         string
	}{
		{"fix wins now and loses later", 4.2, 4.0, 1.2, 1.0, analysis.PatternReverses, analysis.Contradicted},
		{"fix wins now and later", 4.2, 4.0, 1.0, 1.2, analysis.PatternLasts, analysis.Holds},
		{"fix wins now only", 4.2, 4.0, 1.0, 1.0, analysis.PatternFades, analysis.Inconclusive},
		{"fix wins later only", 4.0, 4.0, 1.0, 1.2, analysis.PatternDelayed, analysis.Inconclusive},
		{"nothing decided", 4.0, 4.0, 1.0, 1.0, analysis.PatternInconclusive, analysis.Inconclusive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := analysis.Input{
				Experiment: "teach-vs-fix",
				Variants:   []analysis.Variant{{Key: "teach", Weight: 1, Control: true}, {Key: "fix", Weight: 1}},
				Metrics: []analysis.MetricInput{
					{Metric: "csat_24h", Kind: analysis.Mean, HigherIsBetter: true, Arms: []analysis.Arm{{Variant: "teach", Stats: arm(tc.csatTeach)}, {Variant: "fix", Stats: arm(tc.csatFix)}}},
					{Metric: "tickets_90d", Kind: analysis.Mean, HigherIsBetter: false, Arms: []analysis.Arm{{Variant: "teach", Stats: arm(tc.ticketsTeach)}, {Variant: "fix", Stats: arm(tc.ticketsFix)}}},
				},
				Claims: []analysis.Claim{{ID: "nl", Statement: "Customers would rather have it fixed", Kind: analysis.ClaimNowVsLater,
					Preferred: "fix", Now: "csat_24h", Later: "tickets_90d"}},
			}
			r, err := analysis.Analyze(in)
			if err != nil {
				t.Fatal(err)
			}
			c := r.Claims[0]
			if c.NowVsLater == nil || c.Pattern != tc.pattern || c.Verdict != tc.verdict {
				t.Fatalf("pattern %v verdict %s, want %s and %s: %s", c.NowVsLater, c.Verdict, tc.pattern, tc.verdict, c.Summary)
			}
			for i, h := range []*analysis.Horizon{c.Now, c.Later} {
				cmp := r.Metrics[i].Comparisons[0]
				if *h.Effect != cmp.AbsEffect || *h.PValue != *cmp.PValue || *h.CI != *cmp.AbsCI {
					t.Errorf("%s: effect %v p %v ci %v, want the comparison's %v %v %v", h.Metric, *h.Effect, *h.PValue, *h.CI, cmp.AbsEffect, *cmp.PValue, *cmp.AbsCI)
				}
				if h.PAdjusted == nil || *h.PAdjusted < *h.PValue {
					t.Errorf("%s: p_adjusted %v does not come from the family", h.Metric, h.PAdjusted)
				}
			}
			if r.FamilySize != 4 {
				t.Errorf("family of %d, want the 2 comparisons and the claim's 2 horizons", r.FamilySize)
			}
			if c.PValue != nil || c.Summary == "" {
				t.Errorf("p_value %v, summary %q", c.PValue, c.Summary)
			}
			t.Log(c.Summary)
		})
	}
}
