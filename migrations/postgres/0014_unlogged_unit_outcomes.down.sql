ALTER TABLE unit_outcomes_through SET LOGGED;
ALTER TABLE unit_outcome_buckets SET LOGGED;
ALTER TABLE unit_outcomes SET LOGGED;
