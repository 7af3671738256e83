package web_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/revealed-ab/revealed/demo"
	"github.com/revealed-ab/revealed/experiments"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the list and report screenshots to testdata/screenshots")

const chromiumPath = "/usr/bin/chromium"

// browser starts Debian's chromium headless with a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser tests: no chromium at %s (apt-get install chromium); CI installs it", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// console collects the page's errors: a CSP violation (an inline script or
// style) or a script error shows up here.
type console struct {
	mu   sync.Mutex
	msgs []string
}

func watchConsole(t *testing.T, ctx context.Context) *console {
	t.Helper()
	c := &console{}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			// Network entries are statuses, which the tests assert themselves.
			if ev.Entry.Source != cdplog.EntrySourceNetwork && (ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning) {
				msg = string(ev.Entry.Source) + ": " + ev.Entry.Text
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
		}
		if msg != "" {
			c.mu.Lock()
			c.msgs = append(c.msgs, msg)
			c.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *console) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		t.Errorf("browser console: %s", m)
	}
	c.msgs = nil
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// submit clicks a control that submits a form and waits for the next page.
func submit(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
	return resp.Status
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("REVEALED_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	if *updateScreenshots && (name == "list.png" || name == "report.png") {
		if err := os.MkdirAll("testdata/screenshots", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata/screenshots", name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s: %d bytes in %s", name, len(png), dir)
}

func loginInBrowser(t *testing.T, ctx context.Context, e *env, key string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(e.url+"/experiments"))
	if u := location(t, ctx); !strings.Contains(u, "/login?next=") {
		t.Fatalf("unauthenticated /experiments went to %s, want /login?next=…", u)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.ID("key"), key))
	submit(t, ctx, `button[type=submit]`)
	if u := location(t, ctx); u != e.url+"/experiments" {
		t.Fatalf("after log-in at %s, want %s/experiments", u, e.url)
	}
}

