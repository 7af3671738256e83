package sdk

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
)

// TestVectors runs the committed assignment vectors through the SDK: each
// definition goes through the same payload validation as the network path,
// and each case through Client.Assign.
func TestVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "experiments", "assign", "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Version     string `json:"version"`
		Assignments []struct {
			Name         string            `json:"name"`
			Definition   assign.Definition `json:"definition"`
			UnitID       string            `json:"unit_id"`
			Attributes   map[string]any    `json:"attributes"`
			Variant      string            `json:"variant"`
			InExperiment bool              `json:"in_experiment"`
			Reason       string            `json:"reason"`
			Factors      map[string]any    `json:"factors"`
		} `json:"assignments"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if file.Version != assign.Version {
		t.Fatalf("vectors are for algorithm %q, the SDK runs %q", file.Version, assign.Version)
	}
	if len(file.Assignments) == 0 {
		t.Fatal("no assignment vectors")
	}
	for _, v := range file.Assignments {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			body := payloadFor("vectors", []assign.Definition{v.Definition})
			if v.Reason == string(assign.ReasonInvalidDefinition) {
				// The SDK refuses such a payload whole rather than assign
				// from it.
				if _, err := parseDefinitions(body, ""); err == nil {
					t.Fatal("an invalid definition passed the SDK's payload validation")
				}
				return
			}
			c := warmClient(t, body, false)
			got := c.Assign(context.Background(), v.Definition.Key, v.UnitID, v.Attributes)
			want := Assignment{Variant: v.Variant, InExperiment: v.InExperiment, Reason: v.Reason, Factors: v.Factors}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Assign(%q, %q, %v) = %+v, want %+v", v.Definition.Key, v.UnitID, v.Attributes, got, want)
			}
		})
	}
}

// TestImportClosure keeps the SDK light for its users: the standard library
// and the assignment package, nothing else (no gin, sqlx or cgo).
func TestImportClosure(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/revealed-ab/revealed/sdk":                true,
		"github.com/revealed-ab/revealed/experiments/assign": true,
		"github.com/revealed-ab/revealed/internal/eventid":   true,
	}
	var extra []string
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Fatalf("the sdk package imports non-standard packages beyond the assignment package: %v", extra)
	}
}

func TestExposureSet(t *testing.T) {
	s := newExposureSet(64)
	if !s.add(exposureKey(exposureSeed("exp"), "u1")) || s.add(exposureKey(exposureSeed("exp"), "u1")) {
		t.Fatal("add should report a new pair once")
	}
	if !s.add(exposureKey(exposureSeed("exp"), "u2")) || !s.add(exposureKey(exposureSeed("other"), "u1")) {
		t.Fatal("different pairs must not collide")
	}
	s.remove(exposureKey(exposureSeed("exp"), "u1"))
	if !s.add(exposureKey(exposureSeed("exp"), "u1")) {
		t.Fatal("a removed pair should be new again")
	}
	// Far more pairs than slots: the set stays bounded and keeps working.
	for i := range 10_000 {
		s.add(exposureKey(exposureSeed("exp"), string(rune(i))))
	}
	if len(s.slots) != 64 {
		t.Fatalf("set grew to %d slots", len(s.slots))
	}
	h := exposureKey(exposureSeed("exp"), "fresh")
	if !s.add(h) || s.add(h) {
		t.Fatal("a full set must still remember the latest pair")
	}
	if exposureKey(exposureSeed("ab"), "c") == exposureKey(exposureSeed("a"), "bc") {
		t.Fatal("the separator must keep (ab, c) and (a, bc) apart")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{"Sun, 22 Nov 2026 10:00:07 GMT", 7 * time.Second},
		{"Sun, 22 Nov 2026 09:00:00 GMT", 0},
	} {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := range 20 {
		want := min(100*time.Millisecond<<attempt, 5*time.Second)
		if attempt > 10 {
			want = 5 * time.Second
		}
		for range 50 {
			if d := backoff(100*time.Millisecond, 5*time.Second, attempt); d < want/2 || d > want {
				t.Fatalf("backoff attempt %d = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}
