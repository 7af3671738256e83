package experiments_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
)

// BenchmarkStudyReport computes a study of 10 drivers with 1,000 bootstrap
// replicates over REVEALED_BENCH_STUDY_UNITS units (default 20,000) from the
// store, and reports the peak live heap while it runs: the units are
// streamed, so it must not grow with them.
func BenchmarkStudyReport(b *testing.B) {
	units := 20_000
	if v, err := strconv.Atoi(os.Getenv("REVEALED_BENCH_STUDY_UNITS")); err == nil && v > 0 {
		units = v
	}
	ctx := context.Background()
	svc := serviceOn(b, testdb.SQLite(b))
	rating := func(key string) experiments.QuestionInput {
		return experiments.QuestionInput{Key: key, Text: key, Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 10}}
	}
	study := experiments.StudyInput{Key: "bench", Name: "bench", Outcome: experiments.StudyVariable{Question: "overall"}}
	if _, err := svc.CreateQuestion(ctx, rating("overall")); err != nil {
		b.Fatal(err)
	}
	for d := range 10 {
		key := fmt.Sprintf("d%d", d)
		if _, err := svc.CreateQuestion(ctx, rating(key)); err != nil {
			b.Fatal(err)
		}
		study.Drivers = append(study.Drivers, experiments.StudyVariable{Key: key, Question: key})
	}
	if _, err := svc.CreateStudy(ctx, study); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var batch []experiments.Event
	for u := range units {
		unit := fmt.Sprintf("u%07d", u)
		overall := 0.0
		for d := range 10 {
			r := float64(1 + rng.IntN(10))
			overall += r * float64(d) / 45
			batch = append(batch, experiments.Event{ID: fmt.Sprintf("%s-%d", unit, d), Type: experiments.EventResponse, UnitID: unit, Question: fmt.Sprintf("d%d", d), Answer: r, TS: &at})
		}
		batch = append(batch, experiments.Event{ID: unit + "-o", Type: experiments.EventResponse, UnitID: unit, Question: "overall", Answer: float64(max(1, min(10, int(overall+0.5)))), TS: &at})
		if len(batch) >= 9_900 {
			if _, err := svc.Ingest(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := svc.Ingest(ctx, batch); err != nil {
		b.Fatal(err)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // samples the live heap while the report runs
		defer close(done)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		r, err := svc.StudyReport(ctx, "bench")
		if err != nil || r.N != int64(units) {
			b.Fatalf("report: %v, n %d", err, r.N)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(units), "units")
}
