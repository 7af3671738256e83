package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

// lineError is a problem in an input file at a line (1-based; 0 when it
// concerns the whole file) and, when it concerns one field, a column named
// by its header.
type lineError struct {
	File   string
	Line   int
	Column string
	Msg    string
}

func (e *lineError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// data is what a file says about an experiment, ready for analysis.Input.
type data struct {
	perUnit  bool
	events   bool     // read from raw events (--events), which are per unit too
	variants []string // in the order first seen
	metrics  []analysis.MetricInput
	segments []analysis.Segment
	assigned []analysis.VariantUnits // distinct units per variant (per-unit input)
	rows     int64
	units    int64    // distinct units (per-unit input)
	notes    []string // for people, e.g. the percentile caps applied
	warnings []string // for the report too
	lastLine int

	questions []analysis.QuestionDesign      // from --responses
	sayDo     map[string]analysis.SayDoCells // by claim id
}

type readOptions struct {
	kinds map[string]analysis.Kind
	caps  map[string]capSpec
	// responses, when set, are joined to the per-unit rows: for the say_do
	// claims' tables and for the segments by answer to answerSegments.
	responses      *responses
	sayDo          []analysis.Claim
	answerSegments []string // question keys
}

// capSpec caps a metric's per-unit values at a value, or at a percentile
// (in (0, 1)) of all units' values when percentile > 0.
type capSpec struct {
	at         float64
	percentile float64
}

// Columns of the two input kinds.
const (
	colUnit        = "unit_id"
	colVariant     = "variant"
	colMetric      = "metric"
	colValue       = "value"
	colSegment     = "segment"
	colCovariate   = "covariate"
	colDenominator = "denominator"

	colQuestion = "question"
	colAnswer   = "answer"

	colKind     = "kind"
	colUnits    = "units"
	colSum      = "sum"
	colSumSq    = "sum_sq"
	colPreSum   = "pre_sum"
	colPreSumSq = "pre_sum_sq"
	colPreCross = "pre_cross"
	colDenSum   = "den_sum"
	colDenSumSq = "den_sum_sq"
	colDenCross = "den_cross"
)

var (
	perUnitRequired = []string{colUnit, colVariant, colMetric, colValue}
	perUnitOptional = []string{colSegment, colCovariate, colDenominator}
	summaryRequired = []string{colMetric, colVariant, colKind, colUnits, colSum, colSumSq}
	summaryOptional = []string{colPreSum, colPreSumSq, colPreCross, colDenSum, colDenSumSq, colDenCross, colSegment}
	responseColumns = []string{colUnit, colQuestion, colAnswer}
)

// csvReader wraps encoding/csv with the file name and line numbers for
// errors.
type csvReader struct {
	name   string
	r      *csv.Reader
	header []string
	line   int // of the record just read
}

// read returns the next record, io.EOF at the end, or a *lineError.
func (c *csvReader) read() ([]string, error) {
	rec, err := c.r.Read()
	if err == nil {
		c.line, _ = c.r.FieldPos(0)
		return rec, nil
	}
	if err == io.EOF {
		return nil, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return nil, &lineError{File: c.name, Line: pe.StartLine,
				Msg: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(c.header))}
		}
		return nil, &lineError{File: c.name, Line: pe.Line, Msg: fmt.Sprintf("column %d: %v", pe.Column, pe.Err)}
	}
	return nil, fmt.Errorf("%s: %w", c.name, err)
}

// errAt is an error about field i of the record just read.
func (c *csvReader) errAt(i int, format string, args ...any) error {
	line, _ := c.r.FieldPos(i)
	return &lineError{File: c.name, Line: line, Column: c.header[i], Msg: fmt.Sprintf(format, args...)}
}

// number parses field i, which must be a finite number; empty is def when
// allowEmpty.
func (c *csvReader) number(rec []string, i int, allowEmpty bool, def float64) (float64, error) {
	s := strings.TrimSpace(rec[i])
	if s == "" {
		if allowEmpty {
			return def, nil
		}
		return 0, c.errAt(i, "empty, a number is needed")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, c.errAt(i, "%q is out of range", clip(s))
		}
		return 0, c.errAt(i, "%q is not a number", clip(s))
	}
	if isNaNOrInf(f) {
		return 0, c.errAt(i, "%q is not a finite number", clip(s))
	}
	return f, nil
}

func isNaNOrInf(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }

