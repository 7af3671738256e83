// Package e2e drives the real revealed binary through its HTTP API and then
// reads its database directly, to check what was promised against what was
// stored: crashes, restarts and replicas included.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

const adminKey = "e2e-admin-key-0123456789abcdef0123456789abcdef"

// wireEvent is the event JSON as a client writes it, declared here rather
// than borrowed from the server so that a change to the wire format shows.
type wireEvent struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	UnitID     string   `json:"unit_id"`
	Experiment string   `json:"experiment,omitempty"`
	Variant    string   `json:"variant,omitempty"`
	Metric     string   `json:"metric,omitempty"`
	Value      *float64 `json:"value,omitempty"`
	// TS is set where the test must know it: which exposure and which
	// answer came first is decided by ts, not by arrival.
	TS       *time.Time `json:"ts,omitempty"`
	Question string     `json:"question,omitempty"`
	Answer   any        `json:"answer,omitempty"`
}

type ingestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

type report struct {
	Metrics []struct {
		Metric   string `json:"metric"`
		Variants []struct {
			Variant string `json:"variant"`
			Units   int64  `json:"units"`
		} `json:"variants"`
	} `json:"metrics"`
}

// target is the base URL of whichever server process is current; it changes
// at every restart because each one listens on a fresh port.
type target struct{ url atomic.Pointer[string] }

func newTarget(url string) *target {
	t := &target{}
	t.set(url)
	return t
}

func (t *target) get() string    { return *t.url.Load() }
func (t *target) set(url string) { t.url.Store(&url) }

func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// call sends one request and returns the status and body; err is a transport
// failure (no answer), which after a kill is expected.
func call(ctx context.Context, hc *http.Client, method, url string, body any) (int, []byte, error) {
	return callWith(ctx, hc, adminKey, method, url, body)
}

// callWith is call with another API key.
func callWith(ctx context.Context, hc *http.Client, key, method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// mustCall is call for setup steps that must succeed with want.
func mustCall(t *testing.T, hc *http.Client, method, url string, body any, want int, out any) {
	t.Helper()
	status, b, err := call(context.Background(), hc, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, url, b, err)
		}
	}
}

var testVariants = []assign.Variant{{Key: "control", Weight: 1, Control: true}, {Key: "treatment", Weight: 1}}

// createRunning creates and starts a two-variant experiment with a binary
// and a mean metric, and returns its assignment definition.
func createRunning(t *testing.T, hc *http.Client, base, key string) *assign.Definition {
	t.Helper()
	in := map[string]any{
		"key": key, "name": "E2E " + key, "hypothesis": "nothing acknowledged is lost", "unit": "customer_id",
		"variants": []map[string]any{
			{"key": "control", "weight": 1, "control": true},
			{"key": "treatment", "weight": 1},
		},
		"metrics": []map[string]any{{"key": "converted", "kind": "binary", "higher_is_better": true},
			{"key": "revenue", "kind": "mean", "higher_is_better": true}},
	}
	mustCall(t, hc, "POST", base+"/api/v1/experiments", in, http.StatusCreated, nil)
	mustCall(t, hc, "POST", base+"/api/v1/experiments/"+key+"/start", nil, http.StatusOK, nil)
	return &assign.Definition{Key: key, Salt: key, Status: "running", Traffic: 1, Variants: testVariants}
}

// batchGen makes batches of fresh events over a bounded unit space, with
// exposures in the variant the shared assignment function gives.
type batchGen struct {
	rng   *rand.Rand
	def   *assign.Definition
	units int
	unit  string // unit-id prefix, so experiments sharing a database stay apart
	// responses, when set, makes about one event in ten an answer to the
	// survey questions that createCrashQuestions made.
	responses bool
}

// The survey questions of the crash tests: one answered with a string, one
// with a number, so both kinds of stored answer are checked.
const (
	crashChoice = "crash_pref"
	crashRating = "crash_score"
)

func createCrashQuestions(t *testing.T, hc *http.Client, base string) {
	t.Helper()
	mustCall(t, hc, "POST", base+"/api/v1/questions", map[string]any{"key": crashChoice, "text": "A human or a chatbot?",
		"kind": "choice", "options": []string{"human", "chatbot"}}, http.StatusCreated, nil)
	mustCall(t, hc, "POST", base+"/api/v1/questions", map[string]any{"key": crashRating, "text": "How satisfied are you?",
		"kind": "rating", "scale": map[string]int{"min": 1, "max": 5}}, http.StatusCreated, nil)
}

func (g *batchGen) batch(n int) []wireEvent {
	evs := make([]wireEvent, n)
	for i := range evs {
		unit := fmt.Sprintf("%s-u%d", g.unit, g.rng.IntN(g.units))
		ev := wireEvent{ID: experiments.NewEventID(time.Now()), UnitID: unit}
		r := g.rng.IntN(20)
		switch {
		case r < 8:
			ev.Type, ev.Experiment = "exposure", g.def.Key
			ev.Variant = assign.Assign(g.def, unit, nil).Variant
		case r < 10 && g.responses:
			// Up to 10 s in the past, so that a later batch often holds a
			// unit's earlier answer: the first answer is decided by ts,
			// whatever the order of arrival and of restarts.
			ts := time.Now().Add(-time.Duration(g.rng.IntN(10_000_000)) * time.Microsecond)
			ev.Type, ev.TS, ev.Question, ev.Answer = "response", &ts, crashChoice, []string{"human", "chatbot"}[g.rng.IntN(2)]
			if g.rng.IntN(2) == 0 {
				ev.Question, ev.Answer = crashRating, float64(1+g.rng.IntN(5))
			}
		default:
			ev.Type, ev.Metric = "outcome", "converted"
			v := 1.0
			if g.rng.IntN(2) == 0 {
				ev.Metric, v = "revenue", float64(g.rng.IntN(10000))/100
			}
			ev.Value = &v
			if g.rng.IntN(2) == 0 {
				ev.Experiment = g.def.Key
			}
		}
		evs[i] = ev
	}
	return evs
}

