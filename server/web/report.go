package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

type reportView struct {
	Exp        *experiments.Experiment
	R          *analysis.Report
	Level      string
	Sequential bool
	SRM        srmView
	Claims     []claimView
	Metrics    []metricView
	Segments   []segmentView
	Power      []string
	Snapshots  int
	// Interactions are the checks against every other running experiment
	// that shares units; Flagged those flagged, shown again at the top.
	// Warnings are the report's, less the flagged checks' sentences.
	Interactions []interactionRow
	Flagged      []interactionRow
	Warnings     []string
	// Computed says when the report shown was computed, and over which events.
	Computed string
}

// computedText says when a report was computed ahead, and over which
// events; reading the page computes nothing.
func computedText(r *analysis.Report) string {
	if r.ComputedAt == nil {
		return "Not computed yet."
	}
	s := "Computed " + r.ComputedAt.UTC().Format("2 Jan 2006 15:04:05") + " UTC"
	if r.EventsThrough != nil {
		s += fmt.Sprintf(", over the events stored up to #%d", *r.EventsThrough)
	}
	return s + ". Reports are computed ahead (every hour while running); reading this page computes nothing."
}

// interactionRow is one check of whether this experiment's effect on a
// metric depends on the unit's arm in another experiment.
type interactionRow struct {
	Experiment, Metric string
	// Contrast names the reported difference of differences' cells.
	Contrast string
	// DiD is the difference of differences, or "— (why not)"; DiDCI its
	// interval.
	DiD, DiDCI string
	PAdj       string
	// AssignPAdj is the χ² test of independent assignment, corrected, and
	// Chi its statistic.
	AssignPAdj, Chi string
	Flagged         bool
	Summary         string
}

// armTable is what the "armtable" template draws: metric I's table, its
// first column headed Arm and the control's row marked Control.
type armTable struct {
	I                   int
	M                   metricView
	Level, Arm, Control string
}

type srmView struct {
	Mismatch, Low bool
	P             string
	Observed      string // "bot 498 · human 502"
	Expected      string
}

type claimView struct {
	ID, Kind, Statement, Summary, Verdict, Magnitude string
	Chart                                            template.HTML
	Note                                             string
	HasStated                                        bool
	SayDo                                            *sayDoView
	NowLater                                         *nowLaterView
	// Tradeoff lists what a tradeoff claim adds: its exchange rate against
	// the stated cost, and the off-diagonal cells.
	Tradeoff []statLine
}

// nowLaterView is what a now_vs_later claim adds: both horizons' effects,
// charted and listed, and the pattern they make.
type nowLaterView struct {
	Pattern, PatternLabel, PatternIcon, PatternText string
	// Charts is one chart with both rows when the two metrics share a unit,
	// else one chart per horizon, each with its own axis.
	Charts   []template.HTML
	Horizons []horizonView
}

// horizonView is one side of a now_vs_later claim as a labelled figure,
// with what its metric leaves out.
type horizonView struct {
	Label, Value string
	Notes        []string
}

// sayDoView is what a say_do claim adds: its 2×2 picture and the paired
// statistics beside it.
type sayDoView struct {
	Chart template.HTML
	Stats []statLine
}

// statLine is one labelled figure; Value is "— (reason)" when the report
// has none.
type statLine struct{ Label, Value string }

type metricView struct {
	Key, Kind string
	Direction string
	// Definition says what the metric reads when it is not simply its own
	// outcomes since exposure; Notes say which units it does not count.
	Definition string
	Notes      []string
	Rows       []armRow
	Forest     template.HTML
	Over       template.HTML
	// Factorial is set for a metric of a factorial experiment.
	Factorial *factorialView
}

type armRow struct {
	Variant, Units, Mean, MeanCI                        string
	Control, Significant                                bool
	Effect, EffectCI, Rel, RelCI, P, PAdj, Chance, Need string
}

type segmentView struct {
	Attribute     string
	Columns       []string
	Rows          []segmentRow
	Heterogeneity []string
}

type segmentRow struct {
	Value string
	Units string
	Cells []segmentCell
}

type segmentCell struct{ Effect, CI, P string }

func srmOf(r *analysis.Report) srmView {
	var obs, exp []string
	for _, v := range r.SRM.Variants {
		obs = append(obs, v.Variant+" "+fmtInt(v.Observed))
		exp = append(exp, v.Variant+" "+fmtInt(int64(math.Round(v.Expected))))
	}
	p := r.SRM.PValue
	return srmView{
		Mismatch: r.SRM.Status == analysis.SRMMismatch,
		Low:      r.SRM.Status == analysis.SRMNotEnoughTraffic,
		P:        fmtPEq(&p),
		Observed: strings.Join(obs, " · "),
		Expected: strings.Join(exp, " · "),
	}
}

