package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// The tests here hold the events input to the server's own code: its
// rules for a metric and its SQL for the per-unit values, on SQLite.

func newTestServer(t *testing.T) (*sqlstore.Store, *experiments.Service) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, testdb.SQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := experiments.NewService(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	return store, svc
}

// TestMetricsRulesMatchTheAPI: checkMetrics copies the API's rules for a
// metric (experiments.validateMetrics, unexported), so the CLI reads the
// metrics.json the API would refuse as the API does. Each case must be
// accepted by both, or refused by both with the same field and words.
func TestMetricsRulesMatchTheAPI(t *testing.T) {
	ctx := context.Background()
	_, svc := newTestServer(t)
	cases := []string{
		`{"key": "m", "kind": "mean"}`,
		`{"key": "", "kind": "mean"}`,
		`{"key": "Bad Key", "kind": "mean"}`,
		`{"key": "m", "kind": "mean"}, {"key": "m", "kind": "binary"}`,
		`{"key": "m", "kind": "median"}`,
		`{"key": "m", "kind": "mean", "numerator": "x"}`,
		`{"key": "r", "kind": "ratio"}`,
		`{"key": "r", "kind": "ratio", "numerator": "a", "denominator": "b"}`,
		`{"key": "a", "kind": "mean"}, {"key": "r", "kind": "ratio", "numerator": "a", "denominator": "r"}`,
		`{"key": "a", "kind": "mean", "aggregation": "max"}, {"key": "b", "kind": "mean"}, {"key": "r", "kind": "ratio", "numerator": "a", "denominator": "b"}`,
		`{"key": "a", "kind": "mean"}, {"key": "b", "kind": "mean"}, {"key": "r", "kind": "ratio", "numerator": "a", "denominator": "b", "window": {"from": "0h"}}`,
		`{"key": "a", "kind": "mean"}, {"key": "b", "kind": "mean"}, {"key": "r", "kind": "ratio", "numerator": "a", "denominator": "b"}`,
		`{"key": "m", "kind": "binary", "cap": {"absolute": 3}}`,
		`{"key": "m", "kind": "mean", "cap": {}}`,
		`{"key": "m", "kind": "mean", "cap": {"percentile": 1.5}}`,
		`{"key": "m", "kind": "mean", "cap": {"percentile": 0.99}}`,
		`{"key": "m", "kind": "mean", "source": "Not A Slug"}`,
		`{"key": "m", "kind": "mean", "window": {"from": "2h", "to": "2h"}}`,
		`{"key": "m", "kind": "mean", "window": {"from": "2h", "to": "3h"}, "aggregation": "last"}`,
		`{"key": "m", "kind": "mean", "aggregation": "median"}`,
		`{"key": "m", "kind": "binary", "aggregation": "count"}`,
		`{"key": "m", "kind": "binary", "aggregation": "any", "source": "s", "window": {"from": "0h", "to": "24h"}}`,
		`{"key": "m", "kind": "mean", "aggregation": "max", "peak": "max"}`,
		`{"key": "m", "kind": "mean", "aggregation": "peak_end", "peak": "most"}`,
		`{"key": "m", "kind": "mean", "aggregation": "peak_end", "peak": "min"}`,
		`{"key": "m", "kind": "mean", "prior": {"mean": 0, "variance": 0}}`,
		`{"key": "m", "kind": "mean", "prior": {"mean": 0, "variance": 0.1}}`,
	}
	for i, c := range cases {
		mf, err := parseMetrics("metrics.json", []byte(`{"metrics": [`+c+`]}`))
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		var got string
		if i, field, detail := checkMetrics(mf.metrics); field != "" {
			got = fmt.Sprintf("metrics[%d].%s: %s", i, field, detail)
		}
		_, err = svc.CreateExperiment(ctx, experiments.ExperimentInput{
			Key: fmt.Sprintf("e%d", i), Name: "e", Unit: "customer_id",
			Variants: []assign.Variant{{Key: "a", Weight: 1, Control: true}, {Key: "b", Weight: 1}},
			Metrics:  mf.metrics,
		})
		var want string
		var e *experiments.Error
		if errors.As(err, &e) {
			for _, f := range e.Fields {
				if strings.HasPrefix(f.Field, "metrics[") {
					want = f.Field + ": " + f.Detail
					break
				}
			}
		} else if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if got != want {
			t.Errorf("%s:\n the CLI says %q\n the API says %q", c, got, want)
		}
	}
}

