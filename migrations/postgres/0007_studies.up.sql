-- Key-driver studies: their definition as JSON, versioned by edits.
CREATE TABLE studies (
    key        TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);
