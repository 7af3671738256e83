package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// Verdicts and magnitudes of a claim.
const (
	Holds        = "holds"
	Contradicted = "contradicted"
	Inconclusive = "inconclusive"

	Matches     = "matches"
	Overstated  = "overstated"
	Understated = "understated"
	Unclear     = "unclear"
)

// DefaultMargin is the equivalence margin of "matches" when Claim.Margin is 0.
const DefaultMargin = 0.05

// ClaimResult is a claim put to the test.
type ClaimResult struct {
	ID        string    `json:"id"`
	Kind      ClaimKind `json:"kind"`
	Metric    string    `json:"metric"`
	Statement string    `json:"statement,omitempty"`
	Source    string    `json:"source,omitempty"`
	// Verdict is the direction: holds, contradicted or inconclusive, decided
	// by PAdjusted.
	Verdict string `json:"verdict"`
	// Magnitude compares the revealed figure with the stated one: matches
	// (TOST: the (1−2α) gap CI inside ±margin), overstated (revealed
	// significantly below stated), understated, or unclear. Empty when no
	// stated figure applies.
	Magnitude string `json:"magnitude,omitempty"`
	// Revealed is the revealed share (share), effect Preferred − Other
	// (effect) or share difference A − B (segment_gap), with its CI.
	Revealed   *float64  `json:"revealed"`
	RevealedCI *Interval `json:"revealed_ci"`
	// RevealedSE is the standard error of Revealed, what the scoreboard
	// pools with (√(p(1−p)/n) for a share, the comparison's for an effect,
	// the difference's for a segment gap); null when undefined or for
	// kinds that are not pooled (now_vs_later, tradeoff).
	RevealedSE *float64 `json:"revealed_se"`
	Stated     *float64 `json:"stated"`
	// StatedCI is the stated figure's own interval at 1−α: the survey is a
	// sample of survey_n respondents too (Wilson for a share; Wald for a
	// difference of shares). Null when the claim states no size.
	StatedCI *Interval `json:"stated_ci"`
	// Gap is Revealed − Stated, with its CI at 1−α, its two-sided p-value
	// (not in the family) and the (1−2α) CI of the equivalence test.
	Gap           *float64  `json:"gap"`
	GapCI         *Interval `json:"gap_ci"`
	GapPValue     *float64  `json:"gap_p_value"`
	EquivalenceCI *Interval `json:"equivalence_ci"`
	Margin        float64   `json:"margin"`
	// PValue is the direction test's: the exact binomial test against 0.5
	// (share), the comparison's (effect), the two-proportion z-test of the
	// segment difference against 0 (segment_gap). It joins the family.
	PValue    *float64 `json:"p_value"`
	PAdjusted *float64 `json:"p_adjusted"`
	Units     int64    `json:"units"`
	// UnitsNeeded is, for an inconclusive verdict, how many more units give
	// 80% power to decide the direction if the revealed figure holds.
	UnitsNeeded *int64 `json:"units_needed"`
	Summary     string `json:"summary"`
	// Reason says why a figure is null, e.g. "no units".
	Reason string `json:"reason,omitempty"`
	// SayDo is set for a say_do claim: the table and its paired statistics.
	*SayDoResult
	// NowVsLater is set for a now_vs_later claim: both horizons and the
	// pattern.
	*NowVsLater
	// Tradeoff is set for a tradeoff claim: the exchange rate and the
	// off-diagonal contrast.
	*Tradeoff
}

// SayDoResult is what a say_do claim adds to a claim's result: the table
// of said × did, the agreement between saying and doing beyond chance
// (Cohen's κ), and how often sayers and the others did it.
type SayDoResult struct {
	Table             SayDoCells        `json:"table"`
	Kappa             *float64          `json:"kappa"`
	KappaCI           *Interval         `json:"kappa_ci"`
	DidGivenSaid      *float64          `json:"did_given_said"`
	DidGivenSaidCI    *Interval         `json:"did_given_said_ci"`
	DidGivenNotSaid   *float64          `json:"did_given_not_said"`
	DidGivenNotSaidCI *Interval         `json:"did_given_not_said_ci"`
	NullReasons       map[string]string `json:"null_reasons,omitempty"`
}

// claimWork is a claim between its test and its verdict, which waits for
// the family's correction.
type claimWork struct {
	in  Claim
	res ClaimResult
	// side is +1 when the revealed figure is on the stated side, −1 when on
	// the other, 0 when the claim states no side.
	side int
	// need computes the units still needed at level alpha.
	need func(alpha float64) (int64, bool)
	// summary renders the sentence once the verdict is known.
	summary func(w *claimWork) string
	// decide, when set, replaces the verdict rule of a single direction
	// test, once the family's correction is known.
	decide func(w *claimWork, powerAlpha float64)
}

