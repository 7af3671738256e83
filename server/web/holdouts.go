package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/server/httpstatus"
)

// Holdouts: a share of units kept out of every experiment listed, and the
// report that compares them with everyone else who reached those
// experiments. The report is the service's; the page draws it with the
// experiment report's helpers.

type holdoutsView struct {
	Rows []holdoutRow
}

type holdoutRow struct {
	H           *experiments.Holdout
	Share       string
	Experiments []expLink
	Metrics     []string
}

// expLink names an experiment, with its status when it is known.
type expLink struct {
	Key, Name string
	Status    experiments.Status
}

func (a *app) expLinks(c *gin.Context, keys []string) ([]expLink, error) {
	exps, err := a.svc.ListExperiments(c.Request.Context(), "")
	if err != nil {
		return nil, err
	}
	out := make([]expLink, len(keys))
	for i, k := range keys {
		out[i] = expLink{Key: k, Name: k}
		if j := slices.IndexFunc(exps, func(e *experiments.Experiment) bool { return e.Key == k }); j >= 0 {
			out[i].Name, out[i].Status = exps[j].Name, exps[j].Status
		}
	}
	return out, nil
}

func (a *app) holdouts(c *gin.Context) error {
	hs, err := a.svc.Holdouts(c.Request.Context())
	if err != nil {
		return err
	}
	v := holdoutsView{}
	for _, h := range hs {
		links, err := a.expLinks(c, h.Experiments)
		if err != nil {
			return err
		}
		row := holdoutRow{H: h, Share: fmtPct(h.Share), Experiments: links}
		for _, m := range h.Metrics {
			row.Metrics = append(row.Metrics, m.Key)
		}
		v.Rows = append(v.Rows, row)
	}
	a.render(c, http.StatusOK, "holdouts", "Holdouts", v)
	return nil
}

// holdoutView is a holdout's report: held out against exposed on each
// metric, and the sample ratio against the share.
type holdoutView struct {
	H           *experiments.Holdout
	R           *analysis.Report
	Share       string
	Level       string
	SRM         srmView
	Experiments []expLink
	Metrics     []metricView
	// Units are those recorded held out or exposed so far.
	Units int64
}

func (a *app) holdout(c *gin.Context) error {
	hv, err := a.svc.HoldoutReport(c.Request.Context(), c.Param("key"))
	if err != nil {
		return err
	}
	h, r := hv.Holdout, hv.Report
	v := holdoutView{H: h, R: r, Share: fmtPct(h.Share), Level: confidence(r.Alpha), SRM: srmOf(r)}
	if v.Experiments, err = a.expLinks(c, h.Experiments); err != nil {
		return err
	}
	for _, a := range r.SRM.Variants {
		v.Units += a.Observed
	}
	for i, m := range r.Metrics {
		mv := metricViewOf(i, m, r, nil)
		mv.Notes = maturityNotes(nil, m)
		// Without an interval there is nothing to draw but a dot at zero.
		if !slices.ContainsFunc(m.Comparisons, func(c analysis.Comparison) bool { return c.AbsCI != nil }) {
			mv.Forest = ""
		}
		v.Metrics = append(v.Metrics, mv)
	}
	a.render(c, http.StatusOK, "holdout", h.Name, v)
	return nil
}

// The new-holdout form: key, name, share, salt, the experiments as
// checkboxes and the metrics as the experiment editor's rows.

type holdoutForm struct {
	Key, Name, Share, Salt string
	Experiments            []string
	Metrics                []metricRow
}

func holdoutFormFromPost(v url.Values) holdoutForm {
	f := holdoutForm{Key: strings.TrimSpace(v.Get("key")), Name: strings.TrimSpace(v.Get("name")), Share: strings.TrimSpace(v.Get("share")),
		Salt: v.Get("salt"), Experiments: v["experiments"], Metrics: metricRowsFromPost(v)}
	return f
}

// input turns the form into the service's input; the share's parse error
// is returned, the service reports everything else.
func (f holdoutForm) input() (experiments.HoldoutInput, rowMap, []experiments.FieldError) {
	var errs []experiments.FieldError
	bad := func(field, detail string) { errs = append(errs, experiments.FieldError{Field: field, Detail: detail}) }
	in := experiments.HoldoutInput{Key: f.Key, Name: f.Name, Salt: f.Salt, Experiments: f.Experiments}
	if in.Experiments == nil {
		in.Experiments = []string{}
	}
	if f.Share == "" {
		bad("share", "is required: the share of units to hold out, e.g. 0.05")
	} else if x, err := strconv.ParseFloat(strings.TrimSuffix(f.Share, "%"), 64); err != nil {
		bad("share", "must be a number, e.g. 0.05 for 5%")
	} else {
		if strings.HasSuffix(f.Share, "%") {
			x /= 100
		}
		in.Share = x
	}
	rows := rowMap{}
	var from []int
	in.Metrics, from = metricsInput(f.Metrics, nil, bad)
	if in.Metrics == nil {
		in.Metrics = []experiments.Metric{}
	}
	rows["metrics"] = from
	return in, rows, errs
}

