package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

func randomHex() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// fieldErrors maps form field names (the service's FieldError paths, e.g.
// "variants[1].weight") to their messages. Messages whose field has no input
// move to the nearest enclosing field that has one, and else to the top.
type fieldErrors map[string][]string

// inputID is the element id of the input for a field path.
func inputID(name string) string {
	r := strings.NewReplacer("[", "-", "]", "", ".", "-", "_", "-")
	return "f-" + r.Replace(name)
}

var lastPart = regexp.MustCompile(`(\.[^.\[\]]+|\[\d+\])$`)

// place assigns each error to the closest field in known.
func place(errs []experiments.FieldError, known map[string]bool) (fieldErrors, []string) {
	out := fieldErrors{}
	var general []string
	for _, e := range errs {
		f := e.Field
		for !known[f] {
			parent := lastPart.ReplaceAllString(f, "")
			if parent == f {
				f = ""
				break
			}
			f = parent
		}
		if f == "" {
			general = append(general, e.String())
			continue
		}
		msg := e.Detail
		if f != e.Field { // say which part, e.g. value[1]
			msg = strings.TrimPrefix(e.Field, f) + ": " + msg
			msg = strings.TrimLeft(msg, ".")
		}
		out[f] = append(out[f], msg)
	}
	return out, general
}

// field is one input as the templates draw it.
type field struct {
	Name, ID, Label, Value, Hint, Type string
	Options                            []option
	Errs                               []string
	Checked, Disabled, Required        bool
	HideLabel                          bool
	// GroupErr is the id of an error shown outside the field that is
	// about it too, such as a range's error beside its two ends.
	GroupErr string
}

type option struct {
	Value, Label string
	Selected     bool
}

func (f field) ErrID() string  { return "err-" + f.ID }
func (f field) HintID() string { return "hint-" + f.ID }

// DescribedBy lists the ids that describe the input: its hint and errors.
func (f field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.HintID())
	}
	if len(f.Errs) > 0 {
		ids = append(ids, f.ErrID())
	}
	if f.GroupErr != "" {
		ids = append(ids, f.GroupErr)
	}
	return strings.Join(ids, " ")
}

// Invalid reports whether the input is marked invalid: an error of its own
// or of its group.
func (f field) Invalid() bool { return len(f.Errs) > 0 || f.GroupErr != "" }

func options(selected string, values ...string) []option {
	var out []option
	for i := 0; i+1 < len(values); i += 2 {
		out = append(out, option{Value: values[i], Label: values[i+1], Selected: values[i] == selected})
	}
	return out
}

// The experiment form, as strings, so that what was typed comes back as typed.

type experimentForm struct {
	Key, Name, Hypothesis, Unit, Salt, Traffic string
	Variants                                   []variantRow
	Control                                    int
	Targeting                                  []conditionRow
	Metrics                                    []metricRow
	Alpha, Correction, NStar, Lookback, Segs   string
	Sequential                                 bool
	// Factors, when any row is filled in, make the experiment a factorial
	// one: the service builds its variants, and the variant rows are
	// ignored.
	Factors []factorRow
	// LayerKey, LayerLo and LayerHi are the experiment's layer and its
	// range [lo, hi), all empty when it joins none.
	LayerKey, LayerLo, LayerHi string
	// layers are the choices of the layer select; not from the form.
	layers []*experiments.Layer
}

type variantRow struct{ Key, Name, Weight string }

// factorRow is one factor as typed: its levels are comma-separated.
type factorRow struct {
	Key, Levels string
	Numeric     bool
}

func (r factorRow) blank() bool { return r.Key == "" && r.Levels == "" }

