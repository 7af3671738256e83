DROP INDEX exposures_experiment_ts;
DROP INDEX events_metric_ts;
CREATE INDEX events_outcomes ON events (metric, unit_id, ts) WHERE type = 'outcome';
