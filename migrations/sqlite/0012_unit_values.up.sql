-- Reports read each exposed unit's value of a metric from unit_values, a
-- GROUP BY over units, instead of aggregating its events on every refresh.
-- A refresh recomputes only the units whose outcomes or exposure changed
-- since the last one (unit_value_state keeps how far it has read), so its
-- cost follows what changed.
CREATE TABLE unit_values (
    experiment TEXT NOT NULL,
    metric     TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    variant    TEXT NOT NULL,
    exposed_at INTEGER NOT NULL,
    v          REAL,
    pre        REAL,
    d          REAL,
    PRIMARY KEY (experiment, metric, unit_id)
);

-- One row per (experiment, metric): the definition the values were computed
-- for (a digest of the metric, its parts and the CUPED lookback) and the
-- highest event sequence number they include.
CREATE TABLE unit_value_state (
    experiment  TEXT NOT NULL,
    metric      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    events_seq  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (experiment, metric)
);

-- A unit's first exposure carries the highest event sequence number its
-- writing transaction saw, so a refresh finds the units exposed (or whose
-- exposure moved earlier) since the last one by this index.
ALTER TABLE exposures ADD COLUMN changed_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX exposures_changed ON exposures (experiment, changed_seq);

-- The outcomes again, ordered by unit within buckets of 2^20 event
-- sequence numbers, so a refresh recomputes a unit from its own rows with
-- one seek per bucket. Ingestion only appends to events: indexing events by
-- unit scattered every insert across the B-tree and cut ingestion to a
-- third. The scheduler copies the outcomes written since the last copy,
-- sorted, up to the sequence number in unit_outcomes_through; since a copy
-- lands in the newest bucket, it writes few pages however big the table.
CREATE TABLE unit_outcomes (
    bucket     INTEGER NOT NULL,
    metric     TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    id         TEXT NOT NULL,
    value      REAL NOT NULL,
    experiment TEXT,
    PRIMARY KEY (bucket, metric, unit_id, ts, id)
) WITHOUT ROWID;
CREATE TABLE unit_outcome_buckets (
    bucket INTEGER PRIMARY KEY
);
CREATE TABLE unit_outcomes_through (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL
);
INSERT INTO unit_outcomes_through (one, seq) VALUES (1, 0);

-- Reads computed from the events (a holdout's report, a study, say/do
-- tables) scan a metric's outcomes by time; the index now holds every
-- column they read, so no outcome costs a fetch of its row.
DROP INDEX events_metric_ts;
CREATE INDEX events_metric_ts ON events (metric, ts, unit_id, value, experiment) WHERE type = 'outcome';
