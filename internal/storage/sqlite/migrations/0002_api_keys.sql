-- API keys: "gatehouse_<id>_<secret>", stored as the SHA-256 (hex) of the
-- secret. user_id is empty for a key that does not act as a user. Times
-- are Unix microseconds (UTC), NULL for "not set".

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    roles        TEXT NOT NULL,
    created_at   INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_keys_user_id ON api_keys (user_id);
