package analysis

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// largeDF is where Student's t gives way to a corrected normal. gonum's
// StudentsT loses precision as Nu grows (relative error about 4e-9 at 1e7,
// 7e-7 at 1e9, NaN at +Inf) because log B(ν/2, ½) cancels; at 1e8 both the
// gonum value and the corrected normal below are within about 5e-8 of the
// exact tail even at p ≈ 1e-300.
const largeDF = 1e8

var stdNormal = distuv.Normal{Mu: 0, Sigma: 1}

// normCDF is Φ(z); Φ(−z) is used for upper tails because Survival
// underflows to 0 for z ≥ 9.
func normCDF(z float64) float64 { return stdNormal.CDF(z) }

func normQuantile(p float64) float64 { return stdNormal.Quantile(p) }

// tLowerTail is P(T_df ≤ −|t|).
func tLowerTail(t, df float64) float64 {
	x := -math.Abs(t)
	if df > largeDF || math.IsInf(df, 1) {
		if math.IsInf(df, 1) {
			return normCDF(x)
		}
		// The correction R's pt uses for df > 4e5 (Fisher's transformation);
		// its error is O(t⁴/df²).
		v := 1 / (4 * df)
		return normCDF(x * (1 - v) / math.Sqrt(1+x*x*2*v))
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(x)
}

// tTwoSided is the two-sided p-value of statistic t with df degrees of freedom.
func tTwoSided(t, df float64) float64 {
	return math.Min(1, 2*tLowerTail(t, df))
}

// tQuantile is the p-quantile of Student's t with df degrees of freedom.
func tQuantile(p, df float64) float64 {
	z := normQuantile(p)
	if math.IsInf(df, 1) {
		return z
	}
	if df > largeDF {
		// Cornish–Fisher expansion; the next term is O(1/df³).
		z3, z5 := z*z*z, z*z*z*z*z
		return z + (z3+z)/(4*df) + (5*z5+16*z3+3*z)/(96*df*df)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// chiSqSurvival is P(χ²_k ≥ x), computed directly rather than as 1 − CDF.
func chiSqSurvival(x, k float64) float64 {
	return distuv.ChiSquared{K: k}.Survival(x)
}
