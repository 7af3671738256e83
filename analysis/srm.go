package analysis

import "fmt"

// srmMinExpected is Cochran's rule for the chi-square approximation: below 5
// expected units in any arm the status is "not_enough_traffic".
const srmMinExpected = 5

// srm runs the chi-square goodness-of-fit test of the units per variant
// against the configured weights (R's chisq.test(x, p = weights)). Units come
// from Input.Assigned when given, else from the first metric's arms.
func (a *reportBuilder) srm(warnings *[]string) SRM {
	units := map[string]int64{}
	switch {
	case len(a.in.Assigned) > 0:
		for _, u := range a.in.Assigned {
			units[u.Variant] = u.Units
		}
	case len(a.in.Metrics) > 0:
		for _, arm := range a.in.Metrics[0].Arms {
			units[arm.Variant] = arm.Stats.Units
		}
		for _, m := range a.in.Metrics[1:] {
			for _, arm := range a.arms(m) {
				if arm.Stats.Units != units[arm.Variant] {
					*warnings = append(*warnings, fmt.Sprintf(
						"metrics disagree on units per variant (%s: %d in %s, %d in %s); the SRM check uses %s",
						arm.Variant, units[arm.Variant], a.in.Metrics[0].Metric,
						arm.Stats.Units, m.Metric, a.in.Metrics[0].Metric))
					break
				}
			}
		}
	}
	var total int64
	for _, v := range a.in.Variants {
		total += units[v.Key]
	}
	s := SRM{PValue: 1, OK: true, Status: SRMOK, DF: len(a.in.Variants) - 1, Variants: []SRMVariant{}}
	enough := total > 0
	for _, v := range a.in.Variants {
		w := a.weights[v.Key]
		sv := SRMVariant{Variant: v.Key, Weight: w, Observed: units[v.Key], Expected: w * float64(total)}
		s.Variants = append(s.Variants, sv)
		if sv.Expected < srmMinExpected {
			enough = false
		}
		if total > 0 {
			d := float64(sv.Observed) - sv.Expected
			s.ChiSq += d * d / sv.Expected
		}
	}
	if total > 0 {
		s.PValue = chiSqSurvival(s.ChiSq, float64(s.DF))
	}
	switch {
	case !enough:
		s.Status = SRMNotEnoughTraffic
	case s.PValue < SRMThreshold:
		s.Status, s.OK = SRMMismatch, false
	}
	return s
}
