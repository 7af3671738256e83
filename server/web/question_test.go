package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

func questionForm(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "key": {"agent_pref"}, "text": {"A human in 10 minutes or a chatbot in 5?"},
		"kind": {"choice"}, "options": {"human\r\nchatbot\r\n"}, "scale.min": {""}, "scale.max": {""}, "source": {"Exit survey"}}
}

func TestQuestionPages(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	c := e.client(t)
	csrf := c.login(e.adminKey)
	mustContain(t, c.get("/questions"), "No questions yet", `href="/questions/new"`, `<a href="/questions">Questions</a>`)
	mustContain(t, c.get("/questions/new"), `id="f-options"`, `id="f-scale-min"`, `name="csrf"`)

	// Errors land beside their fields, and what was typed comes back.
	form := questionForm(csrf)
	form.Set("key", "Agent Pref")
	form.Set("options", "human\nhuman")
	p := c.post("/questions/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-key"], "slug") || !strings.Contains(errs["f-options"], "line 2: duplicates option") {
		t.Errorf("invalid question: %d %v", p.status, errs)
	}
	if !strings.Contains(p.body, `value="Agent Pref"`) || !strings.Contains(p.body, `href="#f-options"`) {
		t.Error("the form lost what was typed, or the summary does not link to the options")
	}
	rating := questionForm(csrf)
	rating.Set("key", "csat")
	rating.Set("kind", "rating")
	rating.Set("options", "")
	rating.Set("scale.min", "one")
	rating.Set("scale.max", "5")
	if errs := errorsBeside(t, c.post("/questions/new", rating).body); !strings.Contains(errs["f-scale-min"], "whole number") {
		t.Errorf("text as the scale's minimum: %v", errs)
	}
	rating.Set("scale.min", "5")
	rating.Set("scale.max", "1")
	if p := c.post("/questions/new", rating); p.status != http.StatusBadRequest || !strings.Contains(p.body, `id="scale-error"`) {
		t.Errorf("a reversed scale is not shown on the scale: %d", p.status)
	}
	if _, err := e.svc.Question(ctx, "csat"); experiments.ErrorCode(err) != experiments.CodeNotFound {
		t.Errorf("an invalid form created the question: %v", err)
	}

	p = c.post("/questions/new", questionForm(csrf))
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/questions?done=question-created" {
		t.Fatalf("create: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	q, err := e.svc.Question(ctx, "agent_pref")
	if err != nil || !slices.Equal(q.Options, []string{"human", "chatbot"}) || q.Source != "Exit survey" {
		t.Fatalf("created: %+v, %v", q, err)
	}
	list := c.get("/questions?done=question-created")
	mustContain(t, list, "Question created", `data-key="agent_pref"`, "human · chatbot", "none yet", `href="/questions/agent_pref/edit"`)

	// Unanswered, everything but the key may change.
	edit := c.get("/questions/agent_pref/edit")
	mustContain(t, edit, `id="f-key" name="key" value="agent_pref" disabled`)
	if strings.Contains(edit.body, `id="locked-note"`) {
		t.Error("an unanswered question is shown as locked")
	}

	// Once answered, kind and options are locked: shown disabled, and kept
	// whatever is posted.
	if _, err := ingestRefreshed(ctx, e.svc, []experiments.Event{{Type: experiments.EventResponse, UnitID: "u1", Question: "agent_pref", Answer: "human"}}); err != nil {
		t.Fatal(err)
	}
	edit = c.get("/questions/agent_pref/edit")
	mustContain(t, edit, `id="locked-note"`, `<select id="f-kind" name="kind" disabled`, `<textarea id="f-options" name="options" rows="3" disabled`,
		"Locked: the question has responses")
	mustContain(t, c.get("/questions"), "answered: kind and options locked")
	p = c.post("/questions/agent_pref/edit", url.Values{"csrf": {csrf}, "text": {"Reworded?"}, "kind": {"number"}, "options": {"yes\nno"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/questions?done=question-saved" {
		t.Fatalf("saving an answered question: %d\n%s", p.status, p.body)
	}
	if q, _ := e.svc.Question(ctx, "agent_pref"); q.Text != "Reworded?" || q.Kind != experiments.QuestionChoice || !slices.Equal(q.Options, []string{"human", "chatbot"}) {
		t.Errorf("after saving an answered question: %+v", q)
	}
	if p := c.get("/questions/nope/edit"); p.status != http.StatusNotFound {
		t.Errorf("unknown question: %d", p.status)
	}

	// An SDK key reads the list but cannot edit.
	sdk := e.client(t)
	sdkCSRF := sdk.login(e.sdkKey)
	if p := sdk.get("/questions"); p.status != http.StatusOK || strings.Contains(p.body, "/edit") || strings.Contains(p.body, `href="/questions/new"`) {
		t.Errorf("questions for an SDK key: %d, edit links shown", p.status)
	}
	for _, path := range []string{"/questions/new", "/questions/agent_pref/edit"} {
		if p := sdk.get(path); p.status != http.StatusForbidden {
			t.Errorf("GET %s with an SDK key: %d, want 403", path, p.status)
		}
		form := questionForm(sdkCSRF)
		form.Set("key", "sdk-made")
		if p := sdk.post(path, form); p.status != http.StatusForbidden {
			t.Errorf("POST %s with an SDK key: %d, want 403", path, p.status)
		}
	}
}

// A say_do claim is written through the claim form (no survey n; a choice
// question and one of its options) and drawn on the report as its 2×2
// picture, with counts the test works out by hand.
func TestSayDoClaimFormAndReport(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	for _, in := range []experiments.QuestionInput{
		{Key: "agent_pref", Text: "A human in 10 minutes or a chatbot in 5?", Kind: experiments.QuestionChoice, Options: []string{"human", "chatbot"}},
		{Key: "csat_q", Text: "How satisfied are you?", Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 5}},
	} {
		if _, err := e.svc.CreateQuestion(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.CreateExperiment(ctx, experiments.ExperimentInput{Key: "hb", Name: "Human or bot", Unit: "customer_id",
		Variants: []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}},
		Metrics:  []experiments.Metric{{Key: "chose_human", Kind: experiments.MetricBinary, HigherIsBetter: true}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Start(ctx, "hb"); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	csrf := c.login(e.adminKey)

	// Only choice questions are offered.
	blank := c.get("/experiments/hb/claims/new")
	mustContain(t, blank, `<option value="say_do">`, `<option value="agent_pref">`, "agent_pref: human, chatbot")
	if strings.Contains(blank.body, `<option value="csat_q">`) {
		t.Error("a rating question is offered for a say/do claim")
	}

	form := url.Values{"csrf": {csrf}, "id": {"say-human"}, "statement": {"Customers who say they want a human choose one"},
		"kind": {"say_do"}, "metric": {"chose_human"}, "survey_n": {"2128"}, "question": {"agent_pref"}, "answer": {"a human"}}
	p := c.post("/experiments/hb/claims/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-survey-n"], "takes no survey_n") || !strings.Contains(errs["f-answer"], "not an option") {
		t.Errorf("say_do with a survey n and a wrong answer: %d %v", p.status, errs)
	}
	if !strings.Contains(p.body, `<option value="agent_pref" selected>`) {
		t.Error("the chosen question was not kept")
	}
	form.Set("survey_n", "") // empty means none
	form.Set("answer", "human")
	if p := c.post("/experiments/hb/claims/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("say_do claim: %d\n%s", p.status, p.body)
	}
	cl, err := e.svc.Claim(ctx, "hb", "say-human")
	if err != nil || cl.Question != "agent_pref" || cl.Answer != "human" || cl.SurveyN != 0 {
		t.Fatalf("stored claim: %+v, %v", cl, err)
	}
	edit := c.get("/experiments/hb/claims/say-human/edit")
	mustContain(t, edit, `<option value="say_do" selected>`, `<option value="agent_pref" selected>`, `id="f-answer" name="answer" value="human"`,
		`id="f-survey-n" name="survey_n" value=""`)

	// Ten customers: u0–u5 said human, of whom u0–u3 chose one; u6–u9 said
	// chatbot, of whom u6 chose a human.
	exposed := time.Now().Add(-time.Hour).UTC()
	before, after := exposed.Add(-time.Minute), exposed.Add(time.Minute)
	one := 1.0
	var batch []experiments.Event
	for i := range 10 {
		u := fmt.Sprintf("u%d", i)
		answer := "human"
		if i >= 6 {
			answer = "chatbot"
		}
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: "hb", Variant: []string{"bot", "human"}[i%2], TS: &exposed},
			experiments.Event{Type: experiments.EventResponse, UnitID: u, Question: "agent_pref", Answer: answer, TS: &before})
		if i < 4 || i == 6 {
			batch = append(batch, experiments.Event{Type: experiments.EventOutcome, UnitID: u, Metric: "chose_human", Value: &one, TS: &after})
		}
	}
	if _, err := ingestRefreshed(ctx, e.svc, batch); err != nil {
		t.Fatal(err)
	}
	report := c.get("/experiments/hb")
	if report.status != http.StatusOK {
		t.Fatalf("report: %d", report.status)
	}
	for s, want := range map[string]int{
		`<svg class="chart say-do-chart"`:    1,
		`<rect class="seg seg-did"`:          2,
		`<rect class="seg seg-didnt"`:        2,
		`<rect class="seg-empty"`:            0,
		`<rect class="swatch seg-did"`:       3, // a key beside each bar and one in the legend
		`<rect class="swatch seg-didnt"`:     3,
		`chart-box stated-vs-revealed`:       1,
		`<dl class="say-do-stats">`:          1,
		`<title id="say-do-0-t">What the cu`: 1,
	} {
		if got := strings.Count(report.body, s); got != want {
			t.Errorf("%d × %q on the report, want %d", got, s, want)
		}
	}
	mustContain(t, report, "Said “human”", "n = 6", "n = 4", "did 4 · 66.7%", "did not 2 · 33.3%", "did 1 · 25.0%", "did not 3 · 75.0%",
		"everyone: 50.0%", "Cohen’s κ", "Did it (10 units)", "60.0% [")
	if strings.Contains(report.body, "NaN") || strings.Contains(report.body, "Inf") {
		t.Error("the report shows NaN or Inf")
	}
}
