package experiments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/revealed-ab/revealed/analysis"
)

// Claim is a stated preference to put to the test of behaviour, as stored:
// the one claim model of package analysis, with its version. Claims are
// versioned: an edit stores a new version and keeps the old ones.
type Claim struct {
	analysis.Claim
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// design is what the experiment's claims are checked against.
func (e *Experiment) design() analysis.Design {
	d := analysis.Design{}
	for _, v := range e.Variants {
		d.Variants = append(d.Variants, analysis.Variant{Key: v.Key, Weight: v.Weight, Control: v.Control})
	}
	for _, m := range e.Metrics {
		d.Metrics = append(d.Metrics, analysis.MetricDesign{Key: m.Key, Kind: analysis.Kind(m.Kind)})
	}
	if len(e.Factors) > 0 {
		d.Factors = AnalysisFactors(e.Factors)
	}
	return d
}

// design is what the claims of e are checked against: its variants and
// metrics, and the survey questions this replica knows.
func (s *Service) design(e *Experiment) analysis.Design {
	d := e.design()
	d.Questions = s.catalog.questionDesigns()
	return d
}

// findQuestion returns the question named key, refreshing the catalog
// once when this replica has not seen it (it may have been created on
// another); nil when there is none.
func (s *Service) findQuestion(ctx context.Context, key string) (*Question, error) {
	if key == "" {
		return nil, nil
	}
	if q := s.catalog.question(key); q != nil {
		return q, nil
	}
	if err := s.catalog.Refresh(ctx); err != nil {
		return nil, err
	}
	return s.catalog.question(key), nil
}

func fieldErrors(prefix string, problems []analysis.FieldProblem) []FieldError {
	out := make([]FieldError, len(problems))
	for i, p := range problems {
		out[i] = FieldError{Field: prefix + p.Field, Detail: p.Detail}
	}
	return out
}

// danglingClaims refuses a new definition of an experiment (or of a
// question) that one of the experiment's live claims no longer fits: the
// claim would be stored but never testable.
func danglingClaims(experiment string, d analysis.Design, claims []*Claim) error {
	var errs []FieldError
	var ids []string
	for _, c := range claims {
		if problems := c.Claim.Validate(d); len(problems) > 0 {
			ids = append(ids, fmt.Sprintf("%q", c.ID))
			errs = append(errs, fieldErrors("claims["+c.ID+"].", problems)...)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &Error{Code: CodeConflict, Fields: errs, Message: fmt.Sprintf(
		"the change would leave claim %s of experiment %q untestable; change or delete the claim first", strings.Join(ids, ", "), experiment)}
}

// CreateClaim validates c against its experiment and stores it as version 1.
func (s *Service) CreateClaim(ctx context.Context, experiment string, in analysis.Claim) (*Claim, error) {
	c := Claim{Claim: in}
	e, err := s.store.GetExperiment(ctx, experiment)
	if err != nil {
		return nil, err
	}
	if err := s.resolveStatement(ctx, &c); err != nil {
		return nil, err
	}
	if _, err := s.findQuestion(ctx, c.Question); err != nil {
		return nil, err
	}
	if errs := fieldErrors("", c.Claim.Validate(s.design(e))); len(errs) > 0 {
		return nil, Invalid("invalid claim", errs)
	}
	if _, _, err := s.store.ClaimHistory(ctx, experiment, c.ID); err == nil {
		return nil, Errorf(CodeConflict, "experiment %q already has a claim %q; PUT to change it", experiment, c.ID)
	} else if ErrorCode(err) != CodeNotFound {
		return nil, err
	}
	c.Version, c.CreatedAt = 1, s.nowUTC()
	if err := s.store.SaveClaim(ctx, e, &c, false, s.auditEntry(ctx, "claim.create", "claim:"+experiment+"/"+c.ID, nil, c)); err != nil {
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
func (s *Service) UpdateClaim(ctx context.Context, experiment, id string, in analysis.Claim) (*Claim, error) {
	c := Claim{Claim: in}
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
	if err := s.resolveStatement(ctx, &c); err != nil {
		return nil, err
	}
	if _, err := s.findQuestion(ctx, c.Question); err != nil {
		return nil, err
	}
	if errs := fieldErrors("", c.Claim.Validate(s.design(e))); len(errs) > 0 {
		return nil, Invalid("invalid claim", errs)
	}
	c.Version, c.CreatedAt = current.Version+1, s.nowUTC()
	if err := s.store.SaveClaim(ctx, e, &c, false, s.auditEntry(ctx, "claim.update", "claim:"+experiment+"/"+id, current, c)); err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteClaim stores a tombstone as the claim's next version; its history stays.
func (s *Service) DeleteClaim(ctx context.Context, experiment, id string) error {
	e, err := s.store.GetExperiment(ctx, experiment)
	if err != nil {
		return err
	}
	current, err := s.Claim(ctx, experiment, id)
	if err != nil {
		return err
	}
	tomb := *current
	tomb.Version, tomb.CreatedAt = current.Version+1, s.nowUTC()
	return s.store.SaveClaim(ctx, e, &tomb, true, s.auditEntry(ctx, "claim.delete", "claim:"+experiment+"/"+id, current, nil))
}
