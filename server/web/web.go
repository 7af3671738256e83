// Package web serves Revealed's pages for analysts and product teams: the
// experiment list, the significance report with its charts and claim
// verdicts, the experiment editor, and the survey questions. Pages are
// rendered on the server with html/template; templates, CSS and charts (SVG
// drawn in Go) are embedded, so the pages need nothing from another origin
// and no script at all, which keeps them working under a strict
// Content-Security-Policy.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

const (
	sessionCookie = "revealed_session"
	// loginCookie carries the log-in form's CSRF token (double submit): there
	// is no session yet to hold it.
	loginCookie = "revealed_login"
	csrfField   = "csrf"
	maxFormBody = 1 << 20

	ctxSession = "web.session"
	ctxKey     = "web.key"
)

type app struct {
	svc     *experiments.Service
	log     *slog.Logger
	pages   map[string]*template.Template
	static  http.Handler
	version string // of the static files, for cache busting
	now     func() time.Time
	// export is the self-contained scoreboard file; exportCSS its inline
	// style sheet and exportCSSHash that sheet's CSP hash.
	export        *template.Template
	exportCSS     template.CSS
	exportCSSHash string
}

// Register mounts the web pages on r: GET / (redirects), /login, /logout,
// /experiments, /experiments/:key, the editor routes, /questions,
// /studies, /studies/:key, /sources, /sources/:key (a source's scoreboard,
// with its downloads and forms), /layers and /layers/new, /holdouts,
// /holdouts/new and /holdouts/:key (a holdout's report), and /static/*.
func Register(r *gin.Engine, svc *experiments.Service, log *slog.Logger) {
	a := newApp(svc, log)
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/experiments") })
	r.GET("/static/*filepath", a.serveStatic)
	r.GET("/login", a.handle(a.loginPage))
	r.POST("/login", a.handle(a.login))
	r.POST("/logout", a.auth, a.csrf, a.handle(a.logout))

	g := r.Group("/experiments", a.auth)
	g.GET("", a.handle(a.list))
	g.GET("/new", a.editor, a.handle(a.newExperiment))
	g.POST("/new", a.csrf, a.editor, a.handle(a.createExperiment))
	g.GET("/:key", a.handle(a.report))
	g.GET("/:key/report.json", a.handle(a.reportJSON))
	g.GET("/:key/report.csv", a.handle(a.reportCSV))
	g.GET("/:key/edit", a.editor, a.handle(a.editExperiment))
	g.POST("/:key/edit", a.csrf, a.editor, a.handle(a.updateExperiment))
	g.GET("/:key/start", a.editor, a.handle(a.confirmTransition("start")))
	g.POST("/:key/start", a.csrf, a.editor, a.handle(a.transition("start")))
	g.GET("/:key/stop", a.editor, a.handle(a.confirmTransition("stop")))
	g.POST("/:key/stop", a.csrf, a.editor, a.handle(a.transition("stop")))
	g.POST("/:key/refresh", a.csrf, a.editor, a.handle(a.refresh))
	g.GET("/:key/claims/new", a.editor, a.handle(a.newClaim))
	g.POST("/:key/claims/new", a.csrf, a.editor, a.handle(a.saveClaim))
	g.GET("/:key/claims/:id/edit", a.editor, a.handle(a.editClaim))
	g.POST("/:key/claims/:id/edit", a.csrf, a.editor, a.handle(a.saveClaim))
	g.GET("/:key/claims/:id/delete", a.editor, a.handle(a.confirmDeleteClaim))
	g.POST("/:key/claims/:id/delete", a.csrf, a.editor, a.handle(a.deleteClaim))

	q := r.Group("/questions", a.auth)
	q.GET("", a.handle(a.questions))
	q.GET("/new", a.editor, a.handle(a.newQuestion))
	q.POST("/new", a.csrf, a.editor, a.handle(a.createQuestion))
	q.GET("/:key/edit", a.editor, a.handle(a.editQuestion))
	q.POST("/:key/edit", a.csrf, a.editor, a.handle(a.updateQuestion))

	s := r.Group("/studies", a.auth)
	s.GET("", a.handle(a.studies))
	s.GET("/:key", a.handle(a.study))

	src := r.Group("/sources", a.auth)
	src.GET("", a.handle(a.sources))
	src.GET("/new", a.editor, a.handle(a.newSource))
	src.POST("/new", a.csrf, a.editor, a.handle(a.createSource))
	src.GET("/:key", a.handle(a.source))
	src.GET("/:key/scoreboard.json", a.handle(a.scoreboardJSON))
	src.GET("/:key/scoreboard.csv", a.handle(a.scoreboardCSV))
	src.GET("/:key/scoreboard.html", a.handle(a.scoreboardHTML))
	src.GET("/:key/statements/new", a.editor, a.handle(a.newStatement))
	src.POST("/:key/statements/new", a.csrf, a.editor, a.handle(a.createStatement))

	l := r.Group("/layers", a.auth)
	l.GET("", a.handle(a.layers))
	l.GET("/new", a.editor, a.handle(a.newLayer))
	l.POST("/new", a.csrf, a.editor, a.handle(a.createLayer))

	h := r.Group("/holdouts", a.auth)
	h.GET("", a.handle(a.holdouts))
	h.GET("/new", a.editor, a.handle(a.newHoldout))
	h.POST("/new", a.csrf, a.editor, a.handle(a.createHoldout))
	h.GET("/:key", a.handle(a.holdout))
}

