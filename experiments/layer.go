package experiments

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// Layer is a hash space that experiments split between them: each takes a
// range [lo, hi), and the ranges of running experiments do not overlap, so
// a unit is in at most one experiment of the layer.
type Layer struct {
	LayerInput
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// LayerInput is what a product team may set. Salt defaults to the key.
type LayerInput struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Salt string `json:"salt"`
}

// LayerRange is an experiment's part of a layer: [Range[0], Range[1]).
type LayerRange struct {
	Key   string     `json:"key"`
	Range [2]float64 `json:"range"`
}

func (r *LayerRange) overlaps(o *LayerRange) bool {
	return r.Key == o.Key && r.Range[0] < o.Range[1] && o.Range[0] < r.Range[1]
}

func validateSalt(field, salt string) []FieldError {
	if len(salt) > maxNameLen {
		return []FieldError{{Field: field, Detail: fmt.Sprintf("must be at most %d bytes", maxNameLen)}}
	}
	if strings.ContainsRune(salt, 0) || !utf8.ValidString(salt) {
		return []FieldError{{Field: field, Detail: "must be UTF-8 text without NUL characters"}}
	}
	return nil
}

func validateKeyName(key, name string) []FieldError {
	var errs []FieldError
	if why := analysis.CheckKey(key); why != "" {
		errs = append(errs, FieldError{Field: "key", Detail: why})
	}
	if name == "" {
		errs = append(errs, FieldError{Field: "name", Detail: "is required"})
	} else if len(name) > maxNameLen {
		errs = append(errs, FieldError{Field: "name", Detail: fmt.Sprintf("must be at most %d bytes", maxNameLen)})
	}
	return errs
}

// CreateLayer validates in and stores it.
func (s *Service) CreateLayer(ctx context.Context, in LayerInput) (*Layer, error) {
	errs := append(validateKeyName(in.Key, in.Name), validateSalt("salt", in.Salt)...)
	if len(errs) > 0 {
		return nil, Invalid("invalid layer", errs)
	}
	if in.Salt == "" {
		in.Salt = "layer:" + in.Key
	}
	now := s.nowUTC()
	l := &Layer{LayerInput: in, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.SaveLayer(ctx, l, s.auditEntry(ctx, "layer.create", "layer:"+in.Key, nil, l)); err != nil {
		return nil, err
	}
	return l, s.catalog.Refresh(ctx)
}

// Layers lists every layer; Layer returns CodeNotFound for an unknown key.
func (s *Service) Layers(ctx context.Context) ([]*Layer, error) { return s.store.ListLayers(ctx) }

func (s *Service) Layer(ctx context.Context, key string) (*Layer, error) {
	return s.store.GetLayer(ctx, key)
}

// validateLayerRange checks an experiment's layer range on its own.
func validateLayerRange(r *LayerRange) []FieldError {
	if r == nil {
		return nil
	}
	var errs []FieldError
	if r.Key == "" {
		errs = append(errs, FieldError{Field: "layer.key", Detail: "is required: the layer's key"})
	}
	lo, hi := r.Range[0], r.Range[1]
	if !(lo >= 0 && lo < hi && hi <= 1) || math.IsNaN(lo) || math.IsNaN(hi) {
		errs = append(errs, FieldError{Field: "layer.range", Detail: "must be [lo, hi) with 0 ≤ lo < hi ≤ 1, e.g. [0, 0.5]"})
	}
	return errs
}

// checkLayer refuses a layer that does not exist.
func (s *Service) checkLayer(ctx context.Context, e *Experiment) error {
	if e.Layer == nil {
		return nil
	}
	if _, err := s.store.GetLayer(ctx, e.Layer.Key); ErrorCode(err) == CodeNotFound {
		return Invalid("invalid experiment", []FieldError{{Field: "layer.key", Detail: fmt.Sprintf("names no layer: %q", e.Layer.Key)}})
	} else if err != nil {
		return err
	}
	return nil
}

// LayerOverlap is the rule the store applies, in the transaction that
// makes e running, to the other running experiments of e's layer: the
// first whose range overlaps e's, or nil.
func LayerOverlap(e *Experiment, running []*Experiment) *Experiment {
	if e.Layer == nil {
		return nil
	}
	for _, o := range running {
		if o.Key != e.Key && o.Status == StatusRunning && o.Layer != nil && e.Layer.overlaps(o.Layer) {
			return o
		}
	}
	return nil
}

// OverlapError is the 409 for a range that overlaps another running
// experiment's.
func OverlapError(e, other *Experiment) error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(
		"experiment %q takes [%g, %g) of layer %q, which overlaps [%g, %g) of running experiment %q: a unit would be in both",
		e.Key, e.Layer.Range[0], e.Layer.Range[1], e.Layer.Key, other.Layer.Range[0], other.Layer.Range[1], other.Key),
		Fields: []FieldError{{Field: "layer.range", Detail: fmt.Sprintf("overlaps experiment %q", other.Key)}}}
}