func metricOf(r *analysis.Report, key string) (analysis.MetricReport, bool) {
	for _, m := range r.Metrics {
		if m.Metric == key {
			return m, true
		}
	}
	return analysis.MetricReport{}, false
}

func interval(ci *analysis.Interval) *[2]float64 {
	if ci == nil {
		return nil
	}
	v := [2]float64(*ci)
	return &v
}

// buildReport turns a report into what the page shows.
func buildReport(rv *experiments.ReportView) reportView {
	e, r := rv.Experiment, rv.Report
	v := reportView{Exp: e, R: r, Level: confidence(r.Alpha), Sequential: r.Sequential != nil, SRM: srmOf(r), Snapshots: len(rv.Snapshots),
		Computed: computedText(r)}
	defs := map[string]*experiments.Claim{}
	for _, c := range rv.Claims {
		defs[c.ID] = c
	}
	history := decodeSnapshots(rv.Snapshots)
	for i, c := range r.Claims {
		v.Claims = append(v.Claims, claimViewOf(i, c, defs[c.ID], r, e))
		if c.Verdict == analysis.Inconclusive && c.UnitsNeeded != nil {
			holds := "the revealed figure holds"
			if c.Kind == analysis.ClaimNowVsLater {
				holds = "both observed effects hold"
			}
			v.Power = append(v.Power, fmt.Sprintf("Claim “%s”: about %s more units to decide it at 80%% power, if %s.", c.ID, fmtInt(*c.UnitsNeeded), holds))
		}
	}
	for i, m := range r.Metrics {
		mv := metricViewOf(i, m, r, history)
		mv.Definition = definitionOf(e, m.Metric)
		mv.Notes = maturityNotes(e, m)
		mv.Factorial = factorialViewOf(i, m, r, e)
		v.Metrics = append(v.Metrics, mv)
		for _, c := range m.Comparisons {
			switch {
			case c.Significant || c.PValue == nil:
			case c.UnitsNeeded != nil:
				v.Power = append(v.Power, fmt.Sprintf("%s, %s vs %s: about %s more units for 80%% power to detect the observed effect (%s).",
					m.Metric, c.Variant, c.Control, fmtInt(*c.UnitsNeeded), formatFor(m.Kind, m.Metric).diff(c.AbsEffect)))
			default:
				v.Power = append(v.Power, fmt.Sprintf("%s, %s vs %s: not decided, and the observed effect (%s) is too small for a finite estimate of the units needed.",
					m.Metric, c.Variant, c.Control, formatFor(m.Kind, m.Metric).diff(c.AbsEffect)))
			}
		}
	}
	v.Segments = segmentsOf(r)
	v.Interactions, v.Flagged = interactionsOf(r)
	flagged := map[string]bool{}
	for _, f := range v.Flagged {
		flagged[f.Summary] = true
	}
	for _, w := range r.Warnings {
		if !flagged[w] {
			v.Warnings = append(v.Warnings, w)
		}
	}
	return v
}

// interactionsOf writes the report's interaction checks for reading.
func interactionsOf(r *analysis.Report) (all, flagged []interactionRow) {
	for _, c := range r.Interactions {
		row := interactionRow{Experiment: c.Experiment, Metric: c.Metric, Flagged: c.Flagged, Summary: c.Summary, DiD: "—", AssignPAdj: "—"}
		if res := c.InteractionResult; res != nil {
			m, _ := metricOf(r, c.Metric)
			f := formatFor(m.Kind, c.Metric)
			if res.ArmA != "" && res.ArmB != "" {
				row.Contrast = res.ArmA + " × " + res.ArmB
				if res.Contrasts > 1 {
					row.Contrast += fmt.Sprintf(", the strongest of %d contrasts", res.Contrasts)
				}
			}
			if res.Estimate != nil {
				row.DiD, row.DiDCI = f.diff(*res.Estimate), fmtInterval(res.CI, f.diff)
			} else {
				row.DiD = nullText(res.NullReason)
			}
			row.PAdj = orReason(c.PAdjusted, analysis.FormatPValue, res.NullReason)
			row.AssignPAdj = orReason(c.AssignmentPAdjusted, analysis.FormatPValue, res.AssignmentNullReason)
			if res.ChiSq != nil {
				row.Chi = fmt.Sprintf("χ² = %s, df = %d", fmtNum(*res.ChiSq), res.ChiDF)
			}
		}
		all = append(all, row)
		if row.Flagged {
			flagged = append(flagged, row)
		}
	}
	return all, flagged
}

