package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

// claimForm holds a claim as typed.
type claimForm map[string]string

var claimFields = []string{"id", "statement_key", "statement", "source", "survey_n", "kind", "metric", "option", "margin",
	"stated_share", "variant", "segment", "preferred", "other", "stated_effect",
	"segment_a", "segment_b", "stated_a", "stated_b", "survey_n_a", "survey_n_b", "question", "answer", "now", "later",
	"factor", "cost", "stated_cost"}

func claimFormOf(c *experiments.Claim) claimForm {
	f := claimForm{"id": c.ID, "statement_key": c.StatementKey, "statement": c.Statement, "source": c.Source, "kind": string(c.Kind), "metric": c.Metric,
		"option": c.Option, "variant": c.Variant, "segment": c.Segment, "preferred": c.Preferred, "other": c.Other,
		"segment_a": c.SegmentA, "segment_b": c.SegmentB, "question": c.Question, "answer": c.Answer, "now": c.Now, "later": c.Later,
		"factor": c.Factor, "cost": c.Cost}
	if c.SurveyN != 0 { // say_do and now_vs_later claims have none, and the form leaves it empty
		f["survey_n"] = strconv.FormatInt(c.SurveyN, 10)
	}
	for k, v := range map[string]*float64{"margin": c.Margin, "stated_share": c.StatedShare, "stated_effect": c.StatedEffect, "stated_a": c.StatedA, "stated_b": c.StatedB, "stated_cost": c.StatedCost} {
		if v != nil {
			f[k] = num(*v)
		}
	}
	if c.SurveyNA != 0 {
		f["survey_n_a"] = strconv.FormatInt(c.SurveyNA, 10)
	}
	if c.SurveyNB != 0 {
		f["survey_n_b"] = strconv.FormatInt(c.SurveyNB, 10)
	}
	return f
}

func claimFormFromPost(v url.Values) claimForm {
	f := claimForm{}
	for _, k := range claimFields {
		f[k] = strings.TrimSpace(v.Get(k))
	}
	return f
}

// claim parses the form; numbers that do not parse are reported, not sent.
func (f claimForm) claim() (analysis.Claim, []experiments.FieldError) {
	var errs []experiments.FieldError
	opt := func(k string) *float64 {
		if f[k] == "" {
			return nil
		}
		x, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			errs = append(errs, experiments.FieldError{Field: k, Detail: "must be a number"})
			return nil
		}
		return &x
	}
	count := func(k string) int64 {
		if f[k] == "" {
			return 0
		}
		n, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			errs = append(errs, experiments.FieldError{Field: k, Detail: "must be a whole number"})
		}
		return n
	}
	c := analysis.Claim{
		ID: f["id"], Statement: f["statement"], Source: f["source"], Kind: analysis.ClaimKind(f["kind"]), Metric: f["metric"],
		Option: f["option"], Variant: f["variant"], Segment: f["segment"], Preferred: f["preferred"], Other: f["other"],
		SegmentA: f["segment_a"], SegmentB: f["segment_b"], Question: f["question"], Answer: f["answer"], Now: f["now"], Later: f["later"],
		SurveyN: count("survey_n"), SurveyNA: count("survey_n_a"), SurveyNB: count("survey_n_b"),
		Margin: opt("margin"), StatedShare: opt("stated_share"), StatedEffect: opt("stated_effect"),
		StatedA: opt("stated_a"), StatedB: opt("stated_b"),
		Factor: f["factor"], Cost: f["cost"], StatedCost: opt("stated_cost"),
		StatementKey: f["statement_key"],
	}
	if c.StatementKey != "" {
		// The statement sets the kind; the select always sends one, so a
		// kind left as it was is not a contradiction.
		c.Kind = ""
	}
	return c, errs
}

type claimFormView struct {
	Exp     *experiments.Experiment
	New     bool
	Action  string
	General []string
	Common  []field
	Share   []field
	Effect  []field
	Gap     []field
	SayDo   []field
	// NowLater is kept apart so that the template can say that a
	// now_vs_later claim takes its variants from the effect fields.
	NowLater []field
	// Tradeoff is shown for a factorial experiment, or when the form's
	// kind is tradeoff.
	Tradeoff []field
	// IsNowLater hides what a now_vs_later claim does not take (survey_n,
	// metric) once the form knows the kind; a form of any other kind shows
	// every field, as the kind select may still change without a script.
	IsNowLater bool
	Errors     []errorLink
}

// claimLists are what the claim form offers to choose from.
type claimLists struct {
	questions []*experiments.Question
	// statements are pairs of a statement's key and its label.
	statements []string
}

