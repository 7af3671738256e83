package analysis_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

func f(x float64) *float64 { return &x }

// shareResult is a share claim's result with p of n units choosing.
func shareResult(id string, p float64, n int64, stated float64) analysis.ClaimResult {
	se := math.Sqrt(p * (1 - p) / float64(n))
	return analysis.ClaimResult{ID: id, Kind: analysis.ClaimShare, Metric: "chose_human", Verdict: analysis.Holds,
		Revealed: f(p), RevealedCI: &analysis.Interval{p - 1.96*se, p + 1.96*se}, RevealedSE: f(se), Stated: f(stated), Units: n}
}

// TestBuildScoreboard: like is pooled with like (PoolRandomEffects on the
// tests' revealed figures and standard errors), every other test says why
// it is left out, and the source's one-line answer counts the outcomes.
func TestBuildScoreboard(t *testing.T) {
	human74 := analysis.Statement{Key: "human-74", Text: "74% would wait for a human", Kind: analysis.ClaimShare, SurveyN: 2128, StatedShare: f(0.74)}
	teach := analysis.Statement{Key: "teach-csat", Text: "teaching satisfies more", Kind: analysis.ClaimEffect, SurveyN: 2128}
	gap := analysis.Statement{Key: "genz-boomers", Text: "Gen Z 76% vs Boomers 51%", Kind: analysis.ClaimSegmentGap, SurveyN: 2128, StatedA: f(0.76), StatedB: f(0.51)}
	later := analysis.Statement{Key: "fix-now", Text: "fixing wins", Kind: analysis.ClaimNowVsLater}
	untested := analysis.Statement{Key: "choice-58", Text: "58% want a choice", Kind: analysis.ClaimShare, SurveyN: 2128, StatedShare: f(0.58)}

	a, b, c := shareResult("h1", 0.61, 4000, 0.74), shareResult("h2", 0.63, 2500, 0.74), shareResult("h4", 0.62, 3000, 0.74)
	other := shareResult("h3", 0.9, 300, 0.74)
	other.Metric = "chose_agent"
	effect := analysis.ClaimResult{ID: "t1", Kind: analysis.ClaimEffect, Metric: "csat", Verdict: analysis.Inconclusive,
		Revealed: f(0.02), RevealedSE: f(0.03), Units: 1800, UnitsNeeded: func() *int64 { u := int64(17000); return &u }()}
	in := analysis.ScoreboardInput{Source: "ignite80 × Front (2019)", Statements: []analysis.StatementTests{
		{Statement: human74, Tests: []analysis.TestInput{
			{Experiment: "emea", Result: a}, {Experiment: "us", Result: b}, {Experiment: "apac", Result: c},
			{Experiment: "widget", Result: other}, {Experiment: "draft-one", Reason: "the experiment is a draft"},
		}},
		{Statement: teach, Tests: []analysis.TestInput{{Experiment: "teach-vs-fix", HigherIsBetter: true, Result: effect}}},
		{Statement: gap, Tests: []analysis.TestInput{{Experiment: "teach-vs-fix", Result: analysis.ClaimResult{
			ID: "g", Kind: analysis.ClaimSegmentGap, Metric: "chose_teach", Revealed: f(0.26), RevealedSE: f(0.01), Units: 1500}}}},
		{Statement: later, Tests: []analysis.TestInput{{Experiment: "teach-vs-fix", Result: analysis.ClaimResult{
			ID: "n", Kind: analysis.ClaimNowVsLater, Verdict: analysis.Contradicted}}}},
		{Statement: untested},
	}}
	sb := analysis.BuildScoreboard(in)
	if _, err := json.Marshal(sb); err != nil {
		t.Fatal(err)
	}
	s := sb.Statements[0]
	want := analysis.PoolRandomEffects([]analysis.MetaStudy{
		{Label: "emea/h1", Estimate: 0.61, SE: *a.RevealedSE}, {Label: "us/h2", Estimate: 0.63, SE: *b.RevealedSE},
		{Label: "apac/h4", Estimate: 0.62, SE: *c.RevealedSE}}, 0.05)
	if s.Pooled == nil || s.Pooled.K != 3 || *s.Pooled.Estimate != *want.Estimate || *s.Pooled.SE != *want.SE {
		t.Fatalf("pooled = %+v, want %+v", s.Pooled, want)
	}
	if !s.Tests[0].Pooled || !s.Tests[1].Pooled || !s.Tests[2].Pooled || s.Tests[3].Pooled || s.Tests[4].Pooled {
		t.Errorf("pooled flags: %+v", s.Tests)
	}
	if !strings.Contains(s.Tests[3].LeftOut, `measures "chose_agent", not "chose_human"`) || s.Tests[4].LeftOut != "the experiment is a draft" {
		t.Errorf("left out: %q, %q", s.Tests[3].LeftOut, s.Tests[4].LeftOut)
	}
	// 61–63% are a majority, well below the stated 74%.
	if s.Outcome != analysis.OutcomeHoldsOverstated || s.Verdict.Magnitude != analysis.Overstated {
		t.Errorf("outcome %s, verdict %+v", s.Outcome, s.Verdict)
	}
	if s.Stated == nil || *s.Stated != 0.74 || s.StatedCI == nil {
		t.Errorf("stated %v %v", s.Stated, s.StatedCI)
	}
	if !strings.HasPrefix(s.Summary, "Pooled over 3 experiments, 62% (95% CI") || !strings.Contains(s.Summary, "against the stated 74%: holds but is overstated") {
		t.Errorf("summary %q", s.Summary)
	}

	// An effect without a stated size: direction only, no magnitude; one
	// test, whose units needed carry over.
	e := sb.Statements[1]
	if e.Outcome != analysis.OutcomeInconclusive || e.Verdict.Magnitude != "" || e.Verdict.Gap != nil ||
		e.UnitsNeeded == nil || *e.UnitsNeeded != 17000 || e.Pooled.Method != "single_study_z" {
		t.Errorf("effect: %+v %+v", e, e.Verdict)
	}
	g := sb.Statements[2]
	if g.Outcome != analysis.OutcomeHoldsAsStated || math.Abs(*g.Stated-0.25) > 1e-12 {
		t.Errorf("gap: outcome %s stated %v verdict %+v", g.Outcome, *g.Stated, g.Verdict)
	}
	n := sb.Statements[3]
	if n.Pooled != nil || n.Outcome != analysis.OutcomeContradicted || n.Tests[0].LeftOut == "" {
		t.Errorf("now_vs_later: %+v", n)
	}
	if u := sb.Statements[4]; u.Outcome != analysis.OutcomeUntested || u.Summary != "No experiment tests this statement yet." {
		t.Errorf("untested: %+v", u)
	}
	const line = "Of 5 statements from ignite80 × Front (2019), 1 holds as stated, 1 holds but is overstated, 1 is contradicted, 1 is inconclusive (needs about 17,000 more customers) and 1 is not tested yet."
	if sb.Summary != line {
		t.Errorf("summary\n got %q\nwant %q", sb.Summary, line)
	}
}

// TestScoreboardRoundsUnitsNeeded: the one-line answer speaks in round
// numbers, summing the inconclusive statements' needs.
func TestScoreboardRoundsUnitsNeeded(t *testing.T) {
	st := func(key string, need int64) analysis.StatementTests {
		return analysis.StatementTests{
			Statement: analysis.Statement{Key: key, Text: key, Kind: analysis.ClaimEffect, SurveyN: 10},
			Tests: []analysis.TestInput{{Experiment: "x", HigherIsBetter: true, Result: analysis.ClaimResult{ID: key, Kind: analysis.ClaimEffect,
				Metric: "m", Revealed: f(0.01), RevealedSE: f(0.1), Units: 100, UnitsNeeded: &need}}},
		}
	}
	sb := analysis.BuildScoreboard(analysis.ScoreboardInput{Source: "S", Statements: []analysis.StatementTests{st("a", 1234), st("b", 651)}})
	if want := "Of 2 statements from S, 2 are inconclusive (need about 1,900 more customers)."; sb.Summary != want {
		t.Errorf("got %q, want %q", sb.Summary, want)
	}
}
