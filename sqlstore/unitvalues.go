package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/errgroup"

	"github.com/revealed-ab/revealed/experiments"
)

// unitValuesVersion changes when the formula of the stored values changes,
// so that values stored by an older binary are recomputed, not read.
const unitValuesVersion = 1

// syncChunk is how many units one write transaction recomputes. On SQLite
// the transaction holds the write lock, so ingestion waits at most for one
// chunk's writes (the values are computed before it: see writeStaged).
var syncChunk = 5000 // a variable only so that tests can cross many chunks' bounds

// unitValueTables hold a metric's stored values, their sums and their state,
// by (experiment, metric).
var unitValueTables = []string{"unit_value_state", "unit_values", "unit_value_sums"}

// onePassUnits is the fewest changed units, if half the units or more, that
// a sync computes afresh, as for a new definition of the metric, rather than
// one changed unit after another.
var onePassUnits int64 = 10000 // a variable only so that tests can reach it

// eventsBarrier is the Postgres advisory lock that orders event writes
// against a sync: every write transaction holds it shared, and a sync takes
// it exclusively for the moment it reads the highest sequence number, so no
// transaction holding a lower number can still commit after it.
const eventsBarrier = 8243010

// outcomesCopyLock serialises copies into unit_outcomes on Postgres.
const outcomesCopyLock = 8243011

// fingerprint digests what a unit's stored value depends on, besides its
// events and exposure: the metric's kind, source, window and aggregation,
// the ratio's parts, and the CUPED lookback.
func fingerprint(q experiments.StatsQuery) string {
	m := q.Metric
	b, _ := json.Marshal(struct {
		Version                int
		Kind, Source, Agg      string
		Peak                   string
		Window                 *experiments.Window
		Numerator, Denominator string
		Lookback               int64
	}{unitValuesVersion, string(m.Kind), m.SourceKey(), string(m.AggregationOrDefault()), m.Peak, m.Window,
		q.Numerator, q.Denominator, max(q.Lookback.Microseconds(), 0)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// storedValuesCurrent reports whether unit_values holds e's values of q's
// metric computed for this definition of it.
func (s *Store) storedValuesCurrent(ctx context.Context, e *experiments.Experiment, q experiments.StatsQuery) (bool, error) {
	var fp string
	err := s.db.GetContext(ctx, &fp, s.rebind(`SELECT fingerprint FROM unit_value_state WHERE experiment = ? AND metric = ?`), e.Key, q.Metric.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, experiments.Internal(err)
	}
	return fp == fingerprint(q), nil
}

// SyncUnitValues recomputes, for each query's metric, the stored values of
// the units whose outcomes arrived since the last sync (by event sequence
// number) or whose exposure is new or moved earlier; all of them when the
// metric's definition changed. A unit is always recomputed whole, from its
// own events, so late, duplicate and out-of-order events need no care. The
// work is done in chunks of units, each in its own transaction; a sync cut
// short (a crash, a cancelled context) leaves the state as it was, and the
// next one does the work again.
func (s *Store) SyncUnitValues(ctx context.Context, e *experiments.Experiment, qs []experiments.StatsQuery) (int64, error) {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return 0, experiments.Internal(err)
	}
	defer conn.Close()
	if s.dialect == SQLite {
		defer releaseFreedMemory()
	}
	through, err := s.copyOutcomesThrough(ctx, conn, false, false)
	if err != nil {
		return 0, err
	}
	if s.dialect == Postgres {
		if err := analyzeStale(ctx, conn); err != nil {
			return 0, experiments.Internal(err)
		}
	}
	// The units to recompute, on this connection only.
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS dirty_units (unit_id TEXT PRIMARY KEY)`); err != nil {
		return 0, experiments.Internal(err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS dirty_units`)
	defer s.dropStaged(context.WithoutCancel(ctx), conn)
	keys := make([]string, 0, len(qs))
	for _, q := range qs {
		keys = append(keys, q.Metric.Key)
		if err := s.syncMetric(ctx, conn, e, q, through); err != nil {
			return 0, experiments.Internal(fmt.Errorf("syncing the values of %s/%s: %w", e.Key, q.Metric.Key, err))
		}
	}
	// Values of metrics the experiment no longer has. A refresh that finds
	// nothing to do writes nothing: on SQLite every write transaction costs
	// an fsync.
	stale, args, err := sqlx.In(`SELECT COUNT(*) FROM unit_value_state WHERE experiment = ? AND metric NOT IN (?)`, e.Key, append(keys, ""))
	if err != nil {
		return 0, experiments.Internal(err)
	}
	var n int
	if err := conn.GetContext(ctx, &n, s.rebind(stale), args...); err != nil {
		return 0, experiments.Internal(err)
	}
	if n == 0 {
		return through, nil
	}
	err = runTx(ctx, conn, func(tx *sqlx.Tx) error {
		for _, table := range unitValueTables {
			q, args, err := sqlx.In(`DELETE FROM `+table+` WHERE experiment = ? AND metric NOT IN (?)`, e.Key, append(keys, ""))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, experiments.Internal(err)
	}
	return through, nil
}

// newestSeqSQL reads the highest event sequence number visible. On Postgres
// a lower number may still be in flight: see eventsThrough.
const newestSeqSQL = `SELECT COALESCE(MAX(seq), 0) FROM events`

// eventsThrough is the highest event sequence number below which every
// event write has committed.
func (s *Store) eventsThrough(ctx context.Context, conn *sqlx.Conn) (int64, error) {
	var seq int64
	if s.dialect != Postgres {
		// One writer: whatever is visible is all that was written.
		err := conn.GetContext(ctx, &seq, newestSeqSQL)
		return seq, err
	}
	err := runTx(ctx, conn, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, eventsBarrier); err != nil {
			return err
		}
		return tx.GetContext(ctx, &seq, newestSeqSQL)
	})
	return seq, err
}

// CopyOutcomes copies the outcomes of every bucket of sequence numbers that
// is complete into unit_outcomes. The refresher calls it every tick, so that
// a refresh finds little to copy. A bucket not yet complete is left to the
// next sync, or to a later tick: copied whole, a bucket's rows are appended
// to an empty range of unit_outcomes' keys, while a part of it is inserted
// among the rows of the parts before it. At 10M events on SQLite, a copy
// in chunks of a quarter of a bucket held the write lock 0.23-1.0 s per
// chunk, and ingestion lost 28% of its throughput while it ran.
//
// The scheduler calls it every few seconds, and most calls find no bucket
// completed since the last copy. Those read the highest sequence number and
// the copy's progress, and stop there: on Postgres, finding how far every
// write has committed takes the events barrier, which holds up event writes
// for as long as the longest one in flight.
//
// When no event has arrived since the last call, ingestion is quiet, and
// the copy takes the incomplete bucket too, so that a refresh after a bulk
// load has nothing left to copy (at 10M events the last bucket took 1.7 s
// of an 11.3 s first refresh on SQLite, 4.2-5.1 s on Postgres).
func (s *Store) CopyOutcomes(ctx context.Context) error {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return experiments.Internal(err)
	}
	defer conn.Close()
	var newest, copied int64
	if err := conn.GetContext(ctx, &newest, newestSeqSQL); err != nil {
		return experiments.Internal(err)
	}
	if err := conn.GetContext(ctx, &copied, copiedThroughSQL); err != nil {
		return experiments.Internal(err)
	}
	quiet := s.lastSeenSeq.Swap(newest) == newest
	if copied >= newest || !quiet && completedThrough(newest) <= copied {
		return nil
	}
	_, err = s.copyOutcomesThrough(ctx, conn, true, !quiet)
	return err
}