type holdoutFormView struct {
	Action         string
	General        []string
	ErrorList      []errorLink
	Basics         []field
	Experiments    []field
	ExperimentsErr []string
	Metrics        [][]field
	MetricsErr     []string
}

var experimentsPath = regexp.MustCompile(`^experiments\[\d+\]$`)

func (f holdoutForm) view(exps []*experiments.Experiment, errs []experiments.FieldError) holdoutFormView {
	known := map[string]bool{"experiments": true, "metrics": true}
	mk := func(name, label, value, hint string) field {
		known[name] = true
		return field{Name: name, ID: inputID(name), Label: label, Value: value, Hint: hint, Type: "text"}
	}
	key := mk("key", "Key", f.Key, "A slug, e.g. global-q1: its report’s address. It cannot change later.")
	key.Required = true
	share := mk("share", "Share held out", f.Share, "Above 0 and at most 0.5, e.g. 0.05 to keep 5% of units out of every experiment below.")
	share.Type = "number"
	v := holdoutFormView{Action: "/holdouts/new", Basics: []field{
		key,
		mk("name", "Name", f.Name, "e.g. “Support changes, first quarter”."),
		share,
		mk("salt", "Salt", f.Salt, "Optional; defaults to one made from the key. It decides which units are held out."),
	}}
	for _, e := range exps {
		cb := field{Name: "experiments", ID: inputID("experiments-" + e.Key), Label: e.Name + " (" + e.Key + ", " + string(e.Status) + ")",
			Value: e.Key, Type: "checkbox", Checked: slices.Contains(f.Experiments, e.Key)}
		v.Experiments = append(v.Experiments, cb)
	}
	v.Metrics = metricFields(f.Metrics, known)
	// An error about one listed experiment goes beside the list: it names
	// the experiment.
	for i := range errs {
		if experimentsPath.MatchString(errs[i].Field) {
			errs[i].Field = "experiments"
		}
	}
	placed, general := place(errs, known)
	v.General = general
	for i := range v.Basics {
		fl := &v.Basics[i]
		fl.Errs = placed[fl.Name]
		if len(fl.Errs) > 0 {
			v.ErrorList = append(v.ErrorList, errorLink{"#" + fl.ID, fl.Label + ": " + strings.Join(fl.Errs, "; ")})
		}
	}
	for _, row := range v.Metrics {
		for i := range row {
			row[i].Errs = placed[row[i].Name]
			if len(row[i].Errs) > 0 {
				v.ErrorList = append(v.ErrorList, errorLink{"#" + row[i].ID, row[i].Label + ": " + strings.Join(row[i].Errs, "; ")})
			}
		}
	}
	v.ExperimentsErr = placed["experiments"]
	for _, m := range v.ExperimentsErr {
		v.ErrorList = append(v.ErrorList, errorLink{"#experiments", "Experiments: " + m})
	}
	v.MetricsErr = placed["metrics"]
	for i := range f.Metrics {
		for _, m := range placed[fmt.Sprintf("metrics[%d]", i)] {
			v.MetricsErr = append(v.MetricsErr, fmt.Sprintf("row %d: %s", i+1, m))
		}
	}
	for _, m := range v.MetricsErr {
		v.ErrorList = append(v.ErrorList, errorLink{"#metrics", "Metrics: " + m})
	}
	return v
}

// withBlankRow adds an empty metric row to fill in.
func (f holdoutForm) withBlankRow() holdoutForm {
	if len(f.Metrics) < 20 {
		f.Metrics = append(slices.Clip(f.Metrics), metricRow{Kind: "binary", HigherIsBetter: true})
	}
	return f
}

func (a *app) newHoldout(c *gin.Context) error {
	exps, err := a.svc.ListExperiments(c.Request.Context(), "")
	if err != nil {
		return err
	}
	a.render(c, http.StatusOK, "holdoutform", "New holdout", holdoutForm{}.withBlankRow().view(exps, nil))
	return nil
}

func (a *app) createHoldout(c *gin.Context) error {
	ctx := c.Request.Context()
	f := holdoutFormFromPost(c.Request.PostForm)
	in, rows, parseErrs := f.input()
	var err error
	if len(parseErrs) > 0 {
		err, rows = experiments.Invalid("invalid holdout", parseErrs), nil
	} else {
		_, err = a.svc.CreateHoldout(ctx, in)
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/holdouts/"+url.PathEscape(in.Key)+"?done=holdout-created")
		return nil
	}
	code := experiments.ErrorCode(err)
	if code != experiments.CodeInvalid && code != experiments.CodeConflict {
		return err
	}
	exps, lerr := a.svc.ListExperiments(ctx, "")
	if lerr != nil {
		return lerr
	}
	var fes []experiments.FieldError
	var ee *experiments.Error
	if errors.As(err, &ee) {
		for _, fe := range ee.Fields {
			fe.Field = rows.toFormRows(fe.Field)
			fes = append(fes, fe)
		}
	}
	v := f.view(exps, fes)
	if ee != nil && (len(ee.Fields) == 0 || code == experiments.CodeConflict) {
		v.General = append([]string{ee.Message}, v.General...)
	}
	a.render(c, httpstatus.Of(code), "holdoutform", "New holdout", v)
	return nil
}
