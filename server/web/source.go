package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

// Sources and their scoreboards: every statement of a published survey
// beside what customers did in the experiments that test it. The pages
// present the service's scoreboard and compute nothing of their own; every
// number goes through format.go.

type sourceListView struct {
	Rows []sourceRow
}

type sourceRow struct {
	S          *experiments.Source
	N          string
	Statements int
}

// sources lists the sources with how many statements each has. It
// computes no scoreboard: each needs every testing experiment's report.
func (a *app) sources(c *gin.Context) error {
	ctx := c.Request.Context()
	ss, err := a.svc.Sources(ctx)
	if err != nil {
		return err
	}
	v := sourceListView{Rows: make([]sourceRow, len(ss))}
	for i, s := range ss {
		sts, err := a.svc.Statements(ctx, s.Key)
		if err != nil {
			return err
		}
		v.Rows[i] = sourceRow{S: s, N: optCount(s.N), Statements: len(sts)}
	}
	a.render(c, http.StatusOK, "sources", "Sources", v)
	return nil
}

func optCount(n int64) string {
	if n <= 0 {
		return "—"
	}
	return fmtInt(n)
}

// scoreboardView is what the source page and its printable export show.
type scoreboardView struct {
	Src        *experiments.Source
	SurveyN    string
	Summary    string
	Level      string
	ComputedAt string
	Statements []statementView
	// Export is set for the self-contained file: no links, and the style
	// sheet inline.
	Export bool
	CSS    template.CSS
}

type statementView struct {
	Key, Text, Kind         string
	Stated, StatedCI        string
	StatedNote              string // why there is no stated figure, or where it comes from
	Outcome, OutcomeLabel   string
	OutcomeIcon, BadgeClass string
	Summary                 string
	Chart                   template.HTML
	NoChart                 string
	Pooled                  []statLine
	Tests                   []testRow
}

type testRow struct {
	Experiment, Claim, Metric string
	Verdict, Magnitude        string
	Revealed, CI, Units       string
	// Null says why there is no revealed figure.
	Null    string
	Pooled  bool
	LeftOut string
	Summary string
}

// kindText names a statement's kind in words.
var kindText = map[analysis.ClaimKind]string{
	analysis.ClaimShare:      "share",
	analysis.ClaimEffect:     "effect",
	analysis.ClaimSegmentGap: "segment gap",
	analysis.ClaimSayDo:      "say/do",
	analysis.ClaimNowVsLater: "now vs later",
	analysis.ClaimTradeoff:   "tradeoff",
}

// outcomes label each outcome with text, an icon and a badge class, so
// that it reads without colour.
var outcomes = map[string]struct{ label, icon, class string }{
	analysis.OutcomeHoldsAsStated:   {"Holds as stated", "✓", "badge-holds"},
	analysis.OutcomeHoldsOverstated: {"Holds, but overstated", "✓", "badge-holds outcome-overstated"},
	analysis.OutcomeHoldsUnderstate: {"Holds, but understated", "✓", "badge-holds outcome-understated"},
	analysis.OutcomeHolds:           {"Holds", "✓", "badge-holds"},
	analysis.OutcomeContradicted:    {"Contradicted", "✗", "badge-contradicted"},
	analysis.OutcomeInconclusive:    {"Inconclusive", "?", "badge-inconclusive"},
	analysis.OutcomeUntested:        {"Not tested yet", "–", "badge-inconclusive outcome-untested"},
}

// figureScale is how a kind's figures read: shares as percentages,
// differences of shares in points, effects and costs in their own units.
type figureScale struct {
	f, diff   func(float64) string // a figure, and a difference of two
	axis      string
	null      float64
	nullLabel string
	bounds    *[2]float64
}

