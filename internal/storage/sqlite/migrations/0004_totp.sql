-- TOTP multi-factor login state, one row per user. secret is the TOTP
-- secret sealed with the server secret key; last_step is the last accepted
-- time step (replay protection); recovery_codes is a JSON array of the
-- SHA-256 (hex) of the unused recovery codes.

CREATE TABLE user_totp (
    user_id        TEXT PRIMARY KEY,
    secret         BLOB NOT NULL,
    enrolled       INTEGER NOT NULL,
    last_step      INTEGER NOT NULL,
    recovery_codes TEXT NOT NULL,
    created_at     INTEGER,
    updated_at     INTEGER
);
