ALTER TABLE experiments ADD COLUMN analysis TEXT NOT NULL DEFAULT '{}';

-- Claims are versioned: an edit inserts the next version, a deletion a
-- tombstone; nothing is overwritten.
CREATE TABLE claims (
    experiment TEXT NOT NULL,
    id         TEXT NOT NULL,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    deleted    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (experiment, id, version)
);

-- Every stored report of a running experiment: the sequential p-values are
-- running minima over these, and the history shows when people looked.
CREATE TABLE report_snapshots (
    experiment  TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    report      TEXT NOT NULL,
    PRIMARY KEY (experiment, computed_at)
);
