package experiments

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/revealed-ab/revealed/analysis"
)

// Source is where stated preferences come from: a published survey (the
// ignite80 × Front survey of 2,128 B2B buyers), or the platform's own
// survey questions. Its statements are what the scoreboard judges.
type Source struct {
	SourceInput
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// SourceInput is what a product team may set.
type SourceInput struct {
	Key       string `json:"key"`
	Title     string `json:"title"`
	Publisher string `json:"publisher,omitempty"`
	Year      int    `json:"year,omitempty"`
	// N is the number of respondents, when the source is one survey.
	N   int64  `json:"n,omitempty"`
	URL string `json:"url,omitempty"`
}

// Label names the source in sentences: "ignite80 × Front survey (2019)".
func (s *Source) Label() string {
	if s.Year > 0 {
		return fmt.Sprintf("%s (%d)", s.Title, s.Year)
	}
	return s.Title
}

const maxURLLen = 2000

func (in *SourceInput) validate() error {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if why := analysis.CheckKey(in.Key); why != "" {
		add("key", "%s", why)
	}
	if in.Title == "" {
		add("title", "is required, e.g. \"Survey of 2,128 B2B buyers\"")
	}
	for _, t := range []struct{ field, text string }{{"title", in.Title}, {"publisher", in.Publisher}} {
		if len(t.text) > maxNameLen {
			add(t.field, "must be at most %d bytes", maxNameLen)
		} else if !utf8.ValidString(t.text) {
			add(t.field, "must be UTF-8 text")
		}
	}
	if in.Year != 0 && (in.Year < 1900 || in.Year > 2100) {
		add("year", "must be a year from 1900 to 2100, or left out")
	}
	if in.N < 0 {
		add("n", "must not be negative")
	}
	if in.URL != "" {
		u, err := url.Parse(in.URL)
		if len(in.URL) > maxURLLen || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("url", "must be an http or https address of at most %d bytes", maxURLLen)
		}
	}
	if len(errs) > 0 {
		return Invalid("invalid source", errs)
	}
	return nil
}