// levels splits the typed levels; empty items (a trailing comma) are dropped.
func (r factorRow) levels() []string {
	var out []string
	for _, l := range strings.Split(r.Levels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

type conditionRow struct{ Attribute, Op, Value string }

type metricRow struct {
	Key, Kind, Numerator, Denominator string
	HigherIsBetter                    bool
	// Source, From, To (spans such as "24h"), Aggregation and Peak define
	// which outcomes count and how they become a unit's value.
	Source, From, To, Aggregation, Peak string
}

// blank reports whether the row was left empty; the selects' defaults do
// not count as filled in.
func (r metricRow) blank() bool {
	return r.Key == "" && r.Numerator == "" && r.Denominator == "" && r.Source == "" && r.From == "" && r.To == "" &&
		r.Aggregation == "" && r.Peak == ""
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formFromExperiment(e *experiments.Experiment) experimentForm {
	s := e.Analysis.WithDefaults()
	f := experimentForm{
		Key: e.Key, Name: e.Name, Hypothesis: e.Hypothesis, Unit: e.Unit, Salt: e.Salt, Traffic: num(e.Traffic),
		Alpha: num(s.Alpha), Correction: s.Correction, NStar: num(s.NStar), Lookback: strconv.Itoa(s.CUPEDLookbackDays),
		Segs: strings.Join(s.Segments, ", "), Sequential: *s.Sequential, Control: -1,
	}
	for i, v := range e.Variants {
		f.Variants = append(f.Variants, variantRow{Key: v.Key, Name: v.Name, Weight: num(v.Weight)})
		if v.Control {
			f.Control = i
		}
	}
	for _, fc := range e.Factors {
		texts := make([]string, len(fc.Levels))
		for i, l := range fc.Levels {
			texts[i] = l.Text
		}
		f.Factors = append(f.Factors, factorRow{Key: fc.Key, Levels: strings.Join(texts, ", "), Numeric: fc.Numeric})
	}
	if l := e.Layer; l != nil {
		f.LayerKey, f.LayerLo, f.LayerHi = l.Key, num(l.Range[0]), num(l.Range[1])
	}
	for _, c := range e.Targeting {
		f.Targeting = append(f.Targeting, conditionRow{Attribute: c.Attribute, Op: string(c.Op), Value: formatValue(c.Value)})
	}
	f.Metrics = metricRowsOf(e.Metrics)
	return f
}

// metricRowsOf writes metrics as the form's rows.
func metricRowsOf(ms []experiments.Metric) []metricRow {
	var out []metricRow
	for _, m := range ms {
		r := metricRow{Key: m.Key, Kind: string(m.Kind), Numerator: m.Numerator, Denominator: m.Denominator, HigherIsBetter: m.HigherIsBetter,
			Source: m.Source, Aggregation: string(m.Aggregation), Peak: m.Peak}
		if m.Window != nil {
			r.From, r.To = windowBounds(*m.Window)
		}
		out = append(out, r)
	}
	return out
}

// spanText is Span.String, save that a span under two days that is whole
// hours stays in hours: people write a day's window as "24h", not "1d".
func spanText(s experiments.Span) string {
	d := time.Duration(s)
	if d > 0 && d < 48*time.Hour && d%time.Hour == 0 {
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return s.String()
}

// windowBounds writes a window's bounds as the form shows them. A zero
// start takes the end's unit ("0h" before "24h"), which reads better than
// "0d" and parses back to the same window.
func windowBounds(w experiments.Window) (from, to string) {
	from = spanText(w.From)
	if w.To != nil {
		to = spanText(*w.To)
	}
	if w.From == 0 {
		unit := "h"
		if to != "" {
			unit = to[len(to)-1:]
		}
		from = "0" + unit
	}
	return from, to
}

func newForm() experimentForm {
	d := experiments.AnalysisSettings{}.WithDefaults()
	return experimentForm{
		Unit: "customer_id", Traffic: "1", Control: 0,
		Variants: []variantRow{{Key: "control", Weight: "1"}, {Key: "treatment", Weight: "1"}},
		Metrics:  []metricRow{{Kind: "binary", HigherIsBetter: true}},
		Alpha:    num(d.Alpha), Correction: d.Correction, NStar: num(d.NStar), Lookback: strconv.Itoa(d.CUPEDLookbackDays),
		Sequential: true,
	}
}

// formatValue writes a targeting value so that parseScalar reads it back:
// text that would read as a number or a boolean is quoted.
func formatValue(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = formatValue(x)
		}
		return strings.Join(parts, ", ")
	}
	switch x := v.(type) {
	case string:
		if _, isStr := parseScalar(x).(string); !isStr || strings.Contains(x, ",") {
			return strconv.Quote(x)
		}
		return x
	case float64:
		return num(x)
	}
	return fmt.Sprint(v)
}

func parseScalar(s string) any {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return f
	}
	return s
}

// splitList splits "a, b, \"c, d\"" on commas outside quotes.
func splitList(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ',' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" || len(out) > 0 {
		out = append(out, t)
	}
	return out
}

func formFromPost(v url.Values) experimentForm {
	f := experimentForm{
		Key: strings.TrimSpace(v.Get("key")), Name: strings.TrimSpace(v.Get("name")), Hypothesis: strings.TrimSpace(v.Get("hypothesis")),
		Unit: strings.TrimSpace(v.Get("unit")), Salt: v.Get("salt"), Traffic: strings.TrimSpace(v.Get("traffic")),
		Alpha: strings.TrimSpace(v.Get("analysis.alpha")), Correction: v.Get("analysis.correction"),
		NStar: strings.TrimSpace(v.Get("analysis.n_star")), Lookback: strings.TrimSpace(v.Get("analysis.cuped_lookback_days")),
		Segs: v.Get("analysis.segments"), Sequential: v.Get("analysis.sequential") != "", Control: -1,
		LayerKey: strings.TrimSpace(v.Get("layer.key")), LayerLo: strings.TrimSpace(v.Get("layer.lo")), LayerHi: strings.TrimSpace(v.Get("layer.hi")),
	}
	if c, err := strconv.Atoi(v.Get("control")); err == nil {
		f.Control = c
	}
	for i := 0; i < 50; i++ {
		p := fmt.Sprintf("variants[%d].", i)
		if _, ok := v[p+"key"]; !ok {
			break
		}
		f.Variants = append(f.Variants, variantRow{Key: strings.TrimSpace(v.Get(p + "key")), Name: strings.TrimSpace(v.Get(p + "name")), Weight: strings.TrimSpace(v.Get(p + "weight"))})
	}
	for i := 0; i < 50; i++ {
		p := fmt.Sprintf("factors[%d].", i)
		if _, ok := v[p+"key"]; !ok {
			break
		}
		f.Factors = append(f.Factors, factorRow{Key: strings.TrimSpace(v.Get(p + "key")), Levels: strings.TrimSpace(v.Get(p + "levels")),
			Numeric: v.Get(p+"numeric") != ""})
	}
	for i := 0; i < 50; i++ {
		p := fmt.Sprintf("targeting[%d].", i)
		if _, ok := v[p+"attribute"]; !ok {
			break
		}
		f.Targeting = append(f.Targeting, conditionRow{Attribute: strings.TrimSpace(v.Get(p + "attribute")), Op: v.Get(p + "op"), Value: strings.TrimSpace(v.Get(p + "value"))})
	}
	f.Metrics = metricRowsFromPost(v)
	return f
}

