package experiments

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// Status is where an experiment is in its life: draft → running → stopped.
type Status string

const (
	StatusDraft   Status = "draft"
	StatusRunning Status = "running"
	StatusStopped Status = "stopped"
)

// MetricKind says how a unit's value of a metric is formed from its outcomes.
type MetricKind string

const (
	// MetricBinary is 1 for a unit with at least one outcome value > 0, else 0.
	MetricBinary MetricKind = "binary"
	// MetricMean is the sum of a unit's outcome values, 0 when it has none.
	MetricMean MetricKind = "mean"
	// MetricRatio divides one metric's sum by another's over the units of a
	// variant, e.g. CSAT points per rating; its variance is by the delta method.
	MetricRatio MetricKind = "ratio"
)

// Metric is an outcome an experiment is judged on.
type Metric struct {
	Key            string     `json:"key"`
	Kind           MetricKind `json:"kind"`
	HigherIsBetter bool       `json:"higher_is_better"`
	// Numerator and Denominator name the metrics a ratio divides.
	Numerator   string `json:"numerator,omitempty"`
	Denominator string `json:"denominator,omitempty"`
	Cap         *Cap   `json:"cap,omitempty"`
	// CUPED adjusts the metric with its pre-exposure values; default on for
	// binary and mean metrics (when the experiment's lookback is not -1).
	CUPED *bool  `json:"cuped,omitempty"`
	Prior *Prior `json:"prior,omitempty"`
	// Source is the event metric this metric reads (default: its key), so
	// that one stream of outcomes feeds metrics with different windows.
	Source string `json:"source,omitempty"`
	// Window counts only outcomes in [first exposure + from, + to).
	Window *Window `json:"window,omitempty"`
	// Aggregation forms a unit's value from its outcomes (AggregationOrDefault).
	Aggregation Aggregation `json:"aggregation,omitempty"`
	// Peak is "max" (default) or "min": the most intense value, for peak_end.
	Peak string `json:"peak,omitempty"`
}

// UsesCUPED reports whether the metric is CUPED-adjusted under settings s.
func (m Metric) UsesCUPED(s AnalysisSettings) bool {
	if m.Kind == MetricRatio || s.WithDefaults().CUPEDLookbackDays < 0 {
		return false
	}
	return m.CUPED == nil || *m.CUPED
}

