package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
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

// csvReader reads a CSV file as encoding/csv does (comma-separated, RFC
// 4180 quotes, CRLF or LF, empty lines skipped, every record with the
// header's number of fields), with the file name and line numbers for
// errors.
//
// Lines without a quote, or whose quoted fields close on the same line, are
// split here, without allocating: the fields of readBytes point into the
// read buffer. At the first line that is anything else (a quoted field that
// goes on to the next line, a stray quote) or when the file cannot be read,
// the rest of the file, from the start of that line, is read by
// encoding/csv, so that what is accepted and the errors, with their lines
// and columns, are exactly encoding/csv's (TestCSVReaderMatchesEncodingCSV
// holds the two together).
type csvReader struct {
	name   string
	header []string
	line   int // of the record just read

	src      io.Reader
	buf      []byte // buf[pos:end] is read and not yet split
	pos, end int
	srcErr   error // the error src returned (io.EOF at the end), once it has
	keep     bool  // do not refill buf: records read point into it (readBatch)
	inBuf    bool  // the fields of the record just read point into buf
	lines    int   // lines read by the fast path
	fields   int   // fields per record: the header's, once read
	rec      [][]byte
	strs     []string // read's record
	quoted   []byte   // the unquoted fields of a line with quotes
	ends     []int

	r        *csv.Reader // non-nil once the rest of the file is encoding/csv's
	lineBase int         // lines before r's first line
	slow     []string    // r's record just read
}

// csvBuffer is the size of the read buffer, which grows for a longer line.
const csvBuffer = 1 << 20

// next reads the next record into c.rec (fast path) or c.slow
// (encoding/csv). It returns io.EOF at the end, or a *lineError.
func (c *csvReader) next() error {
	if c.r != nil {
		return c.nextSlow()
	}
	for {
		eol, last, quote := c.scanLine()
		next := eol + 1
		if eol < 0 {
			switch {
			case c.srcErr == nil && c.keep:
				return errKeep
			case c.srcErr == nil:
				c.fill()
				continue
			case c.srcErr != io.EOF:
				// Let encoding/csv decide what a line cut short by a read
				// error is.
				return c.fallBack()
			case c.pos == c.end:
				return io.EOF
			}
			// A last line without an end of line; as encoding/csv, drop a
			// trailing \r.
			eol, next = c.end, c.end
			if c.buf[eol-1] == '\r' {
				eol--
			}
		} else if eol > c.pos && c.buf[eol-1] == '\r' {
			eol-- // \r\n ends a line as \n does
		}
		if eol == c.pos {
			// Empty lines are skipped.
			c.lines++
			c.pos = next
			continue
		}
		c.inBuf = !quote
		if quote {
			if !c.splitQuoted(c.buf[c.pos:eol]) {
				return c.fallBack()
			}
		} else {
			c.rec = append(c.rec, c.buf[last:eol])
		}
		c.pos = next
		c.lines++
		c.line = c.lines
		if c.fields == 0 {
			c.fields = len(c.rec)
		} else if len(c.rec) != c.fields {
			return &lineError{File: c.name, Line: c.line,
				Msg: fmt.Sprintf("%d fields, but the header has %d", len(c.rec), len(c.header))}
		}
		return nil
	}
}

const (
	wordLow7   = 0x7f7f7f7f7f7f7f7f
	wordCommas = ',' * 0x0101010101010101 // a comma in each byte
)

// commasIn has the top bit set of each byte of w that is a comma, and no
// other bit. It is exact: unlike the shorter (x-0x01…)&^x&0x80… test, no
// borrow carries from one byte into the next.
func commasIn(w uint64) uint64 {
	x := w ^ wordCommas // zero bytes where commas
	return ^(((x & wordLow7) + wordLow7) | x) &^ wordLow7
}

