-- DPoP (RFC 9449). clients.dpop_required: the client must send a DPoP
-- proof with every token request, so all its tokens are bound to a key.
-- refresh_tokens.dpop_jkt: the JWK thumbprint a public client's refresh
-- token is bound to ('' when not bound); the rotated successor keeps it.
-- auth_codes.dpop_jkt: the dpop_jkt sent to /authorize (RFC 9449 §10),
-- which the code's redemption must prove ('' when none).

ALTER TABLE clients ADD COLUMN dpop_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_codes ADD COLUMN dpop_jkt TEXT NOT NULL DEFAULT '';