func scaleOf(k analysis.ClaimKind) figureScale {
	switch k {
	case analysis.ClaimShare:
		return figureScale{fmtPct, fmtPP, "Share choosing the stated option (%)", 0.5, "half", &[2]float64{0, 1}}
	case analysis.ClaimSayDo:
		return figureScale{fmtPct, fmtPP, "Share of the customers who answered that did it (%)", 0.5, "half", &[2]float64{0, 1}}
	case analysis.ClaimSegmentGap:
		return figureScale{fmtPP, fmtPP, "Difference between the segments (percentage points)", 0, "no gap", nil}
	case analysis.ClaimTradeoff:
		return figureScale{fmtNum, fmtSigned, "Units of the cost the preferred level is worth", 0, "worth nothing", nil}
	}
	return figureScale{fmtSigned, fmtSigned, "Preferred minus other variant, in the metric’s units", 0, "no difference", nil}
}

func figureText(p *float64, ci *analysis.Interval, f func(float64) string) string {
	if p == nil {
		return "—"
	}
	s := f(*p)
	if ci != nil {
		s += " " + fmtInterval(ci, f)
	}
	return s
}

// orReason is a figure, or "— (why not)" when it is null.
func orReason(p *float64, f func(float64) string, why string) string {
	if p != nil {
		return f(*p)
	}
	if why == "" {
		return "—"
	}
	return "— (" + why + ")"
}

func buildScoreboard(sb *experiments.ScoreboardView) scoreboardView {
	v := scoreboardView{Src: sb.Source, SurveyN: optCount(sb.Source.N), Summary: sb.Summary, Level: confidence(sb.Alpha),
		ComputedAt: sb.ComputedAt.UTC().Format("2 Jan 2006 15:04") + " UTC"}
	for _, s := range sb.Statements {
		v.Statements = append(v.Statements, statementViewOf(s, sb.Alpha))
	}
	return v
}

