package experiments_test

import (
	"context"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

// serviceOn is a Service over a migrated store on dsn.
func serviceOn(t testing.TB, dsn string, opts ...experiments.Option) *experiments.Service {
	t.Helper()
	_, svc := storeAndServiceOn(t, dsn, opts...)
	return svc
}

// storeAndServiceOn is serviceOn with the store behind the service, which
// is closed when the test ends.
func storeAndServiceOn(t testing.TB, dsn string, opts ...experiments.Option) (*sqlstore.Store, *experiments.Service) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := experiments.NewService(ctx, store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return store, svc
}

// TestSayDo puts each customer's own answer beside the same customer's
// behaviour, on both dialects, and checks the table, the answer segments
// and the late answers against counts worked out by hand below.
func TestSayDo(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		svc := serviceOn(t, dsn)
		if _, err := svc.CreateQuestion(ctx, experiments.QuestionInput{Key: "agent_pref", Text: "A human in 10 minutes or a chatbot in 5?",
			Kind: experiments.QuestionChoice, Options: []string{"human", "chatbot"}}); err != nil {
			t.Fatal(err)
		}
		in := input()
		in.Analysis = &experiments.AnalysisSettings{Segments: []string{"answer:agent_pref"}}
		mustCreate(t, svc, in)
		if _, err := svc.Start(ctx, "human-vs-bot"); err != nil {
			t.Fatal(err)
		}
		claim := analysis.Claim{ID: "say-human", Kind: analysis.ClaimSayDo, Statement: "Customers who say they want a human choose one",
			Question: "agent_pref", Answer: "human", Metric: "chose_human"}
		if _, err := svc.CreateClaim(ctx, "human-vs-bot", claim); err != nil {
			t.Fatal(err)
		}

		exposed := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
		before, after := exposed.Add(-time.Hour), exposed.Add(time.Hour)
		at := func(t time.Time) *time.Time { return &t }
		one := 1.0
		var batch []experiments.Event
		respond := func(id, unit, answer string, ts time.Time) {
			batch = append(batch, experiments.Event{ID: id, Type: experiments.EventResponse, UnitID: unit, Question: "agent_pref", Answer: answer, TS: at(ts)})
		}
		for i, u := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"} {
			batch = append(batch, experiments.Event{ID: "x" + u, Type: experiments.EventExposure, UnitID: u, Experiment: "human-vs-bot",
				Variant: []string{"bot", "human"}[i%2], TS: at(exposed)})
		}
		// Said human before exposure: u1–u4 and u10; chatbot: u5, u6.
		// u7 said human, and u9 chatbot, only after exposure; u9's later
		// "human" is kept but never counted; u8 never answered.
		for _, u := range []string{"u1", "u2", "u3", "u4", "u10"} {
			respond("r"+u, u, "human", before)
		}
		respond("ru5", "u5", "chatbot", before)
		respond("ru6", "u6", "chatbot", before)
		respond("ru7", "u7", "human", after)
		respond("ru9", "u9", "chatbot", after)
		respond("ru9b", "u9", "human", after.Add(time.Hour))
		// Did (chose a human) after exposure: u1, u2, u3, u5, u7, u9; u4 only before.
		for _, u := range []string{"u1", "u2", "u3", "u5", "u7", "u9"} {
			batch = append(batch, experiments.Event{ID: "o" + u, Type: experiments.EventOutcome, UnitID: u, Metric: "chose_human", Value: &one, TS: at(after)})
		}
		batch = append(batch, experiments.Event{ID: "ou4", Type: experiments.EventOutcome, UnitID: "u4", Metric: "chose_human", Value: &one, TS: at(before)})

		res, err := svc.Ingest(ctx, batch)
		if err != nil || res.Accepted != len(batch) {
			t.Fatalf("ingest: %+v %v", res, err)
		}
		if res, err := svc.Ingest(ctx, batch); err != nil || res.Accepted != 0 || res.Duplicates != len(batch) {
			t.Fatalf("the batch sent again: %+v %v, want every event a duplicate", res, err)
		}

		r, err := refreshReport(ctx, svc, "human-vs-bot")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Claims) != 1 || r.Claims[0].SayDoResult == nil {
			t.Fatalf("claims: %+v", r.Claims)
		}
		c := r.Claims[0]
		// By hand, over the exposed units with a first answer (u8 has none):
		// said human: u1 u2 u3 u4 u7 u10, of whom u1 u2 u3 u7 did;
		// said chatbot first: u5 u6 u9, of whom u5 u9 did.
		want := analysis.SayDoCells{SaidDid: 4, SaidDidnt: 2, DidntSayDid: 2, DidntSayDidnt: 1}
		if c.Table != want || c.Units != 9 {
			t.Errorf("table %+v over %d units, want %+v over 9", c.Table, c.Units, want)
		}
		ref := analysis.SayDoTable(4, 2, 2, 1, r.Alpha, analysis.DefaultMargin)
		if *c.Gap != *ref.Gap || *c.Stated != 6.0/9 || *c.Revealed != 6.0/9 {
			t.Errorf("gap %v stated %v revealed %v, want %v, 6/9 and 6/9", *c.Gap, *c.Stated, *c.Revealed, *ref.Gap)
		}

		// Segments by answer count answers given before exposure only.
		units := map[string]int64{}
		for _, s := range r.Segments {
			if s.Attribute != "answer:agent_pref" {
				continue
			}
			for _, v := range s.SRM.Variants {
				units[s.Value] += v.Observed
			}
		}
		if units["human"] != 5 || units["chatbot"] != 2 || len(units) != 2 {
			t.Errorf("units per answer segment %v, want human 5 and chatbot 2", units)
		}
		late := false
		for _, w := range r.Warnings {
			late = late || (w == "the segments by answer:agent_pref leave out 2 units whose first answer came after their first exposure: a later answer may be an effect of the treatment")
		}
		if !late {
			t.Errorf("no warning counts the 2 late answers: %q", r.Warnings)
		}

		// The question now has responses: its options are locked.
		_, err = svc.UpdateQuestion(ctx, "agent_pref", experiments.QuestionInput{Text: "x", Kind: experiments.QuestionChoice, Options: []string{"human", "bot"}})
		wantError(t, err, experiments.CodeConflict, "")
		if _, err := svc.UpdateQuestion(ctx, "agent_pref", experiments.QuestionInput{Text: "Reworded", Kind: experiments.QuestionChoice,
			Options: []string{"human", "chatbot"}}); err != nil {
			t.Fatalf("a new wording of an answered question was refused: %v", err)
		}
	})
}

