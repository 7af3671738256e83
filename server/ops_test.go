package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/server"
	"github.com/revealed-ab/revealed/sqlstore"
)

func TestRateLimitPerKey(t *testing.T) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, testdb.SQLite(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.Migrate(ctx)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, _ := experiments.NewService(ctx, store, experiments.WithLogger(log))
	a, _ := svc.CreateKey(ctx, experiments.KeySDK, "a")
	b, _ := svc.CreateKey(ctx, experiments.KeySDK, "b")
	ts := httptest.NewServer(server.New(svc, log, server.WithRateLimit(1, 3)))
	defer ts.Close()
	get := func(key string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/sdk/definitions", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 3 {
		if r := get(a.Secret); r.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, r.StatusCode)
		}
	}
	r := get(a.Secret)
	retry, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.StatusCode != http.StatusTooManyRequests || retry < 1 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("over the limit: %d, Retry-After %q, %s", r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("Content-Type"))
	}
	if r := get(b.Secret); r.StatusCode != 200 {
		t.Fatalf("another key was limited too: %d", r.StatusCode)
	}
}

func TestAuditLogRecordsChanges(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	e.mustStart(t, "human-vs-bot")
	e.do(t, "POST", "/api/v1/experiments/human-vs-bot/claims", e.adminKey,
		[]byte(`{"id":"h","kind":"effect","metric":"csat","preferred":"human","survey_n":10,"statement":"s"}`))
	r := e.do(t, "POST", "/api/v1/keys", e.adminKey, []byte(`{"kind":"sdk","name":"x"}`))
	var key struct{ ID, Key string }
	json.Unmarshal(r.body, &key)
	e.do(t, "DELETE", "/api/v1/keys/"+key.ID, e.adminKey, nil)

	r = e.do(t, "GET", "/api/v1/audit", e.adminKey, nil)
	var log struct {
		Entries []experiments.AuditEntry
	}
	if err := json.Unmarshal(r.body, &log); r.status != 200 || err != nil {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	var actions []string
	for _, en := range log.Entries {
		actions = append(actions, en.Action+" "+en.Target)
		if en.Action != "key.create" && en.Actor == "system" {
			t.Errorf("%s has no actor", en.Action)
		}
	}
	want := "key.revoke key:" + key.ID + ",key.create key:" + key.ID + ",claim.create claim:human-vs-bot/h,experiment.start experiment:human-vs-bot,experiment.create experiment:human-vs-bot"
	if got := strings.Join(actions[:5], ","); got != want {
		t.Fatalf("audit, newest first:\n got %s\nwant %s", got, want)
	}
	start := log.Entries[3]
	if !strings.Contains(string(start.Before), `"status":"draft"`) || !strings.Contains(string(start.After), `"status":"running"`) {
		t.Fatalf("start entry before/after: %s → %s", start.Before, start.After)
	}
	if strings.Contains(string(r.body), key.Key) {
		t.Fatal("the audit log holds a key's secret")
	}
	if r := e.do(t, "GET", "/api/v1/audit", e.sdkKey, nil); r.status != 403 {
		t.Fatalf("an SDK key read the audit log: %d", r.status)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	e.do(t, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[{"type":"outcome","unit_id":"u","metric":"csat","value":3}]}`))
	r := e.do(t, "GET", "/metrics", "", nil)
	for _, series := range []string{
		`revealed_http_requests_total{method="POST",route="/api/v1/events",status="202"} 1`,
		`revealed_events_accepted_total 1`,
		`revealed_ingest_batch_size_count 1`,
		`revealed_db_commit_duration_seconds_count 1`,
		`revealed_http_request_duration_seconds_bucket{method="POST",route="/api/v1/experiments"`,
	} {
		if !strings.Contains(string(r.body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// No secret may reach the logs, whatever happens to the request.
func TestLogsNeverHoldSecrets(t *testing.T) {
	buf := &syncWriter{b: &strings.Builder{}}
	ctx := context.Background()
	store, _ := sqlstore.Open(ctx, testdb.SQLite(t), nil)
	defer store.Close()
	store.Migrate(ctx)
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, _ := experiments.NewService(ctx, store, experiments.WithLogger(log))
	admin, _ := svc.CreateKey(ctx, experiments.KeyAdmin, "a")
	ts := httptest.NewServer(server.New(svc, log))
	defer ts.Close()
	for _, key := range []string{admin.Secret, "rvl_admin_not-a-real-key-but-secret-looking"} {
		for _, path := range []string{"/api/v1/experiments", "/api/v1/keys", "/api/v1/nope"} {
			req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(`{"kind":"sdk","name":"n"}`))
			req.Header.Set("Authorization", "Bearer "+key)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var k struct{ Key string }
				if json.Unmarshal(body, &k) == nil && k.Key != "" && strings.Contains(buf.String(), k.Key) {
					t.Fatal("a new key's secret was logged")
				}
			}
		}
		if strings.Contains(buf.String(), key) {
			t.Fatalf("the logs hold a key:\n%s", buf.String())
		}
	}
	if !strings.Contains(buf.String(), "request_id=") {
		t.Fatalf("requests are not logged with their id:\n%s", buf.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
