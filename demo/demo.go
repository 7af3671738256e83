// Package demo loads example experiments modelled on the B2B service survey
// (shared/research/survey.md) and simulates customers through the real
// assignment and ingestion paths, so that a newcomer sees real reports at
// once. Customers' behaviour is drawn from the parameters below, which are
// deliberately not the survey's figures: the point of Revealed is that what
// customers do can differ from what they say.
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// Options tune the simulation; the zero value is the documented demo.
type Options struct {
	Customers int    // default 4000
	Seed      uint64 // default 2128, the survey's sample size
}

// Behaviour per variant: the probability of resolution on first contact, the
// mean CSAT (1–5, sd 0.9, rounded and clipped), the mean minutes to
// resolution (exponential), and the probability that, offered both options
// for the next ticket, the customer picks the option the survey says people
// prefer (the revealed preference).
type behaviour struct {
	resolved float64
	csat     float64
	minutes  float64
	choose   float64
}

type experimentSpec struct {
	input     experiments.ExperimentInput
	claims    []analysis.Claim
	chooseKey string
	variants  map[string]behaviour
	// chooseByGeneration overrides behaviour.choose per generation.
	chooseByGeneration map[string]float64
	// ask is the survey question every customer answers the day before
	// their first exposure.
	ask asked
	// later, when set, spreads the customers' first exposures over the last
	// 120 days and adds what happens now and later (nowAndLater).
	later *nowAndLater
	// interaction, when set, changes this experiment's CSAT by the arm a
	// customer has in another experiment.
	interaction *interaction
}

// interaction is a documented interaction between two demo experiments: a
// customer in arm variant here and in arm otherVariant of experiment other
// rates the contact csat points higher (before the rating's regression to
// the customer's earlier rating, which keeps 60% of it). A human who
// teaches pleases more than the two effects added up, and human-vs-bot's
// report flags teach-vs-fix (about +0.5 CSAT, p < 0.001 with the default
// seed). Each demo experiment records its own CSAT outcomes, so
// teach-vs-fix's CSAT carries no interaction and its report flags nothing.
type interaction struct {
	other, variant, otherVariant string
	csat                         float64
}

// supportLayer holds the two experiments that change who answers the
// customer: choice-vs-single-fix takes [0, 0.5) of it and human-vs-bot
// [0.5, 1), so no customer is in both.
const supportLayer = "support-agent"

// nowAndLater is the marshmallow pattern, per variant: the mean CSAT of the
// contact itself, rated within 30 hours of it (so some ratings fall outside
// a 24-hour window), and the follow-up tickets a customer opens, a Poisson
// count per 90 days spread evenly over the 120 days after exposure. Fixing
// the problem pleases more today; teaching cuts the tickets of next quarter.
type nowAndLater struct {
	contactCSAT  map[string]float64
	ticketsPer90 map[string]float64
}

// laterSpan is how far back the first exposures of a nowAndLater experiment
// go: customers exposed within the last 90 days are still inside a 90-day
// window, and the report counts them as immature.
const laterSpan = 120 * 24 * time.Hour

// asked is a survey question and how customers answer it: says is the
// chance of giving the preferred option (per generation where given),
// which is the survey's own figure, so that the stated side of the demo's
// say_do claims is what the survey found.
type asked struct {
	question  experiments.QuestionInput
	preferred string
	says      float64
	saysByGen map[string]float64
}

// sayDoLink is how much more likely a customer who gave the preferred
// answer is to choose that option than one who did not: 30 points. The
// chances are set around the variant's revealed share p, at p + link·(1−s)
// for sayers and p − link·s for the others (s the share who say it), so
// that the revealed share stays p while saying and doing agree beyond
// chance, and the stated s overstates it: the demo's say-do gap.
const sayDoLink = 0.30

// The survey behind every demo claim (shared/research/survey.md).
const (
	surveySource = "ignite80 with Front, survey of 2,128 B2B buyers (2019)"
	surveyN      = 2128
)

