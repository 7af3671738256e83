// Command revealed-load drives a running Revealed server on loopback with a
// mix of /api/v1/assign requests and /api/v1/events batches, for a bounded
// time and number of requests, and reports throughput, latency percentiles
// and errors per endpoint. With --verify it checks afterwards that the
// report counts exactly the units the run exposed.
//
//	revealed-load --url http://127.0.0.1:8080 --setup --duration 60s --verify
//	revealed-load baseline --addr 127.0.0.1:8090
//
// The baseline subcommand serves a bare gin handler that decodes the same
// assign JSON and answers a fixed assignment: the yardstick of issue 6's
// assign target (Revealed at least half its throughput, side by side).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Bounds on a run, so that a typo cannot start a load that never ends.
const (
	maxDuration    = time.Hour
	maxRequestsCap = 100_000_000
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "revealed-load:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "baseline" {
		return baselineCmd(ctx, args[1:], stderr)
	}
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	res, err := drive(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	res.print(stdout)
	if err := res.err(); err != nil || cfg.fill == 0 {
		return err
	}
	return measureReports(ctx, cfg, stdout)
}

type config struct {
	url         string
	key         string
	experiment  string
	metric      string
	setup       bool
	duration    time.Duration
	maxRequests int
	concurrency int
	mix         float64 // share of requests that are /assign
	batch       int
	units       int
	verify      bool
	seed        uint64
	// fill, when set, sends this many events (batches only) and then
	// measures a refresh of the report and reads of it (fill.go).
	fill int
	// floorDB, with fill, is the server's SQLite file or Postgres URL: the
	// floor query runs on it in the same run, for the ratio of a refresh to it.
	floorDB string
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("revealed-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base URL of the server; must be on loopback")
	fs.StringVar(&c.key, "key", os.Getenv("REVEALED_LOAD_KEY"), "API key (env REVEALED_LOAD_KEY); --setup and --verify need an admin key")
	fs.StringVar(&c.experiment, "experiment", "load-test", "experiment key")
	fs.StringVar(&c.metric, "metric", "converted", "metric of the outcome events")
	fs.BoolVar(&c.setup, "setup", false, "create and start the experiment first (two variants; metrics converted and revenue)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, fmt.Sprintf("how long to send (at most %v)", maxDuration))
	fs.IntVar(&c.maxRequests, "max-requests", 10_000_000, fmt.Sprintf("stop after this many requests (at most %d)", maxRequestsCap))
	fs.IntVar(&c.concurrency, "concurrency", 16, "requests in flight")
	fs.Float64Var(&c.mix, "mix", 0.5, "share of requests that are /assign; the rest are /events batches")
	fs.IntVar(&c.batch, "batch", 1000, "events per batch")
	fs.IntVar(&c.units, "units", 100_000, "size of the unit-id space")
	fs.BoolVar(&c.verify, "verify", false, "afterwards, check the report's units per variant against the units this run exposed (needs an experiment with no units before)")
	fs.Uint64Var(&c.seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	fs.IntVar(&c.fill, "fill", 0, "send this many events in batches (exposures and outcomes, as --mix 0), then time refreshes of the report and reads of it against /healthz (needs an admin key)")
	fs.StringVar(&c.floorDB, "floor-db", "", "with --fill: the server's SQLite file or postgres:// URL, on which to time the best single query for the metric's aggregate (the floor a refresh is compared with); on Postgres its tables are analysed first")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	if err := checkLoopbackURL(c.url); err != nil {
		errs = append(errs, err)
	}
	if c.key == "" {
		errs = append(errs, errors.New("--key or REVEALED_LOAD_KEY is required"))
	}
	if c.duration <= 0 || c.duration > maxDuration {
		errs = append(errs, fmt.Errorf("--duration must be in (0, %v]", maxDuration))
	}
	if c.maxRequests <= 0 || c.maxRequests > maxRequestsCap {
		errs = append(errs, fmt.Errorf("--max-requests must be in [1, %d]", maxRequestsCap))
	}
	if c.concurrency < 1 || c.concurrency > 4096 {
		errs = append(errs, errors.New("--concurrency must be in [1, 4096]"))
	}
	if !(c.mix >= 0 && c.mix <= 1) {
		errs = append(errs, errors.New("--mix must be in [0, 1]"))
	}
	if c.batch < 1 || c.batch > 10_000 {
		errs = append(errs, errors.New("--batch must be in [1, 10000], the server's batch limit"))
	}
	if c.units < 1 {
		errs = append(errs, errors.New("--units must be at least 1"))
	}
	if c.fill < 0 || c.fill > maxRequestsCap {
		errs = append(errs, fmt.Errorf("--fill must be in [0, %d]", maxRequestsCap))
	}
	if !floorHostAllowed(c.floorDB) {
		errs = append(errs, errors.New("--floor-db: a Postgres host must be loopback (127.0.0.0/8, ::1 or localhost)"))
	}
	if c.fill > 0 { // batches until the events are in, however long that takes
		c.mix, c.maxRequests, c.duration = 0, (c.fill+c.batch-1)/c.batch, maxDuration
	}
	return c, errors.Join(errs...)
}

// checkLoopbackURL refuses any target off this machine: the harness is a
// load generator, and pointed elsewhere it is a denial-of-service tool.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("--url %q: the scheme must be http or https", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("--url %q: the host must be loopback (127.0.0.0/8, ::1 or localhost)", raw)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
