package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

func draft(t *testing.T, e *env, key string) {
	t.Helper()
	_, err := e.svc.CreateExperiment(context.Background(), experiments.ExperimentInput{
		Key: key, Name: "Draft " + key, Unit: "customer_id",
		Variants: []assign.Variant{{Key: "a", Weight: 1, Control: true}, {Key: "b", Weight: 1}},
		Metrics:  []experiments.Metric{{Key: "converted", Kind: experiments.MetricBinary, HigherIsBetter: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnauthenticatedRequestsGoToLogin(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	for path, want := range map[string]string{
		"/":                          "/experiments",
		"/experiments":               "/login?next=%2Fexperiments",
		"/experiments/x?status=1":    "/login?next=%2Fexperiments%2Fx%3Fstatus%3D1",
		"/experiments/x/report.json": "/login?next=%2Fexperiments%2Fx%2Freport.json",
		"/experiments/new":           "/login?next=%2Fexperiments%2Fnew",
		"/sources/s/scoreboard.html": "/login?next=%2Fsources%2Fs%2Fscoreboard.html",
	} {
		p := c.get(path)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 303 → %q", path, p.status, p.header.Get("Location"), want)
		}
	}
	p := c.post("/experiments/new", url.Values{"key": {"x"}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("POST without a session: %d → %q", p.status, p.header.Get("Location"))
	}
	// A forged cookie is no session either.
	u, _ := url.Parse(e.url)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "revealed_session", Value: "forged"}})
	if p := c.get("/experiments"); p.status != http.StatusSeeOther {
		t.Errorf("forged session: %d", p.status)
	}
}

func TestLoginSetsAStrictCookie(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	lp := c.get("/login")
	if lp.status != http.StatusOK {
		t.Fatal(lp.status)
	}
	// Without the log-in form's token, the log-in is refused.
	if p := c.post("/login", url.Values{"key": {e.adminKey}}); p.status != http.StatusForbidden {
		t.Errorf("log-in without CSRF: %d, want 403", p.status)
	}
	token := csrfOf(t, lp)
	bad := c.post("/login", url.Values{"csrf": {token}, "key": {"rvl_admin_wrong"}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, `aria-describedby="key-error"`) || !strings.Contains(bad.body, "not valid") {
		t.Errorf("bad key: %d\n%s", bad.status, bad.body)
	}
	token = csrfOf(t, bad) // a fresh token after a failure
	ok := c.post("/login", url.Values{"csrf": {token}, "key": {e.adminKey}, "next": {"//evil.example/x"}})
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/experiments" {
		t.Fatalf("log-in: %d → %q", ok.status, ok.header.Get("Location"))
	}
	var session string
	for _, sc := range ok.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "revealed_session=") {
			session = sc
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"} {
		if !strings.Contains(session, attr) {
			t.Errorf("session cookie %q lacks %s", session, attr)
		}
	}
	if strings.Contains(session, "Secure") {
		t.Errorf("session cookie over plain HTTP is Secure: %q", session)
	}
	if strings.Contains(session, e.adminKey) {
		t.Errorf("the cookie holds the API key")
	}
}

func TestCSRFIsCheckedOnEveryPost(t *testing.T) {
	e := newEnv(t, false)
	draft(t, e, "d1")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	for _, path := range []string{"/experiments/new", "/experiments/d1/edit", "/experiments/d1/start", "/experiments/d1/claims/new", "/questions/new", "/sources/new", "/logout"} {
		for name, token := range map[string]string{"missing": "", "wrong": csrf + "x"} {
			form := url.Values{"key": {"d2"}, "name": {"x"}}
			if token != "" {
				form.Set("csrf", token)
			}
			if p := c.post(path, form); p.status != http.StatusForbidden || !strings.Contains(p.body, "CSRF") {
				t.Errorf("POST %s with %s token: %d, want 403", path, name, p.status)
			}
		}
	}
	if got, _ := e.svc.GetExperiment(context.Background(), "d1"); got.Status != experiments.StatusDraft {
		t.Errorf("d1 became %s", got.Status)
	}
	// The session survived: the refused log-out did nothing.
	if p := c.get("/experiments"); p.status != http.StatusOK {
		t.Errorf("after refused POSTs: %d", p.status)
	}
}

func TestSDKKeyReadsButCannotEdit(t *testing.T) {
	e := newEnv(t, false)
	draft(t, e, "d1")
	c := e.client(t)
	csrf := c.login(e.sdkKey)
	list := c.get("/experiments")
	if strings.Contains(list.body, `href="/experiments/new"`) {
		t.Error("an SDK session is offered New experiment")
	}
	if p := c.get("/experiments/d1"); p.status != http.StatusOK || strings.Contains(p.body, "/edit") || strings.Contains(p.body, `id="start"`) {
		t.Errorf("report for an SDK key: %d, edit controls shown: %v", p.status, strings.Contains(p.body, "/edit"))
	}
	for _, path := range []string{"/experiments/new", "/experiments/d1/edit", "/experiments/d1/start", "/experiments/d1/claims/new"} {
		if p := c.get(path); p.status != http.StatusForbidden || !strings.Contains(p.body, "SDK key") {
			t.Errorf("GET %s: %d, want 403 with a message", path, p.status)
		}
		if p := c.post(path, url.Values{"csrf": {csrf}, "key": {"d9"}, "name": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", path, p.status)
		}
	}
	if got, _ := e.svc.GetExperiment(context.Background(), "d1"); got.Status != experiments.StatusDraft {
		t.Errorf("an SDK key started d1")
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	u, _ := url.Parse(e.url)
	var token string
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "revealed_session" {
			token = ck.Value
		}
	}
	if p := c.post("/logout", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Fatalf("log-out: %d → %q", p.status, p.header.Get("Location"))
	}
	if _, _, err := e.svc.Session(context.Background(), token); experiments.ErrorCode(err) != experiments.CodeUnauthorized {
		t.Errorf("the session outlived the log-out: %v", err)
	}
	if p := c.get("/experiments"); p.status != http.StatusSeeOther {
		t.Errorf("after log-out: %d, want a redirect to /login", p.status)
	}
}

var describedBy = regexp.MustCompile(`id="(f-[a-z0-9-]+)"[^>]*aria-describedby="([^"]*)"[^>]*aria-invalid="true"`)

// errorsBeside returns each invalid input's id with the text of the error
// element it points to, if that element follows it inside the same field.
func errorsBeside(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range describedBy.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[2]) {
			if !strings.HasPrefix(id, "err-") {
				continue
			}
			i := strings.Index(body, `id="`+m[1]+`"`)
			j := strings.Index(body, `id="`+id+`"`)
			end := strings.Index(body[i:], "</div>")
			if j < i || end < 0 || j > i+end {
				t.Errorf("error %s is not inside the field of %s", id, m[1])
				continue
			}
			k := strings.Index(body[j:], "</p>")
			out[m[1]] = body[j : j+k]
		}
	}
	return out
}

