package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

var (
	inputTag  = regexp.MustCompile(`<input type="(text|checkbox|radio|hidden)"([^>]*)>`)
	selectTag = regexp.MustCompile(`(?s)<select([^>]*)>(.*?)</select>`)
	textTag   = regexp.MustCompile(`(?s)<textarea([^>]*)>(.*?)</textarea>`)
	attr      = regexp.MustCompile(`\s(name|value)="([^"]*)"`)
	selected  = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// submitted is what a browser sends for the page's editor form: enabled
// inputs, checked boxes, selected options, as the page shows them.
func submitted(t *testing.T, body string) url.Values {
	t.Helper()
	i := strings.Index(body, `class="editor"`)
	j := strings.Index(body[i:], "</form>")
	if i < 0 || j < 0 {
		t.Fatal("no editor form in the page")
	}
	form := body[i : i+j]
	attrs := func(s string) (name, value string) {
		for _, m := range attr.FindAllStringSubmatch(s, -1) {
			if m[1] == "name" {
				name = html.UnescapeString(m[2])
			} else {
				value = html.UnescapeString(m[2])
			}
		}
		return name, value
	}
	out := url.Values{}
	for _, m := range inputTag.FindAllStringSubmatch(form, -1) {
		if strings.Contains(m[2], " disabled") || (m[1] == "checkbox" || m[1] == "radio") && !strings.Contains(m[2], " checked") {
			continue
		}
		name, value := attrs(m[2])
		out.Add(name, value)
	}
	for _, m := range selectTag.FindAllStringSubmatch(form, -1) {
		name, _ := attrs(m[1])
		if s := selected.FindStringSubmatch(m[2]); s != nil && !strings.Contains(m[1], " disabled") {
			out.Add(name, html.UnescapeString(s[1]))
		}
	}
	for _, m := range textTag.FindAllStringSubmatch(form, -1) {
		name, _ := attrs(m[1])
		out.Add(name, html.UnescapeString(m[2]))
	}
	return out
}

func spanOf(t *testing.T, s string) *experiments.Span {
	t.Helper()
	d, err := experiments.ParseSpan(s)
	if err != nil {
		t.Fatal(err)
	}
	return &d
}

// Windows, sources and aggregations typed into the editor are stored, shown
// again as they were typed, and survive a save of the unchanged form.
func TestEditorRoundTripsWindows(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	form := url.Values{
		"csrf": {csrf}, "key": {"windows"}, "name": {"Windows"}, "unit": {"customer_id"}, "traffic": {"1"}, "control": {"0"},
		"variants[0].key": {"bot"}, "variants[0].weight": {"1"}, "variants[1].key": {"human"}, "variants[1].weight": {"1"},
		"metrics[0].key": {"csat_24h"}, "metrics[0].kind": {"mean"}, "metrics[0].higher_is_better": {"on"},
		"metrics[0].source": {"csat"}, "metrics[0].window.to": {"24h"}, "metrics[0].aggregation": {"last"},
		"metrics[1].key": {"csat_90d"}, "metrics[1].kind": {"mean"}, "metrics[1].higher_is_better": {"on"},
		"metrics[1].source": {"csat"}, "metrics[1].window.from": {"2d"}, "metrics[1].window.to": {"90d"},
		"metrics[1].aggregation": {"peak_end"}, "metrics[1].peak": {"min"},
		"metrics[2].key": {"minutes"}, "metrics[2].kind": {"mean"}, "metrics[2].window.from": {"30m"}, "metrics[2].aggregation": {"mean"},
		"metrics[3].key": {"converted"}, "metrics[3].kind": {"binary"}, "metrics[3].higher_is_better": {"on"},
		"analysis.alpha": {"0.05"}, "analysis.correction": {"holm"}, "analysis.n_star": {"5000"}, "analysis.cuped_lookback_days": {"14"},
	}
	if p := c.post("/experiments/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", p.status, p.body)
	}
	ctx := context.Background()
	got, err := e.svc.GetExperiment(ctx, "windows")
	if err != nil {
		t.Fatal(err)
	}
	want := []experiments.Metric{
		{Key: "csat_24h", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat",
			Window: &experiments.Window{To: spanOf(t, "24h")}, Aggregation: experiments.AggLast},
		{Key: "csat_90d", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat",
			Window: &experiments.Window{From: *spanOf(t, "2d"), To: spanOf(t, "90d")}, Aggregation: experiments.AggPeakEnd, Peak: "min"},
		{Key: "minutes", Kind: experiments.MetricMean, Window: &experiments.Window{From: *spanOf(t, "30m")}, Aggregation: experiments.AggMean},
		{Key: "converted", Kind: experiments.MetricBinary, HigherIsBetter: true},
	}
	if !reflect.DeepEqual(got.Metrics, want) {
		t.Fatalf("stored metrics mismatch:\n got %+v\nwant %+v", got.Metrics, want)
	}

	edit := c.get("/experiments/windows/edit")
	shown := submitted(t, edit.body)
	for name, want := range map[string]string{
		"metrics[0].source": "csat", "metrics[0].window.from": "0h", "metrics[0].window.to": "24h", "metrics[0].aggregation": "last",
		"metrics[1].window.from": "2d", "metrics[1].window.to": "90d", "metrics[1].aggregation": "peak_end", "metrics[1].peak": "min",
		"metrics[2].window.from": "30m", "metrics[2].window.to": "", "metrics[2].aggregation": "mean",
		"metrics[3].window.from": "", "metrics[3].aggregation": "", "metrics[3].peak": "",
	} {
		if got := shown.Get(name); got != want {
			t.Errorf("the editor shows %s = %q, want %q", name, got, want)
		}
	}
	if p := c.post("/experiments/windows/edit", shown); p.status != http.StatusSeeOther {
		t.Fatalf("saving the unchanged form: %d\n%s", p.status, p.body)
	}
	again, _ := e.svc.GetExperiment(ctx, "windows")
	if !reflect.DeepEqual(again.Metrics, want) {
		t.Errorf("after saving the unchanged form:\n got %+v\nwant %+v", again.Metrics, want)
	}
}

