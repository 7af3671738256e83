package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/revealed-ab/revealed/experiments"
)

// segmentExpr is the SQL for the text value of one exposure attribute, whose
// JSON path or key is bound as the first parameter.
func (s *Store) segmentExpr() string {
	if s.dialect == Postgres {
		return `COALESCE(x.attributes::jsonb ->> ?, '')`
	}
	return `COALESCE(CAST(json_extract(x.attributes, ?) AS TEXT), '')`
}

func (s *Store) segmentArg(attribute string) string {
	if s.dialect == Postgres {
		return attribute
	}
	return `$."` + attribute + `"`
}

// validSegmentAttribute keeps attribute names that can be quoted in a JSON
// path without escaping.
func validSegmentAttribute(a string) bool {
	return a != "" && !strings.ContainsAny(a, `"\`)
}

// perUnitQuery is the SQL for each exposed unit's value (v), pre-exposure
// value (pre) and ratio denominator (d), with its variant and segment.
// Outcomes are aggregated per unit first, scanning the metric's outcomes by
// time from the experiment's first exposure (less the lookback) and finding
// each unit's exposure by primary key; units without outcomes count as 0.
// Outcomes before a unit's exposure, within the lookback, are its
// pre-exposure values.
func (s *Store) perUnitQuery(e *experiments.Experiment, q experiments.StatsQuery) (string, []any, error) {
	question, byAnswer := strings.CutPrefix(q.SegmentAttribute, experiments.AnswerSegmentPrefix)
	if q.SegmentAttribute != "" && !byAnswer && !validSegmentAttribute(q.SegmentAttribute) {
		return "", nil, experiments.Errorf(experiments.CodeInvalid, "attribute %q cannot be a segment", q.SegmentAttribute)
	}
	if q.FilterAttribute != "" && !validSegmentAttribute(q.FilterAttribute) {
		return "", nil, experiments.Errorf(experiments.CodeInvalid, "attribute %q cannot be a segment", q.FilterAttribute)
	}
	var v, pre, d, metricCond string
	var selectArgs, metricArgs []any
	switch q.Metric.Kind {
	case experiments.MetricRatio:
		v = `SUM(CASE WHEN o.ts >= x.ts AND o.metric = ? THEN o.value ELSE 0.0 END)`
		d = `SUM(CASE WHEN o.ts >= x.ts AND o.metric = ? THEN o.value ELSE 0.0 END)`
		pre = `0.0`
		metricCond = `o.metric IN (?, ?)`
		selectArgs = []any{q.Numerator, q.Denominator}
		metricArgs = []any{q.Numerator, q.Denominator}
	case experiments.MetricBinary:
		v = `MAX(CASE WHEN o.ts >= x.ts AND o.value > 0 THEN 1.0 ELSE 0.0 END)`
		pre = `MAX(CASE WHEN o.ts < x.ts AND o.value > 0 THEN 1.0 ELSE 0.0 END)`
		d = `0.0`
		metricCond = `o.metric = ?`
		metricArgs = []any{q.Metric.Key}
	default:
		v = `SUM(CASE WHEN o.ts >= x.ts THEN o.value ELSE 0.0 END)`
		pre = `SUM(CASE WHEN o.ts < x.ts THEN o.value ELSE 0.0 END)`
		d = `0.0`
		metricCond = `o.metric = ?`
		metricArgs = []any{q.Metric.Key}
	}
	lookback := max(q.Lookback.Microseconds(), 0)
	// In the order of the placeholders in the text below.
	innerArgs := append(append(append(selectArgs, e.Key), metricArgs...), e.Key, lookback, lookback)
	outcomes := `SELECT x.unit_id AS unit_id, ` + v + ` AS v, ` + pre + ` AS pre, ` + d + ` AS d
		FROM events o
		JOIN exposures x ON x.experiment = ? AND x.unit_id = o.unit_id
		WHERE o.type = 'outcome' AND ` + metricCond + `
			AND o.ts >= (SELECT MIN(f.ts) FROM exposures f WHERE f.experiment = ?) - ?
			AND o.ts >= x.ts - ?
			AND (o.experiment IS NULL OR o.experiment = x.experiment)
		GROUP BY x.unit_id`

	segment, args := `''`, []any{}
	switch {
	case byAnswer:
		// A unit's first answer, found by the responses' primary key.
		before := ` AND r.ts < x.ts`
		if q.AnswerAnyTime {
			before = ``
		}
		segment = `COALESCE((SELECT r.answer FROM responses r WHERE r.question = ? AND r.unit_id = x.unit_id` + before + `), '')`
		args = append(args, question)
	case q.SegmentAttribute != "":
		segment = s.segmentExpr()
		args = append(args, s.segmentArg(q.SegmentAttribute))
	}
	args = append(args, innerArgs...)
	args = append(args, e.Key)
	filter := ``
	if q.FilterAttribute != "" {
		filter = ` AND ` + s.segmentExpr() + ` = ?`
		args = append(args, s.segmentArg(q.FilterAttribute), q.FilterValue)
	}
	query := `SELECT x.variant AS variant, ` + segment + ` AS segment,
			COALESCE(u.v, 0.0) AS v, COALESCE(u.pre, 0.0) AS pre, COALESCE(u.d, 0.0) AS d
		FROM exposures x
		LEFT JOIN (` + outcomes + `) u ON u.unit_id = x.unit_id
		WHERE x.experiment = ?` + filter
	if q.Cap != nil {
		query = `SELECT variant, segment, CASE WHEN v > ? THEN ? ELSE v END AS v, CASE WHEN pre > ? THEN ? ELSE pre END AS pre, d
			FROM (` + query + `) uncapped`
		args = append([]any{*q.Cap, *q.Cap, *q.Cap, *q.Cap}, args...)
	}
	return query, args, nil
}

// MetricStats aggregates, in the database, each exposed unit's value of the
// metric and then the sufficient statistics per variant (and segment). Only
// outcomes from the unit's first exposure on count, and an outcome sent with
// an experiment counts only in that experiment. Memory does not grow with
// the number of events: Go receives one row per variant and segment.
func (s *Store) MetricStats(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery) ([]experiments.ArmStats, error) {
	perUnit, args, err := s.perUnitQuery(e, q)
	if err != nil {
		return nil, err
	}
	query := `SELECT segment, variant, COUNT(*) AS units,
			COALESCE(SUM(v), 0.0) AS sum, COALESCE(SUM(v * v), 0.0) AS sum_sq,
			COALESCE(SUM(pre), 0.0) AS pre_sum, COALESCE(SUM(pre * pre), 0.0) AS pre_sum_sq, COALESCE(SUM(v * pre), 0.0) AS pre_cross,
			COALESCE(SUM(d), 0.0) AS den_sum, COALESCE(SUM(d * d), 0.0) AS den_sum_sq, COALESCE(SUM(v * d), 0.0) AS den_cross
		FROM (` + perUnit + `) per_unit
		WHERE segment <> '' OR ? = ''
		GROUP BY segment, variant
		ORDER BY segment, variant`
	args = append(args, q.SegmentAttribute)
	var out []experiments.ArmStats
	if err := s.db.SelectContext(ctx, &out, s.rebind(query), args...); err != nil {
		return nil, experiments.Internal(fmt.Errorf("aggregating %s/%s: %w", e.Key, q.Metric.Key, err))
	}
	return out, nil
}

// UnitValueQuantile computes R's type-7 quantile: with h = (n−1)p, the value
// of rank ⌊h⌋ plus (h − ⌊h⌋) of the step to the next.
func (s *Store) UnitValueQuantile(ctx context.Context, e *experiments.Experiment, metric experiments.Metric, p float64) (float64, error) {
	perUnit, args, err := s.perUnitQuery(e, experiments.StatsQuery{Metric: metric})
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM (`+perUnit+`) per_unit`), args...); err != nil {
		return 0, experiments.Internal(err)
	}
	if n == 0 {
		return 0, nil
	}
	h := float64(n-1) * p
	lo := math.Floor(h)
	var vals []float64
	q := `SELECT v FROM (` + perUnit + `) per_unit ORDER BY v LIMIT 2 OFFSET ` + fmt.Sprint(int64(lo))
	if err := s.db.SelectContext(ctx, &vals, s.rebind(q), args...); err != nil {
		return 0, experiments.Internal(err)
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	return vals[0] + (h-lo)*(vals[1]-vals[0]), nil
}

