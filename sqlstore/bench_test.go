package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// BenchmarkIngest writes batches of 1,000 outcome events with time-ordered
// ids straight into the store, without HTTP or JSON.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, testdb.SQLite(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	b.ResetTimer()
	start := time.Now()
	for n := range b.N {
		b.StopTimer()
		events := make([]experiments.StoredEvent, batch)
		now := time.Now()
		for i := range events {
			events[i] = outcome(experiments.NewEventID(now), fmt.Sprintf("customer-%d", (n*batch+i)*7919%50000), "", "csat", 3, now.UnixMicro())
		}
		b.StartTimer()
		if _, err := s.Ingest(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkMetricStatsWindows aggregates one metric over 1M outcome events
// (100k units) as the report does, without a window and with each kind of
// window and aggregation: the bound is 1.5× the plain sum.
func BenchmarkMetricStatsWindows(b *testing.B) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, testdb.SQLite(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	e := testExperiment("bench")
	if err := s.CreateExperiment(ctx, e, nil); err != nil {
		b.Fatal(err)
	}
	const units, perUnit = 100_000, 10
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var batch []experiments.StoredEvent
	flush := func() {
		if _, err := s.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for u := range units {
		unit := fmt.Sprintf("customer-%06d", u)
		x := start + int64(u%1000)*int64(time.Minute/time.Microsecond)
		batch = append(batch, exposure(fmt.Sprintf("x%06d", u), unit, "bench", []string{"bot", "human"}[u%2], x))
		for k := range perUnit {
			ts := x + int64(k)*int64(6*time.Hour/time.Microsecond)
			batch = append(batch, outcome(fmt.Sprintf("o%06d-%d", u, k), unit, "", "csat", float64(1+(u+k)%5), ts))
		}
		if len(batch) >= 5000 {
			flush()
		}
	}
	flush()
	day := experiments.Span(24 * time.Hour)
	asOf := start + int64(100*24*time.Hour/time.Microsecond)
	metrics := []experiments.Metric{
		{Key: "csat", Kind: experiments.MetricMean},
		{Key: "csat_24h", Kind: experiments.MetricMean, Source: "csat", Window: &experiments.Window{To: &day}},
		{Key: "csat_mean_24h", Kind: experiments.MetricMean, Source: "csat", Window: &experiments.Window{To: &day}, Aggregation: experiments.AggMean},
		{Key: "csat_last", Kind: experiments.MetricMean, Source: "csat", Aggregation: experiments.AggLast},
		{Key: "csat_peak_end_24h", Kind: experiments.MetricMean, Source: "csat", Window: &experiments.Window{To: &day}, Aggregation: experiments.AggPeakEnd},
	}
	var qs []experiments.StatsQuery
	for _, m := range metrics {
		qs = append(qs, experiments.StatsQuery{Metric: m, AsOf: asOf})
	}
	stats := func(q experiments.StatsQuery) func(b *testing.B) {
		return func(b *testing.B) {
			for range b.N {
				if _, err := s.MetricStats(ctx, e, q); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	for _, q := range qs {
		b.Run(q.Metric.Key, stats(q))
	}
	// The same read from the values a refresh keeps: whole hours from their
	// sums, and, with the cutoff 8 hours into the exposures, that hour unit
	// by unit.
	if _, err := s.SyncUnitValues(ctx, e, qs); err != nil {
		b.Fatal(err)
	}
	for _, q := range qs {
		q.Stored = true
		b.Run(q.Metric.Key+"/stored", stats(q))
	}
	within := qs[1]
	within.Stored, within.AsOf = true, start+int64(32*time.Hour/time.Microsecond)
	b.Run(within.Metric.Key+"/stored/cutoff-within", stats(within))
}
