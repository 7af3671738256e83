package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// unitValueQueries are one query per aggregation, a window, a ratio and a
// CUPED lookback: every shape of value the store keeps.
func unitValueQueries() []experiments.StatsQuery {
	span := func(us int) *experiments.Span { s := experiments.Span(time.Duration(us) * time.Microsecond); return &s }
	csat := func(key string, agg experiments.Aggregation) experiments.Metric {
		return experiments.Metric{Key: key, Kind: experiments.MetricMean, Source: "csat", Aggregation: agg}
	}
	peakMin := csat("csat_trough_end", experiments.AggPeakEnd)
	peakMin.Peak = "min"
	windowed := csat("csat_window", experiments.AggSum)
	windowed.Window = &experiments.Window{From: *span(5), To: span(30)}
	open := csat("csat_open_window", experiments.AggCount)
	open.Window = &experiments.Window{From: *span(10)}
	qs := []experiments.StatsQuery{
		{Metric: experiments.Metric{Key: "resolved", Kind: experiments.MetricBinary}, Lookback: 40 * time.Microsecond},
		{Metric: csat("csat", experiments.AggSum), Lookback: 25 * time.Microsecond},
		{Metric: experiments.Metric{Key: "per_resolution", Kind: experiments.MetricRatio, Numerator: "csat", Denominator: "resolved"},
			Numerator: "csat", Denominator: "resolved"},
		{Metric: peakMin}, {Metric: windowed}, {Metric: open},
	}
	for _, agg := range []experiments.Aggregation{experiments.AggCount, experiments.AggMean, experiments.AggMin,
		experiments.AggMax, experiments.AggFirst, experiments.AggLast, experiments.AggPeakEnd} {
		qs = append(qs, experiments.StatsQuery{Metric: csat("csat_"+string(agg), agg)})
	}
	return qs
}

// eventSource makes random events over a small population, so that units
// collect many outcomes: late ones (ts before what is stored), repeated ids
// (duplicates, dropped by the store whatever their value), outcomes aimed
// at this or another experiment, and exposures that move a unit's first
// exposure earlier.
type eventSource struct {
	rng  *rand.Rand
	ids  []string
	next int
}

func (g *eventSource) event() experiments.StoredEvent {
	if g.rng.IntN(10) < 2 {
		return g.exposure()
	}
	unit := fmt.Sprintf("u%02d", g.rng.IntN(14))
	ts := int64(g.rng.IntN(120))
	var id string
	if len(g.ids) > 0 && g.rng.IntN(10) == 0 {
		id = g.ids[g.rng.IntN(len(g.ids))]
	} else {
		g.next++
		id = fmt.Sprintf("o%05d", g.next)
		g.ids = append(g.ids, id)
	}
	metric := []string{"csat", "csat", "resolved", "minutes"}[g.rng.IntN(4)]
	target := []string{"", "", "exp", "other"}[g.rng.IntN(4)]
	return outcome(id, unit, target, metric, float64(g.rng.IntN(6)), ts)
}

// exposure exposes a unit of a population larger than the one with
// outcomes, so that exposures keep arriving for units not seen before.
func (g *eventSource) exposure() experiments.StoredEvent {
	unit := fmt.Sprintf("u%02d", g.rng.IntN(40))
	variant := "bot"
	if unit[len(unit)-1]%2 == 1 {
		variant = "human"
	}
	g.next++
	return exposure(fmt.Sprintf("x%d", g.next), unit, "exp", variant, int64(g.rng.IntN(120)))
}

func (g *eventSource) batch() []experiments.StoredEvent {
	out := make([]experiments.StoredEvent, 1+g.rng.IntN(12))
	for i := range out {
		out[i] = g.event()
	}
	return out
}

