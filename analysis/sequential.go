package analysis

import "math"

// DefaultNStar is the default sequential tuning parameter N*.
const DefaultNStar = 5000

// SequentialInfo reports the sequential settings of a report.
type SequentialInfo struct {
	NStar float64 `json:"n_star"`
	// Snapshots is how many earlier p-values were supplied for the running
	// minimum.
	Snapshots int `json:"prior_p_values"`
}

// seqRho2 is ρ² of the normal-mixture boundary tuned to be tightest at a
// total sample size of nStar (Waudby-Smith et al. 2023, eq. 161; GrowthBook).
func seqRho2(alpha, nStar float64) float64 {
	l := -2 * math.Log(alpha)
	return (l + math.Log(l+1)) / nStar
}

// seqHalfWidth is the half-width of the asymptotic confidence sequence
// (Waudby-Smith et al. 2023, eq. 9) for an estimate with standard error se
// after n units in total: with σ² = se²·n the per-unit variance,
// σ·√(2(nρ²+1)/(n²ρ²) · log(√(nρ²+1)/α)).
func seqHalfWidth(se, n, alpha, nStar float64) float64 {
	r2 := seqRho2(alpha, nStar)
	s := se * math.Sqrt(n)
	return s * math.Sqrt(2*(n*r2+1)/(n*n*r2)*math.Log(math.Sqrt(n*r2+1)/alpha))
}

// seqPValue is the always-valid p-value matching seqHalfWidth: the reciprocal
// of the mixture martingale exp(ρ²S²/(2σ²(nρ²+1)))/√(nρ²+1) with S = n·d,
// computed in logs so that tiny p-values do not overflow.
func seqPValue(d, se, n, alpha, nStar float64) float64 {
	r2 := seqRho2(alpha, nStar)
	st2 := d * d * n / (se * se) // S²/σ²
	logEvidence := r2*st2/(2*(n*r2+1)) - 0.5*math.Log(n*r2+1)
	return math.Min(1, math.Exp(-logEvidence))
}