func claimViewOf(i int, c analysis.ClaimResult, def *experiments.Claim, r *analysis.Report, e *experiments.Experiment) claimView {
	cv := claimView{ID: c.ID, Kind: string(c.Kind), Statement: c.Statement, Summary: c.Summary, Verdict: c.Verdict, Magnitude: c.Magnitude}
	if c.Kind == analysis.ClaimNowVsLater {
		// It has no single revealed figure: its two horizons are the figures.
		if c.NowVsLater == nil {
			cv.Note = "No data yet: " + c.Reason
			return cv
		}
		cv.NowLater = nowLaterViewOf(i, c, def, r, e)
		return cv
	}
	if c.Kind == analysis.ClaimTradeoff && c.Tradeoff != nil {
		cv.Tradeoff = tradeoffStats(c, r)
	}
	if c.Revealed == nil {
		cv.Note = "No data yet: " + c.Reason
		return cv
	}
	level := confidence(r.Alpha)
	ch := intervalChart{
		ID:    fmt.Sprintf("claim-chart-%d", i),
		Title: "Stated versus revealed: " + c.ID,
		Tick:  fmtPct,
	}
	stated := intervalRow{Label: "Stated (survey)", Shape: shapeDiamond, Class: "s-stated"}
	revealed := intervalRow{Label: fmt.Sprintf("Revealed (%s units)", fmtInt(c.Units)), Point: c.Revealed, CI: interval(c.RevealedCI), Shape: shapeCircle, Class: "s-revealed"}
	switch c.Kind {
	case analysis.ClaimShare:
		ch.Fixed, ch.Ref, ch.RefLabel = &[2]float64{0, 1}, 0.5, "half"
		ch.AxisLabel = "Share choosing the stated option (%)"
		stated.Point, stated.CI = c.Stated, interval(c.StatedCI)
		if def != nil {
			stated.Label = fmt.Sprintf("Stated (survey, n = %s)", fmtInt(def.SurveyN))
		}
		stated.Value = valueText(stated, fmtPct)
		revealed.Value = valueText(revealed, fmtPct)
	case analysis.ClaimSayDo:
		ch.Fixed, ch.Ref, ch.RefLabel = &[2]float64{0, 1}, 0.5, "half"
		ch.AxisLabel = "Share of the customers who answered (%)"
		stated.Label, stated.Point, stated.CI = "Said it (stated)", c.Stated, interval(c.StatedCI)
		revealed.Label = fmt.Sprintf("Did it (%s units)", fmtInt(c.Units))
		stated.Value = valueText(stated, fmtPct)
		revealed.Value = valueText(revealed, fmtPct)
		if c.SayDoResult != nil {
			cv.SayDo = sayDoViewOf(i, c, def, level)
		}
	case analysis.ClaimSegmentGap:
		ch.Ref, ch.RefLabel, ch.Tick = 0, "no gap", fmtPP
		ch.AxisLabel = "Difference between the segments (percentage points)"
		stated.Point, stated.CI = c.Stated, interval(c.StatedCI)
		stated.Value = valueText(stated, fmtPP)
		revealed.Value = valueText(revealed, fmtPP)
	case analysis.ClaimTradeoff:
		t := c.Tradeoff
		ch.Ref, ch.RefLabel, ch.Tick = 0, "worth nothing", fmtNum
		stated.Label, stated.Point = "Stated (survey)", c.Stated
		if t != nil {
			ch.AxisLabel = fmt.Sprintf("%s that %s is worth against %s, on %s", t.Cost, t.Preferred, t.Reference, c.Metric)
			stated.Value = valueText(stated, fmtNum) + " " + t.Cost
			if !t.ExchangeRate.Bounded {
				// An unbounded confidence set has no figure worth drawing.
				revealed.Point, revealed.CI = nil, nil
				revealed.Value = "not bounded"
				cv.Note = "The revealed exchange rate is not drawn: " + t.ExchangeRate.NullReason + "."
			} else {
				revealed.Value = valueText(revealed, fmtNum) + " " + t.Cost
			}
		} else {
			stated.Value, revealed.Value = valueText(stated, fmtNum), valueText(revealed, fmtNum)
		}
	default: // effect
		m, _ := metricOf(r, c.Metric)
		f := formatFor(m.Kind, m.Metric)
		ch.Ref, ch.RefLabel, ch.Tick = 0, "no difference", f.diff
		ch.AxisLabel = f.label("Preferred minus other variant, " + c.Metric)
		if m.HigherIsBetter {
			ch.Better = "+"
		} else {
			ch.Better = "-"
		}
		stated.Point = c.Stated
		stated.Label = "Stated effect (survey)"
		stated.Value = valueText(stated, f.diff)
		revealed.Value = valueText(revealed, f.diff)
	}
	ch.Desc = fmt.Sprintf("%s. Stated: %s. Revealed: %s. Intervals are %s confidence intervals.", c.Statement, stated.Value, revealed.Value, level)
	rows := []intervalRow{revealed}
	if stated.Point != nil {
		rows, cv.HasStated = []intervalRow{stated, revealed}, true
	} else if c.Kind != analysis.ClaimTradeoff {
		cv.Note = "The survey states a direction, not a size: only the revealed effect is drawn."
	}
	ch.Rows = rows
	cv.Chart = ch.SVG()
	return cv
}

