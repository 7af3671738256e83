package analysis

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"
)

// Key-driver analysis: what customers say drives an outcome (the share who
// name each driver as the key reason) against what does (each driver's share
// of the outcome's explained variance). The derived importance is computed
// from the correlation matrix of the outcome and the drivers, so everything
// needed is the moment matrix; that is accumulated one unit at a time, and the
// bootstrap rides along in the same pass. METHODS.md has the formulas.

// Limits on the number of drivers of a study.
const (
	// MaxDrivers bounds a study: the bootstrap accumulates B·(p+1)² numbers.
	MaxDrivers = 30
	// MaxLMGDrivers is the largest number of analysed drivers for which LMG
	// is computed: it needs the R² of all 2^p subsets in every replicate.
	MaxLMGDrivers = 15
)

// Verdicts of a driver: its stated rank against the 95% interval of its
// derived rank.
const (
	DriverOverrated    = "overrated"
	DriverUnderrated   = "underrated"
	DriverConsistent   = "consistent"
	DriverUndetermined = "undetermined"
)

// Tolerances. Variances below drvZeroVarTol relative to the second raw moment
// are rounding noise of Σx² − (Σx)²/n (raw sums from SQL carry about 1e-16
// of Σx²), so the variable is taken as constant. Eigenvalues of the driver
// correlation matrix below drvEigenTol·λmax, and residual variances below
// drvEigenTol in the subset regressions, are exact collinearity up to rounding.
const (
	drvZeroVarTol = 1e-12
	drvEigenTol   = 1e-9
)

// DriverMoments accumulates the weighted co-moments of p variables (the
// outcome first, then the drivers): the weight total n, the means, and the
// centred cross-products Σw(x−x̄)(x−x̄)ᵀ. Updates are West's weighted form of
// Welford's algorithm, which avoids the cancellation of Σx² − (Σx)²/n, and
// memory does not grow with the number of units. The zero value is not
// usable: call NewDriverMoments.
type DriverMoments struct {
	p    int
	n    float64
	mean []float64
	c    []float64 // upper triangle, row-major: (i, j≥i) at i·p − i(i−1)/2 + j − i
	d    []float64 // scratch for one update
}

// NewDriverMoments returns an empty accumulator of p ≥ 1 variables.
func NewDriverMoments(p int) *DriverMoments {
	p = max(p, 1)
	return &DriverMoments{
		p:    p,
		mean: make([]float64, p),
		c:    make([]float64, p*(p+1)/2),
		d:    make([]float64, p),
	}
}

// DriverMomentsFromSums builds the accumulator from raw sums as SQL gives
// them: n units, sum[i] = Σxᵢ and cross[i][j] = Σxᵢxⱼ. It returns an
// *InputError when the sums cannot come from real data (non-finite, n < 0,
// asymmetric, or a negative variance beyond rounding).
func DriverMomentsFromSums(n float64, sum []float64, cross [][]float64) (*DriverMoments, error) {
	p := len(sum)
	if p == 0 {
		return nil, inputErr("must not be empty", "sum")
	}
	if !finite(n) || n < 0 {
		return nil, inputErr("must be a finite number ≥ 0", "n")
	}
	if len(cross) != p {
		return nil, inputErr(fmt.Sprintf("must be %d×%d", p, p), "cross")
	}
	m := NewDriverMoments(p)
	m.n = n
	for i := 0; i < p; i++ {
		if !finite(sum[i]) {
			return nil, inputErr("must be finite", fmt.Sprintf("sum[%d]", i))
		}
		if len(cross[i]) != p {
			return nil, inputErr(fmt.Sprintf("must be %d×%d", p, p), "cross")
		}
		if n > 0 {
			m.mean[i] = sum[i] / n
		}
	}
	if n == 0 {
		return m, nil
	}
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			a, b := cross[i][j], cross[j][i]
			if !finite(a) || !finite(b) {
				return nil, inputErr("must be finite", fmt.Sprintf("cross[%d][%d]", i, j))
			}
			if math.Abs(a-b) > 1e-9*math.Max(math.Abs(a), math.Abs(b)) {
				return nil, inputErr("must be symmetric", fmt.Sprintf("cross[%d][%d]", i, j))
			}
			v := a - sum[i]*sum[j]/n
			if i == j {
				// Cauchy–Schwarz: Σx² ≥ (Σx)²/n, with slack for rounding.
				if v < -1e-9*math.Abs(a) {
					return nil, inputErr("is below (Σx)²/n", fmt.Sprintf("cross[%d][%d]", i, j))
				}
				v = math.Max(v, 0)
			}
			m.c[m.tri(i, j)] = v
		}
	}
	return m, nil
}

func (m *DriverMoments) tri(i, j int) int {
	if i > j {
		i, j = j, i
	}
	return i*m.p - i*(i-1)/2 + j - i
}

// Dim is the number of variables.
func (m *DriverMoments) Dim() int { return m.p }

