package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
	"github.com/revealed-ab/revealed/internal/eventid"
)

const (
	endpointAssign = "assign"
	endpointEvents = "events"
)

// client talks to the server with one pooled transport: as many idle
// connections as workers, so that no request pays for a new connection.
type client struct {
	base string
	key  string
	hc   *http.Client
}

func newClient(base, key string, conns int) *client {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{base: strings.TrimRight(base, "/"), key: key, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// do sends body and reads the whole answer into buf, which it returns.
func (c *client) do(method, path string, body []byte, buf *bytes.Buffer) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, err
}

func (c *client) json(method, path string, in, out any, want int) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	status, err := c.do(method, path, body, &buf)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d: %s", method, path, status, strings.TrimSpace(buf.String()))
	}
	if out != nil {
		return json.Unmarshal(buf.Bytes(), out)
	}
	return nil
}

// setup creates and starts a two-variant experiment.
func (c *client) setup(key string) error {
	in := map[string]any{
		"key": key, "name": "Load test " + key, "hypothesis": "Revealed keeps up", "unit": "customer_id",
		"variants": []map[string]any{{"key": "control", "weight": 1, "control": true}, {"key": "treatment", "weight": 1}},
		"metrics": []map[string]any{{"key": "converted", "kind": "binary", "higher_is_better": true},
			{"key": "revenue", "kind": "mean", "higher_is_better": true}},
	}
	if err := c.json("POST", "/api/v1/experiments", in, nil, http.StatusCreated); err != nil {
		return err
	}
	return c.json("POST", "/api/v1/experiments/"+key+"/start", nil, nil, http.StatusOK)
}

// definition fetches the experiment's assignment definition, so that the
// exposures the harness sends carry the variant the server would assign.
func (c *client) definition(key string) (*assign.Definition, error) {
	var defs struct {
		Experiments []assign.Definition `json:"experiments"`
	}
	if err := c.json("GET", "/api/v1/sdk/definitions", nil, &defs, http.StatusOK); err != nil {
		return nil, err
	}
	for i := range defs.Experiments {
		if defs.Experiments[i].Key == key {
			return &defs.Experiments[i], nil
		}
	}
	return nil, fmt.Errorf("experiment %q is not in the SDK definitions; create it, or pass --setup", key)
}

// reportUnits reads units per variant from the report's first metric; all
// metrics count the same exposed units.
func (c *client) reportUnits(key string) (map[string]int64, error) {
	var r struct {
		Metrics []struct {
			Variants []struct {
				Variant string `json:"variant"`
				Units   int64  `json:"units"`
			} `json:"variants"`
		} `json:"metrics"`
	}
	// Reports are computed ahead: recompute now, over every event acknowledged.
	if err := c.json("POST", "/api/v1/experiments/"+key+"/refresh", nil, &r, http.StatusOK); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	if len(r.Metrics) > 0 {
		for _, v := range r.Metrics[0].Variants {
			if v.Units > 0 {
				out[v.Variant] = v.Units
			}
		}
	}
	return out, nil
}

// worker is one request loop. Its records are its own until the run ends,
// so the hot path takes no locks.
type worker struct {
	c       *client
	cfg     *config
	def     *assign.Definition
	rng     *rand.Rand
	body    []byte
	buf     bytes.Buffer
	stats   map[string]*endpointStats
	exposed map[int]string // unit → variant, for --verify
	idSeq   uint32
}

func (w *worker) loop(ctx context.Context, budget *atomic.Int64) {
	for ctx.Err() == nil && budget.Add(-1) >= 0 {
		if w.rng.Float64() < w.cfg.mix {
			w.assign()
		} else {
			w.events()
		}
	}
}

func (w *worker) assign() {
	unit := w.rng.IntN(w.cfg.units)
	b := append(w.body[:0], `{"experiment":`...)
	b = strconv.AppendQuote(b, w.cfg.experiment)
	b = append(b, `,"unit_id":"u`...)
	b = strconv.AppendInt(b, int64(unit), 10)
	b = append(b, `","attributes":{"country":"NZ","plan":"pro"}}`...)
	w.body = b
	st := w.stats[endpointAssign]
	start := time.Now()
	status, err := w.c.do("POST", "/api/v1/assign", b, &w.buf)
	st.record(time.Since(start), status, err, 0)
	if err != nil || status != http.StatusOK {
		return
	}
	var a struct {
		Variant      string `json:"variant"`
		InExperiment bool   `json:"in_experiment"`
	}
	if json.Unmarshal(w.buf.Bytes(), &a) == nil && a.InExperiment && w.exposed != nil {
		w.exposed[unit] = a.Variant
	}
}

