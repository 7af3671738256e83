package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

const surveySource = "b2b-2019"

// humanExperiment creates an experiment whose binary chose_human metric
// tests the statement human-74 by the claim "human". With share > 0 it is
// started and 2,000 customers arrive, that share of them choosing a human;
// else it stays a draft.
func humanExperiment(t testing.TB, e *env, key string, share float64) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateExperiment(ctx, experiments.ExperimentInput{Key: key, Name: "Human or bot, " + key, Unit: "customer_id",
		Variants: []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}},
		Metrics:  []experiments.Metric{{Key: "chose_human", Kind: experiments.MetricBinary, HigherIsBetter: true}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateClaim(ctx, key, analysis.Claim{ID: "human", StatementKey: "human-74", Metric: "chose_human"}); err != nil {
		t.Fatal(err)
	}
	if share == 0 {
		return
	}
	if _, err := e.svc.Start(ctx, key); err != nil {
		t.Fatal(err)
	}
	exposed := time.Now().Add(-time.Hour).UTC()
	after := exposed.Add(time.Minute)
	const n = 2000
	chose := int(math.Round(share * n))
	var batch []experiments.Event
	for i := range n {
		u := fmt.Sprintf("%s-%d", key, i)
		v := 0.0
		if i < chose {
			v = 1
		}
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: key, Variant: []string{"bot", "human"}[i%2], TS: &exposed},
			experiments.Event{Type: experiments.EventOutcome, UnitID: u, Experiment: key, Metric: "chose_human", Value: &v, TS: &after})
	}
	if _, err := ingestRefreshed(ctx, e.svc, batch); err != nil {
		t.Fatal(err)
	}
}

// scoreboardEnv has a source with two statements: human-74, tested in
// emea (62.5% chose a human) and us (63.5%) and in the draft apac, and
// email-first, which nothing tests.
func scoreboardEnv(t testing.TB) *env {
	t.Helper()
	e := newEnv(t, false)
	ctx := context.Background()
	if _, err := e.svc.CreateSource(ctx, experiments.SourceInput{Key: surveySource, Title: "Survey of B2B buyers", Publisher: "Front",
		Year: 2019, N: 2128, URL: "https://example.com/survey"}); err != nil {
		t.Fatal(err)
	}
	p := func(x float64) *float64 { return &x }
	for _, st := range []analysis.Statement{
		{Key: "human-74", Text: "74% would rather wait 10 minutes for a human", Kind: analysis.ClaimShare, SurveyN: 2128, StatedShare: p(0.74), Option: "a human"},
		{Key: "email-first", Text: "40% want email first", Kind: analysis.ClaimShare, SurveyN: 500, StatedShare: p(0.4)},
	} {
		if _, err := e.svc.CreateStatement(ctx, surveySource, st); err != nil {
			t.Fatal(err)
		}
	}
	humanExperiment(t, e, "emea", 0.625)
	humanExperiment(t, e, "us", 0.635)
	humanExperiment(t, e, "apac", 0)
	return e
}

// htmlText is s as html/template writes it in text.
func htmlText(s string) string {
	return strings.ReplaceAll(template.HTMLEscapeString(s), "+", "&#43;")
}

var (
	testRowMark  = regexp.MustCompile(`<g class="test-row s-revealed( left-out)?">(.*?)</g>`)
	testTableRow = regexp.MustCompile(`(?s)<tr data-experiment="([^"]+)">(.*?)</tr>`)
	statementArt = regexp.MustCompile(`(?s)<article class="statement" id="statement-([^"]+)"[^>]*>(.*?)</article>`)
)

