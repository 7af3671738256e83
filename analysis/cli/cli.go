// Package cli is the `revealed analyze` command: the analysis of a CSV file
// exported from anywhere (a warehouse, a spreadsheet) with the same engine and
// the same report as the server.
//
// The file holds either one row per unit and metric (unit_id, variant,
// metric, value, …) or one row of sufficient statistics per metric and
// variant (metric, variant, kind, units, sum, sum_sq, …); the header says
// which. Per-unit files are streamed: the sums are accumulated row by row, so
// memory does not grow with the number of rows. It does grow with the number
// of distinct units, because the sample-ratio check counts distinct unit ids
// per variant (a 64-bit hash and a state number per unit, about 21 bytes
// each; see unitTable).
//
// A --responses file of survey answers (unit_id, question, answer) is held
// per unit (12 bytes a row) and joined to the per-unit rows as they stream:
// each say_do claim's table of said × did, and segments by answer.
//
// See README.md in this directory for the formats, the flags and examples.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// Exit statuses of Run.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in the command line, answered with exit status 2
// like a bad file.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

const usageText = `Usage: revealed analyze [flags] FILE.csv
       revealed analyze [flags] --events EVENTS.csv --metrics METRICS.json [--as-of TIME]

Analyses an experiment exported as CSV ("-" reads standard input): per-unit
rows (unit_id,variant,metric,value[,segment][,covariate][,denominator]) or
summary rows (metric,variant,kind,units,sum,sum_sq[,pre_sum,pre_sum_sq,pre_cross]
[,den_sum,den_sum_sq,den_cross][,segment]), detected from the header.
With --responses (unit_id,question,answer), per-unit rows only.
With --events, raw outcomes (unit_id,variant,exposed_at,metric,value,ts[,id])
formed per unit by the metrics of METRICS.json ({"metrics": [...]}, as the API
defines them: source, window, aggregation), as the server forms them.

Flags:
  --format text|json|csv   output format (default text); json is the server's report
  --control KEY            control variant (default: "control", else the first variant seen)
  --alpha A                significance level in (0, 0.5) (default 0.05)
  --correction holm|bh|none  multiple-comparison correction (default holm)
  --sequential NSTAR       always-valid confidence sequences tuned at NSTAR units
  --weights k=w,...        configured traffic weights for the SRM check (default equal)
  --kind metric=KIND       binary, mean or ratio, overriding detection (repeatable)
  --cap metric=VALUE|pNN   cap each unit's value at VALUE or at the NNth percentile
                           of all units' values (per-unit input; repeatable)
  --lower-is-better METRIC a decrease is an improvement (repeatable)
  --prior metric=MEAN:VAR  a proper Gaussian prior N(MEAN, VAR) on the metric's relative
                           effect for chance_to_win (default: flat; repeatable)
  --claims FILE.json       claims to test (a JSON array; see README)
  --responses FILE.csv     survey answers (unit_id,question,answer; a unit's first
                           row per question counts) for say_do claims (per-unit input)
  --segment-answers Q,...  also report segments by the answer to these questions
                           (needs --responses; repeatable)
  --experiment NAME        experiment name in the report (default: the file name)
  --events FILE.csv        raw outcome events instead of FILE.csv ("-": standard input)
  --metrics FILE.json      the metrics to form from --events
  --as-of TIME             report time for --events (RFC 3339): a unit whose window
                           ends after it is immature (default: the latest time in the file)
  --factors FILE.json      a factorial design ({"factors": [...]} as the API takes it):
                           the variants are its cells ("agent=human,wait_minutes=10"),
                           the first cell the control; adds main effects, interactions,
                           slopes and exchange rates, and allows tradeoff claims

Exit status: 0 on success, 2 on bad usage or a bad file, 1 on other failures.
`

// options are the parsed command line.
type options struct {
	file        string
	format      string
	control     string
	alpha       float64
	correction  analysis.Correction
	nStar       float64 // 0: fixed-horizon analysis
	weights     []weight
	kinds       map[string]analysis.Kind
	caps        map[string]capSpec
	lowerBetter map[string]bool
	priors      map[string]analysis.Prior
	claims      string
	experiment  string
	responses   string
	// answerSegments are the questions whose answers split the report.
	answerSegments []string
	// events, metricsFile and asOf are the events input (events.go).
	events, metricsFile, asOfText string
	asOf                          *time.Time
	// factorsFile names the --factors file; factors is it parsed.
	factorsFile string
	factors     *factorsFile
}

