DROP TABLE report_snapshots;
DROP TABLE claims;
ALTER TABLE experiments DROP COLUMN analysis;
