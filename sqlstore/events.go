package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"

	"github.com/revealed-ab/revealed/experiments"
)

// rowsPerStatement keeps a multi-row INSERT well under both engines' limits
// on bound parameters (SQLite 32,766; Postgres 65,535).
const rowsPerStatement = 500

// maxGroupEvents bounds how much one group commit takes on, so a burst does
// not make early requests wait for a huge transaction. An fsync costs about
// 1 ms and 5,000 events about 40 ms, so larger groups save nothing: in the
// 60 s mixed load, 5,000 gave 120–124k events/s against 105k for 20,000.
const maxGroupEvents = 5000

type writeRequest struct {
	events []experiments.StoredEvent
	// exposuresOnly requests record first exposures without an events-log
	// row: assignments, which carry no client id to deduplicate.
	exposuresOnly bool
	done          chan writeResult
}

type writeResult struct {
	res experiments.IngestResult
	err error
}

// committer funnels every event write through a few goroutines. Concurrent
// requests are grouped into one transaction (group commit): on SQLite there
// is one writer, so there is no SQLITE_BUSY, and one fsync serves many
// requests. Each request is answered only after its transaction commits.
type committer struct {
	store   *Store
	reqs    chan *writeRequest
	closing chan struct{}
	stopped chan struct{}
	workers int
}

func newCommitter(s *Store, workers int) *committer {
	c := &committer{store: s, reqs: make(chan *writeRequest), closing: make(chan struct{}), stopped: make(chan struct{}), workers: workers}
	done := make(chan struct{}, workers)
	for range workers {
		go func() { c.run(); done <- struct{}{} }()
	}
	go func() {
		for range workers {
			<-done
		}
		close(c.stopped)
	}()
	return c
}

func (c *committer) close() {
	close(c.closing)
	<-c.stopped
}

func (c *committer) run() {
	for {
		var first *writeRequest
		select {
		case first = <-c.reqs:
		case <-c.closing:
			return
		}
		group := []*writeRequest{first}
		n := len(first.events)
	gather:
		for n < maxGroupEvents {
			select {
			case r := <-c.reqs:
				group = append(group, r)
				n += len(r.events)
			default:
				break gather
			}
		}
		c.commitGroup(group)
	}
}

// commitGroup writes the group in one transaction. Rows are written in a
// fixed order (each request's events by id, the group's exposures by
// experiment and unit) so that concurrent transactions on Postgres take
// their row locks in the same order and do not deadlock; a deadlock or
// serialization failure that remains (the same ids in flight on two
// replicas) is retried. If the group still fails, each request is retried
// alone so that one bad request cannot fail its neighbours.
func (c *committer) commitGroup(group []*writeRequest) {
	results := make([]experiments.IngestResult, len(group))
	start := time.Now()
	var err error
	for attempt := range maxCommitAttempts {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
		}
		err = c.store.inTx(context.Background(), func(tx *sqlx.Tx) error {
			if c.store.dialect == Postgres {
				// See eventsBarrier: a sync waits for this transaction.
				if _, err := tx.Exec(`SELECT pg_advisory_xact_lock_shared($1)`, eventsBarrier); err != nil {
					return err
				}
			}
			var all []experiments.StoredEvent
			for i, r := range group {
				all = append(all, r.events...)
				if r.exposuresOnly {
					results[i] = experiments.IngestResult{Accepted: len(r.events)}
					continue
				}
				res, err := c.store.insertEvents(tx, r.events)
				if err != nil {
					return err
				}
				results[i] = res
			}
			if err := c.store.upsertExposures(tx, all); err != nil {
				return err
			}
			return c.store.upsertResponses(tx, all)
		})
		if !retryable(err) {
			break
		}
	}
	if err == nil {
		if fn := c.store.onCommit.Load(); fn != nil {
			events := 0
			for _, r := range results {
				events += r.Accepted
			}
			(*fn)(time.Since(start), events)
		}
		for i, r := range group {
			r.done <- writeResult{res: results[i]}
		}
		return
	}
	if len(group) == 1 {
		group[0].done <- writeResult{err: experiments.Internal(err)}
		return
	}
	for _, r := range group {
		c.commitGroup([]*writeRequest{r})
	}
}

const maxCommitAttempts = 5