type weight struct {
	variant string
	w       float64
}

// Run runs `revealed analyze` with args (the arguments after "analyze") and
// returns the exit status: 0 on success, 2 on bad usage or a bad input file
// (the message names the line and column), 1 on any other failure.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return command("analyze", usageText, args, stdout, stderr, parseArgs, func(o options) error {
		return run(ctx, o, stdin, stdout, stderr)
	})
}

// command runs one revealed command: parse its arguments, print its usage
// for -h, run it, and map the outcome to an exit status (exitStatus).
func command[O any](name, usage string, args []string, stdout, stderr io.Writer, parse func([]string) (O, error), run func(O) error) int {
	o, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err == nil {
		err = run(o)
	}
	return exitStatus(name, err, stderr)
}

// exitStatus reports err for the command name and returns the exit status
// every revealed command uses: 0 on success, 2 for bad usage or a bad file
// (the message names the file, line and column), 1 for anything else.
func exitStatus(name string, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "revealed %s: %v\n", name, err)
	var ue *usageError
	var le *lineError
	if errors.As(err, &ue) || errors.As(err, &le) {
		if ue != nil {
			fmt.Fprintf(stderr, "Run \"revealed %s -h\" for usage.\n", name)
		}
		return exitUsage
	}
	return exitFailure
}

// parseInterleaved parses fs over args again after each positional
// argument, so that flags may come before or after file names, and returns
// the file names.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return files, nil
		}
		files = append(files, args[0])
		args = args[1:]
	}
}

func parseArgs(args []string) (options, error) {
	o := options{
		kinds:       map[string]analysis.Kind{},
		caps:        map[string]capSpec{},
		lowerBetter: map[string]bool{},
		priors:      map[string]analysis.Prior{},
	}
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.format, "format", "text", "")
	fs.StringVar(&o.control, "control", "", "")
	fs.Float64Var(&o.alpha, "alpha", analysis.DefaultAlpha, "")
	correction := fs.String("correction", string(analysis.Holm), "")
	seq := fs.String("sequential", "", "")
	weights := fs.String("weights", "", "")
	fs.Func("kind", "", func(s string) error {
		return eachPair(s, func(k, v string) error {
			switch kind := analysis.Kind(v); kind {
			case analysis.Binary, analysis.Mean, analysis.Ratio:
				o.kinds[k] = kind
				return nil
			}
			return fmt.Errorf("kind %q: want binary, mean or ratio", v)
		})
	})
	fs.Func("cap", "", func(s string) error {
		return eachPair(s, func(k, v string) error {
			if pct, ok := strings.CutPrefix(v, "p"); ok {
				q, err := parseFinite(pct)
				if err != nil || q <= 0 || q >= 100 {
					return fmt.Errorf("percentile %q: want p followed by a number in (0, 100), e.g. p99", v)
				}
				o.caps[k] = capSpec{percentile: q / 100}
				return nil
			}
			c, err := parseFinite(v)
			if err != nil {
				return err
			}
			o.caps[k] = capSpec{at: c}
			return nil
		})
	})
	fs.Func("prior", "", func(s string) error {
		return eachPair(s, func(k, v string) error {
			mean, variance, ok := strings.Cut(v, ":")
			m, err1 := parseFinite(mean)
			va, err2 := parseFinite(variance)
			if !ok || err1 != nil || err2 != nil || va <= 0 {
				return fmt.Errorf("prior %q: want MEAN:VARIANCE with a variance > 0, e.g. 0:0.09", v)
			}
			o.priors[k] = analysis.Prior{Mean: m, Variance: va}
			return nil
		})
	})
	fs.Func("lower-is-better", "", func(s string) error {
		for m := range strings.SplitSeq(s, ",") {
			if m = strings.TrimSpace(m); m != "" {
				o.lowerBetter[m] = true
			}
		}
		return nil
	})
	fs.StringVar(&o.claims, "claims", "", "")
	fs.StringVar(&o.responses, "responses", "", "")
	fs.Func("segment-answers", "", func(s string) error {
		for q := range strings.SplitSeq(s, ",") {
			if q = strings.TrimSpace(q); q != "" && !slices.Contains(o.answerSegments, q) {
				o.answerSegments = append(o.answerSegments, q)
			}
		}
		return nil
	})
	fs.StringVar(&o.experiment, "experiment", "", "")
	fs.StringVar(&o.events, "events", "", "")
	fs.StringVar(&o.metricsFile, "metrics", "", "")
	fs.StringVar(&o.asOfText, "as-of", "", "")
	fs.StringVar(&o.factorsFile, "factors", "", "")

	files, err := parseInterleaved(fs, args)
	if err != nil {
		return o, err
	}
	switch {
	case o.events != "" || o.metricsFile != "" || o.asOfText != "":
		if err := o.checkEventsArgs(files); err != nil {
			return o, err
		}
	case len(files) == 0:
		return o, usagef("no input file (use - for standard input)")
	case len(files) == 1:
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
	switch c := analysis.Correction(*correction); c {
	case analysis.Holm, analysis.BH, analysis.NoCorrection:
		o.correction = c
	default:
		return o, usagef("--correction %q: want holm, bh or none", *correction)
	}
	if *seq != "" {
		n, err := parseFinite(*seq)
		if err != nil || n <= 0 {
			return o, usagef("--sequential %q: want a positive number of units (N*)", *seq)
		}
		o.nStar = n
	}
	if *weights != "" {
		seen := map[string]bool{}
		err := eachPair(*weights, func(k, v string) error {
			w, err := parseFinite(v)
			if err != nil || w <= 0 {
				return fmt.Errorf("weight %q of %q: want a positive number", v, k)
			}
			if seen[k] {
				return fmt.Errorf("variant %q given twice", k)
			}
			seen[k] = true
			o.weights = append(o.weights, weight{k, w})
			return nil
		})
		if err != nil {
			return o, usagef("--weights: %v", err)
		}
	}
	for m, k := range o.kinds {
		if _, capped := o.caps[m]; capped && k == analysis.Binary {
			return o, usagef("--cap %s: a binary metric cannot be capped", m)
		}
	}
	if len(o.answerSegments) > 0 && o.responses == "" {
		return o, usagef("--segment-answers needs --responses, the file of answers")
	}
	if o.experiment == "" && o.file != "-" {
		o.experiment = strings.TrimSuffix(filepath.Base(o.file), filepath.Ext(o.file))
	}
	return o, nil
}

