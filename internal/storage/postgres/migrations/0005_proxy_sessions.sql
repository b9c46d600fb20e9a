-- Browser sessions of the gateway (gatehouse proxy). hash is the SHA-256
-- (hex) of the session cookie value; roles is a JSON array of strings;
-- data is opaque state the gateway keeps with the session.

CREATE TABLE proxy_sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    username   TEXT NOT NULL,
    email      TEXT NOT NULL,
    roles      TEXT NOT NULL,
    auth_time  TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    last_seen  TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    data       BYTEA NOT NULL
);
CREATE INDEX proxy_sessions_user_id ON proxy_sessions (user_id);
CREATE INDEX proxy_sessions_expires_at ON proxy_sessions (expires_at);
