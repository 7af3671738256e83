package experiments

import (
	"context"
	"time"
)

// ArmStats are the sufficient statistics of one variant for one metric,
// aggregated by the database over the variant's exposed units.
type ArmStats struct {
	Variant string  `db:"variant"`
	Units   int64   `db:"units"`
	Sum     float64 `db:"sum"`
	SumSq   float64 `db:"sum_sq"`
}

// Store persists experiments, events and keys. Methods return *Error values
// with CodeNotFound or CodeConflict where they say so, CodeInternal otherwise.
type Store interface {
	// CreateExperiment returns CodeConflict if the key exists.
	CreateExperiment(ctx context.Context, e *Experiment) error
	// GetExperiment returns CodeNotFound if there is no such experiment.
	GetExperiment(ctx context.Context, key string) (*Experiment, error)
	ListExperiments(ctx context.Context) ([]*Experiment, error)
	// UpdateExperiment replaces the stored experiment if its version is still
	// e.Version-1, and returns CodeConflict if another writer got there first.
	UpdateExperiment(ctx context.Context, e *Experiment) error
	// CatalogVersion changes whenever any experiment is created or changed.
	CatalogVersion(ctx context.Context) (int64, error)

	// Ingest stores events whose ids are new and counts the others as
	// duplicates. It returns only once the events are durable.
	Ingest(ctx context.Context, events []StoredEvent) (IngestResult, error)
	// ArmStats aggregates metric over each variant's exposed units, counting
	// outcomes from each unit's first exposure on.
	ArmStats(ctx context.Context, e *Experiment, metric Metric) ([]ArmStats, error)

	CreateKey(ctx context.Context, k *APIKey) error
	// KeyByHash returns CodeNotFound for unknown or revoked keys.
	KeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeKey returns CodeNotFound if there is no such active key.
	RevokeKey(ctx context.Context, id string, at time.Time) error
	TouchKey(ctx context.Context, id string, at time.Time) error
	CountKeys(ctx context.Context) (int, error)
	Ping(ctx context.Context) error
}
