package analysis

import "math"

// diff is a treatment-minus-control estimate with its uncertainty.
type diff struct {
	d, se, df float64 // absolute effect, its standard error and Welch df
	ok        bool    // se > 0 and df defined
	reason    string  // why not ok
	n         float64 // units in both arms

	rel, seRel float64
	relOK      bool
	relReason  string
	mc         float64 // control mean

	cuped *CUPEDInfo
}

// welchDiff compares treatment t with control c: Welch's t-test with the
// Welch–Satterthwaite df (R's t.test(var.equal = FALSE)), and the relative
// effect (μT − μC)/|μC| with delta-method variance (gbstats).
func welchDiff(c, t estimate) diff {
	out := diff{n: c.n + t.n, mc: c.mean}
	if c.n > 0 && t.n > 0 {
		out.d = t.mean - c.mean
	}
	switch {
	case !c.vOK:
		out.reason = c.reason
	case !t.vOK:
		out.reason = t.reason
	case c.n < 2 || t.n < 2:
		out.reason = reasonFewUnits
	}
	if out.reason != "" {
		out.relReason = out.reason
		return out
	}
	vt, vc := t.v/t.n, c.v/c.n
	return finishDiff(out, vt, vc, t.n, c.n, t.mean, c.mean,
		vt/(c.mean*c.mean)+vc*t.mean*t.mean/(c.mean*c.mean*c.mean*c.mean))
}

// finishDiff fills the standard error, the Welch–Satterthwaite df from the
// per-arm variances of the mean vt and vc, and the relative effect whose
// delta-method variance is relVar.
func finishDiff(out diff, vt, vc, nt, nc, mt, mc, relVar float64) diff {
	se2 := vt + vc
	if se2 == 0 {
		out.reason, out.relReason = reasonZeroVariance, reasonZeroVariance
		return out
	}
	out.se = math.Sqrt(se2)
	// Welch–Satterthwaite (vt+vc)²/(vt²/(nt−1) + vc²/(nc−1)), written with
	// shares of se² so that huge variances do not overflow. With one
	// variance 0 it is exactly the other arm's n − 1.
	st, sc := vt/se2, vc/se2
	out.df = 1 / (st*st/(nt-1) + sc*sc/(nc-1))
	if !finite(out.d) || !finite(out.se) || !finite(out.df) {
		out.reason, out.relReason = reasonRange, reasonRange
		return out
	}
	out.ok = true
	switch rel, seRel := out.d/math.Abs(mc), math.Sqrt(relVar); {
	case mc == 0:
		out.relReason = reasonControlZero
	case !finite(rel) || !finite(seRel):
		out.relReason = reasonRange
	default:
		out.rel, out.seRel, out.relOK = rel, seRel, true
	}
	return out
}

// cupedDiff is the CUPED-adjusted comparison (Deng et al. 2013, as gbstats
// computes it): θ = cov(Y, X)/var(X) pooled over the two arms, effect
// (ȳT − θx̄T) − (ȳC − θx̄C), per-arm variance σ²Y + θ²σ²X − 2θσXY.
func cupedDiff(cs, ts Stats, c, t estimate) diff {
	plain := welchDiff(c, t)
	if !plain.ok {
		return plain
	}
	n := c.n + t.n
	sx, sy := cs.PreSum+ts.PreSum, cs.Sum+ts.Sum
	varX := cs.PreSumSq + ts.PreSumSq - sx*sx/n
	covXY := cs.PreCross + ts.PreCross - sx*sy/n
	varY := cs.SumSq + ts.SumSq - sy*sy/n
	theta := 0.0
	if varX > 0 && varY > 0 {
		theta = covXY / varX
	}
	if !finite(theta) {
		return plain
	}
	adj := func(s Stats, e estimate) (vAdj, xbar, vx, cxy float64) {
		vx, cxy = preMoments(e.kind, s, e.n)
		return math.Max(0, e.v+theta*theta*vx-2*theta*cxy), s.PreSum / e.n, vx, cxy
	}
	vAdjT, xT, _, _ := adj(ts, t)
	vAdjC, xC, vxC, cxyC := adj(cs, c)
	out := diff{n: n, mc: c.mean, d: (t.mean - theta*xT) - (c.mean - theta*xC)}
	vt, vc := vAdjT/t.n, vAdjC/c.n
	mc, mt := c.mean, t.mean
	// gbstats' production form: the pre-exposure means cancel by randomisation.
	relVar := vAdjT/(t.n*mc*mc) +
		(c.v*mt*mt/(mc*mc)-2*theta*cxyC*mt/mc+theta*theta*vxC)/(c.n*mc*mc)
	out = finishDiff(out, vt, vc, t.n, c.n, mt, mc, relVar)
	info := &CUPEDInfo{Theta: theta}
	if out.ok {
		info.VarianceReduction = num(1 - out.se*out.se/(plain.se*plain.se))
	}
	out.cuped = info
	return out
}

// preMoments are one arm's variance of the pre-exposure value X and its
// covariance with Y, in the convention of the metric's own variance, as
// gbstats computes them: for a binary metric (X is binary too) the
// proportion's p(1−p) and Σxy/n − x̄ȳ, denominator n; otherwise the sample
// moments, denominator n − 1. Mixing the two would misstate θ's effect.
func preMoments(kind Kind, s Stats, n float64) (vx, cxy float64) {
	if kind == Binary {
		xbar, ybar := s.PreSum/n, s.Sum/n
		return math.Max(0, s.PreSumSq/n-xbar*xbar), s.PreCross/n - xbar*ybar
	}
	vx, _ = sampleVar(s.PreSum, s.PreSumSq, n)
	cxy, _ = sampleCov(s.Sum, s.PreSum, s.PreCross, n)
	return vx, cxy
}

// CUPEDInfo reports the CUPED adjustment of a comparison.
type CUPEDInfo struct {
	Theta float64 `json:"theta"`
	// VarianceReduction is 1 − Var(adjusted effect)/Var(unadjusted effect).
	VarianceReduction *float64 `json:"variance_reduction"`
}
