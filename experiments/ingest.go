package experiments

import (
	"context"
	"encoding/json"
	"fmt"
)

// Ingest validates a whole batch and stores it all or nothing.
func (s *Service) Ingest(ctx context.Context, events []Event) (IngestResult, error) {
	if len(events) == 0 {
		return IngestResult{}, Invalid("invalid batch", []FieldError{{Field: "events", Detail: "must hold at least one event"}})
	}
	if len(events) > MaxBatchEvents {
		return IngestResult{}, Invalid("invalid batch", []FieldError{{Field: "events", Detail: fmt.Sprintf("at most %d events per batch", MaxBatchEvents)}})
	}
	errs := s.validateBatch(events)
	if len(errs) > 0 {
		// Validated again whether or not this request reloads the catalog:
		// a concurrent request may just have reloaded it.
		if err := s.refreshForUnknown(ctx, events); err != nil {
			return IngestResult{}, err
		}
		errs = s.validateBatch(events)
	}
	if len(errs) > 0 {
		return IngestResult{}, Invalid(fmt.Sprintf("%d of %d events are invalid; nothing was stored", countIndexes(errs), len(events)), errs)
	}
	now := s.nowUTC()
	cat := s.catalog.current.Load() // questions are never removed, so those validated are here
	stored := make([]StoredEvent, len(events))
	for i := range events {
		ev := &events[i]
		se := StoredEvent{ID: ev.ID, Type: ev.Type, UnitID: ev.UnitID, Experiment: ev.Experiment, Variant: ev.Variant,
			Metric: ev.Metric, TS: now.UnixMicro(), ReceivedAt: now.UnixMicro(), Attributes: attributesJSON(ev.Attributes)}
		if se.ID == "" {
			se.ID = NewEventID(now)
		}
		if ev.Value != nil {
			se.Value = *ev.Value
		}
		if ev.TS != nil {
			se.TS = ev.TS.UnixMicro()
		}
		if ev.Type == EventResponse {
			se.Metric = ev.Question
			se.Answer, se.Value, _ = cat.questions[ev.Question].checkAnswer(ev.Answer)
		}
		stored[i] = se
	}
	return s.store.Ingest(ctx, stored)
}

func (s *Service) validateBatch(events []Event) []FieldError {
	var errs []FieldError
	cat := s.catalog.current.Load()
	for i := range events {
		for _, fe := range validateEvent(&events[i], cat) {
			idx := i
			fe.Index = &idx
			fe.Field = fmt.Sprintf("events[%d].%s", i, fe.Field)
			errs = append(errs, fe)
		}
	}
	return errs
}

// refreshForUnknown reloads the catalog when the batch names an experiment,
// metric or question this replica has not seen yet.
func (s *Service) refreshForUnknown(ctx context.Context, events []Event) error {
	for i := range events {
		ev := &events[i]
		if (ev.Experiment != "" && s.catalog.experiment(ev.Experiment) == nil) ||
			(ev.Experiment == "" && ev.Metric != "" && !s.catalog.knownMetric(ev.Metric)) ||
			(ev.Question != "" && s.catalog.question(ev.Question) == nil) {
			return s.catalog.Refresh(ctx)
		}
	}
	return nil
}

func countIndexes(errs []FieldError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		if e.Index != nil {
			seen[*e.Index] = true
		}
	}
	return len(seen)
}

func attributesJSON(attrs map[string]any) string {
	if len(attrs) == 0 {
		return "{}"
	}
	b, err := json.Marshal(attrs)
	if err != nil { // validated attributes are plain scalars
		return "{}"
	}
	return string(b)
}
