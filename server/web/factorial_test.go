package web_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// agentWait is the factors of the tests' factorial experiments: agent
// (bot, human) × wait_minutes (5, 10, 15), 6 cells.
func agentWait() []experiments.Factor {
	return []experiments.Factor{
		{Key: "agent", Levels: []experiments.Level{experiments.TextLevel("bot"), experiments.TextLevel("human")}},
		{Key: "wait_minutes", Numeric: true, Levels: []experiments.Level{
			experiments.NumberLevel(5), experiments.NumberLevel(10), experiments.NumberLevel(15)}},
	}
}

// factorialExperiment creates agent × wait_minutes through the service. With
// units > 0 it starts it and has that many customers rate it: a human adds
// 0.6 to CSAT and every minute of wait takes 0.06 away, so that a human is
// worth about 10 minutes.
func factorialExperiment(t *testing.T, e *env, key string, units int) {
	t.Helper()
	ctx := context.Background()
	_, err := e.svc.CreateExperiment(ctx, experiments.ExperimentInput{
		Key: key, Name: "Agent × wait", Unit: "customer_id", Factors: agentWait(),
		Metrics: []experiments.Metric{{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if units == 0 {
		return
	}
	if _, err := e.svc.Start(ctx, key); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(13, 13))
	var batch []experiments.Event
	for i := range units {
		id := fmt.Sprintf("u%d", i)
		a, err := e.svc.Assign(ctx, experiments.AssignRequest{Experiment: key, UnitID: id})
		if err != nil {
			t.Fatal(err)
		}
		csat := 3.2 - 0.06*(a.Factors["wait_minutes"].(float64)-5) + 0.3*rng.NormFloat64()
		if a.Factors["agent"] == "human" {
			csat += 0.6
		}
		batch = append(batch, experiments.Event{Type: experiments.EventOutcome, UnitID: id, Experiment: key, Metric: "csat", Value: &csat})
	}
	if _, err := ingestRefreshed(ctx, e.svc, batch); err != nil {
		t.Fatal(err)
	}
}

// editorForm is the editor's form with the basics filled in, a variant
// table as the new-experiment page offers it, and the given factor rows.
func editorForm(csrf, key string, factors ...[3]string) url.Values {
	form := url.Values{
		"csrf": {csrf}, "key": {key}, "name": {"Factorial " + key}, "unit": {"customer_id"}, "traffic": {"1"}, "control": {"0"},
		"variants[0].key": {"control"}, "variants[0].name": {""}, "variants[0].weight": {"1"},
		"variants[1].key": {"treatment"}, "variants[1].name": {""}, "variants[1].weight": {"1"},
		"metrics[0].key": {"csat"}, "metrics[0].kind": {"mean"}, "metrics[0].higher_is_better": {"on"},
		"analysis.alpha": {"0.05"}, "analysis.correction": {"holm"}, "analysis.n_star": {"5000"},
		"analysis.cuped_lookback_days": {"14"}, "analysis.sequential": {"on"},
	}
	for i, f := range factors {
		p := fmt.Sprintf("factors[%d].", i)
		form.Set(p+"key", f[0])
		form.Set(p+"levels", f[1])
		if f[2] != "" {
			form.Set(p+"numeric", "on")
		}
	}
	return form
}

// A factorial experiment is created through the editor's Factors section:
// the service builds its 6 cells, a non-number in a numeric factor is
// reported beside the factor's levels, and once started its factors are
// shown locked and saving keeps them.
func TestFactorialEditor(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	mustContain(t, c.get("/experiments/new"), `id="factors"`, `name="factors[0].key"`, `name="factors[1].levels"`, `name="factors[0].numeric"`)

	form := editorForm(csrf, "agent-wait", [3]string{"agent", "bot, human", ""}, [3]string{"wait_minutes", "5, 10, ten", "numeric"},
		[3]string{"", "", ""}) // a blank row is ignored
	p := c.post("/experiments/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-factors-1-levels"], "level 3 (“ten”)") ||
		!strings.Contains(errs["f-factors-1-levels"], "must be numbers") {
		t.Errorf("a non-number in a numeric factor: %d, errors %v", p.status, errs)
	}
	mustContain(t, p, `href="#f-factors-1-levels"`, `value="5, 10, ten"`)
	if _, err := e.svc.GetExperiment(context.Background(), "agent-wait"); experiments.ErrorCode(err) != experiments.CodeNotFound {
		t.Fatalf("an invalid form created the experiment: %v", err)
	}

	form.Set("factors[1].levels", "5, 10, 15")
	p = c.post("/experiments/new", form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/experiments/agent-wait/edit?done=created" {
		t.Fatalf("create: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	got, err := e.svc.GetExperiment(context.Background(), "agent-wait")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, v := range got.Variants {
		keys = append(keys, v.Key)
	}
	if len(got.Variants) != 6 || keys[0] != "agent=bot,wait_minutes=5" || keys[5] != "agent=human,wait_minutes=15" || !got.Variants[0].Control {
		t.Errorf("cells = %q (control %v), want the 6 cells of agent × wait_minutes, the first the control", keys, got.Variants[0].Control)
	}
	if len(got.Factors) != 2 || !got.Factors[1].Numeric || got.Factors[1].Levels[2].Number == nil || *got.Factors[1].Levels[2].Number != 15 {
		t.Errorf("factors = %+v, want wait_minutes numeric with 15 a number", got.Factors)
	}

	// The draft's cells are shown, not edited; saving it unchanged keeps them.
	edit := c.get("/experiments/agent-wait/edit")
	mustContain(t, edit, `value="agent=human,wait_minutes=10"`, `id="f-factors-1-levels" name="factors[1].levels" value="5, 10, 15"`,
		`id="f-factors-1-numeric" name="factors[1].numeric" value="on" checked`)
	form.Del("key")
	if p := c.post("/experiments/agent-wait/edit", form); p.status != http.StatusSeeOther {
		t.Fatalf("save the draft: %d\n%s", p.status, p.body)
	}

	// Started, its factors are locked; a save changes the name only.
	if _, err := e.svc.Start(context.Background(), "agent-wait"); err != nil {
		t.Fatal(err)
	}
	edit = c.get("/experiments/agent-wait/edit")
	mustContain(t, edit, `id="locked-note"`, `Its factors, variants`,
		`id="f-factors-0-key" name="factors[0].key" value="agent" disabled`,
		`id="f-factors-1-levels" name="factors[1].levels" value="5, 10, 15" disabled`)
	running := url.Values{"csrf": {csrf}, "name": {"Renamed"}, "factors[0].key": {"agent"}, "factors[0].levels": {"bot, human, robot"},
		"metrics[0].key": {"csat"}, "metrics[0].kind": {"mean"}, "metrics[0].higher_is_better": {"on"},
		"analysis.alpha": {"0.05"}, "analysis.correction": {"holm"}, "analysis.cuped_lookback_days": {"14"}}
	if p := c.post("/experiments/agent-wait/edit", running); p.status != http.StatusSeeOther {
		t.Fatalf("save the running experiment: %d\n%s", p.status, p.body)
	}
	got, _ = e.svc.GetExperiment(context.Background(), "agent-wait")
	if got.Name != "Renamed" || len(got.Variants) != 6 || len(got.Factors[0].Levels) != 2 {
		t.Errorf("after saving a running factorial experiment: name %q, %d cells, %d agent levels", got.Name, len(got.Variants), len(got.Factors[0].Levels))
	}
}

// Saving a factorial draft through the editor keeps the weights its cells
// were given through the API while the factors stay, and builds new cells
// with equal weights when they change.
func TestFactorialEditorKeepsCellWeights(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	in := experiments.ExperimentInput{Key: "weighted", Name: "Weighted", Unit: "customer_id", Factors: agentWait(),
		Metrics: []experiments.Metric{{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true}}}
	for i, a := range []string{"bot", "human"} {
		for _, w := range []string{"5", "10", "15"} {
			in.Variants = append(in.Variants, assign.Variant{Key: "agent=" + a + ",wait_minutes=" + w, Weight: float64(1 + 2*i)})
		}
	}
	if _, err := e.svc.CreateExperiment(ctx, in); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	csrf := c.login(e.adminKey)
	form := editorForm(csrf, "", [3]string{"agent", "bot, human", ""}, [3]string{"wait_minutes", "5, 10, 15", "numeric"})
	form.Del("key")
	if p := c.post("/experiments/weighted/edit", form); p.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.status, p.body)
	}
	got, _ := e.svc.GetExperiment(ctx, "weighted")
	if len(got.Variants) != 6 || math.Abs(got.Variants[5].Weight-3*got.Variants[0].Weight) > 1e-9 {
		t.Errorf("after saving unchanged factors, cells %+v; want human's cells 3 times as heavy as bot's", got.Variants)
	}
	form.Set("factors[1].levels", "5, 10, 15, 20")
	if p := c.post("/experiments/weighted/edit", form); p.status != http.StatusSeeOther {
		t.Fatalf("save with another level: %d\n%s", p.status, p.body)
	}
	got, _ = e.svc.GetExperiment(ctx, "weighted")
	if len(got.Variants) != 8 || math.Abs(got.Variants[7].Weight-got.Variants[0].Weight) > 1e-9 {
		t.Errorf("after adding a level, cells %+v; want 8 with equal weights", got.Variants)
	}
}

var (
	interactionSVG = regexp.MustCompile(`(?s)<svg class="chart line-chart" id="interaction-0".*?</svg>`)
	trendPath      = regexp.MustCompile(`<path class="trend" d="M[^"]*"`)
)

// The report of a factorial experiment draws the interaction plot (one
// line per agent across wait_minutes), tables of its contrasts, the
// exchange rate as a sentence, and a tradeoff claim's result.
func TestFactorialReportPage(t *testing.T) {
	e := newEnv(t, false)
	factorialExperiment(t, e, "agent-wait", 1800)
	five := 5.0
	if _, err := e.svc.CreateClaim(context.Background(), "agent-wait", analysis.Claim{ID: "human-worth-5", Kind: analysis.ClaimTradeoff,
		Statement: "A human is worth 5 minutes of wait", SurveyN: 2128, Metric: "csat",
		Factor: "agent", Preferred: "human", Cost: "wait_minutes", StatedCost: &five}); err != nil {
		t.Fatal(err)
	}
	if _, err := refreshReport(context.Background(), e.svc, "agent-wait"); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	c.login(e.adminKey)
	p := c.get("/experiments/agent-wait")
	if p.status != http.StatusOK {
		t.Fatalf("report: %d", p.status)
	}
	svg := interactionSVG.FindString(p.body)
	if svg == "" {
		t.Fatalf("no interaction plot in the report:\n%s", p.body)
	}
	if n := len(trendPath.FindAllString(svg, -1)); n != 2 {
		t.Errorf("interaction plot has %d lines, want 2 (bot and human)", n)
	}
	for _, want := range []string{`class="mark point"`, ">agent = bot</text>", ">agent = human</text>", ">wait_minutes</text>", ">15</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("interaction plot lacks %q", want)
		}
	}
	// Every line has a point at each of the 3 waits.
	for _, d := range trendPath.FindAllString(svg, -1) {
		if n := strings.Count(d, ","); n != 3 {
			t.Errorf("line %s has %d points, want 3", d, n)
		}
	}
	rate := regexp.MustCompile(`human is worth [0-9.]+ wait_minutes \(95% CI [0-9.]+ to [0-9.]+\) against bot, on csat\.`)
	if !rate.MatchString(p.body) {
		t.Errorf("no exchange-rate sentence in the report")
	}
	mustContain(t, p, "Factorial effects on csat", "main effects, each level against", "agent = human", "wait_minutes = 15",
		"agent = human × wait_minutes = 10", "wait_minutes, per unit", `<dl class="tradeoff-stats">`,
		"Stated: what human is worth against bot, in wait_minutes", "5 wait_minutes",
		"Revealed: what human is worth against bot, in wait_minutes of csat [95% CI, Fieller]",
		"The survey’s own comparison, agent=human,wait_minutes=10 minus agent=bot,wait_minutes=5, on csat [95% CI]")
	if nonFinite.MatchString(p.body) {
		t.Error("the report shows NaN or Inf")
	}
}

