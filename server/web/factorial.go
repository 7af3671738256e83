package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// factorialView is what a factorial experiment adds to a metric: the
// interaction plot of its cell means, the report's contrasts as tables and
// its exchange rates as sentences. Every figure is the report's; the plot
// only averages cell means, with equal weights, to draw them.
type factorialView struct {
	Plot         template.HTML
	PlotNote     string
	MainEffects  []effectRow
	Interactions []effectRow
	Slopes       []effectRow
	Rates        []string
}

// effectRow is one contrast as a table row; Estimate is "— (reason)" when
// the report has none.
type effectRow struct {
	Label, Reference, Estimate, CI, P, PAdj string
}

func factorialViewOf(i int, m analysis.MetricReport, r *analysis.Report, e *experiments.Experiment) *factorialView {
	fe := m.FactorialEffects
	if fe == nil {
		return nil
	}
	f := formatFor(m.Kind, m.Metric)
	row := func(label, ref string, ef analysis.Effect, diff func(float64) string) effectRow {
		out := effectRow{Label: label, Reference: ref, Estimate: "—", CI: fmtInterval(ef.CI, diff), P: fmtP(ef.PValue), PAdj: "—"}
		if ef.PAdjusted != nil {
			out.PAdj = fmtP(ptr(math.Min(1, *ef.PAdjusted)))
		}
		switch {
		case ef.Estimate == nil:
			out.Estimate, out.CI = nullText(ef.NullReason), ""
		case ef.CI == nil && ef.NullReason != "":
			out.Estimate, out.CI = diff(*ef.Estimate), nullText(ef.NullReason)
		default:
			out.Estimate = diff(*ef.Estimate)
		}
		return out
	}
	v := &factorialView{}
	refs := map[[2]string]string{}
	for _, me := range fe.MainEffects {
		refs[[2]string{me.Factor, me.Level}] = me.Reference
		v.MainEffects = append(v.MainEffects, row(me.Factor+" = "+me.Level, me.Factor+" = "+me.Reference, me.Effect, f.diff))
	}
	for _, x := range fe.Interactions {
		v.Interactions = append(v.Interactions, row(
			fmt.Sprintf("%s = %s × %s = %s", x.Factors[0], x.Levels[0], x.Factors[1], x.Levels[1]),
			fmt.Sprintf("%s = %s × %s = %s", x.Factors[0], x.References[0], x.Factors[1], x.References[1]), x.Effect, f.diff))
	}
	for _, s := range fe.Slopes {
		v.Slopes = append(v.Slopes, row(s.Factor+", per unit", "—", s.Effect, f.diff))
	}
	level := confidence(r.Alpha)
	for _, x := range fe.ExchangeRates {
		v.Rates = append(v.Rates, exchangeSentence(x, refs[[2]string{x.Factor, x.Level}], m.Metric, level))
	}
	v.Plot, v.PlotNote = interactionPlot(i, m, f, e)
	return v
}

func nullText(reason string) string {
	if reason == "" {
		return "—"
	}
	return "— (" + reason + ")"
}

// exchangeSentence says what a level is worth in units of the cost factor:
// "human is worth 9.74 wait_minutes (95% CI 6 to 16.6) against bot, on
// csat", or why there is no bounded figure.
func exchangeSentence(x analysis.ExchangeRate, ref, metric, level string) string {
	against := ""
	if ref != "" {
		against = " against " + ref
	}
	switch {
	case x.Estimate == nil:
		return fmt.Sprintf("What %s is worth in %s%s, on %s, cannot be estimated: %s.", x.Level, x.Cost, against, metric, x.NullReason)
	case !x.Bounded || x.CI == nil:
		return fmt.Sprintf("What %s is worth in %s%s, on %s, has no bounded interval yet: %s.", x.Level, x.Cost, against, metric, x.NullReason)
	}
	return fmt.Sprintf("%s is worth %s %s (%s CI %s to %s)%s, on %s.", x.Level, fmtNum(*x.Estimate), x.Cost, level,
		fmtNum(x.CI[0]), fmtNum(x.CI[1]), against, metric)
}

// exchangeText is an exchange rate in units of cost with its interval:
// "9.74 wait_minutes [6, 16.6]", or the reason there is none.
func exchangeText(x analysis.ExchangeRate, cost string) string {
	switch {
	case x.Estimate == nil:
		return nullText(x.NullReason)
	case !x.Bounded || x.CI == nil:
		return "not bounded (" + x.NullReason + ")"
	}
	return fmtNum(*x.Estimate) + " " + cost + " " + fmtInterval(x.CI, fmtNum)
}

