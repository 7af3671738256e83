package analysis

import "math"

// MetaStudy is one independent estimate to pool, such as one experiment's
// absolute effect on the scoreboard metric, with its standard error.
type MetaStudy struct {
	Label    string  `json:"label"`
	Estimate float64 `json:"estimate"`
	SE       float64 `json:"se"`
}

// MetaLeftOut names a study that PoolRandomEffects could not use, and why.
type MetaLeftOut struct {
	Label  string `json:"label"`
	Reason string `json:"reason"`
}

// MetaResult is a random-effects pooling of k studies. Numbers that are
// undefined are null, and NullReason says why; the JSON never holds NaN or
// ±Inf.
type MetaResult struct {
	// K is the number of studies used, after those in LeftOut.
	K int `json:"k"`
	// Alpha is the level of CI and PI.
	Alpha float64 `json:"alpha"`
	// Method is "reml_hksj" for k ≥ 2 and "single_study_z" for k = 1.
	Method string `json:"method,omitempty"`
	// Estimate is the pooled mean μ̂; SE, CI and PValue (for μ = 0) use the
	// safeguarded Hartung–Knapp–Sidik–Jonkman scale, Student's t with DF =
	// k − 1 degrees of freedom (DF is null for k = 1, a normal interval).
	Estimate *float64  `json:"estimate"`
	SE       *float64  `json:"se"`
	CI       *Interval `json:"ci"`
	PValue   *float64  `json:"p_value"`
	DF       *int      `json:"df"`
	// Tau2 is the REML between-study variance τ²; I2 is τ²/(τ² + s²) as a
	// fraction in [0, 1] (metafor's definition, s² the typical within-study
	// variance); Q is Cochran's Q with inverse-variance weights and QPValue
	// its χ²(k − 1) p-value.
	Tau2    *float64 `json:"tau2"`
	I2      *float64 `json:"i2"`
	Q       *float64 `json:"q"`
	QPValue *float64 `json:"q_p_value"`
	// HKSJQ is Knapp and Hartung's scale q = Σwᵢ(yᵢ − μ̂)²/(k − 1) before
	// the safeguard: below 1, SE and the intervals used 1 instead.
	HKSJQ *float64 `json:"hksj_q"`
	// PI is the prediction interval for the effect of a new study.
	PI *Interval `json:"pi"`
	// LeftOut lists the studies not used; it is empty, never null.
	LeftOut    []MetaLeftOut `json:"left_out"`
	NullReason string        `json:"null_reason,omitempty"`
}

// Reasons in MetaResult.LeftOut and MetaResult.NullReason.
const (
	reasonMetaEstimate   = "estimate is not finite"
	reasonMetaSE         = "standard error is not a finite positive number"
	reasonMetaNoStudies  = "no studies"
	reasonMetaNoneUsable = "no usable studies"
	reasonMetaAlpha      = "alpha must be in (0, 0.5)"
	reasonMetaSingle     = "one study: τ², I², Q and the prediction interval need at least two"
	reasonMetaNoConverge = "REML estimate of τ² did not converge"
)

// metaMaxIter bounds the REML iterations; a variable so that a test can
// exercise the path where they run out.
var metaMaxIter = 1000

// metaTol is the convergence threshold of the REML iterations, on the scale
// where the smallest within-study variance is 1 (see PoolRandomEffects).
const metaTol = 1e-10

