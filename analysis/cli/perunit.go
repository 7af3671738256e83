package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/revealed-ab/revealed/analysis"
)

// maxMetrics bounds the metrics of a per-unit file: each unit remembers the
// metrics it has had rows for in one 64-bit mask.
const maxMetrics = 64

// sums are the sufficient statistics of one (segment, metric, variant).
type sums struct {
	units                      int64
	sum, sumSq                 float64
	preSum, preSumSq, preCross float64
	denSum, denSumSq, denCross float64
}

func (s *sums) add(v, x, d float64) {
	s.units++
	s.sum += v
	s.sumSq += v * v
	s.preSum += x
	s.preSumSq += x * x
	s.preCross += v * x
	s.denSum += d
	s.denSumSq += d * d
	s.denCross += v * d
}

func (s *sums) stats() analysis.Stats {
	return analysis.Stats{Units: s.units, Sum: s.sum, SumSq: s.sumSq,
		PreSum: s.preSum, PreSumSq: s.preSumSq, PreCross: s.preCross,
		DenSum: s.denSum, DenSumSq: s.denSumSq, DenCross: s.denCross}
}

// unitState is what is remembered of a unit after its rows have been summed:
// its variant and segment, which must not change, and the metrics it has had
// rows for, which must not come again.
type unitState struct {
	metrics uint64
	variant int32
	segment int32 // -1: none
}

type segKey struct{ segment, metric, variant int32 }

// heldValue is a unit's value of a metric capped at a percentile, which is
// known only once every unit has been read.
type heldValue struct {
	v, x, d          float64
	variant, segment int32
	unit             uint64 // to find its answers
}

// answerSegmentPrefix names a segment by a question's answer, as the server
// does: attribute "answer:QUESTION", value the unit's first answer.
const answerSegmentPrefix = "answer:"

// perUnit aggregates per-unit rows. The rows of one unit that follow each
// other are summed per metric in cur, then added to the sums when the unit
// changes; a unit's later rows for a metric it already had are an error,
// because its value can no longer be corrected without keeping every
// unit's values.
type perUnit struct {
	c                                *csvReader
	o                                readOptions
	iUnit, iVariant, iMetric, iValue int
	iSegment, iCovariate, iDen       int

	variants, metrics, segments names
	// units holds every unit seen, by the hash of its id, with the number
	// of its state in states.
	units           unitTable
	states          []unitState
	stateIDs        map[unitState]uint32
	unitsPerVariant []int64
	// The variant, metric and segment of the last row, which the next row
	// most likely repeats: no map lookup then.
	lastVariant, lastMetric, lastSegment int

	// Per metric, by index.
	forced  []analysis.Kind
	capped  []bool
	capAt   []float64
	capPct  []float64 // > 0: capped at this percentile; values held until the end
	held    map[int][]heldValue
	zeroOne []bool // every unit's value so far is 0 or 1
	hasCov  []bool
	hasDen  []bool
	top     [][]*sums   // [metric][variant]
	bySeg   [][][]*sums // [segment][metric][variant]

	// With --responses: the answers, the questions whose answers split the
	// report (in the order asked for), the sums per answer (segKey.segment
	// is the answer's pair id) and the say_do tables being counted.
	resp            *responses
	answerQuestions []int32
	splitByAnswer   []bool // by question
	byAnswer        map[segKey]*sums
	answerSegs      []int32 // scratch
	sayDo           []*sayDoCounter

	// The line of the row being read, and of each of its fields when it
	// spans lines (a quoted field with a line break).
	line       int
	fieldLines []int

	cur struct {
		ok      bool
		hash    uint64
		slot    *uint32 // the unit's state number in units
		state   unitState
		present uint64
		v, x, d [maxMetrics]float64
	}
}

func col(cols map[string]int, name string) int {
	if i, ok := cols[name]; ok {
		return i
	}
	return -1
}

