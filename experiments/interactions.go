package experiments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

// interactionChecks tests, for every other running experiment that shares
// units with e, whether e's effect on each of its metrics depends on the
// unit's arm there, and whether assignment to the two is independent
// (analysis.CheckInteraction), from statistics per (other experiment, its
// arm, arm of e) aggregated in SQL, one pass per metric however many others
// there are; then corrects over the pairs and flags
// (analysis.FlagInteractions). What cannot be checked is left out with a
// warning.
func (s *Service) interactionChecks(ctx context.Context, e *Experiment, settings AnalysisSettings, values unitValues, r *analysis.Report) ([]analysis.InteractionCheck, error) {
	checks := []analysis.InteractionCheck{}
	if e.Status == StatusDraft || strings.HasPrefix(e.Key, HoldoutExperimentKey("")) {
		return checks, nil
	}
	running := map[string]*Experiment{}
	var keys []string
	for key, o := range s.catalog.current.Load().byKey {
		if key != e.Key && o.Status == StatusRunning && !strings.HasPrefix(key, HoldoutExperimentKey("")) {
			running[key] = o
			keys = append(keys, key)
		}
	}
	shared, err := s.store.SharedUnits(ctx, e, keys)
	if err != nil {
		return nil, err
	}
	assigned := map[string][]analysis.AssignedCell{}
	var others []string
	for _, a := range shared {
		if _, seen := assigned[a.Other]; !seen {
			others = append(others, a.Other)
		}
		assigned[a.Other] = append(assigned[a.Other], analysis.AssignedCell{ArmA: a.Variant, ArmB: a.Segment, Units: a.Units})
	}
	if len(others) == 0 {
		return checks, nil
	}
	slices.Sort(others)
	byOther := map[string][]analysis.InteractionCheck{}
	for _, m := range e.Metrics {
		if !analysable(r, m.Key) {
			continue
		}
		cells, err := s.store.CrossStats(ctx, e, s.statsQuery(e, m, settings, values), others)
		if err != nil {
			return nil, err
		}
		for _, other := range others {
			in := analysis.InteractionInput{Alpha: settings.Alpha, Kind: analysis.Kind(m.Kind),
				ArmsA: controlFirst(e), ArmsB: controlFirst(running[other]), Assigned: assigned[other]}
			for _, c := range cells {
				if c.Other == other {
					in.Cells = append(in.Cells, analysis.InteractionCell{ArmA: c.Variant, ArmB: c.Segment, Stats: analysis.Stats{
						Units: c.Units, Sum: c.Sum, SumSq: c.SumSq, DenSum: c.DenSum, DenSumSq: c.DenSumSq, DenCross: c.DenCross}})
				}
			}
			res, err := analysis.CheckInteraction(in)
			var ie *analysis.InputError
			if errors.As(err, &ie) {
				// Exposures stored under arms the definitions no longer have.
				r.Warnings = append(r.Warnings, fmt.Sprintf("the interaction with %q on %s cannot be checked: %s: %s", other, m.Key, ie.Field, ie.Reason))
				continue
			} else if err != nil {
				return nil, err
			}
			byOther[other] = append(byOther[other], analysis.InteractionCheck{Experiment: other, Metric: m.Key, InteractionResult: res})
		}
	}
	for _, other := range others {
		checks = append(checks, byOther[other]...)
	}
	analysis.FlagInteractions(checks)
	for _, c := range checks {
		if c.Flagged {
			r.Warnings = append(r.Warnings, c.Summary)
		}
	}
	return checks, nil
}

func analysable(r *analysis.Report, metric string) bool {
	for _, m := range r.Metrics {
		if m.Metric == metric {
			return m.NullReason == ""
		}
	}
	return false
}

// controlFirst lists e's variant keys with the control first.
func controlFirst(e *Experiment) []string {
	out := []string{e.Control()}
	for _, v := range e.Variants {
		if !v.Control {
			out = append(out, v.Key)
		}
	}
	return out
}
