package analysis

import "math"

// estimate is one arm's mean and per-unit variance.
type estimate struct {
	kind   Kind
	units  int64
	n      float64
	mean   float64
	v      float64 // per-unit variance
	vOK    bool    // v is defined
	reason string  // why v is not defined
}

// Reasons a value is null in the report.
const (
	reasonNoUnits      = "an arm has no units"
	reasonFewUnits     = "fewer than 2 units in an arm"
	reasonZeroVariance = "both variances are 0"
	reasonControlZero  = "control mean is 0"
	reasonDenZero      = "denominator mean is 0"
	reasonRange        = "values out of floating-point range"
)

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// estimateArm applies the gbstats conventions: p(1−p) for binary metrics,
// the sample variance (n−1) for mean metrics, and for ratio metrics the
// delta-method variance of ΣM/ΣD with the numerator–denominator covariance.
func estimateArm(kind Kind, s Stats) estimate {
	e := estimate{kind: kind, units: s.Units, n: float64(s.Units)}
	if s.Units == 0 {
		e.reason = reasonNoUnits
		return e
	}
	n := e.n
	switch kind {
	case Binary:
		e.mean = s.Sum / n
		e.v, e.vOK = e.mean*(1-e.mean), true
	case Mean:
		e.mean = s.Sum / n
		e.v, e.vOK = sampleVar(s.Sum, s.SumSq, n)
	case Ratio:
		if s.DenSum == 0 {
			e.reason = reasonDenZero
			return e
		}
		m, d := s.Sum/n, s.DenSum/n
		e.mean = m / d
		vm, ok := sampleVar(s.Sum, s.SumSq, n)
		vd, _ := sampleVar(s.DenSum, s.DenSumSq, n)
		cmd, _ := sampleCov(s.Sum, s.DenSum, s.DenCross, n)
		if ok {
			e.v, e.vOK = math.Max(0, vm/(d*d)-2*m*cmd/(d*d*d)+m*m*vd/(d*d*d*d)), true
		}
	}
	if !finite(e.mean) || !finite(e.v) {
		return estimate{kind: kind, units: s.Units, n: n, reason: reasonRange}
	}
	if !e.vOK {
		e.reason = reasonFewUnits
	}
	return e
}

// sampleCov is the sample covariance (n−1) of X and Y from ΣX, ΣY and ΣXY;
// false when n < 2.
func sampleCov(sx, sy, sxy, n float64) (float64, bool) {
	if n < 2 {
		return 0, false
	}
	return (sxy - sx*sy/n) / (n - 1), true
}

// sampleVar is sampleCov of X with itself, clamped at 0 against rounding.
func sampleVar(sx, sxx, n float64) (float64, bool) {
	v, ok := sampleCov(sx, sx, sxx, n)
	return math.Max(0, v), ok
}

func variantReport(key string, e estimate, alpha float64) VariantReport {
	vr := VariantReport{Variant: key, Units: e.units, Mean: e.mean}
	if !e.vOK {
		return vr
	}
	vr.SD = num(math.Sqrt(e.v))
	switch e.kind {
	case Binary:
		vr.CI = wilson(e.mean, e.n, alpha)
	default:
		h := tQuantile(1-alpha/2, e.n-1) * math.Sqrt(e.v/e.n)
		vr.CI = interval(e.mean-h, e.mean+h)
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
	return interval(math.Max(0, center-half), math.Min(1, center+half))
}