// scanLine finds the end of the line at c.pos: eol is the index of its \n,
// or -1 when buf has none (the line may go on in what is not read yet;
// when all is read, it is the last line). Without a quote, the line's
// fields but the last are appended to c.rec (emptied first), and the last
// starts at last.
func (c *csvReader) scanLine() (eol, last int, quote bool) {
	c.rec = c.rec[:0]
	line := c.buf[c.pos:c.end]
	if n := bytes.IndexByte(line, '\n'); n >= 0 {
		line, eol = line[:n], c.pos+n
	} else if c.srcErr == nil {
		return -1, 0, false // to be read again once buf is filled
	} else {
		eol = -1
	}
	if bytes.IndexByte(line, '"') >= 0 {
		return eol, 0, true
	}
	// The commas, eight bytes at a time.
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		for m := commasIn(binary.LittleEndian.Uint64(line[i:])); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			c.rec = append(c.rec, line[start:j])
			start = j + 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			c.rec = append(c.rec, line[start:i])
			start = i + 1
		}
	}
	return eol, c.pos + start, false
}

// fill reads more of the file into buf, after what is not yet split, which
// it moves to the front; buf grows when that is all of it.
func (c *csvReader) fill() {
	if c.pos > 0 {
		c.end = copy(c.buf, c.buf[c.pos:c.end])
		c.pos = 0
	}
	if c.end == len(c.buf) {
		c.buf = slices.Grow(c.buf, len(c.buf))
		c.buf = c.buf[:cap(c.buf)]
	}
	// As bufio: a reader that returns nothing a hundred times is broken.
	for range 100 {
		n, err := c.src.Read(c.buf[c.end:])
		if n < 0 || n > len(c.buf)-c.end {
			c.srcErr = errors.New("invalid read count")
			return
		}
		c.end += n
		if err != nil {
			c.srcErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	c.srcErr = io.ErrNoProgress
}

// splitQuoted splits a line with quotes, as encoding/csv does when each
// quoted field closes on the line; otherwise it returns false.
func (c *csvReader) splitQuoted(line []byte) bool {
	c.quoted, c.ends = c.quoted[:0], c.ends[:0]
	for {
		if len(line) > 0 && line[0] == '"' {
			line = line[1:]
			for {
				i := bytes.IndexByte(line, '"')
				if i < 0 {
					return false // the field goes on to the next line, or has no closing quote
				}
				c.quoted = append(c.quoted, line[:i]...)
				line = line[i+1:]
				if len(line) == 0 || line[0] != '"' {
					break
				}
				c.quoted = append(c.quoted, '"') // "" is a quote
				line = line[1:]
			}
			c.ends = append(c.ends, len(c.quoted))
			if len(line) == 0 {
				break
			}
			if line[0] != ',' {
				return false // a quote inside a quoted field
			}
			line = line[1:]
			continue
		}
		i := bytes.IndexByte(line, ',')
		field := line
		if i >= 0 {
			field = line[:i]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return false // a quote in an unquoted field
		}
		c.quoted = append(c.quoted, field...)
		c.ends = append(c.ends, len(c.quoted))
		if i < 0 {
			break
		}
		line = line[i+1:]
	}
	c.rec = c.rec[:0]
	start := 0
	for _, end := range c.ends {
		c.rec = append(c.rec, c.quoted[start:end])
		start = end
	}
	return true
}

// fallBack hands the rest of the file, from the line at c.pos on, to
// encoding/csv, and reads the next record with it.
func (c *csvReader) fallBack() error {
	rest := []io.Reader{bytes.NewReader(c.buf[c.pos:c.end])}
	switch {
	case c.srcErr == nil:
		rest = append(rest, c.src)
	case c.srcErr != io.EOF:
		rest = append(rest, errReader{c.srcErr})
	}
	c.r = csv.NewReader(bufio.NewReaderSize(io.MultiReader(rest...), 64<<10))
	c.r.ReuseRecord = true
	c.r.FieldsPerRecord = c.fields
	c.lineBase = c.lines
	c.rec, c.inBuf = nil, false
	return c.nextSlow()
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// nextSlow reads the next record with encoding/csv.
func (c *csvReader) nextSlow() error {
	rec, err := c.r.Read()
	if err == nil {
		c.slow = rec
		c.line, _ = c.r.FieldPos(0)
		c.line += c.lineBase
		if c.fields == 0 {
			c.fields = len(rec)
		}
		return nil
	}
	if err == io.EOF {
		return err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return &lineError{File: c.name, Line: c.lineBase + pe.StartLine,
				Msg: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(c.header))}
		}
		return &lineError{File: c.name, Line: c.lineBase + pe.Line, Msg: fmt.Sprintf("column %d: %v", pe.Column, pe.Err)}
	}
	return fmt.Errorf("%s: %w", c.name, err)
}

// read returns the next record, io.EOF at the end, or a *lineError. Its
// fields are strings of their own, as encoding/csv's, which may be kept.
func (c *csvReader) read() ([]string, error) {
	if err := c.next(); err != nil {
		return nil, err
	}
	if c.r != nil {
		return c.slow, nil
	}
	n := 0
	for _, f := range c.rec {
		n += len(f)
	}
	// One string for the record, as encoding/csv allocates.
	var b strings.Builder
	b.Grow(n)
	for _, f := range c.rec {
		b.Write(f)
	}
	s := b.String()
	c.strs = c.strs[:0]
	for _, f := range c.rec {
		c.strs = append(c.strs, s[:len(f)])
		s = s[len(f):]
	}
	return c.strs, nil
}

// readBytes returns the next record as read does, but its fields are only
// valid until the next call: they point into the read buffer.
func (c *csvReader) readBytes() ([][]byte, error) {
	if err := c.next(); err != nil {
		return nil, err
	}
	if c.r != nil {
		c.quoted, c.ends = c.quoted[:0], c.ends[:0]
		for _, f := range c.slow {
			c.quoted = append(c.quoted, f...)
			c.ends = append(c.ends, len(c.quoted))
		}
		c.rec = c.rec[:0]
		start := 0
		for _, end := range c.ends {
			c.rec = append(c.rec, c.quoted[start:end])
			start = end
		}
	}
	return c.rec, nil
}

// rowBatch is a run of records read ahead, so that their units can be
// looked up all at once (unitTable.prefetch). Their fields point into the
// read buffer, which is not refilled until the next batch (or, for a last
// record read by encoding/csv or with quotes, into the reader's scratch).
type rowBatch struct {
	n      int
	width  int           // fields per record
	fields [][]byte      // n×width
	lines  []int         // each record's line
	spans  map[int][]int // the line of each field of a record that spans lines
	hashes []uint64      // hashString of each record's field hashCol
	err    error         // what ended the batch after its n records: io.EOF or an error
}

// batchRows is the most records a batch holds.
const batchRows = 1024

// errKeep ends a batch where the read buffer would have to be refilled.
var errKeep = errors.New("read buffer kept")

// readBatch reads the next records into b, with the hash of field hashCol
// of each: up to batchRows of them, as many as the read buffer holds, or
// one that does not point into the buffer (read by encoding/csv, or with
// quotes). b.err is set when the file ends or a record is wrong; the
// records before it are in b.
func (c *csvReader) readBatch(b *rowBatch, hashCol int) {
	b.n, b.fields, b.lines, b.hashes, b.err = 0, b.fields[:0], b.lines[:0], b.hashes[:0], nil
	clear(b.spans)
	c.keep = false
	defer func() { c.keep = false }()
	var unit []byte
	var h uint64
	for b.n < batchRows {
		rec, err := c.readBytes()
		if err == errKeep {
			return
		}
		if err != nil {
			b.err = err
			return
		}
		b.width = len(rec)
		b.fields = append(b.fields, rec...)
		b.lines = append(b.lines, c.line)
		// A unit's rows mostly follow each other: hash its id once.
		if u := rec[hashCol]; b.n == 0 || !bytes.Equal(u, unit) {
			unit, h = u, hashString(u)
		}
		b.hashes = append(b.hashes, h)
		if c.r != nil {
			// A quoted field may start on a later line than its record.
			for i := range rec {
				if c.fieldLine(i) != c.line {
					lines := make([]int, len(rec))
					for j := range rec {
						lines[j] = c.fieldLine(j)
					}
					if b.spans == nil {
						b.spans = map[int][]int{}
					}
					b.spans[b.n] = lines
					break
				}
			}
		}
		b.n++
		if !c.inBuf {
			return // the next record would overwrite its fields
		}
		c.keep = true
	}
}

// record returns the fields of record r of b.
func (b *rowBatch) record(r int) [][]byte {
	return b.fields[r*b.width : (r+1)*b.width]
}

// fieldLine is the line of field i of the record just read.
func (c *csvReader) fieldLine(i int) int {
	if c.r == nil {
		return c.line
	}
	line, _ := c.r.FieldPos(i)
	return line + c.lineBase
}

// errAt is an error about field i of the record just read.
func (c *csvReader) errAt(i int, format string, args ...any) error {
	return &lineError{File: c.name, Line: c.fieldLine(i), Column: c.header[i], Msg: fmt.Sprintf(format, args...)}
}

// number parses field i, which must be a finite number; empty is def when
// allowEmpty.
func (c *csvReader) number(rec []string, i int, allowEmpty bool, def float64) (float64, error) {
	f, msg := parseNumberText(rec[i], allowEmpty, def)
	if msg != "" {
		return 0, c.errAt(i, "%s", msg)
	}
	return f, nil
}

// parseNumberText parses a field that must be a finite number; empty is
// def when allowEmpty. msg says what is wrong, if anything.
func parseNumberText(s string, allowEmpty bool, def float64) (f float64, msg string) {
	s = strings.TrimSpace(s)
	if s == "" {
		if allowEmpty {
			return def, ""
		}
		return 0, "empty, a number is needed"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Sprintf("%q is out of range", clip(s))
		}
		return 0, fmt.Sprintf("%q is not a number", clip(s))
	}
	if isNaNOrInf(f) {
		return 0, fmt.Sprintf("%q is not a finite number", clip(s))
	}
	return f, ""
}

