package experiments

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
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
)

// Claim is a stated preference to put to the test of behaviour. Claims are
// versioned: an edit stores a new version and keeps the old ones.
type Claim struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"`
	Statement string    `json:"statement"`
	Source    string    `json:"source"`
	SurveyN   int64     `json:"survey_n"`
	Kind      ClaimKind `json:"kind"`
	Metric    string    `json:"metric"`
	// Option names the stated option in the summary sentence, e.g. "a human".
	Option string `json:"option,omitempty"`
	// Margin is the equivalence margin for "matches"; default 0.05.
	Margin *float64 `json:"margin,omitempty"`

	// share
	StatedShare *float64 `json:"stated_share,omitempty"`
	Variant     string   `json:"variant,omitempty"`
	Segment     string   `json:"segment,omitempty"`

	// effect
	Preferred    string   `json:"preferred,omitempty"`
	Other        string   `json:"other,omitempty"`
	StatedEffect *float64 `json:"stated_effect,omitempty"`

	// segment_gap
	SegmentA string   `json:"segment_a,omitempty"`
	SegmentB string   `json:"segment_b,omitempty"`
	StatedA  *float64 `json:"stated_a,omitempty"`
	StatedB  *float64 `json:"stated_b,omitempty"`
	SurveyNA int64    `json:"survey_n_a,omitempty"`
	SurveyNB int64    `json:"survey_n_b,omitempty"`

	CreatedAt time.Time `json:"created_at"`
}