// metricRowsFromPost reads the metric rows of a form, as typed.
func metricRowsFromPost(v url.Values) []metricRow {
	var out []metricRow
	for i := 0; i < 50; i++ {
		p := fmt.Sprintf("metrics[%d].", i)
		if _, ok := v[p+"key"]; !ok {
			break
		}
		out = append(out, metricRow{Key: strings.TrimSpace(v.Get(p + "key")), Kind: v.Get(p + "kind"),
			Numerator: strings.TrimSpace(v.Get(p + "numerator")), Denominator: strings.TrimSpace(v.Get(p + "denominator")),
			HigherIsBetter: v.Get(p+"higher_is_better") != "",
			Source:         strings.TrimSpace(v.Get(p + "source")), From: strings.TrimSpace(v.Get(p + "window.from")),
			To: strings.TrimSpace(v.Get(p + "window.to")), Aggregation: v.Get(p + "aggregation"), Peak: v.Get(p + "peak")})
	}
	return out
}

// lock replaces the fields a started experiment may not change with their
// current values: the form shows them disabled, and browsers do not send
// disabled inputs.
func (f *experimentForm) lock(cur *experiments.Experiment) {
	c := formFromExperiment(cur)
	if cur.Locked("variants") {
		f.Variants, f.Control = c.Variants, c.Control
	}
	if cur.Locked("factors") {
		f.Factors = c.Factors
	}
	if cur.Locked("salt") {
		f.Salt = c.Salt
	}
	if cur.Locked("layer") {
		f.LayerKey, f.LayerLo, f.LayerHi = c.LayerKey, c.LayerLo, c.LayerHi
	}
	if cur.Locked("traffic") {
		f.Traffic = c.Traffic
	}
	if cur.Locked("unit") {
		f.Unit = c.Unit
	}
	if cur.Locked("analysis.sequential") {
		f.Sequential = c.Sequential
	}
	if cur.Locked("analysis.n_star") {
		f.NStar = c.NStar
	}
}

// rowMap records which form row each parsed list item came from: blank rows
// are skipped, so "variants[1]" of the input may be row 2 of the form.
type rowMap map[string][]int

// input turns the form into the service's input. Parse errors (text where a
// number belongs) are returned instead; the service reports everything else.
func (f experimentForm) input(existing *experiments.Experiment) (experiments.ExperimentInput, rowMap, []experiments.FieldError) {
	var errs []experiments.FieldError
	bad := func(field, detail string) { errs = append(errs, experiments.FieldError{Field: field, Detail: detail}) }
	number := func(field, s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			bad(field, "must be a number")
		}
		return x
	}
	in := experiments.ExperimentInput{Key: f.Key, Name: f.Name, Hypothesis: f.Hypothesis, Unit: f.Unit, Salt: f.Salt, Targeting: []assign.Condition{}}
	rows := rowMap{}
	if f.Traffic != "" {
		in.Traffic = ptr(number("traffic", f.Traffic))
	}
	for i, r := range f.Factors {
		if r.blank() {
			continue
		}
		fc := experiments.Factor{Key: r.Key, Numeric: r.Numeric}
		for _, l := range r.levels() {
			// A level of a numeric factor that is not a number goes as text,
			// and the service says which level is wrong.
			if x, err := strconv.ParseFloat(l, 64); r.Numeric && err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
				fc.Levels = append(fc.Levels, experiments.NumberLevel(x))
			} else {
				fc.Levels = append(fc.Levels, experiments.TextLevel(l))
			}
		}
		rows["factors"] = append(rows["factors"], i)
		in.Factors = append(in.Factors, fc)
	}
	if len(in.Factors) > 0 {
		// The service builds the cells; a draft whose factors are unchanged
		// keeps the weights and names its cells already have.
		in.Variants = keptCells(in.Factors, existing)
	}
	for i, r := range f.Variants {
		if len(in.Factors) > 0 {
			break
		}
		if r.Key == "" && r.Name == "" && r.Weight == "" {
			continue
		}
		v := assign.Variant{Key: r.Key, Name: r.Name, Control: i == f.Control}
		if r.Weight == "" {
			bad(fmt.Sprintf("variants[%d].weight", i), "is required: a number greater than 0")
		} else {
			v.Weight = number(fmt.Sprintf("variants[%d].weight", i), r.Weight)
		}
		rows["variants"] = append(rows["variants"], i)
		in.Variants = append(in.Variants, v)
	}
	for i, r := range f.Targeting {
		if r.Attribute == "" && r.Value == "" {
			continue
		}
		c := assign.Condition{Attribute: r.Attribute, Op: assign.Op(r.Op)}
		switch c.Op {
		case assign.OpIn, assign.OpNotIn:
			var list []any
			for _, s := range splitList(r.Value) {
				list = append(list, parseScalar(s))
			}
			c.Value = list
		case assign.OpLt, assign.OpLte, assign.OpGt, assign.OpGte:
			c.Value = number(fmt.Sprintf("targeting[%d].value", i), r.Value)
		default:
			c.Value = parseScalar(r.Value)
		}
		rows["targeting"] = append(rows["targeting"], i)
		in.Targeting = append(in.Targeting, c)
	}
	var metricRows []int
	in.Metrics, metricRows = metricsInput(f.Metrics, existing, bad)
	if len(metricRows) > 0 {
		rows["metrics"] = metricRows
	}
	in.Layer = f.layerRange(bad)
	s := experiments.AnalysisSettings{Correction: f.Correction, Sequential: ptr(f.Sequential), Segments: []string{}}
	if existing != nil {
		s.Segments = existing.Analysis.Segments
	}
	s.Alpha = number("analysis.alpha", f.Alpha)
	s.NStar = number("analysis.n_star", f.NStar)
	if n, err := strconv.Atoi(f.Lookback); err != nil {
		bad("analysis.cuped_lookback_days", "must be a whole number of days, or -1 to turn CUPED off")
	} else {
		s.CUPEDLookbackDays = n
	}
	s.Segments = nil
	for _, a := range strings.Split(f.Segs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			s.Segments = append(s.Segments, a)
		}
	}
	in.Analysis = &s
	return in, rows, errs
}

