package assign

import "math"

// Version is the assignment algorithm described in the package comment.
const Version = "v1"

// Experiment statuses. Only a running experiment assigns units.
const (
	StatusDraft   = "draft"
	StatusRunning = "running"
	StatusStopped = "stopped"
)

// Variant is one arm of an experiment. Weight is relative: the weights of a
// definition's variants need not sum to 1.
type Variant struct {
	Key string `json:"key"`
	// Name is for people; assignment ignores it.
	Name    string  `json:"name,omitempty"`
	Weight  float64 `json:"weight"`
	Control bool    `json:"control"`
	// Factors are the variant's level of each factor, e.g. {"agent":
	// "human", "wait_minutes": 10}, when the experiment is a factorial
	// design whose cells are its variants. Assignment ignores them.
	Factors map[string]any `json:"factors,omitempty"`
}

// Definition is what assignment needs to know about one experiment. It is
// also the element of the SDK definitions payload.
type Definition struct {
	Key    string `json:"key"`
	Salt   string `json:"salt"`
	Status string `json:"status"`
	// Traffic is the share of targeted units that enter, in (0, 1].
	Traffic   float64     `json:"traffic"`
	Variants  []Variant   `json:"variants"`
	Targeting []Condition `json:"targeting,omitempty"`
	// Holdouts keep a share of units out of the experiment: a held-out
	// unit gets the control (step 4 of Assign).
	Holdouts []Holdout `json:"holdouts,omitempty"`
	// Layer, when set, admits a unit only if its layer point falls in the
	// experiment's range of the layer (step 5 of Assign), so that the
	// experiments of one layer, whose ranges do not overlap, share no unit.
	Layer *Layer `json:"layer,omitempty"`
}

