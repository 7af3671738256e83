package experiments

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// Study is a key-driver study: what customers say matters (the stated
// shares) against what drives an outcome in their own ratings and
// behaviour (the derived importance).
type Study struct {
	StudyInput
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// StudyInput is what a product team may set.
type StudyInput struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Outcome is what the drivers explain, e.g. overall satisfaction.
	Outcome StudyVariable `json:"outcome"`
	// Drivers are 2 to analysis.MaxDrivers sub-process ratings or metrics.
	Drivers []StudyVariable `json:"drivers"`
	Stated  StudyStated     `json:"stated"`
	// Population restricts the units to those exposed to an experiment
	// (optionally one variant); empty: every respondent.
	Population StudyPopulation `json:"population"`
	// Bootstrap is the number of replicates (0: 1,000; −1: none) and Seed
	// keys their weights, so a report is reproducible.
	Bootstrap int    `json:"bootstrap,omitempty"`
	Seed      uint64 `json:"seed,omitempty"`
}

// StudyVariable is a rating or number question, or a metric of the
// population's experiment, whose per-unit value enters the study.
type StudyVariable struct {
	// Key names a driver (a slug); the outcome needs none.
	Key   string `json:"key,omitempty"`
	Label string `json:"label,omitempty"`
	// Question or Metric, exactly one.
	Question string `json:"question,omitempty"`
	Metric   string `json:"metric,omitempty"`
}

// StudyStated is where the stated importance comes from: a choice question
// whose options are the driver keys ("which mattered most?"), answered by
// the population, or shares typed in from a survey of SurveyN respondents.
type StudyStated struct {
	Question string             `json:"question,omitempty"`
	Shares   map[string]float64 `json:"shares,omitempty"`
	SurveyN  int64              `json:"survey_n,omitempty"`
}

// StudyPopulation picks the units of a study.
type StudyPopulation struct {
	Experiment string `json:"experiment,omitempty"`
	Variant    string `json:"variant,omitempty"`
}

// StudyQuery is a study's variables as the store reads them, outcome first.
type StudyQuery struct {
	Variables  []StudyVariable
	Experiment *Experiment // nil: every respondent
	Variant    string
	AsOf       int64 // µs, for the maturity of windowed metrics
}

// StudyRow is one unit's values, outcome first; a nil value is missing.
type StudyRow struct {
	Unit   string
	Values []*float64
}

// validate checks the study against the questions and experiments it names.
func (s *Service) validateStudy(ctx context.Context, in *StudyInput) (*Experiment, error) {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if why := analysis.CheckKey(in.Key); why != "" {
		add("key", "%s", why)
	}
	if in.Name == "" || len(in.Name) > maxNameLen {
		add("name", "is required, at most %d bytes", maxNameLen)
	}
	var e *Experiment
	var lookupErr error // the store failing, which is no fault of the input
	if p := in.Population; p.Experiment != "" {
		var err error
		if e, err = s.store.GetExperiment(ctx, p.Experiment); ErrorCode(err) == CodeNotFound {
			add("population.experiment", "no experiment %q", p.Experiment)
		} else if err != nil {
			return nil, err
		} else if p.Variant != "" && !e.HasVariant(p.Variant) {
			add("population.variant", "experiment %q has no variant %q", p.Experiment, p.Variant)
		}
	} else if in.Population.Variant != "" {
		add("population.variant", "needs population.experiment")
	}
	variable := func(field string, v StudyVariable) {
		switch {
		case (v.Question == "") == (v.Metric == ""):
			add(field, "needs exactly one of question and metric")
		case v.Question != "":
			q, err := s.findQuestion(ctx, v.Question)
			switch {
			case err != nil:
				lookupErr = err
			case q == nil:
				add(field+".question", "no question %q", v.Question)
			case q.Kind == QuestionChoice:
				add(field+".question", "%q is a choice question: a driver or outcome needs a rating or number question", v.Question)
			}
		case e == nil:
			add(field+".metric", "a metric needs population.experiment")
		default:
			if m, ok := e.Metric(v.Metric); !ok {
				add(field+".metric", "experiment %q has no metric %q", e.Key, v.Metric)
			} else if m.Kind == MetricRatio {
				add(field+".metric", "a ratio metric has no per-unit value")
			}
		}
	}
	variable("outcome", in.Outcome)
	if len(in.Drivers) < 2 || len(in.Drivers) > analysis.MaxDrivers {
		add("drivers", "a study needs 2 to %d drivers", analysis.MaxDrivers)
	}
	keys := map[string]bool{}
	for i, d := range in.Drivers {
		field := fmt.Sprintf("drivers[%d]", i)
		switch {
		case !ValidSlug(d.Key):
			add(field+".key", "is required: a slug that the stated shares name")
		case keys[d.Key]:
			add(field+".key", "duplicates driver %q", d.Key)
		}
		keys[d.Key] = true
		if len(d.Label) > maxNameLen {
			add(field+".label", "must be at most %d bytes", maxNameLen)
		}
		variable(field, d)
	}
	st := in.Stated
	switch {
	case st.Question != "" && st.Shares != nil:
		add("stated", "give a question or shares, not both")
	case st.Question != "":
		q, err := s.findQuestion(ctx, st.Question)
		switch {
		case err != nil:
			lookupErr = err
		case q == nil:
			add("stated.question", "no question %q", st.Question)
		case q.Kind != QuestionChoice:
			add("stated.question", "must be a choice question whose options are the driver keys")
		default:
			for _, d := range in.Drivers {
				found := false
				for _, o := range q.Options {
					found = found || o == d.Key
				}
				if !found {
					add("stated.question", "has no option for driver %q: its options must be the driver keys", d.Key)
				}
			}
		}
	case st.Shares != nil:
		if st.SurveyN < 1 {
			add("stated.survey_n", "is required with typed shares: the respondents behind them, ≥ 1")
		}
		for _, d := range in.Drivers {
			if v, ok := st.Shares[d.Key]; !ok || !(v >= 0 && v <= 1) || math.IsNaN(v) {
				add("stated.shares", "needs a share from 0 to 1 for driver %q", d.Key)
			}
		}
		for k := range st.Shares {
			if !keys[k] {
				add("stated.shares", "names no driver: %q", k)
			}
		}
	}
	if in.Bootstrap < -1 || in.Bootstrap > 10000 {
		add("bootstrap", "must be from 1 to 10,000 replicates, 0 for the default 1,000, or -1 for none")
	}
	if lookupErr != nil {
		return nil, lookupErr
	}
	if len(errs) > 0 {
		return nil, Invalid("invalid study", errs)
	}
	return e, nil
}

