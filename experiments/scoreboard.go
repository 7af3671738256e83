package experiments

import (
	"context"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// ScoreboardView is a source's scoreboard: every statement of the source
// with the experiments that test it, each test's verdict, and the pooled
// result, plus the one-line answer.
type ScoreboardView struct {
	Source     *Source   `json:"source"`
	ComputedAt time.Time `json:"computed_at"`
	*analysis.Scoreboard
}

// Scoreboard judges every statement of source against what customers did
// in the experiments whose claims test it. Each experiment's report is the
// one its report endpoint answers, computed once however many statements
// it tests. Like the report, it answers whatever was stored: a test that
// cannot be judged is listed with why.
func (s *Service) Scoreboard(ctx context.Context, source string) (*ScoreboardView, error) {
	src, err := s.store.GetSource(ctx, source)
	if err != nil {
		return nil, err
	}
	statements, err := s.store.Statements(ctx, source)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(statements))
	for i, st := range statements {
		keys[i] = st.Key
	}
	refs, err := s.store.ClaimsByStatement(ctx, keys)
	if err != nil {
		return nil, err
	}
	type tested struct {
		e      *Experiment
		report *analysis.Report
	}
	byExperiment := map[string]*tested{}
	for _, r := range refs {
		if _, done := byExperiment[r.Experiment]; done {
			continue
		}
		e, err := s.store.GetExperiment(ctx, r.Experiment)
		if err != nil {
			return nil, err
		}
		t := &tested{e: e}
		if e.Status != StatusDraft {
			if t.report, err = s.Report(ctx, e.Key); err != nil {
				return nil, err
			}
		}
		byExperiment[r.Experiment] = t
	}
	in := analysis.ScoreboardInput{Source: src.Label()}
	for _, st := range statements {
		sti := analysis.StatementTests{Statement: st.Statement}
		for _, r := range refs {
			if r.Claim.StatementKey != st.Key {
				continue
			}
			t := byExperiment[r.Experiment]
			// The claim's id and metric name the test even when the
			// experiment gives no result.
			ti := analysis.TestInput{Experiment: r.Experiment,
				Result: analysis.ClaimResult{ID: r.Claim.ID, Kind: r.Claim.Kind, Metric: r.Claim.Metric}}
			if m, ok := t.e.Metric(r.Claim.Metric); ok {
				ti.HigherIsBetter = m.HigherIsBetter
			}
			switch res := claimResult(t.report, r.Claim.ID); {
			case t.report == nil:
				ti.Reason = "the experiment is a draft: it has no data yet"
			case res == nil:
				ti.Reason = "the claim is not in the experiment's report"
			default:
				ti.Result = *res
			}
			sti.Tests = append(sti.Tests, ti)
		}
		in.Statements = append(in.Statements, sti)
	}
	return &ScoreboardView{Source: src, ComputedAt: s.nowUTC(), Scoreboard: analysis.BuildScoreboard(in)}, nil
}

func claimResult(r *analysis.Report, id string) *analysis.ClaimResult {
	if r == nil {
		return nil
	}
	for i := range r.Claims {
		if r.Claims[i].ID == id {
			return &r.Claims[i]
		}
	}
	return nil
}
