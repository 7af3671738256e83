DROP INDEX experiments_by_layer;
ALTER TABLE experiments DROP COLUMN layer_key;
ALTER TABLE experiments DROP COLUMN layer;
DROP TABLE holdouts;
DROP TABLE layers;