// PoolRandomEffects pools independent estimates under the random-effects
// model yᵢ ~ N(μ, seᵢ² + τ²): τ² by REML, μ̂ by inverse-variance weights
// 1/(seᵢ² + τ²), and the Hartung–Knapp–Sidik–Jonkman t interval with the
// safeguard q* = max(1, q), so that k nearly identical estimates do not get
// an interval narrower than their own standard errors imply. Alpha 0 means
// DefaultAlpha. Studies with a non-finite estimate or a standard error that
// is not finite and positive are left out and listed; the result never
// panics and never holds NaN.
func PoolRandomEffects(studies []MetaStudy, alpha float64) MetaResult {
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	r := MetaResult{Alpha: alpha, LeftOut: []MetaLeftOut{}}
	var y, se []float64
	for _, s := range studies {
		switch {
		case !finite(s.Estimate):
			r.LeftOut = append(r.LeftOut, MetaLeftOut{s.Label, reasonMetaEstimate})
		case !(s.SE > 0) || !finite(s.SE):
			r.LeftOut = append(r.LeftOut, MetaLeftOut{s.Label, reasonMetaSE})
		default:
			y = append(y, s.Estimate)
			se = append(se, s.SE)
		}
	}
	r.K = len(y)
	switch {
	case CheckAlpha(alpha) != "":
		r.Alpha = 0 // keeps NaN out of the JSON
		if finite(alpha) {
			r.Alpha = alpha
		}
		r.NullReason = reasonMetaAlpha
		return r
	case len(studies) == 0:
		r.NullReason = reasonMetaNoStudies
		return r
	case r.K == 0:
		r.NullReason = reasonMetaNoneUsable
		return r
	case r.K == 1:
		return singleStudy(r, y[0], se[0])
	}

	// Work on the scale where the smallest standard error is 1: the
	// convergence threshold is then relative to the within-study variances
	// (an absolute 1e-10 would be loose for effects of order 1e-3 and beyond
	// float64 resolution for effects of order 1e6), and the weights cannot
	// overflow. Results are scaled back at the end.
	c := se[0]
	for _, s := range se[1:] {
		c = math.Min(c, s)
	}
	k := len(y)
	ys, v := make([]float64, k), make([]float64, k)
	for i := range y {
		ys[i] = y[i] / c
		s := se[i] / c
		v[i] = s * s
	}

	q, qp, s2 := cochran(ys, v)
	tau2, why := remlTau2(ys, v, dlTau2(q, v))
	r.Method = "reml_hksj"
	if why != "" {
		r.NullReason = why
		r.Q, r.QPValue = num(q), num(qp)
		return r
	}

	sw, mu := 0.0, 0.0
	for i := range ys {
		w := 1 / (v[i] + tau2)
		sw += w
		mu += w * ys[i]
	}
	mu /= sw
	rss := 0.0
	for i := range ys {
		d := ys[i] - mu
		rss += d * d / (v[i] + tau2)
	}
	df := k - 1
	// Knapp & Hartung's scale q can be below 1, which would make the
	// interval narrower than the one with τ² known; the ad hoc safeguard
	// (Röver, Knapp & Friede 2015) keeps it at least as wide.
	hq := rss / float64(df)
	scale := math.Max(1, hq)
	seMu := math.Sqrt(scale / sw)
	crit := tQuantile(1-alpha/2, float64(df))
	half := crit * seMu
	halfPI := crit * math.Sqrt(seMu*seMu+tau2)

	est, seOut := mu*c, seMu*c
	vals := []float64{est, seOut, (mu - half) * c, (mu + half) * c, tau2 * c * c,
		(mu - halfPI) * c, (mu + halfPI) * c, q}
	for _, x := range vals {
		if !finite(x) {
			r.NullReason = reasonRange
			return r
		}
	}
	r.Estimate, r.SE = num(est), num(seOut)
	r.CI = interval((mu-half)*c, (mu+half)*c)
	r.PValue = num(tTwoSided(mu/seMu, float64(df)))
	r.DF = &df
	r.Tau2 = num(tau2 * c * c)
	// τ² and s² are on the same (scaled) footing, so the ratio needs no
	// scaling back.
	r.I2 = num(tau2 / (tau2 + s2))
	r.Q, r.QPValue = num(q), num(qp)
	r.HKSJQ = num(hq)
	r.PI = interval((mu-halfPI)*c, (mu+halfPI)*c)
	return r
}

// singleStudy is the pooled result of one study: that study, with a normal
// interval, since there is nothing to estimate τ² or a t scale from.
func singleStudy(r MetaResult, y, se float64) MetaResult {
	r.Method = "single_study_z"
	r.NullReason = reasonMetaSingle
	z := normQuantile(1 - r.Alpha/2)
	r.Estimate, r.SE = num(y), num(se)
	r.CI = interval(y-z*se, y+z*se)
	r.PValue = num(2 * normCDF(-math.Abs(y/se)))
	if r.CI == nil || r.PValue == nil {
		r.CI, r.PValue = nil, nil
		r.NullReason = reasonRange
	}
	return r
}

// cochran returns Cochran's Q with weights 1/vᵢ, its χ²(k − 1) p-value,
// and metafor's "typical" within-study variance
// s² = (k − 1)Σw / ((Σw)² − Σw²) that its I² is based on.
func cochran(y, v []float64) (q, p, s2 float64) {
	k := len(y)
	w := make([]float64, k)
	sw, swy := 0.0, 0.0
	for i := range y {
		w[i] = 1 / v[i]
		sw += w[i]
		swy += w[i] * y[i]
	}
	mean := swy / sw
	for i := range y {
		d := y[i] - mean
		q += w[i] * d * d
	}
	df := float64(k - 1)
	// (Σw)² − Σw² = Σᵢ wᵢ·Σ_{j≠i} wⱼ, which has no cancellation when one
	// weight dominates.
	cross := 0.0
	for i, o := range others(w) {
		cross += w[i] * o
	}
	p = math.NaN() // null in the JSON, like q, when q overflows
	if finite(q) {
		p = chiSqSurvival(q, df)
	}
	return q, p, df * sw / cross
}

