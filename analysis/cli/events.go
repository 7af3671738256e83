package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// An events file (--events) holds raw outcomes, one a row, with each unit's
// variant and first exposure; --metrics gives the metrics as the API
// defines them. Each unit's value of each metric is formed as the server
// forms it in SQL (sqlstore.perUnitQuery): the outcomes of the metric's
// source in [exposure + from, exposure + to), aggregated, with immature
// units and units without a value left out and counted.
//
// The file is streamed. Memory holds, per unit, its variant and exposure,
// and per unit and metric the running state of the aggregation (a sum, a
// count, an extreme, the first or last value with its time and id), so it
// grows with units × metrics and not with events: a unit's outcomes may be
// anywhere in the file.

// Columns of an events file.
const (
	colExposedAt = "exposed_at"
	colTS        = "ts"
	colID        = "id"
)

var (
	eventRequired = []string{colUnit, colVariant, colExposedAt, colMetric, colValue, colTS}
	eventOptional = []string{colID}
)

// checkEventsArgs checks the command line of --events and makes the events
// file the input file. The flags that metrics.json replaces (kinds, caps,
// directions, priors) and those that need per-unit rows are refused rather
// than silently ignored.
func (o *options) checkEventsArgs(files []string) error {
	switch {
	case o.events == "":
		return usagef("--metrics and --as-of are for an events file: add --events events.csv")
	case o.metricsFile == "":
		return usagef("--events needs --metrics metrics.json, the metrics to form from the events")
	case len(files) > 0:
		return usagef("--events %s names the input; drop %s", o.events, strings.Join(files, " "))
	}
	for _, f := range []struct {
		set  bool
		flag string
		why  string
	}{
		{len(o.kinds) > 0, "--kind", "metrics.json gives each metric's kind"},
		{len(o.caps) > 0, "--cap", `metrics.json gives each metric's cap ("cap": {"absolute": …} or {"percentile": …})`},
		{len(o.lowerBetter) > 0, "--lower-is-better", "metrics.json gives each metric's higher_is_better"},
		{len(o.priors) > 0, "--prior", "metrics.json gives each metric's prior"},
		{o.responses != "", "--responses", "survey answers join per-unit rows, not events"},
		{len(o.answerSegments) > 0, "--segment-answers", "survey answers join per-unit rows, not events"},
	} {
		if f.set {
			return usagef("%s does not go with --events: %s", f.flag, f.why)
		}
	}
	if o.asOfText != "" {
		t, err := time.Parse(time.RFC3339Nano, o.asOfText)
		if err != nil {
			return usagef("--as-of %q: want an RFC 3339 time, e.g. 2025-05-01T00:00:00Z", o.asOfText)
		}
		o.asOf = &t
	}
	o.file = o.events
	return nil
}

// metricsFile is a parsed --metrics file, with the line each metric starts on.
type metricsFile struct {
	name    string
	metrics []experiments.Metric
	lines   []int
}

func readMetricsFile(path string) (*metricsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--metrics: %v", err)
	}
	f, err := parseMetrics(path, b)
	if err != nil {
		return nil, err
	}
	if i, field, detail := checkMetrics(f.metrics); field != "" {
		return nil, &lineError{File: path, Line: f.lines[i], Column: field, Msg: fmt.Sprintf("metric %q: %s", f.metrics[i].Key, detail)}
	}
	return f, nil
}

