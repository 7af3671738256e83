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

-- A unit's outcomes of a metric, found by the unit and covering every
-- column the per-unit values read, so recomputing a unit touches only its
-- own index entries. It replaces the (metric, ts) index, which made every
-- report read all of a metric's outcomes in the table.
DROP INDEX events_metric_ts;
CREATE INDEX events_unit_outcomes ON events (metric, unit_id, ts, value, experiment) WHERE type = 'outcome';