// TestEventsMatchTheServer ingests the committed events file into the
// server's store and checks that the server's SQL (MetricStats, and the
// percentile of a capped metric) gives the CLI's arms, immature units and
// units without a value. With --as-of, the server is given only what had
// happened by then: the exposures and outcomes up to it.
func TestEventsMatchTheServer(t *testing.T) {
	ctx := context.Background()
	mf, err := readMetricsFile(eventsMetrics)
	if err != nil {
		t.Fatal(err)
	}
	units, _ := naiveEventUnits(t, eventsCSV)
	asOf, _ := time.Parse(time.RFC3339, eventsAsOf)
	for _, tc := range []struct {
		name string
		asOf *time.Time
	}{{"latest time", nil}, {"--as-of", &asOf}} {
		t.Run(tc.name, func(t *testing.T) {
			cut := int64(math.MaxInt64)
			if tc.asOf != nil {
				cut = tc.asOf.UnixMicro()
			}
			store, svc := newTestServer(t)
			e, err := svc.CreateExperiment(ctx, experiments.ExperimentInput{
				Key: "fix-vs-teach", Name: "Fix or teach", Unit: "customer_id",
				Variants: []assign.Variant{{Key: "teach", Weight: 1, Control: true}, {Key: "fix", Weight: 1}},
				Metrics:  mf.metrics,
			})
			if err != nil {
				t.Fatal(err)
			}
			var batch []experiments.StoredEvent
			latest := int64(0)
			for id, u := range units {
				if u.exposed > cut {
					continue
				}
				batch = append(batch, experiments.StoredEvent{ID: "x-" + id, Type: experiments.EventExposure, UnitID: id,
					Experiment: e.Key, Variant: u.variant, TS: u.exposed, ReceivedAt: u.exposed, Attributes: "{}"})
				latest = max(latest, u.exposed)
				for _, ev := range u.events {
					if ev.ts > cut {
						continue
					}
					batch = append(batch, experiments.StoredEvent{ID: ev.id, Type: experiments.EventOutcome, UnitID: id,
						Metric: ev.metric, Value: ev.value, TS: ev.ts, ReceivedAt: ev.ts, Attributes: "{}"})
					latest = max(latest, ev.ts)
				}
			}
			if _, err := store.Ingest(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if tc.asOf != nil {
				latest = cut
			}
			// A percentile cap is made absolute at the server's percentile,
			// over the units the metric reports, and must be the CLI's.
			metrics := &metricsFile{name: mf.name, metrics: slices.Clone(mf.metrics), lines: mf.lines}
			for i, m := range metrics.metrics {
				if c := m.Cap; c != nil && c.Percentile != nil {
					at, err := store.UnitValueQuantile(ctx, e, experiments.StatsQuery{Metric: m, AsOf: latest}, *c.Percentile)
					if err != nil {
						t.Fatal(err)
					}
					metrics.metrics[i].Cap = &experiments.Cap{Absolute: &at}
					d := readEventsFile(t, mf, tc.asOf)
					if want := fmt.Sprintf("%s capped at %s,", m.Key, fmtNum(at, false)); !strings.Contains(strings.Join(d.notes, "\n"), want) {
						t.Errorf("%s: the server caps at %v; the CLI's notes: %q", m.Key, at, d.notes)
					}
				}
			}
			d := readEventsFile(t, metrics, tc.asOf)
			for i, m := range metrics.metrics {
				got := d.metrics[i]
				q := experiments.StatsQuery{Metric: m, AsOf: latest}
				if c := m.Cap; c != nil {
					q.Cap = c.Absolute
				}
				if m.Kind == experiments.MetricRatio {
					num, _ := e.Metric(m.Numerator)
					den, _ := e.Metric(m.Denominator)
					q.Numerator, q.Denominator = num.SourceKey(), den.SourceKey()
				}
				arms, err := store.MetricStats(ctx, e, q)
				if err != nil {
					t.Fatal(err)
				}
				var immature, without int64
				for _, a := range arms {
					immature += a.Immature
					without += a.WithoutValue
					var g *analysis.Stats
					for j := range got.Arms {
						if got.Arms[j].Variant == a.Variant {
							g = &got.Arms[j].Stats
						}
					}
					close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-6*math.Max(1, math.Abs(y)) }
					if g == nil || g.Units != a.Units || !close(g.Sum, a.Sum) || !close(g.SumSq, a.SumSq) ||
						!close(g.DenSum, a.DenSum) || !close(g.DenSumSq, a.DenSumSq) || !close(g.DenCross, a.DenCross) {
						t.Errorf("%s, %s: the CLI has %+v, the server %+v", m.Key, a.Variant, g, a)
					}
				}
				if immature != got.ImmatureUnits || without != got.UnitsWithoutValue {
					t.Errorf("%s: the CLI leaves out %d immature and %d without a value, the server %d and %d",
						m.Key, got.ImmatureUnits, got.UnitsWithoutValue, immature, without)
				}
			}
		})
	}
}

func readEventsFile(t *testing.T, mf *metricsFile, asOf *time.Time) *data {
	t.Helper()
	f, err := os.Open(eventsCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := readEvents(context.Background(), f, eventsCSV, mf, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