func TestBrowser(t *testing.T) {
	start := time.Now()
	bctx := browser(t)
	e := newEnv(t, true)
	e.grow(t, 4, 200)
	t.Logf("server with demo data ready in %v", time.Since(start))
	// What the pages must show follows the demo's claims, so that a claim
	// added to the demo does not break the counts.
	ctx := context.Background()
	totalClaims := 0
	for _, key := range demo.ExperimentKeys() {
		claims, err := e.svc.Claims(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		totalClaims += len(claims)
	}
	hvb, err := refreshReport(ctx, e.svc, "human-vs-bot")
	if err != nil {
		t.Fatal(err)
	}
	var charted, sayDo int
	for _, c := range hvb.Claims {
		if c.Revealed != nil {
			charted++
		}
		if c.SayDoResult != nil && c.Units > 0 {
			sayDo++
		}
	}
	if sayDo == 0 {
		t.Error("the demo's human-vs-bot has no say_do claim with data: the say/do picture goes untested")
	}

	t.Run("admin", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		defer cancel()
		con := watchConsole(t, ctx)
		loginInBrowser(t, ctx, e, e.adminKey)

		// The list: a row per experiment, verdict badges with text and icon.
		if n := eval[int](t, ctx, `document.querySelectorAll('#experiments tbody tr').length`); n != len(demo.ExperimentKeys()) {
			t.Errorf("list rows = %d, want %d", n, len(demo.ExperimentKeys()))
		}
		badges := eval[[]string](t, ctx, `[...document.querySelectorAll('#experiments .badge')].map(b => b.textContent.trim())`)
		if len(badges) != totalClaims {
			t.Errorf("badges = %q, want %d, one per demo claim", badges, totalClaims)
		}
		for _, b := range badges {
			if !strings.HasSuffix(b, "Holds") && !strings.HasSuffix(b, "Contradicted") && !strings.HasSuffix(b, "Inconclusive") {
				t.Errorf("badge %q has no verdict text", b)
			}
		}
		// The stylesheet loaded under the CSP: the badges have their border.
		if w := eval[string](t, ctx, `getComputedStyle(document.querySelector('.badge')).borderTopWidth`); w != "2px" {
			t.Errorf("badge border = %q, want 2px: is style.css applied?", w)
		}
		screenshot(t, ctx, "list.png")

		// The report.
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/human-vs-bot"))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".forest svg")))
		counts := eval[map[string]int](t, ctx, `({
			claimCharts: document.querySelectorAll('.stated-vs-revealed svg').length,
			claimMarks:  document.querySelectorAll('.stated-vs-revealed svg .mark').length,
			claimCIs:    document.querySelectorAll('.stated-vs-revealed svg line.ci').length,
			forests:     document.querySelectorAll('.forest svg').length,
			forestMarks: document.querySelectorAll('.forest svg .mark').length,
			forestCIs:   document.querySelectorAll('.forest svg line.ci').length,
			zeroLines:   document.querySelectorAll('.forest svg line.ref').length,
			overMarks:   document.querySelectorAll('.over-time svg .mark').length,
			overBands:   document.querySelectorAll('.over-time svg polygon.band').length,
			summaries:   document.querySelectorAll('.claim .summary').length,
			badges:      document.querySelectorAll('.claim .badge').length,
			width:       Math.round(document.querySelector('.forest svg').getBoundingClientRect().width),
			sayDoCharts: document.querySelectorAll('.say-do svg').length,
			sayDoSegs:   document.querySelectorAll('.say-do svg rect.seg').length,
			sayDoTitles: document.querySelectorAll('.say-do svg > title').length,
			sayDoHatch:  [...document.querySelectorAll('.say-do svg rect.seg.seg-didnt')].filter(r => getComputedStyle(r).fill.startsWith('url(')).length,
		})`)
		want := map[string]int{"claimCharts": charted, "forests": 4, "forestMarks": 4, "zeroLines": 4, "summaries": len(hvb.Claims), "badges": len(hvb.Claims),
			"sayDoCharts": sayDo, "sayDoSegs": 4 * sayDo, "sayDoTitles": sayDo, "sayDoHatch": 2 * sayDo}
		for k, n := range want {
			if counts[k] != n {
				t.Errorf("%s = %d, want %d (all: %v)", k, counts[k], n, counts)
			}
		}
		// The share claim draws stated and revealed, each with an interval (3 lines each).
		if counts["claimMarks"] < 3 || counts["claimCIs"] < 6+3 || counts["forestCIs"] != 12 {
			t.Errorf("chart marks missing: %v", counts)
		}
		// 5 snapshots (the first look and 4 days) per metric, 4 metrics.
		if counts["overMarks"] < 4*5 || counts["overBands"] != 4 {
			t.Errorf("over-time chart: %v, want ≥ 20 marks and 4 bands", counts)
		}
		if counts["width"] < 300 {
			t.Errorf("forest plot is %dpx wide: not laid out", counts["width"])
		}
		summary := eval[string](t, ctx, `document.querySelector('.claim .summary').textContent`)
		if !strings.Contains(summary, "chose a human") {
			t.Errorf("first summary %q, want the share claim's sentence", summary)
		}
		screenshot(t, ctx, "report.png")

		// The factorial report: per metric, an interaction plot with a
		// line per agent, the contrasts' tables and the exchange rate; the
		// tradeoff claim lists its exchange rate against the stated cost.
		hvw, err := e.svc.GetExperiment(ctx, "human-vs-wait")
		if err != nil {
			t.Fatal(err)
		}
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/human-vs-wait"))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".interaction svg")))
		fact := eval[map[string]any](t, ctx, `({
			plots:    document.querySelectorAll('.interaction svg').length,
			lines:    [...document.querySelectorAll('.interaction svg')].map(s => s.querySelectorAll('path.trend').length),
			marks:    document.querySelectorAll('.interaction svg .mark').length,
			width:    Math.round(document.querySelector('.interaction svg').getBoundingClientRect().width),
			stroked:  getComputedStyle(document.querySelector('.interaction svg path.trend')).fill,
			tables:   document.querySelectorAll('section.factorial table.effects').length,
			rates:    [...document.querySelectorAll('.exchange-rates li')].map(li => li.textContent),
			tradeoff: (document.querySelector('.claim .tradeoff-stats') || {}).innerText || '',
		})`)
		levels := len(hvw.Factors[0].Levels)
		if n, _ := fact["plots"].(float64); int(n) != len(hvw.Metrics) {
			t.Errorf("interaction plots = %v, want one per metric (%d)", fact["plots"], len(hvw.Metrics))
		}
		for _, n := range fact["lines"].([]any) {
			if int(n.(float64)) != levels {
				t.Errorf("interaction plot lines = %v, want %d per plot (one per agent)", fact["lines"], levels)
				break
			}
		}
		if n, _ := fact["width"].(float64); n < 300 {
			t.Errorf("interaction plot is %vpx wide: not laid out", n)
		}
		if fact["stroked"] != "none" {
			t.Errorf("interaction lines are filled (%v): is style.css applied?", fact["stroked"])
		}
		if n, _ := fact["tables"].(float64); int(n) != 3*len(hvw.Metrics) {
			t.Errorf("factorial tables = %v, want main effects, interactions and slopes per metric", fact["tables"])
		}
		if rates := fmt.Sprint(fact["rates"]); !strings.Contains(rates, "human is worth") && !strings.Contains(rates, "What human is worth") {
			t.Errorf("exchange rates = %s", rates)
		}
		if tr, _ := fact["tradeoff"].(string); !strings.Contains(tr, "Stated: what human is worth against bot") {
			t.Errorf("tradeoff claim stats = %q", tr)
		}
		screenshot(t, ctx, "factorial-report.png")

		// A question created through the form is listed; the demo's
		// answered questions are shown as locked.
		do(t, ctx, chromedp.Navigate(e.url+"/questions/new"))
		do(t, ctx,
			chromedp.SendKeys(chromedp.ID("f-key"), "web_pref"),
			chromedp.SendKeys(chromedp.ID("f-text"), "Email or phone?"),
			chromedp.SetValue(chromedp.ID("f-options"), "email\nphone"),
		)
		submit(t, ctx, "#save-question")
		if u := location(t, ctx); u != e.url+"/questions?done=question-created" {
			t.Fatalf("after creating a question at %s:\n%s", u, eval[string](t, ctx, `document.body.innerText`))
		}
		listed := eval[map[string]any](t, ctx, `({
			row: (document.querySelector('#questions tr[data-key="web_pref"]') || {}).innerText || '',
			locked: document.querySelectorAll('#questions .answered').length,
		})`)
		if row, _ := listed["row"].(string); !strings.Contains(row, "email · phone") || !strings.Contains(row, "none yet") {
			t.Errorf("the new question's row: %q", row)
		}
		if n, _ := listed["locked"].(float64); n < 1 {
			t.Errorf("no demo question is shown as answered: %v", listed)
		}
		screenshot(t, ctx, "questions.png")

		// Create a draft through the form.
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/new"))
		do(t, ctx,
			chromedp.SendKeys(chromedp.ID("f-key"), "web-created"),
			chromedp.SendKeys(chromedp.ID("f-name"), "Created in the browser"),
			chromedp.SendKeys(chromedp.ID("f-metrics-0-key"), "converted"),
			chromedp.SendKeys(chromedp.ID("f-metrics-0-window-to"), "7d"),
		)
		submit(t, ctx, "#save")
		if u := location(t, ctx); u != e.url+"/experiments/web-created/edit?done=created" {
			body := eval[string](t, ctx, `document.body.innerText`)
			t.Fatalf("after create at %s:\n%s", u, body)
		}
		if got, err := e.svc.GetExperiment(context.Background(), "web-created"); err != nil || got.Metrics[0].Window == nil ||
			got.Metrics[0].Window.To == nil || got.Metrics[0].Window.To.String() != "7d" {
			t.Errorf("the window typed in the browser was not stored: %+v, %v", got, err)
		}

		// An invalid weight is reported beside its input.
		do(t, ctx, chromedp.SetValue(chromedp.ID("f-variants-1-weight"), "-2"))
		if status := submit(t, ctx, "#save"); status != 400 {
			t.Errorf("invalid weight: status %d, want 400", status)
		}
		errCheck := eval[map[string]any](t, ctx, `(() => {
			const input = document.getElementById('f-variants-1-weight');
			const ids = (input.getAttribute('aria-describedby') || '').split(' ');
			const err = ids.map(id => document.getElementById(id)).find(el => el && el.classList.contains('field-error'));
			return {
				described: !!err,
				text: err ? err.textContent : '',
				sameField: !!err && input.closest('.field') === err.closest('.field'),
				invalid: input.getAttribute('aria-invalid'),
				value: input.value,
				summaryLink: !!document.querySelector('.error-summary a[href="#f-variants-1-weight"]'),
			};
		})()`)
		if errCheck["described"] != true || errCheck["sameField"] != true || errCheck["invalid"] != "true" || errCheck["summaryLink"] != true ||
			!strings.Contains(errCheck["text"].(string), "greater than 0") || errCheck["value"] != "-2" {
			t.Errorf("weight error not beside its field: %v", errCheck)
		}
		screenshot(t, ctx, "editor-error.png")

		// Start it, through the confirmation page.
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/web-created/edit"))
		submit(t, ctx, "#start")
		if u := location(t, ctx); u != e.url+"/experiments/web-created/start" {
			t.Fatalf("start link went to %s, want the confirmation page", u)
		}
		submit(t, ctx, "#confirm")
		if u := location(t, ctx); u != e.url+"/experiments/web-created?done=started" {
			t.Fatalf("after confirming at %s", u)
		}
		if got, err := e.svc.GetExperiment(context.Background(), "web-created"); err != nil || got.Status != experiments.StatusRunning {
			t.Fatalf("web-created: %v, %v; want running", got, err)
		}
		// Its locked fields are shown disabled, with the reason.
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/web-created/edit"))
		locked := eval[map[string]bool](t, ctx, `({
			weight: document.getElementById('f-variants-0-weight').disabled,
			traffic: document.getElementById('f-traffic').disabled,
			name: document.getElementById('f-name').disabled,
			note: !!document.getElementById('locked-note'),
		})`)
		if !locked["weight"] || !locked["traffic"] || locked["name"] || !locked["note"] {
			t.Errorf("locked fields of a running experiment: %v", locked)
		}

		// A POST without the CSRF token is refused, even with the session.
		status := eval[int](t, ctx, `fetch('/experiments/web-created/stop', {method: 'POST', body: new URLSearchParams({})}).then(r => r.status)`)
		if status != 403 {
			t.Errorf("CSRF-less POST: %d, want 403", status)
		}
		if got, _ := e.svc.GetExperiment(context.Background(), "web-created"); got.Status != experiments.StatusRunning {
			t.Errorf("the CSRF-less stop was applied")
		}

		// Log out ends the session.
		submit(t, ctx, "#logout")
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/human-vs-bot"))
		if u := location(t, ctx); !strings.Contains(u, "/login") {
			t.Errorf("after log-out, the report went to %s, want /login", u)
		}
		con.check(t)
	})

	t.Run("sdk key reads but cannot edit", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
		defer cancel()
		con := watchConsole(t, ctx)
		loginInBrowser(t, ctx, e, e.sdkKey)
		if n := eval[int](t, ctx, `document.querySelectorAll('a[href="/experiments/new"]').length`); n != 0 {
			t.Errorf("an SDK session sees %d 'New experiment' links", n)
		}
		do(t, ctx, chromedp.Navigate(e.url+"/experiments/human-vs-bot"))
		edits := eval[int](t, ctx, `document.querySelectorAll('a[href$="/edit"], #stop, #start').length`)
		if edits != 0 {
			t.Errorf("an SDK session sees %d edit controls on the report", edits)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('.forest svg').length`); n != 4 {
			t.Errorf("an SDK session sees %d forest plots, want 4", n)
		}
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(e.url+"/experiments/human-vs-bot/edit"))
		if err != nil {
			t.Fatal(err)
		}
		msg := eval[string](t, ctx, `document.querySelector('.error-message').textContent`)
		if resp.Status != 403 || !strings.Contains(msg, "SDK key") {
			t.Errorf("SDK key on the editor: %d %q, want 403 with an explanation", resp.Status, msg)
		}
		con.check(t)
	})
	t.Logf("browser tests took %v", time.Since(start))
}

// TestBrowserScoreboard renders a source's scoreboard under the site's CSP,
// adds a statement through the form, and opens the printable file from
// disk, where it must need nothing but itself, and print a statement a page.
func TestBrowserScoreboard(t *testing.T) {
	bctx := browser(t)
	e := scoreboardEnv(t)
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	con := watchConsole(t, ctx)
	loginInBrowser(t, ctx, e, e.adminKey)

	do(t, ctx, chromedp.Navigate(e.url+"/sources"))
	if n := eval[int](t, ctx, `document.querySelectorAll('#sources tbody tr').length`); n != 1 {
		t.Errorf("source rows = %d, want 1", n)
	}
	submit(t, ctx, `#sources a[href="/sources/b2b-2019"]`)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".pool-forest-box svg")))
	sb, err := e.svc.Scoreboard(context.Background(), surveySource)
	if err != nil {
		t.Fatal(err)
	}
	scoreboardLaidOut(t, ctx, sb.Summary)
	screenshot(t, ctx, "scoreboard.png")

	// A statement through the form: a share above 1 is refused beside its
	// field, then the statement is created and shown.
	submit(t, ctx, "#new-statement")
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-key"), "wait-5"),
		chromedp.SetValue(chromedp.ID("f-text"), "55% would wait 5 minutes"),
		chromedp.SendKeys(chromedp.ID("f-survey-n"), "300"),
		chromedp.SendKeys(chromedp.ID("f-stated-share"), "1.5"),
	)
	if status := submit(t, ctx, "#save-statement"); status != 400 {
		t.Errorf("a share of 1.5: status %d, want 400", status)
	}
	besides := eval[map[string]any](t, ctx, `(() => {
		const input = document.getElementById('f-stated-share');
		const err = (input.getAttribute('aria-describedby') || '').split(' ').map(id => document.getElementById(id)).find(el => el && el.classList.contains('field-error'));
		return {text: err ? err.textContent : '', sameField: !!err && input.closest('.field') === err.closest('.field'), value: input.value};
	})()`)
	if besides["sameField"] != true || !strings.Contains(besides["text"].(string), "from 0 to 1") || besides["value"] != "1.5" {
		t.Errorf("share error not beside its field: %v", besides)
	}
	do(t, ctx, chromedp.SetValue(chromedp.ID("f-stated-share"), "0.55"))
	submit(t, ctx, "#save-statement")
	if u := location(t, ctx); u != e.url+"/sources/b2b-2019?done=statement-created#statement-wait-5" {
		t.Fatalf("after creating a statement at %s:\n%s", u, eval[string](t, ctx, `document.body.innerText`))
	}
	if got := eval[string](t, ctx, `(document.querySelector('#statement-wait-5 .summary') || {}).textContent || ''`); got != "No experiment tests this statement yet." {
		t.Errorf("the new statement's summary: %q", got)
	}
	con.check(t)

	// The printable file, opened from disk: no request, no script, no link.
	c := e.client(t)
	c.login(e.sdkKey)
	file := c.get("/sources/b2b-2019/scoreboard.html")
	path := filepath.Join(t.TempDir(), "scoreboard.html")
	if err := os.WriteFile(path, []byte(file.body), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate("file://"+path))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".pool-forest-box svg")))
	if sb, err = e.svc.Scoreboard(context.Background(), surveySource); err != nil {
		t.Fatal(err)
	}
	scoreboardLaidOut(t, ctx, sb.Summary)
	alone := eval[map[string]int](t, ctx, `({
		resources: performance.getEntriesByType('resource').length,
		links: document.querySelectorAll('[href], [src], link, script, img, iframe').length,
		statements: document.querySelectorAll('article.statement').length,
	})`)
	if alone["resources"] != 0 || alone["links"] != 0 || alone["statements"] != 3 {
		t.Errorf("the printable file: %v, want no resource or link and 3 statements", alone)
	}
	screenshot(t, ctx, "scoreboard-export.png")
	do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	breaks := eval[[]string](t, ctx, `[...document.querySelectorAll('article.statement')].map(a => getComputedStyle(a).breakBefore)`)
	if len(breaks) != 3 || breaks[0] == "page" || breaks[1] != "page" || breaks[2] != "page" {
		t.Errorf("page breaks in print: %v, want one before every statement but the first", breaks)
	}
	con.check(t)
}

