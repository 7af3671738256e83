DROP INDEX claims_by_statement;
ALTER TABLE claims DROP COLUMN statement_key;
DROP TABLE statements;
DROP TABLE sources;