// clip shortens a field quoted in an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// openCSV skips a UTF-8 byte-order mark and reads the header: its names,
// lower-cased and trimmed, and the index of each.
func openCSV(r io.Reader, name string) (*csvReader, map[string]int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // every record has the header's number of fields
	c := &csvReader{name: name, r: cr}
	rec, err := c.read()
	if err == io.EOF {
		return nil, nil, &lineError{File: name, Line: 1, Msg: "empty file: a header line is needed"}
	}
	if err != nil {
		return nil, nil, err
	}
	c.header = make([]string, len(rec))
	cols := map[string]int{}
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		c.header[i] = h
		if _, dup := cols[h]; dup {
			return nil, nil, &lineError{File: name, Line: c.line, Column: h, Msg: "appears twice in the header"}
		}
		cols[h] = i
	}
	return c, cols, nil
}

// readData reads a per-unit or summary CSV file, detected from its header.
func readData(ctx context.Context, r io.Reader, name string, o readOptions) (*data, error) {
	c, cols, err := openCSV(r, name)
	if err != nil {
		return nil, err
	}
	_, hasUnit := cols[colUnit]
	_, hasUnits := cols[colUnits]
	switch {
	case hasUnit && hasUnits:
		return nil, &lineError{File: name, Line: c.line,
			Msg: "header has both unit_id (per-unit rows) and units (summary rows); use one kind of file"}
	case hasUnit:
		if err := checkHeader(c, cols, perUnitRequired, perUnitOptional, "per-unit"); err != nil {
			return nil, err
		}
		return readPerUnit(ctx, c, cols, o)
	case hasUnits:
		if err := checkHeader(c, cols, summaryRequired, summaryOptional, "summary"); err != nil {
			return nil, err
		}
		if len(o.caps) > 0 {
			return nil, usagef("--cap needs per-unit input; %s has summary rows", name)
		}
		if o.responses != nil {
			// Answers join to units, which summary rows no longer have.
			return nil, usagef("--responses needs per-unit input; %s has summary rows", name)
		}
		return readSummary(ctx, c, cols, o)
	}
	return nil, &lineError{File: name, Line: c.line, Msg: fmt.Sprintf(
		"header %q is neither per-unit rows (%s) nor summary rows (%s)",
		strings.Join(c.header, ","), strings.Join(perUnitRequired, ","), strings.Join(summaryRequired, ","))}
}

func checkHeader(c *csvReader, cols map[string]int, required, optional []string, kind string) error {
	for _, h := range required {
		if _, ok := cols[h]; !ok {
			return &lineError{File: c.name, Line: c.line, Column: h,
				Msg: fmt.Sprintf("missing from the header of %s rows (%s)", kind, strings.Join(required, ","))}
		}
	}
	allowed := map[string]bool{}
	for _, h := range append(append([]string{}, required...), optional...) {
		allowed[h] = true
	}
	for i, h := range c.header {
		if !allowed[h] {
			return c.errAt(i, "unknown column for %s rows (allowed: %s)", kind, strings.Join(append(append([]string{}, required...), optional...), ","))
		}
	}
	return nil
}

// names interns the variants, metrics or segments of a file, in the order
// first seen. Keys are cloned so that they do not pin the CSV record.
type names struct {
	index map[string]int
	list  []string
}

func (n *names) id(s string) (int, bool) {
	if i, ok := n.index[s]; ok {
		return i, false
	}
	if n.index == nil {
		n.index = map[string]int{}
	}
	s = strings.Clone(s)
	n.index[s] = len(n.list)
	n.list = append(n.list, s)
	return len(n.list) - 1, true
}

// splitSegment reads a segment cell: "attribute=value", or a bare value of
// the attribute "segment".
func splitSegment(s string) (attr, value string) {
	if a, v, ok := strings.Cut(s, "="); ok {
		return a, v
	}
	return colSegment, s
}

// checkSegment validates a segment cell (empty means no segment).
func checkSegment(c *csvReader, rec []string, i int) error {
	if i < 0 || rec[i] == "" {
		return nil
	}
	if a, v := splitSegment(rec[i]); a == "" || v == "" {
		return c.errAt(i, "%q: want attribute=value or a bare value", clip(rec[i]))
	}
	return nil
}

// ctxEvery is how many rows are read between checks of the context.
const ctxEvery = 1 << 13

// eachRow calls fn with every data row, counting rows and lines in d and
// checking ctx every ctxEvery rows. A file without data rows is an error.
func eachRow(ctx context.Context, c *csvReader, d *data, fn func(rec []string) error) error {
	for {
		rec, err := c.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		d.rows++
		d.lastLine = c.line
		if d.rows%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if d.rows == 0 {
		return &lineError{File: c.name, Line: d.lastLine + 1, Msg: "no data rows after the header"}
	}
	return nil
}