// statements splits a scoreboard page into its statements' articles.
func statements(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range statementArt.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// checkScoreboard checks what the page and its printable file both show:
// the one-line answer, a forest plot for human-74 with one row per test
// (the draft's with why it has no figure), the stated band and the pooled
// diamond with its prediction interval, and the table of tests.
func checkScoreboard(t *testing.T, e *env, body string) {
	t.Helper()
	sb, err := e.svc.Scoreboard(context.Background(), surveySource)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sb.Summary, "Of 2 statements from Survey of B2B buyers (2019), ") {
		t.Fatalf("the service's summary: %q", sb.Summary)
	}
	if !strings.Contains(body, `<p class="answer" id="scoreboard-summary">`+htmlText(sb.Summary)+`</p>`) {
		t.Errorf("no one-line answer %q", sb.Summary)
	}
	var human analysis.StatementScore
	for _, st := range sb.Statements {
		if st.Statement.Key == "human-74" {
			human = st
		}
	}
	outcome := human.Outcome
	arts := statements(t, body)
	if len(arts) != 2 {
		t.Fatalf("%d statements, want 2", len(arts))
	}
	if !strings.Contains(body, `<article class="statement" id="statement-human-74" data-outcome="`+outcome+`">`) {
		t.Errorf("human-74's article does not carry its outcome %q", outcome)
	}
	h := arts["human-74"]
	for _, want := range []string{`<svg class="chart pool-forest" id="forest-human-74"`, `<title id="forest-human-74-t">`, `<desc id="forest-human-74-d">`,
		`<span class="badge outcome `, `data-outcome="` + outcome + `"><span class="icon"`,
		htmlText(human.Summary), "Stated (survey, n = 2,128)", "74.0% [", "Pooled (k = 2)",
		"Experiments pooled (k)</dt><dd>2</dd>", "τ² (variance between experiments)", "I² (share of the variation between experiments)",
		"Prediction interval (a new experiment)", "Pooled minus stated", "the experiment is a draft: it has no data yet"} {
		if !strings.Contains(h, want) {
			t.Errorf("human-74 lacks %q", want)
		}
	}
	for s, want := range map[string]int{`<rect class="stated-band"`: 1, `<polygon class="diamond"`: 1, `<line class="pi"`: 3, `<line class="stated-line"`: 1,
		`<g class="stated-row s-stated">`: 1, `<g class="pooled-row">`: 1} {
		if got := strings.Count(h, s); got != want {
			t.Errorf("%d × %q in human-74's chart, want %d", got, s, want)
		}
	}
	rows := testRowMark.FindAllStringSubmatch(h, -1)
	if len(rows) != 3 {
		t.Fatalf("%d test rows in the forest plot, want 3 (emea, us, apac)", len(rows))
	}
	for i, want := range []string{"apac / human", "emea / human", "us / human"} {
		r := rows[i][2]
		if !strings.Contains(r, ">"+want+"</text>") {
			t.Errorf("forest row %d: %s, want the label %q", i, r, want)
		}
		hasMark := strings.Contains(r, `class="mark point"`)
		if i == 0 { // the draft
			if hasMark || rows[i][1] == "" || !strings.Contains(r, "— the experiment is a draft") {
				t.Errorf("the draft's row draws a figure or hides why not: %s", r)
			}
			continue
		}
		if !hasMark || rows[i][1] != "" || strings.Count(r, `<line class="ci"`) != 3 || !strings.Contains(r, "% [") {
			t.Errorf("test row %q lacks its pooled mark and interval: %s", want, r)
		}
	}
	if !strings.Contains(rows[1][2], "62.5% [") || !strings.Contains(rows[2][2], "63.5% [") {
		t.Errorf("revealed shares not in the rows: %v", rows)
	}

	trs := testTableRow.FindAllStringSubmatch(h, -1)
	if len(trs) != 3 || trs[0][1] != "apac" || trs[1][1] != "emea" || trs[2][1] != "us" {
		t.Fatalf("tests table rows: %v", trs)
	}
	for _, tr := range trs[1:] {
		if !strings.Contains(tr[2], `<span class="badge badge-`) || !strings.Contains(tr[2], `<span class="pooled-yes">yes</span>`) ||
			!strings.Contains(tr[2], "2,000") || !strings.Contains(tr[2], `<span class="ci-text">[`) {
			t.Errorf("test row %s: %s", tr[1], tr[2])
		}
	}
	if !strings.Contains(trs[0][2], `<span class="pooled-no">no</span>: the experiment is a draft`) || !strings.Contains(trs[0][2], "—") {
		t.Errorf("the draft's table row: %s", trs[0][2])
	}

	u := arts["email-first"]
	if strings.Contains(u, "<svg") || !strings.Contains(u, "No experiment tests this statement yet.") || !strings.Contains(u, "Not tested yet") ||
		strings.Contains(u, "<table") {
		t.Errorf("the untested statement: %s", u)
	}
	if m := nonFinite.FindString(body); m != "" {
		t.Errorf("the scoreboard shows %q", m)
	}
}

