-- Idempotent refresh retries (Idempotency-Key). Set on a refresh token
-- when it is rotated by a request that carried a key, empty otherwise:
-- retry_key_hash is the SHA-256 of that key (bound to the request's DPoP
-- key thumbprint), retry_successor the successor refresh token sealed with
-- the server's secret key. A repeat of the request with the same key
-- within the reuse interval gets the same successor again.

ALTER TABLE refresh_tokens ADD COLUMN retry_key_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN retry_successor BYTEA NOT NULL DEFAULT '';
