package analysis

import (
	"math"
	"testing"
)

func TestJudgePooled(t *testing.T) {
	share := []MetaStudy{{"a", 0.61, 0.012}, {"b", 0.64, 0.015}, {"c", 0.60, 0.02}}
	tests := []struct {
		name              string
		studies           []MetaStudy
		stated, null      float64
		margin            float64
		verdict, mag, why string
	}{
		{"holds but overstated", share, 0.74, 0.5, 0, Holds, Overstated, ""},
		{"holds, understated", share, 0.52, 0.5, 0, Holds, Understated, ""},
		{"holds as stated", share, 0.62, 0.5, 0.1, Holds, Matches, ""},
		{"contradicted", share, 0.3, 0.5, 0, Contradicted, Understated, ""},
		{"inconclusive, unclear", []MetaStudy{{"a", 0.52, 0.04}, {"b", 0.49, 0.05}}, 0.6, 0.5, 0, Inconclusive, Unclear, ""},
		{"no side", share, 0.5, 0.5, 0, Inconclusive, Understated, reasonPooledNoSide},
		{"effect, one study", []MetaStudy{{"a", 0.8, 0.1}}, 1, 0, 0.5, Holds, Matches, ""},
		{"effect, other side", []MetaStudy{{"a", -0.8, 0.05}, {"b", -0.75, 0.05}, {"c", -0.7, 0.05}}, 1, 0, 0, Contradicted, Overstated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := PoolRandomEffects(tt.studies, 0.05)
			v := JudgePooled(m, tt.stated, tt.null, tt.margin)
			if v.Verdict != tt.verdict || v.Magnitude != tt.mag || v.Reason != tt.why {
				t.Fatalf("verdict %q, magnitude %q, reason %q; want %q, %q, %q (pooled %v, CI %v)",
					v.Verdict, v.Magnitude, v.Reason, tt.verdict, tt.mag, tt.why, *m.Estimate, *m.CI)
			}
			wantMargin := tt.margin
			if wantMargin == 0 {
				wantMargin = DefaultMargin
			}
			if v.Margin != wantMargin {
				t.Errorf("margin %v, want %v", v.Margin, wantMargin)
			}
			// The gap's interval is the pooled interval shifted by the stated
			// figure: same se, same distribution.
			if math.Abs(v.GapCI[0]-(m.CI[0]-tt.stated)) > 1e-12 || math.Abs(v.GapCI[1]-(m.CI[1]-tt.stated)) > 1e-12 {
				t.Errorf("gap CI %v, pooled CI %v − %v", *v.GapCI, *m.CI, tt.stated)
			}
			df := math.Inf(1)
			if m.DF != nil {
				df = float64(*m.DF)
			}
			half := tQuantile(0.95, df) * *m.SE
			if math.Abs(v.EquivalenceCI[1]-v.EquivalenceCI[0]-2*half) > 1e-12 {
				t.Errorf("equivalence CI %v, want half-width %v (df %v)", *v.EquivalenceCI, half, df)
			}
			if want := tTwoSided((*m.Estimate-tt.stated)/(*m.SE), df); *v.GapPValue != want {
				t.Errorf("gap p %v, want %v", *v.GapPValue, want)
			}
		})
	}
}

func TestJudgePooledNoEstimate(t *testing.T) {
	m := PoolRandomEffects([]MetaStudy{{"a", math.NaN(), 1}}, 0.05)
	v := JudgePooled(m, 0.7, 0.5, 0)
	want := PooledVerdict{Verdict: Inconclusive, Margin: DefaultMargin, Reason: reasonPooledNoEstimate}
	if v != want {
		t.Errorf("got %+v, want %+v", v, want)
	}
}
