package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
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
	var refreshes []time.Duration
	for range fillRefreshes {
		d, err := timed("POST", "/api/v1/experiments/"+cfg.experiment+"/refresh")
		if err != nil {
			return err
		}
		refreshes = append(refreshes, d)
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
	fmt.Fprintf(out, "refresh of %s (computes from every event): %v\n", cfg.experiment, refreshes)
	fmt.Fprintf(out, "read of the report (the stored snapshot), %d reads: median %v, p90 %v\n", fillReads, med(reads), p90(reads))
	fmt.Fprintf(out, "read of /healthz, %d reads: median %v, p90 %v\n", fillReads, med(health), p90(health))
	fmt.Fprintf(out, "report read / healthz: %.1f× (median)\n", float64(med(reads))/float64(med(health)))
	return nil
}
