package experiments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
)

// TestStudyReport: a key-driver study over the population's own answers
// (and a metric of its experiment) equals the key-driver analysis fed the
// same units independently, on both dialects; units missing a value are
// left out and counted.
func TestStudyReport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		svc := serviceOn(t, dsn)
		rating := func(key string) experiments.QuestionInput {
			return experiments.QuestionInput{Key: key, Text: "Rate " + key, Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 10}}
		}
		for _, q := range []experiments.QuestionInput{rating("overall"), rating("price"), rating("service"),
			{Key: "key_reason", Text: "What mattered most?", Kind: experiments.QuestionChoice, Options: []string{"price", "service", "resolved"}}} {
			if _, err := svc.CreateQuestion(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		mustCreate(t, svc, input())
		if _, err := svc.Start(ctx, "human-vs-bot"); err != nil {
			t.Fatal(err)
		}
		study := experiments.StudyInput{Key: "drivers", Name: "What drives satisfaction", Outcome: experiments.StudyVariable{Question: "overall"},
			Drivers: []experiments.StudyVariable{{Key: "price", Question: "price"}, {Key: "service", Question: "service"}, {Key: "resolved", Metric: "chose_human", Label: "Chose a human"}},
			Stated:  experiments.StudyStated{Question: "key_reason"}, Population: experiments.StudyPopulation{Experiment: "human-vs-bot"},
			Bootstrap: 200, Seed: 7}
		if _, err := svc.CreateStudy(ctx, study); err != nil {
			t.Fatal(err)
		}

		rng := rand.New(rand.NewPCG(3, 4))
		at := time.Now().Add(-time.Hour).UTC()
		num := func(x float64) *float64 { return &x }
		var batch []experiments.Event
		type unit struct {
			id     string
			values []float64 // overall, price, service, chose_human
			reason string
		}
		var units []unit
		counts := map[string]float64{}
		for i := range 300 {
			u := unit{id: fmt.Sprintf("u%03d", i)}
			price, service := float64(1+rng.IntN(10)), float64(1+rng.IntN(10))
			chose := float64(rng.IntN(2))
			overall := math.Max(1, math.Min(10, math.Round(0.2*price+0.6*service+2*chose+rng.NormFloat64())))
			u.values = []float64{overall, price, service, chose}
			u.reason = []string{"price", "price", "service", "resolved"}[rng.IntN(4)]
			counts[u.reason]++
			batch = append(batch, experiments.Event{Type: experiments.EventExposure, UnitID: u.id, Experiment: "human-vs-bot", Variant: []string{"bot", "human"}[i%2], TS: &at})
			answers := map[string]any{"overall": overall, "price": price, "service": service, "key_reason": u.reason}
			if i%25 == 0 {
				delete(answers, "service") // left out
			}
			for q, a := range answers {
				batch = append(batch, experiments.Event{Type: experiments.EventResponse, UnitID: u.id, Question: q, Answer: a, TS: &at})
			}
			if chose > 0 {
				batch = append(batch, experiments.Event{Type: experiments.EventOutcome, UnitID: u.id, Metric: "chose_human", Value: num(1)})
			}
			if i%25 != 0 {
				units = append(units, u)
			}
		}
		if _, err := svc.Ingest(ctx, batch); err != nil {
			t.Fatal(err)
		}

		got, err := svc.StudyReport(ctx, "drivers")
		if err != nil {
			t.Fatal(err)
		}
		// The same analysis, fed by the test: the stated shares from the
		// answers of all 300, and the units with every value.
		cfg := analysis.DriverConfig{Outcome: "overall", Drivers: []string{"price", "service", "resolved"}, Replicates: 200, Seed: 7}
		for _, d := range cfg.Drivers {
			cfg.Stated = append(cfg.Stated, analysis.StatedShare{Share: counts[d] / 300, Respondents: 300})
		}
		want, err := analysis.NewDriverStudy(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			want.Add(u.id, u.values)
		}
		for range 12 {
			want.Add("missing", []float64{math.NaN(), 0, 0, 0})
		}
		// The store streams units in its own order, so sums may differ in
		// their last bits: compare every number to 1e-9.
		if diff := sameJSON(got, want.Report()); diff != "" {
			t.Errorf("study report differs from the analysis fed directly: %s", diff)
		}
		if got.N != 288 || got.LeftOut != 12 {
			t.Errorf("n %d, left out %d; want 288 and 12", got.N, got.LeftOut)
		}
	})
}

