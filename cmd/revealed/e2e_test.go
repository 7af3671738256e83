package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/revealed-ab/revealed/demo"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testbin"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/sqlstore"
)

const e2eAdminKey = "rvl_admin_e2e-test-key-with-enough-entropy-0123456789"

type client struct {
	t   *testing.T
	url string
	key string
}

func (c client) call(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, r)
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c client) must(status int, method, path string, body any) []byte {
	c.t.Helper()
	got, b := c.call(method, path, body)
	if got != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, status)
	}
	return b
}

// unitOutcome is the behaviour the test simulates for a unit, from which it
// computes the expected report itself.
func unitOutcome(i int, variant string) (converted bool, spend float64) {
	lift := 0.0
	if variant == "treatment" {
		lift = 7
	}
	return (i*7+len(variant))%5 < 2+len(variant)%2, float64(i%13) + lift + float64(i%3)*0.5
}

type armWant struct {
	n           int
	sum, sumSq  float64
	conversions int
}

func (a armWant) mean(binary bool) float64 {
	if binary {
		return float64(a.conversions) / float64(a.n)
	}
	return a.sum / float64(a.n)
}

func (a armWant) variance(binary bool) float64 {
	if binary {
		p := a.mean(true)
		return p * (1 - p)
	}
	n := float64(a.n)
	return (a.sumSq - a.sum*a.sum/n) / (n - 1)
}

// welch is the test's own Welch t-test: the effect of t over c and its two-sided p.
func welch(c, t armWant, binary bool) (effect, p float64) {
	vc, vt := c.variance(binary)/float64(c.n), t.variance(binary)/float64(t.n)
	se := math.Sqrt(vc + vt)
	df := (vc + vt) * (vc + vt) / (vc*vc/float64(c.n-1) + vt*vt/float64(t.n-1))
	effect = t.mean(binary) - c.mean(binary)
	return effect, 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(-math.Abs(effect/se))
}

type report struct {
	SRM struct {
		PValue float64 `json:"p_value"`
	} `json:"srm"`
	Metrics []struct {
		Metric   string
		Variants []struct {
			Variant string
			Units   int
			Mean    float64
		}
		Comparisons []struct {
			Variant   string
			AbsEffect float64 `json:"abs_effect"`
			PValue    float64 `json:"p_value"`
		}
	}
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, dsn string) {
		env := []string{"REVEALED_ADMIN_KEY=" + e2eAdminKey, "REVEALED_DB=" + dsn}
		p := testbin.Start(t, env)
		c := client{t, p.URL, e2eAdminKey}

		c.must(201, "POST", "/api/v1/experiments", map[string]any{
			"key": "checkout-help", "name": "Checkout help", "unit": "customer_id",
			"variants": []map[string]any{{"key": "control", "weight": 1, "control": true}, {"key": "treatment", "weight": 1}},
			"metrics": []map[string]any{{"key": "converted", "kind": "binary", "higher_is_better": true},
				{"key": "spend", "kind": "mean", "higher_is_better": true}},
			// The plain fixed-horizon Welch report of issue 2, which the test recomputes;
			// sequential testing and CUPED are checked against their references in analysis.
			"analysis": map[string]any{"sequential": false, "cuped_lookback_days": -1},
		})
		c.must(200, "POST", "/api/v1/experiments/checkout-help/start", nil)
		var sdk struct{ Key string }
		json.Unmarshal(c.must(201, "POST", "/api/v1/keys", map[string]string{"kind": "sdk", "name": "e2e"}), &sdk)
		s := client{t, p.URL, sdk.Key}

		const units = 400
		arms := map[string]*armWant{"control": {}, "treatment": {}}
		var events []map[string]any
		past := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
		for i := range units {
			var a struct {
				Variant      string
				InExperiment bool `json:"in_experiment"`
			}
			json.Unmarshal(s.must(200, "POST", "/api/v1/assign", map[string]any{"experiment": "checkout-help", "unit_id": fmt.Sprintf("cust-%d", i)}), &a)
			if !a.InExperiment {
				t.Fatalf("unit %d not in the experiment", i)
			}
			converted, spend := unitOutcome(i, a.Variant)
			arm := arms[a.Variant]
			arm.n++
			arm.sum += spend
			arm.sumSq += spend * spend
			unit := fmt.Sprintf("cust-%d", i)
			// A pre-exposure outcome must not count.
			events = append(events, map[string]any{"id": fmt.Sprintf("pre-%d", i), "type": "outcome", "unit_id": unit, "metric": "spend", "value": 1000, "ts": past})
			if converted {
				arm.conversions++
				events = append(events, map[string]any{"id": fmt.Sprintf("conv-%d", i), "type": "outcome", "unit_id": unit, "metric": "converted", "value": 1})
			} else {
				events = append(events, map[string]any{"id": fmt.Sprintf("conv-%d", i), "type": "outcome", "unit_id": unit, "metric": "converted", "value": 0})
			}
			// spend arrives in two parts that the unit's value sums.
			events = append(events,
				map[string]any{"id": fmt.Sprintf("spend-a-%d", i), "type": "outcome", "unit_id": unit, "metric": "spend", "value": spend / 2},
				map[string]any{"id": fmt.Sprintf("spend-b-%d", i), "type": "outcome", "unit_id": unit, "experiment": "checkout-help", "metric": "spend", "value": spend / 2})
		}
		s.must(202, "POST", "/api/v1/events", map[string]any{"events": events})
		var dup struct{ Accepted, Duplicates int }
		json.Unmarshal(s.must(202, "POST", "/api/v1/events", map[string]any{"events": events[:100]}), &dup)
		if dup.Accepted != 0 || dup.Duplicates != 100 {
			t.Fatalf("resent batch: %+v, want 0 accepted and 100 duplicates", dup)
		}

		body := c.must(200, "POST", "/api/v1/experiments/checkout-help/refresh", nil)
		checkReport(t, body, arms)
		if read := c.must(200, "GET", "/api/v1/experiments/checkout-help/report", nil); !bytes.Equal(read, body) {
			t.Fatalf("the read is not the report the refresh stored:\n%s\n%s", read, body)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Terminate(ctx); err != nil {
			t.Fatalf("SIGTERM did not end the server cleanly: %v\n%s", err, p.Stderr())
		}
		p = testbin.Start(t, env)
		c.url = p.URL
		again := c.must(200, "GET", "/api/v1/experiments/checkout-help/report", nil)
		if !bytes.Equal(stableParts(t, body), stableParts(t, again)) {
			t.Fatalf("the report changed across a restart:\nbefore %s\nafter  %s", body, again)
		}
	})
}

