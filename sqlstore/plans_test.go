package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testdb"
)

// TestReportQueriesUseIndexes asks each engine for its plan of every query
// a refresh and a report run, and fails if one of them reads the events, or
// their copy by unit, other than through an index condition: a full scan of
// events is what made a 10M-event report take minutes.
func TestReportQueriesUseIndexes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := OpenMigrated(t, dsn)
		// Enough rows for the planner to weigh a range of sequence numbers
		// against whole indexes.
		var events []experiments.StoredEvent
		for u := range 1000 {
			unit := fmt.Sprintf("u%04d", u)
			events = append(events, experiments.StoredEvent{ID: "x" + unit, Type: experiments.EventExposure, UnitID: unit,
				Experiment: "exp", Variant: []string{"a", "b"}[u%2], TS: int64(u), Attributes: "{}"})
			for i := range 10 {
				events = append(events, experiments.StoredEvent{ID: fmt.Sprintf("o%s-%d", unit, i), Type: experiments.EventOutcome,
					UnitID: unit, Metric: []string{"csat", "resolved"}[i%2], Value: float64(i), TS: int64(u + i), Attributes: "{}"})
			}
		}
		if _, err := s.Ingest(ctx, events); err != nil {
			t.Fatal(err)
		}
		if err := s.CopyOutcomes(ctx); err != nil {
			t.Fatal(err)
		}
		conn, err := s.db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		e := &experiments.Experiment{Key: "exp", Variants: []assign.Variant{{Key: "a", Control: true}, {Key: "b"}}}
		window := experiments.Span(time.Hour)
		queries := map[string]experiments.StatsQuery{
			"sum with lookback": {Metric: experiments.Metric{Key: "csat", Kind: experiments.MetricMean}, Lookback: time.Hour},
			"binary":            {Metric: experiments.Metric{Key: "resolved", Kind: experiments.MetricBinary}},
			"ratio":             {Metric: experiments.Metric{Key: "r", Kind: experiments.MetricRatio}, Numerator: "csat", Denominator: "resolved"},
			"last in a window": {Metric: experiments.Metric{Key: "l", Kind: experiments.MetricMean, Source: "csat",
				Aggregation: experiments.AggLast, Window: &experiments.Window{To: &window}}},
		}
		// Stored values for every query, so that the stored reads are
		// planned as a refresh runs them.
		var qs []experiments.StatsQuery
		for _, q := range queries {
			qs = append(qs, q)
		}
		if _, err := s.SyncUnitValues(ctx, e, qs); err != nil {
			t.Fatal(err)
		}
		if s.dialect != Postgres {
			// Without statistics, as a SQLite database has unless someone
			// runs ANALYZE, the units with new outcomes are found by
			// sequence number, not by reading the metric's outcomes.
			changed, args, err := s.changedUnitsSQL(e, experiments.StatsQuery{Metric: experiments.Metric{Key: "csat"}}, 10, 20)
			if err != nil {
				t.Fatal(err)
			}
			if plan := strings.Join(s.sqlitePlan(t, conn, changed, args), "; "); !strings.Contains(plan, "SEARCH o USING INTEGER PRIMARY KEY") {
				t.Errorf("units with new outcomes are not found by sequence number: %s", plan)
			}
			// And a chunk of changed units, listed in JSON, is computed unit
			// by unit.
			in, inArgs, err := s.unitsIn([]string{"u0001", "u0150", "u0270"})
			if err != nil {
				t.Fatal(err)
			}
			chunk, args := s.unitValuesSQL(e, experiments.StatsQuery{Metric: experiments.Metric{Key: "csat", Kind: experiments.MetricMean}}, true, nil, in(`x.unit_id`), inArgs)
			if plan := strings.Join(s.sqlitePlan(t, conn, chunk, args), "; "); !strings.Contains(plan, "SEARCH o USING PRIMARY KEY (bucket=? AND metric=? AND unit_id=?") {
				t.Errorf("a chunk of units is not computed unit by unit: %s", plan)
			}
			// Unless the chunk is a reset's, which reads its range of units.
			span := &unitSpan{cond: `o.unit_id > ? AND o.unit_id <= ?`, args: []any{"u0100", "u0200"}}
			chunk, args = s.unitValuesSQL(e, experiments.StatsQuery{Metric: experiments.Metric{Key: "csat", Kind: experiments.MetricMean}}, true, span, `x.unit_id > ? AND x.unit_id <= ?`, []any{"u0100", "u0200"})
			if plan := strings.Join(s.sqlitePlan(t, conn, chunk, args), "; "); !strings.Contains(plan, "SEARCH o USING PRIMARY KEY (bucket=? AND metric=? AND unit_id>? AND unit_id<?)") {
				t.Errorf("a reset's chunk does not read its range of units: %s", plan)
			}
			// And the units of the hour a report's maturity cutoff falls in
			// are found by their exposure's time, or as moved since the sync,
			// not by reading every exposure.
			windowed := queries["last in a window"]
			windowed.Stored, windowed.AsOf = true, int64(time.Hour/time.Microsecond)+500
			stats, args, err := s.metricStatsSQL(ctx, e, windowed)
			if err != nil {
				t.Fatal(err)
			}
			if plan := strings.Join(s.sqlitePlan(t, conn, stats, args), "; "); !strings.Contains(plan, "MULTI-INDEX OR") {
				t.Errorf("the hour of the cutoff is not read through the exposures' indexes: %s", plan)
			}
			// And the automatic segments read only the exposures stamped
			// since the last refresh.
			if plan := strings.Join(s.sqlitePlan(t, conn, s.attributeValuesSQL(), []any{"exp", 5000, 21}), "; "); !strings.Contains(plan, "USING INDEX exposures_changed (experiment=? AND changed_seq>?)") {
				t.Errorf("the exposures changed since a refresh are not read through exposures_changed: %s", plan)
			}
		}
		if _, err := conn.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		if s.dialect == Postgres {
			// Tiny tables are cheapest to scan; the test asks whether an
			// index can serve each query, as it must on big ones.
			if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
				t.Fatal(err)
			}
		}
		for name, q := range queries {
			type query struct {
				sql  string
				args []any
			}
			var all = map[string]query{}
			full, args := s.unitValuesSQL(e, q, false, nil, "", nil)
			all["values of every unit, from the events"] = query{full, args}
			in, inArgs, err := s.unitsIn([]string{"u0001", "u0150"})
			if err != nil {
				t.Fatal(err)
			}
			chunk, args := s.unitValuesSQL(e, q, true, nil, in(`x.unit_id`), inArgs)
			all["values of a chunk of units, by unit"] = query{chunk, args}
			all["copy of outcomes"] = query{copyOutcomesSQL(), []any{10, 20}}
			changed, args, err := s.changedUnitsSQL(e, q, 10, 20)
			if err != nil {
				t.Fatal(err)
			}
			all["units with new outcomes"] = query{changed, args}
			all["units exposed since"] = query{movedExposuresSQL, []any{q.Metric.Key, e.Key, 10}}
			for _, stored := range []bool{false, true} {
				for _, segment := range []string{"", "generation", "answer:q"} {
					r := q
					// The maturity cutoff of the windowed metric falls inside
					// the hour of the exposures.
					r.Stored, r.SegmentAttribute, r.AsOf = stored, segment, int64(time.Hour/time.Microsecond)+500
					stats, args, err := s.metricStatsSQL(ctx, e, r)
					if err != nil {
						t.Fatal(err)
					}
					all[fmt.Sprintf("stats (stored %v, segment %q)", stored, segment)] = query{stats, args}
				}
			}
			for what, qq := range all {
				if bad := s.eventsScans(t, conn, qq.sql, qq.args); bad != "" {
					t.Errorf("%s, %s: reads events without an index condition: %s\n%s", name, what, bad, qq.sql)
				}
			}
		}
	})
}