// retryable reports whether a failed transaction may simply be run again:
// a Postgres deadlock (40P01) or serialization failure (40001).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// Ingest hands the events to the group committer and waits for the commit.
func (s *Store) Ingest(ctx context.Context, events []experiments.StoredEvent) (experiments.IngestResult, error) {
	return s.write(ctx, &writeRequest{events: events, done: make(chan writeResult, 1)})
}

// RecordExposures keeps each unit's earliest exposure, durably, without
// adding to the events log.
func (s *Store) RecordExposures(ctx context.Context, exposures []experiments.StoredEvent) error {
	_, err := s.write(ctx, &writeRequest{events: exposures, exposuresOnly: true, done: make(chan writeResult, 1)})
	return err
}

func (s *Store) write(ctx context.Context, req *writeRequest) (experiments.IngestResult, error) {
	select {
	case s.writer.reqs <- req:
	case <-s.writer.closing:
		return experiments.IngestResult{}, experiments.Errorf(experiments.CodeUnavailable, "the server is shutting down")
	case <-ctx.Done():
		return experiments.IngestResult{}, ctx.Err()
	}
	// Once handed over, the write completes even if the client goes away:
	// its ids make a retry safe, and waiting here keeps shutdown orderly.
	r := <-req.done
	return r.res, r.err
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return runTx(ctx, s.db, fn)
}

// txBeginner is a pool, or one connection of it (which keeps its session's
// temporary tables).
type txBeginner interface {
	BeginTxx(ctx context.Context, opts *sql.TxOptions) (*sqlx.Tx, error)
}

func runTx(ctx context.Context, db txBeginner, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	// A panic in fn must not leave the transaction, and with it SQLite's
	// write lock or a pooled Postgres connection, open.
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// insertEvents stores the events whose ids are new and records first
// exposures. Duplicates are events whose id was already stored, or repeated
// within the batch.
func (s *Store) insertEvents(tx *sqlx.Tx, events []experiments.StoredEvent) (experiments.IngestResult, error) {
	var res experiments.IngestResult
	if s.dialect == Postgres {
		events = slices.Clone(events)
		slices.SortStableFunc(events, func(a, b experiments.StoredEvent) int { return strings.Compare(a.ID, b.ID) })
	}
	for start := 0; start < len(events); start += rowsPerStatement {
		chunk := events[start:min(start+rowsPerStatement, len(events))]
		inserted, err := s.insertEventRows(tx, chunk)
		if err != nil {
			return res, err
		}
		res.Accepted += inserted
		res.Duplicates += len(chunk) - inserted
	}
	return res, nil
}

// eventsInsertSQL is a multi-row INSERT of n events that skips stored ids.
func eventsInsertSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO events (id, type, unit_id, experiment, variant, metric, value, ts, received_at, attributes, answer) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(`(?,?,?,?,?,?,?,?,?,?,?)`)
	}
	q.WriteString(` ON CONFLICT (id) DO NOTHING`)
	return q.String()
}

// fullChunkInsert is prepared once: parsing a 500-row INSERT costs SQLite
// about 1.5 ms, a third of the time it then takes to run it.
func (s *Store) fullChunkInsert() (*sqlx.Stmt, error) {
	s.prepareOnce.Do(func() {
		s.fullChunk, s.prepareErr = s.db.Preparex(s.rebind(eventsInsertSQL(rowsPerStatement)))
	})
	return s.fullChunk, s.prepareErr
}

func (s *Store) insertEventRows(tx *sqlx.Tx, chunk []experiments.StoredEvent) (int, error) {
	args := make([]any, 0, len(chunk)*11)
	for _, e := range chunk {
		args = append(args, e.ID, string(e.Type), e.UnitID, nullString(e.Experiment), nullString(e.Variant), nullString(e.Metric),
			e.Value, e.TS, e.ReceivedAt, e.Attributes, nullString(e.Answer))
	}
	var r sql.Result
	var err error
	if len(chunk) == rowsPerStatement {
		stmt, perr := s.fullChunkInsert()
		if perr != nil {
			return 0, fmt.Errorf("preparing the events insert: %w", perr)
		}
		r, err = tx.Stmtx(stmt).Exec(args...)
	} else {
		r, err = tx.Exec(s.rebind(eventsInsertSQL(len(chunk))), args...)
	}
	if err != nil {
		return 0, fmt.Errorf("inserting events: %w", err)
	}
	n, err := r.RowsAffected()
	return int(n), err
}

