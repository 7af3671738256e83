package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/revealed-ab/revealed/analysis"
)

// writeJSON writes the report exactly as the server serves it: one line,
// without HTML escaping, so that "p < 0.001" in summaries reads as written.
func writeJSON(w io.Writer, r *analysis.Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// writeText writes the report for people: a table per metric, the SRM
// check, the claims and their sentences.
func writeText(w io.Writer, r *analysis.Report, d *data) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	level := fmt.Sprintf("%g%%", 100*(1-r.Alpha))

	title := r.Experiment
	if title == "" {
		title = "(unnamed)"
	}
	p("Experiment %s: %d variants, alpha %g, %s correction over %d tests\n", title, len(r.SRM.Variants), r.Alpha, r.Correction, r.FamilySize)
	switch {
	case d.events:
		p("Input: events, %d rows, %d units\n", d.rows, d.units)
	case d.perUnit:
		p("Input: per-unit rows, %d rows, %d units\n", d.rows, d.units)
	default:
		p("Input: summary rows, %d rows\n", d.rows)
	}
	for _, n := range d.notes {
		p("Note: %s\n", n)
	}
	if r.Sequential != nil {
		p("Sequential: always-valid confidence sequences, N* = %g\n", r.Sequential.NStar)
	}
	p("\n")
	writeSRM(bw, r.SRM)
	writeMetrics(bw, r, level, "")

	if len(r.Claims) > 0 {
		p("\nClaims (verdicts use the adjusted p-value)\n")
		for _, c := range r.Claims {
			verdict := c.Verdict
			if c.Magnitude != "" {
				verdict += ", " + c.Magnitude
			}
			p("  %s (%s): %s; adjusted %s\n", c.ID, c.Kind, strings.ToUpper(verdict), pText(c.PAdjusted))
			if c.Statement != "" {
				src := ""
				if c.Source != "" {
					src = " (" + c.Source + ")"
				}
				p("    stated: %q%s\n", c.Statement, src)
			}
			if c.SayDoResult != nil && c.Units > 0 {
				writeSayDoTable(bw, c, level)
			}
			p("    %s\n", c.Summary)
		}
	}
	for _, s := range r.Segments {
		p("\nSegment %s=%s (exploratory, corrected within the segment)\n", s.Attribute, s.Value)
		writeMetrics(bw, s.Report, level, "  ")
	}
	if len(r.Heterogeneity) > 0 {
		p("\nHeterogeneity (does the effect differ between segments?)\n")
		for _, h := range r.Heterogeneity {
			stat := fmt.Sprintf("z = %.2f", h.Statistic)
			if h.Method == "cochran_q" {
				stat = fmt.Sprintf("Q = %.2f, df %d", h.Statistic, h.DF)
				if h.I2 != nil {
					stat += fmt.Sprintf(", I² = %.0f%%", 100**h.I2)
				}
			}
			p("  %s, %s, %s: %s, %s (%s)\n", h.Attribute, h.Metric, h.Variant, stat, pText(&h.PValue), strings.Join(h.Segments, ", "))
		}
	}
	for _, warn := range r.Warnings {
		p("\nwarning: %s\n", warn)
	}
	return bw.Flush()
}

// writeSayDoTable writes a say_do claim's table of said × did and Cohen's
// κ, which the sentence below it puts in words.
func writeSayDoTable(w io.Writer, c analysis.ClaimResult, level string) {
	t := c.Table
	n := strconv.FormatInt
	table(w, "    ", [][]string{
		{"", "did", "did not", "units"},
		{"said it", n(t.SaidDid, 10), n(t.SaidDidnt, 10), n(t.SaidDid+t.SaidDidnt, 10)},
		{"did not say it", n(t.DidntSayDid, 10), n(t.DidntSayDidnt, 10), n(t.DidntSayDid+t.DidntSayDidnt, 10)},
	})
	if c.Kappa == nil {
		fmt.Fprintf(w, "    κ: - (%s)\n", c.NullReasons["kappa"])
		return
	}
	fmt.Fprintf(w, "    κ = %s, %s CI %s\n", fmtNum(*c.Kappa, false), level, ciText(c.KappaCI, false, false))
}

func writeSRM(w io.Writer, s analysis.SRM) {
	status := map[string]string{
		analysis.SRMOK:               "ok",
		analysis.SRMMismatch:         "MISMATCH: the traffic split is not the configured one; results are suspect",
		analysis.SRMNotEnoughTraffic: "not enough traffic to check",
	}[s.Status]
	fmt.Fprintf(w, "Sample ratio: %s (%s, chi-square %.2f, df %d)\n", status, pText(&s.PValue), s.ChiSq, s.DF)
	var rows [][]string
	for _, v := range s.Variants {
		rows = append(rows, []string{v.Variant, fmt.Sprintf("%d units", v.Observed),
			fmt.Sprintf("expected %.1f", v.Expected), fmt.Sprintf("weight %.3g", v.Weight)})
	}
	table(w, "  ", rows)
}