// completedThrough is the end of the last bucket that through completes.
func completedThrough(through int64) int64 { return bucketEnd(through+1) - 1<<bucketBits }

// copyOutcomesThrough copies the outcomes up to the highest sequence number
// below which every event write has committed, and returns that number. The
// scheduler's copy (background) sorts each bucket at a low CPU priority:
// sorting takes most of a copy's CPU (about 2 s a bucket), and holds no
// lock. With wholeBuckets, the copy stops at the end of the last bucket that
// number completes.
func (s *Store) copyOutcomesThrough(ctx context.Context, conn *sqlx.Conn, background, wholeBuckets bool) (int64, error) {
	through, err := s.eventsThrough(ctx, conn)
	if err != nil {
		return 0, experiments.Internal(err)
	}
	upTo := through
	if wholeBuckets {
		upTo = completedThrough(through)
	}
	start := time.Now()
	if err := s.copyOutcomes(ctx, conn, upTo, background); err != nil {
		return 0, experiments.Internal(fmt.Errorf("copying outcomes by unit: %w", err))
	}
	s.log.Debug("outcomes copied by unit", "through", upTo, "took", time.Since(start))
	return through, nil
}

// bucketEnd is the last sequence number of seq's bucket in unit_outcomes.
func bucketEnd(seq int64) int64 { return (seq>>bucketBits+1)<<bucketBits - 1 }

// copyEnd is where a copy transaction that starts after copied stops: at
// the end of that bucket, or at through if sooner.
func copyEnd(copied, through int64) int64 { return min(bucketEnd(copied+1), through) }

