package analysis

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"
)

// pairedGolden is testdata/golden_paired.json, written by
// testdata/reference/paired.py from statsmodels, SciPy and Newcombe's
// method 10 written out from the paper.
type pairedGolden struct {
	Generator string `json:"generator"`
	Cases     []struct {
		Name  string `json:"name"`
		Input struct {
			A, B, C, D    int64
			Alpha, Margin float64
		} `json:"input"`
		Expect map[string]any `json:"expect"`
	} `json:"cases"`
}

// sayDoJSON is s as the report will show it.
func sayDoJSON(t *testing.T, s SayDoStats) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// pairedClose is 1e-6 relative, or 1e-9 absolute near 0 where a relative
// tolerance would demand more digits than the references agree to.
func pairedClose(want, got float64) bool {
	d := math.Abs(want - got)
	return d <= 1e-9 || d <= 1e-6*math.Abs(want)
}

func pairedCompare(want, got any) string {
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
		if !pairedClose(w, g) {
			return fmt.Sprintf("want %.12g, got %.12g", w, g)
		}
	case string:
		if got != w {
			return fmt.Sprintf("want %q, got %v", w, got)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("want %v, got %v", w, got)
		}
		for i := range w {
			if msg := pairedCompare(w[i], g[i]); msg != "" {
				return fmt.Sprintf("[%d]: %s", i, msg)
			}
		}
	default:
		return fmt.Sprintf("unexpected golden value %v", want)
	}
	return ""
}

func TestSayDoGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden_paired.json")
	if err != nil {
		t.Fatal(err)
	}
	var g pairedGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 12 {
		t.Fatalf("only %d golden cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			got := sayDoJSON(t, SayDoTable(in.A, in.B, in.C, in.D, in.Alpha, in.Margin))
			reasons, _ := got["null_reasons"].(map[string]any)
			// Every nullable field of the output must have a golden value, so
			// that a field added later cannot go unchecked.
			for _, f := range sayDoFields {
				if _, ok := c.Expect[f]; !ok {
					t.Errorf("golden has no %s", f)
				}
			}
			fields := make([]string, 0, len(c.Expect))
			for f := range c.Expect {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			for _, f := range fields {
				want := c.Expect[f]
				// magnitude is omitted rather than null when there are no units.
				if msg := pairedCompare(want, got[f]); msg != "" {
					t.Errorf("%s: %s", f, msg)
				}
				r, _ := reasons[f].(string)
				if want == nil && r == "" {
					t.Errorf("%s is null with no reason", f)
				}
				if want != nil && r != "" {
					t.Errorf("%s is %v but has null reason %q", f, want, r)
				}
			}
			tab, _ := got["table"].(map[string]any)
			for k, v := range map[string]int64{"said_did": in.A, "said_didnt": in.B, "didnt_say_did": in.C, "didnt_say_didnt": in.D} {
				if tab[k] != float64(v) {
					t.Errorf("table.%s = %v, want %d", k, tab[k], v)
				}
			}
			if got["n"] != float64(in.A+in.B+in.C+in.D) {
				t.Errorf("n = %v", got["n"])
			}
		})
	}
}

// TestSayDoNewcombeExample pins the published example independently of the
// golden file: Newcombe's θ = (b−c)/n = stated − revealed is in
// [0.0562, 0.3292], so the gap revealed − stated is in [−0.3292, −0.0562].
func TestSayDoNewcombeExample(t *testing.T) {
	s := SayDoTable(20, 12, 2, 16, 0.05, 0.05)
	if s.Gap == nil || math.Abs(*s.Gap+0.2) > 1e-15 {
		t.Fatalf("gap = %v, want -0.2", s.Gap)
	}
	if s.GapCI == nil {
		t.Fatal("gap_ci is null")
	}
	lo, hi := math.Round(s.GapCI[0]*1e4)/1e4, math.Round(s.GapCI[1]*1e4)/1e4
	if lo != -0.3292 || hi != -0.0562 {
		t.Errorf("gap_ci = %v, want [-0.3292, -0.0562]", *s.GapCI)
	}
	// Without the N/2 reduction of AD − BC the limits would be 0.0618 and
	// 0.3242: the example tells the two apart.
	if phi := pairedPhi(20, 12, 2, 16); math.Abs(phi-271/math.Sqrt(32*18*22*28)) > 1e-15 {
		t.Errorf("phi = %v", phi)
	}
}

