package server_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/server"
)

// dbState is what a committed write changes: the SQLite file and its
// write-ahead log.
func dbState(t *testing.T, path string) string {
	t.Helper()
	var out []string
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			out = append(out, "absent")
			continue
		}
		out = append(out, fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano()))
	}
	return strings.Join(out, " ")
}

// TestGetsDoNotWrite: every GET route, API and page, answers without
// writing to the database — reports are read from the snapshots that
// refreshes store, never computed or stored by a read — and a read of a
// report after new events returns the stored one until the next refresh.
func TestGetsDoNotWrite(t *testing.T) {
	e := newEnv(t)
	call := func(method, path, body string, want int) {
		t.Helper()
		if r := e.do(t, method, path, e.adminKey, []byte(body)); r.status != want {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
	}
	e.mustCreate(t, choiceExperiment)
	call("POST", "/api/v1/experiments/human-vs-bot/claims", `{"id":"c","kind":"effect","metric":"csat","preferred":"human","survey_n":10,"statement":"s"}`, 201)
	e.mustStart(t, "human-vs-bot")
	call("POST", "/api/v1/questions", `{"key":"q","text":"?","kind":"rating","scale":{"min":1,"max":5}}`, 201)
	call("POST", "/api/v1/questions", `{"key":"q2","text":"?","kind":"rating","scale":{"min":1,"max":5}}`, 201)
	call("POST", "/api/v1/questions", `{"key":"q3","text":"?","kind":"rating","scale":{"min":1,"max":5}}`, 201)
	call("POST", "/api/v1/studies", `{"key":"st","name":"d","outcome":{"question":"q"},"drivers":[{"key":"a","question":"q2"},{"key":"b","question":"q3"}],"bootstrap":-1}`, 201)
	call("POST", "/api/v1/sources", `{"key":"src","title":"Survey"}`, 201)
	call("POST", "/api/v1/sources/src/statements", `{"key":"sm","text":"t","kind":"share","stated_share":0.7,"survey_n":10}`, 201)
	call("POST", "/api/v1/layers", `{"key":"ly","name":"Layer"}`, 201)
	call("POST", "/api/v1/holdouts", `{"key":"ho","name":"H","share":0.1,"experiments":["human-vs-bot"],"metrics":[{"key":"csat","kind":"mean","higher_is_better":true}]}`, 201)
	sendUnits(t, e, "u", "human", 50, 30)
	call("POST", "/api/v1/experiments/human-vs-bot/refresh", "", 200)

	units := func() string {
		r := e.do(t, "GET", "/api/v1/experiments/human-vs-bot/report", e.adminKey, nil)
		return string(r.body)
	}
	before := units()
	sendUnits(t, e, "v", "bot", 50, 20)
	if units() != before {
		t.Fatal("a read of the report changed after new events without a refresh: it computed")
	}

	apiGets := []string{
		"/api/v1/sources", "/api/v1/sources/src", "/api/v1/sources/src/statements", "/api/v1/sources/src/statements/sm",
		"/api/v1/sources/src/statements/sm/versions", "/api/v1/sources/src/scoreboard", "/api/v1/studies", "/api/v1/studies/st",
		"/api/v1/studies/st/report", "/api/v1/experiments", "/api/v1/experiments/human-vs-bot", "/api/v1/experiments/human-vs-bot/claims",
		"/api/v1/experiments/human-vs-bot/claims/c", "/api/v1/experiments/human-vs-bot/claims/c/versions",
		"/api/v1/experiments/human-vs-bot/report", "/api/v1/experiments/human-vs-bot/snapshots", "/api/v1/holdouts", "/api/v1/holdouts/ho",
		"/api/v1/holdouts/ho/report", "/api/v1/questions", "/api/v1/questions/q", "/api/v1/layers", "/api/v1/layers/ly", "/api/v1/keys",
		"/api/v1/audit", "/healthz", "/metrics",
	}
	pageGets := []string{
		"/", "/login", "/experiments", "/experiments/new", "/experiments/human-vs-bot", "/experiments/human-vs-bot/claims/new",
		"/experiments/human-vs-bot/claims/c/edit", "/experiments/human-vs-bot/claims/c/delete", "/experiments/human-vs-bot/report.json",
		"/experiments/human-vs-bot/report.csv", "/experiments/human-vs-bot/start", "/experiments/human-vs-bot/stop",
		"/experiments/human-vs-bot/edit", "/sources", "/sources/new", "/sources/src", "/sources/src/scoreboard.json",
		"/sources/src/scoreboard.csv", "/sources/src/scoreboard.html", "/sources/src/statements/new", "/studies", "/studies/st",
		"/static/style.css", "/holdouts", "/holdouts/new", "/holdouts/ho", "/questions", "/questions/new", "/questions/q/edit",
		"/layers", "/layers/new",
	}
	web := caller(t, e, true)
	sdkDefs := "/api/v1/sdk/definitions"
	// Warm up: the first use of a key or session records it (in the
	// background, at most once an interval): not a read's write.
	e.do(t, "GET", "/api/v1/experiments", e.adminKey, nil)
	e.do(t, "GET", sdkDefs, e.sdkKey, nil)
	web("GET", "/experiments", "", true)
	time.Sleep(300 * time.Millisecond)

	check := func(path string, get func() int) {
		t.Helper()
		was := dbState(t, e.dbPath)
		if status := get(); status >= 400 && status != http.StatusMethodNotAllowed {
			t.Errorf("GET %s answered %d", path, status)
		}
		time.Sleep(20 * time.Millisecond) // anything a handler started in the background
		if now := dbState(t, e.dbPath); now != was {
			t.Errorf("GET %s wrote to the database (%s → %s)", path, was, now)
		}
	}
	for _, p := range apiGets {
		check(p, func() int { return e.do(t, "GET", p, e.adminKey, nil).status })
	}
	check(sdkDefs, func() int { return e.do(t, "GET", sdkDefs, e.sdkKey, nil).status })
	for _, p := range pageGets {
		check(p, func() int { status, _, _ := web("GET", p, "", true); return status })
	}

	// Every GET route is in one of the lists.
	covered := append(append(slices.Clone(apiGets), pageGets...), sdkDefs)
	for _, route := range server.New(e.svc, nil).Routes() {
		pattern, ok := strings.CutPrefix(route, "GET ")
		if !ok || pattern == "/api/v1/sdk/stream" { // a stream never ends; it reads the catalog in memory
			continue
		}
		if !slices.ContainsFunc(covered, func(p string) bool { return matchesRoute(pattern, p) }) {
			t.Errorf("GET route %s is not checked", pattern)
		}
	}
}

// matchesRoute reports whether path fits a gin pattern with :params and a
// trailing *wildcard.
func matchesRoute(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, p := range ps {
		if strings.HasPrefix(p, "*") {
			return i < len(xs)
		}
		if i >= len(xs) || (!strings.HasPrefix(p, ":") && p != xs[i]) {
			return false
		}
	}
	return len(ps) == len(xs)
}