// TestResponseValidation: a bad answer is refused by index and field.
func TestResponseValidation(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	for _, q := range []experiments.QuestionInput{
		{Key: "pref", Text: "?", Kind: experiments.QuestionChoice, Options: []string{"human", "chatbot"}},
		{Key: "csat", Text: "?", Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 5}},
		{Key: "minutes", Text: "?", Kind: experiments.QuestionNumber},
	} {
		if _, err := svc.CreateQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		question string
		answer   any
		field    string
	}{
		{"unknown question", "nps", "x", "events[0].question"},
		{"not an option", "pref", "robot", "events[0].answer"},
		{"a number for a choice", "pref", 1.0, "events[0].answer"},
		{"off the scale", "csat", 6.0, "events[0].answer"},
		{"not a whole rating", "csat", 4.5, "events[0].answer"},
		{"text for a number", "minutes", "ten", "events[0].answer"},
		{"no answer", "minutes", nil, "events[0].answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Ingest(ctx, []experiments.Event{{Type: experiments.EventResponse, UnitID: "u", Question: tc.question, Answer: tc.answer}})
			wantError(t, err, experiments.CodeInvalid, tc.field)
		})
	}
	for _, ok := range []experiments.Event{
		{Type: experiments.EventResponse, UnitID: "u", Question: "pref", Answer: "human"},
		{Type: experiments.EventResponse, UnitID: "u", Question: "csat", Answer: 5.0},
		{Type: experiments.EventResponse, UnitID: "u", Question: "minutes", Answer: -2.5},
	} {
		if _, err := svc.Ingest(ctx, []experiments.Event{ok}); err != nil {
			t.Errorf("%+v refused: %v", ok, err)
		}
	}
	_, err := svc.CreateQuestion(ctx, experiments.QuestionInput{Key: "bad", Text: "?", Kind: experiments.QuestionChoice, Options: []string{"only"}})
	wantError(t, err, experiments.CodeInvalid, "options")
	_, err = svc.CreateQuestion(ctx, experiments.QuestionInput{Key: "bad", Text: "?", Kind: experiments.QuestionRating})
	wantError(t, err, experiments.CodeInvalid, "scale")
}
