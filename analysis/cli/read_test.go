package cli

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// readAllCSV reads a file with csvReader, with a read buffer of size bytes,
// as the per-unit reader does (readBatch), or as the other readers do
// (read), or with readBytes, and describes every record (its fields and the
// line of each, as an error about it would name) and the error that ends it.
func readAllCSV(r io.Reader, how string, size int) []string {
	c, _, err := openCSVSize(r, "f.csv", size)
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	out := []string{fmt.Sprintf("header %q line %d", c.header, c.line)}
	describe := func(rec []string, line int, fieldLine func(i int) int) {
		lines := make([]int, len(rec))
		for i := range rec {
			lines[i] = fieldLine(i)
		}
		out = append(out, fmt.Sprintf("%q line %d at %v", rec, line, lines))
	}
	if how == "batch" {
		var b rowBatch
		for {
			c.readBatch(&b, 0)
			for r := range b.n {
				var rec []string
				for _, f := range b.record(r) {
					rec = append(rec, string(f))
				}
				if b.hashes[r] != hashString(rec[0]) {
					return append(out, fmt.Sprintf("record %q: wrong hash", rec))
				}
				describe(rec, b.lines[r], func(i int) int {
					if lines := b.spans[r]; lines != nil {
						return lines[i]
					}
					return b.lines[r]
				})
			}
			if b.err != nil {
				return append(out, "end: "+b.err.Error())
			}
		}
	}
	for {
		var rec []string
		if how == "bytes" {
			b, err2 := c.readBytes()
			err = err2
			for _, f := range b {
				rec = append(rec, string(f))
			}
		} else {
			rec, err = c.read()
		}
		if err != nil {
			break
		}
		describe(rec, c.line, func(i int) int {
			var le *lineError
			errors.As(c.errAt(i, "x"), &le)
			return le.Line
		})
	}
	return append(out, "end: "+err.Error())
}

// readAllEncodingCSV is readAllCSV done by encoding/csv alone, as
// csvReader read every file before it had a fast path.
func readAllEncodingCSV(r io.Reader) []string {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	var header []string
	var out []string
	for {
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			switch {
			case err == io.EOF && header == nil:
				return append(out, "open: f.csv:1: empty file: a header line is needed")
			case err == io.EOF:
				return append(out, "end: EOF")
			case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
				err = &lineError{File: "f.csv", Line: pe.StartLine, Msg: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(header))}
			case errors.As(err, &pe):
				err = &lineError{File: "f.csv", Line: pe.Line, Msg: fmt.Sprintf("column %d: %v", pe.Column, pe.Err)}
			default:
				err = fmt.Errorf("f.csv: %w", err)
			}
			if header == nil {
				return append(out, "open: "+err.Error())
			}
			return append(out, "end: "+err.Error())
		}
		line, _ := cr.FieldPos(0)
		if header == nil {
			header = make([]string, len(rec))
			seen := map[string]bool{}
			for i, h := range rec {
				header[i] = strings.ToLower(strings.TrimSpace(h))
				if seen[header[i]] {
					// openCSV's own check.
					return append(out, "open: "+(&lineError{File: "f.csv", Line: line, Column: header[i], Msg: "appears twice in the header"}).Error())
				}
				seen[header[i]] = true
			}
			out = append(out, fmt.Sprintf("header %q line %d", header, line))
			continue
		}
		lines := make([]int, len(rec))
		for i := range rec {
			lines[i], _ = cr.FieldPos(i)
		}
		out = append(out, fmt.Sprintf("%q line %d at %v", rec, line, lines))
	}
}

