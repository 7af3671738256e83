// Package httpstatus holds what the API and the web pages share about a
// request: the one table from domain error codes to HTTP statuses, and the
// request's logger.
package httpstatus

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

// LoggerKey is where the request's logger, which carries its request id,
// is kept in the gin context.
const LoggerKey = "revealed.logger"

// Logger returns the request's logger, or fallback outside a request.
func Logger(c *gin.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := c.Get(LoggerKey); ok {
		return l.(*slog.Logger)
	}
	return fallback
}

var statusOf = map[experiments.Code]int{
	experiments.CodeInvalid:          http.StatusBadRequest,
	experiments.CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	experiments.CodeNotFound:         http.StatusNotFound,
	experiments.CodeConflict:         http.StatusConflict,
	experiments.CodeUnauthorized:     http.StatusUnauthorized,
	experiments.CodeForbidden:        http.StatusForbidden,
	experiments.CodeTooLarge:         http.StatusRequestEntityTooLarge,
	experiments.CodeRateLimited:      http.StatusTooManyRequests,
	experiments.CodeUnavailable:      http.StatusServiceUnavailable,
	experiments.CodeInternal:         http.StatusInternalServerError,
}

// Of returns the HTTP status of a domain error code; 500 for unknown codes.
func Of(code experiments.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
