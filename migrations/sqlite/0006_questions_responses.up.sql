-- Survey questions, answered by response events.
CREATE TABLE questions (
    key        TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    options    TEXT NOT NULL,
    scale      TEXT,
    source     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);

-- Each unit's first answer to each question: the one a report counts.
-- Later answers stay in the events log and are never counted.
CREATE TABLE responses (
    question TEXT NOT NULL,
    unit_id  TEXT NOT NULL,
    answer   TEXT NOT NULL,
    value    REAL NOT NULL,
    ts       INTEGER NOT NULL,
    PRIMARY KEY (question, unit_id)
);

-- A response's answer as text; its question is in metric, its number in value.
ALTER TABLE events ADD COLUMN answer TEXT;
