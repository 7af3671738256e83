package analysis_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

// relTol is the tolerance against the independent references: relative
// 1e-6, and 1e-12 absolute where the reference is exactly 0.
const relTol = 1e-6

type goldenFile struct {
	Generator string `json:"generator"`
	Cases     []struct {
		Name   string         `json:"name"`
		Method string         `json:"method"`
		Input  analysis.Input `json:"input"`
		Expect map[string]any `json:"expect"`
	} `json:"cases"`
}

func readGolden(t *testing.T, path string) goldenFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

// TestGolden compares reports with values computed by R (generate.R) and by
// SciPy, statsmodels and mpmath (generate.py) from the same data.
func TestGolden(t *testing.T) {
	for _, file := range []string{"testdata/golden_r.json", "testdata/golden_py.json"} {
		g := readGolden(t, file)
		if len(g.Cases) == 0 {
			t.Fatalf("%s: no cases", file)
		}
		for _, c := range g.Cases {
			t.Run(c.Name, func(t *testing.T) {
				r, err := analysis.Analyze(c.Input)
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				var got any
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				paths := make([]string, 0, len(c.Expect))
				for p := range c.Expect {
					paths = append(paths, p)
				}
				sort.Strings(paths)
				for _, p := range paths {
					v, err := lookup(got, p)
					if err != nil {
						t.Errorf("%s: %v", p, err)
						continue
					}
					if msg := compare(c.Expect[p], v); msg != "" {
						t.Errorf("%s (%s): %s", p, c.Method, msg)
					}
				}
			})
		}
	}
}

// lookup follows a dotted path ("metrics.0.comparisons.0.p_value") into
// decoded JSON.
func lookup(v any, path string) (any, error) {
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, fmt.Errorf("no field %q", key)
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("no element %q", key)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%q: not an object or array", key)
		}
	}
	return v, nil
}

// compare returns "" when got matches want within relTol.
func compare(want, got any) string {
	switch w := want.(type) {
	case nil:
		if got != nil {
			return fmt.Sprintf("want null, got %v", got)
		}
	case float64:
		g, ok := got.(float64)
		if !ok {
			return fmt.Sprintf("want %v, got %v", w, got)
		}
		if w == 0 && math.Abs(g) > 1e-12 || w != 0 && math.Abs(g-w) > relTol*math.Abs(w) {
			return fmt.Sprintf("want %.17g, got %.17g (rel. diff %.2g)", w, g, math.Abs(g-w)/math.Abs(w))
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("want %v, got %v", w, got)
		}
		for i := range w {
			if msg := compare(w[i], g[i]); msg != "" {
				return fmt.Sprintf("[%d]: %s", i, msg)
			}
		}
	case map[string]any: // every field the reference gives; others are free
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("want %v, got %v", w, got)
		}
		for k, wv := range w {
			if msg := compare(wv, g[k]); msg != "" {
				return k + ": " + msg
			}
		}
	default:
		if want != got {
			return fmt.Sprintf("want %v, got %v", want, got)
		}
	}
	return ""
}