func readPerUnit(ctx context.Context, c *csvReader, cols map[string]int, o readOptions) (*data, error) {
	p := &perUnit{
		c: c, o: o,
		iUnit: cols[colUnit], iVariant: cols[colVariant], iMetric: cols[colMetric], iValue: cols[colValue],
		iSegment: col(cols, colSegment), iCovariate: col(cols, colCovariate), iDen: col(cols, colDenominator),
		stateIDs:    map[unitState]uint32{},
		held:        map[int][]heldValue{},
		lastVariant: -1, lastMetric: -1, lastSegment: -1,
	}
	if rs := o.responses; rs != nil {
		p.resp = rs
		p.byAnswer = map[segKey]*sums{}
		p.splitByAnswer = make([]bool, len(rs.questions.list))
		for _, key := range o.answerSegments {
			if q, ok := rs.questions.index[key]; ok && !p.splitByAnswer[q] {
				p.splitByAnswer[q] = true
				p.answerQuestions = append(p.answerQuestions, int32(q))
			}
		}
		for _, c := range o.sayDo {
			p.sayDo = append(p.sayDo, newSayDoCounter(rs, c))
		}
	}
	d := &data{perUnit: true, lastLine: c.line}
	if err := p.read(ctx, d); err != nil {
		return nil, err
	}
	p.flush()
	return p.finish(d)
}

// read reads every row, a batch at a time, counting rows and lines in d
// and checking ctx every ctxEvery rows, as eachRow. Before a batch's rows,
// the unit table's slots of its units are loaded all at once (prefetch),
// so that the memory waits overlap rather than come one unit at a time.
func (p *perUnit) read(ctx context.Context, d *data) error {
	b := &rowBatch{}
	for {
		p.c.readBatch(b, p.iUnit)
		p.units.prefetch(b.hashes)
		for r := range b.n {
			d.rows++
			d.lastLine = b.lines[r]
			if d.rows%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			p.line, p.fieldLines = b.lines[r], b.spans[r]
			if err := p.row(b.record(r), b.hashes[r]); err != nil {
				return err
			}
		}
		if b.err == io.EOF {
			break
		}
		if b.err != nil {
			return b.err
		}
	}
	if d.rows == 0 {
		return &lineError{File: p.c.name, Line: d.lastLine + 1, Msg: "no data rows after the header"}
	}
	return nil
}

// errAt is an error about field i of the row being read.
func (p *perUnit) errAt(i int, format string, args ...any) error {
	line := p.line
	if p.fieldLines != nil {
		line = p.fieldLines[i]
	}
	return &lineError{File: p.c.name, Line: line, Column: p.c.header[i], Msg: fmt.Sprintf(format, args...)}
}

// number parses field i of the row, which must be a finite number; empty
// is 0 when allowEmpty.
func (p *perUnit) number(rec [][]byte, i int, allowEmpty bool) (float64, error) {
	if len(rec[i]) == 0 && allowEmpty {
		return 0, nil
	}
	if f, ok := parseNumber(rec[i]); ok {
		return f, nil
	}
	f, msg := parseNumberText(string(rec[i]), allowEmpty, 0)
	if msg != "" {
		return 0, p.errAt(i, "%s", msg)
	}
	return f, nil
}

