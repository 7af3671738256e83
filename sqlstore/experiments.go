package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

type experimentRow struct {
	Key        string        `db:"key"`
	Name       string        `db:"name"`
	Hypothesis string        `db:"hypothesis"`
	Unit       string        `db:"unit"`
	Salt       string        `db:"salt"`
	Traffic    float64       `db:"traffic"`
	Status     string        `db:"status"`
	Variants   string        `db:"variants"`
	Factors    string        `db:"factors"`
	Layer      string        `db:"layer"`
	LayerKey   string        `db:"layer_key"`
	Targeting  string        `db:"targeting"`
	Metrics    string        `db:"metrics"`
	Analysis   string        `db:"analysis"`
	CreatedAt  int64         `db:"created_at"`
	UpdatedAt  int64         `db:"updated_at"`
	StartedAt  sql.NullInt64 `db:"started_at"`
	StoppedAt  sql.NullInt64 `db:"stopped_at"`
	Version    int64         `db:"version"`
}

const experimentColumns = `key, name, hypothesis, unit, salt, traffic, status, variants, factors, layer, layer_key, targeting, metrics, analysis, created_at, updated_at, started_at, stopped_at, version`

func toRow(e *experiments.Experiment) (experimentRow, error) {
	variants, err := json.Marshal(e.Variants)
	if err != nil {
		return experimentRow{}, err
	}
	factors := []byte("[]")
	if len(e.Factors) > 0 {
		if factors, err = json.Marshal(e.Factors); err != nil {
			return experimentRow{}, err
		}
	}
	layer, layerKey := "", ""
	if e.Layer != nil {
		b, err := json.Marshal(e.Layer)
		if err != nil {
			return experimentRow{}, err
		}
		layer, layerKey = string(b), e.Layer.Key
	}
	targeting, err := json.Marshal(e.Targeting)
	if err != nil {
		return experimentRow{}, err
	}
	metrics, err := json.Marshal(e.Metrics)
	if err != nil {
		return experimentRow{}, err
	}
	settings, err := json.Marshal(e.Analysis)
	if err != nil {
		return experimentRow{}, err
	}
	return experimentRow{
		Key: e.Key, Name: e.Name, Hypothesis: e.Hypothesis, Unit: e.Unit, Salt: e.Salt, Traffic: e.Traffic,
		Status: string(e.Status), Variants: string(variants), Factors: string(factors), Layer: layer, LayerKey: layerKey, Targeting: string(targeting), Metrics: string(metrics), Analysis: string(settings),
		CreatedAt: e.CreatedAt.UnixMicro(), UpdatedAt: e.UpdatedAt.UnixMicro(),
		StartedAt: nullMicros(e.StartedAt), StoppedAt: nullMicros(e.StoppedAt), Version: e.Version,
	}, nil
}

