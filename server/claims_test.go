package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const choiceExperiment = `{"key":"human-vs-bot","name":"Human vs bot","unit":"customer_id",
	"variants":[{"key":"bot","weight":1,"control":true},{"key":"human","weight":1}],
	"metrics":[{"key":"resolved","kind":"binary","higher_is_better":true},
	           {"key":"chose_human","kind":"binary","higher_is_better":true},
	           {"key":"csat","kind":"mean","higher_is_better":true}]}`

func TestClaimsAPI(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, choiceExperiment)
	base := "/api/v1/experiments/human-vs-bot/claims"
	claim := `{"id":"human-74","kind":"share","metric":"chose_human","stated_share":0.74,"survey_n":2128,
		"statement":"74% would rather wait 10 minutes for a human","source":"ignite80 with Front, 2019","option":"a human"}`
	r := e.do(t, "POST", base, e.adminKey, []byte(claim))
	if r.status != 201 || !strings.Contains(string(r.body), `"version":1`) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	invalid := []struct{ body, field string }{
		{claim, "already has a claim"},
		{strings.Replace(claim, `0.74`, `1.5`, 1), "stated_share"},
		{strings.Replace(claim, `"chose_human"`, `"nps"`, 1), `"metric"`},
		{strings.Replace(claim, `"chose_human"`, `"csat"`, 1), "binary metric"},
		{strings.Replace(claim, `"share"`, `"vibes"`, 1), `"kind"`},
		{strings.Replace(claim, `"survey_n":2128`, `"survey_n":0`, 1), "survey_n"},
		{`{"id":"e","kind":"effect","metric":"csat","survey_n":10,"statement":"s","preferred":"robot"}`, `"preferred"`},
		{`{"id":"e","kind":"effect","metric":"csat","survey_n":10,"statement":"s","preferred":"bot"}`, `"other"`},
		{`{"id":"g","kind":"segment_gap","metric":"chose_human","survey_n":10,"statement":"s","segment_a":"generation=gen_z","segment_b":"plan=pro","stated_a":0.7,"stated_b":0.5}`, "segment_b"},
	}
	for i, tt := range invalid {
		body := tt.body
		if i > 0 { // a fresh id, so that only the field at fault is wrong
			body = strings.Replace(body, `"human-74"`, fmt.Sprintf(`"c%d"`, i), 1)
		}
		r := e.do(t, "POST", base, e.adminKey, []byte(body))
		if r.status/100 != 4 || !strings.Contains(string(r.body), tt.field) {
			t.Errorf("invalid claim %d: %d %s, want a 4xx naming %s", i, r.status, r.body, tt.field)
		}
	}
	if r := e.do(t, "POST", base, e.sdkKey, []byte(claim)); r.status != 403 {
		t.Errorf("an SDK key defined a claim: %d", r.status)
	}

	r = e.do(t, "PUT", base+"/human-74", e.adminKey, []byte(strings.Replace(claim, `0.74`, `0.7`, 1)))
	if r.status != 200 || !strings.Contains(string(r.body), `"version":2`) {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	r = e.do(t, "GET", base+"/human-74/versions", e.adminKey, nil)
	var history struct {
		Versions []struct {
			Version     int
			StatedShare float64 `json:"stated_share"`
			Deleted     bool
		}
	}
	if json.Unmarshal(r.body, &history); len(history.Versions) != 2 || history.Versions[0].StatedShare != 0.74 || history.Versions[1].StatedShare != 0.7 {
		t.Fatalf("versions: %s", r.body)
	}
	if r := e.do(t, "DELETE", base+"/human-74", e.adminKey, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", base+"/human-74", e.adminKey, nil); r.status != 404 {
		t.Fatalf("deleted claim: %d, want 404", r.status)
	}
	if r := e.do(t, "GET", base, e.adminKey, nil); r.status != 200 || strings.TrimSpace(string(r.body)) != `{"claims":[]}` {
		t.Fatalf("list after delete: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", base+"/human-74/versions", e.adminKey, nil); !strings.Contains(string(r.body), `"deleted":true`) {
		t.Fatalf("the deletion is not in the history: %s", r.body)
	}
}

// sendUnits exposes n units to variant and records each one's outcomes.
func sendUnits(t *testing.T, e *env, prefix, variant string, n, resolved int) {
	t.Helper()
	var events []string
	for i := range n {
		unit := fmt.Sprintf("%s-%d", prefix, i)
		v := 0
		if i < resolved {
			v = 1
		}
		events = append(events,
			fmt.Sprintf(`{"type":"exposure","unit_id":%q,"experiment":"human-vs-bot","variant":%q,"ts":"2026-01-01T00:00:00Z"}`, unit, variant),
			fmt.Sprintf(`{"type":"outcome","unit_id":%q,"metric":"resolved","value":%d}`, unit, v),
			fmt.Sprintf(`{"type":"outcome","unit_id":%q,"metric":"chose_human","value":%d}`, unit, v))
	}
	if r := e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[`+strings.Join(events, ",")+`]}`)); r.status != http.StatusAccepted {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
}

type reportView struct {
	Metrics []struct {
		Metric      string
		Comparisons []struct {
			PValue         float64 `json:"p_value"`
			PValueSnapshot float64 `json:"p_value_snapshot"`
		}
	}
	Claims []struct {
		ID, Verdict, Summary string
	}
}

// Under sequential testing a report's p-value is the running minimum over
// the stored snapshots: evidence once shown cannot be un-shown by peeking.
func TestReportClaimsAndSequentialSnapshots(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, choiceExperiment)
	claim := `{"id":"human-74","kind":"share","metric":"chose_human","stated_share":0.74,"survey_n":2128,"statement":"74% prefer a human"}`
	if r := e.do(t, "POST", "/api/v1/experiments/human-vs-bot/claims", e.adminKey, []byte(claim)); r.status != 201 {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	e.mustStart(t, "human-vs-bot")
	sendUnits(t, e, "early-bot", "bot", 300, 60)
	sendUnits(t, e, "early-human", "human", 300, 240)
	// Each refresh computes and stores a snapshot; a read returns the
	// latest one, unchanged.
	report := func() reportView {
		r := e.do(t, "POST", "/api/v1/experiments/human-vs-bot/refresh", e.adminKey, nil)
		var v reportView
		if r.status != 200 || json.Unmarshal(r.body, &v) != nil {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		if read := e.do(t, "GET", "/api/v1/experiments/human-vs-bot/report", e.adminKey, nil); read.status != 200 || string(read.body) != string(r.body) {
			t.Fatalf("the read differs from the refresh it follows:\n%s\n%s", read.body, r.body)
		}
		return v
	}
	first := report()
	if len(first.Claims) != 1 || first.Claims[0].Verdict == "" || !strings.Contains(first.Claims[0].Summary, "74%") {
		t.Fatalf("claim result: %+v", first.Claims)
	}
	p1 := first.Metrics[0].Comparisons[0].PValue
	if !(p1 < 0.001) {
		t.Fatalf("strong early effect: p = %v", p1)
	}
	// Later units show no effect at all; the snapshot's own p rises, the reported one may not.
	sendUnits(t, e, "late-bot", "bot", 2000, 1000)
	sendUnits(t, e, "late-human", "human", 2000, 1000)
	second := report()
	c := second.Metrics[0].Comparisons[0]
	if c.PValue != p1 || !(c.PValueSnapshot > p1) {
		t.Fatalf("after contrary data: p_value %v (want the running minimum %v), p_value_snapshot %v (want larger)", c.PValue, p1, c.PValueSnapshot)
	}
	r := e.do(t, "GET", "/api/v1/experiments/human-vs-bot/snapshots", e.adminKey, nil)
	var snaps struct {
		Snapshots []struct {
			ComputedAt string `json:"computed_at"`
			Report     reportView
		}
	}
	if json.Unmarshal(r.body, &snaps); r.status != 200 || len(snaps.Snapshots) == 0 || snaps.Snapshots[0].ComputedAt == "" {
		t.Fatalf("snapshots: %d %.300s", r.status, r.body)
	}
}