// N is the total weight: the number of units when each has weight 1.
func (m *DriverMoments) N() float64 { return m.n }

// Mean is the weighted mean of variable i.
func (m *DriverMoments) Mean(i int) float64 { return m.mean[i] }

// CoMoment is Σw(xᵢ−x̄ᵢ)(xⱼ−x̄ⱼ); divide by N−1 for the sample covariance.
func (m *DriverMoments) CoMoment(i, j int) float64 { return m.c[m.tri(i, j)] }

// Add adds one unit of weight 1. It reports false, and adds nothing, when x
// does not have Dim values or one of them is not finite.
func (m *DriverMoments) Add(x []float64) bool { return m.AddWeighted(x, 1) }

// AddWeighted adds one unit with weight w > 0 (a frequency weight). It
// reports false, and adds nothing, for a bad row or weight.
func (m *DriverMoments) AddWeighted(x []float64, w float64) bool {
	if len(x) != m.p || !(w > 0) || math.IsInf(w, 0) {
		return false
	}
	for _, v := range x {
		if !finite(v) {
			return false
		}
	}
	if m.d == nil {
		m.d = make([]float64, m.p)
	}
	m.add(x, w, m.d)
	return true
}

// add is the unchecked update; d is scratch of length p. With δ = x − x̄ (old
// mean) the co-moment gains w·δᵢ·(xⱼ − x̄'ⱼ) = δᵢδⱼ·w·n/(n+w).
func (m *DriverMoments) add(x []float64, w float64, d []float64) {
	n1 := m.n + w
	f := w / n1 // exactly 1 for the first unit, so a constant stays exact
	g := m.n * f
	mean := m.mean
	x = x[:len(mean)]
	d = d[:len(mean)]
	for i, xi := range x {
		di := xi - mean[i]
		d[i] = di
		mean[i] += di * f
	}
	// Re-slicing to len(di) lets the compiler drop the bounds checks of the
	// p(p+1)/2 updates, the hot loop of the whole bootstrap.
	c := m.c
	for i := range d {
		gi := d[i] * g
		di := d[i:]
		row := c[:len(di)]
		for j, dj := range di {
			row[j] += gi * dj
		}
		c = c[len(di):]
	}
	m.n = n1
}

// Merge adds the units of o (Chan, Golub & LeVeque's pairwise update), so
// that shards accumulated apart combine exactly as one stream would.
func (m *DriverMoments) Merge(o *DriverMoments) {
	if o == nil || o.p != m.p || o.n == 0 {
		return
	}
	n := m.n + o.n
	f := o.n / n
	g := m.n * f
	for i := 0; i < m.p; i++ {
		di := o.mean[i] - m.mean[i]
		for j := i; j < m.p; j++ {
			k := m.tri(i, j)
			m.c[k] += o.c[k] + di*(o.mean[j]-m.mean[j])*g
		}
	}
	for i := range m.mean {
		m.mean[i] += (o.mean[i] - m.mean[i]) * f
	}
	m.n = n
}

// zeroVar reports whether variable i is constant up to rounding.
func (m *DriverMoments) zeroVar(i int) bool {
	v := m.c[m.tri(i, i)]
	return !(v > drvZeroVarTol*(v+m.n*m.mean[i]*m.mean[i]))
}

// StatedShare is what a survey says about one driver: the share of
// respondents who name it as the key reason, out of Respondents.
type StatedShare struct {
	Share       float64 `json:"share"`
	Respondents float64 `json:"respondents"`
}

// DriverConfig describes a key-driver study.
type DriverConfig struct {
	// Outcome names the outcome (e.g. "overall satisfaction"), for the summary.
	Outcome string
	// Drivers names the 2 to MaxDrivers drivers, in the order of the values.
	Drivers []string
	// Stated is nil or one stated share per driver, in the same order.
	Stated []StatedShare
	// Replicates is the number of bootstrap replicates: 0 means
	// DefaultDriverReplicates, a negative number none.
	Replicates int
	// Seed keys the bootstrap weights; a report is reproducible from it.
	Seed uint64
	// Alpha sets the interval level 1−α; 0 means DefaultAlpha.
	Alpha float64
}

func (c DriverConfig) validate() error {
	if len(c.Drivers) < 2 || len(c.Drivers) > MaxDrivers {
		return inputErr(fmt.Sprintf("must name 2 to %d drivers", MaxDrivers), "drivers")
	}
	seen := map[string]bool{}
	for i, d := range c.Drivers {
		if d == "" || seen[d] {
			return inputErr("must be a non-empty, unique name", fmt.Sprintf("drivers[%d]", i))
		}
		seen[d] = true
	}
	if c.Stated != nil && len(c.Stated) != len(c.Drivers) {
		return inputErr("must have one entry per driver", "stated")
	}
	for i, s := range c.Stated {
		if !finite(s.Share) || s.Share < 0 || s.Share > 1 {
			return inputErr("must be in [0, 1]", fmt.Sprintf("stated[%d].share", i))
		}
		if !finite(s.Respondents) || s.Respondents < 0 {
			return inputErr("must be a finite number ≥ 0", fmt.Sprintf("stated[%d].respondents", i))
		}
	}
	if c.Replicates > 100000 {
		return inputErr("must be at most 100000", "replicates")
	}
	if why := CheckAlpha(c.alpha()); why != "" {
		return inputErr(why, "alpha")
	}
	return nil
}