// parseMetrics reads {"metrics": [...]}: the metrics of an experiment as the
// API takes and returns them, so that an experiment fetched from the API
// (GET /api/v1/experiments/KEY) reads as it is; its other fields are ignored.
// Every error names a line.
func parseMetrics(name string, b []byte) (*metricsFile, error) {
	f := &metricsFile{name: name}
	j := jsonFile{name: name, b: b, skip: " \t\r\n,:"}
	lineAt, fail, jsonErr := j.lineAt, j.fail, j.decodeErr
	const want = `want {"metrics": [...]}, the metrics of the experiment as the API takes them`
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail(0, "", want)
	}
	found := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err, dec.InputOffset())
		}
		if key != "metrics" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, jsonErr(err, dec.InputOffset())
			}
			continue
		}
		if found {
			return nil, fail(dec.InputOffset(), "metrics", "given twice")
		}
		found = true
		if tok, err = dec.Token(); err != nil {
			return nil, jsonErr(err, dec.InputOffset())
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, fail(dec.InputOffset(), "metrics", "want an array of metrics")
		}
		for dec.More() {
			start := dec.InputOffset()
			var m experiments.Metric
			if err := dec.Decode(&m); err != nil {
				return nil, jsonErr(err, start)
			}
			f.metrics = append(f.metrics, m)
			f.lines = append(f.lines, lineAt(start))
		}
		if _, err := dec.Token(); err != nil {
			return nil, jsonErr(err, dec.InputOffset())
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "", "unexpected data after the object")
	}
	switch {
	case !found:
		return nil, fail(0, "metrics", "missing; "+want)
	case len(f.metrics) == 0:
		return nil, fail(0, "metrics", "empty; at least one metric is needed")
	}
	return f, nil
}

// checkMetrics applies the API's metric rules (experiments.ValidateMetrics)
// and returns the first problem as the metric's index, its field and why.
func checkMetrics(ms []experiments.Metric) (int, string, string) {
	errs := experiments.ValidateMetrics(ms)
	if len(errs) == 0 {
		return 0, "", ""
	}
	rest := strings.TrimPrefix(errs[0].Field, "metrics")
	index, field, _ := strings.Cut(strings.TrimPrefix(rest, "["), "]")
	i, err := strconv.Atoi(index)
	if err != nil { // a problem of the whole list, such as "at most 20 metrics"
		return 0, "metrics", errs[0].Detail
	}
	return i, strings.TrimPrefix(field, "."), errs[0].Detail
}

// useMetricSettings makes buildInput keep each metric's direction and
// prior from metrics.json: it sets them from the flags' maps, which
// checkEventsArgs has made sure are empty.
func (o *options) useMetricSettings(mf *metricsFile) {
	for _, m := range mf.metrics {
		if !m.HigherIsBetter {
			o.lowerBetter[m.Key] = true
		}
		if m.Prior != nil {
			o.priors[m.Key] = analysis.Prior{Mean: m.Prior.Mean, Variance: m.Prior.Variance}
		}
	}
}

// evMetric is a metric as the reader forms it.
type evMetric struct {
	def      experiments.Metric
	agg      experiments.Aggregation
	from, to int64 // µs after exposure
	hasTo    bool
	ratio    bool
	ord      int // slot among the unit's ordered states; -1: none needed
}

// evTarget is a metric that reads a source; den marks a ratio's
// denominator.
type evTarget struct {
	metric int
	den    bool
}

// evUnit is what is kept of a unit: its variant and first exposure, which
// every row of the unit must repeat, and the line that first gave them.
type evUnit struct {
	exposed int64 // µs since the Unix epoch, as the server stores times
	line    int
	variant int32
}

// evAcc is the running state of one unit and metric: n outcomes in the
// window (exact as a float64 up to 2⁵³) and a their sum, any (0/1), min,
// max or peak. For a ratio, a is the numerator's sum and n the
// denominator's. These states are most of the memory, hence two words.
type evAcc struct {
	a, n float64
}

// evOrd is the first or last outcome so far of one unit and metric, in the
// server's order: by ts, ties broken by event id (the id column, else the
// line).
type evOrd struct {
	v    float64
	ts   int64
	line int
	id   string
}

// before reports whether the outcome (ts, id, line) comes before o.
func (o *evOrd) before(ts int64, id string, line int) bool {
	if ts != o.ts {
		return ts < o.ts
	}
	if id != o.id {
		return id < o.id
	}
	return line < o.line
}