// copyOutcomes copies the outcomes with sequence numbers up to through into
// unit_outcomes, sorted, one bucket per transaction. It is shared by every
// experiment: on Postgres a lock keeps two replicas from copying the same
// numbers, and each re-reads how far the copy has got once it holds it.
func (s *Store) copyOutcomes(ctx context.Context, conn *sqlx.Conn, through int64, background bool) error {
	// Two copies at once, the scheduler's and a refresh's, would each sort
	// the same bucket, and one of them would throw its rows away: a first
	// refresh at 10M events peaked at 512-543 MB of RSS, mostly SQLite's
	// sorters and page caches.
	s.copying.Lock()
	defer s.copying.Unlock()
	var copied int64
	if err := conn.GetContext(ctx, &copied, copiedThroughSQL); err != nil || copied >= through {
		return err
	}
	var rows int64
	for {
		staged, err := s.stageCopy(ctx, conn, through, background)
		if err != nil {
			return err
		}
		done := false
		err = runTx(ctx, conn, func(tx *sqlx.Tx) error {
			if s.dialect == Postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, outcomesCopyLock); err != nil {
					return err
				}
			}
			var copied int64
			if err := tx.GetContext(ctx, &copied, copiedThroughSQL); err != nil {
				return err
			}
			if copied >= through {
				done = true
				return nil
			}
			upTo := copyEnd(copied, through)
			for b := (copied + 1) >> bucketBits; b <= upTo>>bucketBits; b++ {
				if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO unit_outcome_buckets (bucket) VALUES (?) ON CONFLICT (bucket) DO NOTHING`), b); err != nil {
					return err
				}
			}
			source, args := copyOutcomesSQL(), []any{copied, upTo}
			if staged == copied {
				source, args = `SELECT bucket, metric, unit_id, ts, id, value, experiment FROM temp.copy_staged ORDER BY rowid`, nil
			}
			r, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO unit_outcomes (bucket, metric, unit_id, ts, id, value, experiment) `+source), args...)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			rows += n
			_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO unit_outcomes_through (one, seq) VALUES (1, ?)
				ON CONFLICT (one) DO UPDATE SET seq = excluded.seq`), upTo)
			return err
		})
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	if s.dialect == SQLite {
		if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS temp.copy_staged`); err != nil {
			return err
		}
		releaseFreedMemory()
	}
	if s.dialect == Postgres && rows >= analyzeAfterRows {
		// Autovacuum analyses a table only once a share of it changed, and
		// with stale figures the planner walks all of unit_outcomes for each
		// unit it looks up; the copy just changed a known amount. Vacuuming
		// marks the new pages all-visible, so lookups by unit read the index
		// alone: without it, 5,000 units at 10M events fetched 25,000 heap
		// rows (1.1 s against 0.8 s). On an insert-only table it costs about
		// the pages just written (1.3 s after 7M rows).
		if _, err := conn.ExecContext(ctx, `VACUUM (ANALYZE) unit_outcomes`); err != nil {
			return err
		}
	}
	return nil
}

