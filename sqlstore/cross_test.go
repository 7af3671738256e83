package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// TestCrossStats: the statistics per (other experiment, its arm, own arm)
// over the units exposed to both, on both dialects; units in only one
// experiment are left out.
func TestCrossStats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		a, b := testExperiment("a"), testExperiment("b")
		for _, e := range []*experiments.Experiment{a, b} {
			if err := s.CreateExperiment(ctx, e, nil); err != nil {
				t.Fatal(err)
			}
		}
		var evs []experiments.StoredEvent
		for i := range 12 {
			unit := fmt.Sprintf("u%d", i)
			evs = append(evs, exposure(unit+"a", unit, "a", []string{"bot", "human"}[i%2], 1000))
			if i < 8 { // u8..u11 are not in b
				evs = append(evs, exposure(unit+"b", unit, "b", []string{"bot", "human"}[(i/2)%2], 1000))
			}
			evs = append(evs, outcome(unit+"o", unit, "", "csat", float64(i), 2000))
		}
		if _, err := s.Ingest(ctx, evs); err != nil {
			t.Fatal(err)
		}
		q := experiments.StatsQuery{Metric: a.Metrics[1]}
		cells, err := s.CrossStats(ctx, a, q, []string{"b", "nope"})
		if err != nil {
			t.Fatal(err)
		}
		// u0..u7: a's arm by i%2, b's by (i/2)%2; csat = i.
		want := map[[3]string][2]float64{ // units, sum
			{"b", "bot", "bot"}: {2, 0 + 4}, {"b", "bot", "human"}: {2, 1 + 5},
			{"b", "human", "bot"}: {2, 2 + 6}, {"b", "human", "human"}: {2, 3 + 7},
		}
		if len(cells) != len(want) {
			t.Fatalf("cells: %+v", cells)
		}
		for _, c := range cells {
			w, ok := want[[3]string{c.Other, c.Segment, c.Variant}]
			if !ok || float64(c.Units) != w[0] || c.Sum != w[1] {
				t.Errorf("cell %s/%s/%s: %d units, sum %v; want %v", c.Other, c.Segment, c.Variant, c.Units, c.Sum, w)
			}
		}
		shared, err := s.SharedUnits(ctx, a, []string{"b"})
		if err != nil || len(shared) != 4 || shared[0].Units != 2 {
			t.Errorf("shared units: %+v %v", shared, err)
		}
	})
}
