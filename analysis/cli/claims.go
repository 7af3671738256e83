package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/revealed-ab/revealed/analysis"
)

// claimJSON is one claim in a --claims file: the API's claim, so that a
// claim exported from the server (GET …/claims) reads as it is. The
// server's bookkeeping fields are accepted and ignored.
type claimJSON struct {
	analysis.Claim
	Version   int             `json:"version"`
	CreatedAt json.RawMessage `json:"created_at"`
	Deleted   bool            `json:"deleted"`
}

// claimsFile is a parsed --claims file, with the line each claim starts on.
type claimsFile struct {
	name   string
	claims []analysis.Claim
	lines  []int
	// responses is the --responses file, which the questions of say_do
	// claims come from; "" when none was given.
	responses string
}

// validate checks every claim against the design of the analysed file, by
// the rules the API applies, and names the first problem's line.
func (f *claimsFile) validate(d analysis.Design) error {
	firstLine := map[string]int{}
	for i, c := range f.claims {
		// The API refuses a second claim with an id (409); here it would
		// also take the first one's say_do table, which is kept by id.
		if line, dup := firstLine[c.ID]; dup && c.ID != "" {
			return &lineError{File: f.name, Line: f.lines[i], Column: "id",
				Msg: fmt.Sprintf("claim %q: a second claim with this id (the first is on line %d)", c.ID, line)}
		}
		firstLine[c.ID] = f.lines[i]
		if problems := c.Validate(d); len(problems) > 0 {
			p := problems[0]
			msg := fmt.Sprintf("claim %q: %s", c.ID, p.Detail)
			if c.Kind == analysis.ClaimSayDo && (p.Field == "question" || p.Field == "answer") {
				// The rule is the API's; where its questions come from is not.
				if f.responses == "" {
					msg += "; the questions and their answers come from --responses"
				} else {
					msg += fmt.Sprintf("; the questions and their answers are those in %s", f.responses)
				}
			}
			return &lineError{File: f.name, Line: f.lines[i], Column: p.Field, Msg: msg}
		}
	}
	return nil
}

func readClaimsFile(path string) (*claimsFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--claims: %v", err)
	}
	return parseClaims(path, b)
}

// parseClaims reads a JSON array of claims; every error names a line.
func parseClaims(name string, b []byte) (*claimsFile, error) {
	f := &claimsFile{name: name}
	j := jsonFile{name: name, b: b, skip: " \t\r\n,", fieldPrefix: "Claim."}
	lineAt, fail, jsonErr := j.lineAt, j.fail, j.decodeErr
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err, 0)
	}
	// The API's list answer, {"claims": [...]}, is accepted as well as a
	// bare array.
	wrapped := false
	if d, ok := tok.(json.Delim); ok && d == '{' {
		key, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err, dec.InputOffset())
		}
		if key != "claims" {
			return nil, fail(dec.InputOffset(), "", `want a JSON array of claims, or {"claims": [...]}`)
		}
		if tok, err = dec.Token(); err != nil {
			return nil, jsonErr(err, dec.InputOffset())
		}
		wrapped = true
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fail(0, "", `want a JSON array of claims, or {"claims": [...]}`)
	}
	for dec.More() {
		start := dec.InputOffset()
		var c claimJSON
		if err := dec.Decode(&c); err != nil {
			return nil, jsonErr(err, start)
		}
		f.claims = append(f.claims, c.Claim)
		f.lines = append(f.lines, lineAt(start))
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err, dec.InputOffset())
	}
	if wrapped {
		if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
			return nil, fail(dec.InputOffset(), "", "unexpected data after the array of claims")
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "", "unexpected data after the array of claims")
	}
	return f, nil
}
