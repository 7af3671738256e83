package analysis

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ClaimKind is the design a stated preference is tested by.
type ClaimKind string

const (
	// ClaimShare: each customer is offered both options and picks one; the
	// binary metric is 1 when a customer picked the stated option.
	ClaimShare ClaimKind = "share"
	// ClaimEffect: an A/B comparison; the survey favours Preferred over Other.
	ClaimEffect ClaimKind = "effect"
	// ClaimSegmentGap: the difference of a share between two segments, e.g.
	// Gen Z 76% vs Baby Boomers 51%.
	ClaimSegmentGap ClaimKind = "segment_gap"
	// ClaimSayDo: each customer's own answer to a survey question beside
	// what the same customer did; the stated side comes from the responses.
	ClaimSayDo ClaimKind = "say_do"
	// ClaimNowVsLater: the preferred variant against the other on a metric
	// of now and a metric of later: does what wins today still win?
	ClaimNowVsLater ClaimKind = "now_vs_later"
	// ClaimTradeoff: in a factorial experiment, a level of one factor (a
	// human) is worth at least StatedCost units of a numeric factor (5
	// minutes of wait), tested by the exchange rate between them.
	ClaimTradeoff ClaimKind = "tradeoff"
)

// ClaimKinds lists every kind, in the order people are shown them.
var ClaimKinds = []ClaimKind{ClaimShare, ClaimEffect, ClaimSegmentGap, ClaimSayDo, ClaimNowVsLater, ClaimTradeoff}

// Claim is a stated preference, e.g. "74% prefer talking to a human". This
// is the one definition of a claim: the API stores it, the CLI reads it from
// a --claims file, and Analyze tests it. Validate is the one set of rules,
// so a claim that one of them accepts, the others accept too.
type Claim struct {
	ID        string `json:"id"`
	Statement string `json:"statement"`
	// StatementKey names the Statement the claim tests, whose text, kind
	// and stated figures it then carries (Statement.Apply); "" for a claim
	// that states them itself.
	StatementKey string    `json:"statement_key,omitempty"`
	Source       string    `json:"source"`
	Kind         ClaimKind `json:"kind"`
	Metric       string    `json:"metric"`
	// SurveyN is the number of survey respondents behind the stated figure.
	SurveyN int64 `json:"survey_n"`
	// Option names the stated option in the summary sentence, e.g. "a human".
	Option string `json:"option,omitempty"`
	// Margin is the equivalence margin of "matches"; nil means DefaultMargin.
	Margin *float64 `json:"margin,omitempty"`

	// share: StatedShare of respondents chose the option. Variant restricts
	// the revealed share to one variant ("" pools all); Segment
	// ("attribute=value") to one segment.
	StatedShare *float64 `json:"stated_share,omitempty"`
	Variant     string   `json:"variant,omitempty"`
	Segment     string   `json:"segment,omitempty"`

	// effect: Preferred is the variant the survey favours, Other the one it
	// does not ("" means the control). StatedEffect, if set, is the stated
	// absolute difference Preferred − Other in the metric's units.
	Preferred    string   `json:"preferred,omitempty"`
	Other        string   `json:"other,omitempty"`
	StatedEffect *float64 `json:"stated_effect,omitempty"`

	// segment_gap: two segments ("attribute=value") of one attribute and
	// their stated shares, with the respondents behind each (both 0 means
	// SurveyN/2 each).
	SegmentA string   `json:"segment_a,omitempty"`
	SegmentB string   `json:"segment_b,omitempty"`
	StatedA  *float64 `json:"stated_a,omitempty"`
	StatedB  *float64 `json:"stated_b,omitempty"`
	SurveyNA int64    `json:"survey_n_a,omitempty"`
	SurveyNB int64    `json:"survey_n_b,omitempty"`

	// say_do: the units exposed to the experiment that answered Question
	// (a choice question); "said" is giving Answer as their first answer,
	// "did" is the binary metric. Variant and Segment restrict the units as
	// for a share claim. There is no survey_n: the responses are the survey.
	Question string `json:"question,omitempty"`
	Answer   string `json:"answer,omitempty"`

	// now_vs_later: Preferred against Other (default the control) on the
	// metric of now and the metric of later; it states a direction, not a
	// figure, so there is no survey_n and no metric.
	Now   string `json:"now,omitempty"`
	Later string `json:"later,omitempty"`

	// tradeoff: Preferred is a level of Factor (not its first, the
	// reference), Cost a numeric factor, and StatedCost how many of Cost's
	// units the survey says Preferred is worth against the reference.
	Factor     string   `json:"factor,omitempty"`
	Cost       string   `json:"cost,omitempty"`
	StatedCost *float64 `json:"stated_cost,omitempty"`
}