// TestStudyValidation: a study is checked against the questions and
// experiments it names when it is written.
func TestStudyValidation(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	for _, q := range []experiments.QuestionInput{
		{Key: "overall", Text: "?", Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 5}},
		{Key: "price", Text: "?", Kind: experiments.QuestionNumber},
		{Key: "pick", Text: "?", Kind: experiments.QuestionChoice, Options: []string{"price", "other"}},
	} {
		if _, err := svc.CreateQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ok := func() experiments.StudyInput {
		return experiments.StudyInput{Key: "s", Name: "s", Outcome: experiments.StudyVariable{Question: "overall"},
			Drivers: []experiments.StudyVariable{{Key: "price", Question: "price"}, {Key: "other", Question: "overall"}}}
	}
	tests := []struct {
		name  string
		edit  func(in *experiments.StudyInput)
		field string
	}{
		{"one driver", func(in *experiments.StudyInput) { in.Drivers = in.Drivers[:1] }, "drivers"},
		{"unknown question", func(in *experiments.StudyInput) { in.Outcome.Question = "nps" }, "outcome.question"},
		{"a choice question as a driver", func(in *experiments.StudyInput) { in.Drivers[0].Question = "pick" }, "drivers[0].question"},
		{"a metric without an experiment", func(in *experiments.StudyInput) {
			in.Drivers[1] = experiments.StudyVariable{Key: "other", Metric: "csat"}
		}, "drivers[1].metric"},
		{"both question and metric", func(in *experiments.StudyInput) { in.Drivers[1].Metric = "csat" }, "drivers[1]"},
		{"duplicate driver keys", func(in *experiments.StudyInput) { in.Drivers[1].Key = "price" }, "drivers[1].key"},
		{"stated shares without survey_n", func(in *experiments.StudyInput) {
			in.Stated = experiments.StudyStated{Shares: map[string]float64{"price": 0.2, "other": 0.8}}
		}, "stated.survey_n"},
		{"stated question without the driver keys", func(in *experiments.StudyInput) {
			in.Stated = experiments.StudyStated{Question: "pick"}
			in.Drivers[1].Key = "service"
		}, "stated.question"},
		{"unknown experiment", func(in *experiments.StudyInput) { in.Population.Experiment = "nope" }, "population.experiment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ok()
			tc.edit(&in)
			_, err := svc.CreateStudy(ctx, in)
			wantError(t, err, experiments.CodeInvalid, tc.field)
		})
	}
	if _, err := svc.CreateStudy(ctx, ok()); err != nil {
		t.Fatalf("a valid study: %v", err)
	}
	_, err := svc.CreateStudy(ctx, ok())
	wantError(t, err, experiments.CodeConflict, "")
	r, err := svc.StudyReport(ctx, "s")
	if err != nil || r.N != 0 || r.Reason == "" {
		t.Fatalf("a study without answers: %+v %v, want an empty report with a reason", r, err)
	}
}

// sameJSON compares two values' JSON, numbers to 1e-9 relative, and says
// where they first differ.
func sameJSON(a, b any) string {
	var x, y any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if json.Unmarshal(ja, &x) != nil || json.Unmarshal(jb, &y) != nil {
		return "not JSON"
	}
	var walk func(path string, x, y any) string
	walk = func(path string, x, y any) string {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok || len(xv) != len(yv) {
				return path + ": different shapes"
			}
			for k := range xv {
				if d := walk(path+"."+k, xv[k], yv[k]); d != "" {
					return d
				}
			}
		case []any:
			yv, ok := y.([]any)
			if !ok || len(xv) != len(yv) {
				return path + ": different lengths"
			}
			for i := range xv {
				if d := walk(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i]); d != "" {
					return d
				}
			}
		case float64:
			yv, ok := y.(float64)
			if !ok || math.Abs(xv-yv) > 1e-9*math.Max(1, math.Abs(yv)) {
				return fmt.Sprintf("%s: %v, want %v", path, x, y)
			}
		default:
			if x != y {
				return fmt.Sprintf("%s: %v, want %v", path, x, y)
			}
		}
		return ""
	}
	return walk("", x, y)
}
