CREATE INDEX exposures_variant ON exposures (experiment, variant);