// metricsInput turns the filled-in metric rows into metrics, and says
// which form row each came from; a span that does not parse is reported
// through bad. Settings the form does not show (caps, CUPED, priors) are
// kept from existing.
func metricsInput(rows []metricRow, existing *experiments.Experiment, bad func(field, detail string)) ([]experiments.Metric, []int) {
	span := func(field, s string) experiments.Span {
		d, err := experiments.ParseSpan(s)
		if err != nil {
			bad(field, err.Error())
		}
		return d
	}
	var out []experiments.Metric
	var from []int
	for i, r := range rows {
		if r.blank() {
			continue
		}
		m := experiments.Metric{Key: r.Key, Kind: experiments.MetricKind(r.Kind), HigherIsBetter: r.HigherIsBetter, Numerator: r.Numerator, Denominator: r.Denominator,
			Source: r.Source, Aggregation: experiments.Aggregation(r.Aggregation), Peak: r.Peak}
		// An empty start with an end means from exposure; with neither there
		// is no window at all.
		if r.From != "" || r.To != "" {
			m.Window = &experiments.Window{}
			if r.From != "" {
				m.Window.From = span(fmt.Sprintf("metrics[%d].window.from", i), r.From)
			}
			if r.To != "" {
				m.Window.To = ptr(span(fmt.Sprintf("metrics[%d].window.to", i), r.To))
			}
		}
		if existing != nil { // settings the form does not show are kept
			if old, ok := existing.Metric(r.Key); ok {
				m.Cap, m.CUPED, m.Prior = old.Cap, old.CUPED, old.Prior
			}
		}
		from = append(from, i)
		out = append(out, m)
	}
	return out, from
}

// layerRange is the experiment's layer range as typed, or nil when the
// layer and both ends are empty. Ends that are missing or not numbers are
// reported through bad; the service checks the rest (0 ≤ lo < hi ≤ 1, a
// layer that exists).
func (f experimentForm) layerRange(bad func(field, detail string)) *experiments.LayerRange {
	if f.LayerKey == "" && f.LayerLo == "" && f.LayerHi == "" {
		return nil
	}
	lr := &experiments.LayerRange{Key: f.LayerKey}
	if f.LayerKey == "" {
		bad("layer.key", "choose the layer this range is of, or clear the range")
	}
	if f.LayerLo == "" || f.LayerHi == "" {
		bad("layer.range", "give both ends, from 0 to 1, e.g. 0 and 0.5")
		return lr
	}
	for i, s := range []string{f.LayerLo, f.LayerHi} {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			bad("layer.range", fmt.Sprintf("%s end %q must be a number from 0 to 1", []string{"the lower", "the upper"}[i], s))
			continue
		}
		lr.Range[i] = x
	}
	return lr
}

// keptCells returns existing's variants, without the levels the service
// sets, when they are exactly the cells of factors; else nil, for the
// service to build the cells with equal weights.
func keptCells(factors []experiments.Factor, existing *experiments.Experiment) []assign.Variant {
	if existing == nil || len(existing.Factors) == 0 {
		return nil
	}
	cells, err := analysis.FactorialCells(experiments.AnalysisFactors(factors))
	if err != nil || len(cells) != len(existing.Variants) {
		return nil
	}
	out := make([]assign.Variant, len(cells))
	for i, c := range cells {
		v := existing.Variants[i]
		if v.Key != c.Key {
			return nil
		}
		v.Factors = nil
		out[i] = v
	}
	return out
}

var rowPath = regexp.MustCompile(`^(variants|factors|targeting|metrics)\[(\d+)\]`)

// toFormRows rewrites a service field path into the form's row numbering.
func (r rowMap) toFormRows(field string) string {
	m := rowPath.FindStringSubmatch(field)
	if m == nil {
		return field
	}
	i, _ := strconv.Atoi(m[2])
	if i >= len(r[m[1]]) {
		return field
	}
	return fmt.Sprintf("%s[%d]%s", m[1], r[m[1]][i], field[len(m[0]):])
}

var levelPath = regexp.MustCompile(`^(factors\[(\d+)\]\.levels)\[(\d+)\]$`)

// nameLevel moves an error about one level of a factor (in form rows) to
// the factor's levels input, saying which level it is: "level 3 (“ten”):
// a numeric factor's levels must be numbers, e.g. 5".
func (f experimentForm) nameLevel(fe experiments.FieldError) experiments.FieldError {
	m := levelPath.FindStringSubmatch(fe.Field)
	if m == nil {
		return fe
	}
	i, _ := strconv.Atoi(m[2])
	j, _ := strconv.Atoi(m[3])
	if i >= len(f.Factors) {
		return fe
	}
	levels := f.Factors[i].levels()
	if j >= len(levels) {
		return fe
	}
	return experiments.FieldError{Field: m[1], Detail: fmt.Sprintf("level %d (“%s”): %s", j+1, levels[j], fe.Detail)}
}

