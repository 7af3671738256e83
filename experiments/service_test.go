package experiments_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testdb"
)

// newService is a Service over a real SQLite store; TestSayDo runs on
// Postgres too, through serviceOn.
func newService(t *testing.T) *experiments.Service {
	t.Helper()
	return serviceOn(t, testdb.SQLite(t))
}

func input() experiments.ExperimentInput {
	return experiments.ExperimentInput{
		Key: "human-vs-bot", Name: "Human vs bot", Unit: "customer_id",
		Variants: []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}},
		Metrics: []experiments.Metric{
			{Key: "chose_human", Kind: experiments.MetricBinary, HigherIsBetter: true},
			{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true},
		},
	}
}

func mustCreate(t *testing.T, svc *experiments.Service, in experiments.ExperimentInput) {
	t.Helper()
	if _, err := svc.CreateExperiment(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// wantError fails unless err has the code and names field (when given).
func wantError(t *testing.T, err error, code experiments.Code, field string) {
	t.Helper()
	if experiments.ErrorCode(err) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	if field == "" {
		return
	}
	e := err.(*experiments.Error)
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("error %v does not name %s", err, field)
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	mustCreate(t, svc, input())
	_, err := svc.CreateExperiment(ctx, input())
	wantError(t, err, experiments.CodeConflict, "")
	_, err = svc.Stop(ctx, "human-vs-bot")
	wantError(t, err, experiments.CodeConflict, "")
	e, err := svc.Start(ctx, "human-vs-bot")
	if err != nil || e.Status != experiments.StatusRunning || e.StartedAt == nil {
		t.Fatalf("start: %+v %v", e, err)
	}
	_, err = svc.Start(ctx, "human-vs-bot")
	wantError(t, err, experiments.CodeConflict, "")
	if e, err = svc.Stop(ctx, "human-vs-bot"); err != nil || e.Status != experiments.StatusStopped || e.StoppedAt == nil {
		t.Fatalf("stop: %+v %v", e, err)
	}
	_, err = svc.Start(ctx, "human-vs-bot")
	wantError(t, err, experiments.CodeConflict, "")
	_, err = svc.Start(ctx, "nope")
	wantError(t, err, experiments.CodeNotFound, "")
}

// TestLocking: once started, exactly the fields Experiment.Locked names
// refuse a change (409), and everything else may still change.
func TestLocking(t *testing.T) {
	tests := []struct {
		field  string // "" for a change that stays allowed
		change func(in *experiments.ExperimentInput)
	}{
		{"variants", func(in *experiments.ExperimentInput) { in.Variants[1].Weight = 3 }},
		{"variants", func(in *experiments.ExperimentInput) { in.Variants[1].Key = "person" }},
		{"salt", func(in *experiments.ExperimentInput) { in.Salt = "other" }},
		{"traffic", func(in *experiments.ExperimentInput) { half := 0.5; in.Traffic = &half }},
		{"unit", func(in *experiments.ExperimentInput) { in.Unit = "account_id" }},
		{"analysis.sequential", func(in *experiments.ExperimentInput) {
			off := false
			in.Analysis = &experiments.AnalysisSettings{Sequential: &off}
		}},
		{"analysis.n_star", func(in *experiments.ExperimentInput) { in.Analysis = &experiments.AnalysisSettings{NStar: 900} }},
		{"", func(in *experiments.ExperimentInput) { in.Name = "Renamed" }},
		{"", func(in *experiments.ExperimentInput) { in.Analysis = &experiments.AnalysisSettings{Alpha: 0.01} }},
		{"", func(in *experiments.ExperimentInput) {
			in.Metrics = append(in.Metrics, experiments.Metric{Key: "minutes", Kind: experiments.MetricMean})
		}},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, tc.field), func(t *testing.T) {
			ctx := context.Background()
			svc := newService(t)
			mustCreate(t, svc, input())
			draft, _ := svc.GetExperiment(ctx, "human-vs-bot")
			if tc.field != "" && draft.Locked(tc.field) {
				t.Fatalf("a draft's %s is locked", tc.field)
			}
			running, err := svc.Start(ctx, "human-vs-bot")
			if err != nil {
				t.Fatal(err)
			}
			in := input()
			tc.change(&in)
			_, err = svc.UpdateExperiment(ctx, "human-vs-bot", in)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("an allowed change was refused: %v", err)
				}
				return
			}
			wantError(t, err, experiments.CodeConflict, "")
			if !running.Locked(tc.field) {
				t.Errorf("Locked(%q) is false for a running experiment, but the service refuses the change", tc.field)
			}
		})
	}
}

