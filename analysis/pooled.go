package analysis

import "math"

// PooledVerdict is a stated figure put to the test of a pooled estimate
// (PoolRandomEffects), by the rules of a claim: the direction from the
// pooled interval against the null, the magnitude by the claim's gap rule.
type PooledVerdict struct {
	// Verdict is holds when the pooled CI excludes the null on the stated
	// side, contradicted when it excludes it on the other, else
	// inconclusive.
	Verdict string `json:"verdict"`
	// Magnitude is matches, overstated, understated or unclear, as for a
	// claim; empty when there is no pooled estimate to compare with.
	Magnitude string `json:"magnitude,omitempty"`
	// Gap is pooled − stated, with its CI at 1−α, its two-sided p-value and
	// the (1−2α) CI of the equivalence test, all on the pooled se and the
	// pooled interval's distribution.
	Gap           *float64  `json:"gap"`
	GapCI         *Interval `json:"gap_ci"`
	GapPValue     *float64  `json:"gap_p_value"`
	EquivalenceCI *Interval `json:"equivalence_ci"`
	Margin        float64   `json:"margin"`
	// Reason says why the verdict is inconclusive whatever the data, or why
	// the magnitude is empty.
	Reason string `json:"reason,omitempty"`
}

// Reasons in PooledVerdict.Reason.
const (
	reasonPooledNoSide     = "the stated figure is the null: it states no direction"
	reasonPooledNoEstimate = "no pooled estimate"
)

// JudgePooled tests stated against the pooled result m. null is the figure
// that states no direction (½ for a share, 0 for a difference); margin is
// the equivalence margin of "matches" (0 means DefaultMargin).
//
// The stated figure is taken as a constant, as an effect claim's is: the
// surveys behind the statements are not pooled, the experiments are. The
// magnitude uses the pooled se with the t distribution of the pooled
// interval (k − 1 df, the Hartung–Knapp–Sidik–Jonkman interval) or the
// normal for a single study, so that the gap's CI is exactly the pooled CI
// shifted by the stated figure.
func JudgePooled(m MetaResult, stated, null, margin float64) PooledVerdict {
	if margin == 0 {
		margin = DefaultMargin
	}
	v := PooledVerdict{Verdict: Inconclusive, Margin: margin}
	if m.Estimate == nil || m.SE == nil || m.CI == nil {
		v.Reason = reasonPooledNoEstimate
		return v
	}
	est := *m.Estimate
	df := math.Inf(1)
	if m.DF != nil {
		df = float64(*m.DF)
	}
	g := judgeGap(est-stated, *m.SE, df, m.Alpha, margin)
	v.Gap, v.GapCI, v.GapPValue, v.EquivalenceCI, v.Magnitude = g.gap, g.ci, g.p, g.equivalenceCI, g.magnitude

	if stated == null {
		v.Reason = reasonPooledNoSide
		return v
	}
	// The pooled CI, rather than its p-value, decides: the p-value is
	// against 0, and a share's null is ½.
	v.Verdict = verdictOf(sideOf(est-null, stated-null), m.CI[0] > null || m.CI[1] < null)
	return v
}