// aggregationOptions are the choices of a metric's aggregation, in the
// order of experiments' list; "" leaves the kind's default.
var aggregationOptions = []string{
	"", "default (any if binary, else sum)",
	string(experiments.AggSum), "sum", string(experiments.AggCount), "count",
	string(experiments.AggAny), "any (1 if any > 0)", string(experiments.AggMean), "mean",
	string(experiments.AggMin), "min", string(experiments.AggMax), "max",
	string(experiments.AggFirst), "first", string(experiments.AggLast), "last",
	string(experiments.AggPeakEnd), "peak-end (peak and last, averaged)",
}

// editorView is the experiment form drawn as fields.
type editorView struct {
	New, Locked             bool
	Exp                     *experiments.Experiment
	Action                  string
	General                 []string
	Basics                  []field
	Variants                [][]field
	VariantsErr, ControlErr []string
	Targeting               [][]field
	TargetingErr            []string
	Metrics                 [][]field
	MetricsErr              []string
	Analysis                []field
	Claims                  []*experiments.Claim
	ErrorList               []errorLink
	// Factorial is set when the stored experiment has factors: its
	// variants are its cells, shown but not edited here.
	Factorial                  bool
	Factors                    [][]field
	FactorsErr                 []string
	FactorsLocked              bool
	MaxFactors, MaxFactorCells int
	// Layer is the layer select and the range's two ends; LayerRangeErr
	// the range's errors, shown beside both ends.
	Layer         []field
	LayerRangeErr []string
	LayerLocked   bool
}

// layerRangeErrID is the id of the layer range's error.
const layerRangeErrID = "err-f-layer-range"

// layerOptions are the layer select's choices: none, then every layer. A
// key that names no layer (as posted) stays selected, for the service's
// error beside it.
func layerOptions(selected string, layers []*experiments.Layer) []option {
	out := []option{{Value: "", Label: "— none: the experiment does not share a layer", Selected: selected == ""}}
	found := selected == ""
	for _, l := range layers {
		out = append(out, option{Value: l.Key, Label: l.Name + " (" + l.Key + ")", Selected: l.Key == selected})
		found = found || l.Key == selected
	}
	if !found {
		out = append(out, option{Value: selected, Label: selected + " (no such layer)", Selected: true})
	}
	return out
}

// metricFields draws metric rows as the editors' inputs, and records their
// names in known.
func metricFields(rows []metricRow, known map[string]bool) [][]field {
	var out [][]field
	for i, r := range rows {
		p := fmt.Sprintf("metrics[%d].", i)
		n := strconv.Itoa(i + 1)
		mk := func(name, label, value, typ string) field {
			known[p+name] = true
			return field{Name: p + name, ID: inputID(p + name), Label: "Metric " + n + label, Value: value, Type: typ, HideLabel: true}
		}
		kind := mk("kind", " kind", r.Kind, "select")
		kind.Options = options(r.Kind, "binary", "binary (converted or not)", "mean", "mean (per unit)", "ratio", "ratio (numerator ÷ denominator)")
		hib := mk("higher_is_better", ": higher is better", "on", "checkbox")
		hib.Checked = r.HigherIsBetter
		agg := mk("aggregation", " aggregation", r.Aggregation, "select")
		agg.Options = options(r.Aggregation, aggregationOptions...)
		peak := mk("peak", " peak (peak_end only)", r.Peak, "select")
		peak.Options = options(r.Peak, "", "—", "max", "max (highest)", "min", "min (e.g. minutes waited)")
		out = append(out, []field{
			mk("key", " key", r.Key, "text"),
			kind,
			hib,
			mk("numerator", " numerator (ratio only)", r.Numerator, "text"),
			mk("denominator", " denominator (ratio only)", r.Denominator, "text"),
			mk("source", " source event metric (default: its key)", r.Source, "text"),
			mk("window.from", " window from", r.From, "text"),
			mk("window.to", " window to", r.To, "text"),
			agg,
			peak,
		})
		known[fmt.Sprintf("metrics[%d]", i)] = true
	}
	return out
}

type errorLink struct{ Href, Text string }

