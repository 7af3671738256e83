package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// openStoreWithExperiment opens a migrated store holding testExperiment(key).
func openStoreWithExperiment(t *testing.T, dsn, key string) (*sqlstore.Store, *experiments.Experiment) {
	t.Helper()
	s := sqlstore.OpenMigrated(t, dsn)
	e := testExperiment(key)
	if err := s.CreateExperiment(context.Background(), e, nil); err != nil {
		t.Fatal(err)
	}
	return s, e
}

func testExperiment(key string) *experiments.Experiment {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	return &experiments.Experiment{
		Key: key, Name: "Human vs bot", Unit: "customer_id", Salt: key, Traffic: 1, Status: experiments.StatusRunning,
		Variants:  []assign.Variant{{Key: "bot", Weight: 0.5, Control: true}, {Key: "human", Weight: 0.5}},
		Targeting: []assign.Condition{},
		Metrics: []experiments.Metric{
			{Key: "resolved", Kind: experiments.MetricBinary, HigherIsBetter: true},
			{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true},
		},
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
}

func TestMigrations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := sqlstore.Open(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		current, latest, dirty, err := s.MigrationStatus(ctx)
		if err != nil || current != 0 || dirty || latest < 1 {
			t.Fatalf("fresh database: current %d latest %d dirty %v err %v; want 0, ≥1, false, nil", current, latest, dirty, err)
		}
		for range 2 { // the second run must be a no-op
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		current, _, _, err = s.MigrationStatus(ctx)
		if err != nil || current != latest {
			t.Fatalf("after migrate: version %d, want %d (err %v)", current, latest, err)
		}
	})
}

func TestExperiments(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		e := testExperiment("human-vs-bot")
		if err := s.CreateExperiment(ctx, e, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateExperiment(ctx, e, nil); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("duplicate create: %v, want conflict", err)
		}
		got, err := s.GetExperiment(ctx, e.Key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != e.Name || len(got.Variants) != 2 || !got.Variants[0].Control || got.Metrics[1].Key != "csat" ||
			!got.CreatedAt.Equal(e.CreatedAt) || got.StartedAt != nil {
			t.Fatalf("round trip changed the experiment: %+v", got)
		}
		if _, err := s.GetExperiment(ctx, "nope"); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("unknown key: %v, want not_found", err)
		}

		before, _ := s.CatalogVersion(ctx)
		next := *got
		next.Name, next.Version = "Renamed", got.Version+1
		if err := s.UpdateExperiment(ctx, &next, nil); err != nil {
			t.Fatal(err)
		}
		after, _ := s.CatalogVersion(ctx)
		if after <= before {
			t.Fatalf("catalog version did not move: %d → %d", before, after)
		}
		stale := *got
		stale.Name, stale.Version = "Lost update", got.Version+1
		if err := s.UpdateExperiment(ctx, &stale, nil); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("stale update: %v, want conflict", err)
		}
		list, err := s.ListExperiments(ctx)
		if err != nil || len(list) != 1 || list[0].Name != "Renamed" {
			t.Fatalf("list: %v %v", list, err)
		}
	})
}

func outcome(id, unit, experiment, metric string, value float64, ts int64) experiments.StoredEvent {
	return experiments.StoredEvent{ID: id, Type: experiments.EventOutcome, UnitID: unit, Experiment: experiment,
		Metric: metric, Value: value, TS: ts, ReceivedAt: ts, Attributes: "{}"}
}

func exposure(id, unit, experiment, variant string, ts int64) experiments.StoredEvent {
	return experiments.StoredEvent{ID: id, Type: experiments.EventExposure, UnitID: unit, Experiment: experiment,
		Variant: variant, TS: ts, ReceivedAt: ts, Attributes: `{"generation":"gen_z"}`}
}

func TestIngestCountsDuplicates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		first := []experiments.StoredEvent{
			outcome("e1", "u1", "", "csat", 4, 100),
			outcome("e2", "u1", "", "csat", 5, 101),
			outcome("e1", "u1", "", "csat", 4, 100), // repeated within the batch
		}
		res, err := s.Ingest(ctx, first)
		if err != nil || res != (experiments.IngestResult{Accepted: 2, Duplicates: 1}) {
			t.Fatalf("first batch: %+v %v; want 2 accepted, 1 duplicate", res, err)
		}
		res, err = s.Ingest(ctx, []experiments.StoredEvent{outcome("e2", "u1", "", "csat", 5, 101), outcome("e3", "u2", "", "csat", 3, 102)})
		if err != nil || res != (experiments.IngestResult{Accepted: 1, Duplicates: 1}) {
			t.Fatalf("second batch: %+v %v; want 1 accepted, 1 duplicate", res, err)
		}
		var n int
		if err := s.DB().Get(&n, `SELECT COUNT(*) FROM events`); err != nil || n != 3 {
			t.Fatalf("stored %d events (err %v), want 3", n, err)
		}
	})
}

