-- A factorial experiment's factors (JSON); its variants are the cells.
ALTER TABLE experiments ADD COLUMN factors TEXT NOT NULL DEFAULT '[]';
