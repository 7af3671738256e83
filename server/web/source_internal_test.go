package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// A scoreboard with null figures says why beside each, never NaN: a test
// without a revealed figure, a pooling of one experiment (no τ², I² or
// prediction interval), a kind that is not pooled, and a statement whose
// only test is a draft. Differences of shares read in points.
func TestScoreboardNullsShowTheirReason(t *testing.T) {
	p := func(x float64) *float64 { return &x }
	ci := func(a, b float64) *analysis.Interval { return &analysis.Interval{a, b} }
	share := analysis.ClaimResult{ID: "c1", Kind: analysis.ClaimShare, Metric: "m", Verdict: analysis.Holds, Revealed: p(0.6), RevealedCI: ci(0.55, 0.65),
		RevealedSE: p(0.025), Stated: p(0.7), Units: 400, Summary: "60% chose it."}
	empty := analysis.ClaimResult{ID: "c2", Kind: analysis.ClaimShare, Metric: "m", Verdict: analysis.Inconclusive, Reason: "no units", Summary: "No data yet."}
	gap := analysis.ClaimResult{ID: "g", Kind: analysis.ClaimSegmentGap, Metric: "m", Verdict: analysis.Holds, Revealed: p(0.1), RevealedCI: ci(0.05, 0.15),
		RevealedSE: p(0.025), Stated: p(0.25), Units: 900, Summary: "A gap of 10 points."}
	trade := analysis.ClaimResult{ID: "t", Kind: analysis.ClaimTradeoff, Metric: "m", Verdict: analysis.Holds, Revealed: p(9), RevealedCI: ci(6, 12),
		Stated: p(5), Units: 600, Summary: "Worth 9 minutes."}
	sb := analysis.BuildScoreboard(analysis.ScoreboardInput{Source: "S (2019)", Statements: []analysis.StatementTests{
		{Statement: analysis.Statement{Key: "s", Text: "70% pick it", Kind: analysis.ClaimShare, SurveyN: 1000, StatedShare: p(0.7)},
			Tests: []analysis.TestInput{{Experiment: "e1", Result: share}, {Experiment: "e2", Result: empty}}},
		{Statement: analysis.Statement{Key: "gap", Text: "Gen Z more", Kind: analysis.ClaimSegmentGap, SurveyN: 2128, StatedA: p(0.76), StatedB: p(0.51)},
			Tests: []analysis.TestInput{{Experiment: "e3", Result: gap}}},
		{Statement: analysis.Statement{Key: "trade", Text: "A human is worth 5 minutes", Kind: analysis.ClaimTradeoff, SurveyN: 500, StatedCost: p(5)},
			Tests: []analysis.TestInput{{Experiment: "e4", Result: trade}}},
		{Statement: analysis.Statement{Key: "dir", Text: "B does better", Kind: analysis.ClaimEffect, SurveyN: 100},
			Tests: []analysis.TestInput{{Experiment: "e5", Reason: "the experiment is a draft: it has no data yet"}}},
	}})
	src := &experiments.Source{SourceInput: experiments.SourceInput{Key: "src", Title: "S", Year: 2019}}
	v := buildScoreboard(&experiments.ScoreboardView{Source: src, ComputedAt: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), Scoreboard: sb})
	a := newApp(nil, nil)
	var page1, file bytes.Buffer
	if err := a.pages["source"].ExecuteTemplate(&page1, "layout", page{Title: "S", Data: v}); err != nil {
		t.Fatal(err)
	}
	v.Export, v.CSS = true, a.exportCSS
	if err := a.export.ExecuteTemplate(&file, "export", v); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"page": page1.String(), "file": file.String()} {
		for _, want := range []string{
			"Computed at 1 Dec 2026 09:30 UTC",
			// e2 has no figure: its row and its chart row say why.
			"—<span class=\"ci-text reason\">no revealed figure with a standard error (no units)</span>",
			"— no revealed figure with a standard error (no units)</text>",
			// One experiment pooled: what needs two says so.
			"Pooled (k = 1)", "one experiment: its own estimate, with a normal interval",
			"— (one study: τ², I², Q and the prediction interval need at least two)",
			// Segment gaps in points.
			"+25.0 pp [", "+10.0 pp [", "no gap",
			// A tradeoff is judged test by test: drawn hollow, no diamond.
			"a tradeoff statement is judged test by test, not pooled", `<g class="test-row s-revealed left-out">`, "9 [6, 12] (not pooled)",
			// A statement of a direction whose only test is a draft.
			`stated: <span class="stated-figure">—</span> (a direction, not a figure)`, "No chart: no test has a revealed figure yet.",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
			t.Errorf("%s shows NaN or Inf", name)
		}
		if n := strings.Count(body, `<polygon class="diamond"`); n != 2 {
			t.Errorf("%s has %d diamonds, want 2 (the share and the gap)", name, n)
		}
	}
}
