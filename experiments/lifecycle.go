package experiments

import (
	"context"
	"fmt"
	"strings"
)

// CreateExperiment validates in and stores it as a draft.
func (s *Service) CreateExperiment(ctx context.Context, in ExperimentInput) (*Experiment, error) {
	e, err := in.build()
	if err != nil {
		return nil, err
	}
	if err := s.checkAnswerSegments(ctx, e); err != nil {
		return nil, err
	}
	if err := s.checkLayer(ctx, e); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	e.CreatedAt, e.UpdatedAt, e.Version = now, now, 1
	if err := s.store.CreateExperiment(ctx, e, s.auditEntry(ctx, "experiment.create", "experiment:"+e.Key, nil, e)); err != nil {
		return nil, err
	}
	return e, s.catalog.Refresh(ctx)
}

// GetExperiment returns CodeNotFound for an unknown key.
func (s *Service) GetExperiment(ctx context.Context, key string) (*Experiment, error) {
	return s.store.GetExperiment(ctx, key)
}

// ListExperiments returns every experiment, optionally of one status.
func (s *Service) ListExperiments(ctx context.Context, status Status) ([]*Experiment, error) {
	switch status {
	case "", StatusDraft, StatusRunning, StatusStopped:
	default:
		return nil, Invalid("invalid filter", []FieldError{{Field: "status", Detail: `must be "draft", "running" or "stopped"`}})
	}
	all, err := s.store.ListExperiments(ctx)
	if err != nil || status == "" {
		return all, err
	}
	out := all[:0]
	for _, e := range all {
		if e.Status == status {
			out = append(out, e)
		}
	}
	return out, nil
}

// UpdateExperiment replaces the definition of key. A draft may change freely;
// a started experiment refuses changes that would re-bucket customers.
func (s *Service) UpdateExperiment(ctx context.Context, key string, in ExperimentInput) (*Experiment, error) {
	if in.Key == "" {
		in.Key = key
	} else if in.Key != key {
		return nil, Invalid("invalid experiment", []FieldError{{Field: "key", Detail: "cannot be changed; it must match the URL"}})
	}
	cur, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, err
	}
	next, err := in.build()
	if err != nil {
		return nil, err
	}
	if err := s.checkAnswerSegments(ctx, next); err != nil {
		return nil, err
	}
	if err := s.checkLayer(ctx, next); err != nil {
		return nil, err
	}
	if why := lockedChange(cur, next); why != "" {
		return nil, Errorf(CodeConflict, "experiment %q is %s: %s", key, cur.Status, why)
	}
	claims, err := s.store.Claims(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := danglingClaims(next.Key, s.design(next), claims); err != nil {
		return nil, err
	}
	next.Status, next.CreatedAt, next.StartedAt, next.StoppedAt = cur.Status, cur.CreatedAt, cur.StartedAt, cur.StoppedAt
	next.UpdatedAt, next.Version = s.nowUTC(), cur.Version+1
	if err := s.store.UpdateExperiment(ctx, next, s.auditEntry(ctx, "experiment.update", "experiment:"+key, cur, next)); err != nil {
		return nil, err
	}
	return next, s.catalog.Refresh(ctx)
}

// Start moves a draft to running, and computes its first report.
func (s *Service) Start(ctx context.Context, key string) (*Experiment, error) {
	return s.transitionAndRefresh(ctx, key, StatusDraft, StatusRunning)
}

// Stop moves a running experiment to stopped, and computes its final
// report, which it keeps.
func (s *Service) Stop(ctx context.Context, key string) (*Experiment, error) {
	return s.transitionAndRefresh(ctx, key, StatusRunning, StatusStopped)
}

func (s *Service) transitionAndRefresh(ctx context.Context, key string, from, to Status) (*Experiment, error) {
	e, err := s.transition(ctx, key, from, to)
	if err != nil {
		return nil, err
	}
	// The change is stored; a failed refresh leaves the last report, and a
	// later refresh (POST …/refresh) recomputes it.
	if _, err := s.Refresh(ctx, key); err != nil {
		s.log.Warn("computing the report after a change of status", "experiment", key, "status", to, "err", err)
	}
	return e, nil
}

func (s *Service) transition(ctx context.Context, key string, from, to Status) (*Experiment, error) {
	e, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, err
	}
	if e.Status != from {
		return nil, Errorf(CodeConflict, "experiment %q is %s; only a %s experiment can become %s", key, e.Status, from, to)
	}
	before := *e
	now := s.nowUTC()
	e.Status, e.UpdatedAt, e.Version = to, now, e.Version+1
	if to == StatusRunning {
		e.StartedAt = &now
	} else {
		e.StoppedAt = &now
	}
	action := "experiment.start"
	if to == StatusStopped {
		action = "experiment.stop"
	}
	if err := s.store.UpdateExperiment(ctx, e, s.auditEntry(ctx, action, "experiment:"+key, &before, e)); err != nil {
		return nil, err
	}
	return e, s.catalog.Refresh(ctx)
}

// checkAnswerSegments refuses a segment by the answer to a question that
// does not exist or whose answers are not categories.
func (s *Service) checkAnswerSegments(ctx context.Context, e *Experiment) error {
	var errs []FieldError
	for i, attr := range e.Analysis.Segments {
		key, ok := strings.CutPrefix(attr, AnswerSegmentPrefix)
		if !ok {
			continue
		}
		q, err := s.findQuestion(ctx, key)
		if err != nil {
			return err
		}
		switch {
		case q == nil:
			errs = append(errs, FieldError{Field: fmt.Sprintf("analysis.segments[%d]", i), Detail: fmt.Sprintf("no question %q", key)})
		case q.Kind == QuestionNumber:
			errs = append(errs, FieldError{Field: fmt.Sprintf("analysis.segments[%d]", i), Detail: fmt.Sprintf("%q is a number question: only choice and rating answers make segments", key)})
		}
	}
	if len(errs) > 0 {
		return Invalid("invalid experiment", errs)
	}
	return nil
}
