// Package windowref is the reference for metric windows and aggregations
// that the store's and the CLI's tests check against: each unit's value
// computed plainly in Go from its raw outcomes, from the definitions in the
// README, independent of the SQL and of the CLI's streaming state.
package windowref

import (
	"math"
	"sort"

	"github.com/revealed-ab/revealed/experiments"
)

// Outcome is one raw outcome of a unit's, of the metric's source.
type Outcome struct {
	ID    string
	TS    int64 // µs
	Value float64
}

// Value is a unit's value of a non-ratio metric, exposed at exposed (µs):
// outcomes in [exposed + from, exposed + to), sorted by (ts, id); first,
// last and peak_end read that order. ok is false when the aggregation needs
// an outcome and there is none.
func Value(m experiments.Metric, exposed int64, outcomes []Outcome) (value float64, ok bool) {
	from, to := int64(0), int64(math.MaxInt64)
	if w := m.Window; w != nil {
		from = w.From.Micros()
		if w.To != nil {
			to = w.To.Micros()
		}
	}
	var in []Outcome
	for _, o := range outcomes {
		if o.TS >= exposed+from && o.TS-exposed < to {
			in = append(in, o)
		}
	}
	sort.Slice(in, func(i, j int) bool {
		if in[i].TS != in[j].TS {
			return in[i].TS < in[j].TS
		}
		return in[i].ID < in[j].ID
	})
	agg := m.AggregationOrDefault()
	if len(in) == 0 {
		return 0, agg == experiments.AggSum || agg == experiments.AggCount || agg == experiments.AggAny
	}
	sum, lo, hi, anyPositive := 0.0, math.Inf(1), math.Inf(-1), 0.0
	for _, o := range in {
		sum += o.Value
		lo, hi = math.Min(lo, o.Value), math.Max(hi, o.Value)
		if o.Value > 0 {
			anyPositive = 1
		}
	}
	last := in[len(in)-1].Value
	switch agg {
	case experiments.AggSum:
		return sum, true
	case experiments.AggCount:
		return float64(len(in)), true
	case experiments.AggAny:
		return anyPositive, true
	case experiments.AggMean:
		return sum / float64(len(in)), true
	case experiments.AggMin:
		return lo, true
	case experiments.AggMax:
		return hi, true
	case experiments.AggFirst:
		return in[0].Value, true
	case experiments.AggLast:
		return last, true
	case experiments.AggPeakEnd:
		if m.Peak == "min" {
			return (lo + last) / 2, true
		}
		return (hi + last) / 2, true
	}
	panic("windowref: unknown aggregation " + string(agg))
}
