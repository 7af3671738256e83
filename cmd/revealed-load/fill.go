package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Rounds of the measurements after --fill.
const (
	fillRefreshes = 3
	fillReads     = 50
)

// measureReports times, after a --fill, refreshes of the experiment's
// report (computing it from every event) and reads of it (the stored
// snapshot), beside reads of /healthz on the same server, so that anyone
// can reproduce the figures of reports computed ahead.
func measureReports(ctx context.Context, cfg config, out io.Writer) error {
	c := newClient(cfg.url, cfg.key, 1)
	c.hc.Timeout = 0 // a refresh at 10M events takes minutes
	var buf bytes.Buffer
	timed := func(method, path string) (time.Duration, error) {
		start := time.Now()
		status, err := c.do(method, path, nil, &buf)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, fmt.Errorf("%s %s answered %d", method, path, status)
		}
		return time.Since(start), ctx.Err()
	}
	report := "/api/v1/experiments/" + cfg.experiment + "/report"
	refresh := "/api/v1/experiments/" + cfg.experiment + "/refresh"
	var refreshes []time.Duration
	for range fillRefreshes {
		d, err := timed("POST", refresh)
		if err != nil {
			return err
		}
		refreshes = append(refreshes, d)
	}
	// A refresh after new outcomes for 0.5% of the units.
	changed := max(cfg.units/200, 1)
	if err := sendOutcomes(c, cfg, changed); err != nil {
		return err
	}
	afterChange, err := timed("POST", refresh)
	if err != nil {
		return err
	}
	series := func(path string) ([]time.Duration, error) {
		var ds []time.Duration
		for range fillReads {
			d, err := timed("GET", path)
			if err != nil {
				return nil, err
			}
			ds = append(ds, d)
		}
		slices.Sort(ds)
		return ds, nil
	}
	reads, err := series(report)
	if err != nil {
		return err
	}
	health, err := series("/healthz")
	if err != nil {
		return err
	}
	med := func(ds []time.Duration) time.Duration { return ds[len(ds)/2] }
	p90 := func(ds []time.Duration) time.Duration { return ds[len(ds)*9/10] }
	fmt.Fprintf(out, "refresh of %s (the first one copies and computes every unit; the next find nothing changed): %v\n", cfg.experiment, refreshes)
	fmt.Fprintf(out, "refresh after new outcomes for %d units (0.5%% of --units): %v\n", changed, afterChange)
	if cfg.floorDB != "" {
		if err := measureFloor(ctx, cfg, out); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "read of the report (the stored snapshot), %d reads: median %v, p90 %v\n", fillReads, med(reads), p90(reads))
	fmt.Fprintf(out, "read of /healthz, %d reads: median %v, p90 %v\n", fillReads, med(health), p90(health))
	fmt.Fprintf(out, "report read / healthz: %.1f× (median)\n", float64(med(reads))/float64(med(health)))
	return nil
}

// sendOutcomes sends two outcomes each for n random units of the unit
// space, in batches of cfg.batch.
func sendOutcomes(c *client, cfg config, n int) error {
	rng := rand.New(rand.NewPCG(cfg.seed, 1))
	var buf bytes.Buffer
	events := 0
	b := []byte(`{"events":[`)
	flush := func() error {
		b = append(b, `]}`...)
		status, err := c.do("POST", "/api/v1/events", b, &buf)
		if err == nil && status != http.StatusAccepted {
			err = fmt.Errorf("POST /api/v1/events answered %d: %s", status, buf.String())
		}
		b, events = append(b[:0], `{"events":[`...), 0
		return err
	}
	unit := 0
	for i := range 2 * n {
		if i%2 == 0 {
			unit = rng.IntN(cfg.units)
		}
		if events > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"changed-`...)
		b = strconv.AppendUint(b, cfg.seed, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `","type":"outcome","metric":`...)
		b = strconv.AppendQuote(b, cfg.metric)
		b = append(b, `,"value":1,"unit_id":"u`...)
		b = strconv.AppendInt(b, int64(unit), 10)
		b = append(b, `"}`...)
		if events++; events == cfg.batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if events > 0 {
		return flush()
	}
	return nil
}