func (c DriverConfig) replicates() int {
	switch {
	case c.Replicates == 0:
		return DefaultDriverReplicates
	case c.Replicates < 0:
		return 0
	}
	return c.Replicates
}

func (c DriverConfig) alpha() float64 {
	if c.Alpha == 0 {
		return DefaultAlpha
	}
	return c.Alpha
}

// DriverStudy streams the units of one study into the moments of the full
// sample and of every bootstrap replicate; its memory is fixed by the number
// of drivers and replicates. It is not safe for concurrent use: shard the
// stream into several studies with the same config and Merge them.
type DriverStudy struct {
	cfg     DriverConfig
	full    *DriverMoments
	reps    []*DriverMoments
	leftOut int64
}

// NewDriverStudy validates cfg and returns an empty study.
func NewDriverStudy(cfg DriverConfig) (*DriverStudy, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := len(cfg.Drivers) + 1
	s := &DriverStudy{cfg: cfg, full: NewDriverMoments(p)}
	// One backing array for every replicate's state keeps the per-unit sweep
	// over the B replicates a linear walk through memory.
	B, size := cfg.replicates(), p+p*(p+1)/2
	backing := make([]float64, B*size)
	structs := make([]DriverMoments, B)
	s.reps = make([]*DriverMoments, B)
	for b := range s.reps {
		st := backing[b*size : (b+1)*size : (b+1)*size]
		structs[b] = DriverMoments{p: p, mean: st[:p:p], c: st[p:]}
		s.reps[b] = &structs[b]
	}
	return s, nil
}

// Add adds one unit: values holds the outcome, then one value per driver. A
// unit with the wrong number of values or a value that is not finite (a
// missing rating) is left out and counted in left_out; Add reports whether
// the unit was used. The unit id keys its bootstrap weights, so ids must be
// stable for a report to be reproducible.
func (s *DriverStudy) Add(unit string, values []float64) bool {
	if !s.full.Add(values) {
		s.leftOut++
		return false
	}
	if len(s.reps) == 0 {
		return true
	}
	key := drvUnitKey(s.cfg.Seed, unit)
	for b, r := range s.reps {
		if w := drvPoissonWeight(key, b); w > 0 {
			r.add(values, w, s.full.d)
		}
	}
	return true
}

// Merge adds the units of another study with the same config (a shard of
// the same stream). The weights depend only on (seed, unit, replicate), so
// the merged study equals the one that saw every unit.
func (s *DriverStudy) Merge(o *DriverStudy) error {
	if o.full.p != s.full.p || len(o.reps) != len(s.reps) || o.cfg.Seed != s.cfg.Seed {
		return inputErr("must have the same drivers, replicates and seed", "study")
	}
	s.full.Merge(o.full)
	for b := range s.reps {
		s.reps[b].Merge(o.reps[b])
	}
	s.leftOut += o.leftOut
	return nil
}

// Report computes the study's report from what has been added.
func (s *DriverStudy) Report() *DriverReport {
	return analyzeDrivers(s.cfg, s.full, s.reps, s.leftOut)
}

// AnalyzeDrivers computes the report from moments accumulated elsewhere (for
// instance DriverMomentsFromSums on SQL sums): full holds the outcome then the
// drivers, replicates holds the Poisson-weighted moments of each bootstrap
// replicate (nil for no intervals), leftOut the units that were dropped.
func AnalyzeDrivers(cfg DriverConfig, full *DriverMoments, replicates []*DriverMoments, leftOut int64) (*DriverReport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := len(cfg.Drivers) + 1
	if full == nil || full.p != p {
		return nil, inputErr(fmt.Sprintf("must have %d variables (the outcome, then the drivers)", p), "moments")
	}
	for b, r := range replicates {
		if r == nil || r.p != p {
			return nil, inputErr(fmt.Sprintf("must have %d variables", p), fmt.Sprintf("replicates[%d]", b))
		}
	}
	if leftOut < 0 {
		return nil, inputErr("must be ≥ 0", "left_out")
	}
	return analyzeDrivers(cfg, full, replicates, leftOut), nil
}