func share(v float64) *float64 { return &v }

func span(d time.Duration) *experiments.Span { s := experiments.Span(d); return &s }

var generations = []struct {
	name  string
	share float64
}{{"gen_z", 0.20}, {"millennial", 0.35}, {"gen_x", 0.25}, {"boomer", 0.20}}

func metrics(chooseKey string) []experiments.Metric {
	return []experiments.Metric{
		{Key: "resolved", Kind: experiments.MetricBinary, HigherIsBetter: true},
		{Key: "csat", Kind: experiments.MetricMean, HigherIsBetter: true},
		{Key: "minutes_to_resolve", Kind: experiments.MetricMean, HigherIsBetter: false},
		{Key: chooseKey, Kind: experiments.MetricBinary, HigherIsBetter: true},
	}
}

func specs() []experimentSpec {
	ninety := 0.9
	return []experimentSpec{
		{
			input: experiments.ExperimentInput{
				Key: "choice-vs-single-fix", Name: "A choice of fixes vs one fix",
				Hypothesis: "Survey: 58% of B2B buyers would rather be offered several solutions and choose than have the problem solved with one.",
				Unit:       "customer_id",
				Variants:   []assign.Variant{{Key: "single-fix", Weight: 1, Control: true}, {Key: "choice", Weight: 1}},
				Metrics:    metrics("chose_options"),
				Layer:      &experiments.LayerRange{Key: supportLayer, Range: [2]float64{0, 0.5}},
			},
			claims: []analysis.Claim{
				{ID: "choice-58", StatementKey: "choice-58", Metric: "chose_options"},
				{ID: "choice-csat", Kind: analysis.ClaimEffect, Metric: "csat", Preferred: "choice",
					Statement: "Buyers prefer a choice of fixes, so being offered one leaves them more satisfied"},
				{ID: "say-choice", Kind: analysis.ClaimSayDo, Question: "fix_pref", Answer: "several_fixes", Metric: "chose_options",
					Option: "they want a choice of fixes", Statement: "Customers who say they want a choice of fixes choose one"},
			},
			chooseKey: "chose_options",
			ask: asked{question: experiments.QuestionInput{Key: "fix_pref", Kind: experiments.QuestionChoice,
				Text:    "Would you rather be offered several solutions and choose, or have the problem solved with one?",
				Options: []string{"several_fixes", "one_fix"}, Source: surveySource},
				preferred: "several_fixes", says: 0.58},
			variants: map[string]behaviour{
				"single-fix": {resolved: 0.80, csat: 3.90, minutes: 18, choose: 0.50},
				"choice":     {resolved: 0.81, csat: 4.00, minutes: 24, choose: 0.54},
			},
		},
		{
			input: experiments.ExperimentInput{
				Key: "human-vs-bot", Name: "A human in 10 minutes vs a chatbot in 5",
				Hypothesis: "Survey: 74% would rather wait 10 minutes for a human than 5 for a chatbot.",
				Unit:       "customer_id",
				Variants:   []assign.Variant{{Key: "bot", Weight: 1, Control: true}, {Key: "human", Weight: 1}},
				Metrics:    metrics("chose_human"),
				Layer:      &experiments.LayerRange{Key: supportLayer, Range: [2]float64{0.5, 1}},
			},
			interaction: &interaction{other: "teach-vs-fix", variant: "human", otherVariant: "teach", csat: 0.6},
			claims: []analysis.Claim{
				{ID: "human-74", StatementKey: "human-74", Metric: "chose_human"},
				{ID: "human-csat", StatementKey: "human-csat", Metric: "csat", Preferred: "human"},
				{ID: "say-human", Kind: analysis.ClaimSayDo, Question: "agent_pref", Answer: "human", Metric: "chose_human",
					Option: "they would wait for a human", Statement: "Customers who say they would wait for a human choose one"},
			},
			chooseKey: "chose_human",
			ask: asked{question: experiments.QuestionInput{Key: "agent_pref", Kind: experiments.QuestionChoice,
				Text:    "Would you rather wait 10 minutes for a human or 5 minutes for a chatbot?",
				Options: []string{"human", "chatbot"}, Source: surveySource},
				preferred: "human", says: 0.74},
			variants: map[string]behaviour{
				"bot":   {resolved: 0.72, csat: 3.70, minutes: 5, choose: 0.58},
				"human": {resolved: 0.80, csat: 4.05, minutes: 10, choose: 0.64},
			},
		},
		{
			input: experiments.ExperimentInput{
				Key: "teach-vs-fix", Name: "Teach the customer vs fix it for them",
				Hypothesis: "Survey: 61% would rather be taught to solve the problem (Gen Z 76%, Baby Boomers 51%).",
				Unit:       "customer_id",
				Variants:   []assign.Variant{{Key: "fix", Weight: 1, Control: true}, {Key: "teach", Weight: 1}},
				Traffic:    &ninety,
				Targeting: []assign.Condition{{Attribute: "generation", Op: assign.OpIn,
					Value: []any{"gen_z", "millennial", "gen_x", "boomer"}}},
				Metrics: append(metrics("chose_teach"),
					experiments.Metric{Key: "csat_24h", Kind: experiments.MetricMean, HigherIsBetter: true, Source: "contact_csat",
						Window: &experiments.Window{To: span(24 * time.Hour)}, Aggregation: experiments.AggMean},
					experiments.Metric{Key: "tickets_90d", Kind: experiments.MetricMean, HigherIsBetter: false, Source: "tickets",
						Window: &experiments.Window{To: span(90 * 24 * time.Hour)}}),
				Analysis: &experiments.AnalysisSettings{Segments: []string{"generation", "plan", "answer:learn_pref"}},
			},
			later: &nowAndLater{
				contactCSAT:  map[string]float64{"fix": 4.3, "teach": 3.9},
				ticketsPer90: map[string]float64{"fix": 1.2, "teach": 0.7},
			},
			claims: []analysis.Claim{
				{ID: "teach-61", StatementKey: "teach-61", Metric: "chose_teach"},
				{ID: "teach-genz-vs-boomers", StatementKey: "teach-genz-vs-boomers", Metric: "chose_teach",
					SegmentA: "generation=gen_z", SegmentB: "generation=boomer"},
				{ID: "teach-csat", Kind: analysis.ClaimEffect, Metric: "csat", Preferred: "teach",
					Statement: "Buyers prefer to be taught, so teaching leaves them more satisfied"},
				{ID: "say-teach", Kind: analysis.ClaimSayDo, Question: "learn_pref", Answer: "teach_me", Metric: "chose_teach",
					Option: "they want to be taught", Statement: "Customers who say they want to be taught choose it"},
				{ID: "fix-now-or-later", Kind: analysis.ClaimNowVsLater, Preferred: "fix", Other: "teach", Now: "csat_24h", Later: "tickets_90d",
					Statement: "Customers would rather have it fixed for them"},
			},
			chooseKey: "chose_teach",
			ask: asked{question: experiments.QuestionInput{Key: "learn_pref", Kind: experiments.QuestionChoice,
				Text:    "Would you rather be taught to solve the problem yourself, or have it solved for you?",
				Options: []string{"teach_me", "fix_it"}, Source: surveySource},
				preferred: "teach_me", says: 0.61,
				saysByGen: map[string]float64{"gen_z": 0.76, "millennial": 0.63, "gen_x": 0.56, "boomer": 0.51}},
			variants: map[string]behaviour{
				"fix":   {resolved: 0.82, csat: 4.00, minutes: 12},
				"teach": {resolved: 0.78, csat: 3.90, minutes: 20},
			},
			chooseByGeneration: map[string]float64{"gen_z": 0.70, "millennial": 0.55, "gen_x": 0.45, "boomer": 0.38},
		},
		humanVsWait(),
	}
}

