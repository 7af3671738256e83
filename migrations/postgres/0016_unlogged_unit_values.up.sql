-- unit_values, their sums and their state are derived from the events: the
-- store computes every value again whenever a metric's state is missing.
-- Unlogged, they write no WAL. After a crash Postgres empties all three
-- together, so the next refresh finds no state and recomputes the values
-- from the events; the stored reports, which are logged, are read meanwhile.
ALTER TABLE unit_value_state SET UNLOGGED;
ALTER TABLE unit_value_sums SET UNLOGGED;
ALTER TABLE unit_values SET UNLOGGED;
