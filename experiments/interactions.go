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
// (analysis.CheckInteraction), from statistics per (arm of e, arm of the
// other) aggregated in SQL; then corrects over the pairs and flags
// (analysis.FlagInteractions). What cannot be checked is left out with a
// warning.
func (s *Service) interactionChecks(ctx context.Context, e *Experiment, settings AnalysisSettings, caps map[string]*float64, r *analysis.Report) ([]analysis.InteractionCheck, error) {
	checks := []analysis.InteractionCheck{}
	if e.Status == StatusDraft || strings.HasPrefix(e.Key, HoldoutExperimentKey("")) {
		return checks, nil
	}
	var others []*Experiment
	for key, o := range s.catalog.current.Load().byKey {
		if key != e.Key && o.Status == StatusRunning && !strings.HasPrefix(key, HoldoutExperimentKey("")) {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b *Experiment) int { return strings.Compare(a.Key, b.Key) })
	analysable := map[string]bool{}
	for _, m := range r.Metrics {
		analysable[m.Metric] = m.NullReason == ""
	}
	for _, o := range others {
		segment := ExperimentSegmentPrefix + o.Key
		shared, err := s.store.ExposedUnits(ctx, e, segment)
		if err != nil {
			return nil, err
		}
		var assigned []analysis.AssignedCell
		for _, a := range shared {
			if a.Segment != "" {
				assigned = append(assigned, analysis.AssignedCell{ArmA: a.Variant, ArmB: a.Segment, Units: a.Units})
			}
		}
		if len(assigned) == 0 {
			continue
		}
		bySegment, err := s.metricInputs(ctx, e, settings, caps, segment)
		if err != nil {
			return nil, err
		}
		for _, m := range e.Metrics {
			if !analysable[m.Key] {
				continue
			}
			in := analysis.InteractionInput{Alpha: settings.Alpha, Kind: analysis.Kind(m.Kind),
				ArmsA: controlFirst(e), ArmsB: controlFirst(o), Assigned: assigned}
			for arm, metrics := range bySegment {
				for _, mi := range metrics {
					if arm == "" || mi.Metric != m.Key {
						continue
					}
					for _, a := range mi.Arms {
						in.Cells = append(in.Cells, analysis.InteractionCell{ArmA: a.Variant, ArmB: arm, Stats: a.Stats})
					}
				}
			}
			slices.SortFunc(in.Cells, func(a, b analysis.InteractionCell) int {
				return strings.Compare(a.ArmA+"\x00"+a.ArmB, b.ArmA+"\x00"+b.ArmB)
			})
			res, err := analysis.CheckInteraction(in)
			var ie *analysis.InputError
			if errors.As(err, &ie) {
				// Exposures stored under arms the definitions no longer have.
				r.Warnings = append(r.Warnings, fmt.Sprintf("the interaction with %q on %s cannot be checked: %s: %s", o.Key, m.Key, ie.Field, ie.Reason))
				continue
			} else if err != nil {
				return nil, err
			}
			checks = append(checks, analysis.InteractionCheck{Experiment: o.Key, Metric: m.Key, InteractionResult: res})
		}
	}
	analysis.FlagInteractions(checks)
	for _, c := range checks {
		if c.Flagged {
			r.Warnings = append(r.Warnings, c.Summary)
		}
	}
	return checks, nil
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
