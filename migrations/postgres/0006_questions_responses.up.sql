-- Survey questions, answered by response events.
CREATE TABLE questions (
    key        TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    options    TEXT NOT NULL,
    scale      TEXT,
    source     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

-- Each unit's first answer to each question: the one a report counts.
-- Later answers stay in the events log and are never counted.
CREATE TABLE responses (
    question TEXT NOT NULL,
    unit_id  TEXT NOT NULL,
    answer   TEXT NOT NULL,
    value    DOUBLE PRECISION NOT NULL,
    ts       BIGINT NOT NULL,
    PRIMARY KEY (question, unit_id)
);

-- A response's answer as text; its question is in metric, its number in value.
ALTER TABLE events ADD COLUMN answer TEXT;
