package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
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

// csvColumns are the columns of --format csv: one row per comparison
// (type "comparison", the segment empty for the whole experiment) and one
// per claim (type "claim").
var csvColumns = []string{
	"type", "segment", "metric", "kind", "variant", "control",
	"units", "control_units", "mean", "control_mean",
	"abs_effect", "abs_ci_lo", "abs_ci_hi", "rel_effect", "rel_ci_lo", "rel_ci_hi",
	"p_value", "p_adjusted", "significant", "chance_to_win", "mde", "units_needed",
	"claim_id", "verdict", "magnitude", "revealed", "revealed_ci_lo", "revealed_ci_hi",
	"stated", "gap", "gap_ci_lo", "gap_ci_hi", "gap_p_value", "summary",
}

// WriteCSV writes a report as CSV: one row per comparison, then one per claim
// (the columns are in README.md). The server's CSV download uses it too.
func WriteCSV(w io.Writer, r *analysis.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	idx := map[string]int{}
	for i, c := range csvColumns {
		idx[c] = i
	}
	row := make([]string, len(csvColumns))
	set := func(col, v string) { row[idx[col]] = v }
	comparisons := func(segment string, rep *analysis.Report) error {
		for _, m := range rep.Metrics {
			units := map[string]analysis.VariantReport{}
			for _, v := range m.Variants {
				units[v.Variant] = v
			}
			for _, c := range m.Comparisons {
				clear(row)
				set("type", "comparison")
				set("segment", segment)
				set("metric", m.Metric)
				set("kind", string(m.Kind))
				set("variant", c.Variant)
				set("control", c.Control)
				set("units", strconv.FormatInt(units[c.Variant].Units, 10))
				set("control_units", strconv.FormatInt(units[c.Control].Units, 10))
				set("mean", num(units[c.Variant].Mean))
				set("control_mean", num(units[c.Control].Mean))
				set("abs_effect", num(c.AbsEffect))
				setCI(set, "abs_ci", c.AbsCI)
				set("rel_effect", numPtr(c.RelEffect))
				setCI(set, "rel_ci", c.RelCI)
				set("p_value", numPtr(c.PValue))
				set("p_adjusted", numPtr(c.PAdjusted))
				set("significant", strconv.FormatBool(c.Significant))
				set("chance_to_win", numPtr(c.ChanceToWin))
				set("mde", numPtr(c.MDE))
				if c.UnitsNeeded != nil {
					set("units_needed", strconv.FormatInt(*c.UnitsNeeded, 10))
				}
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := comparisons("", r); err != nil {
		return err
	}
	for _, s := range r.Segments {
		if err := comparisons(s.Attribute+"="+s.Value, s.Report); err != nil {
			return err
		}
	}
	for _, c := range r.Claims {
		clear(row)
		set("type", "claim")
		set("metric", c.Metric)
		set("kind", string(c.Kind))
		set("units", strconv.FormatInt(c.Units, 10))
		set("p_value", numPtr(c.PValue))
		set("p_adjusted", numPtr(c.PAdjusted))
		set("significant", strconv.FormatBool(c.Verdict != analysis.Inconclusive))
		if c.UnitsNeeded != nil {
			set("units_needed", strconv.FormatInt(*c.UnitsNeeded, 10))
		}
		set("claim_id", c.ID)
		set("verdict", c.Verdict)
		set("magnitude", c.Magnitude)
		set("revealed", numPtr(c.Revealed))
		setCI(set, "revealed_ci", c.RevealedCI)
		set("stated", numPtr(c.Stated))
		set("gap", numPtr(c.Gap))
		setCI(set, "gap_ci", c.GapCI)
		set("gap_p_value", numPtr(c.GapPValue))
		set("summary", c.Summary)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func setCI(set func(col, v string), prefix string, ci *analysis.Interval) {
	if ci != nil {
		set(prefix+"_lo", num(ci[0]))
		set(prefix+"_hi", num(ci[1]))
	}
}

// num formats a number exactly (shortest round-trip form).
func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func numPtr(x *float64) string {
	if x == nil {
		return ""
	}
	return num(*x)
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
	if d.perUnit {
		p("Input: per-unit rows, %d rows, %d units\n", d.rows, d.units)
	} else {
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
	switch {
	case p == nil:
		return "-"
	case *p < 0.001:
		return "p < 0.001"
	}
	return fmt.Sprintf("p = %.3f", *p)
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

// fmtNum shows about four significant digits without an exponent for the
// magnitudes metrics usually have.
func fmtNum(x float64, signed bool) string {
	a := math.Abs(x)
	var s string
	switch {
	case x == 0:
		s = "0"
	case a >= 1e7 || a < 1e-4:
		s = strconv.FormatFloat(x, 'e', 3, 64)
	default:
		decimals := max(0, 3-int(math.Floor(math.Log10(a))))
		s = strconv.FormatFloat(x, 'f', decimals, 64)
	}
	if signed && x >= 0 {
		s = "+" + s
	}
	return s
}
