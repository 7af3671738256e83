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
    exposed_hour BIGINT NOT NULL,
    units        BIGINT NOT NULL,
    null_units   BIGINT NOT NULL,
    sum          DOUBLE PRECISION NOT NULL,
    sum_sq       DOUBLE PRECISION NOT NULL,
    pre_sum      DOUBLE PRECISION NOT NULL,
    pre_sum_sq   DOUBLE PRECISION NOT NULL,
    pre_cross    DOUBLE PRECISION NOT NULL,
    den_sum      DOUBLE PRECISION NOT NULL,
    den_sum_sq   DOUBLE PRECISION NOT NULL,
    den_cross    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment, metric, variant, exposed_hour)
);

-- A report counts the units exposed to each variant (the sample-ratio
-- check) from this index alone, without reading the exposures' rows.
CREATE INDEX exposures_variant ON exposures (experiment, variant);

-- Values stored before the sums existed are recomputed, sums included.
DELETE FROM unit_value_state;