// eventsScans returns the plan lines that read events or unit_outcomes
// (both aliased o in the queries) without an index condition, or "".
func (s *Store) eventsScans(t *testing.T, conn *sqlx.Conn, query string, args []any) string {
	t.Helper()
	ctx := context.Background()
	if s.dialect != Postgres {
		var bad []string
		for _, detail := range s.sqlitePlan(t, conn, query, args) {
			// "SEARCH o USING COVERING INDEX events_unit_outcomes (metric=? AND unit_id=? ...)"
			// reads a range; "SCAN o" reads the table, or a whole index.
			if strings.HasPrefix(detail, "SCAN o") || strings.HasPrefix(detail, "SCAN events") || strings.HasPrefix(detail, "SCAN unit_outcomes") {
				bad = append(bad, detail)
			}
		}
		return strings.Join(bad, "; ")
	}
	var out string
	if err := conn.GetContext(ctx, &out, `EXPLAIN (FORMAT JSON) `+s.rebind(query), args...); err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(node map[string]any)
	walk = func(node map[string]any) {
		if table := node["Relation Name"]; table == "events" || table == "unit_outcomes" {
			_, indexed := node["Index Cond"]
			_, rechecked := node["Recheck Cond"]
			if !indexed && !rechecked {
				bad = append(bad, fmt.Sprintf("%v on %v", node["Node Type"], table))
			}
		}
		children, _ := node["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	for _, p := range plans {
		walk(p.Plan)
	}
	return strings.Join(bad, "; ")
}

// sqlitePlan is SQLite's plan of query, one line per step.
func (s *Store) sqlitePlan(t *testing.T, conn *sqlx.Conn, query string, args []any) []string {
	t.Helper()
	rows, err := conn.QueryxContext(context.Background(), `EXPLAIN QUERY PLAN `+s.rebind(query), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestSyncAnalysesTablesWithoutFigures checks that a sync on Postgres first
// has the events and the exposures analysed when they never were, as with
// autovacuum off: both the one pass of a reset and the search for changed
// units are planned from those figures.
func TestSyncAnalysesTablesWithoutFigures(t *testing.T) {
	q := experiments.StatsQuery{Metric: experiments.Metric{Key: "csat", Kind: experiments.MetricMean}}
	for _, c := range []struct {
		name  string
		state bool // the metric's values were computed before any event came
	}{{"a reset", false}, {"changed units", true}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			s := OpenMigrated(t, testdb.Postgres(t))
			analysed := func() (n int) {
				t.Helper()
				if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema()
					AND relname IN ('events', 'exposures') AND COALESCE(last_analyze, last_autoanalyze) IS NOT NULL`); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if c.state {
				if _, err := s.db.ExecContext(ctx, `INSERT INTO unit_value_state (experiment, metric, fingerprint, events_seq, updated_at)
					VALUES ('exp', 'csat', $1, 0, 0)`, fingerprint(q)); err != nil {
					t.Fatal(err)
				}
			}
			events := []experiments.StoredEvent{
				{ID: "x1", Type: experiments.EventExposure, UnitID: "u1", Experiment: "exp", Variant: "a", TS: 1, Attributes: "{}"},
				{ID: "o1", Type: experiments.EventOutcome, UnitID: "u1", Metric: "csat", Value: 4, TS: 2, Attributes: "{}"},
			}
			if _, err := s.Ingest(ctx, events); err != nil {
				t.Fatal(err)
			}
			if n := analysed(); n != 0 {
				t.Skipf("%d of the tables were analysed before the sync (autovacuum is on)", n)
			}
			e := &experiments.Experiment{Key: "exp", Variants: []assign.Variant{{Key: "a", Control: true}, {Key: "b"}}}
			if _, err := s.SyncUnitValues(ctx, e, []experiments.StatsQuery{q}); err != nil {
				t.Fatal(err)
			}
			if n := analysed(); n != 2 {
				t.Errorf("%d of events and exposures analysed after the sync, want both", n)
			}
		})
	}
}

// TestDerivedTablesAreUnlogged checks that on Postgres the copy by unit and
// its progress, and the per-unit values, their sums and their state, write
// no WAL, and that the events they are computed from do.
func TestDerivedTablesAreUnlogged(t *testing.T) {
	ctx := context.Background()
	s := OpenMigrated(t, testdb.Postgres(t))
	var rows []struct {
		Name        string `db:"relname"`
		Persistence string `db:"relpersistence"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT relname, relpersistence::text AS relpersistence FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace
			AND relname IN ('unit_outcomes', 'unit_outcome_buckets', 'unit_outcomes_through', 'events', 'exposures',
				'unit_values', 'unit_value_sums', 'unit_value_state', 'report_snapshots')
		ORDER BY relname`); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"events": "p", "exposures": "p", "report_snapshots": "p", "unit_outcome_buckets": "u", "unit_outcomes": "u",
		"unit_outcomes_through": "u", "unit_values": "u", "unit_value_sums": "u", "unit_value_state": "u"}
	if len(rows) != len(want) {
		t.Fatalf("found %+v, want the tables %v", rows, want)
	}
	for _, r := range rows {
		if r.Persistence != want[r.Name] {
			t.Errorf("%s: relpersistence %q, want %q (u: unlogged, p: logged)", r.Name, r.Persistence, want[r.Name])
		}
	}
}

// TestIdleCopyLeavesEventWritesAlone checks that on Postgres the scheduler's
// copy, when no bucket has been completed since the last one, does not take
// the events barrier: it would wait for every event write in flight, and
// hold up those that follow.
func TestIdleCopyLeavesEventWritesAlone(t *testing.T) {
	ctx := context.Background()
	s := OpenMigrated(t, testdb.Postgres(t))
	e := &experiments.Experiment{Key: "idle"}
	if _, err := s.Ingest(ctx, []experiments.StoredEvent{{ID: "o1", Type: experiments.EventOutcome, UnitID: "u1", Experiment: e.Key, Metric: "m", TS: 1, ReceivedAt: 1}}); err != nil {
		t.Fatal(err)
	}
	writer, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback()
	if _, err := writer.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, eventsBarrier); err != nil {
		t.Fatal(err)
	}
	bounded, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.CopyOutcomes(bounded); err != nil {
		t.Fatalf("copying with no complete bucket while an event write is in flight: %v", err)
	}
}
