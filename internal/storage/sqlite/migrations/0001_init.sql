-- Gatehouse schema for SQLite. Times are Unix microseconds (UTC), NULL
-- for "not set"; lists are JSON arrays of strings; booleans are 0/1.

CREATE TABLE clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    is_public     INTEGER NOT NULL,
    auth_method   TEXT NOT NULL,
    jwks          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    grant_types   TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    roles         TEXT NOT NULL,
    first_party   INTEGER NOT NULL,
    created_at    INTEGER,
    updated_at    INTEGER
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    disabled      INTEGER NOT NULL,
    created_at    INTEGER,
    updated_at    INTEGER
);

CREATE TABLE auth_codes (
    hash                  TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    auth_time             INTEGER,
    expires_at            INTEGER,
    created_at            INTEGER,
    redeemed              INTEGER NOT NULL,
    grant_id              TEXT NOT NULL
);
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  INTEGER,
    created_at INTEGER,
    expires_at INTEGER,
    revoked    INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX grants_user_id ON grants (user_id);
CREATE INDEX grants_client_id ON grants (client_id);
CREATE INDEX grants_expires_at ON grants (expires_at);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER,
    rotated    INTEGER NOT NULL,
    revoked    INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER
);
CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);

CREATE TABLE used_jtis (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER
);
CREATE INDEX used_jtis_expires_at ON used_jtis (expires_at);

CREATE TABLE device_codes (
    hash        TEXT PRIMARY KEY,
    user_code   TEXT NOT NULL UNIQUE,
    client_id   TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    status      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    auth_time   INTEGER,
    interval_ns INTEGER NOT NULL,
    last_polled INTEGER,
    grant_id    TEXT NOT NULL,
    created_at  INTEGER,
    expires_at  INTEGER
);
CREATE INDEX device_codes_expires_at ON device_codes (expires_at);

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    auth_time  INTEGER,
    created_at INTEGER,
    expires_at INTEGER
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at INTEGER,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE signing_keys (
    id                    TEXT PRIMARY KEY,
    algorithm             TEXT NOT NULL,
    public_jwk            TEXT NOT NULL,
    encrypted_private_key BLOB NOT NULL,
    created_at            INTEGER,
    active_at             INTEGER,
    retired_at            INTEGER
);
