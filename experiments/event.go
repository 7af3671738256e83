package experiments

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// EventType distinguishes a unit entering an experiment from something it did.
type EventType string

const (
	EventExposure EventType = "exposure"
	EventOutcome  EventType = "outcome"
	// EventResponse is a unit's answer to a survey question.
	EventResponse EventType = "response"
)

// MaxBatchEvents is the largest batch accepted in one request.
const MaxBatchEvents = 10000

// MaxOutcomeValue bounds an outcome's magnitude so that every sum the store
// and the analysis form stays finite and accurate. With a billion units of
// a million outcomes each, a unit's value stays within 1e15, its square
// within 1e30, and Σy² (or a CUPED or ratio cross-product) over the units
// within 1e39: far inside float64's 1.8e308, and 1e15 is still below 2^53,
// so per-unit sums of whole-number outcomes are exact. No count, minute,
// rating or amount of money in cents comes near it.
const MaxOutcomeValue = 1e9

const (
	maxIDLen        = 128
	maxUnitIDLen    = 256
	maxAttributes   = 50
	maxAttrValueLen = 256
)

// Event is an exposure or an outcome, as a client reports it.
type Event struct {
	ID         string         `json:"id"`
	Type       EventType      `json:"type"`
	UnitID     string         `json:"unit_id"`
	Experiment string         `json:"experiment,omitempty"`
	Variant    string         `json:"variant,omitempty"`
	Metric     string         `json:"metric,omitempty"`
	Value      *float64       `json:"value,omitempty"`
	TS         *time.Time     `json:"ts,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	// Question and Answer make a response: a string for a choice question,
	// a number otherwise.
	Question string `json:"question,omitempty"`
	Answer   any    `json:"answer,omitempty"`
}

// StoredEvent is an event ready to be written: defaults applied, time in
// microseconds since the Unix epoch so both dialects compare it as an integer.
type StoredEvent struct {
	ID         string
	Type       EventType
	UnitID     string
	Experiment string
	Variant    string
	Metric     string
	Value      float64
	TS         int64
	ReceivedAt int64
	Attributes string // JSON object
	// Answer is a response's answer as text (the option, or the number
	// written out); Metric holds its question and Value its number.
	Answer string
}

// IngestResult is the answer to an acknowledged batch.
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// validateEvent checks one event against the known experiments and returns
// its problems; fields are named as in the JSON.
func validateEvent(ev *Event, cat *snapshot) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if len(ev.ID) > maxIDLen {
		add("id", "must be at most %d bytes", maxIDLen)
	} else if !utf8.ValidString(ev.ID) {
		add("id", "must be valid UTF-8")
	}
	switch {
	case ev.UnitID == "":
		add("unit_id", "is required")
	case len(ev.UnitID) > maxUnitIDLen:
		add("unit_id", "must be at most %d bytes", maxUnitIDLen)
	case !utf8.ValidString(ev.UnitID):
		add("unit_id", "must be valid UTF-8")
	}
	errs = append(errs, validateAttributes(ev.Attributes)...)

	var exp *Experiment
	if ev.Experiment != "" {
		if exp = cat.byKey[ev.Experiment]; exp == nil {
			add("experiment", "unknown experiment %q", ev.Experiment)
		}
	}
	switch ev.Type {
	case EventExposure:
		if ev.Experiment == "" {
			add("experiment", "is required for an exposure")
		}
		if ev.Variant == "" {
			add("variant", "is required for an exposure")
		} else if exp != nil && !exp.HasVariant(ev.Variant) {
			add("variant", "experiment %q has no variant %q", exp.Key, ev.Variant)
		}
		if ev.Metric != "" {
			add("metric", "is not allowed on an exposure")
		}
	case EventOutcome:
		switch {
		case ev.Metric == "":
			add("metric", "is required for an outcome")
		case exp != nil:
			if !exp.ReadsMetric(ev.Metric) {
				add("metric", "experiment %q has no metric that reads %q", exp.Key, ev.Metric)
			}
		case ev.Experiment == "" && !cat.metrics[ev.Metric]:
			add("metric", "no experiment has a metric %q", ev.Metric)
		}
		if ev.Value == nil {
			add("value", "is required for an outcome")
		} else if !(math.Abs(*ev.Value) <= MaxOutcomeValue) {
			add("value", "must be a finite number of magnitude at most %g", MaxOutcomeValue)
		}
		if ev.Variant != "" {
			add("variant", "is not allowed on an outcome: outcomes belong to units, not to variants")
		}
	case EventResponse:
		q := cat.questions[ev.Question]
		switch {
		case ev.Question == "":
			add("question", "is required for a response")
		case q == nil:
			add("question", "no question %q", ev.Question)
		case ev.Answer == nil:
			add("answer", "is required for a response")
		default:
			if _, _, problem := q.checkAnswer(ev.Answer); problem != "" {
				add("answer", "%s", problem)
			}
		}
		for field, set := range map[string]bool{"experiment": ev.Experiment != "", "variant": ev.Variant != "", "metric": ev.Metric != "", "value": ev.Value != nil} {
			if set {
				add(field, "is not allowed on a response")
			}
		}
	case "":
		add("type", `is required: "exposure", "outcome" or "response"`)
	default:
		add("type", `must be "exposure", "outcome" or "response"`)
	}
	if ev.Type != EventResponse && (ev.Question != "" || ev.Answer != nil) {
		add("question", "question and answer belong to a response")
	}
	return errs
}

// validateAttributes accepts a flat object of strings, finite numbers and
// booleans: those are what targeting and segments can use.
func validateAttributes(attrs map[string]any) []FieldError {
	var errs []FieldError
	if len(attrs) > maxAttributes {
		return []FieldError{{Field: "attributes", Detail: fmt.Sprintf("at most %d attributes", maxAttributes)}}
	}
	for k, v := range attrs {
		field := "attributes." + k
		if k == "" || len(k) > maxKeyLen || !utf8.ValidString(k) {
			errs = append(errs, FieldError{Field: "attributes", Detail: fmt.Sprintf("attribute names must be 1 to %d bytes of UTF-8", maxKeyLen)})
			continue
		}
		switch v := v.(type) {
		case string:
			if len(v) > maxAttrValueLen {
				errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf("must be at most %d bytes", maxAttrValueLen)})
			}
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, FieldError{Field: field, Detail: "must be a finite number"})
			}
		case bool:
		default:
			errs = append(errs, FieldError{Field: field, Detail: "must be a string, number or boolean"})
		}
	}
	return errs
}
