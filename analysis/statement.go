package analysis

import (
	"fmt"
	"strconv"
)

// Statement is a stated preference as its source states it, e.g. "74%
// would rather wait 10 minutes for a human" with its figure and the survey
// behind it. Claims in experiments test it: a claim that names a statement
// (StatementKey) takes the statement's text, kind and stated figures, and
// adds only what is experiment-specific (metric, variants, segments,
// question, factors).
type Statement struct {
	Key  string    `json:"key"`
	Text string    `json:"text"`
	Kind ClaimKind `json:"kind"`
	// The stated side, as in Claim.
	SurveyN      int64    `json:"survey_n,omitempty"`
	Option       string   `json:"option,omitempty"`
	Margin       *float64 `json:"margin,omitempty"`
	StatedShare  *float64 `json:"stated_share,omitempty"`
	StatedEffect *float64 `json:"stated_effect,omitempty"`
	StatedA      *float64 `json:"stated_a,omitempty"`
	StatedB      *float64 `json:"stated_b,omitempty"`
	SurveyNA     int64    `json:"survey_n_a,omitempty"`
	SurveyNB     int64    `json:"survey_n_b,omitempty"`
	StatedCost   *float64 `json:"stated_cost,omitempty"`
}

// Validate returns every problem of the statement, by the rules a claim's
// stated side follows.
func (s *Statement) Validate() []FieldProblem {
	var out []FieldProblem
	add := func(field, format string, args ...any) {
		if field == "statement" {
			field = "text"
		}
		out = append(out, FieldProblem{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if why := CheckKey(s.Key); why != "" {
		add("key", "%s", why)
	}
	var c Claim
	s.Apply(&c)
	c.validateStated(add)
	return out
}

// Apply makes c test s: it takes the statement's key, text, kind and
// stated side, whatever c had.
func (s *Statement) Apply(c *Claim) {
	c.StatementKey = s.Key
	c.Statement, c.Kind, c.SurveyN, c.Option, c.Margin = s.Text, s.Kind, s.SurveyN, s.Option, s.Margin
	c.StatedShare, c.StatedEffect, c.StatedA, c.StatedB = s.StatedShare, s.StatedEffect, s.StatedA, s.StatedB
	c.SurveyNA, c.SurveyNB, c.StatedCost = s.SurveyNA, s.SurveyNB, s.StatedCost
}

// StatementOf is the statement that a claim states, under key: what a
// claim written before statements existed becomes.
func StatementOf(key string, c *Claim) Statement {
	return Statement{Key: key, Text: c.Statement, Kind: c.Kind, SurveyN: c.SurveyN, Option: c.Option, Margin: c.Margin,
		StatedShare: c.StatedShare, StatedEffect: c.StatedEffect, StatedA: c.StatedA, StatedB: c.StatedB,
		SurveyNA: c.SurveyNA, SurveyNB: c.SurveyNB, StatedCost: c.StatedCost}
}

// Conflicts lists the stated fields that c gives with another value than s
// has: a claim that tests a statement may repeat its figures (as a claim
// read back from the API does) but not contradict them.
func (s *Statement) Conflicts(c *Claim) []FieldProblem {
	var out []FieldProblem
	text := func(field, got, want string) {
		if got != "" && got != want {
			out = append(out, FieldProblem{field, fmt.Sprintf("comes from statement %q (%q); leave it out or change the statement", s.Key, want)})
		}
	}
	number := func(field string, got, want *float64) {
		if got != nil && (want == nil || *got != *want) {
			w := "none"
			if want != nil {
				w = strconv.FormatFloat(*want, 'g', -1, 64)
			}
			out = append(out, FieldProblem{field, fmt.Sprintf("comes from statement %q (%s); leave it out or change the statement", s.Key, w)})
		}
	}
	count := func(field string, got, want int64) {
		if got != 0 && got != want {
			out = append(out, FieldProblem{field, fmt.Sprintf("comes from statement %q (%d); leave it out or change the statement", s.Key, want)})
		}
	}
	text("kind", string(c.Kind), string(s.Kind))
	text("option", c.Option, s.Option)
	count("survey_n", c.SurveyN, s.SurveyN)
	count("survey_n_a", c.SurveyNA, s.SurveyNA)
	count("survey_n_b", c.SurveyNB, s.SurveyNB)
	number("margin", c.Margin, s.Margin)
	number("stated_share", c.StatedShare, s.StatedShare)
	number("stated_effect", c.StatedEffect, s.StatedEffect)
	number("stated_a", c.StatedA, s.StatedA)
	number("stated_b", c.StatedB, s.StatedB)
	number("stated_cost", c.StatedCost, s.StatedCost)
	return out
}