// tradeoffStats lists a tradeoff claim's exchange rate, with its
// interval, beside the stated cost, and the off-diagonal contrast when the
// design has its cells.
func tradeoffStats(c analysis.ClaimResult, r *analysis.Report) []statLine {
	t := c.Tradeoff
	level := confidence(r.Alpha)
	rate := exchangeText(t.ExchangeRate, t.Cost)
	label := fmt.Sprintf("Revealed: what %s is worth against %s, in %s of %s", t.Preferred, t.Reference, t.Cost, c.Metric)
	if t.ExchangeRate.CI != nil {
		label += " [" + level + " CI, Fieller]"
	}
	out := []statLine{
		{fmt.Sprintf("Stated: what %s is worth against %s, in %s", t.Preferred, t.Reference, t.Cost), fmtNum(t.StatedCost) + " " + t.Cost},
		{label, rate},
	}
	if d := t.OffDiagonal; d != nil {
		m, _ := metricOf(r, c.Metric)
		f := formatFor(m.Kind, c.Metric)
		val := nullText(d.NullReason)
		if d.Estimate != nil {
			val = f.diff(*d.Estimate) + " " + fmtInterval(d.CI, f.diff)
			if d.PValue != nil {
				val += "; " + fmtPEq(d.PValue)
			}
		}
		lbl := fmt.Sprintf("The survey’s own comparison, %s minus %s, on %s", d.Cells[0], d.Cells[1], c.Metric)
		if d.CI != nil {
			lbl += " [" + level + " CI]"
		}
		out = append(out, statLine{lbl, val})
	}
	return out
}

// sayDoViewOf draws the claim's table and lists its paired statistics.
// Every figure is the report's, save sums of its cells (a group's size) and
// complements (the share that did not); the bars' geometry is drawn here.
func sayDoViewOf(i int, c analysis.ClaimResult, def *experiments.Claim, level string) *sayDoView {
	t := c.Table
	answer := "the answer"
	if def != nil && def.Answer != "" {
		answer = "“" + def.Answer + "”"
	}
	why := func(field string) string {
		if r := c.NullReasons[field]; r != "" {
			return "— (" + r + ")"
		}
		return "—"
	}
	// share writes a group's labelled shares; the did-not share is the
	// complement of the report's, so that the two always add up to 100%.
	share := func(did, didnt int64, p *float64, field string) (string, string) {
		if p == nil {
			return "did " + fmtInt(did) + " · " + why(field), "did not " + fmtInt(didnt)
		}
		return "did " + fmtInt(did) + " · " + fmtPct(*p), "did not " + fmtInt(didnt) + " · " + fmtPct(1-*p)
	}
	said := sayDoRow{Label: "Said " + answer, Count: "n = " + fmtInt(t.SaidDid+t.SaidDidnt), Did: t.SaidDid, Didnt: t.SaidDidnt, Null: c.NullReasons["did_given_said"]}
	said.DidText, said.DidntText = share(t.SaidDid, t.SaidDidnt, c.DidGivenSaid, "did_given_said")
	others := sayDoRow{Label: "Did not say it", Count: "n = " + fmtInt(t.DidntSayDid+t.DidntSayDidnt), Did: t.DidntSayDid, Didnt: t.DidntSayDidnt, Null: c.NullReasons["did_given_not_said"]}
	others.DidText, others.DidntText = share(t.DidntSayDid, t.DidntSayDidnt, c.DidGivenNotSaid, "did_given_not_said")

	kappa := why("kappa")
	if c.Kappa != nil {
		kappa = fmtNum(*c.Kappa) + " " + fmtInterval(c.KappaCI, fmtNum)
	}
	gap := why("gap")
	if c.Gap != nil {
		gap = fmtPP(*c.Gap) + " " + fmtInterval(c.GapCI, fmtPP)
		if c.GapPValue != nil {
			gap += ", " + fmtPEq(c.GapPValue)
		}
	}
	given := func(p *float64, ci *analysis.Interval, field string) string {
		if p == nil {
			return why(field)
		}
		return fmtPct(*p) + " " + fmtInterval(ci, fmtPct)
	}
	v := &sayDoView{Stats: []statLine{
		{"Agreement of saying and doing beyond chance (Cohen’s κ; 0 is chance, 1 is perfect)", kappa},
		{"Did it, among those who said " + answer, given(c.DidGivenSaid, c.DidGivenSaidCI, "did_given_said")},
		{"Did it, among the others", given(c.DidGivenNotSaid, c.DidGivenNotSaidCI, "did_given_not_said")},
		{"Gap: share who did it minus share who said it", gap},
	}}
	for j := range v.Stats {
		if !strings.HasPrefix(v.Stats[j].Value, "—") {
			v.Stats[j].Label += " [" + level + " CI]"
		}
	}
	ch := sayDoChart{
		ID:        fmt.Sprintf("say-do-%d", i),
		Title:     "What the customers who said " + answer + " did, and what the others did: " + c.ID,
		AxisLabel: "Share of each group that did it (" + c.Metric + ")",
		Rows:      []sayDoRow{said, others},
		DidKey:    "did it (" + c.Metric + ")",
		DidntKey:  "did not",
		Overall:   c.Revealed,
	}
	if c.Revealed != nil {
		ch.OverallLabel = "everyone: " + fmtPct(*c.Revealed)
	}
	var desc []string
	for _, r := range ch.Rows {
		if r.Did+r.Didnt == 0 {
			desc = append(desc, r.Label+": no units ("+r.Null+")")
			continue
		}
		desc = append(desc, fmt.Sprintf("%s (%s): %s; %s", r.Label, r.Count, r.DidText, r.DidntText))
	}
	ch.Desc = strings.Join(desc, ". ") + ". Cohen’s κ: " + kappa + "."
	v.Chart = ch.SVG()
	return v
}

