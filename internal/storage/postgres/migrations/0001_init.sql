-- Gatehouse schema for PostgreSQL. Times are timestamptz, NULL for "not
-- set"; lists are JSON arrays of strings in text columns.

CREATE TABLE clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    is_public     BOOLEAN NOT NULL,
    auth_method   TEXT NOT NULL,
    jwks          TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    grant_types   TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    roles         TEXT NOT NULL,
    first_party   BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ
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
    auth_time             TIMESTAMPTZ,
    expires_at            TIMESTAMPTZ,
    created_at            TIMESTAMPTZ,
    redeemed              BOOLEAN NOT NULL,
    grant_id              TEXT NOT NULL
);
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    revoked    BOOLEAN NOT NULL,
    revoked_at TIMESTAMPTZ
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
    created_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    rotated    BOOLEAN NOT NULL,
    revoked    BOOLEAN NOT NULL
);
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ
);
CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);

CREATE TABLE used_jtis (
    jti        TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ
);
CREATE INDEX used_jtis_expires_at ON used_jtis (expires_at);

CREATE TABLE device_codes (
    hash        TEXT PRIMARY KEY,
    user_code   TEXT NOT NULL UNIQUE,
    client_id   TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    status      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    auth_time   TIMESTAMPTZ,
    interval_ns BIGINT NOT NULL,
    last_polled TIMESTAMPTZ,
    grant_id    TEXT NOT NULL,
    created_at  TIMESTAMPTZ,
    expires_at  TIMESTAMPTZ
);
CREATE INDEX device_codes_expires_at ON device_codes (expires_at);

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    auth_time  TIMESTAMPTZ,
    created_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    created_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE signing_keys (
    id                    TEXT PRIMARY KEY,
    algorithm             TEXT NOT NULL,
    public_jwk            TEXT NOT NULL,
    encrypted_private_key BYTEA NOT NULL,
    created_at            TIMESTAMPTZ,
    active_at             TIMESTAMPTZ,
    retired_at            TIMESTAMPTZ
);
