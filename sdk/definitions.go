package sdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
)

// maxPayload bounds a definitions payload, in a response or one SSE event.
const maxPayload = 32 << 20

// snapshot is one immutable, validated set of definitions. Assign reads it
// through an atomic pointer; a refresh builds a new one and swaps it in.
type snapshot struct {
	etag string // opaque, without quotes
	defs map[string]entry
}

type entry struct {
	def *assign.Definition
	// seed is the exposure hash state after the experiment key, so Assign
	// hashes only the unit id.
	seed uint64
	// holdouts are the exposure seeds of the experiment's holdouts, whose
	// exposures are recorded under "holdout:KEY".
	holdouts map[string]uint64
}

type payload struct {
	Algorithm   string               `json:"algorithm"`
	ETag        string               `json:"etag"`
	Experiments *[]assign.Definition `json:"experiments"`
}

// parseDefinitions validates a whole payload; one bad experiment refuses it
// all, so a client never runs a half-understood configuration. etag, if
// not empty, overrides the payload's own.
func parseDefinitions(data []byte, etag string) (*snapshot, error) {
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode definitions: %w", err)
	}
	if p.Algorithm != assign.Version {
		return nil, fmt.Errorf("algorithm %q, this SDK implements %q", p.Algorithm, assign.Version)
	}
	if p.Experiments == nil {
		return nil, errors.New(`no "experiments" list`)
	}
	exps := *p.Experiments
	// The server may put the quotes of its ETag header in the body too.
	s := &snapshot{etag: unquoteETag(p.ETag), defs: make(map[string]entry, len(exps))}
	if etag != "" {
		s.etag = etag
	}
	var errs []error
	for i := range exps {
		d := &exps[i]
		if fe := d.Validate(); len(fe) > 0 {
			errs = append(errs, fmt.Errorf("experiment %d (%q): %v", i, d.Key, fe))
			continue
		}
		if _, dup := s.defs[d.Key]; dup {
			errs = append(errs, fmt.Errorf("experiment %d: duplicate key %q", i, d.Key))
			continue
		}
		en := entry{def: d, seed: exposureSeed(d.Key)}
		for _, h := range d.Holdouts {
			if en.holdouts == nil {
				en.holdouts = map[string]uint64{}
			}
			en.holdouts[h.Key] = exposureSeed(holdoutExperiment(h.Key))
		}
		s.defs[d.Key] = en
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// install parses data and, if valid, makes it the current snapshot.
func (c *Client) install(ctx context.Context, data []byte, etag, source string) error {
	s, err := parseDefinitions(data, etag)
	if err != nil {
		c.log.ErrorContext(ctx, "revealed: definitions refused; keeping the last good ones", "source", source, "err", err)
		return err
	}
	c.defs.Store(s)
	return nil
}

func (c *Client) newRequest(ctx context.Context, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	return req, nil
}

// fetchDefinitions makes one conditional GET; a 304 leaves the snapshot as
// it is.
func (c *Client) fetchDefinitions(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.tune.requestTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, "/api/v1/sdk/definitions")
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if cur := c.defs.Load(); cur != nil && cur.etag != "" {
		req.Header.Set("If-None-Match", `"`+cur.etag+`"`)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil
	case http.StatusOK:
	default:
		return fmt.Errorf("GET definitions: %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPayload+1))
	if err != nil {
		return fmt.Errorf("GET definitions: %w", err)
	}
	if len(data) > maxPayload {
		return fmt.Errorf("GET definitions: payload over %d bytes", maxPayload)
	}
	return c.install(ctx, data, unquoteETag(resp.Header.Get("ETag")), "poll")
}

func unquoteETag(v string) string {
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// pollLoop fetches definitions while the stream is down: at
// RefreshInterval, and sooner (with backoff) while there are none at all.
func (c *Client) pollLoop(ctx context.Context) {
	failures := 0
	for {
		wait := c.cfg.RefreshInterval
		if c.defs.Load() == nil {
			wait = min(backoff(c.tune.unavailableRetryMin, c.cfg.RefreshInterval, failures), c.cfg.RefreshInterval)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-c.streamKick:
			// The stream just dropped: catch up now rather than a refresh
			// interval from now.
			t.Stop()
		}
		if c.streamUp.Load() {
			continue
		}
		if err := c.fetchDefinitions(ctx); err != nil {
			failures++
			if ctx.Err() == nil {
				c.log.WarnContext(ctx, "revealed: polling definitions failed", "err", err)
			}
		} else {
			failures = 0
		}
	}
}

// streamLoop keeps an SSE connection open, reconnecting with backoff.
func (c *Client) streamLoop(ctx context.Context) {
	failures := 0
	for {
		got, err := c.stream(ctx)
		if c.streamUp.Swap(false) {
			select {
			case c.streamKick <- struct{}{}:
			default:
			}
		}
		if ctx.Err() != nil {
			return
		}
		if got {
			failures = 0
		}
		c.log.DebugContext(ctx, "revealed: definitions stream ended", "err", err)
		t := time.NewTimer(backoff(c.tune.streamBackoffMin, c.tune.streamBackoffMax, failures))
		failures++
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stream reads one SSE connection until it fails. got reports whether at
// least one valid definitions event arrived.
func (c *Client) stream(ctx context.Context) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := c.newRequest(ctx, "/api/v1/sdk/stream")
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := c.streamClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET stream: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, fmt.Errorf("GET stream: content type %q", ct)
	}

	// A half-open connection never errors; the server's pings prove it is
	// alive, and their absence ends the connection.
	idle := time.AfterFunc(c.tune.streamIdleTimeout, cancel)
	defer idle.Stop()

	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var name string
	var data []byte
	for {
		line, err := readLine(r)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("stream idle or stopped: %w", err)
			}
			return got, err
		}
		idle.Reset(c.tune.streamIdleTimeout)
		if len(line) == 0 {
			if name == "definitions" && data != nil {
				if c.install(ctx, data, "", "stream") == nil {
					got = true
					c.streamUp.Store(true)
				}
			}
			name, data = "", nil
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "": // a comment, e.g. ": ping"
		case "event":
			name = string(value)
		case "data":
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, value...)
			if len(data) > maxPayload {
				return got, fmt.Errorf("stream event over %d bytes", maxPayload)
			}
		}
	}
}

// readLine returns one line without its line ending, however long, up to
// maxPayload.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			line = append(line, chunk...)
			if len(line) > maxPayload {
				return nil, fmt.Errorf("stream line over %d bytes", maxPayload)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if line != nil {
			chunk = append(line, chunk...)
		} else {
			chunk = bytes.Clone(chunk)
		}
		chunk = bytes.TrimSuffix(chunk, []byte("\n"))
		return bytes.TrimSuffix(chunk, []byte("\r")), nil
	}
}
