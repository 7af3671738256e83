package server_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/server"
)

// The state-machine test drives the real API through random sequences of
// accepted and refused calls: create, edit, claims (create, edit, delete),
// start, stop, assign and events with extreme values. After every step,
// every report, the list and the web pages must answer without a 5xx:
// whatever the API accepted and stored, its report answers 200.

// machine is one run of random calls against a server, its choices drawn
// from next, so that a seed (the test) or the fuzzer's bytes (the fuzz
// target) replay it exactly.
type machine struct {
	t       testing.TB
	call    func(method, path, body string, cookie bool) (int, http.Header, []byte)
	next    func(n int) int
	prefix  string   // keeps the experiments of different runs apart
	keys    []string // experiments created so far
	studies []string // studies created so far
	source  bool     // whether the run's source exists
	holdout bool     // whether the run's holdout exists
	log     []string // the calls made, printed on failure
	step    int
}

var (
	smVariants   = []string{"a", "b", "c"}
	smMetrics    = []string{"conv", "csat", "mins", "per"}
	smClaims     = []string{"c1", "c2", "c3"}
	smValues     = []float64{0, 1, -1, 0.5, 4, 1e9, -1e9, 1e-300, 7.25e8, 3}
	smBadValues  = []any{1e300, -1e10, "x", nil}
	smSegments   = []string{"generation=gen_z", "generation=boomer", "plan=pro", "generation=x", "bad", ""}
	smShares     = []any{0.74, 0.5, 0, 1, 1.2, -0.1, nil}
	smSurveyNs   = []any{2128, 1, 2, 0, nil}
	smGeneration = []string{"gen_z", "boomer", "millennial"}
	smQuestions  = []string{"pref", "csat_q", "mins_q"}
	smAnswers    = []any{"human", "chatbot", "robot", 1.0, 3.0, 6.0, -2.5, nil}
	smFactors    = []string{
		`[{"key":"agent","levels":["a","b"]},{"key":"wait","levels":[1,2,3],"numeric":true}]`,
		`[{"key":"agent","levels":["a","b"]},{"key":"wait","levels":[1,2],"numeric":true},{"key":"tone","levels":["x","y"]}]`,
		`[{"key":"agent","levels":["a","b","c"]}]`,
		`[{"key":"agent","levels":["a","b"]},{"key":"wait","levels":[1,"two"],"numeric":true}]`,
	}
	// smCells are some cells of the factorials, as exposures name them.
	smCells = []string{"agent=a,wait=1", "agent=b,wait=2", "agent=b,wait=3", "agent=a,wait=1,tone=x", "agent=b,wait=2,tone=y"}
)

func (m *machine) pick(options int) int { return m.next(options) }

func (m *machine) expKey() string {
	if len(m.keys) == 0 || m.pick(5) == 0 {
		return m.prefix + fmt.Sprint(m.pick(3))
	}
	return m.keys[m.pick(len(m.keys))]
}