// stageCopy, on SQLite, reads and sorts the outcomes the next copy
// transaction takes into a temporary table before the copy takes the write
// lock, so that ingestion waits only for the inserts into unit_outcomes. It
// returns the sequence number the staged rows start after, or -1 when
// nothing was staged; the copy uses the staged rows only if no other copy
// has moved on since. The scheduler's copy (lowPriority) sorts on a thread
// at a low CPU priority.
func (s *Store) stageCopy(ctx context.Context, conn *sqlx.Conn, through int64, lowPriority bool) (int64, error) {
	if s.dialect != SQLite {
		return -1, nil // on Postgres a copy does not hold up event writes
	}
	if lowPriority {
		var staged int64
		err := atLowPriority(func() (err error) {
			staged, err = s.stageCopy(ctx, conn, through, false)
			return err
		})
		return staged, err
	}
	var copied int64
	if err := conn.GetContext(ctx, &copied, copiedThroughSQL); err != nil || copied >= through {
		return -1, err
	}
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS copy_staged (bucket INTEGER, metric TEXT,
		unit_id TEXT, ts INTEGER, id TEXT, value REAL, experiment TEXT)`); err != nil {
		return -1, err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM temp.copy_staged`); err != nil {
		return -1, err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO temp.copy_staged `+copyOutcomesSQL(), copied, copyEnd(copied, through)); err != nil {
		return -1, err
	}
	return copied, nil
}

// copiedThroughSQL reads how far the copy by unit has got. Its row is gone
// once Postgres has emptied the unlogged unit_outcomes and its progress
// after a crash; the copy then starts again from the first event.
const copiedThroughSQL = `SELECT COALESCE(MAX(seq), 0) FROM unit_outcomes_through`

// analyzeAfterRows is how many rows a copy adds before the store has
// Postgres vacuum and analyse unit_outcomes.
const analyzeAfterRows = 100000

// bucketBits sets the size of unit_outcomes' buckets: 2^20 sequence numbers,
// about 40 MB of outcomes. A lookup by unit seeks once per bucket, and the
// scheduler copies a bucket in one transaction (on SQLite at 10M events,
// 0.6-0.9 s of the write lock for 734k outcomes).
var bucketBits = 20 // a variable only so that tests can cross many buckets' bounds

// copyOutcomesSQL selects the outcomes with sequence numbers in (?, ?], by
// the events' primary key, in unit_outcomes' order: the range is read, then
// sorted. The type is kept out of the index choice: type = 'outcome'
// matched the partial index events_metric_ts, which Postgres without
// statistics read whole to AND it with the range (7M entries to copy 7,000
// rows, 0.32 s), and which in key order would cost a scan of that whole
// index. With only the range to choose, the range is not first copied into
// a materialised table either: 5.7 s instead of 6.7-7.0 s to copy 3.7M
// sequence numbers on SQLite.
func copyOutcomesSQL() string {
	return fmt.Sprintf(`SELECT seq / %d AS bucket, metric, unit_id, ts, id, value, experiment FROM events
		WHERE seq > ? AND seq <= ? AND (type || '') = 'outcome'
		ORDER BY 1, metric, unit_id, ts, id`, 1<<bucketBits)
}

func (s *Store) syncMetric(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery, through int64) error {
	fp := fingerprint(q)
	var state struct {
		Fingerprint string `db:"fingerprint"`
		EventsSeq   int64  `db:"events_seq"`
	}
	err := conn.GetContext(ctx, &state, s.rebind(`SELECT fingerprint, events_seq FROM unit_value_state WHERE experiment = ? AND metric = ?`), e.Key, q.Metric.Key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM dirty_units`); err != nil {
		return err
	}
	start := time.Now()
	var units int64
	// A new definition: every unit is computed afresh.
	reset := state.Fingerprint != fp
	if !reset {
		if units, reset, err = s.findChanged(ctx, conn, e, q, state.EventsSeq, through); err != nil {
			return err
		}
		if !reset && units == 0 && through == state.EventsSeq {
			return nil
		}
	}
	if reset {
		if units, err = s.resetValues(ctx, conn, e, q); err != nil {
			return err
		}
	}
	if units > 0 {
		recompute := s.recomputeDirty
		if reset {
			recompute = s.recomputeAll
		}
		if err := recompute(ctx, conn, e, q, units); err != nil {
			return err
		}
		s.log.Debug("unit values computed", "experiment", e.Key, "metric", q.Metric.Key, "units", units, "took", time.Since(start))
	}
	return runTx(ctx, conn, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO unit_value_state (experiment, metric, fingerprint, events_seq, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (experiment, metric) DO UPDATE SET fingerprint = excluded.fingerprint,
				events_seq = excluded.events_seq, updated_at = excluded.updated_at`),
			e.Key, q.Metric.Key, fp, through, time.Now().UnixMicro())
		return err
	})
}

// findChanged fills dirty_units with e's units whose value of q's metric
// may have changed since the sync that read the events up to after: units
// with outcomes written since, and units exposed since or whose first
// exposure moved. It returns how many there are, or, leaving dirty_units
// empty, that most units changed (the first sync after a bulk load): they
// are then better all computed afresh, as for a new definition, in one pass
// on Postgres and by ranges of units on SQLite (see resetValues). When no
// unit has a value yet, finding the changed ones is skipped: every exposed
// unit is new, and at 1M events the search took 2.7 s of 15.6.
func (s *Store) findChanged(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery, after, through int64) (units int64, afresh bool, err error) {
	var stored int64
	if err := conn.GetContext(ctx, &stored, s.rebind(`SELECT COALESCE(SUM(units + null_units), 0) FROM unit_value_sums WHERE experiment = ? AND metric = ?`),
		e.Key, q.Metric.Key); err != nil {
		return 0, false, err
	}
	if stored == 0 {
		var exposed int64
		if err := conn.GetContext(ctx, &exposed, s.rebind(`SELECT COUNT(*) FROM exposures WHERE experiment = ?`), e.Key); err != nil {
			return 0, false, err
		}
		if exposed >= onePassUnits {
			return 0, true, nil
		}
	}
	changed, args, err := s.changedUnitsSQL(e, q, after, through)
	if err != nil {
		return 0, false, err
	}
	if _, err := conn.ExecContext(ctx, s.rebind(`INSERT INTO dirty_units `+changed), args...); err != nil {
		return 0, false, err
	}
	if _, err := conn.ExecContext(ctx, s.rebind(`INSERT INTO dirty_units `+movedExposuresSQL+` ON CONFLICT (unit_id) DO NOTHING`), q.Metric.Key, e.Key, after); err != nil {
		return 0, false, err
	}
	if err := conn.GetContext(ctx, &units, `SELECT COUNT(*) FROM dirty_units`); err != nil {
		return 0, false, err
	}
	if units >= onePassUnits && units*2 >= stored {
		_, err := conn.ExecContext(ctx, `DELETE FROM dirty_units`)
		return 0, true, err
	}
	return units, false, nil
}

// resetValues drops every stored value of q's metric for e and returns how
// many units are left to compute. On SQLite that is every exposed unit, to
// be computed by ranges of units from unit_outcomes (recomputeAll), which
// at 10M events took a quarter of the time of one pass over the events by
// time (that pass joins every outcome to its unit's exposure and sorts them
// all by unit). Postgres hashes that pass in half the time of the lookups
// (1M events, two metrics: 6.5 s against 13 s), and its writers do not wait
// for one transaction, so it computes every unit there, in one statement.
// Until the new state is stored, a crash leaves the metric without state,
// and the next sync starts again.
func (s *Store) resetValues(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery) (int64, error) {
	var computed int64
	err := runTx(ctx, conn, func(tx *sqlx.Tx) error {
		for _, table := range unitValueTables {
			if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM `+table+` WHERE experiment = ? AND metric = ?`), e.Key, q.Metric.Key); err != nil {
				return err
			}
		}
		if s.dialect != Postgres {
			return nil
		}
		values, args := s.unitValuesSQL(e, q, false, nil, "", nil)
		r, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO unit_values (experiment, metric, unit_id, variant, exposed_at, v, pre, d)
			SELECT ?, ?, unit_id, variant, exposed_at, v, pre, d FROM (`+values+`) computed`), append([]any{e.Key, q.Metric.Key}, args...)...)
		if err != nil {
			return err
		}
		if computed, err = r.RowsAffected(); err != nil {
			return err
		}
		return s.addSums(ctx, tx, e, q, "", `1 = 1`, nil)
	})
	if err != nil {
		return 0, err
	}
	if s.dialect == Postgres {
		s.log.Debug("unit values computed in one pass", "experiment", e.Key, "metric", q.Metric.Key, "units", computed)
		// Figures for the planner, which otherwise reads the new rows as
		// none until autovacuum comes (if it is on).
		_, err := conn.ExecContext(ctx, `ANALYZE unit_values`)
		return 0, err
	}
	var exposed int64
	err = conn.GetContext(ctx, &exposed, s.rebind(`SELECT COUNT(*) FROM exposures WHERE experiment = ?`), e.Key)
	return exposed, err
}

// analyzeStale has Postgres analyse the events and the exposures if either
// was never analysed or has changed by a tenth since (autovacuum's own
// threshold), so that a sync's queries over them are planned with figures
// even when autovacuum is off or behind. A sync does so before anything
// else, since it may turn into a reset only once it has counted the changed
// units. Without figures, Postgres looked each of 702k outcomes' exposure
// up by key in the one pass of a reset (5.7 s at 1M events); with them, it
// hashes the exposures (1.2 s, after an ANALYZE of 0.37 s).
func analyzeStale(ctx context.Context, conn *sqlx.Conn) error {
	var stale []string
	err := conn.SelectContext(ctx, &stale, `SELECT relname FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname IN ('events', 'exposures')
			AND (COALESCE(last_analyze, last_autoanalyze) IS NULL OR n_mod_since_analyze > 50 + n_live_tup / 10)
		ORDER BY relname`)
	if err != nil || len(stale) == 0 {
		return err
	}
	_, err = conn.ExecContext(ctx, `ANALYZE `+strings.Join(stale, ", "))
	return err
}

// hourMicros is the width of unit_value_sums' exposure hours.
const hourMicros = 3_600_000_000

// exposedHour is the hour of t (microseconds), rounded down.
func exposedHour(t int64) int64 {
	h := t / hourMicros
	if t%hourMicros < 0 {
		h--
	}
	return h
}

// exposedHourSQL is exposedHour of a unit_values row's first exposure, in
// SQL (both engines divide integers towards zero, as Go does).
var exposedHourSQL = fmt.Sprintf(`(CASE WHEN exposed_at < 0 THEN (exposed_at - %d) / %d ELSE exposed_at / %d END)`,
	hourMicros-1, hourMicros, hourMicros)

// sumsOf aggregates per-unit rows (variant, exposed_at, v, pre, d) into
// unit_value_sums' columns after its key's experiment and metric, one row
// per variant and exposure hour, negated when sign is "-".
func sumsOf(sign, rows string) string {
	sum := func(expr string) string { return sign + `COALESCE(SUM(` + expr + `), 0.0)` }
	const pre, d = `CASE WHEN v IS NOT NULL THEN COALESCE(pre, 0.0) END`, `CASE WHEN v IS NOT NULL THEN COALESCE(d, 0.0) END`
	return `SELECT variant, ` + exposedHourSQL + ` AS exposed_hour, ` + sign + `COUNT(v) AS units, ` + sign + `(COUNT(*) - COUNT(v)) AS null_units,
			` + sum(`v`) + ` AS sum, ` + sum(`v * v`) + ` AS sum_sq, ` + sum(pre) + ` AS pre_sum, ` + sum(pre+` * `+pre) + ` AS pre_sum_sq,
			` + sum(`v * `+pre) + ` AS pre_cross, ` + sum(d) + ` AS den_sum, ` + sum(d+` * `+d) + ` AS den_sum_sq, ` + sum(`v * `+d) + ` AS den_cross
		FROM ` + rows + `
		GROUP BY 1, 2`
}

// sumsColumns are unit_value_sums' columns after its key's experiment and
// metric, in sumsOf's order.
const sumsColumns = `variant, exposed_hour, units, null_units, sum, sum_sq, pre_sum, pre_sum_sq, pre_cross, den_sum, den_sum_sq, den_cross`

// upsertSumsSQL adds the rows of sums (shaped as sumsOf's, its parameters
// bound after the experiment and metric) to unit_value_sums.
func upsertSumsSQL(sums string) string {
	return `INSERT INTO unit_value_sums (experiment, metric, ` + sumsColumns + `)
		SELECT ?, ?, ` + sumsColumns + ` FROM (` + sums + `) s WHERE 1 = 1
		ON CONFLICT (experiment, metric, variant, exposed_hour) DO UPDATE SET
			units = unit_value_sums.units + excluded.units, null_units = unit_value_sums.null_units + excluded.null_units,
			sum = unit_value_sums.sum + excluded.sum, sum_sq = unit_value_sums.sum_sq + excluded.sum_sq,
			pre_sum = unit_value_sums.pre_sum + excluded.pre_sum, pre_sum_sq = unit_value_sums.pre_sum_sq + excluded.pre_sum_sq,
			pre_cross = unit_value_sums.pre_cross + excluded.pre_cross, den_sum = unit_value_sums.den_sum + excluded.den_sum,
			den_sum_sq = unit_value_sums.den_sum_sq + excluded.den_sum_sq, den_cross = unit_value_sums.den_cross + excluded.den_cross`
}

// addSums adds to unit_value_sums the sums of q's unit_values rows for e
// where cond holds, or subtracts them when sign is "-", and drops the rows
// left with no units. Called in the transaction that changes the rows, it
// keeps the sums equal to a GROUP BY over unit_values, up to rounding.
func (s *Store) addSums(ctx context.Context, tx *sqlx.Tx, e *experiments.Experiment, q experiments.StatsQuery, sign, cond string, condArgs []any) error {
	key := []any{e.Key, q.Metric.Key}
	query := upsertSumsSQL(sumsOf(sign, `unit_values WHERE experiment = ? AND metric = ? AND `+cond))
	if _, err := tx.ExecContext(ctx, s.rebind(query), append(append(key, key...), condArgs...)...); err != nil {
		return err
	}
	if sign == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM unit_value_sums WHERE experiment = ? AND metric = ? AND units = 0 AND null_units = 0`), e.Key, q.Metric.Key)
	return err
}

