-- A report no longer counts the exposures per variant: the sample-ratio
-- check takes its counts from the first metric's stored values. The index
-- that answered that count only cost every exposure written a B-tree insert.
DROP INDEX exposures_variant;
