-- Layers split a hash space between experiments that must not share a
-- unit; holdouts keep a share of units out of the experiments they list.
CREATE TABLE layers (
    key        TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
CREATE TABLE holdouts (
    key        TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
-- An experiment's range of a layer (JSON, '' for none) and the layer's key,
-- to find the other running experiments of its layer.
ALTER TABLE experiments ADD COLUMN layer TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN layer_key TEXT NOT NULL DEFAULT '';
CREATE INDEX experiments_by_layer ON experiments (layer_key);
