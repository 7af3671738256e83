package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

// The survey questions whose answers customers send as response events.

type questionListView struct {
	Questions []questionRow
}

type questionRow struct {
	Q       *experiments.Question
	Answers string // the options, or the scale, in words
}

func answersOf(q *experiments.Question) string {
	switch {
	case q.Kind == experiments.QuestionChoice:
		return strings.Join(q.Options, " · ")
	case q.Scale != nil:
		return "whole numbers from " + fmtNum(q.Scale.Min) + " to " + fmtNum(q.Scale.Max)
	}
	return "any number"
}

func (a *app) questions(c *gin.Context) error {
	qs, err := a.svc.Questions(c.Request.Context())
	if err != nil {
		return err
	}
	v := questionListView{}
	for _, q := range qs {
		v.Questions = append(v.Questions, questionRow{Q: q, Answers: answersOf(q)})
	}
	a.render(c, http.StatusOK, "questions", "Questions", v)
	return nil
}

// questionForm holds a question as typed. Options are one per line, since
// an option may itself contain a comma.
type questionForm struct {
	Key, Text, Kind, Options, ScaleMin, ScaleMax, Source string
}

func questionFormOf(q *experiments.Question) questionForm {
	f := questionForm{Key: q.Key, Text: q.Text, Kind: string(q.Kind), Options: strings.Join(q.Options, "\n"), Source: q.Source}
	if q.Scale != nil {
		f.ScaleMin, f.ScaleMax = num(q.Scale.Min), num(q.Scale.Max)
	}
	return f
}

func questionFormFromPost(v url.Values) questionForm {
	return questionForm{
		Key: strings.TrimSpace(v.Get("key")), Text: strings.TrimSpace(v.Get("text")), Kind: v.Get("kind"),
		Options: v.Get("options"), ScaleMin: strings.TrimSpace(v.Get("scale.min")), ScaleMax: strings.TrimSpace(v.Get("scale.max")),
		Source: strings.TrimSpace(v.Get("source")),
	}
}

// lock keeps what an answered question may not change: the form shows those
// fields disabled, and browsers do not send disabled inputs.
func (f *questionForm) lock(cur *experiments.Question) {
	if cur.Answered {
		c := questionFormOf(cur)
		f.Kind, f.Options, f.ScaleMin, f.ScaleMax = c.Kind, c.Options, c.ScaleMin, c.ScaleMax
	}
}

// input turns the form into the service's input. Text where a number
// belongs is returned as an error; the service reports everything else.
func (f questionForm) input() (experiments.QuestionInput, []experiments.FieldError) {
	in := experiments.QuestionInput{Key: f.Key, Text: f.Text, Kind: experiments.QuestionKind(f.Kind), Source: f.Source}
	for _, line := range strings.Split(f.Options, "\n") {
		if o := strings.TrimSpace(line); o != "" {
			in.Options = append(in.Options, o)
		}
	}
	var errs []experiments.FieldError
	number := func(field, s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			errs = append(errs, experiments.FieldError{Field: field, Detail: "must be a whole number"})
		}
		return x
	}
	if f.ScaleMin != "" || f.ScaleMax != "" {
		in.Scale = &experiments.Scale{Min: number("scale.min", f.ScaleMin), Max: number("scale.max", f.ScaleMax)}
	}
	return in, errs
}

var optionPath = regexp.MustCompile(`^options\[(\d+)\]$`)

// optionLines names an option error by its line in the textarea, which is
// what a person reads, rather than by its index in the list.
func optionLines(errs []experiments.FieldError) []experiments.FieldError {
	out := make([]experiments.FieldError, len(errs))
	for i, e := range errs {
		if m := optionPath.FindStringSubmatch(e.Field); m != nil {
			n, _ := strconv.Atoi(m[1])
			e = experiments.FieldError{Field: "options", Detail: fmt.Sprintf("line %d: %s", n+1, e.Detail)}
		}
		out[i] = e
	}
	return out
}

type questionFormView struct {
	New, Locked bool
	Q           *experiments.Question
	Action      string
	General     []string
	Fields      []field
	Scale       []field
	ScaleErr    []string
	Errors      []errorLink
}