func (a *app) claimLists(ctx context.Context) (claimLists, error) {
	qs, err := a.svc.Questions(ctx)
	if err != nil {
		return claimLists{}, err
	}
	sts, err := a.statementChoices(ctx)
	if err != nil {
		return claimLists{}, err
	}
	return claimLists{questions: qs, statements: sts}, nil
}

func (f claimForm) view(e *experiments.Experiment, lists claimLists, isNew bool, errs []experiments.FieldError) claimFormView {
	questions := lists.questions
	v := claimFormView{Exp: e, New: isNew, IsNowLater: f["kind"] == string(analysis.ClaimNowVsLater)}
	known := map[string]bool{}
	mk := func(name, label, hint string) field {
		known[name] = true
		return field{Name: name, ID: inputID(name), Label: label, Value: f[name], Hint: hint, Type: "text"}
	}
	id := mk("id", "Claim id", "A slug, e.g. human-74. It cannot change later.")
	id.Disabled = !isNew
	kind := mk("kind", "Kind", "")
	kind.Type = "select"
	kind.Options = options(f["kind"], "share", "share: customers offered both options pick one", "effect", "effect: an A/B comparison of two variants", "segment_gap", "segment gap: a share differs between two segments",
		"say_do", "say/do: each customer’s own answer beside what they did",
		"now_vs_later", "now vs later: does what wins today still win later?",
		"tradeoff", "tradeoff: a level of one factor is worth some units of a numeric factor (factorial experiments)")
	var metricKeys []string
	for _, m := range e.Metrics {
		metricKeys = append(metricKeys, m.Key, m.Key+" ("+string(m.Kind)+")")
	}
	metric := mk("metric", "Metric", "")
	metric.Type = "select"
	// The empty choice comes last so that a new claim starts on a metric,
	// as it did before now_vs_later claims, which take none.
	metric.Options = options(f["metric"], append(metricKeys, "", "— none (a now-vs-later claim names its metrics below)")...)
	stmt := mk("statement", "Statement", "What the survey says, e.g. “74% would rather wait 10 minutes for a human”. Left out when the claim tests a statement.")
	stmt.Type = "textarea"
	v.Common = []field{id, statementKeyField(f, lists.statements, mk), stmt, mk("source", "Source", "Who asked whom, and when. Left out when the claim tests a statement: the statement’s source is it."),
		mk("survey_n", "Survey respondents (n)", "The survey is a sample: its n sets the stated figure’s interval. Not for a say/do claim (leave it empty): its stated side is the customers’ own answers. Nor for a now-vs-later claim: it states a direction, not a figure."),
		kind, metric, mk("margin", "Equivalence margin", "Optional; default 0.05 (5 points) for “matches”."),
		mk("option", "Stated option, in words", "Optional, for the summary sentence, e.g. “a human”.")}
	if v.IsNowLater {
		v.Common = slices.DeleteFunc(v.Common, func(f field) bool { return f.Name == "survey_n" || f.Name == "metric" })
		delete(known, "survey_n")
		delete(known, "metric")
	}
	v.Share = []field{mk("stated_share", "Stated share", "From 0 to 1, e.g. 0.74."),
		mk("variant", "Variant", "Optional, for a share or say/do claim; empty pools every variant."),
		mk("segment", "Segment", "Optional, as attribute=value.")}
	v.Effect = []field{mk("preferred", "Preferred variant", "The variant the survey favours; for a tradeoff claim, the level of the factor, e.g. human."),
		mk("other", "Other variant", "Optional; default the control."),
		mk("stated_effect", "Stated effect", "Optional: the stated difference, preferred − other, in the metric’s units.")}
	v.Gap = []field{mk("segment_a", "Segment A", "attribute=value, e.g. generation=gen_z."), mk("stated_a", "Stated share in A", "e.g. 0.76"),
		mk("survey_n_a", "Respondents in A", "Optional; default half of n."),
		mk("segment_b", "Segment B", "Another value of the same attribute."), mk("stated_b", "Stated share in B", "e.g. 0.51"),
		mk("survey_n_b", "Respondents in B", "Optional; default half of n.")}
	v.SayDo = sayDoFields(f, questions, mk)
	v.NowLater = nowLaterFields(f, e, mk)
	if len(e.Factors) > 0 || f["kind"] == string(analysis.ClaimTradeoff) {
		v.Tradeoff = tradeoffFields(f, e, mk)
	}
	placed, general := place(errs, known)
	v.General = general
	for _, group := range [][]field{v.Common, v.Share, v.Effect, v.Gap, v.SayDo, v.NowLater, v.Tradeoff} {
		for i := range group {
			group[i].Errs = placed[group[i].Name]
			if len(group[i].Errs) > 0 {
				v.Errors = append(v.Errors, errorLink{"#" + group[i].ID, group[i].Label + ": " + strings.Join(group[i].Errs, "; ")})
			}
		}
	}
	return v
}