// scoreboardLaidOut checks the scoreboard as drawn: the one-line answer,
// the forest plot's rows, diamond and band, styled by the style sheet.
func scoreboardLaidOut(t *testing.T, ctx context.Context, summary string) {
	t.Helper()
	got := eval[map[string]any](t, ctx, `(() => {
		const svg = document.querySelector('#forest-human-74');
		const diamond = svg.querySelector('polygon.diamond');
		return {
			answer: document.getElementById('scoreboard-summary').textContent,
			charts: document.querySelectorAll('svg.pool-forest').length,
			rows: svg.querySelectorAll('g.test-row').length,
			marks: svg.querySelectorAll('g.test-row .mark').length,
			diamonds: svg.querySelectorAll('polygon.diamond').length,
			diamondFill: getComputedStyle(diamond).fill,
			band: getComputedStyle(svg.querySelector('rect.stated-band')).fillOpacity,
			width: Math.round(svg.getBoundingClientRect().width),
			diamondWidth: Math.round(diamond.getBoundingClientRect().width),
			badge: getComputedStyle(document.querySelector('.badge.outcome')).borderTopWidth,
			tests: document.querySelectorAll('#statement-human-74 table.tests tbody tr').length,
		};
	})()`)
	num := func(k string) int { f, _ := got[k].(float64); return int(f) }
	if got["answer"] != summary {
		t.Errorf("one-line answer %q, want %q", got["answer"], summary)
	}
	if num("charts") != 1 || num("rows") != 3 || num("marks") != 2 || num("diamonds") != 1 || num("tests") != 3 {
		t.Errorf("forest plot and table: %v, want 1 chart, 3 rows (2 with a mark), 1 diamond, 3 table rows", got)
	}
	if num("width") < 300 || num("diamondWidth") < 5 {
		t.Errorf("the forest plot is not laid out: %v", got)
	}
	if got["diamondFill"] == "none" || got["band"] == "1" || got["badge"] != "2px" {
		t.Errorf("the style sheet is not applied: %v", got)
	}
}

