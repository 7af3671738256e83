package assign

import (
	"math"
	"strconv"
	"testing"
)

// The ids are fixed, so these tests are deterministic. A p-value below
// alertP means the hash is measurably non-uniform or correlated for ordinary
// sequential ids; it is the same threshold as the sample-ratio-mismatch
// alert, which is what such a flaw would trigger in production.
const (
	statsUnits = 100_000
	alertP     = 0.001
)

func sequentialIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "customer-" + strconv.Itoa(i)
	}
	return ids
}

func running(salt string, traffic float64, weights ...float64) *Definition {
	d := &Definition{Key: salt, Salt: salt, Status: StatusRunning, Traffic: traffic}
	for i, w := range weights {
		d.Variants = append(d.Variants, Variant{Key: "v" + strconv.Itoa(i), Weight: w, Control: i == 0})
	}
	return d
}

func variantIndex(d *Definition, key string) int {
	for i, v := range d.Variants {
		if v.Key == key {
			return i
		}
	}
	return -1
}

func TestUniformity(t *testing.T) {
	ids := sequentialIDs(statsUnits)
	tests := []struct {
		name    string
		weights []float64
	}{
		{"two-way", []float64{1, 1}},
		{"three-way", []float64{1, 1, 1}},
		{"ten-ninety", []float64{10, 90}},
		{"unequal-three-way", []float64{20, 30, 50}},
		{"ten-way", []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := running("uniformity-"+tt.name, 1, tt.weights...)
			counts := make([]float64, len(tt.weights))
			for _, id := range ids {
				counts[variantIndex(d, Assign(d, id, nil).Variant)]++
			}
			total := 0.0
			for _, w := range tt.weights {
				total += w
			}
			expected := make([]float64, len(tt.weights))
			for i, w := range tt.weights {
				expected[i] = statsUnits * w / total
			}
			stat, p := goodnessOfFit(counts, expected)
			t.Logf("counts %v, chi-square %.2f, p = %.4f", counts, stat, p)
			if p <= alertP {
				t.Errorf("counts %v against expected %v: chi-square %.2f, p = %.2g <= %g", counts, expected, stat, p, alertP)
			}
		})
	}
}

// TestPointUniformity looks at Point itself with finer buckets than any
// experiment uses, for each purpose Assign hashes.
func TestPointUniformity(t *testing.T) {
	const buckets = 100
	ids := sequentialIDs(statsUnits)
	for _, purpose := range []string{purposeTraffic, purposeVariant} {
		t.Run(purpose, func(t *testing.T) {
			counts := make([]float64, buckets)
			expected := make([]float64, buckets)
			for _, id := range ids {
				counts[int(Point("point-uniformity", purpose, id)*buckets)]++
			}
			for i := range expected {
				expected[i] = statsUnits / buckets
			}
			stat, p := goodnessOfFit(counts, expected)
			t.Logf("chi-square %.2f on %d df, p = %.4f", stat, buckets-1, p)
			if p <= alertP {
				t.Errorf("chi-square %.2f on %d df, p = %.2g <= %g", stat, buckets-1, p, alertP)
			}
		})
	}
}

func TestTrafficShare(t *testing.T) {
	ids := sequentialIDs(statsUnits)
	for _, traffic := range []float64{0.05, 0.3, 0.5, 0.9} {
		t.Run(strconv.FormatFloat(traffic, 'f', -1, 64), func(t *testing.T) {
			d := running("traffic-share", traffic, 1, 1)
			in := 0.0
			for _, id := range ids {
				r := Assign(d, id, nil)
				if r.InExperiment {
					in++
				} else if r.Reason != ReasonOutsideTraffic {
					t.Fatalf("Assign(%q) = %+v; want assigned or outside_traffic", id, r)
				}
			}
			counts := []float64{in, statsUnits - in}
			expected := []float64{statsUnits * traffic, statsUnits * (1 - traffic)}
			stat, p := goodnessOfFit(counts, expected)
			t.Logf("in %v of %d, chi-square %.2f, p = %.4f", in, statsUnits, stat, p)
			if p <= alertP {
				t.Errorf("in %v of %d at traffic %v: chi-square %.2f, p = %.2g <= %g", in, statsUnits, traffic, stat, p, alertP)
			}
		})
	}
}

