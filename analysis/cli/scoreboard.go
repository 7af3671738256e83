package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
	"gonum.org/v1/gonum/stat/distuv"
)

const scoreboardUsageText = `Usage: revealed scoreboard [flags] RESULTS.csv

Pools, per statement, the revealed figures that several experiments found
for it (random effects: REML τ², Hartung–Knapp–Sidik–Jonkman interval), and
puts the stated figure to the test of the pooled one by the rules of a claim.
"-" reads standard input.

One row per test: statement,experiment,estimate,se,n, or ci_lo,ci_hi (a
symmetric 95% interval) instead of se; optionally stated (the stated figure,
the same on every row of a statement) and kind (share, effect or gap;
default effect), which sets the null of the direction: ½ for a share, else 0.

Flags:
  --format text|json|csv   output format (default text)
  --alpha A                level of the intervals and tests, in (0, 0.5) (default 0.05)
  --margin M               equivalence margin of "matches", in the statements' units (default 0.05)

Exit status: 0 on success, 2 on bad usage or a bad file, 1 on other failures.
`

// Columns of a scoreboard file.
const (
	colStatement  = "statement"
	colExperiment = "experiment"
	colEstimate   = "estimate"
	colSE         = "se"
	colCILo       = "ci_lo"
	colCIHi       = "ci_hi"
	colN          = "n"
	colStated     = "stated"
)

// Kinds of a statement, for the null of its direction.
const (
	sbShare  = "share"
	sbEffect = "effect"
	sbGap    = "gap"
)

// sbZ975 is the 0.975 quantile of the standard normal (1.959964 rounded): an
// input interval is read as estimate ± sbZ975·se whatever --alpha is, since a
// 95% interval is what published results give.
const sbZ975 = 1.959963984540054

type scoreboardOptions struct {
	file   string
	format string
	alpha  float64
	margin float64
}

// sbStatement is one statement's rows, in the order read.
type sbStatement struct {
	name   string
	kind   string
	stated *float64
	line   int // of its first row, which set kind and stated
	tests  []sbTest
}

type sbTest struct {
	experiment string
	estimate   float64
	se         float64
	n          int64
}

// RunScoreboard runs `revealed scoreboard` with args (the arguments after
// "scoreboard") and returns the exit status: 0 on success, 2 on bad usage
// or a bad input file (the message names the line and column), 1 on any
// other failure.
func RunScoreboard(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return command("scoreboard", scoreboardUsageText, args, stdout, stderr, parseScoreboardArgs, func(o scoreboardOptions) error {
		return runScoreboard(ctx, o, stdin, stdout)
	})
}

func parseScoreboardArgs(args []string) (scoreboardOptions, error) {
	var o scoreboardOptions
	fs := flag.NewFlagSet("scoreboard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.format, "format", "text", "")
	fs.Float64Var(&o.alpha, "alpha", analysis.DefaultAlpha, "")
	fs.Float64Var(&o.margin, "margin", analysis.DefaultMargin, "")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return o, err
	}
	switch len(files) {
	case 0:
		return o, usagef("no input file (use - for standard input)")
	case 1:
		o.file = files[0]
	default:
		return o, usagef("one input file expected, got %d: %s", len(files), strings.Join(files, " "))
	}
	switch o.format {
	case "text", "json", "csv":
	default:
		return o, usagef("--format %q: want text, json or csv", o.format)
	}
	if why := analysis.CheckAlpha(o.alpha); why != "" {
		return o, usagef("--alpha %v: %s", o.alpha, why)
	}
	if !(o.margin > 0) || isNaNOrInf(o.margin) {
		return o, usagef("--margin %v: must be a positive number, e.g. 0.05", o.margin)
	}
	return o, nil
}

func runScoreboard(ctx context.Context, o scoreboardOptions, stdin io.Reader, stdout io.Writer) error {
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
	statements, err := readScoreboard(ctx, in, name)
	if err != nil {
		return err
	}
	sb := poolStatements(statements, o.alpha, o.margin)
	switch o.format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		err = enc.Encode(sb)
	case "csv":
		err = writeScoreboardCSV(stdout, sb)
	default:
		err = writeScoreboardText(stdout, sb)
	}
	if err != nil {
		return fmt.Errorf("writing the scoreboard: %w", err)
	}
	return nil
}