func newApp(svc *experiments.Service, log *slog.Logger) *app {
	if log == nil {
		log = slog.Default()
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	a := &app{svc: svc, log: log, pages: map[string]*template.Template{}, static: http.FileServerFS(sub), now: time.Now}
	h := sha256.New()
	fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(sub, path)
			h.Write(b)
		}
		return nil
	})
	a.version = hex.EncodeToString(h.Sum(nil))[:12]
	funcs := template.FuncMap{
		"int":      fmtInt,
		"pct":      fmtPct,
		"verdict":  verdictLabel,
		"magnitud": magnitudeLabel,
		"errs":     func(l []errorLink, g []string) errorSummary { return errorSummary{l, g} },
		"effects":  newEffectTable,
		"armtable": func(i int, m metricView, level, arm, control string) armTable {
			return armTable{I: i, M: m, Level: level, Arm: arm, Control: control}
		},
	}
	for _, page := range []string{"login", "list", "editor", "claim", "confirm", "error", "questions", "question", "studies", "study", "sources", "form",
		"layers", "holdouts", "holdoutform"} {
		a.pages[page] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html"))
	}
	// An experiment's report and a holdout's draw their metrics alike.
	for _, page := range []string{"report", "holdout"} {
		a.pages[page] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html", "templates/armtable.html"))
	}
	// The source page and its printable file show the same scoreboard.
	a.pages["source"] = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/source.html", "templates/scoreboard.html"))
	a.export = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/export.html", "templates/scoreboard.html"))
	css, err := fs.ReadFile(sub, "style.css")
	if err != nil {
		panic(err)
	}
	a.exportCSS = template.CSS(css)
	a.exportCSSHash = cspHash(string(css))
	return a
}

type errorSummary struct {
	Errors  []errorLink
	General []string
}

// page is what every template gets besides its own data.
type page struct {
	Title   string
	Static  string
	Key     *experiments.APIKey
	CanEdit bool
	CSRF    string
	Flash   string
	Data    any
}

func (a *app) render(c *gin.Context, status int, name, title string, data any) {
	p := page{Title: title, Static: a.version, Data: data}
	if s, ok := c.Get(ctxSession); ok {
		p.CSRF = s.(*experiments.Session).CSRF
	}
	if k, ok := c.Get(ctxKey); ok {
		p.Key = k.(*experiments.APIKey)
		p.CanEdit = p.Key.Kind == experiments.KeyAdmin
	}
	p.Flash = flashes[c.Query("done")]
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		httpstatus.Logger(c, a.log).Error("rendering a page", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "Internal error.")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// flashes are the only messages a redirect may ask for: the query never
// carries text of its own.
var flashes = map[string]string{
	"created":           "Experiment created as a draft.",
	"saved":             "Changes saved.",
	"started":           "Experiment started. Its variants, weights, salt, traffic and unit are now locked.",
	"stopped":           "Experiment stopped.",
	"refreshed":         "Report recomputed from every event stored.",
	"claim-saved":       "Claim saved.",
	"claim-deleted":     "Claim deleted; its earlier versions are kept.",
	"question-created":  "Question created. Response events may now answer it.",
	"question-saved":    "Question saved.",
	"source-created":    "Source created. Add its statements, then claims in experiments that test them.",
	"statement-created": "Statement created. A claim in an experiment can now test it: choose it under “Tests statement” in the claim form.",
	"layer-created":     "Layer created. An experiment joins it in its editor: choose the layer under “Layer” and give its range.",
	"holdout-created":   "Holdout created. From now on its share of units is kept out of its experiments, and compared with everyone else here.",
}

// handle adapts a handler that returns an error: the error becomes a page
// with the status of its code; internal detail is logged, never shown.
func (a *app) handle(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			a.fail(c, err)
		}
	}
}

