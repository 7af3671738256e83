package analysis

import "time"

// DefaultAlpha is the significance level when Input.Alpha is 0.
const DefaultAlpha = 0.05

// Interval is a confidence interval [lo, hi]. A nil *Interval marshals to
// null, which is what the report uses where an interval is undefined.
type Interval [2]float64

// Report is the analysis of one experiment. Its JSON shape only grows:
// fields are added, never renamed or removed.
type Report struct {
	Experiment string         `json:"experiment"`
	Alpha      float64        `json:"alpha"`
	SRM        SRM            `json:"srm"`
	Metrics    []MetricReport `json:"metrics"`
	// Correction is the multiple-comparison method applied to the family:
	// every comparison with a p-value plus every claim's direction test.
	Correction Correction `json:"correction"`
	FamilySize int        `json:"family_size"`
	// PowerAlpha is the level at which MDEs and units needed are computed:
	// alpha/family_size under a correction (conservative), else alpha.
	PowerAlpha float64 `json:"power_alpha"`
	// Sequential is set when always-valid inference is on.
	Sequential *SequentialInfo `json:"sequential,omitempty"`
	Claims     []ClaimResult   `json:"claims"`
	// Segments are per-segment reports of the same shape; each is corrected
	// within itself and is exploratory.
	Segments      []SegmentReport `json:"segments,omitempty"`
	Heterogeneity []Heterogeneity `json:"heterogeneity,omitempty"`
	// ComputedAt and EventsThrough say when the report was computed and
	// over which events (those with a sequence number up to EventsThrough);
	// the service that stores reports ahead sets them, null otherwise.
	ComputedAt    *time.Time `json:"computed_at,omitempty"`
	EventsThrough *int64     `json:"events_through,omitempty"`
	// Interactions are the checks against the other running experiments
	// that share units with this one (FlagInteractions); empty for an
	// experiment analysed alone.
	Interactions []InteractionCheck `json:"interactions"`
	// Warnings are facts an analyst should see, e.g. metrics that disagree
	// on the number of units per variant.
	Warnings []string `json:"warnings,omitempty"`
}

// SRM status values.
const (
	SRMOK               = "ok"
	SRMMismatch         = "mismatch"
	SRMNotEnoughTraffic = "not_enough_traffic"
)

// SRMThreshold is the p-value below which a sample-ratio mismatch is flagged.
const SRMThreshold = 0.001

// SRM is the sample-ratio-mismatch check: a chi-square goodness-of-fit test
// of the units per variant against the configured weights.
type SRM struct {
	PValue float64 `json:"p_value"`
	// OK is false only for a mismatch; "not_enough_traffic" is OK but says so
	// in Status.
	OK       bool         `json:"ok"`
	Status   string       `json:"status"`
	ChiSq    float64      `json:"chi_sq"`
	DF       int          `json:"df"`
	Variants []SRMVariant `json:"variants"`
}

// SRMVariant is one variant's observed and expected units in the SRM check.
type SRMVariant struct {
	Variant  string  `json:"variant"`
	Weight   float64 `json:"weight"` // normalised
	Observed int64   `json:"observed"`
	Expected float64 `json:"expected"`
}

// MetricReport is the analysis of one metric.
type MetricReport struct {
	Metric         string          `json:"metric"`
	Kind           Kind            `json:"kind"`
	HigherIsBetter bool            `json:"higher_is_better"`
	Variants       []VariantReport `json:"variants"`
	Comparisons    []Comparison    `json:"comparisons"`
	// NullReason says why the metric could not be analysed (its variants
	// and comparisons are then empty); the rest of the report stands.
	NullReason string `json:"null_reason,omitempty"`
	// ImmatureUnits are exposed units whose window had not closed at the
	// report's time (or the experiment's stop), left out in every arm alike.
	ImmatureUnits int64 `json:"immature_units,omitempty"`
	// UnitsWithoutValue had no outcome in the window, for an aggregation
	// (mean, min, max, first, last, peak_end) that needs one.
	UnitsWithoutValue int64 `json:"units_without_value,omitempty"`
	// FactorialEffects are set when the experiment is a factorial design:
	// main_effects, interactions, slopes and exchange_rates, computed from
	// the cells' unadjusted means (no CUPED).
	*FactorialEffects
}

// VariantReport is one variant's estimate for one metric. Mean is 0 and CI
// null when the variant has no units.
type VariantReport struct {
	Variant string    `json:"variant"`
	Units   int64     `json:"units"`
	Mean    float64   `json:"mean"`
	CI      *Interval `json:"ci"`
	// SD is the per-unit standard deviation used in the tests (√(p(1−p))
	// for binary metrics); null when undefined (mean metric with n < 2).
	SD *float64 `json:"sd"`
}

// Comparison is a non-control variant against the control on one metric.
type Comparison struct {
	Variant   string    `json:"variant"`
	Control   string    `json:"control"`
	AbsEffect float64   `json:"abs_effect"`
	AbsCI     *Interval `json:"abs_ci"`
	// RelEffect is (μT − μC)/|μC|; null with RelNullReason when undefined.
	RelEffect     *float64  `json:"rel_effect"`
	RelCI         *Interval `json:"rel_ci"`
	RelNullReason string    `json:"rel_null_reason,omitempty"`
	// PValue is two-sided; null with PNullReason when the test is undefined.
	// Under sequential testing it is the running minimum over snapshots.
	PValue      *float64 `json:"p_value"`
	PNullReason string   `json:"p_null_reason,omitempty"`
	// PAdjusted is PValue after the report's multiple-comparison correction;
	// Significant is PAdjusted < alpha.
	PAdjusted   *float64 `json:"p_adjusted"`
	Significant bool     `json:"significant"`
	// SE is the standard error of AbsEffect and DF its Welch–Satterthwaite
	// degrees of freedom (null when infinite or undefined).
	SE *float64 `json:"se"`
	DF *float64 `json:"df"`
	// PValueSnapshot is this snapshot's own sequential p-value.
	PValueSnapshot *float64 `json:"p_value_snapshot,omitempty"`
	// ChanceToWin is the posterior probability that the variant is better
	// than the control (respecting higher_is_better); null when the
	// relative effect is.
	ChanceToWin *float64 `json:"chance_to_win"`
	// MDE is the absolute effect detectable with 80% power at the current
	// sample and MDERel the same relative to |μC|.
	MDE    *float64 `json:"mde"`
	MDERel *float64 `json:"mde_rel"`
	// UnitsNeeded is, for a comparison not yet significant, how many more
	// units (all arms compared, current allocation) give 80% power to
	// detect the observed effect; null when decided or the effect is 0.
	UnitsNeeded *int64     `json:"units_needed"`
	CUPED       *CUPEDInfo `json:"cuped,omitempty"`
}
