package experiments

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error so that each caller (HTTP, CLI) can map it to its
// own vocabulary from one table.
type Code string

const (
	CodeInvalid Code = "invalid"
	// CodeMethodNotAllowed: the resource exists, but not this operation on it.
	CodeMethodNotAllowed Code = "method_not_allowed"
	CodeNotFound         Code = "not_found"
	CodeConflict         Code = "conflict"
	CodeUnauthorized     Code = "unauthorized"
	CodeForbidden        Code = "forbidden"
	CodeTooLarge         Code = "too_large"
	CodeRateLimited      Code = "rate_limited"
	CodeUnavailable      Code = "unavailable"
	CodeInternal         Code = "internal"
)

// FieldError names one invalid input field. Index is set for errors inside a
// list of independent items, such as the events of a batch.
type FieldError struct {
	Index  *int   `json:"index,omitempty"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e FieldError) String() string {
	if e.Index != nil {
		return fmt.Sprintf("[%d].%s: %s", *e.Index, e.Field, e.Detail)
	}
	return e.Field + ": " + e.Detail
}

// Error is the one error type of the domain. Message is safe to show to
// users; internal causes stay in Err and are only logged.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a user-facing message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a CodeInvalid error listing the offending fields.
func Invalid(message string, fields []FieldError) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: fields}
}

// Internal wraps an unexpected failure; its cause is never shown to users.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// ErrorCode returns the code of err, CodeInternal for errors that carry none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
