package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

func (s *Store) SaveClaim(ctx context.Context, e *experiments.Experiment, c *experiments.Claim, deleted bool, audit *experiments.AuditEntry) error {
	body, err := json.Marshal(c)
	if err != nil {
		return experiments.Internal(err)
	}
	err = s.withAudit(ctx, audit, func(tx *sqlx.Tx) error {
		return s.insertClaim(ctx, tx, e.Key, e.Version, c, body, deleted)
	})
	return adaptError(err, fmt.Sprintf("claim %q was changed by another request (version %d exists); reload it and try again", c.ID, c.Version))
}

// insertClaim stores a claim version of experiment whose JSON is body. The
// claim was validated against the experiment at version: moving the
// version on both refuses a claim checked against a definition that has
// changed since, and an edit of the experiment that has not seen this
// claim.
func (s *Store) insertClaim(ctx context.Context, tx *sqlx.Tx, experiment string, version int64, c *experiments.Claim, body []byte, deleted bool) error {
	// updated_at moves too: the report computed before this claim is stale.
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE experiments SET version = version + 1, updated_at = ? WHERE key = ? AND version = ?`),
		c.CreatedAt.UnixMicro(), experiment, version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return experiments.Errorf(experiments.CodeConflict, "experiment %q changed while claim %q was being saved; reload and try again", experiment, c.ID)
	}
	_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO claims (experiment, id, version, body, deleted, created_at, statement_key) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		experiment, c.ID, c.Version, string(body), boolInt(deleted), c.CreatedAt.UnixMicro(), c.StatementKey)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// versionRow is one stored version of a versioned document: a claim or a
// statement, whose edits insert versions and whose deletions tombstones.
type versionRow struct {
	Body    string `db:"body"`
	Deleted int    `db:"deleted"`
}

func decodeVersion[T any](r versionRow, noun string) (*T, error) {
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		return nil, experiments.Internal(fmt.Errorf("decoding a stored %s: %w", noun, err))
	}
	return &v, nil
}

// liveVersions decodes the rows that are not tombstones.
func liveVersions[T any](rows []versionRow, noun string) ([]*T, error) {
	out := []*T{}
	for _, r := range rows {
		if r.Deleted != 0 {
			continue
		}
		v, err := decodeVersion[T](r, noun)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// allVersions decodes every row, with deleted set on tombstones.
func allVersions[T any](rows []versionRow, noun string) ([]*T, []bool, error) {
	versions, deleted := make([]*T, len(rows)), make([]bool, len(rows))
	for i, r := range rows {
		v, err := decodeVersion[T](r, noun)
		if err != nil {
			return nil, nil, err
		}
		versions[i], deleted[i] = v, r.Deleted != 0
	}
	return versions, deleted, nil
}

func (s *Store) Claims(ctx context.Context, experiment string) ([]*experiments.Claim, error) {
	var rows []versionRow
	err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT c.body, c.deleted FROM claims c
		WHERE c.experiment = ? AND c.version = (SELECT MAX(l.version) FROM claims l WHERE l.experiment = c.experiment AND l.id = c.id)
		ORDER BY c.id`), experiment)
	if err != nil {
		return nil, experiments.Internal(err)
	}
	return liveVersions[experiments.Claim](rows, "claim")
}

func (s *Store) ClaimHistory(ctx context.Context, experiment, id string) ([]*experiments.Claim, []bool, error) {
	var rows []versionRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT body, deleted FROM claims WHERE experiment = ? AND id = ? ORDER BY version`), experiment, id); err != nil {
		return nil, nil, experiments.Internal(err)
	}
	if len(rows) == 0 {
		return nil, nil, experiments.Errorf(experiments.CodeNotFound, "experiment %q has no claim %q", experiment, id)
	}
	return allVersions[experiments.Claim](rows, "claim")
}

func (s *Store) SaveSnapshot(ctx context.Context, experiment string, at time.Time, report []byte) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO report_snapshots (experiment, computed_at, report) VALUES (?, ?, ?)
		ON CONFLICT (experiment, computed_at) DO NOTHING`), experiment, at.UnixMicro(), string(report))
	return adaptError(err, "")
}

func (s *Store) Snapshots(ctx context.Context, experiment string, limit int) ([]experiments.Snapshot, error) {
	var rows []struct {
		ComputedAt int64  `db:"computed_at"`
		Report     string `db:"report"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT computed_at, report FROM report_snapshots
		WHERE experiment = ? ORDER BY computed_at DESC LIMIT ?`), experiment, limit); err != nil {
		return nil, experiments.Internal(err)
	}
	out := make([]experiments.Snapshot, len(rows))
	for i, r := range rows {
		out[i] = experiments.Snapshot{ComputedAt: fromMicros(r.ComputedAt), Report: []byte(r.Report)}
	}
	return out, nil
}
