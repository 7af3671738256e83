package experiments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// Definitions is the payload SDKs evaluate locally.
type Definitions struct {
	Algorithm   string              `json:"algorithm"`
	ETag        string              `json:"etag"` // the ETag header's value, unquoted
	Experiments []assign.Definition `json:"experiments"`
}

// snapshot is an immutable view of every experiment at one catalog version.
type snapshot struct {
	version     int64
	byKey       map[string]*Experiment
	definitions map[string]*assign.Definition
	metrics     map[string]bool
	questions   map[string]*Question
	payload     []byte // Definitions as JSON
	etag        string
}

// Catalog keeps every experiment in memory so that assignment, event
// validation and SDK definitions need no database read per request. Each
// replica refreshes it when the store's catalog version moves.
type Catalog struct {
	store   catalogSource
	current atomic.Pointer[snapshot]

	mu      sync.Mutex // serialises refreshes and guards changed
	changed chan struct{}
}

// catalogSource is what a Catalog reads: the experiments, and a version that
// says when to read them again.
type catalogSource interface {
	CatalogVersion(ctx context.Context) (int64, error)
	ListExperiments(ctx context.Context) ([]*Experiment, error)
	ListQuestions(ctx context.Context) ([]*Question, error)
	ListLayers(ctx context.Context) ([]*Layer, error)
	ListHoldouts(ctx context.Context) ([]*Holdout, error)
}

// NewCatalog returns an empty catalog; call Refresh before use.
func NewCatalog(store catalogSource) *Catalog {
	c := &Catalog{store: store, changed: make(chan struct{})}
	c.current.Store(&snapshot{version: -1})
	return c
}

// Refresh reloads the experiments if the stored catalog has changed.
func (c *Catalog) Refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	version, err := c.store.CatalogVersion(ctx)
	if err != nil {
		return err
	}
	if version == c.current.Load().version {
		return nil
	}
	list, err := c.store.ListExperiments(ctx)
	if err != nil {
		return err
	}
	questions, err := c.store.ListQuestions(ctx)
	if err != nil {
		return err
	}
	layers, err := c.store.ListLayers(ctx)
	if err != nil {
		return err
	}
	holdouts, err := c.store.ListHoldouts(ctx)
	if err != nil {
		return err
	}
	snap := buildSnapshot(version, list, layers, holdouts)
	for _, q := range questions {
		snap.questions[q.Key] = q
	}
	c.current.Store(snap)
	close(c.changed)
	c.changed = make(chan struct{})
	return nil
}

func buildSnapshot(version int64, list []*Experiment, layers []*Layer, holdouts []*Holdout) *snapshot {
	s := &snapshot{
		version:     version,
		byKey:       make(map[string]*Experiment, len(list)),
		definitions: make(map[string]*assign.Definition, len(list)),
		metrics:     map[string]bool{},
		questions:   map[string]*Question{},
	}
	defs := Definitions{Algorithm: assign.Version, Experiments: make([]assign.Definition, 0, len(list))}
	salts := map[string]string{}
	for _, l := range layers {
		salts[l.Key] = l.Salt
	}
	for _, e := range list {
		s.byKey[e.Key] = e
		d := e.Definition()
		if e.Layer != nil {
			d.Layer = &assign.Layer{Key: e.Layer.Key, Salt: salts[e.Layer.Key], Lo: e.Layer.Range[0], Hi: e.Layer.Range[1]}
		}
		for _, h := range holdouts {
			if slices.Contains(h.Experiments, e.Key) {
				d.Holdouts = append(d.Holdouts, assign.Holdout{Key: h.Key, Salt: h.Salt, Share: h.Share})
			}
		}
		s.definitions[e.Key] = &d
		defs.Experiments = append(defs.Experiments, d)
		for _, m := range e.Metrics {
			if m.Kind != MetricRatio {
				s.metrics[m.SourceKey()] = true
			}
		}
	}
	// A holdout's exposures and outcomes are validated as an experiment's,
	// but it is not in the SDK payload: the experiments carry it.
	for _, h := range holdouts {
		he := h.experiment()
		s.byKey[he.Key] = he
		for _, m := range he.Metrics {
			if m.Kind != MetricRatio {
				s.metrics[m.SourceKey()] = true
			}
		}
	}
	body, _ := json.Marshal(defs.Experiments) // plain data: cannot fail
	sum := sha256.Sum256(body)
	defs.ETag = hex.EncodeToString(sum[:12])
	s.etag = `"` + defs.ETag + `"`
	s.payload, _ = json.Marshal(defs)
	return s
}

// Changed returns a channel that is closed at the next change of the catalog.
func (c *Catalog) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// Definitions returns the SDK payload as JSON and its ETag (quoted).
func (c *Catalog) Definitions() (payload []byte, etag string) {
	s := c.current.Load()
	return s.payload, s.etag
}

func (c *Catalog) experiment(key string) *Experiment { return c.current.Load().byKey[key] }
func (c *Catalog) definition(key string) *assign.Definition {
	return c.current.Load().definitions[key]
}
func (c *Catalog) knownMetric(key string) bool   { return c.current.Load().metrics[key] }
func (c *Catalog) question(key string) *Question { return c.current.Load().questions[key] }

// questionDesigns are the questions as claims see them, in key order.
func (c *Catalog) questionDesigns() []analysis.QuestionDesign {
	qs := c.current.Load().questions
	out := make([]analysis.QuestionDesign, 0, len(qs))
	for _, q := range qs {
		out = append(out, q.design())
	}
	slices.SortFunc(out, func(a, b analysis.QuestionDesign) int { return strings.Compare(a.Key, b.Key) })
	return out
}