// changedUnitsSQL selects e's units with outcomes of q's metric whose
// sequence numbers are in (after, through], by the events' primary key. The
// type and metric are kept out of the index choice: by (metric, ts), SQLite
// read every outcome of the metric to find none (1 s at 10M events), and so
// did Postgres before autovacuum had analysed the events (0.27 s at 1M).
// The units are made distinct before their exposures are looked up: after
// a bulk load, Postgres looked up the exposure of each of 700k outcomes
// (6.0 s at 1M events) instead of each of 95k units (1.5 s).
func (s *Store) changedUnitsSQL(e *experiments.Experiment, q experiments.StatsQuery, after, through int64) (string, []any, error) {
	unindexed := func(column string) string { return `(` + column + ` || '')` }
	if s.dialect != Postgres {
		unindexed = func(column string) string { return `+` + column }
	}
	return sqlx.In(`SELECT c.unit_id FROM (SELECT DISTINCT o.unit_id FROM events o
			WHERE o.seq > ? AND o.seq <= ? AND `+unindexed(`o.type`)+` = 'outcome' AND `+unindexed(`o.metric`)+` IN (?)) c
		WHERE EXISTS (SELECT 1 FROM exposures x WHERE x.experiment = ? AND x.unit_id = c.unit_id)`,
		after, through, sourceMetrics(q), e.Key)
}

