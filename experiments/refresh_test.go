package experiments_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// TestRefreshDue: the scheduler refreshes a running experiment that has no
// report, whose report is older than the interval, or whose claims or
// definition changed since, and nothing else; two replicas on one
// database never refresh the same experiment at once. On both dialects.
func TestRefreshDue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		a, b := serviceOn(t, dsn, experiments.WithClock(clock)), serviceOn(t, dsn, experiments.WithClock(clock)) // two replicas
		for _, key := range []string{"running", "draft"} {
			if _, err := a.CreateExperiment(ctx, experiments.ExperimentInput{Key: key, Name: key, Unit: "customer_id",
				Variants: []assign.Variant{{Key: "c", Weight: 1, Control: true}, {Key: "t", Weight: 1}},
				Metrics:  []experiments.Metric{{Key: "m", Kind: experiments.MetricBinary, HigherIsBetter: true}}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Start(ctx, "running"); err != nil { // computes its first report
			t.Fatal(err)
		}
		due := func(svc *experiments.Service) int {
			t.Helper()
			n, err := svc.RefreshDue(ctx, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := due(a); n != 0 {
			t.Errorf("just started: %d refreshed, want 0", n)
		}
		now = now.Add(59 * time.Minute)
		if n := due(b); n != 0 {
			t.Errorf("59 minutes later: %d refreshed, want 0", n)
		}
		now = now.Add(2 * time.Minute)
		if n := due(b); n != 1 {
			t.Errorf("an hour later: %d refreshed, want 1", n)
		}
		now = now.Add(time.Minute)
		share := 0.7
		if _, err := a.CreateClaim(ctx, "running", analysis.Claim{ID: "c", Kind: analysis.ClaimShare, Metric: "m",
			StatedShare: &share, SurveyN: 10, Statement: "70% do m"}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		if n := due(a); n != 1 {
			t.Errorf("after a new claim: %d refreshed, want 1", n)
		}
		r, err := b.Report(ctx, "running")
		if err != nil || len(r.Claims) != 1 || r.ComputedAt == nil || !r.ComputedAt.Equal(now) {
			t.Fatalf("the other replica reads: %v %+v", err, r)
		}
		// A replica holding the lease (here, one that died mid-refresh)
		// keeps the others off it until it expires.
		now = now.Add(2 * time.Hour)
		store, err := sqlstore.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		if ok, err := store.TryLease(ctx, "report:running", "dead-replica", now, 10*time.Minute); err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}
		if n := due(a); n != 0 {
			t.Errorf("while another replica holds the lease: %d refreshed, want 0", n)
		}
		now = now.Add(11 * time.Minute)
		if n := due(a); n != 1 {
			t.Errorf("after the lease expired: %d refreshed, want 1", n)
		}
	})
}

// TestAutomaticSegmentsFollowNewExposures: a refresh reads only the
// exposures stamped since the last one to choose the automatic segments
// (attributes with 2 to MaxSegmentValues values), and chooses what a
// replica that reads every exposure afresh chooses: after ingested
// exposures, and after assignments, which add no event and so carry the
// stamp the last sync read. On both dialects.
func TestAutomaticSegmentsFollowNewExposures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		open := func() *experiments.Service {
			return serviceOn(t, dsn, experiments.WithClock(func() time.Time { return now }))
		}
		svc := open()
		if _, err := svc.CreateExperiment(ctx, experiments.ExperimentInput{Key: "seg", Name: "seg", Unit: "customer_id",
			Variants: []assign.Variant{{Key: "c", Weight: 1, Control: true}, {Key: "t", Weight: 1}},
			Metrics:  []experiments.Metric{{Key: "m", Kind: experiments.MetricBinary, HigherIsBetter: true}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Start(ctx, "seg"); err != nil {
			t.Fatal(err)
		}
		unit := 0
		expose := func(attrs ...map[string]any) {
			t.Helper()
			var evs []experiments.Event
			for _, a := range attrs {
				unit++
				ts := now.Add(-time.Hour)
				evs = append(evs, experiments.Event{ID: fmt.Sprint("e", unit), Type: experiments.EventExposure, UnitID: fmt.Sprint("u", unit),
					Experiment: "seg", Variant: []string{"c", "t"}[unit%2], TS: &ts, Attributes: a})
			}
			if _, err := svc.Ingest(ctx, evs); err != nil {
				t.Fatal(err)
			}
		}
		segments := func(svc *experiments.Service) string {
			t.Helper()
			v, err := svc.Refresh(ctx, "seg")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, s := range v.Report.Segments {
				seen[s.Attribute] = true
			}
			return fmt.Sprint(slices.Sorted(maps.Keys(seen)))
		}
		check := func(when, want string) {
			t.Helper()
			if got := segments(svc); got != want {
				t.Errorf("%s: segments %s, want %s", when, got, want)
			}
			if got := segments(open()); got != want {
				t.Errorf("%s: a replica reading every exposure chose %s, want %s", when, got, want)
			}
		}

		expose(map[string]any{"plan": "free", "tier": 1.0}, map[string]any{"plan": "free", "tier": 2.0}, map[string]any{"plan": "free", "tier": 3.0})
		check("three tiers, one plan", "[tier]")

		var many []map[string]any
		for i := range experiments.MaxSegmentValues {
			many = append(many, map[string]any{"plan": "pro", "tier": float64(10 + i)})
		}
		expose(many...)
		check("a second plan, and tiers past the limit", "[plan]")

		for i := range 3 {
			if _, err := svc.Assign(ctx, experiments.AssignRequest{Experiment: "seg", UnitID: fmt.Sprint("assigned", i),
				Attributes: map[string]any{"region": []string{"eu", "us", "apac"}[i]}}); err != nil {
				t.Fatal(err)
			}
		}
		check("assignments with a new attribute", "[plan region]")
	})
}

// countingStore counts the scheduler's two kinds of work: copies of the
// outcomes by unit, and the listing that starts a check for due reports.
type countingStore struct {
	*sqlstore.Store
	copies, listings atomic.Int64
}

func (c *countingStore) CopyOutcomes(ctx context.Context) error {
	c.copies.Add(1)
	return c.Store.CopyOutcomes(ctx)
}

func (c *countingStore) ListExperiments(ctx context.Context) ([]*experiments.Experiment, error) {
	c.listings.Add(1)
	return c.Store.ListExperiments(ctx)
}

// TestRunRefresherCopiesOftenerThanItRefreshes: the scheduler copies the
// outcomes by unit at every copy tick, and checks for due reports only at
// its own, slower tick (and once at start).
func TestRunRefresherCopiesOftenerThanItRefreshes(t *testing.T) {
	ctx := context.Background()
	store, _ := storeAndServiceOn(t, testdb.SQLite(t))
	spy := &countingStore{Store: store}
	svc, err := experiments.NewService(ctx, spy)
	if err != nil {
		t.Fatal(err)
	}
	listingsBefore := spy.listings.Load()
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.RunRefresher(run, time.Hour, time.Hour, time.Millisecond); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); spy.copies.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	stop()
	<-done
	if copies := spy.copies.Load(); copies < 5 {
		t.Fatalf("%d copies in 10 s at a copy tick of 1 ms, want at least 5", copies)
	}
	if checks := spy.listings.Load() - listingsBefore; checks != 1 {
		t.Errorf("checked for due reports %d times with a due tick of 1 h, want once, at start", checks)
	}
}