func TestSayDoNullInputs(t *testing.T) {
	for _, c := range []struct {
		name       string
		a, b, c, d int64
		alpha      float64
		reason     string
	}{
		{"no units", 0, 0, 0, 0, 0.05, reasonNoPairs},
		{"negative cell", 3, -1, 2, 5, 0.05, reasonNegativeCell},
		{"sum overflows", math.MaxInt64, 1, 0, 0, 0.05, reasonCellRange},
		{"sum overflows late", 1, 1, 1, math.MaxInt64 - 2, 0.05, reasonCellRange},
		{"alpha 0", 3, 1, 2, 5, 0, reasonAlphaRange},
		{"alpha 0.5", 3, 1, 2, 5, 0.5, reasonAlphaRange},
		{"alpha NaN", 3, 1, 2, 5, math.NaN(), reasonAlphaRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := SayDoTable(c.a, c.b, c.c, c.d, c.alpha, 0.05)
			m := sayDoJSON(t, s)
			for _, f := range sayDoFields {
				if v, ok := m[f]; ok && v != nil {
					t.Errorf("%s = %v, want null", f, v)
				}
				if s.NullReasons[f] != c.reason {
					t.Errorf("%s: reason %q, want %q", f, s.NullReasons[f], c.reason)
				}
			}
		})
	}
}

func TestSayDoEdgeCases(t *testing.T) {
	t.Run("one unit", func(t *testing.T) {
		s := SayDoTable(0, 0, 1, 0, 0.05, 0.05)
		if s.N != 1 || s.Gap == nil || *s.Gap != 1 || s.GapCI == nil || s.GapCI[1] != 1 {
			t.Errorf("gap %v %v", s.Gap, s.GapCI)
		}
		if s.DidGivenSaid != nil || s.NullReasons["did_given_said"] != reasonNoneSaid {
			t.Errorf("did_given_said = %v, reason %q", s.DidGivenSaid, s.NullReasons["did_given_said"])
		}
		if s.DidGivenNotSaid == nil || *s.DidGivenNotSaid != 1 {
			t.Errorf("did_given_not_said = %v", s.DidGivenNotSaid)
		}
	})
	t.Run("no discordant pairs", func(t *testing.T) {
		s := SayDoTable(40, 0, 0, 60, 0.05, 0.05)
		if s.GapPValue == nil || *s.GapPValue != 1 {
			t.Errorf("McNemar p = %v, want 1", s.GapPValue)
		}
		if *s.Gap != 0 || s.Kappa == nil || *s.Kappa != 1 {
			t.Errorf("gap %v kappa %v", *s.Gap, s.Kappa)
		}
	})
	t.Run("kappa undefined", func(t *testing.T) {
		for _, tab := range [][4]int64{{7, 0, 0, 0}, {0, 0, 0, 9}, {1, 0, 0, 0}} {
			s := SayDoTable(tab[0], tab[1], tab[2], tab[3], 0.05, 0.05)
			if s.Kappa != nil || s.KappaCI != nil || s.NullReasons["kappa"] != reasonKappaPe1 || s.NullReasons["kappa_ci"] != reasonKappaPe1 {
				t.Errorf("%v: kappa %v %v reasons %v", tab, s.Kappa, s.KappaCI, s.NullReasons)
			}
			if s.Gap == nil || s.GapCI == nil || s.GapPValue == nil || s.PValue == nil {
				t.Errorf("%v: the rest should still be computed", tab)
			}
		}
	})
	t.Run("all cells zero but one", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			var tab [4]int64
			tab[i] = 25
			s := SayDoTable(tab[0], tab[1], tab[2], tab[3], 0.05, 0.05)
			wantGap := []float64{0, -1, 1, 0}[i]
			if s.Gap == nil || *s.Gap != wantGap {
				t.Errorf("%v: gap %v, want %v", tab, s.Gap, wantGap)
			}
			// A single unit type: its share is 0 or 1 and the other
			// conditional share has no units.
			if (s.DidGivenSaid == nil) != (i >= 2) || (s.DidGivenNotSaid == nil) != (i < 2) {
				t.Errorf("%v: conditional shares %v %v", tab, s.DidGivenSaid, s.DidGivenNotSaid)
			}
		}
	})
	t.Run("huge counts", func(t *testing.T) {
		q := int64(math.MaxInt64 / 4)
		s := SayDoTable(q, q, q, q, 0.05, 0.05)
		m := sayDoJSON(t, s)
		if m["gap"] != 0.0 || s.GapCI == nil || s.Kappa == nil {
			t.Errorf("gap %v ci %v kappa %v", m["gap"], s.GapCI, s.Kappa)
		}
	})
}

