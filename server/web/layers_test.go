package web_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// layered creates an experiment of layer taking [lo, hi), and moves it to
// status: a draft, running or stopped.
func layered(t testing.TB, e *env, layer, key string, lo, hi float64, status experiments.Status) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.CreateExperiment(ctx, experiments.ExperimentInput{Key: key, Name: "Layered " + key, Unit: "customer_id",
		Variants: []assign.Variant{{Key: "a", Weight: 1, Control: true}, {Key: "b", Weight: 1}},
		Metrics:  []experiments.Metric{{Key: "converted", Kind: experiments.MetricBinary, HigherIsBetter: true}},
		Layer:    &experiments.LayerRange{Key: layer, Range: [2]float64{lo, hi}},
	}); err != nil {
		t.Fatal(err)
	}
	if status == experiments.StatusDraft {
		return
	}
	if _, err := e.svc.Start(ctx, key); err != nil {
		t.Fatal(err)
	}
	if status == experiments.StatusStopped {
		if _, err := e.svc.Stop(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
}

func mustLayer(t testing.TB, e *env, key, name string) {
	t.Helper()
	if _, err := e.svc.CreateLayer(context.Background(), experiments.LayerInput{Key: key, Name: name}); err != nil {
		t.Fatal(err)
	}
}

var (
	layerSVG  = regexp.MustCompile(`(?s)<svg class="chart layer-bar" id="layer-bar-([^"]+)".*?</svg>`)
	trackRect = regexp.MustCompile(`<rect class="track" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`)
	segGroup  = regexp.MustCompile(`<g class="layer-seg" data-experiment="([^"]+)" data-status="([^"]+)"><title>([^<]*)</title><rect class="seg (seg-[a-z]+)"( fill="url\(#[^"]+\)")? x="([0-9.]+)" y="([0-9.]+)" width="([0-9.]+)"`)
	freeRect  = regexp.MustCompile(`<rect class="free" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`)
)

func atof(t testing.TB, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestLayersPage: each layer is one bar of its units from 0 to 1, with a
// segment per experiment whose position and width are its range's share
// of the bar; running ranges are filled in the bar, drafts hatched and
// stopped ones outlined below it with their status; the free space is
// drawn and listed.
func TestLayersPage(t *testing.T) {
	e := newEnv(t, false)
	mustLayer(t, e, "support-agent", "Who answers")
	mustLayer(t, e, "empty", "Nothing yet")
	// The draft first: it could not be created over a running range.
	layered(t, e, "support-agent", "planned", 0.2, 0.6, experiments.StatusDraft)
	layered(t, e, "support-agent", "lower", 0, 0.3, experiments.StatusRunning)
	layered(t, e, "support-agent", "middle", 0.5, 0.8, experiments.StatusRunning)
	layered(t, e, "support-agent", "old", 0.8, 1, experiments.StatusStopped)
	draft(t, e, "no-layer")

	for _, key := range []string{e.adminKey, e.sdkKey} {
		c := e.client(t)
		c.login(key)
		p := c.get("/layers")
		if p.status != http.StatusOK {
			t.Fatalf("GET /layers: %d\n%s", p.status, p.body)
		}
		mustContain(t, p, `<a href="/layers">Layers</a>`, `<a href="/holdouts">Holdouts</a>`, `id="layer-support-agent"`, "Who answers",
			`id="layer-empty"`, "No experiment has joined this layer yet")
		if got := strings.Contains(p.body, `href="/layers/new"`); got != (key == e.adminKey) {
			t.Errorf("New layer link shown = %v for the %s key", got, map[bool]string{true: "admin", false: "SDK"}[key == e.adminKey])
		}
	}
	c := e.client(t)
	c.login(e.sdkKey)
	p := c.get("/layers")
	bars := map[string]string{}
	for _, m := range layerSVG.FindAllStringSubmatch(p.body, -1) {
		if _, dup := bars[m[1]]; dup {
			t.Errorf("layer %s drawn twice", m[1])
		}
		bars[m[1]] = m[0]
	}
	if len(bars) != 2 {
		t.Fatalf("%d layer bars, want one per layer (2): %v", len(bars), bars)
	}
	bar := bars["support-agent"]
	tr := trackRect.FindAllStringSubmatch(bar, -1)
	if len(tr) != 1 {
		t.Fatalf("%d tracks in the bar, want 1", len(tr))
	}
	x0, width := atof(t, tr[0][1]), atof(t, tr[0][2])
	// Where each experiment sits, as a share of the bar.
	want := map[string]struct {
		lo, hi        float64
		status, class string
		hatched       bool
	}{
		"lower":   {0, 0.3, "running", "seg-running", false},
		"middle":  {0.5, 0.8, "running", "seg-running", false},
		"planned": {0.2, 0.6, "draft", "seg-draft", true},
		"old":     {0.8, 1, "stopped", "seg-stopped", false},
	}
	segs := segGroup.FindAllStringSubmatch(bar, -1)
	if len(segs) != len(want) {
		t.Fatalf("%d segments, want one per experiment of the layer (%d):\n%s", len(segs), len(want), bar)
	}
	rows := map[string]float64{}
	for _, s := range segs {
		key := s[1]
		w, ok := want[key]
		if !ok {
			t.Errorf("a segment for %s, which is not in the layer", key)
			continue
		}
		x, y, wd := atof(t, s[6]), atof(t, s[7]), atof(t, s[8])
		if s[2] != w.status || s[4] != w.class || (s[5] != "") != w.hatched {
			t.Errorf("%s: status %q, class %q, fill %q; want %s, %s, hatched %v", key, s[2], s[4], s[5], w.status, w.class, w.hatched)
		}
		if math.Abs((x-x0)/width-w.lo) > 0.001 || math.Abs(wd/width-(w.hi-w.lo)) > 0.001 {
			t.Errorf("%s drawn from %.4f over %.4f of the bar, want from %g over %g", key, (x-x0)/width, wd/width, w.lo, w.hi-w.lo)
		}
		if !strings.Contains(s[3], fmt.Sprintf("[%g, %g)", w.lo, w.hi)) || !strings.Contains(s[3], w.status) {
			t.Errorf("%s's title %q does not say its range and status", key, s[3])
		}
		rows[key] = y
	}
	// Running ranges share the bar; the draft, which overlaps both, and
	// the stopped one sit below it.
	if rows["lower"] != rows["middle"] || rows["planned"] <= rows["lower"] || rows["old"] <= rows["lower"] {
		t.Errorf("rows of the segments: %v", rows)
	}
	for _, label := range []string{">lower</text>", ">middle</text>", ">planned · draft</text>", ">old · stopped</text>"} {
		if !strings.Contains(bar, label) {
			t.Errorf("the bar lacks the label %q", label)
		}
	}
	free := freeRect.FindAllStringSubmatch(bar, -1)
	if len(free) != 2 {
		t.Fatalf("%d free ranges, want 2 ([0.3, 0.5) and [0.8, 1))", len(free))
	}
	for i, f := range [][2]float64{{0.3, 0.5}, {0.8, 1}} {
		x, wd := atof(t, free[i][1]), atof(t, free[i][2])
		if math.Abs((x-x0)/width-f[0]) > 0.001 || math.Abs(wd/width-(f[1]-f[0])) > 0.001 {
			t.Errorf("free range %d from %.4f over %.4f, want %v", i, (x-x0)/width, wd/width, f)
		}
	}
	mustContain(t, p, "Free for another running experiment: <strong>[0.3, 0.5), [0.8, 1)</strong> (40.0% of the layer)",
		`<tr data-experiment="planned">`, `<a href="/experiments/planned">`, "[0.2, 0.6)")
	if strings.Contains(p.body, "no-layer") {
		t.Error("an experiment without a layer is on the layers page")
	}
	if empty := bars["empty"]; segGroup.MatchString(empty) || len(freeRect.FindAllString(empty, -1)) != 1 {
		t.Errorf("the empty layer should be one free range: %s", empty)
	}
}

// TestLayerForm: the new-layer form refuses a bad key beside its field,
// creates a layer, and refuses a second with the same key; an SDK key may
// not use it.
func TestLayerForm(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	mustContain(t, c.get("/layers/new"), `id="f-key"`, `id="f-name"`, `id="f-salt"`, `id="save-layer"`, `name="csrf"`)

	form := url.Values{"csrf": {csrf}, "key": {"Who Answers"}, "name": {"Who answers"}, "salt": {""}}
	p := c.post("/layers/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-key"], "slug") || !strings.Contains(p.body, `href="#f-key"`) ||
		!strings.Contains(p.body, `value="Who answers"`) {
		t.Errorf("a bad key: %d %v", p.status, errs)
	}
	if _, err := e.svc.Layer(context.Background(), "Who Answers"); experiments.ErrorCode(err) != experiments.CodeNotFound {
		t.Errorf("the bad layer was stored: %v", err)
	}
	form.Set("key", "support-agent")
	p = c.post("/layers/new", form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/layers?done=layer-created#layer-support-agent" {
		t.Fatalf("create layer: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	l, err := e.svc.Layer(context.Background(), "support-agent")
	if err != nil || l.Name != "Who answers" || l.Salt == "" {
		t.Fatalf("stored layer: %+v, %v", l, err)
	}
	mustContain(t, c.get("/layers?done=layer-created"), "Layer created.", `id="layer-support-agent"`, `id="layer-bar-support-agent"`)
	if p := c.post("/layers/new", form); p.status != http.StatusConflict || !strings.Contains(p.body, "error-summary") {
		t.Errorf("a second support-agent: %d", p.status)
	}
	if p := c.post("/layers/new", url.Values{"key": {"x"}, "name": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", p.status)
	}

	sdk := e.client(t)
	sdkCSRF := sdk.login(e.sdkKey)
	if p := sdk.get("/layers/new"); p.status != http.StatusForbidden {
		t.Errorf("SDK key on /layers/new: %d", p.status)
	}
	if p := sdk.post("/layers/new", url.Values{"csrf": {sdkCSRF}, "key": {"sdk-layer"}, "name": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("SDK key posting a layer: %d", p.status)
	}
}

// layerForm is the editor's form for a plain experiment of layer taking
// [lo, hi).
func layerForm(csrf, key, layer, lo, hi string) url.Values {
	form := editorForm(csrf, key)
	form.Set("name", "Layered "+key)
	form.Set("layer.key", layer)
	form.Set("layer.lo", lo)
	form.Set("layer.hi", hi)
	return form
}

// TestEditorLayer: the editor offers the layers; a range is stored; a bad
// range, or a range without a layer, is refused beside the range; a range
// that overlaps a running experiment's is refused with the service's 409
// naming it; a started experiment's layer is locked; and starting a draft
// that overlaps says why on the confirmation page.
func TestEditorLayer(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	mustLayer(t, e, "support-agent", "Who answers")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	mustContain(t, c.get("/experiments/new"), `<fieldset id="layer"`, `<select id="f-layer-key" name="layer.key"`,
		`<option value="" selected>— none`, `<option value="support-agent">Who answers (support-agent)</option>`,
		`id="f-layer-lo" name="layer.lo"`, `id="f-layer-hi" name="layer.hi"`, `href="/layers"`)

	p := c.post("/experiments/new", layerForm(csrf, "lower", "support-agent", "0", "0.5"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("creating lower: %d\n%s", p.status, p.body)
	}
	lower, err := e.svc.GetExperiment(ctx, "lower")
	if err != nil || lower.Layer == nil || lower.Layer.Key != "support-agent" || lower.Layer.Range != [2]float64{0, 0.5} {
		t.Fatalf("stored layer of lower: %+v, %v", lower.Layer, err)
	}
	edit := c.get("/experiments/lower/edit")
	mustContain(t, edit, `<option value="support-agent" selected>`, `id="f-layer-lo" name="layer.lo" value="0"`, `id="f-layer-hi" name="layer.hi" value="0.5"`)

	rangeErr := func(p page) string {
		t.Helper()
		i := strings.Index(p.body, `<p class="field-error" id="err-f-layer-range">`)
		if i < 0 {
			return ""
		}
		for _, id := range []string{"f-layer-lo", "f-layer-hi"} {
			if !regexp.MustCompile(`id="` + id + `"[^>]*aria-describedby="err-f-layer-range" aria-invalid="true"`).MatchString(p.body) {
				t.Errorf("%s is not described by the range's error", id)
			}
		}
		return p.body[i : i+strings.Index(p.body[i:], "</p>")]
	}
	for _, bad := range []struct {
		name, layer, lo, hi, want string
		status                    int
	}{
		{"lo above hi", "support-agent", "0.6", "0.5", "0 ≤ lo &lt; hi ≤ 1", http.StatusBadRequest},
		{"not a number", "support-agent", "half", "1", `the lower end &#34;half&#34; must be a number`, http.StatusBadRequest},
		{"one end", "support-agent", "0.5", "", "give both ends", http.StatusBadRequest},
	} {
		p := c.post("/experiments/new", layerForm(csrf, "upper", bad.layer, bad.lo, bad.hi))
		if got := rangeErr(p); p.status != bad.status || !strings.Contains(got, bad.want) {
			t.Errorf("%s: %d, range error %q, want %d with %q", bad.name, p.status, got, bad.status, bad.want)
		}
		if !strings.Contains(p.body, `href="#f-layer-lo"`) || !strings.Contains(p.body, `value="`+bad.lo+`"`) {
			t.Errorf("%s: the error summary does not link the range, or the typed end is lost", bad.name)
		}
	}
	p = c.post("/experiments/new", layerForm(csrf, "upper", "", "0.5", "1"))
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-layer-key"], "choose the layer") {
		t.Errorf("a range without a layer: %d %v", p.status, errs)
	}
	p = c.post("/experiments/new", layerForm(csrf, "upper", "gone", "0.5", "1"))
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-layer-key"], "names no layer") ||
		!strings.Contains(p.body, `<option value="gone" selected>gone (no such layer)</option>`) {
		t.Errorf("an unknown layer: %d %v", p.status, errs)
	}

	if _, err := e.svc.Start(ctx, "lower"); err != nil {
		t.Fatal(err)
	}
	// A second experiment overlapping the running one: the 409, at the
	// top and beside the range, naming it.
	p = c.post("/experiments/new", layerForm(csrf, "overlapping", "support-agent", "0.4", "0.8"))
	if p.status != http.StatusConflict {
		t.Fatalf("an overlapping experiment: %d, want 409\n%s", p.status, p.body)
	}
	summary := p.body[strings.Index(p.body, `<div class="error-summary"`):]
	summary = summary[:strings.Index(summary, "</div>")]
	if !strings.Contains(summary, "running experiment &#34;lower&#34;") || !strings.Contains(summary, "[0.4, 0.8)") {
		t.Errorf("the summary does not say which running experiment overlaps: %s", summary)
	}
	if got := rangeErr(p); !strings.Contains(got, "overlaps experiment &#34;lower&#34;") {
		t.Errorf("the range's error: %q", got)
	}
	mustContain(t, p, `value="0.4"`, `value="0.8"`, `<option value="support-agent" selected>`)
	if _, err := e.svc.GetExperiment(ctx, "overlapping"); experiments.ErrorCode(err) != experiments.CodeNotFound {
		t.Errorf("the overlapping experiment was stored: %v", err)
	}
	if p := c.post("/experiments/new", layerForm(csrf, "upper", "support-agent", "0.5", "1")); p.status != http.StatusSeeOther {
		t.Errorf("the free half: %d\n%s", p.status, p.body)
	}

	// Started, its layer and range are shown locked, and saving keeps them.
	edit = c.get("/experiments/lower/edit")
	for _, id := range []string{"f-layer-key", "f-layer-lo", "f-layer-hi"} {
		if !regexp.MustCompile(`id="` + id + `" name="[^"]+"[^>]* disabled`).MatchString(edit.body) {
			t.Errorf("%s is not disabled once started", id)
		}
	}
	mustContain(t, edit, "layer range, salt", "changing its layer or range would move customers in or out")
	sent := submitted(t, edit.body)
	if sent.Has("layer.key") || sent.Has("layer.lo") {
		t.Fatalf("disabled inputs were sent: %v", sent)
	}
	sent.Set("name", "Lower half")
	if p := c.post("/experiments/lower/edit", sent); p.status != http.StatusSeeOther {
		t.Fatalf("saving the running experiment: %d\n%s", p.status, p.body)
	}
	if got, _ := e.svc.GetExperiment(ctx, "lower"); got.Name != "Lower half" || got.Layer == nil || got.Layer.Range != [2]float64{0, 0.5} {
		t.Errorf("after saving: %q %+v", got.Name, got.Layer)
	}

	// A draft created before lower started overlaps it: starting it says
	// why, on the confirmation page, with a way to its range.
	layered(t, e, "support-agent", "early", 0.7, 1, experiments.StatusDraft)
	if _, err := e.svc.Start(ctx, "upper"); err != nil {
		t.Fatal(err)
	}
	p = c.post("/experiments/early/start", url.Values{"csrf": {csrf}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, `id="transition-error"`) || !strings.Contains(p.body, "running experiment &#34;upper&#34;") ||
		!strings.Contains(p.body, `href="/experiments/early/edit#layer"`) || !strings.Contains(p.body, `id="confirm"`) {
		t.Errorf("starting an overlapping draft: %d\n%s", p.status, p.body)
	}
	if got, _ := e.svc.GetExperiment(ctx, "early"); got.Status != experiments.StatusDraft {
		t.Errorf("the overlapping draft is %s", got.Status)
	}
}

// TestHoldoutPages: the form refuses a share above a half and an
// unchecked list beside their fields, creates a holdout of the checked
// experiments with its metric rows; the list shows it; and its page
// compares held out with exposed on the metric, with the sample ratio.
func TestHoldoutPages(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	draft(t, e, "d1")
	draft(t, e, "d2")
	c := e.client(t)
	csrf := c.login(e.adminKey)
	blank := c.get("/holdouts/new")
	mustContain(t, blank, `id="f-key"`, `id="f-share"`, `id="f-salt"`,
		`<input type="checkbox" id="f-experiments-d1" name="experiments" value="d1">`, `<label for="f-experiments-d1">Draft d1 (d1, draft)</label>`,
		`id="f-experiments-d2"`, `name="metrics[0].key"`, `name="metrics[0].kind"`, `name="metrics[0].window.to"`, `id="save-holdout"`)

	form := url.Values{"csrf": {csrf}, "key": {"global"}, "name": {"Global holdout"}, "share": {"0.9"}, "salt": {""},
		"metrics[0].key": {"csat"}, "metrics[0].kind": {"mean"}, "metrics[0].higher_is_better": {"on"}, "metrics[0].aggregation": {""}, "metrics[0].peak": {""},
		"metrics[1].key": {""}, "metrics[1].kind": {"binary"}, "metrics[1].aggregation": {""}, "metrics[1].peak": {""}}
	p := c.post("/holdouts/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-share"], "at most 0.5") || !strings.Contains(p.body, `id="experiments-error"`) ||
		!strings.Contains(p.body, "at least one experiment") || !strings.Contains(p.body, `value="csat"`) {
		t.Errorf("share 0.9 and no experiment: %d %v", p.status, errs)
	}
	form.Set("share", "a tenth")
	form["experiments"] = []string{"d2"}
	form.Set("metrics[0].window.to", "soon")
	p = c.post("/holdouts/new", form)
	errs = errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-share"], "must be a number") || errs["f-metrics-0-window-to"] == "" ||
		!strings.Contains(p.body, `id="f-experiments-d2" name="experiments" value="d2" checked`) {
		t.Errorf("a share in words and a bad window: %d %v", p.status, errs)
	}
	form.Set("share", "0.2")
	form.Set("metrics[0].window.to", "")
	p = c.post("/holdouts/new", form)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/holdouts/global?done=holdout-created" {
		t.Fatalf("create holdout: %d → %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	h, err := e.svc.Holdout(ctx, "global")
	if err != nil || h.Share != 0.2 || len(h.Experiments) != 1 || h.Experiments[0] != "d2" || len(h.Metrics) != 1 ||
		h.Metrics[0].Key != "csat" || h.Metrics[0].Kind != experiments.MetricMean || !h.Metrics[0].HigherIsBetter {
		t.Fatalf("stored holdout: %+v, %v", h, err)
	}
	if p := c.post("/holdouts/new", form); p.status != http.StatusConflict || !strings.Contains(p.body, "error-summary") {
		t.Errorf("a second global: %d", p.status)
	}
	// Before any unit reaches it: said, and no chart of nothing.
	empty := c.get("/holdouts/global?done=holdout-created")
	mustContain(t, empty, "Holdout created.", `id="no-units"`, "Not enough traffic to check yet")
	if strings.Contains(empty.body, `id="forest-0"`) {
		t.Error("an empty holdout draws a forest plot")
	}

	// Units held out and exposed, held out doing worse.
	exposed := time.Now().Add(-time.Hour).UTC()
	after := exposed.Add(time.Minute)
	rng := rand.New(rand.NewPCG(3, 3))
	var batch []experiments.Event
	for i := range 500 {
		u := fmt.Sprintf("u-%d", i)
		arm, csat := "exposed", 4.0
		if i%5 == 0 {
			arm, csat = "held_out", 3.5
		}
		csat += rng.NormFloat64() * 0.3
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: experiments.HoldoutExperimentKey("global"), Variant: arm, TS: &exposed},
			experiments.Event{Type: experiments.EventOutcome, UnitID: u, Metric: "csat", Value: &csat, TS: &after})
	}
	if _, err := ingestRefreshed(ctx, e.svc, batch); err != nil {
		t.Fatal(err)
	}

	sdk := e.client(t)
	sdk.login(e.sdkKey)
	list := sdk.get("/holdouts")
	mustContain(t, list, `<tr data-key="global">`, `<a href="/holdouts/global">Global holdout</a>`, "20.0%", `<a href="/experiments/d2">Draft d2</a>`, "csat")
	if strings.Contains(list.body, `href="/holdouts/new"`) {
		t.Error("an SDK session is offered the holdout form")
	}
	page := sdk.get("/holdouts/global")
	if page.status != http.StatusOK {
		t.Fatalf("GET /holdouts/global: %d\n%s", page.status, page.body)
	}
	rep, err := e.svc.HoldoutReport(ctx, "global")
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Report.Metrics[0]
	if len(m.Variants) != 2 || m.Variants[0].Variant != "held_out" || m.Variants[0].Units != 100 || m.Variants[1].Units != 400 {
		t.Fatalf("the service's holdout report: %+v", m.Variants)
	}
	rows := regexp.MustCompile(`(?s)<tr(?: class="significant")?>\s*<th scope="row">(held_out|exposed)(.*?)</tr>`).FindAllStringSubmatch(page.body, -1)
	if len(rows) != 2 || rows[0][1] != "held_out" || rows[1][1] != "exposed" {
		t.Fatalf("arm rows: %v", rows)
	}
	if !strings.Contains(rows[0][2], "(held out: the baseline)") || !strings.Contains(rows[0][2], `<td class="num">100</td>`) {
		t.Errorf("held_out row: %s", rows[0][2])
	}
	if d := m.Comparisons[0].AbsEffect; d < 0.4 || d > 0.6 {
		t.Fatalf("the service's difference %v, want about 0.5", d)
	}
	if !strings.Contains(rows[1][2], `<td class="num">400</td>`) || !regexp.MustCompile(`<td class="num">&#43;0\.[456]\d* <span class="ci-text">\[&#43;0\.`).MatchString(rows[1][2]) ||
		!strings.Contains(rows[1][2], `<td class="num">&lt; 0.001</td>`) {
		t.Errorf("exposed row, want 400 units, the difference about +0.5 with its interval, and p: %s", rows[1][2])
	}
	mustContain(t, page, "<h1>Global holdout</h1>", "<strong>20.0%</strong> of units held out", `<a href="/experiments/d2">Draft d2</a>`,
		`<svg class="chart" id="forest-0"`, "exposed vs held_out", `<p id="srm-status">OK (p = `, "Observed held_out 100 · exposed 400")
	if strings.Contains(page.body, `id="srm-banner"`) || strings.Contains(page.body, `id="no-units"`) {
		t.Error("a sample ratio mismatch shown for a 20/80 split of a 0.2 share")
	}
	if p := sdk.get("/holdouts/nope"); p.status != http.StatusNotFound {
		t.Errorf("an unknown holdout: %d", p.status)
	}
	if p := sdk.get("/holdouts/new"); p.status != http.StatusForbidden {
		t.Errorf("SDK key on /holdouts/new: %d", p.status)
	}
}

// interactingPair starts two experiments on the same customers, a
// (bot/human) and b (fix/teach), and ingests 1,600 customers exposed to
// both whose CSAT rises by interaction when a human teaches, so each
// report flags the other.
func interactingPair(t testing.TB, e *env, interaction float64) {
	t.Helper()
	ctx := context.Background()
	for _, x := range []struct{ key, name, ctl, trt string }{{"agent", "Human or bot", "bot", "human"}, {"help", "Teach or fix", "fix", "teach"}} {
		if _, err := e.svc.CreateExperiment(ctx, experiments.ExperimentInput{Key: x.key, Name: x.name, Unit: "customer_id",
			Variants: []assign.Variant{{Key: x.ctl, Weight: 1, Control: true}, {Key: x.trt, Weight: 1}},
			Metrics:  []experiments.Metric{{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Start(ctx, x.key); err != nil {
			t.Fatal(err)
		}
	}
	exposed := time.Now().Add(-time.Hour).UTC()
	after := exposed.Add(time.Minute)
	rng := rand.New(rand.NewPCG(14, 14))
	var batch []experiments.Event
	for i := range 1600 {
		u := fmt.Sprintf("c-%d", i)
		agent, help := []string{"bot", "human"}[rng.IntN(2)], []string{"fix", "teach"}[rng.IntN(2)]
		csat := 3.5 + rng.NormFloat64()*0.8
		if agent == "human" {
			csat += 0.3
		}
		if agent == "human" && help == "teach" {
			csat += interaction
		}
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: "agent", Variant: agent, TS: &exposed},
			experiments.Event{Type: experiments.EventExposure, UnitID: u, Experiment: "help", Variant: help, TS: &exposed},
			experiments.Event{Type: experiments.EventOutcome, UnitID: u, Metric: "csat", Value: &csat, TS: &after})
	}
	if _, err := ingestRefreshed(ctx, e.svc, batch); err != nil {
		t.Fatal(err)
	}
}

var interactionRow = regexp.MustCompile(`(?s)<tr data-experiment="([^"]+)" data-metric="([^"]+)"( class="flagged")?>(.*?)</tr>`)

// TestReportInteractions: two running experiments on the same customers
// with a built-in interaction: each report lists the check against the
// other, flagged with a badge and the sentence naming it, and a banner at
// the top says so; without the interaction the check is listed, not
// flagged; an experiment alone, or a draft, says that no running
// experiment shares its units.
func TestReportInteractions(t *testing.T) {
	for _, tc := range []struct {
		name        string
		interaction float64
		flagged     bool
	}{{"interaction", 0.8, true}, {"additive", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			ctx := context.Background()
			interactingPair(t, e, tc.interaction)
			c := e.client(t)
			c.login(e.sdkKey)
			for _, pair := range [][2]string{{"agent", "help"}, {"help", "agent"}} {
				r, err := refreshReport(ctx, e.svc, pair[0])
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Interactions) != 1 || r.Interactions[0].Flagged != tc.flagged || r.Interactions[0].Estimate == nil {
					t.Fatalf("the service's checks of %s: %+v", pair[0], r.Interactions)
				}
				check := r.Interactions[0]
				summary := htmlText(check.Summary)
				p := c.get("/experiments/" + pair[0])
				if p.status != http.StatusOK {
					t.Fatalf("GET /experiments/%s: %d", pair[0], p.status)
				}
				mustContain(t, p, `<h2 id="interactions-h">Interactions with other experiments</h2>`)
				rows := interactionRow.FindAllStringSubmatch(p.body, -1)
				if len(rows) != 1 || rows[0][1] != pair[1] || rows[0][2] != "csat" || (rows[0][3] != "") != tc.flagged {
					t.Fatalf("%s: interaction rows %v, want one for %s on csat, flagged %v", pair[0], rows, pair[1], tc.flagged)
				}
				row := rows[0][4]
				for _, want := range []string{`<a href="/experiments/` + pair[1] + `">` + pair[1] + `</a>`, `<span class="ci-text">[`, " × ",
					`<p class="check-summary">` + summary + `</p>`} {
					if !strings.Contains(row, want) {
						t.Errorf("%s: the row lacks %q: %s", pair[0], want, row)
					}
				}
				if n := strings.Count(row, `<td class="num">`); n != 3 || strings.Count(row, "— (") != 0 {
					t.Errorf("%s: the row's figures: %s", pair[0], row)
				}
				badge := `<span class="flag"><span class="icon" aria-hidden="true">⚑</span> Flagged</span>`
				banner := ""
				if i := strings.Index(p.body, `id="interaction-banner"`); i >= 0 {
					banner = p.body[i : i+strings.Index(p.body[i:], "</div>")]
				}
				if !tc.flagged {
					if strings.Contains(row, badge) || !strings.Contains(row, "Not flagged") || banner != "" {
						t.Errorf("%s: an additive pair is flagged: %s", pair[0], row)
					}
					continue
				}
				if !strings.Contains(check.Summary, `"`+pair[1]+`"`) {
					t.Fatalf("the service's sentence does not name %s: %q", pair[1], check.Summary)
				}
				if !strings.Contains(row, badge) {
					t.Errorf("%s: no flag badge in the row: %s", pair[0], row)
				}
				// At the top, before the claims, in its own alert, and not
				// again among the plain warnings.
				if banner == "" || !strings.Contains(banner, summary) || !strings.Contains(banner, `href="/experiments/`+pair[1]+`"`) ||
					!strings.Contains(p.body, `<div class="banner banner-danger" role="alert" id="interaction-banner">`) || strings.Index(p.body, `id="interaction-banner"`) > strings.Index(p.body, `id="claims-h"`) {
					t.Errorf("%s: the banner at the top: %q", pair[0], banner)
				}
				if n := strings.Count(p.body, summary); n != 2 {
					t.Errorf("%s: the flagged sentence is on the page %d times, want twice (banner and table)", pair[0], n)
				}
			}

			// An experiment alone, and a draft.
			alone(t, e, "alone")
			draft(t, e, "d1")
			for key, want := range map[string]string{
				"alone": "No other running experiment shares units with this one",
				"d1":    "a draft shares units with no experiment",
			} {
				p := c.get("/experiments/" + key)
				mustContain(t, p, `<p id="no-interactions">`, want)
				if interactionRow.MatchString(p.body) || strings.Contains(p.body, `id="interaction-banner"`) {
					t.Errorf("%s lists interactions", key)
				}
			}
		})
	}
}

// alone starts an experiment whose 200 customers are in no other.
func alone(t testing.TB, e *env, key string) {
	t.Helper()
	ctx := context.Background()
	draft(t.(*testing.T), e, key)
	if _, err := e.svc.Start(ctx, key); err != nil {
		t.Fatal(err)
	}
	exposed := time.Now().Add(-time.Hour).UTC()
	var batch []experiments.Event
	for i := range 200 {
		v := float64(i % 2)
		batch = append(batch,
			experiments.Event{Type: experiments.EventExposure, UnitID: fmt.Sprintf("%s-%d", key, i), Experiment: key, Variant: []string{"a", "b"}[i%2], TS: &exposed},
			experiments.Event{Type: experiments.EventOutcome, UnitID: fmt.Sprintf("%s-%d", key, i), Experiment: key, Metric: "converted", Value: &v, TS: &exposed})
	}
	if _, err := ingestRefreshed(ctx, e.svc, batch); err != nil {
		t.Fatal(err)
	}
	if r, err := refreshReport(ctx, e.svc, key); err != nil || len(r.Interactions) != 0 {
		t.Fatalf("the service's checks of %s: %+v, %v", key, r, err)
	}
}