func statementViewOf(s analysis.StatementScore, alpha float64) statementView {
	st := s.Statement
	sc := scaleOf(st.Kind)
	o := outcomes[s.Outcome]
	if o.label == "" {
		o = outcomes[analysis.OutcomeInconclusive]
		o.label = s.Outcome
	}
	v := statementView{Key: st.Key, Text: st.Text, Kind: kindText[st.Kind], Outcome: s.Outcome,
		OutcomeLabel: o.label, OutcomeIcon: o.icon, BadgeClass: o.class, Summary: s.Summary}
	if v.Kind == "" {
		v.Kind = string(st.Kind)
	}
	level := confidence(alpha)
	v.Stated = figureText(s.Stated, nil, sc.f)
	if s.Stated != nil && s.StatedCI != nil {
		v.StatedCI = fmtInterval(s.StatedCI, sc.f)
	}
	switch {
	case s.Stated == nil && st.Kind == analysis.ClaimSayDo:
		v.StatedNote = "the customers’ own answers, in each experiment that tests it"
	case s.Stated == nil:
		v.StatedNote = "a direction, not a figure"
	case st.Kind == analysis.ClaimSayDo:
		v.StatedNote = "the mean of the pooled tests’ stated shares: the share of the customers who gave the answer"
	case st.SurveyN > 0 && s.StatedCI != nil:
		v.StatedNote = fmt.Sprintf("survey of %s respondents, with its %s interval", fmtInt(st.SurveyN), level)
	case st.SurveyN > 0:
		v.StatedNote = fmt.Sprintf("survey of %s respondents", fmtInt(st.SurveyN))
	}

	ch := poolForest{
		ID:        "forest-" + st.Key,
		Title:     "Stated and revealed: " + st.Text,
		Null:      sc.null,
		NullLabel: sc.nullLabel,
		Bounds:    sc.bounds,
		AxisLabel: sc.axis,
		Tick:      sc.f,
	}
	var desc []string
	points := 0
	if s.Stated != nil {
		ch.Stated, ch.StatedCI = s.Stated, interval(s.StatedCI)
		ch.StatedLabel = "Stated"
		if st.SurveyN > 0 {
			ch.StatedLabel = "Stated (survey, n = " + fmtInt(st.SurveyN) + ")"
		}
		ch.StatedValue = figureText(s.Stated, s.StatedCI, sc.f)
		desc = append(desc, "stated (a square, its interval the shaded band): "+ch.StatedValue)
	}
	for _, t := range s.Tests {
		row := testRow{Experiment: t.Experiment, Claim: t.Claim, Metric: t.Metric, Verdict: t.Verdict, Magnitude: t.Magnitude,
			Revealed: figureText(t.Revealed, nil, sc.f), Units: fmtInt(t.Units), Pooled: t.Pooled, LeftOut: t.LeftOut, Summary: t.Summary}
		if t.Revealed != nil {
			row.CI = fmtInterval(t.RevealedCI, sc.f)
		} else {
			row.Null = t.LeftOut
			if row.Null == "" {
				row.Null = t.Summary
			}
		}
		v.Tests = append(v.Tests, row)

		full := t.Experiment
		if t.Claim != "" {
			full += " / " + t.Claim
		}
		label := full
		if r := []rune(label); len(r) > maxRowLabel {
			label = string(r[:maxRowLabel-1]) + "…"
		}
		fr := forestRow{Label: label, Full: full, Point: t.Revealed, CI: interval(t.RevealedCI), Pooled: t.Pooled,
			Value: figureText(t.Revealed, t.RevealedCI, sc.f), Null: row.Null}
		if t.Revealed != nil {
			points++
			if !t.Pooled {
				fr.Value += " (not pooled)"
			}
		}
		ch.Rows = append(ch.Rows, fr)
		d := full + ": " + fr.Value
		if t.Revealed == nil {
			d = full + ": no revealed figure (" + row.Null + ")"
		}
		desc = append(desc, d)
	}
	if m := s.Pooled; m != nil {
		v.Pooled = pooledLines(s, sc, level)
		if m.Estimate != nil {
			ch.Pooled, ch.PooledCI, ch.PI = m.Estimate, interval(m.CI), interval(m.PI)
			ch.PooledLabel = fmt.Sprintf("Pooled (k = %d)", m.K)
			ch.PooledValue = figureText(m.Estimate, m.CI, sc.f)
			if m.PI != nil {
				ch.PIValue = "PI " + fmtInterval(m.PI, sc.f)
			}
			d := "pooled (the diamond spans its interval): " + ch.PooledValue
			if m.PI != nil {
				d += ", prediction interval (the thin line) " + fmtInterval(m.PI, sc.f)
			}
			desc = append(desc, d)
		}
	}
	switch {
	case len(s.Tests) == 0:
		// The summary says no experiment tests it.
	case points == 0 && ch.Pooled == nil:
		v.NoChart = "no test has a revealed figure yet"
	default:
		ch.Desc = fmt.Sprintf("One row per test, its revealed figure a circle (hollow when left out of the pooling) with its %s interval; %s.", level, strings.Join(desc, "; "))
		v.Chart = ch.SVG()
	}
	return v
}

// pooledLines are the pooled result's figures, each with why it is null.
func pooledLines(s analysis.StatementScore, sc figureScale, level string) []statLine {
	f, diff := sc.f, sc.diff
	m := s.Pooled
	why := m.NullReason
	est := orReason(m.Estimate, f, why)
	if m.Estimate != nil && m.CI != nil {
		est += " " + fmtInterval(m.CI, f)
	}
	method := "random effects (REML, Hartung–Knapp–Sidik–Jonkman interval)"
	if m.Method == "single_study_z" {
		method = "one experiment: its own estimate, with a normal interval"
	}
	pi := "— (" + why + ")"
	if m.PI != nil {
		pi = fmtInterval(m.PI, f)
	} else if why == "" {
		pi = "—"
	}
	lines := []statLine{
		{"Pooled estimate [" + level + " CI]", est},
		{"Prediction interval (a new experiment)", pi},
		{"Experiments pooled (k)", strconv.Itoa(m.K)},
		{"τ² (variance between experiments)", orReason(m.Tau2, fmtNum, why)},
		{"I² (share of the variation between experiments)", orReason(m.I2, fmtPct, why)},
		{"Method", method},
	}
	if vd := s.Verdict; vd != nil && vd.Gap != nil {
		gap := diff(*vd.Gap)
		if vd.GapCI != nil {
			gap += " " + fmtInterval(vd.GapCI, diff)
		}
		lines = append(lines, statLine{"Pooled minus stated [" + level + " CI]", gap})
	}
	if s.UnitsNeeded != nil {
		lines = append(lines, statLine{"To decide it", "about " + fmtInt(*s.UnitsNeeded) + " more customers"})
	}
	return lines
}

