-- Web sessions: a browser exchanges an API key for a session cookie. Only
-- the token's hash is stored; a session dies with its key.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