func (f experimentForm) view(isNew bool, cur *experiments.Experiment, errs []experiments.FieldError) editorView {
	isLocked := func(field string) bool { return cur != nil && cur.Locked(field) }
	locked := cur != nil && cur.Status != experiments.StatusDraft
	v := editorView{New: isNew, Locked: locked, Factorial: cur != nil && len(cur.Factors) > 0, FactorsLocked: isLocked("factors"),
		MaxFactors: analysis.MaxFactors, MaxFactorCells: analysis.MaxFactorialCells}
	if v.Factorial { // the cells as stored, whatever was posted
		c := formFromExperiment(cur)
		f.Variants, f.Control = c.Variants, c.Control
	}
	known := map[string]bool{"variants": true, "factors": true, "targeting": true, "metrics": true}
	mk := func(name, label, value string, opts ...func(*field)) field {
		fl := field{Name: name, ID: inputID(name), Label: label, Value: value, Type: "text"}
		for _, o := range opts {
			o(&fl)
		}
		known[name] = true
		return fl
	}
	hint := func(h string) func(*field) { return func(f *field) { f.Hint = h } }
	typ := func(t string) func(*field) { return func(f *field) { f.Type = t } }
	hide := func(f *field) { f.HideLabel = true }
	disabledIf := func(b bool) func(*field) { return func(f *field) { f.Disabled = b } }
	lockedHint := "Locked: the experiment has started, and changing this would re-bucket customers."
	lockable := func(name, h string) []func(*field) {
		if isLocked(name) {
			return []func(*field){hint(lockedHint), disabledIf(true)}
		}
		return []func(*field){hint(h)}
	}

	key := mk("key", "Key", f.Key, hint("A slug: lower-case letters, digits, '-' and '_'. It cannot change later."), disabledIf(!isNew))
	key.Required = true
	v.Basics = []field{
		key,
		mk("name", "Name", f.Name),
		mk("hypothesis", "Hypothesis", f.Hypothesis, typ("textarea"), hint("What the survey says and what you expect customers to do.")),
		mk("unit", "Randomisation unit", f.Unit, lockable("unit", "The attribute that is randomised, e.g. customer_id.")...),
		mk("traffic", "Traffic share", f.Traffic, lockable("traffic", "Share of eligible units that enter, from above 0 to 1 (0.5 = 50%).")...),
		mk("salt", "Salt", f.Salt, lockable("salt", "Optional; defaults to the key.")...),
	}
	v.LayerLocked = isLocked("layer")
	layer := mk("layer.key", "Layer", f.LayerKey, typ("select"), disabledIf(v.LayerLocked))
	layer.Options = layerOptions(f.LayerKey, f.layers)
	if v.LayerLocked {
		layer.Hint = "Locked: the experiment has started, and changing its layer or range would move customers in or out."
	}
	v.Layer = []field{
		layer,
		mk("layer.lo", "Range from (lo, included)", f.LayerLo, typ("number"), disabledIf(v.LayerLocked)),
		mk("layer.hi", "Range to (hi, not included)", f.LayerHi, typ("number"), disabledIf(v.LayerLocked)),
	}
	known["layer"], known["layer.range"] = true, true
	variantsLocked := isLocked("variants") || v.Factorial
	for i, r := range f.Variants {
		p := fmt.Sprintf("variants[%d].", i)
		n := strconv.Itoa(i + 1)
		ctl := mk("control", "Variant "+n+" is the control", strconv.Itoa(i), typ("radio"), hide, disabledIf(variantsLocked))
		ctl.ID = inputID(p + "control")
		ctl.Checked = i == f.Control
		v.Variants = append(v.Variants, []field{
			mk(p+"key", "Variant "+n+" key", r.Key, hide, disabledIf(variantsLocked)),
			mk(p+"name", "Variant "+n+" name", r.Name, hide, disabledIf(variantsLocked)),
			mk(p+"weight", "Variant "+n+" weight", r.Weight, hide, disabledIf(variantsLocked), typ("number")),
			ctl,
		})
		known[fmt.Sprintf("variants[%d]", i)] = true
	}
	for i, r := range f.Factors {
		p := fmt.Sprintf("factors[%d].", i)
		n := strconv.Itoa(i + 1)
		numeric := mk(p+"numeric", "Factor "+n+" is numeric", "on", typ("checkbox"), hide, disabledIf(v.FactorsLocked))
		numeric.Checked = r.Numeric
		v.Factors = append(v.Factors, []field{
			mk(p+"key", "Factor "+n+" key", r.Key, hide, disabledIf(v.FactorsLocked)),
			mk(p+"levels", "Factor "+n+" levels", r.Levels, hide, disabledIf(v.FactorsLocked)),
			numeric,
		})
		known[fmt.Sprintf("factors[%d]", i)] = true
	}
	ops := []string{"eq", "equals", "neq", "does not equal", "in", "is one of", "not_in", "is none of", "lt", "<", "lte", "≤", "gt", ">", "gte", "≥"}
	for i, r := range f.Targeting {
		p := fmt.Sprintf("targeting[%d].", i)
		n := strconv.Itoa(i + 1)
		op := mk(p+"op", "Condition "+n+" operator", r.Op, typ("select"), hide)
		op.Options = options(r.Op, ops...)
		v.Targeting = append(v.Targeting, []field{
			mk(p+"attribute", "Condition "+n+" attribute", r.Attribute, hide),
			op,
			mk(p+"value", "Condition "+n+" value", r.Value, hide),
		})
		known[fmt.Sprintf("targeting[%d]", i)] = true
	}
	v.Metrics = metricFields(f.Metrics, known)
	corr := mk("analysis.correction", "Multiple-comparison correction", f.Correction, typ("select"))
	corr.Options = options(f.Correction, "holm", "Holm", "bh", "Benjamini–Hochberg", "none", "None")
	seqLocked := "Locked: fixed once the experiment has started, so peeking stays safe."
	seq := mk("analysis.sequential", "Sequential testing (always-valid intervals, safe to peek)", "on", typ("checkbox"), disabledIf(isLocked("analysis.sequential")))
	seq.Checked = f.Sequential
	if seq.Disabled {
		seq.Hint = seqLocked
	}
	nstar := mk("analysis.n_star", "Sequential tuning N*", f.NStar, hint("Total units at which the confidence sequence is tightest."), disabledIf(isLocked("analysis.n_star")))
	if nstar.Disabled {
		nstar.Hint = seqLocked
	}
	v.Analysis = []field{
		mk("analysis.alpha", "Significance level α", f.Alpha, hint("e.g. 0.05 for 95% intervals.")),
		corr, seq, nstar,
		mk("analysis.cuped_lookback_days", "CUPED look-back (days)", f.Lookback, hint("1 to 365, or −1 to turn CUPED off.")),
		mk("analysis.segments", "Segment attributes", f.Segs, hint("Comma-separated exposure attributes; empty means every attribute with 2 to 20 values.")),
	}
	known["analysis"] = true

	placed, general := place(errs, known)
	v.General = general
	attach := func(fs []field) {
		for i := range fs {
			if fs[i].Type == "radio" {
				continue
			}
			fs[i].Errs = placed[fs[i].Name]
			if len(fs[i].Errs) > 0 {
				v.ErrorList = append(v.ErrorList, errorLink{"#" + fs[i].ID, fs[i].Label + ": " + strings.Join(fs[i].Errs, "; ")})
			}
		}
	}
	attach(v.Basics)
	attach(v.Layer)
	v.LayerRangeErr = placed["layer.range"]
	if len(v.LayerRangeErr) > 0 {
		for i := 1; i < len(v.Layer); i++ {
			v.Layer[i].GroupErr = layerRangeErrID
		}
		v.ErrorList = append(v.ErrorList, errorLink{"#" + v.Layer[1].ID, "Layer range: " + strings.Join(v.LayerRangeErr, "; ")})
	}
	v.General = append(v.General, placed["layer"]...)
	for _, row := range v.Variants {
		attach(row)
	}
	for _, row := range v.Factors {
		attach(row)
	}
	for _, row := range v.Targeting {
		attach(row)
	}
	for _, row := range v.Metrics {
		attach(row)
	}
	attach(v.Analysis)
	rowErrs := func(prefix string, n int) []string {
		out := placed[prefix]
		for i := 0; i < n; i++ {
			for _, m := range placed[fmt.Sprintf("%s[%d]", prefix, i)] {
				out = append(out, fmt.Sprintf("row %d: %s", i+1, m))
			}
		}
		return out
	}
	v.VariantsErr = rowErrs("variants", len(f.Variants))
	v.FactorsErr = rowErrs("factors", len(f.Factors))
	v.TargetingErr = rowErrs("targeting", len(f.Targeting))
	v.MetricsErr = rowErrs("metrics", len(f.Metrics))
	v.General = append(v.General, placed["analysis"]...)
	for _, m := range v.VariantsErr {
		v.ErrorList = append(v.ErrorList, errorLink{"#variants", "Variants: " + m})
	}
	for _, m := range v.FactorsErr {
		v.ErrorList = append(v.ErrorList, errorLink{"#factors", "Factors: " + m})
	}
	for _, m := range v.TargetingErr {
		v.ErrorList = append(v.ErrorList, errorLink{"#targeting", "Targeting: " + m})
	}
	for _, m := range v.MetricsErr {
		v.ErrorList = append(v.ErrorList, errorLink{"#metrics", "Metrics: " + m})
	}
	return v
}

