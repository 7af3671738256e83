package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/testbin"
	"github.com/revealed-ab/revealed/sdk"
	"github.com/revealed-ab/revealed/sqlstore"
)

// sayDoClaim is the part of a report's claim result this test checks.
type sayDoClaim struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Table struct {
		SaidDid       int64 `json:"said_did"`
		SaidDidnt     int64 `json:"said_didnt"`
		DidntSayDid   int64 `json:"didnt_say_did"`
		DidntSayDidnt int64 `json:"didnt_say_didnt"`
	} `json:"table"`
	Units     int64       `json:"units"`
	Stated    *float64    `json:"stated"`
	Revealed  *float64    `json:"revealed"`
	Gap       *float64    `json:"gap"`
	GapCI     *[2]float64 `json:"gap_ci"`
	GapPValue *float64    `json:"gap_p_value"`
	Kappa     *float64    `json:"kappa"`
	Summary   string      `json:"summary"`
}

// TestSayDoReport sends a few hundred customers' exposures, survey answers
// and choices through the real binary, with a gap between what they say and
// what they do built in, and checks the say_do claim's table against a
// count made here from the events sent: each unit's first answer by ts,
// whenever it came, and whether it chose a human from its first exposure on.
func TestSayDoReport(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSayDo(t, t.TempDir()+"/saydo.db") })
	t.Run("postgres", func(t *testing.T) { testSayDo(t, throwawayPostgres(t)) })
}

// sayDoSim is the simulated customers' events, with the counts of the
// cases that make the table hard to get right, so the test can insist
// that each occurred.
type sayDoSim struct {
	first, second []wireEvent // sent in this order; second holds late arrivals
	cases         map[string]int
}

const (
	sayDoKey      = "saydo-e2e"
	sayDoQuestion = "agent_pref"
	sayDoMetric   = "chose_human"
)

// simulateSayDo makes the events of n customers. 70% say they would rather
// wait for a human; of those 55% choose one, and 30% of the others do, so
// revealed (about 0.48) falls well short of stated (0.7).
func simulateSayDo(rng *rand.Rand, def *assign.Definition, n int, base time.Time) *sayDoSim {
	sim := &sayDoSim{cases: map[string]int{}}
	at := func(t time.Time) *time.Time { return &t }
	one, zero := 1.0, 0.0
	ev := func(typ, unit string, ts time.Time) wireEvent {
		return wireEvent{ID: experimentsID(), Type: typ, UnitID: unit, TS: at(ts)}
	}
	respond := func(unit, answer string, ts time.Time) wireEvent {
		e := ev("response", unit, ts)
		e.Question, e.Answer = sayDoQuestion, answer
		return e
	}
	outcome := func(unit string, v *float64, ts time.Time) wireEvent {
		e := ev("outcome", unit, ts)
		e.Metric, e.Value = sayDoMetric, v
		if rng.IntN(2) == 0 {
			e.Experiment = def.Key
		}
		return e
	}
	for i := range n {
		unit := fmt.Sprintf("sd-%d", i)
		exposed := base.Add(time.Duration(i) * 10 * time.Second)
		first := exposed // the unit's first exposure, once the late ones are in
		if rng.IntN(100) < 88 {
			x := ev("exposure", unit, exposed)
			x.Experiment, x.Variant = def.Key, assign.Assign(def, unit, nil).Variant
			sim.first = append(sim.first, x)
			switch r := rng.IntN(100); {
			case r < 8: // exposed again later: the first exposure stands
				x2 := x
				x2.ID, x2.TS = experimentsID(), at(exposed.Add(time.Hour))
				sim.second = append(sim.second, x2)
				sim.cases["exposed again later"]++
			case r < 14: // an earlier exposure arrives late: it becomes the first
				x2 := x
				first = exposed.Add(-90 * time.Minute)
				x2.ID, x2.TS = experimentsID(), at(first)
				sim.second = append(sim.second, x2)
				sim.cases["earlier exposure arriving late"]++
			}
		} else {
			sim.cases["never exposed"]++
		}

		says := "human"
		if rng.Float64() >= 0.7 {
			says = []string{"chatbot", "either"}[rng.IntN(2)]
		}
		if rng.IntN(100) < 90 {
			ts := exposed.Add(-2 * time.Hour)
			if rng.IntN(2) == 0 {
				ts = exposed.Add(3 * time.Hour)
				sim.cases["answered after exposure"]++
			}
			other := map[string]string{"human": "chatbot", "chatbot": "human", "either": "human"}[says]
			switch r := rng.IntN(100); {
			case r < 12: // changed their mind later: never counted
				sim.first = append(sim.first, respond(unit, says, ts))
				sim.second = append(sim.second, respond(unit, other, ts.Add(30*time.Minute)))
				sim.cases["answered again later"]++
			case r < 24: // an earlier answer arrives after a later one: the earlier counts
				sim.first = append(sim.first, respond(unit, other, ts.Add(30*time.Minute)))
				sim.second = append(sim.second, respond(unit, says, ts))
				sim.cases["earlier answer arriving late"]++
			default:
				sim.first = append(sim.first, respond(unit, says, ts))
			}
		} else {
			sim.cases["never answered"]++
		}

		p := 0.3
		if says == "human" {
			p = 0.55
		}
		if rng.Float64() < p {
			ts := first.Add(time.Duration(rng.IntN(5*3600)) * time.Second)
			if rng.IntN(10) == 0 {
				ts = first // at the exposure counts
				sim.cases["chose at the exposure"]++
			}
			sim.first = append(sim.first, outcome(unit, &one, ts))
		}
		switch r := rng.IntN(100); {
		case r < 15: // chose a human only before the first exposure: not counted
			sim.first = append(sim.first, outcome(unit, &one, first.Add(-time.Minute)))
			sim.cases["chose before exposure"]++
		case r < 25: // a zero outcome is not a choice
			sim.first = append(sim.first, outcome(unit, &zero, first.Add(time.Hour)))
			sim.cases["zero outcome"]++
		}
	}
	rng.Shuffle(len(sim.first), func(i, j int) { sim.first[i], sim.first[j] = sim.first[j], sim.first[i] })
	rng.Shuffle(len(sim.second), func(i, j int) { sim.second[i], sim.second[j] = sim.second[j], sim.second[i] })
	return sim
}