// findMetric returns metric within segment ("" for the whole experiment).
func (a *reportBuilder) findMetric(metric, segment string) (MetricInput, bool) {
	metrics := a.in.Metrics
	if segment != "" {
		metrics = nil
		for _, s := range a.in.Segments {
			if s.Attribute+"="+s.Value == segment {
				metrics = s.Metrics
			}
		}
	}
	for _, m := range metrics {
		if m.Metric == metric {
			return m, true
		}
	}
	return MetricInput{}, false
}

func (a *reportBuilder) otherOf(c Claim) string {
	if c.Other == "" {
		return a.control
	}
	return c.Other
}

// claims runs every claim's tests, before the correction.
func (a *reportBuilder) claims(r *Report) []*claimWork {
	var out []*claimWork
	for i, c := range a.in.Claims {
		w := &claimWork{in: c, res: ClaimResult{
			ID: c.ID, Kind: c.Kind, Metric: c.Metric, Statement: c.Statement, Source: c.Source,
			Margin: c.margin(),
		}}
		if why := a.untestable(i, c); why != "" {
			w.res.Reason = why
			w.summary = func(*claimWork) string { return "This claim cannot be tested: " + why + "." }
			out = append(out, w)
			continue
		}
		switch c.Kind {
		case ClaimShare:
			a.shareClaim(w)
		case ClaimEffect:
			a.effectClaim(w)
		case ClaimSegmentGap:
			a.segmentGapClaim(w)
		case ClaimSayDo:
			a.sayDoClaim(w)
		case ClaimNowVsLater:
			a.nowVsLaterClaim(w)
		case ClaimTradeoff:
			a.tradeoffClaim(w)
		}
		out = append(out, w)
	}
	return out
}

// untestable says why claim i cannot be tested, or "": it does not fit the
// design, or a metric it reads could not be analysed.
func (a *reportBuilder) untestable(i int, c Claim) string {
	if why, ok := a.badClaims[i]; ok {
		return why
	}
	segments := []string{""}
	switch c.Kind {
	case ClaimSegmentGap:
		segments = []string{c.SegmentA, c.SegmentB}
	case ClaimShare, ClaimEffect, ClaimNowVsLater:
		segments = append(segments, c.Segment)
	}
	metrics := []string{c.Metric}
	if c.Kind == ClaimNowVsLater {
		metrics = []string{c.Now, c.Later}
	}
	for _, s := range segments {
		for _, m := range metrics {
			if why, ok := a.unusable[unusableKey(s, m)]; ok {
				return fmt.Sprintf("metric %q cannot be analysed (%s)", m, why)
			}
		}
	}
	return ""
}

// pooled sums a binary metric's converted units and units over variant
// ("" pools all variants).
func (a *reportBuilder) pooled(metric, segment, variant string) (k, n float64) {
	m, _ := a.findMetric(metric, segment)
	for _, arm := range m.Arms {
		if variant == "" || arm.Variant == variant {
			k += arm.Stats.Sum
			n += float64(arm.Stats.Units)
		}
	}
	return math.Round(k), n
}

// binomTestHalf is the two-sided exact binomial test of k successes in n
// against p = 0.5 (R's binom.test); the null is symmetric, so it is twice
// the smaller tail, computed as a regularized incomplete beta.
func binomTestHalf(k, n float64) float64 {
	m := math.Min(k, n-k)
	if 2*m >= n {
		return 1
	}
	// P(X ≤ m) = I_{1/2}(n − m, m + 1)
	return math.Min(1, 2*mathext.RegIncBeta(n-m, m+1, 0.5))
}

// gapTest fills the gap fields for a revealed figure minus a stated one with
// standard error se, and the magnitude against margin; df is the t
// distribution's (+Inf for the normal).
func (a *reportBuilder) gapTest(w *claimWork, gap, se, df float64) {
	g := judgeGap(gap, se, df, a.alpha, w.res.Margin)
	w.res.Gap, w.res.GapCI, w.res.GapPValue, w.res.EquivalenceCI = g.gap, g.ci, g.p, g.equivalenceCI
	w.res.Magnitude = g.magnitude
}

// gapJudgement is a revealed figure minus a stated one, put to the test.
type gapJudgement struct {
	gap           *float64
	ci            *Interval // at 1−alpha
	p             *float64  // two-sided; nil when both figures are certain
	equivalenceCI *Interval // at 1−2·alpha, the TOST
	magnitude     string
}