func valueText(r intervalRow, f func(float64) string) string {
	if r.Point == nil {
		return "—"
	}
	s := f(*r.Point)
	if r.CI != nil {
		s += " [" + f(r.CI[0]) + ", " + f(r.CI[1]) + "]"
	}
	return s
}

func metricViewOf(i int, m analysis.MetricReport, r *analysis.Report, history []snapshotReport) metricView {
	f := formatFor(m.Kind, m.Metric)
	mv := metricView{Key: m.Metric, Kind: string(m.Kind), Direction: "higher is better"}
	if !m.HigherIsBetter {
		mv.Direction = "lower is better"
	}
	comps := map[string]analysis.Comparison{}
	for _, c := range m.Comparisons {
		comps[c.Variant] = c
	}
	for _, vr := range m.Variants {
		row := armRow{Variant: vr.Variant, Units: fmtInt(vr.Units), Mean: f.value(vr.Mean), MeanCI: fmtInterval(vr.CI, f.value)}
		c, ok := comps[vr.Variant]
		if !ok {
			row.Control = true
			mv.Rows = append(mv.Rows, row)
			continue
		}
		row.Effect, row.EffectCI = f.diff(c.AbsEffect), fmtInterval(c.AbsCI, f.diff)
		row.Rel, row.RelCI = "—", fmtInterval(c.RelCI, fmtRel)
		if c.RelEffect != nil {
			row.Rel = fmtRel(*c.RelEffect)
		}
		row.P, row.PAdj, row.Chance = fmtP(c.PValue), fmtP(c.PAdjusted), fmtChance(c.ChanceToWin)
		if c.PValue == nil && c.PNullReason != "" {
			row.P = "— (" + c.PNullReason + ")"
		}
		row.Significant = c.Significant
		switch {
		case c.Significant:
			row.Need = "decided"
		case c.UnitsNeeded != nil:
			row.Need = fmtInt(*c.UnitsNeeded)
		default:
			row.Need = "—"
		}
		mv.Rows = append(mv.Rows, row)
	}
	ci := "CI"
	if r.Sequential != nil {
		ci = "always-valid CI"
	}
	forest := intervalChart{
		ID:        fmt.Sprintf("forest-%d", i),
		Title:     fmt.Sprintf("Effect on %s of each variant against the control", m.Metric),
		AxisLabel: f.label("Difference from control, " + m.Metric),
		RefLabel:  "no difference",
		Tick:      f.diff,
		Better:    "+",
	}
	if !m.HigherIsBetter {
		forest.Better = "-"
	}
	var desc []string
	for _, c := range m.Comparisons {
		row := intervalRow{Label: c.Variant + " vs " + c.Control, Point: ptr(c.AbsEffect), CI: interval(c.AbsCI), Shape: shapeCircle, Class: "s-effect"}
		if len([]rune(row.Label)) > maxRowLabel {
			// A factorial's cell keys are long: the title names the control.
			row.Label = c.Variant
			forest.Title = fmt.Sprintf("Effect on %s of each variant against the control, %s", m.Metric, c.Control)
		}
		row.Value = valueText(row, f.diff)
		if c.Significant {
			row.Value += " *"
			row.Class += " significant"
		}
		forest.Rows = append(forest.Rows, row)
		desc = append(desc, c.Variant+" vs "+c.Control+": "+row.Value)
	}
	forest.Desc = fmt.Sprintf("Points are effects, lines their %s %s; * marks a significant effect after correction. %s", confidence(r.Alpha), ci, strings.Join(desc, "; "))
	if len(forest.Rows) > 0 {
		mv.Forest = forest.SVG()
	}
	mv.Over = overTime(i, m, f, r, history)
	return mv
}