// row reads one row, whose unit id has hash h; its fields are valid only
// during the call.
func (p *perUnit) row(rec [][]byte, h uint64) error {
	unit := rec[p.iUnit]
	if len(unit) == 0 {
		return p.errAt(p.iUnit, "empty unit id")
	}
	if len(rec[p.iVariant]) == 0 {
		return p.errAt(p.iVariant, "empty variant")
	}
	if len(rec[p.iMetric]) == 0 {
		return p.errAt(p.iMetric, "empty metric")
	}
	v, err := p.number(rec, p.iValue, false)
	if err != nil {
		return err
	}
	var x, den float64
	if p.iCovariate >= 0 {
		if x, err = p.number(rec, p.iCovariate, true); err != nil {
			return err
		}
	}
	if p.iDen >= 0 {
		if den, err = p.number(rec, p.iDen, true); err != nil {
			return err
		}
	}
	segment := int32(-1)
	if p.iSegment >= 0 && len(rec[p.iSegment]) > 0 {
		if segment, err = p.segment(rec[p.iSegment]); err != nil {
			return err
		}
	}

	variant := p.lastVariant
	if variant < 0 || string(rec[p.iVariant]) != p.variants.list[variant] {
		variant, _ = p.variants.idBytes(rec[p.iVariant])
		p.lastVariant = variant
	}
	if variant == len(p.unitsPerVariant) {
		p.unitsPerVariant = append(p.unitsPerVariant, 0)
	}
	m, err := p.metric(rec[p.iMetric])
	if err != nil {
		return err
	}
	if p.iCovariate >= 0 && len(rec[p.iCovariate]) > 0 {
		p.hasCov[m] = true
	}
	if p.iDen >= 0 && len(rec[p.iDen]) > 0 {
		p.hasDen[m] = true
	}

	if !p.cur.ok || h != p.cur.hash {
		p.flush()
		slot, seen := p.units.findOrAdd(h)
		st := unitState{variant: int32(variant), segment: segment}
		if seen {
			st = p.states[*slot]
		} else {
			p.unitsPerVariant[variant]++
		}
		p.cur.ok, p.cur.hash, p.cur.slot, p.cur.state, p.cur.present = true, h, slot, st, 0
	}
	st := &p.cur.state
	if st.variant != int32(variant) {
		return p.errAt(p.iVariant, "unit %q is in variant %q and, on an earlier line, in %q",
			clip(string(unit)), p.variants.list[variant], p.variants.list[st.variant])
	}
	if st.segment != segment {
		return p.errAt(p.iSegment, "unit %q is in segment %q and, on an earlier line, in %q",
			clip(string(unit)), segName(p.segments, segment), segName(p.segments, st.segment))
	}
	bit := uint64(1) << m
	switch {
	case p.cur.present&bit != 0:
		// Consecutive rows of one unit and metric: summed (documented).
		p.cur.v[m] += v
		p.cur.x[m] += x
		p.cur.d[m] += den
	case st.metrics&bit != 0:
		return p.errAt(p.iUnit, "unit %q already has a %q value on an earlier, non-adjacent line; "+
			"rows of one unit and metric are summed only when consecutive (sort the file by unit_id, or sum them first)",
			clip(string(unit)), p.metrics.list[m])
	default:
		p.cur.present |= bit
		st.metrics |= bit
		p.cur.v[m], p.cur.x[m], p.cur.d[m] = v, x, den
	}
	return nil
}

// segment checks and numbers a row's (non-empty) segment cell.
func (p *perUnit) segment(cell []byte) (int32, error) {
	if s := p.lastSegment; s >= 0 && string(cell) == p.segments.list[s] {
		return int32(s), nil
	}
	if a, v, ok := bytes.Cut(cell, []byte("=")); ok && (len(a) == 0 || len(v) == 0) {
		return 0, p.errAt(p.iSegment, "%q: want attribute=value or a bare value", clip(string(cell)))
	}
	s, _ := p.segments.idBytes(cell)
	p.lastSegment = s
	return int32(s), nil
}

// metric numbers a row's metric, the first time with its options.
func (p *perUnit) metric(name []byte) (int, error) {
	n := len(p.metrics.list)
	if n > 0 {
		// In a file sorted by unit, the metrics come round in turn.
		if next := (p.lastMetric + 1) % n; string(name) == p.metrics.list[next] {
			p.lastMetric = next
			return next, nil
		}
	}
	m, isNew := p.metrics.idBytes(name)
	if isNew {
		if m >= maxMetrics {
			return 0, p.errAt(p.iMetric, "more than %d metrics in one file; split it by metric", maxMetrics)
		}
		p.newMetric(p.metrics.list[m])
	}
	p.lastMetric = m
	return m, nil
}

func segName(s names, i int32) string {
	if i < 0 {
		return ""
	}
	return s.list[i]
}

