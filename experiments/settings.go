package experiments

import (
	"fmt"
	"math"

	"github.com/revealed-ab/revealed/analysis"
)

// AnalysisSettings say how an experiment's report is computed. Every field
// has a default, so {} is valid.
type AnalysisSettings struct {
	// Alpha is the significance level; default 0.05.
	Alpha float64 `json:"alpha,omitempty"`
	// Correction is the multiple-comparison method: "holm" (default), "bh" or "none".
	Correction string `json:"correction,omitempty"`
	// Sequential turns always-valid confidence sequences on (the default),
	// so that looking at a running experiment's report any number of times
	// does not inflate false positives.
	Sequential *bool `json:"sequential,omitempty"`
	// NStar tunes the confidence sequence: the total sample at which it is
	// tightest; default 5000. Fixed once the experiment starts.
	NStar float64 `json:"n_star,omitempty"`
	// CUPEDLookbackDays is how far before a unit's first exposure its
	// outcomes count as pre-exposure values for CUPED; default 14, -1 turns
	// CUPED off for every metric.
	CUPEDLookbackDays int `json:"cuped_lookback_days,omitempty"`
	// Segments lists the exposure attributes to break the report down by.
	// When empty, every attribute with 2 to MaxSegmentValues values is used.
	Segments []string `json:"segments,omitempty"`
}

// MaxSegmentValues bounds automatic segmentation: an attribute with more
// values (an id, a free-text field) is not a segment.
const MaxSegmentValues = 20

// Defaults of AnalysisSettings.
const (
	DefaultAlpha             = analysis.DefaultAlpha
	DefaultCorrection        = "holm"
	DefaultNStar             = 5000
	DefaultCUPEDLookbackDays = 14
)

// WithDefaults returns the settings with every unset field at its default.
func (s AnalysisSettings) WithDefaults() AnalysisSettings {
	if s.Alpha == 0 {
		s.Alpha = DefaultAlpha
	}
	if s.Correction == "" {
		s.Correction = DefaultCorrection
	}
	if s.Sequential == nil {
		on := true
		s.Sequential = &on
	}
	if s.NStar == 0 {
		s.NStar = DefaultNStar
	}
	if s.CUPEDLookbackDays == 0 {
		s.CUPEDLookbackDays = DefaultCUPEDLookbackDays
	}
	if s.Segments == nil {
		s.Segments = []string{}
	}
	return s
}

func (s AnalysisSettings) validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: "analysis." + field, Detail: fmt.Sprintf(format, args...)})
	}
	if why := analysis.CheckAlpha(s.Alpha); why != "" {
		add("alpha", "%s", why)
	}
	switch s.Correction {
	case "holm", "bh", "none":
	default:
		add("correction", `must be "holm", "bh" or "none"`)
	}
	if !(s.NStar >= 10) || math.IsInf(s.NStar, 0) {
		add("n_star", "must be a finite number of units ≥ 10")
	}
	if s.CUPEDLookbackDays < -1 || s.CUPEDLookbackDays > 365 {
		add("cuped_lookback_days", "must be from 1 to 365 days, or -1 to turn CUPED off")
	}
	if len(s.Segments) > 10 {
		add("segments", "at most 10 attributes")
	}
	for i, a := range s.Segments {
		if a == "" || len(a) > maxKeyLen {
			add(fmt.Sprintf("segments[%d]", i), "must be an attribute name of 1 to %d bytes", maxKeyLen)
		}
	}
	return errs
}

// Cap limits a mean metric's per-unit value, so that a few extreme units do
// not dominate its variance. Exactly one field is set.
type Cap struct {
	// Absolute caps every unit's value at this number.
	Absolute *float64 `json:"absolute,omitempty"`
	// Percentile caps at this quantile of the pooled units' values, e.g. 0.99.
	Percentile *float64 `json:"percentile,omitempty"`
}

// Prior is a proper Gaussian prior on a metric's relative effect, for
// chance_to_win; without one the prior is flat.
type Prior struct {
	Mean     float64 `json:"mean"`
	Variance float64 `json:"variance"`
}

func validateMetricOptions(i int, m Metric, all []Metric) []FieldError {
	var errs []FieldError
	field := fmt.Sprintf("metrics[%d]", i)
	add := func(f, format string, args ...any) {
		errs = append(errs, FieldError{Field: field + "." + f, Detail: fmt.Sprintf(format, args...)})
	}
	if m.Kind == MetricRatio {
		for _, part := range []struct{ name, key string }{{"numerator", m.Numerator}, {"denominator", m.Denominator}} {
			other, ok := findMetric(all, part.key)
			switch {
			case part.key == "":
				add(part.name, "is required for a ratio metric")
			case !ok:
				add(part.name, "must name another metric of the experiment, not %q", part.key)
			case other.Kind == MetricRatio:
				add(part.name, "cannot be a ratio metric")
			case other.Window != nil || other.Aggregation != "":
				add(part.name, "cannot have a window or an aggregation: a ratio sums its parts' outcomes since exposure")
			}
		}
	} else if m.Numerator != "" || m.Denominator != "" {
		add("kind", `numerator and denominator are only for kind "ratio"`)
	}
	if m.Cap != nil {
		switch {
		case m.Kind != MetricMean:
			add("cap", "applies to mean metrics only")
		case (m.Cap.Absolute == nil) == (m.Cap.Percentile == nil):
			add("cap", `set exactly one of "absolute" and "percentile"`)
		case m.Cap.Absolute != nil && (math.IsNaN(*m.Cap.Absolute) || math.IsInf(*m.Cap.Absolute, 0)):
			add("cap.absolute", "must be a finite number")
		case m.Cap.Percentile != nil && !(*m.Cap.Percentile > 0 && *m.Cap.Percentile < 1):
			add("cap.percentile", "must be between 0 and 1, e.g. 0.99")
		}
	}
	validateWindow(m, add)
	if m.Prior != nil && (!(m.Prior.Variance > 0) || math.IsInf(m.Prior.Variance, 0) || math.IsNaN(m.Prior.Mean) || math.IsInf(m.Prior.Mean, 0)) {
		add("prior", "needs a finite mean and a finite variance > 0")
	}
	return errs
}

func findMetric(all []Metric, key string) (Metric, bool) {
	for _, m := range all {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}
