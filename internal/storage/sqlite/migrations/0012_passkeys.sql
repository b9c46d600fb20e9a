-- Passkeys (WebAuthn credentials), several per user. credential_id is the
-- authenticator's credential id (unique); public_key the COSE key;
-- sign_count the last signature counter; user_verified, backup_eligible and
-- backup_state the UV, BE and BS flags; transports a JSON array of strings.
-- Times are Unix microseconds; last_used_at is NULL until first used.

CREATE TABLE passkeys (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    credential_id      BLOB NOT NULL UNIQUE,
    public_key         BLOB NOT NULL,
    attestation_type   TEXT NOT NULL,
    attestation_format TEXT NOT NULL,
    aaguid             BLOB NOT NULL,
    sign_count         INTEGER NOT NULL,
    user_verified      INTEGER NOT NULL,
    backup_eligible    INTEGER NOT NULL,
    backup_state       INTEGER NOT NULL,
    transports         TEXT NOT NULL,
    name               TEXT NOT NULL,
    created_at         INTEGER,
    last_used_at       INTEGER
);

CREATE INDEX passkeys_user_id ON passkeys (user_id, created_at);