func (s *Store) ExposedUnits(ctx context.Context, e *experiments.Experiment, segmentAttribute string) ([]experiments.ArmStats, error) {
	segment, args := `''`, []any{}
	if segmentAttribute != "" {
		if !validSegmentAttribute(segmentAttribute) {
			return nil, experiments.Errorf(experiments.CodeInvalid, "attribute %q cannot be a segment", segmentAttribute)
		}
		segment = s.segmentExpr()
		args = append(args, s.segmentArg(segmentAttribute))
	}
	args = append(args, e.Key)
	q := `SELECT ` + segment + ` AS segment, x.variant AS variant, COUNT(*) AS units
		FROM exposures x WHERE x.experiment = ? GROUP BY 1, 2 ORDER BY 1, 2`
	var out []experiments.ArmStats
	if err := s.db.SelectContext(ctx, &out, s.rebind(q), args...); err != nil {
		return nil, experiments.Internal(err)
	}
	return out, nil
}

func (s *Store) AttributeCardinality(ctx context.Context, e *experiments.Experiment) (map[string]int, error) {
	q := `SELECT j.key AS attribute, COUNT(DISTINCT CAST(j.value AS TEXT)) AS n
		FROM exposures x, json_each(x.attributes) j WHERE x.experiment = ? GROUP BY j.key`
	if s.dialect == Postgres {
		q = `SELECT kv.key AS attribute, COUNT(DISTINCT kv.value) AS n
			FROM exposures x, jsonb_each_text(x.attributes::jsonb) kv WHERE x.experiment = ? GROUP BY kv.key`
	}
	var rows []struct {
		Attribute string `db:"attribute"`
		N         int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), e.Key); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Attribute] = r.N
	}
	return out, nil
}
