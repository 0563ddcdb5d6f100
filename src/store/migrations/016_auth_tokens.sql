-- 16: the API tokens of sources with `[auth]`, reused across crawls until
-- they come near their end. One per source; `key_fingerprint` is a SHA-256
-- of the token endpoint and the key (never the key itself), so that a
-- token obtained with another key is not reused.
CREATE TABLE auth_tokens (
    source_id TEXT PRIMARY KEY,
    key_fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    obtained_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
