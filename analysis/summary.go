package analysis

import (
	"fmt"
	"math"
	"strings"
)

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// points formats a difference of shares in percentage points.
func points(x float64) string { return fmt.Sprintf("%.0f points", 100*math.Abs(x)) }

func (a *reportBuilder) level() string { return fmt.Sprintf("%.0f%%", 100*(1-a.alpha)) }

// magnitudeText answers "consistent with the stated figure?" in words;
// fmtGap renders |gap| and up names the direction.
func magnitudeText(w *claimWork, fmtGap func(float64) string) string {
	if w.res.Gap == nil {
		return ""
	}
	g := *w.res.Gap
	dir := "higher"
	if g < 0 {
		dir = "lower"
	}
	p := ""
	if w.res.GapPValue != nil {
		p = " (" + FormatP(*w.res.GapPValue) + ")"
	}
	switch w.res.Magnitude {
	case Matches:
		return fmt.Sprintf("Yes: within ±%s", fmtGap(w.res.Margin))
	case Overstated, Understated:
		return fmt.Sprintf("No: %s %s%s", fmtGap(g), dir, p)
	default:
		return fmt.Sprintf("Unclear: %s %s%s", fmtGap(g), dir, p)
	}
}

func verdictText(w *claimWork, subject string) string {
	switch w.res.Verdict {
	case Holds:
		return subject + " holds"
	case Contradicted:
		return subject + " is contradicted"
	}
	s := subject + " is not yet decided"
	if w.res.UnitsNeeded != nil {
		s += fmt.Sprintf(" (about %d more units needed)", *w.res.UnitsNeeded)
	}
	return s
}

func (a *reportBuilder) shareSummary(w *claimWork) string {
	c := w.in
	option := c.Option
	if option == "" {
		option = "the stated option"
	}
	if w.res.Revealed == nil {
		return fmt.Sprintf("No customers have been offered the choice yet; the survey says %s chose %s.", pct(*c.StatedShare), option)
	}
	ci := w.res.RevealedCI
	s := fmt.Sprintf("Offered both, %s of %d customers chose %s (%s CI %.0f–%s), consistent with the survey's %s? %s",
		pct(*w.res.Revealed), w.res.Units, option, a.level(), 100*ci[0], pct(ci[1]), pct(*c.StatedShare),
		magnitudeText(w, points))
	if *c.StatedShare == 0.5 {
		return s + "."
	}
	return s + "; " + verdictText(w, "the stated majority") + "."
}

func (a *reportBuilder) effectSummary(w *claimWork) string {
	c := w.in
	other := a.otherOf(c)
	if w.res.PValue == nil {
		return fmt.Sprintf("%s vs %s on %s cannot be tested yet (%s).", c.Preferred, other, c.Metric, w.res.Reason)
	}
	ci := w.res.RevealedCI
	s := fmt.Sprintf("%s minus %s on %s: %+.3g (%s CI %.3g to %.3g, %s); %s",
		c.Preferred, other, c.Metric, *w.res.Revealed, a.level(), ci[0], ci[1], FormatP(*w.res.PValue),
		verdictText(w, "the claim that "+c.Preferred+" does better"))
	if w.res.Stated != nil {
		s += fmt.Sprintf("; consistent with the stated %+.3g? %s", *w.res.Stated,
			magnitudeText(w, func(x float64) string { return fmt.Sprintf("%.3g", math.Abs(x)) }))
	}
	return s + "."
}

func (a *reportBuilder) segmentGapSummary(w *claimWork) string {
	c := w.in
	if w.res.Revealed == nil {
		return fmt.Sprintf("%s vs %s cannot be compared yet (%s).", c.SegmentA, c.SegmentB, w.res.Reason)
	}
	ci := w.res.RevealedCI
	s := fmt.Sprintf("%s minus %s: %+.0f points (%s CI %+.0f to %+.0f), consistent with the survey's %+.0f? %s",
		c.SegmentA, c.SegmentB, 100**w.res.Revealed, a.level(), 100*ci[0], 100*ci[1], 100**w.res.Stated,
		magnitudeText(w, points))
	if w.res.PValue == nil {
		return s + "."
	}
	return s + "; " + verdictText(w, "the stated direction") + "."
}

func (a *reportBuilder) sayDoSummary(w *claimWork) string {
	c, r := w.in, w.res
	answer := c.Option
	if answer == "" {
		answer = fmt.Sprintf("%q", c.Answer)
	}
	if r.Units == 0 {
		return fmt.Sprintf("No customer exposed to the experiment has answered %q yet.", c.Question)
	}
	t := r.Table
	var b strings.Builder
	if said := t.SaidDid + t.SaidDidnt; said > 0 {
		fmt.Fprintf(&b, "Of %s customers who said %s, %s did it", FormatCount(said), answer, pct(*r.DidGivenSaid))
	} else {
		fmt.Fprintf(&b, "No customer said %s", answer)
	}
	if others := t.DidntSayDid + t.DidntSayDidnt; others > 0 {
		fmt.Fprintf(&b, "; of %s who did not, %s did.", FormatCount(others), pct(*r.DidGivenNotSaid))
	} else {
		b.WriteString("; every customer said it.")
	}
	if r.Kappa != nil && r.KappaCI != nil {
		agree := "do not agree beyond chance"
		if r.KappaCI[0] > 0 {
			agree = "agree beyond chance"
		}
		fmt.Fprintf(&b, " Saying and doing %s (κ = %.2f).", agree, *r.Kappa)
	}
	if r.Gap != nil && r.Stated != nil && r.Revealed != nil {
		p := ""
		if r.GapPValue != nil {
			p = " (" + FormatP(*r.GapPValue) + ")"
		}
		switch r.Magnitude {
		case Overstated:
			fmt.Fprintf(&b, " The stated %s overstates the revealed %s by %s%s", pct(*r.Stated), pct(*r.Revealed), points(*r.Gap), p)
		case Understated:
			fmt.Fprintf(&b, " The stated %s understates the revealed %s by %s%s", pct(*r.Stated), pct(*r.Revealed), points(*r.Gap), p)
		case Matches:
			fmt.Fprintf(&b, " The stated %s matches the revealed %s within ±%s", pct(*r.Stated), pct(*r.Revealed), points(r.Margin))
		default:
			fmt.Fprintf(&b, " The stated %s and the revealed %s differ by %s, which is not yet clear%s", pct(*r.Stated), pct(*r.Revealed), points(*r.Gap), p)
		}
	}
	if r.PValue != nil {
		b.WriteString("; " + verdictText(w, "the stated majority"))
	}
	b.WriteString(".")
	return b.String()
}