// others returns Σ_{j≠i} xⱼ for each i, from prefix and suffix sums rather
// than as Σx − xᵢ, which loses all precision when xᵢ dominates the sum.
func others(x []float64) []float64 {
	out := make([]float64, len(x))
	prefix := 0.0
	for i := range x {
		out[i] = prefix
		prefix += x[i]
	}
	suffix := 0.0
	for i := len(x) - 1; i >= 0; i-- {
		out[i] += suffix
		suffix += x[i]
	}
	return out
}

// dlTau2 is the DerSimonian–Laird estimate, the starting value of REML.
func dlTau2(q float64, v []float64) float64 {
	w := make([]float64, len(v))
	sw := 0.0
	for i, vi := range v {
		w[i] = 1 / vi
		sw += w[i]
	}
	// Σw − Σw²/Σw = Σᵢ wᵢ·Σ_{j≠i} wⱼ / Σw.
	den := 0.0
	for i, o := range others(w) {
		den += w[i] * o
	}
	t := (q - float64(len(v)-1)) / (den / sw)
	if !(t > 0) || !finite(t) {
		return 0
	}
	return t
}

// remlTau2 maximizes the restricted likelihood of τ² by Fisher scoring, as
// metafor's rma(method = "REML") does: with W = diag(w), P = W − wwᵀ/Σw, the
// step is (yᵀPPy − tr P)/tr(PP), and τ² stays at 0 when a step would take it
// below (the maximum is then on the boundary). why is empty on success, else
// the reason τ² is undefined.
func remlTau2(y, v []float64, start float64) (tau2 float64, why string) {
	k := len(y)
	w, w2 := make([]float64, k), make([]float64, k)
	tau2 = start
	for iter := 0; iter < metaMaxIter; iter++ {
		sw, swy := 0.0, 0.0
		for i := range y {
			w[i] = 1 / (v[i] + tau2)
			w2[i] = w[i] * w[i]
			sw += w[i]
			swy += w[i] * y[i]
		}
		mu := swy / sw
		// Py = w∘(y − μ̂), so yᵀPPy = Σw²(y − μ̂)². With oᵢ = Σ_{j≠i} wⱼ
		// and o2ᵢ = Σ_{j≠i} wⱼ², tr P = Σwᵢoᵢ/Σw and
		// tr(PP) = Σ_{ij} P²ᵢⱼ = Σwᵢ²(oᵢ² + o2ᵢ)/(Σw)²: sums of positive
		// terms, where the textbook Σw² − 2Σw³/Σw + (Σw²)²/(Σw)² cancels
		// catastrophically when one study's weight dominates.
		o, o2 := others(w), others(w2)
		ypy, trP, trPP := 0.0, 0.0, 0.0
		for i := range y {
			d := y[i] - mu
			ypy += w2[i] * d * d
			trP += w[i] * o[i]
			trPP += w2[i] * (o[i]*o[i] + o2[i])
		}
		trP /= sw
		trPP /= sw * sw
		next := tau2 + (ypy-trP)/trPP
		if !finite(next) {
			return tau2, reasonRange
		}
		next = math.Max(0, next)
		change := math.Abs(next - tau2)
		tau2 = next
		if change < metaTol*math.Max(1, tau2) {
			// Fisher scoring can stop at a local maximum; like metafor's
			// ll0check, prefer the boundary when it is more likely.
			if tau2 > 0 && remlLogLik(y, v, 0) > remlLogLik(y, v, tau2) {
				tau2 = 0
			}
			return tau2, ""
		}
	}
	return tau2, reasonMetaNoConverge
}

// remlLogLik is the restricted log-likelihood of τ² up to a constant:
// −½[Σ log(vᵢ + τ²) + log Σw + Σw(y − μ̂)²].
func remlLogLik(y, v []float64, tau2 float64) float64 {
	sw, swy, slog := 0.0, 0.0, 0.0
	for i := range y {
		w := 1 / (v[i] + tau2)
		sw += w
		swy += w * y[i]
		slog += math.Log(v[i] + tau2)
	}
	mu := swy / sw
	rss := 0.0
	for i := range y {
		d := y[i] - mu
		rss += d * d / (v[i] + tau2)
	}
	return -(slog + math.Log(sw) + rss) / 2
}
