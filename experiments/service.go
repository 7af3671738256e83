package experiments

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/revealed-ab/revealed/experiments/assign"
)

// Service is what the server and the CLI call: it enforces the rules of an
// experiment's life and keeps the catalog current for this replica.
type Service struct {
	store   Store
	catalog *Catalog
	now     func() time.Time
	log     *slog.Logger
	exposed *exposureCache
}

// Option configures a Service.
type Option func(*Service)

// WithClock injects the clock, so tests control time.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService loads the catalog from store.
func NewService(ctx context.Context, store Store, opts ...Option) (*Service, error) {
	s := &Service{store: store, catalog: NewCatalog(store), now: time.Now, log: slog.Default(), exposed: newExposureCache(1 << 20)}
	for _, o := range opts {
		o(s)
	}
	if err := s.catalog.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Catalog returns the in-memory definitions of this replica.
func (s *Service) Catalog() *Catalog { return s.catalog }

// WatchCatalog refreshes the catalog every interval until ctx ends, so that a
// change made on another replica reaches this one's SDK clients.
func (s *Service) WatchCatalog(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.catalog.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("refreshing the experiment catalog", "err", err)
			}
		}
	}
}

// Ping reports whether the store is reachable.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) nowUTC() time.Time { return s.now().UTC() }

// CreateExperiment validates in and stores it as a draft.
func (s *Service) CreateExperiment(ctx context.Context, in ExperimentInput) (*Experiment, error) {
	e, err := in.build()
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	e.CreatedAt, e.UpdatedAt, e.Version = now, now, 1
	if err := s.store.CreateExperiment(ctx, e, s.auditEntry(ctx, "experiment.create", "experiment:"+e.Key, nil, e)); err != nil {
		return nil, err
	}
	return e, s.catalog.Refresh(ctx)
}

// GetExperiment returns CodeNotFound for an unknown key.
func (s *Service) GetExperiment(ctx context.Context, key string) (*Experiment, error) {
	return s.store.GetExperiment(ctx, key)
}

// ListExperiments returns every experiment, optionally of one status.
func (s *Service) ListExperiments(ctx context.Context, status Status) ([]*Experiment, error) {
	switch status {
	case "", StatusDraft, StatusRunning, StatusStopped:
	default:
		return nil, Invalid("invalid filter", []FieldError{{Field: "status", Detail: `must be "draft", "running" or "stopped"`}})
	}
	all, err := s.store.ListExperiments(ctx)
	if err != nil || status == "" {
		return all, err
	}
	out := all[:0]
	for _, e := range all {
		if e.Status == status {
			out = append(out, e)
		}
	}
	return out, nil
}

// UpdateExperiment replaces the definition of key. A draft may change freely;
// a started experiment refuses changes that would re-bucket customers.
func (s *Service) UpdateExperiment(ctx context.Context, key string, in ExperimentInput) (*Experiment, error) {
	if in.Key == "" {
		in.Key = key
	} else if in.Key != key {
		return nil, Invalid("invalid experiment", []FieldError{{Field: "key", Detail: "cannot be changed; it must match the URL"}})
	}
	cur, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, err
	}
	next, err := in.build()
	if err != nil {
		return nil, err
	}
	if why := lockedChange(cur, next); why != "" {
		return nil, Errorf(CodeConflict, "experiment %q is %s: %s", key, cur.Status, why)
	}
	next.Status, next.CreatedAt, next.StartedAt, next.StoppedAt = cur.Status, cur.CreatedAt, cur.StartedAt, cur.StoppedAt
	next.UpdatedAt, next.Version = s.nowUTC(), cur.Version+1
	if err := s.store.UpdateExperiment(ctx, next, s.auditEntry(ctx, "experiment.update", "experiment:"+key, cur, next)); err != nil {
		return nil, err
	}
	return next, s.catalog.Refresh(ctx)
}

// Start moves a draft to running.
func (s *Service) Start(ctx context.Context, key string) (*Experiment, error) {
	return s.transition(ctx, key, StatusDraft, StatusRunning)
}

// Stop moves a running experiment to stopped.
func (s *Service) Stop(ctx context.Context, key string) (*Experiment, error) {
	return s.transition(ctx, key, StatusRunning, StatusStopped)
}

func (s *Service) transition(ctx context.Context, key string, from, to Status) (*Experiment, error) {
	e, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, err
	}
	if e.Status != from {
		return nil, Errorf(CodeConflict, "experiment %q is %s; only a %s experiment can become %s", key, e.Status, from, to)
	}
	before := *e
	now := s.nowUTC()
	e.Status, e.UpdatedAt, e.Version = to, now, e.Version+1
	if to == StatusRunning {
		e.StartedAt = &now
	} else {
		e.StoppedAt = &now
	}
	action := "experiment.start"
	if to == StatusStopped {
		action = "experiment.stop"
	}
	if err := s.store.UpdateExperiment(ctx, e, s.auditEntry(ctx, action, "experiment:"+key, &before, e)); err != nil {
		return nil, err
	}
	return e, s.catalog.Refresh(ctx)
}