// Design is what a claim is checked against: the experiment's variants and
// its metrics with their kinds.
type Design struct {
	Variants  []Variant
	Metrics   []MetricDesign
	Questions []QuestionDesign
	// Factors are set for a factorial experiment.
	Factors []Factor
}

// QuestionDesign is a survey question as a claim sees it.
type QuestionDesign struct {
	Key     string
	Kind    string // "choice", "rating" or "number"
	Options []string
}

// MetricDesign is a metric as a claim sees it.
type MetricDesign struct {
	Key  string
	Kind Kind
}

// FieldProblem names one invalid field of an input and says why.
type FieldProblem struct {
	Field  string
	Detail string
}

// MaxTextLen bounds free text: statements, sources, hypotheses.
const MaxTextLen = 4000

// MaxKeyLen bounds keys: of experiments, metrics, claims.
const MaxKeyLen = 64

var keyPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$`)

// ValidKey reports whether s may be used as a key: lower-case letters,
// digits, '-' and '_', not starting or ending with a separator.
func ValidKey(s string) bool { return len(s) <= MaxKeyLen && keyPattern.MatchString(s) }

// CheckKey says what is wrong with a required key, or "" when it is
// usable: the one message for every key the API takes.
func CheckKey(s string) string {
	switch {
	case s == "":
		return "is required"
	case !ValidKey(s):
		return fmt.Sprintf("must be a slug of at most %d characters: lower-case letters, digits, '-' and '_'", MaxKeyLen)
	}
	return ""
}

func (d Design) control() string {
	for _, v := range d.Variants {
		if v.Control {
			return v.Key
		}
	}
	return ""
}

func (d Design) hasVariant(key string) bool {
	for _, v := range d.Variants {
		if v.Key == key {
			return true
		}
	}
	return false
}

func (d Design) question(key string) (QuestionDesign, bool) {
	for _, q := range d.Questions {
		if q.Key == key {
			return q, true
		}
	}
	return QuestionDesign{}, false
}

func (d Design) factor(key string) (Factor, bool) {
	for _, f := range d.Factors {
		if f.Key == key {
			return f, true
		}
	}
	return Factor{}, false
}

func (d Design) metric(key string) (MetricDesign, bool) {
	for _, m := range d.Metrics {
		if m.Key == key {
			return m, true
		}
	}
	return MetricDesign{}, false
}

// validShare is a share in [0, 1].
func validShare(v float64) bool { return v >= 0 && v <= 1 }

// Validate checks the claim against the design it is tested in and returns
// every problem, each naming its field as in the JSON.
func (c *Claim) Validate(d Design) []FieldProblem {
	var out []FieldProblem
	add := func(field, format string, args ...any) {
		out = append(out, FieldProblem{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	variant := func(field, key string) {
		if key != "" && !d.hasVariant(key) {
			add(field, "names no variant of the experiment: %q", key)
		}
	}
	segment := func(field, seg string, required bool) {
		if seg == "" {
			if required {
				add(field, `is required, as "attribute=value"`)
			}
			return
		}
		if attr, val, ok := strings.Cut(seg, "="); !ok || attr == "" || val == "" {
			add(field, `must be "attribute=value", e.g. "generation=gen_z"`)
		}
	}
	if why := CheckKey(c.ID); why != "" {
		add("id", "%s", why)
	}
	if len(c.Source) > MaxTextLen {
		add("source", "must be at most %d bytes", MaxTextLen)
	}
	c.validateStated(add)
	if c.Kind != ClaimNowVsLater && (c.Now != "" || c.Later != "") {
		add("now", "only a now_vs_later claim names the metrics of now and later")
	}
	if c.Kind != ClaimSayDo && (c.Question != "" || c.Answer != "") {
		add("question", "only a say_do claim names a question and an answer")
	}
	if c.Kind != ClaimTradeoff && (c.Factor != "" || c.Cost != "") {
		add("factor", "only a tradeoff claim names a factor and a cost")
	}
	m, ok := d.metric(c.Metric)
	switch {
	case c.Kind == ClaimNowVsLater:
		if c.Metric != "" {
			add("metric", "a now_vs_later claim names its metrics in now and later")
		}
	case c.Metric == "":
		add("metric", "is required")
	case !ok:
		add("metric", "names no metric of the experiment: %q", c.Metric)
	}
	needBinary := func() {
		if ok && m.Kind != Binary {
			add("metric", "a %s claim needs a binary metric (1 when the customer picked the stated option); %q is %s", c.Kind, c.Metric, m.Kind)
		}
	}
	switch c.Kind {
	case ClaimShare:
		variant("variant", c.Variant)
		segment("segment", c.Segment, false)
		needBinary()
	case ClaimEffect, ClaimNowVsLater:
		if c.Preferred == "" {
			add("preferred", "is required: the variant the survey favours")
		}
		variant("preferred", c.Preferred)
		variant("other", c.Other)
		segment("segment", c.Segment, false)
		other := c.Other
		if other == "" {
			other = d.control()
		}
		if c.Preferred != "" && c.Preferred == other {
			add("other", "must differ from preferred (the default is the control)")
		}
		if c.Kind == ClaimNowVsLater {
			for _, h := range []struct{ field, key string }{{"now", c.Now}, {"later", c.Later}} {
				if _, known := d.metric(h.key); h.key == "" {
					add(h.field, "is required: the metric of %s", h.field)
				} else if !known {
					add(h.field, "names no metric of the experiment: %q", h.key)
				}
			}
			if c.Now != "" && c.Now == c.Later {
				add("later", "must be another metric than now")
			}
		}
	case ClaimSegmentGap:
		segment("segment_a", c.SegmentA, true)
		segment("segment_b", c.SegmentB, true)
		attrA, _, _ := strings.Cut(c.SegmentA, "=")
		attrB, _, _ := strings.Cut(c.SegmentB, "=")
		if c.SegmentA != "" && c.SegmentB != "" && (attrA != attrB || c.SegmentA == c.SegmentB) {
			add("segment_b", "must be another value of the same attribute as segment_a")
		}
		variant("variant", c.Variant)
		needBinary()
	case ClaimTradeoff:
		c.validateTradeoff(d, add)
	case ClaimSayDo:
		q, known := d.question(c.Question)
		switch {
		case c.Question == "":
			add("question", "is required: the key of a choice question")
		case !known:
			add("question", "names no question: %q", c.Question)
		case q.Kind != "choice":
			add("question", "a say_do claim needs a choice question; %q is a %s question", c.Question, q.Kind)
		}
		switch {
		case c.Answer == "":
			add("answer", "is required: the option whose sayers are compared with what they did")
		case known && q.Kind == "choice" && !slices.Contains(q.Options, c.Answer):
			add("answer", "is not an option of %q (%s)", c.Question, strings.Join(q.Options, ", "))
		}
		variant("variant", c.Variant)
		segment("segment", c.Segment, false)
		needBinary()
	}
	return out
}

// validateStated checks what a claim takes from its statement: the text,
// the kind, the survey behind it and the stated figures. It is the rule of
// a Statement too, so that a statement any claim can test is one that
// Statement.Validate accepts.
func (c *Claim) validateStated(add func(field, format string, args ...any)) {
	share := func(field string, v *float64) {
		switch {
		case v == nil:
			add(field, "is required: a share from 0 to 1, e.g. 0.74")
		case !validShare(*v):
			add(field, "must be a share from 0 to 1, e.g. 0.74")
		}
	}
	if c.Statement == "" {
		add("statement", "is required, e.g. \"74%% would rather wait 10 minutes for a human\"")
	}
	for _, t := range []struct{ field, text string }{{"statement", c.Statement}, {"option", c.Option}} {
		if len(t.text) > MaxTextLen {
			add(t.field, "must be at most %d bytes", MaxTextLen)
		}
	}
	switch {
	case c.Kind == ClaimSayDo && c.SurveyN != 0:
		add("survey_n", "a say_do claim takes no survey_n: its stated side comes from the responses")
	case c.Kind == ClaimNowVsLater && c.SurveyN != 0:
		add("survey_n", "a now_vs_later claim takes no survey_n: it states a direction, not a figure")
	case c.Kind != ClaimSayDo && c.Kind != ClaimNowVsLater && c.SurveyN < 1:
		add("survey_n", "is required: the number of survey respondents, ≥ 1")
	}
	if c.Margin != nil && !(*c.Margin > 0 && *c.Margin < 1) {
		add("margin", "must be between 0 and 1, e.g. 0.05")
	}
	if c.Kind != ClaimTradeoff && c.StatedCost != nil {
		add("stated_cost", "only a tradeoff claim states a cost")
	}
	switch c.Kind {
	case ClaimShare:
		share("stated_share", c.StatedShare)
	case ClaimEffect, ClaimNowVsLater:
		if c.StatedEffect != nil && !finite(*c.StatedEffect) {
			add("stated_effect", "must be a finite number")
		}
	case ClaimSegmentGap:
		share("stated_a", c.StatedA)
		share("stated_b", c.StatedB)
		switch {
		case c.SurveyNA < 0 || c.SurveyNB < 0:
			add("survey_n_a", "must not be negative")
		case (c.SurveyNA == 0) != (c.SurveyNB == 0):
			add("survey_n_b", "give both survey_n_a and survey_n_b, or neither (survey_n is then split evenly)")
		case c.SurveyNA == 0 && c.SurveyN == 1:
			add("survey_n", "must be at least 2 to split between the two segments, or give survey_n_a and survey_n_b")
		}
	case ClaimTradeoff:
		switch {
		case c.StatedCost == nil:
			add("stated_cost", "is required: how many units of the cost the preferred level is worth, e.g. 5")
		case !finite(*c.StatedCost) || *c.StatedCost <= 0:
			add("stated_cost", "must be a finite number greater than 0")
		}
	case ClaimSayDo:
	case "":
		add("kind", "is required: %s", kindList())
	default:
		add("kind", "must be %s", kindList())
	}
}

func kindList() string {
	quoted := make([]string, len(ClaimKinds))
	for i, k := range ClaimKinds {
		quoted[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

// SegmentAttributes lists the attributes the claim's segments name, which
// the report must therefore break down by.
func (c *Claim) SegmentAttributes() []string {
	var out []string
	for _, s := range []string{c.Segment, c.SegmentA, c.SegmentB} {
		if attr, _, ok := strings.Cut(s, "="); ok {
			out = append(out, attr)
		}
	}
	return out
}

// margin is the claim's equivalence margin.
func (c *Claim) margin() float64 {
	if c.Margin == nil {
		return DefaultMargin
	}
	return *c.Margin
}

// surveySizes are the respondents behind each segment of a segment_gap claim.
func (c *Claim) surveySizes() (a, b float64) {
	if c.SurveyNA > 0 && c.SurveyNB > 0 {
		return float64(c.SurveyNA), float64(c.SurveyNB)
	}
	return float64(c.SurveyN) / 2, float64(c.SurveyN) / 2
}