// exactPow10 are the powers of ten that parseNumber divides by.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseNumber parses the common plain decimals, -?digits[.digits] with at
// most 15 digits, without allocating; ok is false for anything else, which
// strconv.ParseFloat then reads. The result is strconv.ParseFloat's: the
// digits are an integer m < 10¹⁵ < 2⁵³ and 10^k for k ≤ 15 are exact
// doubles, so m/10^k is one correctly rounded division, as ParseFloat
// correctly rounds.
func parseNumber(b []byte) (f float64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var m uint64 // at most 16 digits: no overflow
	dot := -1
	for i, c := range b {
		if d := c - '0'; d <= 9 {
			m = 10*m + uint64(d)
			continue
		}
		if c != '.' || dot >= 0 {
			return 0, false
		}
		dot = i
	}
	digits, frac := len(b), 0
	if dot >= 0 {
		digits, frac = digits-1, len(b)-1-dot
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	f = float64(m)
	if frac > 0 {
		f /= exactPow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
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
	return openCSVSize(r, name, csvBuffer)
}

// openCSVSize is openCSV with a read buffer of size bytes.
func openCSVSize(r io.Reader, name string, size int) (*csvReader, map[string]int, error) {
	c := &csvReader{name: name, src: r, buf: make([]byte, size)}
	for c.end < 3 && c.srcErr == nil {
		c.fill()
	}
	if string(c.buf[:min(3, c.end)]) == "\uFEFF" {
		c.pos = 3 // a byte-order mark
	}
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

// idBytes is id for the bytes of a field, which it copies only when new.
func (n *names) idBytes(b []byte) (int, bool) {
	if i, ok := n.index[string(b)]; ok {
		return i, false
	}
	return n.id(string(b))
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
