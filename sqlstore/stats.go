package sqlstore

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/jmoiron/sqlx"

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

// segmentSQL is the expression, over an exposure x, of the segment a unit
// is in, with its arguments: an exposure attribute's value, the unit's
// first answer to a question ("answer:QUESTION"; before the exposure unless
// anyTime); the empty string for none, and for a unit without one.
func (s *Store) segmentSQL(attribute string, anyTime bool) (string, []any, error) {
	if attribute == "" {
		return `''`, nil, nil
	}
	if question, ok := strings.CutPrefix(attribute, experiments.AnswerSegmentPrefix); ok {
		// A unit's first answer, found by the responses' primary key.
		before := ` AND r.ts < x.ts`
		if anyTime {
			before = ``
		}
		return `COALESCE((SELECT r.answer FROM responses r WHERE r.question = ? AND r.unit_id = x.unit_id` + before + `), '')`, []any{question}, nil
	}
	if !validSegmentAttribute(attribute) {
		return "", nil, experiments.Errorf(experiments.CodeInvalid, "attribute %q cannot be a segment", attribute)
	}
	return s.segmentExpr(), []any{s.segmentArg(attribute)}, nil
}

// validSegmentAttribute keeps attribute names that can be quoted in a JSON
// path without escaping.
func validSegmentAttribute(a string) bool {
	return a != "" && !strings.ContainsAny(a, `"\`)
}

// perUnitQuery is the SQL for each exposed unit's value (v), pre-exposure
// value (pre) and ratio denominator (d), with its variant and segment, and
// whether it was left out as immature or without a value. The values come
// from unit_values when q.Stored asks for them and they were computed for
// this definition of the metric; otherwise from the events (unitValuesSQL).
func (s *Store) perUnitQuery(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery) (string, []any, error) {
	values, valueArgs := s.unitValuesSQL(e, q, false, nil, "", nil)
	if q.Stored {
		stored, err := s.storedValuesCurrent(ctx, e, q)
		if err != nil {
			return "", nil, err
		}
		if stored {
			values, valueArgs = storedValuesSQL, []any{e.Key, q.Metric.Key}
		}
	}
	return s.perUnitOver(e, q, values, valueArgs)
}

// storedValuesSQL reads an experiment's stored values of a metric.
const storedValuesSQL = `SELECT unit_id, variant, exposed_at, v, pre, d FROM unit_values WHERE experiment = ? AND metric = ?`

// perUnitOver is perUnitQuery over the per-unit values the query values
// selects. Maturity, the cap, the segment and the filter are applied here,
// on read, since they change with the report's time and settings.
func (s *Store) perUnitOver(e *experiments.Experiment, q experiments.StatsQuery, values string, valueArgs []any) (string, []any, error) {
	if q.FilterAttribute != "" && !validSegmentAttribute(q.FilterAttribute) {
		return "", nil, experiments.Errorf(experiments.CodeInvalid, "attribute %q cannot be a segment", q.FilterAttribute)
	}
	segment, segmentArgs, err := s.segmentSQL(q.SegmentAttribute, q.AnswerAnyTime)
	if err != nil {
		return "", nil, err
	}
	m := q.Metric
	// The segment and the filter read the unit's exposure.
	from := `(` + values + `) r`
	args := append(segmentArgs, valueArgs...)
	if q.SegmentAttribute != "" || q.FilterAttribute != "" {
		from += ` JOIN exposures x ON x.experiment = ? AND x.unit_id = r.unit_id`
		args = append(args, e.Key)
	}
	filter := ``
	if q.FilterAttribute != "" {
		filter = ` WHERE ` + s.segmentExpr() + ` = ?`
		args = append(args, s.segmentArg(q.FilterAttribute), q.FilterValue)
	}
	// A unit whose window has not closed by q.AsOf is immature: left out of
	// the metric in every arm alike, and counted. A unit without a value
	// (no outcome in the window, for an aggregation that needs one) is left
	// out and counted too; v is then NULL, and so are pre and d.
	mature := `1 = 1`
	if cutoff, ok := matureCutoff(q); ok {
		mature = fmt.Sprintf(`r.exposed_at <= %d`, cutoff)
	}
	value := `COALESCE(r.v, 0.0)`
	if !valueWithout(m) {
		value = `r.v`
	}
	ok := `(` + mature + `) AND ` + value + ` IS NOT NULL`
	query := `SELECT r.unit_id AS unit_id, r.variant AS variant, ` + segment + ` AS segment,
			CASE WHEN ` + ok + ` THEN ` + value + ` END AS v,
			CASE WHEN ` + ok + ` THEN COALESCE(r.pre, 0.0) END AS pre,
			CASE WHEN ` + ok + ` THEN COALESCE(r.d, 0.0) END AS d,
			CASE WHEN ` + mature + ` THEN 0 ELSE 1 END AS immature,
			CASE WHEN (` + mature + `) AND ` + value + ` IS NULL THEN 1 ELSE 0 END AS no_value
		FROM ` + from + filter
	if q.Cap != nil {
		query = `SELECT unit_id, variant, segment, CASE WHEN v > ? THEN ? ELSE v END AS v, CASE WHEN pre > ? THEN ? ELSE pre END AS pre, d, immature, no_value
			FROM (` + query + `) uncapped`
		args = append([]any{*q.Cap, *q.Cap, *q.Cap, *q.Cap}, args...)
	}
	return query, args, nil
}

// matureCutoff is the latest first exposure whose window has closed by
// q.AsOf, when the metric's window has an end and the report a time.
func matureCutoff(q experiments.StatsQuery) (int64, bool) {
	m := q.Metric
	if w := m.Window; w != nil && w.To != nil && m.Kind != experiments.MetricRatio && q.AsOf > 0 {
		return q.AsOf - w.To.Micros(), true
	}
	return 0, false
}

// valueWithout reports whether a unit without outcomes has a value (0) of
// m, rather than being left out.
func valueWithout(m experiments.Metric) bool {
	return m.AggregationOrDefault().HasValueWithout() || m.Kind == experiments.MetricRatio
}

// unitValuesSQL is the SQL for the values of e's exposed units (those for
// which units, a condition on x.unit_id, holds): unit_id, variant,
// exposed_at (the first exposure), and v, pre and d, NULL for a unit
// without outcomes. The metric's window and aggregation form v; outcomes
// before the exposure, within the CUPED lookback, form pre. The outcomes
// are read from events, scanning the metric's outcomes by time from the
// experiment's first exposure (less the lookback) with each unit's exposure
// found by primary key; or, byUnit, from unit_outcomes, driven by the
// units (a seek per unit and bucket), so that the cost follows the units
// asked for.
func (s *Store) unitValuesSQL(e *experiments.Experiment, q experiments.StatsQuery, byUnit bool, span *unitSpan, units string, unitArgs []any) (string, []any) {
	m := q.Metric
	agg := m.AggregationOrDefault()
	// post marks the outcomes the metric counts: from the first exposure on,
	// within the metric's window [from, to). The bounds are validated whole
	// microseconds, so they are written into the text.
	post := `o.ts >= x.ts`
	if w := m.Window; w != nil && m.Kind != experiments.MetricRatio {
		post = fmt.Sprintf(`o.ts >= x.ts + %d`, w.From.Micros())
		if w.To != nil {
			post += fmt.Sprintf(` AND o.ts < x.ts + %d`, w.To.Micros())
		}
	}
	// Ties in ts are broken by event id, so first and last are defined. Only
	// the ranking the aggregation reads is computed: each is a sort.
	rank := ``
	part := `PARTITION BY o.unit_id, CASE WHEN ` + post + ` THEN 1 ELSE 0 END`
	switch agg {
	case experiments.AggFirst:
		rank = `, ROW_NUMBER() OVER (` + part + ` ORDER BY o.ts, o.id) AS rn_first`
	case experiments.AggLast, experiments.AggPeakEnd:
		rank = `, ROW_NUMBER() OVER (` + part + ` ORDER BY o.ts DESC, o.id DESC) AS rn_last`
	}
	var v, pre, d, metricCond string
	var selectArgs, metricArgs []any
	switch {
	case m.Kind == experiments.MetricRatio:
		v = `SUM(CASE WHEN r.post = 1 AND r.metric = ? THEN r.value ELSE 0.0 END)`
		d = `SUM(CASE WHEN r.post = 1 AND r.metric = ? THEN r.value ELSE 0.0 END)`
		pre = `0.0`
		metricCond = `o.metric IN (?, ?)`
		selectArgs = sourceMetrics(q)
		metricArgs = sourceMetrics(q)
	default:
		v = aggregateSQL(agg, m.Peak)
		pre = `SUM(CASE WHEN r.pre = 1 THEN r.value ELSE 0.0 END)`
		if m.Kind == experiments.MetricBinary {
			pre = `MAX(CASE WHEN r.pre = 1 AND r.value > 0 THEN 1.0 ELSE 0.0 END)`
		}
		d = `0.0`
		metricCond = `o.metric = ?`
		metricArgs = sourceMetrics(q)
	}
	if units == "" {
		units = `1 = 1`
	}
	lookback := max(q.Lookback.Microseconds(), 0)
	columns := `SELECT o.unit_id AS unit_id, o.metric AS metric, o.value AS value,
			CASE WHEN ` + post + ` THEN 1 ELSE 0 END AS post, CASE WHEN o.ts < x.ts THEN 1 ELSE 0 END AS pre` + rank
	outcomes := func(rows string) string {
		return `SELECT r.unit_id AS unit_id, ` + v + ` AS v, ` + pre + ` AS pre, ` + d + ` AS d
		FROM (` + rows + `) r
		GROUP BY r.unit_id`
	}
	const unitColumns = `SELECT x.unit_id AS unit_id, x.variant AS variant, x.ts AS exposed_at, u.v AS v, u.pre AS pre, u.d AS d`
	// The placeholders' arguments, in the order of the text.
	var args []any
	if byUnit {
		// The units asked for are read first, so that each engine then
		// looks their outcomes up unit by unit, whatever it estimates.
		rows := columns + `
		FROM asked x
		` + s.outcomesByUnitJoin() + ` AND ` + metricCond + ` AND o.unit_id = x.unit_id
			AND o.ts >= x.ts - ? AND (o.experiment IS NULL OR o.experiment = x.experiment)`
		var spanArgs []any
		if span != nil {
			rows = columns + `
		FROM unit_outcome_buckets b CROSS JOIN unit_outcomes o ON o.bucket = b.bucket AND ` + metricCond + ` AND ` + span.cond + `
		JOIN asked x ON x.unit_id = o.unit_id
			AND o.ts >= x.ts - ? AND (o.experiment IS NULL OR o.experiment = x.experiment)`
			spanArgs = span.args
		}
		query := `WITH asked AS MATERIALIZED (
			SELECT x.unit_id, x.variant, x.ts, x.experiment FROM exposures x WHERE x.experiment = ? AND ` + units + `)
		` + unitColumns + `
		FROM asked x
		LEFT JOIN (` + outcomes(rows) + `) u ON u.unit_id = x.unit_id`
		args = append(append(append(append([]any{e.Key}, unitArgs...), selectArgs...), metricArgs...), spanArgs...)
		return query, append(args, lookback)
	}
	rows := columns + `
		FROM events o
		JOIN exposures x ON x.experiment = ? AND x.unit_id = o.unit_id
		WHERE o.type = 'outcome' AND ` + metricCond + `
			AND o.ts >= (SELECT MIN(f.ts) FROM exposures f WHERE f.experiment = ?) - ?
			AND o.ts >= x.ts - ? AND (o.experiment IS NULL OR o.experiment = x.experiment) AND ` + units
	query := unitColumns + `
		FROM exposures x
		LEFT JOIN (` + outcomes(rows) + `) u ON u.unit_id = x.unit_id
		WHERE x.experiment = ? AND ` + units
	args = append(append(append([]any{}, selectArgs...), e.Key), metricArgs...)
	args = append(append(append(args, e.Key, lookback, lookback), unitArgs...), e.Key)
	args = append(args, unitArgs...)
	return query, args
}

// sourceMetrics are the event metrics q's metric reads: a ratio's
// numerator and denominator, or the metric's source.
func sourceMetrics(q experiments.StatsQuery) []any {
	if q.Metric.Kind == experiments.MetricRatio {
		return []any{q.Numerator, q.Denominator}
	}
	return []any{q.Metric.SourceKey()}
}

// unitSpan bounds o.unit_id (cond, with its args) to the range of units a
// chunk asks for. With it, SQLite reads that range of unit_outcomes in each
// bucket rather than seeking each unit in each bucket: for a chunk that asks
// for nearly every unit in its range, as a reset does, 27-31 ms against
// 40-46 ms per 5,000 units at 10M events.
type unitSpan struct {
	cond string
	args []any
}

// outcomesByUnitJoin joins unit_outcomes o to the units x, looking each
// unit up in every bucket. SQLite is told the order: left to choose, and
// without statistics, it read the metric's whole range in each bucket and
// probed the units (1.4 s for 66 units at 10M events, against 11 ms).
// Postgres needs an array to make the bucket part of the index condition
// rather than a filter.
func (s *Store) outcomesByUnitJoin() string {
	if s.dialect == Postgres {
		return `JOIN unit_outcomes o ON o.bucket = ANY(ARRAY(SELECT bucket FROM unit_outcome_buckets))`
	}
	return `CROSS JOIN unit_outcome_buckets b CROSS JOIN unit_outcomes o ON o.bucket = b.bucket`
}

// aggregateSQL forms a unit's value from its rows r (post = 1 marks those
// in the window). sum, count and any give 0 without outcomes; the others
// give NULL, which leaves the unit out.
func aggregateSQL(agg experiments.Aggregation, peak string) string {
	in := func(expr string) string { return `CASE WHEN r.post = 1 THEN ` + expr + ` END` }
	last := `MAX(CASE WHEN r.post = 1 AND r.rn_last = 1 THEN r.value END)`
	switch agg {
	case experiments.AggCount:
		return `SUM(CASE WHEN r.post = 1 THEN 1.0 ELSE 0.0 END)`
	case experiments.AggAny:
		return `MAX(CASE WHEN r.post = 1 AND r.value > 0 THEN 1.0 ELSE 0.0 END)`
	case experiments.AggMean:
		return `AVG(` + in(`r.value`) + `)`
	case experiments.AggMin:
		return `MIN(` + in(`r.value`) + `)`
	case experiments.AggMax:
		return `MAX(` + in(`r.value`) + `)`
	case experiments.AggFirst:
		return `MAX(CASE WHEN r.post = 1 AND r.rn_first = 1 THEN r.value END)`
	case experiments.AggLast:
		return last
	case experiments.AggPeakEnd:
		most := `MAX`
		if peak == "min" {
			most = `MIN`
		}
		return `(` + most + `(` + in(`r.value`) + `) + ` + last + `) / 2.0`
	}
	return `SUM(CASE WHEN r.post = 1 THEN r.value ELSE 0.0 END)`
}

// MetricStats aggregates, in the database, each exposed unit's value of the
// metric and then the sufficient statistics per variant (and segment). Only
// outcomes from the unit's first exposure on count, and an outcome sent with
// an experiment counts only in that experiment. Memory does not grow with
// the number of events: Go receives one row per variant and segment.
func (s *Store) MetricStats(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery) ([]experiments.ArmStats, error) {
	query, args, err := s.metricStatsSQL(ctx, e, q)
	if err != nil {
		return nil, err
	}
	var out []experiments.ArmStats
	if err := s.db.SelectContext(ctx, &out, s.rebind(query), args...); err != nil {
		return nil, experiments.Internal(fmt.Errorf("aggregating %s/%s: %w", e.Key, q.Metric.Key, err))
	}
	return out, nil
}

func (s *Store) metricStatsSQL(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery) (string, []any, error) {
	if q.Stored && q.Cap == nil && q.SegmentAttribute == "" && q.FilterAttribute == "" {
		stored, err := s.storedValuesCurrent(ctx, e, q)
		if err != nil {
			return "", nil, err
		}
		if stored {
			return s.storedSumsSQL(e, q)
		}
	}
	perUnit, args, err := s.perUnitQuery(ctx, e, q)
	if err != nil {
		return "", nil, err
	}
	query := `SELECT segment, variant, ` + statsColumns + `
		FROM (` + perUnit + `) per_unit
		WHERE segment <> '' OR ? = ''
		GROUP BY segment, variant
		ORDER BY segment, variant`
	return query, append(args, q.SegmentAttribute), nil
}

// unitsExposedWithinSQL reads the stored values of the units whose stored
// exposure is in [lo, hi), found through the exposures by time: those whose
// exposure is unchanged since the last sync are exposed within [lo, hi)
// still, and the exposures moved since are stamped with the sync's sequence
// number or a later one (see movedExposuresSQL). Bound: metric, experiment,
// lo, hi, experiment, metric, lo, hi.
const unitsExposedWithinSQL = `SELECT u.unit_id, u.variant, u.exposed_at, u.v, u.pre, u.d
	FROM exposures x JOIN unit_values u ON u.experiment = x.experiment AND u.metric = ? AND u.unit_id = x.unit_id
	WHERE x.experiment = ? AND (x.ts >= ? AND x.ts < ?
		OR x.changed_seq >= (SELECT events_seq FROM unit_value_state WHERE experiment = ? AND metric = ?))
		AND u.exposed_at >= ? AND u.exposed_at < ?`

// storedSumsSQL aggregates the whole experiment from unit_value_sums: the
// hours wholly mature by q.AsOf from their sums, those wholly immature as
// counts, and the one hour the cutoff falls in unit by unit, from
// unit_values. It reads a few rows per arm and hour, whatever the units.
func (s *Store) storedSumsSQL(e *experiments.Experiment, q experiments.StatsQuery) (string, []any, error) {
	units, without := `units`, `null_units`
	if valueWithout(q.Metric) {
		units, without = `units + null_units`, `0`
	}
	key := []any{e.Key, q.Metric.Key}
	mature := `SELECT '' AS segment, variant, ` + summedColumns(units, `0`, without) + `
		FROM unit_value_sums WHERE experiment = ? AND metric = ?`
	cutoff, ok := matureCutoff(q)
	if !ok {
		return mature + ` GROUP BY variant ORDER BY variant`, key, nil
	}
	// The hour holding cutoff+1 is the first not wholly mature.
	hour := exposedHour(cutoff + 1)
	immature := `SELECT '' AS segment, variant, CAST(0 AS BIGINT), CAST(SUM(units + null_units) AS BIGINT), CAST(0 AS BIGINT),
			0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
		FROM unit_value_sums WHERE experiment = ? AND metric = ? AND exposed_hour > ? GROUP BY variant`
	lo, hi := hour*hourMicros, (hour+1)*hourMicros
	within, withinArgs, err := s.perUnitOver(e, q, unitsExposedWithinSQL, []any{q.Metric.Key, e.Key, lo, hi, e.Key, q.Metric.Key, lo, hi})
	if err != nil {
		return "", nil, err
	}
	query := `SELECT segment, variant, ` + summedColumns(`units`, `SUM(immature)`, `without_value`) + `
		FROM (` + mature + ` AND exposed_hour < ? GROUP BY variant
			UNION ALL ` + immature + `
			UNION ALL SELECT segment, variant, ` + statsColumns + ` FROM (` + within + `) per_unit GROUP BY segment, variant) parts
		GROUP BY segment, variant
		ORDER BY segment, variant`
	args := []any{e.Key, q.Metric.Key, hour, e.Key, q.Metric.Key, hour}
	return query, append(args, withinArgs...), nil
}

// summedColumns sums the columns of unit_value_sums, or of rows shaped
// like ArmStats, into ArmStats: units and without_value sum the given
// expressions, immature is the given expression.
func summedColumns(units, immature, without string) string {
	return `CAST(SUM(` + units + `) AS BIGINT) AS units, CAST(` + immature + ` AS BIGINT) AS immature,
			CAST(SUM(` + without + `) AS BIGINT) AS without_value, SUM(sum) AS sum, SUM(sum_sq) AS sum_sq,
			SUM(pre_sum) AS pre_sum, SUM(pre_sum_sq) AS pre_sum_sq, SUM(pre_cross) AS pre_cross,
			SUM(den_sum) AS den_sum, SUM(den_sum_sq) AS den_sum_sq, SUM(den_cross) AS den_cross`
}

// statsColumns aggregate a per-unit query's rows (per_unit) into ArmStats.
const statsColumns = `COUNT(v) AS units, SUM(immature) AS immature, SUM(no_value) AS without_value,
			COALESCE(SUM(v), 0.0) AS sum, COALESCE(SUM(v * v), 0.0) AS sum_sq,
			COALESCE(SUM(pre), 0.0) AS pre_sum, COALESCE(SUM(pre * pre), 0.0) AS pre_sum_sq, COALESCE(SUM(v * pre), 0.0) AS pre_cross,
			COALESCE(SUM(d), 0.0) AS den_sum, COALESCE(SUM(d * d), 0.0) AS den_sum_sq, COALESCE(SUM(v * d), 0.0) AS den_cross`

// CrossStats aggregates q's metric over e's units that are also exposed to
// each of others, by other experiment (Other), its arm (Segment) and e's
// arm (Variant): one pass over e's units however many others there are,
// each unit's other exposures found by their primary key.
func (s *Store) CrossStats(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery, others []string) ([]experiments.ArmStats, error) {
	if len(others) == 0 {
		return nil, nil
	}
	// The interaction check reads no pre-exposure values: without a
	// lookback the events path does not compute them.
	q.SegmentAttribute = ""
	if !q.Stored {
		q.Lookback = 0
	}
	perUnit, args, err := s.perUnitQuery(ctx, e, q)
	if err != nil {
		return nil, err
	}
	// sqlx.In expands the one slice argument, others, in place.
	query, args, err := sqlx.In(`SELECT y.experiment AS other, y.variant AS segment, per_unit.variant AS variant, `+statsColumns+`
		FROM (`+perUnit+`) per_unit
		JOIN exposures y ON y.unit_id = per_unit.unit_id AND y.experiment IN (?)
		GROUP BY y.experiment, y.variant, per_unit.variant
		ORDER BY 1, 2, 3`, append(args, others)...)
	if err != nil {
		return nil, experiments.Internal(err)
	}
	var out []experiments.ArmStats
	if err := s.db.SelectContext(ctx, &out, s.rebind(query), args...); err != nil {
		return nil, experiments.Internal(fmt.Errorf("aggregating %s/%s by other experiments: %w", e.Key, q.Metric.Key, err))
	}
	return out, nil
}

// SharedUnits counts e's exposed units that are also exposed to each of
// others, by other experiment (Other), its arm (Segment) and e's arm.
func (s *Store) SharedUnits(ctx context.Context, e *experiments.Experiment, others []string) ([]experiments.ArmStats, error) {
	if len(others) == 0 {
		return nil, nil
	}
	query, args, err := sqlx.In(`SELECT y.experiment AS other, y.variant AS segment, x.variant AS variant, COUNT(*) AS units
		FROM exposures x JOIN exposures y ON y.unit_id = x.unit_id AND y.experiment IN (?)
		WHERE x.experiment = ?
		GROUP BY y.experiment, y.variant, x.variant
		ORDER BY 1, 2, 3`, others, e.Key)
	if err != nil {
		return nil, experiments.Internal(err)
	}
	var out []experiments.ArmStats
	if err := s.db.SelectContext(ctx, &out, s.rebind(query), args...); err != nil {
		return nil, experiments.Internal(err)
	}
	return out, nil
}

// UnitValueQuantile computes R's type-7 quantile: with h = (n−1)p, the value
// of rank ⌊h⌋ plus (h − ⌊h⌋) of the step to the next.
func (s *Store) UnitValueQuantile(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery, p float64) (float64, error) {
	q.Cap, q.SegmentAttribute = nil, ""
	perUnit, args, err := s.perUnitQuery(ctx, e, q)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.GetContext(ctx, &n, s.rebind(`SELECT COUNT(v) FROM (`+perUnit+`) per_unit`), args...); err != nil {
		return 0, experiments.Internal(err)
	}
	if n == 0 {
		return 0, nil
	}
	h := float64(n-1) * p
	lo := math.Floor(h)
	var vals []float64
	query := `SELECT v FROM (` + perUnit + `) per_unit WHERE v IS NOT NULL ORDER BY v LIMIT 2 OFFSET ` + fmt.Sprint(int64(lo))
	if err := s.db.SelectContext(ctx, &vals, s.rebind(query), args...); err != nil {
		return 0, experiments.Internal(err)
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	return vals[0] + (h-lo)*(vals[1]-vals[0]), nil
}

// AttributeValues reads the exposures stamped since or later through
// exposures_changed, so that a refresh reads only what changed.
func (s *Store) AttributeValues(ctx context.Context, e *experiments.Experiment, since int64, limit int) (map[string][]string, error) {
	var rows []struct {
		Attribute string `db:"attribute"`
		Value     string `db:"value"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(s.attributeValuesSQL()), e.Key, since, limit); err != nil {
		return nil, experiments.Internal(err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Attribute] = append(out[r.Attribute], r.Value)
	}
	return out, nil
}

// attributeValuesSQL takes experiment, since and limit.
func (s *Store) attributeValuesSQL() string {
	pairs := `SELECT DISTINCT j.key AS attribute, CAST(j.value AS TEXT) AS value
		FROM exposures x, json_each(x.attributes) j WHERE x.experiment = ? AND x.changed_seq >= ?`
	if s.dialect == Postgres {
		pairs = `SELECT DISTINCT kv.key AS attribute, kv.value AS value
			FROM exposures x, jsonb_each_text(x.attributes::jsonb) kv WHERE x.experiment = ? AND x.changed_seq >= ?`
	}
	return `SELECT attribute, value FROM (
		SELECT attribute, value, ROW_NUMBER() OVER (PARTITION BY attribute ORDER BY value) AS rn
		FROM (` + pairs + `) d WHERE value IS NOT NULL) r
		WHERE rn <= ?`
}