func TestSourcePages(t *testing.T) {
	e := scoreboardEnv(t)
	for _, key := range []string{e.adminKey, e.sdkKey} {
		c := e.client(t)
		c.login(key)
		list := c.get("/sources")
		if list.status != http.StatusOK {
			t.Fatalf("GET /sources: %d", list.status)
		}
		mustContain(t, list, `<a href="/sources">Sources</a>`, `<tr data-key="b2b-2019">`, `href="/sources/b2b-2019"`, "Survey of B2B buyers",
			"Front", "2019", "2,128", `<td class="num statement-count">2</td>`)

		p := c.get("/sources/b2b-2019")
		if p.status != http.StatusOK {
			t.Fatalf("GET /sources/b2b-2019: %d\n%s", p.status, p.body)
		}
		mustContain(t, p, "<h1>Survey of B2B buyers</h1>", "Front · 2019 · 2,128 respondents", `href="https://example.com/survey"`,
			`href="/experiments/emea"`, `href="/sources/b2b-2019/scoreboard.html"`, `href="/sources/b2b-2019/scoreboard.json"`, `href="/sources/b2b-2019/scoreboard.csv"`)
		checkScoreboard(t, e, p.body)
		editable := strings.Contains(p.body, `href="/sources/b2b-2019/statements/new"`)
		if editable != (key == e.adminKey) {
			t.Errorf("New statement link shown = %v for the %s key", editable, map[bool]string{true: "admin", false: "SDK"}[key == e.adminKey])
		}
	}
	c := e.client(t)
	c.login(e.sdkKey)
	for _, path := range []string{"/sources/new", "/sources/b2b-2019/statements/new"} {
		if p := c.get(path); p.status != http.StatusForbidden {
			t.Errorf("SDK key on %s: %d, want 403", path, p.status)
		}
	}
	for _, path := range []string{"/sources/nope", "/sources/nope/scoreboard.html", "/sources/nope/scoreboard.json", "/sources/nope/scoreboard.csv"} {
		if p := c.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.status)
		}
	}
}