// interactionPlot draws the cell means of the first two factors: the
// levels of the second across, one line per level of the first. Means of
// cells that differ only in other factors are averaged with equal weights,
// as the main effects weigh them; a point any of whose cells has no units
// is left out. It returns the chart and a note on the averaging.
func interactionPlot(i int, m analysis.MetricReport, f valueFormat, e *experiments.Experiment) (template.HTML, string) {
	if e == nil || len(e.Factors) == 0 {
		return "", ""
	}
	cells, err := analysis.FactorialCells(experiments.AnalysisFactors(e.Factors))
	if err != nil {
		return "", ""
	}
	byCell := map[string]analysis.VariantReport{}
	for _, vr := range m.Variants {
		byCell[vr.Variant] = vr
	}
	lineF, acrossF := 0, 1
	if len(e.Factors) == 1 {
		lineF, acrossF = -1, 0
	}
	across := e.Factors[acrossF]
	ch := lineChart{
		ID:     fmt.Sprintf("interaction-%d", i),
		Title:  fmt.Sprintf("Mean %s in each cell, by %s", m.Metric, across.Key),
		XLabel: across.Key,
		YLabel: "Mean " + m.Metric,
		Tick:   f.value,
	}
	if m.Kind == analysis.Binary {
		ch.YLabel = "Share " + m.Metric + " (%)"
	}
	numeric := across.Numeric
	for _, l := range across.Levels {
		if l.Number == nil {
			numeric = false
		}
	}
	for j, l := range across.Levels {
		x := float64(j)
		if numeric {
			x = *l.Number
		}
		ch.X = append(ch.X, xTick{Label: l.Text, At: x})
	}
	lineLevels := []string{m.Metric}
	if lineF >= 0 {
		ch.Title = fmt.Sprintf("Mean %s in each cell: %s across, one line per %s", m.Metric, across.Key, e.Factors[lineF].Key)
		lineLevels = nil
		for _, l := range e.Factors[lineF].Levels {
			lineLevels = append(lineLevels, l.Text)
		}
	}
	// One cell per point when the plot's factors are all the factors.
	single := len(e.Factors) <= 2
	var desc []string
	for _, ll := range lineLevels {
		line := plotLine{Label: ll}
		if lineF >= 0 {
			line.Label = e.Factors[lineF].Key + " = " + ll
		}
		var pts []string
		for _, x := range across.Levels {
			sum, n, ok := 0.0, 0, true
			var ci *[2]float64
			for _, c := range cells {
				if c.Levels[acrossF] != x.Text || (lineF >= 0 && c.Levels[lineF] != ll) {
					continue
				}
				vr, found := byCell[c.Key]
				if !found || vr.Units == 0 {
					ok = false
					continue
				}
				sum, n = sum+vr.Mean, n+1
				ci = interval(vr.CI)
			}
			if !ok || n == 0 {
				line.Points = append(line.Points, plotPoint{})
				pts = append(pts, x.Text+": no units")
				continue
			}
			p := plotPoint{Y: ptr(sum / float64(n))}
			if single {
				p.CI = ci
			}
			line.Points = append(line.Points, p)
			pts = append(pts, x.Text+": "+f.value(*p.Y))
		}
		ch.Lines = append(ch.Lines, line)
		desc = append(desc, fmt.Sprintf("%s (%s)", line.Label, strings.Join(pts, ", ")))
	}
	note := ""
	if !single {
		var others []string
		for k, fc := range e.Factors {
			if k != lineF && k != acrossF {
				others = append(others, fc.Key)
			}
		}
		note = "Each point averages the cell means over " + strings.Join(others, " and ") + ", with equal weights."
	}
	ch.Desc = fmt.Sprintf("Mean %s by %s. %s.", m.Metric, across.Key, strings.Join(desc, "; "))
	if lineF >= 0 {
		ch.Desc += " Parallel lines mean the effect of " + e.Factors[lineF].Key + " does not depend on " + across.Key + "."
	}
	if note != "" {
		ch.Desc += " " + note
	}
	return ch.SVG(), note
}

// effectTable is one table of contrasts, for the "effects" template.
type effectTable struct {
	Caption string
	Rows    []effectRow
	Level   string
}

func newEffectTable(caption string, rows []effectRow, level string) effectTable {
	return effectTable{caption, rows, level}
}