// validate checks the claim against the experiment it belongs to.
func (c *Claim) validate(e *Experiment) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	share := func(field string, v *float64, required bool) {
		switch {
		case v == nil && required:
			add(field, "is required: a share from 0 to 1, e.g. 0.74")
		case v != nil && !(*v >= 0 && *v <= 1):
			add(field, "must be a share from 0 to 1, e.g. 0.74")
		}
	}
	variant := func(field, key string) {
		if key != "" && !e.HasVariant(key) {
			add(field, "experiment %q has no variant %q", e.Key, key)
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
	switch {
	case c.ID == "":
		add("id", "is required")
	case !ValidSlug(c.ID):
		add("id", "must be a slug: lower-case letters, digits, '-' and '_'")
	}
	if c.Statement == "" {
		add("statement", "is required, e.g. \"74%% would rather wait 10 minutes for a human\"")
	}
	for field, text := range map[string]string{"statement": c.Statement, "source": c.Source, "option": c.Option} {
		if len(text) > maxTextLen {
			add(field, "must be at most %d bytes", maxTextLen)
		}
	}
	if c.SurveyN < 1 {
		add("survey_n", "is required: the number of survey respondents, ≥ 1")
	}
	if c.Margin != nil && !(*c.Margin > 0 && *c.Margin < 1) {
		add("margin", "must be between 0 and 1, e.g. 0.05")
	}
	m, ok := e.Metric(c.Metric)
	if !ok {
		add("metric", "experiment %q has no metric %q", e.Key, c.Metric)
	}
	switch c.Kind {
	case ClaimShare:
		share("stated_share", c.StatedShare, true)
		variant("variant", c.Variant)
		segment("segment", c.Segment, false)
		if ok && m.Kind != MetricBinary {
			add("metric", "a share claim needs a binary metric (1 when the customer picked the stated option)")
		}
	case ClaimEffect:
		if c.Preferred == "" {
			add("preferred", "is required: the variant the survey favours")
		}
		variant("preferred", c.Preferred)
		variant("other", c.Other)
		other := c.Other
		if other == "" {
			other = e.Control()
		}
		if c.Preferred != "" && c.Preferred == other {
			add("other", "must differ from preferred (the default is the control)")
		}
		if c.StatedEffect != nil && (math.IsNaN(*c.StatedEffect) || math.IsInf(*c.StatedEffect, 0)) {
			add("stated_effect", "must be a finite number")
		}
	case ClaimSegmentGap:
		segment("segment_a", c.SegmentA, true)
		segment("segment_b", c.SegmentB, true)
		attrA, _, _ := strings.Cut(c.SegmentA, "=")
		attrB, _, _ := strings.Cut(c.SegmentB, "=")
		if c.SegmentA != "" && c.SegmentB != "" && (attrA != attrB || c.SegmentA == c.SegmentB) {
			add("segment_b", "must be another value of the same attribute as segment_a")
		}
		share("stated_a", c.StatedA, true)
		share("stated_b", c.StatedB, true)
		if c.SurveyNA < 0 || c.SurveyNB < 0 {
			add("survey_n_a", "must not be negative")
		}
		variant("variant", c.Variant)
		if ok && m.Kind != MetricBinary {
			add("metric", "a segment_gap claim needs a binary metric")
		}
	case "":
		add("kind", `is required: "share", "effect" or "segment_gap"`)
	default:
		add("kind", `must be "share", "effect" or "segment_gap"`)
	}
	return errs
}

// segmentAttributes lists the attributes the claim's segments name.
func (c *Claim) segmentAttributes() []string {
	var out []string
	for _, s := range []string{c.Segment, c.SegmentA, c.SegmentB} {
		if attr, _, ok := strings.Cut(s, "="); ok {
			out = append(out, attr)
		}
	}
	return out
}

func (c *Claim) analysisClaim() analysis.Claim {
	deref := func(v *float64) float64 {
		if v == nil {
			return 0
		}
		return *v
	}
	return analysis.Claim{
		ID: c.ID, Statement: c.Statement, Source: c.Source, Kind: analysis.ClaimKind(c.Kind), Metric: c.Metric,
		SurveyN: c.SurveyN, Margin: deref(c.Margin), Option: c.Option,
		StatedShare: deref(c.StatedShare), Variant: c.Variant, Segment: c.Segment,
		Preferred: c.Preferred, Other: c.Other, StatedEffect: c.StatedEffect,
		SegmentA: c.SegmentA, SegmentB: c.SegmentB, StatedA: deref(c.StatedA), StatedB: deref(c.StatedB),
		SurveyNA: c.SurveyNA, SurveyNB: c.SurveyNB,
	}
}

// CreateClaim validates c against its experiment and stores it as version 1.
func (s *Service) CreateClaim(ctx context.Context, experiment string, c Claim) (*Claim, error) {
	e, err := s.store.GetExperiment(ctx, experiment)
	if err != nil {
		return nil, err
	}
	if errs := c.validate(e); len(errs) > 0 {
		return nil, Invalid("invalid claim", errs)
	}
	if _, _, err := s.store.ClaimHistory(ctx, experiment, c.ID); err == nil {
		return nil, Errorf(CodeConflict, "experiment %q already has a claim %q; PUT to change it", experiment, c.ID)
	} else if ErrorCode(err) != CodeNotFound {
		return nil, err
	}
	c.Version, c.CreatedAt = 1, s.nowUTC()
	if err := s.store.SaveClaim(ctx, experiment, &c, false, s.auditEntry(ctx, "claim.create", "claim:"+experiment+"/"+c.ID, nil, c)); err != nil {
		return nil, err
	}
	return &c, nil
}

// Claims returns the latest version of each live claim of an experiment.
func (s *Service) Claims(ctx context.Context, experiment string) ([]*Claim, error) {
	if _, err := s.store.GetExperiment(ctx, experiment); err != nil {
		return nil, err
	}
	return s.store.Claims(ctx, experiment)
}

// ClaimVersion is one stored version of a claim.
type ClaimVersion struct {
	*Claim
	Deleted bool `json:"deleted"`
}

// ClaimHistory returns every version of a claim, oldest first.
func (s *Service) ClaimHistory(ctx context.Context, experiment, id string) ([]ClaimVersion, error) {
	versions, deleted, err := s.store.ClaimHistory(ctx, experiment, id)
	if err != nil {
		return nil, err
	}
	out := make([]ClaimVersion, len(versions))
	for i := range versions {
		out[i] = ClaimVersion{Claim: versions[i], Deleted: deleted[i]}
	}
	return out, nil
}

// Claim returns the latest version of a live claim.
func (s *Service) Claim(ctx context.Context, experiment, id string) (*Claim, error) {
	versions, deleted, err := s.store.ClaimHistory(ctx, experiment, id)
	if err != nil {
		return nil, err
	}
	if deleted[len(deleted)-1] {
		return nil, Errorf(CodeNotFound, "claim %q of %q was deleted", id, experiment)
	}
	return versions[len(versions)-1], nil
}

// UpdateClaim stores c as the next version of claim id.
func (s *Service) UpdateClaim(ctx context.Context, experiment, id string, c Claim) (*Claim, error) {
	if c.ID == "" {
		c.ID = id
	} else if c.ID != id {
		return nil, Invalid("invalid claim", []FieldError{{Field: "id", Detail: "cannot be changed; it must match the URL"}})
	}
	e, err := s.store.GetExperiment(ctx, experiment)
	if err != nil {
		return nil, err
	}
	current, err := s.Claim(ctx, experiment, id)
	if err != nil {
		return nil, err
	}
	if errs := c.validate(e); len(errs) > 0 {
		return nil, Invalid("invalid claim", errs)
	}
	c.Version, c.CreatedAt = current.Version+1, s.nowUTC()
	if err := s.store.SaveClaim(ctx, experiment, &c, false, s.auditEntry(ctx, "claim.update", "claim:"+experiment+"/"+id, current, c)); err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteClaim stores a tombstone as the claim's next version; its history stays.
func (s *Service) DeleteClaim(ctx context.Context, experiment, id string) error {
	current, err := s.Claim(ctx, experiment, id)
	if err != nil {
		return err
	}
	tomb := *current
	tomb.Version, tomb.CreatedAt = current.Version+1, s.nowUTC()
	return s.store.SaveClaim(ctx, experiment, &tomb, true, s.auditEntry(ctx, "claim.delete", "claim:"+experiment+"/"+id, current, nil))
}