// A span that does not parse is reported beside its input before the
// service is asked; the service's window and aggregation errors go beside
// theirs, in the form's row numbering despite a blank row.
func TestWindowErrorsBesideTheirFields(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	csrf := c.login(e.adminKey)
	form := url.Values{
		"csrf": {csrf}, "key": {"bad-windows"}, "name": {"Bad windows"}, "unit": {"customer_id"}, "traffic": {"1"}, "control": {"0"},
		"variants[0].key": {"a"}, "variants[0].weight": {"1"}, "variants[1].key": {"b"}, "variants[1].weight": {"1"},
		"metrics[0].key": {"converted"}, "metrics[0].kind": {"binary"}, "metrics[0].peak": {"max"},
		"metrics[1].key": {""}, "metrics[1].kind": {"binary"}, // blank row
		"metrics[2].key": {"csat"}, "metrics[2].kind": {"mean"}, "metrics[2].window.to": {"5 days"},
		"metrics[3].key": {"resolved"}, "metrics[3].kind": {"binary"}, "metrics[3].aggregation": {"mean"},
		"analysis.alpha": {"0.05"}, "analysis.correction": {"holm"}, "analysis.n_star": {"5000"}, "analysis.cuped_lookback_days": {"14"},
	}
	p := c.post("/experiments/new", form)
	errs := errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest || !strings.Contains(errs["f-metrics-2-window-to"], "is not a duration") {
		t.Errorf("bad span: %d %v", p.status, errs)
	}
	if !strings.Contains(p.body, `value="5 days"`) {
		t.Error("the form did not keep the bad span")
	}

	form.Set("metrics[2].window.from", "48h")
	form.Set("metrics[2].window.to", "24h")
	p = c.post("/experiments/new", form)
	errs = errorsBeside(t, p.body)
	if p.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", p.status)
	}
	for id, want := range map[string]string{
		"f-metrics-2-window-to":   "after window.from",
		"f-metrics-3-aggregation": "its aggregation is &#34;any&#34;",
		"f-metrics-0-peak":        "only for the peak_end",
	} {
		if !strings.Contains(errs[id], want) {
			t.Errorf("error beside %s: %q, want one with %q", id, errs[id], want)
		}
	}
	if len(errs) != 3 {
		t.Errorf("errors beside %d fields, want 3: %v", len(errs), errs)
	}
	if _, err := e.svc.GetExperiment(context.Background(), "bad-windows"); experiments.ErrorCode(err) != experiments.CodeNotFound {
		t.Errorf("an invalid form created the experiment: %v", err)
	}
}

