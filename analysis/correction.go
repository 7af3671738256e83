package analysis

import (
	"math"
	"sort"
)

// Correction is a multiple-comparison method.
type Correction string

const (
	// Holm controls the family-wise error rate (the default).
	Holm Correction = "holm"
	// BH is Benjamini–Hochberg, controlling the false discovery rate.
	BH Correction = "bh"
	// NoCorrection reports p_adjusted = p_value.
	NoCorrection Correction = "none"
)

func (a *reportBuilder) correction() Correction {
	if a.in.Correction == "" {
		return Holm
	}
	return a.in.Correction
}

// adjust applies the correction to every p-value in the report's family
// (comparisons, then claims) and sets p_adjusted and significant; it returns
// the family size. Null p-values are not tested and stay out of the family.
func (a *reportBuilder) adjust(r *Report, claims []*claimWork) int {
	var ps []*float64
	var outs []**float64
	var sigs []*bool
	for i := range r.Metrics {
		for j := range r.Metrics[i].Comparisons {
			c := &r.Metrics[i].Comparisons[j]
			if c.PValue != nil {
				ps, outs, sigs = append(ps, c.PValue), append(outs, &c.PAdjusted), append(sigs, &c.Significant)
			}
		}
	}
	for i := range r.Metrics {
		if fe := r.Metrics[i].FactorialEffects; fe != nil {
			for _, e := range fe.Effects() {
				if e.PValue != nil {
					ps, outs, sigs = append(ps, e.PValue), append(outs, &e.PAdjusted), append(sigs, new(bool))
				}
			}
		}
	}
	for _, w := range claims {
		if w.res.PValue != nil {
			ps, outs, sigs = append(ps, w.res.PValue), append(outs, &w.res.PAdjusted), append(sigs, new(bool))
		}
		if nl := w.res.NowVsLater; nl != nil { // both horizons' tests join the family
			for _, h := range []*Horizon{nl.Now, nl.Later} {
				if h.PValue != nil {
					ps, outs, sigs = append(ps, h.PValue), append(outs, &h.PAdjusted), append(sigs, new(bool))
				}
			}
		}
	}
	raw := make([]float64, len(ps))
	for i, p := range ps {
		raw[i] = *p
	}
	adj := AdjustPValues(raw, r.Correction)
	for i := range adj {
		*outs[i] = num(adj[i])
		*sigs[i] = adj[i] < r.Alpha
	}
	return len(ps)
}

// AdjustPValues returns p adjusted by method, as R's p.adjust does with
// "holm", "BH" and "none".
func AdjustPValues(p []float64, method Correction) []float64 {
	m := len(p)
	out := make([]float64, m)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return p[order[i]] < p[order[j]] })
	switch method {
	case Holm:
		running := 0.0
		for rank, i := range order {
			running = math.Max(running, math.Min(1, float64(m-rank)*p[i]))
			out[i] = running
		}
	case BH:
		running := 1.0
		for rank := m - 1; rank >= 0; rank-- {
			i := order[rank]
			running = math.Min(running, float64(m)/float64(rank+1)*p[i])
			out[i] = running
		}
	default:
		copy(out, p)
	}
	return out
}
