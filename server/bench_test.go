package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server"
)

func eventBatch(start, n int) []byte {
	now := time.Now()
	events := make([]experiments.Event, n)
	for i := range events {
		v := float64(i % 5)
		events[i] = experiments.Event{ID: experiments.NewEventID(now), Type: experiments.EventOutcome,
			UnitID: fmt.Sprintf("customer-%d", (start+i)%50000), Metric: "csat", Value: &v}
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	return body
}

func post(b *testing.B, client *http.Client, url, key string, body []byte, want int) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
}

// BenchmarkIngestHTTP sends batches of 1,000 outcome events through POST
// /api/v1/events; each answer waits for the SQLite commit (WAL, FULL sync).
func BenchmarkIngestHTTP(b *testing.B) {
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, server.WithRateLimit(0, 1))
			e.mustCreate(b, validExperiment)
			const batch = 1000
			bodies := make([][]byte, 64)
			for i := range bodies {
				bodies[i] = eventBatch(i*batch, batch)
			}
			var next atomic.Int64
			b.SetParallelism(clients)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				client := &http.Client{}
				for pb.Next() {
					// Fresh ids each time: a resent body would be all duplicates.
					i := next.Add(1)
					body := bodies[i%int64(len(bodies))]
					if i >= int64(len(bodies)) {
						body = eventBatch(int(i)*batch, batch)
					}
					post(b, client, e.url+"/api/v1/events", e.sdkKey, body, http.StatusAccepted)
				}
			})
			b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkAssignHTTP assigns new units through POST /api/v1/assign, each
// recording an exposure before it answers.
func BenchmarkAssignHTTP(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, server.WithRateLimit(0, 1))
			e.mustCreate(b, validExperiment)
			e.mustStart(b, "human-vs-bot")
			var next atomic.Int64
			b.SetParallelism(clients)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				for pb.Next() {
					body := fmt.Appendf(nil, `{"experiment":"human-vs-bot","unit_id":"customer-%d"}`, next.Add(1))
					post(b, client, e.url+"/api/v1/assign", e.sdkKey, body, http.StatusOK)
				}
			})
		})
	}
}

// BenchmarkListPages50 reads the experiment list, as a page and through the
// API, with 50 running experiments whose reports are stored. Reads take the
// stored snapshots and never touch events, so the figure holds whatever
// number of events the experiments have (TestGetsDoNotWrite and the refresh
// tests check that reads compute nothing).
func BenchmarkListPages50(b *testing.B) {
	e := newEnv(b)
	for i := range 50 {
		key := fmt.Sprintf("experiment-%02d", i)
		e.mustCreate(b, strings.Replace(validExperiment, `"key":"human-vs-bot"`, `"key":"`+key+`"`, 1))
		e.mustStart(b, key)
		var events []string
		for u := range 200 {
			unit := fmt.Sprintf("%s-u%d", key, u)
			events = append(events,
				fmt.Sprintf(`{"type":"exposure","unit_id":%q,"experiment":%q,"variant":%q}`, unit, key, []string{"bot", "human"}[u%2]),
				fmt.Sprintf(`{"type":"outcome","unit_id":%q,"metric":"csat","value":%d}`, unit, u%5),
				fmt.Sprintf(`{"type":"outcome","unit_id":%q,"metric":"resolved","value":%d}`, unit, u%2))
		}
		if r := e.do(b, "POST", "/api/v1/events", e.sdkKey, []byte(`{"events":[`+strings.Join(events, ",")+`]}`)); r.status != http.StatusAccepted {
			b.Fatalf("events: %d %s", r.status, r.body)
		}
		if r := e.do(b, "POST", "/api/v1/experiments/"+key+"/refresh", e.adminKey, nil); r.status != http.StatusOK {
			b.Fatalf("refresh: %d %s", r.status, r.body)
		}
	}
	get := caller(b, e, true)
	for _, page := range []struct {
		path    string
		session bool // a page, read with a session; else the API, with the key
	}{{"/experiments", true}, {"/api/v1/experiments", false}} {
		b.Run(strings.ReplaceAll(strings.TrimPrefix(page.path, "/"), "/", "_"), func(b *testing.B) {
			for b.Loop() {
				if status, _, body := get("GET", page.path, "", page.session); status != http.StatusOK || !strings.Contains(string(body), "experiment-49") {
					b.Fatalf("%s: %d, %d bytes without the last experiment", page.path, status, len(body))
				}
			}
		})
	}
}