// AssignRequest asks which variant a unit gets.
type AssignRequest struct {
	Experiment string         `json:"experiment"`
	UnitID     string         `json:"unit_id"`
	Attributes map[string]any `json:"attributes"`
}

// Assignment is the answer to an AssignRequest.
type Assignment struct {
	Experiment   string `json:"experiment"`
	UnitID       string `json:"unit_id"`
	Variant      string `json:"variant"`
	InExperiment bool   `json:"in_experiment"`
	Reason       string `json:"reason"`
}

// Assign decides the unit's variant with the shared pure function and, when
// the unit is in the experiment, durably records its first exposure.
func (s *Service) Assign(ctx context.Context, req AssignRequest) (Assignment, error) {
	var errs []FieldError
	switch {
	case req.UnitID == "":
		errs = append(errs, FieldError{Field: "unit_id", Detail: "is required"})
	case len(req.UnitID) > maxUnitIDLen:
		errs = append(errs, FieldError{Field: "unit_id", Detail: fmt.Sprintf("must be at most %d bytes", maxUnitIDLen)})
	case !utf8.ValidString(req.UnitID):
		errs = append(errs, FieldError{Field: "unit_id", Detail: "must be valid UTF-8"})
	}
	if req.Experiment == "" {
		errs = append(errs, FieldError{Field: "experiment", Detail: "is required"})
	}
	errs = append(errs, validateAttributes(req.Attributes)...)
	if len(errs) > 0 {
		return Assignment{}, Invalid("invalid assignment request", errs)
	}
	def, err := s.lookupDefinition(ctx, req.Experiment)
	if err != nil {
		return Assignment{}, err
	}
	r := assign.Assign(def, req.UnitID, req.Attributes)
	out := Assignment{Experiment: req.Experiment, UnitID: req.UnitID, Variant: r.Variant, InExperiment: r.InExperiment, Reason: string(r.Reason)}
	if !r.InExperiment || s.exposed.contains(req.Experiment, req.UnitID) {
		return out, nil
	}
	now := s.nowUTC()
	ev := StoredEvent{
		Type: EventExposure, UnitID: req.UnitID, Experiment: req.Experiment,
		Variant: r.Variant, TS: now.UnixMicro(), ReceivedAt: now.UnixMicro(), Attributes: attributesJSON(req.Attributes),
	}
	if err := s.store.RecordExposures(ctx, []StoredEvent{ev}); err != nil {
		return Assignment{}, err
	}
	s.exposed.add(req.Experiment, req.UnitID)
	return out, nil
}

// lookupDefinition falls back to the store once, so that an experiment just
// created on another replica is found before the next catalog refresh.
func (s *Service) lookupDefinition(ctx context.Context, key string) (*assign.Definition, error) {
	if d := s.catalog.definition(key); d != nil {
		return d, nil
	}
	if err := s.catalog.Refresh(ctx); err != nil {
		return nil, err
	}
	if d := s.catalog.definition(key); d != nil {
		return d, nil
	}
	return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("unknown experiment %q", key),
		Fields: []FieldError{{Field: "experiment", Detail: fmt.Sprintf("no experiment %q", key)}}}
}

// Ingest validates a whole batch and stores it all or nothing.
func (s *Service) Ingest(ctx context.Context, events []Event) (IngestResult, error) {
	if len(events) == 0 {
		return IngestResult{}, Invalid("invalid batch", []FieldError{{Field: "events", Detail: "must hold at least one event"}})
	}
	if len(events) > MaxBatchEvents {
		return IngestResult{}, Invalid("invalid batch", []FieldError{{Field: "events", Detail: fmt.Sprintf("at most %d events per batch", MaxBatchEvents)}})
	}
	errs := s.validateBatch(events)
	if len(errs) > 0 && s.refreshForUnknown(ctx, events) {
		errs = s.validateBatch(events)
	}
	if len(errs) > 0 {
		return IngestResult{}, Invalid(fmt.Sprintf("%d of %d events are invalid; nothing was stored", countIndexes(errs), len(events)), errs)
	}
	now := s.nowUTC()
	stored := make([]StoredEvent, len(events))
	for i := range events {
		ev := &events[i]
		se := StoredEvent{ID: ev.ID, Type: ev.Type, UnitID: ev.UnitID, Experiment: ev.Experiment, Variant: ev.Variant,
			Metric: ev.Metric, TS: now.UnixMicro(), ReceivedAt: now.UnixMicro(), Attributes: attributesJSON(ev.Attributes)}
		if se.ID == "" {
			se.ID = NewEventID(now)
		}
		if ev.Value != nil {
			se.Value = *ev.Value
		}
		if ev.TS != nil {
			se.TS = ev.TS.UnixMicro()
		}
		stored[i] = se
	}
	return s.store.Ingest(ctx, stored)
}

func (s *Service) validateBatch(events []Event) []FieldError {
	var errs []FieldError
	for i := range events {
		for _, fe := range validateEvent(&events[i], s.catalog.experiment, s.catalog.knownMetric) {
			idx := i
			fe.Index = &idx
			fe.Field = fmt.Sprintf("events[%d].%s", i, fe.Field)
			errs = append(errs, fe)
		}
	}
	return errs
}

