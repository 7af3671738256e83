package sqlstore

import (
	"context"
	"time"

	"github.com/revealed-ab/revealed/experiments"
)

// TryLease takes the lease name for holder until now+ttl if it is free,
// expired or already holder's, and reports whether holder has it: one
// statement, so two replicas asking at once cannot both get it.
func (s *Store) TryLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE leases.until < ? OR leases.holder = excluded.holder`),
		name, holder, now.Add(ttl).UnixMicro(), now.UnixMicro())
	if err != nil {
		return false, experiments.Internal(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, experiments.Internal(err)
	}
	return n == 1, nil
}

// ReleaseLease gives up holder's lease name, if it has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder)
	if err != nil {
		return experiments.Internal(err)
	}
	return nil
}