type eventReader struct {
	c                                       *csvReader
	file                                    *metricsFile
	iUnit, iVariant, iExposed, iMetric, iTS int
	iValue, iID                             int

	metrics []evMetric
	sources map[string][]evTarget
	nOrd    int
	asOf    *time.Time

	variants names
	index    map[uint64]int32 // unit hash → unit number
	nUnits   int
	units    pages[evUnit]
	acc      pages[evAcc] // a slot per metric
	ord      pages[evOrd] // a slot per metric with an order

	latest                 int64 // µs: the latest time in the file
	exposureRows, outcomes int64
	preExposure, afterAsOf int64
	futureUnits            int64
	unread                 map[string]int64 // outcomes of event metrics no metric reads
	sourceRows             map[string]int64 // outcomes read, by source
}

func newEventReader(c *csvReader, cols map[string]int, mf *metricsFile, asOf *time.Time) *eventReader {
	r := &eventReader{
		c: c, file: mf, asOf: asOf,
		iUnit: cols[colUnit], iVariant: cols[colVariant], iExposed: cols[colExposedAt], iMetric: cols[colMetric],
		iValue: cols[colValue], iTS: cols[colTS], iID: col(cols, colID),
		sources: map[string][]evTarget{}, index: map[uint64]int32{},
		unread: map[string]int64{}, sourceRows: map[string]int64{},
		latest: math.MinInt64,
	}
	byKey := map[string]experiments.Metric{}
	for _, m := range mf.metrics {
		byKey[m.Key] = m
	}
	for i, m := range mf.metrics {
		em := evMetric{def: m, agg: m.AggregationOrDefault(), ord: -1, ratio: m.Kind == experiments.MetricRatio}
		if w := m.Window; w != nil && !em.ratio {
			em.from = w.From.Micros()
			if w.To != nil {
				em.to, em.hasTo = w.To.Micros(), true
			}
		}
		switch {
		case em.ratio:
			num, den := byKey[m.Numerator].SourceKey(), byKey[m.Denominator].SourceKey()
			r.sources[num] = append(r.sources[num], evTarget{metric: i})
			r.sources[den] = append(r.sources[den], evTarget{metric: i, den: true})
		default:
			r.sources[m.SourceKey()] = append(r.sources[m.SourceKey()], evTarget{metric: i})
		}
		switch em.agg {
		case experiments.AggFirst, experiments.AggLast, experiments.AggPeakEnd:
			if !em.ratio {
				em.ord = r.nOrd
				r.nOrd++
			}
		}
		r.metrics = append(r.metrics, em)
	}
	r.units.per, r.acc.per, r.ord.per = 1, len(r.metrics), r.nOrd
	return r
}

// readEvents reads an events file and forms each metric of mf per unit.
func readEvents(ctx context.Context, in io.Reader, name string, mf *metricsFile, asOf *time.Time) (*data, error) {
	c, cols, err := openCSV(in, name)
	if err != nil {
		return nil, err
	}
	if err := checkHeader(c, cols, eventRequired, eventOptional, "event"); err != nil {
		return nil, err
	}
	r := newEventReader(c, cols, mf, asOf)
	d := &data{perUnit: true, events: true, lastLine: c.line}
	if err := eachRow(ctx, c, d, r.row); err != nil {
		return nil, err
	}
	return r.finish(d)
}

// time parses field i, an RFC 3339 time, to microseconds, the resolution
// at which the server stores and compares times.
func (r *eventReader) time(rec []string, i int) (int64, error) {
	s := strings.TrimSpace(rec[i])
	if s == "" {
		return 0, r.c.errAt(i, "empty, a time is needed (RFC 3339, e.g. 2025-05-01T09:30:00Z)")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, r.c.errAt(i, "%q is not an RFC 3339 time such as 2025-05-01T09:30:00Z", clip(s))
	}
	return t.UnixMicro(), nil
}