// TestSayDoMagnitude checks the decision rule against hand-made intervals,
// including the ones the golden tables cannot reach.
func TestSayDoMagnitude(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	iv := func(lo, hi float64) *Interval { return &Interval{lo, hi} }
	for _, c := range []struct {
		gap    *float64
		ci, eq *Interval
		p      *float64
		margin float64
		want   string
	}{
		{f(0.01), iv(-0.02, 0.04), iv(-0.01, 0.03), f(0.4), 0.05, Matches},
		// Equivalence wins over a significant gap smaller than the margin.
		{f(0.01), iv(0.005, 0.015), iv(0.006, 0.014), f(0.001), 0.05, Matches},
		{f(0.01), iv(-0.02, 0.04), iv(-0.01, 0.05), f(0.4), 0.05, Unclear},
		{f(-0.2), iv(-0.3, -0.1), iv(-0.28, -0.12), f(0.001), 0.05, Overstated},
		{f(0.2), iv(0.1, 0.3), iv(0.12, 0.28), f(0.001), 0.05, Understated},
		// Significant by McNemar but the interval holds 0, and the reverse.
		{f(0.2), iv(-0.01, 0.3), iv(0.01, 0.28), f(0.01), 0.05, Unclear},
		{f(0.2), iv(0.01, 0.3), iv(0.03, 0.28), f(0.06), 0.05, Unclear},
		// A margin of 0 can never be matched.
		{f(0), iv(0, 0), iv(0, 0), f(1), 0, Unclear},
		{f(0), iv(-0.1, 0.1), iv(-0.05, 0.05), f(1), math.NaN(), Unclear},
		{nil, nil, nil, nil, 0.05, ""},
	} {
		if got := sayDoMagnitude(c.gap, c.ci, c.eq, c.p, 0.05, c.margin); got != c.want {
			t.Errorf("gap %v ci %v eq %v p %v margin %v: %q, want %q", c.gap, c.ci, c.eq, c.p, c.margin, got, c.want)
		}
	}
}

// TestSayDoSweep runs every small table: no NaN reaches the JSON, intervals
// hold their estimates, and the equivalence interval is inside the gap one.
func TestSayDoSweep(t *testing.T) {
	in := func(x *float64, ci *Interval) bool {
		return x == nil || ci == nil || (ci[0] <= *x+1e-12 && *x <= ci[1]+1e-12)
	}
	for a := int64(0); a <= 5; a++ {
		for b := int64(0); b <= 5; b++ {
			for c := int64(0); c <= 5; c++ {
				for d := int64(0); d <= 5; d++ {
					for _, alpha := range []float64{0.01, 0.05, 0.2} {
						s := SayDoTable(a, b, c, d, alpha, 0.1)
						if _, err := json.Marshal(s); err != nil {
							t.Fatalf("%d %d %d %d: %v", a, b, c, d, err)
						}
						if a+b+c+d == 0 {
							continue
						}
						ok := in(s.Stated, s.StatedCI) && in(s.Revealed, s.RevealedCI) &&
							in(s.Gap, s.GapCI) && in(s.Gap, s.EquivalenceCI) &&
							in(s.Kappa, s.KappaCI) && in(s.DidGivenSaid, s.DidGivenSaidCI) &&
							in(s.DidGivenNotSaid, s.DidGivenNotSaidCI)
						if !ok || s.GapCI == nil || s.EquivalenceCI == nil ||
							s.GapCI[0] < -1 || s.GapCI[1] > 1 ||
							s.EquivalenceCI[0] < s.GapCI[0]-1e-12 || s.EquivalenceCI[1] > s.GapCI[1]+1e-12 {
							t.Fatalf("%d %d %d %d α=%v: %+v", a, b, c, d, alpha, s)
						}
						for _, p := range []*float64{s.GapPValue, s.PValue} {
							if p == nil || *p < 0 || *p > 1 {
								t.Fatalf("%d %d %d %d: p %v", a, b, c, d, p)
							}
						}
						if (s.Kappa == nil) != (a+b+c+d == a || a+b+c+d == d) {
							t.Fatalf("%d %d %d %d: kappa %v", a, b, c, d, s.Kappa)
						}
					}
				}
			}
		}
	}
}