func (p *perUnit) newMetric(name string) {
	k := p.o.kinds[name]
	c, capped := p.o.caps[name]
	p.forced = append(p.forced, k)
	p.capped = append(p.capped, capped && c.percentile == 0)
	p.capAt = append(p.capAt, c.at)
	p.capPct = append(p.capPct, c.percentile)
	p.zeroOne = append(p.zeroOne, true)
	p.hasCov = append(p.hasCov, false)
	p.hasDen = append(p.hasDen, false)
	p.top = append(p.top, nil)
}

// flush adds the current unit's values to the sums.
func (p *perUnit) flush() {
	if !p.cur.ok || p.cur.present == 0 {
		return
	}
	st := p.cur.state
	*p.cur.slot = p.stateID(st)
	var answerSegs []int32
	if p.resp != nil {
		if lo, hi := p.resp.of(p.cur.hash); lo < hi {
			p.resp.markExposed(lo)
			p.countSayDo(st, lo, hi)
			answerSegs = p.answerSegments(lo, hi)
		}
	}
	for rest := p.cur.present; rest != 0; rest &= rest - 1 {
		m := bits.TrailingZeros64(rest)
		v := p.cur.v[m]
		if p.forced[m] == analysis.Binary {
			// As the server does: a unit converted if its value is positive.
			if v > 0 {
				v = 1
			} else {
				v = 0
			}
		}
		if p.capped[m] && v > p.capAt[m] {
			v = p.capAt[m]
		}
		if p.capPct[m] > 0 {
			// Memory grows with this metric's units, as it must: the
			// percentile is known only at the end.
			p.held[m] = append(p.held[m], heldValue{v, p.cur.x[m], p.cur.d[m], st.variant, st.segment, p.cur.hash})
			continue
		}
		p.add(m, st.variant, st.segment, answerSegs, v, p.cur.x[m], p.cur.d[m])
	}
	p.cur.present = 0
}

// stateID numbers a unit's state. Most files have a few states (variant ×
// segment × the metrics every unit has), found among the first.
func (p *perUnit) stateID(st unitState) uint32 {
	for i, s := range p.states[:min(len(p.states), 8)] {
		if s == st {
			return uint32(i)
		}
	}
	id, ok := p.stateIDs[st]
	if !ok {
		id = uint32(len(p.states))
		p.stateIDs[st] = id
		p.states = append(p.states, st)
	}
	return id
}

// answerSegments lists the answer segments of the unit whose answers are
// lo:hi, as pair ids, in a scratch slice reused by the next call.
func (p *perUnit) answerSegments(lo, hi int) []int32 {
	p.answerSegs = p.answerSegs[:0]
	for i := lo; i < hi; i++ {
		pair := p.resp.pairOf[i]
		if p.splitByAnswer[p.resp.pairs[pair].question] {
			p.answerSegs = append(p.answerSegs, int32(pair))
		}
	}
	return p.answerSegs
}

// countSayDo adds the current unit, whose answers are lo:hi, to the table
// of each say_do claim it belongs to.
func (p *perUnit) countSayDo(st unitState, lo, hi int) {
	for _, s := range p.sayDo {
		c := &s.claim
		m, ok := p.metrics.index[c.Metric]
		if s.question < 0 || !ok || p.cur.present&(1<<m) == 0 {
			continue
		}
		if c.Variant != "" && c.Variant != p.variants.list[st.variant] {
			continue
		}
		if c.Segment != "" {
			if st.segment < 0 {
				continue
			}
			if attr, value := splitSegment(p.segments.list[st.segment]); attr != s.segAttr || value != s.segValue {
				continue
			}
		}
		answer := int32(-1)
		for i := lo; i < hi; i++ {
			if ref := p.resp.pairs[p.resp.pairOf[i]]; ref.question == s.question {
				answer = ref.answer
			}
		}
		if answer < 0 {
			continue
		}
		// A positive value is a conversion, as --kind binary and the server
		// count it; the server counts say/do before any cap, and so does this.
		said, did := answer == s.answer, p.cur.v[m] > 0
		switch {
		case said && did:
			s.cells.SaidDid++
		case said:
			s.cells.SaidDidnt++
		case did:
			s.cells.DidntSayDid++
		default:
			s.cells.DidntSayDidnt++
		}
	}
}

