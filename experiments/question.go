package experiments

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/revealed-ab/revealed/analysis"
)

// QuestionKind is how a survey question is answered.
type QuestionKind string

const (
	// QuestionChoice is answered with one of its options, as a string.
	QuestionChoice QuestionKind = "choice"
	// QuestionRating is answered with a whole number on its scale.
	QuestionRating QuestionKind = "rating"
	// QuestionNumber is answered with any finite number.
	QuestionNumber QuestionKind = "number"
)

// Scale bounds a rating question's answers, inclusive.
type Scale struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Question is a survey question whose answers customers give as response
// events, so that what a customer said can be put beside what they did.
type Question struct {
	Key     string       `json:"key"`
	Text    string       `json:"text"`
	Kind    QuestionKind `json:"kind"`
	Options []string     `json:"options,omitempty"`
	Scale   *Scale       `json:"scale,omitempty"`
	Source  string       `json:"source,omitempty"`
	// Answered is set once the question has a response; its kind, options
	// and scale are then locked.
	Answered  bool      `json:"answered"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// QuestionInput is what a product team may set.
type QuestionInput struct {
	Key     string       `json:"key"`
	Text    string       `json:"text"`
	Kind    QuestionKind `json:"kind"`
	Options []string     `json:"options"`
	Scale   *Scale       `json:"scale"`
	Source  string       `json:"source"`
}

const (
	maxOptions   = 20
	maxScaleSpan = 100
)

// build validates in and returns the question it describes.
func (in *QuestionInput) build() (*Question, error) {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if why := analysis.CheckKey(in.Key); why != "" {
		add("key", "%s", why)
	}
	switch {
	case in.Text == "":
		add("text", "is required: the question as customers read it")
	case len(in.Text) > maxTextLen:
		add("text", "must be at most %d bytes", maxTextLen)
	}
	if len(in.Source) > maxTextLen {
		add("source", "must be at most %d bytes", maxTextLen)
	}
	switch in.Kind {
	case QuestionChoice:
		if len(in.Options) < 2 || len(in.Options) > maxOptions {
			add("options", "a choice question needs 2 to %d options", maxOptions)
		}
		for i, o := range in.Options {
			switch {
			case o == "" || len(o) > maxNameLen || !utf8.ValidString(o):
				add(fmt.Sprintf("options[%d]", i), "must be 1 to %d bytes of UTF-8", maxNameLen)
			case slices.Index(in.Options, o) < i:
				add(fmt.Sprintf("options[%d]", i), "duplicates option %q", o)
			}
		}
		if in.Scale != nil {
			add("scale", "is only for rating questions")
		}
	case QuestionRating:
		s := in.Scale
		switch {
		case s == nil:
			add("scale", `is required for a rating question, e.g. {"min":1,"max":5}`)
		case s.Min != math.Trunc(s.Min) || s.Max != math.Trunc(s.Max) || !(s.Min < s.Max) || s.Max-s.Min > maxScaleSpan:
			add("scale", "must have whole-number min < max, at most %d apart", maxScaleSpan)
		}
		if len(in.Options) > 0 {
			add("options", "are only for choice questions")
		}
	case QuestionNumber:
		if in.Scale != nil || len(in.Options) > 0 {
			add("kind", "a number question takes neither options nor a scale")
		}
	case "":
		add("kind", `is required: "choice", "rating" or "number"`)
	default:
		add("kind", `must be "choice", "rating" or "number"`)
	}
	if len(errs) > 0 {
		return nil, Invalid("invalid question", errs)
	}
	return &Question{Key: in.Key, Text: in.Text, Kind: in.Kind, Options: in.Options, Scale: in.Scale, Source: in.Source}, nil
}

// checkAnswer validates a response's answer and returns it as stored: the
// option for a choice question, the number written out otherwise, with the
// number itself.
func (q *Question) checkAnswer(answer any) (text string, value float64, problem string) {
	switch q.Kind {
	case QuestionChoice:
		s, ok := answer.(string)
		if !ok || !slices.Contains(q.Options, s) {
			return "", 0, fmt.Sprintf("must be one of the options of %q: %q", q.Key, q.Options)
		}
		return s, 0, ""
	default:
		x, ok := answer.(float64)
		if !ok || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > MaxOutcomeValue {
			return "", 0, fmt.Sprintf("must be a number for the %s question %q", q.Kind, q.Key)
		}
		if q.Kind == QuestionRating && (x != math.Trunc(x) || x < q.Scale.Min || x > q.Scale.Max) {
			return "", 0, fmt.Sprintf("must be a whole number from %g to %g", q.Scale.Min, q.Scale.Max)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), x, ""
	}
}

// design is the question as a claim sees it.
func (q *Question) design() analysis.QuestionDesign {
	return analysis.QuestionDesign{Key: q.Key, Kind: string(q.Kind), Options: q.Options}
}

// CreateQuestion validates in and stores it.
func (s *Service) CreateQuestion(ctx context.Context, in QuestionInput) (*Question, error) {
	q, err := in.build()
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	q.CreatedAt, q.UpdatedAt, q.Version = now, now, 1
	if err := s.store.CreateQuestion(ctx, q, s.auditEntry(ctx, "question.create", "question:"+q.Key, nil, q)); err != nil {
		return nil, err
	}
	return q, s.catalog.Refresh(ctx)
}

// Questions lists every question.
func (s *Service) Questions(ctx context.Context) ([]*Question, error) {
	return s.store.ListQuestions(ctx)
}

// Question returns CodeNotFound for an unknown key.
func (s *Service) Question(ctx context.Context, key string) (*Question, error) {
	return s.store.GetQuestion(ctx, key)
}

// UpdateQuestion replaces a question's definition. Once it has a response,
// its kind, options and scale are locked (409), as an experiment's variants
// lock when it starts: changing them would change what stored answers mean.
// An edit that would leave a say_do claim untestable is refused too.
func (s *Service) UpdateQuestion(ctx context.Context, key string, in QuestionInput) (*Question, error) {
	if in.Key == "" {
		in.Key = key
	} else if in.Key != key {
		return nil, Invalid("invalid question", []FieldError{{Field: "key", Detail: "cannot be changed; it must match the URL"}})
	}
	cur, err := s.store.GetQuestion(ctx, key)
	if err != nil {
		return nil, err
	}
	next, err := in.build()
	if err != nil {
		return nil, err
	}
	// The lock on an answered question's kind, options and scale is the
	// store's to check, in the transaction that writes the edit: a first
	// response may land between this read and that write.
	if err := s.questionStillFits(ctx, next); err != nil {
		return nil, err
	}
	next.Answered, next.CreatedAt, next.UpdatedAt, next.Version = cur.Answered, cur.CreatedAt, s.nowUTC(), cur.Version+1
	if err := s.store.UpdateQuestion(ctx, next, s.auditEntry(ctx, "question.update", "question:"+key, cur, next)); err != nil {
		return nil, err
	}
	return next, s.catalog.Refresh(ctx)
}

// questionStillFits refuses a question edit that would leave a say_do claim
// of any experiment untestable (its answer no longer an option).
func (s *Service) questionStillFits(ctx context.Context, next *Question) error {
	exps, err := s.store.ListExperiments(ctx)
	if err != nil {
		return err
	}
	for _, e := range exps {
		claims, err := s.store.Claims(ctx, e.Key)
		if err != nil {
			return err
		}
		var users []*Claim
		for _, c := range claims {
			if c.Kind == analysis.ClaimSayDo && c.Question == next.Key {
				users = append(users, c)
			}
		}
		if len(users) == 0 {
			continue
		}
		d := e.design()
		d.Questions = []analysis.QuestionDesign{next.design()}
		if err := danglingClaims(e.Key, d, users); err != nil {
			return err
		}
	}
	return nil
}