// movedExposuresSQL selects e's units (bound second) whose first exposure
// was written or moved by a transaction that saw events up to the last
// sync's sequence number (bound third) or later (see upsertExposures), and
// whose stored value of the metric (bound first) was computed for another
// exposure, or not at all. The last transaction's units are stamped with
// that number sync after sync; once computed, they are not again.
const movedExposuresSQL = `SELECT x.unit_id FROM exposures x
	LEFT JOIN unit_values u ON u.experiment = x.experiment AND u.metric = ? AND u.unit_id = x.unit_id
	WHERE x.experiment = ? AND x.changed_seq >= ? AND (u.unit_id IS NULL OR u.exposed_at <> x.ts OR u.variant <> x.variant)`

// recomputeDirty replaces the stored values of the units in dirty_units,
// and their contributions to the sums, at most syncChunk units (in unit
// order) per transaction. Each chunk's units are read from dirty_units into
// a list, so that on Postgres a spare connection, which cannot see this
// one's temporary table, can compute them while this one reads the next
// chunks or computes one; a refresh's few thousand units are shared out as
// one chunk per connection. There, their lookups in unit_outcomes, most of
// such a refresh, wait on reads from the OS cache when shared_buffers holds
// a small part of the table: at 10M events, a refresh with 5,000 changed
// units took 1.09-1.79 s on one connection, 0.71-0.93 s on two. SQLite
// computes them on this connection alone: each of its connections has a
// page cache of its own, and a spare one starts cold. Its first chunk of
// 2,400 units took 0.45-0.47 s, the same chunk again 0.13 s, so with
// 5,000 changed units a refresh took 0.81-0.92 s on two connections and
// 0.67-0.73 s on one (66,000 units: 4.1-4.3 s and 3.6-3.9 s). The values
// are computed before each chunk's write transaction (see writeStaged), and
// the writes take turns: on SQLite all of the store's, on Postgres this
// sync's, whose chunks add to the same rows of unit_value_sums and at once
// deadlock.
func (s *Store) recomputeDirty(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery, units int64) error {
	if err := createStaged(ctx, conn); err != nil {
		return err
	}
	workers, writes := int64(1), sync.Locker(&s.valueWrites)
	if s.dialect == Postgres {
		workers, writes = int64(syncWorkers()), new(sync.Mutex)
	}
	size := min(int64(syncChunk), (units+workers-1)/workers)
	// Chunks wait in queue for a connection; when it is full, this one
	// computes a queued chunk itself, so that memory holds at most a few.
	queue := make(chan []string, workers)
	g, ctx := errgroup.WithContext(ctx)
	s.onSpareConns(ctx, g, int(workers)-1, func(ctx context.Context, extra *sqlx.Conn) error {
		for ids := range queue {
			if err := s.replaceValues(ctx, extra, e, q, ids, writes); err != nil {
				return err
			}
		}
		return nil
	})
	g.Go(func() error {
		defer close(queue)
		computeQueued := func() (bool, error) {
			select {
			case ids := <-queue:
				return true, s.replaceValues(ctx, conn, e, q, ids, writes)
			default:
				return false, nil
			}
		}
		var after unitRange
		for {
			cond, args := after.bounds(`unit_id`)
			var ids []string
			err := conn.SelectContext(ctx, &ids, s.rebind(`SELECT unit_id FROM dirty_units WHERE `+cond+` ORDER BY unit_id LIMIT ?`), append(args, size)...)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				break
			}
			select {
			case queue <- ids:
			default:
				if _, err := computeQueued(); err != nil {
					return err
				}
				queue <- ids // only this goroutine sends, and there is room now
			}
			after.lo = &ids[len(ids)-1]
		}
		for {
			if computed, err := computeQueued(); err != nil || !computed {
				return err
			}
		}
	})
	return g.Wait()
}