func TestValidationErrorsAppearBesideTheirFields(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	form := url.Values{
		"csrf": {csrf}, "key": {"Not A Slug"}, "name": {"x"}, "unit": {"customer_id"}, "traffic": {"1"},
		"control":         {"0"},
		"variants[0].key": {"a"}, "variants[0].name": {""}, "variants[0].weight": {"1"},
		"variants[1].key": {""}, "variants[1].name": {""}, "variants[1].weight": {""}, // blank row
		"variants[2].key": {"b"}, "variants[2].name": {""}, "variants[2].weight": {"-1"},
		"metrics[0].key": {"converted"}, "metrics[0].kind": {"binary"},
		"analysis.alpha": {"0.05"}, "analysis.correction": {"holm"}, "analysis.n_star": {"5000"},
		"analysis.cuped_lookback_days": {"14"},
	}
	p := c.post("/experiments/new", form)
	if p.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", p.status)
	}
	errs := errorsBeside(t, p.body)
	if !strings.Contains(errs["f-variants-2-weight"], "greater than 0") {
		t.Errorf("weight error beside row 3's weight: %q (all: %v)", errs["f-variants-2-weight"], errs)
	}
	if !strings.Contains(errs["f-key"], "slug") {
		t.Errorf("key error: %q", errs["f-key"])
	}
	if !strings.Contains(p.body, `value="-1"`) || !strings.Contains(p.body, `value="Not A Slug"`) {
		t.Error("the form did not keep what was typed")
	}
	if !strings.Contains(p.body, `href="#f-variants-2-weight"`) {
		t.Error("the error summary does not link to the weight")
	}

	// Text where a number belongs is caught before the service.
	form.Set("key", "ok-key")
	form.Set("variants[2].weight", "lots")
	p = c.post("/experiments/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || errs["f-variants-2-weight"] == "" || !strings.Contains(errs["f-variants-2-weight"], "must be a number") {
		t.Errorf("non-numeric weight: %d %v", p.status, errs)
	}
	if _, err := e.svc.GetExperiment(context.Background(), "ok-key"); experiments.ErrorCode(err) != experiments.CodeNotFound {
		t.Errorf("an invalid form created the experiment: %v", err)
	}

	// Two controls missing: the error goes to the variants fieldset.
	form.Set("variants[2].weight", "1")
	form.Del("control")
	p = c.post("/experiments/new", form)
	if !strings.Contains(p.body, `id="variants-error"`) || !strings.Contains(p.body, "control") {
		t.Errorf("missing control not shown on the variants: %d", p.status)
	}

	// Valid now: created as a draft, and the blank row was ignored.
	form.Set("control", "0")
	p = c.post("/experiments/new", form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/experiments/ok-key/edit?done=created" {
		t.Fatalf("create: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	got, err := e.svc.GetExperiment(context.Background(), "ok-key")
	if err != nil || len(got.Variants) != 2 || got.Variants[1].Key != "b" || !got.Variants[0].Control {
		t.Errorf("created: %+v, %v", got, err)
	}
}

func TestStartAndStopNeedConfirmation(t *testing.T) {
	e := newEnv(t, false)
	draft(t, e, "d1")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	conf := c.get("/experiments/d1/start")
	mustContain(t, conf, `action="/experiments/d1/start"`, "locked", `id="confirm"`)
	if got, _ := e.svc.GetExperiment(context.Background(), "d1"); got.Status != experiments.StatusDraft {
		t.Fatal("GET started the experiment")
	}
	if p := c.post("/experiments/d1/start", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d", p.status)
	}
	edit := c.get("/experiments/d1/edit")
	mustContain(t, edit, `id="locked-note"`, `id="f-variants-0-weight" name="variants[0].weight" value="0.5" inputmode="decimal" disabled`)
	// Saving a running experiment keeps its locked fields whatever is posted.
	p := c.post("/experiments/d1/edit", url.Values{"csrf": {csrf}, "name": {"Renamed"}, "variants[0].weight": {"9"},
		"metrics[0].key": {"converted"}, "metrics[0].kind": {"binary"}, "analysis.alpha": {"0.05"}, "analysis.correction": {"holm"},
		"analysis.n_star": {"1"}, "analysis.cuped_lookback_days": {"14"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save running: %d\n%s", p.status, p.body)
	}
	got, _ := e.svc.GetExperiment(context.Background(), "d1")
	if got.Name != "Renamed" || got.Variants[0].Weight != 0.5 || got.Analysis.NStar != 5000 {
		t.Errorf("after saving a running experiment: %+v", got)
	}
	mustContain(t, c.get("/experiments/d1/stop"), `action="/experiments/d1/stop"`)
	if p := c.post("/experiments/d1/stop", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("stop: %d", p.status)
	}
	// Stopping twice is a conflict, shown as a page.
	if p := c.post("/experiments/d1/stop", url.Values{"csrf": {csrf}}); p.status != http.StatusConflict {
		t.Errorf("second stop: %d, want 409", p.status)
	}
}

func TestClaimForm(t *testing.T) {
	e := newEnv(t, false)
	draft(t, e, "d1")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	form := url.Values{"csrf": {csrf}, "id": {"c-74"}, "statement": {"74% prefer b"}, "survey_n": {"2128"}, "kind": {"share"},
		"metric": {"converted"}, "stated_share": {"1.5"}}
	p := c.post("/experiments/d1/claims/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-stated-share"], "from 0 to 1") {
		t.Errorf("invalid share: %d %v", p.status, errs)
	}
	form.Set("stated_share", "0.74")
	if p := c.post("/experiments/d1/claims/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d\n%s", p.status, p.body)
	}
	mustContain(t, c.get("/experiments/d1/edit"), "c-74", `/experiments/d1/claims/c-74/edit`)
	form.Set("statement", "74% say they prefer b")
	if p := c.post("/experiments/d1/claims/c-74/edit", form); p.status != http.StatusSeeOther {
		t.Fatalf("claim edit: %d", p.status)
	}
	if cl, _ := e.svc.Claim(context.Background(), "d1", "c-74"); cl.Version != 2 {
		t.Errorf("claim version %d, want 2", cl.Version)
	}
	if p := c.post("/experiments/d1/claims/c-74/delete", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
}

func TestReportPageAndDownloads(t *testing.T) {
	e := newEnv(t, true)
	c := e.client(t)
	c.login(e.adminKey)
	list := c.get("/experiments?status=running")
	mustContain(t, list, `aria-current="page">Running`, "badge-holds", "✓", "Holds", "human-vs-bot", "bot: ")
	if got := c.get("/experiments?status=draft"); !strings.Contains(got.body, "No experiments") {
		t.Error("the draft filter shows experiments")
	}
	p := c.get("/experiments/human-vs-bot")
	mustContain(t, p, "Offered both", "chose a human", "&lt; 0.001", "Share choosing the stated option (%)",
		`class="chart"`, "Difference from control", "percentage points", "Chance to win", "p adjusted",
		"Cochran’s Q", "Sample ratio", "report.json", "report.csv", "Stated (survey, n = 2,128)")
	if strings.Contains(p.body, "srm-banner") {
		t.Error("SRM banner on a balanced experiment")
	}
	j := c.get("/experiments/human-vs-bot/report.json")
	if j.status != http.StatusOK || !strings.HasPrefix(j.header.Get("Content-Type"), "application/json") ||
		!strings.Contains(j.header.Get("Content-Disposition"), "human-vs-bot-report.json") || !strings.Contains(j.body, `"claims"`) {
		t.Errorf("JSON download: %d %v", j.status, j.header)
	}
	csv := c.get("/experiments/human-vs-bot/report.csv")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || strings.Count(csv.body, "\n") < 3 {
		t.Errorf("CSV download: %d %v", csv.status, csv.header)
	}
	if p := c.get("/experiments/nope"); p.status != http.StatusNotFound {
		t.Errorf("unknown experiment: %d", p.status)
	}
}

// The CSP forbids inline script and style; no page may rely on them.
func TestNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t, false)
	draft(t, e, "d1")
	c := e.client(t)
	pages := []page{c.get("/login")}
	c.login(e.adminKey)
	for _, path := range []string{"/experiments", "/experiments/d1", "/experiments/d1/edit", "/experiments/new",
		"/experiments/d1/start", "/experiments/d1/claims/new", "/experiments/nope", "/questions", "/questions/new", "/sources", "/sources/new"} {
		pages = append(pages, c.get(path))
	}
	inline := regexp.MustCompile(`(?i)<script|\sstyle=|<style|\son[a-z]+=|javascript:`)
	for i, p := range pages {
		if m := inline.FindString(p.body); m != "" {
			t.Errorf("page %d has inline %q", i, m)
		}
	}
	css := c.get("/static/style.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("style.css: %d %q", css.status, css.header.Get("Content-Type"))
	}
}

