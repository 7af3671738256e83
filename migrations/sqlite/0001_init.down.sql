DROP TABLE exposures;
DROP TABLE events;
DROP TABLE experiments;
DROP TABLE api_keys;