// TestBrowserLayersAndInteractions draws the layers page, a holdout's
// report and a report with a flagged interaction under the site's CSP;
// creates a layer through its form and puts an experiment in it through
// the editor.
func TestBrowserLayersAndInteractions(t *testing.T) {
	bctx := browser(t)
	e := newEnv(t, false)
	ctx := context.Background()
	mustLayer(t, e, "support-agent", "Who answers")
	layered(t, e, "support-agent", "planned", 0.2, 0.6, experiments.StatusDraft)
	layered(t, e, "support-agent", "lower", 0, 0.3, experiments.StatusRunning)
	layered(t, e, "support-agent", "middle", 0.5, 0.8, experiments.StatusRunning)
	interactingPair(t, e, 0.8)
	bx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	con := watchConsole(t, bx)
	loginInBrowser(t, bx, e, e.adminKey)

	// The layer's bar, laid out: each range's drawn width is its share of
	// the bar, the draft hatched by its pattern, the running ones filled.
	do(t, bx, chromedp.Navigate(e.url+"/layers"))
	do(t, bx, chromedp.WaitVisible(chromedp.CSS("#layer-bar-support-agent")))
	bar := eval[map[string]any](t, bx, `(() => {
		const svg = document.getElementById('layer-bar-support-agent');
		const track = svg.querySelector('rect.track').getBoundingClientRect();
		const segs = {};
		for (const g of svg.querySelectorAll('g.layer-seg')) {
			const r = g.querySelector('rect').getBoundingClientRect();
			segs[g.dataset.experiment] = {from: (r.left - track.left) / track.width, share: r.width / track.width, fill: getComputedStyle(g.querySelector('rect')).fill};
		}
		return {width: track.width, segs, free: svg.querySelectorAll('rect.free').length,
			label: [...svg.querySelectorAll('.seg-label')].map(t => t.textContent).join('|')};
	})()`)
	if w, _ := bar["width"].(float64); w < 300 {
		t.Errorf("the layer bar is %vpx wide: not laid out", w)
	}
	segs, _ := bar["segs"].(map[string]any)
	for key, want := range map[string][2]float64{"lower": {0, 0.3}, "middle": {0.5, 0.3}, "planned": {0.2, 0.4}} {
		s, _ := segs[key].(map[string]any)
		from, _ := s["from"].(float64)
		share, _ := s["share"].(float64)
		if math.Abs(from-want[0]) > 0.01 || math.Abs(share-want[1]) > 0.01 {
			t.Errorf("%s drawn from %.3f over %.3f of the bar, want %v", key, from, share, want)
		}
	}
	if f := fmt.Sprint(segs["planned"].(map[string]any)["fill"]); !strings.HasPrefix(f, "url(") {
		t.Errorf("the draft's fill is %s, want its hatch", f)
	}
	if f := fmt.Sprint(segs["lower"].(map[string]any)["fill"]); f == "none" || strings.HasPrefix(f, "url(") || f == "rgb(0, 0, 0)" {
		t.Errorf("the running range's fill is %s: is style.css applied?", f)
	}
	if n, _ := bar["free"].(float64); n != 2 || !strings.Contains(fmt.Sprint(bar["label"]), "planned · draft") {
		t.Errorf("free ranges and labels: %v", bar)
	}
	screenshot(t, bx, "layers.png")

	// A layer through the form, then an experiment in it through the editor.
	submit(t, bx, "#new-layer")
	do(t, bx,
		chromedp.SendKeys(chromedp.ID("f-key"), "checkout"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Checkout flow"),
	)
	submit(t, bx, "#save-layer")
	if u := location(t, bx); u != e.url+"/layers?done=layer-created#layer-checkout" {
		t.Fatalf("after creating a layer at %s:\n%s", u, eval[string](t, bx, `document.body.innerText`))
	}
	do(t, bx, chromedp.Navigate(e.url+"/experiments/new"))
	do(t, bx,
		chromedp.SendKeys(chromedp.ID("f-key"), "one-page"),
		chromedp.SendKeys(chromedp.ID("f-name"), "One-page checkout"),
		chromedp.SetValue(chromedp.ID("f-layer-key"), "checkout"),
		chromedp.SendKeys(chromedp.ID("f-layer-lo"), "0"),
		chromedp.SendKeys(chromedp.ID("f-layer-hi"), "1.5"),
		chromedp.SendKeys(chromedp.ID("f-metrics-0-key"), "converted"),
	)
	if status := submit(t, bx, "#save"); status != 400 {
		t.Errorf("a range to 1.5: status %d, want 400", status)
	}
	besides := eval[map[string]any](t, bx, `(() => {
		const input = document.getElementById('f-layer-hi');
		const err = (input.getAttribute('aria-describedby') || '').split(' ').map(id => document.getElementById(id)).find(el => el && el.classList.contains('field-error'));
		return {text: err ? err.textContent : '', sameField: !!err && input.closest('.field') === err.closest('.field'), value: input.value,
			layer: document.getElementById('f-layer-key').value, visible: !!err && err.getBoundingClientRect().height > 0};
	})()`)
	if besides["sameField"] != true || besides["visible"] != true || !strings.Contains(fmt.Sprint(besides["text"]), "hi ≤ 1") ||
		besides["value"] != "1.5" || besides["layer"] != "checkout" {
		t.Errorf("the range's error is not beside it: %v", besides)
	}
	do(t, bx, chromedp.ScrollIntoView(chromedp.ID("layer")))
	screenshot(t, bx, "editor-layer-error.png")
	do(t, bx, chromedp.SetValue(chromedp.ID("f-layer-hi"), "0.5"))
	submit(t, bx, "#save")
	if u := location(t, bx); u != e.url+"/experiments/one-page/edit?done=created" {
		t.Fatalf("after creating one-page at %s:\n%s", u, eval[string](t, bx, `document.body.innerText`))
	}
	if got, err := e.svc.GetExperiment(ctx, "one-page"); err != nil || got.Layer == nil || got.Layer.Key != "checkout" || got.Layer.Range != [2]float64{0, 0.5} {
		t.Errorf("one-page's layer: %+v, %v", got, err)
	}

	// A flagged interaction: the banner above the claims, and the badge in
	// the table, each with the sentence naming the other experiment.
	do(t, bx, chromedp.Navigate(e.url+"/experiments/agent"))
	do(t, bx, chromedp.WaitVisible(chromedp.CSS("#interactions")))
	inter := eval[map[string]any](t, bx, `(() => {
		const banner = document.getElementById('interaction-banner');
		const flag = document.querySelector('table.interactions tr.flagged .flag');
		return {
			banner: banner ? banner.innerText : '',
			above: !!banner && banner.getBoundingClientRect().top < document.getElementById('claims-h').getBoundingClientRect().top,
			bannerBorder: banner ? getComputedStyle(banner).borderLeftWidth : '',
			flag: flag ? flag.innerText : '',
			flagBorder: flag ? getComputedStyle(flag).borderTopWidth : '',
			rows: document.querySelectorAll('table.interactions tbody tr').length,
		};
	})()`)
	if !strings.Contains(fmt.Sprint(inter["banner"]), `"help"`) || inter["above"] != true || inter["bannerBorder"] != "5px" ||
		!strings.Contains(fmt.Sprint(inter["flag"]), "Flagged") || inter["flagBorder"] != "2px" || inter["rows"] != float64(1) {
		t.Errorf("the flagged interaction as drawn: %v", inter)
	}
	do(t, bx, chromedp.ScrollIntoView(chromedp.ID("interactions")))
	screenshot(t, bx, "interactions.png")

	// A holdout through the form, its experiment a checkbox, its metric
	// the editor's row; its report has a row per arm.
	do(t, bx, chromedp.Navigate(e.url+"/holdouts"))
	submit(t, bx, "#new-holdout")
	do(t, bx,
		chromedp.SendKeys(chromedp.ID("f-key"), "global"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Global holdout"),
		chromedp.SendKeys(chromedp.ID("f-share"), "0.05"),
		chromedp.Click(chromedp.ID("f-experiments-agent")),
		chromedp.SendKeys(chromedp.ID("f-metrics-0-key"), "csat"),
		chromedp.SetValue(chromedp.ID("f-metrics-0-kind"), "mean"),
	)
	screenshot(t, bx, "holdout-form.png")
	submit(t, bx, "#save-holdout")
	if u := location(t, bx); u != e.url+"/holdouts/global?done=holdout-created" {
		t.Fatalf("after creating a holdout at %s:\n%s", u, eval[string](t, bx, `document.body.innerText`))
	}
	if h, err := e.svc.Holdout(ctx, "global"); err != nil || h.Share != 0.05 || len(h.Experiments) != 1 || h.Experiments[0] != "agent" ||
		len(h.Metrics) != 1 || h.Metrics[0].Kind != experiments.MetricMean {
		t.Errorf("the holdout from the browser: %+v, %v", h, err)
	}
	arms := eval[[]string](t, bx, `[...document.querySelectorAll('table.numbers tbody th')].map(th => th.textContent.trim())`)
	if len(arms) != 2 || !strings.HasPrefix(arms[0], "held_out") || arms[1] != "exposed" {
		t.Errorf("the holdout's arms: %q", arms)
	}
	screenshot(t, bx, "holdout.png")
	con.check(t)
}
