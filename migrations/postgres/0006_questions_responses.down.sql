ALTER TABLE events DROP COLUMN answer;
DROP TABLE responses;
DROP TABLE questions;