// judgeGap is the magnitude rule of every claim whose gap has a standard
// error (and of the pooled verdict of the scoreboard, so that a statement
// reads the same there): matches when the (1−2α) interval of the gap lies
// inside ±margin, overstated or understated when the gap is significant at
// alpha, else unclear. df is the t distribution's (+Inf for the normal).
func judgeGap(gap, se, df, alpha, margin float64) gapJudgement {
	g := gapJudgement{gap: num(gap)}
	if se == 0 {
		// Both figures are certain (e.g. 100% against a stated 100%).
		g.ci, g.equivalenceCI = interval(gap, gap), interval(gap, gap)
		switch {
		case math.Abs(gap) < margin:
			g.magnitude = Matches
		case gap < 0:
			g.magnitude = Overstated
		default:
			g.magnitude = Understated
		}
		return g
	}
	q := tQuantile(1-alpha/2, df)
	g.ci = interval(gap-q*se, gap+q*se)
	q2 := tQuantile(1-alpha, df)
	g.equivalenceCI = interval(gap-q2*se, gap+q2*se)
	p := tTwoSided(gap/se, df)
	g.p = num(p)
	switch {
	case g.equivalenceCI[0] > -margin && g.equivalenceCI[1] < margin:
		g.magnitude = Matches
	case p < alpha && gap < 0:
		g.magnitude = Overstated
	case p < alpha:
		g.magnitude = Understated
	default:
		g.magnitude = Unclear
	}
	return g
}

func (a *reportBuilder) shareClaim(w *claimWork) {
	c := w.in
	k, n := a.pooled(c.Metric, c.Segment, c.Variant)
	w.res.Units = int64(n)
	stated := *c.StatedShare
	w.res.Stated = num(stated)
	w.res.StatedCI = wilson(stated, float64(c.SurveyN), a.alpha)
	w.summary = a.shareSummary
	if n == 0 {
		w.res.Reason = "no units"
		return
	}
	p := k / n
	w.res.Revealed = num(p)
	w.res.RevealedCI = wilson(p, n, a.alpha)
	w.res.RevealedSE = num(math.Sqrt(p * (1 - p) / n))
	sN := float64(c.SurveyN)
	a.gapTest(w, p-stated, math.Sqrt(p*(1-p)/n+stated*(1-stated)/sN), math.Inf(1))
	if stated == 0.5 {
		w.res.Reason = "the stated share is 0.5: it states no majority"
		return
	}
	w.res.PValue = num(binomTestHalf(k, n))
	w.side = sideOf(p-0.5, stated-0.5)
	w.need = unitsToDecideHalf(p, n)
}

// unitsToDecideHalf is how many more units give 80% power to the exact test
// of a share p observed in n units against one half, by the normal
// approximation to the binomial.
func unitsToDecideHalf(p, n float64) func(alpha float64) (int64, bool) {
	return func(alpha float64) (int64, bool) {
		if p == 0.5 {
			return 0, false
		}
		m := (normQuantile(1-alpha/2)*0.5 + normQuantile(Power)*math.Sqrt(p*(1-p))) / (p - 0.5)
		return toUnits(m*m - n)
	}
}

// verdictOf is a direction test's verdict: holds or contradicted by the
// side the revealed figure is on, once the test is significant.
func verdictOf(side int, significant bool) string {
	switch {
	case significant && side == 1:
		return Holds
	case significant && side == -1:
		return Contradicted
	}
	return Inconclusive
}

// sideOf is +1 when revealed and stated have the same sign, −1 when opposite.
func sideOf(revealed, stated float64) int {
	switch {
	case revealed == 0 || stated == 0:
		return 0
	case (revealed > 0) == (stated > 0):
		return 1
	default:
		return -1
	}
}

func (a *reportBuilder) effectClaim(w *claimWork) {
	c := w.in
	m, _ := a.findMetric(c.Metric, c.Segment)
	other := a.otherOf(c)
	// The prior p-values are stored under the non-control variant.
	key := priorKey{c.Segment, c.Metric, c.Preferred}
	if c.Preferred == a.control {
		key.variant = other
	}
	cmp, dd := a.compare(m, a.stats(m, other), a.stats(m, c.Preferred), key)
	w.res.Units = int64(dd.n)
	w.summary = a.effectSummary
	w.res.Revealed = num(dd.d)
	w.res.RevealedCI = cmp.AbsCI
	w.res.PValue = cmp.PValue
	if !dd.ok {
		w.res.Reason = dd.reason
		return
	}
	w.res.RevealedSE = num(dd.se)
	better := dd.d
	if !m.HigherIsBetter {
		better = -better
	}
	w.side = sideOf(better, 1)
	w.need = func(alpha float64) (int64, bool) { return a.unitsNeeded(dd.d, dd.se, dd.n, alpha) }
	if c.StatedEffect != nil {
		s := *c.StatedEffect
		w.res.Stated = num(s)
		// The stated effect has no sampling error we know of: a constant,
		// tested at the comparison's own df.
		a.gapTest(w, dd.d-s, dd.se, dd.df)
	}
}

