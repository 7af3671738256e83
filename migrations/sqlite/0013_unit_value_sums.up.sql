-- The sums a report reads, kept per (experiment, metric, variant, hour of
-- first exposure) as unit_values changes: a refresh then reads a few rows
-- per arm instead of every unit. units and the sums cover the units with a
-- value (v not NULL); null_units counts the others. The hour lets maturity
-- be applied on read: whole hours from these rows, and the one hour the
-- report's cutoff falls in from unit_values, found through the exposures.
CREATE TABLE unit_value_sums (
    experiment   TEXT NOT NULL,
    metric       TEXT NOT NULL,
    variant      TEXT NOT NULL,
    exposed_hour INTEGER NOT NULL,
    units        INTEGER NOT NULL,
    null_units   INTEGER NOT NULL,
    sum          REAL NOT NULL,
    sum_sq       REAL NOT NULL,
    pre_sum      REAL NOT NULL,
    pre_sum_sq   REAL NOT NULL,
    pre_cross    REAL NOT NULL,
    den_sum      REAL NOT NULL,
    den_sum_sq   REAL NOT NULL,
    den_cross    REAL NOT NULL,
    PRIMARY KEY (experiment, metric, variant, exposed_hour)
);

-- A report counts the units exposed to each variant (the sample-ratio
-- check) from this index alone, without reading the exposures' rows.
CREATE INDEX exposures_variant ON exposures (experiment, variant);

-- Values stored before the sums existed are recomputed, sums included,
-- into a table clustered by its key: one B-tree to write, not two.
DELETE FROM unit_value_state;
DROP TABLE unit_values;
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
) WITHOUT ROWID;
