package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

// withAudit runs change and, when e is not nil, appends e in the same
// transaction: a change is never stored without its audit entry.
func (s *Store) withAudit(ctx context.Context, e *experiments.AuditEntry, change func(tx *sqlx.Tx) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO audit_log (at, actor, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)`),
			e.At.UnixMicro(), e.Actor, e.Action, e.Target, nullJSON(e.Before), nullJSON(e.After))
		return err
	})
}

func nullJSON(b json.RawMessage) sql.NullString {
	return sql.NullString{String: string(b), Valid: len(b) > 0}
}

func (s *Store) Audit(ctx context.Context, target string, before int64, limit int) ([]experiments.AuditEntry, error) {
	var rows []struct {
		Seq    int64          `db:"seq"`
		At     int64          `db:"at"`
		Actor  string         `db:"actor"`
		Action string         `db:"action"`
		Target string         `db:"target"`
		Before sql.NullString `db:"before"`
		After  sql.NullString `db:"after"`
	}
	q := `SELECT seq, at, actor, action, target, before, after FROM audit_log
		WHERE (? = '' OR target = ?) AND (? = 0 OR seq < ?) ORDER BY seq DESC LIMIT ?`
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), target, target, before, before, limit); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make([]experiments.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = experiments.AuditEntry{Seq: r.Seq, At: fromMicros(r.At), Actor: r.Actor, Action: r.Action, Target: r.Target}
		if r.Before.Valid {
			out[i].Before = json.RawMessage(r.Before.String)
		}
		if r.After.Valid {
			out[i].After = json.RawMessage(r.After.String)
		}
	}
	return out, nil
}