func (r *experimentRow) experiment() (*experiments.Experiment, error) {
	e := &experiments.Experiment{
		Key: r.Key, Name: r.Name, Hypothesis: r.Hypothesis, Unit: r.Unit, Salt: r.Salt, Traffic: r.Traffic,
		Status: experiments.Status(r.Status), CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
		StartedAt: timePtr(r.StartedAt), StoppedAt: timePtr(r.StoppedAt), Version: r.Version,
	}
	for _, f := range []struct {
		raw string
		dst any
	}{{r.Variants, &e.Variants}, {r.Factors, &e.Factors}, {r.Targeting, &e.Targeting}, {r.Metrics, &e.Metrics}, {r.Analysis, &e.Analysis}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return nil, fmt.Errorf("decoding stored experiment %q: %w", r.Key, err)
		}
	}
	if r.Layer != "" {
		e.Layer = &experiments.LayerRange{}
		if err := json.Unmarshal([]byte(r.Layer), e.Layer); err != nil {
			return nil, fmt.Errorf("decoding stored experiment %q: %w", r.Key, err)
		}
	}
	e.Analysis = e.Analysis.WithDefaults()
	return e, nil
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func (s *Store) CreateExperiment(ctx context.Context, e *experiments.Experiment, audit *experiments.AuditEntry) error {
	row, err := toRow(e)
	if err != nil {
		return experiments.Internal(err)
	}
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO experiments (`+experimentColumns+`) VALUES
			(:key, :name, :hypothesis, :unit, :salt, :traffic, :status, :variants, :factors, :layer, :layer_key, :targeting, :metrics, :analysis, :created_at, :updated_at, :started_at, :stopped_at, :version)`, row)
		if err != nil {
			return err
		}
		return s.checkLayerOverlap(ctx, tx, e, true)
	})
	return adaptError(err, fmt.Sprintf("an experiment with key %q already exists", e.Key))
}

func (s *Store) GetExperiment(ctx context.Context, key string) (*experiments.Experiment, error) {
	var row experimentRow
	err := s.db.GetContext(ctx, &row, s.rebind(`SELECT `+experimentColumns+` FROM experiments WHERE key = ?`), key)
	if err == sql.ErrNoRows {
		return nil, experiments.Errorf(experiments.CodeNotFound, "no experiment %q", key)
	}
	if err != nil {
		return nil, experiments.Internal(err)
	}
	return row.experiment()
}

func (s *Store) ListExperiments(ctx context.Context) ([]*experiments.Experiment, error) {
	var rows []experimentRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+experimentColumns+` FROM experiments ORDER BY created_at DESC, key`); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make([]*experiments.Experiment, 0, len(rows))
	for i := range rows {
		e, err := rows[i].experiment()
		if err != nil {
			return nil, experiments.Internal(err)
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Store) UpdateExperiment(ctx context.Context, e *experiments.Experiment, audit *experiments.AuditEntry) error {
	row, err := toRow(e)
	if err != nil {
		return experiments.Internal(err)
	}
	stale := false
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		res, err := tx.NamedExecContext(ctx, `UPDATE experiments SET name = :name, hypothesis = :hypothesis, unit = :unit,
			salt = :salt, traffic = :traffic, status = :status, variants = :variants, factors = :factors, layer = :layer, layer_key = :layer_key, targeting = :targeting, metrics = :metrics, analysis = :analysis,
			updated_at = :updated_at, started_at = :started_at, stopped_at = :stopped_at, version = :version
			WHERE key = :key AND version = :version - 1`, row)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			stale = true
			return errStale
		}
		return s.checkLayerOverlap(ctx, tx, e, false)
	})
	if stale {
		if _, err := s.GetExperiment(ctx, e.Key); err != nil {
			return err
		}
		return experiments.Errorf(experiments.CodeConflict, "experiment %q was changed by another request; reload it and try again", e.Key)
	}
	return adaptError(err, "conflicting update")
}

// errStale rolls back an update that found no row at the expected version.
var errStale = errors.New("stale version")

// CatalogVersion sums the experiments' and questions' versions: every create
// or change adds one, and neither is ever deleted, so the sum only grows.
func (s *Store) CatalogVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.GetContext(ctx, &v, `SELECT (SELECT COALESCE(SUM(version), 0) FROM experiments) + (SELECT COALESCE(SUM(version), 0) FROM questions)
		+ (SELECT COALESCE(SUM(version), 0) FROM layers) + (SELECT COALESCE(SUM(version), 0) FROM holdouts)`); err != nil {
		return 0, experiments.Internal(err)
	}
	return v, nil
}

// checkLayerOverlap refuses, inside the transaction that stores e, a
// running (or new) e whose layer range overlaps another running
// experiment's; a draft may overlap until it starts. The
// row of e is written first, so that on SQLite the transaction holds the
// write lock while it reads, and on Postgres a lock per layer serialises
// the check: two experiments started at once cannot both pass it.
func (s *Store) checkLayerOverlap(ctx context.Context, tx *sqlx.Tx, e *experiments.Experiment, creating bool) error {
	if e.Layer == nil || (e.Status != experiments.StatusRunning && !creating) {
		return nil
	}
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "layer:"+e.Layer.Key); err != nil {
			return err
		}
	}
	var rows []experimentRow
	if err := tx.SelectContext(ctx, &rows, s.rebind(`SELECT `+experimentColumns+` FROM experiments WHERE layer_key = ? AND status = ? AND key <> ?`),
		e.Layer.Key, string(experiments.StatusRunning), e.Key); err != nil {
		return err
	}
	running := make([]*experiments.Experiment, 0, len(rows))
	for i := range rows {
		o, err := rows[i].experiment()
		if err != nil {
			return err
		}
		running = append(running, o)
	}
	if other := experiments.LayerOverlap(e, running); other != nil {
		return experiments.OverlapError(e, other)
	}
	return nil
}
