package analysis

import "math"

// SayDoCells is the 2×2 table of a say_do claim: for each unit that was
// exposed and answered the survey, whether it said the answer and whether
// it did it (metric = 1).
type SayDoCells struct {
	SaidDid       int64 `json:"said_did"`
	SaidDidnt     int64 `json:"said_didnt"`
	DidntSayDid   int64 `json:"didnt_say_did"`
	DidntSayDidnt int64 `json:"didnt_say_didnt"`
}

// SayDoStats are the paired statistics of a say_do table. Every number that
// cannot be computed is null, and NullReasons (keyed by JSON field name)
// says why.
type SayDoStats struct {
	Table SayDoCells `json:"table"`
	N     int64      `json:"n"`
	// Stated is the share that said it, (A+B)/N; Revealed the share that did
	// it, (A+C)/N; both with Wilson intervals.
	Stated     *float64  `json:"stated"`
	StatedCI   *Interval `json:"stated_ci"`
	Revealed   *float64  `json:"revealed"`
	RevealedCI *Interval `json:"revealed_ci"`
	// Gap is revealed − stated = (C−B)/N. GapCI is Newcombe's (1998) method
	// 10 interval; GapPValue the exact McNemar test of B against C.
	Gap       *float64  `json:"gap"`
	GapCI     *Interval `json:"gap_ci"`
	GapPValue *float64  `json:"gap_p_value"`
	// EquivalenceCI is the 1−2α Newcombe interval used for the TOST against
	// ±margin.
	EquivalenceCI *Interval `json:"equivalence_ci"`
	// Magnitude is matches, overstated, understated or unclear; empty when
	// there are no units.
	Magnitude string `json:"magnitude,omitempty"`
	// PValue is the direction test: the exact binomial test of A+C of N
	// against 1/2.
	PValue *float64 `json:"p_value"`
	// Kappa is Cohen's κ of saying against doing, with the asymptotic
	// interval of Fleiss, Cohen & Everitt (1969).
	Kappa   *float64  `json:"kappa"`
	KappaCI *Interval `json:"kappa_ci"`
	// DidGivenSaid is A/(A+B); DidGivenNotSaid is C/(C+D); Wilson intervals.
	DidGivenSaid      *float64          `json:"did_given_said"`
	DidGivenSaidCI    *Interval         `json:"did_given_said_ci"`
	DidGivenNotSaid   *float64          `json:"did_given_not_said"`
	DidGivenNotSaidCI *Interval         `json:"did_given_not_said_ci"`
	NullReasons       map[string]string `json:"null_reasons,omitempty"`
}

// Reasons a say_do number is null.
const (
	reasonNegativeCell = "a cell count is negative"
	reasonCellRange    = "cell counts out of range"
	reasonAlphaRange   = "alpha outside (0, 0.5)"
	reasonNoPairs      = "no units"
	reasonNoneSaid     = "no unit said it"
	reasonAllSaid      = "every unit said it"
	reasonKappaPe1     = "kappa undefined: every unit is in one concordant cell, so chance agreement is 1"
)

// sayDoFields are the nullable fields, so that an input that stops the
// computation early can give every one of them a reason.
var sayDoFields = []string{
	"stated", "stated_ci", "revealed", "revealed_ci", "gap", "gap_ci",
	"gap_p_value", "equivalence_ci", "magnitude", "p_value", "kappa", "kappa_ci",
	"did_given_said", "did_given_said_ci", "did_given_not_said", "did_given_not_said_ci",
}

// SayDoTable computes the paired statistics of the table A = said & did,
// B = said & didn't, C = didn't say & did, D = didn't say & didn't at level
// 1−alpha, with margin the equivalence margin of the gap (a share). It
// never returns NaN and never panics.
func SayDoTable(a, b, c, d int64, alpha, margin float64) SayDoStats {
	s := SayDoStats{
		Table:       SayDoCells{a, b, c, d},
		NullReasons: map[string]string{},
	}
	stop := func(reason string) SayDoStats {
		for _, f := range sayDoFields {
			s.NullReasons[f] = reason
		}
		return s
	}
	switch {
	case a < 0 || b < 0 || c < 0 || d < 0:
		return stop(reasonNegativeCell)
	case a > math.MaxInt64-b || a+b > math.MaxInt64-c || a+b+c > math.MaxInt64-d:
		return stop(reasonCellRange)
	case CheckAlpha(alpha) != "":
		return stop(reasonAlphaRange)
	}
	s.N = a + b + c + d
	if s.N == 0 {
		return stop(reasonNoPairs)
	}
	A, B, C, D := float64(a), float64(b), float64(c), float64(d)
	n := float64(s.N)

	stated, revealed := (A+B)/n, (A+C)/n
	s.Stated, s.StatedCI = num(stated), wilson(stated, n, alpha)
	s.Revealed, s.RevealedCI = num(revealed), wilson(revealed, n, alpha)
	// (C−B)/N rather than revealed − stated, so that equal discordant counts
	// give a gap of exactly 0.
	s.Gap = num((C - B) / n)
	s.GapCI = newcombePaired(A, B, C, D, alpha)
	s.EquivalenceCI = newcombePaired(A, B, C, D, 2*alpha)
	// Exact McNemar: conditional on B+C discordant pairs, B ~ Bin(B+C, ½)
	// under no gap; binomTestHalf gives 1 when B+C = 0.
	s.GapPValue = num(binomTestHalf(B, B+C))
	s.PValue = num(binomTestHalf(A+C, n))
	s.Magnitude = sayDoMagnitude(s.Gap, s.GapCI, s.EquivalenceCI, s.GapPValue, alpha, margin)

	if k, lo, hi, ok := cohensKappa(A, B, C, D, alpha); ok {
		s.Kappa, s.KappaCI = num(k), interval(lo, hi)
	} else {
		s.NullReasons["kappa"], s.NullReasons["kappa_ci"] = reasonKappaPe1, reasonKappaPe1
	}

	if a+b > 0 {
		p := A / (A + B)
		s.DidGivenSaid, s.DidGivenSaidCI = num(p), wilson(p, A+B, alpha)
	} else {
		s.NullReasons["did_given_said"], s.NullReasons["did_given_said_ci"] = reasonNoneSaid, reasonNoneSaid
	}
	if c+d > 0 {
		p := C / (C + D)
		s.DidGivenNotSaid, s.DidGivenNotSaidCI = num(p), wilson(p, C+D, alpha)
	} else {
		s.NullReasons["did_given_not_said"], s.NullReasons["did_given_not_said_ci"] = reasonAllSaid, reasonAllSaid
	}
	if len(s.NullReasons) == 0 {
		s.NullReasons = nil
	}
	return s
}