// snapshotReport is a stored report decoded, oldest first.
type snapshotReport struct {
	snap experiments.Snapshot
	r    *analysis.Report
}

func decodeSnapshots(snaps []experiments.Snapshot) []snapshotReport {
	var out []snapshotReport
	for _, s := range snaps {
		var r analysis.Report
		if json.Unmarshal(s.Report, &r) == nil {
			out = append(out, snapshotReport{s, &r})
		}
	}
	slices.Reverse(out) // the store gives newest first
	return out
}

func overTime(i int, m analysis.MetricReport, f valueFormat, r *analysis.Report, history []snapshotReport) template.HTML {
	if len(history) == 0 {
		return ""
	}
	bound := "confidence interval"
	if r.Sequential != nil {
		bound = "always-valid confidence sequence"
	}
	ch := timeChart{
		ID:     fmt.Sprintf("over-time-%d", i),
		Title:  fmt.Sprintf("Cumulative effect on %s over time", m.Metric),
		YLabel: f.label("Effect on " + m.Metric),
		Tick:   f.diff,
	}
	for _, c := range m.Comparisons {
		s := series{Label: fmt.Sprintf("%s vs %s, with its %s %s", c.Variant, c.Control, confidence(r.Alpha), bound)}
		for _, h := range history {
			hm, ok := metricOf(h.r, m.Metric)
			if !ok {
				continue
			}
			for _, hc := range hm.Comparisons {
				if hc.Variant == c.Variant {
					s.Points = append(s.Points, seriesPoint{At: h.snap.ComputedAt, Value: hc.AbsEffect, CI: interval(hc.AbsCI)})
				}
			}
		}
		if len(s.Points) > 0 {
			ch.Series = append(ch.Series, s)
		}
	}
	if len(ch.Series) == 0 {
		return ""
	}
	ch.Desc = fmt.Sprintf("The estimated effect at each of %d stored snapshots, with the band of its %s.", len(history), bound)
	return ch.SVG()
}

func segmentsOf(r *analysis.Report) []segmentView {
	var order []*segmentView
	byAttr := map[string]*segmentView{}
	for _, s := range r.Segments {
		sv := byAttr[s.Attribute]
		if sv == nil {
			sv = &segmentView{Attribute: s.Attribute}
			for _, m := range r.Metrics {
				for _, c := range m.Comparisons {
					sv.Columns = append(sv.Columns, fmt.Sprintf("%s: %s vs %s", m.Metric, c.Variant, c.Control))
				}
			}
			byAttr[s.Attribute] = sv
			order = append(order, sv)
		}
		if s.Report == nil {
			continue
		}
		var units int64
		for _, v := range s.SRM.Variants {
			units += v.Observed
		}
		row := segmentRow{Value: s.Value, Units: fmtInt(units)}
		for _, m := range r.Metrics {
			sm, _ := metricOf(s.Report, m.Metric)
			f := formatFor(m.Kind, m.Metric)
			for _, c := range m.Comparisons {
				cell := segmentCell{Effect: "—"}
				for _, sc := range sm.Comparisons {
					if sc.Variant == c.Variant {
						cell = segmentCell{f.diff(sc.AbsEffect), fmtInterval(sc.AbsCI, f.diff), fmtPEq(sc.PValue)}
					}
				}
				row.Cells = append(row.Cells, cell)
			}
		}
		sv.Rows = append(sv.Rows, row)
	}
	for _, h := range r.Heterogeneity {
		sv := byAttr[h.Attribute]
		if sv == nil {
			continue
		}
		p := h.PValue
		verdict := "no evidence that the effect differs between segments"
		if p < r.Alpha {
			verdict = "the effect differs between segments"
		}
		stat := "z = " + fmtNum(h.Statistic)
		if h.Method == "cochran_q" {
			stat = fmt.Sprintf("Cochran’s Q = %s, df = %d", fmtNum(h.Statistic), h.DF)
			if h.I2 != nil {
				stat += ", I² = " + fmtPct(*h.I2)
			}
		}
		sv.Heterogeneity = append(sv.Heterogeneity, fmt.Sprintf("%s, %s vs control: %s (%s, %s).", h.Metric, h.Variant, verdict, stat, fmtPEq(&p)))
	}
	out := make([]segmentView, len(order))
	for i, sv := range order {
		out[i] = *sv
	}
	return out
}