// statementKeyField chooses the statement a claim tests, from every
// source's statements.
func statementKeyField(f claimForm, pairs []string, mk func(name, label, hint string) field) field {
	sk := mk("statement_key", "Tests statement", "Optional. A claim that tests a statement of a source takes its text, kind and stated figures (survey n, share, effect, segment shares, cost), and the source’s scoreboard pools it with the other experiments that test it: leave those fields empty, and give only what belongs to this experiment (metric, variant, segment, preferred and other variants, question and answer, now and later, factor and cost).")
	sk.Type = "select"
	all := append([]string{"", "— none: the claim states its own figures"}, pairs...)
	listed := false
	for i := 0; i < len(pairs); i += 2 {
		listed = listed || pairs[i] == f["statement_key"]
	}
	if !listed && f["statement_key"] != "" { // keep what was chosen, so that the error names it
		all = append(all, f["statement_key"], f["statement_key"])
	}
	if len(pairs) == 0 {
		sk.Hint += " No statement exists yet: add one under Sources."
	}
	sk.Options = options(f["statement_key"], all...)
	return sk
}

// sayDoFields are the question, a choice of the choice questions (a
// say_do claim needs one), and the answer, with the options in the hint:
// without a script the form cannot narrow the answers to the question.
func sayDoFields(f claimForm, questions []*experiments.Question, mk func(name, label, hint string) field) []field {
	question := mk("question", "Question", "A choice question; its answers arrive as response events.")
	question.Type = "select"
	pairs := []string{"", "— (not a say/do claim)"}
	listed := false
	var answers []string
	for _, q := range questions {
		if q.Kind != experiments.QuestionChoice {
			continue
		}
		pairs = append(pairs, q.Key, q.Key+": "+q.Text)
		answers = append(answers, q.Key+": "+strings.Join(q.Options, ", "))
		listed = listed || q.Key == f["question"]
	}
	if !listed && f["question"] != "" { // keep what was chosen, so that the error names it
		pairs = append(pairs, f["question"], f["question"])
	}
	question.Options = options(f["question"], pairs...)
	hint := "The option whose sayers are compared with the others, exactly as listed."
	if len(answers) > 0 {
		hint += " Options: " + strings.Join(answers, "; ") + "."
	} else {
		hint += " No choice question exists yet: add one under Questions."
	}
	return []field{question, mk("answer", "Answer", hint)}
}

// nowLaterFields are the metric of now and the metric of later, each a
// choice of the experiment's metrics labelled with its window, which is
// what tells now from later.
func nowLaterFields(f claimForm, e *experiments.Experiment, mk func(name, label, hint string) field) []field {
	pairs := []string{"", "— (not a now-vs-later claim)"}
	for _, m := range e.Metrics {
		pairs = append(pairs, m.Key, metricLabel(m.Key, e))
	}
	now := mk("now", "Metric of now", "What customers get today, e.g. CSAT within 24 hours.")
	now.Type, now.Options = "select", options(f["now"], pairs...)
	later := mk("later", "Metric of later", "What it leads to, e.g. retention at 90 days. Another metric than now.")
	later.Type, later.Options = "select", options(f["later"], pairs...)
	return []field{now, later}
}

// tradeoffFields are the factor (any factor of the experiment), the cost
// (a numeric factor) and the stated cost; the preferred level goes in
// preferred, with the effect fields.
func tradeoffFields(f claimForm, e *experiments.Experiment, mk func(name, label, hint string) field) []field {
	factors := []string{"", "— (not a tradeoff claim)"}
	costs := []string{"", "— (not a tradeoff claim)"}
	listed := map[string]bool{}
	for _, fc := range e.Factors {
		texts := make([]string, len(fc.Levels))
		for i, l := range fc.Levels {
			texts[i] = l.Text
		}
		label := fc.Key + " (" + strings.Join(texts, ", ") + ")"
		factors = append(factors, fc.Key, label)
		if fc.Numeric {
			costs = append(costs, fc.Key, label)
		}
		listed[fc.Key] = true
	}
	// Keep what was chosen, so that the error names it.
	for _, k := range []string{"factor", "cost"} {
		if v := f[k]; v != "" && !listed[v] {
			if k == "factor" {
				factors = append(factors, v, v)
			} else {
				costs = append(costs, v, v)
			}
		}
	}
	factor := mk("factor", "Factor", "The factor whose level the survey prefers, e.g. agent. Its first level is the reference the preferred level is compared with.")
	factor.Type, factor.Options = "select", options(f["factor"], factors...)
	cost := mk("cost", "Cost (a numeric factor)", "What the preference is paid in, e.g. wait_minutes.")
	cost.Type, cost.Options = "select", options(f["cost"], costs...)
	return []field{factor, cost, mk("stated_cost", "Stated cost", "How many units of the cost the survey says the preferred level is worth, e.g. 5 (minutes).")}
}

