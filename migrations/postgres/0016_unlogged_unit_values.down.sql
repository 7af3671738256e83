ALTER TABLE unit_values SET LOGGED;
ALTER TABLE unit_value_sums SET LOGGED;
ALTER TABLE unit_value_state SET LOGGED;
