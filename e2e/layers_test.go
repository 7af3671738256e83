package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/revealed-ab/revealed/internal/testbin"
	"github.com/revealed-ab/revealed/sdk"
)

// TestLayersProperty: for random layers, each split at random cut points
// (with gaps) between 2 to 4 running experiments, some of them also in a
// random holdout, no unit is ever in two running experiments of one layer,
// on the server (POST /assign) and in the SDK (local evaluation), and the
// two agree on every unit, reason and holdout included.
func TestLayersProperty(t *testing.T) {
	const units = 2000
	p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + adminKey}, "--db", t.TempDir()+"/layers.db", "--rate-limit", "0")
	hc := newHTTPClient(16)
	var key struct{ Key string }
	mustCall(t, hc, "POST", p.URL+"/api/v1/keys", map[string]string{"kind": "sdk", "name": "layers"}, 201, &key)
	rng := rand.New(rand.NewPCG(14, 2026))

	layers := map[string][]string{} // layer → its experiments
	for l := range 5 {
		layer := fmt.Sprintf("layer-%d", l)
		mustCall(t, hc, "POST", p.URL+"/api/v1/layers", map[string]string{"key": layer, "name": layer}, 201, nil)
		n := 2 + rng.IntN(3)
		cuts := []float64{0, 1}
		for range 2*n - 2 {
			cuts = append(cuts, float64(rng.IntN(1000))/1000)
		}
		slices.Sort(cuts)
		for i := range n {
			lo, hi := cuts[2*i], cuts[2*i+1]
			if lo == hi {
				continue // an empty range is not allowed; the gap stays free
			}
			exp := fmt.Sprintf("%s-exp-%d", layer, i)
			mustCall(t, hc, "POST", p.URL+"/api/v1/experiments", map[string]any{
				"key": exp, "name": exp, "unit": "customer_id",
				"variants": []map[string]any{{"key": "a", "weight": 1, "control": true}, {"key": "b", "weight": 1}},
				"metrics":  []map[string]any{{"key": "m", "kind": "binary", "higher_is_better": true}},
				"traffic":  []float64{1, 0.7}[rng.IntN(2)],
				"layer":    map[string]any{"key": layer, "range": []float64{lo, hi}},
			}, 201, nil)
			mustCall(t, hc, "POST", p.URL+"/api/v1/experiments/"+exp+"/start", nil, 200, nil)
			layers[layer] = append(layers[layer], exp)
		}
		// A range that overlaps a running one is refused at start.
		first := layers[layer][0]
		overlap := first + "-overlap"
		mustCall(t, hc, "POST", p.URL+"/api/v1/experiments", map[string]any{
			"key": overlap, "name": overlap, "unit": "customer_id",
			"variants": []map[string]any{{"key": "a", "weight": 1, "control": true}, {"key": "b", "weight": 1}},
			"metrics":  []map[string]any{{"key": "m", "kind": "binary", "higher_is_better": true}},
			"layer":    map[string]any{"key": layer, "range": []float64{0, 1}},
		}, 409, nil)
	}
	var all []string
	for _, exps := range layers {
		all = append(all, exps...)
	}
	slices.Sort(all)
	var held []string
	for _, e := range all {
		if rng.IntN(3) == 0 {
			held = append(held, e)
		}
	}
	if len(held) > 0 {
		mustCall(t, hc, "POST", p.URL+"/api/v1/holdouts", map[string]any{
			"key": "global", "name": "Global", "share": 0.1, "experiments": held,
			"metrics": []map[string]any{{"key": "m", "kind": "binary", "higher_is_better": true}},
		}, 201, nil)
	}

	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{BaseURL: p.URL, APIKey: key.Key, DisableExposureLogging: true, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx)
	// The client loaded the definitions at New, after every change above.
	reasons := map[string]int{}
	for u := range units {
		unit := fmt.Sprintf("unit-%d", u)
		for layer, exps := range layers {
			in := 0
			for _, exp := range exps {
				local := client.Assign(ctx, exp, unit, nil)
				status, body, err := callWith(ctx, hc, key.Key, "POST", p.URL+"/api/v1/assign", map[string]any{"experiment": exp, "unit_id": unit})
				var remote struct {
					Variant      string `json:"variant"`
					InExperiment bool   `json:"in_experiment"`
					Reason       string `json:"reason"`
				}
				if err != nil || status != 200 || json.Unmarshal(body, &remote) != nil {
					t.Fatalf("assign %s/%s: %d %s %v", exp, unit, status, body, err)
				}
				if local.Variant != remote.Variant || local.InExperiment != remote.InExperiment || local.Reason != remote.Reason {
					t.Fatalf("%s/%s: SDK %+v, server %+v", exp, unit, local, remote)
				}
				reasons[remote.Reason]++
				if remote.InExperiment {
					in++
				}
			}
			if in > 1 {
				t.Fatalf("unit %s is in %d running experiments of %s", unit, in, layer)
			}
		}
	}
	for _, r := range []string{"assigned", "outside_layer", "outside_traffic"} {
		if reasons[r] == 0 {
			t.Errorf("no assignment had reason %q: %v", r, reasons)
		}
	}
	if len(held) > 0 && reasons["held_out"] == 0 {
		t.Errorf("no unit was held out: %v", reasons)
	}
	t.Logf("%d layers, %d experiments (%d in the holdout), %d units: %v", len(layers), len(all), len(held), units, reasons)
}