// refreshForUnknown reloads the catalog when the batch names an experiment or
// metric this replica has not seen yet.
func (s *Service) refreshForUnknown(ctx context.Context, events []Event) bool {
	for i := range events {
		ev := &events[i]
		if (ev.Experiment != "" && s.catalog.experiment(ev.Experiment) == nil) ||
			(ev.Experiment == "" && ev.Metric != "" && !s.catalog.knownMetric(ev.Metric)) {
			return s.catalog.Refresh(ctx) == nil
		}
	}
	return false
}

func countIndexes(errs []FieldError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		if e.Index != nil {
			seen[*e.Index] = true
		}
	}
	return len(seen)
}

func attributesJSON(attrs map[string]any) string {
	if len(attrs) == 0 {
		return "{}"
	}
	b, err := json.Marshal(attrs)
	if err != nil { // validated attributes are plain scalars
		return "{}"
	}
	return string(b)
}

// Authenticate returns the live key whose secret this is, or CodeUnauthorized.
func (s *Service) Authenticate(ctx context.Context, secret string) (*APIKey, error) {
	if secret == "" {
		return nil, Errorf(CodeUnauthorized, "an API key is required: Authorization: Bearer KEY")
	}
	hash := HashSecret(secret)
	k, err := s.store.KeyByHash(ctx, hash)
	if ErrorCode(err) == CodeNotFound || (err == nil && subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1) {
		return nil, Errorf(CodeUnauthorized, "invalid or revoked API key")
	}
	return k, err
}

// TouchKey records that a key was used.
func (s *Service) TouchKey(ctx context.Context, id string) error {
	return s.store.TouchKey(ctx, id, s.nowUTC())
}

// CreateKey makes a new key; its secret is returned only here.
func (s *Service) CreateKey(ctx context.Context, kind KeyKind, name string) (NewAPIKey, error) {
	var errs []FieldError
	if kind != KeyAdmin && kind != KeySDK {
		errs = append(errs, FieldError{Field: "kind", Detail: `must be "admin" or "sdk"`})
	}
	if name == "" {
		errs = append(errs, FieldError{Field: "name", Detail: "is required"})
	} else if len(name) > maxNameLen {
		errs = append(errs, FieldError{Field: "name", Detail: fmt.Sprintf("must be at most %d bytes", maxNameLen)})
	}
	if len(errs) > 0 {
		return NewAPIKey{}, Invalid("invalid key", errs)
	}
	k := generateKey(kind, name, s.nowUTC())
	if err := s.store.CreateKey(ctx, &k.APIKey, s.auditEntry(ctx, "key.create", "key:"+k.ID, nil, k.APIKey)); err != nil {
		return NewAPIKey{}, err
	}
	return k, nil
}

// ListKeys lists keys without their secrets.
func (s *Service) ListKeys(ctx context.Context) ([]*APIKey, error) { return s.store.ListKeys(ctx) }

// RevokeKey makes a key unusable from now on.
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	now := s.nowUTC()
	return s.store.RevokeKey(ctx, id, now, s.auditEntry(ctx, "key.revoke", "key:"+id, nil, map[string]any{"revoked_at": now}))
}

// EnsureAdminKey makes secret a valid admin key if it is not one already.
func (s *Service) EnsureAdminKey(ctx context.Context, secret string) error {
	k, err := s.store.KeyByHash(ctx, HashSecret(secret))
	switch {
	case err == nil && k.Kind == KeyAdmin:
		return nil
	case err == nil:
		return Errorf(CodeConflict, "REVEALED_ADMIN_KEY is already stored as a %s key", k.Kind)
	case ErrorCode(err) != CodeNotFound:
		return err
	}
	key := generateKey(KeyAdmin, "REVEALED_ADMIN_KEY", s.nowUTC())
	key.Hash = HashSecret(secret)
	return s.store.CreateKey(ctx, &key.APIKey, s.auditEntry(ctx, "key.create", "key:"+key.ID, nil, key.APIKey))
}

// BootstrapAdminKey creates an admin key on a database that has none and
// returns its secret; it returns "" when keys already exist.
func (s *Service) BootstrapAdminKey(ctx context.Context) (string, error) {
	n, err := s.store.CountKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	k, err := s.CreateKey(ctx, KeyAdmin, "bootstrap admin")
	return k.Secret, err
}

// exposureCache remembers recently recorded exposures so that repeated
// assignments of the same unit do not write again. It is bounded: when full
// it forgets everything, which at worst records a harmless repeat exposure
// (the store keeps each unit's first).
type exposureCache struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newExposureCache(max int) *exposureCache {
	return &exposureCache{max: max, seen: make(map[string]struct{})}
}

func (c *exposureCache) contains(experiment, unit string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[experiment+"\x00"+unit]
	return ok
}

func (c *exposureCache) add(experiment, unit string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= c.max {
		clear(c.seen)
	}
	c.seen[experiment+"\x00"+unit] = struct{}{}
}
