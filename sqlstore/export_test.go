package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/revealed-ab/revealed/experiments"
)

// UnitValue is one unit's values as stored in unit_values (without the
// key's experiment and metric), or as computed from the events.
type UnitValue struct {
	UnitID    string   `db:"unit_id"`
	Variant   string   `db:"variant"`
	ExposedAt int64    `db:"exposed_at"`
	V         *float64 `db:"v"`
	Pre       *float64 `db:"pre"`
	D         *float64 `db:"d"`
}

// ComputedUnitValues computes e's per-unit values of q's metric from the
// events, in unit order.
func (s *Store) ComputedUnitValues(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery) ([]UnitValue, error) {
	query, args := s.unitValuesSQL(e, q, false, nil, "", nil)
	var out []UnitValue
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT * FROM (`+query+`) computed ORDER BY unit_id`), args...)
	return out, err
}

// StoredUnitValues reads e's stored per-unit values of metric, in unit order.
func (s *Store) StoredUnitValues(ctx context.Context, e *experiments.Experiment, metric string) ([]UnitValue, error) {
	var out []UnitValue
	err := s.db.SelectContext(ctx, &out, s.rebind(`SELECT unit_id, variant, exposed_at, v, pre, d FROM unit_values
		WHERE experiment = ? AND metric = ? ORDER BY unit_id`), e.Key, metric)
	return out, err
}

// SetSyncChunk makes syncs recompute n units per transaction until the
// returned function restores the size.
func SetSyncChunk(n int) (restore func()) {
	old := syncChunk
	syncChunk = n
	return func() { syncChunk = old }
}

// SetOnePassUnits sets how many changed units, if half the units or more,
// a sync computes afresh, until the returned function restores it.
func SetOnePassUnits(n int64) (restore func()) {
	old := onePassUnits
	onePassUnits = n
	return func() { onePassUnits = old }
}

// SetBucketBits makes unit_outcomes' buckets 2^bits sequence numbers wide
// until the returned function restores the width.
func SetBucketBits(bits int) (restore func()) {
	old := bucketBits
	bucketBits = bits
	return func() { bucketBits = old }
}

// CopiedThrough reads how far the copy by unit has got, and the highest
// event sequence number.
func (s *Store) CopiedThrough(ctx context.Context) (copied, events int64, err error) {
	if err := s.db.GetContext(ctx, &copied, copiedThroughSQL); err != nil {
		return 0, 0, err
	}
	err = s.db.GetContext(ctx, &events, `SELECT COALESCE(MAX(seq), 0) FROM events`)
	return copied, events, err
}

// LoseUnloggedTables empties the tables Postgres empties after a crash:
// unit_outcomes and the copy's progress, and the per-unit values, their
// sums and their state.
func (s *Store) LoseUnloggedTables(ctx context.Context) error {
	for _, table := range append([]string{"unit_outcomes", "unit_outcome_buckets", "unit_outcomes_through"}, unitValueTables...) {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM `+table); err != nil {
			return err
		}
	}
	return nil
}

// OpenMigrated opens the store at dsn, migrated, and closes it when the test
// ends.
func OpenMigrated(t *testing.T, dsn string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// SetCheckpointing makes stores opened from now on checkpoint every every,
// and restart the WAL past pages, until the returned function restores
// both.
func SetCheckpointing(every time.Duration, pages int) (restore func()) {
	oldEvery, oldPages := checkpointEvery, restartPages
	checkpointEvery, restartPages = every, pages
	return func() { checkpointEvery, restartPages = oldEvery, oldPages }
}