// replaceValues replaces the stored values of the units ids and their
// contributions to the sums.
func (s *Store) replaceValues(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery, ids []string, writes sync.Locker) error {
	in, idArgs, err := s.unitsIn(ids)
	if err != nil {
		return err
	}
	values, args := s.unitValuesSQL(e, q, true, nil, in(`x.unit_id`), idArgs)
	return s.writeStaged(ctx, conn, e, q, values, args, writes, func(tx *sqlx.Tx) error {
		if err := s.addSums(ctx, tx, e, q, "-", in(`unit_id`), idArgs); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM unit_values WHERE experiment = ? AND metric = ? AND `+in(`unit_id`)),
			append([]any{e.Key, q.Metric.Key}, idArgs...)...)
		return err
	})
}

// unitsIn is the condition that a column is one of ids, and its argument.
// On Postgres the ids are an array, so that the units are looked up by key
// whatever the planner estimates: with exposures never analysed (as with
// autovacuum off), a join to dirty_units read all 950k exposures to join
// 4,743 (0.33 s of a 0.5% refresh at 10M events). SQLite, which has no
// arrays, reads them from JSON.
func (s *Store) unitsIn(ids []string) (func(column string) string, []any, error) {
	if s.dialect == Postgres {
		return func(column string) string { return column + ` = ANY(?)` }, []any{ids}, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, nil, err
	}
	return func(column string) string { return column + ` IN (SELECT value FROM json_each(?))` }, []any{string(list)}, nil
}

// unitRange is a chunk of units: after lo (from the first when nil), up to
// hi (to the last when not valid).
type unitRange struct {
	lo *string
	hi sql.NullString
}

// bounds is the condition that column is in the range, and its arguments.
func (r unitRange) bounds(column string) (string, []any) {
	cond, args := `1 = 1`, []any(nil)
	if r.lo != nil {
		cond, args = column+` > ?`, append(args, *r.lo)
	}
	if r.hi.Valid {
		cond, args = cond+` AND `+column+` <= ?`, append(args, r.hi.String)
	}
	return cond, args
}

// syncWorkers is how many connections a sync computes on at once: every
// unit of a reset on SQLite, or its changed units on Postgres. On SQLite
// each computes its ranges of units outside any transaction; only their
// writes take turns. At 10M events (950k units, two metrics, two cores), a
// reset on two took 9.2-11.7 s where one connection computing inside its
// write transactions took 18.5-19.9 s, and one computing outside them
// 10.9 s (against 9.1-9.5 s on two). Three or four were no faster.
func syncWorkers() int { return min(max(runtime.GOMAXPROCS(0), 1), maxExtraConns+1) }

// maxExtraConns is how many connections, of the 8 of SQLite's pool (16 of
// Postgres's), syncs may take at once besides their own.
const maxExtraConns = 3

// resetChunk is how many units a chunk of a reset computes. A reset's
// chunks read ranges of units, so larger ones cost less per unit, but they
// hold more in SQLite's sorters and temporary tables. At 10M events, with
// two workers: 5,000 units 10.4-11.4 s; 10,000, 9.2-11.7 s and 155-182 MB
// of peak RSS; 20,000, 8.8-9.9 s and 232 MB; 50,000, 9.8 s and 318 MB.
func resetChunk() int { return 2 * syncChunk }

// resetChunks hands out a reset's ranges of units, in unit order, to the
// connections that compute them; each finds the next range's end itself.
type resetChunks struct {
	mu   sync.Mutex
	lo   *string
	done bool
}

// next returns the next range, or false when every unit has been handed out.
func (c *resetChunks) next(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment) (unitRange, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return unitRange{}, false, nil
	}
	chunk := unitRange{lo: c.lo}
	after, args := chunk.bounds(`unit_id`)
	err := conn.GetContext(ctx, &chunk.hi, `SELECT unit_id FROM exposures WHERE experiment = ? AND `+after+` ORDER BY unit_id LIMIT 1 OFFSET ?`,
		append(append([]any{e.Key}, args...), resetChunk()-1)...)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return unitRange{}, false, err
	}
	c.done, c.lo = !chunk.hi.Valid, &chunk.hi.String
	return chunk, true, nil
}

// recomputeAll computes every exposed unit of e afresh after a reset on
// SQLite, resetChunk units at a time, on conn and on spare connections
// (onSpareConns). A chunk reads its range of units in each bucket of
// unit_outcomes (see unitSpan).
func (s *Store) recomputeAll(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery, _ int64) error {
	if err := createStaged(ctx, conn); err != nil {
		return err
	}
	chunks := &resetChunks{}
	compute := func(ctx context.Context, conn *sqlx.Conn) error {
		for {
			chunk, ok, err := chunks.next(ctx, conn, e)
			if err != nil || !ok {
				return err
			}
			units, unitArgs := chunk.bounds(`x.unit_id`)
			spanCond, spanArgs := chunk.bounds(`o.unit_id`)
			values, args := s.unitValuesSQL(e, q, true, &unitSpan{cond: spanCond, args: spanArgs}, units, unitArgs)
			if err := s.writeStaged(ctx, conn, e, q, values, args, &s.valueWrites, nil); err != nil {
				return err
			}
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	s.onSpareConns(ctx, g, syncWorkers()-1, compute)
	g.Go(func() error { return compute(ctx, conn) })
	return g.Wait()
}

// onSpareConns has g run work on up to n more connections, each taken
// only while the store has a spare one (extraConns), with the staged
// tables of writeStaged. A sync never waits for a connection while
// it holds one, so that many syncs at once cannot take every connection of
// the pool and then wait for each other.
func (s *Store) onSpareConns(ctx context.Context, g *errgroup.Group, n int, work func(context.Context, *sqlx.Conn) error) {
	for range n {
		select {
		case s.extraConns <- struct{}{}:
		default:
			return
		}
		g.Go(func() error {
			defer func() { <-s.extraConns }()
			extra, err := s.db.Connx(ctx)
			if err != nil {
				return err
			}
			defer extra.Close()
			if err := createStaged(ctx, extra); err != nil {
				return err
			}
			defer s.dropStaged(context.WithoutCancel(ctx), extra)
			return work(ctx, extra)
		})
	}
}

// createStaged creates, on a connection, the temporary tables a chunk's
// values and their sums are computed into before they are written. The
// types are Postgres's, whose REAL has single precision; SQLite reads them
// as its INTEGER and REAL.
func createStaged(ctx context.Context, conn *sqlx.Conn) error {
	for _, ddl := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS staged_values (unit_id TEXT, variant TEXT, exposed_at BIGINT, v DOUBLE PRECISION, pre DOUBLE PRECISION, d DOUBLE PRECISION)`,
		`CREATE TEMP TABLE IF NOT EXISTS staged_sums (variant TEXT, exposed_hour BIGINT, units BIGINT, null_units BIGINT, sum DOUBLE PRECISION,
			sum_sq DOUBLE PRECISION, pre_sum DOUBLE PRECISION, pre_sum_sq DOUBLE PRECISION, pre_cross DOUBLE PRECISION, den_sum DOUBLE PRECISION,
			den_sum_sq DOUBLE PRECISION, den_cross DOUBLE PRECISION)`,
	} {
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	return nil
}

// dropStaged drops conn's staged tables, if it has them. The schema is
// named: without temporary tables, the names would be looked up in the
// database's own.
func (s *Store) dropStaged(ctx context.Context, conn *sqlx.Conn) {
	schema := `temp.`
	if s.dialect == Postgres {
		schema = `pg_temp.`
	}
	conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+schema+`staged_values`)
	conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+schema+`staged_sums`)
}