// DriverReport is the stated-versus-derived analysis of one study. Its JSON
// never holds NaN or ±Inf: an undefined number is null, with a reason.
type DriverReport struct {
	Outcome string `json:"outcome"`
	// N is the number of units used; LeftOut those with a missing value.
	N       int64 `json:"n"`
	LeftOut int64 `json:"left_out"`
	// R2 is the R² of the outcome on the analysed drivers, with its
	// bootstrap interval.
	R2   *float64  `json:"r2"`
	R2CI *Interval `json:"r2_ci"`
	// Spearman and Kendall (τ-b) correlate the stated shares with the
	// Johnson weights across the analysed drivers.
	Spearman DriverAgreement `json:"spearman"`
	Kendall  DriverAgreement `json:"kendall"`
	Summary  string          `json:"summary"`
	Warnings []string        `json:"warnings"`
	Drivers  []DriverResult  `json:"drivers"`
	// Alpha sets the level of every interval, 1−α.
	Alpha     float64         `json:"alpha"`
	Bootstrap DriverBootstrap `json:"bootstrap"`
	// LMGReason says why lmg is null for every driver.
	LMGReason string `json:"lmg_reason,omitempty"`
	// Reason says why the whole decomposition is null.
	Reason string `json:"reason,omitempty"`
}

// DriverAgreement is a rank correlation with its bootstrap interval.
type DriverAgreement struct {
	Value  *float64  `json:"value"`
	CI     *Interval `json:"ci"`
	Reason string    `json:"reason,omitempty"`
}

// DriverBootstrap records how the intervals were made.
type DriverBootstrap struct {
	Replicates int    `json:"replicates"`
	Usable     int    `json:"usable"`
	Seed       uint64 `json:"seed"`
	Reason     string `json:"reason,omitempty"`
}

// DriverResult is one driver's stated and derived importance.
type DriverResult struct {
	Driver string `json:"driver"`
	// Beta is the standardized regression coefficient; null when the driver
	// is collinear with others (not identified) or left out.
	Beta *float64 `json:"beta"`
	// Johnson is Johnson's relative weight (the weights sum to R²) and
	// JohnsonPct its share of R², a fraction.
	Johnson      *float64  `json:"johnson"`
	JohnsonPct   *float64  `json:"johnson_pct"`
	JohnsonCI    *Interval `json:"johnson_ci"`
	JohnsonPctCI *Interval `json:"johnson_pct_ci"`
	// LMG is the driver's Shapley share of R² (the LMG values sum to R²).
	LMG   *float64  `json:"lmg"`
	LMGCI *Interval `json:"lmg_ci"`
	// StatedShare is the share of respondents who name the driver, with its
	// Wilson interval; StatedRank ranks the shares (1 = most named).
	StatedShare *float64  `json:"stated_share"`
	StatedCI    *Interval `json:"stated_ci"`
	StatedRank  *int      `json:"stated_rank"`
	// DerivedRank ranks the Johnson weights (1 = most important), with the
	// percentile interval of the replicate ranks.
	DerivedRank   *int      `json:"derived_rank"`
	DerivedRankCI *Interval `json:"derived_rank_ci"`
	// Verdict compares StatedRank with DerivedRankCI: overrated (stated
	// rank better than the interval), underrated (worse), consistent, or
	// undetermined when either side is missing.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
}

// driverFit is the decomposition of one correlation matrix over the q
// analysed drivers. Undefined entries are NaN.
type driverFit struct {
	r2        float64
	beta      []float64
	johnson   []float64
	lmg       []float64
	collinear []bool
}

// driverWork holds the buffers reused across the replicates of one report.
type driverWork struct {
	q    int
	idx  []int // moment indices of the analysed drivers
	rxx  *mat.SymDense
	rflt []float64 // rxx flattened, for the subset regressions
	rxy  []float64
	es   mat.EigenSym
	v    mat.Dense
	t    []float64
	lmg  *lmgWork
}

func newDriverWork(idx []int, withLMG bool) *driverWork {
	q := len(idx)
	w := &driverWork{
		q:    q,
		idx:  idx,
		rxx:  mat.NewSymDense(q, nil),
		rflt: make([]float64, q*q),
		rxy:  make([]float64, q),
		t:    make([]float64, q),
	}
	if withLMG {
		w.lmg = newLMGWork(q)
	}
	return w
}

// load sets the correlations from m. A driver with zero variance (which
// can happen in a replicate) is made uncorrelated with everything, which
// gives it weight 0: in that replicate it explains nothing. It reports
// false when the outcome has zero variance.
func (w *driverWork) load(m *DriverMoments) bool {
	if m.n <= 0 || m.zeroVar(0) {
		return false
	}
	sy := math.Sqrt(m.c[m.tri(0, 0)])
	for a, i := range w.idx {
		zi := m.zeroVar(i)
		si := math.Sqrt(m.c[m.tri(i, i)])
		if zi {
			w.rxy[a] = 0
		} else {
			w.rxy[a] = m.c[m.tri(0, i)] / (sy * si)
		}
		for b := a; b < w.q; b++ {
			j := w.idx[b]
			v := 0.0
			switch {
			case a == b:
				v = 1
			case zi || m.zeroVar(j):
			default:
				v = m.c[m.tri(i, j)] / (si * math.Sqrt(m.c[m.tri(j, j)]))
			}
			w.rxx.SetSym(a, b, v)
			w.rflt[a*w.q+b] = v
			w.rflt[b*w.q+a] = v
		}
	}
	return true
}

