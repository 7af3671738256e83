package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

// keyedRow is a row of a table of JSON documents by key: sources, layers,
// holdouts.
type keyedRow struct {
	Key       string `db:"key"`
	Body      string `db:"body"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
	Version   int64  `db:"version"`
}

// saveKeyed creates a document (CodeConflict if the key exists) or
// replaces it if its stored version is still version-1 (CodeConflict
// otherwise). table is one of this package's constants.
func (s *Store) saveKeyed(ctx context.Context, table, noun string, row keyedRow, create bool, audit *experiments.AuditEntry) error {
	err := s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		if create {
			_, err := tx.NamedExecContext(ctx, `INSERT INTO `+table+` (key, body, created_at, updated_at, version)
				VALUES (:key, :body, :created_at, :updated_at, :version)`, row)
			return err
		}
		res, err := tx.NamedExecContext(ctx, `UPDATE `+table+` SET body = :body, updated_at = :updated_at, version = :version
			WHERE key = :key AND version = :version - 1`, row)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return experiments.Errorf(experiments.CodeConflict, "%s %q was changed by another request; reload it and try again", noun, row.Key)
		}
		return nil
	})
	return adaptError(err, fmt.Sprintf("a %s with key %q already exists", noun, row.Key))
}

func (s *Store) getKeyed(ctx context.Context, table, noun, key string) (keyedRow, error) {
	var row keyedRow
	err := s.db.GetContext(ctx, &row, s.rebind(`SELECT key, body, created_at, updated_at, version FROM `+table+` WHERE key = ?`), key)
	if err == sql.ErrNoRows {
		return row, experiments.Errorf(experiments.CodeNotFound, "no %s %q", noun, key)
	}
	if err != nil {
		return row, experiments.Internal(err)
	}
	return row, nil
}

func (s *Store) listKeyed(ctx context.Context, table string) ([]keyedRow, error) {
	var rows []keyedRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT key, body, created_at, updated_at, version FROM `+table+` ORDER BY key`); err != nil {
		return nil, experiments.Internal(err)
	}
	return rows, nil
}

func newKeyedRow(key string, body any, created, updated time.Time, version int64) (keyedRow, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return keyedRow{}, experiments.Internal(err)
	}
	return keyedRow{Key: key, Body: string(b), CreatedAt: created.UnixMicro(), UpdatedAt: updated.UnixMicro(), Version: version}, nil
}

// decodeKeyed fills into from the row's body and returns its times and version.
func decodeKeyed(r keyedRow, noun string, into any) (created, updated time.Time, version int64, err error) {
	if err := json.Unmarshal([]byte(r.Body), into); err != nil {
		return time.Time{}, time.Time{}, 0, experiments.Internal(fmt.Errorf("decoding stored %s %q: %w", noun, r.Key, err))
	}
	return fromMicros(r.CreatedAt), fromMicros(r.UpdatedAt), r.Version, nil
}

func listOf[T any](ctx context.Context, s *Store, table string, of func(keyedRow) (*T, error)) ([]*T, error) {
	rows, err := s.listKeyed(ctx, table)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(rows))
	for _, r := range rows {
		v, err := of(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
