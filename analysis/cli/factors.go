package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// factorsFile is a parsed --factors file: {"factors": [...]} as the API
// takes them, so that an experiment fetched from the API reads as it is
// (its other fields are ignored).
type factorsFile struct {
	name    string
	factors []experiments.Factor
	cells   []string // in the API's order; the first is the control
}

func readFactorsFile(path string) (*factorsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--factors: %v", err)
	}
	f := &factorsFile{name: path}
	j := jsonFile{name: path, b: b, skip: " \t\r\n,:"}
	const want = `want {"factors": [...]}, the factors of the experiment as the API takes them`
	dec := json.NewDecoder(bytes.NewReader(b))
	var lines []int
	if tok, err := dec.Token(); err != nil {
		return nil, j.decodeErr(err, 0)
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, j.fail(0, "", want)
	}
	found := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, j.decodeErr(err, dec.InputOffset())
		}
		if key != "factors" || found {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, j.decodeErr(err, dec.InputOffset())
			}
			continue
		}
		found = true
		if tok, err := dec.Token(); err != nil {
			return nil, j.decodeErr(err, dec.InputOffset())
		} else if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, j.fail(dec.InputOffset(), "factors", "want an array of factors")
		}
		for dec.More() {
			start := dec.InputOffset()
			var fac experiments.Factor
			if err := dec.Decode(&fac); err != nil {
				return nil, j.decodeErr(err, start)
			}
			f.factors = append(f.factors, fac)
			lines = append(lines, j.lineAt(start))
		}
		if _, err := dec.Token(); err != nil {
			return nil, j.decodeErr(err, dec.InputOffset())
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, j.decodeErr(err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, j.fail(dec.InputOffset(), "", "unexpected data after the object")
	}
	if !found || len(f.factors) == 0 {
		return nil, j.fail(0, "factors", "missing or empty; "+want)
	}
	// The API's rules, so that a design it accepts reads here too.
	cells, errs := experiments.FactorialVariants(f.factors, nil)
	if len(errs) > 0 {
		line := 1
		var i int
		if _, err := fmt.Sscanf(errs[0].Field, "factors[%d]", &i); err == nil && i < len(lines) {
			line = lines[i]
		}
		return nil, &lineError{File: path, Line: line, Column: errs[0].Field, Msg: errs[0].Detail}
	}
	for _, c := range cells {
		f.cells = append(f.cells, c.Key)
	}
	return f, nil
}

// variants checks that every variant of the data is a cell and returns the
// cells, which are the experiment's variants (a cell without rows is an
// empty cell, whose contrasts the report nulls with a reason).
func (f *factorsFile) variants(seen []string, data string) ([]string, error) {
	for _, v := range seen {
		if !slices.Contains(f.cells, v) {
			return nil, usagef("%s: variant %q is not a cell of %s; the cells are %s", data, v, f.name, strings.Join(f.cells, " "))
		}
	}
	return f.cells, nil
}

func (f *factorsFile) analysisFactors() []analysis.Factor {
	return experiments.AnalysisFactors(f.factors)
}