// writeStaged computes the per-unit values that values selects, and their
// sums, into conn's staged tables, then writes them in one transaction,
// after before (when not nil) has taken the units' old values away. The
// writes of connections computing at once take turns through writes. On
// SQLite a transaction that writes holds the database's one write lock, so
// the computing, most of a chunk's time, is done before it: ingestion then
// waits only for the writes.
func (s *Store) writeStaged(ctx context.Context, conn *sqlx.Conn, e *experiments.Experiment, q experiments.StatsQuery, values string, args []any, writes sync.Locker, before func(*sqlx.Tx) error) error {
	stage := []struct {
		query string
		args  []any
	}{
		{`DELETE FROM staged_values`, nil},
		{`INSERT INTO staged_values SELECT unit_id, variant, exposed_at, v, pre, d FROM (` + values + `) computed`, args},
		{`DELETE FROM staged_sums`, nil},
		{`INSERT INTO staged_sums ` + sumsOf("", `staged_values`), nil},
	}
	for _, st := range stage {
		if _, err := conn.ExecContext(ctx, s.rebind(st.query), st.args...); err != nil {
			return err
		}
	}
	writes.Lock()
	defer writes.Unlock()
	return runTx(ctx, conn, func(tx *sqlx.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		key := []any{e.Key, q.Metric.Key}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO unit_values (experiment, metric, unit_id, variant, exposed_at, v, pre, d)
			SELECT ?, ?, unit_id, variant, exposed_at, v, pre, d FROM staged_values`), key...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind(upsertSumsSQL(`SELECT `+sumsColumns+` FROM staged_sums`)), key...)
		return err
	})
}
