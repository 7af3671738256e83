package analysis

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

type metaGolden struct {
	Generator string `json:"generator"`
	R         string `json:"r"`
	Metafor   string `json:"metafor"`
	Cases     []struct {
		Name    string         `json:"name"`
		Alpha   float64        `json:"alpha"`
		Studies []MetaStudy    `json:"studies"`
		Expect  map[string]any `json:"expect"`
	} `json:"cases"`
}

// metaClose is 1e-6 relative, or 1e-9 absolute in the field's own unit
// (the smallest se for location fields, its square for τ², 1 for the
// unitless ones) so that a reference of 3e-11 against an exact 0 passes on a
// revenue scale but a τ² of 1e-7 on a conversion scale is still checked to
// six digits.
func metaClose(got, want, unit float64) bool {
	return math.Abs(got-want) <= math.Max(1e-6*math.Abs(want), 1e-9*unit)
}

// TestMetaGolden compares PoolRandomEffects with metafor's
// rma(method = "REML", test = "knha") and the ad hoc safeguard applied to its
// output (testdata/reference/meta.R).
func TestMetaGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_meta.json")
	if err != nil {
		t.Fatal(err)
	}
	var g metaGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 8 || g.Metafor == "" {
		t.Fatalf("golden file has %d cases, metafor %q", len(g.Cases), g.Metafor)
	}
	var below, above bool
	worst := 0.0
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r := PoolRandomEffects(c.Studies, c.Alpha)
			if r.NullReason != "" || len(r.LeftOut) != 0 || r.Method != "reml_hksj" {
				t.Fatalf("null_reason %q, left_out %v, method %q", r.NullReason, r.LeftOut, r.Method)
			}
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(js, &got); err != nil {
				t.Fatal(err)
			}
			minSE := math.Inf(1)
			for _, s := range c.Studies {
				minSE = math.Min(minSE, s.SE)
			}
			units := map[string]float64{
				"estimate": minSE, "se": minSE, "ci": minSE, "pi": minSE,
				"tau2": minSE * minSE,
			}
			if len(c.Expect) < 12 {
				t.Fatalf("expect has only %d fields", len(c.Expect))
			}
			for key, want := range c.Expect {
				unit, ok := units[key]
				if !ok {
					unit = 1
				}
				if msg := metaCompare(got[key], want, unit); msg != "" {
					t.Errorf("%s: %s", key, msg)
				}
				worst = math.Max(worst, metaRelErr(got[key], want, unit))
			}
			q := c.Expect["hksj_q"].(float64)
			below = below || q < 1
			above = above || q > 1
		})
	}
	if !below || !above {
		t.Errorf("golden cases should cover q < 1 and q > 1 (below %v, above %v)", below, above)
	}
	t.Logf("%d cases against metafor %s (%s): largest relative difference %.2g (references near 0 excluded)",
		len(g.Cases), g.Metafor, g.R, worst)
}

// metaRelErr is the largest relative difference between matching numbers
// of got and want, skipping references within metaClose's absolute
// tolerance of 0.
func metaRelErr(got, want any, unit float64) float64 {
	switch w := want.(type) {
	case float64:
		if g, ok := got.(float64); ok && math.Abs(w) > 1e-9*unit {
			return math.Abs(g-w) / math.Abs(w)
		}
	case []any:
		g, _ := got.([]any)
		e := 0.0
		for i := range w {
			if i < len(g) {
				e = math.Max(e, metaRelErr(g[i], w[i], unit))
			}
		}
		return e
	}
	return 0
}

// TestMetaLogLik checks that the REML estimate maximizes remlLogLik, on
// which the check against the boundary τ² = 0 relies.
func TestMetaLogLik(t *testing.T) {
	y := []float64{-0.3, 0.1, 0.5, 0.9, 0.2}
	v := []float64{0.0025, 0.0036, 0.0025, 0.0049, 0.0016}
	q, _, _ := cochran(y, v)
	tau2, why := remlTau2(y, v, dlTau2(q, v))
	if why != "" || !(tau2 > 0) {
		t.Fatalf("tau2 %v, %q", tau2, why)
	}
	ll := remlLogLik(y, v, tau2)
	for _, other := range []float64{0, tau2 * 0.99, tau2 * 1.01, tau2 * 2} {
		if l := remlLogLik(y, v, other); !(l < ll) {
			t.Errorf("log-likelihood at τ² = %v is %v, at the estimate %v it is %v", other, l, tau2, ll)
		}
	}
}

