DROP INDEX exposures_variant;