// patterns name and explain each now_vs_later pattern; the badge's icon and
// text differ, so the pattern never rests on colour.
var patterns = map[string]struct{ label, icon, text string }{
	analysis.PatternLasts:        {"Lasts", "⇉", "better now and still better later"},
	analysis.PatternReverses:     {"Reverses", "⇆", "better now, worse later: customers get what they ask for today and pay for it later"},
	analysis.PatternFades:        {"Fades", "↘", "better now; later not decided yet"},
	analysis.PatternDelayed:      {"Delayed", "↗", "not decided now; better later"},
	analysis.PatternInconclusive: {"No pattern yet", "?", "neither horizon decides one of the patterns yet"},
}

// nowLaterViewOf shows the preferred variant against the other on the
// metric of now and the metric of later. Every figure is the report's.
func nowLaterViewOf(i int, c analysis.ClaimResult, def *experiments.Claim, r *analysis.Report, e *experiments.Experiment) *nowLaterView {
	nl := c.NowVsLater
	preferred, other := "the preferred variant", "the other"
	if def != nil {
		preferred, other = def.Preferred, def.Other
		if other == "" && e != nil {
			other = e.Control()
		}
	}
	p := patterns[nl.Pattern]
	if p.label == "" { // a pattern newer than this page
		p = patterns[analysis.PatternInconclusive]
		nl.Pattern = analysis.PatternInconclusive
	}
	v := &nowLaterView{Pattern: nl.Pattern, PatternLabel: p.label, PatternIcon: p.icon, PatternText: p.text}
	level := confidence(r.Alpha)
	ci := level + " CI"
	if r.Sequential != nil {
		ci = level + " always-valid CI"
	}
	type side struct {
		name  string
		h     *analysis.Horizon
		shape shape
		class string
	}
	sides := []side{{"Now", nl.Now, shapeCircle, "s-now"}, {"Later", nl.Later, shapeSquare, "s-later"}}
	var rows []intervalRow
	var formats []valueFormat
	var better, names, keys []string
	for _, s := range sides {
		if s.h == nil {
			continue
		}
		m, _ := metricOf(r, s.h.Metric)
		f := formatFor(m.Kind, s.h.Metric)
		label := metricLabel(s.h.Metric, e)
		row := intervalRow{Label: s.name + ": " + label, Point: s.h.Effect, CI: interval(s.h.CI), Shape: s.shape, Class: s.class}
		hv := horizonView{Label: fmt.Sprintf("%s: %s, %s minus %s [%s]", s.name, label, preferred, other, ci)}
		if s.h.Effect == nil {
			row.Value = "— (" + s.h.Reason + ")"
			hv.Value = row.Value
		} else {
			row.Value = valueText(row, f.diff)
			hv.Value = row.Value
			if s.h.PValue != nil {
				hv.Value += "; " + fmtPEq(s.h.PValue)
			}
			if s.h.PAdjusted != nil {
				hv.Value += ", adjusted " + fmtPEq(ptr(math.Min(1, *s.h.PAdjusted)))
			}
		}
		hv.Notes = maturityNotes(e, m)
		v.Horizons = append(v.Horizons, hv)
		rows = append(rows, row)
		formats = append(formats, f)
		b := "+"
		if !m.HigherIsBetter {
			b = "-"
		}
		better = append(better, b)
		names, keys = append(names, strings.ToLower(s.name)), append(keys, s.h.Metric)
	}
	hasPoint := false
	for _, row := range rows {
		hasPoint = hasPoint || row.Point != nil
	}
	if !hasPoint {
		return v
	}
	chart := func(id, title, axis string, rows []intervalRow, f valueFormat, better string) template.HTML {
		ch := intervalChart{ID: id, Title: title, Rows: rows, AxisLabel: f.label(axis), Ref: 0, RefLabel: "no difference", Tick: f.diff, Better: better}
		var d []string
		for _, row := range rows {
			d = append(d, row.Label+": "+row.Value)
		}
		ch.Desc = fmt.Sprintf("%s minus %s. %s. Points are effects, lines their %s. Pattern: %s, %s.", preferred, other, strings.Join(d, "; "), ci, p.label, p.text)
		return ch.SVG()
	}
	title := fmt.Sprintf("%s against %s, now and later: %s", preferred, other, c.ID)
	if len(rows) == 2 && sameUnits(r, e, keys[0], keys[1]) {
		b := better[0]
		if better[1] != b {
			b = ""
		}
		axis := fmt.Sprintf("%s minus %s, %s and %s", preferred, other, keys[0], keys[1])
		v.Charts = []template.HTML{chart(fmt.Sprintf("now-later-%d", i), title, axis, rows, formats[0], b)}
		return v
	}
	for j, row := range rows {
		axis := fmt.Sprintf("%s minus %s, %s", preferred, other, keys[j])
		id := fmt.Sprintf("now-later-%d-%s", i, names[j])
		v.Charts = append(v.Charts, chart(id, title+" ("+names[j]+")", axis, []intervalRow{row}, formats[j], better[j]))
	}
	return v
}