func share(x float64) *float64 { return &x }

// TestClaimIntegrity: a claim is checked against its experiment when it is
// written, and an edit of the experiment against every live claim, so a
// claim the report cannot test is never stored.
func TestClaimIntegrity(t *testing.T) {
	shareClaim := analysis.Claim{ID: "human-74", Statement: "74% want a human", Kind: analysis.ClaimShare,
		Metric: "chose_human", StatedShare: share(0.74), SurveyN: 2128}
	effectClaim := analysis.Claim{ID: "human-csat", Statement: "a human satisfies more", Kind: analysis.ClaimEffect,
		Metric: "csat", Preferred: "human", SurveyN: 2128}
	tests := []struct {
		name  string
		claim analysis.Claim
		edit  func(in *experiments.ExperimentInput)
		field string // the field the 409 names
	}{
		{"metric removed", shareClaim, func(in *experiments.ExperimentInput) { in.Metrics = in.Metrics[1:] }, "claims[human-74].metric"},
		{"binary metric made a mean", shareClaim, func(in *experiments.ExperimentInput) { in.Metrics[0].Kind = experiments.MetricMean }, "claims[human-74].metric"},
		{"preferred variant removed", effectClaim, func(in *experiments.ExperimentInput) {
			in.Variants = []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "person", Weight: 1}}
		}, "claims[human-csat].preferred"},
		{"preferred variant made the control", effectClaim, func(in *experiments.ExperimentInput) {
			in.Variants[0].Control, in.Variants[1].Control = false, true
		}, "claims[human-csat].other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			svc := newService(t)
			mustCreate(t, svc, input())
			if _, err := svc.CreateClaim(ctx, "human-vs-bot", tc.claim); err != nil {
				t.Fatal(err)
			}
			in := input()
			tc.edit(&in)
			_, err := svc.UpdateExperiment(ctx, "human-vs-bot", in)
			wantError(t, err, experiments.CodeConflict, tc.field)
			if !strings.Contains(err.Error(), tc.claim.ID) {
				t.Errorf("the refusal does not name the claim: %v", err)
			}
			if err := svc.DeleteClaim(ctx, "human-vs-bot", tc.claim.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UpdateExperiment(ctx, "human-vs-bot", in); err != nil {
				t.Fatalf("with the claim deleted, the edit is refused: %v", err)
			}
			r, err := refreshReport(ctx, svc, "human-vs-bot")
			if err != nil || len(r.Claims) != 0 {
				t.Fatalf("report after the edit: %v, %d claims", err, len(r.Claims))
			}
		})
	}

	t.Run("claims are checked when written", func(t *testing.T) {
		ctx := context.Background()
		svc := newService(t)
		mustCreate(t, svc, input())
		bad := []struct {
			claim analysis.Claim
			field string
		}{
			{analysis.Claim{ID: "gap1", Kind: analysis.ClaimSegmentGap, Metric: "chose_human", SurveyN: 1, Statement: "x",
				SegmentA: "generation=gen_z", StatedA: share(0.76), SegmentB: "generation=boomer", StatedB: share(0.51)}, "survey_n"},
			{analysis.Claim{ID: "s", Kind: analysis.ClaimShare, Metric: "csat", SurveyN: 10, Statement: "x", StatedShare: share(0.5)}, "metric"},
			{analysis.Claim{ID: "e", Kind: analysis.ClaimEffect, Metric: "csat", SurveyN: 10, Statement: "x", Preferred: "nobody"}, "preferred"},
			{analysis.Claim{ID: "Bad Id", Kind: analysis.ClaimShare, Metric: "chose_human", SurveyN: 10, Statement: "x", StatedShare: share(0.5)}, "id"},
			{analysis.Claim{ID: "k", Kind: "vibe", Metric: "chose_human", SurveyN: 10, Statement: "x"}, "kind"},
		}
		for _, b := range bad {
			_, err := svc.CreateClaim(ctx, "human-vs-bot", b.claim)
			wantError(t, err, experiments.CodeInvalid, b.field)
		}
		if claims, _ := svc.Claims(ctx, "human-vs-bot"); len(claims) != 0 {
			t.Fatalf("refused claims were stored: %+v", claims)
		}
		if _, err := svc.CreateClaim(ctx, "human-vs-bot", shareClaim); err != nil {
			t.Fatal(err)
		}
		edited := shareClaim
		edited.Metric = "csat"
		_, err := svc.UpdateClaim(ctx, "human-vs-bot", "human-74", edited)
		wantError(t, err, experiments.CodeInvalid, "metric")
	})
}

