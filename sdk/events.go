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
}

// problem is the RFC 9457 body of a 4xx answer.
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Index  int    `json:"index"`
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
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
	body, bad := encodeBatch(batch)
	if bad > 0 {
		c.log.Warn("revealed: events that cannot be encoded as JSON dropped", "count", bad)
		c.drop(ctx, bad, "unencodable event")
	}
	n := len(batch) - bad
	done := func() []event {
		c.queued.Add(-int64(len(batch)))
		clear(batch)
		return batch[:0]
	}
	if n == 0 {
		return done()
	}

	closing := c.closing
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.retried.Add(1)
		}
		status, retryAfter, refusal, err := c.postEvents(ctx, body)
		switch {
		case err == nil && status/100 == 2:
			c.sent.Add(int64(n))
			return done()
		case ctx.Err() != nil:
			c.queued.Add(-int64(len(batch)))
			c.drop(context.Background(), n, "client closed before delivery")
			clear(batch)
			return batch[:0]
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			c.log.Error("revealed: server refused an event batch; dropped",
				"status", status, "events", n, "problem", refusal)
			c.dropped.Add(int64(n))
			return done()
		}

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

// encodeBatch encodes each event on its own, so that one event whose
// attributes cannot be encoded costs only itself.
func encodeBatch(batch []event) (body []byte, bad int) {
	var buf bytes.Buffer
	buf.WriteString(`{"events":[`)
	first := true
	for i := range batch {
		b, err := json.Marshal(&batch[i])
		if err != nil {
			bad++
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(b)
	}
	buf.WriteString(`]}`)
	return buf.Bytes(), bad
}

// postEvents makes one attempt. refusal describes a 4xx answer.
func (c *Client) postEvents(ctx context.Context, body []byte) (status int, retryAfter time.Duration, refusal string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.tune.requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && resp.StatusCode/100 == 2 {
		// The server committed before answering; a retry is counted as a
		// duplicate, so treat a torn body as success.
		err = nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode/100 == 4:
		refusal = describeProblem(data)
	}
	return resp.StatusCode, retryAfter, refusal, nil
}

func describeProblem(data []byte) string {
	var p problem
	if json.Unmarshal(data, &p) != nil {
		if len(data) > 512 {
			data = data[:512]
		}
		return string(data)
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
		errs = append(errs, fmt.Errorf("event %d %s: %s", e.Index, e.Field, e.Detail))
	}
	if len(errs) == 0 {
		return string(data)
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
