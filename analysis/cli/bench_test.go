package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeFileWith creates path and fills it with write.
func writeFileWith(tb testing.TB, path string, write func(io.Writer) error) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := write(f); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// writeSummaryCSV writes a summary file of metrics × variants, for the
// whole experiment and for each of segments segments.
func writeSummaryCSV(w io.Writer, metrics, variants, segments int) error {
	bw := bufio.NewWriter(w)
	rng := rand.New(rand.NewPCG(3, 4))
	fmt.Fprintln(bw, "metric,variant,kind,units,sum,sum_sq,pre_sum,pre_sum_sq,pre_cross,segment")
	for s := -1; s < segments; s++ {
		seg, scale := "", 1000*segments
		if s >= 0 {
			seg, scale = fmt.Sprintf("country=c%d", s), 1000
		}
		for m := range metrics {
			for v := range variants {
				n := scale + rng.IntN(scale/10)
				if m%2 == 0 {
					k := n * (30 + rng.IntN(10)) / 100
					fmt.Fprintf(bw, "m%d,v%d,binary,%d,%d,%d,,,,%s\n", m, v, n, k, k, seg)
					continue
				}
				mean := 10 + rng.Float64()
				fn := float64(n)
				fmt.Fprintf(bw, "m%d,v%d,mean,%d,%g,%g,%g,%g,%g,%s\n", m, v, n,
					mean*fn, (mean*mean+9)*fn, 10*fn, 109*fn, (10*mean+5)*fn, seg)
			}
		}
	}
	return bw.Flush()
}

// benchmarkRun runs the command on path. With units > 0 it also reports
// the bytes allocated per distinct unit (B/unit): the per-unit reader makes
// no garbage per row and grows its set of units page by page, so this is
// about its peak heap per unit, and a per-row allocation or a table that
// doubles by copying shows here.
func benchmarkRun(b *testing.B, path string, units int) {
	b.ReportAllocs()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if code := Run(context.Background(), []string{"--format", "json", path}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	runtime.ReadMemStats(&after)
	if units > 0 {
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(units), "B/unit")
	}
}

// BenchmarkAnalyzePerUnit1M: 250,000 units × 4 metrics = 1M rows, two
// variants, with segments and covariates.
func BenchmarkAnalyzePerUnit1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "perunit.csv")
	writeFileWith(b, path, func(w io.Writer) error {
		return writePerUnitCSV(w, 250_000, 4, 1, []string{"unit_id", "variant", "metric", "value", "segment", "covariate"})
	})
	benchmarkRun(b, path, 250_000)
}

// BenchmarkAnalyzePerUnit10M runs on the file of TestWritePerUnit10M, 10M
// rows of 2.5M units, when $REVEALED_BENCH_10M has it.
func BenchmarkAnalyzePerUnit10M(b *testing.B) {
	path := filepath.Join(os.Getenv("REVEALED_BENCH_10M"), "perunit-10m.csv")
	if _, err := os.Stat(path); os.Getenv("REVEALED_BENCH_10M") == "" || err != nil {
		b.Skip("set REVEALED_BENCH_10M to the directory of TestWritePerUnit10M's file")
	}
	benchmarkRun(b, path, 2_500_000)
}

// BenchmarkAnalyzeSummary: 20 metrics × 3 variants, overall and in 50
// segments (3,060 rows).
func BenchmarkAnalyzeSummary(b *testing.B) {
	path := filepath.Join(b.TempDir(), "summary.csv")
	writeFileWith(b, path, func(w io.Writer) error { return writeSummaryCSV(w, 20, 3, 50) })
	benchmarkRun(b, path, 0)
}

// TestWriteBenchFiles writes the benchmark inputs to $REVEALED_BENCH_DIR,
// for measuring the built command's time and peak memory from outside.
func TestWriteBenchFiles(t *testing.T) {
	dir := os.Getenv("REVEALED_BENCH_DIR")
	if dir == "" {
		t.Skip("set REVEALED_BENCH_DIR to write the benchmark files there")
	}
	writeFileWith(t, filepath.Join(dir, "perunit-1m.csv"), func(w io.Writer) error {
		return writePerUnitCSV(w, 250_000, 4, 1, []string{"unit_id", "variant", "metric", "value", "segment", "covariate"})
	})
	writeFileWith(t, filepath.Join(dir, "summary.csv"), func(w io.Writer) error { return writeSummaryCSV(w, 20, 3, 50) })
	// One million units, each with two metrics, and their answers.
	writeFileWith(t, filepath.Join(dir, "perunit-1m-units.csv"), func(w io.Writer) error {
		return writePerUnitCSV(w, 1_000_000, 2, 1, []string{"unit_id", "variant", "metric", "value", "segment"})
	})
	writeFileWith(t, filepath.Join(dir, "responses-1m-units.csv"), func(w io.Writer) error { return writeResponsesCSV(w, 1_000_000, 1) })
	writeFileWith(t, filepath.Join(dir, "saydo-claims.json"), func(w io.Writer) error {
		_, err := io.WriteString(w, `[{"id": "say-human", "statement": "Most would rather talk to a human", "kind": "say_do",
  "metric": "chose_human", "question": "agent_pref", "answer": "human"}]`+"\n")
		return err
	})
}

// TestWritePerUnit10M writes the file of issue 16 to $REVEALED_BENCH_10M (a
// directory): 2.5M units × 4 metrics = 10M rows, two variants, a segment and
// a covariate column, 419 MB. It is deterministic (seed 1), so that the time
// and peak memory of the built command can be compared across changes:
//
//	REVEALED_BENCH_10M=/tmp/rev10m go test ./analysis/cli -run TestWritePerUnit10M
//	go build -o /tmp/revealed ./cmd/revealed
//	/usr/bin/time -v /tmp/revealed analyze --format json /tmp/rev10m/perunit-10m.csv >/dev/null
func TestWritePerUnit10M(t *testing.T) {
	dir := os.Getenv("REVEALED_BENCH_10M")
	if dir == "" {
		t.Skip("set REVEALED_BENCH_10M to write the 10M-row per-unit file there")
	}
	writeFileWith(t, filepath.Join(dir, "perunit-10m.csv"), func(w io.Writer) error {
		return writePerUnitCSV(w, 2_500_000, 4, 1, []string{"unit_id", "variant", "metric", "value", "segment", "covariate"})
	})
}