// Behaviour of the factorial human-vs-wait experiment, per cell: CSAT falls
// by csatPerMinute for every minute of wait and a human adds csatHuman, so
// that in what these customers do a human is worth csatHuman/csatPerMinute
// = 9 minutes of wait on CSAT: more than the 5 minutes the survey's 74%
// implies. Ratings are rounded and clipped to 1–5, which shifts what the
// report measures (10.2 minutes, 95% CI 8.2 to 12.7, with the default seed).
const (
	csatBase      = 3.55
	csatHuman     = 0.45
	csatPerMinute = 0.05
)

// humanVsWait is agent × wait: it separates what a human is worth from
// what the wait costs, which the two-arm human-vs-bot cannot.
func humanVsWait() experimentSpec {
	factors := []experiments.Factor{
		{Key: "agent", Levels: []experiments.Level{experiments.TextLevel("bot"), experiments.TextLevel("human")}},
		{Key: "wait_minutes", Numeric: true, Levels: []experiments.Level{
			experiments.NumberLevel(5), experiments.NumberLevel(10), experiments.NumberLevel(15)}},
	}
	variants := map[string]behaviour{}
	for _, agent := range []string{"bot", "human"} {
		human := 0.0
		if agent == "human" {
			human = 1
		}
		for _, wait := range []float64{5, 10, 15} {
			variants[fmt.Sprintf("agent=%s,wait_minutes=%g", agent, wait)] = behaviour{
				resolved: 0.72 + 0.08*human - 0.004*(wait-5),
				csat:     csatBase + csatHuman*human - csatPerMinute*(wait-5),
				minutes:  wait + 6 + 4*human,
				choose:   0.55 + 0.1*human,
			}
		}
	}
	five := 5.0
	return experimentSpec{
		input: experiments.ExperimentInput{
			Key: "human-vs-wait", Name: "Agent × wait: how many minutes is a human worth?",
			Hypothesis: "Survey: 74% would rather wait 10 minutes for a human than 5 for a chatbot, so a human is worth at least 5 minutes of wait.",
			Unit:       "customer_id",
			Factors:    factors,
			Metrics:    metrics("chose_human"),
		},
		claims: []analysis.Claim{
			// The survey's statements, tested here too: the scoreboard pools
			// them with human-vs-bot's. The literal question is the cell of a
			// human at 10 minutes against a bot at 5.
			{ID: "human-74", StatementKey: "human-74", Metric: "chose_human"},
			{ID: "human-10-vs-bot-5", StatementKey: "human-csat", Metric: "csat",
				Preferred: "agent=human,wait_minutes=10", Other: "agent=bot,wait_minutes=5"},
			{ID: "human-worth-5-minutes", Kind: analysis.ClaimTradeoff, Metric: "csat", Factor: "agent", Preferred: "human",
				Cost: "wait_minutes", StatedCost: &five,
				Statement: "74% would rather wait 10 minutes for a human than 5 for a chatbot"},
		},
		chooseKey: "chose_human",
		ask: asked{question: experiments.QuestionInput{Key: "agent_pref", Kind: experiments.QuestionChoice,
			Text:    "Would you rather wait 10 minutes for a human or 5 minutes for a chatbot?",
			Options: []string{"human", "chatbot"}, Source: surveySource},
			preferred: "human", says: 0.74},
		variants: variants,
	}
}