// Layer is an experiment's range [Lo, Hi) of a layer's hash space.
type Layer struct {
	Key  string  `json:"key"`
	Salt string  `json:"salt"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
}

// Holdout is a share of all units kept out of every experiment it lists.
type Holdout struct {
	Key   string  `json:"key"`
	Salt  string  `json:"salt"`
	Share float64 `json:"share"`
}

// Held reports whether unitID is in the holdout: Point(Salt, "holdout",
// unitID) < Share.
func (h *Holdout) Held(unitID string) bool {
	return Point(h.Salt, purposeHoldout, unitID) < h.Share
}

// Arms of a holdout, as its exposures record them.
const (
	HoldoutHeldOut = "held_out"
	HoldoutExposed = "exposed"
)

// HoldoutArms calls record for each holdout of d that r puts the unit in:
// its holdout's HoldoutHeldOut for a held-out unit, and HoldoutExposed in
// every holdout of d for a unit that passed targeting and was not held out
// (whether or not it then entered the experiment), so that a holdout
// compares like with like. It does not allocate.
func (d *Definition) HoldoutArms(r Result, record func(holdout, arm string)) {
	switch r.Reason {
	case ReasonHeldOut:
		record(r.Holdout, HoldoutHeldOut)
	case ReasonAssigned, ReasonOutsideLayer, ReasonOutsideTraffic:
		for i := range d.Holdouts {
			record(d.Holdouts[i].Key, HoldoutExposed)
		}
	}
}

// Admits reports whether unitID falls in the layer range: Lo ≤
// Point(Salt, "layer", unitID) < Hi.
func (l *Layer) Admits(unitID string) bool {
	p := Point(l.Salt, purposeLayer, unitID)
	return l.Lo <= p && p < l.Hi
}

// VariantFactors returns the factor levels of the variant with the given
// key (nil when the experiment is not factorial or has no such variant), so
// that the server and the SDK report a unit's cell the same way.
func (d *Definition) VariantFactors(key string) map[string]any {
	if d == nil {
		return nil
	}
	for i := range d.Variants {
		if d.Variants[i].Key == key {
			return d.Variants[i].Factors
		}
	}
	return nil
}

// Reason says why a unit got the variant it got.
type Reason string

const (
	ReasonAssigned       Reason = "assigned"
	ReasonNotRunning     Reason = "not_running"
	ReasonNotTargeted    Reason = "not_targeted"
	ReasonOutsideTraffic Reason = "outside_traffic"
	// ReasonHeldOut: the unit is in one of the experiment's holdouts.
	ReasonHeldOut Reason = "held_out"
	// ReasonOutsideLayer: the unit's layer point is outside the
	// experiment's range of its layer (it may be in another experiment of
	// the layer).
	ReasonOutsideLayer Reason = "outside_layer"
	// ReasonInvalidDefinition means the definition cannot assign anyone (for
	// example it has no control); the variant is the first one, if any.
	ReasonInvalidDefinition Reason = "invalid_definition"
)

// Result is the outcome of Assign. Variant is what the caller should show;
// InExperiment says whether the unit counts in the analysis, and is true
// exactly when Reason is ReasonAssigned. Holdout names the holdout of a
// held-out unit.
type Result struct {
	Variant      string
	InExperiment bool
	Reason       Reason
	Holdout      string
}

// The purposes must have equal length: assignPoints hashes them side by side.
const (
	purposeTraffic = "traffic"
	purposeVariant = "variant"
	purposeLayer   = "layer"
	purposeHoldout = "holdout"
)

var _ [len(purposeTraffic) - len(purposeVariant)]struct{}
var _ [len(purposeVariant) - len(purposeTraffic)]struct{}

// Assign decides the variant of unitID in d given the request attributes.
// It never panics and does not allocate.
func Assign(d *Definition, unitID string, attrs map[string]any) Result {
	control, total, ok := assignable(d)
	if !ok {
		r := Result{Reason: ReasonInvalidDefinition}
		if d != nil && len(d.Variants) > 0 {
			r.Variant = d.Variants[0].Key
		}
		return r
	}
	controlKey := d.Variants[control].Key
	if d.Status != StatusRunning {
		return Result{Variant: controlKey, Reason: ReasonNotRunning}
	}
	if !Matches(d.Targeting, attrs) {
		return Result{Variant: controlKey, Reason: ReasonNotTargeted}
	}
	for i := range d.Holdouts {
		if d.Holdouts[i].Held(unitID) {
			return Result{Variant: controlKey, Reason: ReasonHeldOut, Holdout: d.Holdouts[i].Key}
		}
	}
	if d.Layer != nil && !d.Layer.Admits(unitID) {
		return Result{Variant: controlKey, Reason: ReasonOutsideLayer}
	}
	traffic, variant := assignPoints(d.Salt, unitID)
	if !(traffic < d.Traffic) {
		return Result{Variant: controlKey, Reason: ReasonOutsideTraffic}
	}
	return Result{
		Variant:      d.Variants[pickVariant(d.Variants, total, variant)].Key,
		InExperiment: true,
		Reason:       ReasonAssigned,
	}
}

// assignable returns the index of the control and the sum of the weights, or
// ok false if assignment is not well defined for d.
func assignable(d *Definition) (control int, total float64, ok bool) {
	if d == nil || len(d.Variants) == 0 || !(d.Traffic > 0 && d.Traffic <= 1) {
		return 0, 0, false
	}
	control = -1
	for i := range d.Variants {
		v := &d.Variants[i]
		if !(v.Weight > 0) || math.IsInf(v.Weight, 1) {
			return 0, 0, false
		}
		total += v.Weight
		if v.Control {
			if control >= 0 {
				return 0, 0, false
			}
			control = i
		}
	}
	if control < 0 || math.IsInf(total, 1) {
		return 0, 0, false
	}
	return control, total, true
}

func pickVariant(variants []Variant, total, point float64) int {
	last := len(variants) - 1
	cumulative := 0.0
	for i := range last {
		cumulative += variants[i].Weight
		if point < cumulative/total {
			return i
		}
	}
	return last
}

// Point hashes (seed, purpose, unitID) to a point in [0, 1) as described in
// the package comment. It is exported for test vectors and for callers that
// need a stable per-unit number of their own (with their own purpose).
func Point(seed, purpose, unitID string) float64 {
	return toUnitInterval(hash64(seed, purpose, unitID))
}

// hash64 is Point before the conversion to [0, 1): steps 1 and 2.
func hash64(seed, purpose, unitID string) uint64 {
	h := fnv1aByte(fnv1a(fnvOffset64, seed), 0)
	h = fnv1aByte(fnv1a(h, purpose), 0)
	return fmix64(fnv1a(h, unitID))
}

// assignPoints returns Point(salt, "traffic", unitID) and
// Point(salt, "variant", unitID), hashing the salt once and the two
// remaining byte streams side by side, which keeps Assign within one hash's
// latency.
func assignPoints(salt, unitID string) (traffic, variant float64) {
	h := fnv1aByte(fnv1a(fnvOffset64, salt), 0)
	t, v := h, h
	for i := 0; i < len(purposeTraffic); i++ {
		t = (t ^ uint64(purposeTraffic[i])) * fnvPrime64
		v = (v ^ uint64(purposeVariant[i])) * fnvPrime64
	}
	t, v = t*fnvPrime64, v*fnvPrime64 // the 0x00 separator: xor with 0 is a no-op
	for i := 0; i < len(unitID); i++ {
		b := uint64(unitID[i])
		t = (t ^ b) * fnvPrime64
		v = (v ^ b) * fnvPrime64
	}
	return toUnitInterval(fmix64(t)), toUnitInterval(fmix64(v))
}

const (
	fnvOffset64 = 0xcbf29ce484222325
	fnvPrime64  = 0x100000001b3
)

func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime64
	}
	return h
}

func fnv1aByte(h uint64, b byte) uint64 {
	return (h ^ uint64(b)) * fnvPrime64
}

func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func toUnitInterval(h uint64) float64 {
	return float64(h>>11) * 0x1p-53
}