// checkUnitValues fails unless every stored value equals the value computed
// from the events now, and the report's aggregates agree either way.
func checkUnitValues(t *testing.T, s *sqlstore.Store, e *experiments.Experiment, qs []experiments.StatsQuery, step string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range qs {
		stored, err := s.StoredUnitValues(ctx, e, q.Metric.Key)
		if err != nil {
			t.Fatal(err)
		}
		computed, err := s.ComputedUnitValues(ctx, e, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(stored, computed) {
			t.Fatalf("%s: %s: stored values differ from a recomputation:\nstored   %s\ncomputed %s", step, q.Metric.Key, show(stored), show(computed))
		}
		// At 60 µs the maturity cutoff falls inside the hour of every
		// exposure; at 10 µs every hour is immature, and two hours on every
		// hour is mature, so the whole-experiment aggregate reads only
		// unit_value_sums.
		for _, asOf := range []int64{60, 10, 7_200_000_000} {
			for _, segment := range []string{"", "generation"} {
				direct := q
				direct.SegmentAttribute, direct.AsOf = segment, asOf
				fromStore := direct
				fromStore.Stored = true
				a, err := s.MetricStats(ctx, e, direct)
				if err != nil {
					t.Fatal(err)
				}
				b, err := s.MetricStats(ctx, e, fromStore)
				if err != nil {
					t.Fatal(err)
				}
				if !statsClose(a, b) {
					t.Fatalf("%s: %s by %q at %d: stats from the events %+v, from the stored values %+v", step, q.Metric.Key, segment, asOf, a, b)
				}
			}
		}
	}
}

// statsClose compares aggregates that summed the same values in another
// order (Postgres hashes), so the last bits may differ.
func statsClose(a, b []experiments.ArmStats) bool {
	if len(a) != len(b) {
		return false
	}
	close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x)) }
	for i := range a {
		x, y := a[i], b[i]
		if x.Segment != y.Segment || x.Variant != y.Variant || x.Units != y.Units || x.Immature != y.Immature || x.WithoutValue != y.WithoutValue {
			return false
		}
		for _, f := range [][2]float64{{x.Sum, y.Sum}, {x.SumSq, y.SumSq}, {x.PreSum, y.PreSum}, {x.PreSumSq, y.PreSumSq},
			{x.PreCross, y.PreCross}, {x.DenSum, y.DenSum}, {x.DenSumSq, y.DenSumSq}, {x.DenCross, y.DenCross}} {
			if !close(f[0], f[1]) {
				return false
			}
		}
	}
	return true
}

func show(vs []sqlstore.UnitValue) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	out := ""
	for _, v := range vs {
		out += fmt.Sprintf("%s/%s@%d:%s,%s,%s ", v.UnitID, v.Variant, v.ExposedAt, f(v.V), f(v.Pre), f(v.D))
	}
	return out
}

// TestUnitValuesEqualRecomputation drives random sequences of writes and
// syncs, some of them cut short, and checks, after each whole sync, that the
// incrementally kept values are exactly those a recomputation from every
// event gives, and their sums what a GROUP BY over them gives.
func TestUnitValuesEqualRecomputation(t *testing.T) {
	// Chunks of 3 units and buckets of 8 sequence numbers, so that every
	// sync crosses chunks' bounds and copies whole and partial buckets.
	defer sqlstore.SetSyncChunk(3)()
	defer sqlstore.SetBucketBits(3)()
	// And most units changed, from 4 of them, computed afresh.
	defer sqlstore.SetOnePassUnits(4)()
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, e := openStoreWithExperiment(t, dsn, "exp")
		qs := unitValueQueries()
		for seed := range uint64(6) {
			g := &eventSource{rng: rand.New(rand.NewPCG(seed, 16)), next: int(seed) * 100000}
			for step := range 60 {
				switch r := g.rng.IntN(21); {
				case r == 20: // Postgres empties its unlogged tables after a crash
					if err := s.LoseUnloggedTables(ctx); err != nil {
						t.Fatal(err)
					}
				case r < 11:
					if _, err := s.Ingest(ctx, g.batch()); err != nil {
						t.Fatal(err)
					}
				case r < 12: // the refresher's copy of whole buckets
					if err := s.CopyOutcomes(ctx); err != nil {
						t.Fatal(err)
					}
				case r < 13: // exposures from /assign: no event row
					xs := []experiments.StoredEvent{g.exposure(), g.exposure()}
					if err := s.RecordExposures(ctx, xs); err != nil {
						t.Fatal(err)
					}
				case r < 14: // a metric's definition changes: its values are recomputed
					w := qs[4].Metric.Window
					to := experiments.Span(time.Duration(10+g.rng.IntN(40)) * time.Microsecond)
					qs[4].Metric.Window = &experiments.Window{From: w.From, To: &to}
					fallthrough
				case r < 15: // a sync cut short, between or inside its transactions
					cut, cancel := context.WithTimeout(ctx, time.Duration(g.rng.IntN(3000))*time.Microsecond)
					_, err := s.SyncUnitValues(cut, e, qs)
					cancel()
					if err != nil && cut.Err() == nil {
						t.Fatal(err)
					}
					fallthrough
				default:
					if _, err := s.SyncUnitValues(ctx, e, qs); err != nil {
						t.Fatal(err)
					}
					checkUnitValues(t, s, e, qs, fmt.Sprintf("seed %d step %d", seed, step))
				}
			}
		}
		// A metric the experiment no longer has leaves nothing behind.
		if _, err := s.SyncUnitValues(ctx, e, qs[:2]); err != nil {
			t.Fatal(err)
		}
		if left, err := s.StoredUnitValues(ctx, e, qs[2].Metric.Key); err != nil || len(left) != 0 {
			t.Errorf("values of a removed metric: %d (%v)", len(left), err)
		}
	})
}