// stableParts drops what may legitimately differ between two computations of
// the same data (time stamps of the computation).
func stableParts(t *testing.T, body []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]json.RawMessage{"srm": m["srm"], "metrics": m["metrics"]})
	return out
}

func checkReport(t *testing.T, body []byte, arms map[string]*armWant) {
	t.Helper()
	var r report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Metrics) != 2 {
		t.Fatalf("report has %d metrics, want 2: %s", len(r.Metrics), body)
	}
	c, tr := *arms["control"], *arms["treatment"]
	n := float64(c.n + tr.n)
	chi := math.Pow(float64(c.n)-n/2, 2)/(n/2) + math.Pow(float64(tr.n)-n/2, 2)/(n/2)
	if want := (distuv.ChiSquared{K: 1}).Survival(chi); !near(r.SRM.PValue, want) {
		t.Errorf("SRM p = %v, want %v", r.SRM.PValue, want)
	}
	for _, m := range r.Metrics {
		binary := m.Metric == "converted"
		for _, v := range m.Variants {
			a := arms[v.Variant]
			if v.Units != a.n || !near(v.Mean, a.mean(binary)) {
				t.Errorf("%s/%s: units %d mean %v, want %d and %v", m.Metric, v.Variant, v.Units, v.Mean, a.n, a.mean(binary))
			}
		}
		effect, p := welch(c, tr, binary)
		if len(m.Comparisons) != 1 || !near(m.Comparisons[0].AbsEffect, effect) ||
			math.Abs(m.Comparisons[0].PValue-p) > 1e-6*p {
			t.Errorf("%s comparison: %+v, want effect %v p %v", m.Metric, m.Comparisons, effect, p)
		}
	}
	if t.Failed() {
		t.Logf("report: %s", body)
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "revealed ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, errOut.String())
	}
}

func TestMigrateCommand(t *testing.T) {
	path := testdb.SQLite(t)
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"migrate", "--db", path}, &out, &errOut); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "(was 0)") {
		t.Fatalf("migrate printed %q", out.String())
	}
}

func TestAnalyzeCommand(t *testing.T) {
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"analyze", "--format", "json", "../../analysis/cli/testdata/summary.csv"}, &out, &errOut)
	var r map[string]any
	if code != 0 || json.Unmarshal([]byte(out.String()), &r) != nil || r["metrics"] == nil {
		t.Fatalf("analyze: exit %d, stderr %q, stdout %.200q", code, errOut.String(), out.String())
	}
	if code := run(context.Background(), []string{"analyze", "no-such-file.csv"}, &out, &errOut); code != 2 {
		t.Fatalf("analyze of a missing file: exit %d, want 2", code)
	}
}

// A database with pending migrations is left alone: serve refuses it and
// asks for `revealed migrate`, which then brings it up to date.
func TestServeRefusesPendingMigrations(t *testing.T) {
	path := testdb.SQLite(t)
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MigrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	store.Close()

	var out, errOut strings.Builder
	runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	code := run(runCtx, []string{"serve", "--db", path, "--addr", "127.0.0.1:0"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "schema version 1") || !strings.Contains(errOut.String(), "revealed migrate") {
		t.Fatalf("serve on a version-1 database: exit %d, stderr %q", code, errOut.String())
	}
	if code := run(ctx, []string{"migrate", "--db", path}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "(was 1)") {
		t.Fatalf("migrate: exit %d, %q %q", code, out.String(), errOut.String())
	}
}

func TestRefreshCommand(t *testing.T) {
	path := testdb.SQLite(t)
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := experiments.NewService(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, svc, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	before, err := store.Snapshots(ctx, "human-vs-bot", 100)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()

	var out, errOut strings.Builder
	if code := run(ctx, []string{"refresh", "--db", path, "human-vs-bot"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "human-vs-bot: report stored at") {
		t.Fatalf("refresh: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	store, err = sqlstore.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	after, err := store.Snapshots(ctx, "human-vs-bot", 100)
	if err != nil || len(after) != len(before)+1 {
		t.Errorf("snapshots before %d, after %d (%v): want one more", len(before), len(after), err)
	}
	if code := run(ctx, []string{"refresh", "--db", path, "no-such-experiment"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no-such-experiment") {
		t.Errorf("refresh of an unknown experiment: exit %d, stderr %q", code, errOut.String())
	}
	if code := run(ctx, []string{"refresh", "--db", path}, &out, &errOut); code != 2 {
		t.Errorf("refresh without a key: exit %d, want 2", code)
	}
}
