package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

type keyRow struct {
	ID         string        `db:"id"`
	Kind       string        `db:"kind"`
	Name       string        `db:"name"`
	Hash       string        `db:"hash"`
	CreatedAt  int64         `db:"created_at"`
	LastUsedAt sql.NullInt64 `db:"last_used_at"`
	RevokedAt  sql.NullInt64 `db:"revoked_at"`
}

func (r *keyRow) key() *experiments.APIKey {
	return &experiments.APIKey{ID: r.ID, Kind: experiments.KeyKind(r.Kind), Name: r.Name, Hash: r.Hash,
		CreatedAt: fromMicros(r.CreatedAt), LastUsedAt: timePtr(r.LastUsedAt), RevokedAt: timePtr(r.RevokedAt)}
}

const keyColumns = `id, kind, name, hash, created_at, last_used_at, revoked_at`

func (s *Store) CreateKey(ctx context.Context, k *experiments.APIKey, audit *experiments.AuditEntry) error {
	err := s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO api_keys (id, kind, name, hash, created_at) VALUES (?, ?, ?, ?, ?)`),
			k.ID, string(k.Kind), k.Name, k.Hash, k.CreatedAt.UnixMicro())
		return err
	})
	return adaptError(err, "a key with this id or secret already exists")
}

func (s *Store) KeyByHash(ctx context.Context, hash string) (*experiments.APIKey, error) {
	var row keyRow
	err := s.db.GetContext(ctx, &row, s.rebind(`SELECT `+keyColumns+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`), hash)
	if err == sql.ErrNoRows {
		return nil, experiments.Errorf(experiments.CodeNotFound, "no such key")
	}
	if err != nil {
		return nil, experiments.Internal(err)
	}
	return row.key(), nil
}

func (s *Store) ListKeys(ctx context.Context) ([]*experiments.APIKey, error) {
	var rows []keyRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make([]*experiments.APIKey, len(rows))
	for i := range rows {
		out[i] = rows[i].key()
	}
	return out, nil
}

func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time, audit *experiments.AuditEntry) error {
	missing := false
	err := s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), at.UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			missing = true
			return errStale
		}
		return nil
	})
	if missing {
		return experiments.Errorf(experiments.CodeNotFound, "no active key %q", id)
	}
	return adaptError(err, "")
}

func (s *Store) TouchKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`), at.UnixMicro(), id)
	return adaptError(err, "")
}

func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM api_keys`); err != nil {
		return 0, experiments.Internal(err)
	}
	return n, nil
}
