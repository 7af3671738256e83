package cli

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

// writeDriversText writes the key-driver report for people: the study, one
// table row per driver, the rank agreement, the sentence, then why numbers
// are missing and the warnings. Numbers are rounded here only; the JSON and
// CSV keep them exact.
func writeDriversText(w io.Writer, r *analysis.DriverReport) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	level := fmt.Sprintf("%g%%", 100*(1-r.Alpha))

	p("Key drivers of %s: %s units", r.Outcome, analysis.FormatCount(r.N))
	if r.LeftOut > 0 {
		p(" (%s left out: an empty cell)", analysis.FormatCount(r.LeftOut))
	}
	p(", %d drivers\n", len(r.Drivers))
	if r.R2 != nil {
		p("R² = %s", analysis.FormatNumber(*r.R2))
		if r.R2CI != nil {
			p(", %s CI [%s, %s]", level, analysis.FormatNumber(r.R2CI[0]), analysis.FormatNumber(r.R2CI[1]))
		}
		p("\n")
	}
	b := r.Bootstrap
	switch {
	case r.Reason != "":
		// Nothing was computed; the summary says why.
	case b.Replicates > 0:
		p("Bootstrap: %s Poisson replicates (%s usable), seed %d\n",
			analysis.FormatCount(int64(b.Replicates)), analysis.FormatCount(int64(b.Usable)), b.Seed)
	default:
		p("Bootstrap: none (no intervals, no verdicts)\n")
	}
	p("\n")

	// Without stated shares the stated columns and verdicts would be empty:
	// leave them out.
	stated := false
	for _, d := range r.Drivers {
		stated = stated || d.StatedShare != nil
	}
	head := []string{"driver", "stated", "stated rank", "Johnson % of R²", level + " CI",
		"derived rank", level + " CI", "LMG % of R²", "beta", "verdict"}
	if !stated {
		head = append(head[:1:1], head[3:9]...)
	}
	rows := [][]string{head}
	for _, d := range r.Drivers {
		verdict := d.Verdict
		if verdict == analysis.DriverOverrated || verdict == analysis.DriverUnderrated {
			verdict = strings.ToUpper(verdict)
		}
		lmgPct := "-"
		if d.LMG != nil && r.R2 != nil && *r.R2 > 0 {
			lmgPct = driverPct(*d.LMG / *r.R2)
		}
		beta := "-"
		if d.Beta != nil {
			beta = analysis.FormatSigned(*d.Beta)
		}
		row := []string{d.Driver, driverPctPtr(d.StatedShare), driverRank(d.StatedRank),
			driverPctPtr(d.JohnsonPct), driverPctCI(d.JohnsonPctCI), driverRank(d.DerivedRank), driverRankCI(d.DerivedRankCI),
			lmgPct, beta, verdict}
		if !stated {
			row = append(row[:1:1], row[3:9]...)
		}
		rows = append(rows, row)
	}
	table(bw, "  ", rows)

	if r.Spearman.Value != nil {
		p("\nStated shares against Johnson weights: Spearman ρ = %s%s, Kendall τ-b = %s%s\n",
			analysis.FormatSigned(*r.Spearman.Value), driverCorrCI(r.Spearman.CI, level),
			analysis.FormatSigned(*r.Kendall.Value), driverCorrCI(r.Kendall.CI, level))
	} else if stated && r.Reason == "" && r.Spearman.Reason != "" {
		p("\nStated shares against Johnson weights: no rank correlation (%s)\n", r.Spearman.Reason)
	}
	if r.Summary != "" {
		p("\n%s\n", r.Summary)
	}

	// Reasons shared by every driver (too few units, LMG over its limit) are
	// said once, and those a warning already gives (a constant driver) not
	// again; the rest per driver.
	var notes []string
	if r.LMGReason != "" {
		notes = append(notes, "LMG: "+r.LMGReason)
	}
	if b.Reason != "" && r.Reason == "" {
		notes = append(notes, "bootstrap: "+b.Reason)
	}
	if r.Reason == "" {
		for _, d := range r.Drivers {
			reason := strings.TrimPrefix(strings.TrimPrefix(d.Reason, r.LMGReason), "; ")
			if reason != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, reason) }) {
				notes = append(notes, d.Driver+": "+reason)
			}
		}
	}
	if len(notes) > 0 {
		p("\n")
		for _, n := range notes {
			p("note: %s\n", n)
		}
	}
	for _, warn := range r.Warnings {
		p("\nwarning: %s\n", warn)
	}
	return bw.Flush()
}

// driverPct writes a share as a percentage with about three significant
// digits, so that a small share does not read 0%.
func driverPct(x float64) string { return analysis.FormatNumber(100*x) + "%" }

func driverPctPtr(x *float64) string {
	if x == nil {
		return "-"
	}
	return driverPct(*x)
}

func driverPctCI(ci *analysis.Interval) string {
	if ci == nil {
		return ""
	}
	return fmt.Sprintf("[%s, %s]", driverPct(ci[0]), driverPct(ci[1]))
}

func driverRank(x *int) string {
	if x == nil {
		return "-"
	}
	return strconv.Itoa(*x)
}

func driverRankCI(ci *analysis.Interval) string {
	if ci == nil {
		return ""
	}
	return fmt.Sprintf("[%g, %g]", ci[0], ci[1])
}

func driverCorrCI(ci *analysis.Interval, level string) string {
	if ci == nil {
		return ""
	}
	return fmt.Sprintf(" (%s CI %s to %s)", level, analysis.FormatSigned(ci[0]), analysis.FormatSigned(ci[1]))
}