// readScoreboard reads the tests of a scoreboard file, grouped by
// statement in the order statements first appear; a statement's rows may be
// anywhere in the file.
func readScoreboard(ctx context.Context, r io.Reader, name string) ([]*sbStatement, error) {
	c, cols, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	if err := checkScoreboardHeader(c, cols); err != nil {
		return nil, err
	}
	col := func(h string) int {
		if i, ok := cols[h]; ok {
			return i
		}
		return -1
	}
	iStmt, iExp, iEst, iN := col(colStatement), col(colExperiment), col(colEstimate), col(colN)
	iSE, iLo, iHi, iStated, iKind := col(colSE), col(colCILo), col(colCIHi), col(colStated), col(colKind)

	var out []*sbStatement
	byName := map[string]*sbStatement{}
	seen := map[[2]string]int{} // (statement, experiment) → line
	err = eachRow(ctx, c, &data{lastLine: c.line}, func(rec []string) error {
		// Cloned: the names outlive the record, and should not pin its line.
		stmt, exp := strings.Clone(strings.TrimSpace(rec[iStmt])), strings.Clone(strings.TrimSpace(rec[iExp]))
		field := func(i int) string { return clip(strings.TrimSpace(rec[i])) }
		if stmt == "" {
			return c.errAt(iStmt, "empty; each row names the statement it tests")
		}
		if exp == "" {
			return c.errAt(iExp, "empty; each row names the experiment that tested the statement")
		}
		if line, dup := seen[[2]string{stmt, exp}]; dup {
			return c.errAt(iExp, "statement %q already has a row for experiment %q, on line %d", clip(stmt), clip(exp), line)
		}
		line := c.line
		seen[[2]string{stmt, exp}] = line

		kind := sbEffect
		if iKind >= 0 {
			switch k := strings.ToLower(strings.TrimSpace(rec[iKind])); k {
			case "":
			case sbShare, sbEffect, sbGap:
				kind = k
			default:
				return c.errAt(iKind, "%q: want share, effect or gap (empty: effect)", field(iKind))
			}
		}
		var stated *float64
		if iStated >= 0 && strings.TrimSpace(rec[iStated]) != "" {
			s, err := c.number(rec, iStated, false, 0)
			if err != nil {
				return err
			}
			stated = &s
		}
		st := byName[stmt]
		if st == nil {
			st = &sbStatement{name: stmt, kind: kind, stated: stated, line: line}
			byName[stmt] = st
			out = append(out, st)
		}
		if kind != st.kind {
			return c.errAt(iKind, "statement %q: %s here but %s on line %d; a statement has one kind", clip(stmt), kind, st.kind, st.line)
		}
		if !sbSameStated(stated, st.stated) {
			return c.errAt(iStated, "statement %q: %s here but %s on line %d; a statement has one stated figure, on every row",
				clip(stmt), sbStatedText(stated), sbStatedText(st.stated), st.line)
		}

		est, err := c.number(rec, iEst, false, 0)
		if err != nil {
			return err
		}
		var se float64
		if iSE >= 0 {
			if se, err = c.number(rec, iSE, false, 0); err != nil {
				return err
			}
			if se <= 0 {
				return c.errAt(iSE, "%s: a standard error must be positive", field(iSE))
			}
		} else {
			lo, err := c.number(rec, iLo, false, 0)
			if err != nil {
				return err
			}
			hi, err := c.number(rec, iHi, false, 0)
			if err != nil {
				return err
			}
			switch {
			case lo > hi:
				return c.errAt(iLo, "%s is above ci_hi %s", field(iLo), field(iHi))
			case lo == hi:
				return c.errAt(iHi, "%s equals ci_lo: a zero-width interval gives no standard error", field(iHi))
			case est < lo || est > hi:
				// Swapped columns, or an interval of another row.
				return c.errAt(iEst, "%s is outside its interval [%s, %s]", field(iEst), field(iLo), field(iHi))
			}
			se = (hi - lo) / (2 * sbZ975)
		}
		if err := sbCheckRange(c, kind, iEst, field(iEst), est); err != nil {
			return err
		}
		if stated != nil && st.line == line {
			if err := sbCheckRange(c, kind, iStated, field(iStated), *stated); err != nil {
				return err
			}
		}

		n, err := c.number(rec, iN, false, 0)
		if err != nil {
			return err
		}
		if n < 1 || n != math.Trunc(n) || n > 1<<53 {
			return c.errAt(iN, "%s: want the units behind the estimate, a whole number ≥ 1", field(iN))
		}
		st.tests = append(st.tests, sbTest{experiment: exp, estimate: est, se: se, n: int64(n)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func sbStatedText(x *float64) string {
	if x == nil {
		return "none"
	}
	return strconv.FormatFloat(*x, 'g', -1, 64)
}

func sbSameStated(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// sbCheckRange catches a share written in percent (74 for 0.74), which would
// otherwise pool quietly into nonsense.
func sbCheckRange(c *csvReader, kind string, i int, text string, x float64) error {
	switch {
	case kind == sbShare && (x < 0 || x > 1):
		return c.errAt(i, "%s: a share is between 0 and 1 (e.g. 0.74 for 74%%)", text)
	case kind == sbGap && (x < -1 || x > 1):
		return c.errAt(i, "%s: a gap between shares is between -1 and 1 (e.g. 0.25 for 25 points)", text)
	}
	return nil
}

func checkScoreboardHeader(c *csvReader, cols map[string]int) error {
	required := []string{colStatement, colExperiment, colEstimate, colN}
	optional := []string{colSE, colCILo, colCIHi, colStated, colKind}
	want := "statement,experiment,estimate,se,n or statement,experiment,estimate,ci_lo,ci_hi,n"
	for _, h := range required {
		if _, ok := cols[h]; !ok {
			return &lineError{File: c.name, Line: c.line, Column: h, Msg: "missing from the header (" + want + ")"}
		}
	}
	allowed := map[string]bool{}
	for _, h := range append(required, optional...) {
		allowed[h] = true
	}
	for i, h := range c.header {
		if !allowed[h] {
			return c.errAt(i, "unknown column (allowed: %s)", strings.Join(append(required, optional...), ","))
		}
	}
	_, se := cols[colSE]
	_, lo := cols[colCILo]
	_, hi := cols[colCIHi]
	switch {
	case se && (lo || hi):
		return &lineError{File: c.name, Line: c.line, Column: colSE,
			Msg: "the header has both se and ci_lo/ci_hi; give one form of the uncertainty"}
	case lo && !hi:
		return &lineError{File: c.name, Line: c.line, Column: colCIHi, Msg: "missing from the header, which has ci_lo"}
	case hi && !lo:
		return &lineError{File: c.name, Line: c.line, Column: colCILo, Msg: "missing from the header, which has ci_hi"}
	case !se && !lo:
		return &lineError{File: c.name, Line: c.line, Column: colSE, Msg: "missing from the header (" + want + ")"}
	}
	return nil
}

// scoreboardReport is the JSON answer; its nullable numbers are pointers,
// so that it never holds NaN.
type scoreboardReport struct {
	Alpha      float64             `json:"alpha"`
	Margin     float64             `json:"margin"`
	Statements []sbStatementResult `json:"statements"`
	// Summary answers over all statements in one sentence.
	Summary string `json:"summary"`
}

type sbStatementResult struct {
	Statement string `json:"statement"`
	Kind      string `json:"kind"`
	// K is the number of tests pooled.
	K      int      `json:"k"`
	Pooled sbPooled `json:"pooled"`
	Stated *float64 `json:"stated"`
	Null   float64  `json:"null"`
	// Verdict and Magnitude are null without a stated figure; Magnitude is
	// also null when nothing could be pooled.
	Verdict       *string                `json:"verdict"`
	Magnitude     *string                `json:"magnitude"`
	Gap           *float64               `json:"gap"`
	GapCI         *analysis.Interval     `json:"gap_ci"`
	GapPValue     *float64               `json:"gap_p_value"`
	EquivalenceCI *analysis.Interval     `json:"equivalence_ci"`
	Reason        string                 `json:"reason,omitempty"`
	Tests         []sbTestResult         `json:"tests"`
	LeftOut       []analysis.MetaLeftOut `json:"left_out"`
}

type sbPooled struct {
	Estimate *float64           `json:"estimate"`
	SE       *float64           `json:"se"`
	CI       *analysis.Interval `json:"ci"`
	// DF is the t distribution's of CI and PI; null for one test (normal).
	DF   *int               `json:"df"`
	Tau2 *float64           `json:"tau2"`
	I2   *float64           `json:"i2"`
	PI   *analysis.Interval `json:"pi"`
	// N is the units behind the pooled tests.
	N          int64  `json:"n"`
	NullReason string `json:"null_reason,omitempty"`
}

type sbTestResult struct {
	Experiment string  `json:"experiment"`
	Estimate   float64 `json:"estimate"`
	SE         float64 `json:"se"`
	// CI is estimate ± z·se at the level of --alpha, whatever the input's
	// form, so that every row of the forest is at one level.
	CI *analysis.Interval `json:"ci"`
	N  int64              `json:"n"`
	// Weight is the test's share of the pooled estimate, 1/(se² + τ²)
	// normalised to sum to 1; null for a test left out.
	Weight *float64 `json:"weight"`
}

// pooled says whether the statement has a pooled figure and interval to
// judge; floating-point overflow can leave the estimate without its CI.
func (s sbStatementResult) pooled() bool { return s.Pooled.Estimate != nil && s.Pooled.CI != nil }

// sbNullOf is the figure that states no direction.
func sbNullOf(kind string) float64 {
	if kind == sbShare {
		return 0.5
	}
	return 0
}

func poolStatements(statements []*sbStatement, alpha, margin float64) scoreboardReport {
	sb := scoreboardReport{Alpha: alpha, Margin: margin, Statements: make([]sbStatementResult, 0, len(statements))}
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	for _, st := range statements {
		studies := make([]analysis.MetaStudy, len(st.tests))
		for i, t := range st.tests {
			studies[i] = analysis.MetaStudy{Label: t.experiment, Estimate: t.estimate, SE: t.se}
		}
		m := analysis.PoolRandomEffects(studies, alpha)
		res := sbStatementResult{
			Statement: st.name, Kind: st.kind, K: m.K, Stated: st.stated, Null: sbNullOf(st.kind),
			Pooled: sbPooled{Estimate: m.Estimate, SE: m.SE, CI: m.CI, DF: m.DF, Tau2: m.Tau2,
				I2: m.I2, PI: m.PI, NullReason: m.NullReason},
			LeftOut: m.LeftOut,
		}
		left := map[string]bool{}
		for _, l := range m.LeftOut {
			left[l.Label] = true
		}
		weights := sbWeights(st.tests, m, left)
		for i, t := range st.tests {
			res.Tests = append(res.Tests, sbTestResult{Experiment: t.experiment, Estimate: t.estimate, SE: t.se,
				CI: sbInterval(t.estimate-z*t.se, t.estimate+z*t.se), N: t.n, Weight: weights[i]})
			if !left[t.experiment] {
				res.Pooled.N += t.n
			}
		}
		if st.stated != nil {
			v := analysis.JudgePooled(m, *st.stated, res.Null, margin)
			res.Verdict = &v.Verdict
			if v.Magnitude != "" {
				res.Magnitude = &v.Magnitude
			}
			res.Gap, res.GapCI, res.GapPValue, res.EquivalenceCI = v.Gap, v.GapCI, v.GapPValue, v.EquivalenceCI
			res.Reason = v.Reason
		}
		sb.Statements = append(sb.Statements, res)
	}
	sb.Summary = scoreboardSummary(sb.Statements)
	return sb
}

// sbWeights are the random-effects weights 1/(seᵢ² + τ²), normalised, on
// the scale of the smallest se as PoolRandomEffects computes them, so that
// tiny or huge standard errors neither underflow nor overflow.
func sbWeights(tests []sbTest, m analysis.MetaResult, left map[string]bool) []*float64 {
	out := make([]*float64, len(tests))
	tau2 := 0.0
	switch {
	case m.Estimate == nil:
		return out
	case m.Tau2 != nil:
		tau2 = *m.Tau2
	case m.K > 1:
		return out // τ² undefined
	}
	c := math.Inf(1)
	for _, t := range tests {
		if !left[t.experiment] {
			c = math.Min(c, t.se)
		}
	}
	w := make([]float64, len(tests))
	sum := 0.0
	for i, t := range tests {
		if !left[t.experiment] {
			s := t.se / c
			w[i] = 1 / (s*s + tau2/(c*c))
			sum += w[i]
		}
	}
	for i, t := range tests {
		if x := w[i] / sum; !left[t.experiment] && !isNaNOrInf(x) {
			out[i] = &x
		}
	}
	return out
}

func sbInterval(lo, hi float64) *analysis.Interval {
	if isNaNOrInf(lo) || isNaNOrInf(hi) {
		return nil
	}
	return &analysis.Interval{lo, hi}
}

// The one-line answer's categories, in the order it lists them.
const (
	sbHoldsMatches = iota
	sbHoldsOverstated
	sbHoldsUnderstated
	sbHoldsUnclear
	sbContradicted
	sbInconclusive
	sbNoDirection
	sbNoStated
	sbNotPooled
)

// sbOutcomes name the categories, singular and plural.
var sbOutcomes = [...][2]string{
	sbHoldsMatches:     {"holds as stated", "hold as stated"},
	sbHoldsOverstated:  {"holds but is overstated", "hold but are overstated"},
	sbHoldsUnderstated: {"holds but is understated", "hold but are understated"},
	sbHoldsUnclear:     {"holds with its size not yet clear", "hold with their size not yet clear"},
	sbContradicted:     {"is contradicted", "are contradicted"},
	sbInconclusive:     {"is inconclusive", "are inconclusive"},
	sbNoDirection:      {"states no direction", "state no direction"},
	sbNoStated:         {"states no figure to test", "state no figure to test"},
	sbNotPooled:        {"could not be pooled", "could not be pooled"},
}

func sbOutcomeOf(s sbStatementResult) int {
	switch {
	case !s.pooled():
		return sbNotPooled
	case s.Verdict == nil:
		return sbNoStated
	case *s.Verdict == analysis.Contradicted:
		return sbContradicted
	case *s.Verdict == analysis.Holds:
		switch *s.Magnitude {
		case analysis.Matches:
			return sbHoldsMatches
		case analysis.Overstated:
			return sbHoldsOverstated
		case analysis.Understated:
			return sbHoldsUnderstated
		}
		return sbHoldsUnclear
	case *s.Stated == s.Null:
		return sbNoDirection
	}
	return sbInconclusive
}

// scoreboardSummary answers over all statements, e.g. "Of 5 statements, 2
// hold as stated, 2 hold but are overstated, 1 is inconclusive."
func scoreboardSummary(statements []sbStatementResult) string {
	var counts [len(sbOutcomes)]int
	for _, s := range statements {
		counts[sbOutcomeOf(s)]++
	}
	noun := "statements"
	if len(statements) == 1 {
		noun = "statement"
	}
	var parts []string
	for i, n := range counts {
		switch {
		case n == 1:
			parts = append(parts, "1 "+sbOutcomes[i][0])
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, sbOutcomes[i][1]))
		}
	}
	return fmt.Sprintf("Of %d %s, %s.", len(statements), noun, strings.Join(parts, ", "))
}

// sbForestWidth is the width of the text output's forest column, in runes.
const sbForestWidth = 31

// sbForest draws intervals on one scale per statement: every test's CI, the
// pooled CI, the null and the stated figure.
type sbForest struct {
	lo, hi       float64
	null, stated *float64
}

func newSBForest(s sbStatementResult) *sbForest {
	f := &sbForest{lo: s.Null, hi: s.Null, null: &s.Null, stated: s.Stated}
	widen := func(xs ...float64) {
		for _, x := range xs {
			f.lo, f.hi = math.Min(f.lo, x), math.Max(f.hi, x)
		}
	}
	if s.Stated != nil {
		widen(*s.Stated)
	}
	if s.Pooled.CI != nil {
		widen(s.Pooled.CI[0], s.Pooled.CI[1])
	}
	for _, t := range s.Tests {
		if t.CI != nil {
			widen(t.CI[0], t.CI[1])
		}
	}
	if !(f.hi > f.lo) || isNaNOrInf(f.hi-f.lo) {
		return nil
	}
	return f
}

func (f *sbForest) pos(x float64) int {
	return int(math.Round((x - f.lo) / (f.hi - f.lo) * (sbForestWidth - 1)))
}

// row draws ci with line and the estimate with dot, over the null (│) and
// the stated figure (┊), which show as ┼ where the interval covers them.
func (f *sbForest) row(ci *analysis.Interval, est float64, line, dot rune) string {
	if f == nil || ci == nil {
		return ""
	}
	r := []rune(strings.Repeat(" ", sbForestWidth))
	if f.stated != nil {
		r[f.pos(*f.stated)] = '┊'
	}
	r[f.pos(*f.null)] = '│'
	for i := f.pos(ci[0]); i <= f.pos(ci[1]); i++ {
		if r[i] == ' ' {
			r[i] = line
		} else {
			r[i] = '┼'
		}
	}
	r[f.pos(est)] = dot
	return string(r)
}

func writeScoreboardText(w io.Writer, sb scoreboardReport) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	level := fmt.Sprintf("%g%%", 100*(1-sb.Alpha))
	tests := 0
	for _, s := range sb.Statements {
		tests += len(s.Tests)
	}
	p("Scoreboard: %d statements from %d tests; random effects (REML τ², Hartung–Knapp interval), alpha %g, \"matches\" within ±%s\n",
		len(sb.Statements), tests, sb.Alpha, fmtNum(sb.Margin, false))
	p("%s\n", sb.Summary)
	for _, s := range sb.Statements {
		signed := s.Kind != sbShare
		p("\n%q (%s", s.Statement, s.Kind)
		if s.Stated != nil {
			p("; stated %s", fmtNum(*s.Stated, signed))
		}
		p(")\n")
		f := newSBForest(s)
		rows := [][]string{{"experiment", "n", "estimate", level + " CI", "weight", ""}}
		for _, t := range s.Tests {
			weight := "left out"
			if t.Weight != nil {
				weight = fmt.Sprintf("%.1f%%", 100**t.Weight)
			}
			rows = append(rows, []string{t.Experiment, analysis.FormatCount(t.N), fmtNum(t.Estimate, signed),
				ciText(t.CI, signed, false), weight, f.row(t.CI, t.Estimate, '─', '●')})
		}
		if s.Pooled.Estimate != nil {
			rows = append(rows, []string{"pooled", analysis.FormatCount(s.Pooled.N), fmtNum(*s.Pooled.Estimate, signed),
				ciText(s.Pooled.CI, signed, false), "", f.row(s.Pooled.CI, *s.Pooled.Estimate, '━', '◆')})
		}
		table(&b, "  ", rows)
		if f != nil {
			p("  forest from %s to %s: │ %s, the null", fmtNum(f.lo, signed), fmtNum(f.hi, signed), fmtNum(s.Null, signed))
			if s.Stated != nil {
				p("; ┊ %s, the stated figure", fmtNum(*s.Stated, signed))
			}
			p("\n")
		}
		for _, l := range s.LeftOut {
			p("  left out: %s (%s)\n", l.Label, l.Reason)
		}
		switch {
		case !s.pooled():
			p("  pooled: no interval (%s)\n", s.Pooled.NullReason)
		case s.K == 1:
			p("  one test: the pooled figure is that test's, with a normal interval; τ², I² and a prediction interval need two\n")
		case s.Pooled.Tau2 != nil && s.Pooled.I2 != nil && s.Pooled.PI != nil && s.Pooled.DF != nil:
			p("  τ² = %s, I² = %.0f%%, %s prediction interval %s (t, %d df)\n", fmtNum(*s.Pooled.Tau2, false),
				100**s.Pooled.I2, level, ciText(s.Pooled.PI, signed, false), *s.Pooled.DF)
		}
		p("  %s\n", sbVerdictLine(s, signed, sb.Margin))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sbVerdictLine puts a statement's verdict and magnitude in words.
func sbVerdictLine(s sbStatementResult, signed bool, margin float64) string {
	if s.Verdict == nil {
		return "verdict: none (no stated figure)"
	}
	head := strings.ToUpper(*s.Verdict)
	if s.Magnitude != nil {
		head += ", " + strings.ToUpper(*s.Magnitude)
	}
	if !s.pooled() {
		return fmt.Sprintf("verdict: %s (nothing pooled to test it against).", head)
	}
	est, stated, null := fmtNum(*s.Pooled.Estimate, signed), fmtNum(*s.Stated, signed), fmtNum(s.Null, signed)
	side := "above"
	if *s.Pooled.Estimate < s.Null {
		side = "below"
	}
	var dir string
	switch {
	case *s.Stated == s.Null:
		dir = fmt.Sprintf("The stated %s is the null: it states no direction", stated)
	case *s.Verdict == analysis.Holds:
		dir = fmt.Sprintf("The pooled %s is %s %s, as stated", est, side, null)
	case *s.Verdict == analysis.Contradicted:
		dir = fmt.Sprintf("The pooled %s is %s %s, against the stated side", est, side, null)
	default:
		dir = fmt.Sprintf("The pooled interval %s includes %s: the direction is not decided", ciText(s.Pooled.CI, signed, false), null)
	}
	var mag string
	if s.Magnitude != nil && s.Gap != nil {
		gap := fmtNum(math.Abs(*s.Gap), false)
		switch *s.Magnitude {
		case analysis.Matches:
			mag = fmt.Sprintf("it matches the stated %s within ±%s", stated, fmtNum(margin, false))
		case analysis.Overstated:
			mag = fmt.Sprintf("the stated %s overstates it by %s (%s)", stated, gap, pText(s.GapPValue))
		case analysis.Understated:
			mag = fmt.Sprintf("the stated %s understates it by %s (%s)", stated, gap, pText(s.GapPValue))
		default:
			mag = fmt.Sprintf("whether it matches the stated %s is unclear: %s apart (%s)", stated, gap, pText(s.GapPValue))
		}
	}
	if mag == "" {
		return fmt.Sprintf("verdict: %s. %s.", head, dir)
	}
	return fmt.Sprintf("verdict: %s. %s; %s.", head, dir, mag)
}

// scoreboardColumns are the CSV's: a "pooled" row per statement, then a
// "test" row per experiment; an empty cell is null in the JSON.
var scoreboardColumns = []string{"type", "statement", "kind", "experiment", "k", "n",
	"estimate", "se", "ci_lo", "ci_hi", "weight", "df", "tau2", "i2", "pi_lo", "pi_hi",
	"stated", "gap", "gap_ci_lo", "gap_ci_hi", "gap_p_value", "verdict", "magnitude"}

func writeScoreboardCSV(w io.Writer, sb scoreboardReport) error {
	cw := csv.NewWriter(w)
	cw.Write(scoreboardColumns)
	exact := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	ptr := func(x *float64) string {
		if x == nil {
			return ""
		}
		return exact(*x)
	}
	ci := func(c *analysis.Interval) (string, string) {
		if c == nil {
			return "", ""
		}
		return exact(c[0]), exact(c[1])
	}
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	for _, s := range sb.Statements {
		lo, hi := ci(s.Pooled.CI)
		piLo, piHi := ci(s.Pooled.PI)
		gLo, gHi := ci(s.GapCI)
		df := ""
		if s.Pooled.DF != nil {
			df = strconv.Itoa(*s.Pooled.DF)
		}
		cw.Write([]string{"pooled", s.Statement, s.Kind, "", strconv.Itoa(s.K), strconv.FormatInt(s.Pooled.N, 10),
			ptr(s.Pooled.Estimate), ptr(s.Pooled.SE), lo, hi, "", df, ptr(s.Pooled.Tau2), ptr(s.Pooled.I2), piLo, piHi,
			ptr(s.Stated), ptr(s.Gap), gLo, gHi, ptr(s.GapPValue), str(s.Verdict), str(s.Magnitude)})
		for _, t := range s.Tests {
			lo, hi := ci(t.CI)
			row := []string{"test", s.Statement, s.Kind, t.Experiment, "", strconv.FormatInt(t.N, 10),
				exact(t.Estimate), exact(t.SE), lo, hi, ptr(t.Weight)}
			cw.Write(append(row, make([]string, len(scoreboardColumns)-len(row))...))
		}
	}
	cw.Flush()
	return cw.Error()
}
