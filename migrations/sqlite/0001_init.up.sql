CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE experiments (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hypothesis TEXT NOT NULL,
    unit       TEXT NOT NULL,
    salt       TEXT NOT NULL,
    traffic    REAL NOT NULL,
    status     TEXT NOT NULL,
    variants   TEXT NOT NULL,
    targeting  TEXT NOT NULL,
    metrics    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    stopped_at INTEGER,
    version    INTEGER NOT NULL
);

-- The raw event log. seq keeps rows in arrival order; id is the client's
-- idempotency key. Times are microseconds since the Unix epoch.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    type        TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    experiment  TEXT,
    variant     TEXT,
    metric      TEXT,
    value       REAL NOT NULL,
    ts          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    attributes  TEXT NOT NULL
);
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_outcomes ON events (metric, unit_id, ts) WHERE type = 'outcome';

-- Each unit's first exposure per experiment: the units a report counts.
CREATE TABLE exposures (
    experiment TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    variant    TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (experiment, unit_id)
);
