-- Pushed authorization requests (RFC 9126): the parameters a client
-- pushed, keyed by the SHA-256 of the request_uri's random part, until
-- /authorize spends them or they expire (DeleteExpired). And whether a
-- client must push its authorization requests
-- (require_pushed_authorization_requests, RFC 9126 §6).

CREATE TABLE par_requests (
    hash       TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,
    opened_at  INTEGER,
    used       INTEGER NOT NULL,
    created_at INTEGER,
    expires_at INTEGER
);
CREATE INDEX par_requests_expires_at ON par_requests (expires_at);

ALTER TABLE clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