// table writes rows with aligned columns and no trailing spaces.
func table(w io.Writer, indent string, rows [][]string) {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	for _, r := range rows {
		// Every row has every cell: tabwriter aligns a column only over
		// consecutive lines that have it.
		fmt.Fprintf(tw, "%s%s%s\t\n", indent, strings.Join(r, "\t"), strings.Repeat("\t", cols-len(r)))
	}
	tw.Flush()
	for line := range strings.Lines(b.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
}

func writeMetrics(w io.Writer, r *analysis.Report, level, indent string) {
	for _, m := range r.Metrics {
		dir := "higher is better"
		if !m.HigherIsBetter {
			dir = "lower is better"
		}
		fmt.Fprintf(w, "\n%s%s (%s, %s)\n", indent, m.Metric, m.Kind, dir)
		rows := [][]string{{"variant", "units", "mean", level + " CI", "effect", level + " CI",
			"rel. effect", level + " CI", "p-value", "adjusted", "P(better)", "verdict"}}
		cmp := map[string]analysis.Comparison{}
		for _, c := range m.Comparisons {
			cmp[c.Variant] = c
		}
		var notes []string
		for _, v := range m.Variants {
			c, isTreatment := cmp[v.Variant]
			name := v.Variant
			if !isTreatment && name != "control" {
				name += " (control)"
			}
			row := []string{name, strconv.FormatInt(v.Units, 10), fmtNum(v.Mean, false), ciText(v.CI, false, false)}
			if isTreatment {
				rel, ctw := "", ""
				if c.RelEffect != nil {
					rel = fmt.Sprintf("%+.1f%%", 100**c.RelEffect)
				}
				if c.ChanceToWin != nil {
					ctw = fmt.Sprintf("%.1f%%", 100**c.ChanceToWin)
				}
				row = append(row, fmtNum(c.AbsEffect, true), ciText(c.AbsCI, true, false), rel, ciText(c.RelCI, true, true),
					pText(c.PValue), pText(c.PAdjusted), ctw, verdictMark(m, c))
				notes = append(notes, comparisonNotes(c)...)
			}
			rows = append(rows, row)
		}
		table(w, indent+"  ", rows)
		for _, n := range notes {
			fmt.Fprintf(w, "%s  note: %s\n", indent, n)
		}
		if m.FactorialEffects != nil {
			writeFactorial(w, m, level, indent)
		}
	}
}

// writeFactorial writes a factorial metric's contrasts and exchange rates.
func writeFactorial(w io.Writer, m analysis.MetricReport, level, indent string) {
	rows := [][]string{{"contrast", "against", "estimate", level + " CI", "p-value", "adjusted", ""}}
	for _, c := range m.Contrasts() {
		est := "-"
		if c.Estimate != nil {
			est = fmtNum(*c.Estimate, true)
		}
		rows = append(rows, []string{c.Label, c.Reference, est, ciText(c.CI, true, false), pText(c.PValue), pText(c.PAdjusted), c.NullReason})
	}
	fmt.Fprintf(w, "%s  factorial contrasts (cells weighted equally):\n", indent)
	table(w, indent+"    ", rows)
	for _, x := range m.ExchangeRates {
		switch {
		case x.Estimate == nil:
			fmt.Fprintf(w, "%s  exchange rate %s=%s in %s: n/a (%s)\n", indent, x.Factor, x.Level, x.Cost, x.NullReason)
		case x.CI == nil:
			fmt.Fprintf(w, "%s  exchange rate: %s=%s is worth %s %s; not bounded: %s\n", indent, x.Factor, x.Level, fmtNum(*x.Estimate, false), x.Cost, x.NullReason)
		default:
			fmt.Fprintf(w, "%s  exchange rate: %s=%s is worth %s %s (%s CI %s to %s, Fieller)\n", indent, x.Factor, x.Level,
				fmtNum(*x.Estimate, false), x.Cost, level, fmtNum(x.CI[0], false), fmtNum(x.CI[1], false))
		}
	}
}

// verdictMark says whether a comparison is a significant improvement.
func verdictMark(m analysis.MetricReport, c analysis.Comparison) string {
	switch {
	case c.PValue == nil:
		return "n/a"
	case !c.Significant:
		return "not significant"
	case (c.AbsEffect > 0) == m.HigherIsBetter:
		return "BETTER *"
	}
	return "WORSE *"
}

func comparisonNotes(c analysis.Comparison) []string {
	var out []string
	if c.PNullReason != "" {
		out = append(out, fmt.Sprintf("%s: no test (%s)", c.Variant, c.PNullReason))
	} else if c.RelNullReason != "" {
		out = append(out, fmt.Sprintf("%s: no relative effect (%s)", c.Variant, c.RelNullReason))
	}
	if c.CUPED != nil {
		s := fmt.Sprintf("%s: CUPED theta = %.4g", c.Variant, c.CUPED.Theta)
		if c.CUPED.VarianceReduction != nil {
			s += fmt.Sprintf(", variance reduced by %.1f%%", 100**c.CUPED.VarianceReduction)
		}
		out = append(out, s)
	}
	if c.UnitsNeeded != nil {
		s := fmt.Sprintf("%s: not decided; about %d more units for 80%% power at the observed effect", c.Variant, *c.UnitsNeeded)
		if c.MDE != nil {
			s += fmt.Sprintf(" (detectable now: %s)", fmtNum(*c.MDE, false))
		}
		out = append(out, s)
	}
	return out
}

// pText formats a p-value for people; the JSON and CSV keep the exact value.
func pText(p *float64) string {
	if p == nil {
		return "-"
	}
	return analysis.FormatP(*p)
}

func ciText(ci *analysis.Interval, signed, percent bool) string {
	if ci == nil {
		return ""
	}
	if percent {
		return fmt.Sprintf("[%+.1f%%, %+.1f%%]", 100*ci[0], 100*ci[1])
	}
	return fmt.Sprintf("[%s, %s]", fmtNum(ci[0], signed), fmtNum(ci[1], signed))
}

// fmtNum writes a number for people, signed when it is a difference.
func fmtNum(x float64, signed bool) string {
	if signed {
		return analysis.FormatSigned(x)
	}
	return analysis.FormatNumber(x)
}