// fit decomposes the loaded matrix. With Rxx = VΛVᵀ, every inverse is the
// pseudo-inverse over eigenvalues above drvEigenTol·λmax, so that exact
// collinearity leaves R² (the projection of y on the drivers' span) and
// the weights defined; betas of drivers that load on the null space are
// not identified and come back NaN.
func (w *driverWork) fit(wantBeta bool) (driverFit, bool) {
	q := w.q
	if !w.es.Factorize(w.rxx, true) {
		return driverFit{}, false
	}
	lam := w.es.RawValues()
	w.es.VectorsTo(&w.v)
	lmax := 0.0
	for _, l := range lam {
		lmax = math.Max(lmax, l)
	}
	tol := drvEigenTol * lmax
	// t = Vᵀ rxy
	for k := 0; k < q; k++ {
		s := 0.0
		for j := 0; j < q; j++ {
			s += w.v.At(j, k) * w.rxy[j]
		}
		w.t[k] = s
	}
	f := driverFit{
		johnson: make([]float64, q),
		beta:    make([]float64, q),
	}
	// β* = (Λ½)⁺ rxy = V diag(1/√λ) Vᵀ rxy and R² = ‖β*‖² = rxyᵀ Rxx⁺ rxy.
	bstar := make([]float64, q)
	for j := 0; j < q; j++ {
		var bs, b float64
		for k := 0; k < q; k++ {
			if lam[k] > tol {
				vt := w.v.At(j, k) * w.t[k]
				bs += vt / math.Sqrt(lam[k])
				b += vt / lam[k]
			}
		}
		bstar[j] = bs
		f.beta[j] = b
		f.r2 += bs * bs
	}
	// raw weight_j = Σ_k (Λ½)²_jk β*_k², Λ½ = V diag(√λ) Vᵀ
	for j := 0; j < q; j++ {
		for k := 0; k < q; k++ {
			h := 0.0
			for m := 0; m < q; m++ {
				if lam[m] > 0 {
					h += w.v.At(j, m) * math.Sqrt(lam[m]) * w.v.At(k, m)
				}
			}
			f.johnson[j] += h * h * bstar[k] * bstar[k]
		}
	}
	if wantBeta {
		f.collinear = make([]bool, q)
		for j := 0; j < q; j++ {
			s := 0.0
			for k := 0; k < q; k++ {
				if lam[k] <= tol {
					s += w.v.At(j, k) * w.v.At(j, k)
				}
			}
			if s > 1e-6 {
				f.collinear[j] = true
				f.beta[j] = math.NaN()
			}
		}
	}
	if w.lmg != nil {
		f.lmg = w.lmg.run(w.rflt, w.rxy)
	}
	return f, true
}

// lmgWork computes the LMG (Shapley) decomposition of R² exactly: the R² of
// all 2^q subsets, then each driver's marginal contributions weighted by
// |S|!(q−|S|−1)!/q!. The subsets are walked depth first, adding drivers in
// increasing order; each level holds the covariances of the outcome and the
// drivers not yet considered, residualised on the subset (one sweep, i.e. a
// Gaussian elimination step, per added driver). Adding driver j then raises
// R² by cov(j, y | S)²/var(j | S), and the next level only needs the drivers
// after j, so the whole walk costs O(2^q) rather than O(2^q·q²) for a fresh
// regression per subset: at 15 drivers and 1000 replicates that is the
// difference between a fraction of a second and several seconds.
type lmgWork struct {
	q   int
	r2  []float64   // R² by subset bitmask
	lev [][]float64 // per depth: (q+1)×(q+1) residual covariances, index q = outcome
	wt  []float64   // Shapley weight by subset size
}

func newLMGWork(q int) *lmgWork {
	w := &lmgWork{
		q:   q,
		r2:  make([]float64, 1<<q),
		lev: make([][]float64, q+1),
		wt:  make([]float64, q),
	}
	for k := range w.lev {
		w.lev[k] = make([]float64, (q+1)*(q+1))
	}
	// s!(q−s−1)!/q! = 1/(q·C(q−1, s))
	c := 1.0
	for s := 0; s < q; s++ {
		w.wt[s] = 1 / (float64(q) * c)
		c = c * float64(q-1-s) / float64(s+1)
	}
	return w
}