func (f questionForm) view(cur *experiments.Question, errs []experiments.FieldError) questionFormView {
	locked := cur != nil && cur.Answered
	v := questionFormView{New: cur == nil, Locked: locked, Q: cur}
	known := map[string]bool{"scale": true}
	mk := func(name, label, value, hint string) field {
		known[name] = true
		return field{Name: name, ID: inputID(name), Label: label, Value: value, Hint: hint, Type: "text"}
	}
	lockable := func(fl field) field {
		if locked {
			fl.Disabled = true
			fl.Hint = "Locked: the question has responses, and changing this would change what the stored answers mean."
		}
		return fl
	}
	key := mk("key", "Key", f.Key, "A slug, e.g. agent_pref: response events name the question by it. It cannot change later.")
	key.Disabled, key.Required = cur != nil, true
	text := mk("text", "Question", f.Text, "As customers read it, e.g. “Would you rather wait 10 minutes for a human or 5 for a chatbot?”")
	text.Type = "textarea"
	kind := mk("kind", "Kind", f.Kind, "")
	kind.Type = "select"
	kind.Options = options(f.Kind, "choice", "choice: one of a list of options", "rating", "rating: a whole number on a scale", "number", "number: any number")
	opts := mk("options", "Options (choice questions)", f.Options, "One per line, 2 to 20, exactly as response events send them, e.g. human and chatbot.")
	opts.Type = "textarea"
	v.Fields = []field{key, text, lockable(kind), lockable(opts), mk("source", "Source", f.Source, "Optional: who asks it, where and since when.")}
	v.Scale = []field{
		lockable(mk("scale.min", "Lowest answer", f.ScaleMin, "")),
		lockable(mk("scale.max", "Highest answer", f.ScaleMax, "")),
	}
	placed, general := place(optionLines(errs), known)
	v.General = general
	v.ScaleErr = placed["scale"]
	for _, group := range [][]field{v.Fields, v.Scale} {
		for i := range group {
			group[i].Errs = placed[group[i].Name]
			if len(group[i].Errs) > 0 {
				v.Errors = append(v.Errors, errorLink{"#" + group[i].ID, group[i].Label + ": " + strings.Join(group[i].Errs, "; ")})
			}
		}
	}
	for _, m := range v.ScaleErr {
		v.Errors = append(v.Errors, errorLink{"#scale", "Scale: " + m})
	}
	return v
}

func (a *app) newQuestion(c *gin.Context) error {
	v := questionForm{Kind: string(experiments.QuestionChoice)}.view(nil, nil)
	v.Action = "/questions/new"
	a.render(c, http.StatusOK, "question", "New question", v)
	return nil
}

func (a *app) editQuestion(c *gin.Context) error {
	q, err := a.svc.Question(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	v := questionFormOf(q).view(q, nil)
	v.Action = "/questions/" + url.PathEscape(q.Key) + "/edit"
	a.render(c, http.StatusOK, "question", "Edit question "+q.Key, v)
	return nil
}

func (a *app) createQuestion(c *gin.Context) error {
	f := questionFormFromPost(c.Request.PostForm)
	in, parseErrs := f.input()
	var err error
	if len(parseErrs) > 0 {
		err = experiments.Invalid("invalid question", parseErrs)
	} else {
		_, err = a.svc.CreateQuestion(c.Request.Context(), in)
	}
	if err != nil {
		return a.questionError(c, f, nil, err)
	}
	c.Redirect(http.StatusSeeOther, "/questions?done=question-created")
	return nil
}

func (a *app) updateQuestion(c *gin.Context) error {
	ctx := c.Request.Context()
	cur, err := a.svc.Question(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	f := questionFormFromPost(c.Request.PostForm)
	f.Key = cur.Key
	f.lock(cur)
	in, parseErrs := f.input()
	if len(parseErrs) > 0 {
		err = experiments.Invalid("invalid question", parseErrs)
	} else {
		_, err = a.svc.UpdateQuestion(ctx, cur.Key, in)
	}
	if err != nil {
		return a.questionError(c, f, cur, err)
	}
	c.Redirect(http.StatusSeeOther, "/questions?done=question-saved")
	return nil
}

// questionError shows the form again with each error beside its field, or
// returns err when it is not about the input.
func (a *app) questionError(c *gin.Context, f questionForm, cur *experiments.Question, err error) error {
	code := experiments.ErrorCode(err)
	if code != experiments.CodeInvalid && code != experiments.CodeConflict {
		return err
	}
	var e *experiments.Error
	errors.As(err, &e)
	var fes []experiments.FieldError
	if e != nil {
		fes = e.Fields
	}
	v := f.view(cur, fes)
	if e != nil && (len(fes) == 0 || code == experiments.CodeConflict) {
		v.General = append([]string{e.Message}, v.General...)
	}
	v.Action = c.Request.URL.Path
	title := "New question"
	if cur != nil {
		title = "Edit question " + cur.Key
	}
	a.render(c, httpstatus.Of(code), "question", title, v)
	return nil
}
