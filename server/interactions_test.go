package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

type interactionEntry struct {
	Experiment       string   `json:"experiment"`
	Metric           string   `json:"metric"`
	Estimate         *float64 `json:"estimate"`
	PValue           *float64 `json:"p_value"`
	AssignmentPValue *float64 `json:"assignment_p_value"`
	Flagged          bool     `json:"flagged"`
	Summary          string   `json:"summary"`
}

func interactionsOf(t *testing.T, e *env, key string) ([]interactionEntry, []string) {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/experiments/"+key+"/refresh", e.adminKey, nil)
	var rep struct {
		Interactions []interactionEntry `json:"interactions"`
		Warnings     []string           `json:"warnings"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &rep) != nil || rep.Interactions == nil {
		t.Fatalf("report of %s: %d %s", key, r.status, r.body)
	}
	return rep.Interactions, rep.Warnings
}

// TestInteractionChecks: two running experiments on the same customers.
// When a human's effect on CSAT is larger for customers who are taught,
// each report flags the other experiment, naming it; when the effects add
// up, nothing is flagged; when assignment to the two is not independent,
// the χ² test flags it.
func TestInteractionChecks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interaction float64
		dependent   bool
		flagged     bool
	}{
		{"interaction", 0.8, false, true},
		{"additive", 0, false, false},
		{"dependent assignment", 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mustCreate(t, validExperiment)
			e.mustCreate(t, `{"key":"teach-vs-fix","name":"Teach vs fix","unit":"customer_id",
				"variants":[{"key":"fix","weight":1,"control":true},{"key":"teach","weight":1}],
				"metrics":[{"key":"csat","kind":"mean","higher_is_better":true}]}`)
			e.mustStart(t, "human-vs-bot")
			e.mustStart(t, "teach-vs-fix")
			rng := rand.New(rand.NewPCG(14, 14))
			var events []string
			for i := range 1600 {
				unit := fmt.Sprintf("c-%d", i)
				agent, help := []string{"bot", "human"}[rng.IntN(2)], []string{"fix", "teach"}[rng.IntN(2)]
				if tc.dependent && rng.Float64() < 0.3 { // humans teach more often than chance
					help = map[string]string{"human": "teach", "bot": "fix"}[agent]
				}
				csat := 3.5 + rng.NormFloat64()*0.8
				if agent == "human" {
					csat += 0.3
				}
				if agent == "human" && help == "teach" {
					csat += tc.interaction
				}
				for _, x := range []struct{ exp, variant string }{{"human-vs-bot", agent}, {"teach-vs-fix", help}} {
					events = append(events,
						fmt.Sprintf(`{"type":"exposure","unit_id":%q,"experiment":%q,"variant":%q,"ts":"2026-11-01T00:00:00Z"}`, unit, x.exp, x.variant),
						fmt.Sprintf(`{"type":"outcome","unit_id":%q,"experiment":%q,"metric":"csat","value":%g,"ts":"2026-11-02T00:00:00Z"}`, unit, x.exp, csat))
				}
			}
			for len(events) > 0 {
				n := min(len(events), 1000)
				if r := e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[`+strings.Join(events[:n], ",")+`]}`)); r.status >= 300 {
					t.Fatalf("events: %d %s", r.status, r.body)
				}
				events = events[n:]
			}
			// One entry per other experiment and metric: resolved has no data.
			checks, warnings := interactionsOf(t, e, "human-vs-bot")
			if len(checks) != 2 || checks[0].Metric != "resolved" || checks[0].PValue != nil || checks[1].Experiment != "teach-vs-fix" ||
				checks[1].Metric != "csat" || checks[1].PValue == nil || checks[1].AssignmentPValue == nil {
				t.Fatalf("checks: %+v", checks)
			}
			c := checks[1]
			if c.Flagged != tc.flagged {
				t.Errorf("flagged = %v, want %v: %s", c.Flagged, tc.flagged, c.Summary)
			}
			if tc.interaction > 0 && (*c.Estimate < 0.5 || *c.Estimate > 1.1) {
				t.Errorf("difference of differences %v, want about %v", *c.Estimate, tc.interaction)
			}
			if c.Flagged != strings.Contains(strings.Join(warnings, "\n"), `"teach-vs-fix"`) {
				t.Errorf("a flag must also be a warning naming the other experiment: %q", warnings)
			}
			if tc.dependent != (*c.AssignmentPValue < 0.01) {
				t.Errorf("assignment p = %v with dependent = %v", *c.AssignmentPValue, tc.dependent)
			}
			// The other experiment's report checks it the other way round.
			back, _ := interactionsOf(t, e, "teach-vs-fix")
			if len(back) != 1 || back[0].Experiment != "human-vs-bot" || back[0].Metric != "csat" || back[0].Flagged != tc.flagged {
				t.Errorf("the other way round: %+v", back)
			}
		})
	}
}