// upsertExposures keeps each unit's first exposure per experiment. A row
// written or moved earlier is stamped with the highest event sequence number
// its transaction sees: a sync that has read the events up to W recomputes
// the units stamped W or later. (On Postgres every sequence number up to W
// was committed before the sync read it, see eventsBarrier, so a later
// transaction sees at least W.)
func (s *Store) upsertExposures(tx *sqlx.Tx, events []experiments.StoredEvent) error {
	if !slices.ContainsFunc(events, func(e experiments.StoredEvent) bool { return e.Type == experiments.EventExposure }) {
		return nil
	}
	var stamp int64
	if err := tx.Get(&stamp, newestSeqSQL); err != nil {
		return fmt.Errorf("stamping exposures: %w", err)
	}
	return s.upsertEarliest(tx, events, earliestTable{
		eventType: experiments.EventExposure,
		key:       func(e *experiments.StoredEvent) string { return e.Experiment },
		insert:    `INSERT INTO exposures (experiment, unit_id, variant, ts, attributes, changed_seq) VALUES `,
		row: func(e *experiments.StoredEvent) []any {
			return []any{e.Experiment, e.UnitID, e.Variant, e.TS, e.Attributes, stamp}
		},
		onConflict: ` ON CONFLICT (experiment, unit_id) DO UPDATE SET variant = excluded.variant, ts = excluded.ts,
			attributes = excluded.attributes, changed_seq = excluded.changed_seq WHERE excluded.ts < exposures.ts`,
		what: "exposures",
	})
}

// upsertResponses keeps each unit's first answer to each question: the
// earliest ts wins, and of two at the same time the one stored first.
func (s *Store) upsertResponses(tx *sqlx.Tx, events []experiments.StoredEvent) error {
	return s.upsertEarliest(tx, events, earliestTable{
		eventType: experiments.EventResponse,
		key:       func(e *experiments.StoredEvent) string { return e.Metric }, // the question
		insert:    `INSERT INTO responses (question, unit_id, answer, value, ts) VALUES `,
		row:       func(e *experiments.StoredEvent) []any { return []any{e.Metric, e.UnitID, e.Answer, e.Value, e.TS} },
		onConflict: ` ON CONFLICT (question, unit_id) DO UPDATE SET answer = excluded.answer, value = excluded.value,
			ts = excluded.ts WHERE excluded.ts < responses.ts`,
		what: "responses",
	})
}

// earliestTable describes a table that keeps, per (key, unit), the row of
// the earliest event of one type.
type earliestTable struct {
	eventType  experiments.EventType
	key        func(*experiments.StoredEvent) string
	insert     string // up to VALUES
	row        func(*experiments.StoredEvent) []any
	onConflict string // keeps the stored row unless the new one is earlier
	what       string
}

// upsertEarliest writes t's rows for events. Postgres refuses to upsert one
// row twice in a statement, so the events are reduced to the earliest per
// (key, unit) first, then written in key order, so that concurrent
// transactions take their row locks in the same order.
func (s *Store) upsertEarliest(tx *sqlx.Tx, events []experiments.StoredEvent, t earliestTable) error {
	type key struct{ key, unit string }
	first := map[key]int{}
	var order []key
	for i := range events {
		e := &events[i]
		if e.Type != t.eventType {
			continue
		}
		k := key{t.key(e), e.UnitID}
		if j, seen := first[k]; !seen {
			order = append(order, k)
			first[k] = i
		} else if e.TS < events[j].TS {
			first[k] = i
		}
	}
	slices.SortFunc(order, func(a, b key) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.unit, b.unit)
	})
	for start := 0; start < len(order); start += rowsPerStatement {
		chunk := order[start:min(start+rowsPerStatement, len(order))]
		var q strings.Builder
		q.WriteString(t.insert)
		var args []any
		for i, k := range chunk {
			row := t.row(&events[first[k]])
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?" + strings.Repeat(",?", len(row)-1) + ")")
			args = append(args, row...)
		}
		q.WriteString(t.onConflict)
		if _, err := tx.Exec(s.rebind(q.String()), args...); err != nil {
			return fmt.Errorf("recording %s: %w", t.what, err)
		}
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
