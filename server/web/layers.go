package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/revealed-ab/revealed/experiments"
)

// Layers: each drawn as a bar of its hash space, with the experiments'
// ranges on it and the space no running experiment takes. The page draws
// what the service stores and decides nothing: the service refuses an
// overlapping start.

type layersView struct {
	Layers []layerView
}

type layerView struct {
	L     *experiments.Layer
	Chart template.HTML
	Rows  []layerRow
	// Free lists the ranges no running experiment takes, and FreeShare
	// their total share.
	Free      []string
	FreeShare string
}

type layerRow struct {
	Key, Name, Range, Share string
	Status                  experiments.Status
}

// rangeText writes [lo, hi) as the editor takes it.
func rangeText(lo, hi float64) string { return "[" + num(lo) + ", " + num(hi) + ")" }

func (a *app) layers(c *gin.Context) error {
	ctx := c.Request.Context()
	ls, err := a.svc.Layers(ctx)
	if err != nil {
		return err
	}
	exps, err := a.svc.ListExperiments(ctx, "")
	if err != nil {
		return err
	}
	byLayer := map[string][]*experiments.Experiment{}
	for _, e := range exps {
		if e.Layer != nil {
			byLayer[e.Layer.Key] = append(byLayer[e.Layer.Key], e)
		}
	}
	v := layersView{}
	for _, l := range ls {
		v.Layers = append(v.Layers, layerViewOf(l, byLayer[l.Key]))
	}
	a.render(c, http.StatusOK, "layers", "Layers", v)
	return nil
}

func layerViewOf(l *experiments.Layer, exps []*experiments.Experiment) layerView {
	slices.SortFunc(exps, func(a, b *experiments.Experiment) int {
		return cmp.Or(cmp.Compare(a.Layer.Range[0], b.Layer.Range[0]), cmp.Compare(a.Layer.Range[1], b.Layer.Range[1]), strings.Compare(a.Key, b.Key))
	})
	v := layerView{L: l}
	ch := layerChart{ID: "layer-bar-" + l.Key, Title: "Layer “" + l.Name + "”: its units from 0 to 1, and the experiments’ ranges"}
	var running, others []string
	var taken [][2]float64
	for _, e := range exps {
		lo, hi := e.Layer.Range[0], e.Layer.Range[1]
		row := layerRow{Key: e.Key, Name: e.Name, Range: rangeText(lo, hi), Share: fmtPct(hi - lo), Status: e.Status}
		v.Rows = append(v.Rows, row)
		ch.Segs = append(ch.Segs, layerSeg{Key: e.Key, Status: e.Status, Lo: lo, Hi: hi,
			Title: fmt.Sprintf("%s (%s): %s, %s of the layer, %s", e.Name, e.Key, row.Range, row.Share, e.Status)})
		d := fmt.Sprintf("%s %s (%s)", e.Key, row.Range, row.Share)
		if e.Status == experiments.StatusRunning {
			running = append(running, d)
			taken = append(taken, e.Layer.Range)
		} else {
			others = append(others, d+", "+string(e.Status))
		}
	}
	ch.Free = freeRanges(taken)
	free := 0.0
	for _, f := range ch.Free {
		v.Free = append(v.Free, rangeText(f[0], f[1]))
		free += f[1] - f[0]
	}
	v.FreeShare = fmtPct(free)
	desc := []string{"Running: " + orNone(running), fmt.Sprintf("free for another running experiment: %s (%s)", orNone(v.Free), v.FreeShare)}
	if len(others) > 0 {
		desc = append(desc, "not running, drawn below the bar: "+strings.Join(others, "; "))
	}
	ch.Desc = strings.Join(desc, ". ") + "."
	v.Chart = ch.SVG()
	return v
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

// freeRanges is [0, 1) less the taken ranges, in order.
func freeRanges(taken [][2]float64) [][2]float64 {
	slices.SortFunc(taken, func(a, b [2]float64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]float64
	at := 0.0
	for _, t := range taken {
		if t[0] > at+1e-12 {
			out = append(out, [2]float64{at, t[0]})
		}
		at = max(at, t[1])
	}
	if at < 1-1e-12 {
		out = append(out, [2]float64{at, 1})
	}
	return out
}

// The new-layer form.

var layerFields = []string{"key", "name", "salt"}

func (f textForm) layerView() formView {
	key := f.field("key", "Key", "A slug, e.g. support-agent: experiments name the layer by it. It cannot change later.")
	key.Required = true
	return formView{
		Heading: "New layer",
		Intro:   "A layer is a hash space of units from 0 to 1 that experiments split: each takes a range, and the ranges of running experiments may not overlap, so no customer is in two of them. Use one for experiments that change the same thing.",
		Action:  "/layers/new", Cancel: "/layers", Button: "Create the layer", ButtonID: "save-layer",
		Groups: []fieldGroup{{Legend: "The layer", Fields: []field{
			key,
			f.field("name", "Name", "e.g. “Who answers the customer”."),
			f.field("salt", "Salt", "Optional; defaults to one made from the key. It decides where each unit falls in the layer, and cannot change later."),
		}}},
	}
}

func (a *app) newLayer(c *gin.Context) error {
	a.render(c, http.StatusOK, "form", "New layer", textForm{}.layerView())
	return nil
}

func (a *app) createLayer(c *gin.Context) error {
	f := textFormFromPost(c.Request.PostForm, layerFields)
	f["salt"] = c.Request.PostForm.Get("salt") // as typed: spaces are part of a salt
	in := experiments.LayerInput{Key: f["key"], Name: f["name"], Salt: f["salt"]}
	if _, err := a.svc.CreateLayer(c.Request.Context(), in); err != nil {
		return a.plainFormError(c, f.layerView(), "New layer", err)
	}
	c.Redirect(http.StatusSeeOther, "/layers?done=layer-created#layer-"+url.PathEscape(in.Key))
	return nil
}
