package analysis

import (
	"fmt"
	"math"
)

// Patterns of a now_vs_later claim: how the preferred variant does against
// the other on the metric of now and on the metric of later, each judged
// with its metric's higher_is_better.
const (
	// PatternLasts: better now and better later.
	PatternLasts = "lasts"
	// PatternReverses: better now and worse later: the marshmallow.
	PatternReverses = "reverses"
	// PatternFades: better now, later undecided.
	PatternFades = "fades"
	// PatternDelayed: undecided now, better later.
	PatternDelayed = "delayed"
	// PatternInconclusive: anything else.
	PatternInconclusive = "inconclusive"
)

// Horizon is one side of a now_vs_later claim: the raw effect preferred −
// other on its metric, with its CI at the claim's level and its two-sided
// p-value, which joins the multiple-comparison family.
type Horizon struct {
	Metric    string    `json:"metric"`
	Effect    *float64  `json:"effect"`
	CI        *Interval `json:"ci"`
	PValue    *float64  `json:"p_value"`
	PAdjusted *float64  `json:"p_adjusted"`
	// Reason says why the effect or its test is null.
	Reason string `json:"reason,omitempty"`

	higherIsBetter bool
	need           func(alpha float64) (int64, bool)
}

// NowVsLater is what a now_vs_later claim adds to a claim's result.
type NowVsLater struct {
	Now     *Horizon `json:"now"`
	Later   *Horizon `json:"later"`
	Pattern string   `json:"pattern"`
}

// nowVsLaterClaim compares the preferred variant with the other on both
// metrics. Its two p-values join the family (adjust); the pattern and the
// verdict wait for their correction (decideNowVsLater).
func (a *reportBuilder) nowVsLaterClaim(w *claimWork) {
	c := w.in
	other := a.otherOf(c)
	horizon := func(metric string) *Horizon {
		m, _ := a.findMetric(metric, c.Segment)
		key := priorKey{c.Segment, metric, c.Preferred}
		if c.Preferred == a.control {
			key.variant = other
		}
		cmp, dd := a.compare(m, a.stats(m, other), a.stats(m, c.Preferred), key)
		h := &Horizon{Metric: metric, CI: cmp.AbsCI, PValue: cmp.PValue, Reason: dd.reason, higherIsBetter: m.HigherIsBetter}
		if dd.ok {
			h.Effect = num(dd.d)
			h.need = func(alpha float64) (int64, bool) { return a.unitsNeeded(dd.d, dd.se, dd.n, alpha) }
			w.res.Units = max(w.res.Units, int64(dd.n))
		}
		return h
	}
	w.res.NowVsLater = &NowVsLater{Now: horizon(c.Now), Later: horizon(c.Later), Pattern: PatternInconclusive}
	w.res.Metric = c.Now
	w.summary = a.nowVsLaterSummary
	w.decide = a.decideNowVsLater
}

// direction is +1 when the preferred variant is significantly better on
// the horizon's metric (a one-sided test at alpha on the adjusted p-value),
// −1 when significantly worse, 0 when undecided.
func (h *Horizon) direction(alpha float64) int {
	if h.Effect == nil || h.PAdjusted == nil || *h.PAdjusted/2 >= alpha || *h.Effect == 0 {
		return 0
	}
	better := *h.Effect > 0
	if !h.higherIsBetter {
		better = !better
	}
	if better {
		return 1
	}
	return -1
}

// decideNowVsLater reads the pattern from the two one-sided tests. Lasts and
// reverses are intersection–union tests: both one-sided tests must reject
// at alpha, which needs no assumption about how the two metrics covary. The
// stated preference holds when it lasts and is contradicted when it
// reverses.
func (a *reportBuilder) decideNowVsLater(w *claimWork, powerAlpha float64) {
	nl := w.res.NowVsLater
	now, later := nl.Now.direction(a.alpha), nl.Later.direction(a.alpha)
	switch {
	case now == 1 && later == 1:
		nl.Pattern, w.res.Verdict = PatternLasts, Holds
	case now == 1 && later == -1:
		nl.Pattern, w.res.Verdict = PatternReverses, Contradicted
	case now == 1:
		nl.Pattern = PatternFades
	case now == 0 && later == 1:
		nl.Pattern = PatternDelayed
	}
	if w.res.Verdict != Inconclusive {
		return
	}
	var need int64
	for _, h := range []*Horizon{nl.Now, nl.Later} {
		if h.need == nil {
			return
		}
		u, ok := h.need(powerAlpha)
		if !ok {
			return
		}
		need = max(need, u)
	}
	w.res.UnitsNeeded = ptr(need)
}

func (a *reportBuilder) nowVsLaterSummary(w *claimWork) string {
	c, nl := w.in, w.res.NowVsLater
	effect := func(h *Horizon) string {
		if h.Effect == nil {
			return fmt.Sprintf("%s cannot be compared yet (%s)", h.Metric, h.Reason)
		}
		s := FormatSigned(*h.Effect) + " " + h.Metric
		if h.PAdjusted != nil {
			s += ", " + FormatP(math.Min(1, *h.PAdjusted))
		}
		return s
	}
	subject := fmt.Sprintf("%s against %s", c.Preferred, a.otherOf(c))
	switch nl.Pattern {
	case PatternLasts:
		return fmt.Sprintf("%s wins now (%s) and still wins later (%s): what customers ask for today keeps paying off.", subject, effect(nl.Now), effect(nl.Later))
	case PatternReverses:
		return fmt.Sprintf("%s wins now (%s) but loses later (%s): customers get what they ask for today and pay for it later.", subject, effect(nl.Now), effect(nl.Later))
	case PatternFades:
		return fmt.Sprintf("%s wins now (%s), but later it is not yet decided (%s).", subject, effect(nl.Now), effect(nl.Later))
	case PatternDelayed:
		return fmt.Sprintf("%s is not yet decided now (%s) but wins later (%s).", subject, effect(nl.Now), effect(nl.Later))
	}
	s := fmt.Sprintf("%s: now %s; later %s; no pattern is decided yet", subject, effect(nl.Now), effect(nl.Later))
	if w.res.UnitsNeeded != nil {
		s += fmt.Sprintf(" (about %s more units needed)", FormatCount(*w.res.UnitsNeeded))
	}
	return s + "."
}
