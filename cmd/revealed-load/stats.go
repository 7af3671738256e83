package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// endpointStats are one endpoint's figures. Every latency is kept (8 bytes
// a request), so percentiles are exact rather than bucketed.
type endpointStats struct {
	latencies  []time.Duration
	okEvents   int64 // events in acknowledged batches
	accepted   int64
	duplicates int64
	errors     map[string]int // "status 500", "transport"
}

func newEndpointStats() *endpointStats { return &endpointStats{errors: map[string]int{}} }

func (s *endpointStats) record(d time.Duration, status int, err error, events int) {
	s.latencies = append(s.latencies, d)
	switch {
	case err != nil:
		s.errors["transport: "+errClass(err)]++
	case status == 200 || status == 202:
		s.okEvents += int64(events)
	default:
		s.errors[fmt.Sprintf("status %d", status)]++
	}
}

// errClass keeps the error table short: the text after the last colon.
func errClass(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

func (s *endpointStats) merge(o *endpointStats) {
	s.latencies = append(s.latencies, o.latencies...)
	s.okEvents += o.okEvents
	s.accepted += o.accepted
	s.duplicates += o.duplicates
	for k, v := range o.errors {
		s.errors[k] += v
	}
}

func (s *endpointStats) errorCount() int {
	n := 0
	for _, v := range s.errors {
		n += v
	}
	return n
}

// percentile of sorted latencies, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

type result struct {
	cfg       config
	elapsed   time.Duration
	endpoints map[string]*endpointStats
	verified  bool
	wantUnits map[string]int64
	gotUnits  map[string]int64
}

func (r *result) print(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "target %s  experiment %s  concurrency %d  mix %.2f assign  batch %d  units %d  seed %d\n",
		c.url, c.experiment, c.concurrency, c.mix, c.batch, c.units, c.seed)
	fmt.Fprintf(w, "elapsed %.2fs\n\n", r.elapsed.Seconds())
	fmt.Fprintf(w, "%-8s %10s %7s %10s %12s %9s %9s %9s %9s\n", "endpoint", "requests", "errors", "req/s", "events/s", "p50", "p99", "p99.9", "max")
	secs := r.elapsed.Seconds()
	for _, name := range []string{endpointAssign, endpointEvents} {
		s := r.endpoints[name]
		if len(s.latencies) == 0 {
			continue
		}
		lat := slices.Clone(s.latencies)
		slices.Sort(lat)
		evs := "-"
		if name == endpointEvents {
			evs = fmt.Sprintf("%.0f", float64(s.okEvents)/secs)
		}
		fmt.Fprintf(w, "%-8s %10d %7d %10.0f %12s %9s %9s %9s %9s\n", name, len(lat), s.errorCount(), float64(len(lat))/secs, evs,
			round(percentile(lat, 50)), round(percentile(lat, 99)), round(percentile(lat, 99.9)), round(lat[len(lat)-1]))
	}
	fmt.Fprintln(w)
	for _, name := range []string{endpointAssign, endpointEvents} {
		s := r.endpoints[name]
		if len(s.errors) == 0 {
			continue
		}
		keys := slices.Collect(maps.Keys(s.errors))
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "errors %s: %s × %d\n", name, k, s.errors[k])
		}
	}
	ev := r.endpoints[endpointEvents]
	fmt.Fprintf(w, "events acknowledged %d (accepted %d, duplicates %d)\n", ev.okEvents, ev.accepted, ev.duplicates)
	if r.verified {
		verdict := "OK"
		if fmt.Sprint(r.wantUnits) != fmt.Sprint(r.gotUnits) {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "verify: report units per variant %v, exposed by this run %v: %s\n", r.gotUnits, r.wantUnits, verdict)
	}
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// err fails the run on any error, duplicate (the ids are fresh) or
// verification mismatch, so scripts can rely on the exit status.
func (r *result) err() error {
	var errs []error
	for _, name := range []string{endpointAssign, endpointEvents} {
		if n := r.endpoints[name].errorCount(); n > 0 {
			errs = append(errs, fmt.Errorf("%d %s requests failed", n, name))
		}
	}
	ev := r.endpoints[endpointEvents]
	if ev.duplicates > 0 {
		errs = append(errs, fmt.Errorf("%d fresh events were called duplicates", ev.duplicates))
	}
	if ev.accepted != ev.okEvents {
		errs = append(errs, fmt.Errorf("%d events acknowledged but the answers accepted %d", ev.okEvents, ev.accepted))
	}
	if r.verified && fmt.Sprint(r.wantUnits) != fmt.Sprint(r.gotUnits) {
		errs = append(errs, fmt.Errorf("the report counts units %v, the run exposed %v", r.gotUnits, r.wantUnits))
	}
	return errors.Join(errs...)
}
