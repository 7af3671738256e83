// Package sdk is the Go client for Revealed. It assigns units to experiment
// variants locally, with the same assignment package the server uses, and
// delivers exposure, outcome and survey response events to the server in
// batches.
//
// A Client keeps the experiment definitions in memory. It fetches them at
// New, keeps them current over a Server-Sent Events stream, and falls back to
// polling with ETags while the stream is down. Assign never touches the
// network, never blocks and does not allocate. Track, Respond and exposures
// go into a bounded queue that a background goroutine sends; the caller is
// never blocked, and when the queue is full the newest events are dropped
// and counted in Stats.
//
// There is no package-level client: create one with New, share it between
// goroutines, and Close it when done.
package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/eventid"
)

// Reasons reported in Assignment.Reason. The first six come from the
// assignment package; the last two are the SDK's own.
const (
	ReasonAssigned       = string(assign.ReasonAssigned)
	ReasonNotRunning     = string(assign.ReasonNotRunning)
	ReasonNotTargeted    = string(assign.ReasonNotTargeted)
	ReasonOutsideTraffic = string(assign.ReasonOutsideTraffic)
	ReasonHeldOut        = string(assign.ReasonHeldOut)
	ReasonOutsideLayer   = string(assign.ReasonOutsideLayer)
	// ReasonUnknownExperiment: the definitions are loaded but have no
	// experiment with this key. Variant is "".
	ReasonUnknownExperiment = "unknown_experiment"
	// ReasonDefinitionsUnavailable: no definitions have been loaded yet (the
	// server was unreachable at New and there was no bootstrap). The control
	// variant is not known then, so Variant is "".
	ReasonDefinitionsUnavailable = "definitions_unavailable"
)

// Defaults for the zero values of Config.
const (
	DefaultRefreshInterval = 30 * time.Second
	DefaultFlushInterval   = 2 * time.Second
	DefaultBatchSize       = 500
	DefaultQueueCapacity   = 10_000
	// MaxBatchSize is the most events the server accepts in one request.
	MaxBatchSize = 10_000
)

// Config configures a Client. BaseURL and APIKey are required; every other
// zero value means the default.
type Config struct {
	// BaseURL is the server's address, e.g. "http://127.0.0.1:8080". A path
	// prefix is kept ("https://example.com/revealed").
	BaseURL string
	// APIKey is an SDK key, sent as "Authorization: Bearer <key>".
	APIKey string

	// RefreshInterval is how often definitions are polled while the stream
	// is down. Default 30s.
	RefreshInterval time.Duration
	// FlushInterval is the longest an event waits in the queue before a
	// partial batch is sent. Default 2s.
	FlushInterval time.Duration
	// BatchSize is the most events sent in one request, at most
	// MaxBatchSize. Default 500.
	BatchSize int
	// QueueCapacity bounds the events held in memory. Default 10,000.
	QueueCapacity int

	// HTTPClient sends every request. Default: a new client with no
	// timeout; the SDK sets per-request deadlines itself. Its Timeout, if
	// any, is ignored for the long-lived definitions stream.
	HTTPClient *http.Client
	// Logger receives warnings about dropped events and refused payloads.
	// Default slog.Default().
	Logger *slog.Logger

	// Bootstrap is a definitions payload (the body of GET
	// /api/v1/sdk/definitions) to start from without the network. With a
	// bootstrap, New does not wait for the server. At most one of Bootstrap
	// and BootstrapFile may be set.
	Bootstrap []byte
	// BootstrapFile is a file holding a bootstrap payload.
	BootstrapFile string

	// DisableExposureLogging turns off the exposure event that Assign
	// queues the first time a unit enters an experiment. Use it when the
	// exposure is logged elsewhere.
	DisableExposureLogging bool

	tuning *tuning // tests shorten the timings
}

// tuning holds timings users have no reason to change.
type tuning struct {
	initialFetchTimeout time.Duration // cap on New's wait for the server
	requestTimeout      time.Duration // one definitions or events request
	sendBackoffMin      time.Duration
	sendBackoffMax      time.Duration
	streamBackoffMin    time.Duration
	streamBackoffMax    time.Duration
	streamIdleTimeout   time.Duration // no bytes (not even a ping) for this long: reconnect
	unavailableRetryMin time.Duration // first poll retry while there are no definitions
	dropLogEvery        time.Duration
}

func defaultTuning() tuning {
	return tuning{
		initialFetchTimeout: 5 * time.Second,
		requestTimeout:      30 * time.Second,
		sendBackoffMin:      200 * time.Millisecond,
		sendBackoffMax:      30 * time.Second,
		streamBackoffMin:    500 * time.Millisecond,
		streamBackoffMax:    30 * time.Second,
		streamIdleTimeout:   60 * time.Second,
		unavailableRetryMin: time.Second,
		dropLogEvery:        10 * time.Second,
	}
}

