package analysis

import "math"

// chanceToWin is P(variant better than control) under a Gaussian posterior
// on the relative effect (gbstats): with the improper prior the posterior is
// N(rel, seRel²); a proper prior N(μ₀, σ₀²) combines by precision weighting.
func chanceToWin(rel, seRel float64, prior *Prior, higherIsBetter bool) float64 {
	mean, v := rel, seRel*seRel
	if prior != nil {
		prec := 1/prior.Variance + 1/v
		mean = (prior.Mean/prior.Variance + rel/v) / prec
		v = 1 / prec
	}
	z := mean / math.Sqrt(v)
	if !higherIsBetter {
		z = -z
	}
	return normCDF(z)
}