// withBlankRows adds empty rows to fill in, without JavaScript.
func (f experimentForm) withBlankRows() experimentForm {
	if len(f.Variants) < 10 && len(f.Factors) == 0 {
		f.Variants = append(f.Variants, variantRow{})
	}
	// Two factor rows to start a 2×k design, and one more while there is
	// room for another factor.
	for len(f.Factors) < 2 || (f.Factors[len(f.Factors)-1] != factorRow{} && len(f.Factors) < analysis.MaxFactors) {
		f.Factors = append(f.Factors, factorRow{})
	}
	f.Targeting = append(f.Targeting, conditionRow{Op: "eq"})
	if len(f.Metrics) < 20 {
		f.Metrics = append(f.Metrics, metricRow{Kind: "binary", HigherIsBetter: true})
	}
	return f
}

func (a *app) newExperiment(c *gin.Context) error {
	f := newForm().withBlankRows()
	var err error
	if f.layers, err = a.svc.Layers(c.Request.Context()); err != nil {
		return err
	}
	v := f.view(true, nil, nil)
	v.Action = "/experiments/new"
	a.render(c, http.StatusOK, "editor", "New experiment", v)
	return nil
}

func (a *app) createExperiment(c *gin.Context) error {
	f := formFromPost(c.Request.PostForm)
	in, rows, parseErrs := f.input(nil)
	var err error
	if len(parseErrs) > 0 {
		// Parse errors already name form rows: nothing to renumber.
		err, rows = experiments.Invalid("invalid experiment", parseErrs), nil
	} else {
		_, err = a.svc.CreateExperiment(c.Request.Context(), in)
	}
	if err != nil {
		return a.formError(c, f, rows, err, true, "/experiments/new", nil)
	}
	c.Redirect(http.StatusSeeOther, "/experiments/"+url.PathEscape(in.Key)+"/edit?done=created")
	return nil
}

// formError shows the form again with each error beside its field, or
// returns err when it is not about the input.
func (a *app) formError(c *gin.Context, f experimentForm, rows rowMap, err error, isNew bool, action string, e *experiments.Experiment) error {
	var e2 *experiments.Error
	code := experiments.ErrorCode(err)
	if code != experiments.CodeInvalid && code != experiments.CodeConflict {
		return err
	}
	layers, lerr := a.svc.Layers(c.Request.Context())
	if lerr != nil {
		return lerr
	}
	f.layers = layers
	var fes []experiments.FieldError
	if ee := (*experiments.Error)(nil); errors.As(err, &ee) {
		e2 = ee
		for _, fe := range ee.Fields {
			fe.Field = rows.toFormRows(fe.Field)
			fes = append(fes, f.nameLevel(fe))
		}
	}
	v := f.view(isNew, e, fes)
	if e2 != nil && (len(e2.Fields) == 0 || code == experiments.CodeConflict) {
		v.General = append([]string{e2.Message}, v.General...)
	}
	v.Action, v.Exp = action, e
	if e != nil {
		v.Claims, _ = a.svc.Claims(c.Request.Context(), e.Key)
	}
	status := httpstatus.Of(code)
	title := "New experiment"
	if !isNew {
		title = "Edit " + f.Key
	}
	a.render(c, status, "editor", title, v)
	return nil
}

