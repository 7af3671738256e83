DROP INDEX events_unit_outcomes;
CREATE INDEX events_metric_ts ON events (metric, ts) WHERE type = 'outcome';
DROP TABLE unit_value_state;
DROP TABLE unit_values;
