package cli

// `revealed drivers`: what customers say drives an outcome (the share who
// name each driver as the key reason, from stated.csv) against what does
// (each driver's share of the outcome's explained variance, from one row of
// ratings per unit). The statistics are analysis.DriverStudy's; this file
// only reads the two files and writes the report.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

const driversUsageText = `Usage: revealed drivers --outcome COLUMN [--stated stated.csv] [flags] ratings.csv

Compares the stated importance of drivers (the share of respondents who name
each as the key reason) with their derived importance (Johnson's relative
weights and LMG: each driver's share of the outcome's R²), with bootstrap
intervals, and says which drivers customers overrate or underrate.

ratings.csv ("-" reads standard input) has one row per unit: a unit_id column,
the outcome column and one column per driver, in any order. A unit with an
empty cell is left out and counted. stated.csv is driver,share,survey_n: the
share (a fraction) of survey_n respondents who name the driver.

Flags:
  --outcome COLUMN     the outcome column of ratings.csv (required)
  --stated FILE.csv    stated shares, one row per driver (default: none; derived
                       importance only)
  --drivers a,b,...    the driver columns (default: every column but unit_id and
                       the outcome); other columns are then ignored
  --format text|json|csv  output format (default text); json is the API's report
  --alpha A            intervals at level 1-A, A in (0, 0.5) (default 0.05)
  --bootstrap B        Poisson bootstrap replicates, 0 for none (default 1000)
  --seed S             seed of the bootstrap weights (default 0)

Exit status: 0 on success, 2 on bad usage or a bad file, 1 on other failures.
`

// driverMaxBootstrap is DriverConfig's own limit, checked here so that the message
// names the flag.
const driverMaxBootstrap = 100000

// Columns of stated.csv.
const (
	drvColDriver  = "driver"
	drvColShare   = "share"
	drvColSurveyN = "survey_n"
)

var drvStatedColumns = []string{drvColDriver, drvColShare, drvColSurveyN}

type driverOptions struct {
	file      string
	outcome   string
	stated    string
	drivers   []string // empty: every column but unit_id and the outcome
	format    string
	alpha     float64
	bootstrap int
	seed      uint64
}

// RunDrivers runs `revealed drivers` with args (the arguments after
// "drivers") and returns the exit status: 0 on success, 2 on bad usage or a
// bad input file (the message names the file, line and column), 1 on any
// other failure.
func RunDrivers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return command("drivers", driversUsageText, args, stdout, stderr, parseDriverArgs, func(o driverOptions) error {
		return runDrivers(ctx, o, stdin, stdout, stderr)
	})
}

func parseDriverArgs(args []string) (driverOptions, error) {
	var o driverOptions
	fs := flag.NewFlagSet("drivers", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.outcome, "outcome", "", "")
	fs.StringVar(&o.stated, "stated", "", "")
	fs.Func("drivers", "", func(s string) error {
		for d := range strings.SplitSeq(s, ",") {
			if d = driverColumnName(d); d != "" {
				o.drivers = append(o.drivers, d)
			}
		}
		return nil
	})
	fs.StringVar(&o.format, "format", "text", "")
	fs.Float64Var(&o.alpha, "alpha", analysis.DefaultAlpha, "")
	fs.IntVar(&o.bootstrap, "bootstrap", analysis.DefaultDriverReplicates, "")
	fs.Uint64Var(&o.seed, "seed", 0, "")

	files, err := parseInterleaved(fs, args)
	if err != nil {
		return o, err
	}
	switch len(files) {
	case 0:
		return o, usagef("no ratings file (use - for standard input)")
	case 1:
		o.file = files[0]
	default:
		return o, usagef("one ratings file expected, got %d: %s", len(files), strings.Join(files, " "))
	}
	if o.outcome = driverColumnName(o.outcome); o.outcome == "" {
		return o, usagef("--outcome is required: the column of ratings.csv that the drivers explain")
	}
	switch o.format {
	case "text", "json", "csv":
	default:
		return o, usagef("--format %q: want text, json or csv", o.format)
	}
	if why := analysis.CheckAlpha(o.alpha); why != "" {
		return o, usagef("--alpha %v: %s", o.alpha, why)
	}
	if o.bootstrap < 0 || o.bootstrap > driverMaxBootstrap {
		return o, usagef("--bootstrap %d: want 0 (no intervals) to %d replicates", o.bootstrap, driverMaxBootstrap)
	}
	seen := map[string]bool{}
	for _, d := range o.drivers {
		switch {
		case seen[d]:
			return o, usagef("--drivers: %q given twice", d)
		case d == colUnit || d == o.outcome:
			return o, usagef("--drivers: %q is the unit id or the outcome, not a driver", d)
		}
		seen[d] = true
	}
	return o, nil
}

// driverColumnName matches column names as openCSV reads headers:
// trimmed and case-insensitive.
func driverColumnName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// driverStatedRow is one row of stated.csv, kept with its line for errors
// that can only be found once the ratings' header is known.
type driverStatedRow struct {
	line  int
	share analysis.StatedShare
}