func TestScoreboardDownloads(t *testing.T) {
	e := scoreboardEnv(t)
	c := e.client(t)
	c.login(e.sdkKey)

	j := c.get("/sources/b2b-2019/scoreboard.json")
	if j.status != http.StatusOK || !strings.HasPrefix(j.header.Get("Content-Type"), "application/json") ||
		j.header.Get("Content-Disposition") != `attachment; filename="b2b-2019-scoreboard.json"` {
		t.Fatalf("JSON download: %d %v", j.status, j.header)
	}
	var sb struct {
		Source     struct{ Key string } `json:"source"`
		ComputedAt time.Time            `json:"computed_at"`
		Summary    string               `json:"summary"`
		Statements []struct {
			Statement struct{ Key string } `json:"statement"`
			Outcome   string               `json:"outcome"`
			Pooled    *struct{ K int }     `json:"pooled"`
			Tests     []struct {
				Experiment string `json:"experiment"`
				Pooled     bool   `json:"pooled"`
			} `json:"tests"`
		} `json:"statements"`
	}
	if err := json.Unmarshal([]byte(j.body), &sb); err != nil {
		t.Fatal(err)
	}
	if sb.Source.Key != surveySource || sb.ComputedAt.IsZero() || !strings.HasPrefix(sb.Summary, "Of 2 statements") || len(sb.Statements) != 2 ||
		sb.Statements[1].Statement.Key != "human-74" || sb.Statements[1].Pooled == nil || sb.Statements[1].Pooled.K != 2 || len(sb.Statements[1].Tests) != 3 ||
		sb.Statements[0].Outcome != analysis.OutcomeUntested {
		t.Errorf("JSON scoreboard: %s", j.body)
	}

	csv := c.get("/sources/b2b-2019/scoreboard.csv")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") ||
		csv.header.Get("Content-Disposition") != `attachment; filename="b2b-2019-scoreboard.csv"` ||
		strings.Count(csv.body, "\ntest,human-74,") != 3 || !strings.Contains(csv.body, "\npooled,human-74,share,") {
		t.Errorf("CSV download: %d %v\n%s", csv.status, csv.header, csv.body)
	}

	h := c.get("/sources/b2b-2019/scoreboard.html")
	if h.status != http.StatusOK || !strings.HasPrefix(h.header.Get("Content-Type"), "text/html") ||
		h.header.Get("Content-Disposition") != `attachment; filename="b2b-2019-scoreboard.html"` {
		t.Fatalf("HTML download: %d %v", h.status, h.header)
	}
	checkScoreboard(t, e, h.body)
	mustContain(t, h, "<!doctype html>", "<h1>Survey of B2B buyers</h1>", "Computed at ", `<span class="url">https://example.com/survey</span>`, `<body class="export">`)
	// Nothing to fetch, nothing to run, nothing that needs an account.
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\s(src|href|srcset|action|poster|data)\s*=`),
		regexp.MustCompile(`(?i)<(script|link|img|iframe|object|embed|form|base)\b`),
		regexp.MustCompile(`(?i)@import|url\(\s*['"]?[^#'"\s)]`),
		regexp.MustCompile(`/static/|/experiments/|javascript:|\son[a-z]+=`),
	} {
		if m := bad.FindString(h.body); m != "" {
			t.Errorf("the printable file has %q", m)
		}
	}
	// The style sheet is inline, the site's own, and the only style the
	// file's Content-Security-Policy allows.
	css := c.get("/static/style.css")
	if !strings.Contains(h.body, "<style>"+css.body+"</style>") {
		t.Error("the printable file does not carry the style sheet inline")
	}
	if !strings.Contains(css.body, "@media print") || !strings.Contains(css.body, "break-before: page") {
		t.Error("the style sheet has no print rules")
	}
	sum := sha256.Sum256([]byte(css.body))
	policy := h.header.Get("Content-Security-Policy")
	if !strings.Contains(policy, "default-src 'none'") || !strings.Contains(policy, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
		strings.Contains(policy, "script-src") {
		t.Errorf("the printable file's CSP: %q", policy)
	}
}

func TestSourceAndStatementForms(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	c := e.client(t)
	csrf := c.login(e.adminKey)

	blank := c.get("/sources/new")
	mustContain(t, blank, `id="f-key"`, `id="f-title"`, `id="f-publisher"`, `id="f-year"`, `id="f-n"`, `id="f-url"`, `id="save-source"`)
	form := url.Values{"csrf": {csrf}, "key": {"Not A Slug"}, "title": {"Web survey"}, "publisher": {"Us"}, "year": {"twenty"}, "n": {"1,200"}, "url": {"ftp://x"}}
	p := c.post("/sources/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-year"], "whole number") {
		t.Errorf("a year in words: %d %v", p.status, errs)
	}
	form.Set("year", "2024")
	p = c.post("/sources/new", form)
	errs = errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-key"], "slug") || !strings.Contains(errs["f-url"], "http or https") ||
		!strings.Contains(p.body, `href="#f-url"`) || !strings.Contains(p.body, `value="Web survey"`) {
		t.Errorf("bad key and url: %d %v", p.status, errs)
	}
	form.Set("key", "web-survey")
	form.Set("url", "https://example.com/web")
	p = c.post("/sources/new", form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/sources/web-survey?done=source-created" {
		t.Fatalf("create source: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	if src, err := e.svc.Source(ctx, "web-survey"); err != nil || src.N != 1200 || src.Year != 2024 || src.Publisher != "Us" {
		t.Errorf("stored source: %+v, %v", src, err)
	}
	mustContain(t, c.get("/sources/web-survey?done=source-created"), "Source created.", "Web survey (2024) has no statements yet.", `id="no-statements"`)
	if p := c.post("/sources/new", form); p.status != http.StatusConflict || !strings.Contains(p.body, "error-summary") {
		t.Errorf("a second source web-survey: %d", p.status)
	}

	sform := c.get("/sources/web-survey/statements/new")
	mustContain(t, sform, `<option value="share" selected>`, `<option value="segment_gap">`, `id="f-stated-share"`, `id="f-stated-cost"`, `id="f-survey-n-b"`)
	st := url.Values{"csrf": {csrf}, "key": {"human-70"}, "text": {"70% want a human"}, "kind": {"share"}, "survey_n": {"1200"}, "stated_share": {"1.7"}}
	p = c.post("/sources/web-survey/statements/new", st)
	errs = errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-stated-share"], "from 0 to 1") || !strings.Contains(p.body, `value="1.7"`) {
		t.Errorf("a share of 1.7: %d %v", p.status, errs)
	}
	st.Set("stated_share", "lots")
	st.Set("text", "")
	p = c.post("/sources/web-survey/statements/new", st)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-stated-share"], "must be a number") {
		t.Errorf("a share in words: %d %v", p.status, errs)
	}
	st.Set("stated_share", "0.7")
	p = c.post("/sources/web-survey/statements/new", st)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-text"], "required") {
		t.Errorf("no text: %d %v", p.status, errs)
	}
	st.Set("text", "70% want a human")
	p = c.post("/sources/web-survey/statements/new", st)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/sources/web-survey?done=statement-created#statement-human-70" {
		t.Fatalf("create statement: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	got, err := e.svc.GetStatement(ctx, "web-survey", "human-70")
	if err != nil || got.StatedShare == nil || *got.StatedShare != 0.7 || got.SurveyN != 1200 || got.Text != "70% want a human" {
		t.Errorf("stored statement: %+v, %v", got, err)
	}
	page := c.get("/sources/web-survey")
	mustContain(t, page, `id="statement-human-70"`, "70% want a human", "No experiment tests this statement yet.", "70.0%")
	// Statement keys are unique across sources: a conflict, said at the top.
	p = c.post("/sources/web-survey/statements/new", st)
	if p.status != http.StatusConflict || !strings.Contains(p.body, "statement keys are unique across sources") {
		t.Errorf("a second human-70: %d", p.status)
	}
	if p := c.post("/sources/nope/statements/new", st); p.status != http.StatusNotFound {
		t.Errorf("a statement of an unknown source: %d", p.status)
	}
}