// TestIndependence checks that knowing a unit's variant in one experiment
// (or its traffic draw, or its neighbour's variant) says nothing about
// another.
func TestIndependence(t *testing.T) {
	ids := sequentialIDs(statsUnits)
	variantOf := func(d *Definition) func(string) int {
		return func(id string) int { return variantIndex(d, Assign(d, id, nil).Variant) }
	}
	tests := []struct {
		name       string
		rows, cols int
		cell       func(i int, id string) (row, col int)
	}{
		{"two-salts-2x2", 2, 2, func(_ int, id string) (int, int) {
			return variantOf(running("checkout-2026", 1, 1, 1))(id), variantOf(running("pricing-2026", 1, 1, 1))(id)
		}},
		{"two-salts-3x3", 3, 3, func(_ int, id string) (int, int) {
			return variantOf(running("checkout-2026", 1, 1, 1, 1))(id), variantOf(running("pricing-2026", 1, 1, 1, 1))(id)
		}},
		{"similar-salts-2x2", 2, 2, func(_ int, id string) (int, int) {
			return variantOf(running("exp-1", 1, 1, 1))(id), variantOf(running("exp-2", 1, 1, 1))(id)
		}},
		{"traffic-and-variant-2x2", 2, 2, func(_ int, id string) (int, int) {
			return int(Point("same-salt", purposeTraffic, id) * 2), int(Point("same-salt", purposeVariant, id) * 2)
		}},
		{"neighbouring-ids-3x3", 3, 3, func(i int, id string) (int, int) {
			d := running("neighbours", 1, 1, 1, 1)
			return variantOf(d)(id), variantOf(d)("customer-" + strconv.Itoa(i+1))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := make([][]float64, tt.rows)
			for r := range table {
				table[r] = make([]float64, tt.cols)
			}
			for i, id := range ids {
				r, c := tt.cell(i, id)
				table[r][c]++
			}
			stat, p := independence(table)
			t.Logf("table %v, chi-square %.2f, p = %.4f", table, stat, p)
			if p <= alertP {
				t.Errorf("table %v: chi-square %.2f, p = %.2g <= %g", table, stat, p, alertP)
			}
		})
	}
}

func TestChiSquareSurvival(t *testing.T) {
	// Reference values from the chi-square tables (scipy.stats.chi2.sf).
	tests := []struct {
		stat float64
		df   int
		want float64
	}{
		{3.841458820694124, 1, 0.05},
		{6.6348966010212145, 1, 0.01},
		{10.827566170662733, 1, 0.001},
		{2, 2, math.Exp(-1)},
		{18.307038053275146, 10, 0.05},
		{0.7107230213973241, 4, 0.95},
		{123.22522145336181, 99, 0.05},
		{0, 3, 1},
	}
	for _, tt := range tests {
		if got := chiSquareSurvival(tt.stat, tt.df); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("chiSquareSurvival(%v, %d) = %.12f, want %.12f", tt.stat, tt.df, got, tt.want)
		}
	}
}

func goodnessOfFit(observed, expected []float64) (stat, p float64) {
	for i := range observed {
		d := observed[i] - expected[i]
		stat += d * d / expected[i]
	}
	return stat, chiSquareSurvival(stat, len(observed)-1)
}

func independence(table [][]float64) (stat, p float64) {
	rows, cols := len(table), len(table[0])
	rowSums, colSums, total := make([]float64, rows), make([]float64, cols), 0.0
	for r := range table {
		for c, n := range table[r] {
			rowSums[r] += n
			colSums[c] += n
			total += n
		}
	}
	for r := range table {
		for c, n := range table[r] {
			e := rowSums[r] * colSums[c] / total
			stat += (n - e) * (n - e) / e
		}
	}
	return stat, chiSquareSurvival(stat, (rows-1)*(cols-1))
}

// chiSquareSurvival is P(X > stat) for X chi-square with df degrees of
// freedom: the regularised upper incomplete gamma function Q(df/2, stat/2),
// by its series below a+1 and its continued fraction above (Numerical
// Recipes, 6.2).
func chiSquareSurvival(stat float64, df int) float64 {
	a, x := float64(df)/2, stat/2
	if x <= 0 {
		return 1
	}
	lgammaA, _ := math.Lgamma(a)
	logPrefix := a*math.Log(x) - x - lgammaA
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1.0; n < 1000; n++ {
			term *= x / (a + n)
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(logPrefix)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1.0; i < 1000; i++ {
		an := -i * (i - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < 1e-15 {
			break
		}
	}
	return math.Exp(logPrefix) * h
}
