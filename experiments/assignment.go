package experiments

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/revealed-ab/revealed/experiments/assign"
)

// AssignRequest asks which variant a unit gets.
type AssignRequest struct {
	Experiment string         `json:"experiment"`
	UnitID     string         `json:"unit_id"`
	Attributes map[string]any `json:"attributes"`
}

// Assignment is the answer to an AssignRequest.
type Assignment struct {
	Experiment   string `json:"experiment"`
	UnitID       string `json:"unit_id"`
	Variant      string `json:"variant"`
	InExperiment bool   `json:"in_experiment"`
	Reason       string `json:"reason"`
	// Factors are the variant's factor levels, for a factorial experiment.
	Factors map[string]any `json:"factors,omitempty"`
}

// Assign decides the unit's variant with the shared pure function and, when
// the unit is in the experiment, durably records its first exposure.
func (s *Service) Assign(ctx context.Context, req AssignRequest) (Assignment, error) {
	var errs []FieldError
	switch {
	case req.UnitID == "":
		errs = append(errs, FieldError{Field: "unit_id", Detail: "is required"})
	case len(req.UnitID) > maxUnitIDLen:
		errs = append(errs, FieldError{Field: "unit_id", Detail: fmt.Sprintf("must be at most %d bytes", maxUnitIDLen)})
	case !utf8.ValidString(req.UnitID):
		errs = append(errs, FieldError{Field: "unit_id", Detail: "must be valid UTF-8"})
	}
	if req.Experiment == "" {
		errs = append(errs, FieldError{Field: "experiment", Detail: "is required"})
	}
	errs = append(errs, validateAttributes(req.Attributes)...)
	if len(errs) > 0 {
		return Assignment{}, Invalid("invalid assignment request", errs)
	}
	def, err := s.lookupDefinition(ctx, req.Experiment)
	if err != nil {
		return Assignment{}, err
	}
	r := assign.Assign(def, req.UnitID, req.Attributes)
	out := Assignment{Experiment: req.Experiment, UnitID: req.UnitID, Variant: r.Variant, InExperiment: r.InExperiment, Reason: string(r.Reason),
		Factors: def.VariantFactors(r.Variant)}
	now := s.nowUTC()
	var evs []StoredEvent
	exposure := func(experiment, variant string) {
		if s.exposed.contains(experiment, req.UnitID) {
			return
		}
		evs = append(evs, StoredEvent{
			Type: EventExposure, UnitID: req.UnitID, Experiment: experiment,
			Variant: variant, TS: now.UnixMicro(), ReceivedAt: now.UnixMicro(), Attributes: attributesJSON(req.Attributes),
		})
	}
	if r.InExperiment {
		exposure(req.Experiment, r.Variant)
	}
	def.HoldoutArms(r, func(holdout, arm string) { exposure(HoldoutExperimentKey(holdout), arm) })
	if len(evs) == 0 {
		return out, nil
	}
	if err := s.store.RecordExposures(ctx, evs); err != nil {
		return Assignment{}, err
	}
	for _, ev := range evs {
		s.exposed.add(ev.Experiment, req.UnitID)
	}
	return out, nil
}

// lookupDefinition falls back to the store once, so that an experiment just
// created on another replica is found before the next catalog refresh.
func (s *Service) lookupDefinition(ctx context.Context, key string) (*assign.Definition, error) {
	if d := s.catalog.definition(key); d != nil {
		return d, nil
	}
	if err := s.catalog.Refresh(ctx); err != nil {
		return nil, err
	}
	if d := s.catalog.definition(key); d != nil {
		return d, nil
	}
	return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("unknown experiment %q", key),
		Fields: []FieldError{{Field: "experiment", Detail: fmt.Sprintf("no experiment %q", key)}}}
}