func (w *lmgWork) run(rxx, r []float64) []float64 {
	q, m := w.q, w.q+1
	top := w.lev[0]
	for i := 0; i < q; i++ {
		copy(top[i*m:i*m+q], rxx[i*q:i*q+q])
		top[i*m+q] = r[i]
		top[q*m+i] = r[i]
	}
	top[q*m+q] = 1
	w.r2[0] = 0
	w.walk(0, 0, 0, 0)
	// Σ_{S∌j} wt(|S|)(R²(S∪j) − R²(S)) regrouped by subset T: +wt(|T|−1)·R²(T)
	// for j ∈ T, −wt(|T|)·R²(T) for j ∉ T. Subtracting the second from every
	// driver and adding both back for the members of T walks R² in order
	// and visits only set bits: the sum is then cheaper than the walk.
	out := make([]float64, q)
	common := 0.0
	for mask, v := range w.r2 {
		s := bits.OnesCount(uint(mask))
		b := 0.0
		if s < q {
			b = w.wt[s] * v
			common -= b
		}
		if s > 0 {
			a := w.wt[s-1]*v + b
			for t := uint(mask); t != 0; t &= t - 1 {
				out[bits.TrailingZeros(t)] += a
			}
		}
	}
	for j := range out {
		out[j] += common
	}
	return out
}

// walk visits every superset of mask that adds drivers from start on; lev[k]
// holds the covariances given mask. A driver whose residual variance given
// mask is nil (exactly collinear with it) adds nothing to the span: its
// subsets have the parent's R² and its level is the parent's.
func (w *lmgWork) walk(k, mask, start int, r2 float64) {
	q, m := w.q, w.q+1
	cur := w.lev[k]
	for j := start; j < q; j++ {
		sub := mask | 1<<j
		d := cur[j*m+j]
		if !(d > drvEigenTol) {
			w.r2[sub] = r2
			w.walk(k, sub, j+1, r2)
			continue
		}
		cy := cur[j*m+q]
		w.r2[sub] = r2 + cy*cy/d
		if j+1 == q {
			continue
		}
		next := w.lev[k+1]
		rowJ := cur[j*m : j*m+m]
		for a := j + 1; a < m; a++ {
			f := rowJ[a] / d
			ra, na := cur[a*m:a*m+m], next[a*m:a*m+m]
			for b := j + 1; b < m; b++ {
				na[b] = ra[b] - f*rowJ[b]
			}
		}
		w.walk(k+1, sub, j+1, w.r2[sub])
	}
}

