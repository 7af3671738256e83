package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server"
)

var fresh atomic.Int64

// freshExperiment creates a new experiment (started when running) and returns its key.
func freshExperiment(t testing.TB, e *env, running bool) string {
	key := fmt.Sprintf("exp-%d", fresh.Add(1))
	e.mustCreate(t, withField("key", `"`+key+`"`))
	if running {
		e.mustStart(t, key)
	}
	return key
}

func freshClaim(t testing.TB, e *env, experiment string) string {
	id := fmt.Sprintf("claim-%d", fresh.Add(1))
	r := e.do(t, "POST", "/api/v1/experiments/"+experiment+"/claims", e.adminKey,
		[]byte(`{"id":"`+id+`","kind":"effect","metric":"csat","preferred":"human","survey_n":10,"statement":"s"}`))
	if r.status != 201 {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	return id
}

func freshQuestion(t testing.TB, e *env) string {
	key := fmt.Sprintf("q-%d", fresh.Add(1))
	r := e.do(t, "POST", "/api/v1/questions", e.adminKey, []byte(`{"key":"`+key+`","text":"Human or bot?","kind":"choice","options":["human","bot"]}`))
	if r.status != 201 {
		t.Fatalf("question: %d %s", r.status, r.body)
	}
	return key
}

// freshStudyBody is a valid study over two new rating questions.
func freshStudyBody(t testing.TB, e *env, key string) string {
	var qs []string
	for range 3 {
		q := fmt.Sprintf("r-%d", fresh.Add(1))
		if r := e.do(t, "POST", "/api/v1/questions", e.adminKey, []byte(`{"key":"`+q+`","text":"Rate it","kind":"rating","scale":{"min":1,"max":5}}`)); r.status != 201 {
			t.Fatalf("question: %d %s", r.status, r.body)
		}
		qs = append(qs, q)
	}
	return fmt.Sprintf(`{"key":%q,"name":"drivers","outcome":{"question":%q},"drivers":[{"key":"a","question":%q},{"key":"b","question":%q}],"bootstrap":-1}`, key, qs[0], qs[1], qs[2])
}

// freshSource is a new source with one share statement; it returns the
// source's key and the statement's.
func freshSource(t testing.TB, e *env) (string, string) {
	n := fresh.Add(1)
	src, st := fmt.Sprintf("src-%d", n), fmt.Sprintf("st-%d", n)
	if r := e.do(t, "POST", "/api/v1/sources", e.adminKey, []byte(`{"key":"`+src+`","title":"A survey"}`)); r.status != 201 {
		t.Fatalf("source: %d %s", r.status, r.body)
	}
	if r := e.do(t, "POST", "/api/v1/sources/"+src+"/statements", e.adminKey, []byte(`{"key":"`+st+`","text":"74% want a human","kind":"share","stated_share":0.74,"survey_n":2128}`)); r.status != 201 {
		t.Fatalf("statement: %d %s", r.status, r.body)
	}
	return src, st
}

func freshLayer(t testing.TB, e *env) string {
	key := fmt.Sprintf("l-%d", fresh.Add(1))
	if r := e.do(t, "POST", "/api/v1/layers", e.adminKey, []byte(`{"key":"`+key+`","name":"Support agent"}`)); r.status != 201 {
		t.Fatalf("layer: %d %s", r.status, r.body)
	}
	return key
}

func freshHoldoutBody(t testing.TB, e *env) string {
	return fmt.Sprintf(`{"key":"h-%d","name":"Global","share":0.05,"experiments":[%q],"metrics":[{"key":"csat","kind":"mean","higher_is_better":true}]}`,
		fresh.Add(1), freshExperiment(t, e, true))
}

func freshHoldout(t testing.TB, e *env) string {
	body := freshHoldoutBody(t, e)
	r := e.do(t, "POST", "/api/v1/holdouts", e.adminKey, []byte(body))
	if r.status != 201 {
		t.Fatalf("holdout: %d %s", r.status, r.body)
	}
	var h struct{ Key string }
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatal(err)
	}
	return h.Key
}

func freshStudy(t testing.TB, e *env) string {
	key := fmt.Sprintf("s-%d", fresh.Add(1))
	if r := e.do(t, "POST", "/api/v1/studies", e.adminKey, []byte(freshStudyBody(t, e, key))); r.status != 201 {
		t.Fatalf("study: %d %s", r.status, r.body)
	}
	return key
}