// sayDoExpected is the table worked out from the events sent (each once),
// without the server's code: the first exposure and the first answer are
// the earliest by ts, and a unit did if it has an outcome above 0 at or
// after its first exposure.
type sayDoExpected struct {
	saidDid, saidDidnt, didntSayDid, didntSayDidnt int64
	firstAnswers                                   map[string]string
	responseIDs                                    int
}

func expectSayDo(events []wireEvent, answer string) sayDoExpected {
	type stamped struct {
		ts     time.Time
		answer string
	}
	exposure := map[string]time.Time{}
	firstAns := map[string]stamped{}
	out := sayDoExpected{firstAnswers: map[string]string{}}
	for _, e := range events {
		switch e.Type {
		case "exposure":
			if t, ok := exposure[e.UnitID]; !ok || e.TS.Before(t) {
				exposure[e.UnitID] = *e.TS
			}
		case "response":
			out.responseIDs++
			if a, ok := firstAns[e.UnitID]; !ok || e.TS.Before(a.ts) {
				firstAns[e.UnitID] = stamped{*e.TS, e.Answer.(string)}
			}
		}
	}
	did := map[string]bool{}
	for _, e := range events {
		if x, ok := exposure[e.UnitID]; ok && e.Type == "outcome" && *e.Value > 0 && !e.TS.Before(x) {
			did[e.UnitID] = true
		}
	}
	for unit, a := range firstAns {
		out.firstAnswers[unit] = a.answer
		if _, ok := exposure[unit]; !ok {
			continue
		}
		switch said := a.answer == answer; {
		case said && did[unit]:
			out.saidDid++
		case said:
			out.saidDidnt++
		case did[unit]:
			out.didntSayDid++
		default:
			out.didntSayDidnt++
		}
	}
	return out
}

