-- Gateway sessions keep the groups the issuer vouched for at login (a JSON
-- array of strings) and whether it vouched for the email address
-- (email_verified not false). Sessions from before this migration have no
-- groups and an unverified address, so they match no groups, emails or
-- email_domains rule until the user signs in again.
ALTER TABLE proxy_sessions ADD COLUMN user_groups TEXT NOT NULL DEFAULT '[]';
ALTER TABLE proxy_sessions ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;

-- terminal_login: the client may use the password grant (RFC 6749 §4.3)
-- for `gatehouse login --terminal`. Off unless an admin turns it on, and
-- only ever honoured for first-party clients.
ALTER TABLE clients ADD COLUMN terminal_login INTEGER NOT NULL DEFAULT 0;

-- terminal_challenge: the SHA-256 (hex) of the nonce inside the one
-- mfa_token of a terminal sign-in that may still be answered with a code
-- ('' when none). Cleared in the transaction that accepts the code, so an
-- mfa_token works once.
ALTER TABLE user_totp ADD COLUMN terminal_challenge TEXT NOT NULL DEFAULT '';