// ackLog is one client's record of what the server acknowledged with 202.
type ackLog struct {
	ids      []string
	types    map[string]int            // acknowledged events by type
	exposed  map[string]string         // unit → variant
	answers  map[answerKey]firstAnswer // each unit's first answer to each question
	accepted int                       // sum of "accepted" over acknowledgements
	dups     int                       // sum of "duplicates"
	resent   int                       // batches sent again after getting no answer
	// resentStored counts resent batches the server had already committed
	// before it died: their acknowledgement was lost, not their events.
	resentStored int
	replays      int // acknowledged batches deliberately sent again
	errs5xx      int
}

// answerKey is a row of the responses table.
type answerKey struct{ question, unit string }

// firstAnswer is the earliest ts (µs, as stored) of a unit's answers and
// every answer given then: of two at the same instant the server keeps the
// one stored first, which the test cannot know.
type firstAnswer struct {
	ts      int64
	answers []string
}

func (a *firstAnswer) add(ts int64, answers ...string) {
	switch {
	case a.answers == nil || ts < a.ts:
		a.ts, a.answers = ts, append([]string(nil), answers...)
	case ts == a.ts:
		a.answers = append(a.answers, answers...)
	}
}

func newAckLog() *ackLog {
	return &ackLog{types: map[string]int{}, exposed: map[string]string{}, answers: map[answerKey]firstAnswer{}}
}

func (l *ackLog) record(batch []wireEvent) {
	for _, ev := range batch {
		l.ids = append(l.ids, ev.ID)
		l.types[ev.Type]++
		switch ev.Type {
		case "exposure":
			l.exposed[ev.UnitID] = ev.Variant
		case "response":
			k := answerKey{ev.Question, ev.UnitID}
			a := l.answers[k]
			a.add(ev.TS.UnixMicro(), answerText(ev.Answer))
			l.answers[k] = a
		}
	}
}

// answerText is an answer as the responses table stores it: the option, or
// the number written out.
func answerText(a any) string {
	if f, ok := a.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(a)
}

// firstAnswers merges the logs' first answers.
func firstAnswers(logs []*ackLog) map[answerKey]firstAnswer {
	out := map[answerKey]firstAnswer{}
	for _, l := range logs {
		for k, a := range l.answers {
			m := out[k]
			m.add(a.ts, a.answers...)
			out[k] = m
		}
	}
	return out
}

// unitsPerVariant counts the distinct exposed units across logs.
func unitsPerVariant(logs []*ackLog) map[string]int64 {
	all := map[string]string{}
	for _, l := range logs {
		for u, v := range l.exposed {
			all[u] = v
		}
	}
	out := map[string]int64{}
	for _, v := range all {
		out[v]++
	}
	return out
}

func allIDs(logs []*ackLog) []string {
	var ids []string
	for _, l := range logs {
		ids = append(ids, l.ids...)
	}
	sort.Strings(ids)
	return ids
}

// compareIDs merges the sorted acknowledged ids with the sorted stored ones:
// lost are acknowledged but absent, extra stored but never acknowledged.
func compareIDs(acked, stored []string) (lost, extra int, sample []string) {
	i, j := 0, 0
	for i < len(acked) || j < len(stored) {
		switch {
		case j == len(stored) || (i < len(acked) && acked[i] < stored[j]):
			lost++
			if len(sample) < 5 {
				sample = append(sample, "lost "+acked[i])
			}
			i++
		case i == len(acked) || stored[j] < acked[i]:
			extra++
			if len(sample) < 5 {
				sample = append(sample, "extra "+stored[j])
			}
			j++
		default:
			i++
			j++
		}
	}
	return lost, extra, sample
}

// reportUnits reads each metric's units per variant from the report; every
// metric of an experiment counts the same exposed units.
func reportUnits(t *testing.T, hc *http.Client, base, key string) map[string]int64 {
	t.Helper()
	var r report
	mustCall(t, hc, "POST", base+"/api/v1/experiments/"+key+"/refresh", nil, http.StatusOK, &r)
	if len(r.Metrics) == 0 {
		t.Fatalf("report of %s has no metrics", key)
	}
	var first map[string]int64
	for _, m := range r.Metrics {
		got := map[string]int64{}
		for _, v := range m.Variants {
			if v.Units > 0 {
				got[v.Variant] = v.Units
			}
		}
		if first == nil {
			first = got
		} else if fmt.Sprint(got) != fmt.Sprint(first) {
			t.Errorf("report of %s: metric %s counts units %v, another metric %v", key, m.Metric, got, first)
		}
	}
	return first
}

func experimentsID() string { return experiments.NewEventID(time.Now()) }

func assignVariant(def *assign.Definition, unit string) string {
	return assign.Assign(def, unit, nil).Variant
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