// checkCSVReader fails when csvReader reads b otherwise than encoding/csv,
// read whole, a byte at a time, or cut short by a read error.
func checkCSVReader(t *testing.T, b []byte) {
	t.Helper()
	errRead := errors.New("disk on fire")
	for _, src := range []struct {
		name string
		r    func() io.Reader
	}{
		{"whole", func() io.Reader { return bytes.NewReader(b) }},
		{"bytes", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
		{"cut", func() io.Reader {
			return io.MultiReader(bytes.NewReader(b[:len(b)*2/3]), errReader{errRead})
		}},
	} {
		want := readAllEncodingCSV(src.r())
		for _, how := range []string{"read", "bytes", "batch"} {
			// The smallest buffer has lines longer than it.
			for _, size := range []int{16, 4096} {
				got := readAllCSV(src.r(), how, size)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("%s, %s, buffer %d: %q\ngot:\n%s\nwant (encoding/csv):\n%s", src.name, how, size, b,
						strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		}
	}
}

func TestCSVReaderMatchesEncodingCSV(t *testing.T) {
	cases := []string{
		"",
		"\n\n",
		"a,b\n1,2\n",
		"a,b\r\n1,2\r\n\r\n3,4",
		"a,b\n1,2\r",
		"a,b\n1,2\r\r\n3,4\r\r",
		"\uFEFFa,b\n1,2\n",
		"a,b\n1,2,3\n",
		"a,b\n1\n",
		"a,b\n\"1\",\"x,y\"\n\"\",\"\"\"\"\n",
		"a,b\n\"1\"\r\n",
		"a,b\n\"1,2\n",
		"a,b\n\"1\nz\",2\n3,4\n5\n",
		"a,b\n1,x\"y\n",
		"a,b\n\"1\"x,2\n",
		"a,b\n \"1\",2\n",
		"a,b\n1,\"2\"\"\n",
		"a,b\n1,\"2\"\"\"\n1,2,3\n",
		"\"a\",\"b\"\n1,2\n",
		"\"a\nb\",c\n1,2\n3\n",
		"a,b\n1,2\n\"x\n",
		"a,b\n1,\n,\n\"\",\n",
		"a\n\n\n1\n\n2\n",
		"a,b\n1,\"2\"\r",
		"a,b\n1,2\n\r\n\r",
		"a,b\r\n\"1\r\n2\",3\r\n",
	}
	for _, s := range cases {
		checkCSVReader(t, []byte(s))
	}
	// Random files over the bytes that matter.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,,,\"\"\r\n\n ")
	for i := range 5000 {
		b := make([]byte, rng.IntN(40+i/10))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		checkCSVReader(t, b)
	}
	// Lines longer than the read buffer, with and without quotes.
	long := strings.Repeat("x", 5000)
	checkCSVReader(t, []byte("a,b\n1,"+long+"\n2,3\n"))
	checkCSVReader(t, []byte("a,b\n1,\""+long+"\"\n2,3\n"))
	checkCSVReader(t, []byte("a,b\n1,\""+long+"\n"+long+"\"\n2,3\n"))
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("a,b\n\"1\nz\",2\n3,4\n5\n"))
	f.Add([]byte("a,b\r\n1,2\r\n\r\n3,4"))
	f.Fuzz(func(t *testing.T, b []byte) { checkCSVReader(t, b) })
}

func TestParseNumber(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "1", "-1", "12.5", "-12.50", "007", "0.1", "0.3", "1.7976931348623157", "9007199254740992",
		"9007199254740993", "123456789012345678", "12345678901234567890", "0.0000000000000000000001",
		"0.00000000000000000000001", "1234567.891", ".5", "5.", "-.5", "+1", "1e3", "1E-3", "0x10", "inf", "NaN",
		"1_000", "", "-", ".", "1.2.3", " 1", "1 ", "--1", "1-", "4.35", "0.1234567890123456789",
	} {
		want, wantErr := strconv.ParseFloat(s, 64)
		got, ok := parseNumber([]byte(s))
		if !ok {
			continue // parsed by strconv.ParseFloat
		}
		if wantErr != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseNumber(%q) = %v, strconv: %v, %v", s, got, want, wantErr)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		var s string
		switch rng.IntN(3) {
		case 0:
			s = strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(12)-4)), 'f', rng.IntN(12), 64)
		case 1:
			s = strconv.FormatFloat(rng.Float64(), 'g', -1, 64)
		default:
			s = strconv.FormatInt(rng.Int64N(1<<60)>>rng.IntN(60), 10)
		}
		want, _ := strconv.ParseFloat(s, 64)
		if got, ok := parseNumber([]byte(s)); ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, strconv: %v", s, got, want)
		}
	}
}
