-- Passkeys (WebAuthn credentials), several per user. credential_id is the
-- authenticator's credential id (unique); public_key the COSE key;
-- sign_count the last signature counter; user_verified, backup_eligible and
-- backup_state the UV, BE and BS flags; transports a JSON array of strings.
-- last_used_at is NULL until first used.

CREATE TABLE passkeys (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL,
    credential_id      BYTEA NOT NULL UNIQUE,
    public_key         BYTEA NOT NULL,
    attestation_type   TEXT NOT NULL,
    attestation_format TEXT NOT NULL,
    aaguid             BYTEA NOT NULL,
    sign_count         BIGINT NOT NULL,
    user_verified      BOOLEAN NOT NULL,
    backup_eligible    BOOLEAN NOT NULL,
    backup_state       BOOLEAN NOT NULL,
    transports         TEXT NOT NULL,
    name               TEXT NOT NULL,
    created_at         TIMESTAMPTZ,
    last_used_at       TIMESTAMPTZ
);

CREATE INDEX passkeys_user_id ON passkeys (user_id, created_at);