// definition is a random experiment, valid more often than not.
func (m *machine) definition(key string) string {
	nv := 2 + m.pick(2)
	var variants []string
	for i := range nv {
		variants = append(variants, fmt.Sprintf(`{"key":%q,"weight":%d,"control":%v}`, smVariants[i], 1+m.pick(3), i == 0))
	}
	kinds := map[string]string{"conv": "binary", "csat": "mean", "mins": "mean", "per": "ratio"}
	var metrics []string
	for _, k := range smMetrics {
		if m.pick(3) == 0 {
			continue
		}
		kind := kinds[k]
		if m.pick(6) == 0 { // the same key with another kind: claims must follow
			kind = map[string]string{"binary": "mean", "mean": "binary", "ratio": "mean"}[kind]
		}
		extra := ""
		switch {
		case kind == "ratio":
			extra = `,"numerator":"csat","denominator":"mins"`
		case kind == "mean" && m.pick(3) == 0:
			extra = `,"cap":{"percentile":0.99}`
		case kind == "mean" && m.pick(2) == 0:
			extra = `,"aggregation":` + jsonValue([]string{"sum", "count", "mean", "min", "max", "first", "last", "peak_end", "median"}[m.pick(9)])
		}
		if m.pick(3) == 0 {
			extra += `,"window":` + []string{`{"from":"0h","to":"24h"}`, `{"from":"2h"}`, `{"from":"1d","to":"90d"}`, `{"from":"5h","to":"1h"}`, `{"from":"x"}`}[m.pick(5)]
		}
		if m.pick(4) == 0 {
			extra += `,"source":"csat"`
		}
		metrics = append(metrics, fmt.Sprintf(`{"key":%q,"kind":%q,"higher_is_better":%v%s}`, k, kind, m.pick(2) == 0, extra))
	}
	analysis := []string{`{}`, `{"sequential":false}`, `{"cuped_lookback_days":-1}`, `{"segments":["generation"],"correction":"bh"}`,
		`{"segments":["answer:pref","answer:csat_q"]}`, `{"segments":["answer:mins_q"]}`}[m.pick(6)]
	design := `"variants":[` + strings.Join(variants, ",") + `]`
	if m.pick(4) == 0 { // a factorial: its cells are the variants
		design = `"factors":` + smFactors[m.pick(len(smFactors))]
	}
	if m.pick(3) == 0 { // in the run's layer, with a range that may overlap another's
		m.call("POST", "/api/v1/layers", fmt.Sprintf(`{"key":"%slayer","name":"Layer"}`, m.prefix), false)
		lo := float64(m.pick(4)) / 4
		design += fmt.Sprintf(`,"layer":{"key":"%slayer","range":[%g,%g]}`, m.prefix, lo, lo+[]float64{0.25, 0.5, 0}[m.pick(3)])
	}
	return fmt.Sprintf(`{"key":%q,"name":"x","unit":"customer_id",%s,"metrics":[%s],"analysis":%s,"traffic":%v}`,
		key, design, strings.Join(metrics, ","), analysis, []float64{1, 0.5}[m.pick(2)])
}