// TestIngestValidation: every invalid event is refused by index and field,
// and the batch stores nothing.
func TestIngestValidation(t *testing.T) {
	value := func(x float64) *float64 { return &x }
	tests := []struct {
		name  string
		event experiments.Event
		field string
	}{
		{"value above the bound", experiments.Event{Type: experiments.EventOutcome, UnitID: "u", Metric: "csat", Value: value(1e10)}, "events[1].value"},
		{"value below the bound", experiments.Event{Type: experiments.EventOutcome, UnitID: "u", Metric: "csat", Value: value(-2e9)}, "events[1].value"},
		{"NaN", experiments.Event{Type: experiments.EventOutcome, UnitID: "u", Metric: "csat", Value: value(math.NaN())}, "events[1].value"},
		{"no value", experiments.Event{Type: experiments.EventOutcome, UnitID: "u", Metric: "csat"}, "events[1].value"},
		{"unknown metric", experiments.Event{Type: experiments.EventOutcome, UnitID: "u", Metric: "nps", Value: value(1)}, "events[1].metric"},
		{"exposure without a variant", experiments.Event{Type: experiments.EventExposure, UnitID: "u", Experiment: "human-vs-bot"}, "events[1].variant"},
		{"unknown variant", experiments.Event{Type: experiments.EventExposure, UnitID: "u", Experiment: "human-vs-bot", Variant: "x"}, "events[1].variant"},
		{"no unit", experiments.Event{Type: experiments.EventOutcome, Metric: "csat", Value: value(1)}, "events[1].unit_id"},
		{"no type", experiments.Event{UnitID: "u"}, "events[1].type"},
	}
	ctx := context.Background()
	svc := newService(t)
	mustCreate(t, svc, input())
	if _, err := svc.Start(ctx, "human-vs-bot"); err != nil {
		t.Fatal(err)
	}
	good := experiments.Event{Type: experiments.EventOutcome, UnitID: "u", Metric: "csat", Value: value(experiments.MaxOutcomeValue)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Ingest(ctx, []experiments.Event{good, tc.event})
			wantError(t, err, experiments.CodeInvalid, tc.field)
		})
	}
	res, err := svc.Ingest(ctx, []experiments.Event{good})
	if err != nil || res.Accepted != 1 {
		t.Fatalf("a value at the bound: %+v %v; refused batches stored something, or the bound itself is refused", res, err)
	}
}

// TestWindowedMetrics: outcome events are named by a metric's source, a
// metric's window decides which count, and a unit whose window is still
// open is reported as immature rather than counted as a zero.
func TestWindowedMetrics(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	day, _ := experiments.ParseSpan("1d")
	quarter, _ := experiments.ParseSpan("90d")
	in := input()
	in.Metrics = []experiments.Metric{
		{Key: "csat_24h", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat", Window: &experiments.Window{To: &day}, Aggregation: experiments.AggMean},
		{Key: "tickets_90d", Kind: experiments.MetricMean, Source: "tickets", Window: &experiments.Window{To: &quarter}},
	}
	in.Analysis = &experiments.AnalysisSettings{CUPEDLookbackDays: -1}
	mustCreate(t, svc, in)
	if _, err := svc.Start(ctx, "human-vs-bot"); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *time.Time { x := time.Now().Add(d).UTC(); return &x }
	v := func(x float64) *float64 { return &x }
	var batch []experiments.Event
	// u1, u2 were exposed 100 days ago: mature for both; u3 two days ago:
	// mature for csat_24h only.
	for i, u := range []string{"u1", "u2", "u3"} {
		ago := -100 * 24 * time.Hour
		if u == "u3" {
			ago = -48 * time.Hour
		}
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: "human-vs-bot", Variant: []string{"bot", "human"}[i%2], TS: at(ago)},
			experiments.Event{Type: experiments.EventOutcome, UnitID: u, Experiment: "human-vs-bot", Metric: "csat", Value: v(4), TS: at(ago + time.Hour)},
			experiments.Event{Type: experiments.EventOutcome, UnitID: u, Experiment: "human-vs-bot", Metric: "csat", Value: v(1), TS: at(ago + 30*time.Hour)}, // outside 24 h
			experiments.Event{Type: experiments.EventOutcome, UnitID: u, Metric: "tickets", Value: v(1), TS: at(ago + 40*time.Hour)})
	}
	if _, err := svc.Ingest(ctx, batch); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Ingest(ctx, []experiments.Event{{Type: experiments.EventOutcome, UnitID: "u1", Experiment: "human-vs-bot", Metric: "csat_24h", Value: v(5)}})
	wantError(t, err, experiments.CodeInvalid, "events[0].metric")

	r, err := refreshReport(ctx, svc, "human-vs-bot")
	if err != nil {
		t.Fatal(err)
	}
	units := func(m int) (n int64) {
		for _, a := range r.Metrics[m].Variants {
			n += a.Units
		}
		return n
	}
	if units(0) != 3 || r.Metrics[0].ImmatureUnits != 0 || r.Metrics[0].Variants[0].Mean != 4 {
		t.Errorf("csat_24h: %d units, %d immature, bot mean %v; want 3, 0 and 4 (the 30 h rating is outside)", units(0), r.Metrics[0].ImmatureUnits, r.Metrics[0].Variants[0].Mean)
	}
	if units(1) != 2 || r.Metrics[1].ImmatureUnits != 1 {
		t.Errorf("tickets_90d: %d units, %d immature; want 2 and 1", units(1), r.Metrics[1].ImmatureUnits)
	}
}

