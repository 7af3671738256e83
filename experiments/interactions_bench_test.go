package experiments_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testdb"
)

// BenchmarkReportInteractions measures an experiment's report when 0, 1 or
// 3 other running experiments share its REVEALED_BENCH_UNITS units
// (default 20,000; two metrics, one outcome each per unit): what the
// interaction checks add to a report.
func BenchmarkReportInteractions(b *testing.B) {
	units := 20_000
	if v, err := strconv.Atoi(os.Getenv("REVEALED_BENCH_UNITS")); err == nil && v > 0 {
		units = v
	}
	for _, others := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("others=%d", others), func(b *testing.B) {
			ctx := context.Background()
			svc := serviceOn(b, testdb.SQLite(b))
			keys := []string{"a"}
			for i := range others {
				keys = append(keys, fmt.Sprintf("o%d", i))
			}
			for _, key := range keys {
				in := experiments.ExperimentInput{Key: key, Name: key, Unit: "customer_id",
					Variants: []assign.Variant{{Key: "c", Weight: 1, Control: true}, {Key: "t", Weight: 1}},
					Metrics: []experiments.Metric{{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true},
						{Key: "resolved", Kind: experiments.MetricBinary, HigherIsBetter: true}},
					Analysis: &experiments.AnalysisSettings{Segments: []string{"none"}}}
				if _, err := svc.CreateExperiment(ctx, in); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Start(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(3, 4))
			at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			later := at.Add(time.Hour)
			var batch []experiments.Event
			flush := func() {
				if _, err := svc.Ingest(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			for u := range units {
				unit := fmt.Sprintf("u%07d", u)
				for _, key := range keys {
					batch = append(batch, experiments.Event{ID: unit + key, Type: experiments.EventExposure, UnitID: unit, Experiment: key,
						Variant: []string{"c", "t"}[rng.IntN(2)], TS: &at})
				}
				csat, resolved := 3+rng.NormFloat64(), float64(rng.IntN(2))
				batch = append(batch,
					experiments.Event{ID: unit + "csat", Type: experiments.EventOutcome, UnitID: unit, Metric: "csat", Value: &csat, TS: &later},
					experiments.Event{ID: unit + "res", Type: experiments.EventOutcome, UnitID: unit, Metric: "resolved", Value: &resolved, TS: &later})
				if len(batch) >= 9_000 {
					flush()
				}
			}
			flush()
			b.ResetTimer()
			for range b.N {
				r, err := refreshReport(ctx, svc, "a")
				if err != nil || len(r.Interactions) != 2*others {
					b.Fatalf("report: %v, %d interactions", err, len(r.Interactions))
				}
			}
			b.ReportMetric(float64(units), "units")
		})
	}
}
