package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/demo"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/web"
	"github.com/revealed-ab/revealed/sqlstore"
)

// env is a real server on loopback: SQLite, the demo experiments, and the
// web pages, with the same Content-Security-Policy as server.New so that the
// browser tests prove the pages need no inline script or style.
type env struct {
	url      string
	adminKey string
	sdkKey   string
	svc      *experiments.Service
	clock    *atomic.Int64 // offset of the service clock from real time, in ns
}

const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func newEnv(t testing.TB, withDemo bool) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "revealed.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	offset := new(atomic.Int64)
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	svc, err := experiments.NewService(ctx, store, experiments.WithLogger(log), experiments.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.CreateKey(ctx, experiments.KeyAdmin, "test admin")
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := svc.CreateKey(ctx, experiments.KeySDK, "test sdk")
	if err != nil {
		t.Fatal(err)
	}
	if withDemo {
		if _, err := demo.Load(ctx, svc, demo.Options{Customers: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(func(c *gin.Context) {
		c.Header("Content-Security-Policy", csp)
		c.Header("X-Content-Type-Options", "nosniff")
		c.Next()
	})
	web.Register(e, svc, log)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return &env{url: ts.URL, adminKey: admin.Secret, sdkKey: sdk.Secret, svc: svc, clock: offset}
}

// grow simulates days passing on human-vs-bot: each day more customers
// arrive and the report is looked at, which stores a snapshot.
func (e *env) grow(t testing.TB, days, perDay int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	gens := []string{"gen_z", "millennial", "gen_x", "boomer"}
	plans := []string{"starter", "pro", "enterprise"}
	if _, err := refreshReport(ctx, e.svc, "human-vs-bot"); err != nil {
		t.Fatal(err)
	}
	for d := range days {
		e.clock.Add(int64(24 * time.Hour))
		var batch []experiments.Event
		for i := range perDay {
			id := fmt.Sprintf("later-%d-%d", d, i)
			a, err := e.svc.Assign(ctx, experiments.AssignRequest{Experiment: "human-vs-bot", UnitID: id,
				Attributes: map[string]any{"generation": gens[rng.IntN(4)], "plan": plans[rng.IntN(3)]}})
			if err != nil {
				t.Fatal(err)
			}
			human := a.Variant == "human"
			p := func(x float64) *float64 { return &x }
			bern := func(q float64) *float64 {
				if rng.Float64() < q {
					return p(1)
				}
				return p(0)
			}
			csat, resolved, minutes := 3.7, 0.72, 5.0
			if human {
				csat, resolved, minutes = 4.05, 0.8, 10
			}
			batch = append(batch,
				experiments.Event{Type: experiments.EventOutcome, UnitID: id, Experiment: "human-vs-bot", Metric: "csat", Value: p(max(1, min(5, float64(int(csat+0.9*rng.NormFloat64()+0.5)))))},
				experiments.Event{Type: experiments.EventOutcome, UnitID: id, Experiment: "human-vs-bot", Metric: "resolved", Value: bern(resolved)},
				experiments.Event{Type: experiments.EventOutcome, UnitID: id, Experiment: "human-vs-bot", Metric: "minutes_to_resolve", Value: p(rng.ExpFloat64() * minutes)},
				experiments.Event{Type: experiments.EventOutcome, UnitID: id, Experiment: "human-vs-bot", Metric: "chose_human", Value: bern(0.61)},
			)
		}
		if _, err := e.svc.Ingest(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if _, err := refreshReport(ctx, e.svc, "human-vs-bot"); err != nil {
			t.Fatal(err)
		}
	}
}

// client is a browser without JavaScript: a cookie jar and no redirects
// followed unless asked.
type client struct {
	t    testing.TB
	base string
	http *http.Client
}

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.url, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (c *client) get(path string) page {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	return read(c.t, resp)
}

func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	return read(c.t, resp)
}

func read(t testing.TB, resp *http.Response) page {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Header, string(b)}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, p page) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", p.body)
	}
	return m[1]
}

// login logs in through the form and returns the CSRF token of the session.
func (c *client) login(key string) string {
	c.t.Helper()
	p := c.get("/login")
	r := c.post("/login", url.Values{"csrf": {csrfOf(c.t, p)}, "key": {key}, "next": {"/experiments"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/experiments" {
		c.t.Fatalf("log-in: status %d, Location %q, want 303 to /experiments\n%s", r.status, r.header.Get("Location"), r.body)
	}
	list := c.get("/experiments")
	if list.status != http.StatusOK {
		c.t.Fatalf("GET /experiments after log-in: %d", list.status)
	}
	return csrfOf(c.t, list)
}

func mustContain(t testing.TB, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// refreshReport computes the experiment's report now, as the scheduler or
// POST …/refresh would, so that the pages read it.
func refreshReport(ctx context.Context, svc *experiments.Service, key string) (*analysis.Report, error) {
	v, err := svc.Refresh(ctx, key)
	if err != nil {
		return nil, err
	}
	return v.Report, nil
}

// ingestRefreshed ingests the events and then refreshes every running
// experiment's report, as the scheduler of `revealed serve` would.
func ingestRefreshed(ctx context.Context, svc *experiments.Service, batch []experiments.Event) (experiments.IngestResult, error) {
	res, err := svc.Ingest(ctx, batch)
	if err != nil {
		return res, err
	}
	_, err = svc.RefreshDue(ctx, 0)
	return res, err
}