// add adds one unit's values of metric m to the sums, overall, in its
// segment and in its answer segments (pair ids).
func (p *perUnit) add(m int, variant, segment int32, answerSegs []int32, v, x, d float64) {
	if v != 0 && v != 1 {
		p.zeroOne[m] = false
	}
	armOf(&p.top[m], int(variant)).add(v, x, d)
	if segment >= 0 {
		for len(p.bySeg) <= int(segment) {
			p.bySeg = append(p.bySeg, nil)
		}
		byMetric := &p.bySeg[segment]
		for len(*byMetric) <= m {
			*byMetric = append(*byMetric, nil)
		}
		armOf(&(*byMetric)[m], int(variant)).add(v, x, d)
	}
	for _, pair := range answerSegs {
		k := segKey{pair, int32(m), variant}
		ss := p.byAnswer[k]
		if ss == nil {
			ss = &sums{}
			p.byAnswer[k] = ss
		}
		ss.add(v, x, d)
	}
}

// armOf returns the sums of variant in arms, made when missing.
func armOf(arms *[]*sums, variant int) *sums {
	if variant < len(*arms) && (*arms)[variant] != nil {
		return (*arms)[variant]
	}
	for len(*arms) <= variant {
		*arms = append(*arms, nil)
	}
	s := &sums{}
	(*arms)[variant] = s
	return s
}

// capHeld applies the percentile caps and adds the held values.
func (p *perUnit) capHeld(d *data) error {
	for m := range p.metrics.list {
		held := p.held[m]
		if len(held) == 0 {
			continue
		}
		values := make([]float64, len(held))
		for i, h := range held {
			values[i] = h.v
		}
		c, err := analysis.PercentileCap(values, p.capPct[m])
		if err != nil {
			return err
		}
		d.notes = append(d.notes, fmt.Sprintf("%s capped at %s, the %gth percentile of %d units' values",
			p.metrics.list[m], fmtNum(c, false), 100*p.capPct[m], len(held)))
		for _, h := range held {
			var answerSegs []int32
			if p.resp != nil {
				answerSegs = p.answerSegments(p.resp.of(h.unit))
			}
			p.add(m, h.variant, h.segment, answerSegs, min(h.v, c), h.x, h.d)
		}
		delete(p.held, m)
	}
	return nil
}

// segSums are the sums of (segment, metric, variant), nil if none.
func (p *perUnit) segSums(segment, m, variant int) *sums {
	if segment < len(p.bySeg) && m < len(p.bySeg[segment]) && variant < len(p.bySeg[segment][m]) {
		return p.bySeg[segment][m][variant]
	}
	return nil
}

// kind decides metric m's kind once every row has been read.
func (p *perUnit) kind(m int) (analysis.Kind, error) {
	name := p.metrics.list[m]
	switch k := p.forced[m]; {
	case k == analysis.Ratio && p.iDen < 0:
		return "", usagef("--kind %s=ratio needs a %s column", name, colDenominator)
	case k != "" && k != analysis.Ratio && p.hasDen[m]:
		return "", usagef("--kind %s=%s, but %s has denominators; a metric with denominators is a ratio", name, k, name)
	case k != "":
		return k, nil
	case p.hasDen[m]:
		return analysis.Ratio, nil
	case p.zeroOne[m]:
		return analysis.Binary, nil
	}
	return analysis.Mean, nil
}

func (p *perUnit) metricInput(m int, kind analysis.Kind, arm func(v int) *sums) analysis.MetricInput {
	mi := analysis.MetricInput{Metric: p.metrics.list[m], Kind: kind, CUPED: p.hasCov[m] && kind != analysis.Ratio}
	for v := range p.variants.list {
		if s := arm(v); s != nil {
			mi.Arms = append(mi.Arms, analysis.Arm{Variant: p.variants.list[v], Stats: s.stats()})
		}
	}
	return mi
}