// sayDoMagnitude compares the paired gap with ±margin. Equivalence is a
// TOST: the 1−2α interval inside (−margin, margin). A direction needs both
// the McNemar test and the Newcombe interval to exclude 0, since the two
// can disagree near α and a verdict should not rest on either alone.
func sayDoMagnitude(gap *float64, gapCI, eqCI *Interval, p *float64, alpha, margin float64) string {
	if gap == nil {
		return ""
	}
	switch {
	case eqCI != nil && eqCI[0] > -margin && eqCI[1] < margin:
		return Matches
	case p != nil && *p < alpha && gapCI != nil && (gapCI[0] > 0 || gapCI[1] < 0):
		if *gap < 0 {
			return Overstated
		}
		return Understated
	}
	return Unclear
}

// newcombePaired is Newcombe's (1998) method 10 at level 1−alpha for the
// gap revealed − stated = (A+C)/N − (A+B)/N. Newcombe states it for
// θ = (b−c)/N, the first row's share minus the first column's; here that is
// stated − revealed, so the roles of the two shares are swapped: the lower
// limit moves revealed to its lower Wilson limit and stated to its upper.
// His example (20, 12, 2, 16) gives θ in [0.0562, 0.3292], so the gap here
// is in [−0.3292, −0.0562].
func newcombePaired(A, B, C, D, alpha float64) *Interval {
	n := A + B + C + D
	stated, revealed := (A+B)/n, (A+C)/n
	ws, wr := wilson(stated, n, alpha), wilson(revealed, n, alpha)
	if ws == nil || wr == nil {
		return nil
	}
	phi := pairedPhi(A, B, C, D)
	gap := (C - B) / n
	dr, ds := revealed-wr[0], ws[1]-stated
	ur, us := wr[1]-revealed, stated-ws[0]
	// The radicands are ≥ (x−y)² for |φ| ≤ 1; max only absorbs rounding.
	lo := gap - math.Sqrt(math.Max(0, dr*dr-2*phi*dr*ds+ds*ds))
	hi := gap + math.Sqrt(math.Max(0, ur*ur-2*phi*ur*us+us*us))
	return interval(lo, hi)
}

// pairedPhi is the correlation of saying and doing as Newcombe uses it in
// method 10: a positive AD − BC is first reduced by N/2 (to no less than
// 0), which he found keeps coverage near nominal; 0 when a margin is 0.
func pairedPhi(A, B, C, D float64) float64 {
	m1, m2, m3, m4 := A+B, C+D, A+C, B+D
	if m1 == 0 || m2 == 0 || m3 == 0 || m4 == 0 {
		return 0
	}
	cross := A*D - B*C
	if cross > 0 {
		cross = math.Max(cross-(A+B+C+D)/2, 0)
	}
	// Two square roots rather than one of the product, which overflows
	// float64 above about 1e77 units.
	return cross / (math.Sqrt(m1*m2) * math.Sqrt(m3*m4))
}

// cohensKappa is Cohen's κ for saying against doing with the interval
// κ ± z·se, where se is the large-sample standard error of Fleiss, Cohen &
// Everitt (1969) (not the one under κ = 0), as statsmodels' cohens_kappa
// uses for kappa_low/kappa_upp. ok is false when chance agreement is 1.
func cohensKappa(A, B, C, D, alpha float64) (k, lo, hi float64, ok bool) {
	n := A + B + C + D
	// Row i: said yes/no; column j: did yes/no.
	p := [2][2]float64{{A / n, B / n}, {C / n, D / n}}
	row := [2]float64{p[0][0] + p[0][1], p[1][0] + p[1][1]}
	col := [2]float64{p[0][0] + p[1][0], p[0][1] + p[1][1]}
	// pe = 1 exactly when all units are in A or all in D; test the counts
	// so that rounding cannot make 1 − pe a tiny nonzero number.
	if A == n || D == n {
		return 0, 0, 0, false
	}
	po := p[0][0] + p[1][1]
	pe := row[0]*col[0] + row[1]*col[1]
	k = (po - pe) / (1 - pe)
	q := 1 - k
	var v float64
	for i := 0; i < 2; i++ {
		t := 1 - (row[i]+col[i])*q
		v += p[i][i] * t * t
	}
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			if i != j {
				t := col[i] + row[j]
				v += q * q * p[i][j] * t * t
			}
		}
	}
	t := k - pe*q
	v -= t * t
	v /= n * (1 - pe) * (1 - pe)
	h := normQuantile(1-alpha/2) * math.Sqrt(math.Max(0, v))
	return k, k - h, k + h, true
}
