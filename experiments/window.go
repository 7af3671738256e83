package experiments

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Aggregation forms a unit's value of a metric from its outcomes in the
// metric's window.
type Aggregation string

const (
	AggSum   Aggregation = "sum"   // the default for mean metrics; 0 without outcomes
	AggCount Aggregation = "count" // outcomes whatever their value; 0 without outcomes
	AggAny   Aggregation = "any"   // 1 if any value > 0, else 0; binary metrics' only one
	AggMean  Aggregation = "mean"
	AggMin   Aggregation = "min"
	AggMax   Aggregation = "max"
	// AggFirst and AggLast order by ts, ties broken by event id.
	AggFirst Aggregation = "first"
	AggLast  Aggregation = "last"
	// AggPeakEnd is the average of the most intense value (the maximum, or
	// the minimum with peak "min") and the last one: what people remember.
	AggPeakEnd Aggregation = "peak_end"
)

// HasValueWithout reports whether a unit without outcomes in the window has
// a value (0) under a; otherwise it is left out of the metric and counted.
func (a Aggregation) HasValueWithout() bool {
	return a == "" || a == AggSum || a == AggCount || a == AggAny
}

var aggregations = []Aggregation{AggSum, AggCount, AggAny, AggMean, AggMin, AggMax, AggFirst, AggLast, AggPeakEnd}

// Window bounds which outcomes count, relative to the unit's first
// exposure: [From, To), half-open, so an outcome exactly at To does not
// count. Without To it has no end.
type Window struct {
	From Span  `json:"from"`
	To   *Span `json:"to,omitempty"`
}

// Span is a duration written with a unit: "30m", "24h", "90d".
type Span time.Duration

var spanPattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|h|d)$`)

// maxSpan bounds windows at ten years, far beyond any experiment.
const maxSpan = Span(10 * 365 * 24 * time.Hour)

// ParseSpan reads "30m", "24h" or "90d".
func ParseSpan(s string) (Span, error) {
	m := spanPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf(`%q is not a duration such as "30m", "24h" or "90d"`, s)
	}
	x, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	d := Span(x * float64(unit))
	if d > maxSpan {
		return 0, fmt.Errorf("%q is longer than ten years", s)
	}
	return d, nil
}

func (s Span) String() string {
	d := time.Duration(s)
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return strconv.FormatFloat(d.Minutes(), 'f', -1, 64) + "m"
}

// MarshalJSON writes the span as "24h".
func (s Span) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads "24h".
func (s *Span) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return fmt.Errorf(`a duration is a string such as "24h"`)
	}
	d, err := ParseSpan(text)
	if err != nil {
		return err
	}
	*s = d
	return nil
}

// Micros is the span in microseconds, the unit of stored times.
func (s Span) Micros() int64 { return time.Duration(s).Microseconds() }

// SourceKey is the event metric the metric reads: Source, or its own key.
func (m Metric) SourceKey() string {
	if m.Source != "" {
		return m.Source
	}
	return m.Key
}

// AggregationOrDefault is the metric's aggregation: any for binary metrics,
// sum for mean metrics, unless set.
func (m Metric) AggregationOrDefault() Aggregation {
	switch {
	case m.Aggregation != "":
		return m.Aggregation
	case m.Kind == MetricBinary:
		return AggAny
	}
	return AggSum
}

// validateWindow checks the options a metric's window and aggregation take.
func validateWindow(m Metric, add func(f, format string, args ...any)) {
	if m.Source != "" && !ValidSlug(m.Source) {
		add("source", "must be a slug naming the event metric this metric reads")
	}
	if m.Kind == MetricRatio && (m.Window != nil || m.Aggregation != "" || m.Source != "") {
		add("kind", "a ratio metric reads its numerator's and denominator's definitions: give windows, aggregations and sources to those")
	}
	if w := m.Window; w != nil {
		switch {
		case w.From < 0:
			add("window.from", "must not be negative: outcomes before exposure are CUPED's, with its lookback")
		case w.To != nil && *w.To <= w.From:
			add("window.to", "must be after window.from")
		}
	}
	if a := m.Aggregation; a != "" {
		known := false
		for _, k := range aggregations {
			known = known || a == k
		}
		switch {
		case !known:
			add("aggregation", "must be one of sum, count, any, mean, min, max, first, last, peak_end")
		case m.Kind == MetricBinary && a != AggAny:
			add("aggregation", `a binary metric is 1 when any outcome is > 0: its aggregation is "any"`)
		}
	}
	switch {
	case m.Peak != "" && m.Aggregation != AggPeakEnd:
		add("peak", "is only for the peak_end aggregation")
	case m.Peak != "" && m.Peak != "max" && m.Peak != "min":
		add("peak", `must be "max" (the default) or "min", for pain measures such as minutes waited`)
	}
}