func testSayDo(t *testing.T, dsn string) {
	p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + adminKey}, "--db", dsn)
	hc := newHTTPClient(1)
	api := p.URL + "/api/v1"
	mustCall(t, hc, "POST", api+"/questions", map[string]any{"key": sayDoQuestion,
		"text": "Would you rather wait 10 minutes for a human or 5 for a chatbot?", "kind": "choice",
		"options": []string{"human", "chatbot", "either"}, "source": "B2B buyer survey, n=2,128"}, http.StatusCreated, nil)
	mustCall(t, hc, "POST", api+"/experiments", map[string]any{
		"key": sayDoKey, "name": "Say and do", "hypothesis": "74% say they would rather wait for a human", "unit": "customer_id",
		"variants": []map[string]any{{"key": "bot", "weight": 1, "control": true}, {"key": "human", "weight": 1}},
		"metrics":  []map[string]any{{"key": sayDoMetric, "kind": "binary", "higher_is_better": true}},
	}, http.StatusCreated, nil)
	mustCall(t, hc, "POST", api+"/experiments/"+sayDoKey+"/start", nil, http.StatusOK, nil)
	mustCall(t, hc, "POST", api+"/experiments/"+sayDoKey+"/claims", map[string]any{
		"id": "say-human", "kind": "say_do", "question": sayDoQuestion, "answer": "human", "metric": sayDoMetric,
		"statement": "Customers who say they would wait for a human choose one",
	}, http.StatusCreated, nil)

	def := &assign.Definition{Key: sayDoKey, Salt: sayDoKey, Status: "running", Traffic: 1,
		Variants: []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}}}
	base := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	sim := simulateSayDo(rand.New(rand.NewPCG(20261122, 1)), def, 400, base)
	for c, n := range sim.cases {
		if n == 0 {
			t.Fatalf("the simulation has no unit %s", c)
		}
	}
	t.Logf("%d units; cases %v", 400, sim.cases)

	send := func(b []wireEvent) ingestResult {
		t.Helper()
		var res ingestResult
		mustCall(t, hc, "POST", api+"/events", map[string]any{"events": b}, http.StatusAccepted, &res)
		return res
	}
	var sent []wireEvent
	for i := 0; i < len(sim.first); i += 150 {
		b := sim.first[i:min(i+150, len(sim.first))]
		if res := send(b); res.Accepted != len(b) || res.Duplicates != 0 {
			t.Fatalf("fresh batch of %d: %+v", len(b), res)
		}
		sent = append(sent, b...)
	}
	var late, lateResponses []wireEvent
	for _, e := range sim.second {
		if e.Type == "response" {
			lateResponses = append(lateResponses, e)
		} else {
			late = append(late, e)
		}
	}
	for _, b := range [][]wireEvent{late, lateResponses} {
		if res := send(b); res.Accepted != len(b) || res.Duplicates != 0 {
			t.Fatalf("fresh batch of %d: %+v", len(b), res)
		}
		sent = append(sent, b...)
	}
	// A client that lost the answer sends the responses again: all must be
	// duplicates, and none may count twice or displace a first answer.
	if res := send(lateResponses); res.Accepted != 0 || res.Duplicates != len(lateResponses) {
		t.Errorf("resent batch of %d responses: %+v, want all duplicates", len(lateResponses), res)
	}

	want := expectSayDo(sent, "human")
	var rep struct {
		Claims []sayDoClaim `json:"claims"`
	}
	mustCall(t, hc, "POST", api+"/experiments/"+sayDoKey+"/refresh", nil, http.StatusOK, &rep)
	if len(rep.Claims) != 1 || rep.Claims[0].ID != "say-human" || rep.Claims[0].Kind != "say_do" {
		t.Fatalf("report claims %+v, want the say_do claim", rep.Claims)
	}
	got := rep.Claims[0]
	n := want.saidDid + want.saidDidnt + want.didntSayDid + want.didntSayDidnt
	gotTable := [4]int64{got.Table.SaidDid, got.Table.SaidDidnt, got.Table.DidntSayDid, got.Table.DidntSayDidnt}
	if wantTable := [4]int64{want.saidDid, want.saidDidnt, want.didntSayDid, want.didntSayDidnt}; gotTable != wantTable {
		t.Errorf("table (said_did, said_didnt, didnt_say_did, didnt_say_didnt) = %v, want %v", gotTable, wantTable)
	}
	if got.Units != n {
		t.Errorf("units = %d, want %d", got.Units, n)
	}
	nf := float64(n)
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"stated", got.Stated, float64(want.saidDid+want.saidDidnt) / nf},
		{"revealed", got.Revealed, float64(want.saidDid+want.didntSayDid) / nf},
		{"gap", got.Gap, float64(want.didntSayDid-want.saidDidnt) / nf},
	} {
		if c.got == nil || math.Abs(*c.got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %.15g", c.name, deref(c.got), c.want)
		}
	}
	// The built-in gap is far beyond chance, so the paired test must see it.
	if got.Gap == nil || got.GapCI == nil || (*got.GapCI)[0] > *got.Gap || *got.Gap > (*got.GapCI)[1] || (*got.GapCI)[1] >= 0 {
		t.Errorf("gap %v with CI %v: want a CI around it, wholly below 0", deref(got.Gap), got.GapCI)
	}
	if got.GapPValue == nil || *got.GapPValue > 1e-4 || got.Kappa == nil || got.Summary == "" {
		t.Errorf("gap p-value %v, kappa %v, summary %q: want a tiny p-value, a kappa and a summary",
			deref(got.GapPValue), deref(got.Kappa), got.Summary)
	}
	t.Logf("table %v over %d units; stated %.3f revealed %.3f gap %.3f; %s",
		gotTable, got.Units, deref(got.Stated), deref(got.Revealed), deref(got.Gap), got.Summary)

	checkResponsesStored(t, dsn, want)
}

