-- Sources of stated preferences (a published survey, the platform's own
-- questions) and their statements, which claims in experiments test.
CREATE TABLE sources (
    key        TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);

-- Statements are versioned like claims: an edit inserts the next version,
-- a deletion a tombstone; nothing is overwritten. Keys are unique across
-- sources, so that a claim names a statement by its key alone.
CREATE TABLE statements (
    key        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    source     TEXT NOT NULL,
    body       TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key, version)
);
CREATE INDEX statements_by_source ON statements (source, key);

-- The statement a claim version tests ('' for none), so that the
-- scoreboard finds a statement's tests without reading every claim. The
-- claims written before this migration are linked to statements made from
-- them by sqlstore's data step (linkClaimsToStatements), as new versions.
ALTER TABLE claims ADD COLUMN statement_key TEXT NOT NULL DEFAULT '';
CREATE INDEX claims_by_statement ON claims (statement_key);