// CreateSource validates in and stores it.
func (s *Service) CreateSource(ctx context.Context, in SourceInput) (*Source, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.nowUTC()
	src := &Source{SourceInput: in, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.SaveSource(ctx, src, true, s.auditEntry(ctx, "source.create", "source:"+in.Key, nil, src)); err != nil {
		return nil, err
	}
	return src, nil
}

// UpdateSource replaces a source's description; its statements stay.
func (s *Service) UpdateSource(ctx context.Context, key string, in SourceInput) (*Source, error) {
	if in.Key == "" {
		in.Key = key
	} else if in.Key != key {
		return nil, Invalid("invalid source", []FieldError{{Field: "key", Detail: "cannot be changed; it must match the URL"}})
	}
	cur, err := s.store.GetSource(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	src := &Source{SourceInput: in, CreatedAt: cur.CreatedAt, UpdatedAt: s.nowUTC(), Version: cur.Version + 1}
	if err := s.store.SaveSource(ctx, src, false, s.auditEntry(ctx, "source.update", "source:"+key, cur, src)); err != nil {
		return nil, err
	}
	return src, nil
}

// Sources lists every source; Source returns CodeNotFound for an unknown key.
func (s *Service) Sources(ctx context.Context) ([]*Source, error) { return s.store.ListSources(ctx) }

func (s *Service) Source(ctx context.Context, key string) (*Source, error) {
	return s.store.GetSource(ctx, key)
}

// Statement is a stated preference of a source, as stored: versioned like
// claims (an edit stores the next version, a deletion a tombstone).
type Statement struct {
	analysis.Statement
	Source    string    `json:"source"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// StatementVersion is one stored version of a statement.
type StatementVersion struct {
	*Statement
	Deleted bool `json:"deleted"`
}

// LinkedClaim is a claim that tests a statement, in its experiment.
type LinkedClaim struct {
	Experiment *Experiment
	Claim      *Claim
}

func invalidStatement(problems []analysis.FieldProblem) error {
	if len(problems) == 0 {
		return nil
	}
	return Invalid("invalid statement", fieldErrors("", problems))
}

// CreateStatement validates in and stores it as version 1 of a statement of
// source. Statement keys are unique across sources: a claim names one by
// its key alone.
func (s *Service) CreateStatement(ctx context.Context, source string, in analysis.Statement) (*Statement, error) {
	if _, err := s.store.GetSource(ctx, source); err != nil {
		return nil, err
	}
	if err := invalidStatement(in.Validate()); err != nil {
		return nil, err
	}
	if cur, _, err := s.store.StatementHistory(ctx, in.Key); err == nil {
		return nil, Errorf(CodeConflict, "a statement %q exists (of source %q); statement keys are unique across sources", in.Key, cur[0].Source)
	} else if ErrorCode(err) != CodeNotFound {
		return nil, err
	}
	st := &Statement{Statement: in, Source: source, Version: 1, CreatedAt: s.nowUTC()}
	if err := s.store.SaveStatement(ctx, st, false, nil, s.auditEntry(ctx, "statement.create", "statement:"+in.Key, nil, st)); err != nil {
		return nil, err
	}
	return st, nil
}

// Statements returns the latest version of each live statement of source.
func (s *Service) Statements(ctx context.Context, source string) ([]*Statement, error) {
	if _, err := s.store.GetSource(ctx, source); err != nil {
		return nil, err
	}
	return s.store.Statements(ctx, source)
}

// GetStatement returns the latest version of a live statement of source.
func (s *Service) GetStatement(ctx context.Context, source, key string) (*Statement, error) {
	versions, deleted, err := s.store.StatementHistory(ctx, key)
	if err != nil {
		return nil, err
	}
	cur := versions[len(versions)-1]
	if deleted[len(deleted)-1] || cur.Source != source {
		return nil, Errorf(CodeNotFound, "source %q has no statement %q", source, key)
	}
	return cur, nil
}

// StatementHistory returns every version of a statement of source, oldest first.
func (s *Service) StatementHistory(ctx context.Context, source, key string) ([]StatementVersion, error) {
	versions, deleted, err := s.store.StatementHistory(ctx, key)
	if err != nil {
		return nil, err
	}
	if versions[0].Source != source {
		return nil, Errorf(CodeNotFound, "source %q has no statement %q", source, key)
	}
	out := make([]StatementVersion, len(versions))
	for i := range versions {
		out[i] = StatementVersion{Statement: versions[i], Deleted: deleted[i]}
	}
	return out, nil
}

// UpdateStatement stores in as the next version of the statement and, in
// the same transaction, the next version of every live claim that tests
// it, carrying the new figures. It refuses (409, naming the claims) a
// change that would leave one of them untestable, e.g. a new kind.
func (s *Service) UpdateStatement(ctx context.Context, source, key string, in analysis.Statement) (*Statement, error) {
	if in.Key == "" {
		in.Key = key
	} else if in.Key != key {
		return nil, Invalid("invalid statement", []FieldError{{Field: "key", Detail: "cannot be changed; it must match the URL"}})
	}
	cur, err := s.GetStatement(ctx, source, key)
	if err != nil {
		return nil, err
	}
	if err := invalidStatement(in.Validate()); err != nil {
		return nil, err
	}
	linked, err := s.linkedClaims(ctx, key)
	if err != nil {
		return nil, err
	}
	src, err := s.store.GetSource(ctx, source)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	var errs []FieldError
	var ids []string
	for i, l := range linked {
		next := *l.Claim
		in.Apply(&next.Claim)
		next.Source = src.Label()
		if problems := next.Claim.Validate(s.design(l.Experiment)); len(problems) > 0 {
			ids = append(ids, fmt.Sprintf("%s/%s", l.Experiment.Key, l.Claim.ID))
			errs = append(errs, fieldErrors("claims["+l.Experiment.Key+"/"+l.Claim.ID+"].", problems)...)
			continue
		}
		next.Version, next.CreatedAt = l.Claim.Version+1, now
		linked[i].Claim = &next
	}
	if len(errs) > 0 {
		return nil, &Error{Code: CodeConflict, Fields: errs, Message: fmt.Sprintf(
			"the change would leave claim %s untestable; change or delete the claim first", strings.Join(ids, ", "))}
	}
	st := &Statement{Statement: in, Source: source, Version: cur.Version + 1, CreatedAt: now}
	if err := s.store.SaveStatement(ctx, st, false, linked, s.auditEntry(ctx, "statement.update", "statement:"+key, cur, st)); err != nil {
		return nil, err
	}
	return st, nil
}

// DeleteStatement stores a tombstone; a statement that live claims test
// cannot be deleted (409, naming them).
func (s *Service) DeleteStatement(ctx context.Context, source, key string) error {
	cur, err := s.GetStatement(ctx, source, key)
	if err != nil {
		return err
	}
	linked, err := s.linkedClaims(ctx, key)
	if err != nil {
		return err
	}
	if len(linked) > 0 {
		var ids []string
		for _, l := range linked {
			ids = append(ids, l.Experiment.Key+"/"+l.Claim.ID)
		}
		return Errorf(CodeConflict, "statement %q is tested by claim %s; delete the claims or make them state their own figures first", key, strings.Join(ids, ", "))
	}
	tomb := *cur
	tomb.Version, tomb.CreatedAt = cur.Version+1, s.nowUTC()
	return s.store.SaveStatement(ctx, &tomb, true, nil, s.auditEntry(ctx, "statement.delete", "statement:"+key, cur, nil))
}

// linkedClaims are the live claims that test statement key, each with its
// experiment.
func (s *Service) linkedClaims(ctx context.Context, key string) ([]LinkedClaim, error) {
	refs, err := s.store.ClaimsByStatement(ctx, []string{key})
	if err != nil {
		return nil, err
	}
	out := make([]LinkedClaim, 0, len(refs))
	experiments := map[string]*Experiment{}
	for _, r := range refs {
		e, ok := experiments[r.Experiment]
		if !ok {
			if e, err = s.store.GetExperiment(ctx, r.Experiment); err != nil {
				return nil, err
			}
			experiments[r.Experiment] = e
		}
		out = append(out, LinkedClaim{Experiment: e, Claim: r.Claim})
	}
	return out, nil
}

// ClaimRef is a claim with the key of its experiment.
type ClaimRef struct {
	Experiment string
	Claim      *Claim
}

// resolveStatement makes a claim that names a statement carry it: with
// "statement_key", or with "statement" set to a statement's key and no
// kind (as the shorthand has it). Stated fields the claim repeats
// must agree with the statement's.
func (s *Service) resolveStatement(ctx context.Context, c *Claim) error {
	key := c.StatementKey
	if key == "" && c.Kind == "" && ValidSlug(c.Statement) {
		key = c.Statement
		c.Statement = ""
	}
	if key == "" {
		return nil
	}
	versions, deleted, err := s.store.StatementHistory(ctx, key)
	if ErrorCode(err) == CodeNotFound || (err == nil && deleted[len(deleted)-1]) {
		return Invalid("invalid claim", []FieldError{{Field: "statement_key", Detail: fmt.Sprintf("names no statement: %q", key)}})
	}
	if err != nil {
		return err
	}
	st := versions[len(versions)-1]
	if c.Statement != "" && c.Statement != st.Text {
		return Invalid("invalid claim", []FieldError{{Field: "statement", Detail: fmt.Sprintf("comes from statement %q; leave it out or change the statement", key)}})
	}
	if errs := fieldErrors("", st.Conflicts(&c.Claim)); len(errs) > 0 {
		return Invalid("invalid claim", errs)
	}
	src, err := s.store.GetSource(ctx, st.Source)
	if err != nil {
		return err
	}
	st.Apply(&c.Claim)
	c.Source = src.Label()
	return nil
}