func (a *reportBuilder) segmentGapClaim(w *claimWork) {
	c := w.in
	kA, nA := a.pooled(c.Metric, c.SegmentA, c.Variant)
	kB, nB := a.pooled(c.Metric, c.SegmentB, c.Variant)
	w.res.Units = int64(nA + nB)
	sA, sB := *c.StatedA, *c.StatedB
	w.res.Stated = num(sA - sB)
	w.summary = a.segmentGapSummary
	sNA, sNB := c.surveySizes()
	statedSE := math.Sqrt(sA*(1-sA)/sNA + sB*(1-sB)/sNB)
	z := normQuantile(1 - a.alpha/2)
	w.res.StatedCI = interval(sA-sB-z*statedSE, sA-sB+z*statedSE)
	if nA == 0 || nB == 0 {
		w.res.Reason = "a segment has no units"
		return
	}
	pA, pB := kA/nA, kB/nB
	d := pA - pB
	se := math.Sqrt(pA*(1-pA)/nA + pB*(1-pB)/nB)
	w.res.Revealed = num(d)
	w.res.RevealedSE = num(se)
	a.gapTest(w, d-(sA-sB), math.Sqrt(se*se+statedSE*statedSE), math.Inf(1))
	if se == 0 {
		w.res.RevealedCI = interval(d, d)
		w.res.Reason = "both segments' shares are 0 or 1"
		return
	}
	w.res.RevealedCI = interval(d-z*se, d+z*se)
	w.res.PValue = num(math.Min(1, 2*normCDF(-math.Abs(d/se))))
	w.side = sideOf(d, sA-sB)
	if sA == sB {
		w.res.Reason = "the stated shares are equal: they state no difference"
		w.res.PValue = nil
		return
	}
	w.need = func(alpha float64) (int64, bool) {
		if d == 0 {
			return 0, false
		}
		k := (normQuantile(1-alpha/2) + normQuantile(Power)) * se / d
		return toUnits(k*k*(nA+nB) - (nA + nB))
	}
}

// sayDoClaim tests a customer's own answer against the same customer's
// behaviour: the paired gap (Newcombe; exact McNemar) for the magnitude,
// and for the direction whether these units do the stated thing more than
// half the time (exact binomial), as a share claim.
func (a *reportBuilder) sayDoClaim(w *claimWork) {
	c := w.in
	cells := a.in.SayDo[c.ID]
	s := SayDoTable(cells.SaidDid, cells.SaidDidnt, cells.DidntSayDid, cells.DidntSayDidnt, a.alpha, w.res.Margin)
	w.summary = a.sayDoSummary
	w.res.Units = s.N
	w.res.SayDoResult = &SayDoResult{Table: s.Table, Kappa: s.Kappa, KappaCI: s.KappaCI,
		DidGivenSaid: s.DidGivenSaid, DidGivenSaidCI: s.DidGivenSaidCI,
		DidGivenNotSaid: s.DidGivenNotSaid, DidGivenNotSaidCI: s.DidGivenNotSaidCI, NullReasons: s.NullReasons}
	w.res.Stated, w.res.StatedCI, w.res.Revealed, w.res.RevealedCI = s.Stated, s.StatedCI, s.Revealed, s.RevealedCI
	w.res.Gap, w.res.GapCI, w.res.GapPValue, w.res.EquivalenceCI = s.Gap, s.GapCI, s.GapPValue, s.EquivalenceCI
	w.res.Magnitude = s.Magnitude
	if s.N == 0 {
		w.res.Reason = "no exposed unit has answered the question yet"
		return
	}
	stated, revealed, n := *s.Stated, *s.Revealed, float64(s.N)
	w.res.RevealedSE = num(math.Sqrt(revealed * (1 - revealed) / n))
	if stated == 0.5 {
		w.res.Reason = "half of the units said it: the stated side states no majority"
		return
	}
	w.res.PValue = s.PValue
	w.side = sideOf(revealed-0.5, stated-0.5)
	w.need = unitsToDecideHalf(revealed, n)
}

// finishClaim sets the verdict, the units needed and the summary once the
// family's correction is known.
func (a *reportBuilder) finishClaim(w *claimWork, r *Report) ClaimResult {
	w.res.Verdict = Inconclusive
	if w.decide != nil {
		w.decide(w, r.PowerAlpha)
		w.res.Summary = w.summary(w)
		return w.res
	}
	w.res.Verdict = verdictOf(w.side, w.res.PAdjusted != nil && *w.res.PAdjusted < a.alpha)
	if w.res.Verdict == Inconclusive && w.need != nil {
		if u, ok := w.need(r.PowerAlpha); ok {
			w.res.UnitsNeeded = ptr(u)
		}
	}
	w.res.Summary = w.summary(w)
	return w.res
}
