package experiments

import (
	"context"
	"log/slog"
	"time"
)

// Service is what the server and the CLI call: it enforces the rules of an
// experiment's life and keeps the catalog current for this replica.
type Service struct {
	store   Store
	catalog *Catalog
	now     func() time.Time
	log     *slog.Logger
	exposed *exposureCache
	// attributes are the exposure attributes' values seen so far.
	attributes *attributeValues
	// id names this replica in the leases it takes.
	id string
}

// Option configures a Service.
type Option func(*Service)

// WithClock injects the clock, so tests control time.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService loads the catalog from store.
func NewService(ctx context.Context, store Store, opts ...Option) (*Service, error) {
	s := &Service{store: store, catalog: NewCatalog(store), now: time.Now, log: slog.Default(), exposed: newExposureCache(1 << 20),
		attributes: newAttributeValues(), id: newReplicaID()}
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