// sameUnits reports whether two metrics' effects may share an axis: both
// binary (percentage points), or the same outcomes aggregated the same way.
func sameUnits(r *analysis.Report, e *experiments.Experiment, a, b string) bool {
	ma, _ := metricOf(r, a)
	mb, _ := metricOf(r, b)
	if ma.Kind != mb.Kind {
		return false
	}
	if ma.Kind == analysis.Binary {
		return true
	}
	if e == nil {
		return false
	}
	da, okA := e.Metric(a)
	db, okB := e.Metric(b)
	return okA && okB && da.Kind != experiments.MetricRatio && db.Kind != experiments.MetricRatio &&
		da.SourceKey() == db.SourceKey() && da.AggregationOrDefault() == db.AggregationOrDefault()
}

// windowText writes a metric's window as people read it: "0h–24h",
// "from 7d", or "since exposure" when every outcome after exposure counts.
func windowText(w *experiments.Window) string {
	if w == nil || (w.From == 0 && w.To == nil) {
		return "since exposure"
	}
	from, to := windowBounds(*w)
	if to == "" {
		return "from " + from
	}
	return from + "–" + to
}

// metricLabel names a metric with its window, which is what tells the
// metric of now from the metric of later: "csat_24h (0h–24h)". A metric
// without one is its key alone, to keep chart labels short.
func metricLabel(key string, e *experiments.Experiment) string {
	if e == nil {
		return key
	}
	m, ok := e.Metric(key)
	if w := windowText(m.Window); ok && m.Kind != experiments.MetricRatio && w != "since exposure" {
		return key + " (" + w + ")"
	}
	return key
}

// definitionOf says what a metric reads when it is more than its own
// outcomes since exposure, summed: "reads csat, 0h–24h after exposure,
// last value".
func definitionOf(e *experiments.Experiment, key string) string {
	if e == nil {
		return ""
	}
	m, ok := e.Metric(key)
	if !ok || (m.Source == "" && m.Window == nil && m.Aggregation == "") {
		return ""
	}
	parts := []string{"reads " + m.SourceKey()}
	if w := windowText(m.Window); w == "since exposure" {
		parts = append(parts, "every outcome since exposure")
	} else {
		parts = append(parts, "outcomes "+w+" after exposure")
	}
	agg := string(m.AggregationOrDefault())
	if m.AggregationOrDefault() == experiments.AggPeakEnd && m.Peak == "min" {
		agg += " (peak is the minimum)"
	}
	return strings.Join(append(parts, "aggregated by "+agg), ", ")
}

// maturityNotes say which exposed units a metric does not count yet, or at
// all, as the report counted them.
func maturityNotes(e *experiments.Experiment, m analysis.MetricReport) []string {
	var def experiments.Metric
	if e != nil {
		def, _ = e.Metric(m.Metric)
	}
	var out []string
	if n := m.ImmatureUnits; n > 0 {
		window := "window"
		if def.Window != nil && def.Window.To != nil {
			window = spanAdjective(*def.Window.To) + " window"
		}
		if n == 1 {
			out = append(out, fmt.Sprintf("1 unit still inside its %s is not counted yet, in any variant.", window))
		} else {
			out = append(out, fmt.Sprintf("%s units still inside their %s are not counted yet, in any variant.", fmtInt(n), window))
		}
	}
	if n := m.UnitsWithoutValue; n > 0 {
		why := ""
		if def.Key != "" && !def.AggregationOrDefault().HasValueWithout() {
			why = fmt.Sprintf(": the %s aggregation needs at least one", def.AggregationOrDefault())
		}
		if n == 1 {
			out = append(out, fmt.Sprintf("1 unit without an outcome in the window is left out%s.", why))
		} else {
			out = append(out, fmt.Sprintf("%s units without an outcome in the window are left out%s.", fmtInt(n), why))
		}
	}
	return out
}

// spanAdjective writes a span as an adjective: "90-day", "24-hour".
func spanAdjective(s experiments.Span) string {
	t := spanText(s)
	unit := map[byte]string{'d': "-day", 'h': "-hour", 'm': "-minute"}[t[len(t)-1]]
	return t[:len(t)-1] + unit
}
