package analysis

import (
	"math"
	"sort"
)

// The Poisson bootstrap gives every unit an independent Poisson(1) weight in
// each replicate instead of resampling n units with replacement: for large n
// the two are equivalent, and only the Poisson version can be computed in one
// pass without knowing n in advance. The weights are a pure function of
// (seed, unit id, replicate), so the replicates do not depend on the order in
// which units arrive, on how the stream is split across workers, or on any
// generator state, and a report is reproducible from its seed.

// DefaultDriverReplicates is the number of bootstrap replicates when
// DriverConfig.Replicates is 0.
const DefaultDriverReplicates = 1000

const (
	drvFnvOffset  = 14695981039346656037
	drvFnvPrime   = 1099511628211
	drvSplitGamma = 0x9e3779b97f4a7c15
)

// drvSplitmix64 is the finaliser of Steele, Lea & Flood's SplitMix64: a bijection
// of 64-bit words whose output passes BigCrush when fed a counter.
func drvSplitmix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// drvUnitKey hashes a unit id (FNV-1a, then SplitMix64 so that ids differing in
// one byte give unrelated keys) and keys it with the seed. Hashing the id
// twice through the finaliser keeps (seed, unit) pairs from aliasing: a
// plain seed ⊕ hash would let study seeds s and s⊕1 share replicates.
func drvUnitKey(seed uint64, unit string) uint64 {
	h := uint64(drvFnvOffset)
	for i := 0; i < len(unit); i++ {
		h ^= uint64(unit[i])
		h *= drvFnvPrime
	}
	return drvSplitmix64(seed ^ drvSplitmix64(h))
}

// drvPoissonCDF holds P(K ≤ k) for K ~ Poisson(1) scaled to 2⁵³, the resolution
// of the uniform draw, so that a draw is inverted with integer comparisons.
// The table stops where the CDF rounds to 1.
var drvPoissonCDF = func() []uint64 {
	var t []uint64
	p := math.Exp(-1)
	f := p
	for k := 1; ; k++ {
		c := uint64(f * (1 << 53))
		if c >= 1<<53 {
			break
		}
		t = append(t, c)
		p /= float64(k)
		f += p
	}
	return t
}()

// drvPoissonWeight is the Poisson(1) weight of replicate b for a unit with the
// given key: SplitMix64 in counter mode gives a uniform 53-bit u, inverted
// through the CDF.
func drvPoissonWeight(key uint64, b int) float64 {
	u := drvSplitmix64(key+uint64(b+1)*drvSplitGamma) >> 11
	for k, c := range drvPoissonCDF {
		if u < c {
			return float64(k)
		}
	}
	return float64(len(drvPoissonCDF))
}

// drvQuantile7 is R's quantile(type = 7) of the sorted values.
func drvQuantile7(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := p * float64(n-1)
	lo := math.Floor(h)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// drvPercentileCI is the percentile interval of the finite replicate values.
// Ranks take order statistics (type 1) so that their bounds stay ranks.
func drvPercentileCI(vals []float64, alpha float64, discrete bool, minUsable int) *Interval {
	s := make([]float64, 0, len(vals))
	for _, v := range vals {
		if finite(v) {
			s = append(s, v)
		}
	}
	if len(s) < minUsable || len(s) == 0 {
		return nil
	}
	sort.Float64s(s)
	if discrete {
		n := float64(len(s))
		lo := int(math.Ceil(n*alpha/2)) - 1
		hi := int(math.Ceil(n*(1-alpha/2))) - 1
		lo = max(0, min(lo, len(s)-1))
		hi = max(0, min(hi, len(s)-1))
		return interval(s[lo], s[hi])
	}
	return interval(drvQuantile7(s, alpha/2), drvQuantile7(s, 1-alpha/2))
}

// drvSnapTies returns x with values that agree to 1e-9 relative replaced by
// the smallest of their group: weights that are equal in exact arithmetic
// (a collinear pair shares its weight equally) differ in the last bits, and
// ranks and rank correlations must see them as tied.
func drvSnapTies(x []float64) []float64 {
	out := append([]float64(nil), x...)
	order := make([]int, 0, len(x))
	for i, v := range x {
		if finite(v) {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return x[order[a]] < x[order[b]] })
	for k := 1; k < len(order); k++ {
		prev, cur := out[order[k-1]], x[order[k]]
		if math.Abs(cur-prev) <= 1e-9*math.Max(math.Abs(prev), math.Abs(cur)) {
			out[order[k]] = prev
		}
	}
	return out
}

// drvRanksDesc gives competition ranks (1 = largest; ties share the best rank)
// of the finite values; non-finite values get NaN.
func drvRanksDesc(x []float64, dst []float64) []float64 {
	for i, xi := range x {
		if !finite(xi) {
			dst[i] = math.NaN()
			continue
		}
		r := 1.0
		for _, xj := range x {
			if finite(xj) && xj > xi {
				r++
			}
		}
		dst[i] = r
	}
	return dst
}

// drvAverageRanks gives ascending ranks with ties averaged, as R's rank().
func drvAverageRanks(x []float64) []float64 {
	r := make([]float64, len(x))
	for i, xi := range x {
		less, equal := 0, 0
		for _, xj := range x {
			if xj < xi {
				less++
			} else if xj == xi {
				equal++
			}
		}
		r[i] = float64(less) + float64(equal+1)/2
	}
	return r
}

// drvSpearman is the Pearson correlation of average ranks (R's
// cor(method = "spearman")); NaN when either side is constant.
func drvSpearman(x, y []float64) float64 {
	return drvPearson(drvAverageRanks(x), drvAverageRanks(y))
}

func drvPearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx <= 0 || syy <= 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// drvKendallTauB is Kendall's τ-b, (C − D)/√((n₀ − n₁)(n₀ − n₂)) with n₁, n₂
// the pairs tied in x and in y (R's cor(method = "kendall")); NaN when
// either side is constant. The drivers are at most 30, so O(n²) is fine.
func drvKendallTauB(x, y []float64) float64 {
	var s, tx, ty, n0 float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			n0++
			a := drvCmpSign(x[i], x[j])
			b := drvCmpSign(y[i], y[j])
			if a == 0 {
				tx++
			}
			if b == 0 {
				ty++
			}
			s += float64(a * b)
		}
	}
	d := (n0 - tx) * (n0 - ty)
	if d <= 0 {
		return math.NaN()
	}
	return s / math.Sqrt(d)
}

func drvCmpSign(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