// A tradeoff claim is made through the claim form: the form offers the
// factors, reports a cost that is not numeric and a stated cost that is not
// a number beside their fields, and stores a valid claim.
func TestTradeoffClaimForm(t *testing.T) {
	e := newEnv(t, false)
	factorialExperiment(t, e, "agent-wait", 0)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	mustContain(t, c.get("/experiments/agent-wait/claims/new"), `<option value="tradeoff" selected>`, `id="tradeoff"`,
		`<option value="agent">agent (bot, human)</option>`, `<option value="wait_minutes">wait_minutes (5, 10, 15)</option>`)

	form := url.Values{"csrf": {csrf}, "id": {"human-worth-5"}, "statement": {"A human is worth 5 minutes"}, "survey_n": {"2128"},
		"kind": {"tradeoff"}, "metric": {"csat"}, "factor": {"agent"}, "preferred": {"human"}, "cost": {"agent"}, "stated_cost": {"five"}}
	p := c.post("/experiments/agent-wait/claims/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-stated-cost"], "must be a number") {
		t.Errorf("a stated cost that is not a number: %d %v", p.status, errs)
	}
	form.Set("stated_cost", "5")
	p = c.post("/experiments/agent-wait/claims/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-cost"], "numeric") {
		t.Errorf("a cost that is not numeric: %d %v", p.status, errs)
	}
	form.Set("cost", "wait_minutes")
	if p := c.post("/experiments/agent-wait/claims/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d\n%s", p.status, p.body)
	}
	cl, err := e.svc.Claim(context.Background(), "agent-wait", "human-worth-5")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Kind != analysis.ClaimTradeoff || cl.Factor != "agent" || cl.Preferred != "human" || cl.Cost != "wait_minutes" ||
		cl.StatedCost == nil || *cl.StatedCost != 5 {
		t.Errorf("stored claim = %+v", cl.Claim)
	}
	mustContain(t, c.get("/experiments/agent-wait/claims/human-worth-5/edit"), `<option value="wait_minutes" selected>`,
		`id="f-stated-cost" name="stated_cost" value="5"`)
}