// Attributes describe a unit for targeting, e.g. {"generation": "gen_z"}.
// Values are strings, numbers or booleans.
type Attributes map[string]any

// Assignment is the outcome of Assign.
type Assignment struct {
	// Variant is the variant key to show. It is the control variant when
	// InExperiment is false and the experiment is known, and "" when it is
	// not (ReasonUnknownExperiment, ReasonDefinitionsUnavailable).
	Variant string
	// InExperiment reports whether the unit is part of the experiment's
	// sample. Only then is an exposure logged.
	InExperiment bool
	// Reason is one of the Reason constants.
	Reason string
	// Factors are the variant's level of each factor in a factorial
	// experiment, e.g. {"agent": "human", "wait_minutes": 10.0}; nil
	// otherwise. The map is shared: do not modify it.
	Factors map[string]any
}

// Stats are counts of events since New.
type Stats struct {
	// Queued events are held in memory, waiting to be sent or being sent.
	Queued int64
	// Sent events were acknowledged by the server (including those it
	// counted as duplicates of an earlier delivery).
	Sent int64
	// Dropped events are lost: the queue was full, the event was invalid,
	// the server refused its batch, or Close's deadline passed first.
	Dropped int64
	// Retried counts batch send attempts that were retries.
	Retried int64
}

// Client assigns units and records events. Its methods are safe for
// concurrent use.
type Client struct {
	base         string
	apiKey       string
	httpClient   *http.Client
	streamClient *http.Client
	log          *slog.Logger
	cfg          Config
	tune         tuning

	defs       atomic.Pointer[snapshot] // nil until the first good payload
	streamUp   atomic.Bool
	exposures  *exposureSet // nil when exposure logging is off
	stopDefs   context.CancelFunc
	defsDone   sync.WaitGroup
	streamKick chan struct{} // wakes the poller when the stream drops

	// mu guards closed against the queue being fed after Close began
	// draining it; enqueuers take it shared.
	mu        sync.RWMutex
	closed    bool
	queue     chan event
	closing   chan struct{}
	closeOnce sync.Once
	sendCtx   context.Context
	stopSend  context.CancelFunc
	sendDone  chan struct{}

	queued, sent, dropped, retried atomic.Int64
	lastDropLog                    atomic.Int64 // unix nanos
}

// New validates cfg and starts a client. It fetches the definitions unless
// a bootstrap is given, waiting at most until ctx is done or 5 seconds. If
// the server cannot be reached, New still returns a working client whose
// Assign answers ReasonDefinitionsUnavailable until a background retry
// succeeds. New returns an error only for an invalid configuration,
// including an invalid bootstrap payload.
func New(ctx context.Context, cfg Config) (*Client, error) {
	c, boot, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if boot != nil {
		c.defs.Store(boot)
	} else {
		fctx, cancel := context.WithTimeout(ctx, c.tune.initialFetchTimeout)
		if err := c.fetchDefinitions(fctx); err != nil {
			c.log.WarnContext(ctx, "revealed: definitions unavailable at start; retrying in the background", "err", err)
		}
		cancel()
	}
	c.start()
	return c, nil
}

