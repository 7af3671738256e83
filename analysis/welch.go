package analysis

import "math"

// Reasons a value is null in the report.
const (
	reasonFewUnits     = "fewer than 2 units in an arm"
	reasonZeroVariance = "both variances are 0"
	reasonControlZero  = "control mean is 0"
)

// welch compares treatment t with control c: Welch's t-test with the
// Welch–Satterthwaite df (R's t.test(var.equal = FALSE)), and the relative
// effect (μT − μC)/|μC| with delta-method variance (gbstats).
func welch(c, t estimate, alpha float64) Comparison {
	var out Comparison
	if c.n < 2 || t.n < 2 || !c.vOK || !t.vOK {
		out.PNullReason, out.RelNullReason = reasonFewUnits, reasonFewUnits
		if c.n > 0 && t.n > 0 {
			out.AbsEffect = t.mean - c.mean
		}
		return out
	}
	d := t.mean - c.mean
	out.AbsEffect = d
	vt, vc := t.v/t.n, c.v/c.n
	se2 := vt + vc
	if se2 == 0 {
		out.PNullReason, out.RelNullReason = reasonZeroVariance, reasonZeroVariance
		return out
	}
	se := math.Sqrt(se2)
	// With one variance 0 this is exactly the other arm's n − 1.
	df := se2 * se2 / (vt*vt/(t.n-1) + vc*vc/(c.n-1))
	out.SE = ptr(se)
	if !math.IsInf(df, 1) {
		out.DF = ptr(df)
	}
	out.PValue = ptr(tTwoSided(d/se, df))
	q := tQuantile(1-alpha/2, df)
	out.AbsCI = &Interval{d - q*se, d + q*se}

	if c.mean == 0 {
		out.RelNullReason = reasonControlZero
		return out
	}
	mc := math.Abs(c.mean)
	rel := d / mc
	seRel := math.Sqrt(vt/(mc*mc) + vc*t.mean*t.mean/(mc*mc*mc*mc))
	out.RelEffect = &rel
	out.RelCI = &Interval{rel - q*seRel, rel + q*seRel}
	return out
}
