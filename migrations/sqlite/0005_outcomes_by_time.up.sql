-- Outcomes were indexed by (metric, unit_id, ts): random unit ids scattered
-- every insert across the index and rewrote a page per event. Reports now
-- scan a metric's outcomes by time from the experiment's first exposure and
-- find each unit's exposure by its primary key, so the index appends.
DROP INDEX events_outcomes;
CREATE INDEX events_metric_ts ON events (metric, ts) WHERE type = 'outcome';
CREATE INDEX exposures_experiment_ts ON exposures (experiment, ts);
