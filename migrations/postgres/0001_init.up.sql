CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE experiments (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hypothesis TEXT NOT NULL,
    unit       TEXT NOT NULL,
    salt       TEXT NOT NULL,
    traffic    DOUBLE PRECISION NOT NULL,
    status     TEXT NOT NULL,
    variants   TEXT NOT NULL,
    targeting  TEXT NOT NULL,
    metrics    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    stopped_at BIGINT,
    version    BIGINT NOT NULL
);

-- The raw event log. seq keeps rows in arrival order; id is the client's
-- idempotency key. Times are microseconds since the Unix epoch.
CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL,
    type        TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    experiment  TEXT,
    variant     TEXT,
    metric      TEXT,
    value       DOUBLE PRECISION NOT NULL,
    ts          BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    attributes  TEXT NOT NULL
);
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_outcomes ON events (metric, unit_id, ts) WHERE type = 'outcome';

-- Each unit's first exposure per experiment: the units a report counts.
CREATE TABLE exposures (
    experiment TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    variant    TEXT NOT NULL,
    ts         BIGINT NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (experiment, unit_id)
);
