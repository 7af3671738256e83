package analysis

import "math"

// Power is the power at which MDEs and units still needed are computed.
const Power = 0.8

// critical is the boundary multiplier of the test on an estimate with
// standard error se/√k after k times the current n units: z₁₋α/₂ for the
// fixed-horizon test, the confidence-sequence half-width over the standard
// error for the sequential one.
func (a *reportBuilder) critical(alpha, n, k float64) float64 {
	if a.in.Sequential == nil {
		return normQuantile(1 - alpha/2)
	}
	return seqHalfWidth(1, n*k, alpha, a.nStar()) * math.Sqrt(k)
}

// mde is the smallest absolute effect detected with 80% power at the current
// sample: (critical + z₀.₈)·se.
func (a *reportBuilder) mde(se, n, alpha float64) float64 {
	return (a.critical(alpha, n, 1) + normQuantile(Power)) * se
}

// unitsNeeded is how many more units (both arms together, at the current
// allocation) give 80% power to detect an effect of size |d| when the
// standard error is se at n units. It returns false for d = 0.
func (a *reportBuilder) unitsNeeded(d, se, n, alpha float64) (int64, bool) {
	if d == 0 || se == 0 {
		return 0, false
	}
	zb := normQuantile(Power)
	if a.in.Sequential == nil {
		k := (normQuantile(1-alpha/2) + zb) * se / d
		return toUnits(k*k*n - n)
	}
	detects := func(k float64) bool {
		return (a.critical(alpha, n, k)+zb)*se/math.Sqrt(k) <= math.Abs(d)
	}
	if detects(1) {
		return 0, true
	}
	// The boundary shrinks monotonically in k; bracket then bisect.
	lo, hi := 1.0, 2.0
	for !detects(hi) {
		lo, hi = hi, hi*2
		if hi*n > maxUnits {
			return 0, false
		}
	}
	for hi-lo > 1e-9*hi {
		mid := (lo + hi) / 2
		if detects(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return toUnits(hi*n - n)
}

// maxUnits bounds units_needed; beyond it the answer is "not reachable".
const maxUnits = 1e15

// toUnits rounds a number of units up; false when it is out of range.
func toUnits(x float64) (int64, bool) {
	if !(x <= maxUnits) {
		return 0, false
	}
	return int64(math.Max(0, math.Ceil(x))), true
}