func (p *perUnit) finish(d *data) (*data, error) {
	if err := p.capHeld(d); err != nil {
		return nil, err
	}
	d.variants = p.variants.list
	d.units = int64(p.units.len())
	for v, n := range p.unitsPerVariant {
		d.assigned = append(d.assigned, analysis.VariantUnits{Variant: p.variants.list[v], Units: n})
	}
	kinds := make([]analysis.Kind, len(p.metrics.list))
	for m := range p.metrics.list {
		k, err := p.kind(m)
		if err != nil {
			return nil, err
		}
		kinds[m] = k
		d.metrics = append(d.metrics, p.metricInput(m, k, func(v int) *sums {
			if v < len(p.top[m]) {
				return p.top[m][v]
			}
			return nil
		}))
	}
	for s, seg := range p.segments.list {
		attr, value := splitSegment(seg)
		out := analysis.Segment{Attribute: attr, Value: value}
		for m := range p.metrics.list {
			mi := p.metricInput(m, kinds[m], func(v int) *sums { return p.segSums(s, m, v) })
			if len(mi.Arms) > 0 {
				out.Metrics = append(out.Metrics, mi)
			}
		}
		d.segments = append(d.segments, out)
	}
	if p.resp != nil {
		p.finishResponses(d, kinds)
	}
	return d, nil
}

// finishResponses adds what the responses give: the segments by answer
// (each question's answers in sorted order, as the server sorts segment
// values), the say_do tables, the questions for the claims' checks.
func (p *perUnit) finishResponses(d *data, kinds []analysis.Kind) {
	rs := p.resp
	for _, q := range p.answerQuestions {
		answers := rs.answers[q].list
		for _, a := range slices.Sorted(slices.Values(answers)) {
			pair := int32(rs.pairIDs[answerRef{q, int32(rs.answers[q].index[a])}])
			out := analysis.Segment{Attribute: answerSegmentPrefix + rs.questions.list[q], Value: a}
			for m := range p.metrics.list {
				mi := p.metricInput(m, kinds[m], func(v int) *sums { return p.byAnswer[segKey{pair, int32(m), int32(v)}] })
				if len(mi.Arms) > 0 {
					out.Metrics = append(out.Metrics, mi)
				}
			}
			// An answer given only by units outside the file has no segment,
			// as on the server, whose segments come from exposed units.
			if len(out.Metrics) > 0 {
				d.segments = append(d.segments, out)
			}
		}
	}
	d.questions = rs.questionDesigns()
	d.sayDo = map[string]analysis.SayDoCells{}
	for _, s := range p.sayDo {
		d.sayDo[s.claim.ID] = s.cells
	}
	d.notes = append(d.notes, rs.note())
	if rs.exposedUnits() == 0 {
		d.warnings = append(d.warnings, fmt.Sprintf(
			"none of the %d units in %s is in %s: do the unit ids match?", rs.answered, rs.file, p.c.name))
	}
}

// missingWarnings notes the metrics that not every unit has a row for:
// those units are left out of the metric, not counted as 0.
func missingWarnings(d *data) []string {
	if !d.perUnit {
		return nil
	}
	assigned := map[string]int64{}
	for _, a := range d.assigned {
		assigned[a.Variant] = a.Units
	}
	var out []string
	for _, m := range d.metrics {
		have := map[string]int64{}
		for _, a := range m.Arms {
			have[a.Variant] = a.Stats.Units
		}
		for _, v := range d.variants {
			if have[v] < assigned[v] {
				out = append(out, fmt.Sprintf(
					"metric %q has rows for %d of the %d units of variant %q; units without a row are left out of it, not counted as 0",
					m.Metric, have[v], assigned[v], v))
				break
			}
		}
	}
	return out
}

// hashString is 64-bit FNV-1a. Distinct units are counted by hash: two of
// a million ids collide with probability about 3·10⁻⁸ (n²/2⁶⁵ for n ids).
func hashString[S string | []byte](s S) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
