package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/revealed-ab/revealed/demo"
	"github.com/revealed-ab/revealed/internal/testbin"
	"github.com/revealed-ab/revealed/sdk"
)

// TestSDKAgreesWithServer: for 100,000 units in every demo experiment, the
// SDK's local assignment equals the server's POST /api/v1/assign, reason
// and factorial cell levels included, with a holdout over two of them and
// two of them in one layer. Units vary in the attributes targeting reads, some lack them.
func TestSDKAgreesWithServer(t *testing.T) {
	const units = 100_000
	p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + adminKey}, "--db", t.TempDir()+"/agree.db", "--demo", "--rate-limit", "0")
	hc := newHTTPClient(64)
	var key struct{ Key string }
	mustCall(t, hc, "POST", p.URL+"/api/v1/keys", map[string]string{"kind": "sdk", "name": "agreement"}, 201, &key)

	// A holdout over two of the demo's experiments, so that held-out units
	// are compared too (the demo's layer covers outside_layer).
	mustCall(t, hc, "POST", p.URL+"/api/v1/holdouts", map[string]any{
		"key": "agreement", "name": "Agreement", "share": 0.05, "experiments": []string{"teach-vs-fix", "human-vs-wait"},
		"metrics": []map[string]any{{"key": "csat", "kind": "mean", "higher_is_better": true}},
	}, 201, nil)

	ctx := context.Background()
	client, err := sdk.New(ctx, sdk.Config{BaseURL: p.URL, APIKey: key.Key, DisableExposureLogging: true, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx)

	generations := []string{"gen_z", "millennial", "gen_x", "boomer", "silent", ""}
	attrs := func(i int) sdk.Attributes {
		a := sdk.Attributes{"plan": []string{"starter", "pro", "enterprise"}[i%3]}
		if g := generations[i%len(generations)]; g != "" {
			a["generation"] = g
		}
		return a
	}
	var checked, inExperiment, factorial, heldOut, outsideLayer atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	const workers = 32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < units; i += workers {
				unit := fmt.Sprintf("agree-%d", i)
				for _, exp := range demo.ExperimentKeys() {
					local := client.Assign(ctx, exp, unit, attrs(i))
					status, body, err := callWith(ctx, hc, key.Key, "POST", p.URL+"/api/v1/assign",
						map[string]any{"experiment": exp, "unit_id": unit, "attributes": attrs(i)})
					var remote struct {
						Variant      string         `json:"variant"`
						InExperiment bool           `json:"in_experiment"`
						Reason       string         `json:"reason"`
						Factors      map[string]any `json:"factors"`
					}
					if err != nil || status != 200 || json.Unmarshal(body, &remote) != nil {
						once.Do(func() { t.Errorf("assign %s/%s: %d %s %v", exp, unit, status, body, err) })
						return
					}
					if local.Variant != remote.Variant || local.InExperiment != remote.InExperiment || local.Reason != remote.Reason ||
						!reflect.DeepEqual(local.Factors, remote.Factors) {
						once.Do(func() { t.Errorf("%s/%s: SDK %+v, server %+v", exp, unit, local, remote) })
						return
					}
					checked.Add(1)
					switch remote.Reason {
					case "held_out":
						heldOut.Add(1)
					case "outside_layer":
						outsideLayer.Add(1)
					}
					if len(remote.Factors) > 0 {
						factorial.Add(1)
					}
					if remote.InExperiment {
						inExperiment.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	want := int64(units * len(demo.ExperimentKeys()))
	if checked.Load() != want {
		t.Fatalf("checked %d assignments, want %d", checked.Load(), want)
	}
	// Targeting and traffic must leave some units out, or the reasons were not exercised.
	if in := inExperiment.Load(); in == want || in < want/2 {
		t.Fatalf("%d of %d assignments in the experiment: targeting and traffic were not exercised", in, want)
	}
	if heldOut.Load() == 0 || outsideLayer.Load() == 0 {
		t.Fatalf("%d held out, %d outside their layer: the holdout and the demo's layer were not exercised", heldOut.Load(), outsideLayer.Load())
	}
	if factorial.Load() < units {
		t.Fatalf("%d assignments carried factor levels; the demo's factorial experiment was not exercised", factorial.Load())
	}
	t.Logf("%d assignments agree (%d in the experiment, %d in factorial cells, %d held out, %d outside their layer)",
		checked.Load(), inExperiment.Load(), factorial.Load(), heldOut.Load(), outsideLayer.Load())
}