// Concurrent batches are grouped into shared transactions; each request must
// still get its own counts and nothing may be lost or stored twice.
func TestIngestConcurrently(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		const writers, batches, size = 8, 10, 50
		var wg sync.WaitGroup
		results := make(chan experiments.IngestResult, writers*batches)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range batches {
					batch := make([]experiments.StoredEvent, size)
					for i := range batch {
						// Every writer also resends the first event of writer 0's batch b.
						id := fmt.Sprintf("w%d-b%d-e%d", w, b, i)
						if i == 0 {
							id = fmt.Sprintf("w0-b%d-e0", b)
						}
						batch[i] = outcome(id, "u", "", "csat", 1, int64(i))
					}
					res, err := s.Ingest(ctx, batch)
					if err != nil {
						t.Error(err)
						return
					}
					results <- res
				}
			}()
		}
		wg.Wait()
		close(results)
		var accepted, duplicates int
		for r := range results {
			accepted += r.Accepted
			duplicates += r.Duplicates
		}
		wantAccepted := writers*batches*(size-1) + batches
		if accepted != wantAccepted || duplicates != writers*batches*size-wantAccepted {
			t.Fatalf("accepted %d duplicates %d, want %d and %d", accepted, duplicates, wantAccepted, writers*batches*size-wantAccepted)
		}
		var n int
		if err := s.DB().Get(&n, `SELECT COUNT(*) FROM events`); err != nil || n != wantAccepted {
			t.Fatalf("stored %d, want %d (err %v)", n, wantAccepted, err)
		}
	})
}