// TestRefreshNow: the report page shows the report computed ahead and
// when; reading it computes nothing, and "Refresh now" recomputes it.
func TestRefreshNow(t *testing.T) {
	e := newEnv(t, false)
	draft(t, e, "d1")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	mustContain(t, c.get("/experiments/d1"), "Not computed yet.")
	if p := c.post("/experiments/d1/start", url.Values{"csrf": {csrf}}); p.status != http.StatusSeeOther {
		t.Fatalf("start: %d", p.status)
	}
	started := c.get("/experiments/d1")
	mustContain(t, started, "Computed ", "reading this page computes nothing", `action="/experiments/d1/refresh"`, `id="refresh"`)
	ctx := context.Background()
	at := time.Now().Add(-time.Minute)
	var batch []experiments.Event
	for i := range 20 {
		unit := fmt.Sprintf("u%d", i)
		v := 1.0
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: unit, Experiment: "d1", Variant: []string{"a", "b"}[i%2], TS: &at},
			experiments.Event{Type: experiments.EventOutcome, UnitID: unit, Experiment: "d1", Metric: "converted", Value: &v})
	}
	if _, err := e.svc.Ingest(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if again := c.get("/experiments/d1"); again.body != started.body {
		t.Error("the page changed after new events without a refresh: reading it computed")
	}
	if p := c.post("/experiments/d1/refresh", url.Values{"csrf": {"wrong"}}); p.status != http.StatusForbidden {
		t.Errorf("refresh without the CSRF token: %d", p.status)
	}
	p := c.post("/experiments/d1/refresh", url.Values{"csrf": {csrf}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("refresh: %d", p.status)
	}
	after := c.get("/experiments/d1?done=refreshed")
	mustContain(t, after, "Report recomputed from every event stored.")
	r, err := e.svc.Report(ctx, "d1")
	if err != nil || len(r.Metrics) == 0 || r.Metrics[0].Variants[0].Units+r.Metrics[0].Variants[1].Units != 20 {
		t.Fatalf("after the refresh: %v %+v", err, r)
	}
}