// TestChangedUnitsWithAwkwardIDs checks that a sync finds and recomputes
// changed units whatever their ids hold: a chunk's units travel as JSON on
// SQLite and as an array on Postgres.
func TestChangedUnitsWithAwkwardIDs(t *testing.T) {
	defer sqlstore.SetSyncChunk(2)()
	ids := []string{`u"quoted"`, `back\slash`, `<a href="x">&amp;</a>`, `'); DROP TABLE unit_values; --`, `über`, `日本語`, `{"json":[1]}`, `  spaced  `, `null`, `u1`}
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, e := openStoreWithExperiment(t, dsn, "exp")
		qs := unitValueQueries()
		var events []experiments.StoredEvent
		for i, id := range ids {
			events = append(events, exposure(fmt.Sprintf("x%d", i), id, e.Key, []string{"bot", "human"}[i%2], int64(i)))
		}
		if _, err := s.Ingest(ctx, events); err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			events = events[:0]
			for i, id := range ids {
				if (i+round)%3 != 0 {
					events = append(events, outcome(fmt.Sprintf("o%d-%d", round, i), id, e.Key, "resolved", float64(round+1), int64(10*round+i+1)))
				}
			}
			if _, err := s.Ingest(ctx, events); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SyncUnitValues(ctx, e, qs); err != nil {
				t.Fatal(err)
			}
			checkUnitValues(t, s, e, qs, fmt.Sprintf("round %d", round))
		}
	})
}

// TestBackgroundCopyTakesWholeBuckets checks that the refresher's copy by
// unit stops at the end of the last complete bucket, and that a sync copies
// the rest.
func TestBackgroundCopyTakesWholeBuckets(t *testing.T) {
	defer sqlstore.SetBucketBits(3)()
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, e := openStoreWithExperiment(t, dsn, "exp")
		written := 0
		for _, n := range []int{5, 1, 2, 9, 17} {
			batch := make([]experiments.StoredEvent, n)
			for i := range batch {
				written++
				batch[i] = outcome(fmt.Sprintf("o%d", written), fmt.Sprintf("u%d", i%3), "", "csat", 1, int64(i))
			}
			if _, err := s.Ingest(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if err := s.CopyOutcomes(ctx); err != nil {
				t.Fatal(err)
			}
			copied, events, err := s.CopiedThrough(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if whole := (events+1)/8*8 - 1; copied != max(whole, 0) {
				t.Errorf("after %d events the copy reached %d, want the end of the last whole bucket, %d", events, copied, whole)
			}
		}
		through, err := s.SyncUnitValues(ctx, e, unitValueQueries()[:1])
		if err != nil {
			t.Fatal(err)
		}
		if copied, events, err := s.CopiedThrough(ctx); err != nil || copied != events || through != events {
			t.Errorf("after a sync the copy reached %d and the sync %d, want every event, %d (%v)", copied, through, events, err)
		}
	})
}

