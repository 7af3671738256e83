package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
)

const testKey = "sdk_test_key"

// fakeServer implements the SDK's side of the server API contract: bearer
// auth, definitions with ETags, the SSE stream and idempotent ingestion of
// exposures, outcomes and responses. Tests steer its failures.
type fakeServer struct {
	t   testing.TB
	srv *httptest.Server

	mu          sync.Mutex
	payload     []byte
	etag        string
	version     int
	defs200     int
	defs304     int
	ifNoneMatch []string
	streamOff   bool
	// quoteBodyETag puts the header's quotes in the payload's etag too, as
	// the real server does.
	quoteBodyETag bool
	streamsOpen   int
	subs          map[chan []byte]struct{}
	kill          chan struct{}

	// Events. ids counts the commits of each id; requests counts POSTs.
	ids        map[string]int
	stored     []event
	requests   int
	duplicates int
	// eventsHook, if set, runs first and may answer instead of the store.
	// commit reports whether the batch is stored before that answer (a
	// server that commits and then fails to reply).
	eventsHook func(req int, batch []event) (status int, header http.Header, commit bool)
}

func newFakeServer(t testing.TB, defs ...assign.Definition) *fakeServer {
	fs := &fakeServer{
		t:    t,
		subs: map[chan []byte]struct{}{},
		kill: make(chan struct{}),
		ids:  map[string]int{},
	}
	fs.setDefinitions(defs...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/sdk/definitions", fs.auth(fs.definitions))
	mux.HandleFunc("GET /api/v1/sdk/stream", fs.auth(fs.stream))
	mux.HandleFunc("POST /api/v1/events", fs.auth(fs.events))
	fs.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		fs.killStreams()
		fs.srv.Close()
	})
	return fs
}

