package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// event is one element of POST /api/v1/events. Its id is the server's
// idempotency key, so a batch is resent with the same ids.
type event struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	UnitID     string         `json:"unit_id"`
	Experiment string         `json:"experiment,omitempty"`
	Variant    string         `json:"variant,omitempty"`
	Metric     string         `json:"metric,omitempty"`
	Value      *float64       `json:"value,omitempty"`
	TS         time.Time      `json:"ts"`
	Attributes map[string]any `json:"attributes,omitempty"`
	// Question and Answer make a response. Answer is a string or a
	// float64, never anything else, so that it encodes as the server reads it.
	Question string `json:"question,omitempty"`
	Answer   any    `json:"answer,omitempty"`
}

// problem is the RFC 9457 body of a 4xx answer.
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Index  *int   `json:"index"`
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
	raw []byte
}

// sendLoop is the only reader of the queue. It sends a batch when it is full
// or FlushInterval has passed, and on Close drains the queue.
func (c *Client) sendLoop() {
	defer close(c.sendDone)
	batch := make([]event, 0, c.cfg.BatchSize)
	flush := time.NewTicker(c.cfg.FlushInterval)
	defer flush.Stop()
	for {
		select {
		case ev := <-c.queue:
			batch = append(batch, ev)
			if len(batch) == c.cfg.BatchSize {
				batch = c.deliver(batch)
			}
		case <-flush.C:
			if len(batch) > 0 {
				batch = c.deliver(batch)
			}
		case <-c.sendCtx.Done():
			c.abandon(batch)
			return
		case <-c.closing:
			// Close holds off new events before closing c.closing, so the
			// queue only shrinks from here.
			for {
				select {
				case ev := <-c.queue:
					batch = append(batch, ev)
					if len(batch) == c.cfg.BatchSize {
						batch = c.deliver(batch)
					}
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				batch = c.deliver(batch)
			}
			c.abandon(batch)
			return
		}
	}
}

// abandon counts a batch that can no longer be sent as dropped.
func (c *Client) abandon(batch []event) {
	if n := len(batch); n > 0 {
		c.queued.Add(-int64(n))
		c.drop(context.Background(), n, "client closed before delivery")
	}
}

// deliver sends batch until the server accepts or refuses it, or the client
// stops, and returns the emptied slice for reuse.
func (c *Client) deliver(batch []event) []event {
	ctx := c.sendCtx
	defer func() {
		c.queued.Add(-int64(len(batch)))
		clear(batch)
	}()
	enc := encodeEvents(batch)
	if bad := len(batch) - len(enc); bad > 0 {
		c.log.Warn("revealed: events that cannot be encoded as JSON dropped", "count", bad)
		c.drop(ctx, bad, "unencodable event")
	}
	if len(enc) == 0 {
		return batch[:0]
	}

	body := batchBody(enc)
	closing := c.closing
	split := false
	for attempt := 0; ; attempt++ {
		status, retryAfter, refusal, err := c.postEvents(ctx, body)
		switch {
		case err == nil && status/100 == 2:
			c.sent.Add(int64(len(enc)))
			return batch[:0]
		case ctx.Err() != nil:
			c.drop(context.Background(), len(enc), "client closed before delivery")
			return batch[:0]
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			// The server stores nothing from a refused batch. If it named
			// the invalid events, send the others once more (same ids)
			// rather than lose them with the bad ones.
			var invalid map[int]bool
			if status == http.StatusBadRequest && !split {
				invalid = refusal.invalidIndexes(len(enc))
			}
			if len(invalid) == 0 || len(invalid) == len(enc) {
				c.log.Error("revealed: server refused an event batch; dropped",
					"status", status, "events", len(enc), "problem", refusal.String())
				c.dropped.Add(int64(len(enc)))
				return batch[:0]
			}
			c.log.Error("revealed: server refused invalid events; dropped them, resending the rest",
				"status", status, "dropped", len(invalid), "resending", len(enc)-len(invalid), "problem", refusal.String())
			c.dropped.Add(int64(len(invalid)))
			kept := enc[:0]
			for i, e := range enc {
				if !invalid[i] {
					kept = append(kept, e)
				}
			}
			enc, body, split, attempt = kept, batchBody(kept), true, -1
			continue
		}

		c.retried.Add(1)
		wait := backoff(c.tune.sendBackoffMin, c.tune.sendBackoffMax, attempt)
		if status == http.StatusTooManyRequests && retryAfter > 0 {
			wait = retryAfter
		}
		c.log.Debug("revealed: event batch will be retried", "status", status, "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-closing:
			// Close is waiting: try once more now instead of sleeping
			// through its deadline, unless the server asked us to wait.
			closing = nil
			if status != http.StatusTooManyRequests {
				t.Stop()
				break
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
}

// encodeEvents encodes each event on its own, so that one event whose
// attributes cannot be encoded costs only itself.
func encodeEvents(batch []event) [][]byte {
	enc := make([][]byte, 0, len(batch))
	for i := range batch {
		if b, err := json.Marshal(&batch[i]); err == nil {
			enc = append(enc, b)
		}
	}
	return enc
}

func batchBody(enc [][]byte) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"events":[`)
	for i, b := range enc {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// postEvents makes one attempt. refusal describes a 4xx answer.
func (c *Client) postEvents(ctx context.Context, body []byte) (status int, retryAfter time.Duration, refusal *problem, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.tune.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	// A torn 2xx body is still a success: the server answers only after
	// its commit.
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode/100 == 4:
		refusal = parseProblem(data)
	}
	return resp.StatusCode, retryAfter, refusal, nil
}

func parseProblem(data []byte) *problem {
	p := &problem{raw: data}
	if len(p.raw) > 512 {
		p.raw = p.raw[:512]
	}
	if json.Unmarshal(data, p) != nil {
		p.Errors = nil
	}
	return p
}

// invalidIndexes returns the events the problem names, or nil unless every
// index is within the batch of n.
func (p *problem) invalidIndexes(n int) map[int]bool {
	if p == nil || len(p.Errors) == 0 {
		return nil
	}
	idx := make(map[int]bool, len(p.Errors))
	for _, e := range p.Errors {
		if e.Index == nil || *e.Index < 0 || *e.Index >= n {
			return nil
		}
		idx[*e.Index] = true
	}
	return idx
}

func (p *problem) String() string {
	if p == nil {
		return ""
	}
	var errs []error
	if p.Detail != "" || p.Title != "" {
		errs = append(errs, fmt.Errorf("%s: %s", p.Title, p.Detail))
	}
	for i, e := range p.Errors {
		if i == 10 {
			errs = append(errs, fmt.Errorf("and %d more", len(p.Errors)-i))
			break
		}
		idx := -1
		if e.Index != nil {
			idx = *e.Index
		}
		errs = append(errs, fmt.Errorf("event %d %s: %s", idx, e.Field, e.Detail))
	}
	if len(errs) == 0 {
		return string(p.raw)
	}
	return errors.Join(errs...).Error()
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 means absent.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is exponential with jitter in [d/2, d), so clients that failed
// together do not retry together.
func backoff(min, max time.Duration, attempt int) time.Duration {
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}
