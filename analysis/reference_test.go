package analysis_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

type helperGolden struct {
	PercentileCaps struct {
		Values []float64 `json:"values"`
		Probs  []float64 `json:"probs"`
		Expect []float64 `json:"expect"`
	} `json:"percentile_caps"`
	PAdjust []struct {
		P    []float64 `json:"p"`
		Holm []float64 `json:"holm"`
		BH   []float64 `json:"bh"`
	} `json:"p_adjust"`
}

func readHelperGolden(t *testing.T, path string) helperGolden {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g helperGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

var goldenFiles = []string{"testdata/golden_r.json", "testdata/golden_py.json"}

// TestPercentileCap compares with R's quantile(type = 7) and numpy.quantile.
func TestPercentileCap(t *testing.T) {
	for _, file := range goldenFiles {
		g := readHelperGolden(t, file).PercentileCaps
		for i, p := range g.Probs {
			t.Run(file, func(t *testing.T) {
				got, err := analysis.PercentileCap(g.Values, p)
				if err != nil {
					t.Fatal(err)
				}
				if msg := compare(g.Expect[i], got); msg != "" {
					t.Errorf("p=%v: %s", p, msg)
				}
			})
		}
	}
}

// TestAdjustPValues compares with R's p.adjust and statsmodels' multipletests.
func TestAdjustPValues(t *testing.T) {
	for _, file := range goldenFiles {
		for i, set := range readHelperGolden(t, file).PAdjust {
			for _, tc := range []struct {
				method analysis.Correction
				want   []float64
			}{{analysis.Holm, set.Holm}, {analysis.BH, set.BH}, {analysis.NoCorrection, set.P}} {
				t.Run(string(tc.method), func(t *testing.T) {
					got := analysis.AdjustPValues(set.P, tc.method)
					for j := range tc.want {
						if msg := compare(tc.want[j], got[j]); msg != "" {
							t.Errorf("%s set %d [%d]: %s", file, i, j, msg)
						}
					}
				})
			}
		}
	}
}
