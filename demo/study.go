package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/revealed-ab/revealed/experiments"
)

// The X-VOC-like key-driver study (shared/research/survey.md): about 750
// buyers rate eight sub-processes of a purchase and their overall
// satisfaction, 1 to 10, and name the one that mattered most. What they
// name and what drives their rating are set apart on purpose, as X-VOC
// found: price is named often (18%) and drives almost nothing; service is
// both named most (30%) and drives most.
const (
	studyKey    = "xvoc-drivers"
	studyBuyers = 750
)

// studyDriver is one sub-process: how often buyers name it as the key
// reason, and its weight in the overall rating (a buyer's overall is
// 1.2 + Σ weight × rating + N(0, 0.8²), rounded and clipped to 1–10).
type studyDriver struct {
	key, label string
	named      float64
	weight     float64
}

var studyDrivers = []studyDriver{
	{"service", "Service", 0.30, 0.32},
	{"price", "Price", 0.18, 0.01},
	{"product", "Product quality", 0.14, 0.18},
	{"delivery", "Delivery", 0.10, 0.12},
	{"knows_me", "Knows me personally", 0.08, 0.10},
	{"ordering", "Ordering", 0.08, 0.05},
	{"invoicing", "Invoicing", 0.07, 0.02},
	{"portal", "Support portal", 0.05, 0.06},
}

// loadStudy creates the study's questions, the study and the buyers'
// answers, unless the study exists.
func loadStudy(ctx context.Context, svc *experiments.Service, seed uint64) error {
	if _, err := svc.Study(ctx, studyKey); err == nil {
		return nil
	} else if experiments.ErrorCode(err) != experiments.CodeNotFound {
		return err
	}
	rating := func(key, text string) experiments.QuestionInput {
		return experiments.QuestionInput{Key: key, Text: text, Kind: experiments.QuestionRating, Scale: &experiments.Scale{Min: 1, Max: 10}, Source: "X-VOC-like demo study"}
	}
	questions := []experiments.QuestionInput{rating("xvoc_overall", "Overall, how satisfied are you with buying from us?")}
	study := experiments.StudyInput{Key: studyKey, Name: "What buyers say matters, and what drives them",
		Outcome: experiments.StudyVariable{Question: "xvoc_overall", Label: "overall satisfaction"},
		Stated:  experiments.StudyStated{Question: "xvoc_key_reason"}, Seed: seed}
	reason := experiments.QuestionInput{Key: "xvoc_key_reason", Text: "Which part of buying from us mattered most?", Kind: experiments.QuestionChoice, Source: "X-VOC-like demo study"}
	for _, d := range studyDrivers {
		questions = append(questions, rating("xvoc_"+d.key, "How satisfied are you with: "+d.label+"?"))
		study.Drivers = append(study.Drivers, experiments.StudyVariable{Key: d.key, Label: d.label, Question: "xvoc_" + d.key})
		reason.Options = append(reason.Options, d.key)
	}
	for _, q := range append(questions, reason) {
		if _, err := svc.CreateQuestion(ctx, q); err != nil && experiments.ErrorCode(err) != experiments.CodeConflict {
			return fmt.Errorf("creating question %s: %w", q.Key, err)
		}
	}
	if _, err := svc.CreateStudy(ctx, study); err != nil {
		return fmt.Errorf("creating the study: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 750))
	at := time.Now().Add(-30 * 24 * time.Hour).UTC()
	var batch []experiments.Event
	for i := range studyBuyers {
		unit := fmt.Sprintf("buyer-%03d", i+1)
		overall := 1.2
		for _, d := range studyDrivers {
			r := math.Max(1, math.Min(10, math.Round(7+1.6*rng.NormFloat64())))
			overall += d.weight * r
			batch = append(batch, experiments.Event{Type: experiments.EventResponse, UnitID: unit, Question: "xvoc_" + d.key, Answer: r, TS: &at})
		}
		overall = math.Max(1, math.Min(10, math.Round(overall+0.8*rng.NormFloat64())))
		batch = append(batch, experiments.Event{Type: experiments.EventResponse, UnitID: unit, Question: "xvoc_overall", Answer: overall, TS: &at})
		u, named := rng.Float64(), studyDrivers[len(studyDrivers)-1].key
		for _, d := range studyDrivers {
			if u < d.named {
				named = d.key
				break
			}
			u -= d.named
		}
		batch = append(batch, experiments.Event{Type: experiments.EventResponse, UnitID: unit, Question: "xvoc_key_reason", Answer: named, TS: &at})
	}
	_, err := svc.Ingest(ctx, batch)
	return err
}
