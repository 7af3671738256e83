package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

const (
	requestIDKey = "revealed.request_id"
	apiKeyKey    = "revealed.api_key"
)

// requestContext gives every request an id, returned as X-Request-ID and
// carried by its logger, and logs the request when it ends.
func requestContext(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Header("X-Request-ID", id)
		c.Set(requestIDKey, id)
		l := base.With("request_id", id)
		c.Set(httpstatus.LoggerKey, l)
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		// Successes are counted by /metrics; logging each one would cost the
		// hot routes about 15% of their throughput, so they log at debug.
		level := slog.LevelDebug
		if c.Writer.Status() >= 400 {
			level = slog.LevelInfo
		}
		l.Log(c.Request.Context(), level, "request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "bytes", c.Writer.Size())
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// recoverProblem turns a panic into a logged 500 problem instead of a dropped
// connection.
func recoverProblem() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger(c).Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					writeProblem(c, experiments.Internal(fmt.Errorf("panic: %v", p)))
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

// secureHeaders are sent on every response; the web pages need nothing from
// other origins.
func secureHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		c.Next()
	}
}
