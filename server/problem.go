package server

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string                   `json:"type"`
	Title     string                   `json:"title"`
	Status    int                      `json:"status"`
	Detail    string                   `json:"detail,omitempty"`
	Errors    []experiments.FieldError `json:"errors,omitempty"`
	RequestID string                   `json:"request_id,omitempty"`
}

const problemContentType = "application/problem+json"

// statusClientClosed is recorded for a request whose client went away.
const statusClientClosed = 499

// writeProblem answers with err as problem+json. Internal failures are logged
// with their cause and shown to the client only as "internal error".
func writeProblem(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil && experiments.ErrorCode(err) == experiments.CodeInternal {
		// The client went away: nothing failed on our side, and nobody
		// reads the answer. 499 is nginx's "client closed request".
		logger(c).Info("client went away", "err", err)
		c.AbortWithStatus(statusClientClosed)
		return
	}
	var e *experiments.Error
	if !errors.As(err, &e) {
		e = experiments.Internal(err)
	}
	status := httpstatus.Of(e.Code)
	p := Problem{
		Type:      "urn:revealed:problem:" + string(e.Code),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    e.Message,
		Errors:    e.Fields,
		RequestID: requestID(c),
	}
	if status >= 500 {
		logger(c).Error("request failed", "status", status, "err", err)
		if status == http.StatusInternalServerError {
			p.Detail = "internal error"
		}
	} else {
		logger(c).Debug("request refused", "status", status, "err", err)
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="revealed"`)
	}
	c.Render(status, problemRender{p})
	c.Abort()
}

type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonRender(w, r.p)
}

func (r problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", problemContentType)
}

// respond writes v as JSON without HTML escaping, so that report text such
// as "p < 0.001" reads as written.
func respond(c *gin.Context, status int, v any) {
	c.Render(status, jsonBody{v})
}

type jsonBody struct{ v any }

func (r jsonBody) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonRender(w, r.v)
}

func (r jsonBody) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
}

// handler adapts a handler that returns an error, so that every error is
// rendered in one place.
func handler(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			writeProblem(c, err)
		}
	}
}

func logger(c *gin.Context) *slog.Logger { return httpstatus.Logger(c, slog.Default()) }
