package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments/assign"
)

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func closeClient(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	valid := Config{BaseURL: "http://127.0.0.1:1", APIKey: "k", Bootstrap: payloadFor("e", nil)}
	dir := t.TempDir()
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no base url", func(c *Config) { c.BaseURL = "" }, "BaseURL is required"},
		{"relative base url", func(c *Config) { c.BaseURL = "127.0.0.1:8080" }, "BaseURL"},
		{"ftp base url", func(c *Config) { c.BaseURL = "ftp://example.com" }, "BaseURL"},
		{"no key", func(c *Config) { c.APIKey = "" }, "APIKey is required"},
		{"negative refresh", func(c *Config) { c.RefreshInterval = -time.Second }, "RefreshInterval"},
		{"negative flush", func(c *Config) { c.FlushInterval = -time.Second }, "FlushInterval"},
		{"batch too big", func(c *Config) { c.BatchSize = MaxBatchSize + 1 }, "BatchSize"},
		{"negative batch", func(c *Config) { c.BatchSize = -1 }, "BatchSize"},
		{"negative queue", func(c *Config) { c.QueueCapacity = -1 }, "QueueCapacity"},
		{"both bootstraps", func(c *Config) { c.BootstrapFile = "x.json" }, "not both"},
		{"missing bootstrap file", func(c *Config) {
			c.Bootstrap, c.BootstrapFile = nil, filepath.Join(dir, "missing.json")
		}, "BootstrapFile"},
		{"invalid bootstrap", func(c *Config) { c.Bootstrap = []byte(`{"algorithm":"v9","experiments":[]}`) }, "bootstrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			c, err := New(context.Background(), cfg)
			if err == nil {
				c.Close(context.Background())
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	c, err := New(context.Background(), valid)
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	c.Close(context.Background())
}

func TestAssignReasons(t *testing.T) {
	targeted := experiment("targeted", assign.StatusRunning)
	targeted.Targeting = []assign.Condition{{Attribute: "generation", Op: assign.OpEq, Value: "gen_z"}}
	fs := newFakeServer(t, experiment("running", assign.StatusRunning), experiment("stopped", assign.StatusStopped), targeted)
	c := newTestClient(t, testConfig(t, fs))
	tests := []struct {
		experiment string
		attrs      Attributes
		want       Assignment
	}{
		{"stopped", nil, Assignment{Variant: "control", Reason: ReasonNotRunning}},
		{"targeted", Attributes{"generation": "boomer"}, Assignment{Variant: "control", Reason: ReasonNotTargeted}},
		{"missing", nil, Assignment{Reason: ReasonUnknownExperiment}},
	}
	for _, tt := range tests {
		if got := c.Assign(context.Background(), tt.experiment, "customer-42", tt.attrs); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Assign(%q) = %+v, want %+v", tt.experiment, got, tt.want)
		}
	}
	for _, exp := range []string{"running", "targeted"} {
		got := c.Assign(context.Background(), exp, "customer-42", Attributes{"generation": "gen_z"})
		if !got.InExperiment || got.Reason != ReasonAssigned || (got.Variant != "control" && got.Variant != "treatment") {
			t.Errorf("Assign(%q) = %+v, want an assigned variant", exp, got)
		}
	}
}

func TestPollingUsesETag(t *testing.T) {
	fs := newFakeServer(t, experiment("exp", assign.StatusRunning))
	fs.setStreamOff(true)
	cfg := testConfig(t, fs)
	cfg.RefreshInterval = 10 * time.Millisecond
	c := newTestClient(t, cfg)

	eventually(t, 2*time.Second, "five 304 polls", func() bool { _, n304, _ := fs.counts(); return n304 >= 5 })
	if n200, _, _ := fs.counts(); n200 != 1 {
		t.Fatalf("unchanged definitions were sent %d times, want once", n200)
	}
	fs.mu.Lock()
	inm := fs.ifNoneMatch[len(fs.ifNoneMatch)-1]
	fs.mu.Unlock()
	if inm != `"v1"` {
		t.Fatalf("If-None-Match = %q, want %q", inm, `"v1"`)
	}

	fs.setDefinitions(experiment("exp", assign.StatusStopped))
	eventually(t, 2*time.Second, "the polled change applied", func() bool {
		return c.Assign(context.Background(), "exp", "u", nil).Reason == ReasonNotRunning
	})
}

// The real server quotes the payload's etag as in its ETag header; the
// client must still send a matching If-None-Match after a stream update.
func TestQuotedPayloadETag(t *testing.T) {
	fs := newFakeServer(t)
	fs.quoteBodyETag = true
	fs.setDefinitions(experiment("exp", assign.StatusRunning))
	cfg := testConfig(t, fs)
	cfg.RefreshInterval = 10 * time.Millisecond
	cfg.Bootstrap = payloadFor(`"v2"`, []assign.Definition{experiment("exp", assign.StatusRunning)})
	newTestClient(t, cfg)
	fs.setStreamOff(true)
	eventually(t, 2*time.Second, "three polls", func() bool { _, n304, _ := fs.counts(); return n304 >= 3 })
	if n200, _, _ := fs.counts(); n200 != 0 {
		t.Fatalf("%d full fetches of unchanged definitions", n200)
	}
}

func TestStreamAppliesStopWithinASecond(t *testing.T) {
	fs := newFakeServer(t, experiment("human-vs-bot", assign.StatusRunning))
	c := newTestClient(t, testConfig(t, fs)) // RefreshInterval 1h: only the stream can deliver
	eventually(t, 2*time.Second, "stream connected", func() bool { return c.streamUp.Load() })
	if a := c.Assign(context.Background(), "human-vs-bot", "customer-42", nil); !a.InExperiment {
		t.Fatalf("before stop: %+v", a)
	}

	stopped := time.Now()
	fs.setDefinitions(experiment("human-vs-bot", assign.StatusStopped))
	for c.Assign(context.Background(), "human-vs-bot", "customer-42", nil).Reason != ReasonNotRunning {
		if time.Since(stopped) > time.Second {
			t.Fatal("stopping the experiment did not reach the client within a second")
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("stop applied after %v", time.Since(stopped))
	if n200, _, _ := fs.counts(); n200 != 1 {
		t.Errorf("definitions polled %d times; the change should have come by the stream", n200)
	}
}

func TestStreamDropFallsBackToPollingAndReconnects(t *testing.T) {
	fs := newFakeServer(t, experiment("exp", assign.StatusRunning))
	cfg := testConfig(t, fs)
	cfg.RefreshInterval = 20 * time.Millisecond
	c := newTestClient(t, cfg)
	eventually(t, 2*time.Second, "stream connected", func() bool { return c.streamUp.Load() })
	a200, a304, _ := fs.counts()
	time.Sleep(100 * time.Millisecond)
	if b200, b304, _ := fs.counts(); b200+b304 != a200+a304 {
		t.Errorf("polled %d times while the stream was up", b200+b304-a200-a304)
	}

	fs.setStreamOff(true)
	eventually(t, 2*time.Second, "stream seen down", func() bool { return !c.streamUp.Load() })
	fs.setDefinitions(experiment("exp", assign.StatusStopped))
	eventually(t, 2*time.Second, "change applied by polling", func() bool {
		return c.Assign(context.Background(), "exp", "u", nil).Reason == ReasonNotRunning
	})
	if n200, _, _ := fs.counts(); n200 < 2 {
		t.Fatalf("the change did not come by polling: %d full fetches", n200)
	}

	fs.setStreamOff(false)
	eventually(t, 2*time.Second, "stream reconnected", func() bool { return c.streamUp.Load() })
	fs.setDefinitions(experiment("exp", assign.StatusRunning))
	eventually(t, 2*time.Second, "change pushed after reconnecting", func() bool {
		return c.Assign(context.Background(), "exp", "u", nil).InExperiment
	})
}

func TestInvalidPayloadKeepsLastGood(t *testing.T) {
	good := experiment("exp", assign.StatusRunning)
	noControl := experiment("exp", assign.StatusRunning)
	noControl.Variants[0].Control = false
	bad := []struct {
		name, body, want string
	}{
		{"malformed json", `{"algorithm":"v1","experiments":[`, "decode"},
		{"wrong algorithm", `{"algorithm":"v2","etag":"x","experiments":[]}`, "algorithm"},
		{"missing algorithm", `{"etag":"x","experiments":[]}`, "algorithm"},
		{"no experiments list", `{"algorithm":"v1","etag":"x"}`, "experiments"},
		{"duplicate keys", string(payloadFor("x", []assign.Definition{good, good})), "duplicate"},
		{"invalid definition", string(payloadFor("x", []assign.Definition{noControl})), "control"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseDefinitions([]byte(tt.body), ""); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseDefinitions error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}

	for _, via := range []string{"stream", "poll"} {
		t.Run(via, func(t *testing.T) {
			fs := newFakeServer(t, good)
			cfg := testConfig(t, fs)
			log, logs := testLogger(t)
			cfg.Logger = log
			if via == "poll" {
				fs.setStreamOff(true)
				cfg.RefreshInterval = 10 * time.Millisecond
			}
			c := newTestClient(t, cfg)
			for i, tt := range bad {
				before, _, _ := fs.counts()
				fs.setPayload(fmt.Sprintf("bad%d", i), []byte(tt.body))
				eventually(t, 2*time.Second, "refusal of "+tt.name, func() bool {
					if via == "poll" {
						n200, _, _ := fs.counts()
						return n200 > before && strings.Count(logs.String(), "definitions refused") > i
					}
					return strings.Count(logs.String(), "definitions refused") > i
				})
				if a := c.Assign(context.Background(), "exp", "u", nil); a.Reason != ReasonAssigned {
					t.Fatalf("after %s: %+v, want the last good definitions", tt.name, a)
				}
			}
		})
	}
}

func TestBootstrapStartsOffline(t *testing.T) {
	dead := deadAddress(t)
	body := payloadFor("boot", []assign.Definition{experiment("exp", assign.StatusRunning)})
	file := filepath.Join(t.TempDir(), "definitions.json")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Config){
		"bytes": func(c *Config) { c.Bootstrap = body },
		"file":  func(c *Config) { c.BootstrapFile = file },
	} {
		t.Run(name, func(t *testing.T) {
			log, _ := testLogger(t)
			cfg := Config{BaseURL: "http://" + dead, APIKey: testKey, Logger: log, tuning: fastTuning(), DisableExposureLogging: true}
			edit(&cfg)
			start := time.Now()
			c := newTestClient(t, cfg)
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("New with a bootstrap waited %v for the network", d)
			}
			if a := c.Assign(context.Background(), "exp", "customer-42", nil); a.Reason != ReasonAssigned {
				t.Fatalf("Assign from bootstrap = %+v", a)
			}
		})
	}
}

// deadAddress returns a loopback address with nothing listening.
func deadAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUnreachableServerThenRecovery(t *testing.T) {
	addr := deadAddress(t)
	log, _ := testLogger(t)
	c := newTestClient(t, Config{BaseURL: "http://" + addr, APIKey: testKey, Logger: log, tuning: fastTuning()})
	want := Assignment{Reason: ReasonDefinitionsUnavailable}
	if a := c.Assign(context.Background(), "exp", "customer-42", nil); !reflect.DeepEqual(a, want) {
		t.Fatalf("Assign with the server down = %+v, want %+v", a, want)
	}

	fs := newFakeServer(t, experiment("exp", assign.StatusRunning))
	fs.srv.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(fs.srv.Config.Handler)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(func() { fs.killStreams(); srv.Close() })

	eventually(t, 3*time.Second, "background recovery", func() bool {
		return c.Assign(context.Background(), "exp", "customer-42", nil).Reason == ReasonAssigned
	})
	closeClient(t, c)
	if n := len(fs.storedEvents()); n != 1 {
		t.Fatalf("server got %d exposures, want 1", n)
	}
}

// TestEventsArriveExactlyOnceThroughOutage mixes responses with outcomes:
// they share the queue, the ids and the retries, so they share the guarantee.
func TestEventsArriveExactlyOnceThroughOutage(t *testing.T) {
	fs := newFakeServer(t)
	var mu sync.Mutex
	outageUntil := time.Now().Add(300 * time.Millisecond)
	fs.eventsHook = func(req int, _ []event) (int, http.Header, bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case time.Now().Before(outageUntil):
			return http.StatusServiceUnavailable, nil, false
		case req%3 == 0:
			// Committed, but the answer is lost: the retry must come back
			// as duplicates, not as new events.
			return http.StatusBadGateway, nil, true
		}
		return http.StatusAccepted, nil, true
	}
	cfg := testConfig(t, fs)
	cfg.BatchSize = 50
	c := newTestClient(t, cfg)

	const workers, perWorker = 8, 250
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if i%3 == 0 {
					c.Respond(context.Background(), fmt.Sprintf("unit-%d", w), "satisfaction", i)
				} else {
					c.Track(context.Background(), fmt.Sprintf("unit-%d", w), "csat", float64(i))
				}
				if i%50 == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	closeClient(t, c)

	stored := fs.storedEvents()
	if len(stored) != workers*perWorker {
		t.Fatalf("server stored %d events, want %d", len(stored), workers*perWorker)
	}
	seen := map[string]bool{}
	responses := 0
	for _, e := range stored {
		var key string
		if e.Type == "response" {
			responses++
			key = fmt.Sprintf("%s/%v", e.UnitID, e.Answer)
		} else {
			key = fmt.Sprintf("%s/%v", e.UnitID, *e.Value)
		}
		if seen[key] {
			t.Fatalf("event %s stored twice", key)
		}
		seen[key] = true
	}
	if want := workers * ((perWorker + 2) / 3); responses != want {
		t.Fatalf("server stored %d responses, want %d", responses, want)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for id, n := range fs.ids {
		if n != 1 {
			t.Fatalf("id %s committed %d times", id, n)
		}
	}
	st := c.Stats()
	if st.Sent != workers*perWorker || st.Dropped != 0 || st.Queued != 0 || st.Retried == 0 {
		t.Fatalf("Stats = %+v, want all %d sent, some retries", st, workers*perWorker)
	}
	if fs.duplicates == 0 {
		t.Error("no retry of a committed batch was exercised")
	}
}

func TestRefusedBatchIsDroppedAndLogged(t *testing.T) {
	fs := newFakeServer(t)
	fs.eventsHook = func(req int, _ []event) (int, http.Header, bool) {
		if req == 1 {
			return http.StatusBadRequest, nil, false
		}
		return http.StatusAccepted, nil, true
	}
	cfg := testConfig(t, fs)
	log, logs := testLogger(t)
	cfg.Logger = log
	cfg.FlushInterval = time.Hour
	cfg.BatchSize = 3
	c := newTestClient(t, cfg)
	for i := range 5 {
		c.Track(context.Background(), "u", "m", float64(i))
	}
	closeClient(t, c)
	st := c.Stats()
	if st.Dropped != 3 || st.Sent != 2 || st.Retried != 0 {
		t.Fatalf("Stats = %+v, want the first batch of 3 dropped, 2 sent, no retry", st)
	}
	if !strings.Contains(logs.String(), "injected failure") {
		t.Fatalf("the refusal's detail was not logged:\n%s", logs)
	}

	// A wrong key is a 4xx too: nothing can be sent.
	cfg = testConfig(t, fs)
	cfg.APIKey = "wrong"
	c = newTestClient(t, cfg)
	if a := c.Assign(context.Background(), "x", "u", nil); a.Reason != ReasonDefinitionsUnavailable {
		t.Errorf("Assign with a wrong key = %+v", a)
	}
	c.Track(context.Background(), "u", "m", 1)
	closeClient(t, c)
	if st := c.Stats(); st.Dropped != 1 || st.Retried != 0 {
		t.Fatalf("Stats with a wrong key = %+v, want 1 dropped without retries", st)
	}
}

func TestRefusedEventsAreDroppedAndTheRestResent(t *testing.T) {
	fs := newFakeServer(t)
	cfg := testConfig(t, fs)
	log, logs := testLogger(t)
	cfg.Logger = log
	cfg.FlushInterval = time.Hour
	cfg.BatchSize = 5
	c := newTestClient(t, cfg)
	for i := range 5 {
		metric := "csat"
		if i == 1 || i == 3 {
			metric = "unknown-metric"
		}
		c.Track(context.Background(), "u", metric, float64(i))
	}
	closeClient(t, c)
	var got []float64
	for _, e := range fs.storedEvents() {
		got = append(got, *e.Value)
	}
	if fmt.Sprint(got) != "[0 2 4]" {
		t.Fatalf("server stored values %v, want the three valid events", got)
	}
	if st := c.Stats(); st.Dropped != 2 || st.Sent != 3 || st.Retried != 0 {
		t.Fatalf("Stats = %+v, want 2 dropped, 3 sent", st)
	}
	if !strings.Contains(logs.String(), "event 3 metric: no experiment has this metric") {
		t.Fatalf("the server's reasons were not logged:\n%s", logs)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	fs := newFakeServer(t)
	var mu sync.Mutex
	var times []time.Time
	fs.eventsHook = func(req int, _ []event) (int, http.Header, bool) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if req == 1 {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, false
		}
		return http.StatusAccepted, nil, true
	}
	c := newTestClient(t, testConfig(t, fs))
	c.Track(context.Background(), "u", "m", 1)
	eventually(t, 3*time.Second, "delivery after the 429", func() bool { return c.Stats().Sent == 1 })
	mu.Lock()
	defer mu.Unlock()
	if gap := times[1].Sub(times[0]); gap < 950*time.Millisecond {
		t.Fatalf("retried %v after a 429 with Retry-After: 1", gap)
	}
	if st := c.Stats(); st.Retried != 1 {
		t.Fatalf("Stats = %+v, want 1 retry", st)
	}
}

func TestFullQueueDropsNewest(t *testing.T) {
	fs := newFakeServer(t)
	inFlight, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fs.eventsHook = func(int, []event) (int, http.Header, bool) {
		once.Do(func() { close(inFlight); <-release })
		return http.StatusAccepted, nil, true
	}
	cfg := testConfig(t, fs)
	cfg.BatchSize = 1
	cfg.QueueCapacity = 10
	c := newTestClient(t, cfg)

	c.Track(context.Background(), "u", "m", 0)
	<-inFlight // event 0 is out of the queue, its request stuck
	for i := 1; i <= 15; i++ {
		start := time.Now()
		c.Track(context.Background(), "u", "m", float64(i))
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Track blocked for %v on a full queue", d)
		}
	}
	if st := c.Stats(); st.Dropped != 5 || st.Queued != 11 {
		t.Fatalf("Stats = %+v, want 5 dropped and 11 queued (10 + 1 in flight)", st)
	}
	close(release)
	closeClient(t, c)
	var got []float64
	for _, e := range fs.storedEvents() {
		got = append(got, *e.Value)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("server got values %v, want the oldest 11", got)
	}
}

func TestCloseFlushes(t *testing.T) {
	fs := newFakeServer(t)
	cfg := testConfig(t, fs)
	cfg.FlushInterval = time.Hour // only Close can send the partial batch
	c := newTestClient(t, cfg)
	for i := range 1234 {
		c.Track(context.Background(), "u", "m", float64(i))
	}
	closeClient(t, c)
	if n := len(fs.storedEvents()); n != 1234 {
		t.Fatalf("server stored %d events after Close, want 1234", n)
	}
	if st := c.Stats(); st != (Stats{Sent: 1234}) {
		t.Fatalf("Stats = %+v", st)
	}
	c.Track(context.Background(), "u", "m", 1)
	if st := c.Stats(); st.Dropped != 1 {
		t.Fatalf("Track after Close: Stats = %+v, want it dropped", st)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseGivesUpAtDeadline(t *testing.T) {
	fs := newFakeServer(t)
	fs.eventsHook = func(int, []event) (int, http.Header, bool) {
		return http.StatusServiceUnavailable, nil, false
	}
	c := newTestClient(t, testConfig(t, fs))
	for i := range 10 {
		c.Track(context.Background(), "u", "m", float64(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "10 events not delivered") {
		t.Fatalf("Close = %v, want 10 events reported lost", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v past a 200ms deadline", d)
	}
	if st := c.Stats(); st.Dropped != 10 || st.Queued != 0 || st.Sent != 0 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestExposures(t *testing.T) {
	fs := newFakeServer(t, experiment("exp", assign.StatusRunning), experiment("stopped", assign.StatusStopped))
	c := newTestClient(t, testConfig(t, fs))
	attrs := Attributes{"generation": "gen_z"}
	a := c.Assign(context.Background(), "exp", "customer-42", attrs)
	attrs["generation"] = "changed after Assign"
	for range 3 {
		c.Assign(context.Background(), "exp", "customer-42", attrs)
	}
	c.Assign(context.Background(), "exp", "customer-43", nil)
	c.Assign(context.Background(), "stopped", "customer-42", nil)
	closeClient(t, c)

	got := fs.storedEvents()
	if len(got) != 2 {
		t.Fatalf("server got %d exposures, want 2 (one per unit): %+v", len(got), got)
	}
	e := got[0]
	if e.Type != "exposure" || e.Experiment != "exp" || e.UnitID != "customer-42" || e.Variant != a.Variant ||
		e.Value != nil || e.Metric != "" || e.Attributes["generation"] != "gen_z" || time.Since(e.TS) > time.Minute {
		t.Fatalf("exposure = %+v", e)
	}

	cfg := testConfig(t, fs)
	cfg.DisableExposureLogging = true
	c = newTestClient(t, cfg)
	c.Assign(context.Background(), "exp", "customer-44", nil)
	closeClient(t, c)
	if n := len(fs.storedEvents()); n != 2 {
		t.Fatalf("DisableExposureLogging still sent %d exposures", n-2)
	}
}

func TestInvalidOutcomesDroppedLocally(t *testing.T) {
	fs := newFakeServer(t)
	c := newTestClient(t, testConfig(t, fs))
	nan := 0.0
	nan /= nan
	c.Track(context.Background(), "", "m", 1)
	c.Track(context.Background(), "u", "", 1)
	c.Track(context.Background(), "u", "m", nan)
	c.Track(context.Background(), "u", "m", 0) // zero is a valid value
	closeClient(t, c)
	if st := c.Stats(); st.Dropped != 3 || st.Sent != 1 {
		t.Fatalf("Stats = %+v, want 3 dropped, 1 sent", st)
	}
	if e := fs.storedEvents(); len(e) != 1 || e[0].Value == nil || *e[0].Value != 0 {
		t.Fatalf("stored %+v", e)
	}
}

func TestAssignDoesNotAllocate(t *testing.T) {
	def := experiment("exp", assign.StatusRunning)
	def.Targeting = []assign.Condition{{Attribute: "generation", Op: assign.OpIn, Value: []any{"gen_z", "millennial"}}}
	body := payloadFor("e", []assign.Definition{def})
	attrs := Attributes{"generation": "gen_z"}
	for _, disable := range []bool{true, false} {
		t.Run(fmt.Sprintf("DisableExposureLogging=%v", disable), func(t *testing.T) {
			c := warmClient(t, body, disable)
			if a := c.Assign(context.Background(), "exp", "customer-42", attrs); !a.InExperiment {
				t.Fatalf("Assign = %+v, want in the experiment", a)
			}
			for _, exp := range []string{"exp", "unknown"} {
				n := testing.AllocsPerRun(1000, func() {
					c.Assign(context.Background(), exp, "customer-42", attrs)
				})
				if n != 0 {
					t.Errorf("Assign(%q) allocates %v times per call", exp, n)
				}
			}
		})
	}
}

// warmClient is a client with definitions loaded and nothing running in the
// background, so benchmarks and allocation counts measure Assign alone.
func warmClient(t testing.TB, body []byte, disableExposures bool) *Client {
	c, boot, err := newClient(Config{BaseURL: "http://127.0.0.1:1", APIKey: "k", Bootstrap: body, DisableExposureLogging: disableExposures})
	if err != nil {
		t.Fatal(err)
	}
	c.defs.Store(boot)
	return c
}

func BenchmarkAssign(b *testing.B) {
	def := experiment("human-vs-bot", assign.StatusRunning)
	def.Targeting = []assign.Condition{{Attribute: "generation", Op: assign.OpEq, Value: "gen_z"}}
	body := payloadFor("e", []assign.Definition{def, experiment("other", assign.StatusRunning)})
	attrs := Attributes{"generation": "gen_z"}
	b.Run("assign-package-alone", func(b *testing.B) {
		// The floor: the pure evaluation without the SDK's lookup and cache.
		b.ReportAllocs()
		for b.Loop() {
			assign.Assign(&def, "customer-42", attrs)
		}
	})
	for _, bc := range []struct {
		name    string
		disable bool
	}{{"exposures-off", true}, {"exposures-on-seen", false}} {
		b.Run(bc.name, func(b *testing.B) {
			c := warmClient(b, body, bc.disable)
			if a := c.Assign(context.Background(), "human-vs-bot", "customer-42", attrs); !a.InExperiment {
				b.Fatalf("Assign = %+v", a)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.Assign(context.Background(), "human-vs-bot", "customer-42", attrs)
			}
		})
	}
	b.Run("exposures-on-seen-parallel", func(b *testing.B) {
		c := warmClient(b, body, false)
		c.Assign(context.Background(), "human-vs-bot", "customer-42", attrs)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Assign(context.Background(), "human-vs-bot", "customer-42", attrs)
			}
		})
	})
}

// TestConcurrentUse is for the race detector: assignments, tracking,
// exposures, stream pushes and polls all at once.
func TestConcurrentUse(t *testing.T) {
	fs := newFakeServer(t, experiment("exp", assign.StatusRunning))
	cfg := testConfig(t, fs)
	cfg.RefreshInterval = 5 * time.Millisecond
	cfg.QueueCapacity = 500
	cfg.BatchSize = 20
	c := newTestClient(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			status := assign.StatusRunning
			if i%2 == 1 {
				status = assign.StatusStopped
			}
			fs.setDefinitions(experiment("exp", status), experiment(fmt.Sprintf("e%d", i%7), assign.StatusRunning))
			if i%10 == 0 {
				fs.killStreams()
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			attrs := Attributes{"w": w}
			for i := 0; ctx.Err() == nil; i++ {
				unit := fmt.Sprintf("u%d-%d", w, i%100)
				c.Assign(ctx, "exp", unit, attrs)
				c.Assign(ctx, fmt.Sprintf("e%d", i%7), unit, attrs)
				c.Track(ctx, unit, "m", float64(i))
				_ = c.Stats()
			}
		}()
	}
	wg.Wait()
	closeClient(t, c)
	st := c.Stats()
	if st.Queued != 0 || st.Sent == 0 || st.Sent != int64(len(fs.storedEvents())) {
		t.Fatalf("Stats = %+v, server stored %d", st, len(fs.storedEvents()))
	}
}

// TestRespond: answers of every string and number type reach the server as
// a JSON string or number with the question; anything else is dropped at
// the call, counted and logged, and one the server refuses costs only itself.
func TestRespond(t *testing.T) {
	type choice string
	type stars uint8
	fs := newFakeServer(t)
	cfg := testConfig(t, fs)
	log, logs := testLogger(t)
	cfg.Logger = log
	cfg.FlushInterval = time.Hour // one batch, sent by Close
	c := newTestClient(t, cfg)
	ctx := context.Background()

	valid := []struct {
		name   string
		answer any
		want   any // as the server decodes it
	}{
		{"string", "human", "human"},
		{"named string", choice("chatbot"), "chatbot"},
		{"int", 4, 4.0},
		{"int64", int64(-3), -3.0},
		{"named uint8", stars(5), 5.0},
		{"float64", 2.5, 2.5},
		{"float32", float32(0.1), 0.1},
		{"zero", 0, 0.0},
		{"json number", json.Number("3.25"), 3.25},
	}
	nan := math.NaN()
	invalid := []struct {
		name, unit, question string
		answer               any
	}{
		{"nil", "u", "q", nil},
		{"bool", "u", "q", true},
		{"NaN", "u", "q", nan},
		{"infinity", "u", "q", math.Inf(1)},
		{"float32 infinity", "u", "q", float32(math.Inf(-1))},
		{"json NaN", "u", "q", json.Number("NaN")},
		{"empty string", "u", "q", ""},
		{"empty named string", "u", "q", choice("")},
		{"slice", "u", "q", []string{"human"}},
		{"struct", "u", "q", struct{ A int }{1}},
		{"pointer", "u", "q", new(int)},
		{"empty unit", "", "q", "human"},
		{"empty question", "u", "", "human"},
	}
	for i, tt := range valid {
		c.Respond(ctx, fmt.Sprintf("unit-%d", i), "q", tt.answer)
	}
	c.Respond(ctx, "unit-refused", "q", "not-an-option") // the server refuses this one alone
	for _, tt := range invalid {
		start := time.Now()
		c.Respond(ctx, tt.unit, tt.question, tt.answer)
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Respond(%s) blocked for %v", tt.name, d)
		}
	}
	if st := c.Stats(); st.Dropped != int64(len(invalid)) || st.Queued != int64(len(valid)+1) {
		t.Fatalf("before sending: Stats = %+v, want %d dropped at the call and %d queued", st, len(invalid), len(valid)+1)
	}
	closeClient(t, c)

	got := fs.storedEvents()
	if len(got) != len(valid) {
		t.Fatalf("server stored %d responses, want %d: %+v", len(got), len(valid), got)
	}
	ids := map[string]bool{}
	for i, tt := range valid {
		e := got[i]
		if e.Type != "response" || e.UnitID != fmt.Sprintf("unit-%d", i) || e.Question != "q" || e.Answer != tt.want ||
			e.Metric != "" || e.Value != nil || e.Experiment != "" || time.Since(e.TS) > time.Minute {
			t.Errorf("%s: stored %+v, want answer %#v", tt.name, e, tt.want)
		}
		// UUIDv7: version 7 in the 13th hex digit, so retries keep the id
		// and the server's index grows at its right edge.
		if len(e.ID) != 36 || e.ID[14] != '7' || ids[e.ID] {
			t.Errorf("%s: id %q is not a fresh UUIDv7", tt.name, e.ID)
		}
		ids[e.ID] = true
	}
	if st := c.Stats(); st.Sent != int64(len(valid)) || st.Dropped != int64(len(invalid)+1) || st.Queued != 0 || st.Retried != 0 {
		t.Fatalf("Stats = %+v, want %d sent and %d dropped", st, len(valid), len(invalid)+1)
	}
	for _, want := range []string{"invalid response dropped", "answer_type=bool", "must be one of the options"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs)
		}
	}

	c.Respond(ctx, "u", "q", "human")
	if st := c.Stats(); st.Dropped != int64(len(invalid)+2) {
		t.Fatalf("Respond after Close: Stats = %+v, want it dropped", st)
	}
}
