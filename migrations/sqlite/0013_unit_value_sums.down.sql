DROP INDEX exposures_variant;
DROP TABLE unit_value_sums;
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
);
