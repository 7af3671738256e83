package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const surveySource = `{"key":"ignite80","title":"ignite80 × Front survey of B2B buyers","publisher":"Front","year":2019,"n":2128,"url":"https://front.com/blog/survey"}`

// TestSourcesStatementsAndScoreboard drives the statement lifecycle over
// HTTP: a claim names a statement and takes its figures, an edit of the
// statement moves every claim that tests it, a change that would leave a
// claim untestable or a deletion of a tested statement is refused, and
// the scoreboard pools the tests of two experiments.
func TestSourcesStatementsAndScoreboard(t *testing.T) {
	e := newEnv(t)
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		r := e.do(t, method, path, e.adminKey, []byte(body))
		if r.status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
		}
		return r.body
	}
	call("POST", "/api/v1/sources", surveySource, http.StatusCreated)
	call("POST", "/api/v1/sources/ignite80/statements", `{"key":"human-74","text":"74% would rather wait 10 minutes for a human","kind":"share","stated_share":0.74,"survey_n":2128,"option":"a human"}`, http.StatusCreated)
	call("POST", "/api/v1/sources/ignite80/statements", `{"key":"human-74","text":"again","kind":"share","stated_share":0.5,"survey_n":10}`, http.StatusConflict)

	for _, key := range []string{"emea", "us"} {
		e.mustCreate(t, with(with(validExperiment, "key", `"`+key+`"`), "metrics", `[{"key":"chose_human","kind":"binary","higher_is_better":true}]`))
		// The shorthand: "statement" names the statement, no kind.
		call("POST", "/api/v1/experiments/"+key+"/claims", `{"id":"human","statement":"human-74","metric":"chose_human"}`, http.StatusCreated)
		e.mustStart(t, key)
	}
	var claim struct {
		StatementKey string   `json:"statement_key"`
		Statement    string   `json:"statement"`
		Kind         string   `json:"kind"`
		StatedShare  *float64 `json:"stated_share"`
		Source       string   `json:"source"`
		Version      int      `json:"version"`
	}
	body := call("GET", "/api/v1/experiments/emea/claims/human", "", http.StatusOK)
	if err := json.Unmarshal(body, &claim); err != nil {
		t.Fatal(err)
	}
	if claim.StatementKey != "human-74" || claim.Kind != "share" || claim.StatedShare == nil || *claim.StatedShare != 0.74 ||
		claim.Source != "ignite80 × Front survey of B2B buyers (2019)" {
		t.Fatalf("claim: %s", body)
	}
	// What GET returns can be PUT back; a contradicting figure cannot.
	call("PUT", "/api/v1/experiments/emea/claims/human", string(body), http.StatusOK)
	r := e.do(t, "PUT", "/api/v1/experiments/emea/claims/human", e.adminKey, []byte(`{"statement_key":"human-74","metric":"chose_human","stated_share":0.6}`))
	if r.status != 400 || !strings.Contains(string(r.body), `"stated_share"`) {
		t.Fatalf("contradicting figure: %d %s", r.status, r.body)
	}
	r = e.do(t, "POST", "/api/v1/experiments/us/claims", e.adminKey, []byte(`{"id":"x","statement_key":"nope","metric":"chose_human"}`))
	if r.status != 400 || !strings.Contains(string(r.body), `"statement_key"`) {
		t.Fatalf("unknown statement: %d %s", r.status, r.body)
	}

	// An edit of the statement moves both claims to their next version.
	call("PUT", "/api/v1/sources/ignite80/statements/human-74", `{"text":"74% would rather wait 10 minutes for a human","kind":"share","stated_share":0.72,"survey_n":2128}`, http.StatusOK)
	body = call("GET", "/api/v1/experiments/us/claims/human", "", http.StatusOK)
	if err := json.Unmarshal(body, &claim); err != nil || *claim.StatedShare != 0.72 || claim.Version != 2 {
		t.Fatalf("claim after the statement's edit: %s", body)
	}
	// A new kind would leave the claims untestable (binary metric, no preferred).
	r = e.do(t, "PUT", "/api/v1/sources/ignite80/statements/human-74", e.adminKey, []byte(`{"text":"t","kind":"effect","survey_n":2128}`))
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "emea/human") {
		t.Fatalf("kind change: %d %s", r.status, r.body)
	}
	r = e.do(t, "DELETE", "/api/v1/sources/ignite80/statements/human-74", e.adminKey, nil)
	if r.status != http.StatusConflict {
		t.Fatalf("deleting a tested statement: %d %s", r.status, r.body)
	}
	var versions struct {
		Versions []struct {
			Version int `json:"version"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(call("GET", "/api/v1/sources/ignite80/statements/human-74/versions", "", http.StatusOK), &versions); err != nil || len(versions.Versions) != 2 {
		t.Fatalf("statement versions: %+v %v", versions, err)
	}

	// Customers choose a human 60% of the time in both experiments.
	for _, key := range []string{"emea", "us"} {
		var events []string
		for i := range 400 {
			unit := fmt.Sprintf("%s-%d", key, i)
			variant := []string{"bot", "human"}[i%2]
			events = append(events,
				fmt.Sprintf(`{"type":"exposure","unit_id":%q,"experiment":%q,"variant":%q,"ts":"2026-11-01T00:00:00Z"}`, unit, key, variant),
				fmt.Sprintf(`{"type":"outcome","unit_id":%q,"experiment":%q,"metric":"chose_human","value":%d,"ts":"2026-11-01T01:00:00Z"}`, unit, key, map[bool]int{true: 1}[i%5 < 3]))
		}
		if r := e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[`+strings.Join(events, ",")+`]}`)); r.status >= 300 {
			t.Fatalf("events: %d %s", r.status, r.body)
		}
	}
	var sb struct {
		Source     struct{ Key string } `json:"source"`
		Summary    string               `json:"summary"`
		Statements []struct {
			Outcome string `json:"outcome"`
			Pooled  *struct {
				K        int       `json:"k"`
				Estimate float64   `json:"estimate"`
				CI       []float64 `json:"ci"`
			} `json:"pooled"`
			Tests []struct {
				Experiment string `json:"experiment"`
				Pooled     bool   `json:"pooled"`
			} `json:"tests"`
		} `json:"statements"`
	}
	// The scoreboard reads each experiment's latest report.
	for _, key := range []string{"emea", "us"} {
		call("POST", "/api/v1/experiments/"+key+"/refresh", "", http.StatusOK)
	}
	body = call("GET", "/api/v1/sources/ignite80/scoreboard", "", http.StatusOK)
	if err := json.Unmarshal(body, &sb); err != nil {
		t.Fatal(err)
	}
	if len(sb.Statements) != 1 || sb.Statements[0].Pooled == nil || sb.Statements[0].Pooled.K != 2 ||
		sb.Statements[0].Pooled.Estimate < 0.55 || sb.Statements[0].Pooled.Estimate > 0.65 || len(sb.Statements[0].Tests) != 2 {
		t.Fatalf("scoreboard: %s", body)
	}
	if !strings.HasPrefix(sb.Summary, "Of 1 statement from ignite80 × Front survey of B2B buyers (2019), 1 ") {
		t.Errorf("summary %q", sb.Summary)
	}
	r = e.do(t, "GET", "/api/v1/sources/ignite80/scoreboard?format=csv", e.adminKey, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		strings.Count(string(r.body), "\ntest,human-74,") != 2 || !strings.Contains(string(r.body), "\npooled,human-74,share,") {
		t.Errorf("csv: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/sources/ignite80/scoreboard?format=xml", e.adminKey, nil); r.status != 400 || !strings.Contains(string(r.body), `"format"`) {
		t.Errorf("bad format: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/sources/nope/scoreboard", e.adminKey, nil); r.status != 404 {
		t.Errorf("unknown source: %d %s", r.status, r.body)
	}
}

func TestSourceAndStatementBadInput(t *testing.T) {
	e := newEnv(t)
	if r := e.do(t, "POST", "/api/v1/sources", e.adminKey, []byte(surveySource)); r.status != http.StatusCreated {
		t.Fatalf("source: %d %s", r.status, r.body)
	}
	tests := []struct{ name, path, body, field string }{
		{"source without title", "/api/v1/sources", `{"key":"s2"}`, `"title"`},
		{"source bad key", "/api/v1/sources", `{"key":"S 2","title":"x"}`, `"key"`},
		{"source bad year", "/api/v1/sources", `{"key":"s3","title":"x","year":19}`, `"year"`},
		{"source bad url", "/api/v1/sources", `{"key":"s4","title":"x","url":"javascript:alert(1)"}`, `"url"`},
		{"source negative n", "/api/v1/sources", `{"key":"s5","title":"x","n":-1}`, `"n"`},
		{"statement without text", "/api/v1/sources/ignite80/statements", `{"key":"a","kind":"share","stated_share":0.5,"survey_n":10}`, `"text"`},
		{"statement bad share", "/api/v1/sources/ignite80/statements", `{"key":"a","text":"t","kind":"share","stated_share":1.5,"survey_n":10}`, `"stated_share"`},
		{"statement bad kind", "/api/v1/sources/ignite80/statements", `{"key":"a","text":"t","kind":"vibe"}`, `"kind"`},
		{"statement without survey_n", "/api/v1/sources/ignite80/statements", `{"key":"a","text":"t","kind":"share","stated_share":0.5}`, `"survey_n"`},
		{"statement unknown field", "/api/v1/sources/ignite80/statements", `{"key":"a","text":"t","kind":"share","metric":"m"}`, `metric`},
		{"tradeoff statement without cost", "/api/v1/sources/ignite80/statements", `{"key":"a","text":"t","kind":"tradeoff","survey_n":10}`, `"stated_cost"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", tc.path, e.adminKey, []byte(tc.body))
			if r.status != 400 || !strings.Contains(string(r.body), tc.field) {
				t.Errorf("%d %s; want 400 naming %s", r.status, r.body, tc.field)
			}
		})
	}
	if r := e.do(t, "POST", "/api/v1/sources/nope/statements", e.adminKey, []byte(`{"key":"a","text":"t","kind":"say_do"}`)); r.status != 404 {
		t.Errorf("statement of an unknown source: %d %s", r.status, r.body)
	}
}