// CreateStudy validates in and stores it.
func (s *Service) CreateStudy(ctx context.Context, in StudyInput) (*Study, error) {
	if _, err := s.validateStudy(ctx, &in); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	st := &Study{StudyInput: in, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.SaveStudy(ctx, st, true, s.auditEntry(ctx, "study.create", "study:"+in.Key, nil, st)); err != nil {
		return nil, err
	}
	return st, nil
}

// UpdateStudy replaces a study's definition.
func (s *Service) UpdateStudy(ctx context.Context, key string, in StudyInput) (*Study, error) {
	if in.Key == "" {
		in.Key = key
	} else if in.Key != key {
		return nil, Invalid("invalid study", []FieldError{{Field: "key", Detail: "cannot be changed; it must match the URL"}})
	}
	cur, err := s.store.GetStudy(ctx, key)
	if err != nil {
		return nil, err
	}
	if _, err := s.validateStudy(ctx, &in); err != nil {
		return nil, err
	}
	st := &Study{StudyInput: in, CreatedAt: cur.CreatedAt, UpdatedAt: s.nowUTC(), Version: cur.Version + 1}
	if err := s.store.SaveStudy(ctx, st, false, s.auditEntry(ctx, "study.update", "study:"+key, cur, st)); err != nil {
		return nil, err
	}
	return st, nil
}

// Studies lists every study; Study returns CodeNotFound for an unknown key.
func (s *Service) Studies(ctx context.Context) ([]*Study, error) { return s.store.ListStudies(ctx) }

// Study returns CodeNotFound for an unknown key.
func (s *Service) Study(ctx context.Context, key string) (*Study, error) {
	return s.store.GetStudy(ctx, key)
}

// StudyReport computes the study from its units, streamed from the store
// into the key-driver analysis one unit at a time: memory is fixed by the
// drivers and the bootstrap, whatever the number of units. Whatever is
// stored, it answers: what cannot be computed is null with a reason.
func (s *Service) StudyReport(ctx context.Context, key string) (*analysis.DriverReport, error) {
	st, err := s.store.GetStudy(ctx, key)
	if err != nil {
		return nil, err
	}
	cfg := analysis.DriverConfig{Outcome: label(st.Outcome, "the outcome"), Replicates: st.Bootstrap, Seed: st.Seed}
	for _, d := range st.Drivers {
		cfg.Drivers = append(cfg.Drivers, d.Key)
	}
	q := StudyQuery{Variables: append([]StudyVariable{st.Outcome}, st.Drivers...), Variant: st.Population.Variant}
	var warnings []string
	if st.Population.Experiment != "" {
		e, err := s.store.GetExperiment(ctx, st.Population.Experiment)
		if err != nil {
			return nil, err
		}
		q.Experiment, q.AsOf = e, s.reportTime(e).UnixMicro()
	}
	switch {
	case st.Stated.Question != "":
		counts, err := s.store.AnswerCounts(ctx, st.Stated.Question, q)
		if err != nil {
			return nil, err
		}
		var total int64
		for _, n := range counts {
			total += n
		}
		for _, d := range st.Drivers {
			share := 0.0
			if total > 0 {
				share = float64(counts[d.Key]) / float64(total)
			}
			cfg.Stated = append(cfg.Stated, analysis.StatedShare{Share: share, Respondents: float64(total)})
		}
		if total == 0 {
			cfg.Stated = nil
			warnings = append(warnings, fmt.Sprintf("nobody in the study has answered %q yet: no stated importance", st.Stated.Question))
		}
	case st.Stated.Shares != nil:
		for _, d := range st.Drivers {
			cfg.Stated = append(cfg.Stated, analysis.StatedShare{Share: st.Stated.Shares[d.Key], Respondents: float64(st.Stated.SurveyN)})
		}
	}
	study, err := analysis.NewDriverStudy(cfg)
	if err != nil {
		return nil, Internal(fmt.Errorf("study %q: %w", key, err)) // validated at every write
	}
	values := make([]float64, len(q.Variables))
	err = s.store.StudyRows(ctx, q, func(r StudyRow) {
		for i, v := range r.Values {
			values[i] = math.NaN() // a missing value: Add leaves the unit out and counts it
			if v != nil {
				values[i] = *v
			}
		}
		study.Add(r.Unit, values)
	})
	if err != nil {
		return nil, err
	}
	rep := study.Report()
	rep.Warnings = append(rep.Warnings, warnings...)
	return rep, nil
}

func label(v StudyVariable, fallback string) string {
	switch {
	case v.Label != "":
		return v.Label
	case v.Question != "":
		return v.Question
	case v.Metric != "":
		return v.Metric
	}
	return fallback
}