func (fs *fakeServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"invalid key"}`)
			return
		}
		h(w, r)
	}
}

func payloadFor(etag string, defs []assign.Definition) []byte {
	if defs == nil {
		defs = []assign.Definition{}
	}
	b, err := json.Marshal(map[string]any{"algorithm": assign.Version, "etag": etag, "experiments": defs})
	if err != nil {
		panic(err)
	}
	return b
}

// setDefinitions publishes a new version and pushes it to open streams.
func (fs *fakeServer) setDefinitions(defs ...assign.Definition) {
	fs.mu.Lock()
	fs.version++
	etag := fmt.Sprintf("v%d", fs.version)
	bodyETag := etag
	if fs.quoteBodyETag {
		bodyETag = `"` + etag + `"`
	}
	fs.mu.Unlock()
	fs.setPayload(etag, payloadFor(bodyETag, defs))
}

// setPayload publishes raw bytes, valid or not.
func (fs *fakeServer) setPayload(etag string, body []byte) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.etag, fs.payload = etag, body
	for ch := range fs.subs {
		select {
		case ch <- body:
		default:
		}
	}
}

func (fs *fakeServer) definitions(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	etag, body := `"`+fs.etag+`"`, fs.payload
	fs.ifNoneMatch = append(fs.ifNoneMatch, r.Header.Get("If-None-Match"))
	if r.Header.Get("If-None-Match") == etag {
		fs.defs304++
		fs.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	fs.defs200++
	fs.mu.Unlock()
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (fs *fakeServer) stream(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	if fs.streamOff {
		fs.mu.Unlock()
		http.Error(w, "stream unavailable", http.StatusServiceUnavailable)
		return
	}
	ch := make(chan []byte, 16)
	fs.subs[ch] = struct{}{}
	fs.streamsOpen++
	first, kill := fs.payload, fs.kill
	fs.mu.Unlock()
	defer func() {
		fs.mu.Lock()
		delete(fs.subs, ch)
		fs.streamsOpen--
		fs.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(body []byte) {
		fmt.Fprintf(w, "event: definitions\ndata: %s\n\n", body)
		w.(http.Flusher).Flush()
	}
	send(first)
	ping := time.NewTicker(20 * time.Millisecond)
	defer ping.Stop()
	for {
		select {
		case body := <-ch:
			send(body)
		case <-ping.C:
			io.WriteString(w, ": ping\n\n")
			w.(http.Flusher).Flush()
		case <-kill:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// killStreams ends every open stream, as a server restart or a proxy would.
func (fs *fakeServer) killStreams() {
	fs.mu.Lock()
	close(fs.kill)
	fs.kill = make(chan struct{})
	fs.mu.Unlock()
}

func (fs *fakeServer) setStreamOff(off bool) {
	fs.mu.Lock()
	fs.streamOff = off
	fs.mu.Unlock()
	if off {
		fs.killStreams()
	}
}

func (fs *fakeServer) events(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Events []event `json:"events"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if len(body.Events) == 0 || len(body.Events) > MaxBatchSize {
		writeProblem(w, http.StatusBadRequest, "batch size", nil)
		return
	}
	var errs []string
	for i, e := range body.Events {
		switch {
		case e.ID == "" || e.UnitID == "" || e.TS.IsZero():
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"id","detail":"required"}`, i))
		case e.Type == "exposure" && (e.Experiment == "" || e.Variant == ""):
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"experiment","detail":"required"}`, i))
		case e.Type == "outcome" && (e.Metric == "" || e.Value == nil || e.Experiment != ""):
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"metric","detail":"required"}`, i))
		case e.Metric == "unknown-metric":
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"metric","detail":"no experiment has this metric"}`, i))
		case e.Type == "response" && (e.Question == "" || e.Metric != "" || e.Value != nil || e.Experiment != ""):
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"question","detail":"required, alone"}`, i))
		case e.Type == "response" && !isStringOrNumber(e.Answer):
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"answer","detail":"must be a string or a number"}`, i))
		case e.Answer == "not-an-option":
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"answer","detail":"must be one of the options"}`, i))
		case e.Type != "response" && (e.Question != "" || e.Answer != nil):
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"question","detail":"only on a response"}`, i))
		case e.Type != "exposure" && e.Type != "outcome" && e.Type != "response":
			errs = append(errs, fmt.Sprintf(`{"index":%d,"field":"type","detail":"unknown"}`, i))
		}
	}
	if errs != nil {
		writeProblem(w, http.StatusBadRequest, "invalid events", errs)
		return
	}

	fs.mu.Lock()
	fs.requests++
	req, hook := fs.requests, fs.eventsHook
	fs.mu.Unlock()
	commit := true
	status := http.StatusAccepted
	var header http.Header
	if hook != nil {
		status, header, commit = hook(req, body.Events)
	}
	accepted, dups := 0, 0
	if commit {
		fs.mu.Lock()
		for _, e := range body.Events {
			if fs.ids[e.ID] > 0 {
				dups++
				fs.duplicates++
				continue
			}
			fs.ids[e.ID]++
			fs.stored = append(fs.stored, e)
			accepted++
		}
		fs.mu.Unlock()
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	if status != http.StatusAccepted {
		writeProblem(w, status, "injected failure", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"accepted":%d,"duplicates":%d}`, accepted, dups)
}

// isStringOrNumber is what the server accepts as an answer, as decoded.
func isStringOrNumber(a any) bool {
	switch a.(type) {
	case string, float64:
		return true
	}
	return false
}

func writeProblem(w http.ResponseWriter, status int, detail string, errs []string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"about:blank","title":%q,"status":%d,"detail":%q,"errors":[%s]}`,
		http.StatusText(status), status, detail, strings.Join(errs, ","))
}

func (fs *fakeServer) storedEvents() []event {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]event(nil), fs.stored...)
}

func (fs *fakeServer) counts() (defs200, defs304, streams int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.defs200, fs.defs304, fs.streamsOpen
}

// fastTuning shortens every timing so the tests run in well under a second
// each.
func fastTuning() *tuning {
	return &tuning{
		initialFetchTimeout: 2 * time.Second,
		requestTimeout:      2 * time.Second,
		sendBackoffMin:      5 * time.Millisecond,
		sendBackoffMax:      40 * time.Millisecond,
		streamBackoffMin:    10 * time.Millisecond,
		streamBackoffMax:    50 * time.Millisecond,
		streamIdleTimeout:   time.Second,
		unavailableRetryMin: 10 * time.Millisecond,
		dropLogEvery:        0,
	}
}

// syncBuffer is a log sink the tests read while the client writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger(t testing.TB) (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client log:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// testConfig points a client at fs with fast timings.
func testConfig(t testing.TB, fs *fakeServer) Config {
	log, _ := testLogger(t)
	return Config{
		BaseURL:         fs.srv.URL,
		APIKey:          testKey,
		RefreshInterval: time.Hour,
		FlushInterval:   10 * time.Millisecond,
		Logger:          log,
		tuning:          fastTuning(),
	}
}

func experiment(key, status string) assign.Definition {
	return assign.Definition{
		Key: key, Salt: key, Status: status, Traffic: 1,
		Variants: []assign.Variant{
			{Key: "control", Weight: 1, Control: true},
			{Key: "treatment", Weight: 1},
		},
	}
}
