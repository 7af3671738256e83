package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/internal/testbin"
	"github.com/revealed-ab/revealed/internal/testdb"
)

func TestCheckLoopbackURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.3.4.5:80/x", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"https://localhost", true},
		{"http://10.0.0.1:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://example.com", false},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := checkLoopbackURL(tt.url)
			if (err == nil) != tt.ok {
				t.Errorf("checkLoopbackURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestParseConfigRefusesUnbounded(t *testing.T) {
	for _, args := range [][]string{
		{"--key", "k", "--duration", "0s"},
		{"--key", "k", "--duration", "2h"},
		{"--key", "k", "--max-requests", "0"},
		{"--key", "k", "--batch", "10001"},
		{"--key", "k", "--mix", "1.5"},
		{"--key", "k", "--url", "http://192.168.1.1:8080"},
		{"--url", "http://127.0.0.1:8080"}, // no key
	} {
		if _, err := parseConfig(args, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted it", args)
		}
	}
}

// TestLoadAgainstServer runs a short mixed load against the real binary and
// checks the harness's own accounting: no errors, every batch acknowledged
// in full, and the report counting exactly the units the run exposed.
func TestLoadAgainstServer(t *testing.T) {
	const key = "load-admin-key-0123456789abcdef0123456789abcdef"
	p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + key}, "--db", filepath.Join(t.TempDir(), "load.db"))
	var out, log bytes.Buffer
	args := []string{"--url", p.URL, "--key", key, "--setup", "--experiment", "harness-test", "--duration", "2s",
		"--max-requests", "400", "--concurrency", "4", "--batch", "200", "--units", "2000", "--verify", "--seed", "1"}
	err := run(context.Background(), args, &out, &log)
	t.Logf("%s%s", log.String(), out.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{"assign ", "events ", "verify: ", ": OK"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestFill: --fill sends that many events in batches, then times
// refreshes of the report and reads of it beside /healthz, and the floor
// query on the server's database. On both dialects.
func TestFill(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db string) {
		const key = "load-admin-key-0123456789abcdef0123456789abcdef"
		p := testbin.Start(t, []string{"REVEALED_ADMIN_KEY=" + key}, "--db", db)
		var out, log bytes.Buffer
		args := []string{"--url", p.URL, "--key", key, "--setup", "--experiment", "fill-test", "--fill", "3000",
			"--concurrency", "2", "--batch", "500", "--units", "500", "--seed", "1", "--floor-db", db}
		if err := run(context.Background(), args, &out, &log); err != nil {
			t.Fatalf("run: %v\n%s%s", err, log.String(), out.String())
		}
		t.Logf("%s", out.String())
		for _, want := range []string{"events ", "refresh of fill-test (the first one copies and computes every unit; the next find nothing changed): [",
			"refresh after new outcomes for 2 units (0.5% of --units): ", "floor (events, covering index by (metric, ts)): ",
			"floor (unit_outcomes, clustered by (metric, unit)): ", "read of the report (the stored snapshot), 50 reads: median ",
			"read of /healthz, 50 reads: median ", "report read / healthz: "} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
	cfg, err := parseConfig([]string{"--url", "http://127.0.0.1:1", "--key", "k", "--fill", "2500", "--batch", "1000"}, io.Discard)
	if err != nil || cfg.mix != 0 || cfg.maxRequests != 3 {
		t.Errorf("--fill 2500 --batch 1000: mix %v, %d requests, %v; want 0, 3", cfg.mix, cfg.maxRequests, err)
	}
	if _, err := parseConfig([]string{"--url", "http://127.0.0.1:1", "--key", "k", "--fill", "10", "--floor-db", "postgres://db.example.com/x"}, io.Discard); err == nil {
		t.Error("--floor-db accepted a Postgres host off this machine")
	}
}

// TestRunBoundedByRequests checks that --max-requests stops the run well
// before --duration, and that the per-endpoint counts add up to it.
func TestRunBoundedByRequests(t *testing.T) {
	srv := httptest.NewServer(baselineHandler())
	defer srv.Close()
	cfg, err := parseConfig([]string{"--url", srv.URL, "--key", "k", "--mix", "1", "--max-requests", "250", "--duration", "1m", "--concurrency", "3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := drive(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("the run took %v", time.Since(start))
	}
	a := res.endpoints[endpointAssign]
	if len(a.latencies) != 250 || a.errorCount() != 0 || len(res.endpoints[endpointEvents].latencies) != 0 {
		t.Errorf("assign requests %d (errors %v), events %d; want 250, none, 0", len(a.latencies), a.errors, len(res.endpoints[endpointEvents].latencies))
	}
	if err := res.err(); err != nil {
		t.Error(err)
	}
}

func TestBaselineHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/v1/assign", strings.NewReader(`{"experiment":"e","unit_id":"u1","attributes":{"plan":"pro"}}`))
	req.Header.Set("Content-Type", "application/json")
	baselineHandler().ServeHTTP(rec, req)
	var got baselineAssignment
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK || got.UnitID != "u1" || !got.InExperiment {
		t.Errorf("status %d, body %s, err %v", rec.Code, rec.Body, err)
	}
}

func TestPercentile(t *testing.T) {
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 500 * time.Millisecond}, {99, 990 * time.Millisecond}, {99.9, 999 * time.Millisecond}, {100, time.Second}} {
		if got := percentile(lat, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
}
