// Package httpstatus is the one table from domain error codes to HTTP
// statuses, shared by the API and the web pages.
package httpstatus

import (
	"net/http"

	"github.com/revealed-ab/revealed/experiments"
)

var statusOf = map[experiments.Code]int{
	experiments.CodeInvalid:      http.StatusBadRequest,
	experiments.CodeNotFound:     http.StatusNotFound,
	experiments.CodeConflict:     http.StatusConflict,
	experiments.CodeUnauthorized: http.StatusUnauthorized,
	experiments.CodeForbidden:    http.StatusForbidden,
	experiments.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	experiments.CodeRateLimited:  http.StatusTooManyRequests,
	experiments.CodeUnavailable:  http.StatusServiceUnavailable,
	experiments.CodeInternal:     http.StatusInternalServerError,
}

// Of returns the HTTP status of a domain error code; 500 for unknown codes.
func Of(code experiments.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