// eachPair calls f for each key=value of a comma-separated list.
func eachPair(s string, f func(k, v string) error) error {
	for p := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%q: want key=value", p)
		}
		if err := f(k, v); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context, o options, stdin io.Reader, stdout, stderr io.Writer) error {
	claims := &claimsFile{name: o.claims}
	if o.claims != "" {
		var err error
		if claims, err = readClaimsFile(o.claims); err != nil {
			return err
		}
	}
	if o.factorsFile != "" {
		var err error
		if o.factors, err = readFactorsFile(o.factorsFile); err != nil {
			return err
		}
	}
	ro := readOptions{kinds: o.kinds, caps: o.caps}
	if o.responses != "" {
		rs, err := openResponses(ctx, o.responses)
		if err != nil {
			return err
		}
		ro.responses = rs
		if ro.answerSegments, err = answerSegments(o, rs, claims.claims); err != nil {
			return err
		}
		for _, c := range claims.claims {
			if c.Kind == analysis.ClaimSayDo {
				ro.sayDo = append(ro.sayDo, c)
			}
		}
	}
	claims.responses = o.responses
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
	var d *data
	var warnings []string
	if o.events != "" {
		mf, err := readMetricsFile(o.metricsFile)
		if err != nil {
			return err
		}
		o.useMetricSettings(mf)
		if d, err = readEvents(ctx, in, name, mf, o.asOf); err != nil {
			return err
		}
	} else {
		var err error
		if d, err = readData(ctx, in, name, ro); err != nil {
			return err
		}
		// An events file leaves units out of a metric by design (immature,
		// without a value) and says so in its own notes.
		warnings = missingWarnings(d)
	}
	input, err := buildInput(d, o, name)
	if err != nil {
		return err
	}
	if err := claims.validate(input.Design()); err != nil {
		return err
	}
	input.Claims = claims.claims
	r, err := analysis.Analyze(input)
	if err != nil {
		return usagef("%v", err)
	}
	r.Warnings = append(append(r.Warnings, warnings...), d.warnings...)
	for _, w := range r.Warnings {
		fmt.Fprintln(stderr, "revealed analyze: warning:", w)
	}
	switch o.format {
	case "json":
		err = writeJSON(stdout, r)
	case "csv":
		err = analysis.WriteCSV(stdout, r)
	default:
		err = writeText(stdout, r, d)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// buildInput turns the file's statistics and the flags into the analysis
// input: the control, the weights, the metrics' direction and the
// sequential settings.
func buildInput(d *data, o options, name string) (analysis.Input, error) {
	in := analysis.Input{
		Experiment: o.experiment,
		Alpha:      o.alpha,
		Correction: o.correction,
		Metrics:    d.metrics,
		Segments:   d.segments,
		Assigned:   d.assigned,
		Questions:  d.questions,
		SayDo:      d.sayDo,
	}
	if o.nStar > 0 {
		in.Sequential = &analysis.Sequential{NStar: o.nStar}
	}
	if len(d.variants) < 2 {
		return in, &lineError{File: name, Line: d.lastLine,
			Msg: fmt.Sprintf("%d variant(s) in the file (%s); at least 2 are needed", len(d.variants), strings.Join(d.variants, ", "))}
	}
	variants := d.variants
	control := o.control
	if o.factors != nil {
		var err error
		if variants, err = o.factors.variants(d.variants, name); err != nil {
			return in, err
		}
		in.Factors = o.factors.analysisFactors()
		if control == "" {
			control = variants[0]
		}
	}
	if control == "" {
		control = variants[0]
		for _, v := range variants {
			if v == "control" {
				control = v
			}
		}
	}
	weights := map[string]float64{}
	for _, w := range o.weights {
		weights[w.variant] = w.w
	}
	known := map[string]bool{}
	for _, v := range variants {
		known[v] = true
		w := 1.0
		if len(o.weights) > 0 {
			var ok bool
			if w, ok = weights[v]; !ok {
				return in, usagef("--weights: no weight for variant %q (variants: %s)", v, strings.Join(variants, ", "))
			}
		}
		in.Variants = append(in.Variants, analysis.Variant{Key: v, Weight: w, Control: v == control})
	}
	if !known[control] {
		return in, usagef("--control %q: no such variant in %s (variants: %s)", control, name, strings.Join(variants, ", "))
	}
	for _, w := range o.weights {
		if !known[w.variant] {
			return in, usagef("--weights: unknown variant %q (variants: %s)", w.variant, strings.Join(variants, ", "))
		}
	}
	metrics := map[string]bool{}
	for i := range in.Metrics {
		m := &in.Metrics[i]
		metrics[m.Metric] = true
		m.HigherIsBetter = !o.lowerBetter[m.Metric]
		m.Prior = o.prior(m.Metric)
	}
	for _, s := range in.Segments {
		for i := range s.Metrics {
			s.Metrics[i].HigherIsBetter = !o.lowerBetter[s.Metrics[i].Metric]
			s.Metrics[i].Prior = o.prior(s.Metrics[i].Metric)
		}
	}
	for _, flagged := range []map[string]bool{o.lowerBetter, keys(o.kinds), keys(o.caps), keys(o.priors)} {
		for _, m := range sortedKeys(flagged) {
			if !metrics[m] {
				return in, usagef("unknown metric %q in a flag (metrics: %s)", m, strings.Join(sortedKeys(metrics), ", "))
			}
		}
	}
	return in, nil
}

func openResponses(ctx context.Context, path string) (*responses, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--responses: %v", err)
	}
	defer f.Close()
	return readResponses(ctx, f, path)
}

// answerSegments lists the questions whose answers split the report: those
// of --segment-answers, and those a claim's segment names ("answer:Q=…"),
// as the server adds the attributes its claims name.
func answerSegments(o options, rs *responses, claims []analysis.Claim) ([]string, error) {
	out := slices.Clone(o.answerSegments)
	for _, q := range out {
		if _, ok := rs.questions.index[q]; !ok {
			return nil, usagef("--segment-answers: no question %q in %s (questions: %s)", q, rs.file, strings.Join(rs.questions.list, ", "))
		}
	}
	for _, c := range claims {
		for _, attr := range c.SegmentAttributes() {
			q, ok := strings.CutPrefix(attr, answerSegmentPrefix)
			if _, known := rs.questions.index[q]; ok && known && !slices.Contains(out, q) {
				out = append(out, q)
			}
		}
	}
	return out, nil
}

func parseFinite(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || isNaNOrInf(f) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return f, nil
}

func keys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// prior returns the metric's --prior, or nil for the flat prior.
func (o *options) prior(metric string) *analysis.Prior {
	p, ok := o.priors[metric]
	if !ok {
		return nil
	}
	return &p
}
