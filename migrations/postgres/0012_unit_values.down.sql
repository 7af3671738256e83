DROP INDEX events_metric_ts;
CREATE INDEX events_metric_ts ON events (metric, ts) WHERE type = 'outcome';
DROP INDEX exposures_changed;
ALTER TABLE exposures DROP COLUMN changed_seq;
DROP TABLE unit_outcomes_through;
DROP TABLE unit_outcome_buckets;
DROP TABLE unit_outcomes;
DROP TABLE unit_value_state;
DROP TABLE unit_values;