// checkResponsesStored reads the database: every response sent is in the
// events log once, and the responses table holds each unit's first answer.
func checkResponsesStored(t *testing.T, dsn string, want sayDoExpected) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logged int
	if err := store.DB().GetContext(ctx, &logged, `SELECT COUNT(*) FROM events WHERE type = 'response'`); err != nil {
		t.Fatal(err)
	}
	if logged != want.responseIDs {
		t.Errorf("events log holds %d responses, want the %d sent", logged, want.responseIDs)
	}
	var rows []struct {
		Unit   string `db:"unit_id"`
		Answer string `db:"answer"`
	}
	if err := store.DB().SelectContext(ctx, &rows, store.DB().Rebind(`SELECT unit_id, answer FROM responses WHERE question = ?`), sayDoQuestion); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Unit] = r.Answer
	}
	if fmt.Sprint(got) != fmt.Sprint(want.firstAnswers) {
		t.Errorf("responses table: %d first answers, want %d; they differ for %v", len(got), len(want.firstAnswers),
			differingKeys(got, want.firstAnswers))
	}
}

func differingKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out[:min(len(out), 10)]
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestSDKRespond sends answers of each kind through the SDK to the real
// server: the wire format is the server's, an answer the server refuses
// costs only itself, and the stored answers are the ones given.
func TestSDKRespond(t *testing.T) {
	dbPath := t.TempDir() + "/respond.db"
	p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + adminKey}, "--db", dbPath)
	hc := newHTTPClient(2)
	api := p.URL + "/api/v1"
	for _, q := range []map[string]any{
		{"key": "agent_pref", "text": "A human or a chatbot?", "kind": "choice", "options": []string{"human", "chatbot"}},
		{"key": "satisfaction", "text": "How satisfied are you?", "kind": "rating", "scale": map[string]int{"min": 1, "max": 5}},
		{"key": "wait_minutes", "text": "How long would you wait?", "kind": "number"},
	} {
		mustCall(t, hc, "POST", api+"/questions", q, http.StatusCreated, nil)
	}
	var key struct{ Key string }
	mustCall(t, hc, "POST", api+"/keys", map[string]string{"kind": "sdk", "name": "respond"}, http.StatusCreated, &key)

	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	client, err := sdk.New(ctx, sdk.Config{BaseURL: p.URL, APIKey: key.Key, HTTPClient: hc, FlushInterval: time.Hour, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	type stars uint8
	client.Respond(ctx, "u1", "agent_pref", "human")
	client.Respond(ctx, "u1", "satisfaction", 4)
	client.Respond(ctx, "u2", "satisfaction", stars(5))
	client.Respond(ctx, "u1", "wait_minutes", float32(7.5))
	client.Respond(ctx, "u2", "wait_minutes", float32(0.1))
	client.Respond(ctx, "u1", "agent_pref", "chatbot") // later: stored, never counted
	client.Respond(ctx, "u3", "agent_pref", "robot")   // not an option: the server refuses it
	client.Respond(ctx, "u3", "satisfaction", 7)       // off the scale: refused too
	client.Respond(ctx, "u4", "agent_pref", true)      // refused at the call
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if st := client.Stats(); st.Sent != 6 || st.Dropped != 3 {
		t.Errorf("Stats = %+v, want 6 sent, 3 dropped", st)
	}

	store, err := sqlstore.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var rows []struct {
		Question string  `db:"question"`
		Unit     string  `db:"unit_id"`
		Answer   string  `db:"answer"`
		Value    float64 `db:"value"`
	}
	if err := store.DB().SelectContext(ctx, &rows, `SELECT question, unit_id, answer, value FROM responses ORDER BY question, unit_id`); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(rows)
	want := "[{agent_pref u1 human 0} {satisfaction u1 4 4} {satisfaction u2 5 5} {wait_minutes u1 7.5 7.5} {wait_minutes u2 0.1 0.1}]"
	if got != want {
		t.Errorf("responses table\n got %s\nwant %s", got, want)
	}
	var logged int
	if err := store.DB().GetContext(ctx, &logged, `SELECT COUNT(*) FROM events WHERE type = 'response'`); err != nil {
		t.Fatal(err)
	}
	if logged != 6 {
		t.Errorf("events log holds %d responses, want 6", logged)
	}
}

// testWriter sends a log to the test's output, shown with -v or on failure.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
