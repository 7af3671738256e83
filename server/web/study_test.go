package web_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/experiments"
)

// studyEnv creates two rating drivers and a rating outcome, and the
// studies "support" (answered by units units) and "empty" (no answers).
func studyEnv(t *testing.T, units int) *env {
	t.Helper()
	e := newEnv(t, false)
	ctx := context.Background()
	for _, k := range []string{"speed", "friendliness", "overall"} {
		if _, err := e.svc.CreateQuestion(ctx, experiments.QuestionInput{Key: k, Text: "How was the " + k + "?",
			Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 5}}); err != nil {
			t.Fatal(err)
		}
	}
	// Speed drives the outcome; friendliness, which customers name more
	// often, barely does.
	rng := rand.New(rand.NewPCG(3, 5))
	clamp := func(x float64) float64 { return max(1, min(5, float64(int(x+0.5)))) }
	var batch []experiments.Event
	for i := range units {
		u := fmt.Sprintf("u%d", i)
		speed, friendly := clamp(1+4*rng.Float64()), clamp(1+4*rng.Float64())
		overall := clamp(0.8*speed + 0.15*friendly + 0.6*rng.NormFloat64())
		for q, a := range map[string]float64{"speed": speed, "friendliness": friendly, "overall": overall} {
			batch = append(batch, experiments.Event{Type: experiments.EventResponse, UnitID: u, Question: q, Answer: a})
		}
	}
	if _, err := e.svc.Ingest(ctx, batch); err != nil {
		t.Fatal(err)
	}
	in := experiments.StudyInput{
		Key: "support", Name: "What drives support satisfaction",
		Outcome: experiments.StudyVariable{Question: "overall", Label: "Overall satisfaction"},
		Drivers: []experiments.StudyVariable{
			{Key: "speed", Label: "Speed of reply", Question: "speed"},
			{Key: "friendly", Label: "Friendliness", Question: "friendliness"},
		},
		Stated:    experiments.StudyStated{Shares: map[string]float64{"speed": 0.3, "friendly": 0.7}, SurveyN: 100},
		Bootstrap: 200, Seed: 11,
	}
	if _, err := e.svc.CreateStudy(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateQuestion(ctx, experiments.QuestionInput{Key: "nps", Text: "How likely…?",
		Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 0, Max: 10}}); err != nil {
		t.Fatal(err)
	}
	in.Key, in.Name = "empty", "Not yet answered"
	in.Outcome = experiments.StudyVariable{Question: "nps"}
	if _, err := e.svc.CreateStudy(ctx, in); err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	driverMark = regexp.MustCompile(`<g class="driver v-(\w+)">.*?</g>`)
	markShape  = regexp.MustCompile(`<(circle|rect|polygon) class="mark point"`)
	driverRows = regexp.MustCompile(`(?s)<tr data-driver="([^"]+)">(.*?)</tr>`)
	nonFinite  = regexp.MustCompile(`NaN|[+-]?Inf\b|\bInf`)
)

func TestStudyPages(t *testing.T) {
	e := studyEnv(t, 60)
	for _, key := range []string{e.adminKey, e.sdkKey} {
		c := e.client(t)
		c.login(key)

		list := c.get("/studies")
		if list.status != http.StatusOK {
			t.Fatalf("GET /studies: %d", list.status)
		}
		mustContain(t, list, `<a href="/studies">Studies</a>`, `data-key="support"`, `href="/studies/support"`,
			"What drives support satisfaction", "Overall satisfaction", `data-key="empty"`)

		p := c.get("/studies/support")
		if p.status != http.StatusOK {
			t.Fatalf("GET /studies/support: %d\n%s", p.status, p.body)
		}
		mustContain(t, p, `id="quadrant"`, `<title id="quadrant-t">`, `<desc id="quadrant-d">`, `id="study-summary"`,
			"Spearman", "Kendall", "R² of Overall satisfaction")
		if m := nonFinite.FindString(p.body); m != "" {
			t.Errorf("the study page shows %q", m)
		}

		// One marker per driver, its shape given by its verdict, and the
		// verdict in its label.
		marks := driverMark.FindAllStringSubmatch(p.body, -1)
		if len(marks) != 2 {
			t.Fatalf("%d driver marks in the chart, want 2", len(marks))
		}
		wantShape := map[string]string{"overrated": "polygon", "underrated": "rect", "consistent": "circle", "undetermined": "polygon"}
		for _, m := range marks {
			shapes := markShape.FindAllStringSubmatch(m[0], -1)
			if len(shapes) != 1 || shapes[0][1] != wantShape[m[1]] {
				t.Errorf("driver mark %q: shapes %v, want one %s", m[1], shapes, wantShape[m[1]])
			}
			if !strings.Contains(m[0], "("+m[1]+")</text>") {
				t.Errorf("the label of a %s driver does not say so: %s", m[1], m[0])
			}
			if strings.Count(m[0], `class="ci ci-x"`) != 1 || strings.Count(m[0], `class="ci ci-y"`) != 1 {
				t.Errorf("driver mark without both intervals: %s", m[0])
			}
		}
		for _, label := range []string{"Speed of reply (", "Friendliness ("} {
			if !strings.Contains(p.body, label) {
				t.Errorf("the chart has no label %q", label)
			}
		}

		rows := driverRows.FindAllStringSubmatch(p.body, -1)
		if len(rows) != 2 || rows[0][1] != "speed" || rows[1][1] != "friendly" {
			t.Fatalf("driver rows: %v", rows)
		}
		for _, r := range rows {
			// Shares, two ranks, a Johnson share and three intervals (the
			// stated, the Johnson and the rank).
			if !strings.Contains(r[2], "%") || strings.Count(r[2], "[") != 3 || strings.Contains(r[2], "—") {
				t.Errorf("row %s is incomplete:\n%s", r[1], r[2])
			}
		}
		// Speed is named by 30% and friendliness by 70%.
		if !strings.Contains(rows[0][2], "30.0%") || !strings.Contains(rows[1][2], "70.0%") {
			t.Errorf("stated shares not shown: %v", rows)
		}
	}
}

func TestStudyWithoutAnswersShowsWhy(t *testing.T) {
	e := studyEnv(t, 20)
	c := e.client(t)
	c.login(e.sdkKey)
	p := c.get("/studies/empty")
	if p.status != http.StatusOK {
		t.Fatalf("GET /studies/empty: %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, `id="quadrant"`) {
		t.Error("a study without answers draws a chart")
	}
	mustContain(t, p, "Too few units", `id="no-chart"`)
	rows := driverRows.FindAllStringSubmatch(p.body, -1)
	if len(rows) != 2 {
		t.Fatalf("%d driver rows, want 2", len(rows))
	}
	for _, r := range rows {
		if !strings.Contains(r[2], "—") || !strings.Contains(r[2], "too few units") || !strings.Contains(r[2], "undetermined") {
			t.Errorf("row %s hides why it is empty:\n%s", r[1], r[2])
		}
	}
	if m := nonFinite.FindString(p.body); m != "" {
		t.Errorf("the page shows %q", m)
	}
	if p := c.get("/studies/nope"); p.status != http.StatusNotFound {
		t.Errorf("an unknown study: %d, want 404", p.status)
	}
}
