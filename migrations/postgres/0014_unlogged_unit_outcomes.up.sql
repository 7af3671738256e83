-- unit_outcomes is a copy of the outcomes in events, sorted by unit, that the
-- store can make again at any time. Unlogged, it writes no WAL: a copy of
-- 700k outcomes took 2.7-3.0 s instead of 3.8-4.4 s and 207 MB of WAL. After
-- a crash Postgres empties unlogged tables; the copy's progress is emptied
-- with it, so the next copy starts again from the first event.
ALTER TABLE unit_outcomes SET UNLOGGED;
ALTER TABLE unit_outcome_buckets SET UNLOGGED;
ALTER TABLE unit_outcomes_through SET UNLOGGED;
