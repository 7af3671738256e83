package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
)

// Key-driver studies: what customers say matters beside what drives the
// outcome in their own answers. The page presents the service's report and
// computes nothing of its own; every number goes through format.go.

type studyListView struct {
	Rows []studyRow
}

type studyRow struct {
	S       *experiments.Study
	Outcome string
	Drivers int
}

func (a *app) studies(c *gin.Context) error {
	ss, err := a.svc.Studies(c.Request.Context())
	if err != nil {
		return err
	}
	v := studyListView{Rows: make([]studyRow, len(ss))}
	for i, s := range ss {
		v.Rows[i] = studyRow{S: s, Outcome: variableLabel(s.Outcome, "the outcome"), Drivers: len(s.Drivers)}
	}
	a.render(c, http.StatusOK, "studies", "Studies", v)
	return nil
}

// variableLabel names a study variable as people typed it, else by what it
// reads; the analysis itself knows drivers only by key.
func variableLabel(v experiments.StudyVariable, fallback string) string {
	switch {
	case v.Label != "":
		return v.Label
	case v.Key != "":
		return v.Key
	case v.Question != "":
		return v.Question
	case v.Metric != "":
		return v.Metric
	}
	return fallback
}

// source says where a variable's values come from.
func source(v experiments.StudyVariable) string {
	if v.Metric != "" {
		return "metric " + v.Metric
	}
	return "question " + v.Question
}

type studyView struct {
	S        *experiments.Study
	R        *analysis.DriverReport
	Outcome  string
	Level    string
	Stated   string // where the stated shares come from
	Boot     string
	Chart    template.HTML
	Unplaced []string // drivers the chart cannot show, with why
	NoChart  string   // why there is no chart at all
	Rows     []driverRow
	R2, R2CI string
	N        string
	LeftOut  string
	Agree    []agreeRow
	LMGNote  string
}

type driverRow struct {
	Key, Label, Source      string
	Stated, StatedCI, SRank string
	Johnson, JohnsonCI      string
	DRank, DRankCI          string
	LMG, Beta               string
	Verdict, Icon           string
	Reason                  string
}

type agreeRow struct {
	Label, Value, CI, Reason string
}

// verdictIcons match the chart's marker shapes, so the table and the chart
// read alike without colour.
var verdictIcons = map[string]string{
	analysis.DriverOverrated:  "▲",
	analysis.DriverUnderrated: "■",
	analysis.DriverConsistent: "●",
}