func newClient(cfg Config) (*Client, *snapshot, error) {
	var errs []error
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		errs = append(errs, errors.New("BaseURL is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("BaseURL: %w", err))
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		errs = append(errs, fmt.Errorf("BaseURL %q: want http(s)://host[:port]", cfg.BaseURL))
	}
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("APIKey is required"))
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"RefreshInterval", &cfg.RefreshInterval, DefaultRefreshInterval},
		{"FlushInterval", &cfg.FlushInterval, DefaultFlushInterval},
	} {
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", d.name))
		} else if *d.v == 0 {
			*d.v = d.def
		}
	}
	switch {
	case cfg.BatchSize < 0 || cfg.BatchSize > MaxBatchSize:
		errs = append(errs, fmt.Errorf("BatchSize must be in [1, %d]", MaxBatchSize))
	case cfg.BatchSize == 0:
		cfg.BatchSize = DefaultBatchSize
	}
	switch {
	case cfg.QueueCapacity < 0:
		errs = append(errs, errors.New("QueueCapacity must not be negative"))
	case cfg.QueueCapacity == 0:
		cfg.QueueCapacity = DefaultQueueCapacity
	}
	var boot *snapshot
	if cfg.Bootstrap != nil && cfg.BootstrapFile != "" {
		errs = append(errs, errors.New("set Bootstrap or BootstrapFile, not both"))
	} else {
		payload := cfg.Bootstrap
		if cfg.BootstrapFile != "" {
			if payload, err = os.ReadFile(cfg.BootstrapFile); err != nil {
				errs = append(errs, fmt.Errorf("BootstrapFile: %w", err))
			}
		}
		if payload != nil {
			if boot, err = parseDefinitions(payload, ""); err != nil {
				errs = append(errs, fmt.Errorf("bootstrap: %w", err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("revealed sdk: invalid config: %w", errors.Join(errs...))
	}

	c := &Client{
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		apiKey:     cfg.APIKey,
		httpClient: cfg.HTTPClient,
		log:        cfg.Logger,
		cfg:        cfg,
		tune:       defaultTuning(),
		streamKick: make(chan struct{}, 1),
		queue:      make(chan event, cfg.QueueCapacity),
		closing:    make(chan struct{}),
		sendDone:   make(chan struct{}),
	}
	c.cfg.Bootstrap = nil // parsed; do not keep a second copy alive
	if cfg.tuning != nil {
		c.tune = *cfg.tuning
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{}
	}
	sc := *c.httpClient
	sc.Timeout = 0
	c.streamClient = &sc
	if c.log == nil {
		c.log = slog.Default()
	}
	if !cfg.DisableExposureLogging {
		c.exposures = newExposureSet(exposureSetSlots)
	}
	return c, boot, nil
}

func (c *Client) start() {
	dctx, cancel := context.WithCancel(context.Background())
	c.stopDefs = cancel
	c.defsDone.Add(2)
	go func() { defer c.defsDone.Done(); c.streamLoop(dctx) }()
	go func() { defer c.defsDone.Done(); c.pollLoop(dctx) }()

	c.sendCtx, c.stopSend = context.WithCancel(context.Background())
	go c.sendLoop()
}

// holdoutExperiment is the key a holdout's exposures are recorded under,
// as experiments.HoldoutExperimentKey names it.
func holdoutExperiment(holdout string) string { return "holdout:" + holdout }

// Assign returns the unit's variant of the experiment. It evaluates the
// cached definitions locally: no network call, no lock, no allocation. The
// first time a unit is InExperiment it queues an exposure event carrying
// attrs (unless DisableExposureLogging); later calls for the same unit and
// experiment find it in a bounded cache and queue nothing. ctx is unused
// and kept for symmetry and future tracing.
func (c *Client) Assign(ctx context.Context, experiment, unitID string, attrs Attributes) Assignment {
	snap := c.defs.Load()
	if snap == nil {
		return Assignment{Reason: ReasonDefinitionsUnavailable}
	}
	e, ok := snap.defs[experiment]
	if !ok {
		return Assignment{Reason: ReasonUnknownExperiment}
	}
	r := assign.Assign(e.def, unitID, attrs)
	if r.InExperiment && c.exposures != nil {
		h := exposureKey(e.seed, unitID)
		if c.exposures.add(h) {
			c.queueExposure(ctx, h, experiment, unitID, r.Variant, attrs)
		}
	}
	if len(e.holdouts) > 0 && c.exposures != nil {
		// As the server records them: the held-out units, and everyone
		// else who reached the experiment (assign.HoldoutArms).
		e.def.HoldoutArms(r, func(holdout, arm string) {
			h := exposureKey(e.holdouts[holdout], unitID)
			if c.exposures.add(h) {
				c.queueExposure(ctx, h, holdoutExperiment(holdout), unitID, arm, attrs)
			}
		})
	}
	return Assignment{Variant: r.Variant, InExperiment: r.InExperiment, Reason: string(r.Reason), Factors: e.def.VariantFactors(r.Variant)}
}

func (c *Client) queueExposure(ctx context.Context, h uint64, experiment, unitID, variant string, attrs Attributes) {
	var copied map[string]any
	if len(attrs) > 0 {
		// The caller may reuse its map after Assign returns.
		copied = make(map[string]any, len(attrs))
		for k, v := range attrs {
			copied[k] = v
		}
	}
	now := time.Now()
	ev := event{
		ID: eventid.New(now), Type: "exposure", UnitID: unitID,
		Experiment: experiment, Variant: variant, TS: now, Attributes: copied,
	}
	if !c.enqueue(ctx, ev) {
		// Let a later Assign try again rather than lose the exposure for
		// as long as the cache remembers the unit.
		c.exposures.remove(h)
	}
}

// Track records an outcome: the unit's value of a metric, e.g. csat 4 or
// resolved 1. It never blocks; the event is sent in a later batch. An event
// with an empty unit or metric, or a NaN or infinite value, would make the
// server refuse its whole batch, so it is dropped here and counted.
func (c *Client) Track(ctx context.Context, unitID, metric string, value float64) {
	if unitID == "" || metric == "" || !finite(value) {
		c.dropped.Add(1)
		c.log.WarnContext(ctx, "revealed: invalid outcome dropped", "unit_id", unitID, "metric", metric, "value", value)
		return
	}
	now := time.Now()
	v := value
	c.enqueue(ctx, event{ID: eventid.New(now), Type: "outcome", UnitID: unitID, Metric: metric, Value: &v, TS: now})
}

// Respond records a unit's answer to a survey question, e.g. agent_pref
// "human" or satisfaction 4, so that the server can put what the unit said
// beside what it did. The answer is a string for a choice question and a
// number (any integer or float type) for a rating or number question. It
// never blocks; the event is sent in a later batch, with the time of this
// call, which is what decides a unit's first answer. An empty unit,
// question or string answer, a NaN or infinite number, or an answer of any
// other type would make the server refuse its whole batch, so it is dropped
// here and counted. An answer that is not one of the question's options,
// or off its scale, is refused by the server and dropped alone.
func (c *Client) Respond(ctx context.Context, unitID, question string, answer any) {
	a, ok := answerValue(answer)
	if unitID == "" || question == "" || !ok {
		c.dropped.Add(1)
		c.log.WarnContext(ctx, "revealed: invalid response dropped", "unit_id", unitID, "question", question,
			"answer_type", fmt.Sprintf("%T", answer))
		return
	}
	now := time.Now()
	c.enqueue(ctx, event{ID: eventid.New(now), Type: "response", UnitID: unitID, Question: question, Answer: a, TS: now})
}

// answerValue normalises an answer to what the wire carries: a non-empty
// string, or a finite float64. Named types (type Choice string) count by
// their kind, as callers' own enums are the natural thing to pass.
func answerValue(answer any) (any, bool) {
	switch a := answer.(type) {
	case string:
		return a, a != ""
	case float64:
		return a, finite(a)
	case int:
		return float64(a), true
	case json.Number:
		// A decoded JSON number is a number, though its kind is string.
		f, err := a.Float64()
		return f, err == nil && finite(f)
	}
	v := reflect.ValueOf(answer)
	switch v.Kind() {
	case reflect.String:
		return v.String(), v.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(v.Uint()), true
	case reflect.Float32:
		// Widening float32(0.1) gives 0.10000000149011612; the caller meant
		// the shortest decimal that float32 prints as.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.Float(), 'g', -1, 32), 64)
		return f, finite(f)
	case reflect.Float64:
		return v.Float(), finite(v.Float())
	}
	return nil, false
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// enqueue adds ev to the queue without blocking. It reports false, and
// counts the event as dropped, when the queue is full or the client closed.
func (c *Client) enqueue(ctx context.Context, ev event) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		c.drop(ctx, 1, "client closed")
		return false
	}
	select {
	case c.queue <- ev:
		c.queued.Add(1)
		return true
	default:
		c.drop(ctx, 1, "queue full")
		return false
	}
}

// drop counts lost events and logs at most once per dropLogEvery, so a full
// queue cannot flood the log.
func (c *Client) drop(ctx context.Context, n int, why string) {
	total := c.dropped.Add(int64(n))
	now := time.Now().UnixNano()
	last := c.lastDropLog.Load()
	if now-last >= int64(c.tune.dropLogEvery) && c.lastDropLog.CompareAndSwap(last, now) {
		c.log.WarnContext(ctx, "revealed: events dropped", "reason", why, "dropped_total", total)
	}
}

// Stats returns the event counts.
func (c *Client) Stats() Stats {
	return Stats{
		Queued:  c.queued.Load(),
		Sent:    c.sent.Load(),
		Dropped: c.dropped.Load(),
		Retried: c.retried.Load(),
	}
}

// Close stops the background goroutines after sending what is queued. If
// ctx ends first, the events still queued are dropped (and counted) and
// Close returns ctx's error. Events tracked after Close are dropped. Assign
// keeps answering from the last definitions. Close may be called more than
// once.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.stopDefs()
		close(c.closing)
	})
	before := c.dropped.Load()
	expired := false
	select {
	case <-c.sendDone:
	case <-ctx.Done():
		expired = true
		c.stopSend()
		<-c.sendDone
	}
	c.stopSend()
	c.defsDone.Wait()
	if n := c.queued.Swap(0); n > 0 {
		c.dropped.Add(n)
	}
	if lost := c.dropped.Load() - before; expired && lost > 0 {
		return fmt.Errorf("revealed sdk: close: %d events not delivered: %w", lost, ctx.Err())
	}
	return nil
}
