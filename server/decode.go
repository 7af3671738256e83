package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

// Body size caps per route.
const (
	maxDefinitionBody = 1 << 20  // experiments, keys, assignments
	maxEventsBody     = 16 << 20 // event batches
)

// decodeJSON reads one JSON value into dst, refusing bodies over limit,
// invalid UTF-8 (encoding/json would silently replace it), unknown fields and
// trailing data. Its errors name the field at fault.
func decodeJSON(c *gin.Context, limit int64, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return experiments.Errorf(experiments.CodeTooLarge, "the request body is over the %d-byte limit of this route", limit)
	}
	if err != nil {
		return experiments.Errorf(experiments.CodeInvalid, "reading the request body: %v", err)
	}
	if !utf8.Valid(body) {
		return experiments.Errorf(experiments.CodeInvalid, "the request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return experiments.Errorf(experiments.CodeInvalid, "unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return experiments.Errorf(experiments.CodeInvalid, "the request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return experiments.Errorf(experiments.CodeInvalid, "the JSON is truncated")
	case errors.As(err, &syntaxErr):
		return experiments.Errorf(experiments.CodeInvalid, "malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		return experiments.Invalid("invalid JSON", []experiments.FieldError{{Field: field,
			Detail: fmt.Sprintf("must be %s, not JSON %s", describeType(typeErr), typeErr.Value)}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return experiments.Invalid("invalid JSON", []experiments.FieldError{{Field: name, Detail: "unknown field"}})
	}
	return experiments.Errorf(experiments.CodeInvalid, "invalid JSON: %v", err)
}

func describeType(e *json.UnmarshalTypeError) string {
	if e.Type == nil {
		return "a different type"
	}
	switch e.Type.Kind().String() {
	case "float64", "float32", "int", "int64":
		if e.Value == "number" || strings.HasPrefix(e.Value, "number ") {
			return "a number in range"
		}
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	}
	return "a " + e.Type.String()
}

func jsonRender(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
