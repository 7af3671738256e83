package analysis

import "math"

// estimate is one arm's mean and per-unit variance.
type estimate struct {
	kind  Kind
	units int64
	n     float64
	mean  float64
	v     float64 // per-unit variance
	vOK   bool    // v is defined
}

// estimateArm applies the gbstats conventions: p(1−p) for binary metrics and
// the sample variance (n−1) for mean metrics.
func estimateArm(kind Kind, s Stats) estimate {
	e := estimate{kind: kind, units: s.Units, n: float64(s.Units)}
	if s.Units == 0 {
		return e
	}
	e.mean = s.Sum / e.n
	switch kind {
	case Binary:
		e.v, e.vOK = e.mean*(1-e.mean), true
	default:
		if s.Units >= 2 {
			// Σx² − (Σx)·x̄ rather than Σx² − n·x̄², which cancels no worse
			// and keeps exact data exact.
			e.v, e.vOK = math.Max(0, (s.SumSq-s.Sum*e.mean)/(e.n-1)), true
		}
	}
	return e
}

func variantReport(key string, e estimate, alpha float64) VariantReport {
	vr := VariantReport{Variant: key, Units: e.units, Mean: e.mean}
	if !e.vOK {
		return vr
	}
	vr.SD = ptr(math.Sqrt(e.v))
	switch e.kind {
	case Binary:
		vr.CI = wilson(e.mean, e.n, alpha)
	default:
		h := tQuantile(1-alpha/2, e.n-1) * math.Sqrt(e.v/e.n)
		vr.CI = &Interval{e.mean - h, e.mean + h}
	}
	return vr
}

// wilson is the Wilson score interval for a proportion p of n at level
// 1−alpha, the interval of R's prop.test(correct = FALSE).
func wilson(p, n, alpha float64) *Interval {
	if n <= 0 {
		return nil
	}
	z := normQuantile(1 - alpha/2)
	z2n := z * z / n
	center := (p + z2n/2) / (1 + z2n)
	half := z / (1 + z2n) * math.Sqrt(p*(1-p)/n+z2n/(4*n))
	return &Interval{math.Max(0, center-half), math.Min(1, center+half)}
}