func (a *app) newClaim(c *gin.Context) error {
	ctx := c.Request.Context()
	e, err := a.svc.GetExperiment(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	lists, err := a.claimLists(ctx)
	if err != nil {
		return err
	}
	// ?kind= starts the form on a kind, so that a now_vs_later claim is not
	// asked for the survey fields it does not take.
	kind := "share"
	if len(e.Factors) > 0 { // what a factorial experiment is for
		kind = string(analysis.ClaimTradeoff)
	}
	if k := analysis.ClaimKind(c.Query("kind")); slices.Contains(analysis.ClaimKinds, k) {
		kind = string(k)
	}
	f := claimForm{"kind": kind}
	if len(e.Metrics) > 0 && kind != string(analysis.ClaimNowVsLater) {
		f["metric"] = e.Metrics[0].Key
	}
	v := f.view(e, lists, true, nil)
	v.Action = "/experiments/" + url.PathEscape(e.Key) + "/claims/new"
	a.render(c, http.StatusOK, "claim", "New claim", v)
	return nil
}

func (a *app) editClaim(c *gin.Context) error {
	ctx := c.Request.Context()
	e, err := a.svc.GetExperiment(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	cl, err := a.svc.Claim(ctx, e.Key, c.Param("id"))
	if err != nil {
		return err
	}
	lists, err := a.claimLists(ctx)
	if err != nil {
		return err
	}
	v := claimFormOf(cl).view(e, lists, false, nil)
	v.Action = "/experiments/" + url.PathEscape(e.Key) + "/claims/" + url.PathEscape(cl.ID) + "/edit"
	a.render(c, http.StatusOK, "claim", "Edit claim "+cl.ID, v)
	return nil
}

func (a *app) saveClaim(c *gin.Context) error {
	ctx := c.Request.Context()
	e, err := a.svc.GetExperiment(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	id := c.Param("id")
	f := claimFormFromPost(c.Request.PostForm)
	if id != "" {
		f["id"] = id
	}
	cl, parseErrs := f.claim()
	switch {
	case len(parseErrs) > 0:
		err = experiments.Invalid("invalid claim", parseErrs)
	case id == "":
		_, err = a.svc.CreateClaim(ctx, e.Key, cl)
	default:
		_, err = a.svc.UpdateClaim(ctx, e.Key, id, cl)
	}
	if err != nil {
		code := experiments.ErrorCode(err)
		if code != experiments.CodeInvalid && code != experiments.CodeConflict {
			return err
		}
		var fes []experiments.FieldError
		var msg string
		if ee := (*experiments.Error)(nil); errors.As(err, &ee) {
			fes, msg = ee.Fields, ee.Message
		}
		lists, lerr := a.claimLists(ctx)
		if lerr != nil {
			return lerr
		}
		v := f.view(e, lists, id == "", fes)
		if len(fes) == 0 || code == experiments.CodeConflict {
			v.General = append([]string{msg}, v.General...)
		}
		v.Action = c.Request.URL.Path
		status := httpstatus.Of(code)
		a.render(c, status, "claim", "Claim", v)
		return nil
	}
	c.Redirect(http.StatusSeeOther, "/experiments/"+url.PathEscape(e.Key)+"/edit?done=claim-saved")
	return nil
}

func (a *app) confirmDeleteClaim(c *gin.Context) error {
	ctx := c.Request.Context()
	cl, err := a.svc.Claim(ctx, c.Param("key"), c.Param("id"))
	if err != nil {
		return err
	}
	base := "/experiments/" + url.PathEscape(c.Param("key"))
	a.render(c, http.StatusOK, "confirm", "Delete claim", confirmView{
		Heading: "Delete the claim “" + cl.ID + "”?",
		Message: "The report will no longer test it. Its earlier versions stay in the claim’s history.",
		Action:  base + "/claims/" + url.PathEscape(cl.ID) + "/delete", Button: "Delete the claim", Cancel: base + "/edit", Danger: true,
	})
	return nil
}

func (a *app) deleteClaim(c *gin.Context) error {
	key := c.Param("key")
	if err := a.svc.DeleteClaim(c.Request.Context(), key, c.Param("id")); err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/experiments/"+url.PathEscape(key)+"/edit?done=claim-deleted")
	return nil
}