type driverStatedFile struct {
	name  string
	rows  map[string]driverStatedRow // by driver
	order []string                   // the drivers in file order, for the first error
	last  int                        // line of the last row
}

// readDriverStated reads stated.csv: driver,share,survey_n in any order. The
// survey's size is usually the same on every row, but may differ when a
// driver was asked of fewer respondents, so each row keeps its own.
func readDriverStated(ctx context.Context, path string) (*driverStatedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--stated: %v", err)
	}
	defer f.Close()
	c, cols, err := openCSV(f, path)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(c, cols, drvStatedColumns, nil, "stated"); err != nil {
		return nil, err
	}
	iDriver, iShare, iN := cols[drvColDriver], cols[drvColShare], cols[drvColSurveyN]
	s := &driverStatedFile{name: path, rows: map[string]driverStatedRow{}}
	d := data{lastLine: c.line}
	err = eachRow(ctx, c, &d, func(rec []string) error {
		name := driverColumnName(rec[iDriver])
		if name == "" {
			return c.errAt(iDriver, "empty driver")
		}
		if prev, dup := s.rows[name]; dup {
			return c.errAt(iDriver, "a second row for driver %q (the first is on line %d)", name, prev.line)
		}
		share, err := c.number(rec, iShare, false, 0)
		if err != nil {
			return err
		}
		if share < 0 || share > 1 {
			return c.errAt(iShare, "%s is not in [0, 1]; give the share as a fraction (0.38 for 38%%)", clip(strings.TrimSpace(rec[iShare])))
		}
		n, err := c.number(rec, iN, false, 0)
		if err != nil {
			return err
		}
		if n < 1 || n != math.Trunc(n) {
			return c.errAt(iN, "%s: want a whole number of respondents ≥ 1", clip(strings.TrimSpace(rec[iN])))
		}
		name = strings.Clone(name)
		s.rows[name] = driverStatedRow{line: c.line, share: analysis.StatedShare{Share: share, Respondents: n}}
		s.order = append(s.order, name)
		return nil
	})
	s.last = d.lastLine
	return s, err
}

// ratingsLayout is where the unit id, the outcome and the drivers are in
// the ratings file.
type ratingsLayout struct {
	unit    int
	values  []int // the outcome, then the drivers: DriverStudy.Add's order
	outcome string
	drivers []string
	// implicit is set when the drivers are every other column, for a hint
	// when one of those turns out not to be a rating.
	implicit bool
}

func layoutRatings(c *csvReader, cols map[string]int, o driverOptions) (ratingsLayout, error) {
	var l ratingsLayout
	for _, h := range []string{colUnit, o.outcome} {
		if _, ok := cols[h]; !ok {
			return l, &lineError{File: c.name, Line: c.line, Column: h,
				Msg: fmt.Sprintf("missing from the header (%s); ratings need %s, %s and the drivers", strings.Join(c.header, ","), colUnit, o.outcome)}
		}
	}
	l.unit = cols[colUnit]
	l.values = []int{cols[o.outcome]}
	l.outcome = o.outcome
	if len(o.drivers) > 0 {
		for _, d := range o.drivers {
			i, ok := cols[d]
			if !ok {
				return l, usagef("--drivers: no column %q in %s (columns: %s)", d, c.name, strings.Join(c.header, ", "))
			}
			l.values = append(l.values, i)
			l.drivers = append(l.drivers, d)
		}
	} else {
		l.implicit = true
		for i, h := range c.header {
			if h != colUnit && h != o.outcome {
				l.values = append(l.values, i)
				l.drivers = append(l.drivers, h)
			}
		}
	}
	if n := len(l.drivers); n < 2 || n > analysis.MaxDrivers {
		return l, &lineError{File: c.name, Line: c.line, Msg: fmt.Sprintf("%d driver(s) (%s); a study has 2 to %d",
			n, strings.Join(l.drivers, ", "), analysis.MaxDrivers)}
	}
	return l, nil
}

// hint says how to leave out a column that is not a driver.
func (l ratingsLayout) hint() string {
	if !l.implicit {
		return ""
	}
	return " (the drivers are every column but unit_id and the outcome; --drivers names them)"
}

// driverStatedShares orders the stated shares as the drivers. A row for a
// column of the ratings that --drivers left out is ignored; a row for
// anything else is a typo or a different survey.
func driverStatedShares(s *driverStatedFile, l ratingsLayout, ratings string, header []string) ([]analysis.StatedShare, error) {
	if s == nil {
		return nil, nil
	}
	out := make([]analysis.StatedShare, len(l.drivers))
	for j, d := range l.drivers {
		r, ok := s.rows[d]
		if !ok {
			return nil, &lineError{File: s.name, Line: s.last + 1, Column: drvColDriver,
				Msg: fmt.Sprintf("no row for driver %q of %s%s", d, ratings, l.hint())}
		}
		out[j] = r.share
	}
	isColumn := map[string]bool{}
	for _, h := range header {
		isColumn[h] = true
	}
	for _, name := range s.order {
		if !isColumn[name] || name == colUnit || name == l.outcome {
			return nil, &lineError{File: s.name, Line: s.rows[name].line, Column: drvColDriver,
				Msg: fmt.Sprintf("%q is not a driver column of %s (drivers: %s)", name, ratings, strings.Join(l.drivers, ", "))}
		}
	}
	return out, nil
}