type errorView struct {
	Status    int
	Message   string
	RequestID string
}

func (a *app) fail(c *gin.Context, err error) {
	code := experiments.ErrorCode(err)
	if code == experiments.CodeUnauthorized {
		a.toLogin(c)
		return
	}
	status := httpstatus.Of(code)
	msg := "Internal error."
	var e *experiments.Error
	if status >= 500 {
		httpstatus.Logger(c, a.log).Error("web request failed", "path", c.Request.URL.Path, "err", err)
		if code == experiments.CodeUnavailable && errors.As(err, &e) {
			msg = e.Message
		}
	} else if errors.As(err, &e) {
		msg = e.Message
	}
	a.render(c, status, "error", http.StatusText(status), errorView{Status: status, Message: msg, RequestID: c.Writer.Header().Get("X-Request-ID")})
	c.Abort()
}

func (a *app) toLogin(c *gin.Context) {
	target := "/login"
	if c.Request.Method == http.MethodGet && c.Request.URL.Path != "/login" {
		target += "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

// auth admits requests with a live session and redirects the rest to /login.
func (a *app) auth(c *gin.Context) {
	token, _ := c.Cookie(sessionCookie)
	sess, key, err := a.svc.Session(c.Request.Context(), token)
	if err != nil {
		if token != "" && experiments.ErrorCode(err) == experiments.CodeUnauthorized {
			a.clearCookie(c, sessionCookie, "/")
		}
		a.fail(c, err)
		return
	}
	c.Set(ctxSession, sess)
	c.Set(ctxKey, key)
	c.Next()
}

func (a *app) csrf(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBody)
	sess := c.MustGet(ctxSession).(*experiments.Session)
	if err := c.Request.ParseForm(); err != nil {
		a.fail(c, experiments.Errorf(experiments.CodeTooLarge, "the form could not be read"))
		return
	}
	if !sameToken(c.Request.PostForm.Get(csrfField), sess.CSRF) {
		a.fail(c, experiments.Errorf(experiments.CodeForbidden, "This form has expired or did not come from Revealed (missing or wrong CSRF token). Reload the page and try again."))
		return
	}
	c.Next()
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// editor refuses SDK keys: they may read pages but not change anything.
func (a *app) editor(c *gin.Context) {
	if c.MustGet(ctxKey).(*experiments.APIKey).Kind != experiments.KeyAdmin {
		a.fail(c, experiments.Errorf(experiments.CodeForbidden, "You are logged in with an SDK key, which can read reports but not edit. Log in with an admin key to edit."))
		return
	}
	c.Next()
}

func (a *app) setCookie(c *gin.Context, name, value, path string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(c.Request),
	})
}

// overTLS reports whether the browser reached us over HTTPS, directly or
// through a TLS-terminating proxy. Trusting X-Forwarded-Proto needs no
// configuration here: a client that lies only gets a stricter cookie.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (a *app) clearCookie(c *gin.Context, name, path string) { a.setCookie(c, name, "", path, -1) }

func (a *app) serveStatic(c *gin.Context) {
	if c.Query("v") == a.version {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	c.Request.URL.Path = c.Param("filepath")
	a.static.ServeHTTP(c.Writer, c.Request)
}

// Log-in and log-out.

type loginView struct {
	Token, Next, Err string
}

func (a *app) loginPage(c *gin.Context) error {
	token := randomHex()
	a.setCookie(c, loginCookie, token, "/login", 3600)
	a.render(c, http.StatusOK, "login", "Log in", loginView{Token: token, Next: safeNext(c.Query("next"))})
	return nil
}

func (a *app) login(c *gin.Context) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBody)
	cookie, _ := c.Cookie(loginCookie)
	if !sameToken(c.PostForm(csrfField), cookie) {
		return experiments.Errorf(experiments.CodeForbidden, "The log-in form has expired (missing or wrong CSRF token). Reload the page and try again.")
	}
	next := safeNext(c.PostForm("next"))
	token, _, _, err := a.svc.Login(c.Request.Context(), strings.TrimSpace(c.PostForm("key")))
	if experiments.ErrorCode(err) == experiments.CodeUnauthorized {
		fresh := randomHex()
		a.setCookie(c, loginCookie, fresh, "/login", 3600)
		a.render(c, http.StatusUnauthorized, "login", "Log in", loginView{Token: fresh, Next: next, Err: "That key is not valid, or it was revoked."})
		return nil
	}
	if err != nil {
		return err
	}
	a.clearCookie(c, loginCookie, "/login")
	a.setCookie(c, sessionCookie, token, "/", int(experiments.SessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
	return nil
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/experiments"
	}
	return next
}

