package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonFile names the line, and the field where it can, of every problem in
// a JSON input file (--claims, --metrics), as the CSV readers do.
type jsonFile struct {
	name string
	b    []byte
	// skip are the bytes passed over to reach the next token, so that a
	// line is the item's own.
	skip string
	// fieldPrefix is trimmed from decoding errors' field paths: the Go
	// name of an embedded struct, which the JSON does not show.
	fieldPrefix string
}

func (j jsonFile) lineAt(off int64) int {
	off = min(max(off, 0), int64(len(j.b)))
	for off < int64(len(j.b)) && strings.IndexByte(j.skip, j.b[off]) >= 0 {
		off++
	}
	return 1 + bytes.Count(j.b[:off], []byte("\n"))
}

func (j jsonFile) fail(off int64, column, format string, args ...any) error {
	return &lineError{File: j.name, Line: j.lineAt(off), Column: column, Msg: fmt.Sprintf(format, args...)}
}

// decodeErr explains a decoding error; start is where the item began.
func (j jsonFile) decodeErr(err error, start int64) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return j.fail(se.Offset-1, "", "%v", se)
	case errors.As(err, &te):
		return j.fail(te.Offset-1, strings.TrimPrefix(te.Field, j.fieldPrefix), "want %v, got a JSON %v", te.Type, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return j.fail(int64(len(j.b)), "", "unexpected end of JSON")
	}
	return j.fail(start, "", "%v", err)
}