func (a *app) study(c *gin.Context) error {
	ctx := c.Request.Context()
	s, err := a.svc.Study(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	r, err := a.svc.StudyReport(ctx, s.Key)
	if err != nil {
		return err
	}
	a.render(c, http.StatusOK, "study", s.Name, buildStudy(s, r))
	return nil
}

func buildStudy(s *experiments.Study, r *analysis.DriverReport) studyView {
	v := studyView{S: s, R: r, Outcome: variableLabel(s.Outcome, "the outcome"), Level: confidence(r.Alpha),
		R2: optNum(r.R2), R2CI: optInterval(r.R2, r.R2CI, fmtNum), N: fmtInt(r.N), LeftOut: fmtInt(r.LeftOut), LMGNote: r.LMGReason}
	switch {
	case s.Stated.Question != "":
		v.Stated = "the answers to the question " + s.Stated.Question + " (which mattered most?)"
	case s.Stated.Shares != nil:
		v.Stated = "shares typed in from a survey of " + fmtInt(s.Stated.SurveyN) + " respondents"
	default:
		v.Stated = "nowhere: the study has no stated importance"
	}
	switch {
	case r.Bootstrap.Reason == r.Reason && r.Reason != "":
		// The summary says it already.
	case r.Bootstrap.Reason != "":
		v.Boot = capitalize(r.Bootstrap.Reason) + "."
	default:
		v.Boot = fmt.Sprintf("%s intervals from %s bootstrap replicates (%s usable, seed %d)",
			v.Level, fmtInt(int64(r.Bootstrap.Replicates)), fmtInt(int64(r.Bootstrap.Usable)), r.Bootstrap.Seed) + "."
	}
	for _, ag := range []struct {
		label string
		d     analysis.DriverAgreement
	}{{"Spearman’s ρ", r.Spearman}, {"Kendall’s τ-b", r.Kendall}} {
		v.Agree = append(v.Agree, agreeRow{Label: ag.label, Value: optNum(ag.d.Value), CI: optInterval(ag.d.Value, ag.d.CI, fmtNum), Reason: ag.d.Reason})
	}

	labels := map[string]experiments.StudyVariable{}
	for _, d := range s.Drivers {
		labels[d.Key] = d
	}
	var points []quadPoint
	for _, d := range r.Drivers {
		sv, ok := labels[d.Driver]
		label := d.Driver
		if ok {
			label = variableLabel(sv, d.Driver)
		}
		row := driverRow{Key: d.Driver, Label: label, Verdict: d.Verdict, Icon: verdictIcons[d.Verdict], Reason: d.Reason,
			Stated: optPct(d.StatedShare), StatedCI: optInterval(d.StatedShare, d.StatedCI, fmtPct), SRank: optRank(d.StatedRank),
			Johnson: optPct(d.JohnsonPct), JohnsonCI: optInterval(d.JohnsonPct, d.JohnsonPctCI, fmtPct),
			DRank: optRank(d.DerivedRank), DRankCI: optInterval(d.DerivedRank, d.DerivedRankCI, fmtNum),
			LMG: optNum(d.LMG), Beta: optSigned(d.Beta)}
		if ok {
			row.Source = source(sv)
		}
		if row.Icon == "" {
			row.Icon = "◆"
		}
		v.Rows = append(v.Rows, row)
		if d.StatedShare == nil || d.JohnsonPct == nil {
			if r.Reason != "" {
				continue // one reason for every driver, said once in NoChart
			}
			why := d.Reason
			if why == "" && d.StatedShare == nil {
				why = "no stated share"
			}
			if why == "" {
				why = "no derived importance"
			}
			v.Unplaced = append(v.Unplaced, label+": "+why)
			continue
		}
		p := quadPoint{Label: label, Verdict: d.Verdict, X: *d.StatedShare, Y: *d.JohnsonPct}
		if d.StatedCI != nil {
			p.XCI = ptr([2]float64(*d.StatedCI))
		}
		if d.JohnsonPctCI != nil {
			p.YCI = ptr([2]float64(*d.JohnsonPctCI))
		}
		points = append(points, p)
	}
	if r.Reason != "" {
		v.NoChart = r.Reason
	}
	if len(points) > 0 {
		k := len(r.Drivers)
		v.Chart = quadrantChart{
			ID:    "quadrant",
			Title: "Stated against derived importance of the drivers of " + v.Outcome,
			Desc: fmt.Sprintf("Each of %d drivers is a marker: across, the share of respondents who say it matters most, with its %s Wilson interval; up, its share of R² (Johnson’s relative weight), with its %s bootstrap interval. "+
				"The marker’s shape and label give the verdict: a triangle is overrated, a square underrated, a circle consistent, a diamond undetermined. "+
				"Dashed lines mark an equal share of 1/%d.", len(points), v.Level, v.Level, k),
			Points:     points,
			XLabel:     "Stated: share naming it as what matters most",
			YLabel:     "Derived: share of R² (Johnson)",
			Equal:      1 / float64(k),
			EqualLabel: "equal share (1/" + strconv.Itoa(k) + ")",
		}.SVG()
	}
	return v
}

// The report's numbers are null where undefined; the row's reason says why.

func optNum(x *float64) string {
	if x == nil {
		return "—"
	}
	return fmtNum(*x)
}

func optSigned(x *float64) string {
	if x == nil {
		return "—"
	}
	return fmtSigned(*x)
}

func optPct(x *float64) string {
	if x == nil {
		return "—"
	}
	return fmtPct(*x)
}

func optRank(r *int) string {
	if r == nil {
		return "—"
	}
	return strconv.Itoa(*r)
}

// optInterval leaves out the interval of a null estimate: one "—" under
// another says nothing more.
func optInterval[T any](point *T, ci *analysis.Interval, f func(float64) string) string {
	if point == nil {
		return ""
	}
	return fmtInterval(ci, f)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}
