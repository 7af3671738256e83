package server

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus series. Each Server has its own
// registry, so tests can build many servers in one process.
type metrics struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	eventsAccepted prometheus.Counter
	eventsDup      prometheus.Counter
	batchSize      prometheus.Histogram
	commitLatency  prometheus.Histogram
	commitEvents   prometheus.Histogram
	rateLimited    prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "revealed_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "revealed_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route", "method"}),
		eventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "revealed_events_accepted_total", Help: "Events stored (new ids), exposures from /assign included.",
		}),
		eventsDup: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "revealed_events_duplicates_total", Help: "Events whose id was already stored.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "revealed_ingest_batch_size", Help: "Events per POST /api/v1/events request.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "revealed_db_commit_duration_seconds", Help: "Database latency of one group commit of events.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 16),
		}),
		commitEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "revealed_db_commit_events", Help: "Events written by one group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "revealed_rate_limited_total", Help: "Requests refused with 429 by the per-key rate limit.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.eventsAccepted, m.eventsDup, m.batchSize, m.commitLatency, m.commitEvents, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveCommit records one group commit; the store calls it.
func (s *Server) ObserveCommit(d time.Duration, events int) {
	s.metrics.commitLatency.Observe(d.Seconds())
	s.metrics.commitEvents.Observe(float64(events))
}

func (m *metrics) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

func (m *metrics) handler() gin.HandlerFunc {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
}