func (a *app) editExperiment(c *gin.Context) error {
	e, err := a.svc.GetExperiment(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	locked := e.Status != experiments.StatusDraft
	f := formFromExperiment(e)
	if !locked {
		f = f.withBlankRows()
	} else {
		f.Targeting = append(f.Targeting, conditionRow{Op: "eq"})
		f.Metrics = append(f.Metrics, metricRow{Kind: "binary", HigherIsBetter: true})
	}
	if f.layers, err = a.svc.Layers(c.Request.Context()); err != nil {
		return err
	}
	v := f.view(false, e, nil)
	v.Action, v.Exp = "/experiments/"+url.PathEscape(e.Key)+"/edit", e
	if v.Claims, err = a.svc.Claims(c.Request.Context(), e.Key); err != nil {
		return err
	}
	a.render(c, http.StatusOK, "editor", "Edit "+e.Name, v)
	return nil
}

func (a *app) updateExperiment(c *gin.Context) error {
	ctx := c.Request.Context()
	e, err := a.svc.GetExperiment(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	f := formFromPost(c.Request.PostForm)
	f.Key = e.Key
	f.lock(e)
	in, rows, parseErrs := f.input(e)
	action := "/experiments/" + url.PathEscape(e.Key) + "/edit"
	if len(parseErrs) > 0 {
		err, rows = experiments.Invalid("invalid experiment", parseErrs), nil
	} else {
		_, err = a.svc.UpdateExperiment(ctx, e.Key, in)
	}
	if err != nil {
		return a.formError(c, f, rows, err, false, action, e)
	}
	c.Redirect(http.StatusSeeOther, action+"?done=saved")
	return nil
}

// Start and stop, each behind a confirmation page.

type confirmView struct {
	Heading, Message, Action, Button, Cancel string
	Danger                                   bool
	// Err is why the last attempt was refused (a conflict), with a link
	// to where it can be fixed.
	Err, FixHref, FixText string
}

func confirmOf(e *experiments.Experiment, to string) confirmView {
	base := "/experiments/" + url.PathEscape(e.Key)
	v := confirmView{Action: base + "/" + to, Cancel: base}
	if to == "start" {
		v.Heading = "Start “" + e.Name + "”?"
		v.Message = "Customers will be assigned from now on. Once started, the variants, weights, salt, traffic and unit are locked: changing them would re-bucket customers."
		if e.Layer != nil {
			v.Message = "Customers will be assigned from now on. Once started, the variants, weights, layer range, salt, traffic and unit are locked: changing them would re-bucket customers."
		}
		v.Button = "Start the experiment"
	} else {
		v.Heading = "Stop “" + e.Name + "”?"
		v.Message = "No more customers will enter, and the report keeps the data collected so far. A stopped experiment cannot be restarted."
		v.Button, v.Danger = "Stop the experiment", true
	}
	return v
}

func (a *app) confirmTransition(to string) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		e, err := a.svc.GetExperiment(c.Request.Context(), c.Param("key"))
		if err != nil {
			return err
		}
		v := confirmOf(e, to)
		a.render(c, http.StatusOK, "confirm", v.Heading, v)
		return nil
	}
}

func (a *app) transition(to string) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		ctx := c.Request.Context()
		key := c.Param("key")
		var err error
		if to == "start" {
			_, err = a.svc.Start(ctx, key)
		} else {
			_, err = a.svc.Stop(ctx, key)
		}
		var ee *experiments.Error
		if experiments.ErrorCode(err) == experiments.CodeConflict && errors.As(err, &ee) {
			// Say why on the confirmation page, e.g. a layer range that
			// overlaps a running experiment's.
			e, gerr := a.svc.GetExperiment(ctx, key)
			if gerr != nil {
				return gerr
			}
			v := confirmOf(e, to)
			v.Err = ee.Message
			if e.Layer != nil && slices.ContainsFunc(ee.Fields, func(f experiments.FieldError) bool { return strings.HasPrefix(f.Field, "layer") }) {
				v.FixHref, v.FixText = "/experiments/"+url.PathEscape(key)+"/edit#layer", "Change its layer range"
			}
			a.render(c, http.StatusConflict, "confirm", v.Heading, v)
			return nil
		}
		if err != nil {
			return err
		}
		c.Redirect(http.StatusSeeOther, "/experiments/"+url.PathEscape(key)+"?done="+map[string]string{"start": "started", "stop": "stopped"}[to])
		return nil
	}
}

// refresh recomputes the experiment's report now and shows it. As the
// API's, it may outlast the write timeout, and a closed tab does not stop it.
func (a *app) refresh(c *gin.Context) error {
	key := c.Param("key")
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	if _, err := a.svc.Refresh(context.WithoutCancel(c.Request.Context()), key); err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/experiments/"+url.PathEscape(key)+"?done=refreshed")
	return nil
}
