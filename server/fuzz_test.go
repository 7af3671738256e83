package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/server"
)

// fuzzServer is a real server over SQLite with a running experiment, called
// in-process (no sockets) so that the fuzzer spends its time in decoding
// and validation.
func fuzzServer(f *testing.F) (http.Handler, string) {
	e := newEnv(f, server.WithRateLimit(0, 1))
	e.mustCreate(f, validExperiment)
	e.mustStart(f, "human-vs-bot")
	return e.handler, e.adminKey
}

// checkAnswer fails on a 5xx, and on a 4xx that is not a problem document.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, body []byte) {
	if w.Code >= 500 {
		t.Fatalf("%d for %q: %s", w.Code, body, w.Body)
	}
	if w.Code >= 400 {
		var p server.Problem
		if w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != w.Code || p.Detail == "" {
			t.Fatalf("%d is not a problem document for %q: %s", w.Code, body, w.Body)
		}
	}
}

func postInProcess(h http.Handler, key, path string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// FuzzExperimentJSON: decoding and validating experiment definitions.
func FuzzExperimentJSON(f *testing.F) {
	f.Add([]byte(validExperiment))
	f.Add([]byte(withField("variants", `[{"key":"a","weight":1e308,"control":true},{"key":"b","weight":1e308}]`)))
	f.Add([]byte(withField("targeting", `[{"attribute":"seats","op":"in","value":[1,"a",true,null]}]`)))
	f.Add([]byte(withField("metrics", `[{"key":"r","kind":"ratio","numerator":"r","denominator":"x"}]`)))
	f.Add([]byte(withField("analysis", `{"alpha":0.5,"correction":"bh","n_star":-1,"segments":[""]}`)))
	f.Add([]byte(`{"key":"\u0000","name":"` + strings.Repeat("é", 300) + `"}`))
	f.Add([]byte(`[]`))
	h, key := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, postInProcess(h, key, "/api/v1/experiments", body), body)
	})
}

// FuzzEventBatch: decoding and validating event batches.
func FuzzEventBatch(f *testing.F) {
	f.Add([]byte(`{"events":[{"id":"a","type":"exposure","unit_id":"u","experiment":"human-vs-bot","variant":"human"}]}`))
	f.Add([]byte(`{"events":[{"type":"outcome","unit_id":"u","metric":"csat","value":4,"ts":"2026-11-22T10:04:00Z","attributes":{"plan":"pro","seats":3,"beta":true}}]}`))
	f.Add([]byte(`{"events":[{"type":"outcome","unit_id":"\xff","metric":"csat","value":1e309}]}`))
	f.Add([]byte(`{"events":[{"type":"outcome","unit_id":"u","experiment":"human-vs-bot","metric":"nps","value":-0}]}`))
	f.Add([]byte(`{"events":null}`))
	h, key := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAnswer(t, postInProcess(h, key, "/api/v1/events", body), body)
	})
}
