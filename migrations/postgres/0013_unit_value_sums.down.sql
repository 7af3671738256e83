DROP INDEX exposures_variant;
DROP TABLE unit_value_sums;
