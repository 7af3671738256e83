package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/internal/windowref"
	"github.com/revealed-ab/revealed/sqlstore"
)

const hour = int64(time.Hour / time.Microsecond)

// TestWindowsAndAggregations checks every aggregation, with and without a
// window, maturity included, against values computed in Go from the raw
// events: ties in ts, outcomes exactly at a window's edges, units with one
// event and units with none, on both dialects.
func TestWindowsAndAggregations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		span := func(h int64) *experiments.Span { x := experiments.Span(time.Duration(h) * time.Hour); return &x }
		e := testExperiment("win")
		e.Metrics = nil
		var metrics []experiments.Metric
		windows := []*experiments.Window{nil, {From: 0, To: span(24)}, {From: *span(2), To: span(48)}, {From: *span(24)}}
		for _, agg := range []experiments.Aggregation{experiments.AggSum, experiments.AggCount, experiments.AggAny, experiments.AggMean,
			experiments.AggMin, experiments.AggMax, experiments.AggFirst, experiments.AggLast, experiments.AggPeakEnd} {
			for wi, w := range windows {
				m := experiments.Metric{Key: fmt.Sprintf("%s_%d", agg, wi), Kind: experiments.MetricMean, Source: "csat", Window: w, Aggregation: agg}
				if agg == experiments.AggPeakEnd && wi%2 == 1 {
					m.Peak = "min"
				}
				metrics = append(metrics, m)
			}
		}
		metrics = append(metrics, experiments.Metric{Key: "resolved_24h", Kind: experiments.MetricBinary, Source: "csat", Window: windows[1]})
		e.Metrics = metrics
		if err := s.CreateExperiment(ctx, e, nil); err != nil {
			t.Fatal(err)
		}

		rng := rand.New(rand.NewPCG(11, 12))
		start := int64(1_800_000_000) * 1_000_000
		asOf := start + 60*hour // units exposed after hour 36 are immature for a 24 h window
		exposedAt := map[string]int64{}
		raw := map[string][]windowref.Outcome{}
		var batch []experiments.StoredEvent
		for u := range 120 {
			unit := fmt.Sprintf("u%03d", u)
			x := start + int64(rng.IntN(48))*hour
			exposedAt[unit] = x
			batch = append(batch, exposure("x"+unit, unit, "win", []string{"bot", "human"}[u%2], x))
			n := rng.IntN(5) // some units have none, some one
			if u < 6 {
				n = 1
			}
			for k := range n {
				ts := x + int64(rng.IntN(60))*hour - 2*hour // some before exposure: never counted
				switch rng.IntN(6) {
				case 0:
					ts = x + 24*hour // exactly at a window's end: out of [0, 24h)
				case 1:
					ts = x + 2*hour // exactly at a window's start: in [2h, 48h)
				}
				value := float64(rng.IntN(11)) - 3
				id := fmt.Sprintf("o%s-%d", unit, k)
				batch = append(batch, outcome(id, unit, "", "csat", value, ts))
				raw[unit] = append(raw[unit], windowref.Outcome{ID: id, TS: ts, Value: value})
				if k == 0 && rng.IntN(3) == 0 { // a tie in ts, broken by id
					tie := fmt.Sprintf("o%s-%dz", unit, k)
					batch = append(batch, outcome(tie, unit, "", "csat", value+1, ts))
					raw[unit] = append(raw[unit], windowref.Outcome{ID: tie, TS: ts, Value: value + 1})
				}
			}
		}
		if _, err := s.Ingest(ctx, batch); err != nil {
			t.Fatal(err)
		}

		for _, m := range metrics {
			arms, err := s.MetricStats(ctx, e, experiments.StatsQuery{Metric: m, AsOf: asOf})
			if err != nil {
				t.Fatalf("%s: %v", m.Key, err)
			}
			want := map[string]*experiments.ArmStats{"bot": {Variant: "bot"}, "human": {Variant: "human"}}
			for u := range 120 {
				unit := fmt.Sprintf("u%03d", u)
				a := want[[]string{"bot", "human"}[u%2]]
				x := exposedAt[unit]
				if m.Window != nil && m.Window.To != nil && x+m.Window.To.Micros() > asOf {
					a.Immature++
					continue
				}
				v, ok := windowref.Value(m, x, raw[unit])
				if !ok {
					a.WithoutValue++
					continue
				}
				a.Units++
				a.Sum += v
				a.SumSq += v * v
			}
			if len(arms) != 2 {
				t.Fatalf("%s: %d arms", m.Key, len(arms))
			}
			for _, got := range arms {
				w := want[got.Variant]
				if got.Units != w.Units || got.Immature != w.Immature || got.WithoutValue != w.WithoutValue ||
					math.Abs(got.Sum-w.Sum) > 1e-9 || math.Abs(got.SumSq-w.SumSq) > 1e-9 {
					t.Errorf("%s, %s: units %d immature %d without %d sum %v sum² %v; want %d %d %d %v %v",
						m.Key, got.Variant, got.Units, got.Immature, got.WithoutValue, got.Sum, got.SumSq,
						w.Units, w.Immature, w.WithoutValue, w.Sum, w.SumSq)
				}
			}
		}
	})
}