func jsonValue(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// claim is a random claim of any kind, with plausible and implausible fields.
func (m *machine) claim(id string) string {
	fields := []string{fmt.Sprintf(`"id":%q`, id), `"statement":"stated"`}
	add := func(name string, v any) {
		if v != nil {
			fields = append(fields, fmt.Sprintf(`%q:%s`, name, jsonValue(v)))
		}
	}
	if m.pick(5) == 0 { // a test of a statement: only what is experiment-specific
		fields = []string{fmt.Sprintf(`"id":%q`, id), fmt.Sprintf(`"statement_key":"%ss%d"`, m.prefix, m.pick(2))}
		add("metric", smMetrics[m.pick(len(smMetrics))])
		add("preferred", []any{nil, "b"}[m.pick(2)])
		if m.pick(2) == 0 {
			add("segment_a", "generation=gen_z")
			add("segment_b", "generation=boomer")
		}
		if m.pick(4) == 0 {
			add("stated_share", smShares[m.pick(len(smShares))])
		}
		return "{" + strings.Join(fields, ",") + "}"
	}
	add("survey_n", smSurveyNs[m.pick(len(smSurveyNs))])
	add("metric", smMetrics[m.pick(len(smMetrics))])
	switch m.pick(6) {
	case 5:
		add("kind", "tradeoff")
		add("factor", []string{"agent", "wait", "tone", "x"}[m.pick(4)])
		add("preferred", []string{"b", "c", "a"}[m.pick(3)])
		add("cost", []string{"wait", "agent", "tone"}[m.pick(3)])
		add("stated_cost", []any{1, 0.5, 2, 0, -1, nil}[m.pick(6)])
	case 4:
		fields = fields[:2] // it states a direction: no survey_n, no metric
		add("kind", "now_vs_later")
		add("preferred", smVariants[m.pick(3)])
		if m.pick(2) == 0 {
			add("other", smVariants[m.pick(3)])
		}
		add("now", smMetrics[m.pick(len(smMetrics))])
		add("later", smMetrics[m.pick(len(smMetrics))])
		if m.pick(3) == 0 {
			add("segment", smSegments[m.pick(len(smSegments))])
		}
	case 3:
		fields = fields[:2] // no survey_n: a say_do claim's stated side is the responses
		if m.pick(4) == 0 {
			add("survey_n", smSurveyNs[m.pick(len(smSurveyNs))])
		}
		add("metric", smMetrics[m.pick(len(smMetrics))])
		add("kind", "say_do")
		add("question", smQuestions[m.pick(len(smQuestions))])
		add("answer", smAnswers[m.pick(3)])
		if m.pick(3) == 0 {
			add("variant", smVariants[m.pick(3)])
		}
		if m.pick(3) == 0 {
			add("segment", smSegments[m.pick(len(smSegments))])
		}
	case 0:
		add("kind", "share")
		add("stated_share", smShares[m.pick(len(smShares))])
		if m.pick(3) == 0 {
			add("segment", smSegments[m.pick(len(smSegments))])
		}
		if m.pick(3) == 0 {
			add("variant", smVariants[m.pick(3)])
		}
	case 1:
		add("kind", "effect")
		add("preferred", smVariants[m.pick(3)])
		if m.pick(2) == 0 {
			add("other", smVariants[m.pick(3)])
		}
		if m.pick(2) == 0 {
			add("stated_effect", smValues[m.pick(len(smValues))])
		}
		if m.pick(3) == 0 {
			add("segment", smSegments[m.pick(len(smSegments))])
		}
	default:
		add("kind", "segment_gap")
		add("segment_a", smSegments[m.pick(len(smSegments))])
		add("segment_b", smSegments[m.pick(len(smSegments))])
		add("stated_a", smShares[m.pick(len(smShares))])
		add("stated_b", smShares[m.pick(len(smShares))])
		if m.pick(3) == 0 {
			add("survey_n_a", smSurveyNs[m.pick(len(smSurveyNs))])
			add("survey_n_b", smSurveyNs[m.pick(len(smSurveyNs))])
		}
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func (m *machine) events(key string) string {
	var evs []string
	for range 1 + m.pick(12) {
		// Units are the run's own: experiments of earlier runs, still
		// running, share none of them, so each report's interaction
		// checks stay among the run's own experiments.
		unit := fmt.Sprintf("%su%d", m.prefix, m.pick(40))
		ts := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(m.pick(72)) * time.Hour).Format(time.RFC3339)
		if m.pick(3) == 0 {
			evs = append(evs, fmt.Sprintf(`{"type":"exposure","unit_id":%q,"experiment":%q,"variant":%q,"ts":%q,"attributes":{"generation":%q}}`,
				unit, key, slices.Concat(smVariants, smCells)[m.pick(len(smVariants)+len(smCells))], ts, smGeneration[m.pick(3)]))
			continue
		}
		if m.pick(4) == 0 {
			answer := ""
			if a := smAnswers[m.pick(len(smAnswers))]; a != nil {
				answer = `,"answer":` + jsonValue(a)
			}
			question := append([]string{"st_a", "st_b"}, smQuestions...)[m.pick(2+len(smQuestions))]
			evs = append(evs, fmt.Sprintf(`{"type":"response","unit_id":%q,"question":%q%s,"ts":%q}`,
				unit, question, answer, ts))
			continue
		}
		var value any = smValues[m.pick(len(smValues))]
		if m.pick(8) == 0 {
			value = smBadValues[m.pick(len(smBadValues))]
		}
		scope := ""
		if m.pick(2) == 0 {
			scope = fmt.Sprintf(`,"experiment":%q`, key)
		}
		evs = append(evs, fmt.Sprintf(`{"type":"outcome","unit_id":%q,"metric":%q,"value":%s,"ts":%q%s}`,
			unit, smMetrics[m.pick(len(smMetrics))], jsonValue(value), ts, scope))
	}
	return `{"events":[` + strings.Join(evs, ",") + `]}`
}

// act makes one random call; any answer but a 5xx is fine.
func (m *machine) act() {
	key := m.expKey()
	base := "/api/v1/experiments/" + key
	var method, path, body string
	switch op := m.pick(16); op {
	case 15:
		// The run's layer, and a holdout over some of its experiments.
		m.call("POST", "/api/v1/layers", fmt.Sprintf(`{"key":"%slayer","name":"Layer"}`, m.prefix), false)
		method, path = "POST", "/api/v1/holdouts"
		body = fmt.Sprintf(`{"key":"%shold","name":"Holdout","share":%v,"experiments":[%q],"metrics":[{"key":"csat","kind":"mean","higher_is_better":true}]}`,
			m.prefix, []float64{0.1, 0.5, 0.7}[m.pick(3)], key)
	case 14:
		// The run's source and its statements, which claims may test.
		if !m.source {
			m.call("POST", "/api/v1/sources", fmt.Sprintf(`{"key":"%ssrc","title":"Survey","year":2019}`, m.prefix), false)
			m.source = true
		}
		if m.pick(4) == 0 { // a new description of the source; its statements stay
			m.call("PUT", "/api/v1/sources/"+m.prefix+"src", `{"title":"The survey","publisher":"P","year":2020,"n":10}`, false)
		}
		st := fmt.Sprintf("%ss%d", m.prefix, m.pick(2))
		base := "/api/v1/sources/" + m.prefix + "src/statements"
		method, path = []string{"POST", "PUT", "PUT", "DELETE"}[m.pick(4)], base
		if method != "POST" {
			path += "/" + st
		}
		if method != "DELETE" {
			body = fmt.Sprintf(`{"key":%q,"text":"stated",%s}`, st, []string{
				`"kind":"share","stated_share":0.74,"survey_n":2128`,
				`"kind":"share","stated_share":0.4,"survey_n":10,"margin":0.1`,
				`"kind":"effect","survey_n":100`,
				`"kind":"segment_gap","stated_a":0.76,"stated_b":0.51,"survey_n":2128`,
				`"kind":"say_do"`,
				`"kind":"share","stated_share":1.5,"survey_n":10`,
			}[m.pick(6)])
		}
	case 13:
		// Rating questions for the study to use, most of the time.
		for _, rq := range []string{"st_a", "st_b"} {
			m.call("POST", "/api/v1/questions", fmt.Sprintf(`{"key":%q,"text":"?","kind":"rating","scale":{"min":1,"max":5}}`, rq), false)
		}
		q := func() string {
			return append([]string{"st_a", "st_b", "st_a"}, smQuestions...)[m.pick(3+len(smQuestions))]
		}
		variable := func() string {
			if m.pick(3) == 0 {
				return fmt.Sprintf(`{"metric":%q}`, smMetrics[m.pick(len(smMetrics))])
			}
			return fmt.Sprintf(`{"question":%q}`, q())
		}
		population := ""
		if m.pick(2) == 0 {
			population = fmt.Sprintf(`,"population":{"experiment":%q}`, key)
		}
		study := fmt.Sprintf("%sst%d", m.prefix, m.pick(2))
		method, path = "POST", "/api/v1/studies"
		if m.pick(3) == 0 { // an edit, of a study that may or may not exist
			method, path = "PUT", "/api/v1/studies/"+study
		}
		body = fmt.Sprintf(`{"key":%q,"name":"drivers","outcome":%s,"drivers":[{"key":"a","question":%q},{"key":"b","question":%q},{"key":"c","question":%q}],"bootstrap":%d%s}`,
			study, variable(), q(), q(), q(), []int{-1, 20}[m.pick(2)], population)
	case 11, 12:
		q := smQuestions[m.pick(len(smQuestions))]
		method, path = "POST", "/api/v1/questions"
		if op == 12 {
			method, path = "PUT", "/api/v1/questions/"+q
		}
		body = []string{
			fmt.Sprintf(`{"key":%q,"text":"?","kind":"choice","options":["human","chatbot"]}`, q),
			fmt.Sprintf(`{"key":%q,"text":"?","kind":"choice","options":["human","robot"]}`, q),
			fmt.Sprintf(`{"key":%q,"text":"?","kind":"rating","scale":{"min":1,"max":5}}`, q),
			fmt.Sprintf(`{"key":%q,"text":"?","kind":"number"}`, q),
			fmt.Sprintf(`{"key":%q,"text":"?","kind":"choice","options":["only"]}`, q),
		}[m.pick(5)]
	case 0:
		method, path, body = "POST", "/api/v1/experiments", m.definition(key)
	case 1:
		method, path, body = "PUT", base, m.definition(key)
	case 2, 3:
		method, path, body = "POST", base+"/claims", m.claim(smClaims[m.pick(3)])
	case 4:
		id := smClaims[m.pick(3)]
		method, path, body = "PUT", base+"/claims/"+id, m.claim(id)
	case 5:
		method, path = "DELETE", base+"/claims/"+smClaims[m.pick(3)]
	case 6:
		method, path = "POST", base+"/"+[]string{"start", "stop"}[m.pick(2)]
	case 7:
		method, path = "POST", "/api/v1/assign"
		body = fmt.Sprintf(`{"experiment":%q,"unit_id":"%su%d","attributes":{"generation":%q,"plan":"pro"}}`, key, m.prefix, m.pick(40), smGeneration[m.pick(3)])
	default:
		method, path, body = "POST", "/api/v1/events", m.events(key)
	}
	status, header, answer := m.call(method, path, body, false)
	m.log = append(m.log, fmt.Sprintf("%s %s %s → %d", method, path, body, status))
	if status >= 500 {
		m.fail("%s %s answered %d: %s", method, path, status, answer)
	}
	if status >= 400 && header.Get("Content-Type") != "application/problem+json" {
		m.fail("%s %s answered %d without a problem document: %s", method, path, status, answer)
	}
	if method == "POST" && path == "/api/v1/experiments" && status == http.StatusCreated {
		m.keys = append(m.keys, key)
	}
	if method == "POST" && path == "/api/v1/holdouts" && status == http.StatusCreated {
		m.holdout = true
	}
	if method == "POST" && path == "/api/v1/studies" && status == http.StatusCreated {
		var st struct{ Key string }
		if json.Unmarshal(answer, &st) == nil {
			m.studies = append(m.studies, st.Key)
		}
	}
}

// check recomputes every report, as the scheduler would (computing is
// where a report could fail: it must answer 200 whatever was stored), then
// reads everything a user can read and fails on any 5xx.
func (m *machine) check() {
	for _, k := range m.keys {
		if status, _, body := m.call("POST", "/api/v1/experiments/"+k+"/refresh", "", false); status != http.StatusOK {
			m.fail("after step %d, refreshing %s answered %d: %.500s", m.step, k, status, body)
		}
	}
	reads := []struct {
		path   string
		cookie bool
	}{{"/api/v1/experiments", false}, {"/experiments", true}, {"/api/v1/questions", false}, {"/questions", true}, {"/api/v1/studies", false}, {"/studies", true},
		{"/api/v1/sources", false}, {"/sources", true}, {"/api/v1/layers", false}, {"/layers", true}, {"/api/v1/holdouts", false}, {"/holdouts", true}}
	for _, k := range m.keys {
		reads = append(reads, struct {
			path   string
			cookie bool
		}{"/api/v1/experiments/" + k + "/report", false}, struct {
			path   string
			cookie bool
		}{"/experiments/" + k, true}, struct {
			path   string
			cookie bool
		}{"/experiments/" + k + "/report.csv", true})
	}
	for _, st := range m.studies {
		for _, path := range []string{"/api/v1/studies/" + st, "/api/v1/studies/" + st + "/report", "/studies/" + st} {
			reads = append(reads, struct {
				path   string
				cookie bool
			}{path, strings.HasPrefix(path, "/studies/")})
		}
	}
	if m.holdout {
		reads = append(reads, struct {
			path   string
			cookie bool
		}{"/api/v1/holdouts/" + m.prefix + "hold/report", false}, struct {
			path   string
			cookie bool
		}{"/holdouts/" + m.prefix + "hold", true})
	}
	if m.source {
		reads = append(reads, struct {
			path   string
			cookie bool
		}{"/api/v1/sources/" + m.prefix + "src/scoreboard", false}, struct {
			path   string
			cookie bool
		}{"/api/v1/sources/" + m.prefix + "src/scoreboard?format=csv", false}, struct {
			path   string
			cookie bool
		}{"/sources/" + m.prefix + "src", true})
	}
	for _, r := range reads {
		status, _, body := m.call("GET", r.path, "", r.cookie)
		if status != http.StatusOK {
			m.fail("after step %d, GET %s answered %d: %.500s", m.step, r.path, status, body)
		}
		if strings.HasSuffix(r.path, "/report") {
			var rep struct {
				Claims []struct {
					ID string `json:"id"`
				} `json:"claims"`
			}
			if err := json.Unmarshal(body, &rep); err != nil {
				m.fail("report %s is not JSON: %v", r.path, err)
			}
		}
	}
}

func (m *machine) fail(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("%s\nthe calls, in order:\n%s", fmt.Sprintf(format, args...), strings.Join(m.log, "\n"))
}

func (m *machine) run(steps int) {
	for m.step = 1; m.step <= steps; m.step++ {
		m.act()
		m.check()
	}
}

// caller calls the server in-process (h) or over loopback (url), with the
// admin key, or with an admin web session for the pages.
func caller(t testing.TB, e *env, overHTTP bool) func(method, path, body string, cookie bool) (int, http.Header, []byte) {
	token, _, _, err := e.svc.Login(context.Background(), e.adminKey)
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path, body string, cookie bool) (int, http.Header, []byte) {
		var req *http.Request
		if overHTTP {
			req, err = http.NewRequest(method, e.url+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
		} else {
			req = httptest.NewRequest(method, path, strings.NewReader(body))
		}
		if cookie {
			req.AddCookie(&http.Cookie{Name: "revealed_session", Value: token})
		} else {
			req.Header.Set("Authorization", "Bearer "+e.adminKey)
		}
		if !overHTTP {
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, req)
			return w.Code, w.Header(), w.Body.Bytes()
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, b
	}
}

// A long local run: go test ./server -run TestStateMachine -args -statemachine.seeds 60 -statemachine.steps 60
var (
	smSeeds = flag.Int("statemachine.seeds", 6, "seeds of TestStateMachine")
	smSteps = flag.Int("statemachine.steps", 40, "steps of each seed of TestStateMachine")
)

// TestStateMachine runs seeded random sequences over real HTTP on loopback;
// a failure prints its seed and every call, and the seed replays it.
func TestStateMachine(t *testing.T) {
	seeds, steps := *smSeeds, *smSteps
	if testing.Short() {
		seeds = min(seeds, 3)
	}
	e := newEnv(t, server.WithRateLimit(0, 1))
	call := caller(t, e, true)
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 20261202))
			m := &machine{t: t, call: call, next: rng.IntN, prefix: fmt.Sprintf("s%d-", seed)}
			m.run(steps)
		})
	}
}

// FuzzStateMachine lets the fuzzer choose the sequence: each byte is one
// choice, so mutating the input mutates the calls.
func FuzzStateMachine(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 0, 2, 2, 1, 0, 6, 0, 9, 3, 5})
	f.Add([]byte("create, claim, start, events, edit, stop"))
	f.Add([]byte{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 6, 6, 6, 9, 9, 9, 10, 10, 4, 4, 5, 5, 7, 7, 8, 8})
	e := newEnv(f, server.WithRateLimit(0, 1))
	call := caller(f, e, false)
	run := 0
	f.Fuzz(func(t *testing.T, choices []byte) {
		run++
		i := 0
		next := func(n int) int {
			if i >= len(choices) {
				return 0
			}
			i++
			return int(choices[i-1]) % n
		}
		m := &machine{t: t, call: call, next: next, prefix: fmt.Sprintf("f%d-", run)}
		for m.step = 1; m.step <= 40 && i < len(choices); m.step++ {
			m.act()
			m.check()
		}
	})
}