func (r *eventReader) row(rec []string) error {
	c := r.c
	unit, variant := rec[r.iUnit], rec[r.iVariant]
	if unit == "" {
		return c.errAt(r.iUnit, "empty unit id")
	}
	if variant == "" {
		return c.errAt(r.iVariant, "empty variant")
	}
	exposed, err := r.time(rec, r.iExposed)
	if err != nil {
		return err
	}
	r.latest = max(r.latest, exposed)
	v, _ := r.variants.id(variant)
	h := hashString(unit)
	ui, seen := r.index[h]
	if !seen {
		ui = int32(r.nUnits)
		r.index[h] = ui
		r.nUnits++
		r.units.add(int(ui))
		r.acc.add(int(ui))
		r.ord.add(int(ui))
		*r.units.at(int(ui), 0) = evUnit{exposed: exposed, line: c.line, variant: int32(v)}
	}
	u := *r.units.at(int(ui), 0)
	if u.variant != int32(v) {
		return c.errAt(r.iVariant, "unit %q is in variant %q here and in %q on line %d; a unit has one variant",
			clip(unit), variant, r.variants.list[u.variant], u.line)
	}
	if u.exposed != exposed {
		return c.errAt(r.iExposed, "unit %q was first exposed at %s here and at %s on line %d; a unit has one first exposure",
			clip(unit), fmtMicros(exposed), fmtMicros(u.exposed), u.line)
	}

	metric := rec[r.iMetric]
	if metric == "" {
		// An exposure without outcomes: the unit counts, with no outcome.
		for _, i := range []int{r.iValue, r.iTS} {
			if strings.TrimSpace(rec[i]) != "" {
				return c.errAt(i, "a row without a metric is an exposure without outcomes; leave value and ts empty")
			}
		}
		r.exposureRows++
		return nil
	}
	value, err := c.number(rec, r.iValue, false, 0)
	if err != nil {
		return err
	}
	ts, err := r.time(rec, r.iTS)
	if err != nil {
		return err
	}
	id := ""
	if r.iID >= 0 {
		if id = rec[r.iID]; id == "" {
			return c.errAt(r.iID, "empty; an outcome's id breaks ties in ts for first, last and peak_end")
		}
	}
	r.latest = max(r.latest, ts)
	r.outcomes++
	targets, read := r.sources[metric]
	switch {
	case !read:
		if n, ok := r.unread[metric]; ok {
			r.unread[metric] = n + 1
		} else {
			r.unread[strings.Clone(metric)] = 1
		}
		return nil
	case ts < u.exposed:
		r.preExposure++
		return nil
	case r.asOf != nil && ts > r.asOf.UnixMicro():
		r.afterAsOf++
		return nil
	}
	r.sourceRows[metric]++
	for _, t := range targets {
		m := &r.metrics[t.metric]
		a := r.acc.at(int(ui), t.metric)
		if m.ratio {
			// A ratio sums its parts' outcomes since exposure, without a window.
			if t.den {
				a.n += value
			} else {
				a.a += value
			}
			continue
		}
		if ts < u.exposed+m.from || (m.hasTo && ts >= u.exposed+m.to) {
			continue
		}
		a.n++
		first := a.n == 1
		switch m.agg {
		case experiments.AggSum, experiments.AggMean:
			a.a += value
		case experiments.AggAny:
			if value > 0 {
				a.a = 1
			}
		case experiments.AggMin:
			if first || value < a.a {
				a.a = value
			}
		case experiments.AggMax:
			if first || value > a.a {
				a.a = value
			}
		case experiments.AggPeakEnd:
			if first || (m.def.Peak == "min" && value < a.a) || (m.def.Peak != "min" && value > a.a) {
				a.a = value
			}
		}
		if m.ord < 0 {
			continue
		}
		// first keeps the earliest outcome; last and peak_end the latest.
		o := r.ord.at(int(ui), m.ord)
		if first || (m.agg == experiments.AggFirst) == o.before(ts, id, c.line) {
			o.v, o.ts, o.line = value, ts, c.line
			if o.id != id {
				o.id = strings.Clone(id)
			}
		}
	}
	return nil
}

