package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

const factorialExperiment = `{"key":"human-vs-wait","name":"Agent × wait","unit":"customer_id",
	"factors":[{"key":"agent","levels":["bot","human"]},{"key":"wait_minutes","levels":[5,10,15],"numeric":true}],
	"metrics":[{"key":"csat","kind":"mean","higher_is_better":true}]}`

// TestFactorialExperiment drives a factorial experiment through the API:
// its cells become the variants, /assign returns the unit's levels, the
// factors lock on start, and the report carries the contrasts and a
// tradeoff claim's verdict.
func TestFactorialExperiment(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "POST", "/api/v1/experiments", e.adminKey, []byte(factorialExperiment))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct {
		Variants []struct {
			Key     string         `json:"key"`
			Weight  float64        `json:"weight"`
			Control bool           `json:"control"`
			Factors map[string]any `json:"factors"`
		} `json:"variants"`
		Factors []struct {
			Levels []any `json:"levels"`
		} `json:"factors"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	if len(created.Variants) != 6 || created.Variants[0].Key != "agent=bot,wait_minutes=5" || !created.Variants[0].Control ||
		created.Variants[5].Key != "agent=human,wait_minutes=15" || created.Variants[5].Factors["wait_minutes"] != 15.0 {
		t.Fatalf("cells: %s", r.body)
	}
	if created.Factors[1].Levels[0] != 5.0 { // numbers stay numbers
		t.Fatalf("factors: %s", r.body)
	}
	claim := `{"id":"human-5","kind":"tradeoff","metric":"csat","factor":"agent","preferred":"human","cost":"wait_minutes",
		"stated_cost":5,"survey_n":2128,"statement":"74% would wait 10 minutes for a human rather than 5 for a chatbot"}`
	if r := e.do(t, "POST", "/api/v1/experiments/human-vs-wait/claims", e.adminKey, []byte(claim)); r.status != http.StatusCreated {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	e.mustStart(t, "human-vs-wait")
	if r := e.do(t, "PUT", "/api/v1/experiments/human-vs-wait", e.adminKey,
		[]byte(strings.Replace(factorialExperiment, "[5,10,15]", "[5,10,20]", 1))); r.status != http.StatusConflict ||
		!strings.Contains(string(r.body), "factors and levels cannot change") {
		t.Fatalf("changing a started experiment's levels: %d %s", r.status, r.body)
	}

	// Customers value a human at 8 minutes: CSAT +0.8 for a human, −0.1 per minute.
	rng := rand.New(rand.NewPCG(13, 13))
	var events []string
	for i := range 1200 {
		unit := fmt.Sprintf("c-%d", i)
		r := e.do(t, "POST", "/api/v1/assign", e.sdkKey, []byte(`{"experiment":"human-vs-wait","unit_id":"`+unit+`"}`))
		var a struct {
			Variant string         `json:"variant"`
			Factors map[string]any `json:"factors"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &a) != nil {
			t.Fatalf("assign: %d %s", r.status, r.body)
		}
		wait, _ := a.Factors["wait_minutes"].(float64)
		agent, _ := a.Factors["agent"].(string)
		if a.Variant != fmt.Sprintf("agent=%s,wait_minutes=%g", agent, wait) {
			t.Fatalf("assignment %s does not match its factors %v", a.Variant, a.Factors)
		}
		csat := 4 - 0.1*(wait-5) + rng.NormFloat64()*0.5
		if agent == "human" {
			csat += 0.8
		}
		events = append(events, fmt.Sprintf(`{"type":"outcome","unit_id":%q,"experiment":"human-vs-wait","metric":"csat","value":%g}`, unit, csat))
	}
	if r := e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[`+strings.Join(events, ",")+`]}`)); r.status >= 300 {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	r = e.do(t, "POST", "/api/v1/experiments/human-vs-wait/refresh", e.adminKey, nil)
	if r.status != 200 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	var rep struct {
		Metrics []struct {
			MainEffects   []map[string]any `json:"main_effects"`
			Interactions  []map[string]any `json:"interactions"`
			Slopes        []map[string]any `json:"slopes"`
			ExchangeRates []map[string]any `json:"exchange_rates"`
		} `json:"metrics"`
		Claims []struct {
			Verdict      string         `json:"verdict"`
			Revealed     *float64       `json:"revealed"`
			RevealedCI   []float64      `json:"revealed_ci"`
			ExchangeRate map[string]any `json:"exchange_rate"`
			OffDiagonal  map[string]any `json:"off_diagonal"`
			Summary      string         `json:"summary"`
		} `json:"claims"`
		FamilySize int `json:"family_size"`
	}
	if err := json.Unmarshal(r.body, &rep); err != nil {
		t.Fatal(err)
	}
	m := rep.Metrics[0]
	if len(m.MainEffects) != 3 || len(m.Interactions) != 2 || len(m.Slopes) != 1 || len(m.ExchangeRates) != 1 {
		t.Fatalf("contrasts: %s", r.body)
	}
	if m.MainEffects[0]["p_adjusted"] == nil {
		t.Errorf("main effects do not join the family: %v", m.MainEffects[0])
	}
	c := rep.Claims[0]
	if c.Revealed == nil || *c.Revealed < 5 || *c.Revealed > 12 || c.Verdict != "holds" || len(c.RevealedCI) != 2 || c.RevealedCI[0] <= 5 {
		t.Errorf("tradeoff claim: %+v", c)
	}
	if cells, _ := c.OffDiagonal["cells"].([]any); len(cells) != 2 || cells[0] != "agent=human,wait_minutes=10" || cells[1] != "agent=bot,wait_minutes=5" {
		t.Errorf("off-diagonal: %v", c.OffDiagonal)
	}
	// 5 comparisons, 3 main effects, 2 interactions, 1 slope, 1 claim.
	if rep.FamilySize != 12 {
		t.Errorf("family size %d, want 12", rep.FamilySize)
	}
}

func TestFactorialBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, body, field string }{
		{"text level of numeric factor", with(factorialExperiment, "factors", `[{"key":"wait","levels":[5,"ten"],"numeric":true},{"key":"a","levels":["x","y"]}]`), `factors[0].levels[1]`},
		{"level is an object", with(factorialExperiment, "factors", `[{"key":"a","levels":["x",{}]}]`), `factors[0].levels[1]`},
		{"too many cells", with(factorialExperiment, "factors", `[{"key":"a","levels":["1","2","3","4","5","6","7"]},{"key":"b","levels":["1","2","3","4","5","6"]}]`), `"factors"`},
		{"five factors", with(factorialExperiment, "factors", `[{"key":"a","levels":["x","y"]},{"key":"b","levels":["x","y"]},{"key":"c","levels":["x","y"]},{"key":"d","levels":["x","y"]},{"key":"e","levels":["x","y"]}]`), `"factors"`},
		{"comma in a level", with(factorialExperiment, "factors", `[{"key":"a","levels":["x,y","z"]}]`), `factors[0].levels[0]`},
		{"variant that is not a cell", with(factorialExperiment, "variants", `[{"key":"bot","weight":1,"control":true}]`), `variants[0].key`},
		{"factors on a variant", with(validExperiment, "variants", `[{"key":"bot","weight":1,"control":true,"factors":{"a":"x"}},{"key":"h","weight":1}]`), `variants[0].factors`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/api/v1/experiments", e.adminKey, []byte(tc.body))
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), tc.field) ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%d %s; want 400 naming %s", r.status, r.body, tc.field)
			}
		})
	}
	// Weights per cell are accepted when every cell is listed.
	weighted := with(factorialExperiment, "variants", `[`+strings.Join([]string{
		`{"key":"agent=bot,wait_minutes=5","weight":2}`, `{"key":"agent=bot,wait_minutes=10","weight":1}`,
		`{"key":"agent=bot,wait_minutes=15","weight":1}`, `{"key":"agent=human,wait_minutes=5","weight":1}`,
		`{"key":"agent=human,wait_minutes=10","weight":1}`, `{"key":"agent=human,wait_minutes=15","weight":1}`}, ",")+`]`)
	if r := e.do(t, "POST", "/api/v1/experiments", e.adminKey, []byte(weighted)); r.status != http.StatusCreated ||
		!strings.Contains(string(r.body), `"weight":0.2857`) {
		t.Errorf("weighted cells: %d %s", r.status, r.body)
	}
	e.mustCreate(t, validExperiment)
	claim := `{"id":"t","kind":"tradeoff","metric":"csat","factor":"agent","preferred":"human","cost":"wait","stated_cost":5,"survey_n":10,"statement":"s"}`
	if r := e.do(t, "POST", "/api/v1/experiments/human-vs-bot/claims", e.adminKey, []byte(claim)); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "factorial") {
		t.Errorf("tradeoff claim on a plain experiment: %d %s", r.status, r.body)
	}
}