// analyzeDrivers is the whole report; inputs are already validated.
func analyzeDrivers(cfg DriverConfig, full *DriverMoments, reps []*DriverMoments, leftOut int64) *DriverReport {
	alpha := cfg.alpha()
	p := len(cfg.Drivers)
	rep := &DriverReport{
		Outcome:  cfg.Outcome,
		N:        int64(math.Round(full.n)),
		LeftOut:  leftOut,
		Alpha:    alpha,
		Warnings: []string{},
		Drivers:  make([]DriverResult, p),
		Bootstrap: DriverBootstrap{
			Replicates: len(reps),
			Seed:       cfg.Seed,
		},
	}
	outcome := cfg.Outcome
	if outcome == "" {
		outcome = "the outcome"
	}
	for j, name := range cfg.Drivers {
		rep.Drivers[j] = DriverResult{Driver: name, Verdict: DriverUndetermined}
	}
	stated := statedRanks(cfg, alpha, rep)

	fail := func(reason string) *DriverReport {
		rep.Reason = reason
		rep.Summary = drvCapitalize(reason) + "."
		for j := range rep.Drivers {
			rep.Drivers[j].Reason = reason
		}
		rep.Spearman.Reason, rep.Kendall.Reason = reason, reason
		rep.Bootstrap.Reason = reason
		return rep
	}
	if full.n <= float64(p+1) {
		return fail(fmt.Sprintf("too few units: %d for %d drivers (need more than drivers + 1)", rep.N, p))
	}
	if full.zeroVar(0) {
		return fail(outcome + " has zero variance: there is nothing to explain")
	}

	// Drivers with zero variance carry no information about the outcome and
	// would make the correlation matrix undefined: leave them out.
	var idx []int
	var zero []string
	for j := 0; j < p; j++ {
		if full.zeroVar(j + 1) {
			zero = append(zero, cfg.Drivers[j])
			rep.Drivers[j].Reason = "zero variance: left out of the decomposition"
			continue
		}
		idx = append(idx, j+1)
	}
	if len(zero) > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s %s zero variance: left out of the decomposition (null weights and ranks)",
			drvListNames(zero), drvPlural(len(zero), "has", "have")))
	}
	q := len(idx)
	if q == 0 {
		return fail("every driver has zero variance")
	}
	withLMG := q <= MaxLMGDrivers
	if !withLMG {
		rep.LMGReason = fmt.Sprintf("LMG is computed exactly only for up to %d drivers; this study has %d", MaxLMGDrivers, q)
	}
	w := newDriverWork(idx, withLMG)
	w.load(full)
	fit, ok := w.fit(true)
	if !ok {
		return fail("the eigendecomposition of the driver correlations failed")
	}
	var coll []string
	for a, i := range idx {
		d := &rep.Drivers[i-1]
		d.Beta = num(fit.beta[a])
		d.Johnson = num(fit.johnson[a])
		d.JohnsonPct = num(fit.johnson[a] / fit.r2)
		if fit.lmg != nil {
			d.LMG = num(fit.lmg[a])
		} else {
			d.Reason = rep.LMGReason
		}
		if fit.collinear[a] {
			coll = append(coll, cfg.Drivers[i-1])
			d.Reason = drvJoinReason(d.Reason, "perfectly collinear with other drivers: beta not identified")
		}
	}
	if len(coll) > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s are perfectly collinear: their betas are null; R², Johnson's weights and LMG use the pseudo-inverse of the correlation matrix", drvListNames(coll)))
	}
	if !(fit.r2 > 0) {
		rep.Warnings = append(rep.Warnings, "R² is 0: no driver is correlated with "+outcome+", so shares of R² are null")
	}
	rep.R2 = num(fit.r2)
	if n := full.n; n < 10*float64(q) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("only %d units for %d drivers: estimates and intervals are unstable below 10 units per driver", rep.N, q))
	}

	derived := drvRanksDesc(drvSnapTies(fit.johnson), make([]float64, q))
	for a, i := range idx {
		rep.Drivers[i-1].DerivedRank = drvIntPtr(derived[a])
	}

	// Stated shares over the analysed drivers, for the rank correlations and
	// the verdicts (a left-out driver has no derived rank to compare with).
	var sShare []float64
	if stated != nil {
		sShare = make([]float64, q)
		for a, i := range idx {
			sShare[a] = cfg.Stated[i-1].Share
		}
	}
	agree := func(jw []float64) (rho, tau float64) {
		if sShare == nil || q < 3 {
			return math.NaN(), math.NaN()
		}
		jw = drvSnapTies(jw)
		return drvSpearman(sShare, jw), drvKendallTauB(sShare, jw)
	}
	rho, tau := agree(fit.johnson)
	rep.Spearman.Value, rep.Kendall.Value = num(rho), num(tau)
	switch {
	case sShare == nil:
		rep.Spearman.Reason = "no stated shares"
	case q < 3:
		rep.Spearman.Reason = "fewer than 3 analysed drivers"
	case !finite(rho):
		rep.Spearman.Reason = "the stated shares or the Johnson weights are all equal"
	}
	rep.Kendall.Reason = rep.Spearman.Reason

	bootstrapDrivers(rep, w, reps, idx, alpha, agree)

	// Verdicts: stated rank among the analysed drivers against the interval
	// of the derived rank.
	var sRank []float64
	if sShare != nil {
		sRank = drvRanksDesc(sShare, make([]float64, q))
	}
	for a, i := range idx {
		d := &rep.Drivers[i-1]
		if sRank == nil || d.DerivedRankCI == nil {
			continue
		}
		switch ci := d.DerivedRankCI; {
		case sRank[a] < ci[0]:
			d.Verdict = DriverOverrated
		case sRank[a] > ci[1]:
			d.Verdict = DriverUnderrated
		default:
			d.Verdict = DriverConsistent
		}
	}
	rep.Summary = driverSummary(rep, idx, sRank, outcome, alpha)
	return rep
}

// bootstrapDrivers fills the percentile intervals from the replicates.
func bootstrapDrivers(rep *DriverReport, w *driverWork, reps []*DriverMoments, idx []int, alpha float64, agree func([]float64) (float64, float64)) {
	q, B := len(idx), len(reps)
	if B == 0 {
		rep.Bootstrap.Reason = "no bootstrap replicates: intervals and verdicts are null"
		return
	}
	nan := func() []float64 {
		s := make([]float64, B)
		for i := range s {
			s[i] = math.NaN()
		}
		return s
	}
	r2 := nan()
	rho, tau := nan(), nan()
	jw, jp, lw, rk := make([][]float64, q), make([][]float64, q), make([][]float64, q), make([][]float64, q)
	for a := range jw {
		jw[a], jp[a], lw[a], rk[a] = nan(), nan(), nan(), nan()
	}
	ranks := make([]float64, q)
	usable := 0
	for b, m := range reps {
		if !w.load(m) {
			continue
		}
		f, ok := w.fit(false)
		if !ok || !finite(f.r2) {
			continue
		}
		usable++
		r2[b] = f.r2
		drvRanksDesc(drvSnapTies(f.johnson), ranks)
		for a := range idx {
			jw[a][b] = f.johnson[a]
			jp[a][b] = f.johnson[a] / f.r2
			rk[a][b] = ranks[a]
			if f.lmg != nil {
				lw[a][b] = f.lmg[a]
			}
		}
		rho[b], tau[b] = agree(f.johnson)
	}
	rep.Bootstrap.Usable = usable
	// Percentiles of a few replicates are noise: ask for half of them.
	minUsable := max(B/2, 20)
	if usable < minUsable {
		rep.Bootstrap.Reason = fmt.Sprintf("only %d of %d replicates usable (the outcome was constant in the others): intervals are null", usable, B)
		rep.Warnings = append(rep.Warnings, rep.Bootstrap.Reason)
		return
	}
	if usable < B {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d of %d bootstrap replicates had a constant outcome and were skipped", B-usable, B))
	}
	rep.R2CI = drvPercentileCI(r2, alpha, false, minUsable)
	for a, i := range idx {
		d := &rep.Drivers[i-1]
		d.JohnsonCI = drvPercentileCI(jw[a], alpha, false, minUsable)
		d.JohnsonPctCI = drvPercentileCI(jp[a], alpha, false, minUsable)
		d.LMGCI = drvPercentileCI(lw[a], alpha, false, minUsable)
		d.DerivedRankCI = drvPercentileCI(rk[a], alpha, true, minUsable)
	}
	if rep.Spearman.Value != nil {
		rep.Spearman.CI = drvPercentileCI(rho, alpha, false, minUsable)
		rep.Kendall.CI = drvPercentileCI(tau, alpha, false, minUsable)
	}
}

