ALTER TABLE experiments DROP COLUMN factors;
