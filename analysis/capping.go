package analysis

import (
	"errors"
	"math"
	"sort"
)

// PercentileCap returns the p-quantile (0 ≤ p ≤ 1) of the pooled per-unit
// values, the cap for a metric capped at that percentile. It interpolates
// linearly between order statistics, as R's quantile(type = 7) and NumPy's
// default do. Capping itself, min(value, cap) per unit, happens before the
// sufficient statistics are summed, so this package never sees raw units
// otherwise. values is not modified.
func PercentileCap(values []float64, p float64) (float64, error) {
	if len(values) == 0 {
		return 0, errors.New("analysis: percentile of no values")
	}
	if !(p >= 0 && p <= 1) {
		return 0, errors.New("analysis: percentile must be in [0, 1]")
	}
	x := append([]float64(nil), values...)
	for _, v := range x {
		if math.IsNaN(v) {
			return 0, errors.New("analysis: percentile of NaN")
		}
	}
	sort.Float64s(x)
	h := float64(len(x)-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(x) {
		return x[len(x)-1], nil
	}
	return x[i] + (h-lo)*(x[i+1]-x[i]), nil
}
