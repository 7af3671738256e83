// Package server is Revealed's HTTP layer: the REST API under /api/v1, the
// SDK definitions and stream, health checks and metrics; the web pages are
// its subpackage web. Only these two packages import gin (and the load
// harness, whose yardstick is a bare gin handler); handlers decode, call
// the experiments service and encode.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/web"
)

// Server routes HTTP requests to the experiments service.
type Server struct {
	svc     *experiments.Service
	log     *slog.Logger
	auth    *authenticator
	engine  *gin.Engine
	metrics *metrics
	// StreamPing is how often an idle SDK stream gets a keepalive comment.
	streamPing time.Duration
}

// Option configures a Server.
type Option func(*Server)

// WithRateLimit allows each API key perSecond requests a second on average,
// in bursts of up to burst; perSecond 0 turns the limit off.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(s *Server) { s.auth.limits = newKeyLimits(perSecond, burst) }
}

// Default per-key rate limit: generous for an SDK key shared by many
// application instances, but a bound on any one runaway client.
const (
	DefaultRateLimit = 2000
	DefaultRateBurst = 4000
)

// New builds the routes.
func New(svc *experiments.Service, log *slog.Logger, opts ...Option) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{svc: svc, log: log, auth: newAuthenticator(svc), engine: gin.New(), streamPing: 15 * time.Second, metrics: newMetrics()}
	s.auth.limits = newKeyLimits(DefaultRateLimit, DefaultRateBurst)
	s.auth.rateLimited = s.metrics.rateLimited
	for _, o := range opts {
		o(s)
	}
	e := s.engine
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(requestContext(log), s.metrics.middleware(), recoverProblem(), secureHeaders())
	e.NoRoute(handler(func(c *gin.Context) error {
		return experiments.Errorf(experiments.CodeNotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path)
	}))
	e.NoMethod(handler(func(c *gin.Context) error {
		c.Header("Allow", strings.Join(s.allowed(c.Request.URL.Path), ", "))
		return experiments.Errorf(experiments.CodeMethodNotAllowed, "method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path)
	}))

	e.GET("/healthz", handler(s.healthz))
	e.GET("/metrics", s.metrics.handler())
	web.Register(e, svc, log)

	admin := s.auth.require(experiments.KeyAdmin)
	client := s.auth.require(experiments.KeySDK, experiments.KeyAdmin)
	api := e.Group("/api/v1")
	api.POST("/keys", admin, handler(s.createKey))
	api.GET("/keys", admin, handler(s.listKeys))
	api.DELETE("/keys/:id", admin, handler(s.revokeKey))
	api.GET("/audit", admin, handler(s.auditLog))

	api.POST("/experiments", admin, handler(s.createExperiment))
	api.GET("/experiments", admin, handler(s.listExperiments))
	api.GET("/experiments/:key", admin, handler(s.getExperiment))
	api.PUT("/experiments/:key", admin, handler(s.updateExperiment))
	api.POST("/experiments/:key/start", admin, handler(s.startExperiment))
	api.POST("/experiments/:key/stop", admin, handler(s.stopExperiment))
	api.GET("/experiments/:key/report", admin, handler(s.report))
	api.POST("/experiments/:key/refresh", admin, handler(s.refresh))
	api.GET("/experiments/:key/snapshots", admin, handler(s.snapshots))
	api.POST("/experiments/:key/claims", admin, handler(s.createClaim))
	api.GET("/experiments/:key/claims", admin, handler(s.listClaims))
	api.GET("/experiments/:key/claims/:id", admin, handler(s.getClaim))
	api.GET("/experiments/:key/claims/:id/versions", admin, handler(s.claimVersions))
	api.PUT("/experiments/:key/claims/:id", admin, handler(s.updateClaim))
	api.DELETE("/experiments/:key/claims/:id", admin, handler(s.deleteClaim))

	api.POST("/questions", admin, handler(s.createQuestion))
	api.GET("/questions", admin, handler(s.listQuestions))
	api.GET("/questions/:key", admin, handler(s.getQuestion))
	api.PUT("/questions/:key", admin, handler(s.updateQuestion))

	api.POST("/studies", admin, handler(s.createStudy))
	api.GET("/studies", admin, handler(s.listStudies))
	api.GET("/studies/:key", admin, handler(s.getStudy))
	api.PUT("/studies/:key", admin, handler(s.updateStudy))
	api.GET("/studies/:key/report", admin, handler(s.studyReport))

	api.POST("/sources", admin, handler(s.createSource))
	api.GET("/sources", admin, handler(s.listSources))
	api.GET("/sources/:key", admin, handler(s.getSource))
	api.PUT("/sources/:key", admin, handler(s.updateSource))
	api.GET("/sources/:key/scoreboard", admin, handler(s.scoreboard))
	api.POST("/sources/:key/statements", admin, handler(s.createStatement))
	api.GET("/sources/:key/statements", admin, handler(s.listStatements))
	api.GET("/sources/:key/statements/:statement", admin, handler(s.getStatement))
	api.GET("/sources/:key/statements/:statement/versions", admin, handler(s.statementVersions))
	api.PUT("/sources/:key/statements/:statement", admin, handler(s.updateStatement))
	api.DELETE("/sources/:key/statements/:statement", admin, handler(s.deleteStatement))

	api.POST("/layers", admin, handler(s.createLayer))
	api.GET("/layers", admin, handler(s.listLayers))
	api.GET("/layers/:key", admin, handler(s.getLayer))
	api.POST("/holdouts", admin, handler(s.createHoldout))
	api.GET("/holdouts", admin, handler(s.listHoldouts))
	api.GET("/holdouts/:key", admin, handler(s.getHoldout))
	api.GET("/holdouts/:key/report", admin, handler(s.holdoutReport))

	api.POST("/assign", client, handler(s.assign))
	api.POST("/events", client, handler(s.events))
	api.GET("/sdk/definitions", client, handler(s.definitions))
	api.GET("/sdk/stream", client, handler(s.stream))
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// HTTPServer wraps the handler with timeouts that bound what a slow or
// hostile client can hold: headers, bodies, responses and idle connections.
// The SDK stream lifts its own write deadline.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) healthz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		return &experiments.Error{Code: experiments.CodeUnavailable, Message: "the database is unreachable", Err: err}
	}
	respond(c, http.StatusOK, gin.H{"status": "ok"})
	return nil
}

// allowed lists the methods routed for path, for a 405's Allow header.
func (s *Server) allowed(path string) []string {
	var out []string
	for _, r := range s.engine.Routes() {
		if routeMatches(r.Path, path) && !slices.Contains(out, r.Method) {
			out = append(out, r.Method)
		}
	}
	sort.Strings(out)
	return out
}

// routeMatches reports whether a gin route pattern matches path: ":name"
// matches one segment and "*name" the rest.
func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(strings.Trim(pattern, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if strings.HasPrefix(p, "*") {
			return true
		}
		if i >= len(xs) || (!strings.HasPrefix(p, ":") && p != xs[i]) {
			return false
		}
	}
	return len(ps) == len(xs)
}

// Routes lists "METHOD /path" for every route, for tests that must cover them all.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}