func TestClaimFormTestsAStatement(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	if _, err := e.svc.CreateSource(ctx, experiments.SourceInput{Key: surveySource, Title: "Survey of B2B buyers", Year: 2019}); err != nil {
		t.Fatal(err)
	}
	share := 0.74
	if _, err := e.svc.CreateStatement(ctx, surveySource, analysis.Statement{Key: "human-74", Text: "74% would rather wait for a human",
		Kind: analysis.ClaimShare, SurveyN: 2128, StatedShare: &share}); err != nil {
		t.Fatal(err)
	}
	draft(t, e, "d1")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	blank := c.get("/experiments/d1/claims/new")
	mustContain(t, blank, `<select id="f-statement-key" name="statement_key"`, `<option value="" selected>— none: the claim states its own figures</option>`,
		`<option value="human-74">human-74 — 74% would rather wait for a human (Survey of B2B buyers (2019))</option>`)

	// What the browser sends: the kind select keeps its default, and the
	// survey's fields stay empty.
	form := url.Values{"csrf": {csrf}, "id": {"human"}, "statement_key": {"human-74"}, "statement": {""}, "source": {""}, "survey_n": {""},
		"kind": {"effect"}, "metric": {"converted"}, "stated_share": {"0.5"}}
	p := c.post("/experiments/d1/claims/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-stated-share"], `comes from statement &#34;human-74&#34;`) ||
		!strings.Contains(p.body, `<option value="human-74" selected>`) {
		t.Errorf("a share that contradicts the statement: %d %v", p.status, errs)
	}
	form.Set("stated_share", "")
	if p := c.post("/experiments/d1/claims/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("claim testing a statement: %d\n%s", p.status, p.body)
	}
	cl, err := e.svc.Claim(ctx, "d1", "human")
	if err != nil || cl.StatementKey != "human-74" || cl.Kind != analysis.ClaimShare || cl.StatedShare == nil || *cl.StatedShare != 0.74 ||
		cl.SurveyN != 2128 || cl.Statement != "74% would rather wait for a human" || cl.Source != "Survey of B2B buyers (2019)" {
		t.Fatalf("stored claim: %+v, %v", cl, err)
	}
	// The edit form shows the statement chosen, and saves as it was.
	edit := c.get("/experiments/d1/claims/human/edit")
	mustContain(t, edit, `<option value="human-74" selected>`)
	fields := url.Values{"csrf": {csrf}}
	for _, m := range regexp.MustCompile(`name="([a-z_]+)" value="([^"]*)"`).FindAllStringSubmatch(edit.body, -1) {
		if m[1] != "csrf" {
			fields.Set(m[1], m[2])
		}
	}
	for _, m := range regexp.MustCompile(`(?s)<select id="[^"]*" name="([a-z_]+)"[^>]*>(.*?)</select>`).FindAllStringSubmatch(edit.body, -1) {
		if o := regexp.MustCompile(`<option value="([^"]*)" selected>`).FindStringSubmatch(m[2]); o != nil {
			fields.Set(m[1], o[1])
		}
	}
	if fields.Get("statement_key") != "human-74" || fields.Get("stated_share") != "0.74" {
		t.Fatalf("the edit form as sent back: %v", fields)
	}
	if p := c.post("/experiments/d1/claims/human/edit", fields); p.status != http.StatusSeeOther {
		t.Fatalf("saving the claim unchanged: %d\n%s", p.status, p.body)
	}
	if cl, _ := e.svc.Claim(ctx, "d1", "human"); cl.Version != 2 || cl.StatementKey != "human-74" {
		t.Errorf("claim after the edit: %+v", cl)
	}
	// An unknown statement is named beside the select, and kept.
	form.Set("id", "other")
	form.Set("statement_key", "gone")
	p = c.post("/experiments/d1/claims/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-statement-key"], "names no statement") ||
		!strings.Contains(p.body, `<option value="gone" selected>`) {
		t.Errorf("an unknown statement: %d %v", p.status, errs)
	}
	// Without a statement, the claim form works as before.
	form = url.Values{"csrf": {csrf}, "id": {"own"}, "statement_key": {""}, "statement": {"60% prefer b"}, "survey_n": {"100"}, "kind": {"share"},
		"metric": {"converted"}, "stated_share": {"0.6"}}
	if p := c.post("/experiments/d1/claims/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("a claim with its own figures: %d\n%s", p.status, p.body)
	}
	if cl, err := e.svc.Claim(ctx, "d1", "own"); err != nil || cl.StatementKey != "" {
		t.Errorf("the claim with its own figures: %+v, %v", cl, err)
	}
}