// events sends one batch: 30% exposures in the variant the shared
// assignment function gives, 70% outcomes. JSON is written by hand because
// the harness shares two cores with the server it measures.
func (w *worker) events() {
	b := append(w.body[:0], `{"events":[`...)
	var units []int
	for i := range w.cfg.batch {
		if i > 0 {
			b = append(b, ',')
		}
		unit := w.rng.IntN(w.cfg.units)
		b = append(b, `{"id":"`...)
		b = w.appendID(b)
		if w.rng.IntN(10) < 3 {
			variant := assign.Assign(w.def, "u"+strconv.Itoa(unit), nil).Variant
			b = append(b, `","type":"exposure","experiment":`...)
			b = strconv.AppendQuote(b, w.cfg.experiment)
			b = append(b, `,"variant":`...)
			b = strconv.AppendQuote(b, variant)
			units = append(units, unit)
		} else {
			b = append(b, `","type":"outcome","metric":`...)
			b = strconv.AppendQuote(b, w.cfg.metric)
			b = append(b, `,"value":`...)
			b = strconv.AppendInt(b, int64(w.rng.IntN(100)), 10)
		}
		b = append(b, `,"unit_id":"u`...)
		b = strconv.AppendInt(b, int64(unit), 10)
		b = append(b, `"}`...)
	}
	b = append(b, `]}`...)
	w.body = b
	st := w.stats[endpointEvents]
	start := time.Now()
	status, err := w.c.do("POST", "/api/v1/events", b, &w.buf)
	elapsed := time.Since(start)
	if err != nil || status != http.StatusAccepted {
		st.record(elapsed, status, err, 0)
		return
	}
	var res struct {
		Accepted   int `json:"accepted"`
		Duplicates int `json:"duplicates"`
	}
	if err := json.Unmarshal(w.buf.Bytes(), &res); err != nil {
		st.record(elapsed, 0, fmt.Errorf("decoding the 202 body: %w", err), 0)
		return
	}
	st.record(elapsed, status, nil, w.cfg.batch)
	st.accepted += int64(res.Accepted)
	st.duplicates += int64(res.Duplicates)
	if w.exposed != nil {
		for _, u := range units {
			w.exposed[u] = assign.Assign(w.def, "u"+strconv.Itoa(u), nil).Variant
		}
	}
}

// appendID writes a time-ordered event id, as the SDK sends.
func (w *worker) appendID(b []byte) []byte { return append(b, eventid.New(time.Now())...) }

// drive runs the load and, with --verify, the check.
func drive(ctx context.Context, cfg config, log io.Writer) (*result, error) {
	c := newClient(cfg.url, cfg.key, cfg.concurrency)
	if cfg.setup {
		if err := c.setup(cfg.experiment); err != nil {
			return nil, fmt.Errorf("--setup: %w", err)
		}
		fmt.Fprintf(log, "created and started experiment %q\n", cfg.experiment)
	}
	// Only batches need the definition (to expose units in their variant), so
	// an assign-only run can also drive the baseline handler.
	var def *assign.Definition
	if cfg.mix < 1 {
		var err error
		if def, err = c.definition(cfg.experiment); err != nil {
			return nil, err
		}
	}
	if cfg.verify {
		before, err := c.reportUnits(cfg.experiment)
		if err != nil {
			return nil, fmt.Errorf("--verify: %w", err)
		}
		if len(before) > 0 {
			return nil, fmt.Errorf("--verify needs an experiment with no units yet; %q has %v (use --setup with a new --experiment)", cfg.experiment, before)
		}
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(int64(cfg.maxRequests))
	workers := make([]*worker, cfg.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &worker{c: c, cfg: &cfg, def: def, rng: rand.New(rand.NewPCG(cfg.seed, uint64(i))),
			stats: map[string]*endpointStats{endpointAssign: newEndpointStats(), endpointEvents: newEndpointStats()}}
		if cfg.verify {
			w.exposed = map[int]string{}
		}
		workers[i] = w
		// A request in flight when time is up is finished, not cancelled:
		// a cancelled batch might be stored without being acknowledged.
		wg.Go(func() { w.loop(runCtx, &budget) })
	}
	wg.Wait()
	res := &result{cfg: cfg, elapsed: time.Since(start), endpoints: map[string]*endpointStats{}}
	for _, name := range []string{endpointAssign, endpointEvents} {
		all := newEndpointStats()
		for _, w := range workers {
			all.merge(w.stats[name])
		}
		res.endpoints[name] = all
	}
	if cfg.verify {
		want := map[string]int64{}
		seen := map[int]string{}
		for _, w := range workers {
			for u, v := range w.exposed {
				seen[u] = v
			}
		}
		for _, v := range seen {
			want[v]++
		}
		got, err := c.reportUnits(cfg.experiment)
		if err != nil {
			return nil, fmt.Errorf("--verify: %w", err)
		}
		res.verified = true
		res.wantUnits, res.gotUnits = want, got
	}
	return res, nil
}