// value is unit ui's value of metric mi and the ratio's denominator; ok is
// false when the unit has no value (no outcome in the window, for an
// aggregation that needs one).
func (r *eventReader) value(ui, mi int) (v, den float64, ok bool) {
	m := &r.metrics[mi]
	a := r.acc.at(ui, mi)
	switch {
	case m.ratio:
		return a.a, a.n, true
	case a.n == 0:
		return 0, 0, m.agg.HasValueWithout()
	}
	switch m.agg {
	case experiments.AggCount:
		return a.n, 0, true
	case experiments.AggMean:
		return a.a / a.n, 0, true
	case experiments.AggFirst, experiments.AggLast:
		return r.ord.at(ui, m.ord).v, 0, true
	case experiments.AggPeakEnd:
		return (a.a + r.ord.at(ui, m.ord).v) / 2, 0, true
	}
	return a.a, 0, true
}

// finish forms every unit's values, leaving out the immature units and
// those without a value, and sums them per metric and variant.
func (r *eventReader) finish(d *data) (*data, error) {
	asOf, asOfWhy := r.latest, "the latest time in the file"
	if r.asOf != nil {
		asOf, asOfWhy = r.asOf.UnixMicro(), "--as-of"
	}
	d.variants = r.variants.list
	nv := len(r.variants.list)
	assigned := make([]int64, nv)
	arms := make([][]sums, len(r.metrics))
	immature := make([]int64, len(r.metrics))
	without := make([]int64, len(r.metrics))
	for m := range arms {
		arms[m] = make([]sums, nv)
	}
	caps := make([]float64, len(r.metrics))
	var capNotes []string
	for m := range r.metrics {
		caps[m] = math.Inf(1)
		if c := r.metrics[m].def.Cap; c != nil && c.Absolute != nil {
			caps[m] = *c.Absolute
		}
	}
	// mature reports whether unit u's window of metric m had closed at asOf.
	mature := func(u evUnit, m int) bool {
		em := &r.metrics[m]
		return !em.hasTo || u.exposed+em.to <= asOf
	}
	for m, em := range r.metrics {
		c := em.def.Cap
		if c == nil || c.Percentile == nil {
			continue
		}
		// The percentile of the values the metric reports: held for the
		// metric's units only, as long as it takes to find it.
		var values []float64
		for ui := range r.nUnits {
			if u := *r.units.at(ui, 0); u.exposed > asOf || !mature(u, m) {
				continue
			}
			if v, _, ok := r.value(ui, m); ok {
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			continue
		}
		at, err := analysis.PercentileCap(values, *c.Percentile)
		if err != nil {
			return nil, err
		}
		caps[m] = at
		capNotes = append(capNotes, fmt.Sprintf("%s capped at %s, the %gth percentile of %d units' values",
			em.def.Key, fmtNum(at, false), 100**c.Percentile, len(values)))
	}
	for ui := range r.nUnits {
		u := *r.units.at(ui, 0)
		if u.exposed > asOf {
			// Not yet exposed at --as-of: not yet in the experiment.
			r.futureUnits++
			continue
		}
		assigned[u.variant]++
		for m := range r.metrics {
			switch v, den, ok := r.value(ui, m); {
			case !mature(u, m):
				immature[m]++
			case !ok:
				without[m]++
			default:
				arms[m][u.variant].add(min(v, caps[m]), 0, den)
			}
		}
	}
	d.units = int64(r.nUnits) - r.futureUnits
	for v, n := range assigned {
		d.assigned = append(d.assigned, analysis.VariantUnits{Variant: r.variants.list[v], Units: n})
	}
	for m, em := range r.metrics {
		mi := analysis.MetricInput{Metric: em.def.Key, Kind: analysis.Kind(em.def.Kind), HigherIsBetter: em.def.HigherIsBetter,
			ImmatureUnits: immature[m], UnitsWithoutValue: without[m]}
		if p := em.def.Prior; p != nil {
			mi.Prior = &analysis.Prior{Mean: p.Mean, Variance: p.Variance}
		}
		for v := range arms[m] {
			if assigned[v] > 0 {
				mi.Arms = append(mi.Arms, analysis.Arm{Variant: r.variants.list[v], Stats: arms[m][v].stats()})
			}
		}
		d.metrics = append(d.metrics, mi)
	}
	r.notes(d, asOf, asOfWhy, immature, without)
	d.notes = append(d.notes, capNotes...)
	return d, nil
}

// notes say, for the text report, what was read and what was left out;
// warnings, which the JSON report carries too, flag what is likely a
// mistake: a metric whose source no row has.
func (r *eventReader) notes(d *data, asOf int64, asOfWhy string, immature, without []int64) {
	name := r.c.name
	d.notes = append(d.notes, fmt.Sprintf("%s: %d outcomes and %d exposures without outcomes, formed into %d metrics of %s as of %s (%s)",
		name, r.outcomes, r.exposureRows, len(r.metrics), r.file.name, fmtMicros(asOf), asOfWhy))
	if r.preExposure > 0 {
		d.notes = append(d.notes, fmt.Sprintf("%d outcome(s) before their unit's exposure are ignored: an events file is analysed without CUPED", r.preExposure))
	}
	if r.afterAsOf > 0 || r.futureUnits > 0 {
		d.notes = append(d.notes, fmt.Sprintf("left out as after --as-of: %d outcome(s), %d unit(s) exposed later", r.afterAsOf, r.futureUnits))
	}
	if len(r.unread) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.unread)) {
			parts = append(parts, fmt.Sprintf("%s (%d)", k, r.unread[k]))
		}
		if len(parts) > 10 {
			parts = append(parts[:10], fmt.Sprintf("and %d more", len(parts)-10))
		}
		d.notes = append(d.notes, "outcomes of event metrics that no metric reads are ignored: "+strings.Join(parts, ", "))
	}
	for m, em := range r.metrics {
		var parts []string
		if immature[m] > 0 {
			parts = append(parts, fmt.Sprintf("%d immature unit(s) (window not closed at %s)", immature[m], fmtMicros(asOf)))
		}
		if without[m] > 0 {
			parts = append(parts, fmt.Sprintf("%d unit(s) without an outcome in the window", without[m]))
		}
		if len(parts) > 0 {
			d.notes = append(d.notes, fmt.Sprintf("%s leaves out %s", em.def.Key, strings.Join(parts, " and ")))
		}
	}
	var missing []string
	for _, em := range r.metrics {
		keys := []string{em.def.SourceKey()}
		if em.ratio {
			keys = []string{r.sourceOf(em.def.Numerator), r.sourceOf(em.def.Denominator)}
		}
		for _, k := range keys {
			if r.sourceRows[k] == 0 && !slices.Contains(missing, k) {
				missing = append(missing, k)
				d.warnings = append(d.warnings, fmt.Sprintf(
					"no outcome of %q since a unit's exposure in %s, which metric %q reads: is the metric's source right?", k, name, em.def.Key))
			}
		}
	}
}

func (r *eventReader) sourceOf(key string) string {
	for _, m := range r.file.metrics {
		if m.Key == key {
			return m.SourceKey()
		}
	}
	return key
}

// pages holds per slots of T for each unit, in pages of pageUnits units,
// so that adding a unit never copies the states already held: a slice
// grown by append would, and would hold both copies for a while.
type pages[T any] struct {
	per   int
	pages [][]T
}

const pageUnits = 1 << 12

// add makes room for unit u, the next one.
func (p *pages[T]) add(u int) {
	if u%pageUnits == 0 {
		p.pages = append(p.pages, make([]T, pageUnits*p.per))
	}
}

func (p *pages[T]) at(u, slot int) *T {
	return &p.pages[u/pageUnits][u%pageUnits*p.per+slot]
}

func fmtMicros(us int64) string {
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
}
