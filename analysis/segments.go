package analysis

import "math"

// SegmentReport is the report of one segment: the same shape as the whole
// experiment's, with the segment named.
type SegmentReport struct {
	Attribute string `json:"attribute"`
	Value     string `json:"value"`
	*Report
}

// Heterogeneity tests whether one comparison's absolute effect differs
// between the segments of one attribute: the z-test of the difference for
// two segments, Cochran's Q for more. It is not in the family.
type Heterogeneity struct {
	Attribute string   `json:"attribute"`
	Metric    string   `json:"metric"`
	Variant   string   `json:"variant"`
	Segments  []string `json:"segments"`
	Method    string   `json:"method"` // "z" or "cochran_q"
	// Statistic is z (two segments) or Q; DF is Q's k − 1.
	Statistic float64 `json:"statistic"`
	DF        int     `json:"df,omitempty"`
	PValue    float64 `json:"p_value"`
	// I2 is Higgins' I² = max(0, (Q − df)/Q), for Cochran's Q.
	I2 *float64 `json:"i2,omitempty"`
}

func (a *reportBuilder) segments(r *Report) ([]SegmentReport, []Heterogeneity) {
	var out []SegmentReport
	var attrs []string
	byAttr := map[string][]int{}
	for _, s := range a.in.Segments {
		sub := *a
		sub.segment, sub.warnings, sub.badClaims = s.Attribute+"="+s.Value, nil, nil
		sub.in = Input{
			Experiment: a.in.Experiment,
			Alpha:      a.in.Alpha,
			Variants:   a.in.Variants,
			Metrics:    s.Metrics,
			Correction: a.in.Correction,
			Sequential: a.in.Sequential,
		}
		if _, ok := byAttr[s.Attribute]; !ok {
			attrs = append(attrs, s.Attribute)
		}
		byAttr[s.Attribute] = append(byAttr[s.Attribute], len(out))
		out = append(out, SegmentReport{Attribute: s.Attribute, Value: s.Value, Report: sub.run()})
	}
	var het []Heterogeneity
	for _, attr := range attrs {
		for _, m := range r.Metrics {
			for _, c := range m.Comparisons {
				if h, ok := heterogeneity(attr, m.Metric, c.Variant, out, byAttr[attr]); ok {
					het = append(het, h)
				}
			}
		}
	}
	return out, het
}

func heterogeneity(attr, metric, variant string, segs []SegmentReport, idx []int) (Heterogeneity, bool) {
	h := Heterogeneity{Attribute: attr, Metric: metric, Variant: variant, Segments: []string{}}
	var d, w []float64
	for _, i := range idx {
		for _, m := range segs[i].Metrics {
			if m.Metric != metric {
				continue
			}
			for _, c := range m.Comparisons {
				if c.Variant == variant && c.SE != nil && finite(1/(*c.SE**c.SE)) {
					h.Segments = append(h.Segments, segs[i].Value)
					d = append(d, c.AbsEffect)
					w = append(w, 1/(*c.SE**c.SE))
				}
			}
		}
	}
	switch k := len(d); {
	case k < 2:
		return h, false
	case k == 2:
		h.Method = "z"
		h.Statistic = (d[0] - d[1]) / math.Sqrt(1/w[0]+1/w[1])
		h.PValue = math.Min(1, 2*normCDF(-math.Abs(h.Statistic)))
	default:
		h.Method = "cochran_q"
		var sw, swd float64
		for i := range d {
			sw += w[i]
			swd += w[i] * d[i]
		}
		mean := swd / sw
		for i := range d {
			h.Statistic += w[i] * (d[i] - mean) * (d[i] - mean)
		}
		h.DF = k - 1
		h.PValue = chiSqSurvival(h.Statistic, float64(h.DF))
		i2 := 0.0
		if h.Statistic > 0 {
			i2 = math.Max(0, (h.Statistic-float64(h.DF))/h.Statistic)
		}
		h.I2 = num(i2)
	}
	return h, finite(h.Statistic) && finite(h.PValue)
}