// Holdout keeps a share of units out of every experiment it lists: they get
// each experiment's control and are recorded as held out, everyone else
// who reaches the experiments as exposed, so that its report measures the
// total effect of the experiments on any metric.
type Holdout struct {
	HoldoutInput
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// HoldoutInput is what a product team may set. A holdout does not change
// once created: its share and experiments decide who is held out.
type HoldoutInput struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Share       float64  `json:"share"`
	Salt        string   `json:"salt"`
	Experiments []string `json:"experiments"`
	// Metrics are what the holdout's report compares.
	Metrics []Metric `json:"metrics"`
}

// Holdout arms, as exposures record them.
const (
	HoldoutHeldOut = assign.HoldoutHeldOut
	HoldoutExposed = assign.HoldoutExposed
)

// HoldoutExperimentKey is the key under which a holdout's exposures are
// recorded and its report computed.
func HoldoutExperimentKey(holdout string) string { return "holdout:" + holdout }

const maxHoldoutShare = 0.5

// CreateHoldout validates in and stores it.
func (s *Service) CreateHoldout(ctx context.Context, in HoldoutInput) (*Holdout, error) {
	errs := append(validateKeyName(in.Key, in.Name), validateSalt("salt", in.Salt)...)
	if !(in.Share > 0 && in.Share <= maxHoldoutShare) {
		errs = append(errs, FieldError{Field: "share", Detail: fmt.Sprintf("must be greater than 0 and at most %g, e.g. 0.05", maxHoldoutShare)})
	}
	if len(in.Experiments) == 0 {
		errs = append(errs, FieldError{Field: "experiments", Detail: "at least one experiment is required"})
	}
	for i, key := range in.Experiments {
		field := fmt.Sprintf("experiments[%d]", i)
		if slices.Index(in.Experiments, key) != i {
			errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf("%q is listed twice", key)})
			continue
		}
		if _, err := s.store.GetExperiment(ctx, key); ErrorCode(err) == CodeNotFound {
			errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf("names no experiment: %q", key)})
		} else if err != nil {
			return nil, err
		}
	}
	errs = append(errs, validateMetrics(in.Metrics)...)
	if len(errs) > 0 {
		return nil, Invalid("invalid holdout", errs)
	}
	if in.Salt == "" {
		in.Salt = "holdout:" + in.Key
	}
	now := s.nowUTC()
	h := &Holdout{HoldoutInput: in, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.SaveHoldout(ctx, h, s.auditEntry(ctx, "holdout.create", "holdout:"+in.Key, nil, h)); err != nil {
		return nil, err
	}
	return h, s.catalog.Refresh(ctx)
}

// Holdouts lists every holdout; Holdout returns CodeNotFound for an unknown key.
func (s *Service) Holdouts(ctx context.Context) ([]*Holdout, error) { return s.store.ListHoldouts(ctx) }

func (s *Service) Holdout(ctx context.Context, key string) (*Holdout, error) {
	return s.store.GetHoldout(ctx, key)
}

// holdoutExperiment is the holdout as the report sees it: an experiment
// whose control is the held-out units and whose other arm is everyone else
// who reached the listed experiments, in the proportions of the share.
func (h *Holdout) experiment() *Experiment {
	started := h.CreatedAt
	return &Experiment{
		Key: HoldoutExperimentKey(h.Key), Name: h.Name, Unit: "unit", Salt: h.Salt, Traffic: 1, Status: StatusRunning,
		Variants: []assign.Variant{
			{Key: HoldoutHeldOut, Weight: h.Share, Control: true},
			{Key: HoldoutExposed, Weight: 1 - h.Share},
		},
		Targeting: []assign.Condition{}, Metrics: h.Metrics,
		Analysis:  AnalysisSettings{Sequential: new(bool)}.WithDefaults(),
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt, StartedAt: &started,
	}
}

// HoldoutReport compares the held-out units with everyone else who reached
// the holdout's experiments, on its metrics, over the whole period. Like a
// report, it answers whatever was stored.
func (s *Service) HoldoutReport(ctx context.Context, key string) (*HoldoutReportView, error) {
	h, err := s.store.GetHoldout(ctx, key)
	if err != nil {
		return nil, err
	}
	r, err := s.analyse(ctx, h.experiment(), nil, nil, false, 0)
	if err != nil {
		return nil, err
	}
	return &HoldoutReportView{Holdout: h, Report: r}, nil
}

// HoldoutReportView is a holdout with its report.
type HoldoutReportView struct {
	Holdout *Holdout         `json:"holdout"`
	Report  *analysis.Report `json:"report"`
}