func metaCompare(got, want any, unit float64) string {
	switch w := want.(type) {
	case float64:
		g, ok := got.(float64)
		if !ok {
			return "got " + string(metaMustJSON(got)) + ", want a number"
		}
		if !metaClose(g, w, unit) {
			return "got " + string(metaMustJSON(g)) + ", want " + string(metaMustJSON(w))
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return "got " + string(metaMustJSON(got)) + ", want " + string(metaMustJSON(w))
		}
		for i := range w {
			if msg := metaCompare(g[i], w[i], unit); msg != "" {
				return msg
			}
		}
	default:
		return "unexpected reference value " + string(metaMustJSON(want))
	}
	return ""
}

func metaMustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// metaJSON marshals r, failing the test on NaN or ±Inf (json.Marshal refuses
// them).
func metaJSON(t *testing.T, r MetaResult) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("%v: %+v", err, r)
	}
	return string(b)
}

func TestMetaSingleStudy(t *testing.T) {
	for _, alpha := range []float64{0, 0.05, 0.1} {
		r := PoolRandomEffects([]MetaStudy{{"only", 0.3, 0.1}}, alpha)
		metaJSON(t, r)
		z := 1.959963984540054 // qnorm(0.975)
		if alpha == 0.1 {
			z = 1.6448536269514722 // qnorm(0.95)
		}
		if r.K != 1 || r.Method != "single_study_z" || r.NullReason != reasonMetaSingle {
			t.Fatalf("k %d, method %q, reason %q", r.K, r.Method, r.NullReason)
		}
		if *r.Estimate != 0.3 || *r.SE != 0.1 || r.DF != nil {
			t.Errorf("estimate %v se %v df %v", *r.Estimate, *r.SE, r.DF)
		}
		if r.CI == nil || !metaClose(r.CI[0], 0.3-z*0.1, 1e-9) || !metaClose(r.CI[1], 0.3+z*0.1, 1e-9) {
			t.Errorf("alpha %v: ci %v", alpha, r.CI)
		}
		// 2Φ(−3), R: 2 * pnorm(-3).
		if r.PValue == nil || !metaClose(*r.PValue, 0.0026997960632601866, 0) {
			t.Errorf("p %v", r.PValue)
		}
		if r.Tau2 != nil || r.I2 != nil || r.Q != nil || r.QPValue != nil || r.PI != nil || r.HKSJQ != nil {
			t.Errorf("heterogeneity fields should be null: %s", metaJSON(t, r))
		}
	}
}

func TestMetaNoStudies(t *testing.T) {
	for _, studies := range [][]MetaStudy{nil, {}} {
		r := PoolRandomEffects(studies, 0.05)
		js := metaJSON(t, r)
		if r.K != 0 || r.NullReason != reasonMetaNoStudies || r.Estimate != nil || r.CI != nil ||
			r.Tau2 != nil || r.PI != nil || r.DF != nil {
			t.Errorf("%s", js)
		}
		if !strings.Contains(js, `"left_out":[]`) || !strings.Contains(js, `"estimate":null`) {
			t.Errorf("JSON shape: %s", js)
		}
	}
}