// TestUnitValuesSurviveKill kills a process writing events and syncing, with
// kill -9 at random moments, and then checks that a sync brings the stored
// values to exactly what a recomputation gives.
func TestUnitValuesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, e := openStoreWithExperiment(t, dsn, "exp")
		rng := rand.New(rand.NewPCG(7, 7))
		for round := range 4 {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestUnitValuesWriter$")
			cmd.Env = append(os.Environ(), "REVEALED_UNITVALUES_WRITER="+dsn, fmt.Sprint("REVEALED_UNITVALUES_SEED=", round))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()
		}
		qs := unitValueQueries()
		var n int
		if err := s.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM events`); err != nil || n == 0 {
			t.Fatalf("the writer stored %d events (%v)", n, err)
		}
		if _, err := s.SyncUnitValues(ctx, e, qs); err != nil {
			t.Fatal(err)
		}
		checkUnitValues(t, s, e, qs, "after kill -9")
		t.Logf("%d events written by 4 killed writers", n)
	})
}

// TestUnitValuesWriter is the process TestUnitValuesSurviveKill kills: it
// writes and syncs until it is killed.
func TestUnitValuesWriter(t *testing.T) {
	dsn := os.Getenv("REVEALED_UNITVALUES_WRITER")
	if dsn == "" {
		t.Skip("run by TestUnitValuesSurviveKill")
	}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := testExperiment("exp")
	var seed uint64
	fmt.Sscan(os.Getenv("REVEALED_UNITVALUES_SEED"), &seed)
	g := &eventSource{rng: rand.New(rand.NewPCG(seed, 99)), next: int(seed) * 1000000}
	qs := unitValueQueries()
	for i := 0; ; i++ {
		go s.Ingest(ctx, g.batch()) // writes in flight when the kill comes
		if _, err := s.Ingest(ctx, g.batch()); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if _, err := s.SyncUnitValues(ctx, e, qs); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestManyResetsAtOnce runs more resets at once than the SQLite pool has
// connections, each of which may compute on connections besides its own,
// and checks that all of them finish with the values a recomputation gives.
func TestManyResetsAtOnce(t *testing.T) {
	defer sqlstore.SetSyncChunk(2)()
	defer sqlstore.SetOnePassUnits(4)()
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, first := openStoreWithExperiment(t, dsn, "exp0")
		exps := []*experiments.Experiment{first}
		for i := 1; i < 12; i++ {
			e := testExperiment(fmt.Sprintf("exp%d", i))
			if err := s.CreateExperiment(ctx, e, nil); err != nil {
				t.Fatal(err)
			}
			exps = append(exps, e)
		}
		var events []experiments.StoredEvent
		for i, e := range exps {
			for u := range 20 {
				unit := fmt.Sprintf("u%02d", u)
				events = append(events, exposure(fmt.Sprintf("x%d-%d", i, u), unit, e.Key, []string{"bot", "human"}[u%2], int64(u)),
					outcome(fmt.Sprintf("o%d-%d", i, u), unit, e.Key, "resolved", 1, int64(u+i)))
			}
		}
		if _, err := s.Ingest(ctx, events); err != nil {
			t.Fatal(err)
		}
		qs := unitValueQueries()[:2]
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		errs := make(chan error, len(exps))
		for _, e := range exps {
			go func() {
				_, err := s.SyncUnitValues(ctx, e, qs)
				errs <- err
			}()
		}
		for range exps {
			if err := <-errs; err != nil {
				t.Fatalf("a sync among %d at once: %v", len(exps), err)
			}
		}
		for _, e := range exps {
			checkUnitValues(t, s, e, qs, e.Key)
		}
	})
}

// TestQuietCopyTakesTheIncompleteBucket checks that the refresher's copy by
// unit takes only whole buckets while events arrive, and the rest once no
// event has arrived since its last call.
func TestQuietCopyTakesTheIncompleteBucket(t *testing.T) {
	defer sqlstore.SetBucketBits(3)()
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		written := 0
		ingest := func(n int) {
			t.Helper()
			batch := make([]experiments.StoredEvent, n)
			for i := range batch {
				written++
				batch[i] = outcome(fmt.Sprintf("o%d", written), fmt.Sprintf("u%d", written%3), "", "csat", 1, int64(written))
			}
			if _, err := s.Ingest(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		var before int64
		copyAndCheck := func(when string, whole bool) {
			t.Helper()
			if err := s.CopyOutcomes(ctx); err != nil {
				t.Fatal(err)
			}
			copied, events, err := s.CopiedThrough(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := events
			if whole {
				want = max(before, (events+1)/8*8-1)
			}
			if copied != want {
				t.Errorf("%s: the copy reached %d of %d events, want %d", when, copied, events, want)
			}
			before = copied
		}
		ingest(11)
		copyAndCheck("events arrived since the last copy", true)
		copyAndCheck("no event since the last copy", false)
		ingest(3)
		copyAndCheck("events arrived, no bucket completed", true)
		ingest(3)
		copyAndCheck("events arrived, a bucket completed", true)
		copyAndCheck("quiet again", false)
		copyAndCheck("still quiet", false)
	})
}