// TestSampleRatioCountsEveryExposedUnit: the sample-ratio check counts each
// arm's exposed units, though the first metric leaves some of them out as
// immature or without a value.
func TestSampleRatioCountsEveryExposedUnit(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	quarter, _ := experiments.ParseSpan("90d")
	in := input()
	in.Metrics = []experiments.Metric{
		{Key: "csat_90d", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat", Window: &experiments.Window{To: &quarter}, Aggregation: experiments.AggMean},
		{Key: "chose_human", Kind: experiments.MetricBinary, HigherIsBetter: true},
	}
	mustCreate(t, svc, in)
	if _, err := svc.Start(ctx, "human-vs-bot"); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *time.Time { x := time.Now().Add(d).UTC(); return &x }
	rating := 4.0
	// bot: u1 (rated), u3 (exposed two days ago: immature), u5 (rated).
	// human: u2 (rated), u4 (never rated: no value for a mean).
	var batch []experiments.Event
	for i, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		ago := -100 * 24 * time.Hour
		if u == "u3" {
			ago = -48 * time.Hour
		}
		batch = append(batch, experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: "human-vs-bot", Variant: []string{"bot", "human"}[i%2], TS: at(ago)})
		if u != "u4" {
			batch = append(batch, experiments.Event{Type: experiments.EventOutcome, UnitID: u, Metric: "csat", Value: &rating, TS: at(ago + time.Hour)})
		}
	}
	if _, err := svc.Ingest(ctx, batch); err != nil {
		t.Fatal(err)
	}
	r, err := refreshReport(ctx, svc, "human-vs-bot")
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics[0]
	if m.ImmatureUnits != 1 || m.UnitsWithoutValue != 1 {
		t.Fatalf("csat_90d: %d immature, %d without a value; want 1 and 1", m.ImmatureUnits, m.UnitsWithoutValue)
	}
	observed := map[string]int64{}
	for _, v := range r.SRM.Variants {
		observed[v.Variant] = v.Observed
	}
	if observed["bot"] != 3 || observed["human"] != 2 {
		t.Errorf("sample-ratio check observed %v, want bot 3 and human 2", observed)
	}
}

// refreshReport computes the experiment's report now, as the scheduler or
// POST …/refresh would, and returns it.
func refreshReport(ctx context.Context, svc *experiments.Service, key string) (*analysis.Report, error) {
	v, err := svc.Refresh(ctx, key)
	if err != nil {
		return nil, err
	}
	return v.Report, nil
}

// TestIngestWhenTheCatalogCannotBeReloaded: an event naming an experiment
// this replica has not seen makes it reload the catalog. When the reload
// fails, the batch gets the store's error (a 5xx, which a client retries),
// not a 400 for an unknown experiment (which a client would drop).
func TestIngestWhenTheCatalogCannotBeReloaded(t *testing.T) {
	ctx := context.Background()
	store, svc := storeAndServiceOn(t, testdb.SQLite(t))
	store.DB().Close()
	_, err := svc.Ingest(ctx, []experiments.Event{{Type: experiments.EventExposure, UnitID: "u", Experiment: "made-elsewhere", Variant: "a"}})
	if code := experiments.ErrorCode(err); code != experiments.CodeInternal {
		t.Errorf("Ingest with the store closed: %v (code %s), want an internal error", err, code)
	}
}
