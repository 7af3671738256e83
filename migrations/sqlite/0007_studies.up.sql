-- Key-driver studies: their definition as JSON, versioned by edits.
CREATE TABLE studies (
    key        TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