func (a *app) logout(c *gin.Context) error {
	token, _ := c.Cookie(sessionCookie)
	if err := a.svc.Logout(c.Request.Context(), token); err != nil {
		return err
	}
	a.clearCookie(c, sessionCookie, "/")
	c.Redirect(http.StatusSeeOther, "/login")
	return nil
}

// The experiment list.

type listView struct {
	Status  string
	Filters []filterLink
	Rows    []listRow
}

type filterLink struct {
	Label, Href string
	Current     bool
}

type listRow struct {
	Exp     *experiments.Experiment
	Days    string
	Units   []string
	SRM     string // "" when fine
	Claims  []analysis.ClaimResult
	Problem string // the report could not be computed
}

func (a *app) list(c *gin.Context) error {
	status := experiments.Status(c.Query("status"))
	exps, err := a.svc.ListExperiments(c.Request.Context(), status)
	if err != nil {
		return err
	}
	v := listView{Status: string(status)}
	for _, s := range []string{"", "draft", "running", "stopped"} {
		l := filterLink{Label: "All", Href: "/experiments", Current: string(status) == s}
		if s != "" {
			l.Label, l.Href = strings.ToUpper(s[:1])+s[1:], "/experiments?status="+s
		}
		v.Filters = append(v.Filters, l)
	}
	v.Rows = make([]listRow, len(exps))
	// Each row needs its experiment's report; compute a few at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, e := range exps {
		v.Rows[i] = listRow{Exp: e, Days: daysRunning(e.StartedAt, e.StoppedAt, a.now())}
		if e.Status == experiments.StatusDraft {
			continue
		}
		wg.Add(1)
		go func(row *listRow) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			a.fillRow(c.Request.Context(), httpstatus.Logger(c, a.log), row)
		}(&v.Rows[i])
	}
	wg.Wait()
	a.render(c, http.StatusOK, "list", "Experiments", v)
	return nil
}

func (a *app) fillRow(ctx context.Context, log *slog.Logger, row *listRow) {
	r, err := a.svc.Report(ctx, row.Exp.Key)
	if err != nil {
		log.Error("list: computing a report", "experiment", row.Exp.Key, "err", err)
		row.Problem = "report unavailable"
		return
	}
	for _, v := range r.SRM.Variants {
		row.Units = append(row.Units, v.Variant+": "+fmtInt(v.Observed))
	}
	if r.SRM.Status == analysis.SRMMismatch {
		p := r.SRM.PValue
		row.SRM = "Sample ratio mismatch (" + fmtPEq(&p) + ")"
	}
	row.Claims = r.Claims
}

// The report page and its downloads.

func (a *app) report(c *gin.Context) error {
	ctx := c.Request.Context()
	key := c.Param("key")
	rv, err := a.svc.ReportView(ctx, key, 500)
	if err != nil {
		return err
	}
	a.render(c, http.StatusOK, "report", rv.Experiment.Name, buildReport(rv))
	return nil
}

func (a *app) reportJSON(c *gin.Context) error {
	r, err := a.svc.Report(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as the API encodes reports
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return experiments.Internal(err)
	}
	download(c, r.Experiment+"-report.json", "application/json", buf.Bytes())
	return nil
}

func (a *app) reportCSV(c *gin.Context) error {
	r, err := a.svc.Report(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := analysis.WriteCSV(&buf, r); err != nil {
		return experiments.Internal(err)
	}
	download(c, r.Experiment+"-report.csv", "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

func download(c *gin.Context, name, ctype string, body []byte) {
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, ctype, body)
}

func verdictLabel(v string) string {
	switch v {
	case analysis.Holds:
		return "Holds"
	case analysis.Contradicted:
		return "Contradicted"
	}
	return "Inconclusive"
}

func magnitudeLabel(m string) string {
	switch m {
	case analysis.Matches:
		return "size matches the survey"
	case analysis.Overstated:
		return "the survey overstates it"
	case analysis.Understated:
		return "the survey understates it"
	case analysis.Unclear:
		return "size unclear"
	}
	return ""
}