// ExperimentKeys lists the demo's experiments.
func ExperimentKeys() []string {
	var keys []string
	for _, s := range specs() {
		keys = append(keys, s.input.Key)
	}
	return keys
}

// Load creates, starts and populates the demo experiments unless they exist.
// It reports whether it loaded anything.
func Load(ctx context.Context, svc *experiments.Service, opts Options) (bool, error) {
	if opts.Customers == 0 {
		opts.Customers = 4000
	}
	if opts.Seed == 0 {
		opts.Seed = 2128
	}
	var todo []experimentSpec
	for _, s := range specs() {
		_, err := svc.GetExperiment(ctx, s.input.Key)
		switch experiments.ErrorCode(err) {
		case experiments.CodeNotFound:
			todo = append(todo, s)
		case experiments.CodeInternal:
			if err != nil {
				return false, err
			}
		}
	}
	for _, s := range todo {
		_, err := svc.CreateQuestion(ctx, s.ask.question)
		if err != nil && experiments.ErrorCode(err) != experiments.CodeConflict {
			return false, fmt.Errorf("creating question %s: %w", s.ask.question.Key, err)
		}
	}
	if len(todo) > 0 {
		if err := loadSurvey(ctx, svc); err != nil {
			return false, err
		}
		_, err := svc.CreateLayer(ctx, experiments.LayerInput{Key: supportLayer, Name: "Who answers the customer"})
		if err != nil && experiments.ErrorCode(err) != experiments.CodeConflict {
			return false, fmt.Errorf("creating layer %s: %w", supportLayer, err)
		}
	}
	for _, s := range todo {
		if _, err := svc.CreateExperiment(ctx, s.input); err != nil {
			return false, fmt.Errorf("creating %s: %w", s.input.Key, err)
		}
		for _, c := range s.claims {
			if c.StatementKey == "" { // a statement brings its own source and survey
				c.Source = surveySource
				if c.Kind != analysis.ClaimSayDo && c.Kind != analysis.ClaimNowVsLater { // they take no survey_n
					c.SurveyN = surveyN
				}
			}
			if _, err := svc.CreateClaim(ctx, s.input.Key, c); err != nil {
				return false, fmt.Errorf("adding claim %s to %s: %w", c.ID, s.input.Key, err)
			}
		}
		if _, err := svc.Start(ctx, s.input.Key); err != nil {
			return false, fmt.Errorf("starting %s: %w", s.input.Key, err)
		}
	}
	for _, s := range todo {
		if err := simulate(ctx, svc, s, opts); err != nil {
			return false, fmt.Errorf("simulating %s: %w", s.input.Key, err)
		}
	}
	// The reports are computed ahead; the demo's data is all in now.
	for _, s := range todo {
		if _, err := svc.Refresh(ctx, s.input.Key); err != nil {
			return false, fmt.Errorf("computing the report of %s: %w", s.input.Key, err)
		}
	}
	if err := loadStudy(ctx, svc, opts.Seed); err != nil {
		return false, err
	}
	return len(todo) > 0, nil
}

