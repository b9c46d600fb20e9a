-- Audiences (RFC 8707 resource indicators, RFC 9068 aud): the resources a
-- client may ask for, the resources an authorization (code, device code,
-- grant) was given for, and when a refresh token was rotated (for the
-- refresh reuse interval). Lists are JSON arrays of strings; times are
-- TIMESTAMPTZ.

ALTER TABLE clients ADD COLUMN audiences TEXT NOT NULL DEFAULT '[]';
ALTER TABLE auth_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE device_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE grants ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE refresh_tokens ADD COLUMN rotated_at TIMESTAMPTZ;