func TestMetaLeftOut(t *testing.T) {
	good := []MetaStudy{{"a", 0.1, 0.05}, {"b", 0.3, 0.08}, {"c", -0.05, 0.06}}
	bad := []MetaStudy{
		{"nan", math.NaN(), 0.1},
		{"inf", math.Inf(1), 0.1},
		{"zero-se", 0.2, 0},
		{"negative-se", 0.2, -0.1},
		{"nan-se", 0.2, math.NaN()},
		{"inf-se", 0.2, math.Inf(1)},
	}
	mixed := append([]MetaStudy{bad[0], good[0], bad[1], bad[2]}, good[1])
	mixed = append(mixed, bad[3], bad[4], good[2], bad[5])
	r := PoolRandomEffects(mixed, 0.05)
	metaJSON(t, r)
	want := []MetaLeftOut{
		{"nan", reasonMetaEstimate}, {"inf", reasonMetaEstimate},
		{"zero-se", reasonMetaSE}, {"negative-se", reasonMetaSE},
		{"nan-se", reasonMetaSE}, {"inf-se", reasonMetaSE},
	}
	if !reflect.DeepEqual(r.LeftOut, want) {
		t.Errorf("left_out %v, want %v", r.LeftOut, want)
	}
	// Leaving a study out must mean exactly that: the rest pool as alone.
	clean := PoolRandomEffects(good, 0.05)
	r.LeftOut = clean.LeftOut
	if r.K != 3 || !reflect.DeepEqual(r, clean) {
		t.Errorf("with bad studies %s\nwithout %s", metaJSON(t, r), metaJSON(t, clean))
	}

	none := PoolRandomEffects(bad, 0.05)
	js := metaJSON(t, none)
	if none.K != 0 || none.NullReason != reasonMetaNoneUsable || none.Estimate != nil || len(none.LeftOut) != len(bad) {
		t.Errorf("all bad: %s", js)
	}
}

func TestMetaIdenticalEstimates(t *testing.T) {
	se := []float64{0.02, 0.03, 0.025, 0.04}
	var studies []MetaStudy
	sw := 0.0
	for _, s := range se {
		studies = append(studies, MetaStudy{"x", 0.05, s})
		sw += 1 / (s * s)
	}
	r := PoolRandomEffects(studies, 0.05)
	metaJSON(t, r)
	if *r.Tau2 != 0 || *r.HKSJQ != 0 || *r.Q != 0 || *r.I2 != 0 {
		t.Errorf("tau2 %v q %v Q %v I2 %v", *r.Tau2, *r.HKSJQ, *r.Q, *r.I2)
	}
	// q = 0 would give a zero-width interval; the safeguard uses 1, i.e. the
	// fixed-effect se sqrt(1/Σw).
	wantSE := math.Sqrt(1 / sw)
	if !metaClose(*r.SE, wantSE, 0) || !(r.CI[1]-r.CI[0] > 0) {
		t.Errorf("se %v (want %v), ci %v", *r.SE, wantSE, r.CI)
	}
	half := 3.182446305284263 * wantSE // qt(0.975, 3)
	if !metaClose(r.CI[0], 0.05-half, 0) || !metaClose(r.CI[1], 0.05+half, 0) {
		t.Errorf("ci %v, want 0.05 ± %v", r.CI, half)
	}
	if *r.PI != *r.CI {
		t.Errorf("with τ² = 0 the PI %v should equal the CI %v", r.PI, r.CI)
	}
}

// TestMetaScaleEquivariance checks the rescaling inside PoolRandomEffects:
// multiplying every estimate and se by c multiplies the location results by
// c and τ² by c², and leaves I², Q and the p-values alone.
func TestMetaScaleEquivariance(t *testing.T) {
	base := []MetaStudy{{"a", 0.2, 0.1}, {"b", 0.5, 0.12}, {"c", -0.1, 0.08}, {"d", 0.9, 0.2}}
	r0 := PoolRandomEffects(base, 0.05)
	if *r0.Tau2 <= 0 {
		t.Fatalf("want a case with τ² > 0, got %v", *r0.Tau2)
	}
	for _, c := range []float64{1e-6, 1e-3, 1e4, 1e9} {
		var s []MetaStudy
		for _, b := range base {
			s = append(s, MetaStudy{b.Label, b.Estimate * c, b.SE * c})
		}
		r := PoolRandomEffects(s, 0.05)
		metaJSON(t, r)
		pairs := [][2]float64{
			{*r.Estimate / c, *r0.Estimate}, {*r.SE / c, *r0.SE}, {*r.Tau2 / (c * c), *r0.Tau2},
			{r.CI[0] / c, r0.CI[0]}, {r.PI[1] / c, r0.PI[1]}, {*r.I2, *r0.I2}, {*r.Q, *r0.Q},
			{*r.PValue, *r0.PValue}, {*r.HKSJQ, *r0.HKSJQ},
		}
		for i, p := range pairs {
			if !metaClose(p[0], p[1], 0) {
				t.Errorf("c = %g, value %d: %v vs %v", c, i, p[0], p[1])
			}
		}
	}
}