// statsFixture stores four exposed units and one unexposed one; the
// expectations in TestMetricStats are computed by hand from it.
func statsFixture(t *testing.T, s *sqlstore.Store) *experiments.Experiment {
	t.Helper()
	ctx := context.Background()
	e := testExperiment("exp")
	if err := s.CreateExperiment(ctx, e, nil); err != nil {
		t.Fatal(err)
	}
	exposed := func(id, unit, variant, generation string, ts int64) experiments.StoredEvent {
		ev := exposure(id, unit, "exp", variant, ts)
		ev.Attributes = `{"generation":"` + generation + `","n":1}`
		return ev
	}
	events := []experiments.StoredEvent{
		// a: control; the outcome before its exposure is a pre-exposure value.
		exposed("x-a", "a", "bot", "gen_z", 10),
		outcome("o-a1", "a", "", "csat", 2, 5),
		outcome("o-a2", "a", "", "csat", 3, 20),
		outcome("o-a3", "a", "", "resolved", 0, 20), // an explicit non-event
		outcome("o-a4", "a", "", "resolved", 1, 30),
		// b: control with only a zero outcome.
		exposed("x-b", "b", "bot", "boomer", 10),
		outcome("o-b1", "b", "exp", "resolved", 0, 15),
		// c: treatment; an outcome aimed at another experiment does not count here.
		exposed("x-c", "c", "human", "gen_z", 10),
		outcome("o-c1", "c", "other", "csat", 100, 20),
		outcome("o-c2", "c", "exp", "csat", 5, 20),
		outcome("o-c3", "c", "", "csat", 1, 21),
		outcome("o-c4", "c", "", "resolved", 1, 21),
		// d: treatment, exposed twice; the earliest exposure counts.
		exposed("x-d2", "d", "human", "boomer", 10),
		exposed("x-d1", "d", "human", "boomer", 6),
		outcome("o-d1", "d", "", "csat", 2, 7),
		// e: never exposed; its outcomes count nowhere.
		outcome("o-e1", "e", "", "csat", 50, 20),
	}
	if _, err := s.Ingest(ctx, events); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMetricStats(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		e := statsFixture(t, s)
		resolved, csat := e.Metrics[0], e.Metrics[1]
		ratio := experiments.Metric{Key: "csat_per_resolution", Kind: experiments.MetricRatio}
		four := 4.0
		tests := []struct {
			name string
			q    experiments.StatsQuery
			want []experiments.ArmStats
		}{
			{"binary", experiments.StatsQuery{Metric: resolved}, []experiments.ArmStats{
				{Variant: "bot", Units: 2, Sum: 1, SumSq: 1}, {Variant: "human", Units: 2, Sum: 1, SumSq: 1}}},
			{"mean", experiments.StatsQuery{Metric: csat}, []experiments.ArmStats{
				{Variant: "bot", Units: 2, Sum: 3, SumSq: 9}, {Variant: "human", Units: 2, Sum: 8, SumSq: 40}}},
			{"mean with CUPED lookback", experiments.StatsQuery{Metric: csat, Lookback: 5 * time.Microsecond}, []experiments.ArmStats{
				{Variant: "bot", Units: 2, Sum: 3, SumSq: 9, PreSum: 2, PreSumSq: 4, PreCross: 6}, {Variant: "human", Units: 2, Sum: 8, SumSq: 40}}},
			{"lookback too short for the pre-exposure value", experiments.StatsQuery{Metric: csat, Lookback: 4 * time.Microsecond}, []experiments.ArmStats{
				{Variant: "bot", Units: 2, Sum: 3, SumSq: 9}, {Variant: "human", Units: 2, Sum: 8, SumSq: 40}}},
			{"capped mean", experiments.StatsQuery{Metric: csat, Cap: &four, Lookback: time.Second}, []experiments.ArmStats{
				{Variant: "bot", Units: 2, Sum: 3, SumSq: 9, PreSum: 2, PreSumSq: 4, PreCross: 6}, {Variant: "human", Units: 2, Sum: 6, SumSq: 20}}},
			{"ratio", experiments.StatsQuery{Metric: ratio, Numerator: "csat", Denominator: "resolved"}, []experiments.ArmStats{
				{Variant: "bot", Units: 2, Sum: 3, SumSq: 9, DenSum: 1, DenSumSq: 1, DenCross: 3},
				{Variant: "human", Units: 2, Sum: 8, SumSq: 40, DenSum: 1, DenSumSq: 1, DenCross: 6}}},
			{"segments", experiments.StatsQuery{Metric: csat, SegmentAttribute: "generation"}, []experiments.ArmStats{
				{Segment: "boomer", Variant: "bot", Units: 1}, {Segment: "boomer", Variant: "human", Units: 1, Sum: 2, SumSq: 4},
				{Segment: "gen_z", Variant: "bot", Units: 1, Sum: 3, SumSq: 9}, {Segment: "gen_z", Variant: "human", Units: 1, Sum: 6, SumSq: 36}}},
			{"segment attribute nobody has", experiments.StatsQuery{Metric: csat, SegmentAttribute: "plan"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.MetricStats(ctx, e, tt.q)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
			})
		}

		// csat per unit is 0, 2, 3, 6: the median by R's type 7 is 2.5.
		if q, err := s.UnitValueQuantile(ctx, e, experiments.StatsQuery{Metric: csat}, 0.5); err != nil || q != 2.5 {
			t.Errorf("median = %v (%v), want 2.5", q, err)
		}
		if q, err := s.UnitValueQuantile(ctx, e, experiments.StatsQuery{Metric: csat}, 1); err != nil || q != 6 {
			t.Errorf("maximum = %v (%v), want 6", q, err)
		}
		values, err := s.AttributeValues(ctx, e, 0, 10)
		if err != nil || fmt.Sprint(values) != "map[generation:[boomer gen_z] n:[1]]" {
			t.Errorf("AttributeValues = %v (%v), want generation boomer and gen_z, n 1", values, err)
		}
		if values, err := s.AttributeValues(ctx, e, 0, 1); err != nil || fmt.Sprint(values) != "map[generation:[boomer] n:[1]]" {
			t.Errorf("AttributeValues at most 1 each = %v (%v)", values, err)
		}
	})
}

func TestClaimsAndSnapshots(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		share := 0.74
		e := testExperiment("exp")
		if err := s.CreateExperiment(ctx, e, nil); err != nil {
			t.Fatal(err)
		}
		// save stores a claim version as validated against e, which moves
		// e's version as the store does.
		save := func(c *experiments.Claim, deleted bool) error {
			err := s.SaveClaim(ctx, e, c, deleted, nil)
			if err == nil {
				e.Version++
			}
			return err
		}
		c := &experiments.Claim{Claim: analysis.Claim{ID: "human", Statement: "74% prefer a human", Kind: analysis.ClaimShare,
			Metric: "resolved", StatedShare: &share, SurveyN: 2128}, Version: 1, CreatedAt: time.Unix(100, 0).UTC()}
		if err := save(c, false); err != nil {
			t.Fatal(err)
		}
		if err := save(c, false); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("saving version 1 twice: %v, want conflict", err)
		}
		stale := *e
		stale.Version--
		v2 := *c
		v2.Version, v2.Statement = 2, "74% would wait for a human"
		if err := s.SaveClaim(ctx, &stale, &v2, false, nil); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("a claim checked against an older definition was saved: %v, want conflict", err)
		}
		if err := save(&v2, false); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetExperiment(ctx, "exp"); err != nil || got.Version != e.Version {
			t.Fatalf("experiment version %v (%v), want %d: each claim change counts", got, err, e.Version)
		}
		list, err := s.Claims(ctx, "exp")
		if err != nil || len(list) != 1 || list[0].Version != 2 || list[0].Statement != v2.Statement {
			t.Fatalf("Claims = %+v (%v), want version 2 only", list, err)
		}
		v3 := v2
		v3.Version = 3
		if err := save(&v3, true); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.Claims(ctx, "exp"); len(list) != 0 {
			t.Fatalf("a deleted claim is still listed: %+v", list)
		}
		versions, deleted, err := s.ClaimHistory(ctx, "exp", "human")
		if err != nil || len(versions) != 3 || deleted[1] || !deleted[2] || versions[0].Statement != c.Statement {
			t.Fatalf("history: %+v %v %v", versions, deleted, err)
		}
		if _, _, err := s.ClaimHistory(ctx, "exp", "nope"); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("unknown claim: %v", err)
		}

		for i, body := range []string{`{"n":1}`, `{"n":2}`} {
			if err := s.SaveSnapshot(ctx, "exp", time.Unix(int64(1000+i), 0), []byte(body)); err != nil {
				t.Fatal(err)
			}
		}
		snaps, err := s.Snapshots(ctx, "exp", 10)
		if err != nil || len(snaps) != 2 || string(snaps[0].Report) != `{"n":2}` || !snaps[1].ComputedAt.Equal(time.Unix(1000, 0)) {
			t.Fatalf("snapshots, newest first: %+v (%v)", snaps, err)
		}
	})
}

func TestKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		k := &experiments.APIKey{ID: "key_1", Kind: experiments.KeySDK, Name: "web", Hash: experiments.HashSecret("secret"), CreatedAt: now}
		if err := s.CreateKey(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(ctx, k, nil); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("duplicate key: %v, want conflict", err)
		}
		if err := s.TouchKey(ctx, k.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.KeyByHash(ctx, k.Hash)
		if err != nil || got.Kind != experiments.KeySDK || got.LastUsedAt == nil || !got.LastUsedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("KeyByHash: %+v %v", got, err)
		}
		if err := s.RevokeKey(ctx, k.ID, now, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.KeyByHash(ctx, k.Hash); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("revoked key still found: %v", err)
		}
		if err := s.RevokeKey(ctx, k.ID, now, nil); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("second revoke: %v, want not_found", err)
		}
		if n, err := s.CountKeys(ctx); err != nil || n != 1 {
			t.Fatalf("CountKeys = %d, %v", n, err)
		}
	})
}

func TestSessions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		k := &experiments.APIKey{ID: "key_1", Kind: experiments.KeyAdmin, Name: "a", Hash: "h", CreatedAt: now}
		if err := s.CreateKey(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
		sess := &experiments.Session{TokenHash: "t1", KeyID: k.ID, CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		got, key, err := s.SessionByHash(ctx, "t1", now.Add(time.Minute))
		if err != nil || got.CSRF != "c" || key.Kind != experiments.KeyAdmin {
			t.Fatalf("live session: %+v %+v %v", got, key, err)
		}
		if _, _, err := s.SessionByHash(ctx, "t1", now.Add(2*time.Hour)); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("expired session: %v, want not_found", err)
		}
		if err := s.RevokeKey(ctx, k.ID, now, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByHash(ctx, "t1", now.Add(time.Minute)); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("session of a revoked key: %v, want not_found", err)
		}
		if err := s.DeleteSession(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
	})
}

// A change and its audit entry are one transaction: a refused change leaves
// no entry, and a stored change always has one.
func TestAuditEntriesCommitWithTheirChange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstore.OpenMigrated(t, dsn)
		entry := func(action string) *experiments.AuditEntry {
			return &experiments.AuditEntry{At: time.Unix(1, 0), Actor: "key_1", Action: action, Target: "experiment:exp",
				After: json.RawMessage(`{"status":"draft"}`)}
		}
		e := testExperiment("exp")
		if err := s.CreateExperiment(ctx, e, entry("experiment.create")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateExperiment(ctx, e, entry("duplicate create")); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("duplicate: %v", err)
		}
		stale := *e
		stale.Version = e.Version + 5 // not the next version: refused
		if err := s.UpdateExperiment(ctx, &stale, entry("stale update")); experiments.ErrorCode(err) != experiments.CodeConflict {
			t.Fatalf("stale update: %v", err)
		}
		if err := s.RevokeKey(ctx, "key_nope", time.Unix(2, 0), entry("revoke nothing")); experiments.ErrorCode(err) != experiments.CodeNotFound {
			t.Fatalf("revoking an unknown key: %v", err)
		}
		log, err := s.Audit(ctx, "", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Action != "experiment.create" || log[0].Actor != "key_1" || string(log[0].After) != `{"status":"draft"}` {
			t.Fatalf("audit log %+v, want only the create", log)
		}
	})
}
