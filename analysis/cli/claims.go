package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/revealed-ab/revealed/analysis"
)

// claimJSON is one claim in a --claims file. analysis.Claim has no JSON
// tags; these names are the and the report's (snake_case).
type claimJSON struct {
	ID           string   `json:"id"`
	Statement    string   `json:"statement"`
	Source       string   `json:"source"`
	Kind         string   `json:"kind"`
	Metric       string   `json:"metric"`
	SurveyN      int64    `json:"survey_n"`
	Margin       float64  `json:"margin"`
	Option       string   `json:"option"`
	StatedShare  float64  `json:"stated_share"`
	Variant      string   `json:"variant"`
	Segment      string   `json:"segment"`
	Preferred    string   `json:"preferred"`
	Other        string   `json:"other"`
	StatedEffect *float64 `json:"stated_effect"`
	SegmentA     string   `json:"segment_a"`
	SegmentB     string   `json:"segment_b"`
	StatedA      float64  `json:"stated_a"`
	StatedB      float64  `json:"stated_b"`
	SurveyNA     int64    `json:"survey_n_a"`
	SurveyNB     int64    `json:"survey_n_b"`
}

func (c claimJSON) claim() analysis.Claim {
	return analysis.Claim{
		ID: c.ID, Statement: c.Statement, Source: c.Source, Kind: analysis.ClaimKind(c.Kind),
		Metric: c.Metric, SurveyN: c.SurveyN, Margin: c.Margin, Option: c.Option,
		StatedShare: c.StatedShare, Variant: c.Variant, Segment: c.Segment,
		Preferred: c.Preferred, Other: c.Other, StatedEffect: c.StatedEffect,
		SegmentA: c.SegmentA, SegmentB: c.SegmentB, StatedA: c.StatedA, StatedB: c.StatedB,
		SurveyNA: c.SurveyNA, SurveyNB: c.SurveyNB,
	}
}

// claimsFile is a parsed --claims file, with the line each claim starts on.
type claimsFile struct {
	name   string
	claims []analysis.Claim
	lines  []int
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
	lineAt := func(off int64) int {
		off = min(max(off, 0), int64(len(b)))
		// Skip to the next token so that the line is the claim's own.
		for off < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[off]) >= 0 {
			off++
		}
		return 1 + bytes.Count(b[:off], []byte("\n"))
	}
	fail := func(off int64, column, format string, args ...any) error {
		return &lineError{File: name, Line: lineAt(off), Column: column, Msg: fmt.Sprintf(format, args...)}
	}
	jsonErr := func(err error, start int64) error {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fail(se.Offset-1, "", "%v", se)
		case errors.As(err, &te):
			return fail(te.Offset-1, te.Field, "want %v, got a JSON %v", te.Type, te.Value)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return fail(int64(len(b)), "", "unexpected end of JSON")
		}
		return fail(start, "", "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonErr(err, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fail(0, "", "want a JSON array of claims")
	}
	for dec.More() {
		start := dec.InputOffset()
		var c claimJSON
		if err := dec.Decode(&c); err != nil {
			return nil, jsonErr(err, start)
		}
		f.claims = append(f.claims, c.claim())
		f.lines = append(f.lines, lineAt(start))
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "", "unexpected data after the array of claims")
	}
	return f, nil
}
