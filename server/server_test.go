package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/internal/testdb"
	"github.com/revealed-ab/revealed/server"
	"github.com/revealed-ab/revealed/sqlstore"
)

type env struct {
	handler  http.Handler // the server itself, for in-process calls
	url      string
	adminKey string
	sdkKey   string
	svc      *experiments.Service
	dbPath   string // the SQLite file
}

func newEnv(t testing.TB, opts ...server.Option) *env {
	t.Helper()
	ctx := context.Background()
	dbPath := testdb.SQLite(t)
	store, err := sqlstore.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := experiments.NewService(ctx, store, experiments.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.CreateKey(ctx, experiments.KeyAdmin, "test admin")
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := svc.CreateKey(ctx, experiments.KeySDK, "test sdk")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(svc, log, opts...)
	store.OnCommit(srv.ObserveCommit)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{handler: srv, url: ts.URL, adminKey: admin.Secret, sdkKey: sdk.Secret, svc: svc, dbPath: dbPath}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(t testing.TB, method, path, key string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

const validExperiment = `{"key":"human-vs-bot","name":"Human vs bot","unit":"customer_id",
	"variants":[{"key":"bot","weight":1,"control":true},{"key":"human","weight":1}],
	"metrics":[{"key":"resolved","kind":"binary","higher_is_better":true},{"key":"csat","kind":"mean","higher_is_better":true}]}`

func (e *env) mustCreate(t testing.TB, body string) {
	t.Helper()
	if r := e.do(t, "POST", "/api/v1/experiments", e.adminKey, []byte(body)); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
}

func (e *env) mustStart(t testing.TB, key string) {
	t.Helper()
	if r := e.do(t, "POST", "/api/v1/experiments/"+key+"/start", e.adminKey, nil); r.status != http.StatusOK {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
}

// withField replaces one top-level field of the valid experiment.
func withField(field, raw string) string { return with(validExperiment, field, raw) }

// with replaces one top-level field of a JSON object with valid JSON.
func with(base, field, raw string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		panic(err)
	}
	m[field] = json.RawMessage(raw)
	b, _ := json.Marshal(m)
	return string(b)
}

func variants(n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"key":"v` + string(rune('a'+i)) + `","weight":1,"control":` + map[bool]string{true: "true", false: "false"}[i == 0] + `}`)
	}
	return b.String() + "]"
}

// Every kind of bad input gets a 4xx problem+json whose body names the
// problem, never a 5xx.
func TestBadInputIsAProblem(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, withField("key", `"running-one"`))
	e.mustStart(t, "running-one")
	e.mustCreate(t, withField("key", `"draft-one"`))

	running := withField("key", `"running-one"`)
	event := func(fields string) string { return `{"events":[{` + fields + `}]}` }
	tests := []struct {
		name, method, path, key string
		body                    string
		status                  int
		mentions                string
	}{
		{"no key", "GET", "/api/v1/experiments", "", "", 401, "API key"},
		{"unknown key", "GET", "/api/v1/experiments", "rvl_admin_nope", "", 401, "invalid"},
		{"sdk key on admin route", "GET", "/api/v1/experiments", "sdk", "", 403, "sdk key"},
		{"malformed JSON", "POST", "/api/v1/experiments", "admin", `{"key":`, 400, "truncated"},
		{"syntax error", "POST", "/api/v1/experiments", "admin", `{"key" "x"}`, 400, "malformed JSON"},
		{"empty body", "POST", "/api/v1/experiments", "admin", ``, 400, "empty"},
		{"wrong type", "POST", "/api/v1/experiments", "admin", withField("name", `42`), 400, `"name"`},
		{"unknown field", "POST", "/api/v1/experiments", "admin", withField("colour", `"red"`), 400, `"colour"`},
		{"trailing data", "POST", "/api/v1/experiments", "admin", validExperiment + `{}`, 400, "after the JSON"},
		{"missing fields", "POST", "/api/v1/experiments", "admin", `{}`, 400, `"metrics"`},
		{"bad key", "POST", "/api/v1/experiments", "admin", withField("key", `"Not A Slug"`), 400, `"key"`},
		{"negative weight", "POST", "/api/v1/experiments", "admin", withField("variants", `[{"key":"a","weight":-1,"control":true},{"key":"b","weight":1}]`), 400, "variants[0].weight"},
		{"weights summing to 0", "POST", "/api/v1/experiments", "admin", withField("variants", `[{"key":"a","weight":0,"control":true},{"key":"b","weight":0}]`), 400, "weight"},
		{"0 variants", "POST", "/api/v1/experiments", "admin", withField("variants", `[]`), 400, `"variants"`},
		{"11 variants", "POST", "/api/v1/experiments", "admin", withField("variants", variants(11)), 400, `"variants"`},
		{"duplicate variant keys", "POST", "/api/v1/experiments", "admin", withField("variants", `[{"key":"a","weight":1,"control":true},{"key":"a","weight":1}]`), 400, "variants[1].key"},
		{"no control", "POST", "/api/v1/experiments", "admin", withField("variants", `[{"key":"a","weight":1},{"key":"b","weight":1}]`), 400, "control"},
		{"traffic 0", "POST", "/api/v1/experiments", "admin", withField("traffic", `0`), 400, `"traffic"`},
		{"huge number", "POST", "/api/v1/experiments", "admin", withField("traffic", `1e400`), 400, `"traffic"`},
		{"NaN", "POST", "/api/v1/experiments", "admin", `{"key":"x","traffic":NaN}`, 400, "malformed JSON"},
		{"deep nesting", "POST", "/api/v1/experiments", "admin", `{"hypothesis":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 400, "max depth"},
		{"bad targeting op", "POST", "/api/v1/experiments", "admin", withField("targeting", `[{"attribute":"plan","op":"like","value":"x"}]`), 400, "targeting[0]"},
		{"unknown metric kind", "POST", "/api/v1/experiments", "admin", withField("metrics", `[{"key":"m","kind":"median"}]`), 400, "metrics[0].kind"},
		{"1 MB string", "POST", "/api/v1/experiments", "admin", withField("name", `"`+strings.Repeat("x", 1<<20)+`"`), 413, "limit"},
		{"duplicate experiment", "POST", "/api/v1/experiments", "admin", withField("key", `"draft-one"`), 409, "already exists"},
		{"unknown experiment", "GET", "/api/v1/experiments/nope", "admin", "", 404, "nope"},
		{"start a running experiment", "POST", "/api/v1/experiments/running-one/start", "admin", "", 409, "running"},
		{"stop a draft", "POST", "/api/v1/experiments/draft-one/stop", "admin", "", 409, "draft"},
		{"re-weight a running experiment", "PUT", "/api/v1/experiments/running-one", "admin",
			with(running, "variants", `[{"key":"bot","weight":3,"control":true},{"key":"human","weight":1}]`), 409, "re-bucketed"},
		{"change the salt of a running experiment", "PUT", "/api/v1/experiments/running-one", "admin", with(running, "salt", `"new"`), 409, "salt"},
		{"change a key by PUT", "PUT", "/api/v1/experiments/draft-one", "admin", withField("key", `"other"`), 400, `"key"`},
		{"bad status filter", "GET", "/api/v1/experiments?status=paused", "admin", "", 400, `"status"`},
		{"assign unknown experiment", "POST", "/api/v1/assign", "sdk", `{"experiment":"nope","unit_id":"u1"}`, 404, "nope"},
		{"assign without unit", "POST", "/api/v1/assign", "sdk", `{"experiment":"running-one"}`, 400, "unit_id"},
		{"assign with invalid UTF-8 unit", "POST", "/api/v1/assign", "sdk", "{\"experiment\":\"running-one\",\"unit_id\":\"\xff\xfe\"}", 400, "UTF-8"},
		{"assign with nested attribute", "POST", "/api/v1/assign", "sdk", `{"experiment":"running-one","unit_id":"u","attributes":{"a":{"b":1}}}`, 400, "attributes.a"},
		{"no events", "POST", "/api/v1/events", "sdk", `{"events":[]}`, 400, `"events"`},
		{"unknown event experiment", "POST", "/api/v1/events", "sdk", event(`"type":"exposure","unit_id":"u","experiment":"nope","variant":"a"`), 400, "events[0].experiment"},
		{"exposure without variant", "POST", "/api/v1/events", "sdk", event(`"type":"exposure","unit_id":"u","experiment":"running-one"`), 400, "events[0].variant"},
		{"exposure to an unknown variant", "POST", "/api/v1/events", "sdk", event(`"type":"exposure","unit_id":"u","experiment":"running-one","variant":"robot"`), 400, "robot"},
		{"outcome without value", "POST", "/api/v1/events", "sdk", event(`"type":"outcome","unit_id":"u","metric":"csat"`), 400, "events[0].value"},
		{"unknown metric", "POST", "/api/v1/events", "sdk", event(`"type":"outcome","unit_id":"u","metric":"nps","value":1`), 400, "nps"},
		{"metric of another experiment", "POST", "/api/v1/events", "sdk", event(`"type":"outcome","unit_id":"u","experiment":"running-one","metric":"nps","value":1`), 400, "events[0].metric"},
		{"unknown event type", "POST", "/api/v1/events", "sdk", event(`"type":"click","unit_id":"u"`), 400, "events[0].type"},
		{"bad timestamp", "POST", "/api/v1/events", "sdk", event(`"type":"outcome","unit_id":"u","metric":"csat","value":1,"ts":"yesterday"`), 400, "invalid JSON"},
		{"too many events", "POST", "/api/v1/events", "sdk", `{"events":[` + strings.Repeat(`{"type":"outcome","unit_id":"u","metric":"csat","value":1},`, 10000) + `{"type":"outcome","unit_id":"u","metric":"csat","value":1}]}`, 400, "10000"},
		{"unknown route", "GET", "/api/v1/nothing", "admin", "", 404, "no route"},
		{"wrong method", "DELETE", "/api/v1/experiments", "admin", "", 405, "method"},
		{"revoke an unknown key", "DELETE", "/api/v1/keys/key_nope", "admin", "", 404, "key_nope"},
		{"key of an unknown kind", "POST", "/api/v1/keys", "admin", `{"kind":"root","name":"x"}`, 400, `"kind"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := map[string]string{"admin": e.adminKey, "sdk": e.sdkKey}[tt.key]
			if key == "" {
				key = tt.key
			}
			r := e.do(t, tt.method, tt.path, key, []byte(tt.body))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
			if allow := r.header.Get("Allow"); tt.status == http.StatusMethodNotAllowed && allow != "GET, POST" {
				t.Errorf("Allow %q, want the routed methods %q", allow, "GET, POST")
			}
			var p server.Problem
			if err := json.Unmarshal(r.body, &p); err != nil || p.Status != tt.status || p.Title == "" {
				t.Fatalf("not a problem document (%v): %s", err, r.body)
			}
			if !strings.Contains(string(r.body), tt.mentions) {
				t.Fatalf("problem does not mention %q: %s", tt.mentions, r.body)
			}
		})
	}
	// Nothing of the refused batches was stored, and the draft was not changed.
	if got, _ := e.svc.GetExperiment(context.Background(), "running-one"); got.Variants[0].Weight != 0.5 || got.Salt != "running-one" {
		t.Fatalf("a refused update changed the experiment: %+v", got)
	}
}

func TestAssignRecordsOneExposure(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	assign := func() experiments.Assignment {
		r := e.do(t, "POST", "/api/v1/assign", e.sdkKey, []byte(`{"experiment":"human-vs-bot","unit_id":"customer-42"}`))
		if r.status != http.StatusOK {
			t.Fatalf("assign: %d %s", r.status, r.body)
		}
		var a experiments.Assignment
		json.Unmarshal(r.body, &a)
		return a
	}
	if a := assign(); a.InExperiment || a.Variant != "bot" || a.Reason != "not_running" {
		t.Fatalf("draft experiment: %+v, want the control, not in the experiment", a)
	}
	e.mustStart(t, "human-vs-bot")
	first := assign()
	if !first.InExperiment || first.Reason != "assigned" {
		t.Fatalf("running experiment: %+v", first)
	}
	if again := assign(); !reflect.DeepEqual(again, first) {
		t.Fatalf("assignment changed: %+v then %+v", first, again)
	}
	v, err := e.svc.Refresh(context.Background(), "human-vs-bot")
	if err != nil {
		t.Fatal(err)
	}
	rep := v.Report
	units := int64(0)
	for _, v := range rep.Metrics[0].Variants {
		units += v.Units
	}
	if units != 1 {
		t.Fatalf("report counts %d units after two assignments of one unit, want 1", units)
	}
}

func TestEventsAreIdempotent(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	body := []byte(`{"events":[
		{"id":"a","type":"exposure","unit_id":"u1","experiment":"human-vs-bot","variant":"human"},
		{"id":"b","type":"outcome","unit_id":"u1","metric":"csat","value":4,"ts":"2099-01-01T00:00:00Z"}]}`)
	for i, want := range []string{`{"accepted":2,"duplicates":0}`, `{"accepted":0,"duplicates":2}`} {
		r := e.do(t, "POST", "/api/v1/events", e.sdkKey, body)
		if r.status != http.StatusAccepted || strings.TrimSpace(string(r.body)) != want {
			t.Fatalf("send %d: %d %s, want 202 %s", i+1, r.status, r.body, want)
		}
	}
}

func TestDefinitionsUseETags(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	get := func(etag string) response {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/sdk/definitions", nil)
		req.Header.Set("Authorization", "Bearer "+e.sdkKey)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, b}
	}
	first := get("")
	etag := first.header.Get("ETag")
	var defs experiments.Definitions
	if err := json.Unmarshal(first.body, &defs); err != nil || first.status != 200 || etag == "" || `"`+defs.ETag+`"` != etag ||
		defs.Algorithm != "v1" || len(defs.Experiments) != 1 || defs.Experiments[0].Status != "draft" {
		t.Fatalf("definitions: %d etag %q %s (%v)", first.status, etag, first.body, err)
	}
	if r := get(etag); r.status != http.StatusNotModified || len(r.body) != 0 {
		t.Fatalf("unchanged poll: %d %q, want 304 and no body", r.status, r.body)
	}
	e.mustStart(t, "human-vs-bot")
	if r := get(etag); r.status != http.StatusOK || r.header.Get("ETag") == etag {
		t.Fatalf("after a change: %d etag %q, want 200 with a new etag", r.status, r.header.Get("ETag"))
	}
}

func TestStreamPushesChanges(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	e.mustStart(t, "human-vs-bot")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/sdk/stream", nil)
	req.Header.Set("Authorization", "Bearer "+e.sdkKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan experiments.Definitions, 4)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var d experiments.Definitions
				json.Unmarshal([]byte(data), &d)
				events <- d
			}
		}
	}()
	statusOf := func(d experiments.Definitions) string { return d.Experiments[0].Status }
	if d := <-events; statusOf(d) != "running" {
		t.Fatalf("first event: status %q, want running", statusOf(d))
	}
	if r := e.do(t, "POST", "/api/v1/experiments/human-vs-bot/stop", e.adminKey, nil); r.status != 200 {
		t.Fatalf("stop: %d %s", r.status, r.body)
	}
	select {
	case d := <-events:
		if statusOf(d) != "stopped" {
			t.Fatalf("pushed status %q, want stopped", statusOf(d))
		}
	case <-time.After(time.Second):
		t.Fatal("stopping the experiment was not pushed within a second")
	}
}

func TestKeysLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "POST", "/api/v1/keys", e.adminKey, []byte(`{"kind":"sdk","name":"checkout"}`))
	var k struct {
		ID, Kind, Name, Key string
		CreatedAt           time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(r.body, &k); r.status != 201 || err != nil || k.Kind != "sdk" || k.ID == "" || len(k.Key) < 40 || k.CreatedAt.IsZero() {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/keys", e.adminKey, nil); r.status != 200 || strings.Contains(string(r.body), k.Key) || !strings.Contains(string(r.body), k.ID) {
		t.Fatalf("listing keys must show ids and never secrets: %s", r.body)
	}
	if r := e.do(t, "GET", "/api/v1/sdk/definitions", k.Key, nil); r.status != 200 {
		t.Fatalf("new sdk key refused: %d", r.status)
	}
	if r := e.do(t, "DELETE", "/api/v1/keys/"+k.ID, e.adminKey, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.do(t, "GET", "/api/v1/sdk/definitions", k.Key, nil); r.status != 401 {
		t.Fatalf("revoked key: %d, want 401", r.status)
	}
}

func TestEditRules(t *testing.T) {
	e := newEnv(t)
	e.mustCreate(t, validExperiment)
	r := e.do(t, "PUT", "/api/v1/experiments/human-vs-bot", e.adminKey,
		[]byte(withField("variants", `[{"key":"bot","weight":3,"control":true},{"key":"human","weight":1}]`)))
	var got experiments.Experiment
	if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil || got.Variants[0].Weight != 0.75 || got.Version != 2 {
		t.Fatalf("re-weighting a draft: %d %s; want 200 with weights normalised to 0.75/0.25", r.status, r.body)
	}
	e.mustStart(t, "human-vs-bot")
	renamed := with(withField("variants", `[{"key":"bot","weight":0.75,"control":true},{"key":"human","weight":0.25}]`), "name", `"Renamed"`)
	if r := e.do(t, "PUT", "/api/v1/experiments/human-vs-bot", e.adminKey, []byte(renamed)); r.status != 200 || !strings.Contains(string(r.body), `"status":"running"`) {
		t.Fatalf("renaming a running experiment: %d %s; want 200, still running", r.status, r.body)
	}
}
