package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/revealed-ab/revealed/demo"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server"
	"github.com/revealed-ab/revealed/sqlstore"
)

// outcomesCopyTick is how often the scheduler copies the outcomes of the
// buckets of sequence numbers completed since (a bucket holds 2^20 numbers).
// When nothing is complete, a tick costs two reads of a maximum.
const outcomesCopyTick = 5 * time.Second

// drainTimeout bounds how long SIGTERM waits for requests in flight.
const drainTimeout = 30 * time.Second

// serveGCPercent is the garbage collector's target when GOGC is not set.
// Decoding event batches allocates fast over a small live heap, so at Go's
// default of 100 the collector ran many times a second: 400 took ingestion
// from 178,000 to 206,000 events/s, while peak RSS, mostly SQLite's page
// caches, stayed at 150-190 MB. GOMEMLIMIT still caps the heap if set.
const serveGCPercent = 400

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := bindSettings(fs, "addr", "db", "log-level", "log-format", "rate-limit", "rate-burst", "refresh-every")
	withDemo := fs.Bool("demo", false, "load the demo experiments and simulated customers if they are not there yet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, fs.Args())
	}
	log, err := newLogger(stderr, cfg.get("log-level"), cfg.get("log-format"))
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	rateLimit, err := strconv.ParseFloat(cfg.get("rate-limit"), 64)
	if err != nil || rateLimit < 0 || math.IsInf(rateLimit, 0) {
		return fmt.Errorf("%w: --rate-limit must be a number ≥ 0, not %q", errUsage, cfg.get("rate-limit"))
	}
	rateBurst, err := strconv.Atoi(cfg.get("rate-burst"))
	if err != nil || rateBurst < 1 {
		return fmt.Errorf("%w: --rate-burst must be a whole number ≥ 1, not %q", errUsage, cfg.get("rate-burst"))
	}
	refreshEvery, err := time.ParseDuration(cfg.get("refresh-every"))
	if err != nil || refreshEvery < time.Second {
		return fmt.Errorf("%w: --refresh-every must be a duration of at least 1s, e.g. 1h or 15m, not %q", errUsage, cfg.get("refresh-every"))
	}

	store, svc, err := openService(ctx, cfg.get("db"), log)
	if err != nil {
		return err
	}
	defer store.Close()
	adminKey, err := ensureAdminKey(ctx, svc, *withDemo)
	if err != nil {
		return err
	}
	if *withDemo {
		loaded, err := demo.Load(ctx, svc, demo.Options{})
		if err != nil {
			return fmt.Errorf("loading the demo: %w", err)
		}
		if loaded {
			log.Info("demo loaded", "experiments", demo.ExperimentKeys())
		}
	}

	ln, err := net.Listen("tcp", cfg.get("addr"))
	if err != nil {
		return err
	}
	srv := server.New(svc, log, server.WithRateLimit(rateLimit, rateBurst))
	store.OnCommit(srv.ObserveCommit)
	httpServer := srv.HTTPServer(ln.Addr().String())
	url := "http://" + ln.Addr().String()
	if adminKey != "" {
		fmt.Fprintf(stderr, "Admin API key (shown once; store it): %s\n", adminKey)
	}
	if *withDemo {
		fmt.Fprintf(stderr, "Demo: open %s/ in a browser and log in with the admin key above,\n", url)
		fmt.Fprintf(stderr, "      or try  curl -H 'Authorization: Bearer KEY' %s/api/v1/experiments/human-vs-bot/report\n", url)
	}
	// Last, so that whoever waits for this line knows all of the above.
	fmt.Fprintf(stderr, "Revealed %s listening on %s\n", buildVersion(), url)

	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go svc.WatchCatalog(watchCtx, 500*time.Millisecond)
	// Reports are computed ahead: reads return the latest one stored.
	go svc.RunRefresher(watchCtx, refreshEvery, min(refreshEvery, time.Minute), outcomesCopyTick)

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests in flight", "timeout", drainTimeout)
	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := httpServer.Shutdown(drainCtx); err != nil {
		return fmt.Errorf("draining: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// openMigrated opens the store, migrating a fresh database. A database with
// pending migrations is left alone: upgrading a schema that holds data is a
// decision for the operator, after a backup.
// openService opens the store at dsn (see openMigrated) and the service on it.
func openService(ctx context.Context, dsn string, log *slog.Logger) (*sqlstore.Store, *experiments.Service, error) {
	store, err := openMigrated(ctx, dsn, log)
	if err != nil {
		return nil, nil, err
	}
	svc, err := experiments.NewService(ctx, store, experiments.WithLogger(log))
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, svc, nil
}

func openMigrated(ctx context.Context, dsn string, log *slog.Logger) (*sqlstore.Store, error) {
	store, err := sqlstore.Open(ctx, dsn, log)
	if err != nil {
		return nil, err
	}
	current, latest, dirty, err := store.MigrationStatus(ctx)
	switch {
	case err != nil:
		store.Close()
		return nil, fmt.Errorf("reading the schema version: %w", err)
	case dirty:
		store.Close()
		return nil, fmt.Errorf("the database schema is dirty at version %d: a migration failed half-way; repair it, then run `revealed migrate`", current)
	case current == 0:
		log.Info("migrating a fresh database", "dialect", store.Dialect(), "to_version", latest)
		if err := store.Migrate(ctx); err != nil {
			store.Close()
			return nil, fmt.Errorf("migrating: %w", err)
		}
	case current < latest:
		store.Close()
		return nil, fmt.Errorf("the database is at schema version %d and this binary needs %d: back it up, then run `revealed migrate`", current, latest)
	case current > latest:
		store.Close()
		return nil, fmt.Errorf("the database is at schema version %d, newer than this binary knows (%d): run a newer revealed", current, latest)
	}
	return store, nil
}

// ensureAdminKey makes REVEALED_ADMIN_KEY an admin key, or else creates one
// on a database without keys. In demo mode a fresh key is created at every
// start, so that a newcomer always sees one to log in with. It returns the
// secret to print, if one was created.
func ensureAdminKey(ctx context.Context, svc *experiments.Service, demoMode bool) (string, error) {
	if secret := os.Getenv(envAdminKey); secret != "" {
		return "", svc.EnsureAdminKey(ctx, secret)
	}
	if demoMode {
		k, err := svc.CreateKey(ctx, experiments.KeyAdmin, "demo (printed at start)")
		return k.Secret, err
	}
	return svc.BootstrapAdminKey(ctx)
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := bindSettings(fs, "db")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, _ := newLogger(stderr, "warn", "text")
	store, err := sqlstore.Open(ctx, cfg.get("db"), log)
	if err != nil {
		return err
	}
	defer store.Close()
	before, latest, _, err := store.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating from version %d: %w", before, err)
	}
	fmt.Fprintf(stdout, "schema at version %d (was %d)\n", latest, before)
	return nil
}

// refreshCmd recomputes and stores the reports of the experiments named,
// as the scheduler of `revealed serve` does, and prints what it stored.
func refreshCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("refresh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := bindSettings(fs, "db")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: name the experiments to refresh: revealed refresh [--db …] KEY...", errUsage)
	}
	log, _ := newLogger(stderr, "warn", "text")
	store, svc, err := openService(ctx, cfg.get("db"), log)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, key := range fs.Args() {
		start := time.Now()
		view, err := svc.Refresh(ctx, key)
		if err != nil {
			return fmt.Errorf("refreshing %s: %w", key, err)
		}
		fmt.Fprintf(stdout, "%s: report stored at %s over events through %d, in %v\n", key,
			view.Report.ComputedAt.Format(time.RFC3339), *view.Report.EventsThrough, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