func runDrivers(ctx context.Context, o driverOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	var stated *driverStatedFile
	if o.stated != "" {
		var err error
		if stated, err = readDriverStated(ctx, o.stated); err != nil {
			return err
		}
	}
	name, in := o.file, stdin
	if o.file == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(o.file)
		if err != nil {
			return usagef("%v", err)
		}
		defer f.Close()
		in = f
	}
	c, cols, err := openCSV(in, name)
	if err != nil {
		return err
	}
	l, err := layoutRatings(c, cols, o)
	if err != nil {
		return err
	}
	shares, err := driverStatedShares(stated, l, name, c.header)
	if err != nil {
		return err
	}
	replicates := o.bootstrap
	if replicates == 0 {
		replicates = -1 // DriverConfig's "none"; its 0 means the default
	}
	study, err := analysis.NewDriverStudy(analysis.DriverConfig{
		Outcome:    o.outcome,
		Drivers:    l.drivers,
		Stated:     shares,
		Replicates: replicates,
		Seed:       o.seed,
		Alpha:      o.alpha,
	})
	if err != nil {
		return usagef("%v", err)
	}
	// One pass, one unit at a time: the study keeps only moments, so memory
	// does not grow with the number of units. Duplicate ids are therefore
	// not detected (that would need every id).
	values := make([]float64, len(l.values))
	d := data{lastLine: c.line}
	err = eachRow(ctx, c, &d, func(rec []string) error {
		if rec[l.unit] == "" {
			return c.errAt(l.unit, "empty unit id")
		}
		for k, i := range l.values {
			v, err := c.number(rec, i, true, math.NaN())
			if err != nil {
				var le *lineError
				if k > 0 && errors.As(err, &le) {
					le.Msg += l.hint()
				}
				return err
			}
			values[k] = v
		}
		study.Add(rec[l.unit], values)
		return nil
	})
	if err != nil {
		return err
	}
	r := study.Report()
	if r.Reason != "" {
		fmt.Fprintln(stderr, "revealed drivers: warning:", r.Reason)
	}
	for _, w := range r.Warnings {
		fmt.Fprintln(stderr, "revealed drivers: warning:", w)
	}
	switch o.format {
	case "json":
		err = writeDriversJSON(stdout, r)
	case "csv":
		err = writeDriversCSV(stdout, r)
	default:
		err = writeDriversText(stdout, r)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// writeDriversJSON writes the report as the API will serve it: one line,
// without HTML escaping.
func writeDriversJSON(w io.Writer, r *analysis.DriverReport) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// driverCSVColumns are named after the JSON fields, an interval as its
// _lo and _hi ends.
var driverCSVColumns = []string{
	"driver", "stated_share", "stated_ci_lo", "stated_ci_hi", "stated_rank",
	"johnson", "johnson_ci_lo", "johnson_ci_hi", "johnson_pct", "johnson_pct_ci_lo", "johnson_pct_ci_hi",
	"lmg", "lmg_ci_lo", "lmg_ci_hi", "beta",
	"derived_rank", "derived_rank_ci_lo", "derived_rank_ci_hi", "verdict", "reason",
}

// writeDriversCSV writes one row per driver with exact numbers (shortest
// round-trip form); an empty cell is null in the JSON.
func writeDriversCSV(w io.Writer, r *analysis.DriverReport) error {
	cw := csv.NewWriter(w)
	cw.Write(driverCSVColumns)
	for _, d := range r.Drivers {
		row := []string{d.Driver}
		row = append(row, driverExact(d.StatedShare))
		row = append(row, driverExactCI(d.StatedCI)...)
		row = append(row, driverInt(d.StatedRank))
		row = append(row, driverExact(d.Johnson))
		row = append(row, driverExactCI(d.JohnsonCI)...)
		row = append(row, driverExact(d.JohnsonPct))
		row = append(row, driverExactCI(d.JohnsonPctCI)...)
		row = append(row, driverExact(d.LMG))
		row = append(row, driverExactCI(d.LMGCI)...)
		row = append(row, driverExact(d.Beta), driverInt(d.DerivedRank))
		row = append(row, driverExactCI(d.DerivedRankCI)...)
		row = append(row, d.Verdict, d.Reason)
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func driverExact(x *float64) string {
	if x == nil {
		return ""
	}
	return strconv.FormatFloat(*x, 'g', -1, 64)
}

func driverExactCI(ci *analysis.Interval) []string {
	if ci == nil {
		return []string{"", ""}
	}
	return []string{strconv.FormatFloat(ci[0], 'g', -1, 64), strconv.FormatFloat(ci[1], 'g', -1, 64)}
}

func driverInt(x *int) string {
	if x == nil {
		return ""
	}
	return strconv.Itoa(*x)
}