// Every route × every kind of key: 401 without a valid key, 403 with a key
// of the wrong kind, 2xx with the right one.
func TestRoutesByKeyKind(t *testing.T) {
	e := newEnv(t)
	claim := `{"id":"c","kind":"effect","metric":"csat","preferred":"human","survey_n":10,"statement":"s"}`
	type request struct{ path, body string }
	routes := []struct {
		route   string // as gin names it
		sdk     bool   // SDK keys allowed
		request func() request
	}{
		{"POST /api/v1/keys", false, func() request { return request{"/api/v1/keys", `{"kind":"sdk","name":"n"}`} }},
		{"GET /api/v1/keys", false, func() request { return request{"/api/v1/keys", ""} }},
		{"DELETE /api/v1/keys/:id", false, func() request {
			k, _ := e.svc.CreateKey(t.Context(), experiments.KeySDK, "doomed")
			return request{"/api/v1/keys/" + k.ID, ""}
		}},
		{"GET /api/v1/audit", false, func() request { return request{"/api/v1/audit", ""} }},
		{"POST /api/v1/experiments", false, func() request {
			return request{"/api/v1/experiments", withField("key", fmt.Sprintf(`"new-%d"`, fresh.Add(1)))}
		}},
		{"GET /api/v1/experiments", false, func() request { return request{"/api/v1/experiments", ""} }},
		{"GET /api/v1/experiments/:key", false, func() request { return request{"/api/v1/experiments/" + freshExperiment(t, e, false), ""} }},
		{"PUT /api/v1/experiments/:key", false, func() request {
			key := freshExperiment(t, e, false)
			return request{"/api/v1/experiments/" + key, with(withField("key", `"`+key+`"`), "name", `"Renamed"`)}
		}},
		{"POST /api/v1/experiments/:key/start", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, false) + "/start", ""}
		}},
		{"POST /api/v1/experiments/:key/stop", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, true) + "/stop", ""}
		}},
		{"GET /api/v1/experiments/:key/report", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, true) + "/report", ""}
		}},
		{"POST /api/v1/experiments/:key/refresh", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, true) + "/refresh", ""}
		}},
		{"GET /api/v1/experiments/:key/snapshots", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, true) + "/snapshots", ""}
		}},
		{"POST /api/v1/experiments/:key/claims", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, false) + "/claims", claim}
		}},
		{"GET /api/v1/experiments/:key/claims", false, func() request {
			return request{"/api/v1/experiments/" + freshExperiment(t, e, false) + "/claims", ""}
		}},
		{"GET /api/v1/experiments/:key/claims/:id", false, func() request {
			x := freshExperiment(t, e, false)
			return request{"/api/v1/experiments/" + x + "/claims/" + freshClaim(t, e, x), ""}
		}},
		{"GET /api/v1/experiments/:key/claims/:id/versions", false, func() request {
			x := freshExperiment(t, e, false)
			return request{"/api/v1/experiments/" + x + "/claims/" + freshClaim(t, e, x) + "/versions", ""}
		}},
		{"PUT /api/v1/experiments/:key/claims/:id", false, func() request {
			x := freshExperiment(t, e, false)
			id := freshClaim(t, e, x)
			return request{"/api/v1/experiments/" + x + "/claims/" + id, strings.Replace(claim, `"c"`, `"`+id+`"`, 1)}
		}},
		{"DELETE /api/v1/experiments/:key/claims/:id", false, func() request {
			x := freshExperiment(t, e, false)
			return request{"/api/v1/experiments/" + x + "/claims/" + freshClaim(t, e, x), ""}
		}},
		{"POST /api/v1/questions", false, func() request {
			return request{"/api/v1/questions", fmt.Sprintf(`{"key":"q-%d","text":"Human or bot?","kind":"choice","options":["human","bot"]}`, fresh.Add(1))}
		}},
		{"GET /api/v1/questions", false, func() request { return request{"/api/v1/questions", ""} }},
		{"GET /api/v1/questions/:key", false, func() request { return request{"/api/v1/questions/" + freshQuestion(t, e), ""} }},
		{"PUT /api/v1/questions/:key", false, func() request {
			key := freshQuestion(t, e)
			return request{"/api/v1/questions/" + key, `{"text":"A human, or a bot?","kind":"choice","options":["human","bot"]}`}
		}},
		{"POST /api/v1/studies", false, func() request {
			return request{"/api/v1/studies", freshStudyBody(t, e, fmt.Sprintf("s-%d", fresh.Add(1)))}
		}},
		{"GET /api/v1/studies", false, func() request { return request{"/api/v1/studies", ""} }},
		{"GET /api/v1/studies/:key", false, func() request { return request{"/api/v1/studies/" + freshStudy(t, e), ""} }},
		{"PUT /api/v1/studies/:key", false, func() request {
			key := freshStudy(t, e)
			return request{"/api/v1/studies/" + key, freshStudyBody(t, e, key)}
		}},
		{"GET /api/v1/studies/:key/report", false, func() request { return request{"/api/v1/studies/" + freshStudy(t, e) + "/report", ""} }},
		{"POST /api/v1/sources", false, func() request {
			return request{"/api/v1/sources", fmt.Sprintf(`{"key":"src-%d","title":"A survey"}`, fresh.Add(1))}
		}},
		{"GET /api/v1/sources", false, func() request { return request{"/api/v1/sources", ""} }},
		{"GET /api/v1/sources/:key", false, func() request { src, _ := freshSource(t, e); return request{"/api/v1/sources/" + src, ""} }},
		{"PUT /api/v1/sources/:key", false, func() request {
			src, _ := freshSource(t, e)
			return request{"/api/v1/sources/" + src, `{"title":"The survey","year":2019}`}
		}},
		{"GET /api/v1/sources/:key/scoreboard", false, func() request {
			src, _ := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/scoreboard", ""}
		}},
		{"POST /api/v1/sources/:key/statements", false, func() request {
			src, _ := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/statements", fmt.Sprintf(`{"key":"st-%d","text":"t","kind":"say_do"}`, fresh.Add(1))}
		}},
		{"GET /api/v1/sources/:key/statements", false, func() request {
			src, _ := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/statements", ""}
		}},
		{"GET /api/v1/sources/:key/statements/:statement", false, func() request {
			src, st := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/statements/" + st, ""}
		}},
		{"GET /api/v1/sources/:key/statements/:statement/versions", false, func() request {
			src, st := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/statements/" + st + "/versions", ""}
		}},
		{"PUT /api/v1/sources/:key/statements/:statement", false, func() request {
			src, st := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/statements/" + st, `{"text":"72% want a human","kind":"share","stated_share":0.72,"survey_n":2128}`}
		}},
		{"DELETE /api/v1/sources/:key/statements/:statement", false, func() request {
			src, st := freshSource(t, e)
			return request{"/api/v1/sources/" + src + "/statements/" + st, ""}
		}},
		{"POST /api/v1/layers", false, func() request {
			return request{"/api/v1/layers", fmt.Sprintf(`{"key":"l-%d","name":"Support agent"}`, fresh.Add(1))}
		}},
		{"GET /api/v1/layers", false, func() request { return request{"/api/v1/layers", ""} }},
		{"GET /api/v1/layers/:key", false, func() request { return request{"/api/v1/layers/" + freshLayer(t, e), ""} }},
		{"POST /api/v1/holdouts", false, func() request {
			return request{"/api/v1/holdouts", freshHoldoutBody(t, e)}
		}},
		{"GET /api/v1/holdouts", false, func() request { return request{"/api/v1/holdouts", ""} }},
		{"GET /api/v1/holdouts/:key", false, func() request { return request{"/api/v1/holdouts/" + freshHoldout(t, e), ""} }},
		{"GET /api/v1/holdouts/:key/report", false, func() request { return request{"/api/v1/holdouts/" + freshHoldout(t, e) + "/report", ""} }},
		{"POST /api/v1/assign", true, func() request {
			return request{"/api/v1/assign", `{"experiment":"` + freshExperiment(t, e, true) + `","unit_id":"u1"}`}
		}},
		{"POST /api/v1/events", true, func() request {
			return request{"/api/v1/events", `{"events":[{"type":"outcome","unit_id":"u","metric":"csat","value":1}]}`}
		}},
		{"GET /api/v1/sdk/definitions", true, func() request { return request{"/api/v1/sdk/definitions", ""} }},
	}
	freshExperiment(t, e, false) // so that "csat" is a known metric for events

	srv := server.New(e.svc, nil)
	var tested []string
	for _, rt := range routes {
		tested = append(tested, rt.route)
	}
	for _, r := range srv.Routes() {
		if strings.HasPrefix(r, "GET /api/v1/sdk/stream") {
			continue // a stream never ends; TestStreamPushesChanges covers it
		}
		if strings.Contains(r, "/api/v1/") && !slices.Contains(tested, r) {
			t.Errorf("route %s has no row in this table", r)
		}
	}

	for _, rt := range routes {
		method, _, _ := strings.Cut(rt.route, " ")
		for _, kind := range []string{"none", "invalid", "sdk", "admin"} {
			t.Run(rt.route+"/"+kind, func(t *testing.T) {
				key := map[string]string{"none": "", "invalid": "rvl_admin_" + strings.Repeat("x", 43), "sdk": e.sdkKey, "admin": e.adminKey}[kind]
				req := rt.request()
				r := e.do(t, method, req.path, key, []byte(req.body))
				want := "2xx"
				switch {
				case kind == "none" || kind == "invalid":
					want = "401"
				case kind == "sdk" && !rt.sdk:
					want = "403"
				}
				got := fmt.Sprint(r.status)
				if want == "2xx" && r.status/100 == 2 {
					got = "2xx"
				}
				if got != want {
					t.Fatalf("%s %s with %s key: %d %s, want %s", method, req.path, kind, r.status, r.body, want)
				}
			})
		}
	}
}