// TestMetaExtremes feeds inputs at the edges of float64 and checks only that
// the result is valid JSON with a reason wherever the estimate is null.
func TestMetaExtremes(t *testing.T) {
	cases := map[string][]MetaStudy{
		"huge estimates":     {{"a", 1e308, 1}, {"b", -1e308, 1}},
		"tiny se":            {{"a", 1, 1e-300}, {"b", 2, 1e-300}, {"c", 3, 1e-300}},
		"huge se":            {{"a", 1, 1e300}, {"b", 2, 1e300}},
		"se ratio 1e12":      {{"a", 0.01, 1e-6}, {"b", 0.5, 1e6}, {"c", -0.3, 1}},
		"se ratio 1e300":     {{"a", 1, 1e-150}, {"b", 2, 1e150}},
		"subnormal se":       {{"a", 1, 5e-324}, {"b", 2, 1}},
		"identical, one se":  {{"a", 0, 1}, {"b", 0, 1}},
		"k=2 far apart":      {{"a", -1e6, 1e-3}, {"b", 1e6, 1e-3}},
		"one huge estimate":  {{"a", 1e300, 1e-300}},
		"single zero effect": {{"a", 0, 1}},
	}
	for name, s := range cases {
		r := PoolRandomEffects(s, 0.05)
		js := metaJSON(t, r)
		if r.Estimate == nil && r.NullReason == "" {
			t.Errorf("%s: null estimate without a reason: %s", name, js)
		}
		if r.NullReason == reasonMetaNoConverge {
			t.Errorf("%s: overflow reported as non-convergence: %s", name, js)
		}
		if (r.Q == nil) != (r.QPValue == nil) {
			t.Errorf("%s: Q and its p-value should be null together: %s", name, js)
		}
		if r.I2 != nil && !(*r.I2 >= 0 && *r.I2 <= 1) {
			t.Errorf("%s: I² %v outside [0, 1]", name, *r.I2)
		}
		if r.Tau2 != nil && *r.Tau2 < 0 {
			t.Errorf("%s: τ² %v < 0", name, *r.Tau2)
		}
		if r.CI != nil && !(r.CI[0] <= r.CI[1]) {
			t.Errorf("%s: ci %v", name, r.CI)
		}
	}
}

func TestMetaBadAlpha(t *testing.T) {
	s := []MetaStudy{{"a", 0.1, 0.05}, {"b", 0.3, 0.08}}
	for _, a := range []float64{-0.1, 0.5, 0.9, math.NaN(), math.Inf(1)} {
		r := PoolRandomEffects(s, a)
		js := metaJSON(t, r)
		if r.NullReason != reasonMetaAlpha || r.Estimate != nil || r.CI != nil {
			t.Errorf("alpha %v: %s", a, js)
		}
	}
	if r := PoolRandomEffects(s, 0); r.Alpha != DefaultAlpha || r.CI == nil {
		t.Errorf("alpha 0 should mean %v: %s", DefaultAlpha, metaJSON(t, r))
	}
}

func TestMetaNoConvergence(t *testing.T) {
	old := metaMaxIter
	metaMaxIter = 1
	t.Cleanup(func() { metaMaxIter = old })
	s := []MetaStudy{{"a", -0.3, 0.05}, {"b", 0.1, 0.06}, {"c", 0.5, 0.05}, {"d", 0.9, 0.07}}
	r := PoolRandomEffects(s, 0.05)
	js := metaJSON(t, r)
	if r.NullReason != reasonMetaNoConverge || r.Estimate != nil || r.Tau2 != nil || r.Q == nil {
		t.Errorf("%s", js)
	}
}