// Experiment is a randomised comparison of service treatments.
type Experiment struct {
	Key        string           `json:"key"`
	Name       string           `json:"name"`
	Hypothesis string           `json:"hypothesis"`
	Unit       string           `json:"unit"`
	Variants   []assign.Variant `json:"variants"`
	// Factors, when set, make the experiment a full factorial: its
	// variants are the cells, each carrying its levels.
	Factors []Factor `json:"factors,omitempty"`
	// Layer, when set, admits only the units whose layer point falls in
	// the experiment's range of the layer.
	Layer     *LayerRange        `json:"layer,omitempty"`
	Traffic   float64            `json:"traffic"`
	Targeting []assign.Condition `json:"targeting"`
	Metrics   []Metric           `json:"metrics"`
	Analysis  AnalysisSettings   `json:"analysis"`
	Salt      string             `json:"salt"`
	Status    Status             `json:"status"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	StartedAt *time.Time         `json:"started_at"`
	StoppedAt *time.Time         `json:"stopped_at"`
	// Version counts the stored changes; it tells replicas that their cached
	// definitions are stale.
	Version int64 `json:"version"`
}

// ExperimentInput is what a product team may set. Pointers distinguish
// "absent, use the default" from a zero value that validation must refuse.
type ExperimentInput struct {
	Key        string           `json:"key"`
	Name       string           `json:"name"`
	Hypothesis string           `json:"hypothesis"`
	Unit       string           `json:"unit"`
	Variants   []assign.Variant `json:"variants"`
	// Factors declare a factorial experiment instead of variants (which
	// may then list the cells only to give their weights or names).
	Factors   []Factor           `json:"factors"`
	Layer     *LayerRange        `json:"layer"`
	Traffic   *float64           `json:"traffic"`
	Targeting []assign.Condition `json:"targeting"`
	Metrics   []Metric           `json:"metrics"`
	Analysis  *AnalysisSettings  `json:"analysis"`
	Salt      string             `json:"salt"`
}

const (
	maxKeyLen     = analysis.MaxKeyLen
	maxNameLen    = 200
	maxTextLen    = analysis.MaxTextLen
	maxMetrics    = 20
	maxConditions = 20
)

// ValidSlug reports whether s may be used as a key: lower-case letters,
// digits, '-' and '_', not starting or ending with a separator.
func ValidSlug(s string) bool { return analysis.ValidKey(s) }

// Definition is the part of the experiment that assignment reads.
func (e *Experiment) Definition() assign.Definition {
	return assign.Definition{
		Key:       e.Key,
		Salt:      e.Salt,
		Status:    string(e.Status),
		Traffic:   e.Traffic,
		Variants:  e.Variants,
		Targeting: e.Targeting,
	}
}

// Control returns the control variant's key.
func (e *Experiment) Control() string {
	for _, v := range e.Variants {
		if v.Control {
			return v.Key
		}
	}
	return ""
}

// HasVariant reports whether key names one of the experiment's variants.
func (e *Experiment) HasVariant(key string) bool {
	for _, v := range e.Variants {
		if v.Key == key {
			return true
		}
	}
	return false
}

// ReadsMetric reports whether one of the experiment's metrics reads outcome
// events named metric: its source, or its key when it has none.
func (e *Experiment) ReadsMetric(metric string) bool {
	for _, m := range e.Metrics {
		if m.Kind != MetricRatio && m.SourceKey() == metric {
			return true
		}
	}
	return false
}

// Metric returns the experiment's metric with the given key.
func (e *Experiment) Metric(key string) (Metric, bool) {
	for _, m := range e.Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// build validates in and returns the experiment it describes, with defaults
// applied and weights normalised to sum to 1.
func (in *ExperimentInput) build() (*Experiment, error) {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if why := analysis.CheckKey(in.Key); why != "" {
		add("key", "%s", why)
	}
	if in.Name == "" {
		add("name", "is required")
	} else if len(in.Name) > maxNameLen {
		add("name", "must be at most %d bytes", maxNameLen)
	}
	if len(in.Hypothesis) > maxTextLen {
		add("hypothesis", "must be at most %d bytes", maxTextLen)
	}
	if in.Unit == "" {
		add("unit", "is required, e.g. \"customer_id\"")
	} else if len(in.Unit) > maxKeyLen {
		add("unit", "must be at most %d bytes", maxKeyLen)
	}
	if len(in.Salt) > maxNameLen {
		add("salt", "must be at most %d bytes", maxNameLen)
	} else if strings.ContainsRune(in.Salt, 0) || !utf8.ValidString(in.Salt) {
		// The hash separates salt from unit id with a NUL byte.
		add("salt", "must be UTF-8 text without NUL characters")
	}
	for i, v := range in.Variants {
		if len(v.Name) > maxNameLen {
			add(fmt.Sprintf("variants[%d].name", i), "must be at most %d bytes", maxNameLen)
		}
		if v.Factors != nil {
			add(fmt.Sprintf("variants[%d].factors", i), "are set from the experiment's factors, not given")
		}
	}
	variants := in.Variants
	if len(in.Factors) > 0 {
		cells, ferrs := FactorialVariants(in.Factors, in.Variants)
		errs = append(errs, ferrs...)
		if cells != nil {
			variants = cells
		}
	} else if len(in.Variants) > maxPlainVariants {
		add("variants", "must have at most %d variants; a factorial experiment (factors) may have up to %d cells", maxPlainVariants, analysis.MaxFactorialCells)
	}
	errs = append(errs, validateLayerRange(in.Layer)...)
	if len(in.Targeting) > maxConditions {
		add("targeting", "must have at most %d conditions", maxConditions)
	}
	errs = append(errs, validateMetrics(in.Metrics)...)
	settings := AnalysisSettings{}
	if in.Analysis != nil {
		settings = *in.Analysis
	}
	settings = settings.WithDefaults()
	errs = append(errs, settings.validate()...)

	traffic := 1.0
	if in.Traffic != nil {
		traffic = *in.Traffic
	}
	salt := in.Salt
	if salt == "" {
		salt = in.Key
	}
	e := &Experiment{
		Key:        in.Key,
		Name:       in.Name,
		Hypothesis: in.Hypothesis,
		Unit:       in.Unit,
		Variants:   normalise(variants),
		Factors:    in.Factors,
		Layer:      in.Layer,
		Traffic:    traffic,
		Targeting:  in.Targeting,
		Metrics:    in.Metrics,
		Analysis:   settings,
		Salt:       salt,
		Status:     StatusDraft,
	}
	if e.Targeting == nil {
		e.Targeting = []assign.Condition{}
	}
	def := e.Definition()
	def.Key = "-" // the key was checked above with its own message
	def.Variants = variants
	for _, fe := range def.Validate() {
		errs = append(errs, FieldError{Field: fe.Field, Detail: fe.Detail})
	}
	if len(errs) > 0 {
		return nil, Invalid("invalid experiment", errs)
	}
	return e, nil
}

// ValidateMetrics checks an experiment's metrics as the API does, naming
// each problem "metrics[i].field"; the CLI reads metric definitions by the
// same rules.
func ValidateMetrics(metrics []Metric) []FieldError { return validateMetrics(metrics) }

func validateMetrics(metrics []Metric) []FieldError {
	var errs []FieldError
	if len(metrics) == 0 {
		return []FieldError{{Field: "metrics", Detail: "at least one metric is required"}}
	}
	if len(metrics) > maxMetrics {
		return []FieldError{{Field: "metrics", Detail: fmt.Sprintf("at most %d metrics", maxMetrics)}}
	}
	seen := map[string]bool{}
	for i, m := range metrics {
		field := fmt.Sprintf("metrics[%d]", i)
		switch {
		case m.Key == "":
			errs = append(errs, FieldError{Field: field + ".key", Detail: "is required"})
		case !ValidSlug(m.Key):
			errs = append(errs, FieldError{Field: field + ".key", Detail: "must be a slug: lower-case letters, digits, '-' and '_'"})
		case seen[m.Key]:
			errs = append(errs, FieldError{Field: field + ".key", Detail: fmt.Sprintf("duplicate metric %q", m.Key)})
		}
		seen[m.Key] = true
		if m.Kind != MetricBinary && m.Kind != MetricMean && m.Kind != MetricRatio {
			errs = append(errs, FieldError{Field: field + ".kind", Detail: `must be "binary", "mean" or "ratio"`})
		}
		errs = append(errs, validateMetricOptions(i, m, metrics)...)
	}
	return errs
}

// normalise scales valid weights to sum to 1; invalid ones are left for
// validation to report.
func normalise(variants []assign.Variant) []assign.Variant {
	out := make([]assign.Variant, len(variants))
	copy(out, variants)
	total := 0.0
	for _, v := range variants {
		if !(v.Weight > 0) || math.IsInf(v.Weight, 0) {
			return out
		}
		total += v.Weight
	}
	if total > 0 && !math.IsInf(total, 0) {
		for i := range out {
			out[i].Weight /= total
		}
	}
	return out
}

// lockedFields are the parts of an experiment fixed once it has started,
// named as in its JSON, each with why. Changing who is in the experiment,
// or which variant they get, silently re-buckets customers and corrupts the
// comparison; the service refuses such a change and the editor shows the
// fields as locked, both from this one list.
var lockedFields = []struct {
	field, why string
	same       func(a, b *Experiment) bool
}{
	{"factors", "factors and levels cannot change once an experiment has started: its cells are its variants",
		func(a, b *Experiment) bool { return sameFactors(a.Factors, b.Factors) }},
	{"variants", "variants and weights cannot change once an experiment has started: customers would be re-bucketed",
		func(a, b *Experiment) bool { return sameVariants(a.Variants, b.Variants) }},
	{"layer", "the layer and its range cannot change once an experiment has started: customers would enter or leave mid-experiment",
		func(a, b *Experiment) bool {
			return (a.Layer == nil) == (b.Layer == nil) && (a.Layer == nil || *a.Layer == *b.Layer)
		}},
	{"salt", "the salt cannot change once an experiment has started: every customer would be re-bucketed",
		func(a, b *Experiment) bool { return a.Salt == b.Salt }},
	{"traffic", "traffic cannot change once an experiment has started: customers would enter or leave mid-experiment",
		func(a, b *Experiment) bool { return a.Traffic == b.Traffic }},
	{"unit", "the randomisation unit cannot change once an experiment has started",
		func(a, b *Experiment) bool { return a.Unit == b.Unit }},
	{"analysis.sequential", "the sequential-testing settings are fixed once an experiment has started: changing them after peeking would void the always-valid guarantee",
		func(a, b *Experiment) bool { return *a.Analysis.Sequential == *b.Analysis.Sequential }},
	{"analysis.n_star", "the sequential-testing settings are fixed once an experiment has started: changing them after peeking would void the always-valid guarantee",
		func(a, b *Experiment) bool { return a.Analysis.NStar == b.Analysis.NStar }},
}

// Locked reports whether field (as named in the JSON, e.g. "salt" or
// "analysis.n_star") can no longer change because the experiment started.
func (e *Experiment) Locked(field string) bool {
	if e.Status == StatusDraft {
		return false
	}
	for _, l := range lockedFields {
		if l.field == field {
			return true
		}
	}
	return false
}

// lockedChange explains why next may not replace e, or returns "" when the
// change is allowed.
func lockedChange(e, next *Experiment) string {
	if e.Status == StatusDraft {
		return ""
	}
	for _, l := range lockedFields {
		if !l.same(e, next) {
			return l.why
		}
	}
	return ""
}

func sameVariants(a, b []assign.Variant) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Control != b[i].Control || math.Abs(a[i].Weight-b[i].Weight) > 1e-12 {
			return false
		}
	}
	return true
}