// A now_vs_later claim is made through the claim form: the metric of now
// and of later are chosen from the experiment's metrics, by their windows,
// and the form does not ask for a survey's n or a single metric.
func TestNowVsLaterClaimForm(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	_, err := e.svc.CreateExperiment(ctx, experiments.ExperimentInput{
		Key: "nl", Name: "Now and later", Unit: "customer_id",
		Variants: []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}},
		Metrics: []experiments.Metric{
			{Key: "csat_24h", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat", Window: &experiments.Window{To: spanOf(t, "24h")}},
			{Key: "csat_90d", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "csat", Window: &experiments.Window{To: spanOf(t, "90d")}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	csrf := c.login(e.adminKey)

	generic := c.get("/experiments/nl/claims/new")
	mustContain(t, generic, `id="f-survey-n"`, `id="now-later-form"`, `href="/experiments/nl/claims/new?kind=now_vs_later"`, `<option value="now_vs_later">`)
	p := c.get("/experiments/nl/claims/new?kind=now_vs_later")
	mustContain(t, p, `id="f-now"`, `id="f-later"`, `<option value="now_vs_later" selected>`, "csat_24h (0h–24h)", "csat_90d (0d–90d)")
	if strings.Contains(p.body, `id="f-survey-n"`) || strings.Contains(p.body, `id="f-metric"`) {
		t.Error("the now-vs-later form asks for survey_n or a metric")
	}

	form := url.Values{"csrf": {csrf}, "id": {"asks-today"}, "statement": {"Customers ask for a human"}, "kind": {"now_vs_later"},
		"preferred": {"human"}, "now": {"csat_24h"}, "later": {"csat_24h"}}
	p = c.post("/experiments/nl/claims/new", form)
	if errs := errorsBeside(t, p.body); p.status != http.StatusBadRequest || !strings.Contains(errs["f-later"], "another metric") {
		t.Errorf("same metric twice: %d %v", p.status, errs)
	}
	form.Set("later", "csat_90d")
	if p := c.post("/experiments/nl/claims/new", form); p.status != http.StatusSeeOther {
		t.Fatalf("claim: %d\n%s", p.status, p.body)
	}
	cl, err := e.svc.Claim(ctx, "nl", "asks-today")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Kind != analysis.ClaimNowVsLater || cl.Now != "csat_24h" || cl.Later != "csat_90d" || cl.Preferred != "human" || cl.SurveyN != 0 || cl.Metric != "" {
		t.Errorf("stored claim: %+v", cl.Claim)
	}
	edit := c.get("/experiments/nl/claims/asks-today/edit")
	mustContain(t, edit, `<option value="csat_24h" selected>`, `<option value="csat_90d" selected>`)
	if strings.Contains(edit.body, `id="f-survey-n"`) {
		t.Error("editing a now-vs-later claim asks for survey_n")
	}
	// Saved unchanged, it stays what it was.
	form.Del("id")
	if p := c.post("/experiments/nl/claims/asks-today/edit", form); p.status != http.StatusSeeOther {
		t.Fatalf("claim edit: %d\n%s", p.status, p.body)
	}
}
