package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func layered(key string, lo, hi float64) string {
	return with(with(validExperiment, "key", `"`+key+`"`), "layer", fmt.Sprintf(`{"key":"support-agent","range":[%g,%g]}`, lo, hi))
}

// TestLayersKeepExperimentsApart: experiments of one layer split its hash
// space; an overlapping range is refused when created or started while
// another is running, naming it; and no unit is in both.
func TestLayersKeepExperimentsApart(t *testing.T) {
	e := newEnv(t)
	if r := e.do(t, "POST", "/api/v1/layers", e.adminKey, []byte(`{"key":"support-agent","name":"Who answers"}`)); r.status != 201 {
		t.Fatalf("layer: %d %s", r.status, r.body)
	}
	e.mustCreate(t, layered("lower", 0, 0.5))
	e.mustCreate(t, layered("upper", 0.5, 1))
	e.mustCreate(t, layered("overlapping", 0.4, 0.6)) // a draft may overlap
	e.mustStart(t, "lower")
	e.mustStart(t, "upper")
	r := e.do(t, "POST", "/api/v1/experiments/overlapping/start", e.adminKey, nil)
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), `running experiment \"lower\"`) {
		t.Fatalf("starting an overlapping experiment: %d %s", r.status, r.body)
	}
	r = e.do(t, "POST", "/api/v1/experiments", e.adminKey, []byte(layered("late", 0.9, 1)))
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), `running experiment \"upper\"`) {
		t.Fatalf("creating an overlapping experiment: %d %s", r.status, r.body)
	}
	for _, bad := range []struct{ body, field string }{
		{layered("bad-range", 0.5, 0.5), `"layer.range"`},
		{with(layered("no-layer", 0, 1), "layer", `{"key":"nope","range":[0,1]}`), `"layer.key"`},
	} {
		if r := e.do(t, "POST", "/api/v1/experiments", e.adminKey, []byte(bad.body)); r.status != 400 || !strings.Contains(string(r.body), bad.field) {
			t.Errorf("bad layer: %d %s, want 400 naming %s", r.status, r.body, bad.field)
		}
	}
	if r := e.do(t, "PUT", "/api/v1/experiments/lower", e.adminKey, []byte(layered("lower", 0, 0.6))); r.status != http.StatusConflict {
		t.Errorf("moving a running experiment's range: %d %s", r.status, r.body)
	}
	in := map[string]int{}
	for i := range 400 {
		unit := fmt.Sprintf("u-%d", i)
		both := 0
		for _, key := range []string{"lower", "upper"} {
			r := e.do(t, "POST", "/api/v1/assign", e.sdkKey, []byte(`{"experiment":"`+key+`","unit_id":"`+unit+`"}`))
			var a struct {
				InExperiment bool   `json:"in_experiment"`
				Reason       string `json:"reason"`
			}
			if err := json.Unmarshal(r.body, &a); err != nil {
				t.Fatal(err)
			}
			if a.InExperiment {
				both++
				in[key]++
			} else if a.Reason != "outside_layer" {
				t.Fatalf("%s/%s: reason %q", key, unit, a.Reason)
			}
		}
		if both != 1 {
			t.Fatalf("unit %s is in %d experiments of the layer", unit, both)
		}
	}
	if in["lower"] < 150 || in["upper"] < 150 {
		t.Errorf("split %v of 400 units; want about half each", in)
	}
}

// TestHoldout: held-out units get the control and are recorded in the
// holdout; everyone else who reaches the experiment is recorded as
// exposed; the holdout's report compares the two.
func TestHoldout(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	e.mustStart(t, "human-vs-bot")
	body := `{"key":"global","name":"Global holdout","share":0.2,"experiments":["human-vs-bot"],"metrics":[{"key":"csat","kind":"mean","higher_is_better":true}]}`
	if r := e.do(t, "POST", "/api/v1/holdouts", e.adminKey, []byte(body)); r.status != 201 {
		t.Fatalf("holdout: %d %s", r.status, r.body)
	}
	for _, bad := range []struct{ body, field string }{
		{strings.Replace(body, `"share":0.2`, `"share":0.9`, 1), `"share"`},
		{strings.Replace(body, `["human-vs-bot"]`, `["nope"]`, 1), `"experiments[0]"`},
		{strings.Replace(body, `"key":"global"`, `"key":"g2"`, 1) + "x", ``},
	} {
		if r := e.do(t, "POST", "/api/v1/holdouts", e.adminKey, []byte(bad.body)); r.status != 400 || !strings.Contains(string(r.body), bad.field) {
			t.Errorf("bad holdout: %d %s", r.status, r.body)
		}
	}
	held := 0
	var events []string
	for i := range 500 {
		unit := fmt.Sprintf("c-%d", i)
		r := e.do(t, "POST", "/api/v1/assign", e.sdkKey, []byte(`{"experiment":"human-vs-bot","unit_id":"`+unit+`"}`))
		var a struct {
			Variant      string `json:"variant"`
			InExperiment bool   `json:"in_experiment"`
			Reason       string `json:"reason"`
		}
		if err := json.Unmarshal(r.body, &a); err != nil {
			t.Fatal(err)
		}
		csat := 4.0
		if a.Reason == "held_out" {
			held++
			if a.Variant != "bot" || a.InExperiment {
				t.Fatalf("held-out unit got %+v", a)
			}
			csat = 3.5
		}
		events = append(events, fmt.Sprintf(`{"type":"outcome","unit_id":%q,"metric":"csat","value":%g}`, unit, csat+float64(i%3)*0.1))
	}
	if held < 70 || held > 130 {
		t.Fatalf("%d of 500 held out; want about 100", held)
	}
	if r := e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[`+strings.Join(events, ",")+`]}`)); r.status >= 300 {
		t.Fatalf("events: %d %s", r.status, r.body)
	}
	r := e.do(t, "GET", "/api/v1/holdouts/global/report", e.adminKey, nil)
	var rep struct {
		Report struct {
			Metrics []struct {
				Variants []struct {
					Variant string  `json:"variant"`
					Units   int64   `json:"units"`
					Mean    float64 `json:"mean"`
				} `json:"variants"`
				Comparisons []struct {
					AbsEffect float64 `json:"abs_effect"`
				} `json:"comparisons"`
			} `json:"metrics"`
		} `json:"report"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &rep) != nil || len(rep.Report.Metrics) != 1 {
		t.Fatalf("holdout report: %d %s", r.status, r.body)
	}
	v := rep.Report.Metrics[0].Variants
	if v[0].Variant != "held_out" || v[0].Units != int64(held) || v[1].Units != int64(500-held) {
		t.Errorf("holdout arms: %+v, want %d held out and %d exposed", v, held, 500-held)
	}
	if d := rep.Report.Metrics[0].Comparisons[0].AbsEffect; d < 0.45 || d > 0.55 {
		t.Errorf("exposed − held out = %v, want about 0.5", d)
	}
	// The SDK records a holdout's exposures as events: they are accepted.
	ev := `{"events":[{"type":"exposure","unit_id":"sdk-1","experiment":"holdout:global","variant":"held_out"},
		{"type":"exposure","unit_id":"sdk-2","experiment":"holdout:global","variant":"nope"}]}`
	if r := e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(ev)); r.status != 400 || !strings.Contains(string(r.body), "events[1].variant") {
		t.Errorf("holdout exposures: %d %s", r.status, r.body)
	}
}