type customer struct {
	id    string
	attrs map[string]any
}

func customers(opts Options) []customer {
	rng := rand.New(rand.NewPCG(opts.Seed, 1))
	out := make([]customer, opts.Customers)
	for i := range out {
		u, gen := rng.Float64(), generations[len(generations)-1].name
		for _, g := range generations {
			if u < g.share {
				gen = g.name
				break
			}
			u -= g.share
		}
		plan := "pro"
		if r := rng.Float64(); r < 0.5 {
			plan = "starter"
		} else if r > 0.85 {
			plan = "enterprise"
		}
		out[i] = customer{id: fmt.Sprintf("customer-%05d", i+1), attrs: map[string]any{"generation": gen, "plan": plan}}
	}
	return out
}

// simulate assigns every customer through Service.Assign (which records the
// exposure) and sends their outcomes through Service.Ingest in batches. Each
// customer also gets a CSAT rating from a week before the experiment: a
// pre-exposure value that the report must ignore and CUPED can use.
func simulate(ctx context.Context, svc *experiments.Service, spec experimentSpec, opts Options) error {
	list := customers(opts)
	assigned := make([]experiments.Assignment, len(list))
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 16
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(list); i += workers {
				a, err := svc.Assign(ctx, experiments.AssignRequest{Experiment: spec.input.Key, UnitID: list[i].id, Attributes: list[i].attrs})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				assigned[i] = a
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}

	// The customers' arms in the experiment this one interacts with.
	otherArm := make([]string, len(list))
	if x := spec.interaction; x != nil {
		for i, c := range list {
			a, err := svc.Assign(ctx, experiments.AssignRequest{Experiment: x.other, UnitID: c.id, Attributes: c.attrs})
			if err != nil {
				return err
			}
			if a.InExperiment {
				otherArm[i] = a.Variant
			}
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, hashKey(spec.input.Key)))
	now := time.Now().UTC()
	var batch []experiments.Event
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := svc.Ingest(ctx, batch)
		batch = batch[:0]
		return err
	}
	outcome := func(unit, metric string, v float64, ts *time.Time) {
		batch = append(batch, experiments.Event{Type: experiments.EventOutcome, UnitID: unit, Experiment: spec.input.Key, Metric: metric, Value: &v, TS: ts})
	}
	for i, c := range list {
		a := assigned[i]
		b, ok := spec.variants[a.Variant]
		if !a.InExperiment || !ok {
			continue
		}
		exposed := now
		if spec.later != nil {
			// An earlier exposure event makes this the unit's first.
			exposed = now.Add(-time.Duration(rng.Float64() * float64(laterSpan))).Truncate(time.Hour)
			batch = append(batch, experiments.Event{Type: experiments.EventExposure, UnitID: c.id, Experiment: spec.input.Key,
				Variant: a.Variant, TS: &exposed, Attributes: c.attrs})
			at := exposed.Add(time.Duration(rng.Float64() * 30 * float64(time.Hour)))
			outcome(c.id, "contact_csat", rating(rng, spec.later.contactCSAT[a.Variant]), &at)
			for range poisson(rng, spec.later.ticketsPer90[a.Variant]*120/90) {
				if at := exposed.Add(time.Duration(rng.Float64() * float64(laterSpan))); at.Before(now) {
					outcome(c.id, "tickets", 1, &at)
				}
			}
		}
		weekBefore, dayBefore := exposed.Add(-7*24*time.Hour), exposed.Add(-24*time.Hour)
		gen := c.attrs["generation"].(string)
		choose := b.choose
		if p, ok := spec.chooseByGeneration[gen]; ok {
			choose = p
		}
		says := spec.ask.says
		if s, ok := spec.ask.saysByGen[gen]; ok {
			says = s
		}
		answer := spec.ask.question.Options[1]
		if rng.Float64() < says {
			answer = spec.ask.preferred
			choose += sayDoLink * (1 - says)
		} else {
			choose -= sayDoLink * says
		}
		batch = append(batch, experiments.Event{Type: experiments.EventResponse, UnitID: c.id, Question: spec.ask.question.Key,
			Answer: answer, TS: &dayBefore})
		csatBefore := rating(rng, b.csat)
		outcome(c.id, "csat", csatBefore, &weekBefore)
		csat := b.csat
		if x := spec.interaction; x != nil && a.Variant == x.variant && otherArm[i] == x.otherVariant {
			csat += x.csat
		}
		// Post-exposure CSAT correlates with the customer's earlier rating.
		outcome(c.id, "csat", rating(rng, 0.6*csat+0.4*csatBefore), nil)
		outcome(c.id, "resolved", bernoulli(rng, b.resolved), nil)
		outcome(c.id, "minutes_to_resolve", math.Round(rng.ExpFloat64()*b.minutes*10)/10, nil)
		outcome(c.id, spec.chooseKey, bernoulli(rng, choose), nil)
		if len(batch) >= 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func rating(rng *rand.Rand, mean float64) float64 {
	return math.Max(1, math.Min(5, math.Round(mean+0.9*rng.NormFloat64())))
}

// poisson draws a Poisson count by Knuth's method, fine for small means.
func poisson(rng *rand.Rand, mean float64) int {
	limit, k, p := math.Exp(-mean), 0, rng.Float64()
	for p > limit {
		k++
		p *= rng.Float64()
	}
	return k
}

func bernoulli(rng *rand.Rand, p float64) float64 {
	if rng.Float64() < p {
		return 1
	}
	return 0
}

func hashKey(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}
