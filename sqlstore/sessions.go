package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/revealed-ab/revealed/experiments"
)

func (s *Store) CreateSession(ctx context.Context, sess *experiments.Session) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO sessions (token_hash, key_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		sess.TokenHash, sess.KeyID, sess.CSRF, sess.CreatedAt.UnixMicro(), sess.ExpiresAt.UnixMicro())
	return adaptError(err, "session exists")
}

// SessionByHash returns a live session and its key; a revoked key or an
// expired session is CodeNotFound.
func (s *Store) SessionByHash(ctx context.Context, tokenHash string, now time.Time) (*experiments.Session, *experiments.APIKey, error) {
	var row struct {
		keyRow
		CSRF      string `db:"csrf"`
		ExpiresAt int64  `db:"expires_at"`
		SCreated  int64  `db:"s_created_at"`
	}
	err := s.db.GetContext(ctx, &row, s.rebind(`SELECT k.id, k.kind, k.name, k.hash, k.created_at, k.last_used_at, k.revoked_at,
			s.csrf, s.expires_at, s.created_at AS s_created_at
		FROM sessions s JOIN api_keys k ON k.id = s.key_id
		WHERE s.token_hash = ? AND s.expires_at > ? AND k.revoked_at IS NULL`), tokenHash, now.UnixMicro())
	if err == sql.ErrNoRows {
		return nil, nil, experiments.Errorf(experiments.CodeNotFound, "no live session")
	}
	if err != nil {
		return nil, nil, experiments.Internal(err)
	}
	sess := &experiments.Session{TokenHash: tokenHash, KeyID: row.ID, CSRF: row.CSRF,
		CreatedAt: fromMicros(row.SCreated), ExpiresAt: fromMicros(row.ExpiresAt)}
	return sess, row.key(), nil
}

func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE token_hash = ? OR expires_at < ?`), tokenHash, time.Now().UnixMicro())
	return adaptError(err, "")
}