// statedRanks fills the stated shares, their Wilson intervals and ranks
// (among all drivers), and returns nil when there are none.
func statedRanks(cfg DriverConfig, alpha float64, rep *DriverReport) []float64 {
	if cfg.Stated == nil {
		return nil
	}
	shares := make([]float64, len(cfg.Stated))
	for j, s := range cfg.Stated {
		shares[j] = s.Share
	}
	ranks := drvRanksDesc(shares, make([]float64, len(shares)))
	for j, s := range cfg.Stated {
		d := &rep.Drivers[j]
		d.StatedShare = num(s.Share)
		d.StatedCI = wilson(s.Share, s.Respondents, alpha)
		d.StatedRank = drvIntPtr(ranks[j])
	}
	return ranks
}

// driverSummary picks the most striking driver: the largest gap between the
// stated and derived ranks among those with a verdict other than consistent,
// else among all; without stated shares, the top driver.
func driverSummary(rep *DriverReport, idx []int, sRank []float64, outcome string, alpha float64) string {
	q := len(idx)
	level := fmt.Sprintf("%.0f%%", 100*(1-alpha))
	if sRank == nil {
		for _, i := range idx {
			d := rep.Drivers[i-1]
			if d.DerivedRank != nil && *d.DerivedRank == 1 {
				return fmt.Sprintf("%s drives %s most of the %d drivers (Johnson weight %s of R²%s; R² = %.2f).",
					drvCapitalize(d.Driver), outcome, q, drvPctOrNA(d.JohnsonPct), drvCiText(d.JohnsonPctCI, level), *rep.R2)
			}
		}
		return fmt.Sprintf("R² = %.2f over %d drivers.", *rep.R2, q)
	}
	best, bestGap, bestDecided := -1, -1.0, false
	for a, i := range idx {
		d := rep.Drivers[i-1]
		if d.DerivedRank == nil {
			continue
		}
		decided := d.Verdict == DriverOverrated || d.Verdict == DriverUnderrated
		gap := math.Abs(sRank[a] - float64(*d.DerivedRank))
		if decided && !bestDecided || decided == bestDecided && gap > bestGap {
			best, bestGap, bestDecided = a, gap, decided
		}
	}
	if best < 0 {
		return ""
	}
	d := rep.Drivers[idx[best]-1]
	conj := "and"
	if d.Verdict == DriverOverrated || d.Verdict == DriverUnderrated {
		conj = "but"
	}
	return fmt.Sprintf("Customers name %s as the key reason %s of the time (%s of %d) %s it ranks %s of %d in what drives %s (Johnson weight %s of R²%s): %s.",
		d.Driver, drvPctOrNA(d.StatedShare), drvOrdinal(int(sRank[best])), q, conj,
		drvOrdinal(*d.DerivedRank), q, outcome, drvPctOrNA(d.JohnsonPct), drvCiText(d.JohnsonPctCI, level), d.Verdict)
}

// drvPctText shows one decimal below 10% so that small shares do not read 0%.
func drvPctText(x float64) string {
	v := 100 * x
	if math.Abs(v) < 9.95 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func drvPctOrNA(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return drvPctText(*x) + "%"
}

func drvCiText(ci *Interval, level string) string {
	if ci == nil {
		return ""
	}
	return fmt.Sprintf(", %s CI %s–%s%%", level, drvPctText(ci[0]), drvPctText(ci[1]))
}

func drvOrdinal(n int) string {
	suffix := "th"
	switch n % 10 {
	case 1:
		suffix = "st"
	case 2:
		suffix = "nd"
	case 3:
		suffix = "rd"
	}
	if n%100 >= 11 && n%100 <= 13 {
		suffix = "th"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func drvCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func drvIntPtr(x float64) *int {
	if !finite(x) {
		return nil
	}
	v := int(x)
	return &v
}

func drvListNames(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func drvPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func drvJoinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