func (a *app) source(c *gin.Context) error {
	sb, err := a.svc.Scoreboard(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	a.render(c, http.StatusOK, "source", sb.Source.Title, buildScoreboard(sb))
	return nil
}

func (a *app) scoreboardJSON(c *gin.Context) error {
	sb, err := a.svc.Scoreboard(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as the API encodes it
	enc.SetIndent("", "  ")
	if err := enc.Encode(sb); err != nil {
		return experiments.Internal(err)
	}
	download(c, sb.Source.Key+"-scoreboard.json", "application/json", buf.Bytes())
	return nil
}

func (a *app) scoreboardCSV(c *gin.Context) error {
	sb, err := a.svc.Scoreboard(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := analysis.WriteScoreboardCSV(&buf, sb.Scoreboard); err != nil {
		return experiments.Internal(err)
	}
	download(c, sb.Source.Key+"-scoreboard.csv", "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

// scoreboardHTML is the scoreboard as one file to send to someone without
// an account: the style sheet inline, the charts inline SVG, no script
// and no link to anything. Its own Content-Security-Policy allows only
// that style sheet, so that even opened from here it fetches nothing.
func (a *app) scoreboardHTML(c *gin.Context) error {
	sb, err := a.svc.Scoreboard(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	v := buildScoreboard(sb)
	v.Export, v.CSS = true, a.exportCSS
	var buf bytes.Buffer
	if err := a.export.ExecuteTemplate(&buf, "export", v); err != nil {
		return experiments.Internal(err)
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src '"+a.exportCSSHash+"'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	download(c, sb.Source.Key+"-scoreboard.html", "text/html; charset=utf-8", buf.Bytes())
	return nil
}

// cspHash is the CSP source expression of an inline style element's text.
func cspHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// Forms: a new source, a new statement.

// formView is a form of plain fields in groups, with each error beside its
// field.
type formView struct {
	Heading, Sub, Intro string
	Action, Cancel      string
	Button, ButtonID    string
	Groups              []fieldGroup
	General             []string
	Errors              []errorLink
}

type fieldGroup struct {
	ID, Legend, Hint string
	Fields           []field
}

// attach places errs beside the groups' fields, and lists the rest at the
// top.
func (v *formView) attach(errs []experiments.FieldError) {
	known := map[string]bool{}
	for _, g := range v.Groups {
		for _, f := range g.Fields {
			known[f.Name] = true
		}
	}
	placed, general := place(errs, known)
	v.General = append(v.General, general...)
	for _, g := range v.Groups {
		for i := range g.Fields {
			g.Fields[i].Errs = placed[g.Fields[i].Name]
			if len(g.Fields[i].Errs) > 0 {
				v.Errors = append(v.Errors, errorLink{"#" + g.Fields[i].ID, g.Fields[i].Label + ": " + strings.Join(g.Fields[i].Errs, "; ")})
			}
		}
	}
}

// textForm holds a form as typed.
type textForm map[string]string

func textFormFromPost(v url.Values, names []string) textForm {
	f := textForm{}
	for _, k := range names {
		f[k] = strings.TrimSpace(v.Get(k))
	}
	return f
}

func (f textForm) field(name, label, hint string) field {
	return field{Name: name, ID: inputID(name), Label: label, Value: f[name], Hint: hint, Type: "text"}
}

var sourceFields = []string{"key", "title", "publisher", "year", "n", "url"}

func (f textForm) source() (experiments.SourceInput, []experiments.FieldError) {
	var errs []experiments.FieldError
	whole := func(k string) int64 {
		if f[k] == "" {
			return 0
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(f[k], ",", ""), 10, 64)
		if err != nil {
			errs = append(errs, experiments.FieldError{Field: k, Detail: "must be a whole number"})
		}
		return n
	}
	in := experiments.SourceInput{Key: f["key"], Title: f["title"], Publisher: f["publisher"], Year: int(whole("year")), N: whole("n"), URL: f["url"]}
	return in, errs
}

func (f textForm) sourceView() formView {
	key := f.field("key", "Key", "A slug, e.g. front-2019: the source’s address. It cannot change later.")
	key.Required = true
	return formView{
		Heading: "New source",
		Intro:   "A source is where stated preferences come from: a published survey, or your own. Add its statements next, then the claims that test them in experiments.",
		Action:  "/sources/new", Cancel: "/sources", Button: "Create the source", ButtonID: "save-source",
		Groups: []fieldGroup{{Legend: "The source", Fields: []field{
			key,
			f.field("title", "Title", "e.g. “Survey of 2,128 B2B buyers”."),
			f.field("publisher", "Publisher", "Optional: who ran or published it."),
			f.field("year", "Year", "Optional, e.g. 2019."),
			f.field("n", "Respondents (n)", "Optional: the number of respondents, when it is one survey."),
			f.field("url", "Address (URL)", "Optional: an http or https link to the survey."),
		}}},
	}
}

func (a *app) newSource(c *gin.Context) error {
	a.render(c, http.StatusOK, "form", "New source", textForm{}.sourceView())
	return nil
}

func (a *app) createSource(c *gin.Context) error {
	f := textFormFromPost(c.Request.PostForm, sourceFields)
	in, parseErrs := f.source()
	var err error
	if len(parseErrs) > 0 {
		err = experiments.Invalid("invalid source", parseErrs)
	} else {
		_, err = a.svc.CreateSource(c.Request.Context(), in)
	}
	if err != nil {
		return a.plainFormError(c, f.sourceView(), "New source", err)
	}
	c.Redirect(http.StatusSeeOther, "/sources/"+url.PathEscape(in.Key)+"?done=source-created")
	return nil
}

var statementFields = []string{"key", "text", "kind", "survey_n", "option", "margin", "stated_share", "stated_effect",
	"stated_a", "stated_b", "survey_n_a", "survey_n_b", "stated_cost"}

// statement parses the form by the claim form's rules: a statement is a
// claim's stated side.
func (f textForm) statement() (analysis.Statement, []experiments.FieldError) {
	cf := claimForm{"statement": f["text"]}
	for _, k := range statementFields {
		if k != "text" && k != "key" {
			cf[k] = f[k]
		}
	}
	cl, errs := cf.claim()
	return analysis.StatementOf(f["key"], &cl), errs
}

func (f textForm) statementView(src *experiments.Source) formView {
	key := f.field("key", "Key", "A slug, e.g. human-74, unique across sources: claims name the statement by it. It cannot change later.")
	key.Required = true
	text := f.field("text", "Statement", "What the survey says, e.g. “74% would rather wait 10 minutes for a human”.")
	text.Type = "textarea"
	kind := f.field("kind", "Kind", "")
	kind.Type = "select"
	kind.Options = options(f["kind"], "share", "share: respondents offered both options pick one",
		"effect", "effect: one variant does better than another",
		"segment_gap", "segment gap: a share differs between two segments",
		"say_do", "say/do: customers who say it do it (each customer’s own answer)",
		"now_vs_later", "now vs later: what wins today still wins later",
		"tradeoff", "tradeoff: a level of one factor is worth some units of a numeric factor")
	base := "/sources/" + url.PathEscape(src.Key)
	return formView{
		Heading: "New statement", Sub: "of “" + src.Label() + "”",
		Intro:  "A statement is one stated preference of the source. Claims in experiments test it by its key and take its figures; the source’s scoreboard pools their results.",
		Action: base + "/statements/new", Cancel: base, Button: "Create the statement", ButtonID: "save-statement",
		Groups: []fieldGroup{
			{Legend: "The statement", Fields: []field{key, text, kind,
				f.field("survey_n", "Survey respondents (n)", "The survey is a sample: its n sets the stated figure’s interval. Not for a say/do statement (its stated side is each customer’s own answer), nor for a now-vs-later one (it states a direction)."),
				f.field("margin", "Equivalence margin", "Optional; default 0.05 (5 points) for “holds as stated”."),
				f.field("option", "Stated option, in words", "Optional, for the summary sentence, e.g. “a human”."),
			}},
			{ID: "share", Legend: "For a share statement", Fields: []field{
				f.field("stated_share", "Stated share", "From 0 to 1, e.g. 0.74."),
			}},
			{ID: "effect", Legend: "For an effect or now-vs-later statement", Fields: []field{
				f.field("stated_effect", "Stated effect", "Optional: the stated difference, preferred − other, in the metric’s units."),
			}},
			{ID: "gap", Legend: "For a segment-gap statement", Fields: []field{
				f.field("stated_a", "Stated share in segment A", "e.g. 0.76"),
				f.field("survey_n_a", "Respondents in A", "Optional; default half of n."),
				f.field("stated_b", "Stated share in segment B", "e.g. 0.51"),
				f.field("survey_n_b", "Respondents in B", "Optional; default half of n."),
			}},
			{ID: "tradeoff", Legend: "For a tradeoff statement", Fields: []field{
				f.field("stated_cost", "Stated cost", "How many units of the cost the preferred level is worth, e.g. 5 (minutes)."),
			}},
		},
	}
}

func (a *app) newStatement(c *gin.Context) error {
	src, err := a.svc.Source(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	a.render(c, http.StatusOK, "form", "New statement", textForm{"kind": string(analysis.ClaimShare)}.statementView(src))
	return nil
}

func (a *app) createStatement(c *gin.Context) error {
	ctx := c.Request.Context()
	src, err := a.svc.Source(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	f := textFormFromPost(c.Request.PostForm, statementFields)
	in, parseErrs := f.statement()
	if len(parseErrs) > 0 {
		err = experiments.Invalid("invalid statement", parseErrs)
	} else {
		_, err = a.svc.CreateStatement(ctx, src.Key, in)
	}
	if err != nil {
		return a.plainFormError(c, f.statementView(src), "New statement", err)
	}
	c.Redirect(http.StatusSeeOther, "/sources/"+url.PathEscape(src.Key)+"?done=statement-created#statement-"+url.PathEscape(in.Key))
	return nil
}

// plainFormError shows a formView again with each error beside its field, or
// returns err when it is not about the input.
func (a *app) plainFormError(c *gin.Context, v formView, title string, err error) error {
	code := experiments.ErrorCode(err)
	if code != experiments.CodeInvalid && code != experiments.CodeConflict {
		return err
	}
	var e *experiments.Error
	var fes []experiments.FieldError
	if errors.As(err, &e) {
		fes = e.Fields
	}
	v.attach(fes)
	if e != nil && (len(fes) == 0 || code == experiments.CodeConflict) {
		v.General = append([]string{e.Message}, v.General...)
	}
	a.render(c, httpstatus.Of(code), "form", title, v)
	return nil
}

// statementChoices lists every statement of every source, for the claim
// form's "Tests statement" select.
func (a *app) statementChoices(ctx context.Context) ([]string, error) {
	srcs, err := a.svc.Sources(ctx)
	if err != nil {
		return nil, err
	}
	var pairs []string
	for _, s := range srcs {
		sts, err := a.svc.Statements(ctx, s.Key)
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			text := st.Text
			if r := []rune(text); len(r) > 90 {
				text = string(r[:89]) + "…"
			}
			pairs = append(pairs, st.Key, st.Key+" — "+text+" ("+s.Label()+")")
		}
	}
	return pairs, nil
}
